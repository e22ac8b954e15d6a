#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build a qemu-system-x86_64 that has the shmcam-pci device and a
# memory-backend-shm that takes a name, and their qtests.
#
# The QEMU tree is Debian's: the qemu source package of trixie (QEMU 10.0
# with Debian's patches applied, unpacked by dpkg-source into
# BUILD_DIR/qemu-src), so that the QEMU made is the distribution's plus
# shmcam-pci.  trixie's sources are read with a private apt configuration
# (BUILD_DIR/qemu-dl/apt); the host's stay as they are.  Only when that
# source cannot be had, the upstream tarball of bookworm-backports' 10.0
# is used instead, without Debian's patches, and the build says so.  Or
# the tree given with --qemu-src.  BUILD_DIR/qemu-src/shmcam-source says
# which it is.
#
# hw/qemu/ is overlaid onto the tree: files named shmcam* are the
# project's own and are copied in; each FILE.append is added to the end
# of the tree's FILE; each FILE.patch (a unified diff) is applied to it
# without fuzz (qapi/qom.json, backends/hostmem-shm.c), and a patch whose
# first line is "shmcam-upstream-sha256: SUM" applies only to the file of
# that checksum: when upstream's file changes, the build stops and says
# so, for the patch to be remade, instead of dropping upstream's change.
# Any other FILE would replace the tree's FILE; none does.  The tree
# keeps upstream's FILE as FILE.shmcam-orig, so that the overlay can be
# applied again and upstream's file stays at hand.
#
# QEMU 10.1 and later changed APIs the device uses (class_init's data is
# const, InterfaceInfo arrays are const, CharBackend became CharFrontend):
# hw/qemu/include/hw/misc/shmcam-qemu-compat.h is the one place that
# would absorb them; builds on 11.x are untested.  The build is small,
# for the VM tests and a headless guest of one's own: x86_64 only, KVM and
# TCG, the devices of hw/qemu/configs/devices/x86_64-softmmu/shmcam.mak,
# no other optional features, no documentation, firmware from the system's
# QEMU packages (the paths Debian's qemu-system-x86 searches).
#
# Debian 12's meson (1.0) is older than QEMU 10 accepts, so meson and
# pycotap come from bookworm-backports' .debs, unpacked into
# BUILD_DIR/qemu-tools: nothing of the system's packages changes apart from
# python3-venv, installed when missing.
#
# Usage: build-qemu.sh [--qemu-src=DIR] [--check [--tap-log=FILE]] BUILD_DIR
#   --check          also run the qtests: shmcam-pci's and memory-backend-shm's
#   --tap-log=FILE   append the qtests' TAP output to FILE too (the case
#                    count of make check)
#
# Outputs: BUILD_DIR/qemu-build/qemu-system-x86_64 and the qtests
# BUILD_DIR/qemu-build/tests/qtest/shmcam-pci-test and
# shmcam-hostmem-shm-test.
set -e

src_path=$(cd "$(dirname -- "$0")/../.." && pwd)
qemu_src=
check=
tap_log=/dev/null
build_dir=
for opt do
    case "$opt" in
    --qemu-src=*) qemu_src=${opt#--qemu-src=} ;;
    --check) check=yes ;;
    --tap-log=*) tap_log=${opt#--tap-log=} ;;
    -*) echo "build-qemu: unknown option '$opt'" >&2; exit 1 ;;
    *) build_dir=$opt ;;
    esac
done
if [ -z "$build_dir" ]; then
    echo "usage: build-qemu.sh [--qemu-src=DIR] [--check [--tap-log=FILE]]" \
        "BUILD_DIR" >&2
    exit 1
fi
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
qemu_build=$build_dir/qemu-build
tools=$build_dir/qemu-tools

# One build at a time: two ninjas in one build directory corrupt its logs.
exec 9> "$build_dir/qemu.lock"
flock 9

say() {
    echo "build-qemu: $*"
}
die() {
    echo "build-qemu: $*" >&2
    exit 1
}

installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
        grep -q 'install ok installed'
}

# QEMU's configure makes a Python venv; Debian keeps venv in python3-venv.
if ! installed python3-venv; then
    [ "$(id -u)" = 0 ] || die "python3-venv is missing; install it as root"
    say "installing python3-venv"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends python3-venv
