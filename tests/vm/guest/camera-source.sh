# SPDX-License-Identifier: GPL-2.0-or-later
#
# The camera source against a real V4L2 driver: shmcam-host captures from
# vivid and publishes into this guest's ivshmem BAR.  A second guest on
# the same shared memory captures it through shmcam.ko (camera-sink.sh);
# this guest keeps publishing until the host says the sink is done.  The
# sink's request for another size must be met without reopening vivid, and
# vivid stamps its buffers in a range of its own, so that camera.sh can
# tell the slots carry them.  First, into a region of its own memory,
# vivid's frames go straight into the slots, or copied when told so, and
# are checked byte for byte against vivid's own.

cam_up() {
    modload vivid n_devs=1 node_types=0x1 && CAM=$(video_node vivid) &&
        BDF=$(ivshmem_bdf)
}

# vivid's node logs its file operations (dev_debug 4: V4L2_DEV_DEBUG_FOP),
# among them each open, as "v4l2_open: videoN: open (0)".
fop_debug() {
    echo "$1" > "/sys/class/video4linux/${CAM#/dev/}/dev_debug"
}

# capture_verified IO WHAT: shmcam-host --camera-io IO into a /dev/shm
# region of this guest, its log saying WHAT of how frames get there; 30
# frames read back and checked against the reference.  --stats says how
# many bytes shmcam-host copied: /tmp/copied.
capture_verified() {
    rm -rf /tmp/frames && mkdir /tmp/frames
    shmcam-host --camera "$CAM" --camera-io "$1" --format YUYV \
        --size ${REF_W}x$REF_H --fps 5 --shm cam-$1 --stats \
        > /tmp/host-$1.out 2>&1 &
    _host=$!
    shmcam-dump --shm cam-$1 --frames 30 --out /tmp/frames --timeout 30 \
        > /tmp/dump-$1.out 2>&1
    _rc=$?
    sleep 1.2          # one more --stats line, after the frames read
    kill $_host
    wait $_host || { echo "shmcam-host exited with $?"; _rc=1; }
    grep -v ' fps, ' /tmp/host-$1.out
    tail -n 1 /tmp/host-$1.out
    cat /tmp/dump-$1.out
    sed -n 's/.* \([0-9]*\) bytes copied, .*/\1/p' /tmp/host-$1.out |
        tail -n 1 > /tmp/copied
    grep -q "camera $CAM: $2" /tmp/host-$1.out ||
        { echo "no line saying: $2"; _rc=1; }
    frames_are_vivids /tmp/frames || _rc=1
    rm -rf /tmp/frames
    [ "$_rc" = 0 ]
}

# Into a region of plain memory the camera captures straight into the
# slots (V4L2 USERPTR): no byte copied.
camera_in_place() {
    capture_verified auto "capturing straight into the region's slots" || return 1
    echo "shmcam-host copied $(cat /tmp/copied) bytes"
    [ "$(cat /tmp/copied)" = 0 ]
}

# Forced into the camera's own buffers, every frame is copied.
camera_copied() {
    capture_verified mmap "frames are captured into its own buffers and copied into the region (--camera-io mmap)" ||
        return 1
    _copied=$(cat /tmp/copied)
    echo "shmcam-host copied $_copied bytes, $((_copied / REF_FRAME)) frames"
    [ -n "$_copied" ] && [ $((_copied % REF_FRAME)) = 0 ] &&
        [ $((_copied / REF_FRAME)) -ge 30 ]
}

