/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The producer side: what it refuses to overwrite, how it lays out a
 * region (as a reader validates it), how it writes a frame (a copy, or
 * in two steps around a frame written in place), and how it treats
 * consumer areas: as untrusted requests that only count when they match
 * the caps.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "shmcam-producer.h"

#define REGION (1u << 22)

static void test_probe(void)
{
    uint8_t *r = g_malloc0(REGION);
    struct shmcam_header *h = (void *)r;
    uint16_t major;

    g_assert_cmpint(shmcam_producer_probe(r, REGION, &major), ==,
                    SHMCAM_CONTENT_EMPTY);
    r[4095] = 1;
    g_assert_cmpint(shmcam_producer_probe(r, REGION, &major), ==,
                    SHMCAM_CONTENT_FOREIGN);
    r[4095] = 0;
    memcpy(r, "KVMFR\0\0\0", 8);
    g_assert_cmpint(shmcam_producer_probe(r, REGION, &major), ==,
                    SHMCAM_CONTENT_FOREIGN);
    h->magic = SHMCAM_MAGIC;
    h->abi_major = SHMCAM_ABI_MAJOR;
    g_assert_cmpint(shmcam_producer_probe(r, REGION, &major), ==,
                    SHMCAM_CONTENT_OURS);
    h->abi_major = SHMCAM_ABI_MAJOR + 1;
    g_assert_cmpint(shmcam_producer_probe(r, REGION, &major), ==,
                    SHMCAM_CONTENT_NEWER);
    g_assert_cmpuint(major, ==, SHMCAM_ABI_MAJOR + 1);
    g_free(r);
}

static void test_layout(void)
{
    uint8_t *r = g_malloc0(REGION);
    struct shmcam_producer p;
    struct shmcam_layout l = { 0 };
    struct shmcam_header *h = (void *)r;

    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 2, 4096, 1), ==, -EINVAL);
    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 3, REGION / 2, 1), ==,
                    -ENOSPC);
    g_assert_cmpint(shmcam_producer_init(&p, r, REGION - 4096, 3, 4096, 1), ==,
                    -EINVAL);
    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 3, 640 * 480 * 2, 77),
                    ==, 0);
    g_assert_cmpint(shmcam_check_identity(h, REGION), ==, 0);
    g_assert_cmpint(shmcam_layout_read(h, REGION, &l), ==, 0);
    g_assert_cmpuint(l.slot_count, ==, 3);
    /* slots take all the room before the control table, page aligned */
    g_assert_cmpuint(l.slot_size, ==, ((REGION - 0x2000 - 0x5000) / 3) &
                                      ~4095u);
    g_assert_cmphex(l.ctrl_offset, ==, REGION - 0x5000);
    g_assert_cmpuint(l.session_id, ==, 77);
    g_assert_cmphex(h->latest_frame, ==, SHMCAM_NO_FRAME);
    g_assert_cmpuint(h->state, ==, SHMCAM_STATE_STOPPED);
    g_assert_cmpuint(h->heartbeat_ms, ==, 100);
    g_assert_cmpuint(h->consumer_count, ==, 32);
    /* a reader mapping less than the region refuses it */
    g_assert_cmpint(shmcam_layout_read(h, REGION / 2, &l), ==, -EINVAL);
    g_assert_cmpint(shmcam_producer_publish(&p, r, l.slot_size + 1, 0, 0), ==,
                    -EMSGSIZE);
    g_free(r);
}

struct req_env {
    uint8_t *r;
    struct shmcam_producer p;
    struct shmcam_consumer *c;
};

static void req_env_init(struct req_env *e)
{
    struct shmcam_format f;
    struct shmcam_cap caps[2] = {
        { SHMCAM_FMT_YUYV, 640, 480, 2, { { 1, 30 }, { 1, 60 } } },
        { SHMCAM_FMT_NV12, 320, 240, 1, { { 1, 15 } } },
    };

    e->r = g_malloc0(REGION);
    g_assert_cmpint(shmcam_producer_init(&e->p, e->r, REGION, 3, 640 * 480 * 2,
                                         1), ==, 0);
    shmcam_format_init(&f, SHMCAM_FMT_YUYV, 640, 480, (struct shmcam_fract){ 1, 30 });
    shmcam_producer_set_format(&e->p, &f, NULL);
    shmcam_producer_set_caps(&e->p, caps, NULL, 2);
    shmcam_producer_set_state(&e->p, SHMCAM_STATE_STREAMING);
    e->c = (void *)(e->r + SHMCAM_CONSUMER_OFFSET);
}

static void req_set(struct shmcam_consumer *c, uint32_t fourcc, uint32_t w,
                    uint32_t h, uint32_t num, uint32_t den)
{
    if (!c->owner) {
        c->owner = 0x1001;
    }
    c->flags = SHMCAM_CONSUMER_REQUEST;
    c->req_pixelformat = fourcc;
    c->req_width = w;
    c->req_height = h;
    c->req_interval.numerator = num;
    c->req_interval.denominator = den;
    c->request_gen++;
}

