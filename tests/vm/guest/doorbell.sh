# SPDX-License-Identifier: GPL-2.0-or-later
#
# One of two guests (ROLE a or b) on one shmcam-host --listen, through
# ivshmem-doorbell: frames are announced by MSI-X (tests/vm/doorbell.sh
# runs the host side).  "host_cmd sync NAME" returns once both guests
# asked for it, so that the checks below run in both at the same time:
# both stream at once, each frame checked byte for byte; the host kills
# the capture process mid-stream and both streams go on; b stops reading
# while a captures every frame the producer publishes meanwhile.

W=320
H=240
FRAME=153600		# bytes of a 320x240 YUYV frame

# irqs: interrupts counted so far on the shmcam MSI-X vector.
irqs() {
    awk '/ shmcam$/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i }
         END { print n + 0 }' /proc/interrupts
}

# The ivshmem-doorbell device gives shmcam.ko an MSI-X vector.
doorbell_up() {
    shmcam_up || return 1
    grep ' shmcam$' /proc/interrupts ||
        { echo "no shmcam interrupt in /proc/interrupts"; return 1; }
}

stream_bg() {
    rm -f "$1"
    v4l2-ctl -d "$DEV" --set-fmt-video=width=$W,height=$H,pixelformat=YUYV \
        --stream-mmap --stream-count="$2" --stream-to="$1" &
    BG=$!
}

# Both guests stream at once (each has 10 frames and is still streaming
# when the other has too), every frame intact.  The interrupt count is
# kept for msix_used.
concurrent() {
    host_cmd sync start || return 1
    IRQ0=$(irqs)
    stream_bg /tmp/c.raw 90
    if ! wait_frames /tmp/c.raw $FRAME 10; then
        kill $BG
        host_cmd sync both-streaming
        return 1
    fi
    host_cmd sync both-streaming || { kill $BG; return 1; }
    _at=$(frames_in /tmp/c.raw $FRAME)
    wait $BG || { echo "capture failed"; return 1; }
    IRQ1=$(irqs)
    echo "the other guest streamed too when this one had $_at of 90 frames"
    [ "$_at" -lt 90 ] ||
        { echo "this capture ended before the other guest streamed"; return 1; }
    verify_file YUYV ${W}x$H 90 /tmp/c.raw
}

# The frames came by interrupt: the shmcam vector fired for them.  (A
# host that rings twice before QEMU reads the eventfd gives one
# interrupt, hence half; the timer alone polls every 100 ms, 30 times
# in those 3 s.)
msix_used() {
    echo "SHMCAM-MEASURE: $((IRQ1 - IRQ0)) shmcam MSI-X interrupts for 90 frames"
    [ -n "$IRQ1" ] && [ $((IRQ1 - IRQ0)) -ge 45 ]
}

# The host kills the capture process (kill -9) while both guests stream;
# its supervisor starts another, which opens a new session in the same
# region.  The capture goes on to its end, every frame intact (the new
# capture may count frames from 0 again: at most one step back in
# order).  Prints how long after the new session showed up in this
# guest's kernel log its frames came.
capture_kill() {
    host_cmd sync kill-start || return 1
    stream_bg /tmp/k.raw 180
    if ! wait_frames /tmp/k.raw $FRAME 15; then
        kill $BG
        host_cmd capture-kill
        return 1
    fi
    _s0=$(dmesg | grep -c 'producer session')
    # In the background (its request still goes to the console), so
    # that the new session is seen as it comes.
    host_cmd capture-kill &
    _hc=$!
    # Watch for the new session, then for the next frame (a hang guard
    # of about 60 s, not a time limit).
    _t0=
    _t1=
    _i=0
    while [ $_i -lt 3000 ] && kill -0 $BG 2>/dev/null; do
        if [ -z "$_t0" ] &&
           [ "$(dmesg | grep -c 'producer session')" -gt "$_s0" ]; then
            _t0=$(uptime_cs)
            _f0=$(frames_in /tmp/k.raw $FRAME)
        fi
        if [ -n "$_t0" ] && [ "$(frames_in /tmp/k.raw $FRAME)" -gt "$_f0" ]; then
            _t1=$(uptime_cs)
            break
        fi
        sleep 0.02
        _i=$((_i + 1))
    done
    wait $_hc
    _killed=$?
    wait $BG || { echo "capture failed across the restart"; return 1; }
    [ "$_killed" = 0 ] || return 1
    [ -n "$_t0" ] || { echo "no new producer session in the kernel log"; return 1; }
    [ -n "$_t1" ] || { echo "no frame after the new session"; return 1; }
    _d=$((_t1 - _t0))
    printf 'SHMCAM-MEASURE: frames again %d.%02d s after the new session, at frame %d of 180\n' \
        $((_d / 100)) $((_d % 100)) "$_f0"
    shmcam-dump --input /tmp/k.raw --format YUYV --size ${W}x$H --verify \
        --frames 180 > /tmp/verify.out 2>&1
    cat /tmp/verify.out
    [ "$_f0" -lt 180 ] &&
        grep -Eq '^verified 180 frames, 0 bad, [01] out of order$' /tmp/verify.out
}

