# SPDX-License-Identifier: GPL-2.0-or-later
#
# The guest of make bench's latency run (tests/vm/latency.sh): while the
# host watches this guest's consumer area, stream the producer's format
# with v4l2-ctl, $SEGMENT frames at a time, one stream after the other
# (so that a polling driver's phase is drawn again at each start), until
# the host has its samples.  Frames, drops and rate come from the
# buffers' sequence numbers and timestamps.

bench_stream() {
    rm -f /tmp/stop /tmp/seq
    (
        while [ ! -e /tmp/stop ]; do
            v4l2-ctl -d "$DEV" --verbose --stream-mmap --stream-count="$SEGMENT" \
                --stream-to=/dev/null > /tmp/stream.out 2>&1 || break
            # "cap dqbuf: INDEX seq: N bytesused: B ts: SEC.USEC ..."
            sed -n 's/.*dqbuf: *[0-9]* *seq: *\([0-9]*\).*ts: *\([0-9.]*\).*/\1 \2/p' \
                /tmp/stream.out | awk 'NR == 1 { s0 = $1; t0 = $2 }
                    { n++; s = $1; t = $2 }
                    END { print n, s - s0 + 1 - n, t - t0 }' >> /tmp/seq
        done
    ) &
    _bg=$!
    HOST_WAIT=300 host_cmd bench-done
    _rc=$?
    : > /tmp/stop
    wait $_bg
    # One line per stream: frames, drops, seconds from first to last.
    awk '{ n += $1; d += $2; t += $3; k++ }
         END { printf "SHMCAM-BENCH: %d streams, frames %d drops %d fps %.2f\n",
                      k, n, d, (t > 0 ? (n - k) / t : 0) }' /tmp/seq
    [ "$_rc" = 0 ] && [ -s /tmp/seq ]
}

check shmcam-loads shmcam_up
check bench-stream bench_stream
finish
