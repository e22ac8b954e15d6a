#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkinitramfs.sh ABI: the guests' base initramfs for kernel ABI,
# $VM_DIR/ABI/initramfs.cpio.zst, holding
#   busybox (static); /init and /guest come with each boot (run-vm.sh)
#   /modules: vivid, virtio_blk, shmcam.ko and their dependencies, with
#             NAME.deps listing what to insmod, in order, for NAME
#   /opt/v4l: the newest v4l-utils (sid or trixie, fetch-v4l-utils.sh),
#             run by /usr/bin/v4l2-{compliance,ctl}
#   /usr/local/bin/shmcam-{host,dump,firstread} and the libraries they
#             link to
set -e
. "$(dirname -- "$0")/lib.sh"

abi=$(kabi_of "${1:?usage: mkinitramfs.sh ABI}")
kern=$VM_DIR/kernels/$abi
out=$VM_DIR/$abi
sysroot=$VM_DIR/v4l-sysroot
[ -f "$kern/.done" ] || die "kernel $abi not unpacked (fetch-kernel.sh $abi)"
[ -f "$sysroot/.done" ] || die "no v4l-utils sysroot (fetch-v4l-utils.sh)"
command -v busybox >/dev/null || die "busybox not found (Debian: busybox-static)"

root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin \
    "$root"/usr/local/bin "$root"/proc "$root"/sys "$root"/dev "$root"/tmp \
    "$root"/modules "$root"/opt "$root"/test "$root"/guest "$root"/etc

busybox=$(command -v busybox)
! ldd "$busybox" >/dev/null 2>&1 ||
    die "$busybox is not static (Debian: busybox-static)"
cp "$busybox" "$root/bin/busybox"
for app in $("$busybox" --list-full); do
    [ -e "$root/$app" ] || ln -s /bin/busybox "$root/$app"
done

# Modules: a name -> file index, then each wanted module's dependencies
# depth first, so that NAME.deps is a valid insmod order.
find "$kern/modules/kernel" -name '*.ko' > "$out/modules.list"
modfile() {
    grep -E "/$(echo "$1" | sed 's/[-_]/[-_]/g')\.ko\$" "$out/modules.list" |
        head -n 1
}
is_builtin() {
    grep -qE "/$(echo "$1" | sed 's/[-_]/[-_]/g')\.ko\$" \
        "$kern/modules/modules.builtin"
}
# resolve NAME FILE: print NAME's dependencies, then NAME.
resolve() {
    _f=$2
    for _d in $(modinfo -F depends "$_f" | tr , ' '); do
        _df=$(modfile "$_d")
        if [ -z "$_df" ]; then
            is_builtin "$_d" && continue
            die "module $_d (needed by $1) not found in $abi"
        fi
        resolve "$_d" "$_df"
    done
    echo "$1"
}
add_module() {
    _name=$1
    _file=$2
    resolve "$_name" "$_file" | awk '!seen[$0]++' > "$root/modules/$_name.deps"
    for _m in $(cat "$root/modules/$_name.deps"); do
        [ "$_m" = "$_name" ] && _src=$_file || _src=$(modfile "$_m")
        cp "$_src" "$root/modules/$_m.ko"
    done
}
for m in vivid virtio_blk virtio_pci; do
    f=$(modfile $m)
    if [ -n "$f" ]; then
        add_module $m "$f"
    elif ! is_builtin $m; then
        die "module $m not found in $abi"
    fi
done
if [ -f "$out/shmcam.ko" ]; then
    add_module shmcam "$out/shmcam.ko"
else
    step "warning: no shmcam.ko for $abi; the guests will not have it"
fi

# The v4l-utils sysroot, run through its own loader and libraries.
cp -a "$sysroot" "$root/opt/v4l"
rm -f "$root/opt/v4l/.done"
for tool in v4l2-compliance v4l2-ctl media-ctl; do
    cat > "$root/usr/bin/$tool" <<WRAP
#!/bin/sh
exec /opt/v4l/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \\
    --library-path /opt/v4l/usr/lib/x86_64-linux-gnu \\
    /opt/v4l/usr/bin/$tool "\$@"
WRAP
    chmod 755 "$root/usr/bin/$tool"
done

# The host programs run in guests too (the camera test publishes from
# inside one), with the host's libraries; make bench's memcpy baseline,
# for the in-guest figures; and the compliance group's first read.
for prog in hw/shmcam-host hw/shmcam-dump tests/bench/bench-memcpy \
    tests/vm/shmcam-firstread; do
    if [ ! -x "$BUILD_DIR/$prog" ]; then
        step "warning: $BUILD_DIR/$prog not built; the guests will not have it"
        continue
    fi
    cp "$BUILD_DIR/$prog" "$root/usr/local/bin/"
    for lib in $(ldd "$BUILD_DIR/$prog" | awk '/=> \//{print $3} /^\t\//{print $1}'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
done
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"

step "packing initramfs for $abi"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
    zstd -q -T0 -3 > "$out/initramfs.cpio.zst.tmp"
mv "$out/initramfs.cpio.zst.tmp" "$out/initramfs.cpio.zst"
rm -rf "$root"
