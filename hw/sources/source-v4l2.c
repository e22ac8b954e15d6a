/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The camera source (--camera /dev/videoN): V4L2 streaming, the sequence
 * of v4l-utils' capture-example.c (open, query, set format, request
 * buffers, queue, stream on, dequeue/requeue, stream off, close) with its
 * state in this struct instead of globals.
 *
 * Frames go to the region in one of two ways:
 * - in place: when they go to one region, its slots are the camera's
 *   buffers (V4L2_MEMORY_USERPTR, buffer i is slot i), queued in frame
 *   order a few slots ahead of the newest frame and held odd while the
 *   camera owns them (shmcam_producer_hold()).  A frame dequeued is
 *   published where it is, with no copy;
 * - copied: into the camera's own buffers (V4L2_MEMORY_MMAP), each frame
 *   copied into each region by host/outputs.c.  For several regions, for
 *   a camera or a region that cannot take USERPTR, or --camera-io mmap;
 *   one line on stderr says why.
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
#include "shmcam-producer.h"
#include "shmcam-source.h"

#define SHMCAM_V4L2_BUFFERS 4u
/* Modes cached per start: more than a table holds, since caps() filters
 * them by slot size before taking the first SHMCAM_MAX_CAPS. */
#define SHMCAM_V4L2_MAX_MODES   (4 * SHMCAM_MAX_CAPS)
#define SHMCAM_V4L2_NSEC        1000000000ull

/* One format and size the device offers, with the sizes it answered. */
struct shmcam_v4l2_mode {
    struct shmcam_cap cap;
    struct shmcam_cap_size size;
};

struct shmcam_v4l2_source {
    struct shmcam_source base;
    char *device;
    char card[SHMCAM_CARD_LEN];
    struct {
        void *start;
        size_t length;
    } buf[SHMCAM_V4L2_BUFFERS];
    uint32_t nbufs;             /* buffers mapped */
    bool allocated;             /* REQBUFS gave us buffers */
    uint32_t memory;            /* of those buffers: V4L2_MEMORY_* */
    bool in_place;              /* --camera-io auto */
    struct shmcam_producer *want;       /* target(): the one region */
    struct shmcam_producer *inplace;    /* whose slots are queued, or NULL */
    struct shmcam_producer *refused;    /* want, when in place failed */
    bool said;                  /* that it streams in place, for want */
    uint32_t ahead;             /* slots queued in place */
    int dequeued;               /* index handed out by next(), or -1 */
    bool streaming;
    struct shmcam_format fmt;
    /*
     * The device's modes, enumerated at the first caps() after a start:
     * caps() runs for every region at every format publish, and each
     * enumeration ioctl is a USB round trip on uvcvideo.
     */
    struct shmcam_v4l2_mode modes[SHMCAM_V4L2_MAX_MODES];
    uint32_t nmodes;
    bool modes_valid;
    /*
     * The camera's controls (ABI 1.4), enumerated when the device is
     * opened and kept up to date from its V4L2_EVENT_CTRL events, which
     * ctrls() takes: the host asks at every heartbeat.  None while the
     * device is closed.
     */
    struct shmcam_ctrl ctrls[SHMCAM_MAX_CTRLS];
    struct shmcam_ctrl_menu menu[SHMCAM_MAX_MENU_ITEMS];
    uint32_t num_ctrls;
    uint32_t num_menu;
};

