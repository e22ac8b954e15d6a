// SPDX-License-Identifier: GPL-2.0-only
/*
 * shmcam: the V4L2 capture device
 *
 * Formats, sizes and frame intervals come from the producer's capability
 * table; when the table is empty the producer's current format is the
 * only one offered.  A format or frame rate chosen here is written to the
 * consumer area as a request; frames are delivered only when they match
 * the negotiated format exactly.
 */

#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>
#include <media/videobuf2-vmalloc.h>

#include "shmcam-drv.h"
#include "shmcam-compat.h"

#define SHMCAM_DRIVER_NAME	"shmcam"

/* Offered when the producer publishes neither a table nor a format. */
static const struct shmcam_cap shmcam_default_cap = {
	.pixelformat = V4L2_PIX_FMT_YUYV,
	.width = 640,
	.height = 480,
	.num_intervals = 1,
	.intervals = { { 1, 30 } },
};

static struct shmcam *shmcam_from_vq(struct vb2_queue *vq)
{
	return vb2_get_drv_priv(vq);
}

/*
 * The colorspace a producer names (enum v4l2_colorspace) as a V4L2 capture
 * device must report it.  V4L2_COLORSPACE_JPEG belongs to V4L2_PIX_FMT_JPEG
 * alone: for MJPEG the same thing is sRGB with BT.601 encoding at full
 * range, as uvcvideo reports it.  Anything unknown is sRGB.
 */
static void shmcam_colorspace(u32 colorspace, struct shmcam_cap_pix *cp)
{
	cp->xfer_func = V4L2_XFER_FUNC_DEFAULT;
	cp->ycbcr_enc = V4L2_YCBCR_ENC_DEFAULT;
	cp->quantization = V4L2_QUANTIZATION_DEFAULT;
	switch (colorspace) {
	case V4L2_COLORSPACE_SMPTE170M:
	case V4L2_COLORSPACE_REC709:
	case V4L2_COLORSPACE_BT2020:
	case V4L2_COLORSPACE_RAW:
		cp->colorspace = colorspace;
		break;
	case V4L2_COLORSPACE_JPEG:
		cp->colorspace = V4L2_COLORSPACE_SRGB;
		cp->ycbcr_enc = V4L2_YCBCR_ENC_601;
		cp->quantization = V4L2_QUANTIZATION_FULL_RANGE;
		break;
	default:
		cp->colorspace = V4L2_COLORSPACE_SRGB;
		break;
	}
}

/*
 * How the producer codes the current format's colorspace (ABI 1.2), over
 * what the colorspace implies; values V4L2 does not know are ignored.
 */
static void shmcam_color_apply(const struct shmcam_color *c,
			       struct shmcam_cap_pix *cp)
{
	if (c->xfer_func && c->xfer_func <= V4L2_XFER_FUNC_SMPTE2084)
		cp->xfer_func = c->xfer_func;
	if (c->ycbcr_enc && c->ycbcr_enc <= V4L2_YCBCR_ENC_SMPTE240M)
		cp->ycbcr_enc = c->ycbcr_enc;
	if (c->quantization && c->quantization <= V4L2_QUANTIZATION_LIM_RANGE)
		cp->quantization = c->quantization;
}

/*
 * The sizes of caps[@n], read as entry @i of the producer's table: the
 * line stride and image size the producer gives (ABI 1.1), else the
 * packed ones; an MJPEG frame of a 1.0 producer is bounded by two bytes a
 * pixel, a webcam's worst case.  The colorspace is the current format's
 * (with @color's coding) when @n is that format.  Called with s->lock.
 */
