/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The camera source (--camera /dev/videoN): V4L2 memory-mapped streaming,
 * the sequence of v4l-utils' capture-example.c (open, query, set format,
 * request and map buffers, queue, stream on, dequeue/requeue, stream off,
 * unmap, close) with its state in this struct instead of globals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "shmcam-format.h"
#include "shmcam-source.h"

#define SHMCAM_V4L2_BUFFERS 4u

struct shmcam_v4l2_source {
    struct shmcam_source base;
    char *device;
    char card[SHMCAM_CARD_LEN];
    struct {
        void *start;
        size_t length;
    } buf[SHMCAM_V4L2_BUFFERS];
    uint32_t nbufs;
    int dequeued;               /* index handed out by next(), or -1 */
    bool streaming;
    struct shmcam_format fmt;
};

static int shmcam_v4l2_ioctl(int fd, unsigned long request, void *arg)
{
    int r;

    do {
        r = ioctl(fd, request, arg);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static int shmcam_v4l2_open(struct shmcam_v4l2_source *vs, GError **errp)
{
    struct v4l2_capability cap = { 0 };
    uint32_t caps;
    int fd, ret;

    fd = open(vs->device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s: %s (check the device "
                    "name, e.g. ls /dev/video*)", vs->device, g_strerror(-ret));
        return ret;
    }
    ret = shmcam_v4l2_ioctl(fd, VIDIOC_QUERYCAP, &cap);
    if (ret) {
        close(fd);
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s is not a V4L2 device "
                    "(give a /dev/videoN capture node)", vs->device);
        return ret == -ENOTTY ? -ENODEV : ret;
    }
    caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps
                                                    : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
        close(fd);
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s is not a video capture "
                    "device with streaming I/O (give the camera's capture "
                    "node; v4l2-ctl --list-devices lists them)", vs->device);
        return -ENODEV;
    }
    snprintf(vs->card, sizeof(vs->card), "%s", (const char *)cap.card);
    vs->base.fd = fd;
    return 0;
}

static int shmcam_v4l2_set_format(struct shmcam_v4l2_source *vs,
                                  struct shmcam_format *fmt, GError **errp)
{
    struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    char want[5], got[5];
    int ret;

    f.fmt.pix.pixelformat = fmt->pixelformat;
    f.fmt.pix.width = fmt->width;
    f.fmt.pix.height = fmt->height;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_S_FMT, &f);
    shmcam_format_name(fmt->pixelformat, want);
    shmcam_format_name(f.fmt.pix.pixelformat, got);
    if (ret || f.fmt.pix.pixelformat != fmt->pixelformat) {
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s cannot deliver %s "
                    "(it offered %s; choose another --format)", vs->device,
                    want, ret ? g_strerror(-ret) : got);
        return ret ? ret : -EINVAL;
    }
    fmt->width = f.fmt.pix.width;
    fmt->height = f.fmt.pix.height;
    fmt->bytesperline = fmt->pixelformat == SHMCAM_FMT_MJPEG ? 0 :
                        f.fmt.pix.bytesperline;
    fmt->sizeimage = f.fmt.pix.sizeimage;
    fmt->colorspace = f.fmt.pix.colorspace;

    parm.parm.capture.timeperframe.numerator = fmt->interval.numerator;
    parm.parm.capture.timeperframe.denominator = fmt->interval.denominator;
    if (!shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_S_PARM, &parm) &&
        parm.parm.capture.timeperframe.numerator &&
        parm.parm.capture.timeperframe.denominator) {
        fmt->interval.numerator = parm.parm.capture.timeperframe.numerator;
        fmt->interval.denominator = parm.parm.capture.timeperframe.denominator;
    }
    vs->fmt = *fmt;
    return 0;
}

