#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/kernels.sh, the guest kernels' resolver, fed apt-cache answers
# in the form the archive gives them (tests/unit/kernels/index-*): the
# "November" index has bookworm's kernel at 6.1.0-900, the "December" point
# release replaces it with 6.1.0-901.  The ABIs are made up (no Debian
# kernel has them), so that no archive change can move this test's ground.
# Checks what is printed, what is recorded in kernels.env, and the exact
# errors.
set -u
here=$(cd "$(dirname -- "$0")" && pwd)
resolver=$here/../vm/kernels.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VM_DIR="$tmp/vm"
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# resolve INDEX ARGS...: kernels.sh ARGS against the recorded INDEX; its
# stdout in $out, its stderr in $err, its status in $rc.
resolve() {
    _index=$1
    shift
    APT_CACHE="$here/kernels/fake-apt-cache.sh $_index" "$resolver" "$@" \
        > "$tmp/out" 2> "$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# expect NAME WANT_RC WANT_OUT WANT_ERR: the last resolve's results.
expect() {
    if [ "$rc" != "$2" ] || [ "$out" != "$3" ] || [ "$err" != "$4" ]; then
        fail "$1: status $rc, stdout '$out', stderr '$err';" \
            "expected $2, '$3', '$4'"
    else
        echo "ok: $1"
    fi
}

# recorded SERIES: the ABI kernels.env holds for SERIES.
recorded() {
    awk -v s="$1" '$1 == s { print $3 }' "$VM_DIR/kernels.env"
}

nov=$here/kernels/index-2026-11
dec=$here/kernels/index-2026-12

# A first resolution records what the metapackages name.
resolve "$nov" abi 6.1
expect "first resolution" 0 6.1.0-900-amd64 \
    "[vm] kernel 6.1: linux-image-amd64 in bookworm is 6.1.0-900-amd64"
resolve "$nov" abi 6.12
resolve "$nov" abi 7.3
[ "$(recorded 6.1) $(recorded 6.12) $(recorded 7.3)" = \
  "6.1.0-900-amd64 6.12.900+deb12-amd64 7.3.900+deb13-amd64" ] ||
    fail "kernels.env after the first resolutions: $(cat "$VM_DIR/kernels.env")"

# Asked again, the record answers, silently.
resolve "$nov" abi 6.1
expect "recorded" 0 6.1.0-900-amd64 ""

# A newer metapackage alone does not move a recorded ABI the archive
# still offers: the cached image and the headers stay a pair.
both=$tmp/index-both
cp -r "$dec" "$both"
cat "$nov/6.1.madison" >> "$both/6.1.madison"
resolve "$both" abi 6.1
expect "kept while offered" 0 6.1.0-900-amd64 ""

# The point release: 6.1.0-900 is gone, 6.1 follows linux-image-amd64.
resolve "$dec" abi 6.1
expect "ABI moved" 0 6.1.0-901-amd64 \
    "[vm] kernel 6.1: 6.1.0-900-amd64 is gone from bookworm; following linux-image-amd64 to 6.1.0-901-amd64"
[ "$(recorded 6.1) $(recorded 6.12) $(recorded 7.3)" = \
  "6.1.0-901-amd64 6.12.900+deb12-amd64 7.3.900+deb13-amd64" ] ||
    fail "kernels.env after the move: $(cat "$VM_DIR/kernels.env")"
resolve "$dec" list
expect "list" 0 "6.12 bookworm-backports 6.12.900+deb12-amd64
6.1 bookworm 6.1.0-901-amd64
7.3 trixie-backports 7.3.900+deb13-amd64" ""

# An override wins and leaves the record alone.
KABI_61=6.1.0-99-amd64 resolve "$dec" abi 6.1
expect "override" 0 6.1.0-99-amd64 ""
[ "$(recorded 6.1)" = 6.1.0-901-amd64 ] ||
    fail "the override changed kernels.env: $(cat "$VM_DIR/kernels.env")"

# What cannot be had is named.
rm "$VM_DIR/kernels.env"
noheaders=$tmp/index-noheaders
cp -r "$dec" "$noheaders"
grep -v linux-headers "$dec/6.1.madison" > "$noheaders/6.1.madison"
resolve "$noheaders" abi 6.1
expect "no headers" 1 "" \
    "ERROR: kernel 6.1: bookworm offers linux-image-6.1.0-901-amd64 but not linux-headers-6.1.0-901-amd64, which building shmcam.ko needs"
nometa=$tmp/index-nometa
cp -r "$dec" "$nometa"
: > "$nometa/7.3.depends"
resolve "$nometa" abi 7.3
expect "no metapackage" 1 "" \
    "ERROR: kernel 7.3: linux-image-amd64 in trixie-backports depends on no linux-image-*-amd64 (apt-get update? is trixie-backports in the apt sources?)"
[ ! -e "$VM_DIR/kernels.env" ] ||
    fail "a failed resolution wrote kernels.env: $(cat "$VM_DIR/kernels.env")"
resolve "$dec" abi 5.10
expect "unknown series" 1 "" \
    "ERROR: unknown kernel series '5.10' (known: 6.12 6.1 7.3)"

# The suite moved to a newer series: followed, with a note.
newer=$tmp/index-newer
cp -r "$dec" "$newer"
sed 's/6\.12\.900+deb12/6.18.900+deb12/' "$dec/6.12.depends" > "$newer/6.12.depends"
sed 's/6\.12\.900+deb12/6.18.900+deb12/' "$dec/6.12.madison" > "$newer/6.12.madison"
resolve "$newer" abi 6.12
expect "newer series" 0 6.18.900+deb12-amd64 \
    "[vm] note: the kernel in bookworm-backports is now 6.18.900+deb12-amd64; the 6.12 tests boot it
[vm] kernel 6.12: linux-image-amd64 in bookworm-backports is 6.18.900+deb12-amd64"

if [ "$failures" != 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all resolver checks passed"
