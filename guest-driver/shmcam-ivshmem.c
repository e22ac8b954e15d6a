// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: ivshmem (PCI 1af4:1110) glue
 *
 * BAR2 of ivshmem-plain and ivshmem-doorbell is the shared region.  Other
 * drivers use the same device for other protocols (uio_ivshmem, kvmfr,
 * audio transports), so probe binds only to a region that carries the
 * shmcam magic and an ABI major this driver speaks, and returns -ENODEV
 * otherwise.  A region still all zero (the guest booted before
 * shmcam-host started) is left free, and watched: once a second the first
 * page of each such device that no driver has taken is looked at, and
 * when the shmcam header appears the device is probed again.  Foreign
 * content ends the watch.
 *
 * The region is mapped cached: frames are copied out of it, and uncached
 * or write-combined reads would be several times slower.
 */

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "shmcam-drv.h"

#define SHMCAM_IVSHMEM_DEVICE_ID	0x1110
#define SHMCAM_IVSHMEM_REGS_BAR		0
#define SHMCAM_IVSHMEM_SHM_BAR		2
#define SHMCAM_IVSHMEM_IVPOSITION	0x08
#define SHMCAM_IVSHMEM_DOORBELL		0x0c

static int consumer = -1;
module_param(consumer, int, 0444);
MODULE_PARM_DESC(consumer,
		 "Consumer area index 0-31 for ivshmem-plain (default -1: claim a free one; ivshmem-doorbell uses its IVPosition, shmcam-pci the index its host assigns)");

static bool watch_blank = true;
module_param(watch_blank, bool, 0444);
MODULE_PARM_DESC(watch_blank,
		 "Watch ivshmem devices whose region is still all zero, and bind once a shmcam producer lays it out (default on)");

/* The blank devices being watched: a reference to each, under watch_lock. */
struct shmcam_watched {
	struct list_head list;
	struct pci_dev *pdev;
};

static LIST_HEAD(shmcam_watch_list);
static DEFINE_MUTEX(shmcam_watch_lock);
static bool shmcam_watch_stopped;
static void shmcam_watch_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(shmcam_watch_work, shmcam_watch_fn);

#define SHMCAM_WATCH_PERIOD	HZ

/*
 * What the first page of @pdev's BAR2 holds now: 0 for the shmcam magic,
 * -EAGAIN for all zero, -ENODEV for anything else (or no mapping).  The
 * device is not ours: the page is mapped for the look only.
 */
static int shmcam_ivshmem_peek(struct pci_dev *pdev)
{
	resource_size_t start = pci_resource_start(pdev, SHMCAM_IVSHMEM_SHM_BAR);
	void *page;
	int ret;

	if (pci_resource_len(pdev, SHMCAM_IVSHMEM_SHM_BAR) < SHMCAM_DATA_OFFSET)
		return -ENODEV;
	page = memremap(start, PAGE_SIZE, MEMREMAP_WB);
	if (!page)
		return -ENODEV;
	if (READ_ONCE(((struct shmcam_header *)page)->magic) == SHMCAM_MAGIC)
		ret = 0;
	else
		ret = memchr_inv(page, 0, PAGE_SIZE) ? -ENODEV : -EAGAIN;
	memunmap(page);
	return ret;
}

/* Watch @pdev, a blank device probe left free.  Once per device. */
static void shmcam_watch_add(struct pci_dev *pdev)
{
	struct shmcam_watched *w;

	mutex_lock(&shmcam_watch_lock);
	if (shmcam_watch_stopped)
		goto out;
	list_for_each_entry(w, &shmcam_watch_list, list)
		if (w->pdev == pdev)
			goto out;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		goto out;
	w->pdev = pci_dev_get(pdev);
	list_add_tail(&w->list, &shmcam_watch_list);
	dev_info(&pdev->dev, "region is blank: waiting for a shmcam producer\n");
	schedule_delayed_work(&shmcam_watch_work, SHMCAM_WATCH_PERIOD);
out:
	mutex_unlock(&shmcam_watch_lock);
}

/*
 * Once a second: drop the devices another driver took, went away, or now
 * hold foreign content; probe again those that now carry the header
 * (outside the lock: a probe that finds the region blank again, a
 * producer gone meanwhile, watches it anew).
 */
