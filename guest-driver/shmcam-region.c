// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: following the producer through the shared region
 *
 * One work item does everything that reads the region after probe: it
 * watches the producer's heartbeat, session and format, keeps this guest's
 * consumer area alive, and copies the newest complete frame into the next
 * queued buffer.  An hrtimer queues it (at a fraction of the negotiated
 * frame interval while streaming without a working doorbell, every 100 ms
 * otherwise); with ivshmem-doorbell or shmcam-pci the producer's interrupt
 * queues it for each frame, and the guest rings the producer when its
 * consumer area holds a new request.  A doorbell that stays silent while
 * frames advance is noticed, and the timer takes over.  Copies of several
 * megabytes thus never run in hard interrupt context.
 *
 * Buffers carry the producer's capture time on this guest's clock: the
 * offset between the two clocks is the smallest (guest now - host event
 * time) seen over the last two windows of samples, the events being the
 * producer's heartbeats and the frames.
 */

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/random.h>
#include <linux/time64.h>

#include <linux/module.h>
#include <media/v4l2-event.h>

#include "shmcam-drv.h"
#include "shmcam-compat.h"

static unsigned int shmcam_poll_divisor = 4;
module_param_named(poll_divisor, shmcam_poll_divisor, uint, 0644);
MODULE_PARM_DESC(poll_divisor,
		 "Without frame interrupts, poll the region this many times per frame interval (default 4)");

static unsigned int shmcam_producer_timeout_ms = 2000;
module_param_named(producer_timeout_ms, shmcam_producer_timeout_ms, uint,
		   0644);
MODULE_PARM_DESC(producer_timeout_ms,
		 "Treat the producer as gone when its heartbeat stalls this long (default 2000)");


#define SHMCAM_IDLE_POLL_NS	(100 * NSEC_PER_MSEC)
/* However fast the negotiated rate: a floor for the timer's period. */
#define SHMCAM_MIN_POLL_NS	(2 * NSEC_PER_MSEC)
#define SHMCAM_DEFAULT_FRAME_NS	(33 * NSEC_PER_MSEC)
/* A torn copy is retried at once, a few times, before waiting. */
#define SHMCAM_READ_TRIES	3
/* Frame copies one poll may make, torn ones included. */
#define SHMCAM_COPIES_PER_POLL	4
/* Timer polls in a row that found new frames no interrupt announced. */
#define SHMCAM_SILENT_POLLS	5
/*
 * A consumer area behind registers (shmcam-pci) gets its heartbeat and
 * statistics this often, not at every poll: each field is an exit to QEMU.
 */
#define SHMCAM_BEAT_MS		100
/* Clock offset samples per window (heartbeats and frames). */
#define SHMCAM_TS_WINDOW	64

/*
 * The timer's period: a fraction of the interval this guest negotiated
 * (never the one in the header, which a co-tenant guest may write), while
 * streaming without a doorbell or with one that stays silent.
 */
static u64 shmcam_poll_period(struct shmcam *s)
{
	u64 ns = READ_ONCE(s->want_ns);

	if (!s->streaming || (s->doorbell && !s->doorbell_silent))
		return SHMCAM_IDLE_POLL_NS;
	if (!ns)
		ns = SHMCAM_DEFAULT_FRAME_NS;
	ns = div_u64(ns, max(shmcam_poll_divisor, 1u));
	return clamp_t(u64, ns, SHMCAM_MIN_POLL_NS, SHMCAM_IDLE_POLL_NS);
}

/*
 * One sample of the clock offset: a host event at @host_ns (its
 * CLOCK_MONOTONIC) seen now, at @guest_ns.  Every sample is at least the
 * true offset; the smallest of the last two windows is the estimate.
 */
static void shmcam_ts_sample(struct shmcam *s, u64 host_ns, u64 guest_ns)
{
	s64 off = (s64)(guest_ns - host_ns);

	if (!host_ns)
		return;
	if (!s->ts_samples || off < s->ts_win_min)
		s->ts_win_min = off;
	s->ts_samples++;
	s->ts_offset = s->ts_win_min;
	if (s->ts_prev_valid && s->ts_prev_min < s->ts_offset)
		s->ts_offset = s->ts_prev_min;
	s->ts_valid = true;
	if (s->ts_samples >= SHMCAM_TS_WINDOW) {
		s->ts_prev_min = s->ts_win_min;
		s->ts_prev_valid = true;
		s->ts_samples = 0;
	}
}

