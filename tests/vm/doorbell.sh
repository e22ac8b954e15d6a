#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# doorbell.sh KERNEL [--isolate] [--qemu PATH] [--dir DIR]: two guests on
# one shmcam-host --listen, each with an ivshmem-doorbell device
# (guest/doorbell.sh, ROLE a and b), sharing one region or, with
# --isolate, each with a region of its own; --qemu is run-vm.sh's, for
# both guests; DIR is the run directory [build/vm/runs/NAME-ABI].
# This script runs shmcam-host, boots both guests at once, and answers
# the requests that concern both of them:
#   sync NAME       answered once both guests asked for it (a barrier)
#   capture-kill    a barrier too: kill -9 of shmcam-host's capture
#                   process, answered once its supervisor started another
# A guest that ends while the other waits makes the other's request
# fail.  Passes when both guests do.
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
[ $# -gt 0 ] && shift
isolate=
name=doorbell
qemu=
dir=
while [ $# -gt 0 ]; do
    case "$1" in
    --isolate) isolate=--isolate; name=doorbell-isolate ;;
    --qemu) qemu=$2; shift ;;
    --dir) dir=$2; shift ;;
    *) die "usage: doorbell.sh KERNEL [--isolate] [--qemu PATH] [--dir DIR]" ;;
    esac
    shift
done
abi=$(kabi_of "$kernel")
dir=${dir:-$VM_DIR/runs/$name-$abi}
rm -rf "$dir"
mkdir -p "$dir"
# A socket path must stay short (108 bytes): not under the build tree.
sockdir=$(mktemp -d /tmp/shmcam-vm.XXXXXX)
sock=$sockdir/ivshmem.sock
hostlog=$dir/shmcam-host.log
events=$dir/host.log

host=
pid_a=
pid_b=
cleanup() {
    for _p in $pid_a $pid_b; do
        kill "$_p" 2>/dev/null || true
    done
    if [ -n "$host" ]; then
        kill "$host" 2>/dev/null || true
        wait "$host" 2>/dev/null || true
    fi
    rm -rf "$sockdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# capture_count: capture processes the supervisor has started so far.
capture_count() {
    grep -c 'capture process [0-9]* started' "$hostlog" || true
}

# 8 slots: a guest that emulation holds up for up to 0.2 s still finds
# the frames it has not taken.
"$BUILD_DIR/hw/shmcam-host" --listen "$sock" $isolate --pattern \
    --size 320x240 --format YUYV --fps 30 --slots 8 > "$hostlog" 2>&1 &
host=$!
# Ready once it listens and its capture process publishes (hang guard).
i=0
until [ -S "$sock" ] && [ "$(capture_count)" -ge 1 ] &&
      grep -q ': streaming$' "$hostlog"; do
    if ! kill -0 "$host" 2>/dev/null || [ $i -ge 100 ]; then
        cat "$hostlog"
        die "shmcam-host --listen did not start"
    fi
    sleep 0.1
    i=$((i + 1))
done

for r in a b; do
    "$VM_SRC/run-vm.sh" --kernel "$kernel" --test doorbell \
        --doorbell "$sock" --env ROLE=$r --dir "$dir/$r" \
        ${qemu:+--qemu "$qemu"} \
        > "$dir/$r.out" 2>&1 &
    eval "pid_$r=\$!"
done

# kill -9 of the capture process; 0 once another one runs.
capture_kill() {
    _n=$(capture_count)
    _pid=$(sed -n 's/.*capture process \([0-9]*\) started.*/\1/p' "$hostlog" |
           tail -n 1)
    [ -n "$_pid" ] || { echo "no capture process in $hostlog"; return 1; }
    kill -KILL "$_pid" || return 1
    echo "$(date +%T.%N) capture process $_pid killed" >> "$events"
    _i=0
    while [ "$(capture_count)" -le "$_n" ]; do
        [ $_i -ge 300 ] && { echo "no new capture process after 30 s"; return 1; }
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "$(date +%T.%N) capture process restarted:" \
        "$(grep 'capture process [0-9]* started' "$hostlog" | tail -n 1)" >> "$events"
}

# answer GUEST TEXT REQUEST: (a write to the pipe of a guest that just
# ended would block: a hang guard.)
answer() {
    timeout 10 sh -c 'echo "$1" > "$2"' sh "$2" "$dir/$1/ctl.in" || true
    echo "$(date +%T.%N) $1: $3 -> $2" >> "$events"
}

# Requests of each guest as they come; an action once both made the same.
# (set and read through eval)
# shellcheck disable=SC2034,SC2154
served_a=0
served_b=0
want_a=
want_b=
while kill -0 "$pid_a" 2>/dev/null || kill -0 "$pid_b" 2>/dev/null; do
    for r in a b; do
        eval "_want=\$want_$r _served=\$served_$r _pid=\$pid_$r"
        if [ -z "$_want" ] && [ -f "$dir/$r/console.log" ]; then
            _next=$(host_requests "$dir/$r/console.log" |
                    sed -n "$((_served + 1))p")
            if [ -n "$_next" ]; then
                eval "want_$r=\${_next#SHMCAM-HOST: } served_$r=$((_served + 1))"
            fi
        fi
        # A guest that ended leaves the other alone: fail its request.
        eval "_want=\$want_$r"
        if [ -n "$_want" ] &&
           { ! kill -0 "$pid_a" 2>/dev/null || ! kill -0 "$pid_b" 2>/dev/null; }; then
            kill -0 "$_pid" 2>/dev/null && answer $r "the other guest ended" "$_want"
            eval "want_$r="
        fi
    done
    if [ -n "$want_a" ] && [ "$want_a" = "$want_b" ]; then
        case "$want_a" in
        "sync "*) reply=ok ;;
        capture-kill)
            if capture_kill >> "$events" 2>&1; then
                reply=ok
            else
                reply="capture-kill failed"
            fi ;;
        *) reply="unknown request" ;;
        esac
        answer a "$reply" "$want_a"
        answer b "$reply" "$want_b"
        want_a=
        want_b=
    elif [ -n "$want_a" ] && [ -n "$want_b" ]; then
        answer a "out of step: b asked '$want_b'" "$want_a"
        answer b "out of step: a asked '$want_a'" "$want_b"
        want_a=
        want_b=
    fi
    sleep 0.1
done

rc=0
wait "$pid_a" || rc=1
wait "$pid_b" || rc=1
pid_a=
pid_b=
for r in a b; do
    echo "---- guest $r ----"
    cat "$dir/$r.out"
    grep -ao 'SHMCAM-MEASURE: .*' "$dir/$r/console.log" | tr -d '\r' || true
done
echo "---- shmcam-host ----"
cat "$hostlog"
echo "---- requests ----"
cat "$events"
exit $rc