static void test_requests(void)
{
    struct req_env e;
    struct shmcam_request req;

    req_env_init(&e);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);

    req_set(&e.c[5], SHMCAM_FMT_NV12, 320, 240, 1, 15);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 1);
    g_assert_cmpuint(req.consumer, ==, 5);
    g_assert_cmphex(req.pixelformat, ==, SHMCAM_FMT_NV12);
    /* the same request_gen is not acted on twice */
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);

    /* not in the caps: interval, size, format; or no REQUEST flag */
    req_set(&e.c[1], SHMCAM_FMT_NV12, 320, 240, 1, 30);
    req_set(&e.c[2], SHMCAM_FMT_YUYV, 1920, 1080, 1, 30);
    req_set(&e.c[3], SHMCAM_FMT_MJPEG, 640, 480, 1, 30);
    req_set(&e.c[4], SHMCAM_FMT_YUYV, 640, 480, 1, 60);
    e.c[4].flags = SHMCAM_CONSUMER_STREAMING;
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);

    /* the newest wins: two new valid requests, the later area's counts */
    req_set(&e.c[7], SHMCAM_FMT_YUYV, 640, 480, 1, 60);
    req_set(&e.c[9], SHMCAM_FMT_NV12, 320, 240, 1, 15);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 1);
    g_assert_cmpuint(req.consumer, ==, 9);
    g_free(e.r);
}

/* Random bytes in every consumer area never crash nor yield a request
 * outside the caps. */
static void test_requests_garbage(void)
{
    struct req_env e;
    struct shmcam_request req;
    int round, i;

    req_env_init(&e);
    for (round = 0; round < 2000; round++) {
        uint32_t *w = (uint32_t *)e.c;

        for (i = 0; i < (int)(SHMCAM_PAGE_SIZE / 4); i++) {
            w[i] = g_test_rand_int();
        }
        if (shmcam_producer_poll_requests(&e.p, &req)) {
            g_assert_true((req.pixelformat == SHMCAM_FMT_YUYV &&
                           req.width == 640) ||
                          (req.pixelformat == SHMCAM_FMT_NV12 &&
                           req.width == 320));
        }
    }
    g_free(e.r);
}

/* A free area (owner 0) makes no request, whatever else it holds. */
static void test_requests_unowned(void)
{
    struct req_env e;
    struct shmcam_request req;

    req_env_init(&e);
    req_set(&e.c[3], SHMCAM_FMT_NV12, 320, 240, 1, 15);
    e.c[3].owner = 0;
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);
    e.c[3].owner = 0x77;
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 1);
    g_assert_cmpuint(req.consumer, ==, 3);
    g_free(e.r);
}

/*
 * A request made while the producer has no signal is not used up: it is
 * taken when the producer streams again.
 */
static void test_requests_no_signal(void)
{
    struct req_env e;
    struct shmcam_request req;

    req_env_init(&e);
    shmcam_producer_set_state(&e.p, SHMCAM_STATE_NO_SIGNAL);
    req_set(&e.c[2], SHMCAM_FMT_NV12, 320, 240, 1, 15);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);
    shmcam_producer_set_state(&e.p, SHMCAM_STATE_STREAMING);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 1);
    g_assert_cmpuint(req.consumer, ==, 2);
    g_assert_cmphex(req.pixelformat, ==, SHMCAM_FMT_NV12);
    g_free(e.r);
}

/*
 * A guest that reboots into an area counts its request_gen from the start
 * again: the same request_gen from a new owner is a new request.
 */
static void test_requests_new_owner(void)
{
    struct req_env e;
    struct shmcam_request req;

    req_env_init(&e);
    e.c[4].owner = 0x1001;
    req_set(&e.c[4], SHMCAM_FMT_NV12, 320, 240, 1, 15);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 1);
    /* the area freed, then claimed again by the same token: nothing new */
    e.c[4].owner = 0;
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);
    e.c[4].owner = 0x1001;
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);
    /* another guest, its first request: request_gen 1 again */
    memset(&e.c[4], 0, sizeof(e.c[4]));
    e.c[4].owner = 0x2001;
    req_set(&e.c[4], SHMCAM_FMT_YUYV, 640, 480, 1, 60);
    g_assert_cmpuint(e.c[4].request_gen, ==, 1);
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 1);
    g_assert_cmpuint(req.consumer, ==, 4);
    g_assert_cmpuint(req.interval.denominator, ==, 60);
    g_free(e.r);
}

#define MS 1000000ull

/* Areas whose owner and heartbeat stall for the timeout (our clock) go free. */
static void test_reclaim(void)
{
    struct req_env e;
    uint64_t t0 = 1000 * MS, timeout = SHMCAM_CONSUMER_TIMEOUT_MS * MS;

    req_env_init(&e);
    e.c[1].owner = 0x11;
    e.c[1].heartbeat = 7;
    e.c[6].owner = 0x61;
    e.c[6].heartbeat = 7;
    e.c[9].heartbeat = 3;                   /* free: nothing to do */
    /* a producer that just started has seen nothing stall */
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0), ==, 0);
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + timeout - 1), ==, 0);
    /* area 6 beats once: its timeout starts again */
    e.c[6].heartbeat++;
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + timeout - 1), ==, 0);
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + timeout), ==, 1u << 1);
    g_assert_cmphex(e.c[1].owner, ==, 0);
    g_assert_cmphex(e.c[6].owner, ==, 0x61);
    /* a new owner in area 6 just before its timeout: kept */
    e.c[6].owner = 0x63;
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + 2 * timeout - 1), ==, 0);
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + 3 * timeout - 2), ==, 0);
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + 3 * timeout - 1), ==,
                    1u << 6);
    g_assert_cmphex(e.c[6].owner, ==, 0);
    /* freed areas are not freed again, and area 1 can be claimed again */
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + 9 * timeout), ==, 0);
    e.c[1].owner = 0x13;
    g_assert_cmphex(shmcam_producer_reclaim(&e.p, t0 + 9 * timeout), ==, 0);
    g_assert_cmphex(e.c[1].owner, ==, 0x13);
    g_free(e.r);
}

/*
 * A guest may write anything into the header.  The producer reads none
 * of it back: the heartbeat period, the counters, the format copied into
 * each slot and the caps it matches requests against are its own.
 */
