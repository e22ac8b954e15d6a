/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Baseline JPEG encoder: 4:2:0 MCUs of 16x16, the example quantisation and
 * Huffman tables of ITU-T T.81 Annex K, a plain separable float DCT.  It is
 * only fast enough to pre-encode the test pattern's cycle of frames.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "shmcam-jpeg.h"

static const uint8_t shmcam_jpeg_qbase[2][64] = {
    {   /* luminance, row major */
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    }, {    /* chrominance */
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    },
};

/* bits[16] followed by the symbols: DC luma, AC luma, DC chroma, AC chroma */
static const uint8_t shmcam_jpeg_dc_luma[16 + 12] = {
    0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
};
static const uint8_t shmcam_jpeg_dc_chroma[16 + 12] = {
    0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
};
static const uint8_t shmcam_jpeg_ac_luma[16 + 162] = {
    0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d,
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06,
    0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
    0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72,
    0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
    0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
    0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3,
    0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
    0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
    0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4,
    0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
};
static const uint8_t shmcam_jpeg_ac_chroma[16 + 162] = {
    0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77,
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41,
    0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91,
    0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1,
    0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
    0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74,
    0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
    0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4,
    0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
};

static const uint8_t *const shmcam_jpeg_huff[4] = {
    shmcam_jpeg_dc_luma, shmcam_jpeg_ac_luma,
    shmcam_jpeg_dc_chroma, shmcam_jpeg_ac_chroma,
};

const uint8_t *shmcam_jpeg_huff_table(int index, const uint8_t **vals)
{
    *vals = shmcam_jpeg_huff[index] + 16;
    return shmcam_jpeg_huff[index];
}

struct shmcam_jpeg_code {
    uint16_t code[256];
    uint8_t len[256];
};

struct shmcam_jpeg_enc {
    uint8_t *out;
    size_t pos, size;
    uint32_t bits;              /* pending bits, left aligned at nbits */
    int nbits;
    int overflow;
    uint8_t zigzag[64];         /* zigzag index -> row-major index */
    uint8_t q[2][64];           /* row major */
    float dct[8][8];
    struct shmcam_jpeg_code huff[4];
    int pred[3];
};

static void shmcam_jpeg_byte(struct shmcam_jpeg_enc *e, uint8_t b)
{
    if (e->pos < e->size) {
        e->out[e->pos++] = b;
    } else {
        e->overflow = 1;
    }
}

static void shmcam_jpeg_u16(struct shmcam_jpeg_enc *e, uint16_t v)
{
    shmcam_jpeg_byte(e, v >> 8);
    shmcam_jpeg_byte(e, v & 0xff);
}

static void shmcam_jpeg_bits(struct shmcam_jpeg_enc *e, uint32_t code, int n)
{
    e->bits = (e->bits << n) | (code & ((1u << n) - 1));
    e->nbits += n;
    while (e->nbits >= 8) {
        uint8_t b = e->bits >> (e->nbits - 8);

        shmcam_jpeg_byte(e, b);
        if (b == 0xff) {
            shmcam_jpeg_byte(e, 0);     /* byte stuffing */
        }
        e->nbits -= 8;
    }
}

