/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: the producer daemon's context, shared by its files:
 * options.c (the command line), capture.c (the capture loop), outputs.c
 * (the regions and guests frames go to), requests.c (whose format is
 * published), region.c (region setup), and server/ (--listen and
 * --pci-listen: the server that holds QEMU's connections and supervises
 * the capture loop in a child process).
 */
#ifndef SHMCAM_HOST_H
#define SHMCAM_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <poll.h>

#include <glib.h>

#include "shmcam.h"
#include "shmcam-producer.h"
#include "shmcam-region.h"
#include "shmcam-source.h"
#include "ctrl.h"

enum {
    SHMCAM_EXIT_OK = 0,
    SHMCAM_EXIT_ERROR = 1,      /* region, source or I/O failure */
    SHMCAM_EXIT_USAGE = 2,      /* bad command line */
};

struct shmcam_host_opts {
    gboolean pattern;
    char *camera;
    char *pipewire;                     /* its target, or "": the default */
    char *file;
    gboolean loop;
    char *format;
    char *size;
    char *fps;
    int align;
    int slots;
    char *shm;
    char *region;
    char *qemu_memdev;                  /* PID:ID or QMP-SOCKET:ID */
    char *mode;
    gboolean force;
    gboolean stats;
    char *card;
    char *listen;
    char *pci_listen;
    gboolean isolate;
    char *region_size;
    gboolean keep;
    char *camera_io;                    /* auto (NULL) or mmap */
    char *controls;                     /* first (NULL), all or none */
    gboolean version;
};

/*
 * In a server, the capture process's view of one connected guest (an
 * output): the eventfd that raises its frame interrupt; with --isolate, or
 * for a shmcam-pci device, the guest's own region; for shmcam-pci, the
 * eventfd the guest's doorbell writes.  The supervisor hands these over
 * (ctrl.h); host/outputs.c keeps them, in a list of any length.
 */
/* --controls: who may change the source's controls (host/controls.c). */
enum shmcam_ctrl_policy {
    SHMCAM_CTRLS_FIRST,                 /* the format's holder, or anyone */
    SHMCAM_CTRLS_ALL,
    SHMCAM_CTRLS_NONE,
};

struct shmcam_host_out {
    uint32_t key;                       /* the supervisor's, for messages */
    uint32_t area;                      /* its consumer area */
    char name[32];                      /* "client 3", "shmcam-pci client 0" */
    int efd;
    int doorbell_fd;                    /* shmcam-pci only, else -1 */
    struct shmcam_region region;        /* a region of its own, or none */
    struct shmcam_producer prod;        /* laid out in that region */
};

/*
 * In a server, what the capture process tells the supervisor without a
 * message, in a page they share (server/supervisor.c): when its loop last
 * turned, and whose eventfd it is using (a peer that makes it block is
 * named and dropped).
 */
struct shmcam_watch {
    uint64_t beat_ns;                   /* 0 until the loop first turns */
    uint32_t busy;                      /* a client's key, or SHMCAM_WATCH_* */
};

#define SHMCAM_WATCH_IDLE       UINT32_MAX
#define SHMCAM_WATCH_SOURCE     (UINT32_MAX - 1)    /* starting the source */

struct shmcam_host {
    struct shmcam_host_opts o;
    struct shmcam_format fmt;           /* what is published now */
    struct shmcam_source *src;
    char *src_name;                     /* for messages */
    struct shmcam_region region;        /* none with --listen --isolate */
    struct shmcam_producer prod;
    bool initialised;                   /* the region carries our session */
    /*
     * --slots not given with --camera: 4, for the camera to capture into
     * the slots, and 3 wherever 4 do not fit (shmcam_host_fewer_slots()).
     */
    bool slots_auto;
    mode_t shm_mode;
    uint32_t align;                     /* --align, or 0: packed lines */
    uint64_t region_bytes;              /* --region-size, or 0 (--shm) */
    uint32_t slot_size;                 /* of every region we publish into */
    uint64_t frames;                    /* published since start */
    uint64_t oversized;                 /* frames too large for a slot */
    uint64_t copied;                    /* frame bytes copied into regions */
    uint64_t publish_ns;                /* in shmcam_host_publish() */
    int sigfd;
    int ctrl_fd;                        /* server: to and from the supervisor */
    int shared_fd;                      /* --listen: the region guests share */
    int doorbell_fd;                    /* --listen: ivshmem guests ring it */
    uint64_t doorbell_ns;               /* look at it again from then on */
    GPtrArray *outs;                    /* struct shmcam_host_out */
    enum shmcam_state state;
    bool want_fd;                       /* source said -EAGAIN: poll its fd */
    bool stalled;                       /* a pipe that went quiet: no signal */
    uint64_t next_frame_ns;
    uint64_t last_frame_ns;             /* when the source last gave one */
    uint64_t next_beat_ns;
    uint64_t next_retry_ns;
    uint64_t next_stats_ns;
    uint64_t stats_frames;
    uint64_t stats_start_ns;
    struct shmcam_watch *watch;         /* server only, else NULL */
    /*
     * Requests (host/requests.c): whose format is in effect (the area of
     * a producer, and its owner then), and a request of the holder's
     * waiting for its turn.
     */
    struct shmcam_producer *holder;     /* NULL: nobody's */
    uint32_t holder_area;
    uint64_t holder_owner;
    bool pending;
    struct shmcam_request pending_req;
    struct shmcam_producer *pending_prod;
    /* Controls (host/controls.c): the source's, as we publish them. */
    enum shmcam_ctrl_policy ctrl_policy;
    struct shmcam_ctrl_table ctrls;
    /*
     * Copies of one frame into several regions, made side by side: a
     * worker for each core but ours (outputs.c), or NULL on one core.
     */
    GThreadPool *copiers;
    GMutex copy_lock;
    GCond copy_done;
    unsigned int copies_left;
};

