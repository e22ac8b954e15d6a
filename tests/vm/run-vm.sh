#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-vm.sh [options]: boot one test guest and report its verdict.
#
#   --kernel ABI        kernel to boot (6.12, 6.1 or a full ABI) [6.12]
#   --test NAME         guest test tests/vm/guest/NAME.sh [smoke]
#   --shm NAME          attach an ivshmem-plain device backed by
#                       /dev/shm/NAME (32 MiB, created zeroed, removed after)
#   --shm-shared NAME   the same, sharing a file another guest created
#   --shm-backend NAME  attach an ivshmem-plain device whose memory is a
#                       memory-backend-shm named /NAME (32 MiB) that QEMU
#                       creates and removes when it exits; QEMU starts
#                       paused, --producer is started once the region
#                       exists (and attaches to it), then the guest runs
#   --memdev-shm ID     attach an ivshmem-plain device whose memory is a
#                       stock memory-backend-shm with id ID (32 MiB, no
#                       name: QEMU's alone), with QMP on DIR/qmp.sock;
#                       QEMU starts paused, --producer is started once the
#                       backend exists, with --qemu-memdev QEMU_PID:ID
#                       added, then the guest runs; producer-start and
#                       -restart add --qemu-memdev DIR/qmp.sock:ID (QEMU's
#                       process id is in DIR/qemu.pid)
#   --pci SOCKET        attach a shmcam-pci device on a memory-backend-shm
#                       (32 MiB) whose chardev connects to SOCKET, served
#                       by shmcam-host --pci-listen SOCKET
#   --qemu PATH         the QEMU binary [qemu-system-x86_64, or with
#                       --shm-backend and --pci the one make qemu builds,
#                       build/qemu-build/qemu-system-x86_64]
#   --doorbell SOCKET   attach an ivshmem-doorbell device (one MSI-X
#                       vector) whose ivshmem server, normally
#                       shmcam-host --listen SOCKET, listens on SOCKET
#   --doorbell-server 'CMD'  run CMD, another ivshmem server that listens
#                       on the --doorbell SOCKET, before QEMU starts
#                       (stopped after)
#   --region NAME       create /dev/shm/NAME (32 MiB, zeroed, 0600, removed
#                       after) without a device of its own: the memory a
#                       --doorbell-server serves
#   --blank NAME        attach one more ivshmem-plain device on a zeroed
#                       /dev/shm/NAME that nobody publishes into yet
#                       (repeatable; removed after)
#   --append ARGS       more kernel command line
#   --trace EVENT       QEMU's -trace EVENT, into DIR/qemu.log (repeatable)
#   --s3                let the guest suspend to RAM (S3): a guest that
#                       asks "wakeup-after MS" is woken MS milliseconds
#                       later through the monitor
#   --producer 'ARGS'   run build/hw/shmcam-host ARGS while the guest runs
#                       (started before QEMU, or with --shm-backend before
#                       the guest; stopped after it)
#   --disk FILE         a raw virtio disk (/dev/vda in the guest; /dev/vdb
#                       with --image)
#   --image FILE        boot a disk image that mkimage.sh made: FILE is the
#                       root file system (/dev/vda; the guest's writes are
#                       discarded), booted with the kernel and initrd beside
#                       it (vmlinuz, initrd.img); the guest test is
#                       tests/vm/guest-trixie/NAME.sh, carried in by the 9p
#                       share with its environment
#   --share DIR         export DIR to the guest over 9p (mount tag shmcam);
#                       with --image, DIR/guest and DIR/test are replaced
#                       by the guest tests and the test's environment
#                       [with --image: DIR/share under the run directory]
#   --mem MB            guest memory [768]
#   --shm-size SIZE     size of the --shm/--shm-shared region [32M]
#   --smp N             guest CPUs [1]
#   --env VAR=VALUE     set VAR in the guest test's environment (repeatable)
#   --timeout SECONDS   hang guard for the whole boot [500]
#   --dir DIR           run directory: console.log, producer.log, ...
#                       [build/vm/runs/NAME-ABI]
#
# The guest prints "SHMCAM-HOST: CMD ARGS" to ask this script to act and
# reads the answer ("ok" or an error) from its second serial port:
#   producer-stop | producer-kill | producer-start [ARGS] |
#   producer-restart [ARGS] | qemu-pause MS | scribble SECONDS |
#   side-start ARGS | wakeup-after MS | bigframe EVERY
# (without ARGS, those of --producer; with ARGS, ARGS --shm NAME, or
# --pci-listen SOCKET, or --listen SOCKET;
# producer-kill is SIGKILL: the region is left saying "streaming" with a
# heartbeat that no longer moves; qemu-pause holds QEMU still (SIGSTOP)
# for MS milliseconds half a second after answering, as a host that
# deschedules the vCPU, while the guest's clock goes on; scribble has
# build/tests/vm/shmcam-scribble write random values into the header of
# /dev/shm/NAME for SECONDS, as a co-tenant guest would, and answers when
# it has started; side-start runs one more shmcam-host ARGS, as given,
# until the guest powers off; wakeup-after answers, then sends
# system_wakeup MS milliseconds later (with --s3); bigframe replaces the
# producer with build/tests/vm/shmcam-bigframe on /dev/shm/NAME, the MJPEG
# pattern with every EVERY-th frame larger than its sizeimage, until the
# next producer-restart.)
# Commands it does not know are left for another script to answer by
# writing a line into DIR/ctl.in.
#
# Exit status 0 when the console shows "SHMCAM-TEST: PASS", else 1, and
# then the console log is printed.
set -e
. "$(dirname -- "$0")/lib.sh"

