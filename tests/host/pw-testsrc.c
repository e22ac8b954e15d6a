/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A PipeWire camera for tests/host/pipewire.sh: a Video/Source node that
 * drives the graph at its frame rate, as a camera node does, and offers
 * what shmcam carries (YUYV, NV12, I420 and MJPEG, at 320x240 and
 * 640x480, at 30 and 15 fps), so that a consumer can renegotiate.  Its
 * frames are shmcam's test pattern (hw/common/shmcam-pattern.c), numbered
 * on from one format to the next, so that shmcam-dump --verify checks
 * what shmcam-host published byte for byte.
 *
 *   pw-testsrc NAME [--align N] [--planes]
 *
 * --align pads each line to a multiple of N bytes (a stride larger than
 * the line, which shmcam-host publishes as bytesperline); --planes puts
 * each plane of NV12 and I420 in a data block of its own (which
 * shmcam-host copies into its one-block layout).  Runs until SIGTERM or
 * SIGINT; prints "format WxH FOURCC" on stdout at each format set.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <pipewire/pipewire.h>
#include <spa/buffer/meta.h>
#include <spa/param/buffers.h>
#include <spa/param/format-utils.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

#include "shmcam-format.h"
#include "shmcam-pattern.h"

struct pw_testsrc {
    struct pw_main_loop *loop;
    struct pw_stream *stream;
    struct spa_hook listener;
    struct spa_source *timer;
    uint32_t align;
    bool planes;
    struct shmcam_format fmt;
    struct shmcam_pattern pat;
    bool have_pat;
    uint8_t *frame;                     /* a drawn frame, with --planes */
    uint64_t n;                         /* frames sent */
    bool streaming;
};

static const struct spa_rectangle pw_testsrc_sizes[] = {
    { 320, 240 }, { 640, 480 },
};
static const struct spa_fraction pw_testsrc_rates[] = {
    { 30, 1 }, { 15, 1 },
};

static const struct spa_pod *pw_testsrc_enum(struct spa_pod_builder *b,
                                             uint32_t subtype, uint32_t format)
{
    struct spa_pod_frame f;

    spa_pod_builder_push_object(b, &f, SPA_TYPE_OBJECT_Format,
                                SPA_PARAM_EnumFormat);
    spa_pod_builder_add(b,
        SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
        SPA_FORMAT_mediaSubtype, SPA_POD_Id(subtype), 0);
    if (subtype == SPA_MEDIA_SUBTYPE_raw) {
        spa_pod_builder_add(b, SPA_FORMAT_VIDEO_format, SPA_POD_Id(format), 0);
    }
    spa_pod_builder_add(b,
        SPA_FORMAT_VIDEO_size, SPA_POD_CHOICE_ENUM_Rectangle(3,
            &pw_testsrc_sizes[0], &pw_testsrc_sizes[0], &pw_testsrc_sizes[1]),
        SPA_FORMAT_VIDEO_framerate, SPA_POD_CHOICE_ENUM_Fraction(3,
            &pw_testsrc_rates[0], &pw_testsrc_rates[0], &pw_testsrc_rates[1]),
        0);
    return spa_pod_builder_pop(b, &f);
}

static uint32_t pw_testsrc_nplanes(uint32_t fourcc)
{
    return fourcc == SHMCAM_FMT_NV12 ? 2 : fourcc == SHMCAM_FMT_YUV420 ? 3 : 1;
}

/* Plane @i of a frame of @f: its offset, size and stride. */
static void pw_testsrc_plane(const struct shmcam_format *f, uint32_t i,
                             uint32_t *offset, uint32_t *size,
                             uint32_t *stride)
{
    uint32_t y = f->bytesperline * f->height;

    *stride = f->bytesperline;
    if (i == 0) {
        *offset = 0;
        *size = f->pixelformat == SHMCAM_FMT_MJPEG ? f->sizeimage : y;
        return;
    }
    if (f->pixelformat == SHMCAM_FMT_NV12) {
        *offset = y;
        *size = y / 2;
        return;
    }
    *stride = f->bytesperline / 2;
    *offset = y + (i - 1) * (y / 4);
    *size = y / 4;
}

