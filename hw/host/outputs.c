/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host's outputs: where each frame is written.  The one region
 * (--shm, --region, or the one all --listen guests share) and, in a
 * server, one output per connected guest: its frame eventfd, and with
 * --isolate or for a shmcam-pci device a region of its own.  They are a
 * list of any length: nothing here is sized by the number of consumer
 * areas a region has.
 *
 * Every guest is untrusted.  Its eventfds are shared with its QEMU, which
 * can clear O_NONBLOCK on them; its memory may be cut short under our
 * mapping.  Either costs that guest its output (and, through the
 * supervisor, its connection), never another guest's frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "shmcam-host.h"

#define NSEC_PER_MSEC       1000000ull

static struct shmcam_host_out *shmcam_host_out(struct shmcam_host *h,
                                               unsigned int i)
{
    return g_ptr_array_index(h->outs, i);
}

static void shmcam_host_out_free(gpointer data)
{
    struct shmcam_host_out *o = data;

    if (o->efd >= 0) {
        close(o->efd);
    }
    if (o->doorbell_fd >= 0) {
        close(o->doorbell_fd);
    }
    shmcam_region_close(&o->region);
    g_free(o);
}

void shmcam_host_outputs_init(struct shmcam_host *h)
{
    h->outs = g_ptr_array_new_with_free_func(shmcam_host_out_free);
}

/*
 * The producers frames go to, one at a time: the one region, then the
 * regions of their own that guests brought (shmcam-pci) or got
 * (--isolate).
 */
struct shmcam_producer *shmcam_host_next_prod(struct shmcam_host *h,
                                              unsigned int *pos)
{
    while (*pos <= (h->outs ? h->outs->len : 0)) {
        unsigned int i = (*pos)++;

        if (i == 0 && h->prod.hdr) {
            return &h->prod;
        }
        if (i > 0 && shmcam_host_out(h, i - 1)->region.base) {
            return &shmcam_host_out(h, i - 1)->prod;
        }
    }
    return NULL;
}

/* The output a producer belongs to, or NULL for the one region. */
static struct shmcam_host_out *shmcam_host_out_of(struct shmcam_host *h,
                                                  unsigned int pos)
{
    return pos >= 2 ? shmcam_host_out(h, pos - 2) : NULL;
}

void shmcam_host_set_state(struct shmcam_host *h, enum shmcam_state s)
{
    struct shmcam_producer *p;
    unsigned int pos;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        shmcam_producer_set_state(p, s);
    }
}

/* Tell consumers what we deliver now, and what else we could. */
static void shmcam_host_publish_format_to(struct shmcam_host *h,
                                          struct shmcam_producer *p)
{
    struct shmcam_cap caps[SHMCAM_MAX_CAPS];
    struct shmcam_cap_size sizes[SHMCAM_MAX_CAPS] = { { 0 } };
    uint32_t n = h->src->ops->caps(h->src, p->slot_size, caps, sizes);

    shmcam_producer_set_format(p, &h->fmt, &h->src->color);
    shmcam_producer_set_caps(p, caps, sizes, n);
    shmcam_producer_set_card(p, h->o.card ? h->o.card : h->src->card);
}

void shmcam_host_publish_format(struct shmcam_host *h)
{
    struct shmcam_producer *p;
    unsigned int pos;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        shmcam_host_publish_format_to(h, p);
    }
}

/*
 * The largest frame every region we publish into can take: a region a
 * shmcam-pci guest brought may have larger slots than ours.
 */
uint32_t shmcam_host_fit(struct shmcam_host *h)
{
    struct shmcam_producer *p;
    unsigned int pos;
    uint32_t fit = UINT32_MAX;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        fit = MIN(fit, p->slot_size);
    }
    return fit == UINT32_MAX ? h->slot_size : fit;
}

/*
 * How many regions frames go to, @going (one about to go, or NULL) left
 * out; *@last, when not NULL: the last of them (the only one, for 1).
 */
static unsigned int shmcam_host_count_prods(struct shmcam_host *h,
                                            const struct shmcam_producer *going,
                                            struct shmcam_producer **last)
{
    struct shmcam_producer *p;
    unsigned int pos, n = 0;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        if (p != going) {
            if (last) {
                *last = p;
            }
            n++;
        }
    }
    return n;
}

/*
 * Tell the source where frames go: the one region we publish into, or
 * NULL when there are several (or none), so that a camera captures into
 * the slots of the one and into buffers of its own for several.  Called
 * when the regions change, before any of them is unmapped; @going is a
 * producer about to go, counted out already.
 */
