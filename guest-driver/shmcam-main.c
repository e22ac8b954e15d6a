// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: module entry, and the parameters both buses share
 *
 * One module serves both ways QEMU gives a guest a shmcam region: ivshmem
 * (shmcam-ivshmem.c) and the shmcam-pci device (shmcam-pci.c).  Each has
 * its own PCI driver; the video device and the region code are common.
 */

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

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

/* /sys/kernel/debug/shmcam/<PCI device>/status, when debugfs is there */
static struct dentry *shmcam_debugfs_root;

static int shmcam_status_show(struct seq_file *m, void *unused)
{
	char *text = kmalloc(PAGE_SIZE, GFP_KERNEL);

	if (!text)
		return -ENOMEM;
	shmcam_region_status(m->private, text, PAGE_SIZE);
	seq_puts(m, text);
	kfree(text);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shmcam_status);

/**
 * shmcam_probe - bring up a device whose bus has mapped the region
 * @s: the device, from kzalloc(), with base, size, bus_info, doorbell,
 *     cons_index and the bus hooks set
 * @dev: the bus device, parent of the video device
 * @irqs_on: requests the bus's frame interrupts (called when s->doorbell)
 *
 * The interrupts come last: the worker they queue uses the video device.
 * Until then a client that starts streaming is served by the timer.
 *
 * Return: 0, or a negative errno with @s freed (at once, or by the V4L2
 * release callback when a file was opened meanwhile).
 */
int shmcam_probe(struct shmcam *s, struct device *dev,
		 int (*irqs_on)(struct shmcam *s))
{
	int ret;

	ret = shmcam_region_init(s);
	if (ret)
		goto free_state;

	ret = shmcam_v4l2_register(s, dev);
	if (ret) {
		dev_err_probe(dev, ret, "cannot register the video device\n");
		shmcam_region_stop(s);
		goto free_state;
	}

	if (s->doorbell) {
		ret = irqs_on(s);
		if (ret) {
			shmcam_remove(s, NULL);
			return ret;
		}
	}
	s->debugfs = debugfs_create_dir(dev_name(dev), shmcam_debugfs_root);
	debugfs_create_file("status", 0444, s->debugfs, s, &shmcam_status_fops);
	shmcam_region_start(s);
	return 0;

free_state:
	kfree(s);
	return ret;
}

/**
 * shmcam_remove - take a device down; its bus unmaps the region after
 * @s: the device
 * @irqs_off: frees the bus's frame interrupts (called when s->doorbell), or
 *	      NULL when they were never requested
 */
void shmcam_remove(struct shmcam *s, void (*irqs_off)(struct shmcam *s))
{
	/* Waits for a reader of the status file. */
	debugfs_remove(s->debugfs);
	s->debugfs = NULL;
	/* Streaming stops here, and no new ioctl reaches the driver. */
	shmcam_v4l2_unregister(s);
	/* No new kicks. */
	if (s->doorbell && irqs_off)
		irqs_off(s);
	/* Wait for a running ioctl; nothing touches the region after this. */
	mutex_lock(&s->lock);
	shmcam_region_stop(s);
	mutex_unlock(&s->lock);
	/* The last file handle frees s. */
	shmcam_v4l2_put(s);
}

static int __init shmcam_init(void)
{
	int ret;

	shmcam_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = pci_register_driver(&shmcam_ivshmem_driver);
	if (ret)
		goto remove_debugfs;
	ret = pci_register_driver(&shmcam_pci_driver);
	if (ret)
		goto unregister_ivshmem;
	return 0;

unregister_ivshmem:
	pci_unregister_driver(&shmcam_ivshmem_driver);
remove_debugfs:
	debugfs_remove(shmcam_debugfs_root);
	return ret;
}
module_init(shmcam_init);

static void __exit shmcam_exit(void)
{
	pci_unregister_driver(&shmcam_pci_driver);
	pci_unregister_driver(&shmcam_ivshmem_driver);
	debugfs_remove(shmcam_debugfs_root);
}
module_exit(shmcam_exit);

MODULE_DESCRIPTION("V4L2 capture device for a shmcam region shared over ivshmem or shmcam-pci");
MODULE_AUTHOR("The shmcam authors");
MODULE_LICENSE("GPL");
