# SPDX-License-Identifier: GPL-2.0-or-later
#
# v4l2-compliance with streaming of every format (-s -f) must report no
# failure and no warning, with the producer publishing YUYV, then NV12,
# then MJPEG (the host restarts it between the runs).

check shmcam-loads shmcam_up
check compliance-yuyv compliance "$DEV"
check producer-nv12 host_cmd producer-restart --format NV12
check compliance-nv12 compliance "$DEV"
check producer-mjpeg host_cmd producer-restart --format MJPG
check compliance-mjpeg compliance "$DEV"
finish