/*
 * The capture time of a frame on this guest's CLOCK_MONOTONIC: never later
 * than now, never before the previous buffer's.
 */
static u64 shmcam_ts_map(struct shmcam *s, u64 host_ns)
{
	u64 now = ktime_get_ns();
	u64 ts = now;

	if (host_ns) {
		shmcam_ts_sample(s, host_ns, now);
		ts = host_ns + s->ts_offset;
		if (ts > now)
			ts = now;
	}
	if (ts < s->last_ts)
		ts = s->last_ts;
	s->last_ts = ts;
	return ts;
}

/* A bus with a read-only region writes the area out to its device. */
static void shmcam_consumer_flush(struct shmcam *s)
{
	if (s->cons_flush)
		s->cons_flush(s, s->cons);
}

/*
 * Copy request, flags and statistics into the consumer area.  Called with
 * cons_lock held.
 */
static void shmcam_consumer_publish(struct shmcam *s)
{
	struct shmcam_consumer *c = s->cons;

	if (!c)
		return;
	WRITE_ONCE(c->req_pixelformat, s->fmt_req.pixelformat);
	WRITE_ONCE(c->req_width, s->fmt_req.width);
	WRITE_ONCE(c->req_height, s->fmt_req.height);
	WRITE_ONCE(c->req_interval.numerator, s->fmt_req.interval.numerator);
	WRITE_ONCE(c->req_interval.denominator,
		   s->fmt_req.interval.denominator);
	WRITE_ONCE(c->last_frame, s->stat_last_frame);
	WRITE_ONCE(c->last_timestamp_ns, s->stat_last_timestamp);
	WRITE_ONCE(c->frames, s->frames);
	WRITE_ONCE(c->dropped, s->dropped);
	/* The producer reads flags and request_gen after the fields. */
	smp_wmb();
	WRITE_ONCE(c->flags, s->cons_flags);
	WRITE_ONCE(c->request_gen, s->req_gen);
	shmcam_consumer_flush(s);
}

/*
 * Claim a consumer area: the fixed index when there is one (the doorbell
 * device's IVPosition or the consumer= parameter), else the first area
 * whose owner is 0.  A device with an area of its own (cons_flush) needs
 * no claim: its area is the shadow, marked with our token so that the
 * producer takes its requests.  Called with cons_lock held.  Returns true
 * when an area was claimed and written.
 */
static bool shmcam_consumer_claim(struct shmcam *s)
{
	struct shmcam_consumer *areas = s->base + SHMCAM_CONSUMER_OFFSET;
	u32 n, i;

	if (!s->cons_token)
		s->cons_token = get_random_u64() | 1;

	if (s->cons_flush) {
		s->cons = &s->cons_shadow;
		s->cons->owner = s->cons_token;
		dev_dbg(s->v4l2_dev.dev, "consumer area kept by the device\n");
		shmcam_consumer_publish(s);
		return true;
	}

	n = READ_ONCE(shmcam_hdr(s)->consumer_count);
	if (!n || n > SHMCAM_MAX_CONSUMERS)
		n = SHMCAM_MAX_CONSUMERS;
	if (s->cons_index >= 0) {
		if (s->cons_index >= n)
			return false;
		s->cons = &areas[s->cons_index];
		WRITE_ONCE(s->cons->owner, s->cons_token);
	} else {
		for (i = 0; i < n; i++) {
			if (cmpxchg64(&areas[i].owner, 0, s->cons_token) == 0) {
				s->cons = &areas[i];
				break;
			}
		}
		if (!s->cons)
			return false;
	}
	dev_dbg(s->v4l2_dev.dev, "consumer area %td claimed\n",
		s->cons - areas);
	shmcam_consumer_publish(s);
	return true;
}

/* Ring the producer, if the bus can, after the consumer area changed. */
static void shmcam_consumer_notify(struct shmcam *s)
{
	if (s->notify && !s->gone)
		s->notify(s);
}

