/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: publish frames of a test pattern, a V4L2 camera or a file
 * into a shmcam region (docs/specs/shmcam.rst).
 *
 * One thread, one loop: ppoll() on a signalfd and the source's fd, with a
 * timeout to the next frame or heartbeat.  The producer never waits for a
 * consumer and reads their areas only as untrusted requests.  Under
 * --listen or --pci-listen this loop runs in a child of the server
 * (host-server.c, docs/ivshmem-server.rst), which also hands it the
 * guests' eventfds: it rings each streaming guest for each frame, and
 * polls the consumer areas at once when a guest rings it.
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
#include "host-ctrl.h"
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

int shmcam_host_parse(struct shmcam_host *h, int *argc, char ***argv,
                      GError **errp)
{
    struct shmcam_host_opts *o = &h->o;
    GOptionEntry entries[] = {
        { "pattern", 0, 0, G_OPTION_ARG_NONE, &o->pattern,
          "Publish the moving test pattern (the default source)", NULL },
        { "camera", 0, 0, G_OPTION_ARG_FILENAME, &o->camera,
          "Capture from a V4L2 camera", "/dev/videoN" },
        { "file", 0, 0, G_OPTION_ARG_FILENAME, &o->file,
          "Publish raw frames of --format from a file, or - for stdin", "PATH" },
        { "loop", 0, 0, G_OPTION_ARG_NONE, &o->loop,
          "Start a --file again at its end instead of stopping", NULL },
        { "format", 0, 0, G_OPTION_ARG_STRING, &o->format,
          "Pixel format: YUYV, NV12, YU12 or MJPG (default YUYV)", "FMT" },
        { "size", 0, 0, G_OPTION_ARG_STRING, &o->size,
          "Frame size (default 1280x720)", "WxH" },
        { "fps", 0, 0, G_OPTION_ARG_STRING, &o->fps,
          "Frames per second, e.g. 30 or 30000/1001 (default 30)", "RATE" },
        { "slots", 0, 0, G_OPTION_ARG_INT, &o->slots,
          "Frame slots in the region, 3..16 (default 3)", "N" },
        { "shm", 0, 0, G_OPTION_ARG_STRING, &o->shm,
          "POSIX shm region /dev/shm/NAME: created, or attached if it exists "
          "(default shmcam0)", "NAME" },
        { "region", 0, 0, G_OPTION_ARG_FILENAME, &o->region,
          "Attach to an existing mmap-able file (e.g. a PCI BAR resource2)",
          "PATH" },
        { "listen", 0, 0, G_OPTION_ARG_FILENAME, &o->listen,
          "Serve QEMU's ivshmem-doorbell on a unix socket (ivshmem server "
          "protocol 0), the region being a memfd passed to each guest",
          "SOCKET" },
        { "pci-listen", 0, 0, G_OPTION_ARG_FILENAME, &o->pci_listen,
          "Serve QEMU's shmcam-pci devices on a unix socket: each passes its "
          "memory backend, a region of its own (with or without --listen)",
          "SOCKET" },
        { "isolate", 0, 0, G_OPTION_ARG_NONE, &o->isolate,
          "With --listen: a region of its own for each guest (one more copy "
          "of each frame per guest)", NULL },
        { "region-size", 0, 0, G_OPTION_ARG_STRING, &o->region_size,
          "Size of a region shmcam-host creates (--shm or --listen), a power "
          "of two such as 64M (default: the smallest that fits), so that "
          "larger formats fit later; a shmcam-pci region must be at least "
          "as large", "SIZE" },
        { "keep", 0, 0, G_OPTION_ARG_NONE, &o->keep,
          "Leave a --shm region shmcam-host created in /dev/shm when it "
          "stops (marked stopped), for QEMU's memory-backend-shm attach=on "
          "and the next shmcam-host", NULL },
        { "mode", 0, 0, G_OPTION_ARG_STRING, &o->mode,
          "File mode of a created shm region or --listen socket, and the "
          "widest an existing region may have (default 0600)", "OCTAL" },
        { "force", 0, 0, G_OPTION_ARG_NONE, &o->force,
          "Overwrite a region that holds foreign data, a newer ABI, or a "
          "producer elsewhere that still beats; accept an existing region "
          "of another owner or a wider mode", NULL },
        { "stats", 0, 0, G_OPTION_ARG_NONE, &o->stats,
          "Print frame rate and counts to stderr every second", NULL },
        { "card", 0, 0, G_OPTION_ARG_STRING, &o->card,
          "Name shown to guests as the card (default: the source's)", "NAME" },
        { "version", 0, 0, G_OPTION_ARG_NONE, &o->version,
          "Print the version and exit", NULL },
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = g_option_context_new("- publish frames into a shmcam region");
    gboolean ok;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Exit status: 0 after SIGINT/SIGTERM or the end of a --file, 1 on a "
        "region,\nsource or I/O error, 2 on a bad command line.\n\n"
        "With --listen SOCKET, QEMU connects with\n"
        "  -chardev socket,id=cam,path=SOCKET "
        "-device ivshmem-doorbell,chardev=cam,vectors=1\n"
        "and capture runs in a child process that is restarted when it fails, "
        "while\nguests stay connected (docs/ivshmem-server.rst).  With "
        "--pci-listen SOCKET,\n"
        "  -object memory-backend-shm,id=cam,size=32M\n"
        "  -chardev socket,id=cams,path=SOCKET,reconnect-ms=1000\n"
        "  -device shmcam-pci,memdev=cam,chardev=cams\n"
        "connects the same way (docs/specs/shmcam-pci.rst).  The server "
        "itself exits 0\nafter SIGINT/SIGTERM, 1 when its sockets or region "
        "cannot be set up.\n");
    ok = g_option_context_parse(ctx, argc, argv, errp);
    g_option_context_free(ctx);
    if (ok && *argc > 1) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "unexpected argument '%s'", (*argv)[1]);
        ok = FALSE;
    }
    return ok ? 0 : -EINVAL;
}

