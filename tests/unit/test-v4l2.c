/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What shmcam-host's camera source accepts of a driver's S_FMT answer
 * (hw/sources/source-v4l2.c): a camera may answer anything, and what
 * shmcam cannot carry must be refused with the limit it breaks, before any
 * frame reaches a region where every reader would drop it.
 */
#include <linux/videodev2.h>

#include <glib.h>

#include "shmcam.h"
#include "shmcam-source.h"

struct answer {
    const char *name;
    uint32_t fourcc, width, height, bytesperline, sizeimage;
    const char *why;            /* NULL: accepted */
};

static const struct answer answers[] = {
    { "yuyv", V4L2_PIX_FMT_YUYV, 640, 480, 1280, 614400, NULL },
    { "yuyv-padded", V4L2_PIX_FMT_YUYV, 640, 480, 1536, 737280, NULL },
    { "nv12", V4L2_PIX_FMT_NV12, 1920, 1080, 1920, 3110400, NULL },
    { "mjpeg", V4L2_PIX_FMT_MJPEG, 1920, 1080, 0, 4147200, NULL },
    { "rgb", V4L2_PIX_FMT_RGB24, 640, 480, 1920, 921600,
      "shmcam carries only YUYV, NV12, YU12, MJPG" },
    { "wide", V4L2_PIX_FMT_YUYV, 8192, 480, 16384, 7864320,
      "width 8192 is outside 16..7680" },
    { "tall", V4L2_PIX_FMT_YUYV, 640, 8, 1280, 10240,
      "height 8 is outside 16..4320" },
    { "odd", V4L2_PIX_FMT_NV12, 642, 481, 642, 463203,
      "shmcam needs an even width and height" },
    { "short-lines", V4L2_PIX_FMT_YUYV, 640, 480, 640, 307200,
      "bytesperline 640 is below the 1280 bytes of a line" },
    { "long-lines", V4L2_PIX_FMT_YUYV, 640, 480, 40000, 19200000,
      "bytesperline 40000 is above 30720, the most a reader accepts" },
    { "no-image", V4L2_PIX_FMT_MJPEG, 640, 480, 0, 0,
      "sizeimage 0 holds no frame" },
    { "short-image", V4L2_PIX_FMT_NV12, 640, 480, 640, 307200,
      "sizeimage 307200 is below the 460800 bytes of 480 lines of 640" },
};

static void test_answer(gconstpointer data)
{
    const struct answer *a = data;
    struct v4l2_pix_format pix = {
        .width = a->width, .height = a->height, .pixelformat = a->fourcc,
        .bytesperline = a->bytesperline, .sizeimage = a->sizeimage,
    };
    char why[160] = "";

    g_assert_cmpint(shmcam_v4l2_answer_ok(&pix, why, sizeof(why)), ==,
                    a->why == NULL);
    if (a->why) {
        g_assert_cmpstr(why, ==, a->why);
    }
}

int main(int argc, char **argv)
{
    unsigned int i;

    g_test_init(&argc, &argv, NULL);
    for (i = 0; i < G_N_ELEMENTS(answers); i++) {
        g_autofree char *path = g_strdup_printf("/v4l2/answer/%s",
                                                answers[i].name);

        g_test_add_data_func(path, &answers[i], test_answer);
    }
    return g_test_run();
}