static void shmcam_cap_pix_read(struct shmcam *s, unsigned int i,
				unsigned int n, const struct shmcam_layout *l,
				const struct shmcam_format *cur,
				const struct shmcam_color *color)
{
	const struct shmcam_cap *c = &s->caps[n];
	struct shmcam_cap_pix *cp = &s->cap_pix[n];
	/* No layout: ABI 1.0's, whose sizes are derived. */
	const struct shmcam_layout none = { .slot_size = U32_MAX };
	struct shmcam_format f;
	bool given = !shmcam_cap_size_read(shmcam_hdr(s), l ? l : &none, i, c,
					   &f);
	bool is_cur = cur && cur->pixelformat == c->pixelformat &&
		       cur->width == c->width && cur->height == c->height;

	cp->bytesperline = f.bytesperline;
	cp->sizeimage = f.sizeimage;
	/*
	 * Sizes not given for the mode that streams: the producer's own
	 * format says them.  Any other MJPEG mode gets room for the worst.
	 */
	if (!given && is_cur && cur->sizeimage) {
		if (c->pixelformat != V4L2_PIX_FMT_MJPEG)
			cp->bytesperline = cur->bytesperline;
		cp->sizeimage = cur->sizeimage;
	} else if (!given && c->pixelformat == V4L2_PIX_FMT_MJPEG) {
		cp->sizeimage = PAGE_ALIGN(c->width * c->height * 2);
	}
	shmcam_colorspace(is_cur ? cur->colorspace :
			  c->pixelformat == V4L2_PIX_FMT_MJPEG ?
			  V4L2_COLORSPACE_JPEG : V4L2_COLORSPACE_SRGB, cp);
	if (is_cur && color)
		shmcam_color_apply(color, cp);
}

/* The one place that fills a format from caps[@n]. */
static void shmcam_fill_pix(struct shmcam *s, unsigned int n,
			    struct v4l2_pix_format *pix)
{
	const struct shmcam_cap_pix *cp = &s->cap_pix[n];

	pix->pixelformat = s->caps[n].pixelformat;
	pix->width = s->caps[n].width;
	pix->height = s->caps[n].height;
	pix->bytesperline = cp->bytesperline;
	pix->sizeimage = cp->sizeimage;
	pix->field = V4L2_FIELD_NONE;
	pix->colorspace = cp->colorspace;
	pix->xfer_func = cp->xfer_func;
	pix->ycbcr_enc = cp->ycbcr_enc;
	pix->quantization = cp->quantization;
	pix->flags = 0;
	pix->priv = 0;
}

/*
 * Copy the current format, its colorspace coding and the capability
 * table, under the producer's metadata lock (ABI 1.2): a copy a rewrite
 * tore is taken again, a few times; after that the last copy stands, each
 * entry checked on its own.  Returns the number of valid entries copied.
 */
static unsigned int shmcam_caps_copy(struct shmcam *s,
				     const struct shmcam_layout *l,
				     struct shmcam_format *f, bool *have_cur,
				     struct shmcam_color *color)
{
	struct shmcam_header *h = shmcam_hdr(s);
	unsigned int i, n = 0, tries;
	u32 seq;

	for (tries = 0; tries < 3; tries++) {
		seq = shmcam_meta_begin(h);
		*have_cur = !shmcam_format_read(h, l, f);
		memset(color, 0, sizeof(*color));
		if (l && l->abi_minor >= 2) {
			color->xfer_func = READ_ONCE(h->color.xfer_func);
			color->ycbcr_enc = READ_ONCE(h->color.ycbcr_enc);
			color->quantization = READ_ONCE(h->color.quantization);
		}
		for (i = 0, n = 0; i < SHMCAM_MAX_CAPS; i++) {
			if (!shmcam_cap_read(h, i, &s->caps[n])) {
				shmcam_cap_pix_read(s, i, n, l,
						    *have_cur ? f : NULL, color);
				n++;
			}
		}
		if (!shmcam_meta_retry(h, seq))
			break;
	}
	return n;
}

/*
 * Re-read the producer's capability table (it may have restarted with
 * another camera).  Invalid entries are left out.  Called with s->lock.
 */
static void shmcam_caps_refresh(struct shmcam *s)
{
	struct shmcam_header *h = shmcam_hdr(s);
	struct shmcam_layout layout;
	const struct shmcam_layout *l = NULL;
	struct shmcam_color color;
	struct shmcam_format f;
	unsigned int n;
	bool cur;

	if (s->gone) {
		if (!s->num_caps) {
			s->caps[0] = shmcam_default_cap;
			shmcam_cap_pix_read(s, 0, 0, NULL, NULL, NULL);
			s->num_caps = 1;
		}
		return;
	}
	if (!shmcam_layout_read(h, s->size, &layout))
		l = &layout;
	n = shmcam_caps_copy(s, l, &f, &cur, &color);
	if (!n) {
		if (cur) {
			memset(&s->caps[0], 0, sizeof(s->caps[0]));
			s->caps[0].pixelformat = f.pixelformat;
			s->caps[0].width = f.width;
			s->caps[0].height = f.height;
			s->caps[0].num_intervals = 1;
			s->caps[0].intervals[0] = f.interval;
			shmcam_cap_pix_read(s, SHMCAM_MAX_CAPS, 0, NULL, &f,
					    &color);
			if (f.pixelformat != V4L2_PIX_FMT_MJPEG)
				s->cap_pix[0].bytesperline = f.bytesperline;
			s->cap_pix[0].sizeimage = f.sizeimage;
		} else {
			s->caps[0] = shmcam_default_cap;
			shmcam_cap_pix_read(s, 0, 0, NULL, NULL, NULL);
		}
		n = 1;
	}
	s->num_caps = n;
}