/* "64M", "1G", "65536": 0 or -EINVAL. */
static int shmcam_host_parse_bytes(const char *arg, uint64_t *bytes)
{
    unsigned long long v;
    char *end;
    int shift = 0;

    if (!g_ascii_isdigit(arg[0])) {
        return -EINVAL;
    }
    errno = 0;
    v = strtoull(arg, &end, 10);
    switch (g_ascii_toupper(*end)) {
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case '\0':
        break;
    default:
        return -EINVAL;
    }
    if (errno || (shift && end[1]) || v > (UINT64_MAX >> shift)) {
        return -EINVAL;
    }
    *bytes = (uint64_t)v << shift;
    return 0;
}

/* --listen: the size of the region(s) we create; -EINVAL with a message. */
static int shmcam_host_check_region_size(struct shmcam_host *h, GError **errp)
{
    uint64_t needed = shmcam_producer_needed(h->o.slots,
                                             shmcam_format_slot_size(&h->fmt));
    uint64_t want = shmcam_region_round_size(needed), size;
    char want_arg[32], want_s[32], desc[64];

    shmcam_host_size_arg(want, want_arg, sizeof(want_arg));
    if (!h->o.region_size) {
        h->region_bytes = want;
        return 0;
    }
    if (shmcam_host_parse_bytes(h->o.region_size, &size) ||
        !shmcam_is_pow2(size) || size < SHMCAM_MIN_REGION_SIZE ||
        size > SHMCAM_MAX_REGION_SIZE) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--region-size %s is not a power "
                    "of two between 64K and 64G (e.g. --region-size %s)",
                    h->o.region_size, want_arg);
        return -EINVAL;
    }
    if (size < needed) {
        shmcam_format_str(&h->fmt, desc, sizeof(desc));
        shmcam_region_size_str(want, want_s, sizeof(want_s));
        g_set_error(errp, G_OPTION_ERROR, 0, "--region-size %s is too small: "
                    "%s with %d slots needs %s (--region-size %s)",
                    h->o.region_size, desc, h->o.slots, want_s, want_arg);
        return -EINVAL;
    }
    h->region_bytes = size;
    return 0;
}

