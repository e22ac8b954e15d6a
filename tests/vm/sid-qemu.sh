#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# sid-qemu.sh: Debian sid's qemu-system-x86 (QEMU 11.1 when written; the
# version is whatever sid offers when the root is made), so that the
# groups on stock QEMU also run on the QEMU of a current distribution.
# Its packages and their dependency closure, without recommends, are
# unpacked once with mmdebstrap (variant extract: nothing is configured,
# nothing runs in the root) into $VM_DIR/sid-qemu-root, kept while the
# package list stays the same.  The archive is the one the host's apt
# uses for Debian (the first source of its own release), else
# deb.debian.org.
#
# Prints the path of $VM_DIR/sid-qemu-root/shmcam-qemu, which runs the
# root's qemu-system-x86_64 on the host, not in a chroot (it sees the
# host's kernels, initrds, /dev/shm and sockets), through the root's own
# dynamic loader and libraries, with the root's firmware (-L) and
# modules (QEMU_MODULE_DIR).  Progress goes to stderr; mmdebstrap's own
# log is in $VM_DIR/sid-qemu-root.log.
set -e
. "$(dirname -- "$0")/lib.sh"

root=$VM_DIR/sid-qemu-root
wrapper=$root/shmcam-qemu

# qemu-system-x86 depends on its firmware (seabios, ipxe-qemu) and data.
pkgs="qemu-system-x86"

# The root is kept while this list stays the same.
# shellcheck disable=SC2086 # one word per package
key=$(echo $pkgs | md5sum | cut -c1-32)
if [ "$(cat "$root/.shmcam-key" 2>/dev/null)" = "$key" ] &&
   [ -x "$wrapper" ]; then
    echo "$wrapper"
    exit 0
fi
if [ -z "$SHMCAM_SID_QEMU_LOCKED" ]; then
    SHMCAM_SID_QEMU_LOCKED=1 with_lock sid-qemu-root "$0" "$@"
    exit $?
fi
command -v mmdebstrap > /dev/null ||
    die "mmdebstrap not found (tests/setup/install-packages.sh installs it)"

# host_mirror: the URI of the first enabled "deb" source of the host's
# own release (its codename as a suite), in one-line or deb822 form;
# empty when there is none.
host_mirror() {
    _codename=$(sed -n 's/^VERSION_CODENAME=["]*\([^"]*\)["]*$/\1/p' \
        /etc/os-release)
    for _f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$_f" ] || continue
        awk -v s="$_codename" '
            $1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++
                if ($2 ~ /^\[/) i++
                if ($(i + 1) == s && $i ~ /^(https?|file):/) {
                    print $i
                    exit
                }
            }' "$_f"
    done
    for _f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$_f" ] || continue
        awk -v s="$_codename" '
            function stanza() {
                if (types ~ /(^| )deb( |$)/ && enabled != "no" &&
                    (" " suites " ") ~ (" " s " ") && uri ~ /^(https?|file):/)
                    print uri
                types = suites = uri = enabled = ""
            }
            /^[ \t]*$/ { stanza(); next }
            /^[ \t]*#/ { next }
            {
                k = tolower($1)
                sub(/^[^:]*:[ \t]*/, "")
                if (k == "types:") types = $0
                else if (k == "suites:") suites = $0
                else if (k == "uris:") uri = $1
                else if (k == "enabled:") enabled = tolower($1)
            }
            END { stanza() }' "$_f"
    done | head -n 1
}

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing (Debian: debian-archive-keyring)"
mirror=$(host_mirror)
mirror=${mirror:-http://deb.debian.org/debian}
# mmdebstrap's apt reads none of the host's configuration: what the
# host's apt says of a Release past its Valid-Until (accepted for a mirror
# that is a snapshot) is said to it too.  Signatures are checked anyway.
valid=true
eval "$(apt-config shell valid Acquire::Check-Valid-Until)"
log=$VM_DIR/sid-qemu-root.log
step "making the sid QEMU root in $root from $mirror (mmdebstrap; under a" \
    "minute on first use)"
rm -rf --one-file-system "$root" "$root.tmp"
start=$(date +%s)
# Descriptors 3 to 9 closed, as in trixie-root.sh: mmdebstrap hands apt
# "cat >&N" for the lowest free N, which dash refuses from 10 on.
# shellcheck disable=SC2086 # one word per package
if ! mmdebstrap --variant=extract --mode=root --format=directory \
        --keyring="$keyring" \
        --aptopt='APT::Install-Recommends "false"' \
        --aptopt="Acquire::Check-Valid-Until \"${valid:-true}\"" \
        --include="$(echo $pkgs | tr ' ' ,)" \
        sid "$root.tmp" "deb $mirror sid main" \
        > "$log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
then
    tail -n 20 "$log" >&2
    rm -rf --one-file-system "$root.tmp"
    die "mmdebstrap of the sid QEMU root failed (log: $log)"
fi
rm -rf "$root.tmp/usr/share/doc" "$root.tmp/usr/share/man" \
    "$root.tmp/usr/share/locale" "$root.tmp/var/cache/apt" \
    "$root.tmp/var/lib/apt/lists"

# The loader, the library and firmware directories as the final root
# will have them (the wrapper names $root, not $root.tmp).
loader=/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -e "$root.tmp$loader" ] || loader=/lib64/ld-linux-x86-64.so.2
[ -e "$root.tmp$loader" ] || die "the sid QEMU root has no dynamic loader"
[ -x "$root.tmp/usr/bin/qemu-system-x86_64" ] ||
    die "the sid QEMU root has no usr/bin/qemu-system-x86_64"