# The camera's controls (ABI 1.4) in the region: vivid's user class,
# only the types shmcam carries (not its string, bitmask or class
# controls, nor its own class), menus without the entries vivid skips.
# A change through the region reaches vivid, read back; one made on
# vivid (v4l2-ctl) reaches the region through its control events; frames
# flow on meanwhile.  brightness and contrast are put back for the
# reference frames.
ctl_list() {
    shmcam-dump --shm cam-ctl --controls > /tmp/ctl.out 2>&1
}
ctl_value() {
    sed -n "s/^ *$1 0x[0-9a-f]* (.*value=\([-0-9]*\).*/\1/p" /tmp/ctl.out
}
camera_controls() {
    shmcam-host --camera "$CAM" --format YUYV --size ${REF_W}x$REF_H \
        --fps 5 --shm cam-ctl --controls=all > /tmp/host-ctl.out 2>&1 &
    _host=$!
    _ok=1
    _i=0
    until ctl_list && grep -q '^ *brightness 0x' /tmp/ctl.out; do
        [ $_i -ge 300 ] && { echo "no brightness listed"; _ok=; break; }
        sleep 0.1
        _i=$((_i + 1))
    done
    cat /tmp/ctl.out
    vivid_ctrls_listed /tmp/ctl.out || _ok=
    lists /tmp/ctl.out '^ *gain_automatic 0x00980912 (bool) ' || _ok=
    lists /tmp/ctl.out '^ *button 0x[0-9a-f]* (button) *: flags=write-only$' || _ok=
    lists /tmp/ctl.out '^ *boolean 0x[0-9a-f]* (bool) ' || _ok=
    # vivid's skipped menu entries, its string and bitmask, class
    # controls and the vivid class's own are left out
    ! grep -E '(Skipped)|^ *(string|bitmask|user_controls|test_pattern) 0x|\(unknown\)' \
        /tmp/ctl.out || { echo "listed what should not be"; _ok=; }
    shmcam-dump --shm cam-ctl --set-ctrl brightness=37 > /tmp/set.out 2>&1 ||
        _ok=
    cat /tmp/set.out
    [ "$(cat /tmp/set.out)" = "Brightness: 37" ] ||
        { echo "brightness not applied as 37"; _ok=; }
    _cam=$(v4l2-ctl -d "$CAM" -C brightness)
    echo "$CAM: $_cam"
    [ "$_cam" = "brightness: 37" ] || _ok=
    v4l2-ctl -d "$CAM" -c contrast=99 || _ok=
    _i=0
    until ctl_list && [ "$(ctl_value contrast)" = 99 ]; do
        [ $_i -ge 300 ] && { echo "contrast $(ctl_value contrast), not 99"; _ok=; break; }
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "region: contrast $(ctl_value contrast), brightness $(ctl_value brightness)"
    [ "$(ctl_value brightness)" = 37 ] || _ok=
    # the control events wake no frame read: frames still come
    shmcam-dump --shm cam-ctl --frames 5 --timeout 30 > /tmp/dump-ctl.out 2>&1 ||
        { cat /tmp/dump-ctl.out; _ok=; }
    v4l2-ctl -d "$CAM" -c brightness=128 -c contrast=128 || _ok=
    kill $_host
    wait $_host || { echo "shmcam-host exited with $?"; _ok=; }
    grep -v ' fps, ' /tmp/host-ctl.out
    [ -n "$_ok" ]
}

# shmcam-host attaches to the BAR through sysfs; shmcam-dump reading the
# same BAR proves that frames are published.
source_publishes() {
    fop_debug 4 || return 1
    # vivid stamps its buffers from (2^31 - 16) s on: camera.sh tells
    # them from publish times by that.
    v4l2-ctl -d "$CAM" -c wrap_timestamp=2 || return 1
    FOP_FROM=$(dmesg | wc -l)
    shmcam-host --camera "$CAM" --format YUYV --size 640x480 --fps 5 \
        --region "/sys/bus/pci/devices/$BDF/resource2" > /tmp/host.out 2>&1 &
    HOST=$!
    shmcam-dump --region "/sys/bus/pci/devices/$BDF/resource2" --frames 5 \
        --timeout 30 > /tmp/dump.out 2>&1
    _rc=$?
    cat /tmp/host.out /tmp/dump.out
    # A BAR is I/O memory to this guest: no camera can capture into it.
    grep -q "camera $CAM: frames are captured into its own buffers and copied into the region: its driver cannot pin the region's memory (Bad address;" /tmp/host.out ||
        { echo "no line saying why frames are copied"; _rc=1; }
    kill -0 $HOST && [ "$_rc" = 0 ]
}

