/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-dump: the reference reader.  It reads a region exactly as the
 * guest driver does, through shmcam-reader.h, and with --verify checks
 * that every frame it accepted is the pattern frame it claims to be.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmcam-reader.h"
#include "shmcam-dump.h"
#include "shmcam-format.h"
#include "shmcam-region.h"

#define NSEC_PER_SEC 1000000000ull

enum {
    SHMCAM_EXIT_OK = 0,
    SHMCAM_EXIT_FAIL = 1,       /* bad frames, timeout, region errors */
    SHMCAM_EXIT_USAGE = 2,
};

static uint64_t shmcam_dump_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

struct shmcam_dump_live {
    struct shmcam_region region;
    int sock;                   /* --connect: our ivshmem connection */
    struct shmcam_layout layout;
    uint8_t *buf;
    uint64_t deadline;          /* give up when no frame came by then */
    uint64_t last;              /* frame counter last read */
    int open_err;               /* the region exists but cannot be mapped */
};

static void shmcam_dump_detach(struct shmcam_dump_live *l)
{
    g_clear_pointer(&l->buf, g_free);
    shmcam_region_close(&l->region);
    if (l->sock >= 0) {
        close(l->sock);
        l->sock = -1;
    }
}

static bool shmcam_dump_expired(const struct shmcam_dump_live *l)
{
    return shmcam_dump_now() > l->deadline;
}

static void shmcam_dump_touch(struct shmcam_dump *d, struct shmcam_dump_live *l)
{
    l->deadline = shmcam_dump_now() + (uint64_t)d->o.timeout * NSEC_PER_SEC;
}

/*
 * Wait for the region to exist, carry our magic, and be laid out.
 * Returns 0, -ETIMEDOUT, -EPROTONOSUPPORT / -EINVAL for a region we
 * cannot read, or -EBADF with l->open_err set for one we cannot map (only
 * a region that does not exist yet, or is still empty, is waited for).
 */
static int shmcam_dump_attach(struct shmcam_dump *d, struct shmcam_dump_live *l)
{
    int ret;

    for (;;) {
        if (!l->region.base && d->o.connect) {
            int64_t id;

            ret = shmcam_dump_open_ivshmem(&l->region, d->o.connect, false,
                                             &l->sock, &id);
            /* Nobody listens yet: wait for the server, as for a region. */
            if (ret && ret != -ENOENT && ret != -ECONNREFUSED) {
                return ret == -ETIMEDOUT ? -ETIME : ret;
            }
        } else if (!l->region.base) {
            ret = d->o.region ?
                  shmcam_region_open_path(&l->region, d->o.region, false) :
                  shmcam_region_open_shm(&l->region, d->o.shm, false);
            if (ret && ret != -ENOENT && ret != -ENODATA) {
                l->open_err = ret;
                return -EBADF;
            }
        } else {
            ret = shmcam_check_identity(l->region.base, l->region.size) ?:
                  shmcam_layout_read(l->region.base, l->region.size, &l->layout);
            if (!ret || ret == -EPROTONOSUPPORT || ret == -EINVAL) {
                return ret;
            }
        }
        if (shmcam_dump_expired(l)) {
            return -ETIMEDOUT;
        }
        g_usleep(ret && !l->region.base ? 50000 : 10000);
    }
}