/* Check the options and turn them into a format; -EINVAL with a message. */
int shmcam_host_check(struct shmcam_host *h, GError **errp)
{
    struct shmcam_host_opts *o = &h->o;
    struct shmcam_fract iv = { 1, 30 };
    uint32_t fourcc = SHMCAM_FMT_YUYV, w = 1280, hgt = 720;
    char *end;
    const char *why = NULL;

    if (!!o->pattern + !!o->camera + !!o->file > 1) {
        why = "choose one source: --pattern, --camera or --file";
    } else if (!!o->shm + !!o->region + !!(o->listen || o->pci_listen) > 1) {
        why = "choose one region: --shm NAME, --region PATH or --listen "
              "SOCKET (--pci-listen SOCKET: the guests bring theirs)";
    } else if (o->isolate && !o->listen) {
        why = "--isolate needs --listen SOCKET";
    } else if (o->region_size && o->region) {
        why = "--region-size is for a region shmcam-host creates (--shm NAME "
              "or --listen SOCKET); --region PATH has the size it was "
              "created with";
    } else if (o->keep && (o->region || o->listen || o->pci_listen)) {
        why = "--keep is for a --shm region (shmcam-host removes no other "
              "region at exit)";
    } else if (o->listen && !o->listen[0]) {
        why = "--listen needs a socket path (e.g. --listen /run/shmcam.sock)";
    } else if (o->pci_listen && !o->pci_listen[0]) {
        why = "--pci-listen needs a socket path (e.g. --pci-listen "
              "/run/shmcam-pci.sock)";
    } else if (o->listen && o->pci_listen &&
               !strcmp(o->listen, o->pci_listen)) {
        why = "--listen and --pci-listen need two different sockets";
    } else if (o->slots < (int)SHMCAM_MIN_SLOTS || o->slots > (int)SHMCAM_MAX_SLOTS) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--slots %d is out of range "
                    "(use %u..%u)", o->slots, SHMCAM_MIN_SLOTS, SHMCAM_MAX_SLOTS);
        return -EINVAL;
    } else if (o->shm && (!o->shm[0] || strchr(o->shm + 1, '/'))) {
        why = "--shm NAME must be a name without '/' (e.g. --shm cam0)";
    }
    if (why) {
        g_set_error(errp, G_OPTION_ERROR, 0, "%s", why);
        return -EINVAL;
    }
    if (o->format && !(fourcc = shmcam_format_from_name(o->format))) {
        g_set_error(errp, G_OPTION_ERROR, 0, "unknown format '%s' (use one of "
                    "%s)", o->format, shmcam_format_names());
        return -EINVAL;
    }
    if (o->size && shmcam_parse_size(o->size, &w, &hgt)) {
        g_set_error(errp, G_OPTION_ERROR, 0, "invalid size '%s' (use WIDTHxHEIGHT, "
                    "e.g. 1280x720)", o->size);
        return -EINVAL;
    }
    if (o->fps && shmcam_parse_fps(o->fps, &iv)) {
        g_set_error(errp, G_OPTION_ERROR, 0, "invalid frame rate '%s' (use frames "
                    "per second, 1..1000, e.g. 30 or 30000/1001)", o->fps);
        return -EINVAL;
    }
    if (w < SHMCAM_MIN_WIDTH || w > SHMCAM_MAX_WIDTH ||
        hgt < SHMCAM_MIN_HEIGHT || hgt > SHMCAM_MAX_HEIGHT) {
        g_set_error(errp, G_OPTION_ERROR, 0, "size %ux%u is out of range (width "
                    "%u..%u, height %u..%u)", w, hgt, SHMCAM_MIN_WIDTH,
                    SHMCAM_MAX_WIDTH, SHMCAM_MIN_HEIGHT, SHMCAM_MAX_HEIGHT);
        return -EINVAL;
    }
    if ((w | hgt) & 1) {
        g_set_error(errp, G_OPTION_ERROR, 0, "size %ux%u is odd (use an even "
                    "width and height, e.g. %ux%u)", w, hgt, w & ~1u, hgt & ~1u);
        return -EINVAL;
    }
    h->shm_mode = 0600;
    if (o->mode) {
        unsigned long m = strtoul(o->mode, &end, 8);

        if (!o->mode[0] || *end || m > 0777) {
            g_set_error(errp, G_OPTION_ERROR, 0, "--mode %s is not a file mode "
                        "(use octal, e.g. 0600)", o->mode);
            return -EINVAL;
        }
        h->shm_mode = m;
    }
    if (!o->shm && !o->region && !shmcam_host_serves(h)) {
        o->shm = g_strdup("shmcam0");
    }
    if (shmcam_format_init(&h->fmt, fourcc, w, hgt, iv)) {
        return -EINVAL;
    }
    return shmcam_host_serves(h) || o->region_size ?
           shmcam_host_check_region_size(h, errp) : 0;
}

