/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test pattern and its JPEGs: frames verify, any changed byte is
 * caught, the stamp says what the spec says, a frame drawn into a slot is
 * the frame rendered into the pattern's buffer, MJPEG frames decode to the
 * pattern's image whichever order they are made in and on whichever of
 * libjpeg-turbo's code paths, JPEGs split correctly.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <turbojpeg.h>

#include "shmcam-format.h"
#include "shmcam-jpeg.h"
#include "shmcam-pattern.h"

static const uint32_t formats[] = {
    SHMCAM_FMT_YUYV, SHMCAM_FMT_NV12, SHMCAM_FMT_YUV420, SHMCAM_FMT_MJPEG,
};

static void pattern_init(struct shmcam_pattern *pat, uint32_t fourcc,
                         uint32_t w, uint32_t h)
{
    struct shmcam_format fmt;

    g_assert_cmpint(shmcam_format_init(&fmt, fourcc, w, h,
                                       (struct shmcam_fract){ 1, 30 }), ==, 0);
    g_assert_cmpint(shmcam_pattern_init(pat, &fmt), ==, 0);
}

static void test_roundtrip(void)
{
    struct shmcam_pattern gen, ver;
    const uint8_t *data;
    char why[128];
    uint64_t n, stamp;
    size_t f;

    for (f = 0; f < G_N_ELEMENTS(formats); f++) {
        pattern_init(&gen, formats[f], 176, 144);
        pattern_init(&ver, formats[f], 176, 144);
        for (n = 0; n < 20; n++) {
            uint32_t len = shmcam_pattern_render(&gen, n * 5 + 1, &data);
            uint8_t *copy = g_memdup2(data, len);
            uint32_t pos = (uint32_t)(n * 7919) % len;

            g_assert_cmpint(shmcam_pattern_verify(&ver, copy, len, &stamp, why,
                                                  sizeof(why)), ==, 0);
            g_assert_cmpuint(stamp, ==, n * 5 + 1);
            /* any single changed byte is caught */
            copy[pos] ^= 0x01;
            g_assert_cmpint(shmcam_pattern_verify(&ver, copy, len, &stamp, why,
                                                  sizeof(why)), ==, -EBADMSG);
            /* so is a short frame */
            copy[pos] ^= 0x01;
            g_assert_cmpint(shmcam_pattern_verify(&ver, copy, len - 1, &stamp,
                                                  why, sizeof(why)), ==, -EBADMSG);
            g_free(copy);
        }
        shmcam_pattern_fini(&gen);
        shmcam_pattern_fini(&ver);
    }
}

/*
 * Lines padded to a stride, as a camera's are: the image is the packed
 * one line by line, the padding zero, and the verifier holds a frame to
 * its stride: a changed padding byte is caught like any other.
 */
static void test_stride(void)
{
    static const uint32_t raw[] = {
        SHMCAM_FMT_YUYV, SHMCAM_FMT_NV12, SHMCAM_FMT_YUV420,
    };
    struct shmcam_pattern packed, padded;
    const uint8_t *a, *b;
    uint64_t stamp;
    char why[128];
    size_t f;

    for (f = 0; f < G_N_ELEMENTS(raw); f++) {
        struct shmcam_format fmt;
        uint32_t plen, len, y, line, pline;

        g_assert_cmpint(shmcam_format_init(&fmt, raw[f], 176, 144,
                                           (struct shmcam_fract){ 1, 30 }),
                        ==, 0);
        pline = fmt.bytesperline;
        g_assert_cmpint(shmcam_pattern_init(&packed, &fmt), ==, 0);
        shmcam_format_align(&fmt, 256);
        line = fmt.bytesperline;
        g_assert_cmpuint(line, ==, raw[f] == SHMCAM_FMT_YUYV ? 512 : 256);
        g_assert_cmpuint(fmt.sizeimage, ==, raw[f] == SHMCAM_FMT_YUYV ?
                         line * 144 : line * 144 * 3 / 2);
        g_assert_cmpint(shmcam_pattern_init(&padded, &fmt), ==, 0);
        plen = shmcam_pattern_render(&packed, 7, &a);
        len = shmcam_pattern_render(&padded, 7, &b);
        g_assert_cmpuint(len, ==, fmt.sizeimage);
        /* Past the stamp, the luma lines are the packed ones, padded. */
        for (y = 1; y < 144; y++) {
            g_assert_cmpmem(b + y * line, pline, a + y * pline, pline);
            g_assert_true(b[y * line + pline] == 0 &&
                          b[y * line + line - 1] == 0);
        }
        g_assert_cmpint(shmcam_pattern_verify(&padded, b, len, &stamp, why,
                                              sizeof(why)), ==, 0);
        g_assert_cmpint(shmcam_pattern_verify(&padded, a, plen, &stamp, why,
                                              sizeof(why)), ==, -EBADMSG);
        {
            g_autofree uint8_t *copy = g_memdup2(b, len);

            copy[3 * line + line - 1] ^= 1;
            g_assert_cmpint(shmcam_pattern_verify(&padded, copy, len, &stamp,
                                                  why, sizeof(why)), ==,
                            -EBADMSG);
        }
        shmcam_pattern_fini(&packed);
        shmcam_pattern_fini(&padded);
    }
}

