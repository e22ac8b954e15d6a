#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pipewire-pci.sh KERNEL: the host's PipeWire camera in a guest through
# QEMU's shmcam-pci device, as on a desktop where PipeWire owns the
# camera.  The host runs a PipeWire of the test's own
# (tests/host/pipewire-world.sh) with pw-testsrc's node, which draws
# shmcam's test pattern in every format; shmcam-host --pipewire
# --pci-listen serves it to one guest (run-vm.sh --pci, the QEMU make
# check-qemu built), whose checks are guest/pipewire-pci.sh.  Here: the
# guest's format requests switched the running PipeWire stream, and the
# guest's device was a shmcam-pci client of shmcam-host's.
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
abi=$(kabi_of "$kernel")
dir=$VM_DIR/runs/pipewire-pci-$abi
testsrc=$BUILD_DIR/tests/host/pw-testsrc
# Built without PipeWire, there is no pw-testsrc: not a skip.
[ -x "$testsrc" ] ||
    die "no $testsrc: shmcam-host was built without PipeWire (install" \
        "libpipewire-0.3-dev, then ./configure and make)"
for prog in pipewire wireplumber pw-cli; do
    command -v "$prog" > /dev/null 2>&1 ||
        die "$prog is not installed (tests/setup/install-packages.sh installs it)"
done
SHMCAM_HOST=$BUILD_DIR/hw/shmcam-host
SHMCAM_DUMP=$BUILD_DIR/hw/shmcam-dump
. "$SRC_ROOT/tests/host/lib.sh"
. "$SRC_ROOT/tests/host/pipewire-world.sh"
# The socket is under TEST_TMP (in /tmp): a path must stay short.
sock=$TEST_TMP/pci.sock
rm -rf "$dir"

pw_start || die "no PipeWire of the test's own"
bg testsrc "$testsrc" shmcam-test-cam
until_ok "the test camera node appears" has_node shmcam-test-cam ||
    die "pw-testsrc made no node: $(cat "$TEST_TMP/testsrc.log")"

# run-vm.sh runs shmcam-host in this environment: our PipeWire's.
"$VM_SRC/run-vm.sh" --kernel "$kernel" --test pipewire-pci --dir "$dir" \
    --pci "$sock" --producer "--pci-listen $sock --pipewire shmcam-test-cam --size 640x480 --format YUYV --slots 8"
rc=$?
log=$dir/producer.log
for want in "320x240 NV12" "640x480 MJPG" "640x480 YUYV"; do
    grep -q "^shmcam-host: PipeWire node shmcam-test-cam: switched to $want on the running stream$" "$log" ||
        { echo "FAIL: the guest's $want was not switched to on the running stream"; rc=1; }
done
grep -q "^shmcam-host: shmcam-pci client 0 connected " "$log" ||
    { echo "FAIL: no shmcam-pci client in shmcam-host's log"; rc=1; }
[ "$rc" = 0 ] || { echo "shmcam-host's log:"; cat "$log"; }
exit $rc