static int shmcam_dump_layout(struct shmcam_dump *d, struct shmcam_dump_live *l)
{
    int ret = shmcam_dump_attach(d, l);
    g_autofree char *shm_path = d->o.shm ?
        g_strdup_printf("/dev/shm/%s", d->o.shm + (d->o.shm[0] == '/')) : NULL;
    const char *path = l->region.path ? l->region.path :
                       d->o.region ? d->o.region :
                       d->o.connect ? d->o.connect : shm_path;

    if (ret == -ECONNRESET) {
        fprintf(stderr, "shmcam-dump: the server at %s closed the connection "
                "before its setup (it takes 32 clients at most)\n", path);
    } else if (ret == -ETIME) {
        fprintf(stderr, "shmcam-dump: %s sent no ivshmem setup (is it "
                "shmcam-host --listen?)\n", path);
    } else if (ret == -EPROTO) {
        fprintf(stderr, "shmcam-dump: %s does not speak the ivshmem server "
                "protocol 0 (is it shmcam-host --listen?)\n", path);
    } else if (d->o.connect && !l->region.base && ret && ret != -ETIMEDOUT) {
        fprintf(stderr, "shmcam-dump: cannot connect to %s: %s\n", path,
                g_strerror(-ret));
    } else if (ret == -EBADF) {
        fprintf(stderr, "shmcam-dump: cannot map region %s: %s%s\n", path,
                g_strerror(-l->open_err),
                l->open_err == -EACCES ? " (check its owner and mode)" :
                l->open_err == -EINVAL && g_str_has_prefix(path, "/sys/") ?
                " (a driver holds this BAR, e.g. shmcam.ko: unbind the "
                "device first)" : "");
    } else if (ret == -ETIMEDOUT) {
        fprintf(stderr, "shmcam-dump: timeout: no shmcam producer in %s after "
                "%d s (is shmcam-host running?)\n", path, d->o.timeout);
    } else if (ret == -EPROTONOSUPPORT) {
        fprintf(stderr, "shmcam-dump: region %s has a shmcam ABI this reader "
                "does not know (update shmcam-dump)\n", path);
    } else if (ret) {
        fprintf(stderr, "shmcam-dump: region %s has an inconsistent slot "
                "layout\n", path);
    }
    if (!ret) {
        g_free(l->buf);
        l->buf = g_malloc(l->layout.slot_size);
        l->last = SHMCAM_NO_FRAME;
    }
    return ret;
}

static void shmcam_dump_print(struct shmcam_dump *d)
{
    const struct shmcam_dump_counts *c = &d->c;

    if (d->o.verify) {
        printf("verified %llu frames, %llu bad, %llu out of order\n",
               (unsigned long long)c->frames, (unsigned long long)c->bad,
               (unsigned long long)c->out_of_order);
    } else {
        printf("read %llu frames\n", (unsigned long long)c->frames);
    }
}

/* One accepted frame: count drops, verify, save. */
static int shmcam_dump_frame(struct shmcam_dump *d, struct shmcam_dump_live *l,
                             const struct shmcam_frame_info *fi)
{
    if (l->last != SHMCAM_NO_FRAME && fi->frame > l->last + 1) {
        d->c.dropped += fi->frame - l->last - 1;
    }
    l->last = fi->frame;
    if (d->o.verify) {
        shmcam_dump_check(d, &fi->format, l->buf, fi->bytesused);
    } else {
        d->c.frames++;
    }
    if (d->o.out) {
        return shmcam_dump_save(d, &fi->format, fi->frame, l->buf,
                                fi->bytesused);
    }
    return 0;
}

static const char *shmcam_dump_state_name(uint32_t state)
{
    switch (state) {
    case SHMCAM_STATE_STOPPED:
        return "stopped";
    case SHMCAM_STATE_STREAMING:
        return "streaming";
    case SHMCAM_STATE_NO_SIGNAL:
        return "no signal";
    default:
        return "invalid";
    }
}

/*
 * --status: what the producer says about itself and what each claimed
 * consumer area reports, one "key: value" line each.  The consumer
 * areas are whatever the guests wrote: printed, never trusted.
 */
