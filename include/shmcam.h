/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * shmcam shared-memory ABI
 *
 * One header for every side: shmcam-host (the producer), shmcam-dump, the
 * QEMU device and the guest kernel module (the consumers).  All fields are
 * little-endian and fixed-width; every gap is an explicit padding field, and
 * static assertions pin each size and each offset that another side relies on.
 * docs/specs/shmcam.rst describes the protocol in prose.
 *
 * Region layout (the region size is a power of two):
 *
 *   0x0000  struct shmcam_header           producer-written, one page
 *   0x1000  struct shmcam_consumer[32]     one per guest, guest-written
 *   0x2000  slot 0 data                    page aligned, slot_size bytes each
 *           slot 1 data ...
 *   ctrl_offset  struct shmcam_ctrl_table  producer-written (ABI 1.4), the
 *                                          region's last 20 KiB, if any
 */
#ifndef SHMCAM_H
#define SHMCAM_H

#ifdef __KERNEL__
#include <linux/types.h>
typedef __u8 shmcam_u8;
typedef __u16 shmcam_u16;
typedef __u32 shmcam_u32;
typedef __u64 shmcam_u64;
#else
#include <stddef.h>
#include <stdint.h>
typedef uint8_t shmcam_u8;
typedef uint16_t shmcam_u16;
typedef uint32_t shmcam_u32;
typedef uint64_t shmcam_u64;
#endif

/* "SHMCAM" followed by two NUL bytes, read as a little-endian u64. */
#define SHMCAM_MAGIC            0x00004d41434d4853ULL
/*
 * The major version changes when a reader of an older version would
 * misread the region; readers refuse a major version they do not know.
 * The minor version only grows when fields are added in reserved space.
 */
#define SHMCAM_ABI_MAJOR        1
#define SHMCAM_ABI_MINOR        4

#define SHMCAM_PAGE_SIZE        4096u
#define SHMCAM_HEADER_OFFSET    0x0000u
#define SHMCAM_CONSUMER_OFFSET  0x1000u
#define SHMCAM_DATA_OFFSET      0x2000u

#define SHMCAM_MIN_SLOTS        3u
#define SHMCAM_MAX_SLOTS        16u
#define SHMCAM_MAX_CAPS         24u
#define SHMCAM_MAX_INTERVALS    8u
#define SHMCAM_MAX_CONSUMERS    32u
/*
 * Under ivshmem-doorbell (shmcam-host --listen) the host is itself a peer
 * with this id, one past the highest guest id, so that a guest rings it
 * with DOORBELL = (SHMCAM_HOST_PEER_ID << 16) | 0 after writing a request
 * into its consumer area.  Guests get ids 0..SHMCAM_MAX_CONSUMERS-1, and a
 * guest's id is the index of its consumer area.
 */
#define SHMCAM_HOST_PEER_ID     32u
#define SHMCAM_CARD_LEN         32u

/* Region sizes accepted by every side: powers of two in this range. */
#define SHMCAM_MIN_REGION_SIZE  (1ULL << 16)
#define SHMCAM_MAX_REGION_SIZE  (1ULL << 36)

/* Frame sizes any producer may publish. */
#define SHMCAM_MIN_WIDTH        16u
#define SHMCAM_MIN_HEIGHT       16u
#define SHMCAM_MAX_WIDTH        7680u
#define SHMCAM_MAX_HEIGHT       4320u

/* Pixel formats: the V4L2 fourcc codes, so no table is needed in between. */
#define SHMCAM_FOURCC(a, b, c, d) \
	((shmcam_u32)(a) | ((shmcam_u32)(b) << 8) | \
	 ((shmcam_u32)(c) << 16) | ((shmcam_u32)(d) << 24))
#define SHMCAM_FMT_YUYV         SHMCAM_FOURCC('Y', 'U', 'Y', 'V')
#define SHMCAM_FMT_NV12         SHMCAM_FOURCC('N', 'V', '1', '2')
#define SHMCAM_FMT_YUV420       SHMCAM_FOURCC('Y', 'U', '1', '2')
#define SHMCAM_FMT_MJPEG        SHMCAM_FOURCC('M', 'J', 'P', 'G')