/*
 * Keep the consumer area: heartbeat, statistics, reclaim when lost.  A
 * reclaimed area (a restarted producer may have reset the page) carries
 * this guest's flags and request again: ring the producer about it.
 */
static void shmcam_consumer_beat(struct shmcam *s)
{
	struct shmcam_consumer *c;
	bool claimed = false;

	spin_lock(&s->cons_lock);
	c = s->cons;
	/* The shadow (cons_flush) is never taken away from us. */
	if (c && !s->cons_flush && READ_ONCE(c->owner) != s->cons_token) {
		/* The producer reset the page, or the area timed out. */
		s->cons = NULL;
		c = NULL;
	}
	if (!c) {
		claimed = shmcam_consumer_claim(s);
	} else if (!s->cons_flush ||
		   time_after_eq(jiffies, s->beat_jiffies +
				 msecs_to_jiffies(SHMCAM_BEAT_MS))) {
		s->beat_jiffies = jiffies;
		WRITE_ONCE(c->heartbeat, READ_ONCE(c->heartbeat) + 1);
		WRITE_ONCE(c->last_frame, s->stat_last_frame);
		WRITE_ONCE(c->last_timestamp_ns, s->stat_last_timestamp);
		WRITE_ONCE(c->frames, s->frames);
		WRITE_ONCE(c->dropped, s->dropped);
		shmcam_consumer_flush(s);
	}
	spin_unlock(&s->cons_lock);
	if (claimed)
		shmcam_consumer_notify(s);
}

/*
 * Copy the header's format under its lock (ABI 1.2); a copy torn by a
 * rewrite is tried again, a few times.  Returns shmcam_format_read()'s.
 */
static int shmcam_format_copy(struct shmcam *s, struct shmcam_format *f)
{
	struct shmcam_header *h = shmcam_hdr(s);
	int tries, ret = -EAGAIN;
	u32 seq;

	for (tries = 0; tries < SHMCAM_READ_TRIES; tries++) {
		seq = shmcam_meta_begin(h);
		ret = shmcam_format_read(h, s->layout_ok ? &s->layout : NULL, f);
		if (!shmcam_meta_retry(h, seq))
			return ret;
	}
	return -EAGAIN;
}

/* The producer now sends another format or size: tell the subscribers. */
static void shmcam_source_changed(struct shmcam *s)
{
	static const struct v4l2_event ev = {
		.type = V4L2_EVENT_SOURCE_CHANGE,
		.u.src_change.changes = V4L2_EVENT_SRC_CH_RESOLUTION,
	};

	v4l2_event_queue(&s->vdev, &ev);
}

static bool shmcam_same_format(const struct shmcam_format *a,
			       const struct shmcam_format *b)
{
	return a->pixelformat == b->pixelformat && a->width == b->width &&
	       a->height == b->height;
}

/* Heartbeat, state, session and format of the producer. */
static void shmcam_track_producer(struct shmcam *s)
{
	struct shmcam_header *h = shmcam_hdr(s);
	struct shmcam_format f;
	unsigned long timeout;
	u64 session, hb;
	bool alive;

	if (shmcam_check_identity(h, s->size)) {
		/* Wiped or foreign: wait for a producer to lay it out again. */
		s->layout_ok = false;
		alive = false;
		goto out;
	}

	session = READ_ONCE(h->session_id);
	hb = READ_ONCE(h->heartbeat);
	if (hb != s->last_heartbeat || session != s->session) {
		/* heartbeat_ns is written before heartbeat. */
		smp_rmb();
		shmcam_ts_sample(s, READ_ONCE(h->heartbeat_ns), ktime_get_ns());
		s->last_heartbeat = hb;
		s->heartbeat_jiffies = jiffies;
	}
	if (session != s->session) {
		/* A co-tenant writing the header must not flood the log. */
		dev_info_ratelimited(s->v4l2_dev.dev,
				     "producer session %016llx\n", session);
		s->session = session;
		s->layout_ok = false;
		s->last_frame = SHMCAM_NO_FRAME;
		/* Sequence numbers go on growing across producer restarts. */
		if (s->seq_started)
			s->seq_base = s->last_seq + 1;
		s->seq_first = SHMCAM_NO_FRAME;
	}
	if (!s->layout_ok) {
		int ret = shmcam_layout_read(h, s->size, &s->layout);

		s->layout_ok = !ret;
		if (ret && ret != -EAGAIN)
			dev_warn_ratelimited(s->v4l2_dev.dev,
					     "producer's slot layout is invalid (%d)\n",
					     ret);
	}

	if (!shmcam_format_copy(s, &f)) {
		if (s->src_fmt.pixelformat && !shmcam_same_format(&f, &s->src_fmt))
			shmcam_source_changed(s);
		s->src_fmt = f;
	}

	timeout = msecs_to_jiffies(shmcam_producer_timeout_ms);
	alive = READ_ONCE(h->state) == SHMCAM_STATE_STREAMING &&
		time_before(jiffies, s->heartbeat_jiffies + timeout);
out:
	if (alive != s->alive)
		dev_info_ratelimited(s->v4l2_dev.dev, "producer %s\n",
				     alive ? "streaming" : "stopped or silent");
	s->alive = alive;
}

