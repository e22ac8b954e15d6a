/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: publish frames of a test pattern, a V4L2 camera, a PipeWire
 * node or a file into a shmcam region (docs/specs/shmcam.rst).
 *
 * One loop: ppoll() on a signalfd and the source's fd, with a timeout to
 * the next frame or heartbeat (with --qemu-memdev a watcher thread of
 * qemu-memdev.c's only waits for QEMU's exit, and signals it).  The producer never waits for a
 * consumer and reads their areas only as untrusted requests.  Under
 * --listen or --pci-listen this loop runs in a child of the server
 * (server/server.c, docs/ivshmem-server.rst), which also hands it the
 * guests' eventfds: it rings each streaming guest for each frame, and
 * polls the consumer areas at once when a guest rings it.  Where frames
 * go is outputs.c's; whose format is asked for, requests.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "ctrl.h"
#include "shmcam-host.h"

#define NSEC_PER_SEC        1000000000ull
#define NSEC_PER_MSEC       1000000ull
#define SHMCAM_RETRY_NS     NSEC_PER_SEC
#define SHMCAM_DOORBELL_GAP_NS (10 * NSEC_PER_MSEC)

static const char *shmcam_state_name[] = {
    [SHMCAM_STATE_STOPPED] = "stopped",
    [SHMCAM_STATE_STREAMING] = "streaming",
    [SHMCAM_STATE_NO_SIGNAL] = "no signal",
};

static uint64_t shmcam_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t shmcam_interval_ns(const struct shmcam_fract *iv)
{
    return NSEC_PER_SEC * iv->numerator / iv->denominator;
}

static int shmcam_host_source(struct shmcam_host *h, GError **errp)
{
    int ret;

    if (h->o.camera) {
        h->src = shmcam_v4l2_source_new(h->o.camera,
                                        !h->o.camera_io ||
                                        strcmp(h->o.camera_io, "mmap"));
        h->src_name = g_strdup_printf("camera %s", h->o.camera);
#ifdef CONFIG_PIPEWIRE
    } else if (h->o.pipewire) {
        h->src = shmcam_pipewire_source_new(h->o.pipewire);
        h->src_name = h->o.pipewire[0] ?
                      g_strdup_printf("PipeWire node %s", h->o.pipewire) :
                      g_strdup("PipeWire's default video source");
#endif
    } else if (h->o.file) {
        h->src = shmcam_file_source_new(h->o.file, h->o.loop, h->align);
        h->src_name = g_strdup_printf("file %s", h->o.file);
    } else {
        h->src = shmcam_pattern_source_new(h->align);
        h->src_name = g_strdup("test pattern");
    }
    ret = h->src->ops->start(h->src, &h->fmt, errp);
    if (!ret && !shmcam_format_slot_size(&h->fmt)) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s delivers frames of %u bytes, "
                    "too large for a region", h->src_name, h->fmt.sizeimage);
        ret = -EFBIG;
    }
    return ret;
}

static void shmcam_host_state(struct shmcam_host *h, enum shmcam_state s)
{
    if (h->state != s) {
        fprintf(stderr, "shmcam-host: %s: %s\n", h->src_name,
                shmcam_state_name[s]);
    }
    h->state = s;
    shmcam_host_set_state(h, s);
}

static void shmcam_host_lost(struct shmcam_host *h, uint64_t now)
{
    h->src->ops->stop(h->src);
    h->want_fd = false;
    h->next_retry_ns = now + SHMCAM_RETRY_NS;
    shmcam_host_state(h, SHMCAM_STATE_NO_SIGNAL);
}

/* Restart the source at @fmt: 0, or a negative errno with the old format
 * restored if possible (no signal otherwise). */
static int shmcam_host_restart(struct shmcam_host *h, struct shmcam_format *fmt,
                               uint64_t now)
{
    struct shmcam_format old = h->fmt;
    GError *err = NULL;
    int ret;

    shmcam_host_busy(h, SHMCAM_WATCH_SOURCE);
    ret = h->src->ops->start(h->src, fmt, &err);
    if (!ret && shmcam_format_slot_size(fmt) > shmcam_host_fit(h)) {
        ret = -ENOSPC;
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: %s\n", err ? err->message :
                "the new format does not fit a slot");
        g_clear_error(&err);
        if (h->src->ops->start(h->src, &old, NULL) ||
            shmcam_format_slot_size(&old) > shmcam_host_fit(h)) {
            shmcam_host_lost(h, now);
        }
        shmcam_host_busy(h, SHMCAM_WATCH_IDLE);
        return ret;
    }
    shmcam_host_busy(h, SHMCAM_WATCH_IDLE);
    h->fmt = *fmt;
    shmcam_host_publish_format(h);
    h->next_frame_ns = h->last_frame_ns = now;
    return 0;
}

