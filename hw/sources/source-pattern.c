/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test pattern source (--pattern): frames of shmcam-pattern.c, paced
 * by shmcam-host at the configured rate, and drawn where shmcam-host says:
 * into a slot, or into the pattern's own buffer for a frame to be copied
 * into several regions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmcam-format.h"
#include "shmcam-pattern.h"
#include "shmcam-source.h"

struct shmcam_pattern_source {
    struct shmcam_source base;
    struct shmcam_pattern pat;
    struct shmcam_format fmt;
    uint32_t align;
    uint64_t n;
    /* the controls' values, kept from one start to the next */
    int32_t ctrl[SHMCAM_PATTERN_NCTRLS];
};

static const uint32_t shmcam_pattern_fourccs[] = {
    SHMCAM_FMT_YUYV, SHMCAM_FMT_NV12, SHMCAM_FMT_YUV420, SHMCAM_FMT_MJPEG,
};

uint32_t shmcam_source_common_caps(const struct shmcam_format *cur,
                                   const uint32_t *fourccs, uint32_t nfourcc,
                                   bool other_sizes, uint32_t align,
                                   uint32_t slot_size, struct shmcam_cap *caps,
                                   struct shmcam_cap_size *sizes)
{
    static const uint32_t dims[][2] = { { 640, 480 }, { 1280, 720 },
                                        { 1920, 1080 } };
    static const struct shmcam_fract rates[] = { { 1, 60 }, { 1, 30 },
                                                 { 1, 15 } };
    uint32_t n = 0, f, z, r, i;

    for (z = 0; z <= (other_sizes ? 3u : 0u); z++) {
        uint32_t w = z ? dims[z - 1][0] : cur->width;
        uint32_t h = z ? dims[z - 1][1] : cur->height;

        if (z && w == cur->width && h == cur->height) {
            continue;
        }
        for (f = 0; f <= nfourcc && n < SHMCAM_MAX_CAPS; f++) {
            uint32_t fourcc = f ? fourccs[f - 1] : cur->pixelformat;
            struct shmcam_format fmt;
            struct shmcam_cap *c = &caps[n];
            bool dup = false;

            for (i = 0; i < n; i++) {
                dup |= caps[i].pixelformat == fourcc && caps[i].width == w &&
                       caps[i].height == h;
            }
            if (dup || shmcam_format_init(&fmt, fourcc, w, h, cur->interval)) {
                continue;
            }
            shmcam_format_align(&fmt, align);
            if (shmcam_format_slot_size(&fmt) > slot_size) {
                continue;
            }
            sizes[n].bytesperline = fmt.bytesperline;
            sizes[n].sizeimage = fmt.sizeimage;
            memset(c, 0, sizeof(*c));
            c->pixelformat = fourcc;
            c->width = w;
            c->height = h;
            shmcam_cap_add_interval(c, cur->interval.numerator,
                                    cur->interval.denominator);
            for (r = 0; r < 3 && other_sizes; r++) {
                shmcam_cap_add_interval(c, rates[r].numerator,
                                        rates[r].denominator);
            }
            n++;
        }
    }
    return n;
}

static int shmcam_pattern_source_start(struct shmcam_source *s,
                                       struct shmcam_format *fmt,
                                       GError **errp)
{
    struct shmcam_pattern_source *ps = (struct shmcam_pattern_source *)s;
    int ret;

    shmcam_pattern_fini(&ps->pat);
    shmcam_format_align(fmt, ps->align);
    ret = shmcam_pattern_init(&ps->pat, fmt) ?:
          shmcam_pattern_set_ctrls(&ps->pat, ps->ctrl);
    if (ret) {
        shmcam_pattern_fini(&ps->pat);
        char desc[64];

        shmcam_format_str(fmt, desc, sizeof(desc));
        g_set_error(errp, G_FILE_ERROR, 0, "cannot make a %s test pattern: %s",
                    desc, g_strerror(-ret));
        return ret;
    }
    ps->fmt = *fmt;
    return 0;
}

static uint32_t shmcam_pattern_source_caps(struct shmcam_source *s,
                                           uint32_t slot_size,
                                           struct shmcam_cap *caps,
                                           struct shmcam_cap_size *sizes)
{
    struct shmcam_pattern_source *ps = (struct shmcam_pattern_source *)s;

    return shmcam_source_common_caps(&ps->fmt, shmcam_pattern_fourccs,
                                     G_N_ELEMENTS(shmcam_pattern_fourccs),
                                     true, ps->align, slot_size, caps, sizes);
}

/* The frame's length only: it is drawn by draw(), where it goes. */
static int shmcam_pattern_source_next(struct shmcam_source *s,
                                      struct shmcam_source_frame *f)
{
    struct shmcam_pattern_source *ps = (struct shmcam_pattern_source *)s;