static void test_stamp_layout(void)
{
    struct shmcam_pattern pat;
    struct shmcam_pattern_stamp s;
    const uint8_t *data;
    uint32_t len;

    pattern_init(&pat, SHMCAM_FMT_YUYV, 64, 32);
    len = shmcam_pattern_render(&pat, 0x123456789ull, &data);
    g_assert_cmpuint(len, ==, 64 * 32 * 2);
    g_assert_cmpmem(data, 4, "SCPT", 4);
    g_assert_cmpmem(data + 4, 4, "YUYV", 4);
    memcpy(&s, data, sizeof(s));
    g_assert_cmphex(s.frame, ==, 0x123456789ull);
    g_assert_cmpuint(s.width, ==, 64);
    g_assert_cmpuint(s.height, ==, 32);
    g_assert_cmphex(s.checksum, ==, shmcam_pattern_checksum(data + 32, len - 32));
    shmcam_pattern_fini(&pat);

    pattern_init(&pat, SHMCAM_FMT_MJPEG, 64, 32);
    len = shmcam_pattern_render(&pat, 11, &data);
    g_assert_cmpmem(data, 6, "\xff\xd8\xff\xfe\x00\x22", 6);
    memcpy(&s, data + SHMCAM_PATTERN_JPEG_STAMP, sizeof(s));
    g_assert_cmpuint(s.frame, ==, 11);
    g_assert_cmpuint(s.jpeg_len, ==, len);
    g_assert_cmpuint(s.jpeg_index, ==, 11 % SHMCAM_PATTERN_JPEG_CYCLE);
    g_assert_cmpuint(s.jpeg_cycle, ==, SHMCAM_PATTERN_JPEG_CYCLE);
    g_assert_cmphex(s.checksum, ==, shmcam_pattern_checksum(data + 38, len - 38));
    shmcam_pattern_fini(&pat);
}

/*
 * An MJPEG frame is SOI, the stamp's COM segment, then TurboJPEG's
 * segments without its JFIF APP0: DQT, a baseline SOF0, DHT, SOS.
 */
static void test_jpeg_layout(void)
{
    struct shmcam_pattern pat;
    const uint8_t *data;
    uint32_t len, pos;
    size_t jlen;
    bool sof0 = false;

    pattern_init(&pat, SHMCAM_FMT_MJPEG, 320, 240);
    len = shmcam_pattern_render(&pat, 5, &data);
    g_assert_cmpmem(data, 6, "\xff\xd8\xff\xfe\x00\x22", 6);
    g_assert_cmpint(shmcam_jpeg_length(data, len, &jlen), ==, 0);
    g_assert_cmpuint(jlen, ==, len);
    g_assert_cmpmem(data + len - 2, 2, "\xff\xd9", 2);
    pos = SHMCAM_PATTERN_JPEG_STAMP + SHMCAM_PATTERN_STAMP_SIZE;
    g_assert_cmphex(data[pos], ==, 0xff);
    g_assert_cmphex(data[pos + 1], ==, 0xdb);
    while (data[pos + 1] != 0xda) {
        uint8_t m = data[pos + 1];

        g_assert_cmphex(data[pos], ==, 0xff);
        /* no APPn, no second COM, no SOF but baseline's */
        g_assert_false(m >= 0xe0 && m <= 0xef);
        g_assert_cmphex(m, !=, 0xfe);
        g_assert_true(m < 0xc1 || m > 0xcf || m == 0xc4);
        sof0 |= m == 0xc0;
        pos += 2 + (data[pos + 2] << 8 | data[pos + 3]);
        g_assert_cmpuint(pos + 4, <, len);
    }
    g_assert_true(sof0);
    shmcam_pattern_fini(&pat);
}

/*
 * Entry i of the cycle decodes, with TurboJPEG's decoder, to a 4:2:2
 * image of the frame's size that is the YUYV pattern's frame
 * i * SHMCAM_PATTERN_JPEG_STEP up to JPEG's loss: the same image, the
 * same subsampling as a camera's YUYV.  Sizes that are not a whole
 * number of MCUs (16x8) included.
 */
