#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vm-test.sh GROUP KERNEL: one VM test as meson runs it: prepare the guest
# for KERNEL (6.12 or 6.1), start the producer, boot one guest that runs
# the group's checks (tests/vm/guest/GROUP.sh), and pass when it does.
#
#   smoke       the harness alone: vivid, v4l2-compliance and v4l2-ctl run
#   compliance  v4l2-compliance -s -f on shmcam: YUYV, NV12, MJPEG producer
#   capture     captures verified byte for byte, format changes, two
#               openers, corrupted captures rejected
#   lifecycle   producer restart, unbind and rmmod while streaming
#   camera      shmcam-host --camera on vivid in one guest, captured
#               through shmcam.ko in a second guest (camera.sh)
#   doorbell    two guests on one shmcam-host --listen (ivshmem-doorbell,
#               MSI-X): both stream, capture killed, a stopped reader
#               (doorbell.sh); doorbell-isolate: the same, --isolate
#   capture-qemu11, doorbell-qemu11
#               capture and doorbell on Debian sid's QEMU (sid-qemu.sh;
#               11.1 when written) instead of the host's: the stock
#               ivshmem devices of a current distribution's QEMU
#   qemu-memdev captures, a restart and compliance on a stock QEMU's
#               memory-backend-shm (no name), which shmcam-host
#               --qemu-memdev takes from QEMU's descriptors by its process
#               id, then through QMP; shmcam-host as another user is
#               refused with its message; qemu-memdev-qemu11: the same on
#               Debian sid's QEMU (sid-qemu.sh)
#   shm-named   capture's checks on a memory-backend-shm named /NAME that
#               the built QEMU creates (build/qemu-build, make qemu) and
#               shmcam-host --shm NAME attaches to; the name must be gone
#               once QEMU has exited
#   pci         QEMU's own shmcam-pci device with memory-backend-shm,
#               served by shmcam-host --pci-listen: compliance, captures,
#               a guest writing its read-only frame area, a restart of
#               shmcam-host while streaming, unbind (pci.sh)
#   driver      three boots (driver.sh): pci=nomsi with a blank region
#               published into late and one left free, a doorbell nobody
#               rings, suspend to RAM mid-stream
#   browser     (7.3) the trixie guest (mkimage.sh): headless Chromium
#               opens shmcam with getUserMedia, its settings and the
#               frames it draws match the producer's
#   dkms        (7.3) the trixie guest builds and installs shmcam.ko with
#               DKMS (make dkms-install), udev loads it by its PCI alias,
#               captures verify, make dkms-uninstall removes it
#   controls    the producer's controls as V4L2 controls: listed, set,
#               frames that follow them, events, refusals, EIO when the
#               producer stops (controls.sh)
#   pipewire    (7.3) the trixie guest's PipeWire owns vivid (udev,
#               WirePlumber's V4L2 monitor); shmcam-host --pipewire
#               publishes it to a second guest through shmcam.ko while a
#               GStreamer application in the first keeps capturing it:
#               both get vivid's frames byte for byte (pipewire.sh)
#   pipewire-pci the host's PipeWire camera (a PipeWire of the test's own,
#               pw-testsrc's node) served by shmcam-host --pipewire
#               --pci-listen to a guest's shmcam-pci device: frames
#               verified, the guest's formats switched on the running
#               PipeWire stream (pipewire-pci.sh)
set -e
. "$(dirname -- "$0")/lib.sh"

group=${1:?usage: vm-test.sh GROUP KERNEL}
kernel=${2:-6.12}
abi=$(kabi_of "$kernel")
# Resolved once for the whole group: the scripts it runs take the ABI
# from the environment (kernels.sh's override) instead of asking the
# archive again, each time.
case "$kernel" in
6.12) KABI_612=$abi; export KABI_612 ;;
6.1) KABI_61=$abi; export KABI_61 ;;
7.3) KABI_73=$abi; export KABI_73 ;;
esac

"$VM_SRC/prepare.sh" "$kernel" ||
    echo "shmcam.ko did not build for $abi: its checks will fail" >&2

shm=shmcam-vm-$group-$$
pattern="--pattern --shm $shm --size 640x480 --format YUYV"
case "$group" in
smoke)
    exec "$VM_SRC/run-vm.sh" --kernel "$kernel" --test smoke ;;