/* shmcam_header.state */
enum shmcam_state {
	SHMCAM_STATE_STOPPED    = 0,	/* no producer; frames are stale */
	SHMCAM_STATE_STREAMING  = 1,	/* frames arrive at the format below */
	SHMCAM_STATE_NO_SIGNAL  = 2,	/* producer alive, source gone */
};

/* A fraction of a second: V4L2's timeperframe. */
struct shmcam_fract {
	shmcam_u32 numerator;
	shmcam_u32 denominator;
};

/*
 * One format and size the producer can deliver, with the frame intervals
 * it offers there.  The producer fills this table from its real source
 * (the camera's own list), never from a guess.
 */
struct shmcam_cap {
	shmcam_u32 pixelformat;
	shmcam_u32 width;
	shmcam_u32 height;
	shmcam_u32 num_intervals;	/* 1..SHMCAM_MAX_INTERVALS */
	struct shmcam_fract intervals[SHMCAM_MAX_INTERVALS];
};

/*
 * The line and frame size a capability table entry's frames will have
 * (ABI 1.1): a camera's real stride and image size, as it answered for
 * that mode.  0 in both: not known, a reader derives the packed sizes.
 */
struct shmcam_cap_size {
	shmcam_u32 bytesperline;	/* 0 for compressed formats */
	shmcam_u32 sizeimage;
};

/*
 * How the current format's colorspace is coded (ABI 1.2): the V4L2 enums
 * v4l2_xfer_func, v4l2_ycbcr_encoding and v4l2_quantization, 0 (DEFAULT)
 * when the source does not say.
 */
struct shmcam_color {
	shmcam_u8 xfer_func;
	shmcam_u8 ycbcr_enc;
	shmcam_u8 quantization;
	shmcam_u8 reserved;
};

/*
 * The format of the frames now published.  Also copied into each slot
 * descriptor, so a reader can tell which format a given frame has.
 */
struct shmcam_format {
	shmcam_u32 pixelformat;
	shmcam_u32 width;
	shmcam_u32 height;
	shmcam_u32 bytesperline;	/* 0 for compressed formats */
	shmcam_u32 sizeimage;		/* the largest frame, <= slot_size */
	shmcam_u32 colorspace;		/* enum v4l2_colorspace */
	struct shmcam_fract interval;	/* time per frame */
};

/* shmcam_slot.flags */
#define SHMCAM_SLOT_KEYFRAME    (1u << 0)
#define SHMCAM_SLOT_ERROR       (1u << 1)	/* source reported an error */

/*
 * Descriptor of one slot.  seq is a sequence lock: odd while the producer
 * writes the slot, even when it is complete.  A reader copies the frame
 * and accepts it only if seq was even and unchanged across the copy.
 */
struct shmcam_slot {
	shmcam_u32 seq;
	shmcam_u32 bytesused;
	shmcam_u64 frame;		/* producer's frame counter */
	shmcam_u64 timestamp_ns;	/* host CLOCK_MONOTONIC at capture */
	shmcam_u32 format_gen;		/* shmcam_header.format_gen then */
	shmcam_u32 flags;
	struct shmcam_format format;
};

/*
 * Page 0, written by the producer only.  Consumers read it and treat
 * every value as unchecked until validated (see shmcam-reader.h).
 */
struct shmcam_header {
	/* Identity: written once when the producer initialises the region. */
	shmcam_u64 magic;		/* SHMCAM_MAGIC */
	shmcam_u16 abi_major;
	shmcam_u16 abi_minor;
	shmcam_u32 header_size;		/* sizeof(struct shmcam_header) */
	shmcam_u64 region_size;		/* bytes, a power of two */

	/* Liveness */
	shmcam_u64 session_id;		/* random, new at every producer start */
	shmcam_u64 heartbeat;		/* incremented every heartbeat_ms */
	shmcam_u32 heartbeat_ms;
	shmcam_u32 state;		/* enum shmcam_state */

	/* Slots */
	shmcam_u32 slot_count;		/* SHMCAM_MIN_SLOTS..SHMCAM_MAX_SLOTS */
	shmcam_u32 slot_size;		/* bytes, a multiple of the page size */
	shmcam_u64 data_offset;		/* SHMCAM_DATA_OFFSET */
	/*
	 * Frame counter of the newest complete frame, or ~0 before the first.
	 * It lives in slot (latest_frame % slot_count).
	 */
	shmcam_u64 latest_frame;

