# SPDX-License-Identifier: GPL-2.0-or-later
#
# ivshmem-doorbell behind a generic ivshmem server that never rings, on a
# region shmcam-host --shm publishes into: frames advance, no interrupt
# announces them.  shmcam.ko notices and polls at the frame rate.

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

check silent-doorbell-noticed silent_noticed
# Once noticed, 90 more frames come at full rate: none missed.
check silent-full-rate capture_no_gaps 90
finish
