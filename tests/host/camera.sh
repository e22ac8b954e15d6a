#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shmcam-host --camera without a usable camera fails cleanly: the message,
# exit status 1, and no region left behind.
. "$(dirname "$0")/lib.sh"

missing=/dev/video-missing-$$
expect_run 1 "shmcam-host: camera $missing: No such file or directory (check the device name, e.g. ls /dev/video*)" \
    "$SHMCAM_HOST" --camera "$missing" --shm "$TEST_NAME"
[ -e "/dev/shm/$TEST_NAME" ] && fail "a region was created for a missing camera"

expect_run 1 "shmcam-host: camera /dev/null is not a V4L2 device (give a /dev/videoN capture node)" \
    "$SHMCAM_HOST" --camera /dev/null --shm "$TEST_NAME"
[ -e "/dev/shm/$TEST_NAME" ] && fail "a region was created for /dev/null"

expect_run 1 "shmcam-host: camera $TEST_TMP: Is a directory (check the device name, e.g. ls /dev/video*)" \
    "$SHMCAM_HOST" --camera "$TEST_TMP" --shm "$TEST_NAME"

# --camera asks for 4 slots, for the camera to capture into, unless
# --slots says otherwise; where 4 do not fit it goes on with 3.  A 2 MiB
# region holds 3 slots of 640x480 YUYV, not 4: the options pass, and the
# camera (missing) is what fails.
expect_run 1 "shmcam-host: camera $missing: No such file or directory (check the device name, e.g. ls /dev/video*)" \
    "$SHMCAM_HOST" --camera "$missing" --size 640x480 --shm "$TEST_NAME" \
    --region-size 2M
expect_run 2 "shmcam-host: --region-size 2M is too small: 640x480 YUYV with 4 slots needs 4 MiB (--region-size 4M)" \
    "$SHMCAM_HOST" --camera "$missing" --size 640x480 --shm "$TEST_NAME" \
    --region-size 2M --slots 4

# and a reader with no producer gives up with a message
expect_run 1 "shmcam-dump: timeout: no shmcam producer in /dev/shm/$TEST_NAME after 1 s (is shmcam-host running?)" \
    "$SHMCAM_DUMP" --shm "$TEST_NAME" --timeout 1 --frames 1
finish