static int shmcam_v4l2_ioctl(int fd, unsigned long request, void *arg)
{
    int r;

    do {
        r = ioctl(fd, request, arg);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

/*
 * Indices a menu's range may span for QUERYMENU to walk it: far more than
 * SHMCAM_MAX_MENU entries and the 64 indices a V4L2 menu can skip, and a
 * bound on the ioctls for a driver that gives a menu a huge range.
 */
#define SHMCAM_V4L2_MENU_SPAN   1024

/*
 * Which of the camera's controls pass through (docs/controls.rst): the
 * user and camera classes, of the types a shmcam_ctrl carries, enabled.
 */
static bool shmcam_v4l2_ctrl_wanted(const struct v4l2_query_ext_ctrl *qc)
{
    uint32_t cls = V4L2_CTRL_ID2CLASS(qc->id);

    if ((cls != V4L2_CTRL_CLASS_USER && cls != V4L2_CTRL_CLASS_CAMERA) ||
        (qc->flags & V4L2_CTRL_FLAG_DISABLED)) {
        return false;
    }
    switch (qc->type) {
    case V4L2_CTRL_TYPE_INTEGER:
    case V4L2_CTRL_TYPE_BOOLEAN:
    case V4L2_CTRL_TYPE_MENU:
    case V4L2_CTRL_TYPE_BUTTON:
    case V4L2_CTRL_TYPE_INTEGER64:
    case V4L2_CTRL_TYPE_INTEGER_MENU:
        return true;
    default:
        return false;
    }
}

static bool shmcam_v4l2_ctrl_is_menu(const struct shmcam_ctrl *c)
{
    return c->type == SHMCAM_CTRL_MENU || c->type == SHMCAM_CTRL_INTEGER_MENU;
}

static struct shmcam_ctrl *shmcam_v4l2_ctrl_find(struct shmcam_v4l2_source *vs,
                                                 uint32_t id)
{
    uint32_t i;

    for (i = 0; i < vs->num_ctrls; i++) {
        if (vs->ctrls[i].id == id) {
            return &vs->ctrls[i];
        }
    }
    return NULL;
}

/*
 * One control's value (G_EXT_CTRLS) into @value: 0 or a negative errno.
 * Write-only controls (buttons among them) have none to read.
 */
static int shmcam_v4l2_get_ctrl(struct shmcam_v4l2_source *vs,
                                const struct shmcam_ctrl *c, int64_t *value)
{
    struct v4l2_ext_control ec = { .id = c->id };
    struct v4l2_ext_controls ecs = {
        .ctrl_class = V4L2_CTRL_ID2WHICH(c->id),
        .count = 1,
        .controls = &ec,
    };
    int ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_G_EXT_CTRLS, &ecs);

    if (!ret) {
        *value = c->type == SHMCAM_CTRL_INTEGER64 ? ec.value64 : ec.value;
    }
    return ret;
}

/* A driver's name of @len bytes, NUL-terminated or not, into @dst. */
static void shmcam_v4l2_ctrl_name(char dst[SHMCAM_CTRL_NAME_LEN],
                                  const void *src, size_t len)
{
    size_t n = MIN(strnlen(src, len), SHMCAM_CTRL_NAME_LEN - 1);

    memcpy(dst, src, n);
    dst[n] = 0;
}

/*
 * Control @c's range, step and default, from @qc.  A menu's range is
 * only taken when enumerating (its entries come with it).
 */
static void shmcam_v4l2_ctrl_range(struct shmcam_ctrl *c,
                                   const struct v4l2_query_ext_ctrl *qc)
{
    c->minimum = (uint64_t)qc->minimum;
    c->maximum = (uint64_t)qc->maximum;
    c->step = qc->step;
    c->default_value = (uint64_t)qc->default_value;
}

/*
 * The entries of menu control @c, QUERYMENU for each index of its range
 * (the indices it fails for skipped), appended to vs->menu: names for a
 * MENU, values for an INTEGER_MENU.  Returns true, or false with
 * vs->num_menu unchanged when they do not fit: more than SHMCAM_MAX_MENU,
 * or past the SHMCAM_MAX_MENU_ITEMS of all menus.
 */
static bool shmcam_v4l2_enum_menu(struct shmcam_v4l2_source *vs,
                                  struct shmcam_ctrl *c)
{
    int64_t min = (int64_t)c->minimum, max = (int64_t)c->maximum, i;
    uint32_t n = 0;

    if (min < 0 || max > UINT32_MAX ||
        (max >= min && max - min >= SHMCAM_V4L2_MENU_SPAN)) {
        return false;
    }
    for (i = min; i <= max; i++) {
        struct v4l2_querymenu qm = { .id = c->id, .index = (uint32_t)i };
        struct shmcam_ctrl_menu *e;

        if (shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_QUERYMENU, &qm)) {
            continue;
        }
        if (n == SHMCAM_MAX_MENU ||
            vs->num_menu + n == SHMCAM_MAX_MENU_ITEMS) {
            return false;
        }
        e = &vs->menu[vs->num_menu + n++];
        memset(e, 0, sizeof(*e));
        e->index = (uint32_t)i;
        if (c->type == SHMCAM_CTRL_MENU) {
            shmcam_v4l2_ctrl_name(e->name, qm.name, sizeof(qm.name));
        } else {
            e->value = (uint64_t)qm.value;
        }
    }
    c->menu_first = vs->num_menu;
    c->menu_count = n;
    vs->num_menu += n;
    return true;
}

/*
 * Enumerate the controls of the device just opened (QUERY_EXT_CTRL with
 * NEXT_CTRL: compound controls are not even listed), at most
 * SHMCAM_MAX_CTRLS of those that pass through, each subscribed to
 * (V4L2_EVENT_CTRL) before its value is read, so that no change after
 * the read goes unseen.  ALLOW_FEEDBACK: our own set_ctrl() may change
 * other controls of its cluster (an automatic mode making a value
 * inactive), which come as events to the fd that set it only so.
 */