static void pw_testsrc_process(void *data)
{
    struct pw_testsrc *t = data;
    struct pw_buffer *pb = pw_stream_dequeue_buffer(t->stream);
    struct spa_buffer *sb;
    struct spa_meta_header *h;
    struct timespec ts;
    uint32_t len = 0, i, nplanes;

    if (!pb) {
        return;
    }
    sb = pb->buffer;
    nplanes = t->planes ? pw_testsrc_nplanes(t->fmt.pixelformat) : 1;
    if (t->have_pat && sb->n_datas >= nplanes && sb->datas[0].data) {
        if (nplanes == 1) {
            len = shmcam_pattern_render_into(&t->pat, t->n, sb->datas[0].data,
                                             sb->datas[0].maxsize);
            sb->datas[0].chunk->offset = 0;
            sb->datas[0].chunk->size = len;
            sb->datas[0].chunk->stride =
                t->fmt.pixelformat == SHMCAM_FMT_MJPEG ? 0 :
                t->fmt.bytesperline;
        } else {
            len = shmcam_pattern_render_into(&t->pat, t->n, t->frame,
                                             t->fmt.sizeimage);
            for (i = 0; len && i < nplanes; i++) {
                uint32_t off, size, stride;

                pw_testsrc_plane(&t->fmt, i, &off, &size, &stride);
                if (!sb->datas[i].data || sb->datas[i].maxsize < size) {
                    len = 0;
                    break;
                }
                memcpy(sb->datas[i].data, t->frame + off, size);
                sb->datas[i].chunk->offset = 0;
                sb->datas[i].chunk->size = size;
                sb->datas[i].chunk->stride = stride;
            }
        }
    }
    if (!len) {
        for (i = 0; i < sb->n_datas; i++) {
            sb->datas[i].chunk->size = 0;
        }
    }
    h = spa_buffer_find_meta_data(sb, SPA_META_Header, sizeof(*h));
    if (h) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        h->pts = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
        h->flags = 0;
        h->seq = t->n;
        h->dts_offset = 0;
    }
    if (len) {
        t->n++;
    }
    pw_stream_queue_buffer(t->stream, pb);
}

static void pw_testsrc_tick(void *data, uint64_t expirations)
{
    struct pw_testsrc *t = data;

    (void)expirations;
    if (t->streaming) {
        pw_stream_trigger_process(t->stream);
    }
}

static void pw_testsrc_arm(struct pw_testsrc *t)
{
    struct pw_loop *l = pw_main_loop_get_loop(t->loop);
    struct timespec iv = { 0, 0 }, first = { 0, 1 };
    uint64_t ns = 1000000000ull * t->fmt.interval.numerator /
                  t->fmt.interval.denominator;

    iv.tv_sec = ns / 1000000000ull;
    iv.tv_nsec = ns % 1000000000ull;
    pw_loop_update_timer(l, t->timer, t->streaming ? &first : NULL, &iv,
                         false);
}

static void pw_testsrc_state(void *data, enum pw_stream_state old,
                             enum pw_stream_state state, const char *error)
{
    struct pw_testsrc *t = data;

    (void)old;
    if (state == PW_STREAM_STATE_ERROR) {
        fprintf(stderr, "pw-testsrc: stream error: %s\n", error);
    }
    t->streaming = state == PW_STREAM_STATE_STREAMING;
    pw_testsrc_arm(t);
}

