/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: controls (ABI 1.4).  The source's controls are published
 * into every region we publish into; a consumer area may ask to change
 * one, and this decides whether it may, asks the source and answers in
 * the region the request came from.  The rule is documented in
 * docs/specs/shmcam.rst ("Controls") and docs/controls.rst.
 */
#include <errno.h>
#include <string.h>

#include "shmcam-host.h"

#define NSEC_PER_SEC        1000000000ull

/*
 * A consumer area may have SHMCAM_CTRL_BURST requests acted on at once (a
 * guest restoring its settings, a compliance run), then one a
 * SHMCAM_CTRL_GAP_NS: the generic cell rate algorithm, as for format
 * requests (host/requests.c), with ctrl_due_ns the time its next is due.
 */
#define SHMCAM_CTRL_GAP_NS  (NSEC_PER_SEC / 10)
#define SHMCAM_CTRL_BURST   16

int shmcam_host_parse_controls(const char *arg, enum shmcam_ctrl_policy *pol)
{
    if (!arg || !strcmp(arg, "first")) {
        *pol = SHMCAM_CTRLS_FIRST;
    } else if (!strcmp(arg, "all")) {
        *pol = SHMCAM_CTRLS_ALL;
    } else if (!strcmp(arg, "none")) {
        *pol = SHMCAM_CTRLS_NONE;
    } else {
        return -EINVAL;
    }
    return 0;
}

static struct shmcam_ctrl *shmcam_host_ctrl_find(struct shmcam_host *h,
                                                 uint32_t id)
{
    uint32_t i;

    for (i = 0; i < h->ctrls.num_ctrls; i++) {
        if (h->ctrls.ctrls[i].id == id) {
            return &h->ctrls.ctrls[i];
        }
    }
    return NULL;
}

/* Does menu control @c have an entry of index @v? */
static bool shmcam_host_ctrl_has_entry(const struct shmcam_host *h,
                                       const struct shmcam_ctrl *c, int64_t v)
{
    uint32_t k, end = (uint32_t)c->menu_first + c->menu_count;

    for (k = c->menu_first; k < end && k < h->ctrls.num_menu; k++) {
        if ((int64_t)h->ctrls.menu[k].index == v) {
            return true;
        }
    }
    return false;
}

/*
 * The answer to request @r of area @area of @p: 0 with @c changed and
 * r->value what the source kept, or the positive errno of the spec's
 * table.  Only our own copy of the table is looked at.
 */
static uint32_t shmcam_host_ctrl_apply(struct shmcam_host *h,
                                       struct shmcam_producer *p,
                                       uint32_t area,
                                       struct shmcam_ctrl_request *r)
{
    struct shmcam_ctrl *c = shmcam_host_ctrl_find(h, r->id);
    int64_t min, max, applied;
    int ret;

    /* gone, the source took its controls along: ENODEV, not EINVAL */
    if (h->state == SHMCAM_STATE_NO_SIGNAL) {
        return ENODEV;
    }
    if (!c) {
        return EINVAL;
    }
    if (h->ctrl_policy == SHMCAM_CTRLS_NONE ||
        (c->flags & SHMCAM_CTRL_FLAG_READ_ONLY)) {
        return EACCES;
    }
    if (h->ctrl_policy == SHMCAM_CTRLS_FIRST &&
        !shmcam_host_may_set(h, p, area, r->owner)) {
        return EBUSY;
    }
    if (!h->src || !h->src->ops->set_ctrl) {
        return ENODEV;
    }
    min = (int64_t)c->minimum;
    max = (int64_t)c->maximum;
    switch (c->type) {
    case SHMCAM_CTRL_BUTTON:
        r->value = 0;
        break;
    case SHMCAM_CTRL_BOOLEAN:
        if (r->value != 0 && r->value != 1) {
            return EINVAL;
        }
        break;
    case SHMCAM_CTRL_MENU:
    case SHMCAM_CTRL_INTEGER_MENU:
        if (r->value < min || r->value > max) {
            return ERANGE;
        }
        if (!shmcam_host_ctrl_has_entry(h, c, r->value)) {
            return EINVAL;
        }
        break;
    default:
        if (r->value < min || r->value > max) {
            return ERANGE;
        }
        break;
    }
    applied = r->value;
    ret = h->src->ops->set_ctrl(h->src, c->id, r->value, &applied);
    if (ret) {
        return ret > 0 && ret < 4096 ? (uint32_t)ret : EIO;
    }
    if (c->type != SHMCAM_CTRL_BUTTON) {
        c->value = (uint64_t)applied;
    }
    r->value = applied;
    return 0;
}

