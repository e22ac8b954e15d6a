# SPDX-License-Identifier: GPL-2.0-or-later
#
# The producer's controls (ABI 1.4) as V4L2 controls.  The host starts
# the test pattern with --controls=all, whose four controls are
# Brightness, Contrast, Saturation (0..255, 128) and Hue (-128..127, 0).
# Checks: v4l2-ctl -L lists them with their ranges; a value set with
# v4l2-ctl -c is what v4l2-ctl -C and the producer's table (shmcam-dump
# --controls on the host, by controls.sh) show, and the frames captured after it still
# verify as the pattern but differ from those at the defaults; the V4L2
# framework refuses a value out of range; a change made from another
# consumer area (shmcam-dump --set-ctrl on the host) raises a control
# event in a waiting v4l2-ctl and shows in v4l2-ctl -C; with
# --controls=none every control is read-only and a change fails; a
# stopped producer makes v4l2-ctl -c fail (EIO) instead of hanging.

# ctrl_get NAME: the value v4l2-ctl -C prints for NAME.
ctrl_get() {
    v4l2-ctl -d "$DEV" -C "$1" 2>&1 | sed -n "s/^$1: *//p"
}

# The four controls, each with its range and default.
lists_controls() {
    v4l2-ctl -d "$DEV" -L > /tmp/ctrls.out 2>&1
    cat /tmp/ctrls.out
    grep -q 'brightness 0x00980900 (int) *: min=0 max=255 step=1 default=128' /tmp/ctrls.out &&
        grep -q 'contrast 0x00980901 (int) *: min=0 max=255 step=1 default=128' /tmp/ctrls.out &&
        grep -q 'saturation 0x00980902 (int) *: min=0 max=255 step=1 default=128' /tmp/ctrls.out &&
        grep -q 'hue 0x00980903 (int) *: min=-128 max=127 step=1 default=0' /tmp/ctrls.out
}

# brightness=200 is applied: the guest and the producer's table say so.
set_brightness() {
    v4l2-ctl -d "$DEV" -c brightness=200 || return 1
    _v=$(ctrl_get brightness)
    echo "v4l2-ctl -C brightness: $_v"
    [ "$_v" = 200 ] && host_cmd host-ctrl-is brightness 200
}

# Frames after the change are the pattern drawn with brightness 200, as
# their stamp says; back at the defaults, the stamp says no controls.
frames_follow() {
    capture_verify YUYV 640x480 5 /tmp/b200.raw || return 1
    _s=$(stamp_ctrls /tmp/b200.raw 5)
    echo "stamp at brightness=200: $_s"
    [ "$_s" = "83 67 80 67 200 128 128 0" ] || return 1
    v4l2-ctl -d "$DEV" -c brightness=128 || return 1
    capture_verify YUYV 640x480 5 /tmp/b128.raw || return 1
    _s=$(stamp_ctrls /tmp/b128.raw 5)
    echo "stamp at the defaults: $_s"
    [ "${_s% * * * *}" = "83 67 80 84" ]
}

# Out of range: the V4L2 framework does not pass an integer outside
# min..max on; it clamps it (S_CTRL), so what the producer is asked and
# keeps is the bound.
out_of_range() {
    v4l2-ctl -d "$DEV" -c brightness=300 -c hue=-200 || return 1
    _v=$(ctrl_get brightness)
    _h=$(ctrl_get hue)
    echo "after brightness=300 hue=-200: $_v $_h"
    [ "$_v" = 255 ] && [ "$_h" = -128 ] &&
        host_cmd host-ctrl-is brightness 255 &&
        host_cmd host-ctrl-is hue -128
}

# A change made elsewhere shows as an event here, and in -C.
host_change_event() {
    v4l2-ctl -d "$DEV" --wait-for-event=ctrl=contrast > /tmp/event.out 2>&1 &
    _w=$!
    # Let the waiter subscribe first (a hang guard, not a time limit).
    sleep 2
    host_cmd host-ctrl-set contrast=50 || { kill $_w; return 1; }
    wait $_w
    _rc=$?
    cat /tmp/event.out
    _v=$(ctrl_get contrast)
    echo "v4l2-ctl -C contrast: $_v"
    [ $_rc = 0 ] && grep -q 'ctrl' /tmp/event.out && [ "$_v" = 50 ]
}

# --controls=none: every control read-only, a change refused.
refused() {
    host_cmd producer-restart --pattern --size 640x480 --format YUYV \
        --controls=none || return 1
        # A new producer: its controls show at the next first open, once it
    # has laid out the region (a hang guard of about a minute).
    _i=0
    until v4l2-ctl -d "$DEV" -L > /tmp/ctrls.out 2>&1 &&
          grep -q 'brightness .*flags=read-only' /tmp/ctrls.out; do
        [ $_i -ge 300 ] && { cat /tmp/ctrls.out; return 1; }
        sleep 0.2
        _i=$((_i + 1))
    done
    cat /tmp/ctrls.out
    ! v4l2-ctl -d "$DEV" -c brightness=100 > /tmp/set.out 2>&1 || return 1
    cat /tmp/set.out
    grep -q 'Permission denied' /tmp/set.out
}

# A stopped producer never answers: the request fails with EIO.
stopped() {
    host_cmd producer-restart --pattern --size 640x480 --format YUYV \
        --controls=all || return 1
    # Open once the new producer's controls are writable again, then stop
    # it (a hang guard of about a minute).
    _i=0
    until v4l2-ctl -d "$DEV" -c brightness=128 2>/dev/null; do
        [ $_i -ge 300 ] && return 1
        sleep 0.2
        _i=$((_i + 1))
    done
    host_cmd producer-stop || return 1
    ! v4l2-ctl -d "$DEV" -c brightness=90 > /tmp/set.out 2>&1 || return 1
    cat /tmp/set.out
    grep -q 'Input/output error' /tmp/set.out
}

check shmcam-loads shmcam_up
check lists-controls lists_controls
check set-brightness set_brightness
check frames-follow frames_follow
check out-of-range-clamped out_of_range
check host-change-event host_change_event
check host-refuses refused
check stopped-producer-eio stopped
finish