static void shmcam_watch_fn(struct work_struct *work)
{
	struct shmcam_watched *w, *tmp;
	LIST_HEAD(ready);
	bool more;

	mutex_lock(&shmcam_watch_lock);
	list_for_each_entry_safe(w, tmp, &shmcam_watch_list, list) {
		int peek;

		if (w->pdev->dev.driver || !device_is_registered(&w->pdev->dev)) {
			list_del(&w->list);
			pci_dev_put(w->pdev);
			kfree(w);
			continue;
		}
		peek = shmcam_ivshmem_peek(w->pdev);
		if (peek != -EAGAIN)
			list_move_tail(&w->list, &ready);
	}
	more = !list_empty(&shmcam_watch_list);
	if (more)
		schedule_delayed_work(&shmcam_watch_work, SHMCAM_WATCH_PERIOD);
	mutex_unlock(&shmcam_watch_lock);

	list_for_each_entry_safe(w, tmp, &ready, list) {
		if (!shmcam_ivshmem_peek(w->pdev) &&
		    device_attach(&w->pdev->dev) < 0)
			dev_dbg(&w->pdev->dev, "probe after the header appeared failed\n");
		list_del(&w->list);
		pci_dev_put(w->pdev);
		kfree(w);
	}
}

/**
 * shmcam_ivshmem_unwatch - stop watching blank devices, for good
 *
 * At module exit, before the drivers are unregistered: a probe after
 * this watches nothing, and no watch work is left to run.
 */
void shmcam_ivshmem_unwatch(void)
{
	struct shmcam_watched *w, *tmp;

	mutex_lock(&shmcam_watch_lock);
	shmcam_watch_stopped = true;
	mutex_unlock(&shmcam_watch_lock);
	cancel_delayed_work_sync(&shmcam_watch_work);
	list_for_each_entry_safe(w, tmp, &shmcam_watch_list, list) {
		list_del(&w->list);
		pci_dev_put(w->pdev);
		kfree(w);
	}
}

/* Hard irq: only queue the worker, which does the copying. */
static irqreturn_t shmcam_ivshmem_irq(int irq, void *data)
{
	struct shmcam *s = data;

	shmcam_region_kick(s);
	return IRQ_HANDLED;
}

/*
 * Ring vector 0 of the producer, the ivshmem peer SHMCAM_HOST_PEER_ID: the
 * consumer area holds a new request.  writel() orders the area's stores
 * before the doorbell.  QEMU ignores a peer that is not connected.
 */
static void shmcam_ivshmem_notify(struct shmcam *s)
{
	writel(SHMCAM_HOST_PEER_ID << 16, s->regs + SHMCAM_IVSHMEM_DOORBELL);
}

/*
 * With MSI-X (ivshmem-doorbell) the producer rings vector 0 for each
 * frame, the guest rings the producer for each request, and IVPosition
 * names this guest's consumer area.  A vector that cannot be had
 * (pci=nomsi, vectors exhausted) leaves the timer to poll at the frame
 * rate; the guest still rings the producer.  Returns 0 (s->doorbell says
 * whether frames interrupt) or a negative errno.
 */
static int shmcam_ivshmem_setup_doorbell(struct pci_dev *pdev,
					 struct shmcam *s)
{
	u32 pos;
	int ret;

	if (pci_msix_vec_count(pdev) <= 0)
		return 0;

	s->regs = pcim_iomap(pdev, SHMCAM_IVSHMEM_REGS_BAR, 0);
	if (!s->regs)
		return dev_err_probe(&pdev->dev, -ENOMEM,
				     "cannot map the register BAR\n");
	pos = readl(s->regs + SHMCAM_IVSHMEM_IVPOSITION);
	if (pos < SHMCAM_MAX_CONSUMERS)
		s->cons_index = pos;

	s->notify = shmcam_ivshmem_notify;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_info(&pdev->dev, "no MSI-X vector (%d): polling the region\n",
			 ret);
		return 0;
	}
	pci_set_master(pdev);
	s->doorbell = true;
	return 0;
}

