/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pixel formats shmcam carries and the arithmetic every side agrees on:
 * bytes per line and image sizes for the formats shmcam-host produces.
 */
#ifndef SHMCAM_FORMAT_H
#define SHMCAM_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shmcam.h"

/* Returns the fourcc for "YUYV", "NV12", "YU12" (or "I420"), "MJPG" (or
 * "MJPEG"), case-insensitive, or 0 for a name we do not know. */
uint32_t shmcam_format_from_name(const char *name);

/* The fourcc as four printable characters and a NUL. */
void shmcam_format_name(uint32_t fourcc, char name[5]);

/* "YUYV, NV12, YU12, MJPG": what messages list as the choices. */
const char *shmcam_format_names(void);

/*
 * shmcam_format_init - fill @f for a format shmcam-host produces itself,
 * with tightly packed lines.  MJPEG frames are bounded by one byte per
 * pixel.  Returns 0, or -EINVAL for an unknown fourcc, a size out of
 * range, or an odd width or height.
 */
int shmcam_format_init(struct shmcam_format *f, uint32_t fourcc,
                       uint32_t width, uint32_t height,
                       struct shmcam_fract interval);

/*
 * shmcam_format_align - pad the lines of a raw format to a multiple of
 * @align bytes (a power of two up to SHMCAM_MAX_ALIGN; 0 or 1: packed), as
 * a camera with a stride does; sizeimage follows.  A compressed format is
 * left as it is.
 */
#define SHMCAM_MAX_ALIGN        4096u
void shmcam_format_align(struct shmcam_format *f, uint32_t align);

/* A raw format's lines @bpl bytes apart; sizeimage follows (unchecked). */
void shmcam_format_set_stride(struct shmcam_format *f, uint32_t bpl);

/* Parse "1920x1080": returns 0 or -EINVAL. */
int shmcam_parse_size(const char *s, uint32_t *w, uint32_t *h);

/* Parse "60", "30000/1001" (frames per second): returns 0 or -EINVAL.
 * @interval receives the time per frame. */
int shmcam_parse_fps(const char *s, struct shmcam_fract *interval);

/* Page-rounded bytes a slot needs for frames of @f. */
uint32_t shmcam_format_slot_size(const struct shmcam_format *f);

/*
 * Add the interval @num/@den to a capability's list, unless it is there
 * already (as the same fraction, reduced or not), is 0 in either part, or
 * the list is full.
 */
void shmcam_cap_add_interval(struct shmcam_cap *c, uint32_t num, uint32_t den);

/* "1920x1080 YUYV" */
void shmcam_format_str(const struct shmcam_format *f, char *buf, size_t len);

#endif /* SHMCAM_FORMAT_H */