static bool shmcam_fmt_listed(struct shmcam *s, u32 pixelformat)
{
	unsigned int i;

	for (i = 0; i < s->num_caps; i++)
		if (s->caps[i].pixelformat == pixelformat)
			return true;
	return false;
}

/* The capability closest to pixelformat and size: never NULL. */
static const struct shmcam_cap *shmcam_nearest_cap(struct shmcam *s,
						   u32 pixelformat,
						   u32 width, u32 height)
{
	const struct shmcam_cap *best = NULL;
	u64 best_dist = U64_MAX;
	unsigned int i;

	if (!shmcam_fmt_listed(s, pixelformat))
		pixelformat = s->caps[0].pixelformat;
	for (i = 0; i < s->num_caps; i++) {
		const struct shmcam_cap *c = &s->caps[i];
		u64 dist;

		if (c->pixelformat != pixelformat)
			continue;
		dist = abs((s64)c->width - width) +
		       abs((s64)c->height - height);
		if (dist < best_dist) {
			best = c;
			best_dist = dist;
		}
	}
	return best;
}

static const struct shmcam_cap *shmcam_cap_of(struct shmcam *s,
					      u32 pixelformat,
					      u32 width, u32 height)
{
	unsigned int i;

	for (i = 0; i < s->num_caps; i++)
		if (s->caps[i].pixelformat == pixelformat &&
		    s->caps[i].width == width && s->caps[i].height == height)
			return &s->caps[i];
	return NULL;
}

static u64 shmcam_fract_ns(u32 numerator, u32 denominator)
{
	return div_u64((u64)numerator * NSEC_PER_SEC, denominator);
}

/* The offered interval closest to @want (the first when @want is 0). */
static struct v4l2_fract shmcam_nearest_interval(const struct shmcam_cap *c,
						 const struct v4l2_fract *want)
{
	struct v4l2_fract best = {
		.numerator = c->intervals[0].numerator,
		.denominator = c->intervals[0].denominator,
	};
	u64 want_ns, best_dist = U64_MAX;
	unsigned int i;

	if (!want->numerator || !want->denominator)
		return best;
	want_ns = shmcam_fract_ns(want->numerator, want->denominator);
	for (i = 0; i < c->num_intervals; i++) {
		u64 ns = shmcam_fract_ns(c->intervals[i].numerator,
					 c->intervals[i].denominator);
		u64 dist = ns > want_ns ? ns - want_ns : want_ns - ns;

		if (dist < best_dist) {
			best_dist = dist;
			best.numerator = c->intervals[i].numerator;
			best.denominator = c->intervals[i].denominator;
		}
	}
	return best;
}

static void shmcam_try_pix(struct shmcam *s, struct v4l2_pix_format *pix)
{
	const struct shmcam_cap *c;

	shmcam_caps_refresh(s);
	c = shmcam_nearest_cap(s, pix->pixelformat, pix->width, pix->height);
	shmcam_fill_pix(s, c - s->caps, pix);
}

static int shmcam_querycap(struct file *file, void *priv,
			   struct v4l2_capability *cap)
{
	struct shmcam *s = video_drvdata(file);

	strscpy(cap->driver, SHMCAM_DRIVER_NAME, sizeof(cap->driver));
	if (s->gone || !shmcam_card_read(shmcam_hdr(s), cap->card,
					 sizeof(cap->card)))
		strscpy(cap->card, "shmcam", sizeof(cap->card));
	strscpy(cap->bus_info, s->bus_info, sizeof(cap->bus_info));
	return 0;
}

static int shmcam_enum_fmt_vid_cap(struct file *file, void *priv,
				   struct v4l2_fmtdesc *f)
{
	struct shmcam *s = video_drvdata(file);
	unsigned int i, j, n = 0;

