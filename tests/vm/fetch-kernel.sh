#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-kernel.sh SERIES: Debian's kernel of SERIES (6.12, 6.1, 7.3), at
# the ABI kernels.sh records, unpacked without installing anything:
#
#   $VM_DIR/kernels/ABI    vmlinuz and modules/ (lib/modules/ABI), with
#                          .ko.xz modules decompressed because busybox
#                          insmod reads plain .ko files only
#   $VM_DIR/headers/ABI    for 6.x: linux-headers-ABI with its -common and
#                          linux-kbuild companions, the tree shmcam.ko is
#                          built against (7.3's headers live in the trixie
#                          root, trixie-root.sh)
#
# Image and headers come from the same resolution, so they always match.
# When the archive no longer has the recorded ABI (a point release), the
# lists are refreshed and the series follows its metapackage.
set -e
. "$(dirname -- "$0")/lib.sh"

series=${1:?usage: fetch-kernel.sh SERIES}
abi=$(kabi_of "$series")
cache=$VM_DIR/cache
mkdir -p "$cache"

# download PKG...: the .debs of PKG... into $cache, unless already there.
download() {
    _missing=
    for _p in "$@"; do
        ls "$cache/${_p}_"*.deb > /dev/null 2>&1 || _missing="$_missing $_p"
    done
    [ -n "$_missing" ] || return 0
    step "downloading$_missing"
    (cd "$cache" && kernel_apt "$series" apt-get download \
        -o APT::Sandbox::User=root $_missing \
        > /dev/null)
}

# unpack DIR PKG...: the cached .debs of PKG... unpacked into DIR.
unpack() {
    _dir=$1
    shift
    for _p in "$@"; do
        dpkg-deb -x "$(ls "$cache/${_p}_"*.deb | head -n 1)" "$_dir"
    done
}

# The headers and their companions, named by linux-headers-ABI's own
# dependencies (linux-kbuild-6.1, linux-kbuild-6.12.95+deb12, ...).
header_pkgs() {
    echo "linux-headers-$abi"
    kernel_apt "$series" apt-cache depends "linux-headers-$abi" |
        sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p'
}

# The kernel's own packages: linux-image-ABI, and since 7.x the parts it
# is split into (linux-binary-ABI holds vmlinuz, linux-modules-ABI the
# modules, linux-base-ABI the rest).
image_pkgs() {
    echo "linux-image-$abi"
    kernel_apt "$series" apt-cache depends "linux-image-$abi" |
        sed -n "s/^ *Depends: \(linux-[a-z]*-$abi\)\$/\1/p"
}

# all_pkgs: what to download for $abi.
all_pkgs() {
    image_pkgs
    case "$series" in
    7.*) ;;
    *) header_pkgs ;;
    esac
}

pkgs=$(all_pkgs)
if ! download $pkgs; then
    step "apt-get download failed; refreshing the package lists"
    "$VM_SRC/kernels.sh" refresh "$series"
    abi=$(kabi_of "$series")
    pkgs=$(all_pkgs)
    download $pkgs ||
        die "apt-get download of" $pkgs "failed (is the Debian archive" \
            "reachable?)"
fi

dest=$VM_DIR/kernels/$abi
if [ ! -f "$dest/.done" ]; then
    step "unpacking linux-image-$abi"
    rm -rf "$dest"
    mkdir -p "$dest/root"
    unpack "$dest/root" $(image_pkgs)
    # /lib/modules, or /usr/lib/modules in a merged-/usr package, which
    # since 7.x holds vmlinuz too (6.x has it in /boot).
    for m in "$dest/root/lib/modules/$abi" "$dest/root/usr/lib/modules/$abi"; do
        [ -d "$m" ] && mv "$m" "$dest/modules"
    done
    [ -d "$dest/modules" ] || die "no modules in linux-image-$abi"
    for k in "$dest/root/boot/vmlinuz-$abi" "$dest/modules/vmlinuz"; do
        [ -f "$k" ] && mv "$k" "$dest/vmlinuz"
    done
    [ -f "$dest/vmlinuz" ] || die "no vmlinuz in linux-image-$abi"
    rm -rf "$dest/root"
    find "$dest/modules" -name '*.ko.xz' -exec xz -d {} +
    find "$dest/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} +
    touch "$dest/.done"
fi

hdest=$VM_DIR/headers/$abi
case "$series" in
7.*) exit 0 ;;
esac
[ -f "$hdest/.done" ] && exit 0
step "unpacking linux-headers-$abi"
rm -rf "$hdest"
mkdir -p "$hdest"
unpack "$hdest" $(header_pkgs)
# The per-flavour Makefile includes the -common tree by its absolute
# /usr/src path; point it into this copy.  The other links are relative.
mk=$hdest/usr/src/linux-headers-$abi/Makefile
[ -f "$mk" ] || die "linux-headers-$abi has no Makefile"
sed -i "s|/usr/src/|$hdest/usr/src/|g" "$mk"
touch "$hdest/.done"
