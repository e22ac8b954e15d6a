/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-latency: how long a published frame takes to reach a guest
 * application, on the host's clock.  Run by latency.sh beside a guest
 * that streams.
 *
 * The guest driver writes, into its consumer area, the slot timestamp of
 * the last frame it handed to vb2 (last_timestamp_ns, after last_frame):
 * from then on an application can dequeue it.  The producer stamps each
 * slot with its CLOCK_MONOTONIC when it takes the frame, so watching the
 * area from the host gives publish-to-dequeue latency on one clock:
 * the moment a new last_timestamp_ns shows up, minus that timestamp.
 * Between two looks at the area it sleeps 50 us (with the smallest timer
 * slack); the mean period between looks, which bounds the error of each
 * sample, is reported as poll_us.
 *
 * A driver that delivers several frames in one go shows only the last:
 * the report counts the frames delivered and the samples taken apart.
 *
 * A polling driver polls at a fixed fraction of the frame interval from
 * the moment a stream starts, so within one stream its delay after each
 * publish is nearly constant, set by chance at stream start.  The guest
 * therefore streams many short streams in a row, and the first frames of
 * each (the frame already waiting when it starts, and the next few) are
 * left out: the samples then cover the delays a stream start can give.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <glib.h>

#include "shmcam-reader.h"
#include "shmcam-region.h"

#define NSEC_PER_SEC    1000000000ull
#define NSEC_PER_USEC   1000ull
#define POLL_NS         (50 * NSEC_PER_USEC)

struct bench_opts {
    char *region;
    char *label;
    int samples;
    int skip;
    int timeout;
};

struct bench_state {
    const struct shmcam_header *hdr;
    const struct shmcam_consumer *areas;
    int area;                   /* index watched, -1 until one streams */
    bool streaming;             /* the area's STREAMING flag last seen */
    int skip_left;              /* frames still to leave out of this stream */
    uint64_t last_ts;
    double *lat_ms;
    int n;
    uint64_t frames;            /* producer frames the samples span */
    uint64_t last_frame;        /* of this stream, or SHMCAM_NO_FRAME */
    unsigned streams;
    uint64_t polls;
};

static uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The first area whose guest streams, or -1. */
static int bench_find_area(const struct bench_state *b)
{
    uint32_t n = shmcam_load32(&b->hdr->consumer_count);
    uint32_t i;

    if (n > SHMCAM_MAX_CONSUMERS) {
        n = SHMCAM_MAX_CONSUMERS;
    }
    for (i = 0; i < n; i++) {
        if (shmcam_load64(&b->areas[i].owner) &&
            shmcam_load32(&b->areas[i].flags) & SHMCAM_CONSUMER_STREAMING) {
            return i;
        }
    }
    return -1;
}

/* One look at the area: a new timestamp is one sample. */
static void bench_poll(struct bench_state *b, int skip)
{
    const struct shmcam_consumer *c;
    uint64_t now, ts, frame;
    bool streaming;

    b->polls++;
    if (b->area < 0) {
        b->area = bench_find_area(b);
        if (b->area < 0) {
            return;
        }
    }
    c = &b->areas[b->area];
    streaming = shmcam_load32(&c->flags) & SHMCAM_CONSUMER_STREAMING;
    if (streaming && !b->streaming) {
        b->streams++;
        b->skip_left = skip;
        b->last_frame = SHMCAM_NO_FRAME;
    }
    b->streaming = streaming;
    ts = shmcam_load64(&c->last_timestamp_ns);
    now = bench_now_ns();
    if (ts == b->last_ts || ts == SHMCAM_NO_FRAME || ts > now) {
        return;
    }
    b->last_ts = ts;
    frame = shmcam_load64(&c->last_frame);
    if (!streaming || b->skip_left > 0) {
        b->skip_left -= b->skip_left > 0;
        b->last_frame = frame;
        return;
    }
    /* Frames the sample spans: more than one if the driver caught up. */
    b->frames += b->last_frame == SHMCAM_NO_FRAME || frame <= b->last_frame ?
                 1 : frame - b->last_frame;
    b->last_frame = frame;
    b->lat_ms[b->n++] = (now - ts) / 1e6;
}