	shmcam_caps_refresh(s);
	for (i = 0; i < s->num_caps; i++) {
		for (j = 0; j < i; j++)
			if (s->caps[j].pixelformat == s->caps[i].pixelformat)
				break;
		if (j < i)
			continue;
		if (n++ == f->index) {
			f->pixelformat = s->caps[i].pixelformat;
			return 0;
		}
	}
	return -EINVAL;
}

static int shmcam_enum_framesizes(struct file *file, void *priv,
				  struct v4l2_frmsizeenum *fsize)
{
	struct shmcam *s = video_drvdata(file);
	unsigned int i, n = 0;

	shmcam_caps_refresh(s);
	for (i = 0; i < s->num_caps; i++) {
		if (s->caps[i].pixelformat != fsize->pixel_format)
			continue;
		if (n++ == fsize->index) {
			fsize->type = V4L2_FRMSIZE_TYPE_DISCRETE;
			fsize->discrete.width = s->caps[i].width;
			fsize->discrete.height = s->caps[i].height;
			return 0;
		}
	}
	return -EINVAL;
}

static int shmcam_enum_frameintervals(struct file *file, void *priv,
				      struct v4l2_frmivalenum *fival)
{
	struct shmcam *s = video_drvdata(file);
	const struct shmcam_cap *c;

	shmcam_caps_refresh(s);
	c = shmcam_cap_of(s, fival->pixel_format, fival->width, fival->height);
	if (!c || fival->index >= c->num_intervals)
		return -EINVAL;
	fival->type = V4L2_FRMIVAL_TYPE_DISCRETE;
	fival->discrete.numerator = c->intervals[fival->index].numerator;
	fival->discrete.denominator = c->intervals[fival->index].denominator;
	return 0;
}

static bool shmcam_interval_listed(const struct shmcam_cap *c,
				   const struct v4l2_fract *iv)
{
	unsigned int i;

	for (i = 0; i < c->num_intervals; i++)
		if (c->intervals[i].numerator == iv->numerator &&
		    c->intervals[i].denominator == iv->denominator)
			return true;
	return false;
}

/*
 * Keep the negotiated format one the producer offers.  After a producer
 * restart with another camera or format, a format it no longer lists is
 * replaced by what it sends now (the nearest offer if that is not
 * listed), and an interval it no longer lists by the nearest one.  Never
 * while buffers are allocated: those keep their format, and frames of
 * another format are skipped until userspace renegotiates.  Called with
 * s->lock.
 */
static void shmcam_fmt_follow(struct shmcam *s)
{
	struct v4l2_pix_format pix = { 0 };
	struct v4l2_fract want = s->interval;
	const struct shmcam_cap *c;
	struct shmcam_format f;

	shmcam_caps_refresh(s);
	if (vb2_is_busy(&s->queue))
		return;
	c = shmcam_cap_of(s, s->fmt.pixelformat, s->fmt.width, s->fmt.height);
	if (!c) {
		if (!s->gone && !shmcam_format_read(shmcam_hdr(s), NULL, &f)) {
			pix.pixelformat = f.pixelformat;
			pix.width = f.width;
			pix.height = f.height;
			want.numerator = f.interval.numerator;
			want.denominator = f.interval.denominator;
		}
		shmcam_try_pix(s, &pix);
		s->fmt = pix;
		c = shmcam_cap_of(s, pix.pixelformat, pix.width, pix.height);
	}
	if (c && !shmcam_interval_listed(c, &s->interval))
		s->interval = shmcam_nearest_interval(c, &want);
}

static int shmcam_g_fmt_vid_cap(struct file *file, void *priv,
				struct v4l2_format *f)
{
	struct shmcam *s = video_drvdata(file);

	shmcam_fmt_follow(s);
	f->fmt.pix = s->fmt;
	return 0;
}

static int shmcam_try_fmt_vid_cap(struct file *file, void *priv,
				  struct v4l2_format *f)
{
	shmcam_try_pix(video_drvdata(file), &f->fmt.pix);
	return 0;
}

/* Keep the interval if the new size offers it, else take the nearest. */
static void shmcam_set_format(struct shmcam *s,
			      const struct v4l2_pix_format *pix)
{
	const struct shmcam_cap *c;

	s->fmt = *pix;
	c = shmcam_cap_of(s, pix->pixelformat, pix->width, pix->height);
	if (c)
		s->interval = shmcam_nearest_interval(c, &s->interval);
}