static void shmcam_jpeg_init_tables(struct shmcam_jpeg_enc *e, int quality)
{
    int i, t, u, x, k = 0, s;

    /* zigzag: walk the anti-diagonals, alternating direction */
    for (s = 0; s < 15; s++) {
        for (i = 0; i < 8; i++) {
            int r = (s & 1) ? i : s - i, c = s - r;

            if (r >= 0 && r < 8 && c >= 0 && c < 8) {
                e->zigzag[k++] = r * 8 + c;
            }
        }
    }
    quality = quality < 1 ? 1 : quality > 100 ? 100 : quality;
    s = quality < 50 ? 5000 / quality : 200 - 2 * quality;
    for (t = 0; t < 2; t++) {
        for (i = 0; i < 64; i++) {
            int q = (shmcam_jpeg_qbase[t][i] * s + 50) / 100;

            e->q[t][i] = q < 1 ? 1 : q > 255 ? 255 : q;
        }
    }
    for (u = 0; u < 8; u++) {
        for (x = 0; x < 8; x++) {
            e->dct[u][x] = (u ? 0.5f : 0.5f / sqrtf(2.0f)) *
                           cosf((2 * x + 1) * u * (float)M_PI / 16);
        }
    }
    for (t = 0; t < 4; t++) {
        const uint8_t *bits = shmcam_jpeg_huff[t], *vals = bits + 16;
        unsigned code = 0;
        int len;

        k = 0;
        for (len = 1; len <= 16; len++, code <<= 1) {
            for (i = 0; i < bits[len - 1]; i++, k++, code++) {
                e->huff[t].code[vals[k]] = code;
                e->huff[t].len[vals[k]] = len;
            }
        }
    }
}

static void shmcam_jpeg_headers(struct shmcam_jpeg_enc *e,
                                const struct shmcam_jpeg_image *img,
                                const uint8_t *com, size_t com_len)
{
    static const uint8_t sof_comps[] = { 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1 };
    static const uint8_t sos[] = { 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0 };
    int t, i;

    shmcam_jpeg_u16(e, 0xffd8);
    if (com) {
        shmcam_jpeg_u16(e, 0xfffe);
        shmcam_jpeg_u16(e, com_len + 2);
        for (i = 0; i < (int)com_len; i++) {
            shmcam_jpeg_byte(e, com[i]);
        }
    }
    shmcam_jpeg_u16(e, 0xffdb);
    shmcam_jpeg_u16(e, 2 + 2 * 65);
    for (t = 0; t < 2; t++) {
        shmcam_jpeg_byte(e, t);
        for (i = 0; i < 64; i++) {
            shmcam_jpeg_byte(e, e->q[t][e->zigzag[i]]);
        }
    }
    shmcam_jpeg_u16(e, 0xffc0);
    shmcam_jpeg_u16(e, 8 + 3 * 3);
    shmcam_jpeg_byte(e, 8);
    shmcam_jpeg_u16(e, img->height);
    shmcam_jpeg_u16(e, img->width);
    shmcam_jpeg_byte(e, 3);
    for (i = 0; i < (int)sizeof(sof_comps); i++) {
        shmcam_jpeg_byte(e, sof_comps[i]);
    }
    for (t = 0; t < 4; t++) {
        const uint8_t *bits = shmcam_jpeg_huff[t];
        int n = 0;

        for (i = 0; i < 16; i++) {
            n += bits[i];
        }
        shmcam_jpeg_u16(e, 0xffc4);
        shmcam_jpeg_u16(e, 2 + 1 + 16 + n);
        shmcam_jpeg_byte(e, ((t & 1) << 4) | (t >> 1));
        for (i = 0; i < 16 + n; i++) {
            shmcam_jpeg_byte(e, bits[i]);
        }
    }
    shmcam_jpeg_u16(e, 0xffda);
    shmcam_jpeg_u16(e, 2 + sizeof(sos));
    for (i = 0; i < (int)sizeof(sos); i++) {
        shmcam_jpeg_byte(e, sos[i]);
    }
}

/* The magnitude category of v and its low bits as JPEG codes them. */
static int shmcam_jpeg_category(int v, uint32_t *bits)
{
    int a = v < 0 ? -v : v, n = 0;

    while (a >> n) {
        n++;
    }
    *bits = v < 0 ? (uint32_t)(v - 1) : (uint32_t)v;
    return n;
}

