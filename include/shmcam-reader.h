/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * shmcam reader protocol: validation of a region and the seqlock read of
 * one frame.  The guest kernel module and shmcam-dump both use exactly this
 * code, and tests/fuzz feeds it arbitrary regions, so it compiles in the
 * kernel and in C11 userspace alike.
 *
 * Nothing read from the region is trusted: every offset and length is
 * checked against the size of the mapping the caller really has before it
 * is used, and values that steer a copy are read once into local variables
 * so that a producer (or a hostile guest) changing them mid-check cannot
 * move the copy out of bounds.
 */
#ifndef SHMCAM_READER_H
#define SHMCAM_READER_H

#include "shmcam.h"

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/compiler.h>
#include <linux/math64.h>
#include <linux/string.h>
#include <asm/barrier.h>
#define shmcam_load8(p)         READ_ONCE(*(p))
#define shmcam_load16(p)        READ_ONCE(*(p))
#define shmcam_load32(p)        READ_ONCE(*(p))
#define shmcam_load64(p)        READ_ONCE(*(p))
/* Orders the slot's seq reads against the frame copy (seqlock). */
#define shmcam_rmb()            smp_rmb()
static inline shmcam_u32 shmcam_mod64(shmcam_u64 a, shmcam_u32 b)
{
	shmcam_u32 rem;

	div_u64_rem(a, b, &rem);
	return rem;
}
#else
#include <errno.h>
#include <string.h>
#define shmcam_load8(p)         __atomic_load_n((p), __ATOMIC_RELAXED)
#define shmcam_load16(p)        __atomic_load_n((p), __ATOMIC_RELAXED)
#define shmcam_load32(p)        __atomic_load_n((p), __ATOMIC_RELAXED)
#define shmcam_load64(p)        __atomic_load_n((p), __ATOMIC_RELAXED)
#define shmcam_rmb()            __atomic_thread_fence(__ATOMIC_ACQUIRE)
static inline shmcam_u32 shmcam_mod64(shmcam_u64 a, shmcam_u32 b)
{
	return (shmcam_u32)(a % b);
}
#endif

#define SHMCAM_NO_FRAME         (~(shmcam_u64)0)

/* What a reader learned about the region, validated once. */
struct shmcam_layout {
	shmcam_u64 mapped_size;	/* what the reader has mapped: trusted */
	shmcam_u64 session_id;
	shmcam_u64 data_offset;
	shmcam_u32 slot_count;
	shmcam_u32 slot_size;
	shmcam_u16 abi_minor;
	shmcam_u64 ctrl_offset;	/* the control table's, checked; 0: none */
};

/* A frame read from a slot: the copy of its descriptor the reader checked. */
struct shmcam_frame_info {
	shmcam_u64 frame;
	shmcam_u64 timestamp_ns;
	shmcam_u32 bytesused;
	shmcam_u32 format_gen;
	shmcam_u32 flags;
	shmcam_u32 slot;
	struct shmcam_format format;
};

static inline int shmcam_is_pow2(shmcam_u64 v)
{
	return v && !(v & (v - 1));
}

/*
 * shmcam_check_identity - is this a shmcam region a reader of this ABI can use?
 *
 * Returns 0, -ENODEV when the magic is not ours (another ivshmem user's
 * region, or an empty one), or -EPROTONOSUPPORT for an ABI major version
 * this reader does not know.
 */
static inline int shmcam_check_identity(const struct shmcam_header *h,
					shmcam_u64 mapped_size)
{
	if (mapped_size < SHMCAM_DATA_OFFSET)
		return -ENODEV;
	if (shmcam_load64(&h->magic) != SHMCAM_MAGIC)
		return -ENODEV;
	if (shmcam_load16(&h->abi_major) != SHMCAM_ABI_MAJOR)
		return -EPROTONOSUPPORT;
	return 0;
}

