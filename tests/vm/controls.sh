#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# controls.sh KERNEL: the controls group.  One guest on an ivshmem region
# that the test pattern publishes with its four controls (--controls=all);
# its checks are guest/controls.sh.  run-vm.sh runs shmcam-host and
# restarts or stops it on request; this script answers the requests that
# need the host's view of the region (the guest's shmcam.ko holds the
# BAR, so shmcam-dump cannot map it in there):
#   host-ctrl-is NAME VALUE   shmcam-dump --controls on the host shows
#                             control NAME with value VALUE
#   host-ctrl-set NAME=VALUE  shmcam-dump --set-ctrl from a consumer area
#                             of its own: a change made elsewhere
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=${1:-6.12}
abi=$(kabi_of "$kernel")
dir=$VM_DIR/runs/controls-$abi
out=$dir.out
events=$dir.host.log
shm=shmcam-vm-controls-$$
# No request of an earlier run may be taken for one of this run.
rm -rf "$dir" "$events"

"$VM_SRC/prepare.sh" "$kernel" ||
    echo "shmcam.ko did not build for $abi: its checks will fail" >&2

vm=
cleanup() {
    if [ -n "$vm" ]; then
        kill "$vm" 2>/dev/null || true
        wait "$vm" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$VM_SRC/run-vm.sh" --kernel "$kernel" --test controls --dir "$dir" \
    --shm "$shm" --producer "--pattern --shm $shm --size 640x480 --format YUYV --controls=all" \
    > "$out" 2>&1 &
vm=$!

# ctrl_is NAME VALUE: the producer's table says NAME has VALUE.
ctrl_is() {
    "$BUILD_DIR/hw/shmcam-dump" --shm "$shm" --controls > "$dir.ctrls" 2>&1 ||
        { cat "$dir.ctrls"; return 1; }
    cat "$dir.ctrls"
    grep -Eq "^ *$1 0x[0-9a-f]+ \(.*value=$2( |\$)" "$dir.ctrls"
}

served=0
while kill -0 "$vm" 2>/dev/null; do
    if [ -f "$dir/console.log" ]; then
        req=$(host_requests "$dir/console.log" | sed -n "$((served + 1))p")
        if [ -n "$req" ]; then
            served=$((served + 1))
            case "$req" in
            "SHMCAM-HOST: host-ctrl-is "*)
                # shellcheck disable=SC2086 # NAME VALUE
                if ctrl_is ${req#SHMCAM-HOST: host-ctrl-is } >> "$events" 2>&1; then
                    reply=ok
                else
                    reply="the host's table says otherwise"
                fi ;;
            "SHMCAM-HOST: host-ctrl-set "*)
                if "$BUILD_DIR/hw/shmcam-dump" --shm "$shm" --set-ctrl \
                        "${req#SHMCAM-HOST: host-ctrl-set }" >> "$events" 2>&1; then
                    reply=ok
                else
                    reply="shmcam-dump --set-ctrl failed: $(tail -n 1 "$events")"
                fi ;;
            *) reply= ;;
            esac
            if [ -n "$reply" ]; then
                timeout 10 sh -c 'echo "$1" > "$2"' sh "$reply" \
                    "$dir/ctl.in" || true
                echo "$(date +%T) $req -> $reply" >> "$events"
            fi
        fi
    fi
    sleep 0.2
done
rc=0
wait "$vm" || rc=1
vm=
cat "$out"
if [ -s "$events" ]; then
    echo "---- host side ----"
    cat "$events"
fi
exit $rc