compliance)
    # One mode per file, for the runs with the producer in YUYV, NV12
    # and MJPEG.  8 slots, as for the doorbell and pci groups: a guest
    # that emulation holds up for a few frame intervals still finds every
    # frame it has not taken, so that v4l2-compliance (1.32 warns about
    # any gap in the sequence numbers) sees none.
    files=$VM_DIR/runs/compliance-files
    mkdir -p "$files"
    for fmt in YUYV NV12 MJPG; do
        "$BUILD_DIR/hw/shmcam-dump" --generate "$files/$fmt.raw" \
            --format $fmt --size 640x480 --frames 16 > /dev/null
    done
    # and YUYV with its lines padded to 2048 bytes (shmcam-host --align)
    "$BUILD_DIR/hw/shmcam-dump" --generate "$files/YUYV-padded.raw" \
        --format YUYV --size 640x480 --bytesperline 2048 --frames 16 > /dev/null
    exec "$VM_SRC/run-vm.sh" --kernel "$kernel" --test "$group" \
        --shm "$shm" --producer "$pattern --slots 8" \
        --env CFILES="$files" ;;
capture)
    # A file of one mode, for the producer that streams what was not asked
    files=$VM_DIR/runs/capture-files
    mkdir -p "$files"
    "$BUILD_DIR/hw/shmcam-dump" --generate "$files/YUYV.raw" \
        --format YUYV --size 640x480 --frames 16 > /dev/null
    exec "$VM_SRC/run-vm.sh" --kernel "$kernel" --test "$group" \
        --shm "$shm" --producer "$pattern" --env CFILES="$files" ;;
lifecycle)
    exec "$VM_SRC/run-vm.sh" --kernel "$kernel" --test "$group" \
        --shm "$shm" --producer "$pattern" ;;
camera)
    exec "$VM_SRC/camera.sh" "$kernel" ;;
pipewire)
    exec "$VM_SRC/pipewire.sh" "$kernel" ;;
pipewire-pci)
    exec "$VM_SRC/pipewire-pci.sh" "$kernel" ;;
controls)
    exec "$VM_SRC/controls.sh" "$kernel" ;;
doorbell)
    exec "$VM_SRC/doorbell.sh" "$kernel" ;;
doorbell-isolate)
    exec "$VM_SRC/doorbell.sh" "$kernel" --isolate ;;
capture-qemu11|doorbell-qemu11)
    # Sid's QEMU (no root made is a failure, not a skip), and run
    # directories of their own: the host's QEMU may run capture and
    # doorbell at the same time, and run-vm.sh empties its directory.
    qemu=$("$VM_SRC/sid-qemu.sh") || die "no QEMU from Debian sid (sid-qemu.sh)"
    if [ "$group" = doorbell-qemu11 ]; then
        exec "$VM_SRC/doorbell.sh" "$kernel" --qemu "$qemu" \
            --dir "$VM_DIR/runs/doorbell-qemu11-$abi"
    fi
    files=$VM_DIR/runs/capture-qemu11-files
    mkdir -p "$files"
    "$BUILD_DIR/hw/shmcam-dump" --generate "$files/YUYV.raw" \
        --format YUYV --size 640x480 --frames 16 > /dev/null
    exec "$VM_SRC/run-vm.sh" --kernel "$kernel" --test capture \
        --shm "$shm" --producer "$pattern" --env CFILES="$files" \
        --qemu "$qemu" --dir "$VM_DIR/runs/capture-qemu11-$abi" ;;
qemu-memdev|qemu-memdev-qemu11)
    qemu=
    if [ "$group" = qemu-memdev-qemu11 ]; then
        qemu=$("$VM_SRC/sid-qemu.sh") ||
            die "no QEMU from Debian sid (sid-qemu.sh)"
    fi
    dir=$VM_DIR/runs/$group-$abi
    rm -rf "$dir"
    # 8 slots, as for compliance: a guest that emulation holds up for a
    # few frame intervals still finds every frame (v4l2-compliance warns
    # about any gap in the sequence).
    "$VM_SRC/run-vm.sh" --kernel "$kernel" --test memdev --memdev-shm cam0 \
        --producer "--pattern --size 640x480 --format YUYV --slots 8" \
        ${qemu:+--qemu "$qemu"} --dir "$dir" &
    vm=$!
    # While the guest runs: shmcam-host as a user other than QEMU's (root)
    # may not open QEMU's descriptors, and says as whom to run.
    i=0
    until [ -s "$dir/qemu.pid" ] &&
          grep -q ': streaming$' "$dir/producer.log" 2>/dev/null; do
        if [ $i -ge 600 ] || ! kill -0 "$vm" 2>/dev/null; then
            break
        fi
        sleep 0.1
        i=$((i + 1))
    done
    pid=$(cat "$dir/qemu.pid" 2>/dev/null || true)
    denied=fail
    if [ -n "$pid" ]; then
        rc=0
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
            "$BUILD_DIR/hw/shmcam-host" --pattern --qemu-memdev "$pid:cam0" \
            > "$dir/denied.log" 2>&1 || rc=$?
        want="shmcam-host: cannot open the memory of QEMU $pid: /proc/$pid/fd:"
        want="$want Permission denied (run shmcam-host as QEMU's user (root,"
        want="$want uid 0) or as root)"
        if [ "$rc" = 1 ] && [ "$(cat "$dir/denied.log")" = "$want" ]; then
            denied=ok
        fi
        echo "shmcam-host as nobody on QEMU $pid: exit $rc:" \
            "$(cat "$dir/denied.log")"
    fi
    verdict=0
    wait "$vm" || verdict=1
    if [ "$denied" != ok ]; then
        echo "SHMCAM-TEST: FAIL $group: shmcam-host as nobody was not" \
            "refused with the message (want: ${want:-QEMU running})"
        verdict=1
    fi
    # The producer found the backend both ways.
    for how in "QEMU's command line" "QMP socket $dir/qmp.sock"; do
        if ! grep -q "is QEMU's descriptor .*, found through $how$" \
                "$dir/producer.log"; then
            echo "SHMCAM-TEST: FAIL $group: no producer found memory-backend-shm" \
                "cam0 through $how ($dir/producer.log)"
            verdict=1
        fi
    done
    exit $verdict ;;
