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
    shmcam-host --camera "$CAM" --format YUYV --size 640x480 \
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

check vivid-loads cam_up
check camera-source-publishes source_publishes
check camera-source-serves-peer serve_peer
finish