static void shmcam_v4l2_enum_ctrls(struct shmcam_v4l2_source *vs)
{
    struct v4l2_query_ext_ctrl qc = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
    uint32_t last = 0;

    vs->num_ctrls = vs->num_menu = 0;
    while (vs->num_ctrls < SHMCAM_MAX_CTRLS &&
           !shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_QUERY_EXT_CTRL, &qc)) {
        struct shmcam_ctrl *c = &vs->ctrls[vs->num_ctrls];
        struct v4l2_event_subscription sub = {
            .type = V4L2_EVENT_CTRL,
            .id = qc.id,
            .flags = V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK,
        };
        int64_t value;

        /* Ids come in increasing order, the camera class last of ours. */
        if (qc.id <= last ||
            V4L2_CTRL_ID2CLASS(qc.id) > V4L2_CTRL_CLASS_CAMERA) {
            break;
        }
        last = qc.id;
        if (shmcam_v4l2_ctrl_wanted(&qc)) {
            memset(c, 0, sizeof(*c));
            c->id = qc.id;
            c->type = qc.type;
            c->flags = qc.flags & SHMCAM_CTRL_FLAGS;
            shmcam_v4l2_ctrl_name(c->name, qc.name, sizeof(qc.name));
            shmcam_v4l2_ctrl_range(c, &qc);
            if (!shmcam_v4l2_ctrl_is_menu(c) || shmcam_v4l2_enum_menu(vs, c)) {
                /* Without events (ENOTTY), changes elsewhere go unseen. */
                shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_SUBSCRIBE_EVENT, &sub);
                if (qc.flags & V4L2_CTRL_FLAG_WRITE_ONLY) {
                    value = 0;
                } else if (shmcam_v4l2_get_ctrl(vs, c, &value)) {
                    value = qc.default_value;
                }
                c->value = (uint64_t)value;
                vs->num_ctrls++;
            }
        }
        memset(&qc, 0, sizeof(qc));
        qc.id = last | V4L2_CTRL_FLAG_NEXT_CTRL;
    }
}

/*
 * Take the control events pending on the device (DQEVENT, the fd being
 * non-blocking, until it has none) into the cached controls: values,
 * flags, and the range of a control other than a menu.  Bounded, so that
 * a camera whose controls never stop changing cannot hold up the loop.
 */
static void shmcam_v4l2_ctrl_events(struct shmcam_v4l2_source *vs)
{
    uint32_t n;

    for (n = 0; n < 4 * SHMCAM_MAX_CTRLS; n++) {
        struct v4l2_event ev = { 0 };
        const struct v4l2_event_ctrl *ec = &ev.u.ctrl;
        struct shmcam_ctrl *c;

        if (shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_DQEVENT, &ev)) {
            break;
        }
        c = ev.type == V4L2_EVENT_CTRL ? shmcam_v4l2_ctrl_find(vs, ev.id)
                                       : NULL;
        if (!c) {
            continue;
        }
        if ((ec->changes & V4L2_EVENT_CTRL_CH_VALUE) &&
            c->type != SHMCAM_CTRL_BUTTON) {
            c->value = c->type == SHMCAM_CTRL_INTEGER64 ?
                       (uint64_t)ec->value64 : (uint64_t)(int64_t)ec->value;
        }
        if (ec->changes & V4L2_EVENT_CTRL_CH_FLAGS) {
            c->flags = ec->flags & SHMCAM_CTRL_FLAGS;
        }
        if ((ec->changes & V4L2_EVENT_CTRL_CH_RANGE) &&
            !shmcam_v4l2_ctrl_is_menu(c)) {
            /* the event's range is 32-bit: ask for the control's own */
            struct v4l2_query_ext_ctrl qc = { .id = c->id };

            if (!shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_QUERY_EXT_CTRL, &qc)) {
                shmcam_v4l2_ctrl_range(c, &qc);
            }
        }
    }
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
    shmcam_v4l2_enum_ctrls(vs);
    return 0;
}

static bool shmcam_v4l2_supported(uint32_t fourcc)
{
    return fourcc == SHMCAM_FMT_YUYV || fourcc == SHMCAM_FMT_NV12 ||
           fourcc == SHMCAM_FMT_YUV420 || fourcc == SHMCAM_FMT_MJPEG;
}

/*
 * Can shmcam carry what the driver answered (S_FMT or TRY_FMT)?  The
 * limits are the ABI's (include/shmcam.h), the even sizes
 * shmcam_format_init() insists on, and the line and image sizes a reader
 * checks (docs/specs/shmcam.rst, "Format").  Returns true, or false with
 * @why saying which limit the answer is outside.
 */
bool shmcam_v4l2_answer_ok(const struct v4l2_pix_format *pix, char *why,
                           size_t len)
{
    struct shmcam_format f = { .sizeimage = pix->sizeimage };
    bool packed = pix->pixelformat != SHMCAM_FMT_MJPEG;
    bool yuyv = pix->pixelformat == SHMCAM_FMT_YUYV;
    uint32_t min_bpl = yuyv ? pix->width * 2 : pix->width;
    uint32_t max_bpl = yuyv ? SHMCAM_MAX_WIDTH * 4 : SHMCAM_MAX_WIDTH * 2;
    uint64_t min_image = yuyv ? (uint64_t)pix->bytesperline * pix->height :
                         (uint64_t)pix->bytesperline * pix->height * 3 / 2;

    if (!shmcam_v4l2_supported(pix->pixelformat)) {
        g_snprintf(why, len, "shmcam carries only %s", shmcam_format_names());
    } else if (pix->width < SHMCAM_MIN_WIDTH ||
               pix->width > SHMCAM_MAX_WIDTH) {
        g_snprintf(why, len, "width %u is outside %u..%u", pix->width,
                   SHMCAM_MIN_WIDTH, SHMCAM_MAX_WIDTH);
    } else if (pix->height < SHMCAM_MIN_HEIGHT ||
               pix->height > SHMCAM_MAX_HEIGHT) {
        g_snprintf(why, len, "height %u is outside %u..%u", pix->height,
                   SHMCAM_MIN_HEIGHT, SHMCAM_MAX_HEIGHT);
    } else if ((pix->width | pix->height) & 1) {
        g_snprintf(why, len, "shmcam needs an even width and height");
    } else if (packed && pix->bytesperline < min_bpl) {
        g_snprintf(why, len, "bytesperline %u is below the %u bytes of a "
                   "line", pix->bytesperline, min_bpl);
    } else if (packed && pix->bytesperline > max_bpl) {
        g_snprintf(why, len, "bytesperline %u is above %u, the most a "
                   "reader accepts", pix->bytesperline, max_bpl);
    } else if (!pix->sizeimage) {
        g_snprintf(why, len, "sizeimage 0 holds no frame");
    } else if (packed && pix->sizeimage < min_image) {
        g_snprintf(why, len, "sizeimage %u is below the %llu bytes of "
                   "%u lines of %u", pix->sizeimage,
                   (unsigned long long)min_image, pix->height,
                   pix->bytesperline);
    } else if (!shmcam_format_slot_size(&f)) {
        g_snprintf(why, len, "sizeimage %u does not fit a slot (below "
                   "4 GiB)", pix->sizeimage);
    } else {
        return true;
    }
    return false;
}