static void test_header_scribbled(void)
{
    struct req_env e;
    struct shmcam_request req;
    struct shmcam_header *h;
    struct shmcam_layout l = { 0 };
    struct shmcam_frame_info fi;
    uint8_t frame[64] = { 1, 2, 3 }, *buf = g_malloc(REGION);
    uint64_t beat;

    req_env_init(&e);
    h = (void *)e.r;
    shmcam_producer_heartbeat(&e.p, 1000);
    beat = h->heartbeat;
    g_assert_cmpuint(h->heartbeat_ns, ==, 1000);
    memset(&h->heartbeat, 0xff, sizeof(h->heartbeat));
    h->heartbeat_ms = 0;
    memset(&h->format, 0xee, sizeof(h->format));
    h->format_gen = 0xdead;
    memset(h->caps, 0x5a, sizeof(h->caps));
    h->num_caps = SHMCAM_MAX_CAPS;
    h->slots[0].seq = 0x12345;

    g_assert_cmpuint(e.p.heartbeat_ms, ==, 100);
    shmcam_producer_heartbeat(&e.p, 2000);
    g_assert_cmpuint(h->heartbeat, ==, beat + 1);
    g_assert_cmpuint(h->heartbeat_ns, ==, 2000);
    g_assert_cmpuint(h->meta_seq % 2, ==, 0);
    g_assert_cmpint(shmcam_producer_publish(&e.p, frame, sizeof(frame), 5, 0),
                    ==, 0);
    g_assert_cmpuint(h->slots[0].seq % 2, ==, 0);
    g_assert_cmpuint(h->slots[0].format.width, ==, 640);
    g_assert_cmpuint(h->slots[0].format_gen, ==, e.p.format_gen);
    g_assert_cmpint(shmcam_layout_read(h, REGION, &l), ==, 0);
    g_assert_cmpint(shmcam_read_frame(e.r, &l, SHMCAM_NO_FRAME, buf,
                                      l.slot_size, &fi), ==, 0);
    g_assert_cmpuint(fi.format.pixelformat, ==, SHMCAM_FMT_YUYV);
    g_assert_cmpmem(buf, sizeof(frame), frame, sizeof(frame));
    /* caps written by a guest do not make its request acceptable */
    req_set(&e.c[0], SHMCAM_FMT_YUYV, 0x5a5a5a5a, 0x5a5a5a5a, 0x5a5a5a5a,
            0x5a5a5a5a);
    e.c[0].req_pixelformat = 0x5a5a5a5a;
    g_assert_cmpint(shmcam_producer_poll_requests(&e.p, &req), ==, 0);
    g_free(buf);
    g_free(e.r);
}

/*
 * A frame a reader cannot take (larger than its buffer, or a slot whose
 * descriptor a guest broke) is named in info.frame, so that the reader
 * goes past it: the next read returns the next frame.
 */
static void test_read_skips(void)
{
    struct req_env e;
    struct shmcam_layout l = { 0 };
    struct shmcam_frame_info fi = { 0 };
    struct shmcam_header *h;
    uint8_t small[100] = { 7 }, big[5000] = { 9 }, *buf = g_malloc(REGION);

    req_env_init(&e);
    h = (void *)e.r;
    g_assert_cmpint(shmcam_layout_read(h, REGION, &l), ==, 0);
    g_assert_cmpint(shmcam_producer_publish(&e.p, big, sizeof(big), 1, 0), ==,
                    0);
    g_assert_cmpint(shmcam_read_frame(e.r, &l, SHMCAM_NO_FRAME, buf, 4096,
                                      &fi), ==, -ENOSPC);
    g_assert_cmpuint(fi.frame, ==, 0);
    g_assert_cmpint(shmcam_read_frame(e.r, &l, fi.frame, buf, 4096, &fi), ==,
                    -EAGAIN);
    g_assert_cmpint(shmcam_producer_publish(&e.p, small, sizeof(small), 2, 0),
                    ==, 0);
    h->slots[1].bytesused = l.slot_size + 1;    /* a guest's garbage */
    g_assert_cmpint(shmcam_read_frame(e.r, &l, 0, buf, 4096, &fi), ==,
                    -EINVAL);
    g_assert_cmpuint(fi.frame, ==, 1);
    g_assert_cmpint(shmcam_producer_publish(&e.p, small, sizeof(small), 3, 0),
                    ==, 0);
    g_assert_cmpint(shmcam_read_frame(e.r, &l, fi.frame, buf, 4096, &fi), ==,
                    0);
    g_assert_cmpuint(fi.frame, ==, 2);
    g_assert_cmpuint(fi.timestamp_ns, ==, 3);

    /* Another format than the reader's is skipped, and nothing copied. */
    {
        struct shmcam_format want = fi.format;

        want.width += 2;
        memset(buf, 0xcc, 16);
        g_assert_cmpint(shmcam_producer_publish(&e.p, small, sizeof(small), 4,
                                                0), ==, 0);
        g_assert_cmpint(shmcam_read_frame_as(e.r, &l, fi.frame, &want, buf,
                                             4096, &fi), ==, -ENOMSG);
        g_assert_cmpuint(fi.frame, ==, 3);
        g_assert_cmpuint(buf[0], ==, 0xcc);
        want.width -= 2;
        g_assert_cmpint(shmcam_producer_publish(&e.p, small, sizeof(small), 5,
                                                0), ==, 0);
        g_assert_cmpint(shmcam_read_frame_as(e.r, &l, fi.frame, &want, buf,
                                             4096, &fi), ==, 0);
        g_assert_cmpuint(fi.frame, ==, 4);
        g_assert_cmpuint(buf[0], ==, 7);
    }
    g_free(buf);
    g_free(e.r);
}

