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
# the header) that read the same twice with an even, non-zero seq: a
# complete frame, seen from outside as the seqlock protocol sees it.
slot_stamps() {
    od -An -v -t u4 -w64 -j 224 -N 1024 "/dev/shm/$shm" > "$runs/slots.a"
    od -An -v -t u4 -w64 -j 224 -N 1024 "/dev/shm/$shm" > "$runs/slots.b"
    paste -d '|' "$runs/slots.a" "$runs/slots.b" | awk -F '|' '
        $1 == $2 {
            split($1, v, " ")
            if (v[1] > 0 && v[1] % 2 == 0) {
                printf "%.0f %.0f %d %d %d\n", v[3] + v[4] * 4294967296,
                    v[5] + v[6] * 4294967296, v[7], v[15], v[16]
            }
        }'
}

# The frames' capture times are vivid's buffer timestamps: vivid stamps
# frame n of a stream start + n * interval on CLOCK_MONOTONIC, so one
# published frame follows the last by an exact multiple of the interval
# (more than one when vivid dropped a frame).  Publish times, taken when
# shmcam-host's poll returns, are never that exact.
stamps_paced() {
    : > "$runs/stamps"
    _i=0
    while [ $_i -lt 25 ]; do
        slot_stamps >> "$runs/stamps"
        sleep 0.2
        _i=$((_i + 1))
    done
    sort -n -u "$runs/stamps" | awk '
        seen && $1 == pf + 1 && $3 == pg && $5 > 0 {
            period = 1000000000 * $4 / $5
            d = $2 - pt
            n++
            if (d <= 0 || d % period != 0) {
                bad++
                printf "frame %d: %.0f ns after frame %d, not a multiple " \
                    "of the %.0f ns interval\n", $1, d, pf, period
            }
        }
        { seen = 1; pf = $1; pt = $2; pg = $3 }
        END {
            printf "slot timestamps: %d steps from one frame to the next, " \
                "%d off the frame interval\n", n, bad
            exit !(n >= 8 && !bad)
        }'
}

rc=0
"$VM_SRC/run-vm.sh" --kernel "$kernel" --test camera-sink --shm-shared "$shm" \
    --dir "$runs/camera-sink-$abi" || rc=1
if stamps_paced; then
    echo "SHMCAM-CHECK: PASS camera-timestamps-paced"
else
    echo "SHMCAM-CHECK: FAIL camera-timestamps-paced"
    sort -n -u "$runs/stamps"
    rc=1
fi
echo ok > "$runs/camera-source-$abi/ctl.in"
wait $a || rc=1
cat "$runs/camera-source-$abi.out"
exit $rc
