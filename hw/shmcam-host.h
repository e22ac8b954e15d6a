/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: the producer daemon's context, shared by its two files:
 * shmcam-host.c (options, main loop) and host-region.c (region setup).
 */
#ifndef SHMCAM_HOST_H
#define SHMCAM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "shmcam.h"
#include "shmcam-producer.h"
#include "shmcam-region.h"
#include "shmcam-source.h"

struct shmcam_host_opts {
    gboolean pattern;
    char *camera;
    char *file;
    gboolean loop;
    char *format;
    char *size;
    char *fps;
    int slots;
    char *shm;
    char *region;
    char *mode;
    gboolean force;
    gboolean stats;
    char *card;
    gboolean version;
};

struct shmcam_host {
    struct shmcam_host_opts o;
    struct shmcam_format fmt;           /* what is published now */
    struct shmcam_source *src;
    char *src_name;                     /* for messages */
    struct shmcam_region region;
    struct shmcam_producer prod;
    bool initialised;                   /* the region carries our session */
    mode_t shm_mode;
    int sigfd;
    enum shmcam_state state;
    bool want_fd;                       /* source said -EAGAIN: poll its fd */
    uint64_t next_frame_ns;
    uint64_t next_beat_ns;
    uint64_t next_retry_ns;
    uint64_t next_stats_ns;
    uint64_t stats_frames;
    uint64_t stats_start_ns;
};

int shmcam_host_region_setup(struct shmcam_host *h, GError **errp);
void shmcam_host_region_release(struct shmcam_host *h);

#endif /* SHMCAM_HOST_H */