static int shmcam_s_fmt_vid_cap(struct file *file, void *priv,
				struct v4l2_format *f)
{
	struct shmcam *s = video_drvdata(file);

	if (vb2_is_busy(&s->queue))
		return -EBUSY;
	shmcam_try_pix(s, &f->fmt.pix);
	shmcam_set_format(s, &f->fmt.pix);
	shmcam_region_request(s);
	return 0;
}

static int shmcam_g_parm(struct file *file, void *priv,
			 struct v4l2_streamparm *parm)
{
	struct shmcam *s = video_drvdata(file);

	if (parm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	shmcam_fmt_follow(s);
	memset(&parm->parm.capture, 0, sizeof(parm->parm.capture));
	parm->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
	/* While streaming: what the producer sends, if it is ours. */
	if (!vb2_is_streaming(&s->queue) ||
	    !shmcam_region_interval(s, &parm->parm.capture.timeperframe))
		parm->parm.capture.timeperframe = s->interval;
	parm->parm.capture.readbuffers = 2;
	return 0;
}

static int shmcam_s_parm(struct file *file, void *priv,
			 struct v4l2_streamparm *parm)
{
	struct shmcam *s = video_drvdata(file);
	const struct shmcam_cap *c;

	if (parm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	shmcam_fmt_follow(s);
	c = shmcam_cap_of(s, s->fmt.pixelformat, s->fmt.width, s->fmt.height);
	if (c) {
		const struct v4l2_fract *want =
			&parm->parm.capture.timeperframe;

		s->interval = shmcam_nearest_interval(c, want);
		shmcam_region_request(s);
	}
	return shmcam_g_parm(file, priv, parm);
}

static int shmcam_enum_input(struct file *file, void *priv,
			     struct v4l2_input *inp)
{
	struct shmcam *s = video_drvdata(file);

	if (inp->index)
		return -EINVAL;
	inp->type = V4L2_INPUT_TYPE_CAMERA;
	strscpy(inp->name, "Camera", sizeof(inp->name));
	inp->status = READ_ONCE(s->alive) ? 0 : V4L2_IN_ST_NO_SIGNAL;
	return 0;
}

static int shmcam_g_input(struct file *file, void *priv, unsigned int *i)
{
	*i = 0;
	return 0;
}

static int shmcam_s_input(struct file *file, void *priv, unsigned int i)
{
	return i ? -EINVAL : 0;
}

static int shmcam_subscribe_event(struct v4l2_fh *fh,
				  const struct v4l2_event_subscription *sub)
{
	if (sub->type == V4L2_EVENT_SOURCE_CHANGE)
		return v4l2_src_change_event_subscribe(fh, sub);
	return v4l2_ctrl_subscribe_event(fh, sub);
}

/* v4l2-ctl --log-status: shmcam_region_status(), line by line. */
static int shmcam_log_status(struct file *file, void *priv)
{
	struct shmcam *s = video_drvdata(file);
	char *text, *p, *line;

	text = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!text)
		return -ENOMEM;
	shmcam_region_status(s, text, PAGE_SIZE);
	p = text;
	while ((line = strsep(&p, "\n")) && *line)
		v4l2_info(&s->v4l2_dev, "%s: %s\n", s->v4l2_dev.name, line);
	kfree(text);
	return v4l2_ctrl_log_status(file, priv);
}

static const struct v4l2_ioctl_ops shmcam_ioctl_ops = {
	.vidioc_querycap = shmcam_querycap,
	.vidioc_enum_fmt_vid_cap = shmcam_enum_fmt_vid_cap,
	.vidioc_g_fmt_vid_cap = shmcam_g_fmt_vid_cap,
	.vidioc_try_fmt_vid_cap = shmcam_try_fmt_vid_cap,
	.vidioc_s_fmt_vid_cap = shmcam_s_fmt_vid_cap,
	.vidioc_enum_framesizes = shmcam_enum_framesizes,
	.vidioc_enum_frameintervals = shmcam_enum_frameintervals,
	.vidioc_g_parm = shmcam_g_parm,
	.vidioc_s_parm = shmcam_s_parm,
	.vidioc_enum_input = shmcam_enum_input,
	.vidioc_g_input = shmcam_g_input,
	.vidioc_s_input = shmcam_s_input,

	.vidioc_reqbufs = vb2_ioctl_reqbufs,
	.vidioc_create_bufs = vb2_ioctl_create_bufs,
	.vidioc_prepare_buf = vb2_ioctl_prepare_buf,
	.vidioc_querybuf = vb2_ioctl_querybuf,
	.vidioc_qbuf = vb2_ioctl_qbuf,
	.vidioc_dqbuf = vb2_ioctl_dqbuf,
	.vidioc_expbuf = vb2_ioctl_expbuf,
	.vidioc_streamon = vb2_ioctl_streamon,
	.vidioc_streamoff = vb2_ioctl_streamoff,

	.vidioc_log_status = shmcam_log_status,
	.vidioc_subscribe_event = shmcam_subscribe_event,
	.vidioc_unsubscribe_event = v4l2_event_unsubscribe,
};

static int shmcam_queue_setup(struct vb2_queue *vq, unsigned int *nbuffers,
			      unsigned int *nplanes, unsigned int sizes[],
			      struct device *alloc_devs[])
{
	struct shmcam *s = shmcam_from_vq(vq);