/* One line a second on stderr: the rate over the last period and totals. */
static void shmcam_host_stats(struct shmcam_host *h, uint64_t now)
{
    uint64_t span = now - h->stats_start_ns;
    char desc[64];

    shmcam_format_str(&h->fmt, desc, sizeof(desc));
    fprintf(stderr, "shmcam-host: %.1f fps, %llu frames, %llu too large, "
            "%llu bytes copied, %llu us publishing, %s, %s\n",
            span ? h->stats_frames * 1e9 / span : 0.0,
            (unsigned long long)h->frames, (unsigned long long)h->oversized,
            (unsigned long long)h->copied,
            (unsigned long long)(h->publish_ns / 1000), desc,
            shmcam_state_name[h->state]);
    h->stats_frames = 0;
    h->stats_start_ns = now;
    h->next_stats_ns += NSEC_PER_SEC;
    if (h->next_stats_ns < now) {
        h->next_stats_ns = now + NSEC_PER_SEC;
    }
}

/*
 * Every heartbeat period: beat, free the consumer areas of consumers gone
 * silent, look for requests.  The period is ours: a guest may write any
 * heartbeat_ms into the region, and we never read it back.
 */
static void shmcam_host_tick(struct shmcam_host *h, uint64_t now)
{
    const uint64_t period = SHMCAM_PRODUCER_HEARTBEAT_MS * NSEC_PER_MSEC;
    struct shmcam_format fmt;

    shmcam_host_beat(h, now);
    if (shmcam_host_request(h, now, &fmt)) {
        shmcam_host_restart(h, &fmt, now);
    }
    shmcam_host_controls(h, now, true);
    h->next_beat_ns += period;
    if (h->next_beat_ns < now) {
        h->next_beat_ns = now + period;
    }
    if (h->o.stats && now >= h->next_stats_ns) {
        shmcam_host_stats(h, now);
    }
}

static void shmcam_host_retry(struct shmcam_host *h, uint64_t now)
{
    struct shmcam_format fmt = h->fmt;
    int ret;

    h->next_retry_ns = now + SHMCAM_RETRY_NS;
    shmcam_host_busy(h, SHMCAM_WATCH_SOURCE);
    ret = h->src->ops->start(h->src, &fmt, NULL);
    shmcam_host_busy(h, SHMCAM_WATCH_IDLE);
    if (ret) {
        return;
    }
    if (shmcam_format_slot_size(&fmt) > shmcam_host_fit(h)) {
        h->src->ops->stop(h->src);
        return;
    }
    h->fmt = fmt;
    shmcam_host_publish_format(h);
    h->next_frame_ns = h->last_frame_ns = now;
    shmcam_host_state(h, SHMCAM_STATE_STREAMING);
}

/*
 * A source that keeps its own pace (a camera, a pipe) gave no frame for
 * SHMCAM_STALL_FRAMES intervals, and at least SHMCAM_STALL_MIN_NS: no
 * signal.  A camera is stuck: it is started again as after a loss.  A
 * pipe is only slow: its next frame brings the stream back (nothing it
 * sent is thrown away, or raw frames would lose their alignment).
 */
#define SHMCAM_STALL_FRAMES     10
#define SHMCAM_STALL_MIN_NS     (2 * NSEC_PER_SEC)

static uint64_t shmcam_host_stall_ns(struct shmcam_host *h)
{
    return MAX(SHMCAM_STALL_FRAMES * shmcam_interval_ns(&h->fmt.interval),
               SHMCAM_STALL_MIN_NS);
}

static bool shmcam_host_waits_on_source(struct shmcam_host *h)
{
    return h->src->paced || h->want_fd;
}

static void shmcam_host_check_stall(struct shmcam_host *h, uint64_t now)
{
    uint64_t stall = shmcam_host_stall_ns(h);

    if (h->state != SHMCAM_STATE_STREAMING || !shmcam_host_waits_on_source(h) ||
        now < h->last_frame_ns + stall) {
        return;
    }
    fprintf(stderr, "shmcam-host: %s gave no frame for %llu ms%s\n",
            h->src_name,
            (unsigned long long)((now - h->last_frame_ns) / NSEC_PER_MSEC),
            h->src->paced ? ": restarting it" : "");
    if (h->src->paced) {
        shmcam_host_lost(h, now);
        return;
    }
    h->stalled = true;
    shmcam_host_state(h, SHMCAM_STATE_NO_SIGNAL);
}

