# SPDX-License-Identifier: GPL-2.0-or-later
#
# Teardown and recovery while a client streams: the producer restarts or
# is killed (the stream resumes), the device is unbound and bound again, the module
# is removed and loaded again.  The kernel log must stay clean.

# kill -9 of the producer leaves the region saying "streaming" with a
# heartbeat that stops: the driver must notice the silence by itself
# (producer_timeout_ms), report no signal on its input, deliver nothing
# while the producer is gone, and resume on the same stream once a new
# producer starts.
producer_killed() {
    stream_bg /tmp/k.raw 90
    wait_frames /tmp/k.raw $YUYV_VGA 20 || { kill $BG; return 1; }
    _from=$(dmesg | wc -l)
    host_cmd producer-kill || { kill $BG; return 1; }
    _i=0
    until dmesg | sed -n "$((_from + 1)),\$p" | grep -q 'producer stopped or silent'; do
        [ $_i -ge 300 ] && { echo "no 'producer stopped or silent' after 30s"; kill $BG; return 1; }
        sleep 0.1
        _i=$((_i + 1))
    done
    v4l2-ctl -d "$DEV" --info --list-inputs > /tmp/inputs.out 2>&1
    _at=$(frames_in /tmp/k.raw $YUYV_VGA)
    sleep 1
    _later=$(frames_in /tmp/k.raw $YUYV_VGA)
    echo "producer silent after $_at frames; $_later a second later"
    _ok=1
    grep -q 'no signal' /tmp/inputs.out ||
        { cat /tmp/inputs.out; echo "input status is not 'no signal'"; _ok=; }
    [ "$_later" = "$_at" ] || { echo "frames arrived with no producer"; _ok=; }
    host_cmd producer-start || { kill $BG; return 1; }
    wait $BG || { echo "capture failed across the kill"; return 1; }
    shmcam-dump --input /tmp/k.raw --format YUYV --size 640x480 --verify \
        --frames 90 > /tmp/verify.out 2>&1
    cat /tmp/verify.out
    [ -n "$_ok" ] &&
        [ "$(tail -n 1 /tmp/verify.out)" = "verified 90 frames, 0 bad, 1 out of order" ]
}

# rmmod while a client streams: refused as in use, the stream goes on to
# its end intact; once closed, rmmod succeeds and a reload works.
rmmod_streaming() {
    stream_bg /tmp/m.raw 60
    wait_frames /tmp/m.raw $YUYV_VGA 5 || { kill $BG; return 1; }
    rmmod shmcam > /tmp/rmmod.out 2>&1
    _rc=$?
    cat /tmp/rmmod.out
    echo "rmmod while streaming: exit $_rc"
    if [ "$_rc" = 0 ]; then
        # A driver may also allow it; then the stream must end, not hang.
        wait $BG
        echo "client exited with $?"
    else
        wait $BG || { echo "stream broken by a refused rmmod"; return 1; }
        verify_file YUYV 640x480 60 /tmp/m.raw || return 1
        rmmod shmcam || return 1
    fi
    [ ! -d /sys/module/shmcam ] || { echo "shmcam still loaded"; return 1; }
    shmcam_up && capture_verify YUYV 640x480 10
}

check shmcam-loads shmcam_up
check capture-yuyv capture_verify YUYV 640x480 10
check producer-restart-while-streaming producer_restart
check producer-killed-while-streaming producer_killed
check unbind-while-streaming unbind_rebind
check rmmod-while-streaming rmmod_streaming
finish