/* The command line into h->o, then its checks (options.c; main.c runs
 * them). */
int shmcam_host_parse(struct shmcam_host *h, int *argc, char ***argv,
                      GError **errp);
int shmcam_host_check(struct shmcam_host *h, GError **errp);

int shmcam_host_region_setup(struct shmcam_host *h, GError **errp);
void shmcam_host_region_release(struct shmcam_host *h);
uint64_t shmcam_host_session_id(void);
/* A size as truncate -s and --region-size take it: "8M", "64K". */
void shmcam_host_size_arg(uint64_t size, char *buf, size_t len);

/* The capture loop: returns the exit status (server/server.c runs it in
 * a child process). */
int shmcam_host_capture(struct shmcam_host *h);
void shmcam_host_free(struct shmcam_host *h);

/*
 * The outputs (outputs.c): the one region, if any, then each guest's own.
 * shmcam_host_next_prod() walks their producers: start with *@pos at 0;
 * NULL after the last.
 */
void shmcam_host_outputs_init(struct shmcam_host *h);
void shmcam_host_out_add(struct shmcam_host *h, const struct shmcam_ctrl_msg *m);
void shmcam_host_out_del(struct shmcam_host *h, uint32_t key);
void shmcam_host_outputs_free(struct shmcam_host *h);
struct shmcam_producer *shmcam_host_next_prod(struct shmcam_host *h,
                                              unsigned int *pos);
#define SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) \
    for ((pos) = 0; ((p) = shmcam_host_next_prod((h), &(pos))) != NULL; )

int shmcam_host_parse_controls(const char *arg, enum shmcam_ctrl_policy *pol);
void shmcam_host_controls(struct shmcam_host *h, uint64_t now, bool beat);
bool shmcam_host_may_set(struct shmcam_host *h,
                         const struct shmcam_producer *p, uint32_t area,
                         uint64_t owner);

void shmcam_host_publish_format(struct shmcam_host *h);
void shmcam_host_set_state(struct shmcam_host *h, enum shmcam_state s);
uint32_t shmcam_host_fit(struct shmcam_host *h);
bool shmcam_host_fewer_slots(struct shmcam_host *h);
void shmcam_host_retarget(struct shmcam_host *h,
                          const struct shmcam_producer *going);
int shmcam_host_publish(struct shmcam_host *h,
                        const struct shmcam_source_frame *f, uint64_t now);
void shmcam_host_ring(struct shmcam_host *h);
void shmcam_host_check_lost(struct shmcam_host *h);
void shmcam_host_beat(struct shmcam_host *h, uint64_t now);
unsigned int shmcam_host_doorbells(struct shmcam_host *h, struct pollfd *pfd,
                                   unsigned int max);
bool shmcam_host_doorbell_rang(struct shmcam_host *h,
                               const struct pollfd *pfd, unsigned int n);

/*
 * Requests (requests.c): look at the consumer areas; true when one asked
 * for another format that is to be taken now, in *@fmt.
 */
bool shmcam_host_request(struct shmcam_host *h, uint64_t now,
                         struct shmcam_format *fmt);

/* Say to the supervisor what we are doing now (a server only). */
static inline void shmcam_host_busy(struct shmcam_host *h, uint32_t what)
{
    if (h->watch) {
        __atomic_store_n(&h->watch->busy, what, __ATOMIC_RELAXED);
    }
}

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