/*
 * Set @fmt (S_FMT, then S_PARM) and take the driver's answer into @fmt.
 * Returns 0; -EINVAL with @errp set when the device does not take the
 * format or answered one shmcam cannot carry (opening it again would not
 * change that); or S_FMT's negative errno, @errp set too.
 */
static int shmcam_v4l2_set_format(struct shmcam_v4l2_source *vs,
                                  struct shmcam_format *fmt, GError **errp)
{
    struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    struct v4l2_pix_format *pix = &f.fmt.pix;
    char want[5], got[5], why[96];
    int ret;

    pix->pixelformat = fmt->pixelformat;
    pix->width = fmt->width;
    pix->height = fmt->height;
    pix->field = V4L2_FIELD_NONE;
    ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_S_FMT, &f);
    shmcam_format_name(fmt->pixelformat, want);
    shmcam_format_name(pix->pixelformat, got);
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s: setting %ux%u %s: %s "
                    "(choose another --format or --size)", vs->device,
                    fmt->width, fmt->height, want, g_strerror(-ret));
        return ret;
    }
    if (pix->pixelformat != fmt->pixelformat) {
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s cannot deliver %s "
                    "(it offered %s; choose another --format)", vs->device,
                    want, got);
        return -EINVAL;
    }
    if (!shmcam_v4l2_answer_ok(pix, why, sizeof(why))) {
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s answered %ux%u %s "
                    "(bytesperline %u, sizeimage %u) when asked for %ux%u: "
                    "%s (choose another --format or --size)", vs->device,
                    pix->width, pix->height, got, pix->bytesperline,
                    pix->sizeimage, fmt->width, fmt->height, why);
        return -EINVAL;
    }
    fmt->width = pix->width;
    fmt->height = pix->height;
    fmt->bytesperline = fmt->pixelformat == SHMCAM_FMT_MJPEG ? 0 :
                        pix->bytesperline;
    fmt->sizeimage = pix->sizeimage;
    fmt->colorspace = pix->colorspace;
    /* The V4L2 enums fit in a byte; anything else is not known. */
    vs->base.color = (struct shmcam_color) {
        .xfer_func = pix->xfer_func <= V4L2_XFER_FUNC_SMPTE2084 ?
                     pix->xfer_func : 0,
        .ycbcr_enc = pix->ycbcr_enc <= V4L2_YCBCR_ENC_SMPTE240M ?
                     pix->ycbcr_enc : 0,
        .quantization = pix->quantization <= V4L2_QUANTIZATION_LIM_RANGE ?
                        pix->quantization : 0,
    };

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
    vs->allocated = true;
    vs->memory = V4L2_MEMORY_MMAP;
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

/*
 * Stream off and give the buffers back (STREAMOFF, unmap, REQBUFS 0),
 * leaving the device open and ready for S_FMT.  Returns 0 or the negative
 * errno of the first ioctl that failed; the buffers are forgotten anyway.
 */
static int shmcam_v4l2_release_buffers(struct shmcam_v4l2_source *vs)
{
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    struct v4l2_requestbuffers req = {
        .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
        .memory = vs->memory,
    };
    uint32_t i;
    int ret = 0, r;

    if (vs->streaming) {
        ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_STREAMOFF, &type);
        vs->streaming = false;
    }
    if (vs->inplace) {
        /*
         * Streamed off, the camera writes into no slot any more.  (The
         * slots stay pinned until REQBUFS 0 below; had STREAMOFF failed,
         * the device is closed next, which frees the queue.)
         */
        shmcam_producer_release_held(vs->inplace);
        shmcam_producer_set_ahead(vs->inplace, 1);
        vs->inplace = NULL;
    }
    for (i = 0; i < vs->nbufs; i++) {
        munmap(vs->buf[i].start, vs->buf[i].length);
    }
    if (vs->allocated) {
        r = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_REQBUFS, &req);
        ret = ret ? ret : r;
    }
    vs->nbufs = 0;
    vs->allocated = false;
    vs->dequeued = -1;
    return ret;
}

