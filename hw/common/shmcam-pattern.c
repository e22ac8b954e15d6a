/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test pattern frames, cheap enough for 1080p60 on a small core: each
 * plane is precomputed once with every row stored twice, so that frame n,
 * scrolled right by 4n pixels and down by 2n rows, is one contiguous copy
 * per row.  MJPEG frames are a pre-encoded cycle of such frames; only
 * their stamp changes from one frame to the next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmcam-jpeg.h"
#include "shmcam-pattern.h"

#define SHMCAM_PATTERN_SHIFT    4u      /* pixels per frame, even */
#define SHMCAM_PATTERN_JPEG_STEP 37u    /* raw frames between cycle entries */

/* 75% colour bars (BT.601 limited range), white to black. */
static const uint8_t shmcam_bar_y[8] = { 180, 162, 131, 112, 84, 65, 35, 16 };
static const uint8_t shmcam_bar_u[8] = { 128, 44, 156, 72, 184, 100, 212, 128 };
static const uint8_t shmcam_bar_v[8] = { 128, 142, 44, 58, 198, 212, 114, 128 };

static void shmcam_pattern_pixel(uint32_t x, uint32_t y, uint32_t w,
                                 uint32_t h, uint8_t yuv[3])
{
    uint32_t bar = x * 8 / w;
    int luma = shmcam_bar_y[bar] + (int)(y * 32 / h) - 16;

    /* a checkerboard makes motion visible and JPEG sizes vary */
    luma += ((x / 16 + y / 16) & 1) ? 12 : -12;
    yuv[0] = luma < 16 ? 16 : luma > 235 ? 235 : luma;
    yuv[1] = shmcam_bar_u[bar];
    yuv[2] = shmcam_bar_v[bar];
}

static int shmcam_pattern_plane_alloc(struct shmcam_pattern_plane *p,
                                      uint32_t row_bytes, uint32_t rows,
                                      uint32_t shift_num, uint32_t shift_den,
                                      uint32_t row_step)
{
    p->row_bytes = row_bytes;
    p->rows = rows;
    p->shift_num = shift_num;
    p->shift_den = shift_den;
    p->row_step = row_step;
    p->wide = malloc((size_t)row_bytes * 2 * rows);
    return p->wide ? 0 : -ENOMEM;
}

/* Store one pixel value (component @c of (x, y)) in a plane's doubled row. */
static void shmcam_pattern_put(struct shmcam_pattern_plane *p, uint32_t row,
                               uint32_t off, uint8_t v)
{
    uint8_t *r = p->wide + (size_t)row * 2 * p->row_bytes;

    r[off] = v;
    r[off + p->row_bytes] = v;
}

static void shmcam_pattern_fill(struct shmcam_pattern *pat)
{
    uint32_t w = pat->fmt.width, h = pat->fmt.height, x, y;
    uint32_t fourcc = pat->fmt.pixelformat;
    uint8_t yuv[3];

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            shmcam_pattern_pixel(x, y, w, h, yuv);
            if (fourcc == SHMCAM_FMT_YUYV) {
                shmcam_pattern_put(&pat->plane[0], y, x * 2, yuv[0]);
                shmcam_pattern_put(&pat->plane[0], y, x * 2 + 1,
                                   yuv[(x & 1) ? 2 : 1]);
                continue;
            }
            shmcam_pattern_put(&pat->plane[0], y, x, yuv[0]);
            if ((x | y) & 1) {
                continue;
            }
            if (fourcc == SHMCAM_FMT_NV12) {
                shmcam_pattern_put(&pat->plane[1], y / 2, x, yuv[1]);
                shmcam_pattern_put(&pat->plane[1], y / 2, x + 1, yuv[2]);
            } else {
                shmcam_pattern_put(&pat->plane[1], y / 2, x / 2, yuv[1]);
                shmcam_pattern_put(&pat->plane[2], y / 2, x / 2, yuv[2]);
            }
        }
    }
}

/*
 * The planes of a raw format, each line @bpl bytes apart in the frame
 * (the chroma planes of YU12 half that): a camera's padded stride, or the
 * packed one when @bpl is 0.  The padding stays zero.
 */
