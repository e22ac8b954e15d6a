/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * make bench: what publishing a test pattern frame costs, per format and
 * size, as ratios to a memcpy of the same bytes into the same slots,
 * measured in the same run:
 *
 *   draw       the frame drawn into private memory, nothing published:
 *              the drawing alone (shmcam_pattern_render_into())
 *   in place   drawn straight into the slot between begin and commit, as
 *              shmcam-host does when it publishes into one region
 *   buffer     drawn into the pattern's own buffer, then published (one
 *              copy): what shmcam-host does for the first of several
 *              regions, and did for every frame before frames were drawn
 *              in place (then with the checksum in a pass of its own)
 *   +region    each region after the first: one more publish of the
 *              frame drawn once
 *   warm       the memcpy again at once, the slots in the caches as far
 *              as they fit, over the memcpy from cold caches that the
 *              other ratios divide by; "place/warm" is "in place" over
 *              the warm memcpy
 *
 * Every way writes SLOTS buffers in turn: the slots of a region or, for
 * the drawing alone, private memory laid out as the slots are, so that
 * all have the same footprint in the caches, and each starts with none
 * of its buffers there.  MJPEG frames have the lengths of their cycle,
 * and the memcpy copies as many bytes.  The rounds alternate between the
 * ways, so that a busy neighbour weighs on all alike; each ratio is the
 * median of the rounds' own.  Nothing here passes or fails on time: the
 * last line says whether drawing in place came within GOAL of the
 * drawing alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bench.h"
#include "shmcam-format.h"
#include "shmcam-pattern.h"
#include "shmcam-producer.h"
#include "shmcam-region.h"

#define ROUNDS      31
#define SLOTS       3
#define GOAL        1.1
/* More than a last-level cache: written before each way is timed. */
#define SCRATCH     (64u << 20)

enum { T_COPY, T_DRAW, T_PLACE, T_BUFFER, T_EXTRA, T_WARM, T_COUNT };
#define RATIO_PLACE T_COUNT     /* in place over draw */

struct bench {
    struct shmcam_pattern pat;
    struct shmcam_region r[2];
    struct shmcam_producer p[2];
    uint8_t *priv[SLOTS];       /* the private memory drawn into */
    uint8_t *src;               /* what the memcpy copies */
    uint32_t len;               /* the largest frame's length */
    uint64_t n;                 /* the next frame number */
    uint8_t *scratch;           /* SCRATCH bytes */
};

static void bench_die(const char *what)
{
    fprintf(stderr, "bench-pattern: %s\n", what);
    exit(1);
}

/* Frames per round: about 32 MiB written, at least 4 frames. */
static unsigned frames_per_round(uint32_t len)
{
    unsigned n = (32u << 20) / len;

    return n < 4 ? 4 : n;
}

/*
 * Every way starts with the caches in the same state: none of its
 * buffers in them.  Else each would find there what the way before it
 * wrote, the slots for some and not for others.
 */
static void bench_evict(struct bench *b)
{
    memset(b->scratch, b->n, SCRATCH);
    __asm__ volatile("" : : "r"(b->scratch) : "memory");
}

static double time_copy(struct bench *b, unsigned count)
{
    const struct shmcam_producer *p = &b->p[0];
    double t0 = now_s();
    unsigned i;

    for (i = 0; i < count; i++) {
        memcpy(p->data + (uint64_t)(i % p->slot_count) * p->slot_size, b->src,
               shmcam_pattern_length(&b->pat, b->n++));
        /* keep the copy from being optimised away */
        __asm__ volatile("" : : "r"(p->data) : "memory");
    }
    return (now_s() - t0) / count;
}

static double time_draw(struct bench *b, unsigned count)
{
    double t0 = now_s();
    unsigned i;

    for (i = 0; i < count; i++) {
        uint8_t *to = b->priv[i % SLOTS];

        if (!shmcam_pattern_render_into(&b->pat, b->n++, to, b->len)) {
            bench_die("cannot draw");
        }
        __asm__ volatile("" : : "r"(to) : "memory");
    }
    return (now_s() - t0) / count;
}