kernel=6.12
test=smoke
shm=
shm_owner=
shm_backend=
memdev=
pci=
qemu=
doorbell=
producer=
disk=
image=
share=
mem=768
shm_size=32M
smp=1
timeout=500
dir=
envs=
dbserver=
regions=
blanks=
append=
s3=
traces=
while [ $# -gt 0 ]; do
    case "$1" in
    --kernel) kernel=$2; shift ;;
    --test) test=$2; shift ;;
    --shm) shm=$2; shm_owner=1; shift ;;
    --shm-shared) shm=$2; shift ;;
    --shm-backend) shm=$2; shm_backend=1; shift ;;
    --memdev-shm) memdev=$2; shift ;;
    --pci) pci=$2; shift ;;
    --qemu) qemu=$2; shift ;;
    --doorbell) doorbell=$2; shift ;;
    --doorbell-server) dbserver=$2; shift ;;
    --region) regions="$regions $2"; shift ;;
    --blank) blanks="$blanks $2"; shift ;;
    --append) append="$append $2"; shift ;;
    --s3) s3=1 ;;
    --trace) traces="$traces $2"; shift ;;
    --producer) producer=$2; shift ;;
    --disk) disk=$2; shift ;;
    --image) image=$2; shift ;;
    --share) share=$2; shift ;;
    --mem) mem=$2; shift ;;
    --shm-size) shm_size=$2; shift ;;
    --smp) smp=$2; shift ;;
    --env) envs="$envs$2
"; shift ;;
    --timeout) timeout=$2; shift ;;
    --dir) dir=$2; shift ;;
    *) die "run-vm.sh: unknown option '$1'" ;;
    esac
    shift
done

if [ -z "$qemu" ]; then
    qemu="qemu-system-x86_64"
    if [ -n "$shm_backend$pci" ]; then
        qemu=$BUILD_DIR/qemu-build/qemu-system-x86_64
        # Not a skip: the groups that need it fail without it.
        [ -x "$qemu" ] || die "no $qemu: --shm-backend and --pci need" \
            "the QEMU that make qemu (or make check-qemu) builds"
    fi