void shmcam_host_retarget(struct shmcam_host *h,
                          const struct shmcam_producer *going)
{
    struct shmcam_producer *only = NULL;

    if (!h->src || !h->src->ops->target) {
        return;
    }
    if (shmcam_host_count_prods(h, going, &only) != 1) {
        only = NULL;
    }
    h->src->ops->target(h->src, only);
}

/* A frame larger than a region's slots: counted, said for the first. */
static void shmcam_host_oversized(struct shmcam_host *h, uint32_t len)
{
    if (!h->oversized++) {
        fprintf(stderr, "shmcam-host: %s: a frame of %u bytes is larger "
                "than a slot: dropped (--stats counts them; a larger "
                "--region-size makes room)\n", h->src_name, len);
    }
}

/*
 * A frame the source draws (the test pattern), into the one region we
 * publish into: straight into its slot, between begin and commit, with
 * no copy.  -EMSGSIZE when it is larger than a slot (nothing written).
 */
static int shmcam_host_draw_in_place(struct shmcam_host *h,
                                     struct shmcam_producer *p,
                                     const struct shmcam_source_frame *f,
                                     uint64_t ts)
{
    void *slot = shmcam_producer_begin(p, f->len);

    if (!slot) {
        return -EMSGSIZE;
    }
    if (!h->src->ops->draw(h->src, slot, f->len)) {
        /* the slot holds no frame then, until the next one */
        shmcam_producer_commit(p, 0, ts, f->flags);
        return -ENOMEM;
    }
    return shmcam_producer_commit(p, f->len, ts, f->flags);
}

/* One region's copy of a frame, for a copier thread or ours. */
struct shmcam_host_copy {
    struct shmcam_host *h;
    struct shmcam_producer *p;
    const void *data;
    uint32_t len;
    uint32_t flags;
    uint64_t ts;
    int ret;
};

static void shmcam_host_copy_one_here(struct shmcam_host_copy *c)
{
    c->ret = shmcam_producer_publish(c->p, c->data, c->len, c->ts, c->flags);
}

static void shmcam_host_copy_one(gpointer data, gpointer user_data)
{
    struct shmcam_host_copy *c = data;
    struct shmcam_host *h = c->h;

    (void)user_data;
    shmcam_host_copy_one_here(c);
    g_mutex_lock(&h->copy_lock);
    if (!--h->copies_left) {
        g_cond_signal(&h->copy_done);
    }
    g_mutex_unlock(&h->copy_lock);
}

/*
 * Copy a frame into every region: the first by this thread, the others
 * by the copier threads meanwhile, one per further core, started at the
 * first frame that goes to several regions.  Each copy writes only its
 * own region, from memory of ours; a fault in a region a guest cut
 * short is caught whichever thread takes it (shmcam_region_guard()).
 * All are done when this returns.  Returns 0 or the last error but
 * -EMSGSIZE, which sets @big instead.
 */
static int shmcam_host_copy_all(struct shmcam_host *h, const void *data,
                                uint32_t len, uint64_t ts, uint32_t flags,
                                bool *big)
{
    struct shmcam_producer *p;
    struct shmcam_host_copy *c;
    unsigned int pos, n = shmcam_host_count_prods(h, NULL, NULL), i;
    int ret = 0;

    if (!n) {
        return 0;
    }
    if (n > 1 && !h->copiers && g_get_num_processors() > 1) {
        g_mutex_init(&h->copy_lock);
        g_cond_init(&h->copy_done);
        h->copiers = g_thread_pool_new(shmcam_host_copy_one, NULL,
                                       g_get_num_processors() - 1, TRUE,
                                       NULL);
    }
    c = g_newa(struct shmcam_host_copy, n);
    i = 0;
    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        c[i++] = (struct shmcam_host_copy) {
            .h = h, .p = p, .data = data, .len = len, .flags = flags, .ts = ts,
        };
    }
    if (h->copiers) {
        h->copies_left = n - 1;
        for (i = 1; i < n; i++) {
            g_thread_pool_push(h->copiers, &c[i], NULL);
        }
        shmcam_host_copy_one_here(&c[0]);
        g_mutex_lock(&h->copy_lock);
        while (h->copies_left) {
            g_cond_wait(&h->copy_done, &h->copy_lock);
        }
        g_mutex_unlock(&h->copy_lock);
    } else {
        for (i = 0; i < n; i++) {
            shmcam_host_copy_one_here(&c[i]);
        }
    }
    for (i = 0; i < n; i++) {
        if (c[i].ret == -EMSGSIZE) {
            *big = true;
        } else if (c[i].ret) {
            ret = c[i].ret;
        } else {
            h->copied += len;
        }
    }
    return ret;
}