/*
 * A frame is handed to userspace only in exactly the negotiated format:
 * after a producer format change the frames are skipped (and counted as
 * dropped) until userspace renegotiates or the producer switches back.
 */
static bool shmcam_frame_matches(struct shmcam *s,
				 const struct shmcam_frame_info *fi)
{
	const struct v4l2_pix_format *pix = &s->fmt;

	if (fi->format.pixelformat != pix->pixelformat ||
	    fi->format.width != pix->width || fi->format.height != pix->height)
		return false;
	if (fi->flags & SHMCAM_SLOT_ERROR)
		return false;
	if (pix->pixelformat == V4L2_PIX_FMT_MJPEG)
		return fi->bytesused <= pix->sizeimage;
	return fi->format.bytesperline == pix->bytesperline &&
	       fi->bytesused == pix->sizeimage;
}

/*
 * Fill the first queued buffer with the next frame, taking from @copies
 * the copies it makes.  True if one was, or if one that cannot be
 * delivered was skipped: look for the next.
 */
static bool shmcam_deliver(struct shmcam *s, unsigned int *copies)
{
	const struct v4l2_pix_format *pix = &s->fmt;
	const struct shmcam_format want = {
		.pixelformat = pix->pixelformat,
		.width = pix->width,
		.height = pix->height,
		.bytesperline = pix->pixelformat == V4L2_PIX_FMT_MJPEG ?
				0 : pix->bytesperline,
	};
	struct shmcam_frame_info info;
	struct shmcam_buffer *buf;
	struct vb2_buffer *vb;
	unsigned long flags;
	int ret = -EAGAIN;
	u64 start;

	spin_lock_irqsave(&s->buf_lock, flags);
	buf = list_first_entry_or_null(&s->buf_list, struct shmcam_buffer,
				       list);
	spin_unlock_irqrestore(&s->buf_lock, flags);
	/* No buffer: the frame is missed; the sequence number shows it. */
	if (!buf)
		return false;

	/*
	 * buf stays first in the list while it is filled: buf_queue only
	 * appends and stop_streaming waits for poll_lock before it takes
	 * the buffers back.
	 */
	vb = &buf->vb.vb2_buf;
	start = ktime_get_ns();
	while (*copies) {
		ret = shmcam_read_frame_as(s->base, &s->layout, s->last_frame,
					   &want, vb2_plane_vaddr(vb, 0),
					   vb2_plane_size(vb, 0), &info);
		if (ret == -ESTALE || !ret)
			(*copies)--;
		if (ret != -ESTALE)
			break;
		s->dropped++;
		s->drop_torn++;
	}
	if (!ret) {
		/* what delivering a frame costs, torn copies included */
		s->copy_ns += ktime_get_ns() - start;
		s->copy_bytes += info.bytesused;
	}
	if (ret && ret != -ENOSPC && ret != -EINVAL && ret != -ENOMSG)
		return false;

	if (s->last_frame != SHMCAM_NO_FRAME && info.frame > s->last_frame + 1) {
		s->dropped += info.frame - s->last_frame - 1;
		s->drop_missed += info.frame - s->last_frame - 1;
	}
	s->last_frame = info.frame;
	if (ret) {
		/*
		 * Skipped, counted, and gone past: the next frame is not held
		 * up by one that cannot be delivered.
		 */
		dev_dbg_ratelimited(s->v4l2_dev.dev, "frame %llu skipped (%d)\n",
				    info.frame, ret);
		s->dropped++;
		if (ret == -ENOSPC)
			s->drop_large++;
		else if (ret == -ENOMSG)
			s->drop_format++;
		else
			s->drop_bad++;
		return true;
	}
	if (!shmcam_frame_matches(s, &info)) {
		s->dropped++;
		s->drop_format++;
		return false;
	}

	if (s->seq_first == SHMCAM_NO_FRAME)
		s->seq_first = info.frame;
	s->last_seq = s->seq_base + (u32)(info.frame - s->seq_first);
	s->seq_started = true;

	spin_lock_irqsave(&s->buf_lock, flags);
	list_del(&buf->list);
	spin_unlock_irqrestore(&s->buf_lock, flags);

	buf->vb.sequence = s->last_seq;
	buf->vb.field = V4L2_FIELD_NONE;
	vb->timestamp = shmcam_ts_map(s, info.timestamp_ns);
	vb2_set_plane_payload(vb, 0, info.bytesused);
	vb2_buffer_done(vb, VB2_BUF_STATE_DONE);

	s->frames++;
	s->stat_last_frame = info.frame;
	s->stat_last_timestamp = info.timestamp_ns;
	return true;
}