static int shmcam_host_source(struct shmcam_host *h, GError **errp)
{
    int ret;

    if (h->o.camera) {
        h->src = shmcam_v4l2_source_new(h->o.camera);
        h->src_name = g_strdup_printf("camera %s", h->o.camera);
    } else if (h->o.file) {
        h->src = shmcam_file_source_new(h->o.file, h->o.loop);
        h->src_name = g_strdup_printf("file %s", h->o.file);
    } else {
        h->src = shmcam_pattern_source_new();
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

/*
 * The producers frames go to, one at a time: the one region (the --shm or
 * --region one, or the one all --listen guests share), then the regions
 * of their own that guests brought (shmcam-pci) or got (--isolate).
 * Start with *@pos at 0; NULL after the last.  Nothing is sized by their
 * number: with --listen and --pci-listen there is one more producer than
 * consumer ids.
 */
static struct shmcam_producer *shmcam_host_next_prod(struct shmcam_host *h,
                                                     unsigned int *pos)
{
    while (*pos <= SHMCAM_MAX_CONSUMERS) {
        unsigned int i = (*pos)++;

        if (i == 0 && h->prod.hdr) {
            return &h->prod;
        }
        if (i > 0 && h->out[i - 1].region.base) {
            return &h->out[i - 1].prod;
        }
    }
    return NULL;
}

#define SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) \
    for ((pos) = 0; ((p) = shmcam_host_next_prod((h), &(pos))) != NULL; )

static void shmcam_host_set_state(struct shmcam_host *h, enum shmcam_state s)
{
    struct shmcam_producer *p;
    unsigned int pos;

    if (h->state != s) {
        fprintf(stderr, "shmcam-host: %s: %s\n", h->src_name,
                shmcam_state_name[s]);
    }
    h->state = s;
    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        shmcam_producer_set_state(p, s);
    }
}

/* Tell consumers what we deliver now, and what else we could. */
static void shmcam_host_publish_format_to(struct shmcam_host *h,
                                          struct shmcam_producer *p)
{
    struct shmcam_cap caps[SHMCAM_MAX_CAPS];
    uint32_t n = h->src->ops->caps(h->src, p->slot_size, caps);

    shmcam_producer_set_format(p, &h->fmt);
    shmcam_producer_set_caps(p, caps, n);
    shmcam_producer_set_card(p, h->o.card ? h->o.card : h->src->card);
}

/*
 * The largest frame every region we publish into can take: a region a
 * shmcam-pci guest brought may have larger slots than ours.
 */
static uint32_t shmcam_host_fit(struct shmcam_host *h)
{
    struct shmcam_producer *p;
    unsigned int pos;
    uint32_t fit = UINT32_MAX;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        fit = MIN(fit, p->slot_size);
    }
    return fit == UINT32_MAX ? h->slot_size : fit;
}

static void shmcam_host_publish_format(struct shmcam_host *h)
{
    struct shmcam_producer *p;
    unsigned int pos;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        shmcam_host_publish_format_to(h, p);
    }
}

/* Say to the supervisor what we are doing now (a server only). */
static void shmcam_host_busy(struct shmcam_host *h, int32_t what)
{
    if (h->watch) {
        __atomic_store_n(&h->watch->busy, what, __ATOMIC_RELAXED);
    }
}

static void shmcam_host_lost(struct shmcam_host *h, uint64_t now)
{
    h->src->ops->stop(h->src);
    h->want_fd = false;
    h->next_retry_ns = now + SHMCAM_RETRY_NS;
    shmcam_host_set_state(h, SHMCAM_STATE_NO_SIGNAL);
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
    h->next_frame_ns = now;
    return 0;
}

/*
 * A consumer area may have SHMCAM_REQUEST_BURST requests acted on at once
 * (a guest negotiating, a compliance run trying each format), then one a
 * SHMCAM_REQUEST_GAP_NS: the generic cell rate algorithm, with
 * switch_ns the time the area's next request is due.
 */
#define SHMCAM_REQUEST_GAP_NS   NSEC_PER_SEC
#define SHMCAM_REQUEST_BURST    4

/* Is @p one of the producers we publish into now? */
static bool shmcam_host_prod_live(struct shmcam_host *h,
                                  const struct shmcam_producer *p)
{
    struct shmcam_producer *q;
    unsigned int pos;

    SHMCAM_HOST_FOR_EACH_PROD(h, q, pos) {
        if (q == p) {
            return true;
        }
    }
    return false;
}

/*
 * Does the consumer whose request is in effect still hold it: its area
 * owned by the same owner, and streaming?
 */
static bool shmcam_host_held(struct shmcam_host *h)
{
    const struct shmcam_consumer *c;

    if (!h->holder || !shmcam_host_prod_live(h, h->holder)) {
        h->holder = NULL;
        return false;
    }
    c = &h->holder->consumers[h->holder_area];
    return shmcam_load64(&c->owner) == h->holder_owner &&
           (shmcam_load32(&c->flags) & SHMCAM_CONSUMER_STREAMING);
}

static bool shmcam_host_is_holder(struct shmcam_host *h,
                                  const struct shmcam_producer *p,
                                  const struct shmcam_request *r)
{
    return h->holder == p && h->holder_area == r->consumer &&
           h->holder_owner == r->owner;
}

static void shmcam_host_request_str(const struct shmcam_request *r, char *buf,
                                    size_t len)
{
    struct shmcam_format f;
    char desc[48];

    if (shmcam_format_init(&f, r->pixelformat, r->width, r->height,
                           r->interval)) {
        g_snprintf(buf, len, "a format it cannot have");
        return;
    }
    shmcam_format_str(&f, desc, sizeof(desc));
    g_snprintf(buf, len, "%s at %u/%u s per frame", desc,
               r->interval.numerator, r->interval.denominator);
}

