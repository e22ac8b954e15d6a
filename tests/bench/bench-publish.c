/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * make bench: what publishing one frame costs, against a plain memcpy of
 * the same bytes into the same slot memory, measured in the same run.
 *
 * Both loops write the region's slots in turn from the same source frame,
 * so they touch the same pages and caches; the ratio is what the seqlock,
 * the descriptor and latest_frame add to the copy.  Each figure is the
 * median of several rounds, and the rounds alternate between the two so
 * that a busy neighbour weighs on both alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "bench.h"
#include "shmcam-format.h"
#include "shmcam-producer.h"
#include "shmcam-region.h"

#define ROUNDS      15
#define GOAL        1.2

/* Frames per round: about 256 MiB of copying, at least 16 frames. */
static unsigned frames_per_round(uint32_t len)
{
    unsigned n = (256u << 20) / len;

    return n < 16 ? 16 : n;
}

static double time_memcpy(const struct shmcam_producer *p, const void *src,
                          uint32_t len, unsigned n)
{
    double t0 = now_s();
    unsigned i;

    for (i = 0; i < n; i++) {
        memcpy(p->data + (uint64_t)(i % p->slot_count) * p->slot_size, src, len);
        /* keep the copy from being optimised away */
        __asm__ volatile("" : : "r"(p->data) : "memory");
    }
    return (now_s() - t0) / n;
}

static double time_publish(struct shmcam_producer *p, const void *src,
                           uint32_t len, unsigned n)
{
    double t0 = now_s();
    unsigned i;

    for (i = 0; i < n; i++) {
        if (shmcam_producer_publish(p, src, len, i, 0)) {
            fprintf(stderr, "bench-publish: publish failed\n");
            exit(1);
        }
    }
    return (now_s() - t0) / n;
}

/* One row of the table; returns the ratio. */
static double bench_one(uint32_t fourcc, uint32_t w, uint32_t h)
{
    struct shmcam_fract iv = { 1, 30 };
    struct shmcam_region r = SHMCAM_REGION_INIT;
    struct shmcam_producer p;
    struct shmcam_format f;
    double t_copy[ROUNDS], t_pub[ROUNDS], copy, pub;
    uint8_t *src;
    uint32_t slot;
    unsigned n, i;
    char desc[64];

    if (shmcam_format_init(&f, fourcc, w, h, iv)) {
        fprintf(stderr, "bench-publish: bad format\n");
        exit(1);
    }
    slot = shmcam_format_slot_size(&f);
    if (shmcam_region_create_memfd(&r, "shmcam-bench",
            shmcam_region_round_size(shmcam_producer_needed(3, slot))) ||
        shmcam_producer_init(&p, r.base, r.size, 3, slot, 1)) {
        fprintf(stderr, "bench-publish: cannot set up a region\n");
        exit(1);
    }
    shmcam_producer_set_format(&p, &f, NULL);
    src = g_malloc(f.sizeimage);
    for (i = 0; i < f.sizeimage; i++) {
        src[i] = i * 7 + (i >> 11);
    }
    n = frames_per_round(f.sizeimage);
    /* fault every page in before timing anything */
    time_memcpy(&p, src, f.sizeimage, p.slot_count);
    for (i = 0; i < ROUNDS; i++) {
        t_copy[i] = time_memcpy(&p, src, f.sizeimage, n);
        t_pub[i] = time_publish(&p, src, f.sizeimage, n);
    }
    copy = median(t_copy, ROUNDS);
    pub = median(t_pub, ROUNDS);
    shmcam_format_str(&f, desc, sizeof(desc));
    printf("%-16s %10u %12.1f %12.1f %8.3f\n", desc, f.sizeimage,
           copy * 1e6, pub * 1e6, pub / copy);
    g_free(src);
    shmcam_region_close(&r);
    return pub / copy;
}

int main(void)
{
    static const struct { uint32_t w, h; } sizes[] = {
        { 1280, 720 }, { 1920, 1080 }, { 3840, 2160 },
    };
    static const uint32_t formats[] = { SHMCAM_FMT_YUYV, SHMCAM_FMT_NV12 };
    double worst = 0, ratio;
    size_t i, j;

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("publishing one frame against memcpy of the same bytes "
           "(median of %d rounds)\n\n", ROUNDS);
    printf("%-16s %10s %12s %12s %8s\n", "format", "bytes", "memcpy us",
           "publish us", "ratio");
    for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (j = 0; j < G_N_ELEMENTS(formats); j++) {
            ratio = bench_one(formats[j], sizes[i].w, sizes[i].h);
            worst = ratio > worst ? ratio : worst;
        }
    }
    printf("\nworst ratio %.3f, goal at most %.1f: %s\n", worst, GOAL,
           worst <= GOAL ? "met" : "NOT MET");
    return 0;
}
