/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test pattern frames, cheap enough for 1080p60 on a small core: each
 * plane is precomputed once, as the few distinct lines it has, each stored
 * twice over, so that frame n, scrolled right by 4n pixels and down by 2n
 * rows, is one contiguous copy per row.  MJPEG frames are a cycle of
 * such frames, in planar 4:2:2 as a camera's YUYV, each encoded by
 * libjpeg-turbo the first time it is needed and kept; only their stamp
 * changes from one frame to the next.
 *
 * A frame is drawn wherever the caller says, a slot of a region too: the
 * stamp's checksum is taken in the same pass, from the lines copied, and
 * nothing is read back from where the frame goes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include <linux/v4l2-controls.h>

#include "shmcam-jpeg.h"
#include "shmcam-pattern.h"

#define SHMCAM_PATTERN_SHIFT    4u      /* pixels per frame, even */
/* The planes MJPEG frames are encoded from; not a format of the pattern. */
#define SHMCAM_PATTERN_422P     SHMCAM_FOURCC('4', '2', '2', 'P')
/* MJPEG frames of up to this many pixels have their cycle made at init. */
#define SHMCAM_PATTERN_JPEG_EAGER (256u * 256u)

/* 75% colour bars (BT.601 limited range), white to black. */
static const uint8_t shmcam_bar_y[8] = { 180, 162, 131, 112, 84, 65, 35, 16 };
static const uint8_t shmcam_bar_u[8] = { 128, 44, 156, 72, 184, 100, 212, 128 };
static const uint8_t shmcam_bar_v[8] = { 128, 142, 44, 58, 198, 212, 114, 128 };

const struct shmcam_pattern_ctrl_info
    shmcam_pattern_ctrl_info[SHMCAM_PATTERN_NCTRLS] = {
    [SHMCAM_PATTERN_BRIGHTNESS] = { V4L2_CID_BRIGHTNESS, "Brightness",
                                    "brightness", 0, 255, 128 },
    [SHMCAM_PATTERN_CONTRAST] = { V4L2_CID_CONTRAST, "Contrast", "contrast",
                                  0, 255, 128 },
    [SHMCAM_PATTERN_SATURATION] = { V4L2_CID_SATURATION, "Saturation",
                                    "saturation", 0, 255, 128 },
    [SHMCAM_PATTERN_HUE] = { V4L2_CID_HUE, "Hue", "hue", -128, 127, 0 },
};

void shmcam_pattern_default_ctrls(int32_t *v)
{
    uint32_t i;

    for (i = 0; i < SHMCAM_PATTERN_NCTRLS; i++) {
        v[i] = shmcam_pattern_ctrl_info[i].default_value;
    }
}

int shmcam_pattern_ctrl_find(const char *key)
{
    int i;

    for (i = 0; i < SHMCAM_PATTERN_NCTRLS; i++) {
        if (!strcasecmp(key, shmcam_pattern_ctrl_info[i].key) ||
            !strcasecmp(key, shmcam_pattern_ctrl_info[i].name)) {
            return i;
        }
    }
    return -1;
}

/* Are the controls all at their defaults?  Else the stamp says them. */
static bool shmcam_pattern_ctrls_default(const int32_t *v)
{
    uint32_t i;

    for (i = 0; i < SHMCAM_PATTERN_NCTRLS; i++) {
        if (v[i] != shmcam_pattern_ctrl_info[i].default_value) {
            return false;
        }
    }
    return true;
}

/* Bytes of control values after the stamp: 0 at the defaults. */
static uint32_t shmcam_pattern_ext(const struct shmcam_pattern *pat)
{
    return shmcam_pattern_ctrls_default(pat->ctrl) ? 0
                                                   : SHMCAM_PATTERN_CTRLS_SIZE;
}