/*
 * One request of area r->consumer of @p, which matched our capability
 * table.  The rule (docs/specs/shmcam.rst): the format a streaming
 * consumer asked for holds while it streams; another consumer's request
 * is refused meanwhile (said once, until one of its requests is taken),
 * and that consumer sees what is published.  An area has requests acted
 * on at the rate above: a later one waits for its turn, and the newest
 * waiting one is taken then.  Floods cost the flooder.
 */
static void shmcam_host_consider(struct shmcam_host *h,
                                 struct shmcam_producer *p,
                                 const struct shmcam_request *r, uint64_t now)
{
    struct shmcam_format fmt;
    char want[64], have[64];

    if (!shmcam_host_is_holder(h, p, r) && shmcam_host_held(h)) {
        if (!p->refused[r->consumer]) {
            shmcam_host_request_str(r, want, sizeof(want));
            shmcam_format_str(&h->fmt, have, sizeof(have));
            fprintf(stderr, "shmcam-host: consumer %u asks for %s; consumer "
                    "%u streams %s, which stays\n", r->consumer, want,
                    h->holder_area, have);
            p->refused[r->consumer] = true;
        }
        return;
    }
    if (p->switch_ns[r->consumer] >
        now + (SHMCAM_REQUEST_BURST - 1) * SHMCAM_REQUEST_GAP_NS) {
        h->pending = true;
        h->pending_req = *r;
        h->pending_prod = p;
        return;
    }
    h->pending = false;
    p->refused[r->consumer] = false;
    p->switch_ns[r->consumer] = MAX(p->switch_ns[r->consumer], now) +
                                SHMCAM_REQUEST_GAP_NS;
    h->holder = p;
    h->holder_area = r->consumer;
    h->holder_owner = r->owner;
    if (r->pixelformat == h->fmt.pixelformat && r->width == h->fmt.width &&
        r->height == h->fmt.height &&
        r->interval.numerator == h->fmt.interval.numerator &&
        r->interval.denominator == h->fmt.interval.denominator) {
        return;
    }
    if (shmcam_format_init(&fmt, r->pixelformat, r->width, r->height,
                           r->interval)) {
        return;
    }
    shmcam_host_request_str(r, want, sizeof(want));
    fprintf(stderr, "shmcam-host: consumer %u requests %s: switching\n",
            r->consumer, want);
    shmcam_host_restart(h, &fmt, now);
}

/*
 * Look for new requests in the consumer areas, and take a waiting one
 * whose turn came.  Outside STREAMING the producers leave requests where
 * they are, to be taken once we stream.
 */
static void shmcam_host_request(struct shmcam_host *h, uint64_t now)
{
    struct shmcam_producer *p;
    struct shmcam_request r;
    unsigned int pos;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        if (shmcam_producer_poll_requests(p, &r)) {
            shmcam_host_consider(h, p, &r, now);
        }
    }
    if (h->pending && !shmcam_host_prod_live(h, h->pending_prod)) {
        h->pending = false;
    }
    if (h->pending) {
        r = h->pending_req;
        shmcam_host_consider(h, h->pending_prod, &r, now);
    }
}

/* One line a second on stderr: the rate over the last period and totals. */
static void shmcam_host_stats(struct shmcam_host *h, uint64_t now)
{
    uint64_t span = now - h->stats_start_ns;
    char desc[64];

    shmcam_format_str(&h->fmt, desc, sizeof(desc));
    fprintf(stderr, "shmcam-host: %.1f fps, %llu frames, %s, %s\n",
            span ? h->stats_frames * 1e9 / span : 0.0,
            (unsigned long long)h->frames, desc, shmcam_state_name[h->state]);
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
    struct shmcam_producer *p;
    unsigned int pos, k;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        uint32_t freed;
        bool restored = shmcam_producer_restore(p);

        /* Said once per overwrite, however long it goes on. */
        if (restored && !p->restoring) {
            if (p == &h->prod) {
                fprintf(stderr, "shmcam-host: the header of %s was "
                        "overwritten: restoring it\n", h->region.path ?
                        h->region.path : "the shared region");
            } else {
                fprintf(stderr, "shmcam-host: the header of client %u's "
                        "region was overwritten: restoring it\n", pos - 2);
            }
        }
        p->restoring = restored;
        shmcam_producer_heartbeat(p);
        freed = shmcam_producer_reclaim(p, now);
        for (k = 0; k < SHMCAM_MAX_CONSUMERS; k++) {
            if (freed & (1u << k)) {
                fprintf(stderr, "shmcam-host: consumer area %u: no heartbeat "
                        "for %u s, freed\n", k,
                        SHMCAM_CONSUMER_TIMEOUT_MS / 1000);
            }
        }
    }
    shmcam_host_request(h, now);
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
    h->next_frame_ns = now;
    shmcam_host_set_state(h, SHMCAM_STATE_STREAMING);
}

