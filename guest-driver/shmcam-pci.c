// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: shmcam-pci (PCI 1af4:10fc) glue
 *
 * QEMU's shmcam-pci device hands its memory to shmcam-host and shows it to
 * the guest as BAR2, read only.  The device exists for shmcam alone, so
 * probe binds by PCI ID: a region still all zero only means that no host
 * has connected yet, and the worker waits for a producer to lay it out
 * just as it waits after a producer restart.
 *
 * The guest cannot write BAR2, so its consumer area is not there: the
 * driver keeps the area in memory and writes it to a 128-byte window in
 * BAR0, which the device copies into the region at the index the host
 * assigned (and again after each reconnection).  MSI-X vector 0 announces
 * a frame, vector 1 a host connecting or going away; DOORBELL tells the
 * host that the area holds news.  Without MSI-X the timer polls.
 *
 * docs/specs/shmcam-pci.rst describes the registers.
 */

#include <linux/bits.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/stddef.h>

#include "shmcam-drv.h"

#define SHMCAM_PCI_DEVICE_ID		0x10fc
#define SHMCAM_PCI_REGS_BAR		0
#define SHMCAM_PCI_REGION_BAR		2

/* BAR0, register interface 1 */
#define SHMCAM_PCI_REG_ID		0x00
#define SHMCAM_PCI_REG_VERSION		0x04
#define SHMCAM_PCI_REG_STATUS		0x08
#define SHMCAM_PCI_REG_INTR_STATUS	0x10
#define SHMCAM_PCI_REG_INTR_MASK	0x14
#define SHMCAM_PCI_REG_DOORBELL		0x18
#define SHMCAM_PCI_REG_CONSUMER_AREA	0x100

#define SHMCAM_PCI_ID			0x4d434853	/* "SHCM" */
#define SHMCAM_PCI_VERSION		1
#define SHMCAM_PCI_STATUS_CONNECTED	BIT(0)
#define SHMCAM_PCI_INTR_FRAME		BIT(0)
#define SHMCAM_PCI_INTR_CONNECTION	BIT(1)

#define SHMCAM_PCI_VECTOR_FRAME		0
#define SHMCAM_PCI_VECTOR_CONNECTION	1
#define SHMCAM_PCI_VECTORS		2

/* A field's place in the consumer area window */
#define SHMCAM_PCI_AREA(field) \
	(SHMCAM_PCI_REG_CONSUMER_AREA + offsetof(struct shmcam_consumer, field))

/* Write one field of the window if it changed since it was last written. */
#define SHMCAM_PCI_PUT(s, c, field, write)				\
	do {								\
		if (!(s)->cons_mmio_valid ||				\
		    (c)->field != (s)->cons_mmio.field) {		\
			write((c)->field,				\
			      (s)->regs + SHMCAM_PCI_AREA(field));	\
			(s)->cons_mmio.field = (c)->field;		\
			(s)->mmio_writes++;				\
		}							\
	} while (0)

/*
 * Write the consumer area to the window, one register write per field
 * that changed (each is an exit to QEMU): the device stores each into the
 * region with one store of the same width, so the host never sees half a
 * field.  The host reads flags and request_gen after the other fields, so
 * they go last; writes to one device's registers stay in program order.
 * owner goes with every request and once in ten flushes all the same: it
 * makes the host take our requests again after it let the area go while
 * the guest stood still.
 */
static void shmcam_pci_cons_flush(struct shmcam *s,
				  const struct shmcam_consumer *c)
{
	bool request = !s->cons_mmio_valid ||
		       c->flags != s->cons_mmio.flags ||
		       c->request_gen != s->cons_mmio.request_gen;

	/* A request writes every field again: a guest may have scribbled. */
	if (request)
		s->cons_mmio_valid = false;
	if (request || !(++s->cons_mmio_flushes % 10) ||
	    c->owner != s->cons_mmio.owner) {
		writeq(c->owner, s->regs + SHMCAM_PCI_AREA(owner));
		s->cons_mmio.owner = c->owner;
		s->mmio_writes++;
	}
	SHMCAM_PCI_PUT(s, c, heartbeat, writeq);
	SHMCAM_PCI_PUT(s, c, req_pixelformat, writel);
	SHMCAM_PCI_PUT(s, c, req_width, writel);
	SHMCAM_PCI_PUT(s, c, req_height, writel);
	SHMCAM_PCI_PUT(s, c, req_interval.numerator, writel);
	SHMCAM_PCI_PUT(s, c, req_interval.denominator, writel);
	SHMCAM_PCI_PUT(s, c, last_frame, writeq);
	SHMCAM_PCI_PUT(s, c, last_timestamp_ns, writeq);
	SHMCAM_PCI_PUT(s, c, frames, writeq);
	SHMCAM_PCI_PUT(s, c, dropped, writeq);
	/* A control request: its serial last, as the host reads it first. */
	SHMCAM_PCI_PUT(s, c, ctrl_id, writel);
	SHMCAM_PCI_PUT(s, c, ctrl_value, writeq);
	SHMCAM_PCI_PUT(s, c, ctrl_serial, writel);
	if (request) {
		writel(c->flags, s->regs + SHMCAM_PCI_AREA(flags));
		writel(c->request_gen, s->regs + SHMCAM_PCI_AREA(request_gen));
		s->cons_mmio.flags = c->flags;
		s->cons_mmio.request_gen = c->request_gen;
		s->mmio_writes += 2;
	}
	s->cons_mmio_valid = true;
}

