# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo guest: capture $FRAMES frames in the producer's format with
# v4l2-ctl, report frames, drops and rate from the buffers' sequence
# numbers and timestamps, and copy the capture to the scratch disk
# /dev/vda for the host to convert.

demo_capture() {
    v4l2-ctl -d "$DEV" --get-fmt-video > /tmp/fmt.out || return 1
    FMT=$(sed -n "s/.*Pixel Format *: '\(....\)'.*/\1/p" /tmp/fmt.out)
    SIZE=$(sed -n 's|.*Width/Height *: \([0-9]*\)/\([0-9]*\).*|\1x\2|p' /tmp/fmt.out)
    echo "capturing $FRAMES frames of $SIZE $FMT"
    v4l2-ctl -d "$DEV" --verbose --stream-mmap --stream-count="$FRAMES" \
        --stream-to=/tmp/cap.raw > /tmp/stream.out 2>&1 || return 1
    # "cap dqbuf: INDEX seq: N bytesused: B ts: SEC.USEC ..."
    sed -n 's/.*dqbuf: *[0-9]* *seq: *\([0-9]*\).*ts: *\([0-9.]*\).*/\1 \2/p' \
        /tmp/stream.out > /tmp/seq
    awk 'NR == 1 { s0 = $1; t0 = $2 } { n++; s = $1; t = $2 }
         END { drops = s - s0 + 1 - n; fps = (t > t0) ? (n - 1) / (t - t0) : 0;
               printf "SHMCAM-DEMO: frames %d drops %d fps %.2f\n", n, drops, fps }' /tmp/seq
    if [ "$FMT" != MJPG ] && [ "$SOURCE" = pattern ]; then
        shmcam-dump --input /tmp/cap.raw --format "$FMT" --size "$SIZE" \
            --verify --frames "$FRAMES" | tail -n 1
    fi
    BYTES=$(stat -c %s /tmp/cap.raw)
    disk_up && dd if=/tmp/cap.raw of=/dev/vda bs=1M conv=fsync 2>/dev/null &&
        echo "SHMCAM-OUT: format $FMT size $SIZE frames $FRAMES bytes $BYTES"
}

check shmcam-loads shmcam_up
check demo-capture demo_capture
finish