/* Stop streaming and close the device; start() opens it again. */
static void shmcam_v4l2_stop(struct shmcam_source *s)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;

    if (vs->base.fd < 0) {
        return;
    }
    shmcam_v4l2_release_buffers(vs);
    close(vs->base.fd);
    vs->base.fd = -1;
    vs->num_ctrls = vs->num_menu = 0;
}

/* Give USERPTR buffer @index, slot @index of @p, to the camera. */
static int shmcam_v4l2_queue_slot(struct shmcam_v4l2_source *vs,
                                  struct shmcam_producer *p, uint64_t frame)
{
    void *slot = shmcam_producer_hold(p, frame);
    struct v4l2_buffer b = {
        .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
        .memory = V4L2_MEMORY_USERPTR,
        .index = frame % p->slot_count,
        .m.userptr = (unsigned long)slot,
        .length = p->slot_size,
    };

    if (!slot) {
        return -EINVAL;
    }
    return shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_QBUF, &b);
}

/*
 * Stream into the slots of vs->want: one USERPTR buffer per slot, buffer
 * i being slot i, so that the driver pins each slot once; the slots of
 * the next vs->ahead frames queued.  Returns 0, or a negative errno with
 * @why saying what stood in the way (the caller releases the buffers).
 */
static int shmcam_v4l2_stream_in_place(struct shmcam_v4l2_source *vs,
                                       char *why, size_t len)
{
    struct shmcam_producer *p = vs->want;
    struct v4l2_requestbuffers req = {
        .count = p->slot_count,
        .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
        .memory = V4L2_MEMORY_USERPTR,
    };
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    uint32_t ahead = MIN(p->slot_count - 2, SHMCAM_V4L2_BUFFERS), k;
    int ret;

    if (p->slot_count < 4) {
        g_snprintf(why, len, "the region has %u slots, and the camera "
                   "writing into them needs 4 or more (--slots 4)",
                   p->slot_count);
        return -ENOSPC;
    }
    ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_REQBUFS, &req);
    if (ret) {
        g_snprintf(why, len, "its driver takes no USERPTR buffers (%s)",
                   g_strerror(-ret));
        return ret;
    }
    vs->allocated = true;
    vs->memory = V4L2_MEMORY_USERPTR;
    if (req.count < p->slot_count) {
        g_snprintf(why, len, "its driver gave %u USERPTR buffers for %u "
                   "slots", req.count, p->slot_count);
        return -ENOMEM;
    }
    ret = shmcam_producer_set_ahead(p, ahead);
    vs->inplace = p;
    for (k = 0; k < ahead && !ret; k++) {
        ret = shmcam_v4l2_queue_slot(vs, p, p->frame + k);
    }
    if (ret) {
        g_snprintf(why, len, "its driver cannot pin the region's memory "
                   "(%s; memory of a PCI BAR or of a disk file system cannot "
                   "be pinned)", g_strerror(-ret));
        return ret;
    }
    ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_STREAMON, &type);
    if (ret) {
        g_snprintf(why, len, "it does not stream into the region's memory "
                   "(%s)", g_strerror(-ret));
        return ret;
    }
    vs->streaming = true;
    vs->ahead = ahead;
    return 0;
}

/*
 * Stream in place when there is one region to stream into and that has
 * not failed before (each failure is said once); else, or when it fails,
 * into buffers of the camera's own.  0, or a negative errno with @errp
 * set.
 */
static int shmcam_v4l2_stream(struct shmcam_v4l2_source *vs, GError **errp)
{
    char why[160];
    int ret;

    if (vs->want && vs->want != vs->refused) {
        ret = shmcam_v4l2_stream_in_place(vs, why, sizeof(why));
        if (!ret) {
            if (!vs->said) {
                fprintf(stderr, "shmcam-host: camera %s: capturing straight "
                        "into the region's slots (V4L2 USERPTR, %u of %u "
                        "queued)\n", vs->device, vs->ahead,
                        vs->want->slot_count);
                vs->said = true;
            }
            return 0;
        }
        shmcam_v4l2_release_buffers(vs);
        vs->refused = vs->want;
        fprintf(stderr, "shmcam-host: camera %s: frames are captured into "
                "its own buffers and copied into the region: %s\n",
                vs->device, why);
    }
    ret = shmcam_v4l2_init_buffers(vs);
    if (!ret) {
        ret = shmcam_v4l2_stream_on(vs);
    }
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "camera %s: cannot start "
                    "streaming: %s (is another program using it?)",
                    vs->device, g_strerror(-ret));
    }
    return ret;
}

/*
 * A new format on the device already open: stream off, release the
 * buffers, set the format, stream on, all on the same fd.  Closing and
 * reopening would be slower (uvcvideo powers the camera down and up) and
 * would let another program take the device in between.  Returns 0;
 * -EINVAL with @errp set when the device does not take @fmt (the device
 * stays open, not streaming); another negative errno, @errp set, when the
 * sequence failed on the way and reopening may help.
 */