/* The largest frame of a given format, or 0 for an invalid format. */
static inline shmcam_u64 shmcam_frame_bound(const struct shmcam_format *f)
{
	shmcam_u64 pixels = (shmcam_u64)f->width * f->height;

	if (f->width < SHMCAM_MIN_WIDTH || f->width > SHMCAM_MAX_WIDTH ||
	    f->height < SHMCAM_MIN_HEIGHT || f->height > SHMCAM_MAX_HEIGHT)
		return 0;
	switch (f->pixelformat) {
	case SHMCAM_FMT_YUYV:
		if (f->bytesperline < f->width * 2u ||
		    f->bytesperline > SHMCAM_MAX_WIDTH * 4u)
			return 0;
		return (shmcam_u64)f->bytesperline * f->height;
	case SHMCAM_FMT_NV12:
	case SHMCAM_FMT_YUV420:
		if ((f->width | f->height) & 1)
			return 0;
		if (f->bytesperline < f->width ||
		    f->bytesperline > SHMCAM_MAX_WIDTH * 2u)
			return 0;
		return (shmcam_u64)f->bytesperline * f->height * 3 / 2;
	case SHMCAM_FMT_MJPEG:
		/* Compressed: bounded by the producer's sizeimage. */
		return pixels * 4;
	default:
		return 0;
	}
}

/*
 * shmcam_format_check - is a format (from the header or a slot) usable?
 *
 * Returns 0, or -EINVAL when the format is unknown, the size is out of
 * range, or its frames could not fit in one slot.
 */
static inline int shmcam_format_check(const struct shmcam_format *f,
				      const struct shmcam_layout *l)
{
	shmcam_u64 bound = shmcam_frame_bound(f);

	if (!bound)
		return -EINVAL;
	if (!f->sizeimage || f->sizeimage > l->slot_size)
		return -EINVAL;
	if (f->pixelformat != SHMCAM_FMT_MJPEG && f->sizeimage < bound)
		return -EINVAL;
	if (!f->interval.numerator || !f->interval.denominator)
		return -EINVAL;
	return 0;
}

/*
 * shmcam_cap_check - is a capability table entry usable?
 *
 * Returns 0 or -EINVAL.  Intervals past num_intervals are not looked at.
 */
static inline int shmcam_cap_check(const struct shmcam_cap *c)
{
	shmcam_u32 i;
	struct shmcam_format f = {
		.pixelformat = c->pixelformat,
		.width = c->width,
		.height = c->height,
		.bytesperline = c->pixelformat == SHMCAM_FMT_YUYV ?
				c->width * 2 : c->width,
	};

	if (!shmcam_frame_bound(&f))
		return -EINVAL;
	if (!c->num_intervals || c->num_intervals > SHMCAM_MAX_INTERVALS)
		return -EINVAL;
	for (i = 0; i < c->num_intervals; i++)
		if (!c->intervals[i].numerator || !c->intervals[i].denominator)
			return -EINVAL;
	return 0;
}

/*
 * shmcam_meta_begin - start copying the header's metadata (format, caps,
 * cap_sizes, card, color)
 *
 * ABI 1.2's meta_seq is odd while the producer rewrites them; a region of
 * an older minor version keeps it 0, and its copies are taken as they
 * come.  Returns the value to give shmcam_meta_retry() after the copy.
 */
static inline shmcam_u32 shmcam_meta_begin(const struct shmcam_header *h)
{
	shmcam_u32 seq = shmcam_load32(&h->meta_seq);

	shmcam_rmb();
	return seq;
}

/* Non-zero when the copy since shmcam_meta_begin() may be torn. */
static inline int shmcam_meta_retry(const struct shmcam_header *h,
				    shmcam_u32 seq)
{
	shmcam_rmb();
	return (seq & 1) || shmcam_load32(&h->meta_seq) != seq;
}

/*
 * shmcam_cap_read - copy capability table entry @i and check the copy
 *
 * The entry is copied first and the copy checked, so a producer rewriting
 * the table meanwhile cannot invalidate what was checked.  Returns 0, or
 * -EINVAL when @i is past the table or the entry is unusable.
 */
static inline int shmcam_cap_read(const struct shmcam_header *h,
				  shmcam_u32 i, struct shmcam_cap *c)
{
	shmcam_u32 k;

	if (i >= SHMCAM_MAX_CAPS || i >= shmcam_load32(&h->num_caps))
		return -EINVAL;
	c->pixelformat = shmcam_load32(&h->caps[i].pixelformat);
	c->width = shmcam_load32(&h->caps[i].width);
	c->height = shmcam_load32(&h->caps[i].height);
	c->num_intervals = shmcam_load32(&h->caps[i].num_intervals);
	for (k = 0; k < SHMCAM_MAX_INTERVALS; k++) {
		c->intervals[k].numerator =
			shmcam_load32(&h->caps[i].intervals[k].numerator);
		c->intervals[k].denominator =
			shmcam_load32(&h->caps[i].intervals[k].denominator);
	}
	return shmcam_cap_check(c);
}

