// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: module entry
 *
 * One module serves both ways QEMU gives a guest a shmcam region: ivshmem
 * (shmcam-ivshmem.c) and the shmcam-pci device (shmcam-pci.c).  Each has
 * its own PCI driver; both bring their devices up through shmcam-core.c,
 * and the video device and the region code are common.
 */

#include <linux/module.h>
#include <linux/pci.h>

#include "shmcam-drv.h"

static int __init shmcam_init(void)
{
	int ret;

	shmcam_core_init();
	ret = pci_register_driver(&shmcam_ivshmem_driver);
	if (ret)
		goto exit_core;
	ret = pci_register_driver(&shmcam_pci_driver);
	if (ret)
		goto unregister_ivshmem;
	return 0;

unregister_ivshmem:
	shmcam_ivshmem_unwatch();
	pci_unregister_driver(&shmcam_ivshmem_driver);
exit_core:
	shmcam_core_exit();
	return ret;
}
module_init(shmcam_init);

static void __exit shmcam_exit(void)
{
	shmcam_ivshmem_unwatch();
	pci_unregister_driver(&shmcam_pci_driver);
	pci_unregister_driver(&shmcam_ivshmem_driver);
	shmcam_core_exit();
}
module_exit(shmcam_exit);

MODULE_DESCRIPTION("V4L2 capture device for a shmcam region shared over ivshmem or shmcam-pci");
MODULE_AUTHOR("The shmcam authors");
MODULE_LICENSE("GPL");
