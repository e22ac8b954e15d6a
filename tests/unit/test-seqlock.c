/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The slot protocol under load: a writer thread publishes pattern frames
 * as fast as it can while a reader thread copies them with
 * shmcam_read_frame() and verifies every frame it accepted byte for byte.
 * The writer publishes frames 0, 3, 6, ... so that with three slots every
 * frame lands in the slot the reader is copying: the worst case, which
 * makes the race happen thousands of times a second.  A second run writes
 * the same way without the seqlock, to prove that the reader's check does
 * catch torn frames when the protocol is broken.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "shmcam-pattern.h"
#include "shmcam-producer.h"

#define REGION_SIZE     (1u << 20)
#define SLOTS           3u

struct race {
    struct shmcam_producer prod;
    void *base;
    struct shmcam_format fmt;
    bool broken;                /* write slots without the seqlock */
    volatile int stop;
    uint64_t written;
    uint64_t accepted, bad, torn, out_of_order;
};

/* The broken writer: data straight into the slot, seq never odd. */
static void race_publish_unsafe(struct race *r, const uint8_t *data, uint32_t len)
{
    struct shmcam_producer *p = &r->prod;
    uint64_t frame = p->frame;
    uint32_t idx = frame % p->slot_count;
    struct shmcam_slot *s = &p->hdr->slots[idx];

    memcpy(p->data + (uint64_t)idx * p->slot_size, data, len);
    s->bytesused = len;
    s->frame = frame;
    s->format = p->hdr->format;
    __atomic_store_n(&p->hdr->latest_frame, frame, __ATOMIC_RELEASE);
    p->frame++;
}

static gpointer race_writer(gpointer opaque)
{
    struct race *r = opaque;
    struct shmcam_pattern pat;
    const uint8_t *data;
    uint64_t n;

    g_assert_cmpint(shmcam_pattern_init(&pat, &r->fmt), ==, 0);
    for (n = 0; !r->stop; n += SLOTS) {
        uint32_t len = shmcam_pattern_render(&pat, n, &data);

        r->prod.frame = n;
        if (r->broken) {
            race_publish_unsafe(r, data, len);
        } else {
            g_assert_cmpint(shmcam_producer_publish(&r->prod, data, len, n, 0),
                            ==, 0);
        }
    }
    r->written = n / SLOTS;
    shmcam_pattern_fini(&pat);
    return NULL;
}

static gpointer race_reader(gpointer opaque)
{
    struct race *r = opaque;
    struct shmcam_layout l = { 0 };
    struct shmcam_frame_info fi;
    struct shmcam_pattern pat;
    uint64_t last = SHMCAM_NO_FRAME, stamp;
    uint8_t *buf;
    char why[128];

    g_assert_cmpint(shmcam_check_identity(r->base, REGION_SIZE), ==, 0);
    g_assert_cmpint(shmcam_layout_read(r->base, REGION_SIZE, &l), ==, 0);
    g_assert_cmpint(shmcam_pattern_init(&pat, &r->fmt), ==, 0);
    buf = g_malloc(l.slot_size);
    while (r->accepted < 3000 && !(r->broken && r->bad >= 5)) {
        int ret = shmcam_read_frame(r->base, &l, last, buf, l.slot_size, &fi);

        if (ret == -ESTALE) {
            r->torn++;
            continue;
        }
        if (ret == -EAGAIN) {
            continue;
        }
        g_assert_cmpint(ret, ==, 0);
        r->accepted++;
        if (shmcam_pattern_verify(&pat, buf, fi.bytesused, &stamp, why,
                                  sizeof(why))) {
            r->bad++;
        } else if (last != SHMCAM_NO_FRAME && stamp <= last) {
            r->out_of_order++;
        }
        last = fi.frame;
    }
    r->stop = 1;
    g_free(buf);
    shmcam_pattern_fini(&pat);
    return NULL;
}

static void race_run(struct race *r)
{
    GThread *w, *rd;

    r->base = g_malloc0(REGION_SIZE);
    g_assert_cmpint(shmcam_format_init(&r->fmt, SHMCAM_FMT_YUYV, 320, 240,
                                       (struct shmcam_fract){ 1, 30 }), ==, 0);
    g_assert_cmpint(shmcam_producer_init(&r->prod, r->base, REGION_SIZE, SLOTS,
                                         shmcam_format_slot_size(&r->fmt), 42),
                    ==, 0);
    shmcam_producer_set_format(&r->prod, &r->fmt, NULL);
    shmcam_producer_set_state(&r->prod, SHMCAM_STATE_STREAMING);
    w = g_thread_new("writer", race_writer, r);
    rd = g_thread_new("reader", race_reader, r);
    g_thread_join(rd);
    g_thread_join(w);
    g_free(r->base);
    g_test_message("written %" G_GUINT64_FORMAT ", accepted %" G_GUINT64_FORMAT
                   ", torn reads refused %" G_GUINT64_FORMAT ", bad accepted %"
                   G_GUINT64_FORMAT, r->written, r->accepted, r->torn, r->bad);
}

static void test_seqlock_never_accepts_torn(void)
{
    struct race r = { 0 };

    race_run(&r);
    g_assert_cmpuint(r.accepted, ==, 3000);
    g_assert_cmpuint(r.bad, ==, 0);
    g_assert_cmpuint(r.out_of_order, ==, 0);
    /* the reader really raced the writer, and the seqlock refused copies */
    g_assert_cmpuint(r.torn, >, 0);
}

/*
 * Without the seqlock torn frames get through, and the verifier sees them.
 * Their number depends on how the two threads are scheduled (a slower,
 * sanitized build tears less often): races are run until five were seen,
 * up to 50 of them.
 */
static void test_unlocked_writer_is_caught(void)
{
    uint64_t bad = 0;
    int i;

    for (i = 0; i < 50 && bad < 5; i++) {
        struct race r = { .broken = true };

        race_run(&r);
        bad += r.bad;
    }
    g_assert_cmpuint(bad, >=, 5);
}

/* A frame made of two frames' halves fails verification. */
static void test_torn_frame_detected(void)
{
    struct shmcam_format fmt;
    struct shmcam_pattern pat;
    const uint8_t *data;
    uint8_t *mix;
    uint32_t len;
    uint64_t stamp;
    char why[128];

    g_assert_cmpint(shmcam_format_init(&fmt, SHMCAM_FMT_NV12, 64, 48,
                                       (struct shmcam_fract){ 1, 30 }), ==, 0);
    g_assert_cmpint(shmcam_pattern_init(&pat, &fmt), ==, 0);
    len = shmcam_pattern_render(&pat, 7, &data);
    mix = g_memdup2(data, len);
    shmcam_pattern_render(&pat, 8, &data);
    memcpy(mix + len / 2, data + len / 2, len - len / 2);
    g_assert_cmpint(shmcam_pattern_verify(&pat, mix, len, &stamp, why,
                                          sizeof(why)), ==, -EBADMSG);
    g_assert_cmpuint(stamp, ==, 7);
    g_assert_nonnull(strstr(why, "frame 7 differs at byte"));
    g_free(mix);
    shmcam_pattern_fini(&pat);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/seqlock/never-accepts-torn", test_seqlock_never_accepts_torn);
    g_test_add_func("/seqlock/unlocked-writer-is-caught", test_unlocked_writer_is_caught);
    g_test_add_func("/seqlock/torn-frame-detected", test_torn_frame_detected);
    return g_test_run();
}
