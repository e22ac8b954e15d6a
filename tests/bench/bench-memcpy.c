/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-memcpy BYTES: what a memcpy of BYTES costs here, the baseline the
 * frame benchmarks divide by (tests/vm/frames.sh runs it in the guest).
 * "warm": the same source and destination again and again, in the
 * caches as far as they fit; "cold": the copy right after 64 MiB of
 * other memory was written, out of the caches.  The buffers are page
 * aligned, as a slot and a camera's buffer are; each is touched
 * before, so that no round pays for page faults.  "movsb": the same warm
 * copy made by the x86 string instruction, as the kernel's memcpy makes
 * it on CPUs with fast short rep movsb (and as an emulator runs it, one
 * byte at a time: the figure that tells the two apart); "-" elsewhere.
 * Medians of 15 rounds, in microseconds, on one line:
 *
 *   memcpy BYTES warm US cold US movsb US
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define ROUNDS  15

static void copy_movsb(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__)
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
    (void)dst;
    (void)src;
    (void)n;
#endif
}
#define FLUSH   (64u << 20)

int main(int argc, char **argv)
{
    double warm[ROUNDS], cold[ROUNDS], movsb[ROUNDS], t;
    unsigned long long bytes = 0;
    uint8_t *src, *dst, *flush;
    char *end = NULL;
    int r;

    if (argc == 2) {
        bytes = strtoull(argv[1], &end, 0);
    }
    if (!bytes || *end || bytes > (1ull << 30)) {
        fprintf(stderr, "usage: bench-memcpy BYTES (1 up to 1 GiB)\n");
        return 2;
    }
    /* page aligned, as slots and camera buffers are: memcpy picks its
     * way of copying by the alignment too */
    if (posix_memalign((void **)&src, 4096, bytes) ||
        posix_memalign((void **)&dst, 4096, bytes)) {
        src = dst = NULL;
    }
    flush = malloc(FLUSH);
    if (!src || !dst || !flush) {
        fprintf(stderr, "bench-memcpy: out of memory\n");
        return 1;
    }
    memset(src, 0x5a, bytes);
    memset(dst, 0, bytes);
    for (r = 0; r < ROUNDS; r++) {
        memset(flush, r, FLUSH);
        t = now_s();
        memcpy(dst, src, bytes);
        cold[r] = now_s() - t;
        t = now_s();
        memcpy(dst, src, bytes);
        warm[r] = now_s() - t;
        t = now_s();
        copy_movsb(dst, src, bytes);
        movsb[r] = now_s() - t;
    }
    printf("memcpy %llu warm %.1f cold %.1f", bytes,
           median(warm, ROUNDS) * 1e6, median(cold, ROUNDS) * 1e6);
#if defined(__x86_64__)
    printf(" movsb %.1f\n", median(movsb, ROUNDS) * 1e6);
#else
    printf(" movsb -\n");
#endif
    free(src);
    free(dst);
    free(flush);
    return 0;
}
