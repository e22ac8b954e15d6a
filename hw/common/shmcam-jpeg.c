/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test pattern's JPEGs come from libjpeg-turbo: TurboJPEG compresses
 * the planes as they are (no colour conversion, no resampling), and the
 * stamp's COM segment takes the place of the JFIF APP0 right after SOI.
 * The splitter below finds where each JPEG of a stream ends.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "shmcam-jpeg.h"

struct shmcam_jpeg_encoder {
    tjhandle tj;
    unsigned char *buf;         /* room for the largest JPEG of a size */
    unsigned long buf_size;
};

struct shmcam_jpeg_encoder *shmcam_jpeg_encoder_new(void)
{
    struct shmcam_jpeg_encoder *enc = calloc(1, sizeof(*enc));

    if (enc) {
        enc->tj = tjInitCompress();
    }
    if (enc && !enc->tj) {
        free(enc);
        enc = NULL;
    }
    return enc;
}

void shmcam_jpeg_encoder_free(struct shmcam_jpeg_encoder *enc)
{
    if (enc) {
        tjFree(enc->buf);
        tjDestroy(enc->tj);
        free(enc);
    }
}

/* How many bytes after SOI are a JFIF APP0 segment (FF E0, "JFIF\0"). */
static size_t shmcam_jpeg_jfif_len(const uint8_t *buf, size_t len)
{
    size_t seg;

    if (len < 2 + 4 + 5 || buf[2] != 0xff || buf[3] != 0xe0 ||
        memcmp(buf + 6, "JFIF", 5)) {
        return 0;
    }
    seg = 2 + (((size_t)buf[4] << 8) | buf[5]);
    return 2 + seg <= len ? seg : 0;
}

long shmcam_jpeg_encode(struct shmcam_jpeg_encoder *enc,
                        const struct shmcam_jpeg_image *img, int quality,
                        const uint8_t *com, size_t com_len, uint8_t **out)
{
    const unsigned char *planes[3] = {
        img->plane[0], img->plane[1], img->plane[2],
    };
    int strides[3] = {
        (int)img->stride[0], (int)img->stride[1], (int)img->stride[2],
    };
    size_t com_seg = com ? 4 + com_len : 0, skip, len;
    unsigned long need, tj_len;
    unsigned char *tj;
    uint8_t *p;

    if (!img->width || !img->height || (img->width | img->height) & 1 ||
        img->width > 65535 || img->height > 65535 || com_len > 65533 ||
        quality < 1 || quality > 100) {
        return -EINVAL;
    }
    /*
     * TurboJPEG writes into a buffer of its worst case, kept from one call
     * to the next (only the pages written are ever touched), rather than
     * one it grows and copies as it goes.
     */
    need = tjBufSize(img->width, img->height, TJSAMP_422);
    if (need == (unsigned long)-1 || need > INT_MAX) {
        return -EINVAL;
    }
    if (enc->buf_size < need) {
        tjFree(enc->buf);
        enc->buf = tjAlloc(need);
        enc->buf_size = enc->buf ? need : 0;
        if (!enc->buf) {
            return -ENOMEM;
        }
    }
    /*
     * Every setting that shapes the bytes is fixed here: the verifier
     * encodes the same image again and compares.  TurboJPEG picks the
     * standard tables scaled to @quality, and its SIMD code computes the
     * same integer DCT as its C code on any CPU.
     */
    tj_len = enc->buf_size;
    if (tjCompressFromYUVPlanes(enc->tj, planes, img->width, strides,
                                img->height, TJSAMP_422, &enc->buf, &tj_len,
                                quality,
                                TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC)) {
        return -EIO;
    }
    tj = enc->buf;
    if (tj_len < 4 || tj[0] != 0xff || tj[1] != 0xd8) {
        return -EIO;
    }
    skip = 2 + shmcam_jpeg_jfif_len(tj, tj_len);
    len = 2 + com_seg + (tj_len - skip);
    p = malloc(len);
    if (!p) {
        return -ENOMEM;
    }
    p[0] = 0xff;
    p[1] = 0xd8;
    if (com) {
        p[2] = 0xff;
        p[3] = 0xfe;
        p[4] = (com_len + 2) >> 8;
        p[5] = (com_len + 2) & 0xff;
        memcpy(p + 6, com, com_len);
    }
    memcpy(p + 2 + com_seg, tj + skip, tj_len - skip);
    *out = p;
    return (long)len;
}

/* Past the entropy-coded data that starts at @pos: the next real marker. */
static size_t shmcam_jpeg_skip_scan(const uint8_t *buf, size_t len, size_t pos)
{
    while (pos + 1 < len) {
        if (buf[pos] == 0xff && buf[pos + 1] != 0 &&
            (buf[pos + 1] < 0xd0 || buf[pos + 1] > 0xd7)) {
            return pos;
        }
        pos++;
    }
    return len;
}

int shmcam_jpeg_length(const uint8_t *buf, size_t len, size_t *jpeg_len)
{
    size_t pos = 2;

    if (len < 2) {
        return -EAGAIN;
    }
    if (buf[0] != 0xff || buf[1] != 0xd8) {
        return -EINVAL;
    }
    for (;;) {
        uint8_t m;
        size_t seg;

        while (pos < len && buf[pos] == 0xff && pos + 1 < len &&
               buf[pos + 1] == 0xff) {
            pos++;                      /* fill bytes */
        }
        if (pos + 2 > len) {
            return -EAGAIN;
        }
        if (buf[pos] != 0xff) {
            return -EINVAL;
        }
        m = buf[pos + 1];
        if (m == 0xd9) {
            *jpeg_len = pos + 2;
            return 0;
        }
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
            pos += 2;
            continue;
        }
        if (m == 0xd8 || m == 0x00) {
            return -EINVAL;
        }
        if (pos + 4 > len) {
            return -EAGAIN;
        }
        seg = ((size_t)buf[pos + 2] << 8) | buf[pos + 3];
        if (seg < 2) {
            return -EINVAL;
        }
        pos += 2 + seg;
        if (m == 0xda) {
            pos = shmcam_jpeg_skip_scan(buf, len, pos);
        }
        if (pos >= len) {
            return -EAGAIN;
        }
    }
}
