#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkimage.sh: the disk of the trixie guest, made from a copy of the
# trixie root (trixie-root.sh) by mke2fs -d, and beside it the root's
# kernel and Debian's own initrd of it:
#
#   $VM_DIR/trixie-image/disk.img     raw ext4, the guest's /dev/vda
#   $VM_DIR/trixie-image/vmlinuz
#   $VM_DIR/trixie-image/initrd.img
#
# The image adds guest-trixie/shmcam-init as /usr/local/sbin/shmcam-init
# (booted as init=: it mounts the 9p share and runs the test there) and
# the mount point /shmcam.  Guests boot it with snapshot=on, so it stays
# as made.  It is made again only when the root (its kernel ABI and its
# installed packages), this script or shmcam-init change: their sums are
# kept in trixie-image/key.  Prints the image's path.
set -e
. "$(dirname -- "$0")/lib.sh"

if [ -z "$SHMCAM_IMAGE_LOCKED" ]; then
    SHMCAM_IMAGE_LOCKED=1 with_lock trixie-image "$0" "$@"
    exit $?
fi
command -v mke2fs > /dev/null || die "mke2fs not found (Debian: e2fsprogs)"

root=$("$VM_SRC/trixie-root.sh")
abi=$(cat "$root/.shmcam-abi")
out=$VM_DIR/trixie-image
init=$VM_SRC/guest-trixie/shmcam-init
key=$(echo "$abi"; md5sum < "$root/var/lib/dpkg/status";
      md5sum < "$0"; md5sum < "$init")
if [ -f "$out/disk.img" ] && [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
    echo "$out/disk.img"
    exit 0
fi

step "making the trixie guest image for $abi in $out"
start=$(date +%s)
stage=$out/root.tmp
rm -rf "$stage" "$out/disk.img" "$out/key"
mkdir -p "$stage"
# The copy, under the lock that build-module.sh holds while it has the
# sources bound at /mnt/shmcam and proc mounted in the root; neither
# belongs in the image, even if a build left them behind.
with_lock trixie-build sh -c '
    root=$1 stage=$2
    { tar -C "$root" -cf - --numeric-owner --xattrs \
          --exclude=./proc/* --exclude=./mnt/shmcam/* . ||
          echo failed > "$stage.tar-failed"; } |
        tar -C "$stage" -xpf - --numeric-owner --xattrs
    [ $? = 0 ] && [ ! -e "$stage.tar-failed" ]' sh "$root" "$stage" || {
    rm -rf "$stage" "$stage.tar-failed"
    die "copying the trixie root $root failed"
}
mkdir -p "$stage/shmcam" "$stage/usr/local/sbin"
cp "$init" "$stage/usr/local/sbin/shmcam-init"
chmod 755 "$stage/usr/local/sbin/shmcam-init"
echo shmcam-trixie > "$stage/etc/hostname"

# Sized to fit: what the root holds, a quarter more for the file
# system's own blocks, and 1 GiB free for a test's writes (a DKMS build,
# a browser's cache), which go to QEMU's snapshot file anyway.
used=$(du -s --block-size=1M "$stage" | cut -f1)
files=$(find "$stage" | wc -l)
size=$((used + used / 4 + 1024))
if ! mke2fs -q -F -t ext4 -L shmcam-trixie -m 0 -N $((files * 2 + 65536)) \
        -d "$stage" "$out/disk.img.tmp" "${size}M" > "$out/mke2fs.log" 2>&1; then
    cat "$out/mke2fs.log" >&2
    rm -rf "$stage" "$out/disk.img.tmp"
    die "mke2fs -d of $stage failed"
fi
cp "$root/boot/vmlinuz-$abi" "$out/vmlinuz"
cp "$root/boot/initrd.img-$abi" "$out/initrd.img"
rm -rf "$stage"
mv "$out/disk.img.tmp" "$out/disk.img"
echo "$key" > "$out/key"
step "trixie guest image ready: ${size} MiB for ${used} MiB of files," \
    "$(($(date +%s) - start)) s"
echo "$out/disk.img"