/* Into every region we publish into: what changed of our table. */
static void shmcam_host_ctrls_publish(struct shmcam_host *h)
{
    struct shmcam_producer *p;
    unsigned int pos;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        shmcam_producer_set_ctrls(p, &h->ctrls);
    }
}

/* Act on area @area's request @r of @p, and answer it there. */
static void shmcam_host_ctrl_act(struct shmcam_host *h,
                                 struct shmcam_producer *p, uint32_t area,
                                 struct shmcam_ctrl_request *r)
{
    uint32_t error = shmcam_host_ctrl_apply(h, p, area, r);
    const struct shmcam_ctrl *c;

    if (error) {
        c = shmcam_host_ctrl_find(h, r->id);
        r->value = c ? (int64_t)c->value : 0;
    } else {
        shmcam_host_ctrls_publish(h);
    }
    shmcam_producer_ctrl_answer(p, area, r->serial, error, r->value);
}

/*
 * The source's controls now (changes made elsewhere), published where
 * they differ.  --controls=none flags them all read-only.
 */
static void shmcam_host_ctrls_refresh(struct shmcam_host *h)
{
    struct shmcam_ctrl_table *t = &h->ctrls;
    uint32_t i;

    t->num_ctrls = t->num_menu = 0;
    if (h->src && h->src->ops->ctrls) {
        h->src->ops->ctrls(h->src, t);
    }
    if (t->num_ctrls > SHMCAM_MAX_CTRLS ||
        t->num_menu > SHMCAM_MAX_MENU_ITEMS) {
        t->num_ctrls = t->num_menu = 0;
    }
    for (i = 0; h->ctrl_policy == SHMCAM_CTRLS_NONE && i < t->num_ctrls; i++) {
        t->ctrls[i].flags |= SHMCAM_CTRL_FLAG_READ_ONLY;
    }
    shmcam_host_ctrls_publish(h);
}

/*
 * shmcam_host_controls - every heartbeat (@beat: the source's controls
 * read again) and at once on a doorbell: new requests in every region,
 * acted on at each area's rate; a request that comes too soon waits,
 * and a newer one of the same area replaces it.
 */
void shmcam_host_controls(struct shmcam_host *h, uint64_t now, bool beat)
{
    struct shmcam_ctrl_request req[SHMCAM_MAX_CONSUMERS];
    struct shmcam_producer *p;
    unsigned int pos;
    uint32_t found, i;

    if (beat) {
        shmcam_host_ctrls_refresh(h);
    }
    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        if (!p->ctrl) {
            continue;
        }
        found = shmcam_producer_poll_ctrls(p, req);
        for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
            if (found & (1u << i)) {
                p->ctrl_wait[i] = req[i];
                p->ctrl_waiting |= 1u << i;
            }
            if (!(p->ctrl_waiting & (1u << i)) ||
                p->ctrl_due_ns[i] >
                now + (SHMCAM_CTRL_BURST - 1) * SHMCAM_CTRL_GAP_NS) {
                continue;
            }
            p->ctrl_waiting &= ~(1u << i);
            p->ctrl_due_ns[i] = MAX(p->ctrl_due_ns[i], now) +
                                SHMCAM_CTRL_GAP_NS;
            shmcam_host_ctrl_act(h, p, i, &p->ctrl_wait[i]);
        }
    }
}
