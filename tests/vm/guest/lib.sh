# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the guest tests (busybox sh).  A test is a list of checks:
#   check NAME COMMAND...   runs COMMAND, prints SHMCAM-CHECK: PASS|FAIL NAME
#   finish                  checks dmesg, prints the test's verdict
# Output goes to the console, which the host keeps as the test log.

FAILED=
NCHECKS=0
YUYV_VGA=614400		# bytes of a 640x480 YUYV frame

# check NAME COMMAND...: a failed check does not stop the test, so that
# one boot reports every check of its group.  A check also fails when
# the kernel logged a warning, oops or call trace while it ran.
check() {
    _name=$1
    shift
    echo "--- $_name: $*"
    NCHECKS=$((NCHECKS + 1))
    _from=$(dmesg | wc -l)
    if "$@"; then
        _st=PASS
    else
        _st=FAIL
    fi
    if ! dmesg | sed -n "$((_from + 1)),\$p" | log_clean; then
        echo "kernel log during $_name:"
        dmesg | sed -n "$((_from + 1)),\$p" | tail -n 60
        _st=FAIL
    fi
    echo "SHMCAM-CHECK: $_st $_name"
    [ $_st = PASS ] || FAILED="$FAILED $_name"
}

# log_clean: are the kernel log lines on stdin free of warnings and oopses?
# (The offending lines are printed.)  One report is not ours and is left
# out, saying so: vivid's capture thread (6.1 and 6.12 at least) checks
# that its next frame is due, then sleeps until then, and when the
# guest's jiffies jump between the two (a TCG guest catching up on ticks
# after the host ran something else) it asks schedule_timeout for a
# negative wait, which prints "wrong timeout value" and a call trace
# through vivid_thread_vid_cap.  Only that message with such a trace is
# dropped.
log_clean() {
    ! vivid_race_out |
        grep -E 'WARNING:|BUG:|Oops|Call Trace|UBSAN|KASAN|general protection|list_(add|del) corruption|refcount_t:'
}
vivid_race_out() {
    awk '
        function flush() { for (i = 1; i <= n; i++) print b[i]; n = 0 }
        /schedule_timeout: wrong timeout value/ { flush(); held = 1 }
        held { b[++n] = $0
               if (/<\/TASK>/) {
                   if (vivid && n < 40) {
                       print "(vivid'"'"'s capture thread: schedule_timeout race," \
                             " left out)" > "/dev/stderr"
                       n = 0
                   } else flush()
                   held = vivid = 0
               } else if (/vivid_thread_vid_cap/) vivid = 1
               next }
        { print }
        END { flush() }'
}

# The whole kernel log must stay free of warnings, oopses and call traces.
dmesg_clean() {
    if ! dmesg | log_clean; then
        dmesg | tail -n 60
        return 1
    fi
}

finish() {
    check dmesg-clean dmesg_clean
    : > /tmp/.verdict
    echo
    if [ -n "$FAILED" ]; then
        echo "SHMCAM-TEST: FAIL $TEST:$FAILED"
    elif [ "$NCHECKS" -lt 2 ]; then
        echo "SHMCAM-TEST: FAIL $TEST ran no checks"
    else
        echo "SHMCAM-TEST: PASS $TEST ($NCHECKS checks)"
    fi
}

# modload NAME [PARAM=VALUE...]: load NAME and its dependencies, in the
# order mkinitramfs.sh recorded in /modules/NAME.deps.
modload() {
    _mod=$1
    shift
    [ -r "/modules/$_mod.deps" ] || { echo "no module $_mod"; return 1; }
    for _dep in $(cat "/modules/$_mod.deps"); do
        [ -d "/sys/module/$(echo "$_dep" | tr - _)" ] && continue
        if [ "$_dep" = "$_mod" ]; then
            insmod "/modules/$_dep.ko" "$@" || return 1
        else
            insmod "/modules/$_dep.ko" || return 1
        fi
    done
}

