/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test pattern: a moving image whose every frame is a function of its
 * frame number alone, stamped with that number and a checksum.  The same
 * module generates frames (shmcam-host) and verifies them (shmcam-dump),
 * byte for byte.  docs/specs/shmcam.rst describes the stamp.
 */
#ifndef SHMCAM_PATTERN_H
#define SHMCAM_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "shmcam.h"

#define SHMCAM_PATTERN_MAGIC        0x54504353u /* "SCPT" */
/* The stamp of a frame drawn with controls not at their defaults: four
 * bytes of their values follow it (struct shmcam_pattern_ctrls). */
#define SHMCAM_PATTERN_MAGIC_CTRL   0x43504353u /* "SCPC" */
#define SHMCAM_PATTERN_STAMP_SIZE   32u
#define SHMCAM_PATTERN_CTRLS_SIZE   4u
/*
 * MJPEG frames: a cycle of JPEGs, entry i the image of raw frame
 * i * SHMCAM_PATTERN_JPEG_STEP in planar 4:2:2, encoded by libjpeg-turbo
 * at SHMCAM_PATTERN_JPEG_QUALITY.
 */
#define SHMCAM_PATTERN_JPEG_CYCLE   8u
#define SHMCAM_PATTERN_JPEG_STEP    37u
#define SHMCAM_PATTERN_JPEG_QUALITY 75
/* Offset of the stamp in an MJPEG frame: in a COM segment right after SOI. */
#define SHMCAM_PATTERN_JPEG_STAMP   6u

/* The stamp, little-endian, at the start of a raw frame. */
struct shmcam_pattern_stamp {
    uint32_t magic;
    uint32_t pixelformat;
    uint64_t frame;
    uint16_t width;
    uint16_t height;
    uint32_t checksum;      /* of the bytes after the stamp (see the spec) */
    uint32_t jpeg_len;      /* MJPEG: the frame's length; raw: 0 */
    uint16_t jpeg_index;    /* MJPEG: frame % cycle; raw: 0 */
    uint16_t jpeg_cycle;    /* MJPEG: SHMCAM_PATTERN_JPEG_CYCLE; raw: 0 */
};
_Static_assert(sizeof(struct shmcam_pattern_stamp) == SHMCAM_PATTERN_STAMP_SIZE,
               "stamp size");

/*
 * The pattern's controls, as a camera's in YUV: brightness offsets the
 * luma, contrast scales it around mid-grey, saturation scales the chroma
 * around 128, hue rotates it.  In this order in the four bytes after a
 * SHMCAM_PATTERN_MAGIC_CTRL stamp: brightness, contrast and saturation
 * unsigned, hue signed.
 */
enum {
    SHMCAM_PATTERN_BRIGHTNESS,
    SHMCAM_PATTERN_CONTRAST,
    SHMCAM_PATTERN_SATURATION,
    SHMCAM_PATTERN_HUE,
    SHMCAM_PATTERN_NCTRLS,
};

struct shmcam_pattern_ctrl_info {
    uint32_t id;            /* V4L2_CID_* */
    const char *name;       /* V4L2's name of it */
    const char *key;        /* shmcam-dump --ctrl's name of it */
    int32_t minimum, maximum, default_value;
};
extern const struct shmcam_pattern_ctrl_info
    shmcam_pattern_ctrl_info[SHMCAM_PATTERN_NCTRLS];

/*
 * A plane holds its distinct lines only (the image's lines repeat: at most
 * 64 differ), each twice over, so that a shifted line is one copy.
 */
struct shmcam_pattern_plane {
    uint8_t *wide;          /* the distinct lines, each twice */
    uint8_t *line;          /* for each line, which of them; NULL: all 0 */
    uint32_t row_bytes;
    uint32_t stride;        /* bytes from a line to the next in the frame */
    uint32_t rows;          /* lines */
    uint32_t shift_num;     /* bytes per shifted pixel, over shift_den */
    uint32_t shift_den;
    uint32_t row_step;      /* rows scrolled per frame */
};

struct shmcam_jpeg_encoder;