static int shmcam_pattern_planes(struct shmcam_pattern *pat, uint32_t fourcc)
{
    uint32_t w = pat->fmt.width, h = pat->fmt.height;
    uint32_t packed = fourcc == SHMCAM_FMT_YUYV ? w * 2 : w;
    uint32_t bpl = pat->fmt.bytesperline ? pat->fmt.bytesperline : packed;
    int ret = 0;

    if (bpl < packed || (fourcc == SHMCAM_FMT_YUV420 && (bpl & 1))) {
        return -EINVAL;
    }

    switch (fourcc) {
    case SHMCAM_FMT_YUYV:
        pat->nplanes = 1;
        ret = shmcam_pattern_plane_alloc(&pat->plane[0], w * 2, h, 2, 1, 2);
        break;
    case SHMCAM_FMT_NV12:
        pat->nplanes = 2;
        ret = shmcam_pattern_plane_alloc(&pat->plane[0], w, h, 1, 1, 2) ?:
              shmcam_pattern_plane_alloc(&pat->plane[1], w, h / 2, 1, 1, 1);
        break;
    case SHMCAM_FMT_YUV420:
        pat->nplanes = 3;
        ret = shmcam_pattern_plane_alloc(&pat->plane[0], w, h, 1, 1, 2) ?:
              shmcam_pattern_plane_alloc(&pat->plane[1], w / 2, h / 2, 1, 2, 1) ?:
              shmcam_pattern_plane_alloc(&pat->plane[2], w / 2, h / 2, 1, 2, 1);
        break;
    default:
        return -EINVAL;
    }
    pat->plane[0].stride = bpl;
    pat->plane[1].stride = fourcc == SHMCAM_FMT_YUV420 ? bpl / 2 : bpl;
    pat->plane[2].stride = bpl / 2;
    pat->frame_size = (uint32_t)((uint64_t)bpl * h *
                                 (fourcc == SHMCAM_FMT_YUYV ? 2 : 3) / 2);
    return ret;
}

uint32_t shmcam_pattern_checksum(const uint8_t *buf, size_t len)
{
    uint64_t a = 1, b = 0, w;
    size_t i;

    /* Fletcher-style over 64-bit words: position matters, and it runs at
     * memory speed. */
    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, buf + i, 8);
        a += w;
        b += a;
    }
    for (; i < len; i++) {
        a += buf[i];
        b += a;
    }
    return (uint32_t)(a ^ (a >> 32) ^ (b * 31) ^ (b >> 29));
}

static void shmcam_pattern_compose(struct shmcam_pattern *pat, uint64_t n)
{
    uint8_t *dst = pat->frame;
    uint32_t i, y, shift_px = (n * SHMCAM_PATTERN_SHIFT) % pat->fmt.width;

    for (i = 0; i < pat->nplanes; i++) {
        const struct shmcam_pattern_plane *p = &pat->plane[i];
        uint32_t shift = shift_px * p->shift_num / p->shift_den;
        uint32_t first = (n * p->row_step) % p->rows;

        for (y = 0; y < p->rows; y++) {
            uint32_t src = (y + first) % p->rows;

            memcpy(dst, p->wide + (size_t)src * 2 * p->row_bytes +
                   (p->row_bytes - shift) % p->row_bytes, p->row_bytes);
            dst += p->stride;
        }
    }
}

static void shmcam_pattern_stamp(struct shmcam_pattern *pat, uint8_t *at,
                                 uint64_t n, uint32_t checksum,
                                 uint32_t jpeg_len, uint16_t index)
{
    struct shmcam_pattern_stamp s = {
        .magic = SHMCAM_PATTERN_MAGIC,
        .pixelformat = pat->fmt.pixelformat,
        .frame = n,
        .width = pat->fmt.width,
        .height = pat->fmt.height,
        .checksum = checksum,
        .jpeg_len = jpeg_len,
        .jpeg_index = index,
        .jpeg_cycle = jpeg_len ? SHMCAM_PATTERN_JPEG_CYCLE : 0,
    };

    memcpy(at, &s, sizeof(s));
}

static int shmcam_pattern_jpeg_cycle(struct shmcam_pattern *pat)
{
    struct shmcam_pattern yu12 = { 0 };
    struct shmcam_format f = pat->fmt;
    uint8_t com[SHMCAM_PATTERN_STAMP_SIZE] = { 0 };
    uint32_t i, w = f.width, h = f.height;
    int ret;

    f.pixelformat = SHMCAM_FMT_YUV420;
    ret = shmcam_pattern_init(&yu12, &f);
    for (i = 0; !ret && i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
        const uint8_t *raw;
        struct shmcam_jpeg_image img = { .width = w, .height = h };
        long len;

        shmcam_pattern_render(&yu12, i * SHMCAM_PATTERN_JPEG_STEP, &raw);
        img.plane[0] = raw;
        img.plane[1] = raw + (size_t)w * h;
        img.plane[2] = img.plane[1] + (size_t)w * h / 4;
        img.stride[0] = w;
        img.stride[1] = img.stride[2] = w / 2;
        pat->jpeg[i] = malloc(pat->fmt.sizeimage);
        if (!pat->jpeg[i]) {
            ret = -ENOMEM;
            break;
        }
        len = shmcam_jpeg_encode(&img, SHMCAM_PATTERN_JPEG_QUALITY, com,
                                 sizeof(com), pat->jpeg[i], pat->fmt.sizeimage);
        if (len < 0) {
            ret = len;
            break;
        }
        pat->jpeg_len[i] = len;
    }
    shmcam_pattern_fini(&yu12);
    return ret;
}