/*
 * With a doorbell: did frames arrive that no interrupt announced?  After
 * SHMCAM_SILENT_POLLS timer polls in a row that saw that, the doorbell is
 * taken as silent (a server that never rings) and the timer polls at the
 * frame rate; the first interrupt after that hands back to the doorbell.
 */
static void shmcam_watch_doorbell(struct shmcam *s)
{
	u64 latest = READ_ONCE(shmcam_hdr(s)->latest_frame);
	unsigned long kicks = READ_ONCE(s->kicks);

	if (!s->doorbell)
		return;
	if (kicks != s->kicks_seen) {
		s->kicks_seen = kicks;
		s->silent_polls = 0;
		if (s->doorbell_silent)
			dev_info_ratelimited(s->v4l2_dev.dev,
					     "frame interrupts are back\n");
		s->doorbell_silent = false;
	} else if (s->streaming && s->alive && latest != s->seen_latest &&
		   !s->doorbell_silent &&
		   ++s->silent_polls >= SHMCAM_SILENT_POLLS) {
		dev_info_ratelimited(s->v4l2_dev.dev,
				     "frames arrive without interrupts: polling\n");
		s->doorbell_silent = true;
	}
	s->seen_latest = latest;
}

/* One look at the region: from the work item, and as a stream starts. */
static void shmcam_poll(struct shmcam *s)
{
	unsigned int i, copies = SHMCAM_COPIES_PER_POLL;

	mutex_lock(&s->poll_lock);
	if (!s->gone && !s->suspended && s->open) {
		s->polls++;
		shmcam_track_producer(s);
		shmcam_watch_doorbell(s);
		if (s->layout_ok)
			shmcam_ctrls_poll(s, &s->layout);
		WRITE_ONCE(s->poll_ns, shmcam_poll_period(s));
		/* Catch up on frames still in the ring, one per buffer. */
		for (i = 0; i < s->layout.slot_count && copies; i++)
			if (!s->streaming || !s->alive || !s->layout_ok ||
			    !shmcam_deliver(s, &copies))
				break;
		shmcam_consumer_beat(s);
	}
	mutex_unlock(&s->poll_lock);
}

static void shmcam_poll_work(struct work_struct *work)
{
	shmcam_poll(container_of(work, struct shmcam, poll_work));
}

static enum hrtimer_restart shmcam_timer_fn(struct hrtimer *timer)
{
	struct shmcam *s = container_of(timer, struct shmcam, timer);

	queue_work(s->wq, &s->poll_work);
	hrtimer_forward_now(timer, ns_to_ktime(READ_ONCE(s->poll_ns)));
	return HRTIMER_RESTART;
}

/**
 * shmcam_region_init - prepare polling of a mapped, identified region
 * @s: device with base, size, doorbell and cons_index set
 *
 * Nothing runs until a file is opened (shmcam_region_open()).
 *
 * Return: 0 or -ENOMEM.
 */