# a: while b has stopped reading, a captures 90 frames, verified, and
# gets every frame the producer published meanwhile: the V4L2 sequence
# numbers follow the producer's frame counter, so a frame published but
# not delivered would show as a gap.  (16 buffers and the host's 8 slots
# absorb a capture or a worker that emulation holds up for a while.)
# A producer held up by b would stop a's stream short of 90 frames or
# leave gaps; the time a's frames span is reported, not judged (no
# wall-clock limits in tests: emulation speed varies too much).
stall_reader() {
    host_cmd sync stalled || return 1
    v4l2-ctl -d "$DEV" --set-fmt-video=width=$W,height=$H,pixelformat=YUYV \
        --verbose --stream-mmap=16 --stream-count=90 --stream-to=/tmp/s.raw \
        > /tmp/s.out 2>&1
    _rc=$?
    host_cmd sync stalled-done || return 1
    [ "$_rc" = 0 ] || { cat /tmp/s.out; return 1; }
    # "cap dqbuf: INDEX seq: N bytesused: B ts: SEC.USEC ..."
    sed -n 's/.*dqbuf: *[0-9]* *seq: *\([0-9]*\).*ts: *\([0-9.]*\).*/\1 \2/p' \
        /tmp/s.out > /tmp/seq
    awk 'NR == 1 { s0 = $1; t0 = $2 } { n++; s = $1; t = $2 }
         END { printf "%d %d %d %d\n", n, s0, s, (t - t0) * 1000 }' /tmp/seq \
        > /tmp/seq.sum
    read -r _n _first _last _ms < /tmp/seq.sum
    echo "SHMCAM-MEASURE: b stopped reading; a got $_n frames, sequence $_first..$_last: the producer published $((_last - _first + 1)), in $_ms ms"
    verify_file YUYV ${W}x$H 90 /tmp/s.raw &&
        [ "$_n" = 90 ] && [ $((_last - _first + 1)) = 90 ]
}

# b: a client streams and then stops reading (SIGSTOP) while a captures;
# the host keeps announcing frames to this guest meanwhile.  When the
# client reads again, frames come again.
stall_stopped() {
    stream_bg /tmp/s.raw 100000
    if ! wait_frames /tmp/s.raw $FRAME 10; then
        kill $BG
        host_cmd sync stalled
        host_cmd sync stalled-done
        return 1
    fi
    kill -STOP $BG
    _i0=$(irqs)
    host_cmd sync stalled || { kill -KILL $BG; return 1; }
    host_cmd sync stalled-done || { kill -KILL $BG; return 1; }
    _i1=$(irqs)
    _n=$(frames_in /tmp/s.raw $FRAME)
    kill -CONT $BG
    wait_frames /tmp/s.raw $FRAME $((_n + 10))
    _ok=$?
    kill $BG
    wait $BG
    echo "SHMCAM-MEASURE: b stopped reading at $_n frames; $((_i1 - _i0)) shmcam MSI-X interrupts meanwhile; reading again: $(frames_in /tmp/s.raw $FRAME) frames"
    [ "$_ok" = 0 ]
}

# Unbinding under a streaming client frees the interrupt cleanly; a new
# bind gets it back and serves captures.
unbind_rebind() {
    _bdf=$(ivshmem_bdf) || { echo "no ivshmem device"; return 1; }
    stream_bg /tmp/u.raw 300
    wait_frames /tmp/u.raw $FRAME 5 || { kill $BG; return 1; }
    echo "$_bdf" > /sys/bus/pci/drivers/shmcam/unbind || return 1
    wait $BG
    _n=$(frames_in /tmp/u.raw $FRAME)
    echo "streaming client ended after $_n of 300 frames"
    _ok=1
    [ ! -e "$DEV" ] || { echo "$DEV still exists after unbind"; _ok=; }
    ! grep ' shmcam$' /proc/interrupts || { echo "interrupt still requested"; _ok=; }
    [ "$_n" -lt 300 ] || { echo "the stream did not notice the unbind"; _ok=; }
    echo "$_bdf" > /sys/bus/pci/drivers/shmcam/bind || return 1
    shmcam_up && grep -q ' shmcam$' /proc/interrupts &&
        capture_verify YUYV ${W}x$H 10 && [ -n "$_ok" ]
}

check shmcam-loads-msix doorbell_up
check two-guests-stream-verified concurrent
check msix-interrupts-used msix_used
check capture-killed-both-resume capture_kill
if [ "$ROLE" = a ]; then
    check other-stopped-reader-every-frame stall_reader
else
    check stopped-reader-resumes stall_stopped
fi
check unbind-while-streaming unbind_rebind
finish
