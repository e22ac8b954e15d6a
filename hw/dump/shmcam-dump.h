/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-dump, the reference reader: context shared by shmcam-dump.c (the
 * live reader) and dump-file.c (files captured in a guest, and pattern
 * files for --file tests).
 */
#ifndef SHMCAM_DUMP_H
#define SHMCAM_DUMP_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "shmcam.h"
#include "shmcam-pattern.h"
#include "shmcam-region.h"

struct shmcam_dump_opts {
    char *shm;
    char *region;
    char *connect;
    gint64 frames;
    gboolean verify;
    char *out;
    int timeout;
    char *input;
    char *generate;
    char *format;
    char *size;
    int bytesperline;
    gboolean quiet;
    gboolean status;
    gboolean controls;
    char **set_ctrl;                    /* ID_OR_NAME=VALUE each */
    gboolean version;
};

struct shmcam_dump_counts {
    uint64_t frames;            /* frames read (and checked with --verify) */
    uint64_t bad;               /* failed verification */
    uint64_t out_of_order;      /* stamp not after the previous one */
    uint64_t dropped;           /* frame counters skipped (live only) */
    uint64_t torn;              /* reads the seqlock refused (live only) */
    uint64_t last_stamp;        /* SHMCAM_PATTERN_NONE before the first */
};

struct shmcam_dump {
    struct shmcam_dump_opts o;
    struct shmcam_format fmt;           /* offline: from --format/--size */
    struct shmcam_pattern pat;
    bool pat_ready;
    struct shmcam_dump_counts c;
};

/* Check one frame against the pattern and count it; 0 or -EBADMSG. */
int shmcam_dump_check(struct shmcam_dump *d, const struct shmcam_format *f,
                      const uint8_t *buf, uint32_t len);
int shmcam_dump_save(struct shmcam_dump *d, const struct shmcam_format *f,
                     uint64_t frame, const uint8_t *buf, uint32_t len);
int shmcam_dump_input(struct shmcam_dump *d);

/*
 * Map the region an ivshmem server at @path hands to its clients
 * (ivshmem-client.c); *@sock is the connection, returned open (closing
 * it ends the client), *@id the client id the server gave.  Returns 0;
 * -ENOENT or -ECONNREFUSED when nothing listens at @path; -ECONNRESET when
 * the server closed the connection (it refused us); -EPROTO when it does
 * not speak ivshmem protocol 0; -ETIMEDOUT when its setup did not come;
 * or another negative errno.
 */
int shmcam_dump_open_ivshmem(struct shmcam_region *r, const char *path,
                             bool writable, int *sock, int64_t *id);
int shmcam_dump_generate(struct shmcam_dump *d);

#endif /* SHMCAM_DUMP_H */