/*
 * Is @fd still non-blocking?  O_NONBLOCK belongs to the open file
 * description, which the guest's QEMU shares with us: it can clear it, and
 * a write to a full counter or a read of an empty one would then block us
 * and with us every guest.  When it was cleared it is set again and false
 * returned.  (Cleared between this and the write, the supervisor's
 * watchdog ends the wait.)
 */
static bool shmcam_host_fd_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || (fl & O_NONBLOCK)) {
        return fl >= 0;
    }
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    return false;
}

/*
 * Guest @id tampered with an eventfd or the memory of its own (@why says
 * how): it is not served any more here, and the supervisor disconnects it.
 */
static void shmcam_host_blame(struct shmcam_host *h, uint32_t id,
                              const char *why)
{
    fprintf(stderr, "shmcam-host: client %u %s: disconnecting it\n", id,
            why);
    shmcam_host_out_del(h, id);
    if (h->watch) {
        __atomic_fetch_or(&h->watch->blame, 1u << id, __ATOMIC_RELAXED);
    }
}

/*
 * A guest that shrank its memory under our mapping: the SIGBUS of our
 * write left anonymous memory there (shmcam_region_guard()).  Drop it.
 */
static void shmcam_host_check_lost(struct shmcam_host *h)
{
    uint32_t i;

    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        if (h->out[i].region.lost) {
            shmcam_host_blame(h, i, "cut its memory short under its region");
        }
    }
}

/*
 * Raise the frame interrupt of every guest whose consumer area (the one at
 * its id, in its own region if it has one) says it streams.  The flag is
 * one load from guest memory, and only that bit is used.  The eventfds are
 * non-blocking: a guest that takes no interrupts never holds us up.
 */
static void shmcam_host_ring(struct shmcam_host *h)
{
    static const uint64_t one = 1;
    uint32_t i;

    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        struct shmcam_host_out *o = &h->out[i];
        const struct shmcam_consumer *c;

        c = o->region.base ? o->prod.consumers : h->prod.consumers;
        if (o->efd < 0 || !c ||
            !(shmcam_load32(&c[i].flags) & SHMCAM_CONSUMER_STREAMING)) {
            continue;
        }
        if (!shmcam_host_fd_nonblocking(o->efd)) {
            shmcam_host_blame(h, i, "cleared O_NONBLOCK on its frame "
                              "eventfd");
            continue;
        }
        shmcam_host_busy(h, i);
        /* Only a counter at its maximum refuses: the ring is there. */
        (void)!write(o->efd, &one, sizeof(one));
        shmcam_host_busy(h, SHMCAM_WATCH_IDLE);
    }
}

/* Take one frame from the source and publish it. */
static int shmcam_host_frame(struct shmcam_host *h, uint64_t now)
{
    struct shmcam_producer *p;
    unsigned int pos;
    struct shmcam_source_frame f;
    uint64_t iv = shmcam_interval_ns(&h->fmt.interval);
    int ret = h->src->ops->next(h->src, &f);

    if (ret == -EAGAIN) {
        h->want_fd = true;
        return 0;
    }
    h->want_fd = false;
    if (ret == -ENODEV) {
        shmcam_host_lost(h, now);
        return 0;
    }
    if (ret == -EPIPE) {
        fprintf(stderr, "shmcam-host: end of %s after %llu frames\n",
                h->src_name, (unsigned long long)h->frames);
        return ret;
    }
    if (!ret) {
        /* One copy per region: the cost of isolation. */
        SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
            ret = shmcam_producer_publish(p, f.data, f.len, now, f.flags);
            if (ret) {
                break;
            }
        }
        h->src->ops->release(h->src);
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: %s: %s%s\n", h->src_name,
                ret == -EMSGSIZE ? "a frame larger than a slot" :
                ret == -EBADMSG ? "not a JPEG stream" : g_strerror(-ret),
                ret == -EMSGSIZE ? " (check --format and --size)" : "");
        return ret;
    }
    h->frames++;
    h->stats_frames++;
    shmcam_host_ring(h);
    h->next_frame_ns += iv;
    if (h->next_frame_ns + iv < now) {
        h->next_frame_ns = now;     /* fell behind: do not burst */
    }
    return 0;
}