static void test_jpeg_decode(void)
{
    static const struct { uint32_t w, h; } sizes[] = {
        { 176, 144 }, { 640, 480 }, { 170, 134 }, { 16, 16 },
    };
    tjhandle tj = tjInitDecompress();
    size_t k;

    g_assert_nonnull(tj);
    for (k = 0; k < G_N_ELEMENTS(sizes); k++) {
        uint32_t w = sizes[k].w, h = sizes[k].h, i, x, y;
        struct shmcam_pattern mjpg, yuyv;
        struct shmcam_format fmt;

        g_assert_cmpint(shmcam_format_init(&fmt, SHMCAM_FMT_MJPEG, w, h,
                                           (struct shmcam_fract){ 1, 30 }),
                        ==, 0);
        /* a JPEG of 16x16 is more than its 256 bytes of sizeimage */
        fmt.sizeimage = fmt.sizeimage < 4096 ? 4096 : fmt.sizeimage;
        g_assert_cmpint(shmcam_pattern_init(&mjpg, &fmt), ==, 0);
        pattern_init(&yuyv, SHMCAM_FMT_YUYV, w, h);
        for (i = 0; i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
            const uint8_t *jpeg, *raw;
            uint32_t len = shmcam_pattern_render(&mjpg, i, &jpeg);
            int dw, dh, sub, cs;
            g_autofree uint8_t *yuv = NULL;
            uint8_t *plane[3];
            int strides[3] = { (int)w, (int)w / 2, (int)w / 2 };
            uint64_t err[3] = { 0 }, n = 0;

            g_assert_cmpint(tjDecompressHeader3(tj, jpeg, len, &dw, &dh, &sub,
                                                &cs), ==, 0);
            g_assert_cmpint(dw, ==, w);
            g_assert_cmpint(dh, ==, h);
            g_assert_cmpint(sub, ==, TJSAMP_422);
            g_assert_cmpint(cs, ==, TJCS_YCbCr);
            yuv = g_malloc((size_t)w * h * 2);
            plane[0] = yuv;
            plane[1] = yuv + (size_t)w * h;
            plane[2] = plane[1] + (size_t)w / 2 * h;
            g_assert_cmpint(tjDecompressToYUVPlanes(tj, jpeg, len, plane, w,
                                                    strides, h, 0), ==, 0);
            shmcam_pattern_render(&yuyv, (uint64_t)i * SHMCAM_PATTERN_JPEG_STEP,
                                  &raw);
            /* row 0 of the YUYV frame starts with its stamp */
            for (y = 1; y < h; y++) {
                for (x = 0; x < w; x++) {
                    const uint8_t *p = raw + ((size_t)y * w + x) * 2;
                    int c = (x & 1) ? 2 : 1;

                    err[0] += abs(p[0] - plane[0][(size_t)y * w + x]);
                    err[c] += abs(p[1] - plane[c][(size_t)y * w / 2 + x / 2]);
                    n++;
                }
            }
            g_test_message("%ux%u entry %u: luma %.2f chroma %.2f", w, h, i,
                           (double)err[0] / n, (double)(err[1] + err[2]) / n);
            /*
             * Mean absolute error: a level or two at quality 75, more for
             * chroma where the bars are narrow; another frame's image is
             * off by the checkerboard's 24 levels on half its pixels.
             */
            g_assert_cmpfloat((double)err[0] / n, <, 3.0);
            g_assert_cmpfloat((double)(err[1] + err[2]) / n, <, 5.0);
        }
        shmcam_pattern_fini(&mjpg);
        shmcam_pattern_fini(&yuyv);
    }
    tjDestroy(tj);
}

/*
 * Each changed bit of an MJPEG frame, wherever it is (the stamp, the
 * tables, the entropy-coded data, EOI), fails verification, but for one
 * kind: a frame number changed by a multiple of the cycle makes another
 * frame with the same JPEG, which verifies as that frame (the reader's
 * order check catches it; shmcam-dump counts it out of order).
 */
static void test_jpeg_every_byte(void)
{
    struct shmcam_pattern gen, ver;
    const uint8_t *data;
    g_autofree uint8_t *copy = NULL;
    uint64_t stamp;
    uint32_t len, pos;
    char why[192];

    pattern_init(&gen, SHMCAM_FMT_MJPEG, 176, 144);
    pattern_init(&ver, SHMCAM_FMT_MJPEG, 176, 144);
    len = shmcam_pattern_render(&gen, 13, &data);
    copy = g_memdup2(data, len);
    g_assert_cmpint(shmcam_pattern_verify(&ver, copy, len, &stamp, why,
                                          sizeof(why)), ==, 0);
    g_assert_cmpuint(stamp, ==, 13);
    for (pos = 0; pos < len; pos++) {
        /* the bit changed, and where it is in the stamp's frame number */
        uint32_t bit = pos % 8, at = SHMCAM_PATTERN_JPEG_STAMP +
                       offsetof(struct shmcam_pattern_stamp, frame);
        bool in_frame = pos >= at && pos < at + 8;
        uint64_t other = in_frame ? 13 ^ (1ull << ((pos - at) * 8 + bit)) : 0;

        copy[pos] ^= 1u << bit;
        if (in_frame && other % SHMCAM_PATTERN_JPEG_CYCLE ==
                        13 % SHMCAM_PATTERN_JPEG_CYCLE) {
            g_assert_cmpint(shmcam_pattern_verify(&ver, copy, len, &stamp,
                                                  why, sizeof(why)), ==, 0);
            g_assert_cmpuint(stamp, ==, other);
        } else {
            g_assert_cmpint(shmcam_pattern_verify(&ver, copy, len, &stamp,
                                                  why, sizeof(why)), ==,
                            -EBADMSG);
        }
        copy[pos] ^= 1u << bit;
    }
    g_assert_cmpint(shmcam_pattern_verify(&ver, copy, len, &stamp, why,
                                          sizeof(why)), ==, 0);
    shmcam_pattern_fini(&gen);
    shmcam_pattern_fini(&ver);
}