# Published until the sink guest has captured; then a clean exit (0 after
# SIGTERM).
serve_peer() {
    HOST_WAIT=600 host_cmd wait-peer
    _peer=$?
    kill $HOST
    wait $HOST
    _rc=$?
    cat /tmp/host.out
    echo "shmcam-host exited with $_rc"
    [ "$_peer" = 0 ] && [ "$_rc" = 0 ]
}

# The sink's 320x180 request (camera-sink.sh) was met on the device
# shmcam-host had open: its log says so, and vivid's node was opened once
# while it ran (a close and reopen would log a second open).
switch_in_place() {
    fop_debug 0
    dmesg | sed -n "$((FOP_FROM + 1)),\$p" |
        grep "v4l2_open: ${CAM#/dev/}: open" > /tmp/opens
    _opens=$(wc -l < /tmp/opens)
    cat /tmp/opens
    echo "$CAM opened $_opens times while shmcam-host ran"
    _ok=1
    grep "camera $CAM: switched to 320x180 YUYV on the open device$" \
        /tmp/host.out || { echo "no in-place switch to 320x180"; _ok=; }
    ! grep "closing and reopening" /tmp/host.out || _ok=
    [ "$_opens" = 1 ] || { echo "expected one open"; _ok=; }
    [ -n "$_ok" ]
}

# The camera disappears (vivid's device unbound under shmcam-host) and
# comes back: the region says "no signal" while it is gone, a control
# change is refused with ENODEV, and frames flow again once it returns,
# from the same process.
region_state() {
    shmcam-dump --region "/sys/bus/pci/devices/$BDF/resource2" --status \
        --timeout 5 | sed -n 's/^state: //p'
}
wait_state() {
    _i=0
    until [ "$(region_state)" = "$1" ]; do
        [ $_i -ge 300 ] && { echo "region state $(region_state), not $1 after 30s"; return 1; }
        sleep 0.1
        _i=$((_i + 1))
    done
}
camera_unplug() {
    shmcam-host --camera "$CAM" --format YUYV --size 640x480 --fps 5 \
        --region "/sys/bus/pci/devices/$BDF/resource2" > /tmp/host2.out 2>&1 &
    HOST=$!
    _ok=1
    wait_state streaming || _ok=
    echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind || _ok=
    wait_state "no signal" || _ok=
    # a change asked for meanwhile: the camera is gone (ENODEV); named by
    # the table when it still lists the control, by its id once emptied
    shmcam-dump --region "/sys/bus/pci/devices/$BDF/resource2" \
        --set-ctrl 0x00980900=100 > /tmp/nodev.out 2>&1
    _rc=$?
    cat /tmp/nodev.out
    [ "$_rc" = 1 ] && grep -Eqx \
        "shmcam-dump: (0x00980900|Brightness): No such device" /tmp/nodev.out ||
        { echo "not refused as ENODEV (exit $_rc)"; _ok=; }
    echo vivid.0 > /sys/bus/platform/drivers/vivid/bind || _ok=
    wait_state streaming || _ok=
    shmcam-dump --region "/sys/bus/pci/devices/$BDF/resource2" --frames 5 \
        --timeout 30 > /tmp/dump2.out 2>&1 || _ok=
    kill $HOST
    wait $HOST || { echo "shmcam-host exited with $?"; _ok=; }
    cat /tmp/host2.out /tmp/dump2.out
    grep -q ": no signal$" /tmp/host2.out || { echo "no 'no signal' line"; _ok=; }
    [ "$(grep -c ": streaming$" /tmp/host2.out)" = 2 ] ||
        { echo "not streaming twice"; _ok=; }
    [ -n "$_ok" ]
}

check vivid-loads cam_up
check vivid-reference vivid_reference
check camera-in-place camera_in_place
check camera-copied camera_copied
check camera-controls camera_controls
check camera-source-publishes source_publishes
check camera-source-serves-peer serve_peer
check camera-switch-in-place switch_in_place
# The other guest set vivid's brightness and contrast through shmcam.ko
# (camera-sink.sh's camera-controls-through-shmcam): vivid has them.
check camera-controls-set-by-peer has_peer_ctrls "$CAM"
check camera-unplug-and-return camera_unplug
finish
