#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# kernels.sh: the one source of truth for the guest kernels' ABIs.
#
#   kernels.sh abi SERIES   print the ABI of SERIES (6.12, 6.1, 7.3)
#   kernels.sh list         print "SERIES SUITE ABI" for every series
#   kernels.sh refresh SERIES   apt-get update for SERIES's suite, then
#                           resolve it again (a download of the recorded
#                           ABI failed: the lists were older than the
#                           archive)
#
# A series' ABI is what its suite's linux-image-amd64 depends on, resolved
# from the archive the first time it is asked for and recorded in
# $VM_DIR/kernels.env, which every script then reads (through kabi_of in
# lib.sh).  The record is kept while the archive still offers both
# linux-image-ABI and linux-headers-ABI; when a point release has replaced
# them, the series follows its metapackage again and the record changes.
#
#   series  suite               apt configuration
#   6.12    bookworm-backports  the host's
#   6.1     bookworm            the host's (bookworm-security included)
#   7.3     trixie-backports    private (lib.sh apt_private trixie)
#
# KABI_612, KABI_61 and KABI_73 in the environment override the record.
# APT_CACHE, when set, is run as "$APT_CACHE SERIES ARGS..." instead of
# apt-cache (the resolver's unit test feeds it recorded archive answers).
set -e
. "$(dirname -- "$0")/lib.sh"

KERNELS_ENV=${KERNELS_ENV:-$VM_DIR/kernels.env}

# kernel_suite SERIES: the Debian suite that SERIES comes from.
kernel_suite() {
    case "$1" in
    6.12) echo bookworm-backports ;;
    6.1) echo bookworm ;;
    7.3) echo trixie-backports ;;
    *) die "unknown kernel series '$1' (known: $KERNEL_SERIES)" ;;
    esac
}

# kernel_override SERIES: the ABI set in the environment for SERIES, if any.
kernel_override() {
    case "$1" in
    6.12) echo "${KABI_612:-}" ;;
    6.1) echo "${KABI_61:-}" ;;
    7.3) echo "${KABI_73:-}" ;;
    esac
}

# kernel_apt_cache SERIES ARGS...: apt-cache as SERIES's suite is seen.
kernel_apt_cache() {
    _series=$1
    shift
    if [ -n "${APT_CACHE:-}" ]; then
        $APT_CACHE "$_series" "$@"
        return
    fi
    case "$_series" in
    6.1) apt-cache "$@" ;;
    *) kernel_apt "$_series" apt-cache -t "$(kernel_suite "$_series")" "$@" ;;
    esac
}

# kernel_offered SERIES PACKAGE: whether the archive (not just the local
# dpkg database) still has PACKAGE.
kernel_offered() {
    kernel_apt_cache "$1" madison "$2" 2>/dev/null |
        grep -q "^ *$2 |.*Packages\$"
}

# kernel_resolve SERIES: the ABI that SERIES's linux-image-amd64 depends
# on now, checked for headers.  Dies naming the package when there is
# none.
kernel_resolve() {
    _suite=$(kernel_suite "$1")
    _abi=$(kernel_apt_cache "$1" depends linux-image-amd64 |
           sed -n 's/^ *Depends: linux-image-\([^ ]*-amd64\)$/\1/p' |
           head -n 1)
    [ -n "$_abi" ] ||
        die "kernel $1: linux-image-amd64 in $_suite depends on no" \
            "linux-image-*-amd64 (apt-get update? is $_suite in the" \
            "apt sources?)"
    kernel_offered "$1" "linux-headers-$_abi" ||
        die "kernel $1: $_suite offers linux-image-$_abi but not" \
            "linux-headers-$_abi, which building shmcam.ko needs"
    case "$_abi" in
    "$1".*) ;;
    *) step "note: the kernel in $_suite is now $_abi; the $1 tests boot it" ;;
    esac
    echo "$_abi"
}

# kernel_recorded SERIES: the ABI recorded for SERIES, if any.
kernel_recorded() {
    [ -f "$KERNELS_ENV" ] || return 0
    awk -v s="$1" '$1 == s { print $3 }' "$KERNELS_ENV"
}

# kernel_record SERIES ABI: replace SERIES's line in the record.
kernel_record() {
    mkdir -p "$(dirname "$KERNELS_ENV")"
    {
        echo "# SERIES SUITE ABI: the guest kernels, resolved from the" \
            "archive by tests/vm/kernels.sh"
        for _s in $KERNEL_SERIES; do
            if [ "$_s" = "$1" ]; then
                echo "$1 $(kernel_suite "$1") $2"
            else
                _r=$(kernel_recorded "$_s")
                [ -z "$_r" ] || echo "$_s $(kernel_suite "$_s") $_r"
            fi
        done
    } > "$KERNELS_ENV.tmp"
    mv "$KERNELS_ENV.tmp" "$KERNELS_ENV"
}

# kernel_abi SERIES: the override, else the record while the archive
# offers it, else a fresh resolution (recorded).
kernel_abi() {
    _o=$(kernel_override "$1")
    if [ -n "$_o" ]; then
        echo "$_o"
        return
    fi
    _suite=$(kernel_suite "$1")
    _r=$(kernel_recorded "$1")
    if [ -n "$_r" ]; then
        if kernel_offered "$1" "linux-image-$_r" &&
           kernel_offered "$1" "linux-headers-$_r"; then
            echo "$_r"
            return
        fi
        _n=$(kernel_resolve "$1")
        step "kernel $1: $_r is gone from $_suite; following" \
            "linux-image-amd64 to $_n"
    else
        _n=$(kernel_resolve "$1")
        step "kernel $1: linux-image-amd64 in $_suite is $_n"
    fi
    kernel_record "$1" "$_n"
    echo "$_n"
}

case "${1:-}" in
abi)
    [ -n "${2:-}" ] || die "usage: kernels.sh abi SERIES"
    kernel_suite "$2" > /dev/null
    if [ -n "$(kernel_override "$2")" ]; then
        kernel_override "$2"
    elif [ -z "${SHMCAM_KERNELS_LOCKED:-}" ]; then
        SHMCAM_KERNELS_LOCKED=1 with_lock kernels "$0" abi "$2"
    else
        kernel_abi "$2"
    fi
    ;;
refresh)
    [ -n "${2:-}" ] || die "usage: kernels.sh refresh SERIES"
    case "$2" in
    7.*) rm -f "$VM_DIR/cache/apt-trixie/lists/.updated"
         apt_private trixie apt-cache policy > /dev/null ;;
    *) apt-get update -q > /dev/null ||
           die "apt-get update failed (is the Debian archive reachable?)" ;;
    esac
    "$0" abi "$2" > /dev/null
    ;;
list)
    for s in $KERNEL_SERIES; do
        echo "$s $(kernel_suite "$s") $("$0" abi "$s")"
    done
    ;;
*)
    die "usage: kernels.sh abi SERIES | list | refresh SERIES"
    ;;
esac
