# SPDX-License-Identifier: GPL-2.0-or-later
check shmcam-loads shmcam_up
v4l2-ctl -d "$DEV" --all
v4l2-ctl -d "$DEV" --list-formats-ext
check capture-yuyv capture_verify YUYV 640x480 10
finish