static uint8_t shmcam_pattern_clamp(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* Luma @y with brightness and contrast: the same @y at their defaults. */
static uint8_t shmcam_pattern_adjust_luma(const struct shmcam_pattern *pat,
                                          uint8_t y)
{
    int c = pat->ctrl[SHMCAM_PATTERN_CONTRAST];
    int b = pat->ctrl[SHMCAM_PATTERN_BRIGHTNESS] - 128;

    return shmcam_pattern_clamp(((int)y - 128) * c / 128 + 128 + b);
}

/*
 * sin(t * pi / 128) times 1024, for t of 0..128, by Bhaskara's
 * approximation (within 0.2%): exact at 0, 64 and 128, so that a hue of
 * 0 rotates nothing.  No libm needed.
 */
static int shmcam_pattern_sin(int t)
{
    int sign = 1, q;

    t &= 255;
    if (t > 128) {
        t -= 128;
        sign = -1;
    }
    q = t * (128 - t);
    return sign * 4096 * q / (20480 - q);
}

/* The bars' chroma with saturation and hue: the tables at their defaults. */
static void shmcam_pattern_chroma(const struct shmcam_pattern *pat,
                                  uint8_t *u, uint8_t *v)
{
    int sat = pat->ctrl[SHMCAM_PATTERN_SATURATION];
    int hue = pat->ctrl[SHMCAM_PATTERN_HUE];
    int sn = shmcam_pattern_sin(hue), cs = shmcam_pattern_sin(hue + 64);
    uint32_t i;

    for (i = 0; i < 8; i++) {
        int du = shmcam_bar_u[i] - 128, dv = shmcam_bar_v[i] - 128;

        u[i] = shmcam_pattern_clamp(128 + (du * cs - dv * sn) * sat /
                                    (1024 * 128));
        v[i] = shmcam_pattern_clamp(128 + (du * sn + dv * cs) * sat /
                                    (1024 * 128));
    }
}

/*
 * The lines of the image differ only by the step of the vertical ramp
 * and the row of checkerboard squares they are in: of these kinds of line
 * there are 64 at most, and each is stored once.
 */
#define SHMCAM_PATTERN_KINDS    64u

static uint32_t shmcam_pattern_kind(uint32_t y, uint32_t h)
{
    return (y * 32 / h) * 2 + ((y / 16) & 1);
}

/* Which bar column @x of @w is in. */
static uint32_t shmcam_pattern_bar(uint32_t x, uint32_t w)
{
    return x * 8 / w;
}

/* The luma of pixel @x, in bar @bar, of a line of kind @kind. */
static uint8_t shmcam_pattern_luma(uint32_t x, uint32_t bar, uint32_t kind)
{
    int luma = shmcam_bar_y[bar] + (int)(kind / 2) - 16;

    /* a checkerboard makes motion visible and JPEG sizes vary */
    luma += (((x / 16) ^ kind) & 1) ? 12 : -12;
    return luma < 16 ? 16 : luma > 235 ? 235 : luma;
}

/*
 * A frame's buffer: megabytes, written whole every frame (padding too).
 * In huge pages where the kernel gives them on request (transparent huge
 * pages in madvise mode), the first frame faults once per 2 MiB instead
 * of per 4 KiB: at 4K, most of a start-up otherwise.
 */
#define SHMCAM_PATTERN_HUGE     (2u << 20)

static uint8_t *shmcam_pattern_frame_alloc(size_t size)
{
    size_t room = (size + SHMCAM_PATTERN_HUGE - 1) &
                  ~(size_t)(SHMCAM_PATTERN_HUGE - 1);
    void *p;

    if (size < SHMCAM_PATTERN_HUGE / 2) {
        return malloc(size);
    }
    if (posix_memalign(&p, SHMCAM_PATTERN_HUGE, room)) {
        return NULL;
    }
    /* only advice: without it, the same memory in small pages */
    madvise(p, room, MADV_HUGEPAGE);
    return p;
}

static int shmcam_pattern_plane_alloc(struct shmcam_pattern_plane *p,
                                      uint32_t row_bytes, uint32_t rows,
                                      uint32_t distinct, uint32_t shift_num,
                                      uint32_t shift_den, uint32_t row_step)
{
    p->row_bytes = row_bytes;
    p->rows = rows;
    p->shift_num = shift_num;
    p->shift_den = shift_den;
    p->row_step = row_step;
    p->wide = malloc((size_t)row_bytes * 2 * distinct);
    return p->wide ? 0 : -ENOMEM;
}

/* Distinct line @i of plane @p: write it from the start, then double it. */
static uint8_t *shmcam_pattern_row(struct shmcam_pattern_plane *p, uint32_t i)
{
    return p->wide + (size_t)i * 2 * p->row_bytes;
}

static void shmcam_pattern_double(struct shmcam_pattern_plane *p, uint32_t i)
{
    uint8_t *r = shmcam_pattern_row(p, i);

    memcpy(r + p->row_bytes, r, p->row_bytes);
}

/*
 * Draw the planes, in their layout: the luma plane (YUYV's only one) has
 * a line of each kind the image has, the chroma planes one line, for
 * chroma varies across the bars only.  The chroma of a subsampled plane
 * is that of the even pixels.
 */
static int shmcam_pattern_fill(struct shmcam_pattern *pat)
{
    uint32_t w = pat->fmt.width, h = pat->fmt.height, x, y, k, n = 0;
    struct shmcam_pattern_plane *p = pat->plane;
    uint8_t line_of[SHMCAM_PATTERN_KINDS], *bar = malloc(w), *r;
    uint8_t bar_u[8], bar_v[8];

    if (!bar) {
        return -ENOMEM;
    }
    shmcam_pattern_chroma(pat, bar_u, bar_v);
    for (x = 0; x < w; x++) {
        bar[x] = shmcam_pattern_bar(x, w);
    }
    memset(line_of, 0xff, sizeof(line_of));
    for (y = 0; y < h; y++) {
        k = shmcam_pattern_kind(y, h);
        if (line_of[k] == 0xff) {
            line_of[k] = n;
            r = shmcam_pattern_row(&p[0], n);
            for (x = 0; x < w; x++) {
                uint8_t luma = shmcam_pattern_adjust_luma(
                    pat, shmcam_pattern_luma(x, bar[x], k));

                if (pat->layout != SHMCAM_FMT_YUYV) {
                    r[x] = luma;
                    continue;
                }
                r[x * 2] = luma;
                r[x * 2 + 1] = (x & 1) ? bar_v[bar[x]] : bar_u[bar[x]];
            }
            shmcam_pattern_double(&p[0], n++);
        }
        p[0].line[y] = line_of[k];
    }
    for (x = 0; pat->nplanes > 1 && x < w; x += 2) {
        if (pat->layout == SHMCAM_FMT_NV12) {
            shmcam_pattern_row(&p[1], 0)[x] = bar_u[bar[x]];
            shmcam_pattern_row(&p[1], 0)[x + 1] = bar_v[bar[x]];
        } else {
            shmcam_pattern_row(&p[1], 0)[x / 2] = bar_u[bar[x]];
            shmcam_pattern_row(&p[2], 0)[x / 2] = bar_v[bar[x]];
        }
    }
    for (x = 1; x < pat->nplanes; x++) {
        shmcam_pattern_double(&p[x], 0);
    }
    free(bar);
    return 0;
}

/*
 * The planes of layout @fourcc, each line @bpl bytes apart in the frame
 * (the chroma planes of YU12 and 4:2:2 half that): a camera's padded
 * stride, or the packed one when @bpl is 0.  The padding stays zero.
 */
static int shmcam_pattern_planes(struct shmcam_pattern *pat, uint32_t fourcc,
                                 uint32_t bpl)
{
    uint32_t w = pat->fmt.width, h = pat->fmt.height;
    uint32_t packed = fourcc == SHMCAM_FMT_YUYV ? w * 2 : w;
    uint32_t kinds = h < SHMCAM_PATTERN_KINDS ? h : SHMCAM_PATTERN_KINDS;
    bool half = fourcc == SHMCAM_FMT_YUV420 || fourcc == SHMCAM_PATTERN_422P;
    struct shmcam_pattern_plane *p = pat->plane;
    int ret = 0;

    bpl = bpl ? bpl : packed;
    if (bpl < packed || (half && (bpl & 1))) {
        return -EINVAL;
    }
    pat->layout = fourcc;

    switch (fourcc) {
    case SHMCAM_FMT_YUYV:
        pat->nplanes = 1;
        ret = shmcam_pattern_plane_alloc(&p[0], w * 2, h, kinds, 2, 1, 2);
        break;
    case SHMCAM_FMT_NV12:
        pat->nplanes = 2;
        ret = shmcam_pattern_plane_alloc(&p[0], w, h, kinds, 1, 1, 2) ?:
              shmcam_pattern_plane_alloc(&p[1], w, h / 2, 1, 1, 1, 1);
        break;
    case SHMCAM_FMT_YUV420:
        pat->nplanes = 3;
        ret = shmcam_pattern_plane_alloc(&p[0], w, h, kinds, 1, 1, 2) ?:
              shmcam_pattern_plane_alloc(&p[1], w / 2, h / 2, 1, 1, 2, 1) ?:
              shmcam_pattern_plane_alloc(&p[2], w / 2, h / 2, 1, 1, 2, 1);
        break;
    case SHMCAM_PATTERN_422P:
        pat->nplanes = 3;
        ret = shmcam_pattern_plane_alloc(&p[0], w, h, kinds, 1, 1, 2) ?:
              shmcam_pattern_plane_alloc(&p[1], w / 2, h, 1, 1, 2, 2) ?:
              shmcam_pattern_plane_alloc(&p[2], w / 2, h, 1, 1, 2, 2);
        break;
    default:
        return -EINVAL;
    }
    p[0].line = ret ? NULL : malloc(h);
    if (!ret && !p[0].line) {
        ret = -ENOMEM;
    }
    p[0].stride = bpl;
    p[1].stride = half ? bpl / 2 : bpl;
    p[2].stride = bpl / 2;
    /* YUYV's lines are all; planar, the chroma adds half (4:2:0) or as
     * much again (4:2:2) to the luma */
    pat->frame_size = (uint32_t)((uint64_t)bpl * h *
                                 (fourcc == SHMCAM_FMT_YUYV ? 2 :
                                  fourcc == SHMCAM_PATTERN_422P ? 4 : 3) / 2);
    return ret;
}

/*
 * The checksum (docs/specs/shmcam.rst), Fletcher-style over 64-bit words:
 * a = 1 + the sum of the words, b the sum of a after each, then the bytes
 * of a last partial word one at a time; position matters.  It is taken
 * piece by piece as a frame is drawn, from the bytes being written, never
 * by reading the frame back: that may be a slot a guest can change.
 */
struct shmcam_pattern_sum {
    uint64_t a, b;
    uint32_t skip;              /* bytes still to leave out: the stamp */
    uint32_t fill;              /* bytes of a word begun, in part */
    uint8_t part[8];
};

static void shmcam_pattern_sum_init(struct shmcam_pattern_sum *s,
                                    uint32_t skip)
{
    memset(s, 0, sizeof(*s));
    s->a = 1;
    s->skip = skip;
}

static void shmcam_pattern_sum_word(struct shmcam_pattern_sum *s,
                                    const uint8_t *at)
{
    uint64_t w;

    memcpy(&w, at, 8);
    s->a += w;
    s->b += s->a;
}

/*
 * @n words at @buf, four at a time in four lanes (two vectors of two,
 * SSE2's paddq on x86-64): lane l sums A_l of its words w(4m + l), and
 * B_l of A_l after each.  Over M blocks, word k (from 1) counts
 * 4M - k + 1 times in b, that is 4(M - m) - l for w(4m + l): b grows by
 * 4M a + sum(4 B_l - l A_l), a by sum(A_l).
 */
typedef uint64_t shmcam_pattern_v2 __attribute__((vector_size(16)));

static void shmcam_pattern_sum_words(struct shmcam_pattern_sum *s,
                                     const uint8_t *buf, size_t n)
{
    shmcam_pattern_v2 a0 = { 0, 0 }, a1 = { 0, 0 }, b0 = { 0, 0 };
    shmcam_pattern_v2 b1 = { 0, 0 }, x, y;
    size_t m = n / 4, k;

    for (k = 0; k < m; k++) {
        memcpy(&x, buf + k * 32, 16);
        memcpy(&y, buf + k * 32 + 16, 16);
        a0 += x;
        a1 += y;
        b0 += a0;
        b1 += a1;
    }
    s->b += 4 * m * s->a + 4 * (b0[0] + b0[1] + b1[0] + b1[1]) -
            a0[1] - 2 * a1[0] - 3 * a1[1];
    s->a += a0[0] + a0[1] + a1[0] + a1[1];
    for (k = m * 4; k < n; k++) {
        shmcam_pattern_sum_word(s, buf + k * 8);
    }
}

/* The next @len bytes of the frame, which are @buf's, or zeros if NULL. */
static void shmcam_pattern_sum_add(struct shmcam_pattern_sum *s,
                                   const uint8_t *buf, size_t len)
{
    static const uint8_t zeros[8];
    size_t take = s->skip < len ? s->skip : len, n;

    s->skip -= take;
    buf = buf ? buf + take : NULL;
    len -= take;
    if (!len) {
        return;
    }
    if (s->fill) {
        take = 8 - s->fill < len ? 8 - s->fill : len;
        memcpy(s->part + s->fill, buf ? buf : zeros, take);
        s->fill += take;
        buf = buf ? buf + take : NULL;
        len -= take;
        if (s->fill < 8) {
            return;
        }
        shmcam_pattern_sum_word(s, s->part);
        s->fill = 0;
    }
    n = len / 8;
    if (buf) {
        shmcam_pattern_sum_words(s, buf, n);
    } else {
        /* zero words leave a as it is */
        s->b += n * s->a;
    }
    s->fill = len % 8;
    memcpy(s->part, buf ? buf + n * 8 : zeros, s->fill);
}

static uint32_t shmcam_pattern_sum_end(struct shmcam_pattern_sum *s)
{
    uint64_t a = s->a, b = s->b;
    uint32_t i;

    for (i = 0; i < s->fill; i++) {
        a += s->part[i];
        b += a;
    }
    return (uint32_t)(a ^ (a >> 32) ^ (b * 31) ^ (b >> 29));
}

uint32_t shmcam_pattern_checksum(const uint8_t *buf, size_t len)
{
    struct shmcam_pattern_sum s;

    shmcam_pattern_sum_init(&s, 0);
    shmcam_pattern_sum_add(&s, buf, len);
    return shmcam_pattern_sum_end(&s);
}

/*
 * The image of frame @n into @dst: each line one copy of a distinct
 * line, its padding zeroed, so that every byte of the frame is written
 * (@dst may hold anything: an earlier frame, another format's, a guest's
 * bytes).  With @sum, the frame's bytes are checksummed as they are
 * written, from the lines they are copied from: in the same pass, while
 * the line is in the cache, and without reading @dst back.
 */
static void shmcam_pattern_compose(struct shmcam_pattern *pat, uint64_t n,
                                   uint8_t *dst, struct shmcam_pattern_sum *sum)
{
    uint32_t i, y, shift_px = (n * SHMCAM_PATTERN_SHIFT) % pat->fmt.width;

    for (i = 0; i < pat->nplanes; i++) {
        const struct shmcam_pattern_plane *p = &pat->plane[i];
        uint32_t shift = shift_px * p->shift_num / p->shift_den;
        uint32_t first = (n * p->row_step) % p->rows;
        uint32_t pad = p->stride - p->row_bytes;

        for (y = 0; y < p->rows; y++) {
            uint32_t src = (y + first) % p->rows;
            const uint8_t *row = p->wide + (size_t)2 * p->row_bytes *
                                 (p->line ? p->line[src] : 0) +
                                 (p->row_bytes - shift) % p->row_bytes;

            memcpy(dst, row, p->row_bytes);
            memset(dst + p->row_bytes, 0, pad);
            if (sum) {
                shmcam_pattern_sum_add(sum, row, p->row_bytes);
                shmcam_pattern_sum_add(sum, NULL, pad);
            }
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
    uint32_t i;

    if (shmcam_pattern_ext(pat)) {
        s.magic = SHMCAM_PATTERN_MAGIC_CTRL;
        for (i = 0; i < SHMCAM_PATTERN_NCTRLS; i++) {
            at[sizeof(s) + i] = (uint8_t)pat->ctrl[i];
        }
    }
    memcpy(at, &s, sizeof(s));
}

/*
 * Entry @i of the MJPEG cycle, encoded now unless it already was: the
 * image of raw frame i * SHMCAM_PATTERN_JPEG_STEP, without a stamp of its
 * own, and a COM segment of zeros for the stamp each frame writes.  An
 * entry depends on @i alone, so the order frames are asked in does not
 * matter: the verifier makes the producer's bytes whatever it saw first.
 * The image is built in pat->frame; it and the encoder go once the cycle
 * is whole.
 */
static int shmcam_pattern_jpeg_entry(struct shmcam_pattern *pat, uint32_t i)
{
    static const uint8_t com[SHMCAM_PATTERN_STAMP_SIZE +
                             SHMCAM_PATTERN_CTRLS_SIZE];
    const uint32_t after = SHMCAM_PATTERN_JPEG_STAMP +
                           SHMCAM_PATTERN_STAMP_SIZE + shmcam_pattern_ext(pat);
    uint32_t w = pat->fmt.width, h = pat->fmt.height, k;
    struct shmcam_jpeg_image img = {
        .width = w, .height = h,
        .stride = { w, w / 2, w / 2 },
    };
    long len;

    if (pat->jpeg[i]) {
        return 0;
    }
    if (!pat->enc) {
        return -ENOMEM;
    }
    if (!pat->frame) {
        pat->frame = shmcam_pattern_frame_alloc(pat->frame_size);
        if (!pat->frame) {
            return -ENOMEM;
        }
    }
    shmcam_pattern_compose(pat, (uint64_t)i * SHMCAM_PATTERN_JPEG_STEP,
                           pat->frame, NULL);
    img.plane[0] = pat->frame;
    img.plane[1] = pat->frame + (size_t)w * h;
    img.plane[2] = img.plane[1] + (size_t)w / 2 * h;
    len = shmcam_jpeg_encode(pat->enc, &img, SHMCAM_PATTERN_JPEG_QUALITY,
                             com, after - SHMCAM_PATTERN_JPEG_STAMP,
                             &pat->jpeg[i]);
    if (len < 0) {
        return len;
    }
    pat->jpeg_len[i] = len;
    /* all but the stamp stays as encoded: its checksum is taken once */
    pat->jpeg_sum[i] = shmcam_pattern_checksum(pat->jpeg[i] + after,
                                               len - after);
    for (k = 0; k < SHMCAM_PATTERN_JPEG_CYCLE && pat->jpeg[k]; k++) {
    }
    if (k == SHMCAM_PATTERN_JPEG_CYCLE) {
        free(pat->frame);
        pat->frame = NULL;
        shmcam_jpeg_encoder_free(pat->enc);
        pat->enc = NULL;
    }
    return 0;
}

/*
 * The MJPEG cycle: the planes of its images and the encoder, and of the
 * JPEGs entry 0 only, unless the frames are small.  A JPEG nears one byte
 * a pixel, the sizeimage of shmcam_format_init, only there (tall frames
 * of narrow bars: measured at most 0.49 of it above 64 Ki pixels, at most
 * 0.12 at 720p and over), so small frames have their whole cycle, a few
 * milliseconds' work, encoded here and held to fmt->sizeimage; entry 0
 * is held to it at any size.
 */
static int shmcam_pattern_jpeg_init(struct shmcam_pattern *pat)
{
    uint64_t pixels = (uint64_t)pat->fmt.width * pat->fmt.height;
    uint32_t i, eager = pixels <= SHMCAM_PATTERN_JPEG_EAGER ?
                        SHMCAM_PATTERN_JPEG_CYCLE : 1;
    int ret = shmcam_pattern_planes(pat, SHMCAM_PATTERN_422P, 0);

    if (!ret) {
        pat->enc = shmcam_jpeg_encoder_new();
        ret = pat->enc ? shmcam_pattern_fill(pat) : -ENOMEM;
    }
    for (i = 0; !ret && i < eager; i++) {
        ret = shmcam_pattern_jpeg_entry(pat, i);
        if (!ret && pat->jpeg_len[i] > pat->fmt.sizeimage) {
            ret = -ENOSPC;
        }
    }
    return ret;
}

int shmcam_pattern_init(struct shmcam_pattern *pat,
                        const struct shmcam_format *fmt)
{
    int ret;

    memset(pat, 0, sizeof(*pat));
    pat->fmt = *fmt;
    shmcam_pattern_default_ctrls(pat->ctrl);
    if (fmt->width < SHMCAM_MIN_WIDTH || fmt->height < SHMCAM_MIN_HEIGHT ||
        fmt->width > SHMCAM_MAX_WIDTH || fmt->height > SHMCAM_MAX_HEIGHT ||
        (fmt->width | fmt->height) & 1 ||
        fmt->pixelformat == SHMCAM_PATTERN_422P) {
        return -EINVAL;
    }
    if (fmt->pixelformat == SHMCAM_FMT_MJPEG) {
        ret = shmcam_pattern_jpeg_init(pat);
    } else {
        ret = shmcam_pattern_planes(pat, fmt->pixelformat, fmt->bytesperline) ?:
              shmcam_pattern_fill(pat);
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
        free(pat->plane[i].line);
        pat->plane[i].wide = NULL;
        pat->plane[i].line = NULL;
    }
    for (i = 0; i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
        free(pat->jpeg[i]);
        pat->jpeg[i] = NULL;
    }
    shmcam_jpeg_encoder_free(pat->enc);
    pat->enc = NULL;
    free(pat->frame);
    pat->frame = NULL;
}

/*
 * The planes are drawn again with the new values (a few distinct lines:
 * cheap), and the MJPEG cycle goes, to be encoded again as frames need
 * it; the encoder and the image's buffer come back for that.
 */
int shmcam_pattern_set_ctrls(struct shmcam_pattern *pat, const int32_t *v)
{
    uint32_t i;

    for (i = 0; i < SHMCAM_PATTERN_NCTRLS; i++) {
        if (v[i] < shmcam_pattern_ctrl_info[i].minimum ||
            v[i] > shmcam_pattern_ctrl_info[i].maximum) {
            return -EINVAL;
        }
    }
    if (!memcmp(pat->ctrl, v, sizeof(pat->ctrl))) {
        return 0;
    }
    memcpy(pat->ctrl, v, sizeof(pat->ctrl));
    if (pat->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        for (i = 0; i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
            free(pat->jpeg[i]);
            pat->jpeg[i] = NULL;
            pat->jpeg_len[i] = 0;
        }
        if (!pat->enc) {
            pat->enc = shmcam_jpeg_encoder_new();
            if (!pat->enc) {
                return -ENOMEM;
            }
        }
    }
    return shmcam_pattern_fill(pat);
}

uint32_t shmcam_pattern_length(struct shmcam_pattern *pat, uint64_t n)
{
    uint32_t i = n % SHMCAM_PATTERN_JPEG_CYCLE;

    if (pat->fmt.pixelformat != SHMCAM_FMT_MJPEG) {
        return pat->frame_size;
    }
    return shmcam_pattern_jpeg_entry(pat, i) ? 0 : pat->jpeg_len[i];
}

/*
 * A raw frame is drawn and stamped with the checksum taken on the way;
 * an MJPEG frame is its cycle entry, copied, with its stamp written over
 * the copy's.  Nothing is read back from @dst.
 */
uint32_t shmcam_pattern_render_into(struct shmcam_pattern *pat, uint64_t n,
                                    void *dst, uint32_t dst_size)
{
    uint32_t i = n % SHMCAM_PATTERN_JPEG_CYCLE, len;
    struct shmcam_pattern_sum sum;

    len = shmcam_pattern_length(pat, n);
    if (!len || len > dst_size) {
        return 0;
    }
    if (pat->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        memcpy(dst, pat->jpeg[i], len);
        shmcam_pattern_stamp(pat, (uint8_t *)dst + SHMCAM_PATTERN_JPEG_STAMP,
                             n, pat->jpeg_sum[i], len, i);
        return len;
    }
    shmcam_pattern_sum_init(&sum, SHMCAM_PATTERN_STAMP_SIZE +
                                  shmcam_pattern_ext(pat));
    shmcam_pattern_compose(pat, n, dst, &sum);
    shmcam_pattern_stamp(pat, dst, n, shmcam_pattern_sum_end(&sum), 0, 0);
    return len;
}

/*
 * Into the pattern's own memory: a raw frame into its frame buffer, made
 * the first time; an MJPEG frame is its cycle entry itself, stamped in
 * place (the stamp is all that differs from one frame to the next).
 */
uint32_t shmcam_pattern_render(struct shmcam_pattern *pat, uint64_t n,
                               const uint8_t **data)
{
    uint32_t i = n % SHMCAM_PATTERN_JPEG_CYCLE, len;

    *data = NULL;
    len = shmcam_pattern_length(pat, n);
    if (!len) {
        return 0;
    }
    if (pat->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        shmcam_pattern_stamp(pat, pat->jpeg[i] + SHMCAM_PATTERN_JPEG_STAMP, n,
                             pat->jpeg_sum[i], len, i);
        *data = pat->jpeg[i];
        return len;
    }
    if (!pat->frame) {
        pat->frame = shmcam_pattern_frame_alloc(pat->frame_size);
        if (!pat->frame) {
            return 0;
        }
    }
    *data = pat->frame;
    return shmcam_pattern_render_into(pat, n, pat->frame, pat->frame_size);
}

/*
 * The stamp of @buf into @s, and the control values it names into @ctrl
 * (the defaults unless a SHMCAM_PATTERN_MAGIC_CTRL stamp's bytes say
 * others).
 */
static int shmcam_pattern_read_stamp(struct shmcam_pattern *pat,
                                     const uint8_t *buf, uint32_t len,
                                     struct shmcam_pattern_stamp *s,
                                     int32_t *ctrl, char *why, size_t why_len)
{
    uint32_t at = 0, ext = 0, i;
    char got[5], want[5];

    if (pat->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        static const uint8_t head[5] = { 0xff, 0xd8, 0xff, 0xfe, 0 };

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
    if (s->magic == SHMCAM_PATTERN_MAGIC_CTRL) {
        ext = SHMCAM_PATTERN_CTRLS_SIZE;
    } else if (s->magic != SHMCAM_PATTERN_MAGIC) {
        snprintf(why, why_len, "no pattern stamp");
        return -EBADMSG;
    }
    if ((at && buf[5] != 2 + SHMCAM_PATTERN_STAMP_SIZE + ext) ||
        len < at + SHMCAM_PATTERN_STAMP_SIZE + ext) {
        snprintf(why, why_len, "frame %llu: its stamp is cut short",
                 (unsigned long long)s->frame);
        return -EBADMSG;
    }
    shmcam_pattern_default_ctrls(ctrl);
    for (i = 0; ext && i < SHMCAM_PATTERN_NCTRLS; i++) {
        uint8_t b = buf[at + SHMCAM_PATTERN_STAMP_SIZE + i];

        ctrl[i] = i == SHMCAM_PATTERN_HUE ? (int8_t)b : b;
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

/*
 * Does @buf hold what its stamp says, though not our frame?  Then nothing
 * tore or changed it on the way: its maker differs from us.
 */
static bool shmcam_pattern_intact(struct shmcam_pattern *pat,
                                  const uint8_t *buf, uint32_t len,
                                  const struct shmcam_pattern_stamp *s)
{
    uint32_t after = SHMCAM_PATTERN_STAMP_SIZE +
                     (s->magic == SHMCAM_PATTERN_MAGIC_CTRL ?
                      SHMCAM_PATTERN_CTRLS_SIZE : 0);

    if (pat->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        after += SHMCAM_PATTERN_JPEG_STAMP;
        if (s->jpeg_len != len) {
            return false;
        }
    }
    return shmcam_pattern_checksum(buf + after, len - after) == s->checksum;
}

int shmcam_pattern_verify(struct shmcam_pattern *pat, const uint8_t *buf,
                          uint32_t len, uint64_t *frame, char *why,
                          size_t why_len)
{
    struct shmcam_pattern_stamp s;
    int32_t ctrl[SHMCAM_PATTERN_NCTRLS];
    const uint8_t *want;
    const char *cause;
    uint32_t want_len, i;

    *frame = SHMCAM_PATTERN_NONE;
    if (shmcam_pattern_read_stamp(pat, buf, len, &s, ctrl, why, why_len)) {
        return -EBADMSG;
    }
    *frame = s.frame;
    /* the frame is compared with ours drawn with the values it names */
    if (shmcam_pattern_set_ctrls(pat, ctrl)) {
        snprintf(why, why_len, "frame %llu: its stamp's controls are out of "
                 "range, or out of memory to draw them",
                 (unsigned long long)s.frame);
        return -EBADMSG;
    }
    want_len = shmcam_pattern_render(pat, s.frame, &want);
    if (!want_len) {
        snprintf(why, why_len, "frame %llu: cannot make it to compare (out of "
                 "memory)",
                 (unsigned long long)s.frame);
        return -EBADMSG;
    }
    if (len == want_len && !memcmp(buf, want, len)) {
        return 0;
    }
    cause = shmcam_pattern_intact(pat, buf, len, &s) ?
            "matches its own checksum: made by another pattern or "
            "libjpeg-turbo, or with TJ_* variables set" :
            "torn or corrupt";
    if (len != want_len) {
        snprintf(why, why_len, "frame %llu has %u bytes, expected %u (%s)",
                 (unsigned long long)s.frame, len, want_len, cause);
        return -EBADMSG;
    }
    for (i = 0; i < len && buf[i] == want[i]; i++) {
    }
    snprintf(why, why_len, "frame %llu differs at byte %u (%s)",
             (unsigned long long)s.frame, i, cause);
    return -EBADMSG;
}
