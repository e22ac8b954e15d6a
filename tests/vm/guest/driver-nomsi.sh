# SPDX-License-Identifier: GPL-2.0-or-later
#
# Booted with pci=nomsi: the ivshmem-doorbell device offers MSI-X, but no
# vector can be had.  shmcam.ko binds it all the same and polls at the
# frame rate.  Two ivshmem-plain devices are blank at boot (QEMU numbers
# them in command-line order: the first is the one the host publishes
# into later, LATE_ARGS, the second stays blank); neither is bound, the
# first gets its camera once shmcam-host lays it out, the second stays
# free for other drivers.

# The doorbell device is bound, polled (no doorbell), and says why.
nomsi_bound() {
    shmcam_up || return 1
    _st=/sys/kernel/debug/shmcam/$(shmcam_bdf)/status
    cat "$_st"
    dmesg | grep 'MSI-X'
    dmesg | grep -q "$(shmcam_bdf): no MSI-X vector (-[0-9]*): polling the region" &&
        grep -q '^doorbell: none$' "$_st" &&
        grep -q '^poll_period_us: 100000$' "$_st"
}

# blank_bdfs: the ivshmem devices no driver has, in bus order.
blank_bdfs() {
    for _d in /sys/bus/pci/devices/*; do
        [ "$(cat "$_d/vendor")" = 0x1af4 ] && [ "$(cat "$_d/device")" = 0x1110 ] &&
            [ ! -e "$_d/driver" ] && basename "$_d"
    done
}

# Both blank devices are left alone, and watched.
blank_free() {
    _b=$(blank_bdfs)
    echo "unbound ivshmem devices: $_b"
    [ "$(echo $_b | wc -w)" = 2 ] || return 1
    for _x in $_b; do
        dmesg | grep -q "$_x: region is blank: waiting for a shmcam producer" ||
            { echo "$_x: not watched"; return 1; }
    done
    LATE_BDF=$(echo $_b | cut -d' ' -f1)
    FREE_BDF=$(echo $_b | cut -d' ' -f2)
}

# shmcam-host starts on the first blank region: within seconds its device
# is bound and a camera whose frames verify appears.
late_bind() {
    [ -n "$LATE_BDF" ] || return 1
    host_cmd side-start "$LATE_ARGS" || return 1
    _i=0
    while [ ! -e "/sys/bus/pci/devices/$LATE_BDF/driver" ]; do
        [ $_i -ge 300 ] && { echo "$LATE_BDF not bound 30 s after the producer started"; return 1; }
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "$LATE_BDF bound after $_i tenths of a second"
    _v=
    _i=0
    while [ -z "$_v" ] && [ $_i -lt 50 ]; do
        for _n in /sys/bus/pci/devices/$LATE_BDF/video4linux/video*; do
            [ -e "$_n" ] && _v=/dev/$(basename "$_n")
        done
        sleep 0.1
        _i=$((_i + 1))
    done
    [ -n "$_v" ] || { echo "no video node under $LATE_BDF"; return 1; }
    DEV=$_v capture_verify YUYV 640x480 10
}

# The other blank device, a few watch periods later: still nobody's.
free_stays_free() {
    sleep 3
    [ -n "$FREE_BDF" ] && [ ! -e "/sys/bus/pci/devices/$FREE_BDF/driver" ] &&
        echo "$FREE_BDF still free"
}

check nomsi-bound nomsi_bound
# Polling at the frame rate (4 polls a frame, poll_divisor) keeps up.
check nomsi-full-rate capture_no_gaps 90
check blank-left-free blank_free
check late-bind late_bind
check free-stays-free free_stays_free
finish
