#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shmcam-host --pipewire against a PipeWire of the test's own: a daemon
# with a minimal configuration and WirePlumber (which makes the links), in
# an XDG_RUNTIME_DIR under the test's directory, and two cameras:
#
#  - GStreamer's videotestsrc through pipewiresink, a moving ball whose
#    every frame differs: what shmcam-host publishes must be, byte for
#    byte, frames of the same pipeline written to a file, one after the
#    other (none skipped), while a second PipeWire client (pipewiresrc)
#    captures the same node and gets every frame too;
#  - pw-testsrc, a node of ours that offers every format and two sizes and
#    rates, drawing shmcam's test pattern (shmcam-dump --verify): its
#    formats in the capability table, a request through the region
#    renegotiated on the running stream, a line stride larger than the
#    line published as bytesperline, planes in blocks of their own
#    repacked, MJPEG passed through.
#
# Either node going gives "no signal" and its return resumes capture in
# the same shmcam-host process.  --listen --isolate capture through
# PipeWire too.  The messages a user sees: an unknown node, no daemon, no
# video source, no session manager.
. "$(dirname "$0")/lib.sh"

H=$SHMCAM_HOST
D=$SHMCAM_DUMP
R=/dev/shm/$TEST_NAME

skip() {
    echo "SKIP: $*"
    exit 77
}

if [ -z "${SHMCAM_PW_TESTSRC:-}" ]; then
    # Built without PipeWire: the option says how to get it.
    expect_run 2 "shmcam-host: --pipewire: this shmcam-host was built without PipeWire (install libpipewire-0.3-dev, then run ./configure again and rebuild)" \
        "$H" --pipewire --shm "$TEST_NAME"
    [ "$failures" = 0 ] || finish
    skip "shmcam-host was built without PipeWire (libpipewire-0.3-dev)"
fi
for prog in pipewire wireplumber pw-cli gst-launch-1.0 gst-inspect-1.0 python3; do
    command -v "$prog" > /dev/null 2>&1 ||
        skip "$prog is not installed (tests/setup/install-packages.sh installs it)"
done
for el in pipewiresink pipewiresrc videotestsrc; do
    gst-inspect-1.0 "$el" > /dev/null 2>&1 ||
        skip "GStreamer has no $el (gstreamer1.0-pipewire, gstreamer1.0-plugins-base)"
done

. "$(dirname "$0")/pipewire-world.sh"
mkdir -p "$TEST_TMP/frames"

# verify N ARGS...: shmcam-dump ARGS --verify, N frames of the pattern, all
# good
verify() {
    n=$1
    shift
    "$D" "$@" --frames "$n" --verify --timeout 10 > "$TEST_TMP/verify.out" 2>&1
    rc=$?
    if [ "$rc" = 0 ] && grep -qx "$(verify_line "$n")" "$TEST_TMP/verify.out"; then
        pass "shmcam-dump $* --verify: $n frames"
    else
        fail "shmcam-dump $* --verify exited $rc: $(cat "$TEST_TMP/verify.out")"
    fi
}

state_is() {
    [ "$(header "$R" state)" = "$1" ]
}


# Frames as hashes: the reference run of a pipeline, and captured frames,
# each found in it by its index (docs: what "byte for byte" means here).
cat > "$TEST_TMP/frames.py" <<'PY'
import glob, hashlib, sys

def chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data) - size + 1, size)]

cmd = sys.argv[1]
if cmd == "ref":
    # ref SIZE OUT < stream: the index of each frame's hash
    size = int(sys.argv[2])
    with open(sys.argv[3], "w") as out:
        n = 0
        while True:
            b = sys.stdin.buffer.read(size)
            if len(b) < size:
                break
            out.write("%s %d\n" % (hashlib.sha256(b).hexdigest(), n))
            n += 1