enum {
    SHMCAM_PFD_SIGNAL,
    SHMCAM_PFD_SOURCE,
    SHMCAM_PFD_CTRL,            /* server: the supervisor's messages */
    SHMCAM_PFD_DOORBELL,        /* --listen: an ivshmem guest rang us */
    SHMCAM_PFD_COUNT,
    /* then the doorbells of the shmcam-pci guests: h->out[].doorbell_fd */
    SHMCAM_PFD_MAX = SHMCAM_PFD_COUNT + SHMCAM_MAX_CONSUMERS,
};

/* Returns the number of entries in @pfd, or a negative errno. */
static int shmcam_host_wait(struct shmcam_host *h,
                            struct pollfd pfd[SHMCAM_PFD_MAX])
{
    unsigned int n = SHMCAM_PFD_COUNT, i;
    uint64_t now = shmcam_now_ns(), deadline = h->next_beat_ns, wait;
    bool paced = h->src->paced;
    struct timespec ts;

    pfd[SHMCAM_PFD_SIGNAL] = (struct pollfd) { .fd = h->sigfd,
                                               .events = POLLIN };
    pfd[SHMCAM_PFD_SOURCE] = (struct pollfd) { .fd = -1, .events = POLLIN };
    pfd[SHMCAM_PFD_CTRL] = (struct pollfd) { .fd = h->ctrl_fd,
                                             .events = POLLIN };
    pfd[SHMCAM_PFD_DOORBELL] = (struct pollfd) { .fd = -1, .events = POLLIN };
    if (now >= h->doorbell_ns) {
        pfd[SHMCAM_PFD_DOORBELL].fd = h->doorbell_fd;
        for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
            if (h->out[i].doorbell_fd >= 0) {
                pfd[n++] = (struct pollfd) { .fd = h->out[i].doorbell_fd,
                                             .events = POLLIN };
            }
        }
    } else if (h->doorbell_ns < deadline) {
        deadline = h->doorbell_ns;
    }
    if (h->state == SHMCAM_STATE_STREAMING && (paced || h->want_fd)) {
        pfd[SHMCAM_PFD_SOURCE].fd = h->src->fd;
    }
    if (h->state == SHMCAM_STATE_STREAMING && !paced && !h->want_fd &&
        h->next_frame_ns < deadline) {
        deadline = h->next_frame_ns;
    }
    if (h->state == SHMCAM_STATE_NO_SIGNAL && h->next_retry_ns < deadline) {
        deadline = h->next_retry_ns;
    }
    wait = deadline > now ? deadline - now : 0;
    ts.tv_sec = wait / NSEC_PER_SEC;
    ts.tv_nsec = wait % NSEC_PER_SEC;
    if (ppoll(pfd, n, &ts, NULL) < 0 && errno != EINTR) {
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
    bool rang = false;
    uint64_t rings;
    unsigned int i, id;

    for (i = 0; i < n; i++) {
        if (!(pfd[i].revents & POLLIN)) {
            continue;
        }
        /* The first is the one all ivshmem guests ring: none to blame. */
        if (!shmcam_host_fd_nonblocking(pfd[i].fd) && i > 0) {
            for (id = 0; id < SHMCAM_MAX_CONSUMERS; id++) {
                if (h->out[id].doorbell_fd == pfd[i].fd) {
                    shmcam_host_blame(h, id, "cleared O_NONBLOCK on its "
                                      "doorbell eventfd");
                    break;
                }
            }
            continue;
        }
        if (read(pfd[i].fd, &rings, sizeof(rings)) == sizeof(rings)) {
            rang = true;
        }
    }
    if (rang) {
        shmcam_host_request(h, now);
        h->doorbell_ns = now + SHMCAM_DOORBELL_GAP_NS;
    }
}

/*
 * In a server: take every message the supervisor sent (host-ctrl.h), a
 * guest that came, with its descriptors, or went.  One that does not fit
 * what its op carries is dropped, its descriptors closed.  Returns 0, or
 * -EPIPE when the supervisor is gone.
 */
static int shmcam_host_ctrl(struct shmcam_host *h)
{
    struct shmcam_ctrl m;
    unsigned int i;
    int ret;

    while ((ret = shmcam_ctrl_recv(h->ctrl_fd, &m)) != -EAGAIN) {
        if (ret == -EBADMSG) {
            continue;
        }
        if (ret) {
            return ret;
        }
        if (m.id < SHMCAM_MAX_CONSUMERS && m.op == SHMCAM_CTRL_ADD &&
            m.nfds == (h->o.isolate ? 2u : 1u)) {
            shmcam_host_out_add(h, m.id, m.fds[0], h->o.isolate ? m.fds[1] : -1,
                                -1);
            continue;
        }
        if (m.id < SHMCAM_MAX_CONSUMERS && m.op == SHMCAM_CTRL_ADD_PCI &&
            m.nfds == 3) {
            shmcam_host_out_add(h, m.id, m.fds[0], m.fds[1], m.fds[2]);
            continue;
        }
        if (m.id < SHMCAM_MAX_CONSUMERS && m.op == SHMCAM_CTRL_DEL) {
            shmcam_host_out_del(h, m.id);
        }
        for (i = 0; i < m.nfds; i++) {
            close(m.fds[i]);
        }
    }
    return 0;
}