static int shmcam_dump_status(struct shmcam_dump *d)
{
    struct shmcam_dump_live l = { .region = SHMCAM_REGION_INIT, .sock = -1 };
    const struct shmcam_header *h;
    const struct shmcam_consumer *c;
    struct shmcam_format f;
    char card[SHMCAM_CARD_LEN], desc[64], size[32];
    uint32_t i;
    int ret;

    shmcam_dump_touch(d, &l);
    ret = shmcam_dump_layout(d, &l);
    if (ret) {
        shmcam_dump_detach(&l);
        return ret;
    }
    h = l.region.base;
    shmcam_region_size_str(l.region.size, size, sizeof(size));
    printf("region: %s, %s, shmcam ABI %u.%u\n", l.region.path, size,
           SHMCAM_ABI_MAJOR, l.layout.abi_minor);
    printf("state: %s\n", shmcam_dump_state_name(shmcam_load32(&h->state)));
    printf("session: %016llx\n", (unsigned long long)l.layout.session_id);
    printf("heartbeat: %llu every %u ms\n",
           (unsigned long long)shmcam_load64(&h->heartbeat),
           shmcam_load32(&h->heartbeat_ms));
    if (!shmcam_format_read(h, &l.layout, &f)) {
        shmcam_format_str(&f, desc, sizeof(desc));
        printf("format: %s at %u/%u s per frame\n", desc,
               f.interval.numerator, f.interval.denominator);
    } else {
        printf("format: invalid\n");
    }
    printf("slots: %u of %u bytes, latest frame %lld\n", l.layout.slot_count,
           l.layout.slot_size, (long long)shmcam_load64(&h->latest_frame));
    shmcam_card_read(h, card, sizeof(card));
    printf("card: %s\n", card);
    c = (const void *)((const uint8_t *)h + SHMCAM_CONSUMER_OFFSET);
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++, c++) {
        uint32_t flags = shmcam_load32(&c->flags);

        if (!shmcam_load64(&c->owner)) {
            continue;
        }
        printf("consumer %u: %s, %llu frames, %llu dropped\n", i,
               flags & SHMCAM_CONSUMER_STREAMING ? "streaming" : "idle",
               (unsigned long long)shmcam_load64(&c->frames),
               (unsigned long long)shmcam_load64(&c->dropped));
    }
    shmcam_dump_detach(&l);
    return 0;
}

static int shmcam_dump_live(struct shmcam_dump *d)
{
    struct shmcam_dump_live l = { .region = SHMCAM_REGION_INIT, .sock = -1 };
    const struct shmcam_header *h;
    int ret;

    shmcam_dump_touch(d, &l);
    ret = shmcam_dump_layout(d, &l);
    h = l.region.base;
    while (!ret && (d->o.frames <= 0 || d->c.frames < (uint64_t)d->o.frames)) {
        struct shmcam_frame_info fi;

        if (shmcam_load64(&h->session_id) != l.layout.session_id) {
            fprintf(stderr, "shmcam-dump: producer restarted\n");
            ret = shmcam_dump_layout(d, &l);
            continue;
        }
        ret = shmcam_read_frame(h, &l.layout, l.last, l.buf,
                                l.layout.slot_size, &fi);
        if (!ret) {
            shmcam_dump_touch(d, &l);
            ret = shmcam_dump_frame(d, &l, &fi);
        } else if (ret == -ESTALE) {
            d->c.torn++;
            ret = 0;
        } else if (ret == -EAGAIN && !shmcam_dump_expired(&l)) {
            g_usleep(1000);
            ret = 0;
        } else if (ret == -EAGAIN) {
            fprintf(stderr, "shmcam-dump: timeout: no new frame in %s for %d s "
                    "(is shmcam-host running?)\n", l.region.path, d->o.timeout);
            ret = -ETIMEDOUT;
        } else {
            fprintf(stderr, "shmcam-dump: slot %u of %s has an inconsistent "
                    "descriptor\n", (unsigned)(shmcam_load64(&h->latest_frame) %
                    l.layout.slot_count), l.region.path);
            d->c.bad++;
            ret = 0;
            g_usleep(1000);
            if (shmcam_dump_expired(&l)) {
                ret = -ETIMEDOUT;
            }
        }
    }
    shmcam_dump_print(d);
    printf("dropped %llu frames, %llu torn reads detected and retried\n",
           (unsigned long long)d->c.dropped, (unsigned long long)d->c.torn);
    shmcam_dump_detach(&l);
    return ret;
}