/*
 * One frame into every region, stamped with its capture time (the
 * publish time @now when the source has none).  A frame larger than a
 * region's slots is not written there and counted (said for the first of
 * a run); the others still get it.  Returns 0, or -ENOMEM when a frame
 * to draw could not be made.
 *
 * A camera's frame may have been captured straight into the slot of the
 * one region (f->held): it is published there, with no copy.
 *
 * A frame the source draws is drawn straight into the slot when there is
 * one region.  With several it is drawn once into the source's own
 * memory and copied from there into each, as any other frame.  Copied on
 * from the first region's slot instead, it could be changed there,
 * between the draw and the copies, by a guest that maps that region
 * writable (ivshmem-plain, --listen): that guest could then write into
 * the frames of the guests of the other regions.  In the one region, a
 * guest that changes the slot while it is drawn changes only what that
 * region's readers get, which it can do after any commit too: nothing is
 * read back from the slot (the stamp's checksum is taken from what was
 * written).
 */
int shmcam_host_publish(struct shmcam_host *h,
                        const struct shmcam_source_frame *f, uint64_t now)
{
    uint64_t ts = f->timestamp_ns ? f->timestamp_ns : now;
    const void *data = f->data;
    struct shmcam_producer *only = NULL;
    bool big = false;
    int ret, r;

    if (f->held) {
        /* captured into the one region's slot: published where it is */
        shmcam_producer_commit_held(f->held, f->len, ts, f->flags);
        return 0;
    }
    if (!data && f->len) {
        if (shmcam_host_count_prods(h, NULL, &only) <= 1) {
            r = only ? shmcam_host_draw_in_place(h, only, f, ts) : 0;
            if (r == -EMSGSIZE) {
                shmcam_host_oversized(h, f->len);
                r = 0;
            }
            return r;
        }
        data = h->src->ops->draw(h->src, NULL, f->len);
        if (!data) {
            return -ENOMEM;
        }
    }
    /* One copy per region, side by side: the cost of isolation. */
    ret = shmcam_host_copy_all(h, data, f->len, ts, f->flags, &big);
    if (big) {
        shmcam_host_oversized(h, f->len);
    }
    return ret;
}

/*
 * Is @fd still non-blocking?  O_NONBLOCK belongs to the open file
 * description, which the guest's QEMU shares with us: it can clear it, and
 * a write to a full counter or a read of an empty one would then block us
 * and with us every guest.  When it was cleared it is set again and false
 * returned.  (Cleared between this and the write, the supervisor's
 * watchdog ends the wait.)
 */
static bool shmcam_host_fd_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || (fl & O_NONBLOCK)) {
        return fl >= 0;
    }
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    return false;
}

/*
 * The guest of output @i tampered with an eventfd or the memory of its
 * own (@why says how): it is not served any more here, and the supervisor
 * disconnects it.
 */
static void shmcam_host_blame(struct shmcam_host *h, unsigned int i,
                              const char *why)
{
    struct shmcam_host_out *o = shmcam_host_out(h, i);
    struct shmcam_ctrl_msg m = { .op = SHMCAM_CTRL_BLAME, .key = o->key };

    fprintf(stderr, "shmcam-host: %s %s: disconnecting it\n", o->name, why);
    if (h->ctrl_fd >= 0) {
        shmcam_ctrl_send(h->ctrl_fd, &m);
    }
    if (h->holder == &o->prod) {
        h->holder = NULL;
    }
    if (o->region.base) {
        shmcam_host_retarget(h, &o->prod);
    }
    g_ptr_array_remove_index(h->outs, i);
}

/*
 * A guest that shrank its memory under our mapping: the SIGBUS of our
 * write left anonymous memory there (shmcam_region_guard()).  Drop it.
 */
void shmcam_host_check_lost(struct shmcam_host *h)
{
    unsigned int i = h->outs ? h->outs->len : 0;

    while (i--) {
        if (shmcam_host_out(h, i)->region.lost) {
            shmcam_host_blame(h, i, "cut its memory short under its region");
        }
    }
}

