// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: module entry, and the parameters both buses share
 *
 * One module serves both ways QEMU gives a guest a shmcam region: ivshmem
 * (shmcam-ivshmem.c) and the shmcam-pci device (shmcam-pci.c).  Each has
 * its own PCI driver; the video device and the region code are common.
 */

#include <linux/module.h>
#include <linux/pci.h>

#include "shmcam-drv.h"

unsigned int shmcam_poll_divisor = 4;
module_param_named(poll_divisor, shmcam_poll_divisor, uint, 0644);
MODULE_PARM_DESC(poll_divisor,
		 "Without frame interrupts, poll the region this many times per frame interval (default 4)");

unsigned int shmcam_producer_timeout_ms = 2000;
module_param_named(producer_timeout_ms, shmcam_producer_timeout_ms, uint,
		   0644);
MODULE_PARM_DESC(producer_timeout_ms,
		 "Treat the producer as gone when its heartbeat stalls this long (default 2000)");

static int __init shmcam_init(void)
{
	int ret;

	ret = pci_register_driver(&shmcam_ivshmem_driver);
	if (ret)
		return ret;
	ret = pci_register_driver(&shmcam_pci_driver);
	if (ret)
		pci_unregister_driver(&shmcam_ivshmem_driver);
	return ret;
}
module_init(shmcam_init);

static void __exit shmcam_exit(void)
{
	pci_unregister_driver(&shmcam_pci_driver);
	pci_unregister_driver(&shmcam_ivshmem_driver);
}
module_exit(shmcam_exit);

MODULE_DESCRIPTION("V4L2 capture device for a shmcam region shared over ivshmem or shmcam-pci");
MODULE_AUTHOR("The shmcam authors");
MODULE_LICENSE("GPL");