int shmcam_region_init(struct shmcam *s)
{
	struct shmcam_header *h = shmcam_hdr(s);

	mutex_init(&s->poll_lock);
	spin_lock_init(&s->cons_lock);
	INIT_WORK(&s->poll_work, shmcam_poll_work);
	shmcam_hrtimer_setup(&s->timer, shmcam_timer_fn);
	s->poll_ns = SHMCAM_IDLE_POLL_NS;

	s->wq = alloc_ordered_workqueue("shmcam/%s", WQ_HIGHPRI | WQ_MEM_RECLAIM,
					s->bus_info);
	if (!s->wq)
		return -ENOMEM;

	s->session = READ_ONCE(h->session_id);
	s->last_heartbeat = READ_ONCE(h->heartbeat);
	s->heartbeat_jiffies = jiffies;
	s->last_frame = SHMCAM_NO_FRAME;
	s->seq_first = SHMCAM_NO_FRAME;
	s->stat_last_frame = SHMCAM_NO_FRAME;
	s->seen_latest = READ_ONCE(h->latest_frame);
	s->layout_ok = !shmcam_layout_read(h, s->size, &s->layout);
	if (shmcam_format_copy(s, &s->src_fmt))
		memset(&s->src_fmt, 0, sizeof(s->src_fmt));
	return 0;
}

/* Give the consumer area back.  Called with cons_lock held. */
static void shmcam_consumer_release(struct shmcam *s)
{
	if (!s->cons)
		return;
	WRITE_ONCE(s->cons->flags, 0);
	if (s->cons_flush) {
		s->cons->owner = 0;
		shmcam_consumer_flush(s);
	} else {
		cmpxchg64(&s->cons->owner, s->cons_token, 0);
	}
	s->cons = NULL;
}

/**
 * shmcam_region_open - the first file of the device was opened
 * @s: the device, with s->lock held
 *
 * The timer runs only while a file is open; its first poll claims a
 * consumer area.
 */
void shmcam_region_open(struct shmcam *s)
{
	mutex_lock(&s->poll_lock);
	s->open = true;
	if (!s->gone && !s->suspended)
		hrtimer_start(&s->timer, 0, HRTIMER_MODE_REL);
	mutex_unlock(&s->poll_lock);
}

/**
 * shmcam_region_close - the last file of the device was closed
 * @s: the device, with s->lock held and streaming stopped
 *
 * The timer stops and the consumer area is given back: with no file
 * open, the driver neither polls nor keeps an area.
 */
void shmcam_region_close(struct shmcam *s)
{
	mutex_lock(&s->poll_lock);
	s->open = false;
	mutex_unlock(&s->poll_lock);
	if (s->gone)
		return;
	hrtimer_cancel(&s->timer);
	cancel_work_sync(&s->poll_work);
	spin_lock(&s->cons_lock);
	shmcam_consumer_release(s);
	spin_unlock(&s->cons_lock);
}

/**
 * shmcam_region_stop - stop reading and writing the region for good
 * @s: the device, with its interrupt already freed
 *
 * Releases the consumer area (through cons_flush, so the device's
 * registers must still be mapped).  Afterwards nothing touches the region
 * or the registers, so the bus may unmap them.  Called with s->lock held,
 * so that no ioctl is reading the capability table meanwhile.
 */
void shmcam_region_stop(struct shmcam *s)
{
	mutex_lock(&s->poll_lock);
	s->gone = true;
	mutex_unlock(&s->poll_lock);
	hrtimer_cancel(&s->timer);
	cancel_work_sync(&s->poll_work);

	spin_lock(&s->cons_lock);
	shmcam_consumer_release(s);
	spin_unlock(&s->cons_lock);
	destroy_workqueue(s->wq);
}

/**
 * shmcam_region_suspend - stop polling for a system sleep or shutdown
 * @s: the device
 *
 * Nothing reads or writes the region or the registers afterwards, until
 * shmcam_region_resume().
 */
void shmcam_region_suspend(struct shmcam *s)
{
	mutex_lock(&s->poll_lock);
	s->suspended = true;
	mutex_unlock(&s->poll_lock);
	hrtimer_cancel(&s->timer);
	cancel_work_sync(&s->poll_work);
}