static void shmcam_jpeg_block(struct shmcam_jpeg_enc *e, const float in[64],
                              int comp)
{
    const struct shmcam_jpeg_code *dc = &e->huff[comp ? 2 : 0];
    const struct shmcam_jpeg_code *ac = &e->huff[comp ? 3 : 1];
    const uint8_t *q = e->q[comp ? 1 : 0];
    float tmp[64];
    int coef[64], i, u, v, x, run = 0, n;
    uint32_t bits;

    for (u = 0; u < 8; u++) {           /* rows: tmp = in * dct^T */
        for (v = 0; v < 8; v++) {
            float acc = 0;

            for (x = 0; x < 8; x++) {
                acc += in[u * 8 + x] * e->dct[v][x];
            }
            tmp[u * 8 + v] = acc;
        }
    }
    for (u = 0; u < 8; u++) {           /* columns */
        for (v = 0; v < 8; v++) {
            float acc = 0;

            for (x = 0; x < 8; x++) {
                acc += e->dct[u][x] * tmp[x * 8 + v];
            }
            coef[u * 8 + v] = (int)lrintf(acc / q[u * 8 + v]);
        }
    }

    n = shmcam_jpeg_category(coef[0] - e->pred[comp], &bits);
    e->pred[comp] = coef[0];
    shmcam_jpeg_bits(e, dc->code[n], dc->len[n]);
    shmcam_jpeg_bits(e, bits, n);
    for (i = 1; i < 64; i++) {
        int c = coef[e->zigzag[i]];

        if (!c) {
            run++;
            continue;
        }
        while (run > 15) {
            shmcam_jpeg_bits(e, ac->code[0xf0], ac->len[0xf0]);
            run -= 16;
        }
        n = shmcam_jpeg_category(c, &bits);
        shmcam_jpeg_bits(e, ac->code[(run << 4) | n], ac->len[(run << 4) | n]);
        shmcam_jpeg_bits(e, bits, n);
        run = 0;
    }
    if (run) {
        shmcam_jpeg_bits(e, ac->code[0], ac->len[0]);
    }
}

/* Copy an 8x8 block at (x0, y0) of a plane, replicating edge pixels. */
static void shmcam_jpeg_fetch(const uint8_t *plane, uint32_t stride,
                              uint32_t w, uint32_t h, uint32_t x0, uint32_t y0,
                              float out[64])
{
    uint32_t x, y;

    for (y = 0; y < 8; y++) {
        const uint8_t *row = plane + (uint64_t)(y0 + y < h ? y0 + y : h - 1) * stride;

        for (x = 0; x < 8; x++) {
            out[y * 8 + x] = (float)row[x0 + x < w ? x0 + x : w - 1] - 128.0f;
        }
    }
}

long shmcam_jpeg_encode(const struct shmcam_jpeg_image *img, int quality,
                        const uint8_t *com, size_t com_len,
                        uint8_t *out, size_t out_size)
{
    struct shmcam_jpeg_enc e = { .out = out, .size = out_size };
    uint32_t w = img->width, h = img->height, cw = w / 2, ch = h / 2;
    uint32_t mx, my, b;
    float blk[64];

    if (!w || !h || (w | h) & 1 || w > 65535 || h > 65535 || com_len > 65533) {
        return -EINVAL;
    }
    shmcam_jpeg_init_tables(&e, quality);
    shmcam_jpeg_headers(&e, img, com, com_len);
    for (my = 0; my < h; my += 16) {
        for (mx = 0; mx < w; mx += 16) {
            for (b = 0; b < 4; b++) {
                shmcam_jpeg_fetch(img->plane[0], img->stride[0], w, h,
                                  mx + (b & 1) * 8, my + (b >> 1) * 8, blk);
                shmcam_jpeg_block(&e, blk, 0);
            }
            for (b = 1; b < 3; b++) {
                shmcam_jpeg_fetch(img->plane[b], img->stride[b], cw, ch,
                                  mx / 2, my / 2, blk);
                shmcam_jpeg_block(&e, blk, b);
            }
        }
    }
    if (e.nbits) {                      /* pad the last byte with ones */
        shmcam_jpeg_bits(&e, 0x7f, 8 - e.nbits);
    }
    shmcam_jpeg_u16(&e, 0xffd9);
    return e.overflow ? -ENOSPC : (long)e.pos;
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