/*
 * The metadata lock (ABI 1.2): a copy that spans a rewrite of the format,
 * the caps or the card is told to try again; one that does not, is whole.
 * A new session goes on from an even value past the old one, and the
 * colour coding given with a format is published.
 */
static void test_meta_seq(void)
{
    struct req_env e;
    struct shmcam_header *h;
    const struct shmcam_color color = { 1, 2, 1, 0 };
    uint32_t seq, before;

    req_env_init(&e);
    h = (void *)e.r;
    seq = shmcam_meta_begin(h);
    g_assert_cmpuint(seq % 2, ==, 0);
    g_assert_cmpint(shmcam_meta_retry(h, seq), ==, 0);
    shmcam_producer_set_format(&e.p, &e.p.format, &color);
    g_assert_cmpint(shmcam_meta_retry(h, seq), !=, 0);
    g_assert_cmpuint(h->color.xfer_func, ==, 1);
    g_assert_cmpuint(h->color.ycbcr_enc, ==, 2);
    g_assert_cmpuint(h->color.quantization, ==, 1);
    seq = shmcam_meta_begin(h);
    shmcam_producer_set_card(&e.p, "card");
    g_assert_cmpint(shmcam_meta_retry(h, seq), !=, 0);
    seq = shmcam_meta_begin(h);
    shmcam_producer_set_caps(&e.p, e.p.caps, NULL, 1);
    g_assert_cmpint(shmcam_meta_retry(h, seq), !=, 0);
    /* odd: being rewritten */
    h->meta_seq |= 1;
    g_assert_cmpint(shmcam_meta_retry(h, shmcam_meta_begin(h)), !=, 0);
    before = h->meta_seq;
    g_assert_cmpint(shmcam_producer_init(&e.p, e.r, REGION, 3, 640 * 480 * 2,
                                         2), ==, 0);
    g_assert_cmpuint(h->meta_seq % 2, ==, 0);
    g_assert_cmpuint(h->meta_seq, >, before);
    g_assert_cmpuint(h->color.ycbcr_enc, ==, 0);
    g_free(e.r);
}

/*
 * The line and image size of each capability (ABI 1.1): the producer's
 * when they make a valid format of that entry, else the packed ones.
 */
static void test_cap_sizes(void)
{
    struct req_env e;
    struct shmcam_layout l = { 0 };
    struct shmcam_format f;
    struct shmcam_cap c;
    struct shmcam_header *h;
    struct shmcam_cap caps[2] = {
        { SHMCAM_FMT_YUYV, 640, 480, 1, { { 1, 30 } } },
        { SHMCAM_FMT_NV12, 320, 240, 1, { { 1, 15 } } },
    };
    struct shmcam_cap_size sizes[2] = { { 1536, 1536 * 480 }, { 100, 5 } };

    req_env_init(&e);
    h = (void *)e.r;
    shmcam_producer_set_caps(&e.p, caps, sizes, 2);
    g_assert_cmpint(shmcam_layout_read(h, REGION, &l), ==, 0);
    g_assert_cmpuint(l.abi_minor, ==, SHMCAM_ABI_MINOR);
    g_assert_cmpint(shmcam_cap_read(h, 0, &c), ==, 0);
    g_assert_cmpint(shmcam_cap_size_read(h, &l, 0, &c, &f), ==, 0);
    g_assert_cmpuint(f.bytesperline, ==, 1536);
    g_assert_cmpuint(f.sizeimage, ==, 1536 * 480);
    /* a stride below the packed line: derived */
    g_assert_cmpint(shmcam_cap_read(h, 1, &c), ==, 0);
    g_assert_cmpint(shmcam_cap_size_read(h, &l, 1, &c, &f), ==, -ENOENT);
    g_assert_cmpuint(f.bytesperline, ==, 320);
    g_assert_cmpuint(f.sizeimage, ==, 320 * 240 * 3 / 2);
    /* a 1.0 producer's zeros: derived */
    l.abi_minor = 0;
    g_assert_cmpint(shmcam_cap_read(h, 0, &c), ==, 0);
    g_assert_cmpint(shmcam_cap_size_read(h, &l, 0, &c, &f), ==, -ENOENT);
    g_assert_cmpuint(f.bytesperline, ==, 1280);
    g_free(e.r);
}

/*
 * A frame written in two steps, as the test pattern is drawn in place:
 * between begin and commit the slot's seq is odd, and stays odd through
 * a restore of the header; a reader sent to the slot takes nothing.
 * After the commit seq is even, two on, and a reader gets the frame as
 * written.  A frame larger than a slot is refused before anything is
 * written; a commit of nothing, or of more than was begun, drops the
 * frame, and the next one goes to the same slot.
 */