shm-named)
    files=$VM_DIR/runs/capture-files
    mkdir -p "$files"
    "$BUILD_DIR/hw/shmcam-dump" --generate "$files/YUYV.raw" \
        --format YUYV --size 640x480 --frames 16 > /dev/null
    "$VM_SRC/run-vm.sh" --kernel "$kernel" --test capture \
        --shm-backend "$shm" --producer "$pattern" --env CFILES="$files" \
        --dir "$VM_DIR/runs/shm-named-$abi" || exit 1
    if [ -e "/dev/shm/$shm" ]; then
        echo "SHMCAM-TEST: FAIL shm-named: /dev/shm/$shm is left after" \
            "QEMU exited"
        rm -f "/dev/shm/$shm"
        exit 1
    fi
    echo "/dev/shm/$shm is gone after QEMU exited" ;;
pci)
    exec "$VM_SRC/pci.sh" "$kernel" ;;
driver)
    exec "$VM_SRC/driver.sh" "$kernel" ;;
browser|dkms)
    # The trixie guest: its disk image, and a 9p share that carries in
    # what the test needs and takes out what it leaves in out/.
    image=$("$VM_SRC/mkimage.sh")
    share=$VM_DIR/runs/$group-$abi.share
    rm -rf "$share"
    mkdir -p "$share/bin"
    if [ "$group" = browser ]; then
        [ -f "$VM_DIR/$abi/shmcam.ko" ] && cp "$VM_DIR/$abi/shmcam.ko" "$share/"
        exec "$VM_SRC/run-vm.sh" --kernel "$kernel" --test browser \
            --image "$image" --share "$share" --mem 2048 --smp 2 --timeout 1500 \
            --shm "$shm" --producer "$pattern" \
            --env EXPECT_LABEL="shmcam test pattern" \
            --env EXPECT_SIZE=640x480 --env EXPECT_FPS=30
    fi
    # DKMS's version is the project's.
    ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' \
        "$SRC_ROOT/guest-driver/dkms.conf")
    project=$(sed -n "s/^ *version: '\(.*\)',$/\1/p" "$SRC_ROOT/meson.build" |
        head -n 1)
    if [ "$ver" != "$project" ]; then
        echo "SHMCAM-TEST: FAIL dkms: guest-driver/dkms.conf says version" \
            "'$ver', meson.build '$project'"
        exit 1
    fi
    mkdir -p "$share/src/guest-driver" "$share/src/include"
    # The sources, not what a build in guest-driver/ left there.
    find "$SRC_ROOT/guest-driver" -maxdepth 1 -type f \( -name '*.[ch]' \
        -o -name Kbuild -o -name Makefile -o -name dkms.conf \) \
        ! -name '*.mod.c' -exec cp {} "$share/src/guest-driver/" \;
    cp "$SRC_ROOT"/include/*.h "$share/src/include/"
    cp "$BUILD_DIR/hw/shmcam-dump" "$share/bin/"
    exec "$VM_SRC/run-vm.sh" --kernel "$kernel" --test dkms \
        --image "$image" --share "$share" --mem 2048 --smp 2 --timeout 1500 \
        --shm "$shm" --producer "$pattern" --env DKMS_VERSION="$ver" ;;
*)
    die "unknown VM test group '$group'" ;;
esac
