# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared by the tests/vm scripts (sourced, POSIX sh).  Everything they make
# lives under $VM_DIR (build/vm by default); downloads are kept in
# $VM_DIR/cache so that a second run needs no network.

VM_SRC=$(cd "$(dirname -- "$0")" && pwd)
SRC_ROOT=$(cd "$VM_SRC/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC_ROOT/build}
VM_DIR=${VM_DIR:-$BUILD_DIR/vm}

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
    # -o: the lock's descriptor stays with flock, not with "$@".
    flock -o "$_lock" "$@"
}

# The kernels the guests boot, by series: 6.12 (bookworm-backports), 6.1
# (bookworm), 7.3 (trixie-backports).  Each one's ABI is resolved from the
# archive once and recorded in $VM_DIR/kernels.env (kernels.sh); KABI_612,
# KABI_61 and KABI_73 in the environment override the record.
KERNEL_SERIES="6.12 6.1 7.3"

# kabi_of SERIES|ABI: the full kernel ABI name.
kabi_of() {
    case "$1" in
    *-amd64) echo "$1" ;;
    *) "$VM_SRC/kernels.sh" abi "$1" ;;
    esac
}

# apt_private SET CMD ARGS...: apt-get or apt-cache with a private apt
# configuration under $VM_DIR/cache/apt-SET, for the suites of SET:
# "trixie" (trixie and trixie-backports) or "sid".  The host's sources,
# lists and cache are not touched.  The lists are fetched on first use.
apt_private() {
    _set=$1
    shift
    _dir=$VM_DIR/cache/apt-$_set
    case "$_set" in
    trixie) _suites="trixie trixie-backports" ;;
    sid) _suites="sid" ;;
    *) die "apt_private: unknown suite set '$_set'" ;;
    esac
    _key=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$_key" ] || die "$_key missing (Debian: debian-archive-keyring)"
    mkdir -p "$_dir/lists/partial" "$_dir/cache/archives/partial" \
        "$_dir/empty"
    for _s in $_suites; do
        echo "deb [signed-by=$_key] http://deb.debian.org/debian $_s main"
    done > "$_dir/sources.list.new"
    if cmp -s "$_dir/sources.list.new" "$_dir/sources.list"; then
        rm -f "$_dir/sources.list.new"
    else
        mv "$_dir/sources.list.new" "$_dir/sources.list"
        rm -f "$_dir/lists/.updated"
    fi
    _opts="-q -o Dir::Etc::sourcelist=$_dir/sources.list
        -o Dir::Etc::sourceparts=$_dir/empty
        -o Dir::Etc::preferences=/dev/null
        -o Dir::Etc::preferencesparts=$_dir/empty
        -o Dir::State::lists=$_dir/lists -o Dir::State::status=/dev/null
        -o Dir::Cache=$_dir/cache -o APT::Sandbox::User=root"
    if [ ! -f "$_dir/lists/.updated" ]; then
        step "apt-get update for $_suites (private lists in $_dir)"
        # shellcheck disable=SC2086 # one word per option; no spaces in $_dir
        apt-get $_opts update > /dev/null ||
            die "apt-get update for $_suites failed" \
                "(is deb.debian.org reachable?)"
        touch "$_dir/lists/.updated"
    fi
    _cmd=$1
    shift
    # shellcheck disable=SC2086
    "$_cmd" $_opts "$@"
}

# kernel_apt SERIES CMD ARGS...: apt-get or apt-cache as the suite of
# kernel SERIES is seen: the host's apt for 6.x (bookworm and
# bookworm-backports), the private trixie one for 7.x.
kernel_apt() {
    _ks=$1
    shift
    case "$_ks" in
    7.*) apt_private trixie "$@" ;;
    *) "$@" ;;
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

# host_requests LOG: the guest's "SHMCAM-HOST: CMD ARGS" lines in its
# console log, in order, as far as the log's last newline: a request the
# guest is still writing is left for the next look, never taken cut short.
host_requests() {
    _size=$(stat -c %s "$1")
    if [ "$(head -c "$_size" "$1" | tail -c 1 | od -An -tx1 | tr -d ' \n')" = 0a ]; then
        head -c "$_size" "$1"
    else
        head -c "$_size" "$1" | sed '$d'
    fi | grep -ao 'SHMCAM-HOST: .*' | tr -d '\r'
}
