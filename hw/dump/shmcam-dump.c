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
    bool writable;              /* --set-ctrl: we claim a consumer area */
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

            ret = shmcam_dump_open_ivshmem(&l->region, d->o.connect,
                                           l->writable, &l->sock, &id);
            /* Nobody listens yet: wait for the server, as for a region. */
            if (ret && ret != -ENOENT && ret != -ECONNREFUSED) {
                return ret == -ETIMEDOUT ? -ETIME : ret;
            }
        } else if (!l->region.base) {
            ret = d->o.region ?
                  shmcam_region_open_path(&l->region, d->o.region,
                                          l->writable) :
                  shmcam_region_open_shm(&l->region, d->o.shm, l->writable);
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

/* A control's name as v4l2-ctl prints it: "White Balance" white_balance. */
static void shmcam_dump_ctrl_key(const char *name, char *key, size_t len)
{
    size_t n = 0;
    bool gap = false;

    for (; *name && n + 1 < len; name++) {
        if (g_ascii_isalnum(*name)) {
            if (gap && n) {
                key[n++] = '_';
                if (n + 1 >= len) {
                    break;
                }
            }
            key[n++] = g_ascii_tolower(*name);
            gap = false;
        } else {
            gap = true;
        }
    }
    key[n] = 0;
}

static const char *shmcam_dump_ctrl_type(uint32_t type)
{
    switch (type) {
    case SHMCAM_CTRL_INTEGER:
        return "int";
    case SHMCAM_CTRL_BOOLEAN:
        return "bool";
    case SHMCAM_CTRL_MENU:
        return "menu";
    case SHMCAM_CTRL_BUTTON:
        return "button";
    case SHMCAM_CTRL_INTEGER64:
        return "int64";
    case SHMCAM_CTRL_INTEGER_MENU:
        return "intmenu";
    default:
        return "unknown";
    }
}

static void shmcam_dump_ctrl_flags(uint32_t flags, char *buf, size_t len)
{
    static const struct {
        uint32_t flag;
        const char *name;
    } names[] = {
        { SHMCAM_CTRL_FLAG_READ_ONLY, "read-only" },
        { SHMCAM_CTRL_FLAG_INACTIVE, "inactive" },
        { SHMCAM_CTRL_FLAG_SLIDER, "slider" },
        { SHMCAM_CTRL_FLAG_WRITE_ONLY, "write-only" },
        { SHMCAM_CTRL_FLAG_VOLATILE, "volatile" },
    };
    size_t i;

    buf[0] = 0;
    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        if (flags & names[i].flag) {
            g_strlcat(buf, buf[0] ? "," : " flags=", len);
            g_strlcat(buf, names[i].name, len);
        }
    }
}

/*
 * The region's control table, copied under its lock (retried while the
 * producer rewrites it) and checked: 0, -ENOENT for none, -EINVAL.
 */
static int shmcam_dump_ctrls_copy(struct shmcam_dump_live *l,
                                  struct shmcam_ctrl_table *t)
{
    int ret, tries;

    for (tries = 0; tries < 1000; tries++) {
        ret = shmcam_ctrls_read(l->region.base, &l->layout, t);
        if (ret != -ESTALE) {
            return ret;
        }
        g_usleep(1000);
    }
    return ret;
}