/*
 * The cycle is encoded as frames need it: init makes entry 0 only (but
 * for small frames), and the bytes of a frame do not depend on which
 * frames came before it.
 */
static void test_jpeg_lazy_order(void)
{
    const uint32_t count = 3 * SHMCAM_PATTERN_JPEG_CYCLE;
    struct shmcam_pattern fwd, rev, one;
    GPtrArray *frames = g_ptr_array_new_with_free_func(
        (GDestroyNotify)g_bytes_unref);
    const uint8_t *data;
    uint32_t n, len, i;

    pattern_init(&fwd, SHMCAM_FMT_MJPEG, 320, 240);
    g_assert_nonnull(fwd.jpeg[0]);
    for (i = 1; i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
        g_assert_null(fwd.jpeg[i]);
    }
    for (n = 0; n < count; n++) {
        len = shmcam_pattern_render(&fwd, n, &data);
        g_ptr_array_add(frames, g_bytes_new(data, len));
    }
    for (i = 0; i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
        g_assert_nonnull(fwd.jpeg[i]);
    }
    pattern_init(&rev, SHMCAM_FMT_MJPEG, 320, 240);
    for (n = count; n-- > 0;) {
        len = shmcam_pattern_render(&rev, n, &data);
        g_assert_cmpmem(data, len, g_bytes_get_data(frames->pdata[n], NULL),
                        g_bytes_get_size(frames->pdata[n]));
    }
    /* and a pattern that makes frame n first and nothing else */
    for (n = 0; n < count; n += 5) {
        pattern_init(&one, SHMCAM_FMT_MJPEG, 320, 240);
        len = shmcam_pattern_render(&one, n, &data);
        g_assert_cmpmem(data, len, g_bytes_get_data(frames->pdata[n], NULL),
                        g_bytes_get_size(frames->pdata[n]));
        shmcam_pattern_fini(&one);
    }
    /* the cycle's frames differ from each other */
    g_assert_false(g_bytes_equal(frames->pdata[1], frames->pdata[2]));
    /* small frames have the whole cycle from init, held to sizeimage */
    pattern_init(&one, SHMCAM_FMT_MJPEG, 176, 144);
    for (i = 0; i < SHMCAM_PATTERN_JPEG_CYCLE; i++) {
        g_assert_nonnull(one.jpeg[i]);
        g_assert_cmpuint(one.jpeg_len[i], <=, one.fmt.sizeimage);
    }
    shmcam_pattern_fini(&one);
    {
        struct shmcam_format fmt;

        /* 256 bytes of sizeimage hold no JPEG's tables */
        g_assert_cmpint(shmcam_format_init(&fmt, SHMCAM_FMT_MJPEG, 16, 16,
                                           (struct shmcam_fract){ 1, 30 }),
                        ==, 0);
        g_assert_cmpint(shmcam_pattern_init(&one, &fmt), ==, -ENOSPC);
    }
    shmcam_pattern_fini(&fwd);
    shmcam_pattern_fini(&rev);
    g_ptr_array_unref(frames);
}

/* The checksums of the cycle's JPEGs at 1280x720, one line each. */
static char *jpeg_cycle_sums(void)
{
    GString *out = g_string_new(NULL);
    struct shmcam_pattern pat;
    const uint8_t *data;
    uint32_t n, len;

    pattern_init(&pat, SHMCAM_FMT_MJPEG, 1280, 720);
    for (n = 0; n < SHMCAM_PATTERN_JPEG_CYCLE; n++) {
        len = shmcam_pattern_render(&pat, n, &data);
        g_string_append_printf(out, "%u %08x\n", len,
                               shmcam_pattern_checksum(data, len));
    }
    shmcam_pattern_fini(&pat);
    return g_string_free(out, false);
}

/*
 * A guest's verifier runs the host's libjpeg-turbo on its own CPU, whose
 * SIMD (under TCG, SSE2 at best) may not be the host's: the library's C,
 * SSE2 and AVX2 code make the same bytes.  Each runs in a child process,
 * which chooses its code once, at its first JPEG.
 */
static void test_jpeg_simd(void)
{
    static const char *const force[] = {
        "JSIMD_FORCENONE", "JSIMD_FORCESSE2", "JSIMD_FORCEAVX2",
    };
    g_autofree char *sums = NULL;
    size_t i;

    if (g_test_subprocess()) {
        g_autofree char *mine = jpeg_cycle_sums();

        fputs(mine, stdout);
        return;
    }
    sums = jpeg_cycle_sums();
    for (i = 0; i < G_N_ELEMENTS(force); i++) {
        g_setenv(force[i], "1", true);
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_unsetenv(force[i]);
        g_test_trap_assert_passed();
        /* no glob characters in the sums: the pattern is the text */
        g_test_trap_assert_stdout(sums);
    }
}

/*
 * TurboJPEG 2.x reads TJ_OPTIMIZE (and TJ_ARITHMETIC, TJ_PROGRESSIVE,
 * TJ_RESTART) from the environment: a producer run with one makes other
 * bytes.  The verifier rejects its frames and says they arrived intact.
 */