static void test_begin_commit(void)
{
    struct req_env e;
    struct shmcam_layout l = { 0 };
    struct shmcam_frame_info fi;
    struct shmcam_header *h;
    uint8_t want[1000], *buf = g_malloc(REGION), *slot;
    uint32_t seq, i;

    req_env_init(&e);
    h = (void *)e.r;
    g_assert_cmpint(shmcam_layout_read(h, REGION, &l), ==, 0);
    g_assert_cmpint(shmcam_producer_commit(&e.p, 10, 1, 0), ==, -EINVAL);
    seq = h->slots[0].seq;
    g_assert_null(shmcam_producer_begin(&e.p, 0));
    g_assert_null(shmcam_producer_begin(&e.p, l.slot_size + 1));
    g_assert_cmpuint(h->slots[0].seq, ==, seq);
    g_assert_cmpint(shmcam_producer_commit(&e.p, 10, 1, 0), ==, -EINVAL);

    /* frame 0, written where it is published */
    slot = shmcam_producer_begin(&e.p, l.slot_size);
    g_assert_true(slot == e.r + SHMCAM_DATA_OFFSET);
    g_assert_cmpuint(h->slots[0].seq, ==, seq + 1);
    for (i = 0; i < sizeof(want); i++) {
        want[i] = i * 3;
        slot[i] = want[i];
    }
    h->slots[0].seq = seq + 2;                  /* a guest's scribble */
    g_assert_true(shmcam_producer_restore(&e.p));
    g_assert_cmpuint(h->slots[0].seq, ==, seq + 1);
    h->latest_frame = 0;                        /* and another */
    g_assert_cmpint(shmcam_read_frame(e.r, &l, SHMCAM_NO_FRAME, buf,
                                      l.slot_size, &fi), ==, -ESTALE);
    g_assert_cmpint(shmcam_producer_commit(&e.p, sizeof(want), 77,
                                           SHMCAM_SLOT_KEYFRAME), ==, 0);
    g_assert_cmpuint(h->slots[0].seq, ==, seq + 2);
    g_assert_cmpuint(h->latest_frame, ==, 0);
    g_assert_false(shmcam_producer_restore(&e.p));
    g_assert_cmpint(shmcam_read_frame(e.r, &l, SHMCAM_NO_FRAME, buf,
                                      l.slot_size, &fi), ==, 0);
    g_assert_cmpuint(fi.frame, ==, 0);
    g_assert_cmpuint(fi.bytesused, ==, sizeof(want));
    g_assert_cmpuint(fi.timestamp_ns, ==, 77);
    g_assert_cmpuint(fi.flags, ==, SHMCAM_SLOT_KEYFRAME);
    g_assert_cmpuint(fi.format.width, ==, 640);
    g_assert_cmpmem(buf, fi.bytesused, want, sizeof(want));

    /* frame 1 dropped twice, then written into the same slot */
    seq = h->slots[1].seq;
    slot = shmcam_producer_begin(&e.p, 100);
    g_assert_true(slot == e.r + SHMCAM_DATA_OFFSET + l.slot_size);
    memset(slot, 0x55, 100);
    g_assert_cmpint(shmcam_producer_commit(&e.p, 0, 5, 0), ==, -EMSGSIZE);
    g_assert_cmpuint(h->slots[1].seq, ==, seq + 2);
    g_assert_cmpuint(h->slots[1].bytesused, ==, 0);
    g_assert_cmpuint(h->latest_frame, ==, 0);
    g_assert_cmpint(shmcam_read_frame(e.r, &l, 0, buf, l.slot_size, &fi), ==,
                    -EAGAIN);
    g_assert_true(shmcam_producer_begin(&e.p, 100) == slot);
    g_assert_cmpint(shmcam_producer_commit(&e.p, 101, 5, 0), ==, -EMSGSIZE);
    g_assert_true(shmcam_producer_begin(&e.p, 100) == slot);
    g_assert_cmpuint(h->slots[1].seq, ==, seq + 5);
    g_assert_cmpint(shmcam_producer_commit(&e.p, 100, 6, 0), ==, 0);
    g_assert_cmpuint(h->slots[1].seq, ==, seq + 6);
    g_assert_false(shmcam_producer_restore(&e.p));
    g_assert_cmpint(shmcam_read_frame(e.r, &l, 0, buf, l.slot_size, &fi), ==,
                    0);
    g_assert_cmpuint(fi.frame, ==, 1);
    g_assert_cmpuint(fi.bytesused, ==, 100);
    g_assert_cmpuint(buf[99], ==, 0x55);
    g_free(buf);
    g_free(e.r);
}

/*
 * Slots lent ahead (a camera capturing into them): held odd until their
 * frame is committed, a frame given up costs its number only, readers
 * never look back into a held slot, and a release leaves no frame.
 */
