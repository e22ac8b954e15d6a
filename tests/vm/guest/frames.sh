# SPDX-License-Identifier: GPL-2.0-or-later
#
# The guest of make bench's frames run (tests/vm/frames.sh): what moving
# a frame costs inside a guest, against a memcpy of the same bytes here
# (bench-memcpy: warm, cold, and by rep movsb), at 1280x720, 1920x1080 and 3840x2160
# YUYV.  Two figures, one SHMCAM-BENCH line each:
# - camera: shmcam-host --camera on vivid into a /dev/shm region of this
#   guest, captured straight into the slots (--camera-io auto: USERPTR)
#   and into vivid's own buffers then copied (mmap).  Its --stats give
#   the time spent publishing, release() included, and the bytes copied;
# - deliver: shmcam.ko's copy of each frame out of the BAR into the
#   application's buffer, from its status file (copy_ns, copy_bytes),
#   the host publishing its test pattern into the BAR.

SIZES="1280x720 1920x1080 3840x2160"

cam_up() {
    modload vivid n_devs=1 node_types=0x1 && CAM=$(video_node vivid)
}

# stat_field FILE NAME: the number after "NAME: " in FILE
stat_field() {
    sed -n "s/^$2: \([0-9]*\)\$/\1/p" "$1"
}

# bench_line WHAT SIZE IO FRAMES BYTES US: with the memcpy of a frame
bench_line() {
    _m=$(bench-memcpy $(( ${2%x*} * ${2#*x} * 2 )))
    echo "SHMCAM-BENCH: $1 $2 $3 frames $4 bytes_per_frame $(($5 / $4))" \
        "us_per_frame $(awk -v u="$6" -v n="$4" 'BEGIN { printf "%.1f", u / n }')" \
        "memcpy_warm $(echo "$_m" | awk '{ print $4 }')" \
        "memcpy_cold $(echo "$_m" | awk '{ print $6 }')" \
        "movsb $(echo "$_m" | awk '{ print $8 }')"
}

# camera_cost SIZE IO: 12 frames published, the last --stats line after
camera_cost() {
    shmcam-host --camera "$CAM" --camera-io "$2" --format YUYV --size "$1" \
        --fps 2 --shm "bench-$2" --stats > /tmp/host.out 2>&1 &
    _host=$!
    shmcam-dump --shm "bench-$2" --frames 12 --timeout 120 > /tmp/dump.out 2>&1
    _rc=$?
    sleep 1.2
    kill $_host
    wait $_host || _rc=1
    grep -v ' fps, ' /tmp/host.out
    [ "$_rc" = 0 ] || { cat /tmp/host.out /tmp/dump.out; return 1; }
    # "shmcam-host: R fps, F frames, T too large, B bytes copied, U us
    # publishing, FORMAT, STATE"
    grep ' us publishing, ' /tmp/host.out | tail -n 1 > /tmp/stats
    set -- "$1" "$2" \
        "$(sed -n 's/.* \([0-9]*\) frames, .*/\1/p' /tmp/stats)" \
        "$(sed -n 's/.* \([0-9]*\) bytes copied, .*/\1/p' /tmp/stats)" \
        "$(sed -n 's/.* \([0-9]*\) us publishing, .*/\1/p' /tmp/stats)"
    [ "${3:-0}" -gt 0 ] || { cat /tmp/stats; return 1; }
    bench_line camera "$1" "$2" "$3" "$4" "$5"
}

cameras() {
    for _s in $SIZES; do
        camera_cost "$_s" auto || return 1
        camera_cost "$_s" mmap || return 1
    done
}

# deliver_cost SIZE: 20 frames streamed by v4l2-ctl at SIZE, the
# driver's counters before and after
deliver_cost() {
    _st=$(ls /sys/kernel/debug/shmcam/*/status | head -n 1)
    cp "$_st" /tmp/st0
    v4l2-ctl -d "$DEV" \
        --set-fmt-video=width=${1%x*},height=${1#*x},pixelformat=YUYV \
        --stream-mmap --stream-count=20 --stream-to=/dev/null || return 1
    cp "$_st" /tmp/st1
    bench_line deliver "$1" shmcam.ko \
        $(($(stat_field /tmp/st1 frames) - $(stat_field /tmp/st0 frames))) \
        $(($(stat_field /tmp/st1 copy_bytes) - $(stat_field /tmp/st0 copy_bytes))) \
        $((($(stat_field /tmp/st1 copy_ns) - $(stat_field /tmp/st0 copy_ns)) / 1000))
}

# The host publishes the test pattern at 3840x2160 into the BAR; v4l2-ctl
# asks for the smaller sizes, which the pattern offers too.
host_pattern() {
    host_cmd producer-start --pattern --format YUYV --size 3840x2160 --fps 5
}

deliveries() {
    [ -d /sys/kernel/debug/shmcam ] ||
        mount -t debugfs none /sys/kernel/debug || return 1
    # The largest first: the pattern offers 3840x2160 only while it is
    # the size it publishes.
    for _s in 3840x2160 1920x1080 1280x720; do
        deliver_cost "$_s" || return 1
    done
}

check vivid-loads cam_up
check camera-cost cameras
check host-publishes host_pattern
check shmcam-loads shmcam_up
check deliver-cost deliveries
finish
