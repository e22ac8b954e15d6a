/*
 * shmcam-pci: what differs between the QEMU versions it builds on
 *
 * The device is built and tested on QEMU 10.0 (Debian trixie's, with
 * Debian's patches).  Later QEMUs changed three APIs it uses; this is the
 * one place that knows, so that moving to one is a change here:
 *
 *  - 10.1: a class_init's data argument is const;
 *  - 10.1: a TypeInfo's interfaces are a const InterfaceInfo array;
 *  - later (the development tree after 10.1): the chardev frontend
 *    CharBackend is named CharFrontend.
 *
 * Builds on 10.1 and later are untested: the versions below are where the
 * changes appeared upstream, and a build there may need more.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_SHMCAM_QEMU_COMPAT_H
#define HW_MISC_SHMCAM_QEMU_COMPAT_H

#define SHMCAM_QEMU_AT_LEAST(major, minor) \
    (QEMU_VERSION_MAJOR > (major) || \
     (QEMU_VERSION_MAJOR == (major) && QEMU_VERSION_MINOR >= (minor)))

#if SHMCAM_QEMU_AT_LEAST(10, 1)
typedef const void *ShmcamClassData;
typedef const InterfaceInfo ShmcamInterfaceInfo;
#else
typedef void *ShmcamClassData;
typedef InterfaceInfo ShmcamInterfaceInfo;
#endif

#if SHMCAM_QEMU_AT_LEAST(10, 2)
typedef CharFrontend ShmcamCharFrontend;
#else
typedef CharBackend ShmcamCharFrontend;
#endif

#endif
