#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-kernel.sh ABI: unpack Debian's linux-image-ABI (without installing
# it) into $VM_DIR/kernels/ABI: vmlinuz and lib/modules/ABI, with .ko.xz
# modules decompressed because busybox insmod reads plain .ko files only.
set -e
. "$(dirname -- "$0")/lib.sh"

abi=$(kabi_of "${1:?usage: fetch-kernel.sh ABI}")
dest=$VM_DIR/kernels/$abi
[ -f "$dest/.done" ] && exit 0

pkg=linux-image-$abi
cache=$VM_DIR/cache
mkdir -p "$cache"
deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
    step "downloading $pkg"
    (cd "$cache" && apt-get download -q "$pkg" >/dev/null) ||
        die "apt-get download $pkg failed (is the Debian archive reachable?)"
    deb=$(ls "$cache/${pkg}_"*.deb | head -n 1)
fi

step "unpacking $pkg"
rm -rf "$dest"
mkdir -p "$dest/root"
dpkg-deb -x "$deb" "$dest/root"
cp "$dest/root/boot/vmlinuz-$abi" "$dest/vmlinuz"
mv "$dest/root/lib/modules/$abi" "$dest/modules"
rm -rf "$dest/root"
find "$dest/modules" -name '*.ko.xz' -exec xz -d {} +
find "$dest/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} +
touch "$dest/.done"