/*
 * shmcam_cap_size_read - the line and frame size of entry @c (read as
 * entry @i with shmcam_cap_read()) in a region of layout @l
 *
 * From ``cap_sizes`` (ABI 1.1) when the producer filled it in and the pair
 * makes a valid format of @c's fourcc and size; else the packed sizes
 * (MJPEG: @c's pixel count).  Fills f->pixelformat, width, height,
 * bytesperline and sizeimage.  Returns 0 when the producer's pair was
 * taken, -ENOENT when the sizes were derived.
 */
static inline int shmcam_cap_size_read(const struct shmcam_header *h,
				       const struct shmcam_layout *l,
				       shmcam_u32 i,
				       const struct shmcam_cap *c,
				       struct shmcam_format *f)
{
	shmcam_u64 pixels = (shmcam_u64)c->width * c->height;

	f->pixelformat = c->pixelformat;
	f->width = c->width;
	f->height = c->height;
	f->interval = c->intervals[0];
	if (i < SHMCAM_MAX_CAPS && l->abi_minor >= 1) {
		f->bytesperline = shmcam_load32(&h->cap_sizes[i].bytesperline);
		f->sizeimage = shmcam_load32(&h->cap_sizes[i].sizeimage);
		if (f->sizeimage && !shmcam_format_check(f, l))
			return 0;
	}
	switch (c->pixelformat) {
	case SHMCAM_FMT_YUYV:
		f->bytesperline = c->width * 2;
		f->sizeimage = pixels * 2;
		break;
	case SHMCAM_FMT_NV12:
	case SHMCAM_FMT_YUV420:
		f->bytesperline = c->width;
		f->sizeimage = pixels * 3 / 2;
		break;
	default:
		f->bytesperline = 0;
		f->sizeimage = pixels;
		break;
	}
	return -ENOENT;
}

/*
 * shmcam_format_read - copy the header's current format
 *
 * Returns 0, or -EINVAL when the copy is not a usable format (see
 * shmcam_format_check(); without a layout only the size is checked).
 */
static inline int shmcam_format_read(const struct shmcam_header *h,
				     const struct shmcam_layout *l,
				     struct shmcam_format *f)
{
	f->pixelformat = shmcam_load32(&h->format.pixelformat);
	f->width = shmcam_load32(&h->format.width);
	f->height = shmcam_load32(&h->format.height);
	f->bytesperline = shmcam_load32(&h->format.bytesperline);
	f->sizeimage = shmcam_load32(&h->format.sizeimage);
	f->colorspace = shmcam_load32(&h->format.colorspace);
	f->interval.numerator = shmcam_load32(&h->format.interval.numerator);
	f->interval.denominator =
		shmcam_load32(&h->format.interval.denominator);
	if (l)
		return shmcam_format_check(f, l);
	if (!shmcam_frame_bound(f) || !f->interval.numerator ||
	    !f->interval.denominator)
		return -EINVAL;
	return 0;
}

/*
 * shmcam_card_read - copy the producer's source name as a C string
 *
 * @buf always ends up NUL-terminated; bytes outside printable ASCII
 * become '?'.  Returns the string's length (0 when the producer named
 * nothing).
 */
static inline shmcam_u32 shmcam_card_read(const struct shmcam_header *h,
					  char *buf, shmcam_u32 len)
{
	shmcam_u32 i;

	if (!len)
		return 0;
	for (i = 0; i < len - 1 && i < SHMCAM_CARD_LEN; i++) {
		char ch = shmcam_load8(&h->card[i]);

		if (!ch)
			break;
		buf[i] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
	}
	buf[i] = '\0';
	return i;
}

/*
 * shmcam_layout_read - validate the slot layout and remember it
 *
 * Call after shmcam_check_identity().  Returns 0, -EAGAIN when the
 * producer has not laid out the slots yet, or -EINVAL when the header is
 * inconsistent or describes slots beyond mapped_size.
 */
