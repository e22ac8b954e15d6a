/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * make bench: what the test pattern costs before its first frame, per
 * format and size: shmcam_pattern_init and the render of frame 0, as
 * shmcam-host does when a capture (or a format change) starts, and as the
 * verifier does for the first frame it checks.  Against a memcpy of a
 * frame of the same size, measured in the same run, so that the figures
 * of a busy machine still compare.
 *
 * A process starting has no memory of its own yet, and the first touch
 * of each page costs (a lot, in some virtual machines).  So every large
 * buffer here is memory fresh from the kernel, as at a start: malloc's
 * threshold is pinned, so that it maps and unmaps them each time, and
 * the baseline copies into a fresh buffer too ("fresh"; "warm": into one
 * already touched, the copy alone).  The ratios are to each copy.
 *
 * "later" is the slowest render of the next two MJPEG cycles' worth of
 * frames: what a frame costs after the first, where work put off at
 * start-up shows up.  Each figure is the median of several rounds, the
 * rounds alternating between the copies and the pattern.  Nothing here
 * passes or fails on time.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "bench.h"
#include "shmcam-format.h"
#include "shmcam-pattern.h"

#define ROUNDS      5

/* One copy of @len bytes into @dst, or into a new buffer when NULL. */
static double time_memcpy(uint8_t *dst, const uint8_t *src, uint32_t len)
{
    double t0 = now_s();
    uint8_t *to = dst ? dst : g_malloc(len);

    memcpy(to, src, len);
    /* keep the copy from being optimised away */
    __asm__ volatile("" : : "r"(to) : "memory");
    if (!dst) {
        g_free(to);
    }
    return now_s() - t0;
}

/* init and frame 0; *@later: the slowest of the frames after it */
static double time_startup(const struct shmcam_format *f, double *later)
{
    struct shmcam_pattern pat;
    const uint8_t *data;
    double t0 = now_s(), t, start, worst = 0;
    uint64_t n;

    if (shmcam_pattern_init(&pat, f)) {
        fprintf(stderr, "bench-startup: cannot make the pattern\n");
        exit(1);
    }
    shmcam_pattern_render(&pat, 0, &data);
    start = now_s() - t0;
    for (n = 1; n <= 2 * SHMCAM_PATTERN_JPEG_CYCLE; n++) {
        t = now_s();
        shmcam_pattern_render(&pat, n, &data);
        t = now_s() - t;
        worst = t > worst ? t : worst;
    }
    shmcam_pattern_fini(&pat);
    *later = worst;
    return start;
}

static void bench_one(uint32_t fourcc, uint32_t w, uint32_t h)
{
    struct shmcam_fract iv = { 1, 30 };
    struct shmcam_format f;
    double t_warm[ROUNDS], t_fresh[ROUNDS], t_start[ROUNDS], t_later[ROUNDS];
    double warm, fresh, start, later;
    uint8_t *src, *dst;
    uint32_t i;
    char desc[64];

    if (shmcam_format_init(&f, fourcc, w, h, iv)) {
        fprintf(stderr, "bench-startup: bad format\n");
        exit(1);
    }
    src = g_malloc(f.sizeimage);
    dst = g_malloc(f.sizeimage);
    for (i = 0; i < f.sizeimage; i++) {
        src[i] = i * 7 + (i >> 11);
    }
    /* fault every page of the copy in before timing it */
    memset(dst, 0, f.sizeimage);
    for (i = 0; i < ROUNDS; i++) {
        t_warm[i] = time_memcpy(dst, src, f.sizeimage);
        t_fresh[i] = time_memcpy(NULL, src, f.sizeimage);
        t_start[i] = time_startup(&f, &t_later[i]);
    }
    warm = median(t_warm, ROUNDS);
    fresh = median(t_fresh, ROUNDS);
    start = median(t_start, ROUNDS);
    later = median(t_later, ROUNDS);
    shmcam_format_str(&f, desc, sizeof(desc));
    printf("%-16s %9u %7.2f %7.1f %9.1f %7.1f %7.2f %7.1f\n", desc,
           f.sizeimage, warm * 1e3, fresh * 1e3, start * 1e3, start / warm,
           start / fresh, later * 1e3);
    g_free(src);
    g_free(dst);
}

int main(void)
{
    static const struct { uint32_t w, h; } sizes[] = {
        { 1280, 720 }, { 1920, 1080 }, { 3840, 2160 },
    };
    static const uint32_t formats[] = {
        SHMCAM_FMT_YUYV, SHMCAM_FMT_NV12, SHMCAM_FMT_YUV420, SHMCAM_FMT_MJPEG,
    };
    size_t i, j;

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* buffers of 1 MiB and over: fresh pages on each allocation */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    printf("pattern start-up (init and frame 0) against a memcpy of one "
           "frame, into memory\nalready touched (warm) and into fresh "
           "memory; later: the slowest of frames\n1..%u.  Milliseconds, "
           "medians of %d rounds.\n\n", 2 * SHMCAM_PATTERN_JPEG_CYCLE,
           ROUNDS);
    printf("%-16s %9s %7s %7s %9s %7s %7s %7s\n", "format", "bytes", "warm",
           "fresh", "start-up", "/warm", "/fresh", "later");
    for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (j = 0; j < G_N_ELEMENTS(formats); j++) {
            bench_one(formats[j], sizes[i].w, sizes[i].h);
        }
    }
    return 0;
}
