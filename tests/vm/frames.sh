#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# frames.sh [KERNEL]: make bench's in-guest cost of a frame (guest/frames.sh
# measures it), as ratios to a memcpy of the same bytes in the same guest:
# a camera's frame from capture to slot, captured straight into the slot
# (USERPTR) or into the camera's buffer and copied (MMAP), vivid being the
# camera; and shmcam.ko's delivery of a frame out of the BAR into the
# application's buffer, while this host publishes the test pattern into
# the BAR at 3840x2160 (the guest asks for the smaller sizes).  Absolute
# figures are TCG's unless KVM is there (docs/performance.rst).
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
abi=$(kabi_of "$kernel")
dir=$VM_DIR/runs/frames-$abi
shm=shmcam-frames-$$
rm -rf "$dir"
mkdir -p "$dir"

cleanup() {
    rm -f "/dev/shm/$shm"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$VM_SRC/prepare.sh" "$kernel"

# 3 slots of 3840x2160 YUYV need 48 MiB and some: a 64 MiB region, which
# the guest asks this host to publish into when it gets there.
(umask 077 && truncate -s 64M "/dev/shm/$shm")

rc=0
# Two vCPUs: vivid's thread draws its frames on one, shmcam-host
# publishes them on the other.
"$VM_SRC/run-vm.sh" --kernel "$kernel" --test frames --shm-shared "$shm" \
    --shm-size 64M --smp 2 --mem 1536 --timeout 1200 --dir "$dir/guest" \
    > "$dir/guest.out" 2>&1 || rc=1
cat "$dir/guest.out"
grep -ao 'SHMCAM-BENCH: .*' "$dir/guest/console.log" | tr -d '\r' |
    sed 's/^SHMCAM-BENCH: //' > "$dir/results"

# "WHAT SIZE HOW frames N bytes_per_frame B us_per_frame U memcpy_warm W
#  memcpy_cold C movsb M"
echo
echo "a frame's cost in a guest $abi ($("$VM_SRC/kvm-probe.sh")), YUYV," \
    "as ratios to a memcpy of its bytes in the same guest (us: microseconds)"
echo
echo "camera (vivid) to slot, shmcam-host --camera:"
printf '%-10s %9s %9s | %9s %6s %9s | %9s %6s %9s\n' size "memcpy" "memcpy" \
    "USERPTR" "ratio" "bytes" "MMAP" "ratio" "bytes"
printf '%-10s %9s %9s | %9s %6s %9s | %9s %6s %9s\n' "" "warm us" "cold us" \
    "us" "cold" "copied" "us" "cold" "copied"
awk '$1 == "camera" { k = $2; seen[k] = 1; order[k] = order[k] ? order[k] : ++n
         us[k, $3] = $9; by[k, $3] = $7; w[k] = $11; c[k] = $13 }
     END { for (i = 1; i <= n; i++) for (k in order) if (order[k] == i)
         printf "%-10s %9s %9s | %9s %6.2f %9s | %9s %6.2f %9s\n", k, w[k], c[k],
             us[k, "auto"], us[k, "auto"] / c[k], by[k, "auto"],
             us[k, "mmap"], us[k, "mmap"] / c[k], by[k, "mmap"] }' "$dir/results"
echo
echo "delivery by shmcam.ko, out of the BAR into the application's buffer"
echo "(movsb: the warm copy made by rep movsb, the kernel's way of copying):"
printf '%-10s %9s %9s %9s | %9s %6s %6s %6s\n' size "memcpy" "memcpy" "movsb" \
    "delivery" "ratio" "ratio" "ratio"
printf '%-10s %9s %9s %9s | %9s %6s %6s %6s\n' "" "warm us" "cold us" "us" \
    "us" "warm" "cold" "movsb"
awk '$1 == "deliver" {
         printf "%-10s %9s %9s %9s | %9s %6.2f %6.2f %6.2f\n", $2, $11, $13,
             $15, $9, $9 / $11, $9 / $13, $9 / $15 }' "$dir/results" | sort -t x -n -k1,1
[ "$(grep -c . "$dir/results")" = 9 ] || rc=1
exit $rc
