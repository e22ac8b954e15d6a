# SPDX-License-Identifier: GPL-2.0-or-later
#
# ivshmem-doorbell behind a generic ivshmem server that never rings, on a
# region shmcam-host --shm publishes into: frames advance, no interrupt
# announces them.  shmcam.ko notices and polls at the frame rate.

seq_gaps() {
    awk '/dqbuf:/ {
            for (i = 1; i < NF; i++) if ($i == "seq:") q = $(i + 1)
            if (n++ && q != p + 1) g++
            p = q
        } END { print g + 0 }' "$1"
}

silent_noticed() {
    shmcam_up || return 1
    _st=/sys/kernel/debug/shmcam/$(shmcam_bdf)/status
    rm -f /tmp/si.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=30 --stream-mmap --stream-count=150 --stream-to=/tmp/si.raw \
        --verbose > /tmp/si.out 2>&1 || { tail -n 20 /tmp/si.out; return 1; }
    cat "$_st"
    dmesg | grep -q "$(shmcam_bdf): frames arrive without interrupts: polling" &&
        grep -q '^doorbell: silent$' "$_st" &&
        grep -q '^interrupts: 0$' "$_st" &&
        verify_file YUYV 640x480 150 /tmp/si.raw
}

# Once noticed, 90 more frames come at full rate: none missed.
silent_full_rate() {
    rm -f /tmp/sr.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=30 --stream-mmap --stream-count=90 --stream-to=/tmp/sr.raw \
        --verbose > /tmp/sr.out 2>&1 || { tail -n 20 /tmp/sr.out; return 1; }
    _gaps=$(seq_gaps /tmp/sr.out)
    echo "90 frames with $_gaps gaps in the sequence"
    verify_file YUYV 640x480 90 /tmp/sr.raw && [ "$_gaps" = 0 ]
}

check silent-doorbell-noticed silent_noticed
check silent-full-rate silent_full_rate
finish
