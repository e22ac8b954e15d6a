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

# The writers of the pipes below wait a second before their first byte,
# for the reader to find the region (it reads from the newest frame on),
# and keep the pipe open until the reader is done (until_gone PID), so
# that shmcam-host stays for the last frames.
until_gone() {
    while kill -0 "$1" 2>/dev/null; do
        sleep 0.1
    done
}

# A pipe that goes quiet mid-frame for 3 s: no signal, then the stream
# comes back by itself with every frame, none torn or out of line.
if [ "$FORMAT" = YUYV ]; then
    before=$failures
    bytes=$(wc -c <"$FILE")
    "$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 90 --verify --timeout 30 \
        >"$TEST_TMP/dump.out" 2>"$TEST_TMP/dump.err" &
    dump=$!
    { sleep 1; head -c $((bytes / 3 + 1000)) "$FILE"; sleep 3
      tail -c +$((bytes / 3 + 1001)) "$FILE"; until_gone $dump; } |
        "$SHMCAM_HOST" --file - --format "$FORMAT" --size "$SIZE" --fps 20 \
            --shm "$TEST_NAME" 2>"$TEST_TMP/host.log" ||
        fail "stalled pipe: shmcam-host exited $?"
    wait $dump || fail "stalled pipe: shmcam-dump exited $?: $(cat "$TEST_TMP/dump.err")"
    grep -qx "$(verify_line 90)" "$TEST_TMP/dump.out" ||
        fail "stalled pipe: $(cat "$TEST_TMP/dump.out" "$TEST_TMP/dump.err")"
    for line in "shmcam-host: file -: no signal" "shmcam-host: file -: streaming" \
                "shmcam-host: end of file - after 90 frames"; do
        grep -qx "$line" "$TEST_TMP/host.log" ||
            fail "stalled pipe: no line '$line': $(cat "$TEST_TMP/host.log")"
    done
    grep -q "^shmcam-host: file - gave no frame for [0-9]* ms$" "$TEST_TMP/host.log" ||
        fail "stalled pipe: no stall line: $(cat "$TEST_TMP/host.log")"
    [ "$failures" = "$before" ] &&
        pass "a pipe quiet for 3 s: no signal, then all 90 frames"
fi

# JPEGs larger than a frame of the format may be: one whose end is in
# reach, one much larger (its end reads away).  Each is dropped and
# counted; the frames around them all arrive, verified.
if [ "$FORMAT" = MJPG ]; then
    before=$failures
    "$SHMCAM_DUMP" --generate "$TEST_TMP/ok.mjpg" --format MJPG --size "$SIZE" \
        --frames 20 || fail "cannot generate MJPEG frames"
    python3 - "$TEST_TMP/ok.mjpg" "$TEST_TMP/big.mjpg" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
starts = [i for i in range(len(data) - 2) if data[i:i + 3] == b"\xff\xd8\xff"]
frames = [data[a:b] for a, b in zip(starts, starts[1:] + [len(data)])]
assert len(frames) == 20, len(frames)
com = b"\xff\xfe\xff\xff" + bytes(65533)    # a comment segment, 64 KiB
def padded(f, n):
    return f[:2] + com * n + f[2:]
out = frames[:10] + [padded(frames[10], 3)] + frames[11:15] + \
      [padded(frames[15], 8)] + frames[16:]
open(sys.argv[2], "wb").write(b"".join(out))
PY
    "$SHMCAM_DUMP" --shm "$TEST_NAME" --frames 18 --verify --timeout 20 \
        >"$TEST_TMP/dump.out" 2>"$TEST_TMP/dump.err" &
    dump=$!
    { sleep 1; cat "$TEST_TMP/big.mjpg"; until_gone $dump; } |
        "$SHMCAM_HOST" --file - --format MJPG --size "$SIZE" \
        --fps 5 --shm "$TEST_NAME" 2>"$TEST_TMP/host.log" ||
        fail "oversized JPEGs: shmcam-host exited $?: $(cat "$TEST_TMP/host.log")"
    wait $dump || fail "oversized JPEGs: shmcam-dump exited $?: $(cat "$TEST_TMP/dump.err")"
    grep -qx "$(verify_line 18)" "$TEST_TMP/dump.out" ||
        fail "oversized JPEGs: $(cat "$TEST_TMP/dump.out" "$TEST_TMP/dump.err")"
    for line in "shmcam-host: file -: a frame larger than a slot: dropped (--stats counts them; check --format and --size)" \
                "shmcam-host: end of file - after 18 frames, 2 too large (dropped)"; do
        grep -qxF "$line" "$TEST_TMP/host.log" ||
            fail "oversized JPEGs: no line '$line': $(cat "$TEST_TMP/host.log")"
    done
    [ "$failures" = "$before" ] &&
        pass "two oversized JPEGs dropped and counted, 18 frames verified"
fi

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
