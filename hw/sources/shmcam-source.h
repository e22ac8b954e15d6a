/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frame sources of shmcam-host: the test pattern, a V4L2 camera, a file or
 * pipe of raw frames.  Each fills in the ops below; host/capture.c drives
 * them and host/outputs.c publishes what they return: a frame in memory
 * of the source's, or, from a source that draws its frames, a frame drawn
 * where it is to go.
 */
#ifndef SHMCAM_SOURCE_H
#define SHMCAM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "shmcam.h"

struct shmcam_source;
struct shmcam_producer;

struct shmcam_source_frame {
    const void *data;           /* NULL: drawn on demand, by ops->draw */
    uint32_t len;
    uint32_t flags;             /* SHMCAM_SLOT_* */
    /*
     * When the frame was captured, on CLOCK_MONOTONIC (a camera's buffer
     * timestamp), or 0: the publish time stands in for it.
     */
    uint64_t timestamp_ns;
    /*
     * Not NULL: the frame is already where it is to be published, in the
     * slot of this producer's next frame, which the source holds
     * (shmcam_producer_hold()): commit it there, nothing to copy.
     */
    struct shmcam_producer *held;
};

struct shmcam_source_ops {
    /*
     * Start producing @fmt.  A camera may adjust it: @fmt is updated to
     * what the device delivers.  Returns 0 or a negative errno with @errp
     * set to a message naming the thing and the fix.
     */
    int (*start)(struct shmcam_source *s, struct shmcam_format *fmt,
                 GError **errp);
    /* The capability table for slots of @slot_size bytes, with each
     * entry's line and image size in @sizes; returns the number of
     * entries written (at most SHMCAM_MAX_CAPS). */
    uint32_t (*caps)(struct shmcam_source *s, uint32_t slot_size,
                     struct shmcam_cap *caps, struct shmcam_cap_size *sizes);
    /*
     * The next frame, valid until release.  Returns 0, -EAGAIN when none
     * is ready (poll the source's fd), -ENODEV when the source went away,
     * -EPIPE at the end of the input, or another negative errno.
     */
    int (*next)(struct shmcam_source *s, struct shmcam_source_frame *f);
    /*
     * For a source that draws its frames (the test pattern), NULL for the
     * others.  Its next() gives f->data NULL and f->len the frame's
     * length, and this draws that frame, its f->len bytes: into @dst, of
     * @size bytes (a slot, that guests may write: it is only written,
     * never read), or with @dst NULL into memory of the source's own,
     * valid until release.  Returns where the frame is, or NULL when it
     * cannot be made (@size too small, out of memory).
     */
    const void *(*draw)(struct shmcam_source *s, void *dst, uint32_t size);
    /*
     * For a source that can capture straight into a region's slots (a
     * camera, through V4L2 USERPTR buffers), NULL for the others.  @p is
     * the one region frames go to, or NULL when they go to several or to
     * none: they then come in memory of the source's, to be copied.
     * Called whenever that changes, and before a region it named is
     * unmapped: the source stops writing into it before this returns.
     */
    void (*target)(struct shmcam_source *s, struct shmcam_producer *p);
    /*
     * Controls (ABI 1.4), NULL for a source without any.  ctrls() writes
     * the source's controls and their values now into @t's num_ctrls,
     * ctrls[], num_menu and menu[], nothing else; the host calls it at
     * every heartbeat and publishes what changed, so a source learns of
     * changes made elsewhere (a camera's V4L2_EVENT_CTRL) by then.
     * set_ctrl() changes control @id, which the host has checked is one
     * of ctrls()' last answer, writable, with @value in its range and
     * valid for its type; returns 0 with @applied the value the source
     * kept, or a positive errno (the source's own: a camera's).
     */
    void (*ctrls)(struct shmcam_source *s, struct shmcam_ctrl_table *t);
    int (*set_ctrl)(struct shmcam_source *s, uint32_t id, int64_t value,
                    int64_t *applied);
    void (*release)(struct shmcam_source *s);
    void (*stop)(struct shmcam_source *s);
    void (*free)(struct shmcam_source *s);
};

struct shmcam_source {
    const struct shmcam_source_ops *ops;
    const char *card;           /* name for the header's card field */
    int fd;                     /* to poll while next() says -EAGAIN, or -1 */
    bool paced;                 /* true: the source has its own clock */
    /* How the started format's colorspace is coded; zero: not known. */
    struct shmcam_color color;
};

/* @align: lines padded to a multiple of it (shmcam_format_align()). */
struct shmcam_source *shmcam_pattern_source_new(uint32_t align);
struct shmcam_source *shmcam_file_source_new(const char *path, bool loop,
                                             uint32_t align);
/* @in_place: capture into the region's slots when the camera can
 * (--camera-io auto), else always into the camera's own buffers. */
struct shmcam_source *shmcam_v4l2_source_new(const char *device,
                                             bool in_place);
/* @target: a PipeWire node's name, serial or path; NULL: the default
 * video source (source-pipewire.c, built with libpipewire-0.3). */
struct shmcam_source *shmcam_pipewire_source_new(const char *target);

/*
 * Can shmcam carry what a V4L2 driver answered to S_FMT or TRY_FMT?  True,
 * or false with @why saying which of the ABI's limits it is outside.
 */
struct v4l2_pix_format;
bool shmcam_v4l2_answer_ok(const struct v4l2_pix_format *pix, char *why,
                           size_t len);

/* Shared by the pattern and file sources: caps of the sizes and formats
 * shmcam-host itself can produce, the configured one first, their lines
 * padded to @align. */
uint32_t shmcam_source_common_caps(const struct shmcam_format *cur,
                                   const uint32_t *fourccs, uint32_t nfourcc,
                                   bool other_sizes, uint32_t align,
                                   uint32_t slot_size, struct shmcam_cap *caps,
                                   struct shmcam_cap_size *sizes);

#endif /* SHMCAM_SOURCE_H */