fi

# meson >= 1.5 and pycotap, unpacked from bookworm-backports.
tools_site=$tools/root/usr/lib/python3/dist-packages
if [ ! -d "$tools_site/mesonbuild" ] || [ ! -d "$tools_site/pycotap" ]; then
    say "fetching meson and pycotap from bookworm-backports"
    rm -rf "$tools"
    mkdir -p "$tools/debs"
    (cd "$tools/debs" &&
        apt-get download meson/bookworm-backports \
            python3-pycotap/bookworm-backports) ||
        die "can't download meson and python3-pycotap from" \
            "bookworm-backports (tests/setup/install-packages.sh adds it)"
    for deb in "$tools"/debs/*.deb; do
        dpkg-deb -x "$deb" "$tools/root"
    done
fi
PYTHONPATH=$tools_site${PYTHONPATH:+:$PYTHONPATH}
export PYTHONPATH

# apt_trixie ARGS: apt-get ARGS with trixie's deb-src only, in lists and
# a cache of its own under BUILD_DIR/qemu-dl/apt (the lists fetched on
# first use).
apt_trixie() {
    _apt=$build_dir/qemu-dl/apt
    _key=/usr/share/keyrings/debian-archive-keyring.gpg
    mkdir -p "$_apt/lists/partial" "$_apt/cache/archives/partial" \
        "$_apt/empty"
    echo "deb-src [signed-by=$_key] http://deb.debian.org/debian trixie main" \
        > "$_apt/sources.list"
    if [ ! -f "$_apt/lists/.updated" ]; then
        apt_trixie_get update > /dev/null || return 1
        touch "$_apt/lists/.updated"
    fi
    apt_trixie_get "$@"
}
apt_trixie_get() {
    apt-get -q -o Dir::Etc::sourcelist="$_apt/sources.list" \
        -o Dir::Etc::sourceparts="$_apt/empty" \
        -o Dir::State::lists="$_apt/lists" -o Dir::State::status=/dev/null \
        -o Dir::Cache="$_apt/cache" -o APT::Sandbox::User=root "$@"
}

# fetch_debian_source: trixie's qemu source package, whatever version the
# archive has, unpacked with Debian's patches into $qemu_src.
fetch_debian_source() {
    dl=$build_dir/qemu-dl/trixie
    mkdir -p "$dl"
    if ! command -v dpkg-source > /dev/null; then
        say "dpkg-source is missing (apt-get install dpkg-dev)"
        return 1
    fi
    dsc=$(cd "$dl" && apt_trixie source --print-uris qemu \
          2>/dev/null | sed -n "s/^'[^']*' \([^ ]*\.dsc\) .*/\1/p")
    if [ -z "$dsc" ]; then
        say "trixie's qemu source is not known to apt"
        return 1
    fi
    if [ ! -f "$dl/$dsc" ]; then
        say "fetching trixie's qemu source (${dsc%.dsc})"
        (cd "$dl" && apt_trixie source --download-only qemu \
            > "$dl/download.log" 2>&1) || {
            say "can't download trixie's qemu source (log: $dl/download.log)"
            rm -f "$dl/$dsc"
            return 1
        }
    fi
    say "unpacking ${dsc%.dsc} with Debian's patches"
    rm -rf "$qemu_src" "$qemu_src.tmp"
    # apt checked every file against trixie's signed Sources.
    (cd "$dl" && dpkg-source --no-check -x "$dsc" "$qemu_src.tmp") \
        > "$dl/unpack.log" 2>&1 || {
        say "dpkg-source could not unpack $dsc (log: $dl/unpack.log)"
        rm -rf "$qemu_src.tmp"
        return 1
    }
    echo "Debian ${dsc%.dsc} (trixie, Debian's patches applied)" \
        > "$qemu_src.tmp/shmcam-source"
    mv "$qemu_src.tmp" "$qemu_src"
}

