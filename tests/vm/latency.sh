#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# latency.sh BENCH-LATENCY [KERNEL]: make bench's delivery latency, from
# publish to the frame being ready to dequeue in the guest, on the host's
# clock (tests/bench/bench-latency.c explains how).  One guest at a time
# streams 320x240 YUYV at 30 fps (guest/bench.sh: streams of 20 frames,
# one after the other) while bench-latency watches its consumer area,
# first under ivshmem-doorbell (MSI-X for each frame, shmcam-host
# --listen), then under ivshmem-plain (the driver polls 4 times per frame
# interval, its default).  Prints both and their ratio.
set -e
. "$(dirname -- "$0")/lib.sh"

observer=${1:?usage: latency.sh BENCH-LATENCY [KERNEL]}
kernel=${2:-6.12}
abi=$(kabi_of "$kernel")
samples=${SAMPLES:-360}
producer="--pattern --size 320x240 --format YUYV --fps 30"
dir=$VM_DIR/runs/latency-$abi
rm -rf "$dir"
mkdir -p "$dir"
tmp=$(mktemp -d /tmp/shmcam-bench.XXXXXX)
shm=shmcam-bench-$$

host=
vm=
cleanup() {
    [ -n "$vm" ] && kill "$vm" 2>/dev/null
    if [ -n "$host" ]; then
        kill "$host" 2>/dev/null
        wait "$host" 2>/dev/null
    fi
    rm -rf "$tmp" "/dev/shm/$shm"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$VM_SRC/prepare.sh" "$kernel"

# host_up LOG ARGS...: start shmcam-host, wait until it publishes.
host_up() {
    _log=$1
    shift
    "$BUILD_DIR/hw/shmcam-host" "$@" > "$_log" 2>&1 &
    host=$!
    _i=0
    until grep -q ': streaming$' "$_log"; do
        if ! kill -0 "$host" 2>/dev/null || [ $_i -ge 100 ]; then
            cat "$_log"
            die "shmcam-host $* did not start"
        fi
        sleep 0.1
        _i=$((_i + 1))
    done
}

host_down() {
    kill "$host"
    wait "$host" || true
    host=
}

# measure NAME REGION RUN-VM-ARGS...: boot the guest, sample, stop it.
measure() {
    _name=$1
    _region=$2
    shift 2
    "$VM_SRC/run-vm.sh" --kernel "$kernel" --test bench --dir "$dir/$_name" \
        --env SEGMENT=20 "$@" > "$dir/$_name.out" 2>&1 &
    vm=$!
    _rc=0
    "$observer" --region "$_region" --label "$_name" --samples "$samples" \
        --skip 5 --timeout 300 > "$dir/$_name.result" || _rc=1
    # The guest streams until told that the samples are in.
    timeout 10 sh -c 'echo ok > "$1"' sh "$dir/$_name/ctl.in" || true
    wait "$vm" || _rc=1
    vm=
    cat "$dir/$_name.out"
    grep -ao 'SHMCAM-BENCH: .*' "$dir/$_name/console.log" | tr -d '\r' || true
    return $_rc
}

# ivshmem-doorbell: the region is shmcam-host's memfd, seen through
# its /proc fd.
host_up "$dir/doorbell-host.log" --listen "$tmp/ivshmem.sock" $producer
memfd=
for f in /proc/"$host"/fd/*; do
    case "$(readlink "$f")" in
    /memfd:*) memfd=$f; break ;;
    esac
done
[ -n "$memfd" ] || die "no memfd among shmcam-host's files"
measure doorbell "$memfd" --doorbell "$tmp/ivshmem.sock"
host_down

# ivshmem-plain: a /dev/shm file, as the other VM tests use.
(umask 077 && truncate -s 32M "/dev/shm/$shm")
host_up "$dir/plain-host.log" --shm "$shm" $producer
measure plain "/dev/shm/$shm" --shm-shared "$shm"
host_down

# "latency NAME median M mean M p90 M p99 M min M max M samples N ..."
field() {
    sed -n "s/.* $1 \([0-9.]*\).*/\1/p" "$dir/$2.result"
}
echo
echo "publish to dequeue, 320x240 YUYV at 30 fps, guest $abi" \
    "($("$VM_SRC/kvm-probe.sh")), ms on the host's clock"
printf '%-30s %8s %8s %8s %8s %8s %8s\n' delivery median mean p90 p99 max samples
for m in doorbell plain; do
    case $m in
    doorbell) what="doorbell (MSI-X per frame)" ;;
    plain) what="plain (polls 4x per frame)" ;;
    esac
    printf '%-30s %8s %8s %8s %8s %8s %8s\n' "$what" "$(field median $m)" \
        "$(field mean $m)" "$(field p90 $m)" "$(field p99 $m)" \
        "$(field max $m)" "$(field samples $m)"
done
awk -v d="$(field median doorbell)" -v p="$(field median plain)" \
    -v dm="$(field mean doorbell)" -v pm="$(field mean plain)" 'BEGIN {
    printf "polling / doorbell: %.2f (median), %.2f (mean)\n", p / d, pm / dm }'