static int shmcam_v4l2_switch(struct shmcam_v4l2_source *vs,
                              struct shmcam_format *fmt, GError **errp)
{
    int ret = shmcam_v4l2_release_buffers(vs);

    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "stream off: %s",
                    g_strerror(-ret));
        return ret == -EINVAL ? -EIO : ret;
    }
    ret = shmcam_v4l2_set_format(vs, fmt, errp);
    if (ret) {
        return ret;
    }
    ret = shmcam_v4l2_stream(vs, errp);
    return ret == -EINVAL ? -EIO : ret;
}

static int shmcam_v4l2_start(struct shmcam_source *s,
                             struct shmcam_format *fmt, GError **errp)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    struct shmcam_format want = *fmt;
    GError *err = NULL;
    char desc[48];
    int ret;

    vs->modes_valid = false;
    if (vs->base.fd >= 0) {
        ret = shmcam_v4l2_switch(vs, fmt, &err);
        shmcam_format_str(fmt, desc, sizeof(desc));
        if (!ret) {
            fprintf(stderr, "shmcam-host: camera %s: switched to %s on the "
                    "open device\n", vs->device, desc);
            return 0;
        }
        if (ret == -EINVAL) {
            g_propagate_error(errp, err);
            return ret;
        }
        fprintf(stderr, "shmcam-host: camera %s: cannot switch to %s on the "
                "open device (%s): closing and reopening it\n", vs->device,
                desc, err->message);
        g_clear_error(&err);
        shmcam_v4l2_stop(s);
        *fmt = want;
    }
    ret = shmcam_v4l2_open(vs, errp);
    if (ret) {
        return ret;
    }
    ret = shmcam_v4l2_set_format(vs, fmt, errp);
    if (!ret) {
        ret = shmcam_v4l2_stream(vs, errp);
    }
    if (ret) {
        shmcam_v4l2_stop(s);
    }
    return ret;
}

/*
 * Stream again on the open device, the format unchanged: after a change
 * of target, or when capturing in place broke.  0 or a negative errno.
 */
static int shmcam_v4l2_restream(struct shmcam_v4l2_source *vs)
{
    GError *err = NULL;
    int ret = shmcam_v4l2_release_buffers(vs);

    if (!ret) {
        ret = shmcam_v4l2_stream(vs, &err);
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: camera %s: %s\n", vs->device,
                err ? err->message : g_strerror(-ret));
        g_clear_error(&err);
    }
    return ret;
}

/*
 * A buffer dequeued from the slots: it must be the slot of the frame due,
 * the oldest queued (drivers complete buffers in the order queued).
 * Returns 0 with @f's data and held set, or -EAGAIN when there is no
 * frame to publish: the buffer came empty (its frame number is given up
 * and the slot queued again), or the camera broke the order, which ends
 * capturing in place for this region: it streams again at once, into
 * buffers of its own (-ENODEV when that fails).
 */
static int shmcam_v4l2_next_in_place(struct shmcam_v4l2_source *vs,
                                     const struct v4l2_buffer *b,
                                     struct shmcam_source_frame *f)
{
    struct shmcam_producer *p = vs->inplace;
    uint32_t idx = p->frame % p->slot_count;
    uint8_t *slot = p->data + (uint64_t)idx * p->slot_size;

    if (b->index != idx || b->m.userptr != (unsigned long)slot) {
        fprintf(stderr, "shmcam-host: camera %s returned buffer %u when "
                "slot %u was due: capturing into its own buffers from now "
                "on\n", vs->device, b->index, idx);
        vs->refused = p;
        return shmcam_v4l2_restream(vs) ? -ENODEV : -EAGAIN;
    }
    vs->dequeued = idx;
    if (!b->bytesused || b->bytesused > p->slot_size) {
        shmcam_producer_commit_held(p, 0, 0, 0);
        vs->base.ops->release(&vs->base);
        return -EAGAIN;
    }
    f->data = slot;
    f->held = p;
    return 0;
}

static int shmcam_v4l2_next(struct shmcam_source *s,
                            struct shmcam_source_frame *f)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    int ret;

    if (vs->base.fd < 0) {
        return -ENODEV;
    }
    b.memory = vs->memory;
    ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_DQBUF, &b);
    if (ret == -EAGAIN) {
        return ret;
    }
    if (vs->inplace) {
        ret = ret ? -ENODEV : shmcam_v4l2_next_in_place(vs, &b, f);
        if (ret) {
            return ret;
        }
    } else if (ret || b.index >= vs->nbufs) {
        return -ENODEV;
    } else {
        vs->dequeued = b.index;
        if (!b.bytesused || b.bytesused > vs->buf[b.index].length) {
            /* nothing usable: hand the buffer straight back */
            s->ops->release(s);
            return -EAGAIN;
        }
        f->data = vs->buf[b.index].start;
        f->held = NULL;
    }
    f->len = b.bytesused;
    f->flags = (b.flags & V4L2_BUF_FLAG_ERROR ? SHMCAM_SLOT_ERROR : 0) |
               (b.flags & V4L2_BUF_FLAG_KEYFRAME ||
                vs->fmt.pixelformat != SHMCAM_FMT_MJPEG ? SHMCAM_SLOT_KEYFRAME : 0);
    /*
     * The driver's capture time, when it is on our clock: guests then see
     * the camera's frame pacing, not our poll wakeups.  Other clocks
     * (COPY, UNKNOWN) leave it to the publish time.
     */
    f->timestamp_ns = 0;
    if ((b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) ==
        V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC && b.timestamp.tv_sec >= 0) {
        f->timestamp_ns = (uint64_t)b.timestamp.tv_sec * SHMCAM_V4L2_NSEC +
                          (uint64_t)b.timestamp.tv_usec * 1000;
    }
    return 0;
}

