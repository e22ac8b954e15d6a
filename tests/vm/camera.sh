#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# camera.sh KERNEL: the camera source against a real V4L2 driver.  Guest A
# (guest/camera-source.sh) runs shmcam-host --camera on vivid, publishing
# into its ivshmem BAR; guest B (guest/camera-sink.sh), sharing the same
# /dev/shm file, captures through shmcam.ko.  Then, while A still
# publishes, the slots' timestamps must be vivid's own (stamps_paced).
# Passes when both guests and that check do.
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
abi=$(kabi_of "$kernel")
shm=shmcam-vm-camera-$$
runs=$VM_DIR/runs
stamps=$runs/camera-$abi.stamps
rm -rf "$runs/camera-source-$abi" "$runs/camera-sink-$abi"
mkdir -p "$runs"

"$VM_SRC/run-vm.sh" --kernel "$kernel" --test camera-source --shm "$shm" \
    --dir "$runs/camera-source-$abi" > "$runs/camera-source-$abi.out" 2>&1 &
a=$!
# Stopped with this script (meson's hang guard), guest A goes too.
trap 'kill $a 2>/dev/null || true' EXIT
trap 'exit 1' INT TERM

# Guest B boots once A publishes and waits for it ("wait-peer").
i=0
while ! grep -aq 'SHMCAM-HOST: wait-peer' "$runs/camera-source-$abi/console.log" 2>/dev/null; do
    if ! kill -0 $a 2>/dev/null || [ $i -ge 3000 ]; then
        kill $a 2>/dev/null || true
        wait $a || true
        cat "$runs/camera-source-$abi.out"
        die "the camera source guest did not start publishing"
    fi
    sleep 0.2
    i=$((i + 1))
done

# slot_stamps: "FRAME TIMESTAMP_NS FORMAT_GEN NUMERATOR DENOMINATOR" of
# each slot descriptor (struct shmcam_slot: 16 of 64 bytes at offset 224 of
# the header) that read the same twice with an even seq and data in it
# (bytesused 0: a slot the layout cleared): a complete frame, seen from
# outside as the seqlock protocol sees it.  The 64-bit fields are put
# together in the shell's 64-bit arithmetic.
slot_stamps() {
    od -An -v -t u4 -w64 -j 224 -N 1024 "/dev/shm/$shm" > "$stamps.a"
    od -An -v -t u4 -w64 -j 224 -N 1024 "/dev/shm/$shm" > "$stamps.b"
    paste -d '|' "$stamps.a" "$stamps.b" |
        awk -F '|' '$1 == $2 { print $1 }' |
        while read -r _seq _used _flo _fhi _tlo _thi _gen _fl _pf _w _h _bpl \
                _si _cs _num _den; do
            [ $((_seq % 2)) = 0 ] && [ "$_used" -gt 0 ] || continue
            echo "$((_fhi * 4294967296 + _flo)) $((_thi * 4294967296 + _tlo))" \
                "$_gen $_num $_den"
        done
}

# The frames' capture times are vivid's buffer timestamps.  The source
# guest set vivid's "Wrap Timestamp" control to 32 bits, so that vivid
# stamps its buffers from (2^31 - 16) s on, 68 years past the guest's
# uptime that publish times would show; and they come as whole
# microseconds (a V4L2 timeval).  From one frame to the next they step
# by about the frame interval.
VIVID_WRAP_NS=$(((2147483648 - 16) * 1000000000))
stamps_paced() {
    : > "$stamps"
    _i=0
    while [ $_i -lt 25 ]; do
        slot_stamps >> "$stamps"
        sleep 0.2
        _i=$((_i + 1))
    done
    _n=0
    _bad=0
    _pf=
    sort -n -u "$stamps" > "$stamps.sorted"
    while read -r _f _t _g _num _den; do
        if [ "$_t" -lt $VIVID_WRAP_NS ] ||
           [ "$_t" -gt $((VIVID_WRAP_NS + 3600000000000)) ] ||
           [ $((_t % 1000)) != 0 ]; then
            echo "frame $_f: timestamp $_t ns is not vivid's" \
                "(whole microseconds from $VIVID_WRAP_NS)"
            _bad=$((_bad + 1))
        fi
        if [ -n "$_pf" ] && [ "$_f" = $((_pf + 1)) ] && [ "$_g" = "$_pg" ] &&
           [ "$_den" -gt 0 ]; then
            _period=$((1000000000 * _num / _den))
            _d=$((_t - _pt))
            _n=$((_n + 1))
            if [ $_d -lt $((_period / 2)) ] ||
               [ $_d -gt $((_period * 10)) ]; then
                echo "frame $_f: $_d ns after frame $_pf," \
                    "at $_period ns per frame"
                _bad=$((_bad + 1))
            fi
        fi
        _pf=$_f
        _pt=$_t
        _pg=$_g
    done < "$stamps.sorted"
    echo "slot timestamps: $(wc -l < "$stamps.sorted") frames," \
        "$_n steps from one to the next, $_bad wrong"
    [ $_n -ge 8 ] && [ $_bad = 0 ]
}

rc=0
"$VM_SRC/run-vm.sh" --kernel "$kernel" --test camera-sink --shm-shared "$shm" \
    --dir "$runs/camera-sink-$abi" || rc=1
if stamps_paced; then
    echo "SHMCAM-CHECK: PASS camera-timestamps-paced"
else
    echo "SHMCAM-CHECK: FAIL camera-timestamps-paced"
    cat "$stamps.sorted"
    rc=1
fi
echo ok > "$runs/camera-source-$abi/ctl.in"
wait $a || rc=1
cat "$runs/camera-source-$abi.out"
exit $rc