	if (*nplanes)
		return sizes[0] < s->fmt.sizeimage ? -EINVAL : 0;
	*nplanes = 1;
	sizes[0] = s->fmt.sizeimage;
	return 0;
}

static int shmcam_buf_prepare(struct vb2_buffer *vb)
{
	struct shmcam *s = shmcam_from_vq(vb->vb2_queue);

	if (vb2_plane_size(vb, 0) < s->fmt.sizeimage)
		return -EINVAL;
	return 0;
}

static void shmcam_buf_queue(struct vb2_buffer *vb)
{
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);
	struct shmcam_buffer *buf = container_of(vbuf, struct shmcam_buffer,
						 vb);
	struct shmcam *s = shmcam_from_vq(vb->vb2_queue);
	unsigned long flags;

	spin_lock_irqsave(&s->buf_lock, flags);
	list_add_tail(&buf->list, &s->buf_list);
	spin_unlock_irqrestore(&s->buf_lock, flags);
}

/* Give every queued buffer back to vb2: failed start and stop. */
static void shmcam_return_all_buffers(struct shmcam *s, enum vb2_buffer_state state)
{
	struct shmcam_buffer *buf, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&s->buf_lock, flags);
	list_for_each_entry_safe(buf, tmp, &s->buf_list, list) {
		list_del(&buf->list);
		vb2_buffer_done(&buf->vb.vb2_buf, state);
	}
	spin_unlock_irqrestore(&s->buf_lock, flags);
}

static int shmcam_start_streaming(struct vb2_queue *vq, unsigned int count)
{
	struct shmcam *s = shmcam_from_vq(vq);

	if (s->gone) {
		shmcam_return_all_buffers(s, VB2_BUF_STATE_QUEUED);
		return -ENODEV;
	}
	/*
	 * Ask again: since S_FMT another guest or a restarted producer may
	 * have changed what is published, and the stream would just stop.
	 */
	shmcam_region_request(s);
	shmcam_region_stream(s, true);
	return 0;
}

static void shmcam_stop_streaming(struct vb2_queue *vq)
{
	struct shmcam *s = shmcam_from_vq(vq);

	shmcam_region_stream(s, false);
	shmcam_return_all_buffers(s, VB2_BUF_STATE_ERROR);
}

static const struct vb2_ops shmcam_vb2_ops = {
	.queue_setup = shmcam_queue_setup,
	.buf_prepare = shmcam_buf_prepare,
	.buf_queue = shmcam_buf_queue,
	.start_streaming = shmcam_start_streaming,
	.stop_streaming = shmcam_stop_streaming,
	SHMCAM_VB2_WAIT_OPS
};

/* The first open starts the region's timer, the last close stops it. */
static int shmcam_fop_open(struct file *file)
{
	struct shmcam *s = video_drvdata(file);
	int ret;

	if (mutex_lock_interruptible(&s->lock))
		return -ERESTARTSYS;
	/* No file open: the one moment the controls may be rebuilt. */
	if (!s->open)
		shmcam_ctrls_open(s);
	ret = v4l2_fh_open(file);
	if (!ret && v4l2_fh_is_singular_file(file))
		shmcam_region_open(s);
	mutex_unlock(&s->lock);
	return ret;
}

static int shmcam_fop_release(struct file *file)
{
	struct shmcam *s = video_drvdata(file);
	bool last;
	int ret;

	mutex_lock(&s->lock);
	last = v4l2_fh_is_singular_file(file);
	ret = _vb2_fop_release(file, NULL);
	if (last)
		shmcam_region_close(s);
	mutex_unlock(&s->lock);
	return ret;
}

