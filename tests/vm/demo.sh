#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh BUILD_DIR [CAMERA]: what `make demo` runs.  shmcam-host publishes
# the test pattern (or /dev/videoN CAMERA), a 6.12 guest captures a few
# seconds with v4l2-ctl through shmcam.ko, and the frames come back as
# PNG snapshots and an animated GIF under out/demo/.
set -e
BUILD_DIR=$(cd "${1:-build}" && pwd)
export BUILD_DIR
camera=$2
. "$(dirname -- "$0")/lib.sh"

out=$SRC_ROOT/out/demo
run=$VM_DIR/runs/demo
frames=${DEMO_FRAMES:-90}
shm=shmcam-demo

[ -x "$BUILD_DIR/hw/shmcam-host" ] || die "$BUILD_DIR/hw/shmcam-host not built (run make)"
command -v ffmpeg >/dev/null || die "ffmpeg not found (tests/setup/install-packages.sh installs it)"
if [ -n "$camera" ]; then
    [ -c "$camera" ] || die "camera '$camera' is not a V4L2 device node"
    producer="--camera $camera --shm $shm"
    source=camera
else
    producer="--pattern --shm $shm --size 640x480 --format YUYV --fps 30"
    source=pattern
fi

step "preparing the 6.12 guest (kernel, v4l-utils, shmcam.ko, initramfs)"
"$VM_SRC/prepare.sh" 6.12

mkdir -p "$run"
rm -f "$run/disk.img"
truncate -s 512M "$run/disk.img"
step "starting shmcam-host $producer; booting the 6.12 guest"
if ! "$VM_SRC/run-vm.sh" --kernel 6.12 --test demo --shm "$shm" \
        --producer "$producer" --disk "$run/disk.img" --dir "$run/guest" \
        --env FRAMES="$frames" --env SOURCE="$source" > "$run/run.log" 2>&1; then
    cat "$run/run.log"
    die "the demo guest failed"
fi
log=$run/guest/console.log
grep -a '^SHMCAM-DEMO: \|^verified ' "$log" | tr -d '\r' | sed "s/^SHMCAM-DEMO: frames \([0-9]*\) drops \([0-9]*\) fps \(.*\)/guest received \1 frames, \2 dropped, \3 fps/"
set -- $(grep -a '^SHMCAM-OUT: ' "$log" | tr -d '\r')
fmt=$3 size=$5 n=$7 bytes=$9
[ -n "$bytes" ] || die "the guest reported no capture"

step "converting $n frames of $size $fmt to PNG and GIF in $out"
rm -rf "$out"
mkdir -p "$out"
head -c "$bytes" "$run/disk.img" > "$out/capture.raw"
case "$fmt" in
YUYV) input="-f rawvideo -pix_fmt yuyv422 -s $size" ;;
NV12) input="-f rawvideo -pix_fmt nv12 -s $size" ;;
YU12) input="-f rawvideo -pix_fmt yuv420p -s $size" ;;
MJPG) input="-f mjpeg" ;;
*) die "no conversion for format $fmt" ;;
esac
mid=$((n / 2))
last=$((n - 1))
# shellcheck disable=SC2086 # $input is a list of options
ffmpeg -hide_banner -loglevel error -y $input -i "$out/capture.raw" \
    -vf "select=eq(n\,0)+eq(n\,$mid)+eq(n\,$last)" -vsync 0 \
    "$out/frame-%d.png"
mv "$out/frame-1.png" "$out/frame-first.png"
mv "$out/frame-2.png" "$out/frame-middle.png"
mv "$out/frame-3.png" "$out/frame-last.png"
# shellcheck disable=SC2086
ffmpeg -hide_banner -loglevel error -y -r 30 $input -i "$out/capture.raw" \
    -vf "fps=10,scale=320:-1:flags=lanczos,split[a][b];[a]palettegen[p];[b][p]paletteuse" \
    "$out/shmcam.gif"
ls -l "$out" | sed 1d
step "done: $out/shmcam.gif and frame-{first,middle,last}.png"