	/* Current format; format_gen grows each time it changes. */
	shmcam_u32 format_gen;
	shmcam_u32 num_caps;		/* entries used in caps[] */
	struct shmcam_format format;
	char card[SHMCAM_CARD_LEN];	/* NUL-terminated source name */
	shmcam_u32 consumer_count;	/* areas in the consumer page */
	/*
	 * ABI 1.2.  meta_seq is a sequence lock over format, num_caps, caps,
	 * cap_sizes, card and color: odd while the producer rewrites any of
	 * them.  heartbeat_ns is the producer's CLOCK_MONOTONIC when it last
	 * incremented heartbeat, for readers that map slot timestamps to
	 * their own clock.  color completes format's colorspace.
	 */
	shmcam_u32 meta_seq;
	shmcam_u64 heartbeat_ns;
	struct shmcam_color color;
	/*
	 * ABI 1.3.  How many slots after the newest frame's the producer may
	 * hold odd at once: 1 when it writes one frame at a time, more when
	 * a camera writes into several slots queued ahead.  0 (older
	 * producers) means 1.  A reader looks back at most
	 * slot_count - 1 - slots_ahead frames.
	 */
	shmcam_u32 slots_ahead;
	/*
	 * ABI 1.4.  Where the control table (struct shmcam_ctrl_table) is:
	 * the byte offset of its first page, past the last slot, or 0 when
	 * the producer publishes none (older producers, or no room).
	 */
	shmcam_u64 ctrl_offset;
	shmcam_u64 reserved1[6];

	struct shmcam_slot slots[SHMCAM_MAX_SLOTS];
	struct shmcam_cap caps[SHMCAM_MAX_CAPS];
	struct shmcam_cap_size cap_sizes[SHMCAM_MAX_CAPS];	/* ABI 1.1 */
	shmcam_u8 reserved2[736];
};

/* shmcam_consumer.flags, written by the guest */
#define SHMCAM_CONSUMER_STREAMING  (1u << 0)	/* a client is capturing */
#define SHMCAM_CONSUMER_REQUEST    (1u << 1)	/* request fields are valid */

/*
 * One area per consumer in page 1, written by that consumer only.  The
 * producer treats every byte as untrusted input: it may be garbage,
 * change while being read, or name a format nobody offers.
 *
 * A guest without a fixed index (ivshmem-plain) claims a free area by
 * compare-and-swap of owner from 0 to a random non-zero token, and keeps
 * it by incrementing heartbeat; an area whose heartbeat stalls for
 * SHMCAM_CONSUMER_TIMEOUT_MS may be claimed by another guest.
 */
struct shmcam_consumer {
	shmcam_u64 owner;
	shmcam_u64 heartbeat;
	shmcam_u32 flags;
	shmcam_u32 request_gen;		/* grows with each new request */
	shmcam_u32 req_pixelformat;
	shmcam_u32 req_width;
	shmcam_u32 req_height;
	shmcam_u32 reserved0;
	struct shmcam_fract req_interval;
	shmcam_u64 last_frame;		/* frame counter last delivered */
	shmcam_u64 last_timestamp_ns;	/* its slot timestamp, for latency */
	shmcam_u64 frames;		/* frames delivered to applications */
	shmcam_u64 dropped;		/* torn or missed frames */
	/*
	 * ABI 1.4: a control request.  The consumer writes ctrl_id and
	 * ctrl_value, then (after a write barrier) a new ctrl_serial; the
	 * producer answers in the control table's answers[] entry of this
	 * area.  ctrl_serial 0 is never a request.
	 */
	shmcam_u32 ctrl_serial;
	shmcam_u32 ctrl_id;
	shmcam_u64 ctrl_value;		/* an s64, as V4L2's value64 */
	shmcam_u64 reserved1[4];
};

#define SHMCAM_CONSUMER_TIMEOUT_MS  5000u

/*
 * Controls (ABI 1.4): the source's settings (brightness, exposure, white
 * balance...) as V4L2 describes them, in a table at the header's
 * ctrl_offset.  Ids, types and flags are V4L2's own values, so that no
 * side needs a table in between.
 */
