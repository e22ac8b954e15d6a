# SPDX-License-Identifier: GPL-2.0-or-later
#
# v4l2-compliance with streaming of every format (-s -f) must report no
# failure and no warning: first with the test pattern offering all its
# formats, sizes and rates, then with the producer publishing a file of
# exactly one mode (640x480, 30 fps) in YUYV, then NV12, then MJPEG, then
# YUYV with its lines padded to 2048 bytes, as a camera with a stride.
# The host restarts the producer between the runs ($CFILES is the host
# directory holding the files, written by vm-test.sh) and the module is
# reloaded, so that each run starts from a fresh driver.  With the MJPEG
# file (one mode, so no format request is pending), a non-blocking read(2)
# right after open must give the newest frame at once, 40 times out of
# 40 (v4l2-compliance's read/write test asks two such reads for the same
# answer).  The last check is that the driver follows a restart without
# a reload.

reload() {
    rmmod shmcam && shmcam_up
}

# After the producer comes back with another format, the format the
# driver reports must be one that it enumerates.
format_follows() {
    v4l2-ctl -d "$DEV" --get-fmt-video > /tmp/gfmt.out 2>&1
    v4l2-ctl -d "$DEV" --list-formats > /tmp/enum.out 2>&1
    cat /tmp/gfmt.out /tmp/enum.out
    _cur=$(sed -n "s/.*Pixel Format *: '\(....\)'.*/\1/p" /tmp/gfmt.out)
    echo "G_FMT: $_cur"
    [ -n "$_cur" ] && grep -q "\\]: '$_cur'" /tmp/enum.out
}

check shmcam-loads shmcam_up
check compliance-pattern-all-modes compliance "$DEV"
for fmt in YUYV NV12 MJPG; do
    check producer-file-$fmt host_cmd producer-restart --file \
        "$CFILES/$fmt.raw" --loop --format $fmt --size 640x480 --fps 30 \
        --slots 8
    check reload-$fmt reload
    check compliance-file-$fmt compliance "$DEV"
done
check first-read-has-a-frame shmcam-firstread "$DEV" 40
check producer-file-YUYV-padded host_cmd producer-restart --file \
    "$CFILES/YUYV-padded.raw" --loop --format YUYV --size 640x480 --fps 30 \
    --slots 8 --align 1024
check reload-YUYV-padded reload
check compliance-file-YUYV-padded compliance "$DEV"
check producer-back-to-YUYV host_cmd producer-restart --file \
    "$CFILES/YUYV.raw" --loop --format YUYV --size 640x480 --fps 30 --slots 8
check format-follows-producer-restart format_follows
finish