static int shmcam_v4l2_init_buffers(struct shmcam_v4l2_source *vs)
{
    struct v4l2_requestbuffers req = {
        .count = SHMCAM_V4L2_BUFFERS,
        .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
        .memory = V4L2_MEMORY_MMAP,
    };
    uint32_t i;
    int ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_REQBUFS, &req);

    if (ret) {
        return ret;
    }
    if (req.count < 2 || req.count > SHMCAM_V4L2_BUFFERS) {
        return -ENOMEM;
    }
    for (i = 0; i < req.count; i++) {
        struct v4l2_buffer b = {
            .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
            .memory = V4L2_MEMORY_MMAP,
            .index = i,
        };
        void *p;

        ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_QUERYBUF, &b);
        if (ret) {
            return ret;
        }
        p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED,
                 vs->base.fd, b.m.offset);
        if (p == MAP_FAILED) {
            return -errno;
        }
        vs->buf[i].start = p;
        vs->buf[i].length = b.length;
        vs->nbufs = i + 1;
    }
    return 0;
}

static int shmcam_v4l2_queue(struct shmcam_v4l2_source *vs, uint32_t index)
{
    struct v4l2_buffer b = {
        .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
        .memory = V4L2_MEMORY_MMAP,
        .index = index,
    };

    return shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_QBUF, &b);
}

static int shmcam_v4l2_stream_on(struct shmcam_v4l2_source *vs)
{
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    uint32_t i;
    int ret = 0;

    for (i = 0; i < vs->nbufs && !ret; i++) {
        ret = shmcam_v4l2_queue(vs, i);
    }
    if (!ret) {
        ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_STREAMON, &type);
    }
    vs->streaming = !ret;
    return ret;
}

static void shmcam_v4l2_stop(struct shmcam_source *s)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    struct v4l2_requestbuffers req = {
        .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
        .memory = V4L2_MEMORY_MMAP,
    };
    uint32_t i;

    if (vs->base.fd < 0) {
        return;
    }
    if (vs->streaming) {
        shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_STREAMOFF, &type);
        vs->streaming = false;
    }
    for (i = 0; i < vs->nbufs; i++) {
        munmap(vs->buf[i].start, vs->buf[i].length);
    }
    if (vs->nbufs) {
        shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_REQBUFS, &req);
    }
    vs->nbufs = 0;
    vs->dequeued = -1;
    close(vs->base.fd);
    vs->base.fd = -1;
}

static int shmcam_v4l2_start(struct shmcam_source *s,
                             struct shmcam_format *fmt, GError **errp)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    int ret;

    shmcam_v4l2_stop(s);
    ret = shmcam_v4l2_open(vs, errp);
    if (ret) {
        return ret;
    }
    ret = shmcam_v4l2_set_format(vs, fmt, errp);
    if (ret) {
        shmcam_v4l2_stop(s);
        return ret;
    }
    ret = shmcam_v4l2_init_buffers(vs);
    if (!ret) {
        ret = shmcam_v4l2_stream_on(vs);
    }
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s: cannot start "
                    "streaming: %s (is another program using it?)",
                    vs->device, g_strerror(-ret));
        shmcam_v4l2_stop(s);
    }
    return ret;
}

static int shmcam_v4l2_next(struct shmcam_source *s,
                            struct shmcam_source_frame *f)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    struct v4l2_buffer b = {
        .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
        .memory = V4L2_MEMORY_MMAP,
    };
    int ret;

    if (vs->base.fd < 0) {
        return -ENODEV;
    }
    ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_DQBUF, &b);
    if (ret == -EAGAIN) {
        return ret;
    }
    if (ret || b.index >= vs->nbufs) {
        return -ENODEV;
    }
    vs->dequeued = b.index;
    if (!b.bytesused || b.bytesused > vs->buf[b.index].length) {
        /* nothing usable: hand the buffer straight back */
        s->ops->release(s);
        return -EAGAIN;
    }
    f->data = vs->buf[b.index].start;
    f->len = b.bytesused;
    f->flags = (b.flags & V4L2_BUF_FLAG_ERROR ? SHMCAM_SLOT_ERROR : 0) |
               (b.flags & V4L2_BUF_FLAG_KEYFRAME ||
                vs->fmt.pixelformat != SHMCAM_FMT_MJPEG ? SHMCAM_SLOT_KEYFRAME : 0);
    return 0;
}

