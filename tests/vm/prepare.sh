#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# prepare.sh KERNEL...: everything a test guest needs, for each kernel
# (6.12, 6.1 or a full ABI): the kernel unpacked, trixie's v4l-utils,
# shmcam.ko built for it, the base initramfs.  Serialised by a lock, so
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
    abi=$(kabi_of "$k")
    "$VM_SRC/fetch-kernel.sh" "$abi"
    # Without a module the guests still boot; the shmcam checks then fail
    # and say why, and this script's status tells the caller.
    "$VM_SRC/build-module.sh" "$abi" || rc=1
    "$VM_SRC/mkinitramfs.sh" "$abi"
done
exit $rc
