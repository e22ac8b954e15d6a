# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the trixie guest's tests (sourced by guest/init): those of
# the busybox guests (tests/vm/guest/lib.sh, here guest/common.sh: check,
# finish, video_node, capture_verify, ...), with modules loaded the way
# the installed system does it, by modprobe from /lib/modules.

. "$SHARE/guest/common.sh"

# modload NAME [PARAM=VALUE...]: NAME and its dependencies, by modprobe.
modload() {
    modprobe "$@"
}

# module_install FILE: FILE (shmcam.ko) into the running kernel's
# /lib/modules/ABI/updates, where modprobe finds it once depmod ran.
module_install() {
    _dir=/lib/modules/$(uname -r)/updates
    mkdir -p "$_dir" &&
        cp "$1" "$_dir/" &&
        depmod -a
}

# udev_up: systemd-udevd as a daemon (no init system runs it here), every
# device announced again, and their events handled: modules load by
# alias as on a booted system.
udev_up() {
    /usr/lib/systemd/systemd-udevd --daemon || return 1
    udevadm trigger --action=add &&
        udevadm settle --timeout=120
}

# host_cmd CMD...: as in common.sh, for dash (the trixie guest's sh),
# whose read has no -t: the wait bounded by timeout(1) instead.
host_cmd() {
    stty -F /dev/ttyS1 raw -echo 2>/dev/null
    printf '\nSHMCAM-HOST: %s\n' "$*"
    _answer=$(timeout "${HOST_WAIT:-120}" sh -c 'read -r l < /dev/ttyS1; echo "$l"' |
        tr -d '\r')
    [ "$_answer" = ok ] || { echo "host answered '$_answer' to '$*'"; return 1; }
}