static int shmcam_dump_parse(struct shmcam_dump *d, int *argc, char ***argv,
                             GError **errp)
{
    struct shmcam_dump_opts *o = &d->o;
    GOptionEntry entries[] = {
        { "shm", 0, 0, G_OPTION_ARG_STRING, &o->shm,
          "Read the POSIX shm region /dev/shm/NAME (default shmcam0)", "NAME" },
        { "region", 0, 0, G_OPTION_ARG_FILENAME, &o->region,
          "Read a region file (e.g. a PCI BAR resource2)", "PATH" },
        { "connect", 0, 0, G_OPTION_ARG_FILENAME, &o->connect,
          "Read the region of shmcam-host --listen SOCKET, connected as an "
          "ivshmem client", "SOCKET" },
        { "frames", 0, 0, G_OPTION_ARG_INT64, &o->frames,
          "Stop after N frames (default: until interrupted)", "N" },
        { "verify", 0, 0, G_OPTION_ARG_NONE, &o->verify,
          "Check test pattern frames byte for byte, in order", NULL },
        { "out", 0, 0, G_OPTION_ARG_FILENAME, &o->out,
          "Write each frame to DIR/frame-NNNNNN.EXT", "DIR" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &o->timeout,
          "Fail when no frame comes for SEC seconds (default 5)", "SEC" },
        { "input", 0, 0, G_OPTION_ARG_FILENAME, &o->input,
          "Read frames from a file instead (needs --format and --size)", "FILE" },
        { "generate", 0, 0, G_OPTION_ARG_FILENAME, &o->generate,
          "Write --frames pattern frames to FILE (for shmcam-host --file)",
          "FILE" },
        { "format", 0, 0, G_OPTION_ARG_STRING, &o->format,
          "Format of --input/--generate frames: YUYV, NV12, YU12, MJPG", "FMT" },
        { "size", 0, 0, G_OPTION_ARG_STRING, &o->size,
          "Size of --input/--generate frames", "WxH" },
        { "bytesperline", 0, 0, G_OPTION_ARG_INT, &o->bytesperline,
          "Line stride of raw --input/--generate frames, as the capture's "
          "format says (default: packed)", "N" },
        { "status", 0, 0, G_OPTION_ARG_NONE, &o->status,
          "Print the producer's state, format and consumers, and exit", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &o->version,
          "Print the version and exit", NULL },
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = g_option_context_new("- read frames from a shmcam region");
    gboolean ok;

    o->timeout = 5;
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "With --verify the last line is: verified N frames, B bad, O out of order\n"
        "Exit status: 0 when all frames are good (and as many as --frames), 1 on\n"
        "a bad frame, a timeout or an unreadable region, 2 on a bad command line.\n");
    ok = g_option_context_parse(ctx, argc, argv, errp);
    g_option_context_free(ctx);
    if (ok && *argc > 1) {
        g_set_error(errp, G_OPTION_ERROR, 0, "unexpected argument '%s'",
                    (*argv)[1]);
        ok = FALSE;
    }
    return ok ? 0 : -EINVAL;
}