/* The consumer area holds a new request or stream state: tell the host. */
static void shmcam_pci_notify(struct shmcam *s)
{
	writel(1, s->regs + SHMCAM_PCI_REG_DOORBELL);
}

/*
 * Hard irq: only queue the worker, which does the copying.  With MSI-X
 * INTR_STATUS need not be cleared: each event sends its own message.
 */
static irqreturn_t shmcam_pci_frame_irq(int irq, void *data)
{
	struct shmcam *s = data;

	shmcam_region_kick(s);
	return IRQ_HANDLED;
}

/*
 * A host connected or went away.  The worker looks at the region now
 * rather than at its next tick: a new host means a new session, perhaps
 * another format.  The device has just given a new host our consumer
 * area; ring it so that it reads the request there.
 */
static irqreturn_t shmcam_pci_connection_irq(int irq, void *data)
{
	struct shmcam *s = data;

	writel(SHMCAM_PCI_INTR_CONNECTION, s->regs + SHMCAM_PCI_REG_INTR_STATUS);
	if (readl(s->regs + SHMCAM_PCI_REG_STATUS) & SHMCAM_PCI_STATUS_CONNECTED)
		shmcam_pci_notify(s);
	shmcam_region_kick(s);
	return IRQ_HANDLED;
}

/*
 * Both interrupts, then unmask them: an event already pending (the host
 * connected while the guest booted) interrupts at once.  Returns 0 or a
 * negative errno, with nothing requested.
 */
static int shmcam_pci_irqs_on(struct shmcam *s)
{
	struct device *dev = s->v4l2_dev.dev;
	struct pci_dev *pdev = to_pci_dev(dev);
	int frame_irq = pci_irq_vector(pdev, SHMCAM_PCI_VECTOR_FRAME);
	int conn_irq = pci_irq_vector(pdev, SHMCAM_PCI_VECTOR_CONNECTION);
	int ret;

	ret = devm_request_irq(dev, frame_irq, shmcam_pci_frame_irq, 0,
			       KBUILD_MODNAME "-frame", s);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request irq %d\n",
				     frame_irq);
	ret = devm_request_irq(dev, conn_irq, shmcam_pci_connection_irq, 0,
			       KBUILD_MODNAME "-connection", s);
	if (ret) {
		devm_free_irq(dev, frame_irq, s);
		return dev_err_probe(dev, ret, "cannot request irq %d\n",
				     conn_irq);
	}
	writel(SHMCAM_PCI_INTR_FRAME | SHMCAM_PCI_INTR_CONNECTION,
	       s->regs + SHMCAM_PCI_REG_INTR_MASK);
	return 0;
}

/* Mask the device's events, then free both interrupts. */
static void shmcam_pci_irqs_off(struct shmcam *s)
{
	struct device *dev = s->v4l2_dev.dev;
	struct pci_dev *pdev = to_pci_dev(dev);

	writel(0, s->regs + SHMCAM_PCI_REG_INTR_MASK);
	devm_free_irq(dev, pci_irq_vector(pdev, SHMCAM_PCI_VECTOR_CONNECTION), s);
	devm_free_irq(dev, pci_irq_vector(pdev, SHMCAM_PCI_VECTOR_FRAME), s);
}

/*
 * Refuse a device whose registers are not the interface this driver
 * speaks.  Returns 0 or -ENODEV.
 */