static void test_jpeg_other_encoder(void)
{
    struct shmcam_pattern gen, ver;
    const uint8_t *data;
    uint64_t stamp;
    uint32_t len;
    char why[256];

    g_setenv("TJ_OPTIMIZE", "1", true);
    pattern_init(&gen, SHMCAM_FMT_MJPEG, 176, 144);
    len = shmcam_pattern_render(&gen, 3, &data);
    g_unsetenv("TJ_OPTIMIZE");
    pattern_init(&ver, SHMCAM_FMT_MJPEG, 176, 144);
    g_assert_cmpint(shmcam_pattern_verify(&ver, data, len, &stamp, why,
                                          sizeof(why)), ==, -EBADMSG);
    g_assert_cmpuint(stamp, ==, 3);
    g_assert_nonnull(strstr(why, "matches its own checksum"));
    shmcam_pattern_fini(&gen);
    shmcam_pattern_fini(&ver);
}

static void test_jpeg_split(void)
{
    struct shmcam_pattern pat;
    const uint8_t *data;
    GByteArray *stream = g_byte_array_new();
    uint32_t lens[5], i;
    size_t pos = 0, len;

    pattern_init(&pat, SHMCAM_FMT_MJPEG, 320, 240);
    for (i = 0; i < 5; i++) {
        lens[i] = shmcam_pattern_render(&pat, i, &data);
        g_byte_array_append(stream, data, lens[i]);
    }
    /* the cycle's frames differ in size */
    g_assert_cmpuint(lens[0], !=, lens[1]);
    for (i = 0; i < 5; i++) {
        g_assert_cmpint(shmcam_jpeg_length(stream->data + pos,
                                           stream->len - pos, &len), ==, 0);
        g_assert_cmpuint(len, ==, lens[i]);
        pos += len;
    }
    g_assert_cmpint(shmcam_jpeg_length(stream->data, lens[0] - 1, &len), ==,
                    -EAGAIN);
    g_assert_cmpint(shmcam_jpeg_length(stream->data + 1, 100, &len), ==, -EINVAL);
    g_byte_array_unref(stream);
    shmcam_pattern_fini(&pat);
}

static void test_formats(void)
{
    struct shmcam_format f;
    struct shmcam_fract iv;
    uint32_t w, h;

    g_assert_cmphex(shmcam_format_from_name("yuyv"), ==, SHMCAM_FMT_YUYV);
    g_assert_cmphex(shmcam_format_from_name("MJPEG"), ==, SHMCAM_FMT_MJPEG);
    g_assert_cmphex(shmcam_format_from_name("I420"), ==, SHMCAM_FMT_YUV420);
    g_assert_cmphex(shmcam_format_from_name("RGB3"), ==, 0);
    g_assert_cmpint(shmcam_parse_size("1920x1080", &w, &h), ==, 0);
    g_assert_cmpuint(w, ==, 1920);
    g_assert_cmpint(shmcam_parse_size("1920x", &w, &h), ==, -EINVAL);
    g_assert_cmpint(shmcam_parse_size("x1080", &w, &h), ==, -EINVAL);
    g_assert_cmpint(shmcam_parse_fps("30000/1001", &iv), ==, 0);
    g_assert_cmpuint(iv.numerator, ==, 1001);
    g_assert_cmpuint(iv.denominator, ==, 30000);
    g_assert_cmpint(shmcam_parse_fps("0", &iv), ==, -EINVAL);
    g_assert_cmpint(shmcam_format_init(&f, SHMCAM_FMT_NV12, 1920, 1080, iv), ==, 0);
    g_assert_cmpuint(f.sizeimage, ==, 1920 * 1080 * 3 / 2);
    g_assert_cmpuint(f.bytesperline, ==, 1920);
    g_assert_cmpint(shmcam_format_init(&f, SHMCAM_FMT_YUYV, 641, 480, iv), ==, -EINVAL);
    g_assert_cmpint(shmcam_format_init(&f, SHMCAM_FMT_YUYV, 0, 480, iv), ==, -EINVAL);
    g_assert_cmpint(shmcam_format_init(&f, SHMCAM_FMT_YUYV, 8192, 480, iv), ==, -EINVAL);
}

/*
 * The checksum as the spec defines it, a word at a time: what the
 * pattern's, taken in lanes and piece by piece as a frame is drawn, must
 * equal.
 */