elif cmd == "index":
    # index REF SIZE FILE|DIR: the reference index of each frame, "?" for
    # one that is none of them
    ref = dict(l.split() for l in open(sys.argv[2]))
    size = int(sys.argv[3])
    if sys.argv[4].endswith("/"):
        frames = [open(f, "rb").read() for f in sorted(glob.glob(sys.argv[4] + "*"))]
    else:
        frames = chunks(open(sys.argv[4], "rb").read(), size)
    print(" ".join(ref.get(hashlib.sha256(f).hexdigest(), "?") for f in frames))
elif cmd == "check":
    # check NAME WANT "INDICES": all known, WANT of them, one after the
    # other
    name, want, idx = sys.argv[2], int(sys.argv[3]), sys.argv[4].split()
    if len(idx) != want:
        print("FAIL: %s: %d frames, expected %d" % (name, len(idx), want))
        sys.exit(1)
    if "?" in idx:
        print("FAIL: %s: frame %d is none of the source's frames"
              % (name, idx.index("?")))
        sys.exit(1)
    idx = [int(i) for i in idx]
    gaps = [(a, b) for a, b in zip(idx, idx[1:]) if b != a + 1]
    # A frame or two lost now and then by a loaded machine are not the
    # stream's fault (the source itself skips them then, and every client
    # misses the same ones): up to one gap in ten frames, each of at most
    # two frames.  A frame again or backwards always is, and a producer
    # starved of buffers loses many.
    if len(gaps) > max(2, want // 10) or any(b <= a or b > a + 3 for a, b in gaps):
        print("FAIL: %s: not one frame after the other: %s" % (name, gaps))
        sys.exit(1)
    print("ok: %s: %d frames, source frames %d..%d, %d gap(s)"
          % (name, want, idx[0], idx[-1], len(gaps)))
elif cmd == "overlap":
    a, b = [set(int(i) for i in s.split()) for s in sys.argv[2:4]]
    sys.exit(0 if a & b else 1)
PY

# The capability table and a request of the region's, as a guest makes
# them (docs/specs/shmcam.rst: header, consumer areas).
cat > "$TEST_TMP/region.py" <<'PY'
import mmap, os, struct, sys

path = sys.argv[2]
if sys.argv[1] == "caps":
    with open(path, "rb") as f:
        h = f.read(4096)
    for i in range(min(struct.unpack_from("<I", h, 76)[0], 24)):
        off = 1248 + 80 * i
        fcc, w, hh, n = struct.unpack_from("<4sIII", h, off)
        ivs = [struct.unpack_from("<II", h, off + 16 + 8 * j) for j in range(min(n, 8))]
        bpl, size = struct.unpack_from("<II", h, 3168 + 8 * i)
        print("%dx%d %s %s bpl %d" % (w, hh, fcc.decode(),
              ",".join("%d/%d" % iv for iv in ivs), bpl))
elif sys.argv[1] == "bpl":
    with open(path, "rb") as f:
        print(struct.unpack_from("<I", f.read(4096), 92)[0])
else:
    # request FOURCC W H NUM DEN: from area 31, a consumer that streams
    fcc, w, hh, num, den = sys.argv[3:8]
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, 8192)
    off = 4096 + 128 * 31
    gen = struct.unpack_from("<I", m, off + 20)[0] + 1
    # a heartbeat of its own with each request: the area is alive then,
    # however long since the last one (it is freed after 5 s without)
    beat = struct.unpack_from("<Q", m, off + 8)[0] + 1
    struct.pack_into("<QQ", m, off, 0x5eed0001, beat)
    struct.pack_into("<4sIIIII", m, off + 24, fcc.encode(), int(w), int(hh),
                     0, int(num), int(den))
    struct.pack_into("<II", m, off + 16, 3, gen)
    m.close()
    os.close(fd)
PY

# ---- no daemon yet ----
expect_run 1 "shmcam-host: PipeWire: no daemon at $XDG_RUNTIME_DIR/pipewire-0 (is pipewire running for this user? systemctl --user status pipewire)" \
    "$H" --pipewire --shm "$TEST_NAME"