struct shmcam_pattern {
    struct shmcam_format fmt;
    uint32_t layout;                    /* of the planes: a raw format's own,
                                           planar 4:2:2 for MJPEG */
    uint32_t nplanes;
    struct shmcam_pattern_plane plane[3];
    uint8_t *frame;                     /* shmcam_pattern_render()'s frame,
                                           NULL until first needed (MJPEG:
                                           the image being encoded) */
    uint32_t frame_size;
    struct shmcam_jpeg_encoder *enc;
    uint8_t *jpeg[SHMCAM_PATTERN_JPEG_CYCLE];   /* NULL until first needed */
    uint32_t jpeg_len[SHMCAM_PATTERN_JPEG_CYCLE];
    uint32_t jpeg_sum[SHMCAM_PATTERN_JPEG_CYCLE];  /* their checksums */
    int32_t ctrl[SHMCAM_PATTERN_NCTRLS];    /* SHMCAM_PATTERN_BRIGHTNESS... */
};

/*
 * shmcam_pattern_init - prepare frames of @fmt (YUYV, NV12, YU12, MJPG)
 *
 * A raw format's lines are fmt->bytesperline apart (a padded stride, the
 * padding zero), packed when it is 0.  Of the MJPEG cycle only entry 0 is
 * encoded here; each other is encoded the first time a frame needs it
 * and kept, so that no start-up waits for the whole cycle.
 *
 * Returns 0, -EINVAL for a format the pattern does not have, -ENOMEM,
 * -ENOSPC when the cycle's first JPEG would exceed fmt->sizeimage, or
 * -EIO when libjpeg-turbo fails.
 */
int shmcam_pattern_init(struct shmcam_pattern *pat,
                        const struct shmcam_format *fmt);
void shmcam_pattern_fini(struct shmcam_pattern *pat);

/*
 * shmcam_pattern_set_ctrls - draw the frames from now on with control
 * values @v (indexed SHMCAM_PATTERN_BRIGHTNESS...; each in its range of
 * shmcam_pattern_ctrl_info): the planes are drawn again and the MJPEG
 * cycle is encoded again, lazily, as after init.  Nothing is done when
 * the values are those in use.  Returns 0, -EINVAL for a value out of its
 * range (nothing changed), or -ENOMEM.
 */
int shmcam_pattern_set_ctrls(struct shmcam_pattern *pat, const int32_t *v);
/* Set @v to the controls' defaults. */
void shmcam_pattern_default_ctrls(int32_t *v);
/* Index of the control named @key (shmcam_pattern_ctrl_info's key or
 * name, in any case), or -1. */
int shmcam_pattern_ctrl_find(const char *key);

/*
 * shmcam_pattern_length - the length of frame @n, before it is drawn (an
 * MJPEG frame's cycle entry is encoded now if it was not yet).  0 for an
 * MJPEG frame whose JPEG could not be encoded (out of memory).
 */
uint32_t shmcam_pattern_length(struct shmcam_pattern *pat, uint64_t n);

/*
 * shmcam_pattern_render_into - frame @n, drawn into @dst (@dst_size
 * bytes), its checksum taken from what is written, in the same pass; @dst
 * is only written, never read (it may be a slot guests can write).
 * Returns the frame's length, or 0 when it does not fit in @dst_size or
 * cannot be made (shmcam_pattern_length() says which first); nothing is
 * written then.
 */
uint32_t shmcam_pattern_render_into(struct shmcam_pattern *pat, uint64_t n,
                                    void *dst, uint32_t dst_size);

/*
 * shmcam_pattern_render - frame @n, in a buffer owned by @pat that stays
 * valid until the next call: the bytes shmcam_pattern_render_into()
 * draws.  Returns its length: 0, with *@data NULL, for a frame that could
 * not be made (out of memory).
 */
uint32_t shmcam_pattern_render(struct shmcam_pattern *pat, uint64_t n,
                               const uint8_t **data);

/*
 * shmcam_pattern_verify - is @buf exactly the pattern frame it claims to be?
 *
 * Returns 0 with *@frame set from the stamp, or -EBADMSG with a reason in
 * @why (a frame with no valid stamp sets *@frame to SHMCAM_PATTERN_NONE).
 */
#define SHMCAM_PATTERN_NONE (~(uint64_t)0)
int shmcam_pattern_verify(struct shmcam_pattern *pat, const uint8_t *buf,
                          uint32_t len, uint64_t *frame, char *why,
                          size_t why_len);

uint32_t shmcam_pattern_checksum(const uint8_t *buf, size_t len);

#endif /* SHMCAM_PATTERN_H */