fi
command -v "$qemu" > /dev/null || die "no QEMU binary $qemu"

abi=$(kabi_of "$kernel")
if [ -n "$image" ]; then
    [ -f "$image" ] || die "no disk image $image (tests/vm/mkimage.sh)"
    imgdir=$(cd "$(dirname -- "$image")" && pwd)
    for f in vmlinuz initrd.img; do
        [ -f "$imgdir/$f" ] || die "no $imgdir/$f beside $image"
    done
    guest=$VM_SRC/guest-trixie
else
    kern=$VM_DIR/kernels/$abi
    initrd=$VM_DIR/$abi/initramfs.cpio.zst
    [ -f "$initrd" ] || die "no initramfs for $abi (tests/vm/prepare.sh $kernel)"
    guest=$VM_SRC/guest
fi
[ -r "$guest/$test.sh" ] || die "no guest test $guest/$test.sh"
dir=${dir:-$VM_DIR/runs/$test-$abi}
rm -rf "$dir"
mkdir -p "$dir/extra/test"
log=$dir/console.log
: > "$log"

{
    echo "TEST=$test"
    printf '%s' "$envs" | sed "s/^\([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/\1='\2'/"
} > "$dir/extra/test/env"
if [ -n "$image" ]; then
    # The image's /usr/local/sbin/shmcam-init runs the share's guest/init,
    # which reads test/env; guest/lib.sh's helpers come along as
    # guest/common.sh.
    share=${share:-$dir/share}
    mkdir -p "$share"
    rm -rf "$share/guest" "$share/test"
    mkdir -p "$share/guest"
    cp -r "$guest"/. "$share/guest/"
    cp "$VM_SRC/guest/lib.sh" "$share/guest/common.sh"
    cp -r "$dir/extra/test" "$share/test"
else
    make_initrd "$abi" "$dir"
fi

# KVM only where a probe boot showed that Debian's kernel boots with it,
# and the QEMU has it (the one make qemu builds has TCG only).
accel="-accel tcg"
if [ "$test" != probe ] && "$qemu" -accel help | grep -qx kvm &&
   [ "$("$VM_SRC/kvm-probe.sh")" = kvm ]; then
    accel="-enable-kvm -cpu host"
fi

producer_pid=
producer_start() {
    [ -x "$BUILD_DIR/hw/shmcam-host" ] ||
        { echo "no $BUILD_DIR/hw/shmcam-host (run make)"; return 1; }
    _started=$(grep -c ': streaming$' "$dir/producer.log" 2>/dev/null || true)
    _started=${_started:-0}
    # shellcheck disable=SC2086 # ARGS are words
    "$BUILD_DIR/hw/shmcam-host" $1 >> "$dir/producer.log" 2>&1 &
    producer_pid=$!
    # Ready when it reports streaming (one more such line in its log).
    _i=0
    while [ $_i -lt 100 ]; do
        kill -0 "$producer_pid" 2>/dev/null || break
        if [ "$(grep -c ': streaming$' "$dir/producer.log")" -gt "$_started" ]; then
            return 0
        fi
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "shmcam-host $1 did not start:"
    cat "$dir/producer.log"
    return 1
}
producer_stop() {
    [ -n "$producer_pid" ] || return 0
    kill "$producer_pid" 2>/dev/null || true
    wait "$producer_pid" 2>/dev/null || true
    producer_pid=
}

side_pids=
dbserver_pid=
qemu_pid=
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
    producer_stop
    for _p in $side_pids $dbserver_pid; do
        kill "$_p" 2>/dev/null || true
        wait "$_p" 2>/dev/null || true
    done
    if [ -n "$shm_owner" ]; then rm -f "/dev/shm/$shm"; fi
    for _n in $regions $blanks; do rm -f "/dev/shm/$_n"; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -n "$image" ]; then
    # Debian's initrd mounts the image as the root; the guest's writes
    # go to a temporary file, so that every boot finds it as made.
    set -- -kernel "$imgdir/vmlinuz" -initrd "$imgdir/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 panic=-1 loglevel=6 init=/usr/local/sbin/shmcam-init" \
        -drive "file=$image,format=raw,if=virtio,snapshot=on" \
        -object rng-random,id=rng,filename=/dev/urandom \
        -device virtio-rng-pci,rng=rng