static void shmcam_v4l2_release(struct shmcam_source *s)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;

    if (vs->dequeued >= 0 && vs->base.fd >= 0) {
        shmcam_v4l2_queue(vs, vs->dequeued);
    }
    vs->dequeued = -1;
}

static void shmcam_v4l2_free(struct shmcam_source *s)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;

    shmcam_v4l2_stop(s);
    g_free(vs->device);
    g_free(vs);
}

static bool shmcam_v4l2_supported(uint32_t fourcc)
{
    return fourcc == SHMCAM_FMT_YUYV || fourcc == SHMCAM_FMT_NV12 ||
           fourcc == SHMCAM_FMT_YUV420 || fourcc == SHMCAM_FMT_MJPEG;
}

static void shmcam_v4l2_add_interval(struct shmcam_cap *c, uint32_t num,
                                     uint32_t den)
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

/* The device's frame intervals at one size: its discrete list, or for a
 * range the common rates inside it and its ends. */
static void shmcam_v4l2_intervals(struct shmcam_v4l2_source *vs,
                                  struct shmcam_cap *c)
{
    static const uint32_t rates[] = { 60, 30, 15 };
    struct v4l2_frmivalenum iv = {
        .pixel_format = c->pixelformat,
        .width = c->width,
        .height = c->height,
    };
    uint32_t i;

    while (!shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_ENUM_FRAMEINTERVALS, &iv)) {
        if (iv.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
            shmcam_v4l2_add_interval(c, iv.discrete.numerator,
                                     iv.discrete.denominator);
            iv.index++;
            continue;
        }
        for (i = 0; i < G_N_ELEMENTS(rates); i++) {
            double t = 1.0 / rates[i];
            double lo = (double)iv.stepwise.min.numerator /
                        iv.stepwise.min.denominator;
            double hi = (double)iv.stepwise.max.numerator /
                        iv.stepwise.max.denominator;

            if (t >= lo && t <= hi) {
                shmcam_v4l2_add_interval(c, 1, rates[i]);
            }
        }
        shmcam_v4l2_add_interval(c, iv.stepwise.min.numerator,
                                 iv.stepwise.min.denominator);
        break;
    }
    if (!c->num_intervals) {
        shmcam_v4l2_add_interval(c, vs->fmt.interval.numerator,
                                 vs->fmt.interval.denominator);
    }
}

/* Frame sizes of one format: the discrete list, or for a range the
 * common sizes that lie in it. */
static uint32_t shmcam_v4l2_sizes(struct shmcam_v4l2_source *vs,
                                  uint32_t fourcc, uint32_t sizes[][2],
                                  uint32_t max)
{
    static const uint32_t common[][2] = {
        { 320, 240 }, { 640, 480 }, { 1280, 720 }, { 1920, 1080 },
    };
    struct v4l2_frmsizeenum fs = { .pixel_format = fourcc };
    uint32_t n = 0, i;

    while (n < max &&
           !shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_ENUM_FRAMESIZES, &fs)) {
        if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
            sizes[n][0] = fs.discrete.width;
            sizes[n][1] = fs.discrete.height;
            n++;
            fs.index++;
            continue;
        }
        for (i = 0; i < G_N_ELEMENTS(common) && n < max; i++) {
            const struct v4l2_frmsize_stepwise *sw = &fs.stepwise;
            uint32_t w = common[i][0], h = common[i][1];

            if (w >= sw->min_width && w <= sw->max_width &&
                h >= sw->min_height && h <= sw->max_height &&
                (!sw->step_width || (w - sw->min_width) % sw->step_width == 0) &&
                (!sw->step_height || (h - sw->min_height) % sw->step_height == 0)) {
                sizes[n][0] = w;
                sizes[n][1] = h;
                n++;
            }
        }
        break;
    }
    if (!n && fourcc == vs->fmt.pixelformat) {
        sizes[0][0] = vs->fmt.width;
        sizes[0][1] = vs->fmt.height;
        n = 1;
    }
    return n;
}

