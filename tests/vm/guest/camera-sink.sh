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

check shmcam-loads shmcam_up
check camera-source-named source_named
check camera-frames camera_frames
check camera-format-switch camera_switch
finish
