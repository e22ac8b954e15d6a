# SPDX-License-Identifier: GPL-2.0-or-later
#
# The sink of the camera test (camera-source.sh publishes vivid's frames
# from another guest): capture them through shmcam.ko.  vivid's image is
# not our pattern, so check what can be: the source's name, the frame
# count and size, frames that are not blank and that change; then a
# capture at another size, which the source meets by switching vivid's
# format on the device it has open.  Both ends ask vivid for 5 fps: its
# capture thread warns when making one frame takes longer than a frame
# interval, which happens under emulation at its default rate.

source_named() {
    v4l2-ctl -d "$DEV" --info | tee /tmp/info.out &&
        grep -q 'Card type *: .*vivid' /tmp/info.out
}

camera_frames() {
    rm -f /tmp/cam.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=5 --stream-mmap --stream-count=20 --stream-to=/tmp/cam.raw || return 1
    _size=$(stat -c %s /tmp/cam.raw)
    echo "captured $_size bytes"
    [ "$_size" = $((YUYV_VGA * 20)) ] || { echo "expected 20 frames"; return 1; }
    _zero=$(head -c $YUYV_VGA /dev/zero | md5sum | cut -d' ' -f1)
    _i=0
    : > /tmp/sums
    while [ $_i -lt 20 ]; do
        dd if=/tmp/cam.raw bs=$YUYV_VGA skip=$_i count=1 2>/dev/null |
            md5sum | cut -d' ' -f1 >> /tmp/sums
        _i=$((_i + 1))
    done
    if grep -q "$_zero" /tmp/sums; then
        echo "blank (all zero) frames received"
        return 1
    fi
    _distinct=$(sort -u /tmp/sums | wc -l)
    echo "$_distinct distinct frames of 20"
    [ "$_distinct" -ge 2 ]
}

# Another of vivid's webcam sizes: the driver's request makes the camera
# source switch vivid's format, on the device it has open (camera-source.sh
# checks how).  Only frames of the new size reach the capture.
YUYV_SWITCH=$((320 * 180 * 2))
camera_switch() {
    rm -f /tmp/switch.raw
    v4l2-ctl -d "$DEV" --list-formats-ext | grep -A1 '320x180' | head -n 2
    v4l2-ctl -d "$DEV" --set-fmt-video=width=320,height=180,pixelformat=YUYV \
        --set-parm=5 --stream-mmap --stream-count=10 \
        --stream-to=/tmp/switch.raw || return 1
    v4l2-ctl -d "$DEV" --get-fmt-video | grep -E 'Width/Height|Pixel Format'
    _size=$(stat -c %s /tmp/switch.raw)
    echo "captured $_size bytes at 320x180"
    [ "$_size" = $((YUYV_SWITCH * 10)) ] ||
        { echo "expected 10 frames"; return 1; }
}

# v4l2-compliance without streaming (the pattern's groups stream every
# format): its control tests on vivid's controls, as this device's, each
# change made on vivid in the other guest and answered from there.
compliance_controls() {
    compliance "$DEV" "" || return 1
    grep 'Standard Controls: ' /tmp/compliance.out | grep -qv ': 0 '
}

# The source's camera controls as this device's own: vivid's, with their
# ranges and menus (camera-source.sh's camera-controls checks the same
# list in the region).  A change made here reaches vivid in the other
# guest (camera-source.sh reads it there once this guest is done) and the
# frames that arrive: brightness lifts their luma, contrast narrows it.
# luma FILE: the mean luma of the last 320x180 YUYV frame in FILE and
# its mean distance from that mean, as "MEAN SPREAD".
luma() {
    dd if="$1" bs=$YUYV_SWITCH skip=7 count=1 2>/dev/null |
        od -An -v -t u1 -w2 |
        awk '{ y[NR] = $1; s += $1 }
             END { m = s / NR
                   for (i = 1; i <= NR; i++) d += (y[i] > m ? y[i] - m : m - y[i])
                   printf "%d %d\n", m, d / NR }'
}
ctl_capture() {
    v4l2-ctl -d "$DEV" --set-fmt-video=width=320,height=180,pixelformat=YUYV \
        --set-parm=5 --stream-mmap --stream-count=8 \
        --stream-to="/tmp/$1.raw" || return 1
    [ "$(stat -c %s "/tmp/$1.raw")" = $((YUYV_SWITCH * 8)) ] ||
        { echo "$1: expected 8 frames"; return 1; }
}
camera_controls() {
    # compliance (run before) leaves controls as it set them
    v4l2-ctl -d "$DEV" -c brightness=128,contrast=128 || return 1
    v4l2-ctl -d "$DEV" -L > /tmp/ctrls.out || return 1
    cat /tmp/ctrls.out
    _ok=1
    vivid_ctrls_listed /tmp/ctrls.out || _ok=
    ctl_capture before || return 1
    v4l2-ctl -d "$DEV" -c brightness=$PEER_BRIGHTNESS || _ok=
    ctl_capture brighter || return 1
    v4l2-ctl -d "$DEV" -c contrast=$PEER_CONTRAST || _ok=
    ctl_capture flatter || return 1
    has_peer_ctrls "$DEV" || _ok=
    # shellcheck disable=SC2046 # MEAN SPREAD, three times
    set -- $(luma /tmp/before.raw) $(luma /tmp/brighter.raw) \
        $(luma /tmp/flatter.raw)
    echo "luma (mean, spread): $1 $2 at the defaults," \
        "$3 $4 at brightness $PEER_BRIGHTNESS," \
        "$5 $6 with contrast $PEER_CONTRAST too"
    [ $# = 6 ] || return 1
    [ "$3" -ge $(($1 + 40)) ] || { echo "brightness did not lift the luma"; _ok=; }
    [ "$4" -ge $(($2 * 8 / 10)) ] || { echo "brightness narrowed the luma"; _ok=; }
    [ "$6" -le $(($4 * 6 / 10)) ] || { echo "contrast did not narrow the luma"; _ok=; }
    [ -n "$_ok" ]
}

check shmcam-loads shmcam_up
check camera-source-named source_named
check camera-frames camera_frames
check camera-format-switch camera_switch
check camera-compliance compliance_controls
check camera-controls-through-shmcam camera_controls
finish
