/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test pattern and the JPEG encoder: frames verify, any changed byte
 * is caught, the stamp says what the spec says, JPEGs split correctly.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

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

/* The Huffman tables are complete prefix codes over the baseline symbols. */
static void test_huffman_tables(void)
{
    int t, i;

    for (t = 0; t < 4; t++) {
        const uint8_t *vals, *bits = shmcam_jpeg_huff_table(t, &vals);
        bool seen[256] = { 0 };
        double kraft = 0;
        int n = 0;

        for (i = 0; i < 16; i++) {
            n += bits[i];
            kraft += bits[i] / (double)(1 << (i + 1));
        }
        g_assert_cmpint(n, ==, (t & 1) ? 162 : 12);
        g_assert_cmpfloat(kraft, <, 1.0);
        for (i = 0; i < n; i++) {
            int v = vals[i], run = v >> 4, size = v & 15;

            g_assert_false(seen[v]);
            seen[v] = true;
            if (t & 1) {
                g_assert_true(v == 0 || v == 0xf0 ||
                              (size >= 1 && size <= 10 && run <= 15));
            } else {
                g_assert_cmpint(v, <=, 11);
            }
        }
    }
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pattern/roundtrip-every-format", test_roundtrip);
    g_test_add_func("/pattern/stamp-layout", test_stamp_layout);
    g_test_add_func("/pattern/stride", test_stride);
    g_test_add_func("/jpeg/huffman-tables", test_huffman_tables);
    g_test_add_func("/jpeg/split-stream", test_jpeg_split);
    g_test_add_func("/format/parse-and-sizes", test_formats);
    return g_test_run();
}