int shmcam_pattern_init(struct shmcam_pattern *pat,
                        const struct shmcam_format *fmt)
{
    int ret;

    memset(pat, 0, sizeof(*pat));
    pat->fmt = *fmt;
    if (fmt->width < SHMCAM_MIN_WIDTH || fmt->height < SHMCAM_MIN_HEIGHT ||
        fmt->width > SHMCAM_MAX_WIDTH || fmt->height > SHMCAM_MAX_HEIGHT ||
        (fmt->width | fmt->height) & 1) {
        return -EINVAL;
    }
    if (fmt->pixelformat == SHMCAM_FMT_MJPEG) {
        ret = shmcam_pattern_jpeg_cycle(pat);
    } else {
        ret = shmcam_pattern_planes(pat, fmt->pixelformat);
        if (!ret) {
            pat->frame = calloc(1, pat->frame_size);
            ret = pat->frame ? 0 : -ENOMEM;
        }
        if (!ret) {
            shmcam_pattern_fill(pat);
        }
    }
    if (ret) {
        shmcam_pattern_fini(pat);
    }
    return ret;
}

void shmcam_pattern_fini(struct shmcam_pattern *pat)
{
    uint32_t i;

    for (i = 0; i < 3; i++) {
        free(pat->plane[i].wide);
        pat->plane[i].wide = NULL;
    }
    for (i = 0; i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
        free(pat->jpeg[i]);
        pat->jpeg[i] = NULL;
    }
    free(pat->frame);
    pat->frame = NULL;
}

uint32_t shmcam_pattern_render(struct shmcam_pattern *pat, uint64_t n,
                               const uint8_t **data)
{
    const uint32_t stamp = SHMCAM_PATTERN_STAMP_SIZE;

    if (pat->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        uint32_t i = n % SHMCAM_PATTERN_JPEG_CYCLE, len = pat->jpeg_len[i];
        uint8_t *jpeg = pat->jpeg[i];
        uint32_t after = SHMCAM_PATTERN_JPEG_STAMP + stamp;

        shmcam_pattern_stamp(pat, jpeg + SHMCAM_PATTERN_JPEG_STAMP, n,
                             shmcam_pattern_checksum(jpeg + after, len - after),
                             len, i);
        *data = jpeg;
        return len;
    }
    shmcam_pattern_compose(pat, n);
    shmcam_pattern_stamp(pat, pat->frame, n,
                         shmcam_pattern_checksum(pat->frame + stamp,
                                                 pat->frame_size - stamp),
                         0, 0);
    *data = pat->frame;
    return pat->frame_size;
}

static int shmcam_pattern_read_stamp(struct shmcam_pattern *pat,
                                     const uint8_t *buf, uint32_t len,
                                     struct shmcam_pattern_stamp *s,
                                     char *why, size_t why_len)
{
    uint32_t at = 0;
    char got[5], want[5];

    if (pat->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        static const uint8_t head[6] = { 0xff, 0xd8, 0xff, 0xfe, 0, 34 };

        if (len < SHMCAM_PATTERN_JPEG_STAMP + SHMCAM_PATTERN_STAMP_SIZE ||
            memcmp(buf, head, sizeof(head))) {
            snprintf(why, why_len, "no JPEG with a stamp comment");
            return -EBADMSG;
        }
        at = SHMCAM_PATTERN_JPEG_STAMP;
    } else if (len < SHMCAM_PATTERN_STAMP_SIZE) {
        snprintf(why, why_len, "frame of %u bytes has no stamp", len);
        return -EBADMSG;
    }
    memcpy(s, buf + at, sizeof(*s));
    if (s->magic != SHMCAM_PATTERN_MAGIC) {
        snprintf(why, why_len, "no pattern stamp");
        return -EBADMSG;
    }
    if (s->pixelformat != pat->fmt.pixelformat || s->width != pat->fmt.width ||
        s->height != pat->fmt.height) {
        memcpy(got, &s->pixelformat, 4);
        memcpy(want, &pat->fmt.pixelformat, 4);
        got[4] = want[4] = '\0';
        snprintf(why, why_len, "frame %llu is %ux%u %s, expected %ux%u %s",
                 (unsigned long long)s->frame, s->width, s->height, got,
                 pat->fmt.width, pat->fmt.height, want);
        return -EBADMSG;
    }
    return 0;
}

int shmcam_pattern_verify(struct shmcam_pattern *pat, const uint8_t *buf,
                          uint32_t len, uint64_t *frame, char *why,
                          size_t why_len)
{
    struct shmcam_pattern_stamp s;
    const uint8_t *want;
    uint32_t want_len, i;

    *frame = SHMCAM_PATTERN_NONE;
    if (shmcam_pattern_read_stamp(pat, buf, len, &s, why, why_len)) {
        return -EBADMSG;
    }
    *frame = s.frame;
    want_len = shmcam_pattern_render(pat, s.frame, &want);
    if (len != want_len) {
        snprintf(why, why_len, "frame %llu has %u bytes, expected %u",
                 (unsigned long long)s.frame, len, want_len);
        return -EBADMSG;
    }
    if (memcmp(buf, want, len)) {
        for (i = 0; i < len && buf[i] == want[i]; i++) {
        }
        snprintf(why, why_len, "frame %llu differs at byte %u (torn or corrupt)",
                 (unsigned long long)s.frame, i);
        return -EBADMSG;
    }
    return 0;
}
