/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: the producer daemon's context, shared by its files:
 * shmcam-host.c (options, the capture loop), host-region.c (region setup)
 * and host-server.c (--listen and --pci-listen: the server that holds
 * QEMU's connections and supervises the capture loop in a child process).
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

enum {
    SHMCAM_EXIT_OK = 0,
    SHMCAM_EXIT_ERROR = 1,      /* region, source or I/O failure */
    SHMCAM_EXIT_USAGE = 2,      /* bad command line */
};

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
    char *listen;
    char *pci_listen;
    gboolean isolate;
    char *region_size;
    gboolean keep;
    gboolean version;
};

/*
 * In a server, the capture process's view of one connected guest: the
 * eventfd that raises its frame interrupt; with --isolate, or for a
 * shmcam-pci device, the guest's own region; for shmcam-pci, the eventfd
 * the guest's doorbell writes.  The supervisor hands these over
 * (host-server.c).  In a region of its own the guest's consumer area is
 * still the one at its id.
 */
struct shmcam_host_out {
    int efd;                            /* -1: no guest with this id */
    int doorbell_fd;                    /* shmcam-pci only, else -1 */
    struct shmcam_region region;        /* a region of its own, or none */
    struct shmcam_producer prod;        /* laid out in that region */
};

/*
 * In a server, what the capture process tells the supervisor without a
 * message, in a page they share (shmcam_server_watchdog()): when its loop
 * last turned, whose eventfd it is using (a peer that makes it block is
 * named and dropped), and the peers it found tampering with theirs.
 */
struct shmcam_watch {
    uint64_t beat_ns;                   /* 0 until the loop first turns */
    int32_t busy;                       /* a client's id, or SHMCAM_WATCH_* */
    uint32_t blame;                     /* clients to drop: a bit per id */
};

#define SHMCAM_WATCH_IDLE       (-1)
#define SHMCAM_WATCH_SOURCE     (-2)    /* starting the source: may be slow */

struct shmcam_host {
    struct shmcam_host_opts o;
    struct shmcam_format fmt;           /* what is published now */
    struct shmcam_source *src;
    char *src_name;                     /* for messages */
    struct shmcam_region region;        /* none with --listen --isolate */
    struct shmcam_producer prod;
    bool initialised;                   /* the region carries our session */
    mode_t shm_mode;
    uint64_t region_bytes;              /* --region-size, or 0 (--shm) */
    uint32_t slot_size;                 /* of every region we publish into */
    uint64_t frames;                    /* published since start */
    int sigfd;
    int ctrl_fd;                        /* server: from the supervisor */
    int doorbell_fd;                    /* --listen: ivshmem guests ring it */
    uint64_t doorbell_ns;               /* look at it again from then on */
    struct shmcam_host_out out[SHMCAM_MAX_CONSUMERS];
    enum shmcam_state state;
    bool want_fd;                       /* source said -EAGAIN: poll its fd */
    uint64_t next_frame_ns;
    uint64_t next_beat_ns;
    uint64_t next_retry_ns;
    uint64_t next_stats_ns;
    uint64_t stats_frames;
    uint64_t stats_start_ns;
    struct shmcam_watch *watch;         /* server only, else NULL */
    /*
     * Requests (shmcam_host_request()): whose format is in effect (the
     * area of a producer, and its owner then), and a request of the
     * holder's waiting for its turn.
     */
    struct shmcam_producer *holder;     /* NULL: nobody's */
    uint32_t holder_area;
    uint64_t holder_owner;
    bool pending;
    struct shmcam_request pending_req;
    struct shmcam_producer *pending_prod;
};

/* The command line into h->o, then its checks (host-main.c runs them). */
int shmcam_host_parse(struct shmcam_host *h, int *argc, char ***argv,
                      GError **errp);
int shmcam_host_check(struct shmcam_host *h, GError **errp);

int shmcam_host_region_setup(struct shmcam_host *h, GError **errp);
void shmcam_host_region_release(struct shmcam_host *h);
uint64_t shmcam_host_session_id(void);
/* A size as truncate -s and --region-size take it: "8M", "64K". */
void shmcam_host_size_arg(uint64_t size, char *buf, size_t len);

/* The capture loop: returns the exit status (host-server.c runs it in a
 * child process). */
int shmcam_host_capture(struct shmcam_host *h);
void shmcam_host_free(struct shmcam_host *h);
void shmcam_host_out_add(struct shmcam_host *h, uint32_t id, int efd,
                         int memfd, int doorbell_fd);
void shmcam_host_out_del(struct shmcam_host *h, uint32_t id);

/* Is shmcam-host a server (--listen, --pci-listen or both)? */
static inline bool shmcam_host_serves(const struct shmcam_host *h)
{
    return h->o.listen || h->o.pci_listen;
}

/* In a server: one region that every ivshmem guest maps (no --isolate). */
static inline bool shmcam_host_shares_region(const struct shmcam_host *h)
{
    return h->o.listen && !h->o.isolate;
}

/* A server: serve guests until SIGINT/SIGTERM; returns the exit status. */
int shmcam_server_main(struct shmcam_host *h);

#endif /* SHMCAM_HOST_H */
