#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-v4l-utils.sh: trixie's v4l-utils (1.30) and the libraries it runs
# on, unpacked into the sysroot $VM_DIR/trixie-sysroot that the guests
# mount at /opt/trixie.  Bookworm's v4l2-compliance (1.22) predates the
# ioctls of the kernels we boot.  A private apt configuration fetches the
# trixie packages: the host's sources, lists and cache are not touched.
set -e
. "$(dirname -- "$0")/lib.sh"

dest=$VM_DIR/trixie-sysroot
[ -f "$dest/.done" ] && exit 0

# v4l2-compliance and v4l2-ctl, their libraries and (checked with
# apt-cache depends on trixie) every run-time dependency of those.
pkgs="v4l-utils libv4l-0t64 libv4lconvert0t64 libv4l2rds0t64 libc6
      libgcc-s1 libstdc++6 libudev1 libjpeg62-turbo libcap2"

apt_dir=$VM_DIR/cache/apt-trixie
debs=$VM_DIR/cache/trixie-debs
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
    "$apt_dir/empty" "$debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing (Debian: debian-archive-keyring)"
cat > "$apt_dir/sources.list" <<SRC
deb [signed-by=$keyring] http://deb.debian.org/debian trixie main
SRC
apt_private() {
    "$@" -q -o Dir::Etc::sourcelist="$apt_dir/sources.list" \
        -o Dir::Etc::sourceparts="$apt_dir/empty" \
        -o Dir::Etc::preferences=/dev/null \
        -o Dir::Etc::preferencesparts="$apt_dir/empty" \
        -o Dir::State::lists="$apt_dir/lists" \
        -o Dir::Cache="$apt_dir/cache" -o APT::Sandbox::User=root
}

missing=
for p in $pkgs; do
    ls "$debs/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    step "downloading trixie packages:$missing"
    if [ ! -f "$apt_dir/lists/.updated" ]; then
        apt_private apt-get update >/dev/null ||
            die "apt-get update for trixie failed (is deb.debian.org reachable?)"
        touch "$apt_dir/lists/.updated"
    fi
    # The sysroot must be complete: report a dependency missing from
    # the list above instead of failing later inside a guest.
    for dep in $(apt_private apt-cache depends --no-recommends \
            --no-suggests --no-conflicts --no-breaks --no-replaces \
            --no-enhances v4l-utils libv4l-0t64 libv4lconvert0t64 \
            libv4l2rds0t64 libstdc++6 libjpeg62-turbo libudev1 libcap2 |
            sed -n 's/^ *\(Pre\)\{0,1\}Depends: \([^ <]*\).*/\2/p' |
            sort -u); do
        # gcc-14-base holds only documentation.
        case " $(echo $pkgs) gcc-14-base " in
        *" $dep "*) ;;
        *) step "note: trixie dependency $dep not in the sysroot list" ;;
        esac
    done
    (cd "$debs" && apt_private apt-get download $missing >/dev/null) ||
        die "downloading trixie's$missing failed"
fi

step "unpacking trixie v4l-utils into $dest"
rm -rf "$dest"
mkdir -p "$dest"
for p in $pkgs; do
    dpkg-deb -x "$(ls "$debs/${p}_"*.deb | head -n 1)" "$dest"
done
rm -rf "$dest/usr/share/doc" "$dest/usr/share/man" "$dest/usr/share/locale"
[ -x "$dest/usr/lib64/ld-linux-x86-64.so.2" ] ||
    [ -e "$dest/lib64/ld-linux-x86-64.so.2" ] ||
    die "no dynamic loader in trixie's libc6"
touch "$dest/.done"
