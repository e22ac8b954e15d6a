# SPDX-License-Identifier: GPL-2.0-or-later
#
# Captures by a guest application (v4l2-ctl), verified byte for byte
# against the test pattern by shmcam-dump; format changes; two openers;
# a corrupted capture that the verification must reject; and a producer
# whose lines are padded, as a camera with a stride; MJPEG frames larger
# than the application's buffers, skipped without holding up the next.

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

# timestamps: 100 frames at 30 fps; a second in, the host holds QEMU
# still for 150 ms (a vCPU descheduled on a busy host), so the guest then
# catches up on several frames at once.  Every buffer must carry its
# frame's capture time: the spacing of consecutive timestamps matches the
# producer's (seq difference x 33.333 ms) within 1 ms in the median, and
# no two are closer than half a frame interval, the catch-up included.
timestamps() {
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=30 --stream-mmap=8 --stream-count=100 --verbose \
        > /tmp/ts.out 2>&1 &
    _pid=$!
    wait_delivered $(($(status_field frames) + 30)) || { kill $_pid; return 1; }
    host_cmd qemu-pause 150 || { kill $_pid; return 1; }
    wait $_pid || { tail -n 20 /tmp/ts.out; return 1; }
    # "cap dqbuf: I seq: S bytesused: B ts: T ..." per buffer
    awk '/dqbuf:/ {
            for (i = 1; i < NF; i++) {
                if ($i == "seq:") q = $(i + 1)
                if ($i == "ts:") t = $(i + 1)
            }
            if (n++) {
                d = (t - pt) * 1000
                e = d - (q - pq) * 1000 / 30
                if (e < 0) e = -e
                printf "%.3f %.3f %d\n", e, d / (q - pq), q - pq
            }
            pt = t; pq = q
        }' /tmp/ts.out > /tmp/ts.pairs
    _pairs=$(wc -l < /tmp/ts.pairs)
    _median=$(sort -n /tmp/ts.pairs | sed -n "$(((_pairs + 1) / 2))p" | cut -d' ' -f1)
    _max=$(sort -n /tmp/ts.pairs | tail -n 1 | cut -d' ' -f1)
    _closest=$(sort -n -k2 /tmp/ts.pairs | head -n 1 | cut -d' ' -f2)
    _gaps=$(awk '$3 > 1' /tmp/ts.pairs | wc -l)
    echo "timestamps: $_pairs pairs, spacing off the producer's by" \
        "$_median ms in the median, $_max ms at most; closest pair" \
        "$_closest ms a frame apart; $_gaps gaps in the sequence"
    [ "$_pairs" = 99 ] &&
        awk -v m="$_median" -v c="$_closest" 'BEGIN { exit !(m < 1 && c > 16.667) }'
}

# The format of an MJPEG producer: a JPEG's colorspace as V4L2 capture
# devices report it (sRGB, BT.601 encoding, full range), and the
# producer's own image size rather than a guess.
mjpeg_colorspace() {
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=MJPG &&
        v4l2-ctl -d "$DEV" --get-fmt-video > /tmp/jfmt.out 2>&1
    cat /tmp/jfmt.out
    grep -q 'Colorspace *: sRGB$' /tmp/jfmt.out &&
        grep -q 'YCbCr/HSV Encoding *: ITU-R 601$' /tmp/jfmt.out &&
        grep -q 'Quantization *: Full Range$' /tmp/jfmt.out
}

# What a user reads when frames are missing: the status in debugfs and
# the same text from VIDIOC_LOG_STATUS in the kernel log, with the frames
# just delivered counted.
status_shown() {
    _st=/sys/kernel/debug/shmcam/$(shmcam_bdf)/status
    cat "$_st" || return 1
    _before=$(sed -n 's/^frames: //p' "$_st")
    capture_verify YUYV 640x480 10 || return 1
    _after=$(sed -n 's/^frames: //p' "$_st")
    echo "frames delivered: $_before before the capture, $_after after"
    v4l2-ctl -d "$DEV" --log-status > /dev/null || return 1
    dmesg | grep -q ": frames: $_after\$" ||
        { dmesg | tail -n 20; echo "no 'frames: $_after' from --log-status"; return 1; }
    grep -q '^producer: streaming$' "$_st" &&
        grep -q '^format: 640x480 YUYV 1/30 s$' "$_st" &&
        [ "$_after" -ge $((_before + 10)) ]
}

# G_PARM while streaming reports what streams: the client streams at
# 30 fps, then the producer is replaced by one that offers 25 fps only
# (a file of the same mode); another opener's G_PARM says 25.
gparm_streaming() {
    stream_bg /tmp/g.raw 600
    wait_frames /tmp/g.raw $YUYV_VGA 5 || { kill $BG; return 1; }
    host_cmd producer-restart --file "$CFILES/YUYV.raw" --loop --format YUYV \
        --size 640x480 --fps 25 || { kill $BG; return 1; }
    _n=$(frames_in /tmp/g.raw $YUYV_VGA)
    wait_frames /tmp/g.raw $YUYV_VGA $((_n + 10)) || { kill $BG; return 1; }
    v4l2-ctl -d "$DEV" --get-parm > /tmp/parm.out 2>&1
    kill $BG
    wait $BG
    cat /tmp/parm.out
    grep -q 'Frames per second: 25.000 (25/1)$' /tmp/parm.out
}

