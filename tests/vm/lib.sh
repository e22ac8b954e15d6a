# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared by the tests/vm scripts (sourced, POSIX sh).  Everything they make
# lives under $VM_DIR (build/vm by default); downloads are kept in
# $VM_DIR/cache so that a second run needs no network.

VM_SRC=$(cd "$(dirname -- "$0")" && pwd)
SRC_ROOT=$(cd "$VM_SRC/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC_ROOT/build}
VM_DIR=${VM_DIR:-$BUILD_DIR/vm}

# The kernels the guests boot: 6.12 (bookworm-backports) by default, 6.1
# (bookworm).  Overridable for other Debian kernels.
KABI_612=${KABI_612:-6.12.95+deb12-amd64}
KABI_61=${KABI_61:-6.1.0-56-amd64}

die() {
    echo "ERROR: $*" >&2
    exit 1
}

# One progress line per step, on stderr so that stdout stays usable.
step() {
    echo "[vm] $*" >&2
}

# Run "$@" holding an exclusive lock named $1 under $VM_DIR, so that two
# tests started at once do not build the same thing twice.
with_lock() {
    _lock=$VM_DIR/.lock-$1
    shift
    mkdir -p "$VM_DIR"
    flock "$_lock" "$@"
}

# kabi_of 6.12|6.1|ABI: the full kernel ABI name.
kabi_of() {
    case "$1" in
    6.12) echo "$KABI_612" ;;
    6.1) echo "$KABI_61" ;;
    *) echo "$1" ;;
    esac
}

# make_initrd ABI DIR: DIR/initrd, the base initramfs of ABI preceded by a
# small archive of DIR/extra (the test's /test/env) plus /init and /guest
# taken from the source tree at each boot, so that editing a guest test
# needs no rebuild.  The kernel unpacks concatenated archives in order;
# an uncompressed one must come first.
make_initrd() {
    _base=$VM_DIR/$1/initramfs.cpio.zst
    [ -f "$_base" ] || die "no initramfs for $1 (tests/vm/prepare.sh $1)"
    mkdir -p "$2/extra/guest"
    cp "$VM_SRC"/guest/* "$2/extra/guest/"
    cp "$VM_SRC/guest/init" "$2/extra/init"
    chmod 755 "$2/extra/init"
    (cd "$2/extra" && find . | cpio -o -H newc --quiet) > "$2/extra.cpio"
    cat "$2/extra.cpio" "$_base" > "$2/initrd"
}
