# SPDX-License-Identifier: GPL-2.0-or-later
#
# The guest of the pipewire-pci group (tests/vm/pipewire-pci.sh): the
# host's PipeWire camera, pw-testsrc drawing shmcam's test pattern, served
# by shmcam-host --pipewire --pci-listen through QEMU's shmcam-pci device.
# Every frame verified; the formats asked for here are renegotiated on
# the host's PipeWire stream (the host checks that it was in place), and
# MJPEG is the node's own.

# The card is the PipeWire node's description.
card_is_the_node() {
    v4l2-ctl -d "$DEV" --info > /tmp/info.out 2>&1
    grep -e 'Driver name' -e 'Card type' /tmp/info.out
    grep -q 'Card type *: shmcam test camera$' /tmp/info.out
}

check shmcam-loads shmcam_up
check card-is-the-pipewire-node card_is_the_node
check capture-yuyv capture_verify YUYV 640x480 30
check renegotiated-nv12-320x240 capture_verify NV12 320x240 10
check mjpeg-from-the-node capture_verify MJPG 640x480 10
check back-to-yuyv capture_verify YUYV 640x480 10
finish