static inline int shmcam_layout_read(const struct shmcam_header *h,
				     shmcam_u64 mapped_size,
				     struct shmcam_layout *l)
{
	shmcam_u32 count = shmcam_load32(&h->slot_count);
	shmcam_u32 size = shmcam_load32(&h->slot_size);
	shmcam_u64 offset = shmcam_load64(&h->data_offset);
	shmcam_u64 region = shmcam_load64(&h->region_size);

	if (!count && !size)
		return -EAGAIN;
	if (count < SHMCAM_MIN_SLOTS || count > SHMCAM_MAX_SLOTS)
		return -EINVAL;
	if (!size || size % SHMCAM_PAGE_SIZE)
		return -EINVAL;
	if (offset != SHMCAM_DATA_OFFSET)
		return -EINVAL;
	if (!shmcam_is_pow2(region) || region > mapped_size)
		return -EINVAL;
	/* count <= 16 and size < 2^32: no overflow in 64 bits. */
	if (offset + (shmcam_u64)count * size > region)
		return -EINVAL;

	l->mapped_size = mapped_size;
	l->session_id = shmcam_load64(&h->session_id);
	l->data_offset = offset;
	l->slot_count = count;
	l->slot_size = size;
	l->abi_minor = shmcam_load16(&h->abi_minor);
	l->ctrl_offset = 0;
	if (l->abi_minor >= 4) {
		shmcam_u64 ctrl = shmcam_load64(&h->ctrl_offset);

		/* A table out of place is no table; the frames still are. */
		if (ctrl && !(ctrl % SHMCAM_PAGE_SIZE) &&
		    ctrl >= offset + (shmcam_u64)count * size &&
		    ctrl <= region - SHMCAM_CTRL_AREA_SIZE)
			l->ctrl_offset = ctrl;
	}
	return 0;
}

/*
 * How far behind the newest frame a reader may still take one (ABI 1.3):
 * the slots left when the newest and the ones the producer holds ahead
 * of it (slots_ahead, at least 1) are put aside.  slots_ahead is loaded
 * at each read, since a producer changes it when a camera starts or stops
 * writing into the slots; anything outside 1..slot_count - 2 counts as 1,
 * the old rule.
 */
static inline shmcam_u32 shmcam_lookback(const struct shmcam_header *h,
					 const struct shmcam_layout *l)
{
	shmcam_u32 ahead = 1;

	if (l->abi_minor >= 3)
		ahead = shmcam_load32(&h->slots_ahead);
	if (ahead < 1 || ahead > l->slot_count - 2)
		ahead = 1;
	return l->slot_count - 1 - ahead;
}

/*
 * shmcam_read_frame_as - copy the next complete frame out of the region
 * @base: start of the mapped region
 * @l: layout from shmcam_layout_read() for this mapping
 * @after: the last frame counter this reader took, or SHMCAM_NO_FRAME
 * @want: the only format the reader takes (fourcc, size and, uncompressed,
 *	  bytesperline), or NULL for any
 * @dst: where the frame goes
 * @dst_size: bytes available at @dst
 * @info: filled with the frame's descriptor on success
 *
 * The next frame is the one after @after while it is still safe in the
 * ring (at most slot_count - 1 - slots_ahead frames behind the newest, so
 * the producer's next writes go to other slots); a reader further behind skips ahead
 * to the newest.  Readers that poll thus lose no frame to a late wake-up.
 *
 * The slot's descriptor is copied and checked before the frame: a frame
 * that cannot be delivered costs no copy.  The copy is accepted only if
 * the slot's sequence counter was even and unchanged across it: a frame
 * the producer overwrote meanwhile is never returned.
 *
 * Returns 0, -EAGAIN when no frame newer than @after is complete,
 * -ESTALE when the slot changed during the copy (a torn frame; try again),
 * -ENOSPC when the frame is larger than @dst_size, -ENOMSG when it is not
 * in the format @want, or -EINVAL when the slot's descriptor is
 * inconsistent (nothing is copied then).  After -ENOSPC, -ENOMSG and
 * -EINVAL, info->frame names the frame that cannot be had, so that the
 * reader goes past it instead of trying it again.
 */
