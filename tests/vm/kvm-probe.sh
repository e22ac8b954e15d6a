#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# kvm-probe.sh: print "kvm" when a guest boots here with -enable-kvm, else
# "tcg".  Debian's kernels do not boot under KVM on some hosts (nested
# virtualisation), so one probe boot decides; its result is cached in
# $VM_DIR/accel (delete it to probe again).
set -e
. "$(dirname -- "$0")/lib.sh"

cache=$VM_DIR/accel
if [ -s "$cache" ]; then
    cat "$cache"
    exit 0
fi
result=tcg
if [ -w /dev/kvm ]; then
    abi=$(kabi_of 6.12)
    dir=$VM_DIR/runs/kvm-probe
    rm -rf "$dir"
    mkdir -p "$dir/extra/test"
    echo "TEST=probe" > "$dir/extra/test/env"
    make_initrd "$abi" "$dir"
    timeout 60 qemu-system-x86_64 -nographic -nodefaults -no-reboot \
        -enable-kvm -cpu host -m 256 -kernel "$VM_DIR/kernels/$abi/vmlinuz" \
        -initrd "$dir/initrd" -append "console=ttyS0 panic=-1" \
        -chardev "file,id=con,path=$dir/console.log" -serial chardev:con \
        > "$dir/qemu.log" 2>&1 || true
    grep -aq '^SHMCAM-TEST: PASS probe' "$dir/console.log" 2>/dev/null &&
        result=kvm
fi
echo "$result" > "$cache"
echo "$result"
