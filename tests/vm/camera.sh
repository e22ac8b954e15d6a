#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# camera.sh KERNEL: the camera source against a real V4L2 driver.  Guest A
# (guest/camera-source.sh) runs shmcam-host --camera on vivid, publishing
# into its ivshmem BAR; guest B (guest/camera-sink.sh), sharing the same
# /dev/shm file, captures through shmcam.ko.  Passes when both do.
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
abi=$(kabi_of "$kernel")
shm=shmcam-vm-camera-$$
runs=$VM_DIR/runs
rm -rf "$runs/camera-source-$abi" "$runs/camera-sink-$abi"
mkdir -p "$runs"

"$VM_SRC/run-vm.sh" --kernel "$kernel" --test camera-source --shm "$shm" \
    --dir "$runs/camera-source-$abi" > "$runs/camera-source-$abi.out" 2>&1 &
a=$!
# Stopped with this script (meson's hang guard), guest A goes too.
trap 'kill $a 2>/dev/null || true' EXIT
trap 'exit 1' INT TERM

# Guest B boots once A publishes and waits for it ("wait-peer").
i=0
while ! grep -aq 'SHMCAM-HOST: wait-peer' "$runs/camera-source-$abi/console.log" 2>/dev/null; do
    if ! kill -0 $a 2>/dev/null || [ $i -ge 3000 ]; then
        kill $a 2>/dev/null || true
        wait $a || true
        cat "$runs/camera-source-$abi.out"
        die "the camera source guest did not start publishing"
    fi
    sleep 0.2
    i=$((i + 1))
done

rc=0
"$VM_SRC/run-vm.sh" --kernel "$kernel" --test camera-sink --shm-shared "$shm" \
    --dir "$runs/camera-sink-$abi" || rc=1
echo ok > "$runs/camera-source-$abi/ctl.in"
wait $a || rc=1
cat "$runs/camera-source-$abi.out"
exit $rc