static void test_hold(void)
{
    uint8_t *r = g_malloc0(REGION), *buf = g_malloc(REGION);
    struct shmcam_header *h = (void *)r;
    struct shmcam_layout l = { 0 };
    struct shmcam_frame_info fi;
    struct shmcam_producer p;
    struct shmcam_format f;
    uint8_t *s0, *s1, *s2, *s3;
    uint32_t seq3;

    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 5, 65536, 1), ==, 0);
    shmcam_format_init(&f, SHMCAM_FMT_YUYV, 64, 32, (struct shmcam_fract){ 1, 30 });
    shmcam_producer_set_format(&p, &f, NULL);
    g_assert_cmpint(shmcam_check_identity(h, REGION), ==, 0);
    g_assert_cmpint(shmcam_layout_read(h, REGION, &l), ==, 0);
    g_assert_cmpuint(l.abi_minor, >=, 3);
    g_assert_cmpuint(h->slots_ahead, ==, 1);

    /* one slot at a time until told more */
    s0 = shmcam_producer_hold(&p, 0);
    g_assert_true(s0 == r + SHMCAM_DATA_OFFSET);
    g_assert_null(shmcam_producer_hold(&p, 1));
    g_assert_cmpint(shmcam_producer_set_ahead(&p, 2), ==, -EINVAL);
    g_assert_null(shmcam_producer_begin(&p, 100));
    shmcam_producer_release_held(&p);
    g_assert_cmpuint(h->slots[0].seq & 1, ==, 0);
    g_assert_cmpint(shmcam_producer_set_ahead(&p, 0), ==, -EINVAL);
    g_assert_cmpint(shmcam_producer_set_ahead(&p, 4), ==, -EINVAL);
    g_assert_cmpint(shmcam_producer_set_ahead(&p, 3), ==, 0);
    g_assert_cmpuint(h->slots_ahead, ==, 3);

    s0 = shmcam_producer_hold(&p, 0);
    s1 = shmcam_producer_hold(&p, 1);
    s2 = shmcam_producer_hold(&p, 2);
    g_assert_nonnull(s0);
    g_assert_true(s1 == s0 + l.slot_size && s2 == s1 + l.slot_size);
    g_assert_true(shmcam_producer_hold(&p, 1) == s1);
    g_assert_null(shmcam_producer_hold(&p, 3));
    g_assert_cmpuint(h->slots[0].seq & h->slots[1].seq & h->slots[2].seq & 1,
                     ==, 1);
    /* a guest's scribble over the header keeps them odd */
    h->slots[2].seq = 0;
    g_assert_true(shmcam_producer_restore(&p));
    g_assert_cmpuint(h->slots[2].seq & 1, ==, 1);

    /* the camera filled slot 0: frame 0 */
    memset(s0, 0xa0, 4096);
    g_assert_cmpint(shmcam_producer_commit_held(&p, 4096, 10,
                                                SHMCAM_SLOT_KEYFRAME), ==, 0);
    g_assert_cmpuint(h->latest_frame, ==, 0);
    g_assert_cmpuint(h->slots[0].seq & 1, ==, 0);
    g_assert_cmpint(shmcam_read_frame(r, &l, SHMCAM_NO_FRAME, buf, l.slot_size,
                                      &fi), ==, 0);
    g_assert_cmpuint(fi.frame, ==, 0);
    g_assert_cmpuint(buf[4095], ==, 0xa0);
    s3 = shmcam_producer_hold(&p, 3);
    g_assert_true(s3 == s2 + l.slot_size);
    seq3 = h->slots[3].seq;

    /* frame 1 came empty: given up, the camera goes on into slot 2 */
    g_assert_cmpint(shmcam_producer_commit_held(&p, 0, 11, 0), ==, -EMSGSIZE);
    g_assert_cmpuint(h->latest_frame, ==, 0);
    g_assert_cmpuint(h->slots[1].bytesused, ==, 0);
    g_assert_cmpuint(h->slots[1].frame, ==, 1);
    g_assert_cmpint(shmcam_read_frame(r, &l, 0, buf, l.slot_size, &fi), ==,
                    -EAGAIN);
    memset(s2, 0xa2, 4096);
    g_assert_cmpint(shmcam_producer_commit_held(&p, 4096, 12, 0), ==, 0);
    g_assert_cmpuint(h->latest_frame, ==, 2);
    /* a reader of frame 0 is sent to frame 1's slot, finds none, goes past */
    g_assert_cmpint(shmcam_read_frame(r, &l, 0, buf, l.slot_size, &fi), ==,
                    -EINVAL);
    g_assert_cmpuint(fi.frame, ==, 1);
    g_assert_cmpint(shmcam_read_frame(r, &l, 1, buf, l.slot_size, &fi), ==, 0);
    g_assert_cmpuint(fi.frame, ==, 2);
    g_assert_cmpuint(buf[0], ==, 0xa2);
    /* frame 3's slot is still the camera's */
    g_assert_cmpint(shmcam_producer_commit(&p, 10, 0, 0), ==, -EINVAL);
    g_assert_cmpuint(h->slots[3].seq, ==, seq3);
    g_assert_null(shmcam_producer_begin(&p, 100));

    /*
     * The newest frame and the one before stay readable; further back a
     * reader skips to the newest instead of looking into the held slots
     * (slots_ahead 3 of 5: it looks back 1 frame, not 3).
     */
    shmcam_producer_hold(&p, 4);
    shmcam_producer_hold(&p, 5);
    memset(s3, 0xa3, 4096);
    g_assert_cmpint(shmcam_producer_commit_held(&p, 4096, 13, 0), ==, 0);
    g_assert_cmpint(shmcam_read_frame(r, &l, 1, buf, l.slot_size, &fi), ==, 0);
    g_assert_cmpuint(fi.frame, ==, 2);
    g_assert_cmpint(shmcam_read_frame(r, &l, 0, buf, l.slot_size, &fi), ==, 0);
    g_assert_cmpuint(fi.frame, ==, 3);
    /* a slots_ahead out of range, a guest's, counts as 1 */
    h->slots_ahead = 77;
    g_assert_cmpint(shmcam_read_frame(r, &l, 0, buf, l.slot_size, &fi), ==,
                    -EINVAL);
    g_assert_cmpuint(fi.frame, ==, 1);
    g_assert_true(shmcam_producer_restore(&p));

    /* streamed off: the held slots hold no frame, begin works again */
    shmcam_producer_release_held(&p);
    g_assert_cmpuint(h->slots[4].seq & 1, ==, 0);
    g_assert_cmpuint(h->slots[0].seq & 1, ==, 0);
    g_assert_cmpuint(h->slots[4].bytesused, ==, 0);
    g_assert_cmpint(shmcam_producer_commit_held(&p, 10, 0, 0), ==, -EINVAL);
    g_assert_cmpint(shmcam_producer_publish(&p, buf, 100, 14, 0), ==, 0);
    g_assert_cmpuint(h->latest_frame, ==, 4);
    g_assert_false(shmcam_producer_restore(&p));
    g_free(buf);
    g_free(r);
}

/* A table of two controls: brightness (integer) and a two-entry menu. */
static void ctrl_table_fill(struct shmcam_ctrl_table *t, int64_t bright)
{
    memset(t, 0, sizeof(*t));
    t->num_ctrls = 2;
    t->ctrls[0] = (struct shmcam_ctrl){
        .id = 0x00980900, .type = SHMCAM_CTRL_INTEGER, .name = "Brightness",
        .minimum = 0, .maximum = 255, .step = 1, .default_value = 128,
        .value = (uint64_t)bright,
    };
    t->ctrls[1] = (struct shmcam_ctrl){
        .id = 0x00980918, .type = SHMCAM_CTRL_MENU, .name = "Power Line",
        .menu_first = 0, .menu_count = 2, .minimum = 0, .maximum = 1,
        .step = 1, .default_value = 1, .value = 1,
    };
    t->num_menu = 2;
    t->menu[0] = (struct shmcam_ctrl_menu){ .index = 0, .name = "Disabled" };
    t->menu[1] = (struct shmcam_ctrl_menu){ .index = 1, .name = "50 Hz" };
}

