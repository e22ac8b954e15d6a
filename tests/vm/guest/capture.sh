# SPDX-License-Identifier: GPL-2.0-or-later
#
# Captures by a guest application (v4l2-ctl), verified byte for byte
# against the test pattern by shmcam-dump; format changes; two openers;
# a corrupted capture that the verification must reject; and a producer
# whose lines are padded, as a camera with a stride.

# One flipped byte in frame 5 must make the verification fail, naming
# exactly one bad frame: proof that the check compares the bytes.
corrupt_detected() {
    cp /tmp/cap.raw /tmp/bad.raw
    _off=$((YUYV_VGA * 5 + 123457))
    _old=$(dd if=/tmp/bad.raw bs=1 skip=$_off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
    printf "\\$(printf %03o $(((_old + 1) % 256)))" |
        dd of=/tmp/bad.raw bs=1 seek=$_off conv=notrunc 2>/dev/null
    cmp /tmp/cap.raw /tmp/bad.raw && { echo "corruption did not change the file"; return 1; }
    shmcam-dump --input /tmp/bad.raw --format YUYV --size 640x480 --verify \
        --frames 30 > /tmp/bad.out 2>&1
    _rc=$?
    cat /tmp/bad.out
    [ "$_rc" = 1 ] &&
        [ "$(tail -n 1 /tmp/bad.out)" = "verified 30 frames, 1 bad, 0 out of order" ]
}

# A capture one frame short must fail too (the count is checked).
short_detected() {
    head -c $((YUYV_VGA * 29)) /tmp/cap.raw > /tmp/short.raw
    ! verify_file YUYV 640x480 30 /tmp/short.raw
}

# One client streams; meanwhile a second one queries the device and a
# third one's attempt to stream is refused as busy.  The first capture
# is still complete and correct.
two_openers() {
    rm -f /tmp/a.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --stream-mmap --stream-count=150 --stream-to=/tmp/a.raw &
    _pid=$!
    wait_frames /tmp/a.raw $YUYV_VGA 2 || { kill $_pid; return 1; }
    # v4l2-ctl reports the refusal but exits 0: check its message and
    # that it captured nothing.
    rm -f /tmp/b.raw
    v4l2-ctl -d "$DEV" --stream-mmap --stream-count=2 \
        --stream-to=/tmp/b.raw > /tmp/busy.out 2>&1
    _busy=$(stat -c %s /tmp/b.raw 2>/dev/null || echo 0)
    v4l2-ctl -d "$DEV" --all > /tmp/all.out 2>&1
    _all=$?
    _done=$(frames_in /tmp/a.raw $YUYV_VGA)
    cat /tmp/busy.out
    grep -E 'Width/Height|Pixel Format' /tmp/all.out
    echo "second opener: captured $_busy bytes, query exit $_all; the first had $_done of 150 frames then"
    wait $_pid || { echo "first stream failed"; return 1; }
    [ "$_all" = 0 ] && grep -q "Width/Height *: 640/480" /tmp/all.out &&
        [ "$_busy" = 0 ] &&
        grep -q 'VIDIOC_REQBUFS returned -1 (Device or resource busy)' /tmp/busy.out &&
        [ "$_done" -lt 150 ] &&
        verify_file YUYV 640x480 150 /tmp/a.raw
}

# padded FMT WxH BPL SIZEIMAGE N: with the producer's lines padded (a
# camera's stride), the driver reports the producer's bytesperline and
# sizeimage, and N captured frames arrive padded, verified byte for byte
# at that stride.
padded() {
    _set="width=${2%x*},height=${2#*x},pixelformat=$1"
    v4l2-ctl -d "$DEV" --set-fmt-video="$_set" || return 1
    v4l2-ctl -d "$DEV" --get-fmt-video > /tmp/pfmt.out 2>&1
    cat /tmp/pfmt.out
    grep -q "Bytes per Line *: $3\$" /tmp/pfmt.out &&
        grep -q "Size Image *: $4\$" /tmp/pfmt.out ||
        { echo "expected bytesperline $3 and sizeimage $4"; return 1; }
    rm -f /tmp/pad.raw
    v4l2-ctl -d "$DEV" --set-fmt-video="$_set" --stream-mmap \
        --stream-count="$5" --stream-to=/tmp/pad.raw || return 1
    shmcam-dump --input /tmp/pad.raw --format "$1" --size "$2" \
        --bytesperline "$3" --verify --frames "$5" > /tmp/verify.out 2>&1
    _rc=$?
    cat /tmp/verify.out
    [ "$_rc" = 0 ] &&
        [ "$(tail -n 1 /tmp/verify.out)" = "verified $5 frames, 0 bad, 0 out of order" ]
}

check shmcam-loads shmcam_up
check capture-yuyv capture_verify YUYV 640x480 30
check corrupt-frame-detected corrupt_detected
check short-capture-detected short_detected
check format-change-nv12-720p capture_verify NV12 1280x720 10
check format-change-mjpeg capture_verify MJPG 640x480 30
check format-change-yu12 capture_verify YU12 640x480 10
check format-back-yuyv capture_verify YUYV 640x480 10
check two-openers two_openers
check producer-padded host_cmd producer-restart --pattern --size 640x480 \
    --format YUYV --align 1024
check padded-yuyv padded YUYV 640x480 2048 983040 10
check padded-nv12 padded NV12 640x480 1024 737280 10
check padded-yu12 padded YU12 1280x720 2048 2211840 10
finish