/*
 * Take one frame from the source and publish it.  A frame made on our own
 * pace (the pattern, a file read ahead of time) is stamped with its place
 * on that pace, so that consumers see the source's own spacing, whatever
 * the delay before this process ran.
 */
static int shmcam_host_frame(struct shmcam_host *h, uint64_t now)
{
    struct shmcam_source_frame f = { 0 };
    uint64_t iv = shmcam_interval_ns(&h->fmt.interval);
    bool on_pace = !h->src->paced && !h->want_fd && !h->stalled &&
                   h->next_frame_ns <= now;
    int ret = h->src->ops->next(h->src, &f);

    if (ret == -EAGAIN) {
        h->want_fd = true;
        return 0;
    }
    h->want_fd = false;
    h->last_frame_ns = now;
    if (h->stalled) {
        h->stalled = false;
        shmcam_host_state(h, SHMCAM_STATE_STREAMING);
    }
    if (ret == -ENODEV) {
        shmcam_host_lost(h, now);
        return 0;
    }
    if (ret == -EPIPE) {
        if (h->oversized) {
            fprintf(stderr, "shmcam-host: end of %s after %llu frames, "
                    "%llu too large (dropped)\n", h->src_name,
                    (unsigned long long)h->frames,
                    (unsigned long long)h->oversized);
        } else {
            fprintf(stderr, "shmcam-host: end of %s after %llu frames\n",
                    h->src_name, (unsigned long long)h->frames);
        }
        return ret;
    }
    if (ret == -EMSGSIZE) {
        /* The source skipped it: one lost, the stream goes on. */
        if (!h->oversized++) {
            fprintf(stderr, "shmcam-host: %s: a frame larger than a slot: "
                    "dropped (--stats counts them; check --format and "
                    "--size)\n", h->src_name);
        }
        return 0;
    }
    if (!ret) {
        uint64_t t0 = shmcam_now_ns();

        if (!f.timestamp_ns && on_pace) {
            f.timestamp_ns = h->next_frame_ns;
        }
        ret = shmcam_host_publish(h, &f, now);
        h->publish_ns += shmcam_now_ns() - t0;
        h->src->ops->release(h->src);
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: %s: %s\n", h->src_name,
                ret == -EBADMSG ? "not a JPEG stream" : g_strerror(-ret));
        return ret;
    }
    h->frames++;
    h->stats_frames++;
    shmcam_host_ring(h);
    h->next_frame_ns += iv;
    if (h->next_frame_ns + iv < now) {
        /* Fell behind (or waited on a pipe): start the pace anew. */
        h->next_frame_ns = now + iv;
    }
    return 0;
}

enum {
    SHMCAM_PFD_SIGNAL,
    SHMCAM_PFD_SOURCE,
    SHMCAM_PFD_CTRL,            /* server: the supervisor's messages */
    SHMCAM_PFD_DOORBELL,        /* --listen: an ivshmem guest rang us */
    SHMCAM_PFD_COUNT,
    /* then the doorbells of the shmcam-pci guests */
};

/*
 * Wait for the next thing to do.  *@pfd grows with the outputs.  Returns
 * the number of entries in it, or a negative errno.
 */
