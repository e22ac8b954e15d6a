#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# prepare.sh SERIES...: everything a test guest needs, for each kernel
# series (6.12, 6.1, 7.3): the kernel unpacked at the ABI kernels.sh
# records, the newest v4l-utils that runs, shmcam.ko built for it, the
# base initramfs.  Serialised by a lock, so
# that tests started together prepare once.
set -e
. "$(dirname -- "$0")/lib.sh"

[ $# -gt 0 ] || set -- 6.12
if [ -z "$SHMCAM_PREPARE_LOCKED" ]; then
    SHMCAM_PREPARE_LOCKED=1 with_lock prepare "$0" "$@"
    exit $?
fi
"$VM_SRC/fetch-v4l-utils.sh"
rc=0
for k in "$@"; do
    "$VM_SRC/fetch-kernel.sh" "$k"
    # Without a module the guests still boot; the shmcam checks then fail
    # and say why, and this script's status tells the caller.
    "$VM_SRC/build-module.sh" "$k" || rc=1
    "$VM_SRC/mkinitramfs.sh" "$k"
done
exit $rc
