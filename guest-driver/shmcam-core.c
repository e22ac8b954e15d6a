// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: bringing up and taking down one device, whichever bus found it
 *
 * A bus's probe (shmcam-ivshmem.c, shmcam-pci.c) maps the region and
 * calls shmcam_probe(); the region code (shmcam-region.c) and the video
 * device (shmcam-v4l2.c) come up in order, and the device's status file
 * appears in debugfs.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "shmcam-drv.h"

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

/* Module load: the debugfs directory (none when debugfs is not there). */
void shmcam_core_init(void)
{
	shmcam_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

/* Module unload, after every device is gone. */
void shmcam_core_exit(void)
{
	debugfs_remove(shmcam_debugfs_root);
}
