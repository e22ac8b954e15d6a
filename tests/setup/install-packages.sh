#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install the Debian 12 packages shmcam needs to build, test and demo.
# Called by ./configure (and so by `make`, `make check` and `make demo` on a
# fresh machine); safe to run again: only missing packages are installed.
#
#   meson ninja-build pkg-config libglib2.0-dev  host programs (glib)
#   libjson-glib-dev                              shmcam-host's QMP client
#   libturbojpeg0-dev                             the test pattern's MJPEG
#                                                 frames (libjpeg-turbo)
#   libpipewire-0.3-dev                           shmcam-host --pipewire
#   pipewire pipewire-bin wireplumber             tests/host/pipewire.sh: a
#   libspa-0.2-modules gstreamer1.0-pipewire      PipeWire daemon of its own,
#   gstreamer1.0-tools gstreamer1.0-plugins-base  GStreamer's camera on it
#   clang libclang-rt-dev                         libFuzzer for tests/fuzz,
#                                                 ASan and UBSan for make check
#   qemu-system-x86 (bookworm-backports, 10.0)    the VM tests and the demo
#   busybox-static cpio xz-utils zstd kmod        the guests' initramfs
#   mmdebstrap                                    the trixie root: 7.3's
#                                                 module build, the browser
#                                                 and DKMS guest
#   ffmpeg                                        demo snapshots (PNG, GIF)
#   debian-archive-keyring                        trixie's key, for the VM
#                                                 tests' v4l-utils download
#                                                 and trixie's QEMU source
#   dpkg-dev patch                                make qemu: dpkg-source
#                                                 unpacks trixie's QEMU with
#                                                 Debian's patches; patch
#                                                 applies the overlay's
# and the deb-src line of bookworm-backports, for the fallback QEMU source
# (make qemu, when trixie's cannot be had).
# The guest kernels and their headers are not installed: tests/vm fetches
# them into the build directory, for the ABIs tests/vm/kernels.sh resolves.
#
# Usage: install-packages.sh [--print]   (--print: list what is missing)
set -e

build_pkgs="gcc make libc6-dev meson ninja-build pkg-config libglib2.0-dev"
build_pkgs="$build_pkgs libjson-glib-dev libturbojpeg0-dev help2man"
build_pkgs="$build_pkgs libpipewire-0.3-dev"
test_pkgs="clang libclang-rt-dev busybox-static cpio xz-utils zstd kmod ffmpeg dwarves"
test_pkgs="$test_pkgs debian-archive-keyring mmdebstrap dpkg-dev patch"
test_pkgs="$test_pkgs pipewire pipewire-bin wireplumber libspa-0.2-modules"
test_pkgs="$test_pkgs gstreamer1.0-pipewire gstreamer1.0-tools"
test_pkgs="$test_pkgs gstreamer1.0-plugins-base"
backports_pkgs="qemu-system-x86"

have_backports() {
    grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list \
        /etc/apt/sources.list.d/ 2>/dev/null
}

missing() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q 'install ok installed' || echo "$p"
    done
}

if [ "$(id -u)" != 0 ] && [ "$1" != --print ]; then
    echo "install-packages: run as root to install packages" >&2
    exit 1
fi

# add_backports TYPES FILE WHAT: an apt source for bookworm-backports,
# then apt-get update (with --print, only say that it is missing).
updated=
add_backports() {
    if [ "$print" ]; then
        echo "$3"
        exit 0
    fi
    echo "install-packages: adding $3 to the apt sources"
    cat > "/etc/apt/sources.list.d/$2" <<SRC
Types: $1
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -q
    updated=1
}
print=
[ "$1" = --print ] && print=1

if ! have_backports; then
    add_backports "deb deb-src" bookworm-backports.sources "bookworm-backports"
fi

# No package lists yet (a fresh machine): nothing can be resolved.
if [ -z "$updated" ] && ! apt-cache show -q meson > /dev/null 2>&1; then
    [ "$print" ] && { echo "apt-get update"; exit 0; }
    apt-get update -q
    updated=1
fi

# make qemu fetches QEMU's source from bookworm-backports: a machine that
# had the suite without its deb-src gets that line too.
if ! apt-get source --print-uris -qq qemu/bookworm-backports >/dev/null 2>&1; then
    add_backports deb-src shmcam-backports-src.sources \
        "bookworm-backports' deb-src"
fi

need=$(missing $build_pkgs $test_pkgs)
need_bp=$(missing $backports_pkgs)
# Debian 12's own qemu is 7.2; the tests need 10.0 from backports.
if [ -z "$need_bp" ] && ! qemu-system-x86_64 --version 2>/dev/null |
        grep -q 'version \(9\|[1-9][0-9]\)\.'; then
    need_bp=$backports_pkgs
fi

if [ "$1" = --print ]; then
    echo $need $need_bp
    exit 0
fi
if [ -z "$need" ] && [ -z "$need_bp" ]; then
    exit 0
fi
[ -n "$updated" ] || apt-get update -q
echo "install-packages: installing $need $need_bp"
export DEBIAN_FRONTEND=noninteractive
[ -z "$need" ] || apt-get install -y -q --no-install-recommends $need
[ -z "$need_bp" ] || apt-get install -y -q --no-install-recommends \
    -t bookworm-backports $need_bp
