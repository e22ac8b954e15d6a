// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for include/shmcam-reader.h: the input is a shared
 * region as a hostile producer (or guest) could leave it.
 *
 * Byte 0 picks the size of the mapping and of the destination buffer;
 * the rest is copied to the start of a heap block of exactly the mapped
 * size (zero beyond the input), so AddressSanitizer reports any read past
 * the mapping and any write past the destination.  Besides crashes, the
 * target aborts when a function reports success for something that
 * breaks the guarantees the driver relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shmcam-reader.h"

static const shmcam_u64 mapped_sizes[8] = {
	0x800, 0x2000, 0x2800, 0x4000, 0x6000, 0x8000, 0x10000, 0x10000,
};
static const shmcam_u32 dst_sizes[4] = { 0, 64, 0x1000, 0x3000 };

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * Read back what was copied: a copy into a buffer nobody reads could be
 * optimised away, and with it the out-of-bounds write it would make.
 */
static volatile unsigned char sink;

static void fuzz_card(const struct shmcam_header *h)
{
	static const shmcam_u32 lens[] = { 0, 1, 8, SHMCAM_CARD_LEN,
					   SHMCAM_CARD_LEN + 8 };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *dst = malloc(lens[i] ? lens[i] : 1);
		shmcam_u32 n;

		CHECK(dst);
		n = shmcam_card_read(h, dst, lens[i]);
		if (lens[i]) {
			CHECK(n < lens[i] && n <= SHMCAM_CARD_LEN);
			CHECK(dst[n] == '\0' && strlen(dst) == n);
		} else {
			CHECK(n == 0);
		}
		free(dst);
	}
}

static void fuzz_caps(const struct shmcam_header *h)
{
	struct shmcam_cap c;
	shmcam_u32 i, k;

	for (i = 0; i < SHMCAM_MAX_CAPS + 2; i++) {
		if (shmcam_cap_read(h, i, &c))
			continue;
		CHECK(i < SHMCAM_MAX_CAPS);
		CHECK(c.width >= SHMCAM_MIN_WIDTH && c.width <= SHMCAM_MAX_WIDTH);
		CHECK(c.height >= SHMCAM_MIN_HEIGHT &&
		      c.height <= SHMCAM_MAX_HEIGHT);
		CHECK(c.num_intervals >= 1 &&
		      c.num_intervals <= SHMCAM_MAX_INTERVALS);
		for (k = 0; k < c.num_intervals; k++)
			CHECK(c.intervals[k].numerator &&
			      c.intervals[k].denominator);
	}
}

static void fuzz_frames(const void *base, const struct shmcam_layout *l,
			shmcam_u32 dst_size)
{
	const struct shmcam_header *h = base;
	struct shmcam_frame_info info;
	shmcam_u64 after[3];
	unsigned char *dst = calloc(1, dst_size ? dst_size : 1);
	int i, ret;

	CHECK(dst);
	after[0] = SHMCAM_NO_FRAME;
	after[1] = shmcam_load64(&h->latest_frame) - 1;
	after[2] = 0;
	for (i = 0; i < 3; i++) {
		ret = shmcam_read_frame(base, l, after[i], dst, dst_size,
					&info);
		sink = dst[dst_size ? dst_size - 1 : 0];
		CHECK(ret == 0 || ret == -EAGAIN || ret == -ESTALE ||
		      ret == -ENOSPC || ret == -EINVAL);
		if (ret)
			continue;
		CHECK(info.bytesused && info.bytesused <= dst_size);
		sink = dst[info.bytesused - 1];
		CHECK(info.bytesused <= l->slot_size);
		CHECK(info.slot < l->slot_count);
		CHECK(!shmcam_format_check(&info.format, l));
		if (after[i] != SHMCAM_NO_FRAME)
			CHECK(info.frame > after[i]);
	}
	free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct shmcam_header *h;
	struct shmcam_layout layout;
	struct shmcam_format f;
	shmcam_u64 mapped;
	shmcam_u32 dst_size;
	unsigned char *region;
	int ret;

	if (size < 1)
		return 0;
	mapped = mapped_sizes[data[0] & 7];
	dst_size = dst_sizes[(data[0] >> 3) & 3];
	data++;
	size--;

	region = calloc(1, mapped);
	CHECK(region);
	memcpy(region, data, size < mapped ? size : mapped);
	h = (const struct shmcam_header *)region;

	/* Only a mapping that holds the metadata pages may be looked into. */
	ret = shmcam_check_identity(h, mapped);
	if (ret) {
		CHECK(ret == -ENODEV || ret == -EPROTONOSUPPORT);
		goto out;
	}
	fuzz_card(h);
	fuzz_caps(h);
	if (!shmcam_format_read(h, NULL, &f))
		CHECK(shmcam_frame_bound(&f));

	ret = shmcam_layout_read(h, mapped, &layout);
	if (ret) {
		CHECK(ret == -EAGAIN || ret == -EINVAL);
		goto out;
	}
	CHECK(layout.mapped_size == mapped);
	CHECK(layout.data_offset + (shmcam_u64)layout.slot_count *
	      layout.slot_size <= mapped);
	if (!shmcam_format_read(h, &layout, &f))
		CHECK(f.sizeimage <= layout.slot_size);
	fuzz_frames(region, &layout, dst_size);
out:
	free(region);
	return 0;
}