/*
 * Frames first: a region that holds the slots but not the table beside
 * them gets no table, and all its room goes to the slots.
 */
static void test_ctrl_no_room(void)
{
    uint8_t *r = g_malloc0(REGION);
    uint32_t slot = ((REGION - 0x2000) / 4) & ~4095u;
    struct shmcam_producer p;
    struct shmcam_layout l = { 0 };
    struct shmcam_ctrl_table t;
    uint64_t off = 1;

    g_assert_cmpuint(shmcam_producer_layout(REGION, 4, slot, &off), ==, slot);
    g_assert_cmpuint(off, ==, 0);
    g_assert_cmpuint(shmcam_producer_layout(REGION, 4, slot + 1, &off), ==, 0);
    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 4, slot, 1), ==, 0);
    g_assert_cmpint(shmcam_layout_read((void *)r, REGION, &l), ==, 0);
    g_assert_cmpuint(l.slot_size, ==, slot);
    g_assert_cmpuint(l.ctrl_offset, ==, 0);
    g_assert_null(shmcam_producer_ctrls(&p));
    ctrl_table_fill(&t, 10);
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, -ENOENT);
    /* one page less per slot leaves room for it */
    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 4, slot - 4096, 1),
                    ==, 0);
    g_assert_cmpint(shmcam_layout_read((void *)r, REGION, &l), ==, 0);
    g_assert_cmphex(l.ctrl_offset, ==, REGION - 0x5000);
    g_assert_cmpuint(l.slot_size, ==, ((REGION - 0x7000) / 4) & ~4095u);
    g_free(r);
}

static void test_ctrl_publish(void)
{
    uint8_t *r = g_malloc0(REGION);
    struct shmcam_producer p;
    struct shmcam_layout l = { 0 };
    struct shmcam_ctrl_table t, got;
    struct shmcam_ctrl_table *tbl;
    uint32_t gen, vgen;

    /* slot data of an earlier layout where the table goes */
    memset(r + REGION - 0x5000, 0xa5, 0x5000);
    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 3, 4096, 1), ==, 0);
    g_assert_cmpint(shmcam_layout_read((void *)r, REGION, &l), ==, 0);
    tbl = (void *)(r + l.ctrl_offset);
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, 0);
    g_assert_cmpuint(got.num_ctrls, ==, 0);
    g_assert_cmpuint(tbl->answers[5].serial, ==, 0);
    g_assert_cmpuint(tbl->seq % 2, ==, 0);

    ctrl_table_fill(&t, 10);
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, 1);
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, 0);
    g_assert_cmpuint(got.num_ctrls, ==, 2);
    g_assert_cmpstr(got.ctrls[0].name, ==, "Brightness");
    g_assert_cmpint((int64_t)got.ctrls[0].value, ==, 10);
    g_assert_cmpstr(got.menu[1].name, ==, "50 Hz");
    gen = got.generation;
    vgen = got.values_gen;
    g_assert_cmpuint(gen, >, 0);

    /* the same again: nothing written */
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, 0);
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, 0);
    g_assert_cmpuint(got.values_gen, ==, vgen);

    /* a value: values_gen only */
    ctrl_table_fill(&t, 20);
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, 1);
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, 0);
    g_assert_cmpuint(got.generation, ==, gen);
    g_assert_cmpuint(got.values_gen, >, vgen);
    g_assert_cmpint((int64_t)got.ctrls[0].value, ==, 20);

    /* a range: generation */
    t.ctrls[0].maximum = 200;
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, 1);
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, 0);
    g_assert_cmpuint(got.generation, >, gen);

    /* fewer controls: what is gone reads zero */
    t.num_ctrls = 1;
    t.num_menu = 0;
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, 1);
    g_assert_cmpuint(tbl->ctrls[1].id, ==, 0);
    g_assert_cmpuint(tbl->menu[0].index, ==, 0);
    g_assert_cmpstr(tbl->menu[1].name, ==, "");

    t.num_ctrls = SHMCAM_MAX_CTRLS + 1;
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, -EINVAL);
    g_free(r);
}

/* A reader meets the table while it is rewritten, odd or changed. */
static void test_ctrl_seqlock(void)
{
    uint8_t *r = g_malloc0(REGION);
    struct shmcam_producer p;
    struct shmcam_layout l = { 0 };
    struct shmcam_ctrl_table t, got;
    struct shmcam_ctrl_table *tbl;
    uint32_t seq;

    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 3, 4096, 1), ==, 0);
    g_assert_cmpint(shmcam_layout_read((void *)r, REGION, &l), ==, 0);
    tbl = (void *)(r + l.ctrl_offset);
    seq = tbl->seq;
    ctrl_table_fill(&t, 10);
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, 1);
    g_assert_cmpuint(tbl->seq, ==, seq + 2);
    tbl->seq++;
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, -ESTALE);
    tbl->seq--;
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, 0);
    g_free(r);
}

/*
 * A guest that scribbles over the table (or a control's answer) gets it
 * put back at the next restore, and readers take it again.
 */