static void shmcam_v4l2_release(struct shmcam_source *s)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;

    if (vs->dequeued >= 0 && vs->base.fd >= 0 && vs->inplace) {
        /*
         * The frame was committed (or given up): the slot of the frame
         * vs->ahead after it goes to the camera.  Should that fail, the
         * camera would run short of slots: stream again at once, copying
         * (the device closed when that fails: next() says -ENODEV).
         */
        struct shmcam_producer *p = vs->inplace;

        if (shmcam_v4l2_queue_slot(vs, p, p->frame + vs->ahead - 1)) {
            fprintf(stderr, "shmcam-host: camera %s: cannot queue the "
                    "next slot: capturing into its own buffers from now "
                    "on\n", vs->device);
            vs->refused = p;
            if (shmcam_v4l2_restream(vs)) {
                shmcam_v4l2_stop(s);
            }
        }
    } else if (vs->dequeued >= 0 && vs->base.fd >= 0) {
        shmcam_v4l2_queue(vs, vs->dequeued);
    }
    vs->dequeued = -1;
}

/*
 * The one region frames go to now, or NULL.  Capturing into the slots
 * of another region stops at once, so that the camera never writes into
 * a region about to be unmapped; the next capture goes where it can.
 */
static void shmcam_v4l2_target(struct shmcam_source *s,
                               struct shmcam_producer *p)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;

    if (!vs->in_place) {
        if (p && !vs->said) {
            fprintf(stderr, "shmcam-host: camera %s: frames are captured "
                    "into its own buffers and copied into the region "
                    "(--camera-io mmap)\n", vs->device);
            vs->said = true;
        }
        return;
    }
    if (p == vs->want) {
        return;
    }
    vs->want = p;
    vs->refused = NULL;
    vs->said = false;
    if (vs->streaming && (vs->inplace || p) && shmcam_v4l2_restream(vs)) {
        shmcam_v4l2_stop(s);
    }
}

static void shmcam_v4l2_free(struct shmcam_source *s)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;

    shmcam_v4l2_stop(s);
    g_free(vs->device);
    g_free(vs);
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
            shmcam_cap_add_interval(c, iv.discrete.numerator,
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
                shmcam_cap_add_interval(c, 1, rates[i]);
            }
        }
        shmcam_cap_add_interval(c, iv.stepwise.min.numerator,
                                 iv.stepwise.min.denominator);
        break;
    }
    if (!c->num_intervals) {
        shmcam_cap_add_interval(c, vs->fmt.interval.numerator,
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

/*
 * The line and image size the driver gives @fourcc at @w x @h (TRY_FMT)
 * into @size: 0, or -EINVAL when it would deliver another format or
 * size, or one shmcam cannot carry.
 */
static int shmcam_v4l2_try(struct shmcam_v4l2_source *vs, uint32_t fourcc,
                           uint32_t w, uint32_t h, struct shmcam_cap_size *size)
{
    struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    char why[96];

    f.fmt.pix.pixelformat = fourcc;
    f.fmt.pix.width = w;
    f.fmt.pix.height = h;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    if (shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_TRY_FMT, &f) ||
        f.fmt.pix.pixelformat != fourcc || f.fmt.pix.width != w ||
        f.fmt.pix.height != h ||
        !shmcam_v4l2_answer_ok(&f.fmt.pix, why, sizeof(why))) {
        return -EINVAL;
    }
    size->bytesperline = fourcc == SHMCAM_FMT_MJPEG ? 0 :
                         f.fmt.pix.bytesperline;
    size->sizeimage = f.fmt.pix.sizeimage;
    return 0;
}

/*
 * Enumerate the device's modes once (ENUM_FMT, ENUM_FRAMESIZES,
 * ENUM_FRAMEINTERVALS, and TRY_FMT for each one's sizeimage): the formats
 * shmcam carries, whatever their size.
 */
static void shmcam_v4l2_enum_modes(struct shmcam_v4l2_source *vs)
{
    struct v4l2_fmtdesc fd = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
    uint32_t sizes[SHMCAM_V4L2_MAX_MODES][2], n = 0, i;

    for (; n < SHMCAM_V4L2_MAX_MODES &&
         !shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_ENUM_FMT, &fd); fd.index++) {
        uint32_t nsizes;

        if (!shmcam_v4l2_supported(fd.pixelformat)) {
            continue;
        }
        nsizes = shmcam_v4l2_sizes(vs, fd.pixelformat, sizes,
                                   SHMCAM_V4L2_MAX_MODES);
        for (i = 0; i < nsizes && n < SHMCAM_V4L2_MAX_MODES; i++) {
            struct shmcam_v4l2_mode *m = &vs->modes[n];

            memset(m, 0, sizeof(*m));
            if (shmcam_v4l2_try(vs, fd.pixelformat, sizes[i][0], sizes[i][1],
                                &m->size)) {
                continue;
            }
            m->cap.pixelformat = fd.pixelformat;
            m->cap.width = sizes[i][0];
            m->cap.height = sizes[i][1];
            shmcam_v4l2_intervals(vs, &m->cap);
            n++;
        }
    }
    vs->nmodes = n;
    vs->modes_valid = true;
}