static int shmcam_host_wait(struct shmcam_host *h, struct pollfd **pfd,
                            unsigned int *cap)
{
    unsigned int n = SHMCAM_PFD_COUNT, want;
    uint64_t now = shmcam_now_ns(), deadline = h->next_beat_ns, wait;
    bool paced = h->src->paced;
    struct pollfd *p;
    struct timespec ts;

    want = SHMCAM_PFD_COUNT + (h->outs ? h->outs->len : 0);
    if (*cap < want) {
        *pfd = g_renew(struct pollfd, *pfd, want);
        *cap = want;
    }
    p = *pfd;
    p[SHMCAM_PFD_SIGNAL] = (struct pollfd) { .fd = h->sigfd, .events = POLLIN };
    p[SHMCAM_PFD_SOURCE] = (struct pollfd) { .fd = -1, .events = POLLIN };
    p[SHMCAM_PFD_CTRL] = (struct pollfd) { .fd = h->ctrl_fd, .events = POLLIN };
    p[SHMCAM_PFD_DOORBELL] = (struct pollfd) { .fd = -1, .events = POLLIN };
    if (now >= h->doorbell_ns) {
        p[SHMCAM_PFD_DOORBELL].fd = h->doorbell_fd;
        n += shmcam_host_doorbells(h, p + n, *cap - n);
    } else if (h->doorbell_ns < deadline) {
        deadline = h->doorbell_ns;
    }
    if (h->stalled) {
        p[SHMCAM_PFD_SOURCE].fd = h->src->fd;
    } else if (h->state == SHMCAM_STATE_STREAMING &&
               shmcam_host_waits_on_source(h)) {
        p[SHMCAM_PFD_SOURCE].fd = h->src->fd;
        deadline = MIN(deadline, h->last_frame_ns + shmcam_host_stall_ns(h));
    }
    if (h->state == SHMCAM_STATE_STREAMING && !paced && !h->want_fd &&
        h->next_frame_ns < deadline) {
        deadline = h->next_frame_ns;
    }
    if (h->state == SHMCAM_STATE_NO_SIGNAL && !h->stalled &&
        h->next_retry_ns < deadline) {
        deadline = h->next_retry_ns;
    }
    wait = deadline > now ? deadline - now : 0;
    ts.tv_sec = wait / NSEC_PER_SEC;
    ts.tv_nsec = wait % NSEC_PER_SEC;
    if (ppoll(p, n, &ts, NULL) < 0 && errno != EINTR) {
        return -errno;
    }
    return n;
}

/*
 * A guest rang us.  Empty the doorbells that rang, look at the consumer
 * areas now, then leave the doorbells alone for a while: the eventfds add
 * up the rings meanwhile, and a guest ringing without pause costs us a
 * look every SHMCAM_DOORBELL_GAP_NS at most, never the frame rate.
 */
static void shmcam_host_doorbell(struct shmcam_host *h,
                                 const struct pollfd *pfd, unsigned int n,
                                 uint64_t now)
{
    struct shmcam_format fmt;

    if (!shmcam_host_doorbell_rang(h, pfd, n)) {
        return;
    }
    if (shmcam_host_request(h, now, &fmt)) {
        shmcam_host_restart(h, &fmt, now);
    }
    shmcam_host_controls(h, now, false);
    h->doorbell_ns = now + SHMCAM_DOORBELL_GAP_NS;
}

/*
 * In a server: take every message the supervisor sent (ctrl.h), a guest
 * that came, with its descriptors, or went.  One that does not fit what
 * its op carries is dropped, its descriptors closed.  Returns 0, or
 * -EPIPE when the supervisor is gone.
 */
static int shmcam_host_ctrl(struct shmcam_host *h)
{
    struct shmcam_ctrl_msg m;
    unsigned int i;
    int ret;

    while ((ret = shmcam_ctrl_recv(h->ctrl_fd, &m)) != -EAGAIN) {
        if (ret == -EBADMSG) {
            continue;
        }
        if (ret) {
            return ret;
        }
        if ((m.op == SHMCAM_CTRL_ADD && m.id < SHMCAM_MAX_CONSUMERS &&
             m.nfds == (h->o.isolate ? 2u : 1u)) ||
            (m.op == SHMCAM_CTRL_ADD_PCI && m.nfds == 3)) {
            shmcam_host_out_add(h, &m);
            continue;
        }
        if (m.op == SHMCAM_CTRL_DEL) {
            shmcam_host_out_del(h, m.key);
        }
        for (i = 0; i < m.nfds; i++) {
            close(m.fds[i]);
        }
    }
    return 0;
}