# pci_bdf DEVICE: the PCI address of the first 1af4:DEVICE.
pci_bdf() {
    for _d in /sys/bus/pci/devices/*; do
        if [ "$(cat "$_d/vendor")" = 0x1af4 ] &&
           [ "$(cat "$_d/device")" = "0x$1" ]; then
            basename "$_d"
            return 0
        fi
    done
    return 1
}

# The PCI address of the first ivshmem device (1af4:1110).
ivshmem_bdf() {
    pci_bdf 1110
}

# shmcam_bdf: the PCI address of the device behind $DEV.
shmcam_bdf() {
    basename "$(readlink "/sys/class/video4linux/${DEV#/dev/}/device")"
}

# video_node DRIVER: /dev/videoN of the first capture node made by DRIVER
# (or DRIVER-*: shmcam.ko's shmcam-pci driver is shmcam-pci).
video_node() {
    for _v in /sys/class/video4linux/video*; do
        [ -e "$_v/device/driver" ] || continue
        case "$(basename "$(readlink "$_v/device/driver")")" in
        "$1"|"$1"-*) ;;
        *) continue ;;
        esac
        _dev=/dev/$(basename "$_v")
        if v4l2-ctl -d "$_dev" --info 2>/dev/null |
                grep -q 'Device Caps.*' &&
           v4l2-ctl -d "$_dev" --info 2>/dev/null |
                sed -n '/Device Caps/,$p' | grep -q 'Video Capture$'; then
            echo "$_dev"
            return 0
        fi
    done
    return 1
}

# host_cmd CMD [ARGS...]: ask the host side of the test to act (restart the
# producer, ...) and wait for its answer on the second serial port.
# Returns 0 when the host answered "ok".
host_cmd() {
    stty -F /dev/ttyS1 raw -echo 2>/dev/null
    # On a line of its own: a streaming v4l2-ctl may have printed "<<<".
    printf '\nSHMCAM-HOST: %s\n' "$*"
    # A hang guard only: the host answers within seconds.
    _answer=
    read -r -t "${HOST_WAIT:-120}" _answer < /dev/ttyS1
    _answer=$(echo "$_answer" | tr -d '\r')
    [ "$_answer" = ok ] || { echo "host answered '$_answer' to '$*'"; return 1; }
}

# compliance DEV [OPTIONS]: v4l2-compliance with OPTIONS (unless given,
# -s -f: streaming of every format); passes when its summary has no
# failure and no warning.
compliance() {
    # shellcheck disable=SC2086 # OPTIONS, one word each
    v4l2-compliance -d "$1" ${2--s -f} > /tmp/compliance.out 2>&1
    _rc=$?
    cat /tmp/compliance.out
    _sum=$(grep '^Total for ' /tmp/compliance.out | tail -n 1)
    echo "summary: $_sum (exit $_rc)"
    echo "$_sum" | grep -q 'Failed: 0, Warnings: 0$'
}

# shmcam_up: load shmcam.ko and wait for its capture node, kept in $DEV.
shmcam_up() {
    modload shmcam || return 1
    _i=0
    while [ $_i -lt 50 ]; do
        DEV=$(video_node shmcam) && return 0
        sleep 0.2
        _i=$((_i + 1))
    done
    echo "no shmcam capture node after loading shmcam.ko"
    ls -l /sys/class/video4linux/ 2>&1
    return 1
}

# capture_verify FMT WxH N [FILE]: capture N frames of FMT at WxH with
# v4l2-ctl and check them byte for byte against the test pattern.
capture_verify() {
    _file=${4:-/tmp/cap.raw}
    rm -f "$_file"
    v4l2-ctl -d "$DEV" \
        --set-fmt-video="width=${2%x*},height=${2#*x},pixelformat=$1" \
        --stream-mmap --stream-count="$3" --stream-to="$_file" || return 1
    verify_file "$1" "$2" "$3" "$_file"
}

# verify_file FMT WxH N FILE: shmcam-dump must find exactly N good frames,
# in order.
verify_file() {
    shmcam-dump --input "$4" --format "$1" --size "$2" --verify \
        --frames "$3" > /tmp/verify.out 2>&1
    _rc=$?
    cat /tmp/verify.out
    [ "$_rc" = 0 ] &&
        [ "$(tail -n 1 /tmp/verify.out)" = "verified $3 frames, 0 bad, 0 out of order" ]
}

# stamp_ctrls FILE N: the last of N 640x480 YUYV frames of FILE, its
# stamp's magic and the control values after it, as bytes: "83 67 80 67
# B C S H" when drawn with controls not at their defaults ("SCPC").
stamp_ctrls() {
    dd if="$1" bs=$YUYV_VGA skip=$(($2 - 1)) count=1 2>/dev/null |
        head -c 36 | od -An -tu1 | tr -s ' \n' '  ' |
        awk '{ print $1, $2, $3, $4, $33, $34, $35, $36 }'
}

# uptime_cs: centiseconds since boot.
uptime_cs() {
    awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}

# frames_in FILE BYTES: whole frames of BYTES each in FILE so far.  (stat,
# not wc -c: busybox wc reads the whole file, seconds for a big one here.)
frames_in() {
    echo $(( $(stat -c %s "$1" 2>/dev/null || echo 0) / $2 ))
}

# wait_frames FILE BYTES N: wait until FILE holds N frames (a hang guard
# of about a minute, not a performance limit).
wait_frames() {
    _i=0
    while [ "$(frames_in "$1" "$2")" -lt "$3" ]; do
        [ $_i -ge 600 ] && { echo "$1: fewer than $3 frames after 60s"; return 1; }
        sleep 0.1
        _i=$((_i + 1))
    done
}

# disk_up: the scratch disk /dev/vda (virtio_pci is a module on 6.1).
disk_up() {
    if [ -r /modules/virtio_pci.deps ]; then
        modload virtio_pci || return 1
    fi
    modload virtio_blk || return 1
    _i=0
    while [ ! -b /dev/vda ] && [ $_i -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    [ -b /dev/vda ] || { echo "no /dev/vda"; return 1; }
}

# stream_bg FILE N: capture N 640x480 YUYV frames from $DEV into FILE in
# the background (its pid in $BG).
stream_bg() {
    rm -f "$1"
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --stream-mmap --stream-count="$2" --stream-to="$1" &
    BG=$!
}

# The host kills shmcam-host and starts a new one mid-capture.  The
# capture completes with every frame intact; the new producer's frame
# counter starts again, so exactly one step back in order is expected.
producer_restart() {
    stream_bg /tmp/r.raw 150
    wait_frames /tmp/r.raw $YUYV_VGA 20 || { kill $BG; return 1; }
    host_cmd producer-restart || { kill $BG; return 1; }
    _at=$(frames_in /tmp/r.raw $YUYV_VGA)
    echo "producer restarted after $_at frames"
    wait $BG || { echo "capture failed across the restart"; return 1; }
    shmcam-dump --input /tmp/r.raw --format YUYV --size 640x480 --verify \
        --frames 150 > /tmp/verify.out 2>&1
    cat /tmp/verify.out
    [ "$_at" -lt 150 ] &&
        [ "$(tail -n 1 /tmp/verify.out)" = "verified 150 frames, 0 bad, 1 out of order" ]
}

# Unbinding the PCI device under a streaming client ends its stream early
# (v4l2-ctl exits 0 even then: count the frames), removes the node, and a
# new bind serves captures again.
unbind_rebind() {
    _bdf=$(shmcam_bdf) || { echo "no PCI device behind $DEV"; return 1; }
    _drv=$(readlink -f "/sys/bus/pci/devices/$_bdf/driver")
    stream_bg /tmp/u.raw 300
    wait_frames /tmp/u.raw $YUYV_VGA 5 || { kill $BG; return 1; }
    echo "$_bdf" > "$_drv/unbind" || return 1
    wait $BG
    _rc=$?
    _n=$(frames_in /tmp/u.raw $YUYV_VGA)
    echo "streaming client exited with $_rc after unbind, $_n of 300 frames"
    _ok=1
    [ ! -e "$DEV" ] || { echo "$DEV still exists after unbind"; _ok=; }
    [ "$_n" -lt 300 ] || { echo "the stream did not notice the unbind"; _ok=; }
    head -c $((_n * YUYV_VGA)) /tmp/u.raw > /tmp/u-whole.raw
    verify_file YUYV 640x480 "$_n" /tmp/u-whole.raw || _ok=
    echo "$_bdf" > "$_drv/bind" || return 1
    shmcam_up && capture_verify YUYV 640x480 10 && [ -n "$_ok" ]
}

# status_field NAME: a value from the debugfs status of $DEV's device.
status_field() {
    sed -n "s/^$1: //p" "/sys/kernel/debug/shmcam/$(shmcam_bdf)/status"
}

# wait_delivered N: until the driver has delivered N frames in all (its
# status's count; a hang guard of about a minute, not a performance limit).
wait_delivered() {
    _i=0
    while [ "$(status_field frames)" -lt "$1" ]; do
        [ $_i -ge 600 ] && { echo "fewer than $1 frames delivered after 60 s"; return 1; }
        sleep 0.1
        _i=$((_i + 1))
    done
}

# seq_gaps LOG [OVER]: buffers of a v4l2-ctl --verbose LOG whose sequence
# number is not the one after the previous buffer's; with OVER, only those
# more than OVER past it.
seq_gaps() {
    awk -v over="${2:-0}" '/dqbuf:/ {
            for (i = 1; i < NF; i++) if ($i == "seq:") q = $(i + 1)
            if (n++ && q != p + 1 && (!over || q > p + over)) g++
            p = q
        } END { print g + 0 }' "$1"
}

# capture_no_gaps N: N 640x480 YUYV frames at 30 fps, verified, and none
# missed (no gap in the sequence numbers): the driver keeps up.
capture_no_gaps() {
    rm -f /tmp/ng.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=30 --stream-mmap --stream-count="$1" --stream-to=/tmp/ng.raw \
        --verbose > /tmp/ng.out 2>&1 || { tail -n 20 /tmp/ng.out; return 1; }
    _gaps=$(seq_gaps /tmp/ng.out)
    echo "$1 frames with $_gaps gaps in the sequence"
    verify_file YUYV 640x480 "$1" /tmp/ng.raw && [ "$_gaps" = 0 ]
}

# s3_stream: suspend to RAM (S3) while 150 frames stream, woken by the
# host through QEMU's monitor after 3 s.  QEMU resets every device on
# wake-up.  The frames before and after verify, the sequence has exactly
# one gap of more than 10 frames (the sleep), and frame interrupts work
# again (the device's status says the doorbell rings, and it rang).
s3_stream() {
    shmcam_up || return 1
    grep -q '\[deep\]' /sys/power/mem_sleep ||
        { cat /sys/power/mem_sleep; echo "no S3 (deep) sleep"; return 1; }
    _st=/sys/kernel/debug/shmcam/$(shmcam_bdf)/status
    rm -f /tmp/s3.raw
    v4l2-ctl -d "$DEV" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
        --set-parm=30 --stream-mmap --stream-count=150 --stream-to=/tmp/s3.raw \
        --verbose > /tmp/s3.out 2>&1 &
    _pid=$!
    wait_frames /tmp/s3.raw $YUYV_VGA 40 || { kill $_pid; return 1; }
    host_cmd wakeup-after 3000 || { kill $_pid; return 1; }
    echo mem > /sys/power/state || { kill $_pid; return 1; }
    _irq=$(sed -n 's/^interrupts: //p' "$_st")
    echo "woke up with $(frames_in /tmp/s3.raw $YUYV_VGA) frames captured"
    wait $_pid || { tail -n 20 /tmp/s3.out; return 1; }
    cat "$_st"
    _big=$(seq_gaps /tmp/s3.out 10)
    echo "gaps of more than 10 frames: $_big; interrupts $_irq at wake-up," \
        "$(sed -n 's/^interrupts: //p' "$_st") after"
    verify_file YUYV 640x480 150 /tmp/s3.raw && [ "$_big" = 1 ] &&
        [ "$(sed -n 's/^interrupts: //p' "$_st")" -gt $((_irq + 50)) ] &&
        grep -q '^doorbell: ringing$' "$_st"
}

# vivid's image (camera-source.sh, pipewire-source.sh) as a function of
# its frame count alone: no text, and the pattern moving right 4 pixels a
# frame, so that at 320 pixels wide it comes round every 80 frames.  A
# round and a bit captured straight from vivid is the reference:
# /tmp/ref.md5, one frame's md5 a line, in order.  5 fps, as everywhere
# here (see camera-sink.sh).  On a loaded host vivid now and then finds
# no buffer queued and skips a frame, and a reference with such a gap
# lacks a frame: it is taken again, up to three times in all.
REF_W=320
REF_H=180
REF_FRAME=$((REF_W * REF_H * 2))
REF_ROUND=80
vivid_reference() {
    _try=1
    until vivid_reference_once; do
        [ $_try -lt 3 ] || return 1
        echo "not a whole round: again"
        _try=$((_try + 1))
    done
}
vivid_reference_once() {
    v4l2-ctl -d "$CAM" -c osd_text_mode=2 -c horizontal_movement=6 || return 1
    v4l2-ctl -d "$CAM" \
        --set-fmt-video=width=$REF_W,height=$REF_H,pixelformat=YUYV \
        --set-parm=5 --stream-mmap --stream-count=90 \
        --stream-to=/tmp/ref.raw > /dev/null || return 1
    _i=0
    : > /tmp/ref.md5
    while [ $_i -lt 90 ]; do
        dd if=/tmp/ref.raw bs=$REF_FRAME skip=$_i count=1 2>/dev/null |
            md5sum | cut -d' ' -f1 >> /tmp/ref.md5
        _i=$((_i + 1))
    done
    rm -f /tmp/ref.raw
    _distinct=$(head -n $REF_ROUND /tmp/ref.md5 | sort -u | wc -l)
    # the round: line i and line i + 80 are the same frame
    _round=$(awk -v n=$REF_ROUND '{ f[NR] = $1 }
        END { for (i = 1; i + n <= NR; i++) if (f[i] != f[i + n]) bad++;
              print bad + 0 }' /tmp/ref.md5)
    echo "reference: $_distinct distinct frames in $REF_ROUND," \
        "$_round differ from the frame a round later"
    [ "$_distinct" = $REF_ROUND ] && [ "$_round" = 0 ]
}

# The brightness and contrast that camera-sink.sh sets through shmcam.ko
# on the other guest's vivid, and camera-source.sh then finds on vivid.
PEER_BRIGHTNESS=200
PEER_CONTRAST=40

# has_peer_ctrls DEV: DEV's brightness and contrast are those.
has_peer_ctrls() {
    _got=$(v4l2-ctl -d "$1" -C brightness,contrast | tr '\n' ' ')
    echo "$1: $_got"
    [ "$_got" = "brightness: $PEER_BRIGHTNESS contrast: $PEER_CONTRAST " ]
}

# lists FILE PATTERN: FILE, a listing of controls (v4l2-ctl -L,
# shmcam-dump --controls), has a line matching PATTERN; says so if not.
lists() {
    grep -q -- "$2" "$1" || { echo "not listed: $2"; return 1; }
}

# vivid_ctrls_listed FILE: vivid's user controls in FILE, at their
# defaults, as shmcam carries them: ranges, flags, menus and entries.
vivid_ctrls_listed() {
    _vl=0
    lists "$1" '^ *brightness 0x00980900 (int) *: min=0 max=255 step=1 default=128 value=128 flags=slider$' || _vl=1
    lists "$1" '^ *contrast 0x00980901 (int) *: min=0 max=255 step=1 default=128 value=128 flags=slider$' || _vl=1
    lists "$1" '^ *mute 0x00980909 (bool) *: default=0 value=0$' || _vl=1
    lists "$1" '^ *integer_64_bits 0x[0-9a-f]* (int64) ' || _vl=1
    lists "$1" '^ *read_only_integer_32_bits 0x[0-9a-f]* (int) .* flags=read-only' || _vl=1
    lists "$1" '^ *menu 0x[0-9a-f]* (menu) *: min=1 max=4 default=3 ' || _vl=1
    lists "$1" "$(printf '^\t*3: Menu Item 3$')" || _vl=1
    lists "$1" '^ *integer_menu 0x[0-9a-f]* (intmenu) *: min=1 max=8 ' || _vl=1
    lists "$1" "$(printf '^\t*8: 42 (0x2a)$')" || _vl=1
    return $_vl
}

# frames_are_vivids DIR [MIN]: every frame file in DIR (at least MIN, 30
# unless given) is byte for byte one of vivid's, and from each to the
# next the pattern moved on (by one step, or a few where vivid or the
# reader skipped frames): never the same frame again, never back.  The
# frames skipped between them are counted in VIVID_SKIPPED.
frames_are_vivids() {
    _n=0
    _bad=0
    _back=0
    VIVID_SKIPPED=0
    _prev=
    for _f in $(ls "$1" | sort); do
        _m=$(md5sum < "$1/$_f" | cut -d' ' -f1)
        _pos=$(head -n $REF_ROUND /tmp/ref.md5 | grep -n -m1 "^$_m\$" | cut -d: -f1)
        _n=$((_n + 1))
        if [ -z "$_pos" ]; then
            echo "$_f is none of vivid's frames"
            _bad=$((_bad + 1))
            _prev=
            continue
        fi
        if [ -n "$_prev" ]; then
            _d=$(((_pos - _prev + REF_ROUND) % REF_ROUND))
            if [ $_d -lt 1 ] || [ $_d -ge $((REF_ROUND / 2)) ]; then
                echo "$_f is vivid's frame $_pos, after its frame $_prev"
                _back=$((_back + 1))
            else
                VIVID_SKIPPED=$((VIVID_SKIPPED + _d - 1))
            fi
        fi
        _prev=$_pos
    done
    echo "$_n frames: $_bad not vivid's, $_back not moving on," \
        "$VIVID_SKIPPED skipped between them"
    [ $_n -ge "${2:-30}" ] && [ $_bad = 0 ] && [ $_back = 0 ]
}

# split_frames FILE SIZE DIR: the frames of SIZE bytes in FILE, one file
# each in DIR (frame00000, frame00001, ...), for frames_are_vivids.
split_frames() {
    rm -rf "$3" && mkdir -p "$3" || return 1
    _i=0
    _count=$(($(stat -c %s "$1") / $2))
    while [ $_i -lt $_count ]; do
        dd if="$1" of="$3/frame$(printf %05d $_i)" bs="$2" skip=$_i count=1 \
            2>/dev/null || return 1
        _i=$((_i + 1))
    done
}