/* Does this format and size fit a slot?  Asks the driver for its sizeimage. */
static bool shmcam_v4l2_fits(struct shmcam_v4l2_source *vs, uint32_t fourcc,
                             uint32_t w, uint32_t h, uint32_t slot_size)
{
    struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

    f.fmt.pix.pixelformat = fourcc;
    f.fmt.pix.width = w;
    f.fmt.pix.height = h;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    if (shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_TRY_FMT, &f) ||
        f.fmt.pix.pixelformat != fourcc || f.fmt.pix.width != w ||
        f.fmt.pix.height != h) {
        return false;
    }
    return f.fmt.pix.sizeimage && f.fmt.pix.sizeimage <= slot_size;
}

/*
 * The capability table from the camera's own lists (ENUM_FMT,
 * ENUM_FRAMESIZES, ENUM_FRAMEINTERVALS): formats shmcam carries, at sizes
 * whose frames fit a slot.  The format now streaming comes first.
 */
static uint32_t shmcam_v4l2_caps(struct shmcam_source *s, uint32_t slot_size,
                                 struct shmcam_cap *caps)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    struct v4l2_fmtdesc fd = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    uint32_t sizes[SHMCAM_MAX_CAPS][2], n = 0, i, k;

    if (vs->base.fd < 0) {
        return 0;
    }
    for (; n < SHMCAM_MAX_CAPS &&
         !shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_ENUM_FMT, &fd); fd.index++) {
        uint32_t nsizes;

        if (!shmcam_v4l2_supported(fd.pixelformat)) {
            continue;
        }
        nsizes = shmcam_v4l2_sizes(vs, fd.pixelformat, sizes, SHMCAM_MAX_CAPS);
        for (i = 0; i < nsizes && n < SHMCAM_MAX_CAPS; i++) {
            struct shmcam_cap *c = &caps[n];

            if (!shmcam_v4l2_fits(vs, fd.pixelformat, sizes[i][0],
                                  sizes[i][1], slot_size)) {
                continue;
            }
            memset(c, 0, sizeof(*c));
            c->pixelformat = fd.pixelformat;
            c->width = sizes[i][0];
            c->height = sizes[i][1];
            shmcam_v4l2_intervals(vs, c);
            n++;
        }
    }
    for (k = 0; k < n; k++) {
        if (caps[k].pixelformat == vs->fmt.pixelformat &&
            caps[k].width == vs->fmt.width && caps[k].height == vs->fmt.height) {
            struct shmcam_cap tmp = caps[0];

            caps[0] = caps[k];
            caps[k] = tmp;
            break;
        }
    }
    return n;
}

static const struct shmcam_source_ops shmcam_v4l2_source_ops = {
    .start = shmcam_v4l2_start,
    .caps = shmcam_v4l2_caps,
    .next = shmcam_v4l2_next,
    .release = shmcam_v4l2_release,
    .stop = shmcam_v4l2_stop,
    .free = shmcam_v4l2_free,
};

struct shmcam_source *shmcam_v4l2_source_new(const char *device)
{
    struct shmcam_v4l2_source *vs = g_new0(struct shmcam_v4l2_source, 1);

    vs->base.ops = &shmcam_v4l2_source_ops;
    vs->base.card = vs->card;
    vs->base.fd = -1;
    vs->base.paced = true;
    vs->dequeued = -1;
    vs->device = g_strdup(device);
    return &vs->base;
}

