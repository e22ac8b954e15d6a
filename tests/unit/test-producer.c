/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The producer side: what it refuses to overwrite, how it lays out a
 * region (as a reader validates it), and how it treats consumer areas:
 * as untrusted requests that only count when they match the caps.
 */
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
    /* slots take all the room, page aligned */
    g_assert_cmpuint(l.slot_size, ==, ((REGION - 0x2000) / 3) & ~4095u);
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
    shmcam_producer_set_format(&e->p, &f);
    shmcam_producer_set_caps(&e->p, caps, 2);
    e->c = (void *)(e->r + SHMCAM_CONSUMER_OFFSET);
}

static void req_set(struct shmcam_consumer *c, uint32_t fourcc, uint32_t w,
                    uint32_t h, uint32_t num, uint32_t den)
{
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/producer/probe", test_probe);
    g_test_add_func("/producer/layout", test_layout);
    g_test_add_func("/producer/requests", test_requests);
    g_test_add_func("/producer/requests-garbage", test_requests_garbage);
    return g_test_run();
}