static double time_in_place(struct bench *b, unsigned count)
{
    struct shmcam_producer *p = &b->p[0];
    double t0 = now_s();
    unsigned i;

    for (i = 0; i < count; i++) {
        uint32_t len = shmcam_pattern_length(&b->pat, b->n);
        void *slot = shmcam_producer_begin(p, len);

        if (!slot || !shmcam_pattern_render_into(&b->pat, b->n++, slot, len) ||
            shmcam_producer_commit(p, len, i, 0)) {
            bench_die("cannot draw into a slot");
        }
    }
    return (now_s() - t0) / count;
}

/* The buffer path, and with @extra the publish into a second region. */
static double time_buffer(struct bench *b, unsigned count, bool extra)
{
    const uint8_t *data;
    double t, sum = 0;
    uint32_t len;
    unsigned i;

    for (i = 0; i < count; i++) {
        t = now_s();
        len = shmcam_pattern_render(&b->pat, b->n++, &data);
        if (!len || shmcam_producer_publish(&b->p[0], data, len, i, 0)) {
            bench_die("cannot publish");
        }
        if (!extra) {
            sum += now_s() - t;
            continue;
        }
        t = now_s();
        if (shmcam_producer_publish(&b->p[1], data, len, i, 0)) {
            bench_die("cannot publish");
        }
        sum += now_s() - t;
    }
    return sum / count;
}

static void bench_setup(struct bench *b, const struct shmcam_format *f)
{
    uint32_t slot = shmcam_format_slot_size(f), i;
    void *priv;
    uint64_t n;
    int k;

    memset(b, 0, sizeof(*b));
    if (shmcam_pattern_init(&b->pat, f)) {
        bench_die("cannot make the pattern");
    }
    /* the whole MJPEG cycle encoded before anything is timed */
    for (n = 0; n < SHMCAM_PATTERN_JPEG_CYCLE; n++) {
        b->len = MAX(b->len, shmcam_pattern_length(&b->pat, n));
    }
    for (k = 0; k < 2; k++) {
        b->r[k] = (struct shmcam_region) SHMCAM_REGION_INIT;
        if (shmcam_region_create_memfd(&b->r[k], "shmcam-bench",
                shmcam_region_round_size(shmcam_producer_needed(SLOTS,
                                                                slot))) ||
            shmcam_producer_init(&b->p[k], b->r[k].base, b->r[k].size, SLOTS,
                                 slot, 1)) {
            bench_die("cannot set up a region");
        }
        shmcam_producer_set_format(&b->p[k], f, NULL);
        /* fault every page of the slots in before timing anything */
        memset(b->p[k].data, 0, (size_t)SLOTS * b->p[k].slot_size);
    }
    /* laid out as the slots are: one block, a slot apart */
    if (posix_memalign(&priv, SHMCAM_PAGE_SIZE,
                       (size_t)SLOTS * b->p[0].slot_size)) {
        bench_die("out of memory");
    }
    memset(priv, 0, (size_t)SLOTS * b->p[0].slot_size);
    for (k = 0; k < SLOTS; k++) {
        b->priv[k] = (uint8_t *)priv + (size_t)k * b->p[0].slot_size;
    }
    b->src = g_malloc(b->len);
    b->scratch = g_malloc(SCRATCH);
    for (i = 0; i < b->len; i++) {
        b->src[i] = i * 7 + (i >> 11);
    }
}

static void bench_teardown(struct bench *b)
{
    shmcam_pattern_fini(&b->pat);
    shmcam_region_close(&b->r[0]);
    shmcam_region_close(&b->r[1]);
    free(b->priv[0]);
    g_free(b->src);
    g_free(b->scratch);
}