#define SHMCAM_MAX_CTRLS        48u
#define SHMCAM_MAX_MENU         32u	/* entries of one menu control */
#define SHMCAM_MAX_MENU_ITEMS   256u	/* entries of all menus together */
#define SHMCAM_CTRL_NAME_LEN    32u
#define SHMCAM_CTRL_AREA_SIZE   0x5000u	/* sizeof(struct shmcam_ctrl_table) */

/* shmcam_ctrl.type: enum v4l2_ctrl_type's values */
#define SHMCAM_CTRL_INTEGER     1u
#define SHMCAM_CTRL_BOOLEAN     2u
#define SHMCAM_CTRL_MENU        3u
#define SHMCAM_CTRL_BUTTON      4u
#define SHMCAM_CTRL_INTEGER64   5u
#define SHMCAM_CTRL_INTEGER_MENU 9u

/* shmcam_ctrl.flags: V4L2_CTRL_FLAG_* values */
#define SHMCAM_CTRL_FLAG_READ_ONLY   0x0004u
#define SHMCAM_CTRL_FLAG_INACTIVE    0x0010u
#define SHMCAM_CTRL_FLAG_SLIDER      0x0020u
#define SHMCAM_CTRL_FLAG_WRITE_ONLY  0x0040u
#define SHMCAM_CTRL_FLAG_VOLATILE    0x0080u
#define SHMCAM_CTRL_FLAGS            0x00f4u	/* all of the above */

/* One control, as VIDIOC_QUERY_EXT_CTRL describes it, and its value. */
struct shmcam_ctrl {
	shmcam_u32 id;			/* V4L2 control id */
	shmcam_u32 type;		/* SHMCAM_CTRL_* */
	shmcam_u32 flags;		/* SHMCAM_CTRL_FLAG_* */
	shmcam_u16 menu_first;		/* its first entry in menu[] */
	shmcam_u16 menu_count;		/* entries, menus only */
	char name[SHMCAM_CTRL_NAME_LEN];	/* NUL-terminated */
	shmcam_u64 minimum;		/* s64, as are maximum, default, value */
	shmcam_u64 maximum;
	shmcam_u64 step;
	shmcam_u64 default_value;
	shmcam_u64 value;		/* what the source keeps now */
	shmcam_u64 reserved;
};

/*
 * One entry of a menu control: the menu index it stands for (a value of
 * the control), and its name (MENU) or its value (INTEGER_MENU).  A
 * control's entries are in increasing index order; an index between
 * minimum and maximum that has no entry is skipped, as QUERYMENU skips it.
 */
struct shmcam_ctrl_menu {
	shmcam_u32 index;
	shmcam_u32 reserved;
	shmcam_u64 value;		/* s64, INTEGER_MENU */
	char name[SHMCAM_CTRL_NAME_LEN];	/* NUL-terminated, MENU */
};

/*
 * The producer's answer to consumer area i's latest control request, in
 * answers[i]: error and value are written first, serial (the request's
 * ctrl_serial) last, after a write barrier.
 */
struct shmcam_ctrl_answer {
	shmcam_u32 serial;
	shmcam_u32 error;		/* 0, or a positive errno */
	shmcam_u64 value;		/* s64: what the source kept */
};

/*
 * The control table, written by the producer only.  seq is a sequence
 * lock over everything but answers[]: odd while the producer rewrites the
 * controls or their values.  generation grows when the set of controls
 * changes (ids, types, ranges, flags or menus: a new source), values_gen
 * when only values do.
 */
struct shmcam_ctrl_table {
	shmcam_u32 seq;
	shmcam_u32 generation;
	shmcam_u32 values_gen;
	shmcam_u32 num_ctrls;		/* 0..SHMCAM_MAX_CTRLS */
	shmcam_u32 num_menu;		/* 0..SHMCAM_MAX_MENU_ITEMS */
	shmcam_u32 reserved0[11];
	struct shmcam_ctrl ctrls[SHMCAM_MAX_CTRLS];
	struct shmcam_ctrl_menu menu[SHMCAM_MAX_MENU_ITEMS];
	struct shmcam_ctrl_answer answers[SHMCAM_MAX_CONSUMERS];
	shmcam_u8 reserved1[3008];
};

