/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shmcam: a V4L2 capture device fed by a shared-memory region
 *
 * The PCI glue (shmcam-ivshmem.c for ivshmem, shmcam-pci.c for the
 * QEMU-native shmcam-pci device) maps the region and finds the interrupts;
 * shmcam-core.c brings the device up; shmcam-region.c follows the
 * producer and copies frames; shmcam-v4l2.c is the video device.  A probe
 * fills the fields marked "bus".
 */
#ifndef SHMCAM_DRV_H
#define SHMCAM_DRV_H

#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/videobuf2-v4l2.h>

#include "shmcam-reader.h"

/* Kbuild says so first; this holds for a build that bypasses it. */
#if !defined(CONFIG_64BIT) || defined(CONFIG_CPU_BIG_ENDIAN)
#error "shmcam.ko needs a 64-bit little-endian kernel (the region's ABI)"
#endif

struct pci_driver;
struct shmcam_ctrls;

/* The two buses, registered by shmcam-main.c */
extern struct pci_driver shmcam_ivshmem_driver;	/* shmcam-ivshmem.c */
extern struct pci_driver shmcam_pci_driver;	/* shmcam-pci.c */
void shmcam_ivshmem_unwatch(void);		/* shmcam-ivshmem.c */

struct shmcam_buffer {
	struct vb2_v4l2_buffer vb;	/* first: vb2 allocates this struct */
	struct list_head list;
};

struct shmcam {
	struct v4l2_device v4l2_dev;
	struct video_device vdev;
	struct vb2_queue queue;
	/*
	 * The producer's controls (shmcam-ctrls.c): replaced only under
	 * s->lock and poll_lock while no file is open, so an open file's
	 * handler and its event subscriptions outlive every use.
	 */
	struct shmcam_ctrls *ctrls;
	u32 ctrl_serial;		/* last request's, under s->lock */

	/*
	 * vdev->lock and the vb2 queue lock: serialises every ioctl and
	 * file operation.  Protects fmt, interval, caps[] and num_caps;
	 * remove() sets gone under it, so no ioctl reads the region later.
	 */
	struct mutex lock;
	struct v4l2_pix_format fmt;
	struct v4l2_fract interval;
	struct shmcam_cap caps[SHMCAM_MAX_CAPS];
	/*
	 * Per entry of caps[]: the line and image size its frames have (the
	 * producer's, or derived), and its colorspace as V4L2 names it.
	 */
	struct shmcam_cap_pix {
		u32 bytesperline;
		u32 sizeimage;
		u32 colorspace;
		u8 xfer_func;
		u8 ycbcr_enc;
		u8 quantization;
	} cap_pix[SHMCAM_MAX_CAPS];
	unsigned int num_caps;

	/* Protects buf_list only: buf_queue appends, the worker removes. */
	spinlock_t buf_lock;
	struct list_head buf_list;

	/* bus: the mapped region (cached), its size and the bus device */
	void *base;
	u64 size;
	char bus_info[32];
	bool doorbell;			/* frames announced by interrupt */
	void __iomem *regs;		/* device registers, or NULL */
	/* Tell the producer the consumer area changed; NULL if the bus can't. */
	void (*notify)(struct shmcam *s);
	/*
	 * For a bus whose region is read only (shmcam-pci): the consumer
	 * area lives in cons_shadow, is always this guest's (no claim),
	 * and this writes it out to the device after each change.  NULL
	 * when the area is in the region.  Called with cons_lock held.
	 */
	void (*cons_flush)(struct shmcam *s, const struct shmcam_consumer *c);
	/* shmcam-pci: the window as last written, to write only changes */
	struct shmcam_consumer cons_mmio;
	bool cons_mmio_valid;
	unsigned int cons_mmio_flushes;
	u64 mmio_writes;		/* register writes to the window */

	/*
	 * The consumer area this device claimed (NULL while none is) and
	 * the values the guest writes there.  cons_lock protects all of
	 * them, as ioctls (requests) and the worker (heartbeat) write it.
	 */
	spinlock_t cons_lock;
	struct shmcam_consumer *cons;	/* in the region, or &cons_shadow */
	struct shmcam_consumer cons_shadow;
	u64 cons_token;
	int cons_index;			/* fixed index, or -1 to claim one */
	u32 cons_flags;
	u32 req_gen;
	struct shmcam_format fmt_req;	/* pixelformat, size, interval */
	u64 want_ns;			/* its interval in ns, for the timer */