static int shmcam_host_run(struct shmcam_host *h)
{
    g_autofree struct pollfd *pfd = NULL;
    unsigned int cap = 0;
    uint64_t now = shmcam_now_ns();
    short src;
    int ret = 0, n;

    h->next_beat_ns = h->next_frame_ns = h->stats_start_ns = now;
    h->last_frame_ns = now;
    h->next_stats_ns = now + NSEC_PER_SEC;
    shmcam_host_publish_format(h);
    shmcam_host_state(h, SHMCAM_STATE_STREAMING);
    while (!ret) {
        n = shmcam_host_wait(h, &pfd, &cap);
        if (n < 0) {
            ret = n;
            break;
        }
        if (pfd[SHMCAM_PFD_SIGNAL].revents) {
            break;
        }
        now = shmcam_now_ns();
        if (h->watch) {
            __atomic_store_n(&h->watch->beat_ns, now, __ATOMIC_RELAXED);
        }
        if (pfd[SHMCAM_PFD_CTRL].revents) {
            ret = shmcam_host_ctrl(h);
            if (ret) {
                fprintf(stderr, "shmcam-host: the server process is gone: "
                        "capture stops\n");
                break;
            }
        }
        shmcam_host_doorbell(h, &pfd[SHMCAM_PFD_DOORBELL],
                             n - SHMCAM_PFD_DOORBELL, now);
        if (now >= h->next_beat_ns) {
            shmcam_host_tick(h, now);
        }
        if (h->state == SHMCAM_STATE_NO_SIGNAL && !h->stalled &&
            now >= h->next_retry_ns) {
            shmcam_host_retry(h, now);
        }
        shmcam_host_check_lost(h);
        src = pfd[SHMCAM_PFD_SOURCE].revents;
        if (h->stalled && src) {
            ret = shmcam_host_frame(h, now);
            continue;
        }
        if (h->state != SHMCAM_STATE_STREAMING) {
            continue;
        }
        if (h->src->paced && src & (POLLERR | POLLHUP | POLLNVAL)) {
            shmcam_host_lost(h, now);
        } else if (h->src->paced ? src & POLLIN :
                   h->want_fd ? src != 0 : now >= h->next_frame_ns) {
            ret = shmcam_host_frame(h, now);
        } else {
            shmcam_host_check_stall(h, now);
        }
    }
    return ret == -EPIPE ? 0 : ret;
}

/*
 * SIGINT, SIGTERM, SIGHUP (the terminal went) and SIGQUIT arrive on a
 * signalfd, so the loop sees them in poll and cleans up the same way.
 */
static int shmcam_host_signals(struct shmcam_host *h)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
        return -errno;
    }
    h->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return h->sigfd < 0 ? -errno : 0;
}

/*
 * The capture side: signals, source, region, then the loop until SIGINT,
 * SIGTERM, the end of a --file or an error.  Returns the exit status.
 */
int shmcam_host_capture(struct shmcam_host *h)
{
    GError *err = NULL;
    char desc[64], size[32];
    int ret;

    ret = shmcam_host_signals(h);
    if (ret) {
        g_set_error(&err, G_FILE_ERROR, 0, "cannot set up signals: %s",
                    g_strerror(-ret));
    }
    if (!ret) {
        ret = shmcam_host_source(h, &err) ?:
              shmcam_host_region_setup(h, &err);
    }
    if (!ret) {
        shmcam_host_retarget(h, NULL);
    }
    if (!ret) {
        shmcam_format_str(&h->fmt, desc, sizeof(desc));
        shmcam_region_size_str(h->region.base ? h->region.size :
                               h->region_bytes, size, sizeof(size));
        fprintf(stderr, "shmcam-host: %s, %s at %u/%u s per frame into %s "
                "(%s%s: %u slots of %u bytes)\n", h->src_name, desc,
                h->fmt.interval.numerator, h->fmt.interval.denominator,
                h->region.base ? h->region.path : "each guest's own region",
                h->region.base ? "" : "at least ", size, h->o.slots,
                h->slot_size);
        ret = shmcam_host_run(h);
    }
    if (err) {
        fprintf(stderr, "shmcam-host: %s\n", err->message);
        g_error_free(err);
    }
    return ret ? SHMCAM_EXIT_ERROR : SHMCAM_EXIT_OK;
}

void shmcam_host_free(struct shmcam_host *h)
{
    /* First: a camera may be capturing into the regions' slots. */
    if (h->src) {
        h->src->ops->free(h->src);
        h->src = NULL;
    }
    shmcam_host_outputs_free(h);
    shmcam_host_region_release(h);
    if (h->sigfd >= 0) {
        close(h->sigfd);
        h->sigfd = -1;
    }
    if (h->ctrl_fd >= 0) {
        close(h->ctrl_fd);
        h->ctrl_fd = -1;
    }
    if (h->shared_fd >= 0) {
        close(h->shared_fd);
        h->shared_fd = -1;
    }
    g_free(h->src_name);
    g_free(h->o.camera);
    g_free(h->o.pipewire);
    g_free(h->o.file);
    g_free(h->o.format);
    g_free(h->o.size);
    g_free(h->o.fps);
    g_free(h->o.shm);
    g_free(h->o.region);
    g_free(h->o.qemu_memdev);
    g_free(h->o.mode);
    g_free(h->o.card);
    g_free(h->o.listen);
    g_free(h->o.pci_listen);
    g_free(h->o.region_size);
    g_free(h->o.camera_io);
    g_free(h->o.controls);
    memset(&h->o, 0, sizeof(h->o));
    h->src_name = NULL;
}
