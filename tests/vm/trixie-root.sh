#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# trixie-root.sh: a Debian trixie root for the 7.3 kernel, made once with
# mmdebstrap into $VM_DIR/trixie-root and kept while the kernel's ABI
# stays the same (kernels.sh abi 7.3).  It serves twice:
#
#   - as the build root of shmcam.ko for 7.3, whose headers name gcc-14
#     (bookworm has gcc-12): build-module.sh runs make in it by chroot,
#     with /proc mounted (objtool reads it);
#   - as the userland of the trixie guest (mkimage.sh makes its disk):
#     the kernel with Debian's own initrd, udev, Chromium, DKMS.
#
# Prints the root's path.  Progress goes to stderr; mmdebstrap's own log
# is in $VM_DIR/trixie-root.log.
set -e
. "$(dirname -- "$0")/lib.sh"

abi=$(kabi_of 7.3)
root=$VM_DIR/trixie-root

# What building an out-of-tree module against the 7.3 headers takes.
build_pkgs="gcc-14 make libc6-dev bc kmod libelf-dev pahole xz-utils
    linux-headers-$abi"
# What the trixie guest runs: its kernel (with Debian's initrd), udev to
# load modules by alias, DKMS, a browser, v4l-utils, the libraries the
# host's shmcam-dump and shmcam-host link to (TurboJPEG for the test
# pattern's MJPEG frames, json-glib, libpipewire), and PipeWire with
# WirePlumber and GStreamer's PipeWire elements: the desktop's camera
# service and an application of it (the pipewire group).
# linux-base comes from trixie-backports too: the kernel needs a newer one
# than trixie's, and apt prefers trixie's unless told.  So do PipeWire,
# its SPA plugins, WirePlumber and GStreamer's PipeWire element, with
# their libraries (whatever version the backports offer): trixie's
# PipeWire 1.4 cannot serve vivid at all, since its V4L2 plugin reads
# every integer control back with VIDIOC_G_CTRL, which the kernel refuses
# for vivid's array control, and the node's Props then fail as a whole
# ("impl_node_enum_params() error: Invalid argument"); the backports' 1.6
# skips a control it cannot read (logged at debug level).
pw_pkgs="pipewire pipewire-bin libpipewire-0.3-0t64 libpipewire-0.3-modules
    libspa-0.2-modules wireplumber libwireplumber-0.5-0 gstreamer1.0-pipewire"
guest_pkgs="linux-image-$abi linux-base/trixie-backports initramfs-tools
    udev dkms chromium fonts-dejavu-core procps iproute2 ca-certificates
    v4l-utils libturbojpeg0 libjson-glib-1.0-0
    $(for p in $pw_pkgs; do echo "$p/trixie-backports"; done)
    gstreamer1.0-tools"

# The root is kept while its ABI and these lists stay the same.
# shellcheck disable=SC2086 # one word per package
key="$abi $(echo $build_pkgs $guest_pkgs | md5sum | cut -c1-32)"
if [ "$(cat "$root/.shmcam-key" 2>/dev/null)" = "$key" ]; then
    echo "$root"
    exit 0
fi
if [ -z "$SHMCAM_TRIXIE_LOCKED" ]; then
    SHMCAM_TRIXIE_LOCKED=1 with_lock trixie-root "$0" "$@"
    exit $?
fi
command -v mmdebstrap > /dev/null ||
    die "mmdebstrap not found (tests/setup/install-packages.sh installs it)"

# remove_root DIR...: remove a root, first unmounting what an interrupted
# mmdebstrap or module build left mounted in it (proc, sys, the source
# bind mount), and never crossing into another file system.
remove_root() {
    for _r in "$@"; do
        [ -e "$_r" ] || continue
        awk -v r="$_r/" 'index($2, r) == 1 { print $2 }' /proc/mounts |
            sort -r | while read -r _m; do umount -l "$_m"; done
        rm -rf --one-file-system "$_r"
    done
}

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=http://deb.debian.org/debian
step "making the trixie root for $abi in $root (mmdebstrap; a few minutes" \
    "on first use)"
remove_root "$root" "$root.tmp"
start=$(date +%s)
# Descriptors 3 to 9 closed: mmdebstrap hands apt "cat >&N" for the
# lowest free N, which dash refuses from 10 on ("Bad fd number"), and the
# locks and pipes of the callers (meson, prepare.sh) take the low ones.
if ! mmdebstrap --variant=apt --mode=root --format=directory \
        --keyring="$keyring" \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/en*' \
        --include="$(echo $build_pkgs $guest_pkgs | tr ' ' ,)" \
        trixie "$root.tmp" "deb $mirror trixie main" \
        "deb $mirror trixie-backports main" \
        > "$VM_DIR/trixie-root.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
then
    tail -n 20 "$VM_DIR/trixie-root.log" >&2
    remove_root "$root.tmp"
    die "mmdebstrap of the trixie root failed (log: $VM_DIR/trixie-root.log)"
fi
[ -f "$root.tmp/usr/src/linux-headers-$abi/Makefile" ] ||
    die "the trixie root has no linux-headers-$abi"
echo "$abi" > "$root.tmp/.shmcam-abi"
echo "$key" > "$root.tmp/.shmcam-key"
mv "$root.tmp" "$root"
step "trixie root ready in $(($(date +%s) - start)) s"
echo "$root"