	/*
	 * Frame worker.  poll_lock is held for a whole poll and by
	 * start/stop_streaming; it protects the fields below it.  Taken
	 * inside s->lock, never the other way round.
	 */
	struct workqueue_struct *wq;
	struct work_struct poll_work;
	struct hrtimer timer;
	u64 poll_ns;			/* timer period, READ_ONCE in the timer */
	struct mutex poll_lock;
	struct shmcam_layout layout;
	bool layout_ok;
	bool alive;			/* producer streaming, heartbeat fresh */
	bool streaming;
	bool gone;			/* remove() ran: never touch base again */
	bool suspended;			/* system sleep or shutdown */
	bool open;			/* a file is open: the timer runs */
	bool seq_started;
	u64 session;
	u64 last_heartbeat;
	unsigned long heartbeat_jiffies;
	unsigned long beat_jiffies;	/* our last heartbeat, behind registers */
	struct shmcam_format src_fmt;	/* producer's format last seen */
	u64 last_frame;			/* frame counter last taken */
	u64 seq_first;			/* frame counter of sequence seq_base */
	u32 seq_base;
	u32 last_seq;
	/* Statistics for the consumer area; read racily by publishers. */
	u64 frames;
	/* The copies out of the region that delivered them: time, bytes */
	u64 copy_ns;
	u64 copy_bytes;
	u64 dropped;			/* all below, and frames missed */
	/* Frames not delivered, by cause (VIDIOC_LOG_STATUS prints them) */
	u64 drop_torn;			/* overwritten while copied */
	u64 drop_large;			/* larger than the buffer */
	u64 drop_bad;			/* inconsistent slot descriptor */
	u64 drop_format;		/* not the negotiated format */
	u64 drop_missed;		/* gone before we looked */
	u64 stat_last_frame;
	u64 stat_last_timestamp;
	u64 polls;			/* runs of the worker */
	/* The doorbell: interrupts counted by the irq, and whether it rings */
	unsigned long kicks;
	unsigned long kicks_seen;
	unsigned int silent_polls;
	bool doorbell_silent;
	u64 seen_latest;		/* latest_frame at the previous poll */
	/* Producer clock to guest clock: guest = host + ts_offset */
	s64 ts_offset;
	s64 ts_win_min;
	s64 ts_prev_min;
	u32 ts_samples;
	bool ts_valid;
	bool ts_prev_valid;
	u64 last_ts;			/* timestamp of the last buffer */

	struct dentry *debugfs;		/* shmcam-core.c: this device's dir */
};

static inline struct shmcam_header *shmcam_hdr(struct shmcam *s)
{
	return s->base;
}

/* shmcam-core.c: what a bus's probe and remove call, and module load */
int shmcam_probe(struct shmcam *s, struct device *dev,
		 int (*irqs_on)(struct shmcam *s));
void shmcam_remove(struct shmcam *s, void (*irqs_off)(struct shmcam *s));
void shmcam_core_init(void);
void shmcam_core_exit(void);

/* shmcam-region.c */
int shmcam_region_init(struct shmcam *s);
void shmcam_region_open(struct shmcam *s);
void shmcam_region_close(struct shmcam *s);
void shmcam_region_stop(struct shmcam *s);
void shmcam_region_kick(struct shmcam *s);
void shmcam_region_suspend(struct shmcam *s);
void shmcam_region_resume(struct shmcam *s);
void shmcam_region_stream(struct shmcam *s, bool on);
void shmcam_region_request(struct shmcam *s);
int shmcam_region_ctrl_request(struct shmcam *s, u32 id, s64 value,
			       u32 serial);
int shmcam_region_status(struct shmcam *s, char *buf, size_t len);
bool shmcam_region_interval(struct shmcam *s, struct v4l2_fract *iv);

/* shmcam-ctrls.c */
int shmcam_ctrls_init(struct shmcam *s);
void shmcam_ctrls_open(struct shmcam *s);
void shmcam_ctrls_poll(struct shmcam *s, const struct shmcam_layout *l);
void shmcam_ctrls_free(struct shmcam *s);

/* shmcam-v4l2.c */
int shmcam_v4l2_register(struct shmcam *s, struct device *parent);
void shmcam_v4l2_unregister(struct shmcam *s);
void shmcam_v4l2_put(struct shmcam *s);

#endif /* SHMCAM_DRV_H */
