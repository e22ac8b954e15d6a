# SPDX-License-Identifier: GPL-2.0-or-later
#
# The dkms group: shmcam.ko built inside the guest by DKMS from the
# project's source (the share's src/: guest-driver/ and include/), with
# the guest's own gcc and kernel headers, through make dkms-install;
# then udev, started only now, loads it by the ivshmem device's PCI
# alias, and its captures verify byte for byte; make dkms-uninstall
# removes it again.  Each step checks what a user would look at: dkms
# status, where the module went, its signer, its aliases, lsmod, the
# capture node's driver.  DKMS_VERSION is dkms.conf's PACKAGE_VERSION.

OUT=$SHARE/out
mkdir -p "$OUT"
KVER=$(uname -r)
SRC=/root/shmcam

# Before dkms-install the system has no shmcam module at all.
no_module() {
    ! modinfo -n shmcam 2>/dev/null && not_loaded
}

not_loaded() {
    if lsmod | grep -q '^shmcam '; then
        echo "shmcam is loaded already"
        return 1
    fi
}

# make dkms-install from a copy of the source; its output goes to
# $OUT/dkms-install.log (the build under emulation takes minutes).
dkms_install() {
    rm -rf "$SRC"
    cp -r "$SHARE/src" "$SRC" || return 1
    _t0=$(date +%s)
    make -C "$SRC/guest-driver" dkms-install > "$OUT/dkms-install.log" 2>&1
    _rc=$?
    echo "make dkms-install: exit $_rc after $(($(date +%s) - _t0)) s"
    tail -n 30 "$OUT/dkms-install.log"
    cp /var/lib/dkms/shmcam/"$DKMS_VERSION"/build/make.log \
        "$OUT/dkms-make.log" 2>/dev/null
    [ "$_rc" = 0 ]
}

dkms_installed() {
    _st=$(dkms status shmcam)
    echo "dkms status: $_st"
    [ "$_st" = "shmcam/$DKMS_VERSION, $KVER, x86_64: installed" ]
}

# The module is where DKMS puts it (compressed as the kernel's own
# modules), and its source tree is in /usr/src.
module_placed() {
    _f=$(modinfo -n shmcam) || return 1
    echo "modinfo -n shmcam: $_f"
    case "$_f" in
    "/lib/modules/$KVER/updates/dkms/shmcam.ko"*) ;;
    *) return 1 ;;
    esac
    if [ ! -f "/usr/src/shmcam-$DKMS_VERSION/guest-driver/Kbuild" ] ||
       [ ! -f "/usr/src/shmcam-$DKMS_VERSION/include/shmcam.h" ]; then
        echo "no source tree /usr/src/shmcam-$DKMS_VERSION"
        return 1
    fi
}

# Signed with DKMS's own key (what Secure Boot users enrol as a MOK,
# README.rst): the module names it as its signer, and the certificate
# beside the key says the same.
module_signed() {
    _signer=$(modinfo -F signer shmcam)
    _subject=$(openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout \
        -subject 2>&1)
    echo "signer: '$_signer'; /var/lib/dkms/mok.pub: $_subject"
    [ -f /var/lib/dkms/mok.key ] &&
        [ "$_signer" = "DKMS module signing key" ] &&
        [ "$_subject" = "subject=CN=DKMS module signing key" ]
}

# Both PCI IDs are in the module's aliases, and depmod's alias table,
# which udev's lookup reads, names shmcam for ivshmem.
module_aliases() {
    modinfo -F alias shmcam | sort > /tmp/alias.out
    cat /tmp/alias.out
    printf '%s\n' 'pci:v00001AF4d000010FCsv*sd*bc*sc*i*' \
        'pci:v00001AF4d00001110sv*sd*bc*sc*i*' | cmp -s - /tmp/alias.out || {
        echo "aliases differ from ivshmem 1af4:1110 and shmcam-pci 1af4:10fc"
        return 1
    }
    grep -q '^alias pci:v00001AF4d00001110sv\*sd\*bc\*sc\*i\* shmcam$' \
        "/lib/modules/$KVER/modules.alias" ||
        { echo "depmod's modules.alias does not name shmcam for 1af4:1110"; return 1; }
}

# udev loads the module for the device that was there all along, as at
# the next boot: nothing else here loads it.
udev_loads() {
    udev_up || { echo "udev did not start or settle"; return 1; }
    lsmod | grep '^shmcam ' || { echo "udev did not load shmcam"; return 1; }
    _i=0
    while ! DEV=$(video_node shmcam) && [ $_i -lt 50 ]; do
        sleep 0.2
        _i=$((_i + 1))
    done
    [ -n "$DEV" ] || { echo "no shmcam capture node"; return 1; }
    v4l2-ctl -d "$DEV" --info
    v4l2-ctl -d "$DEV" --info | grep -q '^	Driver name *: shmcam$'
}

dkms_uninstall() {
    if lsmod | grep -q '^shmcam '; then
        rmmod shmcam || return 1
    fi
    make -C "$SRC/guest-driver" dkms-uninstall > "$OUT/dkms-uninstall.log" 2>&1
    _rc=$?
    cat "$OUT/dkms-uninstall.log"
    echo "make dkms-uninstall: exit $_rc; dkms status: '$(dkms status shmcam)'"
    [ "$_rc" = 0 ] && [ -z "$(dkms status shmcam)" ] &&
        ! modinfo -n shmcam 2>/dev/null &&
        [ ! -e "/usr/src/shmcam-$DKMS_VERSION" ] &&
        [ ! -e "/var/lib/dkms/shmcam" ]
}

check no-module-before no_module
check dkms-install dkms_install
check dkms-status-installed dkms_installed
check module-placed module_placed
check module-signed module_signed
check module-aliases module_aliases
check not-loaded-by-install not_loaded
check udev-loads-shmcam udev_loads
check capture-yuyv capture_verify YUYV 640x480 30
check dkms-uninstall dkms_uninstall
finish