static bool shmcam_v4l2_is_current(struct shmcam_v4l2_source *vs,
                                   const struct shmcam_cap *c)
{
    return c->pixelformat == vs->fmt.pixelformat &&
           c->width == vs->fmt.width && c->height == vs->fmt.height;
}

/*
 * The capability table from the camera's own lists, as enumerated after
 * this start: the modes whose frames fit a slot of @slot_size bytes, the
 * one now streaming first.
 */
static uint32_t shmcam_v4l2_caps(struct shmcam_source *s, uint32_t slot_size,
                                 struct shmcam_cap *caps,
                                 struct shmcam_cap_size *sizes)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    uint32_t n = 0, i, pass;

    if (vs->base.fd < 0) {
        return 0;
    }
    if (!vs->modes_valid) {
        shmcam_v4l2_enum_modes(vs);
    }
    /* Pass 0 takes the current mode, pass 1 the others in the device's
     * order, so the current one is in even when more than fit. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < vs->nmodes && n < SHMCAM_MAX_CAPS; i++) {
            const struct shmcam_v4l2_mode *m = &vs->modes[i];
            bool current = shmcam_v4l2_is_current(vs, &m->cap);

            if (m->size.sizeimage > slot_size || current != (pass == 0)) {
                continue;
            }
            sizes[n] = m->size;
            caps[n++] = m->cap;
        }
    }
    return n;
}

/*
 * The controls as enumerated at the last open, with the changes the
 * camera has told of since: none while the device is closed.
 */
static void shmcam_v4l2_ctrls(struct shmcam_source *s,
                              struct shmcam_ctrl_table *t)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;

    if (vs->base.fd < 0) {
        t->num_ctrls = t->num_menu = 0;
        return;
    }
    shmcam_v4l2_ctrl_events(vs);
    memcpy(t->ctrls, vs->ctrls, vs->num_ctrls * sizeof(vs->ctrls[0]));
    memcpy(t->menu, vs->menu, vs->num_menu * sizeof(vs->menu[0]));
    t->num_ctrls = vs->num_ctrls;
    t->num_menu = vs->num_menu;
}

/*
 * S_EXT_CTRLS, then G_EXT_CTRLS for what the camera kept (it may round or
 * clamp); a button or another write-only control has nothing to read
 * back: it kept @value.  0, or the positive errno of the ioctl that
 * failed.
 */
static int shmcam_v4l2_set_ctrl(struct shmcam_source *s, uint32_t id,
                                int64_t value, int64_t *applied)
{
    struct shmcam_v4l2_source *vs = (struct shmcam_v4l2_source *)s;
    struct shmcam_ctrl *c = shmcam_v4l2_ctrl_find(vs, id);
    struct v4l2_ext_control ec = { .id = id };
    struct v4l2_ext_controls ecs = {
        .ctrl_class = V4L2_CTRL_ID2WHICH(id),
        .count = 1,
        .controls = &ec,
    };
    int64_t got = value;
    int ret;

    if (vs->base.fd < 0) {
        return ENODEV;
    }
    if (!c) {
        return EINVAL;
    }
    if (c->type == SHMCAM_CTRL_INTEGER64) {
        ec.value64 = value;
    } else {
        ec.value = (int32_t)value;
    }
    ret = shmcam_v4l2_ioctl(vs->base.fd, VIDIOC_S_EXT_CTRLS, &ecs);
    if (!ret && c->type != SHMCAM_CTRL_BUTTON &&
        !(c->flags & SHMCAM_CTRL_FLAG_WRITE_ONLY)) {
        ret = shmcam_v4l2_get_ctrl(vs, c, &got);
    }
    if (ret) {
        return -ret;
    }
    if (c->type != SHMCAM_CTRL_BUTTON) {
        c->value = (uint64_t)got;
    }
    *applied = got;
    return 0;
}

static const struct shmcam_source_ops shmcam_v4l2_source_ops = {
    .start = shmcam_v4l2_start,
    .caps = shmcam_v4l2_caps,
    .next = shmcam_v4l2_next,
    .target = shmcam_v4l2_target,
    .ctrls = shmcam_v4l2_ctrls,
    .set_ctrl = shmcam_v4l2_set_ctrl,
    .release = shmcam_v4l2_release,
    .stop = shmcam_v4l2_stop,
    .free = shmcam_v4l2_free,
};

struct shmcam_source *shmcam_v4l2_source_new(const char *device,
                                             bool in_place)
{
    struct shmcam_v4l2_source *vs = g_new0(struct shmcam_v4l2_source, 1);

    vs->base.ops = &shmcam_v4l2_source_ops;
    vs->base.card = vs->card;
    vs->base.fd = -1;
    vs->base.paced = true;
    vs->dequeued = -1;
    vs->in_place = in_place;
    vs->device = g_strdup(device);
    return &vs->base;
}

