#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pipewire.sh KERNEL: a camera that PipeWire owns, shared by an
# application and a guest.  Guest A, the trixie guest (Debian's userland
# on a disk image, mkimage.sh), runs vivid under udev, PipeWire and
# WirePlumber's V4L2 monitor, shmcam-host --pipewire into its ivshmem
# BAR, and a GStreamer application capturing the same PipeWire node
# (guest-trixie/pipewire-source.sh).  Guest B, on the same /dev/shm file,
# streams it through shmcam.ko (guest/pipewire-sink.sh), checking its
# frames against the reference A took of vivid.  Passes when both guests
# do.
#
# PipeWire, WirePlumber and GStreamer's PipeWire element come from
# trixie-backports (trixie-root.sh): trixie's PipeWire 1.4 cannot read
# vivid's controls back and never makes its node a link target.
#
# PW_DEBUG, when set, is the log level of PipeWire, WirePlumber and
# shmcam-host in guest A (PIPEWIRE_DEBUG, WIREPLUMBER_DEBUG; e.g.
# PW_DEBUG=2,spa.v4l2:5); their logs are left in the share's out/
# (build/vm/runs/pipewire-ABI.share).
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-7.3}
abi=$(kabi_of "$kernel")
shm=shmcam-vm-pipewire-$$
runs=$VM_DIR/runs
a_dir=$runs/pipewire-source-$abi
share=$runs/pipewire-$abi.share
rm -rf "$a_dir" "$runs/pipewire-sink-$abi" "$share"
mkdir -p "$share/bin"

# Built without PipeWire, shmcam-host has no --pipewire: not a skip.
"$BUILD_DIR/hw/shmcam-host" --help | grep -q -e '--pipewire' ||
    die "$BUILD_DIR/hw/shmcam-host has no --pipewire (install" \
        "libpipewire-0.3-dev, then ./configure and make)"
image=$("$VM_SRC/mkimage.sh")
# The host's programs in the trixie guest: its libraries are trixie's
# (glib, libpipewire, TurboJPEG keep their sonames and ABI).
cp "$BUILD_DIR/hw/shmcam-host" "$BUILD_DIR/hw/shmcam-dump" "$share/bin/"

"$VM_SRC/run-vm.sh" --kernel "$kernel" --test pipewire-source \
    --image "$image" --share "$share" --mem 2048 --smp 2 --timeout 1800 \
    --shm "$shm" --dir "$a_dir" ${PW_DEBUG:+--env PW_DEBUG="$PW_DEBUG"} \
    > "$runs/pipewire-source-$abi.out" 2>&1 &
a=$!
trap 'kill $a 2>/dev/null || true' EXIT
trap 'exit 1' INT TERM

# Guest B boots once A publishes and waits for it ("wait-peer"); by then
# A's reference is in the share.
i=0
while ! grep -aq 'SHMCAM-HOST: wait-peer' "$a_dir/console.log" 2>/dev/null; do
    if ! kill -0 $a 2>/dev/null || [ $i -ge 6000 ]; then
        kill $a 2>/dev/null || true
        wait $a || true
        cat "$runs/pipewire-source-$abi.out"
        die "the PipeWire source guest did not start publishing"
    fi
    sleep 0.2
    i=$((i + 1))
done

rc=0
[ -s "$share/out/ref.md5" ] || { echo "no reference in $share/out"; rc=1; }
"$VM_SRC/run-vm.sh" --kernel "$kernel" --test pipewire-sink \
    --shm-shared "$shm" --dir "$runs/pipewire-sink-$abi" \
    --env REF_MD5S="$(tr '\n' ' ' < "$share/out/ref.md5")" || rc=1
echo ok > "$a_dir/ctl.in"
wait $a || rc=1
cat "$runs/pipewire-source-$abi.out"
exit $rc