static int shmcam_ivshmem_irq_on(struct shmcam *s)
{
	struct device *dev = s->v4l2_dev.dev;
	int irq = pci_irq_vector(to_pci_dev(dev), 0);
	int ret;

	ret = devm_request_irq(dev, irq, shmcam_ivshmem_irq, 0, KBUILD_MODNAME,
			       s);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request irq %d\n", irq);
	return 0;
}

/* devres frees the MSI-X vector after remove(). */
static void shmcam_ivshmem_irq_off(struct shmcam *s)
{
	struct device *dev = s->v4l2_dev.dev;

	devm_free_irq(dev, pci_irq_vector(to_pci_dev(dev), 0), s);
}

static int shmcam_ivshmem_probe(struct pci_dev *pdev,
				const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	resource_size_t start, len;
	struct shmcam *s;
	void *base;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot enable the device\n");

	start = pci_resource_start(pdev, SHMCAM_IVSHMEM_SHM_BAR);
	len = pci_resource_len(pdev, SHMCAM_IVSHMEM_SHM_BAR);
	if (!len) {
		dev_dbg(dev, "no shared memory BAR\n");
		return -ENODEV;
	}
	if (!devm_request_mem_region(dev, start, len, KBUILD_MODNAME))
		return dev_err_probe(dev, -EBUSY, "BAR2 is in use\n");
	base = devm_memremap(dev, start, len, MEMREMAP_WB);
	if (IS_ERR(base))
		return dev_err_probe(dev, PTR_ERR(base), "cannot map BAR2\n");

	ret = shmcam_check_identity(base, len);
	if (ret == -EPROTONOSUPPORT) {
		dev_info(dev, "shmcam region of ABI %u, this driver speaks %u: not binding\n",
			 READ_ONCE(((struct shmcam_header *)base)->abi_major),
			 SHMCAM_ABI_MAJOR);
		return -ENODEV;
	}
	if (ret) {
		if (watch_blank && !memchr_inv(base, 0, PAGE_SIZE))
			shmcam_watch_add(pdev);
		else
			dev_dbg(dev, "BAR2 holds no shmcam region: not binding\n");
		return -ENODEV;
	}

	/* Freed by shmcam_probe() or the V4L2 release callback. */
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->base = base;
	s->size = len;
	s->cons_index = consumer < SHMCAM_MAX_CONSUMERS ? consumer : -1;
	snprintf(s->bus_info, sizeof(s->bus_info), "PCI:%s", pci_name(pdev));

	ret = shmcam_ivshmem_setup_doorbell(pdev, s);
	if (ret) {
		kfree(s);
		return ret;
	}
	ret = shmcam_probe(s, dev, shmcam_ivshmem_irq_on);
	if (!ret)
		pci_set_drvdata(pdev, s);
	return ret;
}

static void shmcam_ivshmem_remove(struct pci_dev *pdev)
{
	shmcam_remove(pci_get_drvdata(pdev), shmcam_ivshmem_irq_off);
}

static int shmcam_ivshmem_suspend(struct device *dev)
{
	shmcam_region_suspend(dev_get_drvdata(dev));
	return 0;
}

/* The PCI core restored MSI-X; the region itself is kept across a reset. */
static int shmcam_ivshmem_resume(struct device *dev)
{
	shmcam_region_resume(dev_get_drvdata(dev));
	return 0;
}

static DEFINE_SIMPLE_DEV_PM_OPS(shmcam_ivshmem_pm_ops, shmcam_ivshmem_suspend,
				shmcam_ivshmem_resume);

/* Reboot, kexec: nothing touches the region, no MSI from the device. */
static void shmcam_ivshmem_shutdown(struct pci_dev *pdev)
{
	shmcam_region_suspend(pci_get_drvdata(pdev));
	pci_clear_master(pdev);
}

static const struct pci_device_id shmcam_ivshmem_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, SHMCAM_IVSHMEM_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, shmcam_ivshmem_ids);

/* Registered by shmcam-main.c; named "shmcam" as before shmcam-pci came. */
struct pci_driver shmcam_ivshmem_driver = {
	.name = KBUILD_MODNAME,
	.id_table = shmcam_ivshmem_ids,
	.probe = shmcam_ivshmem_probe,
	.remove = shmcam_ivshmem_remove,
	.shutdown = shmcam_ivshmem_shutdown,
	.driver.pm = pm_sleep_ptr(&shmcam_ivshmem_pm_ops),
};