[ -e "$R" ] && fail "a region was created without PipeWire"

pw_start || finish

# ---- what a user sees when the node is not there ----
expect_run 1 "shmcam-host: PipeWire has no video source (connect a camera, or start its node; pw-cli ls Node lists the nodes)" \
    "$H" --pipewire --shm "$TEST_NAME"
expect_run 1 "shmcam-host: PipeWire has no node 'no-such-camera' (pw-cli ls Node lists them; give a node.name, object.serial or object.path)" \
    "$H" --pipewire no-such-camera --shm "$TEST_NAME"
expect_run 1 "shmcam-host: PipeWire node 'Dummy-Driver' is not a video source (its media.class is not set; give a Video/Source node: pw-cli ls Node lists them)" \
    "$H" --pipewire=Dummy-Driver --shm "$TEST_NAME"
[ -e "$R" ] && fail "a region was created for a missing node"
expect_run 2 "shmcam-host: choose one source: --pattern, --camera, --file or --pipewire (see shmcam-host --help)" \
    "$H" --pipewire cam --camera /dev/video0 --shm "$TEST_NAME"
expect_run 2 "shmcam-host: --align is for the pattern and --file (a camera has a stride of its own)" \
    "$H" --pipewire cam --align 64 --shm "$TEST_NAME"

# ---- GStreamer's camera: byte for byte, and shared with another client ----
GST_CAPS=video/x-raw,format=YUY2,width=320,height=240,framerate=30/1
GST_FRAME=153600
# Each frame of the ball is a function of its number (animation-mode
# frames): the same pipeline, not live, into the reference.  2000 frames
# cover a minute of the live one.
gst-launch-1.0 -q videotestsrc pattern=ball animation-mode=frames \
        num-buffers=2000 ! "$GST_CAPS" ! fdsink fd=1 |
    python3 "$TEST_TMP/frames.py" ref $GST_FRAME "$TEST_TMP/ref.txt"
[ "$(wc -l < "$TEST_TMP/ref.txt")" = 2000 ] || fail "no reference frames"

gst_camera() {
    bg gst gst-launch-1.0 -q videotestsrc is-live=true pattern=ball \
        animation-mode=frames ! "$GST_CAPS" ! pipewiresink mode=provide \
        stream-properties="props,node.name=shmcam-test-gst,media.class=Video/Source"
    GST=$BG
    until_ok "GStreamer's camera node appears" has_node shmcam-test-gst
}

gst_camera
start_host --pipewire shmcam-test-gst --shm "$TEST_NAME" --format YUYV \
    --size 320x240 --fps 30
wait_streaming "$R" width 320 || fail "shmcam-host does not stream the GStreamer camera: $(cat "$TEST_TMP/host.log")"
# The second client first, then the reader: their frames overlap.  (Its
# timeout only keeps a broken stream from hanging the test.)
bg client timeout 30 gst-launch-1.0 -q pipewiresrc target-object=shmcam-test-gst \
    num-buffers=120 stream-properties="props,media.type=Video" ! \
    video/x-raw,format=YUY2,width=320,height=240 ! \
    filesink location="$TEST_TMP/client.yuv"
CLIENT=$BG
"$D" --shm "$TEST_NAME" --frames 60 --out "$TEST_TMP/frames" --timeout 10 \
    > "$TEST_TMP/dump.out" 2>&1 || fail "shmcam-dump: $(cat "$TEST_TMP/dump.out")"