else
    set -- -kernel "$kern/vmlinuz" -initrd "$dir/initrd" \
        -append "console=ttyS0 panic=-1 loglevel=6 rdinit=/init$append"
fi
set -- -nographic -nodefaults -no-reboot $accel -m "$mem" -smp "$smp" "$@" \
    -chardev "file,id=con,path=$log" -serial chardev:con \
    -chardev "pipe,id=ctl,path=$dir/ctl" -serial chardev:ctl
[ -n "$share" ] && set -- "$@" \
    -virtfs "local,path=$share,mount_tag=shmcam,security_model=none"
mkfifo "$dir/ctl.in" "$dir/ctl.out"
if [ -n "$shm_owner" ]; then
    rm -f "/dev/shm/$shm"
    # 0600: the mode shmcam-host accepts of a region it did not create.
    (umask 077 && truncate -s "$shm_size" "/dev/shm/$shm")
fi
for _n in $regions $blanks; do
    rm -f "/dev/shm/$_n"
    (umask 077 && truncate -s 32M "/dev/shm/$_n")
done
for _t in $traces; do
    set -- "$@" -trace "$_t"
done
for _n in $blanks; do
    set -- "$@" -object "memory-backend-file,id=blank-$_n,mem-path=/dev/shm/$_n,size=32M,share=on" \
        -device "ivshmem-plain,memdev=blank-$_n"
done
if [ -n "$s3" ]; then
    # S3 is off in QEMU's i440fx by default; the monitor wakes the guest.
    mkfifo "$dir/mon.in" "$dir/mon.out"
    set -- "$@" -global PIIX4_PM.disable_s3=0 \
        -chardev "pipe,id=mon,path=$dir/mon" -mon chardev=mon,mode=readline
fi
if [ -n "$shm_backend" ]; then
    # QEMU creates the region: a name in the way is an error, not ours to
    # remove.  It waits paused (-S) until the producer has laid it out,
    # and a monitor on DIR/mon.in lets it go.
    [ ! -e "/dev/shm/$shm" ] ||
        die "/dev/shm/$shm exists: QEMU would refuse to create it"
    mkfifo "$dir/mon.in" "$dir/mon.out"
    set -- "$@" -object "memory-backend-shm,id=cam,size=32M,name=/$shm" \
        -device ivshmem-plain,memdev=cam -S \
        -chardev "pipe,id=mon,path=$dir/mon" -mon chardev=mon,mode=readline
elif [ -n "$memdev" ]; then
    # Stock QEMU's own memory: nothing in /dev/shm, the producer takes it
    # from QEMU's descriptors.  Paused (-S) until the producer runs.
    mkfifo "$dir/mon.in" "$dir/mon.out"
    set -- "$@" -object "memory-backend-shm,id=$memdev,size=32M,share=on" \
        -device "ivshmem-plain,memdev=$memdev" -S \
        -qmp "unix:$dir/qmp.sock,server=on,wait=off" \
        -chardev "pipe,id=mon,path=$dir/mon" -mon chardev=mon,mode=readline
elif [ -n "$shm" ]; then
    set -- "$@" -object "memory-backend-file,id=cam,mem-path=/dev/shm/$shm,size=$shm_size,share=on" \
        -device ivshmem-plain,memdev=cam
fi
[ -n "$pci" ] && set -- "$@" -object memory-backend-shm,id=cam,size=32M \
    -chardev "socket,id=cams,path=$pci,reconnect-ms=1000" \
    -device shmcam-pci,memdev=cam,chardev=cams