/*
 * Raise the frame interrupt of every guest whose consumer area (in its
 * own region if it has one) says it streams.  The flag is one load from
 * guest memory, and only that bit is used.  The eventfds are non-blocking:
 * a guest that takes no interrupts never holds us up.
 */
void shmcam_host_ring(struct shmcam_host *h)
{
    static const uint64_t one = 1;
    unsigned int i = h->outs ? h->outs->len : 0;

    while (i--) {
        struct shmcam_host_out *o = shmcam_host_out(h, i);
        const struct shmcam_consumer *c;

        c = o->region.base ? o->prod.consumers : h->prod.consumers;
        if (o->efd < 0 || !c ||
            !(shmcam_load32(&c[o->area].flags) & SHMCAM_CONSUMER_STREAMING)) {
            continue;
        }
        if (!shmcam_host_fd_nonblocking(o->efd)) {
            shmcam_host_blame(h, i, "cleared O_NONBLOCK on its frame "
                              "eventfd");
            continue;
        }
        shmcam_host_busy(h, o->key);
        /* Only a counter at its maximum refuses: the ring is there. */
        (void)!write(o->efd, &one, sizeof(one));
        shmcam_host_busy(h, SHMCAM_WATCH_IDLE);
    }
}

/*
 * Every heartbeat period, for each region: its header put back if a guest
 * overwrote it (said once per overwrite, however long it goes on), the
 * heartbeat, and consumer areas gone silent freed.
 */
void shmcam_host_beat(struct shmcam_host *h, uint64_t now)
{
    struct shmcam_producer *p;
    unsigned int pos, k;

    SHMCAM_HOST_FOR_EACH_PROD(h, p, pos) {
        struct shmcam_host_out *o = shmcam_host_out_of(h, pos);
        bool restored = shmcam_producer_restore(p);
        uint32_t freed;

        if (restored && !p->restoring) {
            if (!o) {
                fprintf(stderr, "shmcam-host: the header of %s was "
                        "overwritten: restoring it\n", h->region.path ?
                        h->region.path : "the shared region");
            } else {
                fprintf(stderr, "shmcam-host: the header of %s's region was "
                        "overwritten: restoring it\n", o->name);
            }
        }
        p->restoring = restored;
        shmcam_producer_heartbeat(p, now);
        freed = shmcam_producer_reclaim(p, now);
        for (k = 0; k < SHMCAM_MAX_CONSUMERS; k++) {
            if (freed & (1u << k)) {
                fprintf(stderr, "shmcam-host: consumer area %u: no heartbeat "
                        "for %u s, freed\n", k,
                        SHMCAM_CONSUMER_TIMEOUT_MS / 1000);
            }
        }
    }
}

/* The doorbells to poll, after the one all ivshmem guests ring. */
unsigned int shmcam_host_doorbells(struct shmcam_host *h, struct pollfd *pfd,
                                   unsigned int max)
{
    unsigned int i, n = 0;

    for (i = 0; h->outs && i < h->outs->len && n < max; i++) {
        if (shmcam_host_out(h, i)->doorbell_fd >= 0) {
            pfd[n++] = (struct pollfd) {
                .fd = shmcam_host_out(h, i)->doorbell_fd, .events = POLLIN,
            };
        }
    }
    return n;
}

/*
 * Empty the doorbells that rang (@pfd: the shared one, then those of
 * shmcam_host_doorbells()).  Returns whether any did.
 */
bool shmcam_host_doorbell_rang(struct shmcam_host *h,
                               const struct pollfd *pfd, unsigned int n)
{
    bool rang = false;
    uint64_t rings;
    unsigned int i, k;

    for (i = 0; i < n; i++) {
        if (!(pfd[i].revents & POLLIN)) {
            continue;
        }
        /* The first is the one all ivshmem guests ring: none to blame. */
        if (!shmcam_host_fd_nonblocking(pfd[i].fd) && i > 0) {
            for (k = 0; k < h->outs->len; k++) {
                if (shmcam_host_out(h, k)->doorbell_fd == pfd[i].fd) {
                    shmcam_host_blame(h, k, "cleared O_NONBLOCK on its "
                                      "doorbell eventfd");
                    break;
                }
            }
            continue;
        }
        if (read(pfd[i].fd, &rings, sizeof(rings)) == sizeof(rings)) {
            rang = true;
        }
    }
    return rang;
}