# fetch_orig_tarball: the upstream tarball of bookworm-backports' qemu.
fetch_orig_tarball() {
    say "falling back to bookworm-backports' upstream tarball: the QEMU" \
        "built will lack Debian's patches"
    dl=$build_dir/qemu-dl
    mkdir -p "$dl"
    uris=$(cd "$dl" &&
           apt-get source --print-uris qemu/bookworm-backports 2>/dev/null |
           grep "^'.*orig\.tar\.xz'" || true)
    [ -n "$uris" ] ||
        die "apt-get source knows no qemu in trixie nor in" \
            "bookworm-backports: add 'deb-src' to bookworm-backports' apt" \
            "source and run apt-get update"
    file=$(echo "$uris" | awk '{ print $2 }')
    sum=$(echo "$uris" | sed -n 's/.*SHA256:\([0-9a-f]*\).*/\1/p')
    if [ ! -f "$dl/$file" ]; then
        say "fetching $file"
        # The orig tarball is all that is needed; the Debian parts of
        # the source package may fail to download.
        (cd "$dl" && apt-get source --download-only \
            qemu/bookworm-backports >/dev/null 2>&1) || true
        [ -f "$dl/$file" ] || die "can't download $file"
    fi
    echo "$sum  $dl/$file" | sha256sum -c --quiet ||
        die "$dl/$file does not match its checksum"
    say "unpacking $file"
    rm -rf "$qemu_src" "$qemu_src.tmp"
    mkdir -p "$qemu_src.tmp"
    tar -xJf "$dl/$file" -C "$qemu_src.tmp" --strip-components=1
    echo "upstream ${file%.orig.tar.xz} (bookworm-backports' orig tarball," \
        "without Debian's patches)" > "$qemu_src.tmp/shmcam-source"
    mv "$qemu_src.tmp" "$qemu_src"
}

# The source tree.
if [ -n "$qemu_src" ]; then
    [ -f "$qemu_src/hw/misc/ivshmem-pci.c" ] ||
        die "--qemu-src=$qemu_src is not a QEMU source tree"
    qemu_src=$(cd "$qemu_src" && pwd)
else
    qemu_src=$build_dir/qemu-src
    if [ ! -f "$qemu_src/VERSION" ]; then
        fetch_debian_source || fetch_orig_tarball
    fi
    say "QEMU source: $(cat "$qemu_src/shmcam-source" 2>/dev/null ||
        echo "$qemu_src")"
fi

# install SRC DEST: copy only when different, so that ninja rebuilds only
# what changed.
install_file() {
    if ! cmp -s "$1" "$2"; then
        mkdir -p "$(dirname "$2")"
        cp "$1" "$2"
    fi
}

# keep_orig FILE: keep upstream's FILE as FILE.shmcam-orig the first time
# the overlay changes it.
keep_orig() {
    [ -f "$1.shmcam-orig" ] || cp "$1" "$1.shmcam-orig"
}

# The overlay.
overlay=$src_path/hw/qemu
(cd "$overlay" && find . -type f ! -name '*.append' ! -name '*.patch' |
    sort) |
while read -r f; do
    target=$qemu_src/${f#./}
    case "$(basename "$f")" in
    shmcam*) ;;
    *)
        [ -f "$target" ] ||
            die "hw/qemu/${f#./} replaces a file of QEMU's, but" \
                "$qemu_src has none (name a new file shmcam*)"
        keep_orig "$target" ;;
    esac
    install_file "$overlay/$f" "$target"
done
install_file "$src_path/include/shmcam.h" \
    "$qemu_src/include/hw/misc/shmcam.h"
(cd "$overlay" && find . -type f -name '*.append' | sort) |
while read -r f; do
    target=$qemu_src/${f%.append}
    keep_orig "$target"
    cat "$target.shmcam-orig" "$overlay/$f" > "$target.shmcam-new"
    install_file "$target.shmcam-new" "$target"
    rm -f "$target.shmcam-new"
