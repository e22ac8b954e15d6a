#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Controls end to end (docs/controls.rst): shmcam-host publishes the test
# pattern's controls, shmcam-dump --controls prints them and --set-ctrl
# changes them, with every refusal's exact message and exit status;
# --controls none|first|all; a flood from one consumer area; one set of
# controls for several regions (--listen --isolate).
. "$(dirname "$0")/lib.sh"

H=$SHMCAM_HOST
D=$SHMCAM_DUMP
R=/dev/shm/$TEST_NAME
PY="python3 $(dirname "$0")/controls.py"

# expect_out WANT_RC WANT_STDOUT cmd...: exit status and whole stdout
expect_out() {
    want_rc=$1 want=$2
    shift 2
    got=$("$@" 2>"$TEST_TMP/err")
    rc=$?
    if [ "$rc" != "$want_rc" ] || [ "$got" != "$want" ]; then
        fail "$* exited $rc (want $want_rc), printed:
$got
expected:
$want
stderr: $(cat "$TEST_TMP/err")"
    else
        pass "$* -> $rc"
    fi
}

# table B C S H FLAGS: what --controls prints for these values
table() {
    printf '%31s 0x00980900 (int)     : min=0 max=255 step=1 default=128 value=%s flags=%s\n' brightness "$1" "$5"
    printf '%31s 0x00980901 (int)     : min=0 max=255 step=1 default=128 value=%s flags=%s\n' contrast "$2" "$5"
    printf '%31s 0x00980902 (int)     : min=0 max=255 step=1 default=128 value=%s flags=%s\n' saturation "$3" "$5"
    printf '%31s 0x00980903 (int)     : min=-128 max=127 step=1 default=0 value=%s flags=%s\n' hue "$4" "$5"
}

run() {
    start_host --shm "$TEST_NAME" --size 320x240 "$@"
    wait_region "$TEST_NAME" && wait_streaming "$R" abi_major 1 ||
        fail "the region never streamed"
}

# The default policy (first), nobody holding the format: anyone may.
run
expect_out 0 "$(table 128 128 128 0 slider)" "$D" --shm "$TEST_NAME" --controls
expect_out 0 "Brightness: 200
Hue: -5" "$D" --shm "$TEST_NAME" --set-ctrl brightness=200 --set-ctrl 0x00980903=-5
expect_out 0 "Saturation: 0" "$D" --shm "$TEST_NAME" --set-ctrl Saturation=0
# republished: every reader sees what was applied
expect_out 0 "$(table 200 128 0 -5 slider)" "$D" --shm "$TEST_NAME" --controls
# the errors of the spec's table, as strerror() says them
expect_run 1 "shmcam-dump: Contrast: Numerical result out of range" \
    "$D" --shm "$TEST_NAME" --set-ctrl contrast=256
expect_run 1 "shmcam-dump: Hue: Numerical result out of range" \
    "$D" --shm "$TEST_NAME" --set-ctrl hue=-129
expect_run 1 "shmcam-dump: 0x1234: Invalid argument" \
    "$D" --shm "$TEST_NAME" --set-ctrl 0x1234=1
expect_run 1 "shmcam-dump: no control nosuch in $R" \
    "$D" --shm "$TEST_NAME" --set-ctrl nosuch=1
expect_run 1 "shmcam-dump: --set-ctrl hue=x: 'x' is not a number" \
    "$D" --shm "$TEST_NAME" --set-ctrl hue=x
# a refusal changes nothing, and the requests after it still go
expect_run 1 "shmcam-dump: Contrast: Numerical result out of range" \
    "$D" --shm "$TEST_NAME" --set-ctrl contrast=-1 --set-ctrl contrast=7
expect_out 0 "$(table 200 7 0 -5 slider)" "$D" --shm "$TEST_NAME" --controls
# back to the defaults: the frames verify as the pattern draws them
expect_out 0 "Brightness: 128
Contrast: 128
Saturation: 128
Hue: 0" "$D" --shm "$TEST_NAME" --set-ctrl brightness=128 --set-ctrl contrast=128 \
    --set-ctrl saturation=128 --set-ctrl hue=0
expect_out 0 "$(verify_line 10)
dropped 0 frames, 0 torn reads detected and retried" \
    "$D" --shm "$TEST_NAME" --frames 10 --verify

# first: the format's holder's request applied, another area's EBUSY
expect_out 0 "before hold: ok 11
holder: ok 12
other: 1 shmcam-dump: Brightness: Device or resource busy
after: 0 Brightness: 14" $PY "$R" first "$D"
expect_out 0 "Brightness: 128" "$D" --shm "$TEST_NAME" --set-ctrl brightness=128

# a flood from one area: another area is still answered, frames verify
expect_out 0 "other: 0 Contrast: 128
flood last: ERANGE 128" $PY "$R" flood "$D"
expect_out 0 "$(verify_line 10)
dropped 0 frames, 0 torn reads detected and retried" \
    "$D" --shm "$TEST_NAME" --frames 10 --verify
stop_host

# none: every control read-only, every request EACCES
run --controls none
expect_out 0 "$(table 128 128 128 0 read-only,slider)" "$D" --shm "$TEST_NAME" --controls
expect_run 1 "shmcam-dump: Brightness: Permission denied" \
    "$D" --shm "$TEST_NAME" --set-ctrl brightness=1
stop_host

# all: the holder does not keep others out
run --controls all
expect_out 0 "before hold: ok 11
holder: ok 12
other: 0 Brightness: 13
after: 0 Brightness: 14" $PY "$R" first "$D"
stop_host

# several regions (--listen --isolate): one camera, one set of controls.
# A change through one guest's region shows in the table of a region made
# after it, and a guest streaming meanwhile gets every frame, verified as
# drawn with the values of its stamp.
S=$TEST_TMP/sock
start_host --listen "$S" --isolate --size 320x240
i=0
until [ -S "$S" ] || [ $i -ge 200 ]; do sleep 0.05; i=$((i + 1)); done
"$D" --connect "$S" --frames 40 --verify > "$TEST_TMP/stream.out" 2>&1 &
stream=$!
expect_out 0 "Brightness: 90" "$D" --connect "$S" --set-ctrl brightness=90
expect_out 0 "$(table 90 128 128 0 slider)" "$D" --connect "$S" --controls
if wait $stream && grep -qx "$(verify_line 40)" "$TEST_TMP/stream.out"; then
    pass "a guest streaming meanwhile: $(head -n 1 "$TEST_TMP/stream.out")"
else
    fail "the guest streaming meanwhile: $(cat "$TEST_TMP/stream.out")"
fi
stop_host

expect_run 2 "shmcam-host: --controls some is not first, all or none (see shmcam-host --help)" \
    "$H" --shm "$TEST_NAME" --controls some
finish