static int shmcam_pci_check_regs(struct device *dev, void __iomem *regs)
{
	u32 id = readl(regs + SHMCAM_PCI_REG_ID);
	u32 version = readl(regs + SHMCAM_PCI_REG_VERSION);

	if (id != SHMCAM_PCI_ID) {
		dev_err(dev, "ID register reads %#x, not shmcam-pci's %#x\n",
			id, SHMCAM_PCI_ID);
		return -ENODEV;
	}
	if (version != SHMCAM_PCI_VERSION) {
		dev_err(dev, "register interface %u, this driver speaks %u\n",
			version, SHMCAM_PCI_VERSION);
		return -ENODEV;
	}
	return 0;
}

static int shmcam_pci_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	resource_size_t start, len;
	void __iomem *regs;
	struct shmcam *s;
	void *base;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot enable the device\n");

	regs = pcim_iomap(pdev, SHMCAM_PCI_REGS_BAR, 0);
	if (!regs)
		return dev_err_probe(dev, -ENOMEM,
				     "cannot map the register BAR\n");
	ret = shmcam_pci_check_regs(dev, regs);
	if (ret)
		return ret;

	start = pci_resource_start(pdev, SHMCAM_PCI_REGION_BAR);
	len = pci_resource_len(pdev, SHMCAM_PCI_REGION_BAR);
	if (!len) {
		dev_err(dev, "no region BAR\n");
		return -ENODEV;
	}
	if (!devm_request_mem_region(dev, start, len, KBUILD_MODNAME))
		return dev_err_probe(dev, -EBUSY, "BAR2 is in use\n");
	/* Read only, but cached all the same: frames are copied out of it. */
	base = devm_memremap(dev, start, len, MEMREMAP_WB);
	if (IS_ERR(base))
		return dev_err_probe(dev, PTR_ERR(base), "cannot map BAR2\n");

	/* Freed by shmcam_probe() or the V4L2 release callback. */
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->base = base;
	s->size = len;
	s->regs = regs;
	s->cons_index = -1;
	s->notify = shmcam_pci_notify;
	s->cons_flush = shmcam_pci_cons_flush;
	snprintf(s->bus_info, sizeof(s->bus_info), "PCI:%s", pci_name(pdev));

	ret = pci_alloc_irq_vectors(pdev, SHMCAM_PCI_VECTORS,
				    SHMCAM_PCI_VECTORS, PCI_IRQ_MSIX);
	if (ret >= 0) {
		pci_set_master(pdev);
		s->doorbell = true;
	} else {
		dev_info(dev, "no MSI-X (%d): polling the region\n", ret);
	}

	ret = shmcam_probe(s, dev, shmcam_pci_irqs_on);
	if (!ret)
		pci_set_drvdata(pdev, s);
	return ret;
}

/* Registers, BAR2 and the MSI-X vectors go with devres after this. */
static void shmcam_pci_remove(struct pci_dev *pdev)
{
	shmcam_remove(pci_get_drvdata(pdev), shmcam_pci_irqs_off);
}

static int shmcam_pci_suspend(struct device *dev)
{
	shmcam_region_suspend(dev_get_drvdata(dev));
	return 0;
}

/*
 * QEMU resets the device on wake-up: INTR_MASK is 0 and the consumer
 * window forgotten.  The PCI core has restored MSI-X already.
 */
static int shmcam_pci_resume(struct device *dev)
{
	struct shmcam *s = dev_get_drvdata(dev);

	if (s->doorbell)
		writel(SHMCAM_PCI_INTR_FRAME | SHMCAM_PCI_INTR_CONNECTION,
		       s->regs + SHMCAM_PCI_REG_INTR_MASK);
	/* The window was reset with the device: all of it again. */
	s->cons_mmio_valid = false;
	shmcam_region_resume(s);
	return 0;
}

static DEFINE_SIMPLE_DEV_PM_OPS(shmcam_pci_pm_ops, shmcam_pci_suspend,
				shmcam_pci_resume);

/* Reboot, kexec: no interrupt and no DMA from the device after this. */
static void shmcam_pci_shutdown(struct pci_dev *pdev)
{
	struct shmcam *s = pci_get_drvdata(pdev);

	writel(0, s->regs + SHMCAM_PCI_REG_INTR_MASK);
	shmcam_region_suspend(s);
	pci_clear_master(pdev);
}

static const struct pci_device_id shmcam_pci_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, SHMCAM_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, shmcam_pci_ids);

/* Registered by shmcam-main.c */
struct pci_driver shmcam_pci_driver = {
	.name = KBUILD_MODNAME "-pci",
	.id_table = shmcam_pci_ids,
	.probe = shmcam_pci_probe,
	.remove = shmcam_pci_remove,
	.shutdown = shmcam_pci_shutdown,
	.driver.pm = pm_sleep_ptr(&shmcam_pci_pm_ops),
};