static uint32_t checksum_reference(const uint8_t *buf, size_t len)
{
    uint64_t a = 1, b = 0, w;
    size_t i;

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

static void test_checksum(void)
{
    g_autofree uint8_t *buf = g_malloc(70000);
    size_t len, at, i;

    for (i = 0; i < 70000; i++) {
        buf[i] = g_test_rand_int();
    }
    for (at = 0; at < 8; at++) {
        for (len = 0; len < 300; len++) {
            g_assert_cmphex(shmcam_pattern_checksum(buf + at, len), ==,
                            checksum_reference(buf + at, len));
        }
    }
    g_assert_cmphex(shmcam_pattern_checksum(buf + 3, 69997), ==,
                    checksum_reference(buf + 3, 69997));
    /* words of all ones: sums that wrap */
    memset(buf, 0xff, 70000);
    g_assert_cmphex(shmcam_pattern_checksum(buf, 70000), ==,
                    checksum_reference(buf, 70000));
}

/* Frame @frame of @pat drawn into memory that held @fill, and checked. */
static void render_into_check(struct shmcam_pattern *pat, uint64_t frame,
                              uint8_t fill)
{
    bool mjpg = pat->fmt.pixelformat == SHMCAM_FMT_MJPEG;
    uint32_t at = mjpg ? SHMCAM_PATTERN_JPEG_STAMP : 0;
    uint32_t after = at + SHMCAM_PATTERN_STAMP_SIZE;
    uint32_t len = shmcam_pattern_length(pat, frame);
    g_autofree uint8_t *dst = g_malloc(len + 64);
    struct shmcam_pattern_stamp s;
    const uint8_t *want;

    memset(dst, fill, len + 64);
    g_assert_cmpuint(shmcam_pattern_render_into(pat, frame, dst, len - 1), ==,
                     0);
    g_assert_cmphex(dst[0], ==, fill);
    g_assert_cmpuint(shmcam_pattern_render_into(pat, frame, dst, len + 64), ==,
                     len);
    g_assert_cmphex(dst[len], ==, fill);
    g_assert_cmpuint(shmcam_pattern_render(pat, frame, &want), ==, len);
    g_assert_cmpmem(dst, len, want, len);
    memcpy(&s, dst + at, sizeof(s));
    g_assert_cmpuint(s.frame, ==, frame);
    g_assert_cmphex(s.checksum, ==,
                    checksum_reference(dst + after, len - after));
}

/*
 * A frame drawn into memory of the caller's (a slot) is the frame
 * shmcam_pattern_render() makes, byte for byte, whatever that memory
 * held: every format, lines of any length (not a whole number of 8-byte
 * words: the checksum's words then straddle lines), padded strides, and
 * MJPEG's cycle.  Nothing is written past the frame, nothing at all into
 * memory too small for it, and the stamp's checksum is the one of the
 * bytes after it.
 */
static void test_render_into(void)
{
    static const struct { uint32_t w, h; } sizes[] = {
        { 176, 144 }, { 18, 20 }, { 642, 482 }, { 16, 16 },
    };
    static const uint32_t aligns[] = { 0, 64, 256 };
    size_t f, k, a;
    uint64_t n;

    for (f = 0; f < G_N_ELEMENTS(formats); f++) {
        for (k = 0; k < G_N_ELEMENTS(sizes) * G_N_ELEMENTS(aligns); k++) {
            uint32_t align = aligns[k % G_N_ELEMENTS(aligns)];
            struct shmcam_pattern pat;
            struct shmcam_format fmt;

            a = k / G_N_ELEMENTS(aligns);
            if (formats[f] == SHMCAM_FMT_MJPEG && align) {
                continue;
            }
            g_assert_cmpint(shmcam_format_init(&fmt, formats[f], sizes[a].w,
                                               sizes[a].h,
                                               (struct shmcam_fract){ 1, 30 }),
                            ==, 0);
            shmcam_format_align(&fmt, align);
            /* room for the JPEGs of the smallest sizes */
            fmt.sizeimage = MAX(fmt.sizeimage, 8192);
            g_assert_cmpint(shmcam_pattern_init(&pat, &fmt), ==, 0);
            for (n = 0; n < 2 * SHMCAM_PATTERN_JPEG_CYCLE + 3; n++) {
                render_into_check(&pat, n * 37 + (n & 1 ? 1000003 : 0),
                                  n & 1 ? 0xa5 : 0xff);
            }
            shmcam_pattern_fini(&pat);
        }
    }
}

/* A value of each control far from its default, for a visible change. */
static const int32_t ctrl_other[SHMCAM_PATTERN_NCTRLS] = { 200, 60, 40, 50 };

/* Frame @n of @pat, copied (its buffer is the pattern's). */
static uint8_t *ctrl_frame(struct shmcam_pattern *pat, uint64_t n,
                           uint32_t *len)
{
    const uint8_t *data;

    *len = shmcam_pattern_render(pat, n, &data);
    g_assert_cmpuint(*len, >, 0);
    return g_memdup2(data, *len);
}

/* Control @c at its ctrl_other value, the others at their defaults. */
static void ctrl_set_one(struct shmcam_pattern *pat, size_t c, int32_t *v)
{
    shmcam_pattern_default_ctrls(v);
    v[c] = ctrl_other[c];
    g_assert_cmpint(shmcam_pattern_set_ctrls(pat, v), ==, 0);
}

/* Where the stamp is in a frame of @fourcc. */
static uint32_t ctrl_stamp_at(uint32_t fourcc)
{
    return fourcc == SHMCAM_FMT_MJPEG ? SHMCAM_PATTERN_JPEG_STAMP : 0;
}

/*
 * Each control, at a value not its default, changes the image of every
 * frame of every format (all eight of the MJPEG cycle), beyond the stamp;
 * the stamp says the values; drawn into a slot, the frame is the same;
 * back at the defaults, frames are again byte for byte a fresh pattern's.
 */
static void test_ctrls_change(void)
{
    const uint32_t after = SHMCAM_PATTERN_STAMP_SIZE +
                           SHMCAM_PATTERN_CTRLS_SIZE;
    struct shmcam_pattern pat, fresh;
    int32_t v[SHMCAM_PATTERN_NCTRLS];
    size_t f, c;
    uint64_t n;

    for (f = 0; f < G_N_ELEMENTS(formats); f++) {
        uint32_t at = ctrl_stamp_at(formats[f]);

        pattern_init(&pat, formats[f], 176, 144);
        pattern_init(&fresh, formats[f], 176, 144);
        for (c = 0; c < SHMCAM_PATTERN_NCTRLS; c++) {
            ctrl_set_one(&pat, c, v);
            for (n = 0; n < SHMCAM_PATTERN_JPEG_CYCLE; n++) {
                uint32_t len, len0, i;
                uint8_t *got = ctrl_frame(&pat, n, &len);
                uint8_t *def = ctrl_frame(&fresh, n, &len0);
                uint8_t *slot = g_malloc(len);
                uint32_t magic;

                g_assert_cmpuint(shmcam_pattern_render_into(&pat, n, slot,
                                                            len), ==, len);
                g_assert_cmpmem(slot, len, got, len);
                memcpy(&magic, got + at, 4);
                g_assert_cmphex(magic, ==, SHMCAM_PATTERN_MAGIC_CTRL);
                for (i = 0; i < SHMCAM_PATTERN_NCTRLS; i++) {
                    int8_t b = (int8_t)got[at + SHMCAM_PATTERN_STAMP_SIZE + i];

                    g_assert_cmpint(i == SHMCAM_PATTERN_HUE ? b : (uint8_t)b,
                                    ==, v[i]);
                }
                /* the image itself changed, not only the stamp */
                g_assert_true(len != len0 ||
                              memcmp(got + at + after, def + at + after,
                                     len - at - after));
                g_free(slot);
                g_free(got);
                g_free(def);
            }
            shmcam_pattern_default_ctrls(v);
            g_assert_cmpint(shmcam_pattern_set_ctrls(&pat, v), ==, 0);
            for (n = 0; n < SHMCAM_PATTERN_JPEG_CYCLE; n++) {
                uint32_t len, len0;
                uint8_t *got = ctrl_frame(&pat, n * 3, &len);
                uint8_t *def = ctrl_frame(&fresh, n * 3, &len0);

                g_assert_cmpmem(got, len, def, len0);
                g_free(got);
                g_free(def);
            }
        }
        shmcam_pattern_fini(&pat);
        shmcam_pattern_fini(&fresh);
    }
}

/*
 * In a raw frame, the changes go the way a camera's do: brightness up
 * raises the luma, contrast down brings it nearer mid-grey, saturation
 * down brings the chroma nearer 128, and a hue changes the chroma.
 */
static void test_ctrls_direction(void)
{
    struct shmcam_pattern pat, fresh;
    int32_t v[SHMCAM_PATTERN_NCTRLS];
    /* YUYV: luma of pixel 32 (in bar 1 of 176), then its U */
    const uint32_t y = 64, u = 65;
    uint32_t len, len0;
    uint8_t *got, *def;
    size_t c;

    pattern_init(&pat, SHMCAM_FMT_YUYV, 176, 144);
    pattern_init(&fresh, SHMCAM_FMT_YUYV, 176, 144);
    def = ctrl_frame(&fresh, 0, &len0);
    for (c = 0; c < SHMCAM_PATTERN_NCTRLS; c++) {
        ctrl_set_one(&pat, c, v);
        got = ctrl_frame(&pat, 0, &len);
        switch (c) {
        case SHMCAM_PATTERN_BRIGHTNESS:
            g_assert_cmpint(got[y], ==, def[y] + 72);
            g_assert_cmpint(got[u], ==, def[u]);
            break;
        case SHMCAM_PATTERN_CONTRAST:
            g_assert_cmpint(abs(got[y] - 128), <, abs(def[y] - 128));
            g_assert_cmpint(got[u], ==, def[u]);
            break;
        case SHMCAM_PATTERN_SATURATION:
            g_assert_cmpint(abs(got[u] - 128), <, abs(def[u] - 128));
            g_assert_cmpint(got[y], ==, def[y]);
            break;
        default:
            g_assert_cmpint(got[u], !=, def[u]);
            g_assert_cmpint(got[y], ==, def[y]);
        }
        g_free(got);
    }
    g_free(def);
    shmcam_pattern_fini(&pat);
    shmcam_pattern_fini(&fresh);
}

/*
 * Frames drawn with other values verify, by a verifier at the defaults
 * (it draws what the stamp names); a frame whose stamp names values other
 * than those it was drawn with does not; nor do values out of range.
 */
static void test_ctrls_verify(void)
{
    struct shmcam_pattern gen, ver;
    int32_t v[SHMCAM_PATTERN_NCTRLS];
    char why[160];
    uint64_t n, stamp;
    size_t f, c;

    for (f = 0; f < G_N_ELEMENTS(formats); f++) {
        uint32_t at = ctrl_stamp_at(formats[f]) + SHMCAM_PATTERN_STAMP_SIZE;

        pattern_init(&gen, formats[f], 176, 144);
        pattern_init(&ver, formats[f], 176, 144);
        for (c = 0; c < SHMCAM_PATTERN_NCTRLS; c++) {
            ctrl_set_one(&gen, c, v);
            for (n = 0; n < 10; n++) {
                uint32_t len, magic;
                uint8_t *buf = ctrl_frame(&gen, n * 5 + 2, &len);

                g_assert_cmpint(shmcam_pattern_verify(&ver, buf, len, &stamp,
                                                      why, sizeof(why)), ==, 0);
                g_assert_cmpuint(stamp, ==, n * 5 + 2);
                /* the stamp names another value of the control */
                buf[at + c] ^= 0x01;
                g_assert_cmpint(shmcam_pattern_verify(&ver, buf, len, &stamp,
                                                      why, sizeof(why)), ==,
                                -EBADMSG);
                buf[at + c] ^= 0x01;
                /* or the defaults */
                magic = SHMCAM_PATTERN_MAGIC;
                memcpy(buf + at - SHMCAM_PATTERN_STAMP_SIZE, &magic, 4);
                g_assert_cmpint(shmcam_pattern_verify(&ver, buf, len, &stamp,
                                                      why, sizeof(why)), ==,
                                -EBADMSG);
                g_free(buf);
            }
        }
        /* a default frame still verifies after those */
        shmcam_pattern_default_ctrls(v);
        g_assert_cmpint(shmcam_pattern_set_ctrls(&gen, v), ==, 0);
        {
            uint32_t len;
            uint8_t *buf = ctrl_frame(&gen, 3, &len);

            g_assert_cmpint(shmcam_pattern_verify(&ver, buf, len, &stamp, why,
                                                  sizeof(why)), ==, 0);
            g_free(buf);
        }
        v[SHMCAM_PATTERN_HUE] = 128;
        g_assert_cmpint(shmcam_pattern_set_ctrls(&gen, v), ==, -EINVAL);
        v[SHMCAM_PATTERN_HUE] = 0;
        v[SHMCAM_PATTERN_CONTRAST] = -1;
        g_assert_cmpint(shmcam_pattern_set_ctrls(&gen, v), ==, -EINVAL);
        shmcam_pattern_fini(&gen);
        shmcam_pattern_fini(&ver);
    }
}

/*
 * At the defaults, raw frames are the bytes they were before the pattern
 * had controls: sums of frames made by that code (MJPEG's bytes depend on
 * libjpeg-turbo's version, so are left out: they are the same image,
 * encoded the same way, with the stamp of before).
 */
static void test_ctrls_defaults_unchanged(void)
{
    static const uint32_t want[] = { 0xc64d1961u, 0xb6de1a8eu, 0x4eb356f5u };
    struct shmcam_pattern pat;
    const uint8_t *data;
    uint32_t sum, len;
    uint64_t n;
    size_t f;

    for (f = 0; f < G_N_ELEMENTS(want); f++) {
        pattern_init(&pat, formats[f], 176, 144);
        for (sum = 0, n = 0; n < 8; n++) {
            len = shmcam_pattern_render(&pat, n * 5 + 1, &data);
            sum = sum * 31 + shmcam_pattern_checksum(data, len);
        }
        g_assert_cmphex(sum, ==, want[f]);
        shmcam_pattern_fini(&pat);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pattern/roundtrip-every-format", test_roundtrip);
    g_test_add_func("/pattern/stamp-layout", test_stamp_layout);
    g_test_add_func("/pattern/stride", test_stride);
    g_test_add_func("/pattern/checksum", test_checksum);
    g_test_add_func("/pattern/render-into", test_render_into);
    g_test_add_func("/pattern/ctrls/change-every-format", test_ctrls_change);
    g_test_add_func("/pattern/ctrls/direction", test_ctrls_direction);
    g_test_add_func("/pattern/ctrls/verify", test_ctrls_verify);
    g_test_add_func("/pattern/ctrls/defaults-unchanged",
                    test_ctrls_defaults_unchanged);
    g_test_add_func("/jpeg/layout", test_jpeg_layout);
    g_test_add_func("/jpeg/decode", test_jpeg_decode);
    g_test_add_func("/jpeg/every-byte-checked", test_jpeg_every_byte);
    g_test_add_func("/jpeg/lazy-any-order", test_jpeg_lazy_order);
    g_test_add_func("/jpeg/same-bytes-any-simd", test_jpeg_simd);
    g_test_add_func("/jpeg/other-encoder-named", test_jpeg_other_encoder);
    g_test_add_func("/jpeg/split-stream", test_jpeg_split);
    g_test_add_func("/format/parse-and-sizes", test_formats);
    return g_test_run();
}