static int shmcam_host_run(struct shmcam_host *h)
{
    struct pollfd pfd[SHMCAM_PFD_MAX];
    struct pollfd *src = &pfd[SHMCAM_PFD_SOURCE];
    uint64_t now = shmcam_now_ns();
    int ret = 0, n;

    h->next_beat_ns = h->next_frame_ns = h->stats_start_ns = now;
    h->next_stats_ns = now + NSEC_PER_SEC;
    shmcam_host_publish_format(h);
    shmcam_host_set_state(h, SHMCAM_STATE_STREAMING);
    while (!ret) {
        n = shmcam_host_wait(h, pfd);
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
        if (h->state == SHMCAM_STATE_NO_SIGNAL && now >= h->next_retry_ns) {
            shmcam_host_retry(h, now);
        }
        shmcam_host_check_lost(h);
        if (h->state != SHMCAM_STATE_STREAMING) {
            continue;
        }
        if (h->src->paced && src->revents & (POLLERR | POLLHUP | POLLNVAL)) {
            shmcam_host_lost(h, now);
        } else if (h->src->paced ? src->revents & POLLIN :
                   h->want_fd ? src->revents != 0 : now >= h->next_frame_ns) {
            ret = shmcam_host_frame(h, now);
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
 * A guest came: the supervisor passes its eventfd, with --isolate or for
 * shmcam-pci its region, which we lay out for a session of our own, and
 * for shmcam-pci the eventfd its doorbell writes.
 */
void shmcam_host_out_add(struct shmcam_host *h, uint32_t id, int efd,
                         int memfd, int doorbell_fd)
{
    struct shmcam_host_out *o = &h->out[id];
    g_autofree char *path = g_strdup_printf("memfd:shmcam-%u", id);
    int ret;

    shmcam_host_out_del(h, id);
    o->efd = efd;
    o->doorbell_fd = doorbell_fd;
    if (memfd < 0) {
        return;
    }
    ret = shmcam_region_open_fd(&o->region, memfd, path, true);
    if (!ret) {
        shmcam_region_guard(&o->region);
        ret = shmcam_producer_init(&o->prod, o->region.base, o->region.size,
                                   h->o.slots, shmcam_format_slot_size(&h->fmt),
                                   shmcam_host_session_id());
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: cannot lay out %s for guest %u: %s\n",
                path, id, g_strerror(-ret));
        shmcam_region_close(&o->region);
        return;
    }
    shmcam_host_publish_format_to(h, &o->prod);
    shmcam_producer_set_state(&o->prod, h->state);
}

/* A guest went. */
void shmcam_host_out_del(struct shmcam_host *h, uint32_t id)
{
    struct shmcam_host_out *o = &h->out[id];

    if (o->efd >= 0) {
        close(o->efd);
        o->efd = -1;
    }
    if (o->doorbell_fd >= 0) {
        close(o->doorbell_fd);
        o->doorbell_fd = -1;
    }
    shmcam_region_close(&o->region);
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
    uint32_t i;

    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        if (h->out[i].region.base && h->initialised) {
            shmcam_producer_set_state(&h->out[i].prod, SHMCAM_STATE_STOPPED);
        }
        shmcam_host_out_del(h, i);
    }
    shmcam_host_region_release(h);
    if (h->src) {
        h->src->ops->free(h->src);
        h->src = NULL;
    }
    if (h->sigfd >= 0) {
        close(h->sigfd);
        h->sigfd = -1;
    }
    if (h->ctrl_fd >= 0) {
        close(h->ctrl_fd);
        h->ctrl_fd = -1;
    }
    g_free(h->src_name);
    g_free(h->o.camera);
    g_free(h->o.file);
    g_free(h->o.format);
    g_free(h->o.size);
    g_free(h->o.fps);
    g_free(h->o.shm);
    g_free(h->o.region);
    g_free(h->o.mode);
    g_free(h->o.card);
    g_free(h->o.listen);
    g_free(h->o.pci_listen);
    g_free(h->o.region_size);
    memset(&h->o, 0, sizeof(h->o));
    h->src_name = NULL;
}