static inline int shmcam_read_frame_as(const void *base,
				       const struct shmcam_layout *l,
				       shmcam_u64 after,
				       const struct shmcam_format *want,
				       void *dst, shmcam_u32 dst_size,
				       struct shmcam_frame_info *info)
{
	const struct shmcam_header *h = (const struct shmcam_header *)base;
	const struct shmcam_slot *s;
	const unsigned char *src;
	shmcam_u64 latest, frame;
	shmcam_u32 idx, seq, bytesused;
	int ret = 0;

	latest = shmcam_load64(&h->latest_frame);
	if (latest == SHMCAM_NO_FRAME || latest == after)
		return -EAGAIN;
	if (after != SHMCAM_NO_FRAME && latest > after + 1 &&
	    latest - (after + 1) <= shmcam_lookback(h, l))
		latest = after + 1;
	idx = shmcam_mod64(latest, l->slot_count);
	s = &h->slots[idx];

	seq = shmcam_load32(&s->seq);
	if (seq & 1)
		return -ESTALE;
	shmcam_rmb();

	frame = shmcam_load64(&s->frame);
	bytesused = shmcam_load32(&s->bytesused);
	if (after != SHMCAM_NO_FRAME && frame <= after)
		return -EAGAIN;
	info->frame = frame;
	info->bytesused = bytesused;
	info->timestamp_ns = shmcam_load64(&s->timestamp_ns);
	info->format_gen = shmcam_load32(&s->format_gen);
	info->flags = shmcam_load32(&s->flags);
	info->slot = idx;
	memcpy(&info->format, (const void *)&s->format, sizeof(info->format));

	if (!bytesused || bytesused > l->slot_size ||
	    shmcam_format_check(&info->format, l))
		ret = -EINVAL;
	else if (want && (info->format.pixelformat != want->pixelformat ||
			  info->format.width != want->width ||
			  info->format.height != want->height ||
			  info->format.bytesperline != want->bytesperline))
		ret = -ENOMSG;
	else if (bytesused > dst_size)
		ret = -ENOSPC;
	if (ret) {
		/* Which frame this is, if the slot held still. */
		shmcam_rmb();
		if (shmcam_load32(&s->seq) != seq)
			return -ESTALE;
		return ret;
	}

	src = (const unsigned char *)base + l->data_offset +
	      (shmcam_u64)idx * l->slot_size;
	memcpy(dst, src, bytesused);

	shmcam_rmb();
	if (shmcam_load32(&s->seq) != seq)
		return -ESTALE;
	return 0;
}

/* shmcam_read_frame_as() of any format. */
static inline int shmcam_read_frame(const void *base,
				    const struct shmcam_layout *l,
				    shmcam_u64 after, void *dst,
				    shmcam_u32 dst_size,
				    struct shmcam_frame_info *info)
{
	return shmcam_read_frame_as(base, l, after, NULL, dst, dst_size, info);
}

/*
 * shmcam_ctrl_check - is control @c (a copy) usable in a table of
 * @num_menu menu entries?  Returns 0 or -EINVAL.  Its name is made
 * NUL-terminated.
 */
static inline int shmcam_ctrl_check(struct shmcam_ctrl *c, shmcam_u32 num_menu)
{
	long long min = (long long)c->minimum, max = (long long)c->maximum;
	long long def = (long long)c->default_value;

	c->name[SHMCAM_CTRL_NAME_LEN - 1] = 0;
	if (!c->id || !c->name[0] || (c->flags & ~SHMCAM_CTRL_FLAGS))
		return -EINVAL;
	switch (c->type) {
	case SHMCAM_CTRL_BUTTON:
		return 0;
	case SHMCAM_CTRL_BOOLEAN:
		if (min < 0 || max > 1)
			return -EINVAL;
		break;
	case SHMCAM_CTRL_MENU:
	case SHMCAM_CTRL_INTEGER_MENU:
		if (min < 0 || max >= 64 || !c->menu_count ||
		    c->menu_count > SHMCAM_MAX_MENU ||
		    c->menu_first >= num_menu ||
		    c->menu_count > num_menu - c->menu_first)
			return -EINVAL;
		break;
	case SHMCAM_CTRL_INTEGER:
		if (min < -2147483647LL - 1 || max > 2147483647LL)
			return -EINVAL;
		break;
	case SHMCAM_CTRL_INTEGER64:
		break;
	default:
		return -EINVAL;
	}
	if (min > max || def < min || def > max || !c->step)
		return -EINVAL;
	return 0;
}

