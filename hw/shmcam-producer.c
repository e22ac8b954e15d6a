/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The producer side of the shmcam protocol (docs/specs/shmcam.rst).
 *
 * shmcam_producer_publish() is where a frame is written into the region:
 * every source (pattern, camera, file) ends there.
 */
#include <errno.h>
#include <string.h>

#include "shmcam-reader.h"
#include "shmcam-producer.h"

#define SHMCAM_HEARTBEAT_MS 100u

#define shmcam_store32(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define shmcam_store64(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define shmcam_wmb()            __atomic_thread_fence(__ATOMIC_RELEASE)

/*
 * shmcam_producer_probe - look at a region before writing anything to it
 *
 * Anything but zeros or our magic in the header page is someone else's
 * data; a newer ABI major may mean a newer producer owns the region.
 */
enum shmcam_region_content shmcam_producer_probe(const void *base,
                                                 uint64_t size,
                                                 uint16_t *abi_major)
{
    const struct shmcam_header *h = base;
    const uint8_t *bytes = base;
    uint64_t i, end = size < SHMCAM_PAGE_SIZE ? size : SHMCAM_PAGE_SIZE;

    *abi_major = 0;
    if (size >= sizeof(*h) && h->magic == SHMCAM_MAGIC) {
        *abi_major = h->abi_major;
        return h->abi_major > SHMCAM_ABI_MAJOR ? SHMCAM_CONTENT_NEWER
                                               : SHMCAM_CONTENT_OURS;
    }
    for (i = 0; i < end; i++) {
        if (bytes[i]) {
            return SHMCAM_CONTENT_FOREIGN;
        }
    }
    return SHMCAM_CONTENT_EMPTY;
}

uint64_t shmcam_producer_needed(uint32_t slots, uint32_t slot_size)
{
    return SHMCAM_REGION_NEEDED(slots, slot_size);
}

/*
 * shmcam_producer_init - lay out a region and claim it for a new session
 *
 * Slots get all the room the region has (page aligned), so that larger
 * formats from the capability table fit too.  Returns 0, or -ENOSPC when
 * @slots slots of @min_slot_size bytes do not fit, or -EINVAL for a slot
 * count or region size outside the ABI's limits.
 */
int shmcam_producer_init(struct shmcam_producer *p, void *base,
                         uint64_t region_size, uint32_t slots,
                         uint32_t min_slot_size, uint64_t session_id)
{
    struct shmcam_header *h = base;
    uint64_t slot_size;
    uint32_t i;

    if (slots < SHMCAM_MIN_SLOTS || slots > SHMCAM_MAX_SLOTS ||
        !shmcam_is_pow2(region_size) || region_size < SHMCAM_MIN_REGION_SIZE ||
        region_size > SHMCAM_MAX_REGION_SIZE) {
        return -EINVAL;
    }
    if (shmcam_producer_needed(slots, min_slot_size) > region_size) {
        return -ENOSPC;
    }
    slot_size = (region_size - SHMCAM_DATA_OFFSET) / slots;
    if (slot_size > UINT32_MAX) {
        slot_size = UINT32_MAX;
    }
    slot_size &= ~(uint64_t)(SHMCAM_PAGE_SIZE - 1);

    memset(p, 0, sizeof(*p));
    p->hdr = h;
    p->consumers = (const void *)((uint8_t *)base + SHMCAM_CONSUMER_OFFSET);
    p->data = (uint8_t *)base + SHMCAM_DATA_OFFSET;
    p->region_size = region_size;
    p->slot_count = slots;
    p->slot_size = slot_size;

    /* Readers of an earlier session stop trusting the region first. */
    shmcam_store32(&h->state, SHMCAM_STATE_STOPPED);
    shmcam_store64(&h->latest_frame, SHMCAM_NO_FRAME);
    shmcam_wmb();

    h->abi_major = SHMCAM_ABI_MAJOR;
    h->abi_minor = SHMCAM_ABI_MINOR;
    h->header_size = sizeof(*h);
    h->region_size = region_size;
    h->heartbeat_ms = SHMCAM_HEARTBEAT_MS;
    h->slot_count = slots;
    h->slot_size = slot_size;
    h->data_offset = SHMCAM_DATA_OFFSET;
    h->num_caps = 0;
    h->consumer_count = SHMCAM_MAX_CONSUMERS;
    h->reserved0 = 0;
    memset(h->reserved1, 0, sizeof(h->reserved1));
    memset(h->reserved2, 0, sizeof(h->reserved2));
    memset(h->caps, 0, sizeof(h->caps));
    for (i = 0; i < SHMCAM_MAX_SLOTS; i++) {
        struct shmcam_slot *s = &h->slots[i];
        /* Keep counting: a reader mid-copy must see the change. */
        uint32_t seq = (s->seq + 2) & ~1u;

        memset((uint8_t *)s + sizeof(s->seq), 0, sizeof(*s) - sizeof(s->seq));
        shmcam_store32(&s->seq, seq);
    }
    shmcam_store64(&h->session_id, session_id);
    shmcam_wmb();
    shmcam_store64(&h->magic, SHMCAM_MAGIC);
    return 0;
}