static void shmcam_dump_ctrl_print(const struct shmcam_ctrl_table *t,
                                   const struct shmcam_ctrl *c)
{
    char key[SHMCAM_CTRL_NAME_LEN * 2], flags[80];
    uint32_t k;

    shmcam_dump_ctrl_key(c->name, key, sizeof(key));
    shmcam_dump_ctrl_flags(c->flags, flags, sizeof(flags));
    printf("%31s %#010x (%s)%*s:", key, c->id, shmcam_dump_ctrl_type(c->type),
           (int)(8 - strlen(shmcam_dump_ctrl_type(c->type))), "");
    if (c->type == SHMCAM_CTRL_BUTTON) {
        printf("%s\n", flags[0] ? flags : "");
        return;
    }
    if (c->type == SHMCAM_CTRL_BOOLEAN) {
        printf(" default=%lld value=%lld%s\n", (long long)c->default_value,
               (long long)c->value, flags);
        return;
    }
    printf(" min=%lld max=%lld", (long long)c->minimum,
           (long long)c->maximum);
    if (c->type != SHMCAM_CTRL_MENU && c->type != SHMCAM_CTRL_INTEGER_MENU) {
        printf(" step=%llu", (unsigned long long)c->step);
    }
    printf(" default=%lld value=%lld%s\n", (long long)c->default_value,
           (long long)c->value, flags);
    if (c->type != SHMCAM_CTRL_MENU && c->type != SHMCAM_CTRL_INTEGER_MENU) {
        return;
    }
    for (k = c->menu_first; k < (uint32_t)c->menu_first + c->menu_count; k++) {
        const struct shmcam_ctrl_menu *e = &t->menu[k];

        if (c->type == SHMCAM_CTRL_MENU) {
            printf("\t\t\t\t%u: %s\n", e->index, e->name);
        } else {
            printf("\t\t\t\t%u: %lld (0x%llx)\n", e->index,
                   (long long)e->value, (unsigned long long)e->value);
        }
    }
}

/* The control @arg (an id or a name, as printed or as published) names. */
static const struct shmcam_ctrl *
shmcam_dump_ctrl_find(const struct shmcam_ctrl_table *t, const char *arg)
{
    char key[SHMCAM_CTRL_NAME_LEN * 2], *end;
    unsigned long long id;
    uint32_t i;

    errno = 0;
    id = strtoull(arg, &end, 0);
    for (i = 0; i < t->num_ctrls; i++) {
        const struct shmcam_ctrl *c = &t->ctrls[i];

        shmcam_dump_ctrl_key(c->name, key, sizeof(key));
        if ((!errno && end != arg && !*end && id == c->id) ||
            !strcmp(arg, key) || !g_ascii_strcasecmp(arg, c->name)) {
            return c;
        }
    }
    return NULL;
}

/*
 * One --set-ctrl request from consumer area @area: written, the answer
 * waited for a second.  Prints NAME: VALUE or the error; returns 0 or -1.
 */
static int shmcam_dump_set_one(struct shmcam_dump_live *l,
                               const struct shmcam_ctrl_table *t,
                               uint32_t area, uint32_t *serial,
                               const char *arg)
{
    struct shmcam_consumer *c = (void *)((uint8_t *)l->region.base +
                                         SHMCAM_CONSUMER_OFFSET);
    g_autofree char *name = g_strdup(arg);
    char *eq = strchr(name, '='), *end;
    const struct shmcam_ctrl *ctrl;
    long long value;
    uint64_t deadline;
    uint32_t error;
    shmcam_u64 got;

    if (!eq) {
        fprintf(stderr, "shmcam-dump: --set-ctrl %s: not ID_OR_NAME=VALUE\n",
                arg);
        return -1;
    }
    *eq = 0;
    errno = 0;
    value = strtoll(eq + 1, &end, 0);
    if (errno || end == eq + 1 || *end) {
        fprintf(stderr, "shmcam-dump: --set-ctrl %s: '%s' is not a number\n",
                arg, eq + 1);
        return -1;
    }
    ctrl = shmcam_dump_ctrl_find(t, name);
    if (!ctrl) {
        /* the producer decides: a number it may know better than we */
        unsigned long long id = strtoull(name, &end, 0);

        if (end == name || *end || !id || id > UINT32_MAX) {
            fprintf(stderr, "shmcam-dump: no control %s in %s\n", name,
                    l->region.path);
            return -1;
        }
        c[area].ctrl_id = (uint32_t)id;
    } else {
        c[area].ctrl_id = ctrl->id;
    }
    c[area].ctrl_value = (uint64_t)value;
    if (!++*serial) {
        ++*serial;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&c[area].ctrl_serial, *serial, __ATOMIC_RELAXED);
    deadline = shmcam_dump_now() + NSEC_PER_SEC;
    while (shmcam_ctrl_answer_read(l->region.base, &l->layout, area, *serial,
                                   &error, &got)) {
        if (shmcam_dump_now() > deadline) {
            fprintf(stderr, "shmcam-dump: %s: no answer in 1 s (is "
                    "shmcam-host running?)\n", ctrl ? ctrl->name : name);
            return -1;
        }
        /* our own heartbeat, so that the area stays ours */
        __atomic_add_fetch(&c[area].heartbeat, 1, __ATOMIC_RELAXED);
        g_usleep(1000);
    }
    if (error) {
        fprintf(stderr, "shmcam-dump: %s: %s\n", ctrl ? ctrl->name : name,
                g_strerror(error));
        return -1;
    }
    printf("%s: %lld\n", ctrl ? ctrl->name : name, (long long)got);
    return 0;
}