static int bench_parse(struct bench_opts *o, int *argc, char ***argv)
{
    GOptionEntry entries[] = {
        { "region", 0, 0, G_OPTION_ARG_FILENAME, &o->region,
          "The region the guest maps: /dev/shm/NAME, or /proc/PID/fd/N of "
          "shmcam-host --listen's memfd", "PATH" },
        { "label", 0, 0, G_OPTION_ARG_STRING, &o->label,
          "Name of this run in the report", "TEXT" },
        { "samples", 0, 0, G_OPTION_ARG_INT, &o->samples,
          "Frames to measure (default 300)", "N" },
        { "skip", 0, 0, G_OPTION_ARG_INT, &o->skip,
          "Frames to leave out at the start of each stream (default 5)",
          "N" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &o->timeout,
          "Give up after this many seconds (default 300)", "S" },
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = g_option_context_new("- publish-to-dequeue latency");
    GError *err = NULL;
    gboolean ok;

    g_option_context_add_main_entries(ctx, entries, NULL);
    ok = g_option_context_parse(ctx, argc, argv, &err);
    g_option_context_free(ctx);
    if (!ok) {
        fprintf(stderr, "bench-latency: %s\n", err->message);
        g_error_free(err);
        return -EINVAL;
    }
    if (!o->region || o->samples < 1 || o->skip < 0 || o->timeout < 1) {
        fprintf(stderr, "bench-latency: --region PATH is needed; --samples "
                "and --timeout must be positive\n");
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = { .samples = 300, .skip = 5, .timeout = 300 };
    struct shmcam_region r = SHMCAM_REGION_INIT;
    struct bench_state b = { .area = -1 };
    struct timespec nap = { 0, POLL_NS };
    uint64_t start, deadline;
    double sum = 0;
    int ret, i;

    if (bench_parse(&o, &argc, &argv)) {
        return 2;
    }
    /* Wake up when asked to, not up to 50 us later. */
    prctl(PR_SET_TIMERSLACK, 1UL);
    ret = shmcam_region_open_path(&r, o.region, false);
    if (ret) {
        fprintf(stderr, "bench-latency: cannot map %s: %s\n", o.region,
                g_strerror(-ret));
        return 1;
    }
    b.hdr = r.base;
    b.areas = (const void *)((const uint8_t *)r.base + SHMCAM_CONSUMER_OFFSET);
    b.lat_ms = g_new(double, o.samples);

    start = bench_now_ns();
    deadline = start + o.timeout * NSEC_PER_SEC;
    while (b.n < o.samples && bench_now_ns() < deadline) {
        if (shmcam_check_identity(b.hdr, r.size)) {
            b.area = -1;
        } else {
            bench_poll(&b, o.skip);
        }
        nanosleep(&nap, NULL);
    }
    if (b.n < o.samples) {
        fprintf(stderr, "bench-latency: %s: %d of %d samples after %d s "
                "(no guest streaming?)\n", o.region, b.n, o.samples,
                o.timeout);
        return 1;
    }

    qsort(b.lat_ms, b.n, sizeof(double), bench_cmp);
    for (i = 0; i < b.n; i++) {
        sum += b.lat_ms[i];
    }
    /* One line a script can read: label, then the figures in ms. */
    printf("latency %s median %.3f mean %.3f p90 %.3f p99 %.3f min %.3f "
           "max %.3f samples %d frames %llu streams %u poll_us %.0f\n",
           o.label ? o.label : o.region, b.lat_ms[b.n / 2], sum / b.n,
           b.lat_ms[b.n * 9 / 10], b.lat_ms[b.n * 99 / 100], b.lat_ms[0],
           b.lat_ms[b.n - 1], b.n, (unsigned long long)b.frames, b.streams,
           (bench_now_ns() - start) / 1e3 / b.polls);
    g_free(b.lat_ms);
    shmcam_region_close(&r);
    g_free(o.region);
    g_free(o.label);
    return 0;
}
