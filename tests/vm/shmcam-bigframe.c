/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-bigframe FILE EVERY: a producer of the MJPEG test pattern,
 * 640x480 at 30 fps, into the shmcam region FILE, that publishes every
 * EVERY-th frame larger than the format's sizeimage (the pattern's JPEG
 * with zeros after its end), as a camera whose frames outgrow what it
 * announced would.  No application's buffer can take those frames: a
 * reader must skip each one and deliver the next.  The frames that fit
 * are the pattern's, for shmcam-dump --verify.  Runs until killed; prints
 * one line when streaming, and how many frames of each kind it sent when
 * it stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shmcam-format.h"
#include "shmcam-pattern.h"
#include "shmcam-producer.h"

#define BIGFRAME_EXTRA  4096u   /* bytes past sizeimage */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    static struct shmcam_producer p;
    struct shmcam_fract fps30 = { 1, 30 };
    struct shmcam_pattern pat;
    struct shmcam_format fmt;
    struct shmcam_cap cap = { 0 };
    struct sigaction sa = { .sa_handler = on_signal };
    uint64_t next, big = 0, normal = 0;
    const uint8_t *jpeg;
    uint8_t *frame;
    struct stat st;
    void *base;
    int every, fd, ret;

    every = argc == 3 ? atoi(argv[2]) : 0;
    if (every < 2) {
        fprintf(stderr, "usage: shmcam-bigframe FILE EVERY (EVERY >= 2)\n");
        return 2;
    }
    fd = open(argv[1], O_RDWR);
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "shmcam-bigframe: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    base = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) {
        fprintf(stderr, "shmcam-bigframe: mmap %s: %s\n", argv[1],
                strerror(errno));
        return 1;
    }
    if (shmcam_format_init(&fmt, SHMCAM_FMT_MJPEG, 640, 480, fps30) ||
        shmcam_pattern_init(&pat, &fmt)) {
        fprintf(stderr, "shmcam-bigframe: no MJPEG pattern at 640x480\n");
        return 1;
    }
    ret = shmcam_producer_init(&p, base, st.st_size, 4,
                               fmt.sizeimage + BIGFRAME_EXTRA, now_ns());
    if (ret) {
        fprintf(stderr, "shmcam-bigframe: %s: %s\n", argv[1], strerror(-ret));
        return 1;
    }
    frame = calloc(1, fmt.sizeimage + BIGFRAME_EXTRA);
    if (!frame) {
        return 1;
    }
    cap.pixelformat = fmt.pixelformat;
    cap.width = fmt.width;
    cap.height = fmt.height;
    cap.num_intervals = 1;
    cap.intervals[0] = fps30;
    shmcam_producer_set_card(&p, "shmcam bigframe");
    shmcam_producer_set_format(&p, &fmt, NULL);
    /* No sizes in the table: the header's format gives the mode's. */
    shmcam_producer_set_caps(&p, &cap, NULL, 1);
    shmcam_producer_set_state(&p, SHMCAM_STATE_STREAMING);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("shmcam-bigframe: streaming MJPG 640x480, every %dth frame "
           "%u bytes (sizeimage %u)\n", every,
           fmt.sizeimage + BIGFRAME_EXTRA, fmt.sizeimage);
    fflush(stdout);

    next = now_ns();
    while (!stop) {
        uint64_t n = p.frame;
        uint32_t len = shmcam_pattern_render(&pat, n, &jpeg);
        struct timespec ts;

        if (n % every == (uint64_t)every - 1) {
            memset(frame, 0, fmt.sizeimage + BIGFRAME_EXTRA);
            memcpy(frame, jpeg, len);
            jpeg = frame;
            len = fmt.sizeimage + BIGFRAME_EXTRA;
            big++;
        } else {
            normal++;
        }
        ret = shmcam_producer_publish(&p, jpeg, len, next, 0);
        if (ret) {
            fprintf(stderr, "shmcam-bigframe: publish: %s\n", strerror(-ret));
            return 1;
        }
        shmcam_producer_heartbeat(&p, now_ns());
        next += 1000000000u / 30;
        ts.tv_sec = next / 1000000000u;
        ts.tv_nsec = next % 1000000000u;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    shmcam_producer_set_state(&p, SHMCAM_STATE_STOPPED);
    printf("shmcam-bigframe: sent %llu frames, %llu of them too large\n",
           (unsigned long long)(big + normal), (unsigned long long)big);
    shmcam_pattern_fini(&pat);
    free(frame);
    return 0;
}
