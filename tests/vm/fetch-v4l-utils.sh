#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-v4l-utils.sh: the newest v4l-utils that runs here, with the
# libraries it runs on, unpacked into the sysroot $VM_DIR/v4l-sysroot
# that the guests carry at /opt/v4l: sid's (1.32) when the archive has it
# and its v4l2-compliance starts, else trixie's (1.30).  Bookworm's
# v4l2-compliance (1.22) predates the ioctls of the kernels we boot.  The
# packages are v4l-utils and its run-time dependency closure, as the
# suite's apt-cache gives it, fetched with a private apt configuration
# (lib.sh apt_private): the host's sources, lists and cache are not
# touched.  $VM_DIR/v4l-sysroot/.suite says which suite it came from.
set -e
. "$(dirname -- "$0")/lib.sh"

dest=$VM_DIR/v4l-sysroot
[ -f "$dest/.done" ] && exit 0

# closure SET: v4l-utils and every package it needs to run, in SET.
closure() {
    apt_private "$1" apt-cache depends --recurse --no-recommends \
        --no-suggests --no-conflicts --no-breaks --no-replaces \
        --no-enhances v4l-utils | grep -v '^[ <]' | sort -u
}

# try SET: fetch SET's v4l-utils into $dest.tmp and check that its
# v4l2-compliance runs.
try() {
    _debs=$VM_DIR/cache/v4l-utils-$1
    mkdir -p "$_debs"
    _pkgs=$(closure "$1") || return 1
    [ -n "$_pkgs" ] || return 1
    _missing=
    for _p in $_pkgs; do
        ls "$_debs/${_p}_"*.deb > /dev/null 2>&1 || _missing="$_missing $_p"
    done
    if [ -n "$_missing" ]; then
        step "downloading $1's v4l-utils:$_missing"
        (cd "$_debs" && apt_private "$1" apt-get download $_missing \
            > /dev/null) || return 1
    fi
    step "unpacking $1's v4l-utils into $dest"
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    for _p in $_pkgs; do
        dpkg-deb -x "$(ls "$_debs/${_p}_"*.deb | head -n 1)" "$dest.tmp"
    done
    rm -rf "$dest.tmp/usr/share/doc" "$dest.tmp/usr/share/man" \
        "$dest.tmp/usr/share/locale"
    _lib=$dest.tmp/usr/lib/x86_64-linux-gnu
    _v=$("$_lib/ld-linux-x86-64.so.2" --library-path "$_lib" \
        "$dest.tmp/usr/bin/v4l2-compliance" --version 2>&1 | head -n 1) ||
        { step "$1's v4l2-compliance does not run here: $_v"; return 1; }
    step "v4l2-compliance from $1: $_v"
    echo "$1" > "$dest.tmp/.suite"
}

for set in sid trixie; do
    if try "$set"; then
        rm -rf "$dest"
        mv "$dest.tmp" "$dest"
        touch "$dest/.done"
        exit 0
    fi
    step "no usable v4l-utils from $set"
done
rm -rf "$dest.tmp"
die "no v4l-utils from sid or trixie could be fetched and run (is" \
    "deb.debian.org reachable?)"
