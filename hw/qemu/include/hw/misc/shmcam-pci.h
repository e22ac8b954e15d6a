/*
 * shmcam-pci: a read-only camera frame area fed by shmcam-host
 *
 * Register map and socket protocol shared by the device model and its
 * qtest.  docs/specs/shmcam-pci.rst describes both in prose.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_SHMCAM_PCI_H
#define HW_MISC_SHMCAM_PCI_H

#define TYPE_SHMCAM_PCI "shmcam-pci"

/*
 * 1af4:10f0..10ff is the range QEMU's docs/specs/pci-ids.rst leaves for
 * experimental devices; an official ID replaces this one before the
 * device is shipped outside this project.
 */
#define SHMCAM_PCI_VENDOR_ID        0x1af4
#define SHMCAM_PCI_DEVICE_ID        0x10fc
#define SHMCAM_PCI_REVISION         1

#define SHMCAM_PCI_REG_BAR          0
#define SHMCAM_PCI_MSIX_BAR         1
#define SHMCAM_PCI_FRAME_BAR        2
#define SHMCAM_PCI_REG_BAR_SIZE     0x1000

/* BAR0 registers, 32 bits each unless noted */
#define SHMCAM_PCI_REG_ID           0x00    /* RO: SHMCAM_PCI_ID */
#define SHMCAM_PCI_REG_VERSION      0x04    /* RO: register interface */
#define SHMCAM_PCI_REG_STATUS       0x08    /* RO: SHMCAM_PCI_STATUS_* */
#define SHMCAM_PCI_REG_CONSUMER     0x0c    /* RO: consumer index, or ~0 */
#define SHMCAM_PCI_REG_INTR_STATUS  0x10    /* RW1C: SHMCAM_PCI_INTR_* */
#define SHMCAM_PCI_REG_INTR_MASK    0x14    /* RW: SHMCAM_PCI_INTR_* */
#define SHMCAM_PCI_REG_DOORBELL     0x18    /* WO: any write rings the host */
#define SHMCAM_PCI_REG_CONNECTS     0x1c    /* RO: host attachments so far */
#define SHMCAM_PCI_REG_CONSUMER_AREA 0x100  /* RW window, 128 bytes */
#define SHMCAM_PCI_CONSUMER_AREA_SIZE 128

#define SHMCAM_PCI_ID               0x4d434853  /* "SHCM" little-endian */
#define SHMCAM_PCI_VERSION          1

#define SHMCAM_PCI_STATUS_CONNECTED (1u << 0)

#define SHMCAM_PCI_INTR_FRAME       (1u << 0)
#define SHMCAM_PCI_INTR_CONNECTION  (1u << 1)
#define SHMCAM_PCI_INTR_ALL         (SHMCAM_PCI_INTR_FRAME | \
                                     SHMCAM_PCI_INTR_CONNECTION)

/* MSI-X vectors */
#define SHMCAM_PCI_VECTOR_FRAME     0
#define SHMCAM_PCI_VECTOR_CONNECTION 1
#define SHMCAM_PCI_VECTORS          2

/*
 * Socket protocol.  Each message is a sequence of little-endian int64.
 *
 * Device to host, at every connection: SHMCAM_PCI_PROTOCOL, the region
 * size, with three descriptors attached (SCM_RIGHTS) in this order: the
 * memdev, the frame eventfd (host to guest), the doorbell eventfd (guest
 * to host).
 *
 * Host to device: SHMCAM_PCI_PROTOCOL, then the consumer index the guest
 * owns (0..SHMCAM_MAX_CONSUMERS-1), or a negative errno if the host
 * refuses the region.
 */
#define SHMCAM_PCI_PROTOCOL         1
#define SHMCAM_PCI_HELLO_FDS        3
#define SHMCAM_PCI_FD_REGION        0
#define SHMCAM_PCI_FD_FRAME         1
#define SHMCAM_PCI_FD_DOORBELL      2

#endif /* HW_MISC_SHMCAM_PCI_H */
