/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small baseline JPEG encoder (4:2:0, standard tables) for the test
 * pattern's MJPEG frames, and a splitter for streams of concatenated JPEGs.
 */
#ifndef SHMCAM_JPEG_H
#define SHMCAM_JPEG_H

#include <stddef.h>
#include <stdint.h>

struct shmcam_jpeg_image {
    uint32_t width, height;             /* even */
    const uint8_t *plane[3];            /* Y, Cb, Cr; chroma at half size */
    uint32_t stride[3];
};

/*
 * shmcam_jpeg_encode - encode @img at @quality (1..100) into @out
 * @com: bytes for a COM segment right after SOI (may be NULL)
 *
 * Returns the JPEG's length, or -ENOSPC when @out_size is too small, or
 * -EINVAL for a bad image or a COM segment over 65533 bytes.
 */
long shmcam_jpeg_encode(const struct shmcam_jpeg_image *img, int quality,
                        const uint8_t *com, size_t com_len,
                        uint8_t *out, size_t out_size);

/*
 * shmcam_jpeg_length - the length of the JPEG starting at @buf
 *
 * Follows the marker segments and the entropy-coded data to EOI.  Returns
 * 0 with *@jpeg_len set, -EAGAIN when @len ends before the EOI, or
 * -EINVAL when @buf does not start a JPEG.
 */
int shmcam_jpeg_length(const uint8_t *buf, size_t len, size_t *jpeg_len);

/* For tests: the standard Huffman tables, bits[16] then vals. */
const uint8_t *shmcam_jpeg_huff_table(int index, const uint8_t **vals);

#endif /* SHMCAM_JPEG_H */