static int shmcam_host_out_find(struct shmcam_host *h, uint32_t key)
{
    unsigned int i;

    for (i = 0; h->outs && i < h->outs->len; i++) {
        if (shmcam_host_out(h, i)->key == key) {
            return i;
        }
    }
    return -1;
}

/*
 * A guest came (@m, from the supervisor): its eventfd, with --isolate or
 * for shmcam-pci its region, which we lay out for a session of our own,
 * and for shmcam-pci the eventfd its doorbell writes.  The descriptors
 * are ours now.  An ivshmem guest's consumer area is the one at its id
 * (its IVPosition); a shmcam-pci device has area 0 of its own region.
 */
void shmcam_host_out_add(struct shmcam_host *h, const struct shmcam_ctrl_msg *m)
{
    struct shmcam_host_out *o = g_new0(struct shmcam_host_out, 1);
    bool pci = m->op == SHMCAM_CTRL_ADD_PCI;
    int memfd = pci ? m->fds[1] : m->nfds > 1 ? m->fds[1] : -1;
    int ret;

    shmcam_host_out_del(h, m->key);
    o->key = m->key;
    o->area = pci ? 0 : m->id;
    g_snprintf(o->name, sizeof(o->name), "%sclient %u", pci ? "shmcam-pci " :
               "", m->id);
    o->efd = m->fds[0];
    o->doorbell_fd = pci ? m->fds[2] : -1;
    o->region = (struct shmcam_region) SHMCAM_REGION_INIT;
    g_ptr_array_add(h->outs, o);
    if (memfd < 0) {
        return;
    }
    ret = shmcam_region_open_fd(&o->region, memfd, o->name, true);
    if (!ret) {
        shmcam_region_guard(&o->region);
        ret = shmcam_producer_init(&o->prod, o->region.base, o->region.size,
                                   h->o.slots, shmcam_format_slot_size(&h->fmt),
                                   shmcam_host_session_id());
        if (ret == -ENOSPC && h->slots_auto) {
            ret = shmcam_producer_init(&o->prod, o->region.base,
                                       o->region.size, SHMCAM_MIN_SLOTS,
                                       shmcam_format_slot_size(&h->fmt),
                                       shmcam_host_session_id());
        }
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: cannot lay out the region of %s: %s\n",
                o->name, g_strerror(-ret));
        shmcam_region_close(&o->region);
        shmcam_host_blame(h, h->outs->len - 1, "brought a region we cannot "
                          "use");
        return;
    }
    if (o->region.lost) {
        shmcam_host_check_lost(h);
        return;
    }
    shmcam_host_publish_format_to(h, &o->prod);
    /* the controls too, before the guest's first look, not a beat later */
    shmcam_producer_set_ctrls(&o->prod, &h->ctrls);
    shmcam_producer_set_state(&o->prod, h->state);
    shmcam_host_retarget(h, NULL);
}

/*
 * A guest went.  In the shared region its consumer area is cleared, so
 * that the next guest with its id starts from a free area.
 */
void shmcam_host_out_del(struct shmcam_host *h, uint32_t key)
{
    int i = shmcam_host_out_find(h, key);
    struct shmcam_host_out *o;

    if (i < 0) {
        return;
    }
    o = shmcam_host_out(h, i);
    if (!o->region.base && h->prod.consumers) {
        __atomic_store_n(&h->prod.consumers[o->area].flags, 0,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&h->prod.consumers[o->area].owner, 0,
                         __ATOMIC_RELAXED);
    }
    if (h->holder == &o->prod) {
        h->holder = NULL;
    }
    if (o->region.base) {
        shmcam_host_retarget(h, &o->prod);
    }
    g_ptr_array_remove_index(h->outs, i);
}

/* At exit: each guest's region is marked stopped, then let go of. */
void shmcam_host_outputs_free(struct shmcam_host *h)
{
    unsigned int i;

    if (h->copiers) {
        g_thread_pool_free(h->copiers, FALSE, TRUE);
        h->copiers = NULL;
        g_cond_clear(&h->copy_done);
        g_mutex_clear(&h->copy_lock);
    }
    if (!h->outs) {
        return;
    }
    for (i = 0; i < h->outs->len; i++) {
        struct shmcam_host_out *o = shmcam_host_out(h, i);

        if (o->region.base && h->initialised && !o->region.lost) {
            shmcam_producer_set_state(&o->prod, SHMCAM_STATE_STOPPED);
        }
    }
    g_ptr_array_unref(h->outs);
    h->outs = NULL;
}
