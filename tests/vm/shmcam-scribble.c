/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-scribble FILE SECONDS: write random values into the header page
 * of the shmcam region FILE for SECONDS, as a co-tenant guest on a shared
 * writable ivshmem-plain region could: session_id and state toggled,
 * an interval of 1/1000 with latest_frame moving, and random 64-bit
 * words anywhere in the page but the magic.  The producer is expected to
 * put its header back; the guest reading the region, to stay calm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "shmcam.h"

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64: fast, and the same run every time. */
static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

int main(int argc, char **argv)
{
    struct shmcam_header *h;
    uint64_t end, x = 0x9e3779b97f4a7c15ull, writes = 0;
    volatile uint64_t *page;
    int fd;

    if (argc != 3 || atoi(argv[2]) <= 0) {
        fprintf(stderr, "usage: shmcam-scribble FILE SECONDS\n");
        return 2;
    }
    fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "shmcam-scribble: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    h = mmap(NULL, SHMCAM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (h == MAP_FAILED) {
        fprintf(stderr, "shmcam-scribble: mmap %s: %s\n", argv[1],
                strerror(errno));
        return 1;
    }
    page = (volatile uint64_t *)h;
    end = now_ns() + (uint64_t)atoi(argv[2]) * 1000000000u;
    while (now_ns() < end) {
        unsigned int i;

        for (i = 0; i < 64; i++) {
            uint64_t r = next_random(&x);
            /* word 0 is the magic: keep readers reading */
            unsigned int word = 1 + r % (SHMCAM_PAGE_SIZE / 8 - 1);

            page[word] = next_random(&x);
        }
        __atomic_store_n(&h->session_id, next_random(&x), __ATOMIC_RELAXED);
        __atomic_store_n(&h->state, (uint32_t)(x & 1), __ATOMIC_RELAXED);
        __atomic_store_n(&h->format.interval.numerator, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&h->format.interval.denominator, 1000,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&h->latest_frame, x >> 8, __ATOMIC_RELAXED);
        writes += 69;
        usleep(100);
    }
    printf("shmcam-scribble: %llu writes into the header of %s in %s s\n",
           (unsigned long long)writes, argv[1], argv[2]);
    return 0;
}