[ -n "$disk" ] && set -- "$@" -drive "file=$disk,format=raw,if=virtio"
# QEMU takes the region and the peers from the server as it starts, so
# the server must listen before then (--producer is started just below).
[ -n "$doorbell" ] && set -- "$@" -chardev "socket,id=ivs,path=$doorbell" \
    -device ivshmem-doorbell,chardev=ivs,vectors=1

# What a guest's producer-restart ARGS add to say where to publish.
if [ -n "$memdev" ]; then
    region_args="--qemu-memdev $dir/qmp.sock:$memdev"
elif [ -n "$pci" ]; then
    region_args="--pci-listen $pci"
elif [ -n "$doorbell" ] && [ -z "$shm" ]; then
    region_args="--listen $doorbell"
else
    region_args="--shm $shm"
fi

if [ -n "$dbserver" ]; then
    rm -f "$doorbell"
    # shellcheck disable=SC2086 # CMD is words
    $dbserver >> "$dir/dbserver.log" 2>&1 &
    dbserver_pid=$!
    _i=0
    while [ ! -S "$doorbell" ] && [ $_i -lt 100 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    [ -S "$doorbell" ] || die "--doorbell-server '$dbserver' made no $doorbell"
fi
if [ -n "$producer" ] && [ -z "$shm_backend$memdev" ]; then
    producer_start "$producer" >&2 || exit 1
fi

step "booting $abi: test $test (${accel#-}, $qemu)"
"$qemu" "$@" > "$dir/qemu.log" 2>&1 &
qemu_pid=$!

# wait_region: until QEMU has made /dev/shm/$shm its full 32 MiB; fails
# (with QEMU's log) when QEMU exits first.
wait_region() {
    _i=0
    while [ $_i -lt 300 ]; do
        kill -0 "$qemu_pid" 2>/dev/null || break
        [ "$(stat -c %s "/dev/shm/$shm" 2>/dev/null)" = 33554432 ] &&
            return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "QEMU did not create /dev/shm/$shm:"
    cat "$dir/qemu.log"
    return 1
}
# memdev_link: what QEMU's descriptor of its unnamed shm object (the
# backend) names; fails while it has none.
memdev_link() {
    for _f in "/proc/$qemu_pid/fd/"*; do
        _l=$(readlink "$_f" 2>/dev/null) || continue
        case "$_l" in
        "/dev/shm/qemu-"*"-shm-"*" (deleted)") echo "$_l"; return 0 ;;
        esac
    done
    return 1
}
# wait_memdev: until QEMU holds the backend and serves QMP; fails (with
# QEMU's log) when QEMU exits first.
wait_memdev() {
    _i=0
    while [ $_i -lt 300 ]; do
        kill -0 "$qemu_pid" 2>/dev/null || break
        if [ -S "$dir/qmp.sock" ] && memdev_link > /dev/null; then
            return 0
        fi
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "QEMU made no memory-backend-shm $memdev:"
    cat "$dir/qemu.log"
    return 1
}
if [ -n "$memdev" ]; then
    echo "$qemu_pid" > "$dir/qemu.pid"
    wait_memdev >&2 || exit 1
    step "QEMU $qemu_pid holds memory-backend-shm $memdev: $(memdev_link)"
    if [ -n "$producer" ]; then
        producer_start "$producer --qemu-memdev $qemu_pid:$memdev" >&2 ||
            exit 1
        # Restarts find it through QMP.
        producer="$producer $region_args"
    fi
    echo cont > "$dir/mon.in"
fi
if [ -n "$shm_backend" ]; then
    wait_region >&2 || exit 1
    step "QEMU created /dev/shm/$shm: $(stat -c '%A %U %s bytes' "/dev/shm/$shm")"
    if [ -n "$producer" ]; then
        producer_start "$producer" >&2 || exit 1
    fi
    echo cont > "$dir/mon.in"
fi

