# SPDX-License-Identifier: GPL-2.0-or-later
#
# The camera source against a real V4L2 driver: shmcam-host captures from
# vivid and publishes into this guest's ivshmem BAR.  A second guest on
# the same shared memory captures it through shmcam.ko (camera-sink.sh);
# this guest keeps publishing until the host says the sink is done.

cam_up() {
    modload vivid n_devs=1 node_types=0x1 && CAM=$(video_node vivid) &&
        BDF=$(ivshmem_bdf)
}

# shmcam-host attaches to the BAR through sysfs; shmcam-dump reading the
# same BAR proves that frames are published.
source_publishes() {
    shmcam-host --camera "$CAM" --format YUYV --size 640x480 --fps 5 \
        --region "/sys/bus/pci/devices/$BDF/resource2" > /tmp/host.out 2>&1 &
    HOST=$!
    shmcam-dump --region "/sys/bus/pci/devices/$BDF/resource2" --frames 5 \
        --timeout 30 > /tmp/dump.out 2>&1
    _rc=$?
    cat /tmp/host.out /tmp/dump.out
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

# The camera disappears (vivid's device unbound under shmcam-host) and
# comes back: the region says "no signal" while it is gone, and frames
# flow again once it returns, from the same process.
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
check camera-source-publishes source_publishes
check camera-source-serves-peer serve_peer
check camera-unplug-and-return camera_unplug
finish
