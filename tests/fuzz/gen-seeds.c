// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writes the seed corpus of fuzz-reader into a directory: a few valid
 * regions and one variant of each way a region can be wrong.  Each seed is
 * fuzz-reader's input: one selector byte (mapping and destination size),
 * then the region's first pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmcam.h"

/* Selector: mapping 0x8000 (index 5), destination 0x3000 (index 3). */
#define SEL_VALID       (5 | (3 << 3))
#define SEL_TINY        (0 | (3 << 3))	/* mapping 0x800 */
#define SEL_SMALL_DST   (5 | (1 << 3))	/* destination 64 bytes */
#define SEED_SIZE       (SHMCAM_DATA_OFFSET + 0x1000)

struct seed {
	unsigned char sel;
	union {
		struct shmcam_header h;
		unsigned char bytes[SEED_SIZE];
	} r;
};

static void fill_format(struct shmcam_format *f, shmcam_u32 fourcc)
{
	memset(f, 0, sizeof(*f));
	f->pixelformat = fourcc;
	f->width = 32;
	f->height = 32;
	if (fourcc == SHMCAM_FMT_YUYV) {
		f->bytesperline = 64;
		f->sizeimage = 2048;
	} else if (fourcc == SHMCAM_FMT_NV12) {
		f->bytesperline = 32;
		f->sizeimage = 1536;
	} else {
		f->sizeimage = 1000;
	}
	f->colorspace = 8;
	f->interval.numerator = 1;
	f->interval.denominator = 30;
}

/* A valid region: 3 slots of a page, frame 4 complete in slot 1. */
static void valid_region(struct seed *s, shmcam_u32 fourcc)
{
	struct shmcam_header *h = &s->r.h;
	struct shmcam_slot *slot = &h->slots[1];
	char *data = (char *)s->r.bytes + SHMCAM_DATA_OFFSET;

	memset(s, 0, sizeof(*s));
	s->sel = SEL_VALID;
	h->magic = SHMCAM_MAGIC;
	h->abi_major = SHMCAM_ABI_MAJOR;
	h->abi_minor = SHMCAM_ABI_MINOR;
	h->header_size = sizeof(*h);
	h->region_size = 0x8000;
	h->session_id = 0x1234567890abcdefULL;
	h->heartbeat = 7;
	h->heartbeat_ms = 100;
	h->state = SHMCAM_STATE_STREAMING;
	h->slot_count = 3;
	h->slot_size = 0x1000;
	h->data_offset = SHMCAM_DATA_OFFSET;
	h->latest_frame = 4;
	h->format_gen = 1;
	fill_format(&h->format, fourcc);
	strcpy(h->card, "seed camera");
	h->consumer_count = SHMCAM_MAX_CONSUMERS;

	h->num_caps = 2;
	h->caps[0].pixelformat = fourcc;
	h->caps[0].width = 32;
	h->caps[0].height = 32;
	h->caps[0].num_intervals = 2;
	h->caps[0].intervals[0] = (struct shmcam_fract){ 1, 30 };
	h->caps[0].intervals[1] = (struct shmcam_fract){ 1, 15 };
	h->caps[1] = h->caps[0];
	h->caps[1].width = 64;
	h->caps[1].height = 48;

	slot->seq = 2;
	slot->frame = 4;
	slot->bytesused = h->format.sizeimage;
	slot->timestamp_ns = 1000000;
	slot->format_gen = 1;
	slot->format = h->format;
	memset(data, 0x5a, 0x1000);
}

static int write_seed(const char *dir, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "gen-seeds: cannot create %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (fwrite(&s->sel, 1, 1, f) != 1 ||
	    fwrite(&s->r, 1, sizeof(s->r), f) != sizeof(s->r) || fclose(f)) {
		fprintf(stderr, "gen-seeds: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct seed s;
	const char *dir;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	dir = argv[1];

	valid_region(&s, SHMCAM_FMT_YUYV);
	err |= write_seed(dir, "valid-yuyv", &s);
	valid_region(&s, SHMCAM_FMT_NV12);
	err |= write_seed(dir, "valid-nv12", &s);
	valid_region(&s, SHMCAM_FMT_MJPEG);
	err |= write_seed(dir, "valid-mjpeg", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.sel = SEL_SMALL_DST;
	err |= write_seed(dir, "small-destination", &s);
	s.sel = SEL_TINY;
	err |= write_seed(dir, "tiny-mapping", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.magic ^= 1;
	err |= write_seed(dir, "bad-magic", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.abi_major = SHMCAM_ABI_MAJOR + 1;
	err |= write_seed(dir, "future-abi", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.region_size = 0x100000;
	err |= write_seed(dir, "region-beyond-mapping", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.slot_count = 12;
	err |= write_seed(dir, "slots-beyond-region", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.slot_count = 0;
	s.r.h.slot_size = 0;
	err |= write_seed(dir, "no-layout-yet", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.slots[1].seq = 3;
	err |= write_seed(dir, "slot-being-written", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.slots[1].bytesused = 0x1001;
	err |= write_seed(dir, "bytesused-beyond-slot", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	s.r.h.slots[1].format.width = 0xffffffffu;
	err |= write_seed(dir, "slot-format-garbage", &s);

	valid_region(&s, SHMCAM_FMT_YUYV);
	memset(s.r.h.card, 0xff, sizeof(s.r.h.card));
	s.r.h.num_caps = 0xffffffffu;
	s.r.h.caps[1].num_intervals = 100;
	err |= write_seed(dir, "card-and-caps-garbage", &s);

	return err ? 1 : 0;
}
