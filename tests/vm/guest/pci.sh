# SPDX-License-Identifier: GPL-2.0-or-later
#
# The QEMU-native device: shmcam-pci (1af4:10fc) with memory-backend-shm,
# served by shmcam-host --pci-listen.  shmcam.ko binds it by its ID; the
# guest streams and verifies frames, changes format through the register
# window, sets a control through it, cannot write into the frame area,
# and streams on across a restart of shmcam-host (QEMU reconnects) and an
# unbind.

# shmcam_pci_bdf: the PCI address of the shmcam-pci device.
shmcam_pci_bdf() {
    pci_bdf 10fc || { echo "no shmcam-pci device (1af4:10fc)" >&2; return 1; }
}

# The capture node is the shmcam-pci device's, bus info included.
bound_by_id() {
    _bdf=$(shmcam_pci_bdf) || return 1
    v4l2-ctl -d "$DEV" --info > /tmp/info.out 2>&1
    cat /tmp/info.out
    [ "$(shmcam_bdf)" = "$_bdf" ] &&
        grep -q "Bus info *: PCI:$_bdf\$" /tmp/info.out
}

# region_status: the producer's session, format and card as BAR2 shows
# them to userspace.
region_status() {
    shmcam-dump --region "$1" --status > /tmp/status.out 2>&1 ||
        { cat /tmp/status.out >&2; return 1; }
    grep -E '^(session|format|card)' /tmp/status.out
}

# While shmcam.ko holds BAR2, userspace cannot map it, and is told why.
bar_held() {
    _res=/sys/bus/pci/devices/$(shmcam_pci_bdf)/resource2
    shmcam-dump --region "$_res" --status > /tmp/held.out 2>&1
    _rc=$?
    cat /tmp/held.out
    [ "$_rc" = 1 ] && grep -qx "shmcam-dump: cannot map region $_res: Invalid argument (a driver holds this BAR, e.g. shmcam.ko: unbind the device first)" \
        /tmp/held.out
}

# A hostile guest: a producer of its own, laid out over BAR2 with
# another session, format and card, publishing for two seconds (with the
# device unbound: see bar_held).  BAR2 is read only: what the guest reads is still the host's,
# frames verify on the raw BAR and, once the driver is back, through it;
# and the host, reading QEMU's memory, finds its own region.
guest_write_ignored() {
    _bdf=$(shmcam_pci_bdf) || return 1
    _res=/sys/bus/pci/devices/$_bdf/resource2
    _drv=$(readlink -f "/sys/bus/pci/devices/$_bdf/driver")
    echo "$_bdf" > "$_drv/unbind" || return 1
    _before=$(region_status "$_res") || return 1
    echo "before: $_before"
    shmcam-host --pattern --region "$_res" --force --format NV12 \
        --size 320x240 --card scribbler > /tmp/scribble.out 2>&1 &
    _pid=$!
    sleep 2
    kill $_pid
    wait $_pid
    cat /tmp/scribble.out
    grep -q ': streaming$' /tmp/scribble.out ||
        { echo "the scribbler did not run"; return 1; }
    _after=$(region_status "$_res") || return 1
    echo "after: $_after"
    [ "$_before" = "$_after" ] || { echo "the guest changed BAR2"; return 1; }
    shmcam-dump --region "$_res" --frames 20 --verify > /tmp/raw.out 2>&1
    _rc=$?
    cat /tmp/raw.out
    [ "$_rc" = 0 ] && grep -q '^verified 20 frames, 0 bad, 0 out of order$' \
        /tmp/raw.out || return 1
    echo "$_bdf" > "$_drv/bind" || return 1
    shmcam_up || return 1
    host_cmd host-region-verify || return 1
    capture_verify YUYV 640x480 10
}

# A guest writing garbage into every register and over its consumer area
# window, doorbell included: the read-only registers keep their values,
# the host ignores the nonsense request, and once the driver has written
# its area again, captures verify.
garbage_registers() {
    _bdf=$(shmcam_pci_bdf) || return 1
    _bar0=$(($(head -n 1 "/sys/bus/pci/devices/$_bdf/resource" | cut -d' ' -f1)))
    _off=0
    while [ $_off -lt 384 ]; do
        devmem $((_bar0 + _off)) 32 0xdeadbeef || return 1
        _off=$((_off + 4))
    done
    _id=$(devmem $_bar0 32)
    _version=$(devmem $((_bar0 + 4)) 32)
    echo "after the garbage: ID $_id, VERSION $_version"
    [ "$_id" = 0x4D434853 ] && [ "$_version" = 0x00000001 ] || return 1
    sleep 1
    capture_verify YUYV 640x480 10
}

# mmio_per_frame: while 200 frames stream, the register writes of 90 of
# them, counted by QEMU's trace (the host's mmio-check) and by the driver:
# heartbeat and statistics once per 100 ms, only fields that changed.
mmio_per_frame() {
    stream_bg /tmp/m.raw 200
    wait_frames /tmp/m.raw $YUYV_VGA 20 || { kill $BG; return 1; }
    _f1=$(status_field frames)
    _w1=$(status_field window_writes)
    host_cmd mmio-mark || { kill $BG; return 1; }
    wait_delivered $((_f1 + 90)) || { kill $BG; return 1; }
    _f2=$(status_field frames)
    _w2=$(status_field window_writes)
    echo "the driver's count: $((_w2 - _w1)) window writes for $((_f2 - _f1)) frames"
    host_cmd mmio-check $((_f2 - _f1)) || { kill $BG; return 1; }
    wait $BG
}

# The pattern's controls through the device: the request goes by the
# window's control registers and the doorbell, the answer comes back in
# the region.  brightness=200 is applied (v4l2-ctl -C), and the frames
# after it are the pattern drawn so, as their stamp says; then back.
pci_controls() {
    v4l2-ctl -d "$DEV" -c brightness=200 || return 1
    _v=$(v4l2-ctl -d "$DEV" -C brightness)
    echo "$DEV: $_v"
    [ "$_v" = "brightness: 200" ] || return 1
    capture_verify YUYV 640x480 5 /tmp/pci-b200.raw || return 1
    _s=$(stamp_ctrls /tmp/pci-b200.raw 5)
    echo "stamp at brightness=200: $_s"
    v4l2-ctl -d "$DEV" -c brightness=128 || return 1
    [ "$_s" = "83 67 80 67 200 128 128 0" ]
}

check shmcam-loads shmcam_up
check bound-by-pci-id bound_by_id
check compliance compliance "$DEV"
check capture-yuyv capture_verify YUYV 640x480 30
check format-change-nv12-720p capture_verify NV12 1280x720 10
check format-change-mjpeg capture_verify MJPG 640x480 30
check format-back-yuyv capture_verify YUYV 640x480 10
check controls-through-pci pci_controls
check bar-held-by-driver bar_held
check guest-write-ignored guest_write_ignored
check garbage-in-registers garbage_registers
check mmio-per-frame mmio_per_frame
check s3-stream-goes-on s3_stream
check capture-after-s3 capture_verify YUYV 640x480 10
check shmcam-host-restart-while-streaming producer_restart
check unbind-while-streaming unbind_rebind
finish
