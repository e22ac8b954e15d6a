#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# driver.sh KERNEL: the driver group, three boots of one guest each, for
# what shmcam.ko must do whatever the machine around it:
#   nomsi    booted with pci=nomsi, an ivshmem-doorbell device (MSI-X
#            present, no vector to be had) served by shmcam-host --listen
#            streams at full rate by polling; two more ivshmem-plain
#            devices, blank at boot: one is published into once the module
#            runs and its camera appears, the other stays free
#            (guest/driver-nomsi.sh)
#   silent   ivshmem-doorbell served by a generic ivshmem server that never
#            rings (ivshmem-quiet), on a region shmcam-host --shm publishes
#            into: the silence is noticed and streaming goes at full rate
#            (guest/driver-silent.sh)
#   s3       ivshmem-doorbell with MSI-X, suspended to RAM mid-stream and
#            woken through the monitor: the stream goes on after one gap
#            (guest/driver-s3.sh)
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
abi=$(kabi_of "$kernel")
# A socket path must stay short (108 bytes): not under the build tree.
sockdir=$(mktemp -d /tmp/shmcam-vm.XXXXXX)
trap 'rm -rf "$sockdir"' EXIT
trap 'exit 1' INT TERM
pattern="--pattern --size 640x480 --format YUYV"
late=shmcam-vm-late-$$
free=shmcam-vm-free-$$
quiet=shmcam-vm-quiet-$$
rc=0

"$VM_SRC/run-vm.sh" --kernel "$kernel" --test driver-nomsi \
    --dir "$VM_DIR/runs/driver-nomsi-$abi" --append pci=nomsi \
    --doorbell "$sockdir/nomsi.sock" \
    --producer "--listen $sockdir/nomsi.sock $pattern --region-size 32M" \
    --blank "$late" --blank "$free" \
    --env LATE_ARGS="$pattern --shm $late" || rc=1

"$VM_SRC/run-vm.sh" --kernel "$kernel" --test driver-silent \
    --dir "$VM_DIR/runs/driver-silent-$abi" \
    --doorbell "$sockdir/quiet.sock" --region "$quiet" \
    --doorbell-server "$BUILD_DIR/tests/vm/ivshmem-quiet $sockdir/quiet.sock /dev/shm/$quiet" \
    --producer "$pattern --shm $quiet" || rc=1

"$VM_SRC/run-vm.sh" --kernel "$kernel" --test driver-s3 \
    --dir "$VM_DIR/runs/driver-s3-$abi" --s3 \
    --doorbell "$sockdir/s3.sock" \
    --producer "--listen $sockdir/s3.sock $pattern --region-size 32M --slots 8" || rc=1
exit $rc
