#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shmcam-host --file end to end for one format: a file of pattern frames,
# the same through a pipe, and --loop.
. "$(dirname "$0")/lib.sh"

FORMAT=$1 SIZE=320x240
FILE=$TEST_TMP/frames.raw

"$SHMCAM_DUMP" --generate "$FILE" --format "$FORMAT" --size "$SIZE" --frames 90 ||
    fail "cannot generate $FILE"
# the generated file verifies offline, and a wrong count does not
expect_run 0 "" "$SHMCAM_DUMP" --input "$FILE" --format "$FORMAT" --size "$SIZE" \
    --verify --frames 90
grep -qx "$(verify_line 90)" "$TEST_TMP/out" || fail "offline verify line"
expect_run 1 "shmcam-dump: 90 frames, expected 91" "$SHMCAM_DUMP" --input "$FILE" \
    --format "$FORMAT" --size "$SIZE" --verify --frames 91

# $1: how the host reads the file (a path or -); the reader starts first
run_file() {
    "$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 45 --verify --timeout 20 \
        >"$TEST_TMP/dump.out" 2>"$TEST_TMP/dump.err" &
    dump=$!
    if [ "$1" = - ]; then
        "$SHMCAM_HOST" --file - --format "$FORMAT" --size "$SIZE" --fps 60 \
            --shm "$TEST_NAME" <"$FILE" 2>"$TEST_TMP/host.log"
    else
        "$SHMCAM_HOST" --file "$1" --format "$FORMAT" --size "$SIZE" --fps 60 \
            --shm "$TEST_NAME" 2>"$TEST_TMP/host.log"
    fi
    rc=$?
    [ "$rc" = 0 ] || fail "shmcam-host --file $1 exited $rc: $(cat "$TEST_TMP/host.log")"
    grep -qx "shmcam-host: end of file $1 after 90 frames" "$TEST_TMP/host.log" ||
        fail "no end-of-file line: $(cat "$TEST_TMP/host.log")"
    wait $dump || fail "shmcam-dump exited $?: $(cat "$TEST_TMP/dump.err")"
    grep -qx "$(verify_line 45)" "$TEST_TMP/dump.out" ||
        fail "--file $1: $(cat "$TEST_TMP/dump.out" "$TEST_TMP/dump.err")"
    [ -e "/dev/shm/$TEST_NAME" ] && fail "region left behind"
    pass "--file $1 $FORMAT"
}
run_file "$FILE"
run_file -

# --loop: 10 frames, yet the stream goes on (frame counters keep rising)
"$SHMCAM_DUMP" --generate "$FILE" --format "$FORMAT" --size "$SIZE" --frames 10
start_host --file "$FILE" --loop --format "$FORMAT" --size "$SIZE" --fps 100 \
    --shm "$TEST_NAME"
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 30 --timeout 20 >"$TEST_TMP/dump.out" ||
    fail "--loop: shmcam-dump failed"
grep -qx "read 30 frames" "$TEST_TMP/dump.out" || fail "--loop: $(cat "$TEST_TMP/dump.out")"
kill -0 "$HOST_PID" || fail "--loop: shmcam-host stopped"
stop_host
finish
