# SPDX-License-Identifier: GPL-2.0-or-later
#
# Suspend to RAM mid-stream (QEMU resets every device on wake-up), woken
# by the host through the monitor: the stream goes on, frames before and
# after verify, with one gap in the sequence where the guest slept, and
# the frame interrupts work again.

s3_stream() {
    shmcam_up || return 1
    grep -q '\[deep\]' /sys/power/mem_sleep ||
        { cat /sys/power/mem_sleep; echo "no S3 (deep) sleep"; return 1; }
    _st=/sys/kernel/debug/shmcam/$(shmcam_bdf)/status
    rm -f /tmp/s3.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=30 --stream-mmap --stream-count=150 --stream-to=/tmp/s3.raw \
        --verbose > /tmp/s3.out 2>&1 &
    _pid=$!
    wait_frames /tmp/s3.raw $YUYV_VGA 40 || { kill $_pid; return 1; }
    host_cmd wakeup-after 3000 || { kill $_pid; return 1; }
    echo mem > /sys/power/state || { kill $_pid; return 1; }
    _irq=$(sed -n 's/^interrupts: //p' "$_st")
    echo "woke up with $(frames_in /tmp/s3.raw $YUYV_VGA) frames captured"
    wait $_pid || { tail -n 20 /tmp/s3.out; return 1; }
    cat "$_st"
    _big=$(awk '/dqbuf:/ {
            for (i = 1; i < NF; i++) if ($i == "seq:") q = $(i + 1)
            if (n++ && q > p + 10) g++
            p = q
        } END { print g + 0 }' /tmp/s3.out)
    echo "gaps of more than 10 frames: $_big; interrupts $_irq at wake-up," \
        "$(sed -n 's/^interrupts: //p' "$_st") after"
    verify_file YUYV 640x480 150 /tmp/s3.raw && [ "$_big" = 1 ] &&
        [ "$(sed -n 's/^interrupts: //p' "$_st")" -gt $((_irq + 50)) ] &&
        grep -q '^doorbell: ringing$' "$_st"
}

check s3-stream-goes-on s3_stream
check capture-after-s3 capture_verify YUYV 640x480 10
finish
