/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: requests.  A consumer area may ask for a format of our
 * capability table; this decides whose request is taken and when, and
 * host/capture.c switches the source.  The rule is documented in
 * docs/specs/shmcam.rst ("Requests").
 */
#include <stdio.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "shmcam-host.h"

#define NSEC_PER_SEC        1000000000ull

/*
 * A consumer area may have SHMCAM_REQUEST_BURST requests acted on at once
 * (a guest negotiating, a compliance run trying each format), then one a
 * SHMCAM_REQUEST_GAP_NS: the generic cell rate algorithm, with
 * switch_ns the time the area's next request is due.
 */
#define SHMCAM_REQUEST_GAP_NS   NSEC_PER_SEC
#define SHMCAM_REQUEST_BURST    4

/* Is @p one of the producers we publish into now? */
static bool shmcam_host_prod_live(struct shmcam_host *h,
                                  const struct shmcam_producer *p)
{
    struct shmcam_producer *q;
    unsigned int pos;

    SHMCAM_HOST_FOR_EACH_PROD(h, q, pos) {
        if (q == p) {
            return true;
        }
    }
    return false;
}

/*
 * Does the consumer whose request is in effect still hold it: its area
 * owned by the same owner, and streaming?
 */
static bool shmcam_host_held(struct shmcam_host *h)
{
    const struct shmcam_consumer *c;

    if (!h->holder || !shmcam_host_prod_live(h, h->holder)) {
        h->holder = NULL;
        return false;
    }
    c = &h->holder->consumers[h->holder_area];
    return shmcam_load64(&c->owner) == h->holder_owner &&
           (shmcam_load32(&c->flags) & SHMCAM_CONSUMER_STREAMING);
}

static bool shmcam_host_is_holder(struct shmcam_host *h,
                                  const struct shmcam_producer *p,
                                  const struct shmcam_request *r)
{
    return h->holder == p && h->holder_area == r->consumer &&
           h->holder_owner == r->owner;
}

/*
 * --controls=first: may area @area of @p, owned by @owner, change
 * controls?  Yes while it holds the format, and anyone while nobody does.
 */
bool shmcam_host_may_set(struct shmcam_host *h,
                         const struct shmcam_producer *p, uint32_t area,
                         uint64_t owner)
{
    if (!shmcam_host_held(h)) {
        return true;
    }
    return h->holder == p && h->holder_area == area &&
           h->holder_owner == owner;
}

/* Area r->consumer of @p holds the format now: its request was taken. */
static void shmcam_host_hold(struct shmcam_host *h, struct shmcam_producer *p,
                             const struct shmcam_request *r)
{
    p->refused[r->consumer] = false;
    h->holder = p;
    h->holder_area = r->consumer;
    h->holder_owner = r->owner;
}

static void shmcam_host_request_str(const struct shmcam_request *r, char *buf,
                                    size_t len)
{
    struct shmcam_format f;
    char desc[48];

    if (shmcam_format_init(&f, r->pixelformat, r->width, r->height,
                           r->interval)) {
        g_snprintf(buf, len, "a format it cannot have");
        return;
    }
    shmcam_format_str(&f, desc, sizeof(desc));
    g_snprintf(buf, len, "%s at %u/%u s per frame", desc,
               r->interval.numerator, r->interval.denominator);
}

/*
 * One request of area r->consumer of @p, which matched our capability
 * table.  The rule (docs/specs/shmcam.rst): the format a streaming
 * consumer asked for holds while it streams; another consumer's request
 * is refused meanwhile (said once, until one of its requests is taken),
 * and that consumer sees what is published.  An area has requests acted
 * on at the rate above: a later one waits for its turn, and the newest
 * waiting one is taken then.  Floods cost the flooder.
 */
static bool shmcam_host_consider(struct shmcam_host *h,
                                 struct shmcam_producer *p,
                                 const struct shmcam_request *r, uint64_t now,
                                 struct shmcam_format *fmt)
{
    char want[64], have[64];

    if (!shmcam_host_is_holder(h, p, r) && shmcam_host_held(h)) {
        if (!p->refused[r->consumer]) {
            shmcam_host_request_str(r, want, sizeof(want));
            shmcam_format_str(&h->fmt, have, sizeof(have));
            fprintf(stderr, "shmcam-host: consumer %u asks for %s; consumer "
                    "%u streams %s, which stays\n", r->consumer, want,
                    h->holder_area, have);
            p->refused[r->consumer] = true;
        }
        return false;
    }
    if (r->pixelformat == h->fmt.pixelformat && r->width == h->fmt.width &&
        r->height == h->fmt.height &&
        r->interval.numerator == h->fmt.interval.numerator &&
        r->interval.denominator == h->fmt.interval.denominator) {
        /* What is published already: it holds now, and costs no turn. */
        if (h->pending && h->pending_prod == p &&
            h->pending_req.consumer == r->consumer) {
            h->pending = false;
        }
        shmcam_host_hold(h, p, r);
        return false;
    }
    if (p->switch_ns[r->consumer] >
        now + (SHMCAM_REQUEST_BURST - 1) * SHMCAM_REQUEST_GAP_NS) {
        h->pending = true;
        h->pending_req = *r;
        h->pending_prod = p;
        return false;
    }
    h->pending = false;
    p->switch_ns[r->consumer] = MAX(p->switch_ns[r->consumer], now) +
                                SHMCAM_REQUEST_GAP_NS;
    shmcam_host_hold(h, p, r);
    if (shmcam_format_init(fmt, r->pixelformat, r->width, r->height,
                           r->interval)) {
        return false;
    }
    shmcam_host_request_str(r, want, sizeof(want));
    fprintf(stderr, "shmcam-host: consumer %u requests %s: switching\n",
            r->consumer, want);
    return true;
}

/*
 * Look for new requests in the consumer areas, and take a waiting one
 * whose turn came.  Outside STREAMING the producers leave requests where
 * they are, to be taken once we stream.
 */
bool shmcam_host_request(struct shmcam_host *h, uint64_t now,
                         struct shmcam_format *fmt)
{
    struct shmcam_producer *p;
    struct shmcam_request r;
    unsigned int pos;
    bool take = false;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        if (shmcam_producer_poll_requests(p, &r)) {
            take = shmcam_host_consider(h, p, &r, now, fmt) || take;
        }
    }
    if (h->pending && !shmcam_host_prod_live(h, h->pending_prod)) {
        h->pending = false;
    }
    if (h->pending && !take) {
        r = h->pending_req;
        take = shmcam_host_consider(h, h->pending_prod, &r, now, fmt);
    }
    return take;
}