/*
 * shmcam_ctrls_read - copy the control table (ABI 1.4) of a region of
 * layout @l into @t, but for its answers, and check the copy
 *
 * Only the num_ctrls controls and num_menu menu entries in use are
 * copied, under the table's sequence lock.  Every control is checked
 * (shmcam_ctrl_check()), and each menu's entries must have indexes in
 * increasing order within the control's range.  Returns 0, -ENOENT when
 * the region has no table, -ESTALE when the producer was rewriting it
 * (try again), or -EINVAL when the copy is inconsistent.
 */
static inline int shmcam_ctrls_read(const void *base,
				    const struct shmcam_layout *l,
				    struct shmcam_ctrl_table *t)
{
	const struct shmcam_ctrl_table *src;
	shmcam_u32 seq, n, m, i, k;

	if (!l->ctrl_offset)
		return -ENOENT;
	src = (const struct shmcam_ctrl_table *)
		((const unsigned char *)base + l->ctrl_offset);
	seq = shmcam_load32(&src->seq);
	if (seq & 1)
		return -ESTALE;
	shmcam_rmb();
	t->seq = seq;
	t->generation = shmcam_load32(&src->generation);
	t->values_gen = shmcam_load32(&src->values_gen);
	n = shmcam_load32(&src->num_ctrls);
	m = shmcam_load32(&src->num_menu);
	if (n > SHMCAM_MAX_CTRLS || m > SHMCAM_MAX_MENU_ITEMS)
		return -EINVAL;
	t->num_ctrls = n;
	t->num_menu = m;
	memcpy(t->ctrls, (const void *)src->ctrls, n * sizeof(t->ctrls[0]));
	memcpy(t->menu, (const void *)src->menu, m * sizeof(t->menu[0]));
	shmcam_rmb();
	if (shmcam_load32(&src->seq) != seq)
		return -ESTALE;

	for (i = 0; i < n; i++) {
		struct shmcam_ctrl *c = &t->ctrls[i];
		long long prev = -1;

		if (shmcam_ctrl_check(c, m))
			return -EINVAL;
		for (k = 0; k < i; k++)
			if (t->ctrls[k].id == c->id)
				return -EINVAL;
		if (c->type != SHMCAM_CTRL_MENU &&
		    c->type != SHMCAM_CTRL_INTEGER_MENU)
			continue;
		for (k = c->menu_first; k < c->menu_first + c->menu_count; k++) {
			struct shmcam_ctrl_menu *e = &t->menu[k];

			e->name[SHMCAM_CTRL_NAME_LEN - 1] = 0;
			if ((long long)e->index <= prev ||
			    (long long)e->index < (long long)c->minimum ||
			    (long long)e->index > (long long)c->maximum)
				return -EINVAL;
			if (c->type == SHMCAM_CTRL_MENU && !e->name[0])
				return -EINVAL;
			prev = e->index;
		}
	}
	return 0;
}

/*
 * shmcam_ctrl_answer_read - the producer's answer to this consumer's
 * control request @serial, in consumer area @area's answer
 *
 * Returns 0 with @error (0 or a positive errno) and @value filled in,
 * -EAGAIN while the answer is not there (or is being written), or
 * -ENOENT when the region has no table.
 */
static inline int shmcam_ctrl_answer_read(const void *base,
					  const struct shmcam_layout *l,
					  shmcam_u32 area, shmcam_u32 serial,
					  shmcam_u32 *error, shmcam_u64 *value)
{
	const struct shmcam_ctrl_answer *a;

	if (!l->ctrl_offset)
		return -ENOENT;
	if (area >= SHMCAM_MAX_CONSUMERS)
		return -EINVAL;
	a = &((const struct shmcam_ctrl_table *)
	      ((const unsigned char *)base + l->ctrl_offset))->answers[area];
	if (shmcam_load32(&a->serial) != serial)
		return -EAGAIN;
	shmcam_rmb();
	*error = shmcam_load32(&a->error);
	*value = shmcam_load64(&a->value);
	shmcam_rmb();
	if (shmcam_load32(&a->serial) != serial)
		return -EAGAIN;
	return 0;
}

#endif /* SHMCAM_READER_H */