/**
 * shmcam_region_resume - poll again after a system sleep
 * @s: the device, its bus's registers set up again
 *
 * The device may have been reset meanwhile (QEMU resets every device on
 * wake-up): the consumer area is written out again and the producer rung,
 * and the worker looks at the region at once.
 */
void shmcam_region_resume(struct shmcam *s)
{
	mutex_lock(&s->poll_lock);
	s->suspended = false;
	spin_lock(&s->cons_lock);
	if (!s->gone)
		shmcam_consumer_publish(s);
	spin_unlock(&s->cons_lock);
	shmcam_consumer_notify(s);
	if (!s->gone && s->open)
		hrtimer_start(&s->timer, 0, HRTIMER_MODE_REL);
	mutex_unlock(&s->poll_lock);
}

/* Poll now: the producer announced a frame.  From the hard irq. */
void shmcam_region_kick(struct shmcam *s)
{
	WRITE_ONCE(s->kicks, s->kicks + 1);
	queue_work(s->wq, &s->poll_work);
}

/**
 * shmcam_region_stream - start or stop frame delivery
 * @s: the device; s->lock is held and the format is fixed while streaming
 * @on: true from start_streaming, false from stop_streaming
 *
 * When this returns false, the worker no longer touches any buffer.
 */
void shmcam_region_stream(struct shmcam *s, bool on)
{
	mutex_lock(&s->poll_lock);
	s->streaming = on;
	if (on) {
		s->silent_polls = 0;
		s->last_ts = 0;
		s->last_frame = SHMCAM_NO_FRAME;
		s->seq_first = SHMCAM_NO_FRAME;
		s->seq_base = 0;
		s->last_seq = 0;
		s->seq_started = false;
	}
	spin_lock(&s->cons_lock);
	if (on)
		s->cons_flags |= SHMCAM_CONSUMER_STREAMING;
	else
		s->cons_flags &= ~SHMCAM_CONSUMER_STREAMING;
	if (!s->gone)
		shmcam_consumer_publish(s);
	spin_unlock(&s->cons_lock);
	shmcam_consumer_notify(s);
	WRITE_ONCE(s->poll_ns, shmcam_poll_period(s));
	if (on && !s->gone)
		hrtimer_start(&s->timer, 0, HRTIMER_MODE_REL);
	mutex_unlock(&s->poll_lock);
	/*
	 * The newest frame goes into the first buffer before STREAMON (or
	 * the read() that starts the stream) returns, not when the worker
	 * next runs: a non-blocking DQBUF or read() right after it finds
	 * the frame every time, rather than as the scheduler decides.
	 */
	if (on)
		shmcam_poll(s);
}

/**
 * shmcam_region_request - ask the producer for the negotiated format
 * @s: the device, with s->lock held
 *
 * Writes fmt and interval to the consumer area with a new request_gen.
 * The producer may honour it or not; frames in another format are not
 * delivered (see shmcam_frame_matches()).
 */
void shmcam_region_request(struct shmcam *s)
{
	spin_lock(&s->cons_lock);
	s->fmt_req.pixelformat = s->fmt.pixelformat;
	s->fmt_req.width = s->fmt.width;
	s->fmt_req.height = s->fmt.height;
	s->fmt_req.interval.numerator = s->interval.numerator;
	s->fmt_req.interval.denominator = s->interval.denominator;
	if (s->interval.numerator && s->interval.denominator)
		WRITE_ONCE(s->want_ns,
			   div_u64((u64)s->interval.numerator * NSEC_PER_SEC,
				   s->interval.denominator));
	s->cons_flags |= SHMCAM_CONSUMER_REQUEST;
	s->req_gen++;
	if (!s->gone)
		shmcam_consumer_publish(s);
	spin_unlock(&s->cons_lock);
	shmcam_consumer_notify(s);
}

/**
 * shmcam_region_ctrl_request - write a control request to the area
 * @s: the device, with s->lock held (one request at a time)
 * @id: V4L2 control id
 * @value: the value asked for
 * @serial: its new ctrl_serial, never 0
 *
 * ctrl_id and ctrl_value go first, then (after a write barrier)
 * ctrl_serial; the producer is rung, if the bus can.
 *
 * Return: 0, or -EAGAIN while no consumer area is claimed.
 */