done
(cd "$overlay" && find . -type f -name '*.patch' | sort) |
while read -r f; do
    target=$qemu_src/${f%.patch}
    keep_orig "$target"
    command -v patch > /dev/null ||
        die "patch is missing (apt-get install patch)"
    want=$(sed -n '1s/^shmcam-upstream-sha256: *\([0-9a-f]*\)$/\1/p' \
        "$overlay/$f")
    have=$(sha256sum < "$target.shmcam-orig" | cut -d' ' -f1)
    if [ -n "$want" ] && [ "$want" != "$have" ]; then
        die "upstream's ${f%.patch} changed (sha256 $have; hw/qemu/${f#./}" \
            "was made against $want): compare $target.shmcam-orig with" \
            "the file the patch was made for, and remake the patch"
    fi
    if ! patch -s -F0 --no-backup-if-mismatch -r /dev/null \
            -o "$target.shmcam-new" "$target.shmcam-orig" < "$overlay/$f"
    then
        rm -f "$target.shmcam-new"
        die "hw/qemu/${f#./} does not apply to $target.shmcam-orig" \
            "(upstream's file changed: remake the patch)"
    fi
    install_file "$target.shmcam-new" "$target"
    rm -f "$target.shmcam-new"
done
# Debian's +ds tarball has no firmware blobs: do not unpack edk2's.
if [ ! -f "$qemu_src/pc-bios/edk2-x86_64-code.fd.bz2" ]; then
    target=$qemu_src/meson.build
    keep_orig "$target"
    sed 's/^\( *unpack_edk2_blobs = \)bzip2\.found()$/\1false/' \
        "$target.shmcam-orig" > "$target.shmcam-new"
    install_file "$target.shmcam-new" "$target"
    rm -f "$target.shmcam-new"
fi

# Configure once per set of options.
firmware="/usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu"
set -- --python=/usr/bin/python3 --target-list=x86_64-softmmu \
    --without-default-features --without-default-devices \
    --with-devices-x86_64=shmcam --enable-kvm --disable-download \
    --disable-install-blobs \
    --disable-docs --firmwarepath="$(echo $firmware | tr ' ' :)"
# A tree unpacked anew keeps its files' old dates: ninja would keep what
# it generated from the last tree, so another tree means a new build.
options="$qemu_src $(cat "$qemu_src/shmcam-source" 2>/dev/null) $*"
if [ ! -f "$qemu_build/build.ninja" ] ||
   [ "$(cat "$qemu_build/shmcam-options" 2>/dev/null)" != "$options" ]; then
    say "configuring $qemu_src"
    rm -rf "$qemu_build"
    mkdir -p "$qemu_build"
    (cd "$qemu_build" && nice -n 19 "$qemu_src/configure" "$@") \
        > "$build_dir/qemu-configure.log" 2>&1 || {
        tail -n 30 "$build_dir/qemu-configure.log" >&2
        die "QEMU configure failed (log: $build_dir/qemu-configure.log)"
    }
    # So that ninja finds meson when run by hand, too.
    for site in "$qemu_build"/pyvenv/lib/python3*/site-packages; do
        echo "$tools_site" > "$site/shmcam-tools.pth"
    done
    echo "$options" > "$qemu_build/shmcam-options"
fi

# Run from the build tree, QEMU looks for every data directory under
# qemu-bundle/: point the firmware directories there at the system's.
for dir in $firmware; do
    if [ -d "$dir" ] && [ ! -e "$qemu_build/qemu-bundle$dir" ]; then
        mkdir -p "$qemu_build/qemu-bundle$(dirname "$dir")"
        ln -s "$dir" "$qemu_build/qemu-bundle$dir"
    fi
done

qtests="shmcam-pci-test shmcam-hostmem-shm-test"
say "building qemu-system-x86_64 and the qtests"
start=$(date +%s)
# shellcheck disable=SC2046 # one word per qtest
nice -n 19 ninja -C "$qemu_build" qemu-system-x86_64 \
    $(for t in $qtests; do echo "tests/qtest/$t"; done)
say "built in $(($(date +%s) - start)) s: $qemu_build/qemu-system-x86_64"

if [ -n "$check" ]; then
    case "$tap_log" in
    /*) ;;
    *) tap_log=$PWD/$tap_log ;;
    esac
    cd "$qemu_build"
    failed=
    for t in $qtests; do
        say "running $t"
        # The binary's status, not tee's.
        { QTEST_QEMU_BINARY=./qemu-system-x86_64 "tests/qtest/$t" --tap -k ||
            echo "$t" > "$build_dir/qtest.failed"; } | tee -a "$tap_log"
        if [ -f "$build_dir/qtest.failed" ]; then
            failed="$failed $t"
            rm -f "$build_dir/qtest.failed"
        fi
    done
    [ -z "$failed" ] || die "failed:$failed"
fi
