#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shmcam-host --pattern and shmcam-dump --verify end to end, for one format
# and size: every frame byte for byte, in order, none torn; a clean stop.
. "$(dirname "$0")/lib.sh"

FORMAT=$1 SIZE=$2 FPS=$3 FRAMES=$4

start_host --pattern --shm "$TEST_NAME" --format "$FORMAT" --size "$SIZE" --fps "$FPS"
"$SHMCAM_DUMP" --shm "$TEST_NAME" --frames "$FRAMES" --verify --timeout 20 \
    >"$TEST_TMP/dump.out" 2>"$TEST_TMP/dump.err"
rc=$?
cat "$TEST_TMP/dump.out" "$TEST_TMP/dump.err"
[ "$rc" = 0 ] || fail "shmcam-dump exited $rc"
grep -qx "$(verify_line "$FRAMES")" "$TEST_TMP/dump.out" ||
    fail "no line '$(verify_line "$FRAMES")'"
grep -q "^dropped [0-9]* frames, [0-9]* torn reads detected and retried$" \
    "$TEST_TMP/dump.out" || fail "no dropped/torn line"
[ "$(header "/dev/shm/$TEST_NAME" state)" = 1 ] || fail "state is not streaming"
"$SHMCAM_DUMP" --shm "$TEST_NAME" --status >"$TEST_TMP/status" ||
    fail "--status exited $?"
grep -qx "state: streaming" "$TEST_TMP/status" || fail "--status: no streaming state"
grep -qx "format: ${SIZE%%x*}x${SIZE#*x} $FORMAT at 1/$FPS s per frame" "$TEST_TMP/status" ||
    fail "--status: format line: $(cat "$TEST_TMP/status")"
grep -qx "card: shmcam test pattern" "$TEST_TMP/status" || fail "--status: card line"
[ "$(header "/dev/shm/$TEST_NAME" pixelformat)" = "$FORMAT" ] ||
    fail "header format is not $FORMAT"
stop_host
[ -e "/dev/shm/$TEST_NAME" ] && fail "created region was not removed at exit"
grep -q "test pattern, $SIZE $FORMAT at 1/$FPS s per frame into /dev/shm/$TEST_NAME" \
    "$TEST_TMP/host.log" || fail "start line missing: $(cat "$TEST_TMP/host.log")"
finish
