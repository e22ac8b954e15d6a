# SPDX-License-Identifier: GPL-2.0-or-later
#
# v4l2-compliance with streaming of every format (-s -f) must report no
# failure and no warning: first with the test pattern offering all its
# formats, sizes and rates, then with the producer publishing a file of
# exactly one mode (640x480, 30 fps) in YUYV, then NV12, then MJPEG.
# The host restarts the producer between the runs; $CFILES is the host
# directory holding the files (vm-test.sh writes them).

check shmcam-loads shmcam_up
check compliance-pattern-all-modes compliance "$DEV"
for fmt in YUYV NV12 MJPG; do
    check producer-file-$fmt host_cmd producer-restart --file \
        "$CFILES/$fmt.raw" --loop --format $fmt --size 640x480 --fps 30
    check compliance-file-$fmt compliance "$DEV"
done
finish
