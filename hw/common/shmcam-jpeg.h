/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JPEG: the test pattern's MJPEG frames, encoded by libjpeg-turbo (its
 * TurboJPEG API) with a comment segment of ours spliced in, and a
 * splitter for streams of concatenated JPEGs.
 */
#ifndef SHMCAM_JPEG_H
#define SHMCAM_JPEG_H

#include <stddef.h>
#include <stdint.h>

/* A planar YUV 4:2:2 image: chroma planes at half width, full height. */
struct shmcam_jpeg_image {
    uint32_t width, height;             /* even */
    const uint8_t *plane[3];            /* Y, Cb, Cr */
    uint32_t stride[3];
};

/* An encoder: TurboJPEG's compressor, kept from one frame to the next. */
struct shmcam_jpeg_encoder;

struct shmcam_jpeg_encoder *shmcam_jpeg_encoder_new(void);
void shmcam_jpeg_encoder_free(struct shmcam_jpeg_encoder *enc);

/*
 * shmcam_jpeg_encode - @img as a baseline JPEG, 4:2:2, at @quality (1..100)
 * @com: the bytes of a COM segment right after SOI (may be NULL)
 *
 * The output is TurboJPEG's with its JFIF APP0 replaced by the COM segment
 * (JFIF wants its APP0 first; MJPEG cameras' frames are plain JPEGs).  The
 * same image gives the same bytes with the same library: the slow integer
 * DCT, the standard tables, no restart markers.
 *
 * Returns the length of the JPEG in *@out (free() it), or -EINVAL for a
 * bad image or a COM segment over 65533 bytes, -ENOMEM, or -EIO when the
 * library fails.
 */
long shmcam_jpeg_encode(struct shmcam_jpeg_encoder *enc,
                        const struct shmcam_jpeg_image *img, int quality,
                        const uint8_t *com, size_t com_len, uint8_t **out);

/*
 * shmcam_jpeg_length - the length of the JPEG starting at @buf
 *
 * Follows the marker segments and the entropy-coded data to EOI.  Returns
 * 0 with *@jpeg_len set, -EAGAIN when @len ends before the EOI, or
 * -EINVAL when @buf does not start a JPEG.
 */
int shmcam_jpeg_length(const uint8_t *buf, size_t len, size_t *jpeg_len);

#endif /* SHMCAM_JPEG_H */
