/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The producer's view of a shmcam region: lay it out, publish frames,
 * keep it alive (heartbeat, state) and read consumer requests.
 */
#ifndef SHMCAM_PRODUCER_H
#define SHMCAM_PRODUCER_H

#include <stdbool.h>
#include <stdint.h>

#include "shmcam.h"

/* The heartbeat period every producer announces in heartbeat_ms. */
#define SHMCAM_PRODUCER_HEARTBEAT_MS 100u

/* What a region holds before a producer writes anything to it. */
enum shmcam_region_content {
    SHMCAM_CONTENT_EMPTY,       /* all zero: fresh */
    SHMCAM_CONTENT_OURS,        /* a shmcam region of our ABI major (or older) */
    SHMCAM_CONTENT_NEWER,       /* a shmcam region of a newer ABI major */
    SHMCAM_CONTENT_FOREIGN,     /* non-zero bytes that are not ours */
};

/* A consumer's control request, as its area had it. */
struct shmcam_ctrl_request {
    uint64_t owner;
    uint32_t serial;
    uint32_t id;
    int64_t value;
};

/*
 * The producer's own record of what it published.  The region is shared
 * with guests that may write anything anywhere in it, so nothing the
 * producer acts on (its period, counters, format, caps) is read back from
 * the region: it lives here, and the region only receives copies.
 */
struct shmcam_producer {
    struct shmcam_header *hdr;
    struct shmcam_consumer *consumers;
    uint8_t *data;
    uint64_t region_size;
    uint32_t slot_count;
    uint32_t slot_size;
    uint32_t heartbeat_ms;      /* SHMCAM_PRODUCER_HEARTBEAT_MS */
    uint32_t state;             /* enum shmcam_state */
    uint64_t heartbeat;
    uint64_t frame;             /* counter of the next frame to publish */
    uint32_t write_max;         /* begun and not committed: its bound, else 0 */
    uint32_t held;              /* slots lent by shmcam_producer_hold(), a bit each */
    uint32_t slots_ahead;       /* most slots held at once (header's slots_ahead) */
    uint32_t seq[SHMCAM_MAX_SLOTS];
    uint32_t format_gen;
    uint32_t meta_seq;          /* even between rewrites */
    struct shmcam_format format;
    uint32_t num_caps;
    struct shmcam_cap caps[SHMCAM_MAX_CAPS];
    struct shmcam_cap_size cap_sizes[SHMCAM_MAX_CAPS];
    /* Per consumer area: the request last acted on, and whose it was. */
    uint32_t req_gen[SHMCAM_MAX_CONSUMERS];
    uint64_t req_owner[SHMCAM_MAX_CONSUMERS];
    /* Per consumer area: owner and heartbeat last seen, and since when. */
    uint64_t seen_owner[SHMCAM_MAX_CONSUMERS];
    uint64_t seen_beat[SHMCAM_MAX_CONSUMERS];
    uint64_t seen_ns[SHMCAM_MAX_CONSUMERS];
    /*
     * The header as we wrote it.  The whole header page is ours, but on a
     * shared writable region a guest may overwrite it:
     * shmcam_producer_restore() puts it back.
     */
    struct shmcam_header shadow;
    bool restoring;             /* the last heartbeat found it overwritten */
    /* Per consumer area: when a request of its was last acted on, and
     * whether its being refused was said (shmcam_host_request()). */
    uint64_t switch_ns[SHMCAM_MAX_CONSUMERS];
    bool refused[SHMCAM_MAX_CONSUMERS];
    /*
     * The control table (ABI 1.4), NULL when the region has no room for
     * it, and its contents as we wrote them, restored as the header is.
     */
    uint64_t ctrl_offset;
    struct shmcam_ctrl_table *ctrl;
    struct shmcam_ctrl_table ctrl_shadow;
    /* Per consumer area: the control request serial last seen. */
    uint32_t ctrl_serial[SHMCAM_MAX_CONSUMERS];
    /*
     * Per consumer area (shmcam-host's controls.c): when its next control
     * request is due, and the newest one waiting for that.
     */
    uint64_t ctrl_due_ns[SHMCAM_MAX_CONSUMERS];
    uint32_t ctrl_waiting;      /* a bit an area */
    struct shmcam_ctrl_request ctrl_wait[SHMCAM_MAX_CONSUMERS];
};