static const struct v4l2_file_operations shmcam_fops = {
	.owner = THIS_MODULE,
	.open = shmcam_fop_open,
	.release = shmcam_fop_release,
	.read = vb2_fop_read,
	.poll = vb2_fop_poll,
	.unlocked_ioctl = video_ioctl2,
	.mmap = vb2_fop_mmap,
};

/* Last reference gone: the device was removed and every file closed. */
static void shmcam_release(struct v4l2_device *v4l2_dev)
{
	struct shmcam *s = container_of(v4l2_dev, struct shmcam, v4l2_dev);

	shmcam_ctrls_free(s);
	mutex_destroy(&s->poll_lock);
	mutex_destroy(&s->lock);
	kfree(s);
}

/**
 * shmcam_v4l2_register - create the video device for a probed region
 * @s: device from shmcam_region_init(), allocated with kzalloc()
 * @parent: the bus device
 *
 * On success @s belongs to the V4L2 core: after shmcam_v4l2_unregister()
 * and shmcam_v4l2_put() the last file handle frees @s.  On error
 * nothing is left registered and the caller still owns @s.
 *
 * Return: 0 or a negative errno.
 */
int shmcam_v4l2_register(struct shmcam *s, struct device *parent)
{
	struct video_device *vdev = &s->vdev;
	struct vb2_queue *q = &s->queue;
	int ret;

	mutex_init(&s->lock);
	spin_lock_init(&s->buf_lock);
	INIT_LIST_HEAD(&s->buf_list);

	ret = v4l2_device_register(parent, &s->v4l2_dev);
	if (ret)
		return ret;

	/* The producer's controls, if it publishes any (shmcam-ctrls.c). */
	ret = shmcam_ctrls_init(s);
	if (ret)
		goto free_ctrls;

	q->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	q->io_modes = VB2_MMAP | VB2_USERPTR | VB2_DMABUF | VB2_READ;
	q->drv_priv = s;
	q->buf_struct_size = sizeof(struct shmcam_buffer);
	q->ops = &shmcam_vb2_ops;
	q->mem_ops = &vb2_vmalloc_memops;
	q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
			     V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
	q->lock = &s->lock;
	q->dev = parent;
	ret = vb2_queue_init(q);
	if (ret)
		goto free_ctrls;

	/* Start with what the producer sends now. */
	mutex_lock(&s->lock);
	shmcam_fmt_follow(s);
	mutex_unlock(&s->lock);

	strscpy(vdev->name, SHMCAM_DRIVER_NAME, sizeof(vdev->name));
	shmcam_card_read(shmcam_hdr(s), vdev->name, sizeof(vdev->name));
	if (!vdev->name[0])
		strscpy(vdev->name, SHMCAM_DRIVER_NAME, sizeof(vdev->name));
	vdev->fops = &shmcam_fops;
	vdev->ioctl_ops = &shmcam_ioctl_ops;
	vdev->release = video_device_release_empty;
	vdev->v4l2_dev = &s->v4l2_dev;
	vdev->queue = q;
	vdev->lock = &s->lock;
	vdev->vfl_dir = VFL_DIR_RX;
	vdev->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING |
			    V4L2_CAP_READWRITE;
	video_set_drvdata(vdev, s);

	ret = video_register_device(vdev, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto free_ctrls;
	s->v4l2_dev.release = shmcam_release;
	v4l2_info(&s->v4l2_dev, "%s: %s %ux%u on %s\n",
		  video_device_node_name(vdev), vdev->name, s->fmt.width,
		  s->fmt.height, s->bus_info);
	return 0;

free_ctrls:
	shmcam_ctrls_free(s);
	v4l2_device_unregister(&s->v4l2_dev);
	mutex_destroy(&s->lock);
	return ret;
}

/*
 * Stop streaming and unregister the node.  Open file handles stay valid,
 * but their ioctls fail with -ENODEV from now on.
 */
void shmcam_v4l2_unregister(struct shmcam *s)
{
	vb2_video_unregister_device(&s->vdev);
}

/* Drop the driver's reference: the last file handle frees @s. */
void shmcam_v4l2_put(struct shmcam *s)
{
	v4l2_device_unregister(&s->v4l2_dev);
	v4l2_device_put(&s->v4l2_dev);
}
