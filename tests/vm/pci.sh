#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pci.sh KERNEL: the shmcam-pci group.  One guest with QEMU's own device
# (the QEMU make check-qemu built, with memory-backend-shm) served by
# shmcam-host --pci-listen; its checks are guest/pci.sh.  run-vm.sh runs
# shmcam-host and restarts it on request; this script answers the
# requests that need QEMU's side:
#   host-region-verify   shmcam-dump on the host reads the memory backend
#                        through QEMU's descriptor of it: the host's
#                        session, format and card, frames that verify.
#   mmio-mark            remember how many writes to the device's
#                        registers QEMU traced so far (shmcam_pci_mmio_write)
#   mmio-check N         the guest delivered N frames since the mark: at
#                        most 2 register writes a frame, counted by QEMU
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
abi=$(kabi_of "$kernel")
dir=$VM_DIR/runs/pci-$abi
# A socket path must stay short (108 bytes): not under the build tree.
sockdir=$(mktemp -d /tmp/shmcam-vm.XXXXXX)
sock=$sockdir/pci.sock
out=$dir.out
events=$dir.host.log
# No request of an earlier run may be taken for one of this run.
rm -rf "$dir" "$events"

vm=
cleanup() {
    if [ -n "$vm" ]; then
        kill "$vm" 2>/dev/null || true
        wait "$vm" 2>/dev/null || true
    fi
    rm -rf "$sockdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 8 slots, as for the doorbell groups: a guest that emulation holds up
# for a few frame intervals still finds every frame it has not taken, so
# that v4l2-compliance sees no gap in the sequence numbers.
"$VM_SRC/run-vm.sh" --kernel "$kernel" --test pci --dir "$dir" \
    --pci "$sock" --s3 --trace shmcam_pci_mmio_write --producer "--pci-listen $sock --pattern --size 640x480 --format YUYV --slots 8 --card shmcam-pci-test" \
    > "$out" 2>&1 &
vm=$!

# region_verify: find QEMU's descriptor of the memory backend (the shm
# object it unlinked: /dev/shm/NAME (deleted), 32 MiB) and read it as
# the host sees it.
region_verify() {
    _qemu=
    for _p in $(pgrep qemu-system); do
        tr '\0' ' ' < "/proc/$_p/cmdline" 2>/dev/null |
            grep -qF -- "-initrd $dir/initrd " && _qemu=$_p
    done
    [ -n "$_qemu" ] || { echo "no QEMU running $dir/initrd"; return 1; }
    _mem=
    for _fd in /proc/"$_qemu"/fd/*; do
        case "$(readlink "$_fd")" in
        /dev/shm/*)
            [ "$(stat -L -c %s "$_fd")" = 33554432 ] && _mem=$_fd ;;
        esac
    done
    [ -n "$_mem" ] || { echo "QEMU $_qemu has no 32 MiB shm object open"; return 1; }
    "$BUILD_DIR/hw/shmcam-dump" --region "$_mem" --status || return 1
    "$BUILD_DIR/hw/shmcam-dump" --region "$_mem" --status |
        grep -qx 'format: 640x480 YUYV at 1/30 s per frame' || return 1
    "$BUILD_DIR/hw/shmcam-dump" --region "$_mem" --status |
        grep -qx 'card: shmcam-pci-test' || return 1
    "$BUILD_DIR/hw/shmcam-dump" --region "$_mem" --frames 20 --verify
}

# mmio_writes: register writes QEMU traced so far.
mmio_writes() {
    grep -c 'shmcam_pci_mmio_write' "$dir/qemu.log" 2>/dev/null || true
}

# mmio_check N: the writes since the mark, for N frames.
mmio_check() {
    _w=$(($(mmio_writes) - mark))
    echo "$_w register writes for $1 frames delivered" \
        "($(awk -v w="$_w" -v n="$1" 'BEGIN { printf "%.2f", w / n }') a frame)"
    [ "$1" -gt 0 ] && [ "$_w" -le $(($1 * 2)) ]
}

mark=0
served=0
while kill -0 "$vm" 2>/dev/null; do
    if [ -f "$dir/console.log" ]; then
        req=$(host_requests "$dir/console.log" | sed -n "$((served + 1))p")
        if [ -n "$req" ]; then
            served=$((served + 1))
            case "$req" in
            "SHMCAM-HOST: host-region-verify")
                if region_verify >> "$events" 2>&1; then
                    reply=ok
                else
                    reply="the host's view of the region is wrong"
                fi ;;
            "SHMCAM-HOST: mmio-mark")
                mark=$(mmio_writes)
                reply=ok ;;
            "SHMCAM-HOST: mmio-check "*)
                if mmio_check "${req#SHMCAM-HOST: mmio-check }" >> "$events" 2>&1; then
                    reply=ok
                else
                    reply="more than 2 register writes a frame: $(tail -n 1 "$events")"
                fi ;;
            *) reply= ;;
            esac
            if [ -n "$reply" ]; then
                timeout 10 sh -c 'echo "$1" > "$2"' sh "$reply" \
                    "$dir/ctl.in" || true
                echo "$(date +%T) $req -> $reply" >> "$events"
            fi
        fi
    fi
    sleep 0.2
done
rc=0
wait "$vm" || rc=1
vm=
cat "$out"
if [ -s "$events" ]; then
    echo "---- host-region-verify ----"
    cat "$events"
fi
exit $rc