/* A consumer's request that matched the capability table. */
struct shmcam_request {
    uint32_t consumer;
    uint64_t owner;             /* the area's owner when it asked */
    uint32_t pixelformat;
    uint32_t width;
    uint32_t height;
    struct shmcam_fract interval;
};

enum shmcam_region_content shmcam_producer_probe(const void *base,
                                                 uint64_t size,
                                                 uint16_t *abi_major);

/* Bytes a region needs for @slots slots of @slot_size bytes. */
uint64_t shmcam_producer_needed(uint32_t slots, uint32_t slot_size);

uint32_t shmcam_producer_slot_size(uint64_t region_size, uint32_t slots);
uint32_t shmcam_producer_layout(uint64_t region_size, uint32_t slots,
                                uint32_t min_slot_size, uint64_t *ctrl_offset);
int shmcam_producer_init(struct shmcam_producer *p, void *base,
                         uint64_t region_size, uint32_t slots,
                         uint32_t min_slot_size, uint64_t session_id);
/* @color: how the format's colorspace is coded, or NULL: not known. */
void shmcam_producer_set_format(struct shmcam_producer *p,
                                const struct shmcam_format *f,
                                const struct shmcam_color *color);
/* @sizes: each entry's line and image size, or NULL: not known. */
void shmcam_producer_set_caps(struct shmcam_producer *p,
                              const struct shmcam_cap *caps,
                              const struct shmcam_cap_size *sizes, uint32_t n);
void shmcam_producer_set_card(struct shmcam_producer *p, const char *card);
void shmcam_producer_set_state(struct shmcam_producer *p,
                               enum shmcam_state state);
void shmcam_producer_heartbeat(struct shmcam_producer *p, uint64_t now_ns);
bool shmcam_producer_restore(struct shmcam_producer *p);
/*
 * Writing a frame: begin gives the next slot's data, seq odd, to write at
 * most @max_len bytes into (NULL: 0 or more than a slot); commit publishes
 * @len of them.  publish is begin, a copy of @data and commit.
 */
void *shmcam_producer_begin(struct shmcam_producer *p, uint32_t max_len);
int shmcam_producer_commit(struct shmcam_producer *p, uint32_t len,
                           uint64_t timestamp_ns, uint32_t flags);
int shmcam_producer_publish(struct shmcam_producer *p, const void *data,
                            uint32_t len, uint64_t timestamp_ns,
                            uint32_t flags);
/*
 * Slots lent ahead to a writer that fills several at once, in frame order
 * (a camera capturing into them): see docs/specs/shmcam.rst, "Writing
 * ahead".
 */
int shmcam_producer_set_ahead(struct shmcam_producer *p, uint32_t n);
void *shmcam_producer_hold(struct shmcam_producer *p, uint64_t frame);
int shmcam_producer_commit_held(struct shmcam_producer *p, uint32_t len,
                                uint64_t timestamp_ns, uint32_t flags);
void shmcam_producer_release_held(struct shmcam_producer *p);
int shmcam_producer_poll_requests(struct shmcam_producer *p,
                                  struct shmcam_request *req);
/* Controls (ABI 1.4): docs/specs/shmcam.rst, "Controls". */
int shmcam_producer_set_ctrls(struct shmcam_producer *p,
                              const struct shmcam_ctrl_table *t);
const struct shmcam_ctrl_table *
shmcam_producer_ctrls(const struct shmcam_producer *p);
void shmcam_producer_ctrl_answer(struct shmcam_producer *p, uint32_t area,
                                 uint32_t serial, uint32_t error,
                                 int64_t value);
uint32_t shmcam_producer_poll_ctrls(struct shmcam_producer *p,
                                    struct shmcam_ctrl_request *req);
uint32_t shmcam_producer_reclaim(struct shmcam_producer *p, uint64_t now_ns);

#endif /* SHMCAM_PRODUCER_H */
