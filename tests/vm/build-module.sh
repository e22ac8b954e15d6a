#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-module.sh SERIES: build shmcam.ko for kernel SERIES (6.12, 6.1,
# 7.3) with W=1, from a copy of guest-driver/ and include/ in
# $VM_DIR/ABI/src, so that builds for several kernels can run side by side
# and the source tree stays clean.  A warning fails the build.  The
# module ends up in $VM_DIR/ABI/shmcam.ko, and is kept while the sources
# it was built from stay the same (every VM group asks for it).
#
# 6.x builds on the host (gcc-12) against the headers fetch-kernel.sh
# unpacked; 7.x against the trixie root's headers, with its gcc-14, by
# chroot (trixie-root.sh), /proc mounted inside for objtool.
set -e
. "$(dirname -- "$0")/lib.sh"

series=${1:?usage: build-module.sh SERIES}
abi=$(kabi_of "$series")
# One build per ABI at a time: they share $VM_DIR/ABI/src.
if [ -z "$SHMCAM_MODULE_LOCKED" ]; then
    SHMCAM_MODULE_LOCKED=1 with_lock "module-$abi" "$0" "$@"
    exit $?
fi
out=$VM_DIR/$abi
src=$out/src

# driver_files: the sources the module is built from, as the copy takes
# them (paths relative to the source tree).
driver_files() {
    (cd "$SRC_ROOT" &&
     find guest-driver -maxdepth 1 -type f ! -name '*.mod.c' \
         \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) &&
     ls include/*.h) | LC_ALL=C sort
}
# shellcheck disable=SC2046 # one word per file; no spaces in them
key=$( { echo "$abi"; cd "$SRC_ROOT" && md5sum $(driver_files); } |
      md5sum | cut -c1-32)
if [ -f "$out/shmcam.ko" ] && [ "$(cat "$out/module.key" 2>/dev/null)" = "$key" ]
then
    step "shmcam.ko for $abi is up to date (built from these sources, W=1, no warnings)"
    exit 0
fi
rm -f "$out/module.key"
# A fresh copy of the sources only: objects that `make module` left in
# guest-driver/ were built for another kernel.
rm -rf "$src"
mkdir -p "$src/guest-driver" "$src/include"
find "$SRC_ROOT/guest-driver" -maxdepth 1 -type f ! -name '*.mod.c' \
    \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) \
    -exec cp {} "$src/guest-driver/" \;
cp "$SRC_ROOT"/include/*.h "$src/include/"
rm -f "$out/shmcam.ko"

step "building shmcam.ko for $abi (W=1)"
log=$out/module-build.log
case "$series" in
7.*)
    root=$("$VM_SRC/trixie-root.sh")
    kdir=/usr/src/linux-headers-$abi
    [ -f "$root$kdir/Makefile" ] || die "no $kdir in the trixie root $root"
    mnt=$root/mnt/shmcam
    mkdir -p "$mnt" "$root/proc"
    # The root is shared by every 7.x build: one at a time.
    status=0
    with_lock trixie-build sh -c '
        root=$1 mnt=$2 src=$3 kdir=$4 log=$5
        mount --bind "$src" "$mnt" || exit 1
        mount -t proc proc "$root/proc" || { umount "$mnt"; exit 1; }
        chroot "$root" make -C /mnt/shmcam/guest-driver KDIR="$kdir" \
            SHMCAM_INCLUDE=/mnt/shmcam/include W=1 > "$log" 2>&1
        rc=$?
        umount "$root/proc"
        umount "$mnt"
        exit $rc' sh "$root" "$mnt" "$src" "$kdir" "$log" || status=$?
    ;;
*)
    "$VM_SRC/fetch-kernel.sh" "$series"
    kdir=$VM_DIR/headers/$abi/usr/src/linux-headers-$abi
    [ -f "$kdir/Makefile" ] || die "no headers for $abi in $kdir"
    status=0
    make -C "$src/guest-driver" KDIR="$kdir" SHMCAM_INCLUDE="$src/include" \
        W=1 > "$log" 2>&1 || status=$?
    ;;
esac
if [ "$status" != 0 ]; then
    cat "$log" >&2
    die "shmcam.ko does not build for $abi (log: $log)"
fi
if grep -q 'warning:' "$log"; then
    grep -B2 -A4 'warning:' "$log" >&2
    die "shmcam.ko builds for $abi with warnings (log: $log)"
fi
cp "$src/guest-driver/shmcam.ko" "$out/shmcam.ko"
echo "$key" > "$out/module.key"