/* Consumers read the format without a lock: format_gen tells them it moved. */
void shmcam_producer_set_format(struct shmcam_producer *p,
                                const struct shmcam_format *f)
{
    memcpy(&p->hdr->format, f, sizeof(*f));
    shmcam_wmb();
    shmcam_store32(&p->hdr->format_gen, p->hdr->format_gen + 1);
}

void shmcam_producer_set_caps(struct shmcam_producer *p,
                              const struct shmcam_cap *caps, uint32_t n)
{
    if (n > SHMCAM_MAX_CAPS) {
        n = SHMCAM_MAX_CAPS;
    }
    shmcam_store32(&p->hdr->num_caps, 0);
    shmcam_wmb();
    memset(p->hdr->caps, 0, sizeof(p->hdr->caps));
    memcpy(p->hdr->caps, caps, n * sizeof(*caps));
    shmcam_wmb();
    shmcam_store32(&p->hdr->num_caps, n);
}

void shmcam_producer_set_card(struct shmcam_producer *p, const char *card)
{
    memset(p->hdr->card, 0, sizeof(p->hdr->card));
    strncpy(p->hdr->card, card, sizeof(p->hdr->card) - 1);
}

void shmcam_producer_set_state(struct shmcam_producer *p,
                               enum shmcam_state state)
{
    shmcam_wmb();
    shmcam_store32(&p->hdr->state, state);
}

void shmcam_producer_heartbeat(struct shmcam_producer *p)
{
    shmcam_store64(&p->hdr->heartbeat, p->hdr->heartbeat + 1);
}

/*
 * shmcam_producer_publish - write one frame into the next slot
 *
 * The seqlock write: the slot's seq goes odd, the data and descriptor are
 * written, a release fence orders them before seq goes even again, and
 * only then does latest_frame point readers at the slot.  The producer
 * never waits for a reader; a reader that was copying this slot sees seq
 * change and drops its copy.
 *
 * Returns 0, or -EMSGSIZE when the frame does not fit in a slot.
 */
int shmcam_producer_publish(struct shmcam_producer *p, const void *data,
                            uint32_t len, uint64_t timestamp_ns,
                            uint32_t flags)
{
    uint64_t frame = p->frame;
    uint32_t idx = frame % p->slot_count;
    struct shmcam_slot *s = &p->hdr->slots[idx];
    uint32_t seq = s->seq | 1;

    if (len == 0 || len > p->slot_size) {
        return -EMSGSIZE;
    }
    shmcam_store32(&s->seq, seq);
    shmcam_wmb();

    memcpy(p->data + (uint64_t)idx * p->slot_size, data, len);
    s->bytesused = len;
    s->frame = frame;
    s->timestamp_ns = timestamp_ns;
    s->format_gen = p->hdr->format_gen;
    s->flags = flags;
    s->format = p->hdr->format;

    shmcam_wmb();
    shmcam_store32(&s->seq, seq + 1);
    shmcam_store64(&p->hdr->latest_frame, frame);
    p->frame = frame + 1;
    return 0;
}

static bool shmcam_producer_cap_has(const struct shmcam_cap *cap,
                                    const struct shmcam_consumer *c)
{
    uint32_t i, n = cap->num_intervals;

    if (cap->pixelformat != c->req_pixelformat || cap->width != c->req_width ||
        cap->height != c->req_height || n > SHMCAM_MAX_INTERVALS) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (cap->intervals[i].numerator == c->req_interval.numerator &&
            cap->intervals[i].denominator == c->req_interval.denominator) {
            return true;
        }
    }
    return false;
}

/*
 * shmcam_producer_poll_requests - look for new consumer requests
 *
 * The consumer page is guest memory: it is copied once and only the copy
 * is looked at.  A request counts when SHMCAM_CONSUMER_REQUEST is set, its
 * request_gen moved since we last looked, and the format, size and
 * interval are all in our capability table.  Of several new requests the
 * last one in the page wins.  Returns 1 with @req filled, or 0.
 */
int shmcam_producer_poll_requests(struct shmcam_producer *p,
                                  struct shmcam_request *req)
{
    struct shmcam_consumer copy[SHMCAM_MAX_CONSUMERS];
    const struct shmcam_cap *caps = p->hdr->caps;
    uint32_t i, j, ncaps = p->hdr->num_caps;
    int found = 0;

    memcpy(copy, p->consumers, sizeof(copy));
    if (ncaps > SHMCAM_MAX_CAPS) {
        ncaps = SHMCAM_MAX_CAPS;
    }
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        const struct shmcam_consumer *c = &copy[i];

        if (!(c->flags & SHMCAM_CONSUMER_REQUEST) ||
            c->request_gen == p->req_gen[i]) {
            continue;
        }
        p->req_gen[i] = c->request_gen;
        for (j = 0; j < ncaps; j++) {
            if (shmcam_producer_cap_has(&caps[j], c)) {
                req->consumer = i;
                req->pixelformat = c->req_pixelformat;
                req->width = c->req_width;
                req->height = c->req_height;
                req->interval = c->req_interval;
                found = 1;
                break;
            }
        }
    }
    return found;
}