    f->len = shmcam_pattern_length(&ps->pat, ps->n);
    f->data = NULL;
    f->flags = SHMCAM_SLOT_KEYFRAME;
    return 0;
}

static const void *shmcam_pattern_source_draw(struct shmcam_source *s,
                                              void *dst, uint32_t size)
{
    struct shmcam_pattern_source *ps = (struct shmcam_pattern_source *)s;
    const uint8_t *data;

    if (dst) {
        return shmcam_pattern_render_into(&ps->pat, ps->n, dst, size) ? dst
                                                                      : NULL;
    }
    return shmcam_pattern_render(&ps->pat, ps->n, &data) ? data : NULL;
}

static void shmcam_pattern_source_ctrls(struct shmcam_source *s,
                                        struct shmcam_ctrl_table *t)
{
    struct shmcam_pattern_source *ps = (struct shmcam_pattern_source *)s;
    uint32_t i;

    for (i = 0; i < SHMCAM_PATTERN_NCTRLS; i++) {
        const struct shmcam_pattern_ctrl_info *info =
            &shmcam_pattern_ctrl_info[i];
        struct shmcam_ctrl *c = &t->ctrls[i];

        memset(c, 0, sizeof(*c));
        c->id = info->id;
        c->type = SHMCAM_CTRL_INTEGER;
        c->flags = SHMCAM_CTRL_FLAG_SLIDER;
        g_strlcpy(c->name, info->name, sizeof(c->name));
        c->minimum = (int64_t)info->minimum;
        c->maximum = (int64_t)info->maximum;
        c->step = 1;
        c->default_value = (int64_t)info->default_value;
        c->value = (int64_t)ps->ctrl[i];
    }
    t->num_ctrls = SHMCAM_PATTERN_NCTRLS;
    t->num_menu = 0;
}

/* Frames from the next on are drawn with the new value. */
static int shmcam_pattern_source_set_ctrl(struct shmcam_source *s, uint32_t id,
                                          int64_t value, int64_t *applied)
{
    struct shmcam_pattern_source *ps = (struct shmcam_pattern_source *)s;
    int32_t v[SHMCAM_PATTERN_NCTRLS];
    uint32_t i;
    int ret = 0;

    for (i = 0; i < SHMCAM_PATTERN_NCTRLS &&
                shmcam_pattern_ctrl_info[i].id != id; i++) {
    }
    if (i == SHMCAM_PATTERN_NCTRLS ||
        value < shmcam_pattern_ctrl_info[i].minimum ||
        value > shmcam_pattern_ctrl_info[i].maximum) {
        return EINVAL;
    }
    memcpy(v, ps->ctrl, sizeof(v));
    v[i] = (int32_t)value;
    /* not started: the values are kept for start() */
    if (ps->pat.plane[0].wide) {
        ret = -shmcam_pattern_set_ctrls(&ps->pat, v);
    }
    if (!ret) {
        memcpy(ps->ctrl, v, sizeof(v));
    }
    *applied = ps->ctrl[i];
    return ret;
}

/*
 * The pattern's frame number must be the frame counter the producer
 * publishes it under, so that readers can match the two: shmcam-host keeps
 * them in step through this hook.
 */
static void shmcam_pattern_source_release(struct shmcam_source *s)
{
    ((struct shmcam_pattern_source *)s)->n++;
}

static void shmcam_pattern_source_stop(struct shmcam_source *s)
{
    shmcam_pattern_fini(&((struct shmcam_pattern_source *)s)->pat);
}

static void shmcam_pattern_source_free(struct shmcam_source *s)
{
    shmcam_pattern_source_stop(s);
    g_free(s);
}

static const struct shmcam_source_ops shmcam_pattern_source_ops = {
    .start = shmcam_pattern_source_start,
    .caps = shmcam_pattern_source_caps,
    .next = shmcam_pattern_source_next,
    .draw = shmcam_pattern_source_draw,
    .ctrls = shmcam_pattern_source_ctrls,
    .set_ctrl = shmcam_pattern_source_set_ctrl,
    .release = shmcam_pattern_source_release,
    .stop = shmcam_pattern_source_stop,
    .free = shmcam_pattern_source_free,
};

struct shmcam_source *shmcam_pattern_source_new(uint32_t align)
{
    struct shmcam_pattern_source *ps = g_new0(struct shmcam_pattern_source, 1);

    ps->align = align;
    shmcam_pattern_default_ctrls(ps->ctrl);
    ps->base.ops = &shmcam_pattern_source_ops;
    ps->base.card = "shmcam test pattern";
    ps->base.fd = -1;
    return &ps->base;
}
