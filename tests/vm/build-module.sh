#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-module.sh ABI: build shmcam.ko for kernel ABI from a copy of
# guest-driver/ and include/ in $VM_DIR/ABI/src, so that builds for
# several kernels can run side by side and the source tree stays clean.
# The module ends up in $VM_DIR/ABI/shmcam.ko.
set -e
. "$(dirname -- "$0")/lib.sh"

abi=$(kabi_of "${1:?usage: build-module.sh ABI}")
kdir=/usr/src/linux-headers-$abi
[ -f "$kdir/Makefile" ] ||
    die "no headers for $abi in $kdir (tests/setup/install-packages.sh installs them)"

out=$VM_DIR/$abi
src=$out/src
# A fresh copy of the sources only: objects that `make module` left in
# guest-driver/ were built for another kernel.
rm -rf "$src"
mkdir -p "$src/guest-driver" "$src/include"
find "$SRC_ROOT/guest-driver" -maxdepth 1 -type f \( -name '*.[ch]' \
    -o -name Kbuild -o -name Makefile \) -exec cp {} "$src/guest-driver/" \;
cp "$SRC_ROOT"/include/*.h "$src/include/"
step "building shmcam.ko for $abi"
if ! make -s -C "$src/guest-driver" KDIR="$kdir" \
        SHMCAM_INCLUDE="$src/include" > "$out/module-build.log" 2>&1; then
    cat "$out/module-build.log" >&2
    rm -f "$out/shmcam.ko"
    die "shmcam.ko does not build for $abi (log: $out/module-build.log)"
fi
cp "$src/guest-driver/shmcam.ko" "$out/shmcam.ko"