libdirs=
for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu; do
    [ -d "$root.tmp$d" ] && [ ! -L "$root.tmp$d" ] && libdirs="$libdirs $d"
done
# libpath ROOT: the library path of the root at ROOT.
libpath() {
    _p=
    for _d in $libdirs; do _p="$_p:$1$_d"; done
    echo "${_p#:}"
}
# The firmware directories this QEMU searches (-L help: /usr/share/qemu
# and /usr/share/seabios in sid), the root's first: -L puts them before
# the host's.
dirs=$("$root.tmp$loader" --library-path "$(libpath "$root.tmp")" \
    "$root.tmp/usr/bin/qemu-system-x86_64" -L help) ||
    die "the sid QEMU root's QEMU does not run here"
firmware=
for d in $dirs; do
    case "$d" in
    /*) [ -d "$root.tmp$d" ] && firmware="$firmware -L $root$d" ;;
    esac
done
[ -n "$firmware" ] || die "no firmware directory of QEMU in the sid root"
# Debian builds devices, displays and audio as modules.
moddir=/usr/lib/x86_64-linux-gnu/qemu
[ -d "$root.tmp$moddir" ] || die "the sid QEMU root has no $moddir"
{
    echo '#!/bin/sh'
    echo "# Debian sid's qemu-system-x86_64 from $root (sid-qemu.sh)."
    echo "QEMU_MODULE_DIR=$root$moddir"
    echo 'export QEMU_MODULE_DIR'
    echo "exec $root$loader --library-path $(libpath "$root") \\"
    echo "    $root/usr/bin/qemu-system-x86_64$firmware \"\$@\""
} > "$root.tmp/shmcam-qemu"
chmod 755 "$root.tmp/shmcam-qemu"
mv "$root.tmp" "$root"

version=$("$wrapper" --version 2>&1 | head -n 1) || version=
case "$version" in
"QEMU emulator version "*) ;;
*)
    rm -rf --one-file-system "$root"
    die "the sid QEMU root's QEMU does not run here: ${version:-no output}" ;;
esac
echo "$version" > "$root/.shmcam-version"
echo "$key" > "$root/.shmcam-key"
step "sid QEMU root ready in $(($(date +%s) - start)) s" \
    "($(du -sh "$root" | cut -f1)): $version"
echo "$wrapper"