# With no file open the driver does not poll at all: the worker's count
# stands still.
no_file_no_timer() {
    _a=$(status_field polls)
    sleep 2
    _b=$(status_field polls)
    echo "polls with no file open: $_a, and 2 s later $_b"
    [ -n "$_a" ] && [ "$_a" = "$_b" ]
}

# cotenant: while this guest streams 640x480 at 30 fps, a co-tenant of
# the region (the host's shmcam-scribble) writes random header values at
# a high rate for 10 s, an interval of 1/1000 and a moving latest_frame
# among them.  The kernel log grows by a bounded number of lines, the
# worker polls at this guest's own rate (4 polls a frame, poll_divisor),
# not the header's, and once the scribbling stops the producer has put
# its header back and captures verify again.
cotenant() {
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=30 --stream-mmap --stream-count=100000 \
        --stream-to=/dev/null > /tmp/co.out 2>&1 &
    _pid=$!
    _i=0
    while [ "$(status_field streaming)" != yes ] && [ $_i -lt 100 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    _lines=$(dmesg | wc -l)
    _polls=$(status_field polls)
    _t0=$(cut -d' ' -f1 /proc/uptime)
    host_cmd scribble 10 || { kill $_pid; return 1; }
    sleep 10
    _polls=$(($(status_field polls) - _polls))
    _t1=$(cut -d' ' -f1 /proc/uptime)
    _grown=$(($(dmesg | wc -l) - _lines))
    sleep 1
    kill $_pid
    wait $_pid
    _rate=$(awk -v p="$_polls" -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%d", p / (b - a) }')
    dmesg | tail -n "$_grown" | tail -n 12
    echo "co-tenant: the kernel log grew by $_grown lines; $_polls polls" \
        "in $(awk -v a="$_t0" -v b="$_t1" 'BEGIN { print b - a }') s," \
        "$_rate a second, for 30 frames a second"
    cat "/sys/kernel/debug/shmcam/$(shmcam_bdf)/status"
    capture_verify YUYV 640x480 30 &&
        [ "$_grown" -le 100 ] && [ "$_rate" -le 200 ]
}

# oversize: the producer (run-vm.sh's bigframe) sends every 5th MJPEG
# frame larger than its sizeimage, so larger than any buffer of the
# application's.  Each such frame is skipped and counted as too large,
# and the very next frame is delivered: the sequence skips one number at
# each, never more, and the 40 frames captured are the pattern's.
oversize() {
    host_cmd bigframe 5 || return 1
    _large=$(status_field dropped_too_large)
    rm -f /tmp/big.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=MJPG \
        --stream-mmap --stream-count=40 --stream-to=/tmp/big.raw --verbose \
        > /tmp/big.out 2>&1 || { tail -n 20 /tmp/big.out; return 1; }
    _large=$(($(status_field dropped_too_large) - _large))
    _gaps=$(seq_gaps /tmp/big.out)
    _long=$(seq_gaps /tmp/big.out 2)
    echo "oversize: $_large frames dropped as too large; $_gaps gaps in" \
        "the sequence, $_long of more than one frame"
    awk '/dqbuf:/ { for (i = 1; i < NF; i++) if ($i == "seq:") printf "%s ", $(i + 1) }
        END { print "" }' /tmp/big.out
    verify_file MJPG 640x480 40 /tmp/big.raw &&
        [ "$_large" -ge 6 ] && [ "$_gaps" -ge 6 ] && [ "$_long" = 0 ]
}

check shmcam-loads shmcam_up
check capture-yuyv capture_verify YUYV 640x480 30
check corrupt-frame-detected corrupt_detected
check short-capture-detected short_detected
check format-change-nv12-720p capture_verify NV12 1280x720 10
check format-change-mjpeg capture_verify MJPG 640x480 30
check mjpeg-colorspace mjpeg_colorspace
check format-change-yu12 capture_verify YU12 640x480 10
check format-back-yuyv capture_verify YUYV 640x480 10
check two-openers two_openers
check status-shown status_shown
check no-file-no-timer no_file_no_timer
check g-parm-streaming gparm_streaming
check producer-8-slots host_cmd producer-restart --pattern --size 640x480 \
    --format YUYV --slots 8
check timestamps timestamps
check co-tenant cotenant
check mjpeg-oversize oversize
check producer-padded host_cmd producer-restart --pattern --size 640x480 \
    --format YUYV --align 1024
check padded-yuyv padded YUYV 640x480 2048 983040 10
check padded-nv12 padded NV12 640x480 1024 737280 10
check padded-yu12 padded YU12 1280x720 2048 2211840 10
finish
