#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A --shm region made to outlive shmcam-host, as QEMU's memory-backend-shm
# with attach=on needs it: --region-size gives it room for larger formats,
# --keep leaves it in /dev/shm at exit (marked stopped), and the next
# shmcam-host attaches to the same object and publishes a larger format.
. "$(dirname "$0")/lib.sh"

R=/dev/shm/$TEST_NAME

start_host --shm "$TEST_NAME" --region-size 16M --keep --size 640x480
wait_region "$TEST_NAME"
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 5 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "first producer: $(cat "$TEST_TMP/dump.out")"
[ "$(stat -c '%s %a' "$R")" = "16777216 600" ] ||
    fail "--region-size 16M made $(stat -c '%s bytes, mode %a' "$R")"
grep -q "^shmcam-host: test pattern, 640x480 YUYV at 1/30 s per frame into $R (16 MiB: 3 slots of [0-9]* bytes)$" \
    "$TEST_TMP/host.log" || fail "no start line with the region's size: $(cat "$TEST_TMP/host.log")"
ino=$(stat -c %i "$R")
stop_host
grep -qx "shmcam-host: $R stays (--keep): remove it with rm when no one needs it" \
    "$TEST_TMP/host.log" || fail "no --keep line: $(cat "$TEST_TMP/host.log")"
[ -e "$R" ] || fail "--keep: $R was removed"
[ "$(header "$R" state)" = 0 ] || fail "a kept region must say stopped"

# the same object, a format that needs the room: once it streams in it
# (a reader started before would see the producer restart under it)
start_host --shm "$TEST_NAME" --size 1280x720 --format NV12
wait_streaming "$R" pixelformat NV12
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 5 --verify >"$TEST_TMP/dump.out" 2>&1 ||
    fail "second producer: $(cat "$TEST_TMP/dump.out")"
[ "$(stat -c %i "$R")" = "$ino" ] || fail "the second producer made a new object"
[ "$(header "$R" pixelformat)" = NV12 ] || fail "the second producer is not publishing"
stop_host
[ -e "$R" ] || fail "an attached region was removed"
pass "a kept region is attached again"

# without --keep, a region shmcam-host created goes at exit
rm -f "$R"
start_host --shm "$TEST_NAME"
wait_region "$TEST_NAME"
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 2 >/dev/null 2>&1 || fail "third producer"
stop_host
[ -e "$R" ] && fail "a created region without --keep was left"

# SIGHUP (the terminal went) and SIGQUIT clean up as SIGTERM does
for sig in HUP QUIT; do
    start_host --shm "$TEST_NAME"
    wait_region "$TEST_NAME"
    "$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 2 >/dev/null 2>&1 || fail "SIG$sig: no frames"
    kill -"$sig" "$HOST_PID"
    wait "$HOST_PID"
    rc=$?
    HOST_PID=
    [ "$rc" = 0 ] || fail "SIG$sig: shmcam-host exited $rc: $(cat "$TEST_TMP/host.log")"
    [ -e "$R" ] && fail "SIG$sig: the created region was left"
done
finish