/* Bytes needed for the metadata pages and n slots of slot_size bytes. */
#define SHMCAM_REGION_NEEDED(n, slot_size) \
	((shmcam_u64)SHMCAM_DATA_OFFSET + (shmcam_u64)(n) * (slot_size))

/* Layout checks: these numbers are the ABI. */
#define SHMCAM_ASSERT_OFFSET(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), \
		       #type "." #field " must be at " #off)

_Static_assert(sizeof(struct shmcam_fract) == 8, "shmcam_fract size");
_Static_assert(sizeof(struct shmcam_cap) == 80, "shmcam_cap size");
_Static_assert(sizeof(struct shmcam_cap_size) == 8, "shmcam_cap_size size");
_Static_assert(sizeof(struct shmcam_format) == 32, "shmcam_format size");
_Static_assert(sizeof(struct shmcam_color) == 4, "shmcam_color size");
_Static_assert(sizeof(struct shmcam_slot) == 64, "shmcam_slot size");
_Static_assert(sizeof(struct shmcam_header) == SHMCAM_PAGE_SIZE,
	       "shmcam_header is one page");
_Static_assert(sizeof(struct shmcam_consumer) == 128,
	       "shmcam_consumer size");
_Static_assert(sizeof(struct shmcam_ctrl) == 96, "shmcam_ctrl size");
_Static_assert(sizeof(struct shmcam_ctrl_menu) == 48, "shmcam_ctrl_menu size");
_Static_assert(sizeof(struct shmcam_ctrl_answer) == 16,
	       "shmcam_ctrl_answer size");
_Static_assert(sizeof(struct shmcam_ctrl_table) == SHMCAM_CTRL_AREA_SIZE,
	       "shmcam_ctrl_table fills five pages");
_Static_assert(SHMCAM_MAX_CONSUMERS * sizeof(struct shmcam_consumer) ==
	       SHMCAM_PAGE_SIZE, "consumer areas fill one page");

SHMCAM_ASSERT_OFFSET(struct shmcam_cap, intervals, 16);
SHMCAM_ASSERT_OFFSET(struct shmcam_format, interval, 24);
SHMCAM_ASSERT_OFFSET(struct shmcam_slot, bytesused, 4);
SHMCAM_ASSERT_OFFSET(struct shmcam_slot, frame, 8);
SHMCAM_ASSERT_OFFSET(struct shmcam_slot, timestamp_ns, 16);
SHMCAM_ASSERT_OFFSET(struct shmcam_slot, format_gen, 24);
SHMCAM_ASSERT_OFFSET(struct shmcam_slot, format, 32);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, abi_major, 8);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, abi_minor, 10);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, header_size, 12);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, region_size, 16);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, session_id, 24);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, heartbeat, 32);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, heartbeat_ms, 40);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, state, 44);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, slot_count, 48);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, slot_size, 52);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, data_offset, 56);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, latest_frame, 64);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, format_gen, 72);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, num_caps, 76);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, format, 80);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, card, 112);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, consumer_count, 144);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, meta_seq, 148);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, heartbeat_ns, 152);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, color, 160);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, slots_ahead, 164);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, ctrl_offset, 168);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, reserved1, 176);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, slots, 224);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, caps, 1248);
SHMCAM_ASSERT_OFFSET(struct shmcam_header, cap_sizes, 3168);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, heartbeat, 8);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, flags, 16);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, request_gen, 20);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, req_pixelformat, 24);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, req_interval, 40);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, last_frame, 48);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, last_timestamp_ns, 56);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, frames, 64);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, dropped, 72);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, ctrl_serial, 80);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, ctrl_id, 84);
SHMCAM_ASSERT_OFFSET(struct shmcam_consumer, ctrl_value, 88);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl, name, 16);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl, minimum, 48);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl, value, 80);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl_menu, value, 8);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl_menu, name, 16);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl_table, ctrls, 64);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl_table, menu, 4672);
SHMCAM_ASSERT_OFFSET(struct shmcam_ctrl_table, answers, 16960);

#endif /* SHMCAM_H */