static void test_ctrl_scribbled(void)
{
    uint8_t *r = g_malloc0(REGION);
    struct shmcam_producer p;
    struct shmcam_layout l = { 0 };
    struct shmcam_ctrl_table t, got;
    struct shmcam_ctrl_table *tbl;

    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 3, 4096, 1), ==, 0);
    g_assert_cmpint(shmcam_layout_read((void *)r, REGION, &l), ==, 0);
    tbl = (void *)(r + l.ctrl_offset);
    ctrl_table_fill(&t, 10);
    g_assert_cmpint(shmcam_producer_set_ctrls(&p, &t), ==, 1);
    shmcam_producer_ctrl_answer(&p, 3, 7, 0, 10);
    g_assert_false(shmcam_producer_restore(&p));

    memset(tbl, 0x5a, sizeof(*tbl));
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, -EINVAL);
    g_assert_true(shmcam_producer_restore(&p));
    g_assert_false(shmcam_producer_restore(&p));
    g_assert_cmpint(shmcam_ctrls_read(r, &l, &got), ==, 0);
    g_assert_cmpuint(got.num_ctrls, ==, 2);
    g_assert_cmpint((int64_t)got.ctrls[0].value, ==, 10);
    g_assert_cmpuint(tbl->answers[3].serial, ==, 7);
    g_assert_cmpuint(tbl->answers[4].serial, ==, 0);

    /* the header's pointer to it is put back too */
    ((struct shmcam_header *)r)->ctrl_offset = 4096;
    g_assert_true(shmcam_producer_restore(&p));
    g_assert_cmpint(shmcam_layout_read((void *)r, REGION, &l), ==, 0);
    g_assert_cmphex(l.ctrl_offset, ==, REGION - 0x5000);
    g_free(r);
}

static void test_ctrl_requests(void)
{
    uint8_t *r = g_malloc0(REGION);
    struct shmcam_consumer *c = (void *)(r + SHMCAM_CONSUMER_OFFSET);
    struct shmcam_ctrl_request req[SHMCAM_MAX_CONSUMERS];
    struct shmcam_producer p;
    struct shmcam_layout l = { 0 };
    uint32_t error = 0;
    shmcam_u64 value = 0;

    /* a request of the earlier producer's time: recorded, not answered */
    c[1].owner = 11;
    c[1].ctrl_serial = 5;
    /* an unowned area's serial is no request */
    c[2].ctrl_serial = 9;
    g_assert_cmpint(shmcam_producer_init(&p, r, REGION, 3, 4096, 1), ==, 0);
    g_assert_cmpint(shmcam_layout_read((void *)r, REGION, &l), ==, 0);
    /* one made after the start, before the producer's first look: ours */
    c[4].owner = 44;
    c[4].ctrl_id = 0x00980901;
    c[4].ctrl_value = 77;
    c[4].ctrl_serial = 1;
    g_assert_cmphex(shmcam_producer_poll_ctrls(&p, req), ==, 0x10);

    c[1].ctrl_id = 0x00980900;
    c[1].ctrl_value = (uint64_t)-3;
    c[1].ctrl_serial = 6;
    g_assert_cmphex(shmcam_producer_poll_ctrls(&p, req), ==, 0x2);
    g_assert_cmpuint(req[1].serial, ==, 6);
    g_assert_cmphex(req[1].id, ==, 0x00980900);
    g_assert_cmpint(req[1].value, ==, -3);
    g_assert_cmpuint(req[1].owner, ==, 11);
    g_assert_cmpuint(req[4].serial, ==, 1);
    g_assert_cmpint(req[4].value, ==, 77);
    /* seen once only; serial 0 never a request */
    g_assert_cmphex(shmcam_producer_poll_ctrls(&p, req), ==, 0);
    c[4].ctrl_serial = 0;
    g_assert_cmphex(shmcam_producer_poll_ctrls(&p, req), ==, 0);

    g_assert_cmpint(shmcam_ctrl_answer_read(r, &l, 1, 6, &error, &value), ==,
                    -EAGAIN);
    shmcam_producer_ctrl_answer(&p, 1, 6, ERANGE, -3);
    g_assert_cmpint(shmcam_ctrl_answer_read(r, &l, 1, 6, &error, &value), ==,
                    0);
    g_assert_cmpuint(error, ==, ERANGE);
    g_assert_cmpint((int64_t)value, ==, -3);
    /* out of range areas are no answer */
    shmcam_producer_ctrl_answer(&p, SHMCAM_MAX_CONSUMERS, 6, 0, 0);
    g_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/producer/probe", test_probe);
    g_test_add_func("/producer/layout", test_layout);
    g_test_add_func("/producer/requests", test_requests);
    g_test_add_func("/producer/requests-garbage", test_requests_garbage);
    g_test_add_func("/producer/requests-unowned", test_requests_unowned);
    g_test_add_func("/producer/requests-no-signal", test_requests_no_signal);
    g_test_add_func("/producer/requests-new-owner", test_requests_new_owner);
    g_test_add_func("/producer/reclaim", test_reclaim);
    g_test_add_func("/producer/header-scribbled", test_header_scribbled);
    g_test_add_func("/producer/read-skips", test_read_skips);
    g_test_add_func("/producer/cap-sizes", test_cap_sizes);
    g_test_add_func("/producer/meta-seq", test_meta_seq);
    g_test_add_func("/producer/begin-commit", test_begin_commit);
    g_test_add_func("/producer/hold", test_hold);
    g_test_add_func("/producer/ctrl-no-room", test_ctrl_no_room);
    g_test_add_func("/producer/ctrl-publish", test_ctrl_publish);
    g_test_add_func("/producer/ctrl-seqlock", test_ctrl_seqlock);
    g_test_add_func("/producer/ctrl-scribbled", test_ctrl_scribbled);
    g_test_add_func("/producer/ctrl-requests", test_ctrl_requests);
    return g_test_run();
}