/* One row of the table; returns in place over draw. */
static double bench_one(uint32_t fourcc, uint32_t w, uint32_t h)
{
    struct shmcam_fract iv = { 1, 30 };
    struct shmcam_format f;
    struct bench b;
    double t[T_COUNT][ROUNDS], r[T_COUNT + 1][ROUNDS], m[T_COUNT + 1];
    unsigned count, i, k;
    char desc[64];

    if (shmcam_format_init(&f, fourcc, w, h, iv)) {
        bench_die("bad format");
    }
    bench_setup(&b, &f);
    count = frames_per_round(b.len);
    for (i = 0; i < ROUNDS; i++) {
        bench_evict(&b);
        t[T_COPY][i] = time_copy(&b, count);
        /* again at once: the warm copy, the slots in the caches as far
         * as they fit */
        t[T_WARM][i] = time_copy(&b, count);
        bench_evict(&b);
        t[T_DRAW][i] = time_draw(&b, count);
        bench_evict(&b);
        t[T_PLACE][i] = time_in_place(&b, count);
        bench_evict(&b);
        t[T_BUFFER][i] = time_buffer(&b, count, false);
        bench_evict(&b);
        t[T_EXTRA][i] = time_buffer(&b, count, true);
    }
    /*
     * The ratios are medians of each round's: the ways of one round ran
     * within a second of each other, under the same neighbours.
     */
    for (i = 0; i < ROUNDS; i++) {
        r[RATIO_PLACE][i] = t[T_PLACE][i] / t[T_DRAW][i];
        for (k = T_DRAW; k < T_COUNT; k++) {
            r[k][i] = t[k][i] / t[T_COPY][i];
        }
    }
    for (k = 0; k < T_COUNT + 1; k++) {
        m[k] = median(k ? r[k] : t[T_COPY], ROUNDS);
    }
    shmcam_format_str(&f, desc, sizeof(desc));
    printf("%-16s %9u %7.3f %5.2f %7.2f %8.2f %7.2f %8.2f %7.2f %6.2f\n",
           desc, b.len, m[T_COPY] * 1e3, m[T_WARM], m[T_DRAW], m[T_PLACE],
           m[T_BUFFER], m[T_EXTRA], m[RATIO_PLACE], m[T_PLACE] / m[T_WARM]);
    bench_teardown(&b);
    return m[RATIO_PLACE];
}

int main(void)
{
    static const struct { uint32_t w, h; } sizes[] = {
        { 1280, 720 }, { 1920, 1080 }, { 3840, 2160 },
    };
    static const uint32_t formats[] = {
        SHMCAM_FMT_YUYV, SHMCAM_FMT_NV12, SHMCAM_FMT_YUV420, SHMCAM_FMT_MJPEG,
    };
    double worst = 0, ratio;
    size_t i, j;

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("publishing a test pattern frame, as ratios to a memcpy of the "
           "same bytes\ninto the same slots (cold caches; warm: that memcpy "
           "with warm caches),\nmedians of %d rounds; bytes: "
           "a frame's (MJPEG: the\nlargest of its cycle)\n\n", ROUNDS);
    printf("%-16s %9s %7s %5s %7s %8s %7s %8s %7s %6s\n", "format", "bytes",
           "copy ms", "warm", "draw", "in place", "buffer", "+region",
           "place/", "place/");
    printf("%-16s %9s %7s %5s %7s %8s %7s %8s %7s %6s\n", "", "", "cold", "",
           "", "", "", "", "draw", "warm");
    for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (j = 0; j < G_N_ELEMENTS(formats); j++) {
            ratio = bench_one(formats[j], sizes[i].w, sizes[i].h);
            worst = ratio > worst ? ratio : worst;
        }
    }
    printf("\ndrawing in place over drawing alone: worst %.3f, goal at most "
           "%.1f: %s\n", worst, GOAL, worst <= GOAL ? "met" : "not met");
    return 0;
}