# Serve the guest's requests until it powers off; the hang guard kills it.
start=$(date +%s)
served=0
while kill -0 "$qemu_pid" 2>/dev/null; do
    if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
        echo "SHMCAM-TEST: FAIL $test hang guard: no power off after ${timeout}s" >> "$log"
        kill "$qemu_pid" 2>/dev/null
        break
    fi
    reqs=$(host_requests "$log" | sed -n "$((served + 1)),\$p")
    if [ -n "$reqs" ]; then
        # A here-document, not a pipe: the loop must run in this shell to
        # keep producer_pid.
        while read -r _tag cmd args; do
            case "$cmd" in
            producer-stop) producer_stop; answer=ok ;;
            producer-kill)
                kill -KILL "$producer_pid" 2>/dev/null || true
                wait "$producer_pid" 2>/dev/null || true
                producer_pid=
                answer=ok ;;
            producer-start|producer-restart)
                producer_stop
                pargs=$producer
                [ -n "$args" ] && pargs="$args $region_args"
                if producer_start "$pargs" >> "$dir/host.log" 2>&1; then
                    answer=ok
                else
                    answer="producer failed to start"
                fi ;;
            side-start)
                # shellcheck disable=SC2086 # ARGS are words
                "$BUILD_DIR/hw/shmcam-host" $args >> "$dir/side.log" 2>&1 &
                side_pids="$side_pids $!"
                answer=ok ;;
            wakeup-after)
                if [ -n "$s3" ]; then
                    ( sleep "$(awk -v ms="$args" 'BEGIN { print ms / 1000 }')"
                      echo system_wakeup > "$dir/mon.in" ) &
                    answer=ok
                else
                    answer="no --s3"
                fi ;;
            qemu-pause)
                ( sleep 0.5; kill -STOP "$qemu_pid"
                  sleep "$(awk -v ms="$args" 'BEGIN { print ms / 1000 }')"
                  kill -CONT "$qemu_pid" ) &
                answer=ok ;;
            bigframe)
                producer_stop
                if [ -x "$BUILD_DIR/tests/vm/shmcam-bigframe" ] &&
                   [ -n "$shm" ]; then
                    "$BUILD_DIR/tests/vm/shmcam-bigframe" "/dev/shm/$shm" \
                        "$args" >> "$dir/producer.log" 2>&1 &
                    producer_pid=$!
                    answer=ok
                else
                    answer="no build/tests/vm/shmcam-bigframe or no --shm"
                fi ;;
            scribble)
                if [ -x "$BUILD_DIR/tests/vm/shmcam-scribble" ] &&
                   [ -n "$shm" ]; then
                    "$BUILD_DIR/tests/vm/shmcam-scribble" "/dev/shm/$shm" \
                        "$args" >> "$dir/host.log" 2>&1 &
                    answer=ok
                else
                    answer="no build/tests/vm/shmcam-scribble or no --shm"
                fi ;;
            *) answer= ;;
            esac
            [ -n "$answer" ] && echo "$answer" > "$dir/ctl.in"
            echo "$(date +%T) $cmd $args -> ${answer:-left to others}" >> "$dir/host.log"
        done <<REQS
$reqs
REQS
        served=$((served + $(echo "$reqs" | wc -l)))
    fi
    sleep 0.2
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
producer_stop
step "$test on $abi finished in $(($(date +%s) - start))s"

verdict=$(grep -a '^SHMCAM-TEST: ' "$log" | tr -d '\r' | tail -n 1)
case "$verdict" in
"SHMCAM-TEST: PASS "*)
    echo "$verdict"
    exit 0 ;;
esac
echo "---- console log ($log) ----"
cat "$log"
echo "---- qemu ----"
cat "$dir/qemu.log"
[ -s "$dir/producer.log" ] && { echo "---- producer ----"; cat "$dir/producer.log"; }
echo "${verdict:-SHMCAM-TEST: FAIL $test: no verdict on the console}"
exit 1