wait "$CLIENT"
rc=$?
[ "$rc" = 0 ] || fail "the second client (pipewiresrc) exited $rc: $(cat "$TEST_TMP/client.log")"
ours=$(python3 "$TEST_TMP/frames.py" index "$TEST_TMP/ref.txt" $GST_FRAME "$TEST_TMP/frames/")
theirs=$(python3 "$TEST_TMP/frames.py" index "$TEST_TMP/ref.txt" $GST_FRAME "$TEST_TMP/client.yuv")
python3 "$TEST_TMP/frames.py" check "shmcam-host's frames" 60 "$ours" || failures=$((failures + 1))
python3 "$TEST_TMP/frames.py" check "the other client's frames" 120 "$theirs" || failures=$((failures + 1))
python3 "$TEST_TMP/frames.py" overlap "$ours" "$theirs" ||
    fail "the two clients did not capture at the same time"
# A stream that broke here breaks what follows: stop at the first phase
# that failed, with its messages, rather than wait for each of the rest.
[ "$failures" = 0 ] || finish

# removal_taken_for_stall FROM: the host's log, from after line FROM up to
# its next "no signal" line, has a stall line ("gave no frame"): the
# node's removal was taken for frames that stopped coming.  (A loaded
# machine may stall a camera elsewhere; that is no failure here.)
removal_taken_for_stall() {
    sed -n "$(($1 + 1)),\$p" "$TEST_TMP/host.log" | sed '/: no signal$/q' |
        grep "gave no frame"
}