/*
 * --controls and --set-ctrl: the table printed as v4l2-ctl -L prints a
 * device's controls; requests sent from a consumer area we claim, one
 * at a time.  Returns 0, or -1 when a request failed (each said).
 */
static int shmcam_dump_ctrls(struct shmcam_dump *d)
{
    struct shmcam_dump_live l = { .region = SHMCAM_REGION_INIT, .sock = -1,
                                  .writable = d->o.set_ctrl != NULL };
    struct shmcam_ctrl_table *t = g_new0(struct shmcam_ctrl_table, 1);
    struct shmcam_consumer *c;
    uint64_t token = g_random_int() | ((uint64_t)g_random_int() << 32) | 1;
    uint32_t area, serial, i;
    int ret;

    shmcam_dump_touch(d, &l);
    ret = shmcam_dump_layout(d, &l);
    if (!ret) {
        ret = shmcam_dump_ctrls_copy(&l, t);
        if (ret == -ENOENT) {
            fprintf(stderr, "shmcam-dump: %s has no controls (its producer "
                    "publishes none, or the region has no room for them)\n",
                    l.region.path);
        } else if (ret) {
            fprintf(stderr, "shmcam-dump: the control table of %s is "
                    "inconsistent\n", l.region.path);
        }
    }
    for (i = 0; !ret && d->o.controls && i < t->num_ctrls; i++) {
        shmcam_dump_ctrl_print(t, &t->ctrls[i]);
    }
    if (ret || !d->o.set_ctrl) {
        goto out;
    }
    c = (void *)((uint8_t *)l.region.base + SHMCAM_CONSUMER_OFFSET);
    for (area = 0; area < SHMCAM_MAX_CONSUMERS; area++) {
        uint64_t none = 0;

        if (__atomic_compare_exchange_n(&c[area].owner, &none, token, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
            break;
        }
    }
    if (area == SHMCAM_MAX_CONSUMERS) {
        fprintf(stderr, "shmcam-dump: every consumer area of %s is taken\n",
                l.region.path);
        ret = -EBUSY;
        goto out;
    }
    /* a serial the producer has not seen from this area */
    serial = __atomic_load_n(&c[area].ctrl_serial, __ATOMIC_RELAXED);
    for (i = 0; d->o.set_ctrl[i]; i++) {
        if (shmcam_dump_set_one(&l, t, area, &serial, d->o.set_ctrl[i])) {
            ret = -EIO;
        }
    }
    __atomic_compare_exchange_n(&c[area].owner, &token, 0, false,
                                __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
out:
    g_free(t);
    shmcam_dump_detach(&l);
    return ret;
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
        { "controls", 0, 0, G_OPTION_ARG_NONE, &o->controls,
          "Print the controls the producer publishes, as v4l2-ctl -L does, "
          "and exit", NULL },
        { "set-ctrl", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->set_ctrl,
          "Ask the producer to set a control, from a consumer area of our "
          "own (repeatable); prints NAME: VALUE kept, or the error",
          "ID_OR_NAME=VALUE" },
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
        "a bad frame, a timeout or an unreadable region, 2 on a bad command line.\n"
        "With --controls or --set-ctrl: 0 when every request was applied, 1 when\n"
        "one was refused or not answered within 1 s, or the region has no\n"
        "controls, 2 on a bad command line.\n");
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
    if (d->o.controls || d->o.set_ctrl) {
        return shmcam_dump_ctrls(d);
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
    g_strfreev(o->set_ctrl);
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
