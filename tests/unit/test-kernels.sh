#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/kernels.sh, the guest kernels' resolver, fed apt-cache answers
# in the form the archive gives them (tests/unit/kernels/fake-apt-cache.sh
# reads them from an index directory that write_index makes here): the
# "November" index has bookworm's kernel at ABI number $old, the
# "December" point release replaces it with $new.  The numbers are made up
# (no Debian kernel has them) and exist only while the test runs, so that
# no archive change can move this test's ground and nothing in the tree
# names a kernel ABI.  Checks what is printed, what is recorded in
# kernels.env, and the exact errors.
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

# Made-up ABI numbers: November's, the point release's for 6.1, and one
# of the user's own that no index offers (KABI_61, an override).
old=900
new=901
own=902
a61=6.1.0-$old-amd64
b61=6.1.0-$new-amd64
o61=6.1.0-$own-amd64
a612=6.12.$old+deb12-amd64
a73=7.3.$old+deb13-amd64

# madison_line PACKAGE VERSION SUITE [ARCHIVE]: apt-cache madison's line.
madison_line() {
    printf '%s | %s | http://deb.debian.org/%s %s/main amd64 Packages\n' \
        "$1" "$2" "${4:-debian}" "$3"
}

# write_index DIR ABI61 VERSION61 SUITE61 ARCHIVE61: the answers of one
# state of the archive (SERIES.depends: `apt-cache depends
# linux-image-amd64` in the series' suite; SERIES.madison: `apt-cache
# madison` of the ABI's image and headers).
write_index() {
    mkdir -p "$1"
    printf 'linux-image-amd64\n  Depends: linux-image-%s\n' "$2" \
        > "$1/6.1.depends"
    printf 'linux-image-amd64\n  Depends: linux-image-%s\n' "$a612" \
        > "$1/6.12.depends"
    printf 'linux-image-amd64\n  Depends: linux-base-amd64\n  Depends: linux-image-%s\n  Depends: linux-modules-amd64\n' \
        "$a73" > "$1/7.3.depends"
    for _p in image headers; do
        madison_line "linux-$_p-$2" " $3" "$4" "${5:-}"
    done > "$1/6.1.madison"
    for _p in image headers; do
        madison_line "linux-$_p-$a612" "6.12.$old-1~bpo12+1" bookworm-backports
    done > "$1/6.12.madison"
    for _p in image headers; do
        madison_line "linux-$_p-$a73" "7.3.$old-1~bpo13+1" trixie-backports
    done > "$1/7.3.madison"
}

nov=$tmp/index-nov
dec=$tmp/index-dec
write_index "$nov" "$a61" "6.1.$old-1" bookworm
write_index "$dec" "$b61" "6.1.$new-3" bookworm-security debian-security

# A first resolution records what the metapackages name.
resolve "$nov" abi 6.1
expect "first resolution" 0 "$a61" \
    "[vm] kernel 6.1: linux-image-amd64 in bookworm is $a61"
resolve "$nov" abi 6.12
resolve "$nov" abi 7.3
[ "$(recorded 6.1) $(recorded 6.12) $(recorded 7.3)" = "$a61 $a612 $a73" ] ||
    fail "kernels.env after the first resolutions: $(cat "$VM_DIR/kernels.env")"

# Asked again, the record answers, silently.
resolve "$nov" abi 6.1
expect "recorded" 0 "$a61" ""

# A newer metapackage alone does not move a recorded ABI the archive
# still offers: the cached image and the headers stay a pair.
both=$tmp/index-both
cp -r "$dec" "$both"
cat "$nov/6.1.madison" >> "$both/6.1.madison"
resolve "$both" abi 6.1
expect "kept while offered" 0 "$a61" ""

# The point release: November's 6.1 ABI is gone, 6.1 follows
# linux-image-amd64.
resolve "$dec" abi 6.1
expect "ABI moved" 0 "$b61" \
    "[vm] kernel 6.1: $a61 is gone from bookworm; following linux-image-amd64 to $b61"
[ "$(recorded 6.1) $(recorded 6.12) $(recorded 7.3)" = "$b61 $a612 $a73" ] ||
    fail "kernels.env after the move: $(cat "$VM_DIR/kernels.env")"
resolve "$dec" list
expect "list" 0 "6.12 bookworm-backports $a612
6.1 bookworm $b61
7.3 trixie-backports $a73" ""

# An override wins and leaves the record alone.
KABI_61=$o61 resolve "$dec" abi 6.1
expect "override" 0 "$o61" ""
[ "$(recorded 6.1)" = "$b61" ] ||
    fail "the override changed kernels.env: $(cat "$VM_DIR/kernels.env")"

# What cannot be had is named.
rm "$VM_DIR/kernels.env"
noheaders=$tmp/index-noheaders
cp -r "$dec" "$noheaders"
grep -v linux-headers "$dec/6.1.madison" > "$noheaders/6.1.madison"
resolve "$noheaders" abi 6.1
expect "no headers" 1 "" \
    "ERROR: kernel 6.1: bookworm offers linux-image-$b61 but not linux-headers-$b61, which building shmcam.ko needs"
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
a618=6.18.$old+deb12-amd64
sed "s/$a612/$a618/" "$dec/6.12.depends" > "$newer/6.12.depends"
sed "s/$a612/$a618/" "$dec/6.12.madison" > "$newer/6.12.madison"
resolve "$newer" abi 6.12
expect "newer series" 0 "$a618" \
    "[vm] note: the kernel in bookworm-backports is now $a618; the 6.12 tests boot it
[vm] kernel 6.12: linux-image-amd64 in bookworm-backports is $a618"

if [ "$failures" != 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all resolver checks passed"