# The camera goes (its pipeline killed): no signal.  It comes back: the
# same shmcam-host streams it again.
gone_at=$(wc -l < "$TEST_TMP/host.log")
stop_bg "$GST" KILL
until_ok "no signal after the GStreamer camera went" state_is 2
gst_camera
until_ok "streaming again when the GStreamer camera came back" state_is 1
rm -f "$TEST_TMP"/frames/*
"$D" --shm "$TEST_NAME" --frames 20 --out "$TEST_TMP/frames" --timeout 10 \
    > "$TEST_TMP/dump.out" 2>&1 || fail "shmcam-dump after the return: $(cat "$TEST_TMP/dump.out")"
python3 "$TEST_TMP/frames.py" check "frames after the return" 20 \
    "$(python3 "$TEST_TMP/frames.py" index "$TEST_TMP/ref.txt" $GST_FRAME "$TEST_TMP/frames/")" ||
    failures=$((failures + 1))
kill -0 "$HOST_PID" 2>/dev/null || fail "shmcam-host did not stay"
stop_host
grep -q "^shmcam-host: PipeWire node shmcam-test-gst: no signal$" "$TEST_TMP/host.log" ||
    fail "no 'no signal' line: $(cat "$TEST_TMP/host.log")"
# The node's removal was seen as such, not as frames that stopped coming.
removal_taken_for_stall "$gone_at" &&
    fail "the camera's removal was taken for a stall"
stop_bg "$GST"
until_ok "the GStreamer camera node goes" no_node shmcam-test-gst
[ "$failures" = 0 ] || finish

# ---- our camera: formats, renegotiation, strides, planes ----
bg testsrc "$SHMCAM_PW_TESTSRC" shmcam-test-cam --align 256
TS=$BG
until_ok "the test camera node appears" has_node shmcam-test-cam
# The default video source: WirePlumber's, our camera (the only one).
start_host --pipewire --shm "$TEST_NAME" --format YUYV --size 320x240 \
    --region-size 4M
wait_streaming "$R" width 320 || fail "shmcam-host does not stream the default video source: $(cat "$TEST_TMP/host.log")"
verify 30 --shm "$TEST_NAME"
"$D" --shm "$TEST_NAME" --status | grep -qx "card: shmcam test camera" ||
    fail "card: $("$D" --shm "$TEST_NAME" --status | grep card)"
# Its lines are 768 bytes apart (--align 256): published as they are.
[ "$(python3 "$TEST_TMP/region.py" bpl "$R")" = 768 ] ||
    fail "bytesperline $(python3 "$TEST_TMP/region.py" bpl "$R"), expected the node's 768"
python3 "$TEST_TMP/region.py" caps "$R" > "$TEST_TMP/caps"
cat > "$TEST_TMP/caps.want" <<'CAPS'
320x240 YUYV 1/30,1/15 bpl 768
640x480 YUYV 1/30,1/15 bpl 1280
320x240 NV12 1/30,1/15 bpl 320
640x480 NV12 1/30,1/15 bpl 640
320x240 YU12 1/30,1/15 bpl 320
640x480 YU12 1/30,1/15 bpl 640
320x240 MJPG 1/30,1/15 bpl 0
640x480 MJPG 1/30,1/15 bpl 0
CAPS
cmp -s "$TEST_TMP/caps" "$TEST_TMP/caps.want" ||
    fail "capability table: $(cat "$TEST_TMP/caps")"

# A guest asks for 640x480 NV12 at 15 fps: the running stream switches.
python3 "$TEST_TMP/region.py" request "$R" NV12 640 480 1 15
wait_streaming "$R" width 640 || fail "no switch to 640x480: $(cat "$TEST_TMP/host.log")"
verify 20 --shm "$TEST_NAME"
"$D" --shm "$TEST_NAME" --status | grep -qx "format: 640x480 NV12 at 1/15 s per frame" ||
    fail "format after the request: $("$D" --shm "$TEST_NAME" --status | grep format)"
grep -q "^shmcam-host: PipeWire node shmcam-test-cam: switched to 640x480 NV12 on the running stream$" \
    "$TEST_TMP/host.log" || fail "not switched in place: $(cat "$TEST_TMP/host.log")"
# MJPEG, passed through: the node's JPEGs, whole.
python3 "$TEST_TMP/region.py" request "$R" MJPG 320 240 1 30
wait_streaming "$R" pixelformat MJPG || fail "no switch to MJPG: $(cat "$TEST_TMP/host.log")"
verify 20 --shm "$TEST_NAME"

# The camera goes, comes back with each plane in a block of its own, and
# a guest asks for I420: copied into shmcam's one-block layout.
gone_at=$(wc -l < "$TEST_TMP/host.log")
stop_bg "$TS"
until_ok "no signal after the test camera went" state_is 2
bg testsrc "$SHMCAM_PW_TESTSRC" shmcam-test-cam --align 256 --planes
TS=$BG
until_ok "streaming again when the test camera came back" state_is 1
removal_taken_for_stall "$gone_at" &&
    fail "the test camera's removal was taken for a stall"
verify 10 --shm "$TEST_NAME"
python3 "$TEST_TMP/region.py" request "$R" YU12 640 480 1 30
wait_streaming "$R" pixelformat YU12 || fail "no switch to YU12: $(cat "$TEST_TMP/host.log")"
verify 20 --shm "$TEST_NAME"
# The node's stride again, the planes copied into one block.
[ "$(python3 "$TEST_TMP/region.py" bpl "$R")" = 768 ] ||
    fail "bytesperline $(python3 "$TEST_TMP/region.py" bpl "$R") after repacking, expected 768"
stop_host
[ "$failures" = 0 ] || finish

# ---- --listen --isolate: capture in the server's child process ----
# (The node's stride needs more than the packed lines' 512 KiB.)
start_host --pipewire shmcam-test-cam --listen "$TEST_TMP/sock" --isolate \
    --format NV12 --size 320x240 --region-size 1M
until_ok "the --listen socket" test -S "$TEST_TMP/sock"
verify 20 --connect "$TEST_TMP/sock"
stop_host

# ---- no session manager: nothing links the stream ----
stop_bg "$WIREPLUMBER"
expect_run 1 "shmcam-host: PipeWire did not link shmcam-host to node shmcam-test-cam for 320x240 YUYV within 5 s (is a session manager such as WirePlumber running? it makes the links)" \
    "$H" --pipewire shmcam-test-cam --shm "$TEST_NAME" --format YUYV --size 320x240
[ -e "$R" ] && fail "a region was left after the failed start"
finish