static void pw_testsrc_param(void *data, uint32_t id,
                             const struct spa_pod *param)
{
    struct pw_testsrc *t = data;
    uint32_t media_type, subtype, fourcc = SHMCAM_FMT_MJPEG, nplanes, line;
    struct spa_video_info_raw raw;
    struct spa_video_info_mjpg mjpg;
    struct spa_rectangle size;
    struct spa_fraction rate;
    struct shmcam_fract iv;
    uint8_t buf[512];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *params[2];
    uint32_t off, psize, stride;

    if (id != SPA_PARAM_Format || !param ||
        spa_format_parse(param, &media_type, &subtype) < 0) {
        return;
    }
    if (subtype == SPA_MEDIA_SUBTYPE_raw) {
        spa_format_video_raw_parse(param, &raw);
        size = raw.size;
        rate = raw.framerate;
        fourcc = raw.format == SPA_VIDEO_FORMAT_YUY2 ? SHMCAM_FMT_YUYV :
                 raw.format == SPA_VIDEO_FORMAT_NV12 ? SHMCAM_FMT_NV12 :
                 SHMCAM_FMT_YUV420;
    } else {
        spa_format_video_mjpg_parse(param, &mjpg);
        size = mjpg.size;
        rate = mjpg.framerate;
    }
    iv.numerator = rate.denom ? rate.denom : 1;
    iv.denominator = rate.num ? rate.num : 30;
    if (t->have_pat) {
        shmcam_pattern_fini(&t->pat);
        t->have_pat = false;
    }
    if (shmcam_format_init(&t->fmt, fourcc, size.width, size.height, iv)) {
        pw_stream_set_error(t->stream, -EINVAL, "bad size");
        return;
    }
    shmcam_format_align(&t->fmt, t->align);
    if (shmcam_pattern_init(&t->pat, &t->fmt)) {
        pw_stream_set_error(t->stream, -EINVAL, "no pattern");
        return;
    }
    t->have_pat = true;
    g_free(t->frame);
    t->frame = g_malloc(t->fmt.sizeimage);
    line = fourcc == SHMCAM_FMT_MJPEG ? 0 : t->fmt.bytesperline;
    printf("format %ux%u %.4s stride %u\n", size.width, size.height,
           (const char *)&fourcc, line);
    fflush(stdout);

    nplanes = t->planes ? pw_testsrc_nplanes(fourcc) : 1;
    pw_testsrc_plane(&t->fmt, 0, &off, &psize, &stride);
    params[0] = spa_pod_builder_add_object(&b,
        SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
        SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(6, 2, 16),
        SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(nplanes),
        SPA_PARAM_BUFFERS_size, SPA_POD_Int(nplanes == 1 ? t->fmt.sizeimage :
                                            psize),
        SPA_PARAM_BUFFERS_stride, SPA_POD_Int(line),
        SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int(
            1 << SPA_DATA_MemFd));
    params[1] = spa_pod_builder_add_object(&b,
        SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
        SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
        SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
    pw_stream_update_params(t->stream, params, 2);
    pw_testsrc_arm(t);
}

static const struct pw_stream_events pw_testsrc_events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = pw_testsrc_state,
    .param_changed = pw_testsrc_param,
    .process = pw_testsrc_process,
};

static void pw_testsrc_quit(void *data, int signo)
{
    struct pw_testsrc *t = data;

    (void)signo;
    pw_main_loop_quit(t->loop);
}

int main(int argc, char **argv)
{
    static const uint32_t raw[] = {
        SPA_VIDEO_FORMAT_YUY2, SPA_VIDEO_FORMAT_NV12, SPA_VIDEO_FORMAT_I420,
    };
    struct pw_testsrc t = { .fmt.interval = { 1, 30 } };
    uint8_t buf[4096];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *params[4];
    struct pw_loop *l;
    const char *name = NULL;
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--align") && i + 1 < argc) {
            t.align = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--planes")) {
            t.planes = true;
        } else if (!name && argv[i][0] != '-') {
            name = argv[i];
        } else {
            fprintf(stderr, "usage: pw-testsrc NAME [--align N] "
                    "[--planes]\n");
            return 2;
        }
    }
    if (!name) {
        fprintf(stderr, "usage: pw-testsrc NAME [--align N] [--planes]\n");
        return 2;
    }
    pw_init(&argc, &argv);
    t.loop = pw_main_loop_new(NULL);
    l = pw_main_loop_get_loop(t.loop);
    pw_loop_add_signal(l, SIGINT, pw_testsrc_quit, &t);
    pw_loop_add_signal(l, SIGTERM, pw_testsrc_quit, &t);
    t.timer = pw_loop_add_timer(l, pw_testsrc_tick, &t);
    t.stream = pw_stream_new_simple(l, name,
        pw_properties_new(PW_KEY_MEDIA_CLASS, "Video/Source",
                          PW_KEY_MEDIA_TYPE, "Video",
                          PW_KEY_NODE_NAME, name,
                          PW_KEY_NODE_DESCRIPTION, "shmcam test camera",
                          NULL),
        &pw_testsrc_events, &t);
    for (i = 0; i < 3; i++) {
        params[i] = pw_testsrc_enum(&b, SPA_MEDIA_SUBTYPE_raw, raw[i]);
    }
    params[3] = pw_testsrc_enum(&b, SPA_MEDIA_SUBTYPE_mjpg, 0);
    if (pw_stream_connect(t.stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
                          PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_MAP_BUFFERS,
                          params, 4) < 0) {
        fprintf(stderr, "pw-testsrc: cannot connect to PipeWire\n");
        return 1;
    }
    pw_main_loop_run(t.loop);
    pw_stream_destroy(t.stream);
    pw_main_loop_destroy(t.loop);
    if (t.have_pat) {
        shmcam_pattern_fini(&t.pat);
    }
    g_free(t.frame);
    pw_deinit();
    return 0;
}
