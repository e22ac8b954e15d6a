/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <linux/videodev2.h>

#include "shmcam-format.h"

static const struct {
    const char *name;
    uint32_t fourcc;
} shmcam_format_table[] = {
    { "YUYV", SHMCAM_FMT_YUYV },
    { "NV12", SHMCAM_FMT_NV12 },
    { "YU12", SHMCAM_FMT_YUV420 },
    { "I420", SHMCAM_FMT_YUV420 },
    { "MJPG", SHMCAM_FMT_MJPEG },
    { "MJPEG", SHMCAM_FMT_MJPEG },
};

uint32_t shmcam_format_from_name(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(shmcam_format_table) / sizeof(shmcam_format_table[0]); i++) {
        if (!strcasecmp(name, shmcam_format_table[i].name)) {
            return shmcam_format_table[i].fourcc;
        }
    }
    return 0;
}

const char *shmcam_format_names(void)
{
    return "YUYV, NV12, YU12, MJPG";
}

void shmcam_format_name(uint32_t fourcc, char name[5])
{
    int i;

    for (i = 0; i < 4; i++) {
        char c = (fourcc >> (8 * i)) & 0xff;
        name[i] = isprint((unsigned char)c) ? c : '?';
    }
    name[4] = '\0';
}

int shmcam_format_init(struct shmcam_format *f, uint32_t fourcc,
                       uint32_t width, uint32_t height,
                       struct shmcam_fract interval)
{
    uint64_t pixels = (uint64_t)width * height;

    memset(f, 0, sizeof(*f));
    if (width < SHMCAM_MIN_WIDTH || width > SHMCAM_MAX_WIDTH ||
        height < SHMCAM_MIN_HEIGHT || height > SHMCAM_MAX_HEIGHT ||
        (width | height) & 1) {
        return -EINVAL;
    }
    f->pixelformat = fourcc;
    f->width = width;
    f->height = height;
    f->interval = interval;
    f->colorspace = V4L2_COLORSPACE_SRGB;
    switch (fourcc) {
    case SHMCAM_FMT_YUYV:
        f->bytesperline = width * 2;
        f->sizeimage = pixels * 2;
        break;
    case SHMCAM_FMT_NV12:
    case SHMCAM_FMT_YUV420:
        f->bytesperline = width;
        f->sizeimage = pixels * 3 / 2;
        break;
    case SHMCAM_FMT_MJPEG:
        f->bytesperline = 0;
        f->sizeimage = pixels;
        f->colorspace = V4L2_COLORSPACE_JPEG;
        break;
    default:
        return -EINVAL;
    }
    return 0;
}

void shmcam_format_set_stride(struct shmcam_format *f, uint32_t bpl)
{
    f->bytesperline = bpl;
    f->sizeimage = f->pixelformat == SHMCAM_FMT_YUYV ?
                   (uint64_t)bpl * f->height :
                   (uint64_t)bpl * f->height / 2 * 3;
}

void shmcam_format_align(struct shmcam_format *f, uint32_t align)
{
    if (align <= 1 || f->pixelformat == SHMCAM_FMT_MJPEG) {
        return;
    }
    shmcam_format_set_stride(f, (f->bytesperline + align - 1) & ~(align - 1));
}

int shmcam_parse_size(const char *s, uint32_t *w, uint32_t *h)
{
    char *end;
    unsigned long a, b;

    if (!isdigit((unsigned char)s[0])) {
        return -EINVAL;
    }
    a = strtoul(s, &end, 10);
    if (*end != 'x' && *end != 'X') {
        return -EINVAL;
    }
    s = end + 1;
    if (!isdigit((unsigned char)s[0])) {
        return -EINVAL;
    }
    b = strtoul(s, &end, 10);
    if (*end || a > 65535 || b > 65535) {
        return -EINVAL;
    }
    *w = a;
    *h = b;
    return 0;
}

int shmcam_parse_fps(const char *s, struct shmcam_fract *interval)
{
    char *end;
    unsigned long num, den = 1;

    if (!isdigit((unsigned char)s[0])) {
        return -EINVAL;
    }
    num = strtoul(s, &end, 10);
    if (*end == '/') {
        s = end + 1;
        if (!isdigit((unsigned char)s[0])) {
            return -EINVAL;
        }
        den = strtoul(s, &end, 10);
    }
    if (*end || num == 0 || den == 0 || num > 1000000 || den > 1000000 ||
        num / den > 1000) {
        return -EINVAL;
    }
    /* frames per second num/den is a time per frame of den/num */
    interval->numerator = den;
    interval->denominator = num;
    return 0;
}

uint32_t shmcam_format_slot_size(const struct shmcam_format *f)
{
    uint64_t size = f->sizeimage;

    size = (size + SHMCAM_PAGE_SIZE - 1) & ~(uint64_t)(SHMCAM_PAGE_SIZE - 1);
    return size > UINT32_MAX ? 0 : size;
}

void shmcam_format_str(const struct shmcam_format *f, char *buf, size_t len)
{
    char name[5];

    shmcam_format_name(f->pixelformat, name);
    snprintf(buf, len, "%ux%u %s", f->width, f->height, name);
}

void shmcam_cap_add_interval(struct shmcam_cap *c, uint32_t num, uint32_t den)
{
    uint32_t i;

    if (!num || !den || c->num_intervals >= SHMCAM_MAX_INTERVALS) {
        return;
    }
    for (i = 0; i < c->num_intervals; i++) {
        if ((uint64_t)c->intervals[i].numerator * den ==
            (uint64_t)num * c->intervals[i].denominator) {
            return;
        }
    }
    c->intervals[c->num_intervals].numerator = num;
    c->intervals[c->num_intervals].denominator = den;
    c->num_intervals++;
}