int shmcam_region_ctrl_request(struct shmcam *s, u32 id, s64 value,
			       u32 serial)
{
	struct shmcam_consumer *c;

	spin_lock(&s->cons_lock);
	c = s->gone ? NULL : s->cons;
	if (c) {
		WRITE_ONCE(c->ctrl_id, id);
		WRITE_ONCE(c->ctrl_value, (u64)value);
		/* The producer reads the serial, then id and value. */
		smp_wmb();
		WRITE_ONCE(c->ctrl_serial, serial);
		shmcam_consumer_flush(s);
	}
	spin_unlock(&s->cons_lock);
	if (!c)
		return -EAGAIN;
	shmcam_consumer_notify(s);
	return 0;
}

/**
 * shmcam_region_status - what a user looks at when frames are missing
 * @s: the device
 * @buf: where the text goes, one "name: value" line each
 * @len: its size
 *
 * The producer as last seen, the frames delivered and those not, by
 * cause, and how the worker runs.  VIDIOC_LOG_STATUS and the device's
 * debugfs file print the same text.
 *
 * Return: the length of the text.
 */
int shmcam_region_status(struct shmcam *s, char *buf, size_t len)
{
	const struct shmcam_format *f = &s->src_fmt;
	char fourcc[5];
	int i, n;

	mutex_lock(&s->poll_lock);
	/* As v4l2-ctl names it; a byte outside printable ASCII as '?' */
	for (i = 0; i < 4; i++) {
		fourcc[i] = (f->pixelformat >> (8 * i)) & 0xff;
		if (fourcc[i] < 0x20 || fourcc[i] > 0x7e)
			fourcc[i] = '?';
	}
	fourcc[4] = '\0';
	n = scnprintf(buf, len,
		      "producer: %s\n"
		      "session: %016llx\n"
		      "format: %ux%u %s %u/%u s\n"
		      "streaming: %s\n"
		      "doorbell: %s\n"
		      "poll_period_us: %llu\n"
		      "polls: %llu\n"
		      "interrupts: %lu\n"
		      "window_writes: %llu\n"
		      "timestamp_offset_ns: %lld\n"
		      "frames: %llu\n"
		      "copy_ns: %llu\n"
		      "copy_bytes: %llu\n"
		      "dropped: %llu\n"
		      "dropped_torn: %llu\n"
		      "dropped_too_large: %llu\n"
		      "dropped_inconsistent: %llu\n"
		      "dropped_format: %llu\n"
		      "dropped_missed: %llu\n",
		      s->alive ? "streaming" : "stopped or silent", s->session,
		      f->width, f->height, fourcc,
		      f->interval.numerator, f->interval.denominator,
		      s->streaming ? "yes" : "no",
		      !s->doorbell ? "none" :
		      s->doorbell_silent ? "silent" : "ringing",
		      div_u64(READ_ONCE(s->poll_ns), NSEC_PER_USEC), s->polls,
		      READ_ONCE(s->kicks), s->mmio_writes,
		      s->ts_valid ? s->ts_offset : 0,
		      s->frames, s->copy_ns, s->copy_bytes, s->dropped,
		      s->drop_torn, s->drop_large,
		      s->drop_bad, s->drop_format, s->drop_missed);
	mutex_unlock(&s->poll_lock);
	return n;
}

/**
 * shmcam_region_interval - the frame interval now streaming
 * @s: the device, with s->lock held
 * @iv: set to the producer's interval when it publishes the negotiated
 *	format and size
 *
 * Return: true when @iv was set.
 */
bool shmcam_region_interval(struct shmcam *s, struct v4l2_fract *iv)
{
	const struct shmcam_format *f = &s->src_fmt;
	bool ok;

	mutex_lock(&s->poll_lock);
	ok = s->alive && f->pixelformat == s->fmt.pixelformat &&
	     f->width == s->fmt.width && f->height == s->fmt.height &&
	     f->interval.numerator && f->interval.denominator;
	if (ok) {
		iv->numerator = f->interval.numerator;
		iv->denominator = f->interval.denominator;
	}
	mutex_unlock(&s->poll_lock);
	return ok;
}