static int shmcam_dump_check_opts(struct shmcam_dump *d, GError **errp)
{
    struct shmcam_dump_opts *o = &d->o;
    struct shmcam_fract iv = { 1, 30 };
    uint32_t fourcc, w, h;

    if (o->timeout <= 0 || o->frames < 0) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--timeout and --frames must be "
                    "positive");
        return -EINVAL;
    }
    if (!!o->shm + !!o->region + !!o->connect > 1) {
        g_set_error(errp, G_OPTION_ERROR, 0, "choose one region: --shm NAME, "
                    "--region PATH or --connect SOCKET");
        return -EINVAL;
    }
    if (!o->input && !o->generate) {
        if (!o->shm && !o->region && !o->connect) {
            o->shm = g_strdup("shmcam0");
        }
        return 0;
    }
    if (!o->format || !o->size) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--input and --generate need "
                    "--format and --size (e.g. --format YUYV --size 640x480)");
        return -EINVAL;
    }
    fourcc = shmcam_format_from_name(o->format);
    if (!fourcc) {
        g_set_error(errp, G_OPTION_ERROR, 0, "unknown format '%s' (use one of "
                    "%s)", o->format, shmcam_format_names());
        return -EINVAL;
    }
    if (shmcam_parse_size(o->size, &w, &h) ||
        shmcam_format_init(&d->fmt, fourcc, w, h, iv)) {
        g_set_error(errp, G_OPTION_ERROR, 0, "invalid size '%s' (use an even "
                    "WIDTHxHEIGHT from 16x16 to %ux%u)", o->size,
                    SHMCAM_MAX_WIDTH, SHMCAM_MAX_HEIGHT);
        return -EINVAL;
    }
    if (o->bytesperline) {
        struct shmcam_format f = d->fmt;

        shmcam_format_set_stride(&f, o->bytesperline);
        if (o->bytesperline < 0 || fourcc == SHMCAM_FMT_MJPEG ||
            !shmcam_frame_bound(&f) ||
            (fourcc == SHMCAM_FMT_YUV420 && (o->bytesperline & 1))) {
            g_set_error(errp, G_OPTION_ERROR, 0, "--bytesperline %d does not "
                        "fit %s %ux%u (at least the packed %u, even for YU12; "
                        "none for MJPG)", o->bytesperline, o->format, w, h,
                        d->fmt.bytesperline);
            return -EINVAL;
        }
        d->fmt = f;
    }
    return 0;
}

static int shmcam_dump_run(struct shmcam_dump *d)
{
    int ret;

    if (d->o.generate) {
        return shmcam_dump_generate(d);
    }
    if (d->o.status) {
        return shmcam_dump_status(d);
    }
    if (d->o.input) {
        ret = shmcam_dump_input(d);
        shmcam_dump_print(d);
    } else {
        ret = shmcam_dump_live(d);
    }
    if (!ret && (d->c.bad || d->c.out_of_order)) {
        ret = -EBADMSG;
    }
    if (!ret && d->o.frames > 0 && d->c.frames != (uint64_t)d->o.frames) {
        fprintf(stderr, "shmcam-dump: %llu frames, expected %lld\n",
                (unsigned long long)d->c.frames, (long long)d->o.frames);
        ret = -EBADMSG;
    }
    return ret;
}

static void shmcam_dump_free_opts(struct shmcam_dump_opts *o)
{
    g_free(o->shm);
    g_free(o->region);
    g_free(o->connect);
    g_free(o->out);
    g_free(o->input);
    g_free(o->generate);
    g_free(o->format);
    g_free(o->size);
}

int main(int argc, char **argv)
{
    struct shmcam_dump d = { .c.last_stamp = SHMCAM_PATTERN_NONE };
    GError *err = NULL;
    int ret, status;

    setvbuf(stdout, NULL, _IOLBF, 0);
    ret = shmcam_dump_parse(&d, &argc, &argv, &err) ?:
          shmcam_dump_check_opts(&d, &err);
    if (ret) {
        fprintf(stderr, "shmcam-dump: %s%s\n", err->message,
                strchr(err->message, '(') ? "" : " (see shmcam-dump --help)");
        g_error_free(err);
        status = SHMCAM_EXIT_USAGE;
    } else if (d.o.version) {
        printf("shmcam-dump %s (shmcam ABI %u.%u)\n", SHMCAM_VERSION,
               SHMCAM_ABI_MAJOR, SHMCAM_ABI_MINOR);
        status = SHMCAM_EXIT_OK;
    } else {
        status = shmcam_dump_run(&d) ? SHMCAM_EXIT_FAIL : SHMCAM_EXIT_OK;
    }
    if (d.pat_ready) {
        shmcam_pattern_fini(&d.pat);
    }
    shmcam_dump_free_opts(&d.o);
    return status;
}
