# SPDX-License-Identifier: GPL-2.0-or-later
#
# shmcam.ko on an ivshmem-plain device whose memory is a stock QEMU's
# memory-backend-shm, without a name: shmcam-host --qemu-memdev took it
# from QEMU's descriptors, first found by QEMU's process id, after the
# restart through its QMP socket (run-vm.sh --memdev-shm).  Captures
# verified byte for byte in every format's path (a request for another
# format goes through the region too), across a restart of the producer,
# and v4l2-compliance.

check shmcam-loads shmcam_up
check capture-yuyv capture_verify YUYV 640x480 30
check format-change-nv12-720p capture_verify NV12 1280x720 10
check format-change-mjpeg capture_verify MJPG 640x480 30
check format-change-yu12 capture_verify YU12 640x480 10
check format-back-yuyv capture_verify YUYV 640x480 10
check producer-restart-qmp producer_restart
check capture-after-restart capture_verify YUYV 640x480 30
check compliance compliance "$DEV"
finish
