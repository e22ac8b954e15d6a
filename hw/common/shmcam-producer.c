/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The producer side of the shmcam protocol (docs/specs/shmcam.rst).
 *
 * shmcam_producer_begin() and shmcam_producer_commit() are where a frame is
 * written into the region: every source ends there, a camera's or a
 * file's frames through shmcam_producer_publish(), a copy between the two,
 * the test pattern's drawn in place.
 */
#include <errno.h>
#include <string.h>

#include "shmcam-reader.h"
#include "shmcam-producer.h"

#define shmcam_store32(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define shmcam_store64(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define shmcam_wmb()            __atomic_thread_fence(__ATOMIC_RELEASE)

#define NSEC_PER_MSEC           1000000ull

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

/* @room bytes of slots shared by @slots slots, page aligned. */
static uint32_t shmcam_producer_share(uint64_t room, uint32_t slots)
{
    uint64_t slot_size;

    if (!slots) {
        return 0;
    }
    slot_size = room / slots;
    if (slot_size > UINT32_MAX) {
        slot_size = UINT32_MAX;
    }
    return slot_size & ~(uint64_t)(SHMCAM_PAGE_SIZE - 1);
}

/* The most room a slot can have: all there is, page aligned. */
uint32_t shmcam_producer_slot_size(uint64_t region_size, uint32_t slots)
{
    if (region_size <= SHMCAM_DATA_OFFSET) {
        return 0;
    }
    return shmcam_producer_share(region_size - SHMCAM_DATA_OFFSET, slots);
}

/*
 * shmcam_producer_layout - the slot size init gives a region, and where
 * its control table goes (docs/specs/shmcam.rst, "Where the table is")
 *
 * The table takes the region's last SHMCAM_CTRL_AREA_SIZE bytes when
 * @slots slots of @min_slot_size still fit before it; otherwise frames
 * come first and there is no table (@ctrl_offset 0).  Returns the slot
 * size, 0 when not even the slots fit.
 */
uint32_t shmcam_producer_layout(uint64_t region_size, uint32_t slots,
                                uint32_t min_slot_size, uint64_t *ctrl_offset)
{
    uint32_t with = 0;

    *ctrl_offset = 0;
    if (region_size > SHMCAM_DATA_OFFSET + SHMCAM_CTRL_AREA_SIZE) {
        with = shmcam_producer_share(region_size - SHMCAM_DATA_OFFSET -
                                     SHMCAM_CTRL_AREA_SIZE, slots);
    }
    if (with && with >= min_slot_size) {
        *ctrl_offset = region_size - SHMCAM_CTRL_AREA_SIZE;
        return with;
    }
    with = shmcam_producer_slot_size(region_size, slots);
    return with >= min_slot_size ? with : 0;
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
    uint64_t ctrl_offset;
    uint32_t slot_size, i;

    if (slots < SHMCAM_MIN_SLOTS || slots > SHMCAM_MAX_SLOTS ||
        !shmcam_is_pow2(region_size) || region_size < SHMCAM_MIN_REGION_SIZE ||
        region_size > SHMCAM_MAX_REGION_SIZE) {
        return -EINVAL;
    }
    if (shmcam_producer_needed(slots, min_slot_size) > region_size) {
        return -ENOSPC;
    }
    slot_size = shmcam_producer_layout(region_size, slots, min_slot_size,
                                       &ctrl_offset);

    memset(p, 0, sizeof(*p));
    p->ctrl_offset = ctrl_offset;
    p->ctrl = ctrl_offset ? (void *)((uint8_t *)base + ctrl_offset) : NULL;
    p->hdr = h;
    p->consumers = (void *)((uint8_t *)base + SHMCAM_CONSUMER_OFFSET);
    p->data = (uint8_t *)base + SHMCAM_DATA_OFFSET;
    p->region_size = region_size;
    p->slot_count = slots;
    p->slot_size = slot_size;
    p->heartbeat_ms = SHMCAM_PRODUCER_HEARTBEAT_MS;
    p->slots_ahead = 1;
    p->state = SHMCAM_STATE_STOPPED;
    /* Counters go on from the earlier session's: readers see them move. */
    p->heartbeat = shmcam_load64(&h->heartbeat);
    p->format_gen = shmcam_load32(&h->format_gen);
    /* Even, and past any odd value a torn earlier session left. */
    p->meta_seq = (shmcam_load32(&h->meta_seq) + 2) & ~1u;

    /* Readers of an earlier session stop trusting the region first. */
    shmcam_store32(&h->state, SHMCAM_STATE_STOPPED);
    shmcam_store64(&h->latest_frame, SHMCAM_NO_FRAME);
    shmcam_wmb();

    h->abi_major = SHMCAM_ABI_MAJOR;
    h->abi_minor = SHMCAM_ABI_MINOR;
    h->header_size = sizeof(*h);
    h->region_size = region_size;
    h->heartbeat_ms = p->heartbeat_ms;
    h->slot_count = slots;
    h->slot_size = slot_size;
    h->data_offset = SHMCAM_DATA_OFFSET;
    h->num_caps = 0;
    h->consumer_count = SHMCAM_MAX_CONSUMERS;
    h->meta_seq = p->meta_seq;
    h->heartbeat_ns = 0;
    memset(&h->color, 0, sizeof(h->color));
    h->slots_ahead = 1;
    h->ctrl_offset = 0;
    memset(h->reserved1, 0, sizeof(h->reserved1));
    memset(h->reserved2, 0, sizeof(h->reserved2));
    memset(h->caps, 0, sizeof(h->caps));
    memset(h->cap_sizes, 0, sizeof(h->cap_sizes));
    for (i = 0; i < SHMCAM_MAX_SLOTS; i++) {
        struct shmcam_slot *s = &h->slots[i];

        /* Keep counting: a reader mid-copy must see the change. */
        p->seq[i] = (shmcam_load32(&s->seq) + 2) & ~1u;
        memset((uint8_t *)s + sizeof(s->seq), 0, sizeof(*s) - sizeof(s->seq));
        shmcam_store32(&s->seq, p->seq[i]);
    }
    if (p->ctrl) {
        /*
         * An empty table, its seq counting on and even; slot data of an
         * earlier layout may be there.  The header points at it only
         * once it is clean.
         */
        p->ctrl_shadow.seq = (shmcam_load32(&p->ctrl->seq) + 2) & ~1u;
        shmcam_store32(&p->ctrl->seq, p->ctrl_shadow.seq + 1);
        shmcam_wmb();
        memcpy((uint8_t *)p->ctrl + sizeof(p->ctrl->seq),
               (const uint8_t *)&p->ctrl_shadow + sizeof(p->ctrl->seq),
               sizeof(*p->ctrl) - sizeof(p->ctrl->seq));
        shmcam_wmb();
        shmcam_store32(&p->ctrl->seq, p->ctrl_shadow.seq);
        h->ctrl_offset = ctrl_offset;
    }
    /*
     * The areas' serials now: a request made before this start is not
     * ours to answer, one made after it is, even before our first look.
     */
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        p->ctrl_serial[i] = shmcam_load32(&p->consumers[i].ctrl_serial);
    }
    shmcam_store64(&h->session_id, session_id);
    shmcam_wmb();
    shmcam_store64(&h->magic, SHMCAM_MAGIC);
    memcpy(&p->shadow, h, sizeof(p->shadow));
    return 0;
}

/*
 * Rewrite the table from the shadow under its seqlock: seq odd, the rest
 * but seq, seq even.  The shadow's seq is the even value before.
 */
static void shmcam_producer_ctrl_write(struct shmcam_producer *p)
{
    const size_t skip = sizeof(p->ctrl->seq);

    shmcam_store32(&p->ctrl->seq, p->ctrl_shadow.seq + 1);
    shmcam_wmb();
    memcpy((uint8_t *)p->ctrl + skip, (const uint8_t *)&p->ctrl_shadow + skip,
           sizeof(*p->ctrl) - skip);
    shmcam_wmb();
    p->ctrl_shadow.seq += 2;
    shmcam_store32(&p->ctrl->seq, p->ctrl_shadow.seq);
}

/* Everything of a control but its value: what generation counts. */
static bool shmcam_producer_ctrl_same(const struct shmcam_ctrl *a,
                                      const struct shmcam_ctrl *b)
{
    struct shmcam_ctrl x = *a, y = *b;

    x.value = y.value = 0;
    return !memcmp(&x, &y, sizeof(x));
}

/*
 * shmcam_producer_set_ctrls - publish the controls of @t (its num_ctrls,
 * ctrls[], num_menu and menu[]; nothing else of it is read)
 *
 * Entries past num_ctrls and num_menu are published zero.  generation
 * grows when anything but values changed, values_gen when only values
 * did; nothing is written when nothing changed.  Returns 1 when the
 * table was rewritten, 0 when it was already so, -ENOENT when the region
 * has no table, or -EINVAL for counts beyond the ABI's.
 */
int shmcam_producer_set_ctrls(struct shmcam_producer *p,
                              const struct shmcam_ctrl_table *t)
{
    struct shmcam_ctrl_table *d = &p->ctrl_shadow;
    bool layout = false, values = false;
    uint32_t i;

    if (!p->ctrl) {
        return -ENOENT;
    }
    if (t->num_ctrls > SHMCAM_MAX_CTRLS ||
        t->num_menu > SHMCAM_MAX_MENU_ITEMS) {
        return -EINVAL;
    }
    if (t->num_ctrls != d->num_ctrls || t->num_menu != d->num_menu ||
        memcmp(t->menu, d->menu, t->num_menu * sizeof(t->menu[0]))) {
        layout = true;
    }
    for (i = 0; i < t->num_ctrls && !layout; i++) {
        layout = !shmcam_producer_ctrl_same(&t->ctrls[i], &d->ctrls[i]);
        values |= t->ctrls[i].value != d->ctrls[i].value;
    }
    if (!layout && !values) {
        return 0;
    }
    memset(d->ctrls, 0, sizeof(d->ctrls));
    memset(d->menu, 0, sizeof(d->menu));
    memcpy(d->ctrls, t->ctrls, t->num_ctrls * sizeof(t->ctrls[0]));
    memcpy(d->menu, t->menu, t->num_menu * sizeof(t->menu[0]));
    d->num_ctrls = t->num_ctrls;
    d->num_menu = t->num_menu;
    if (layout) {
        d->generation++;
    }
    d->values_gen++;
    shmcam_producer_ctrl_write(p);
    return 1;
}

/* The controls last published (the producer's own copy), or NULL. */
const struct shmcam_ctrl_table *
shmcam_producer_ctrls(const struct shmcam_producer *p)
{
    return p->ctrl ? &p->ctrl_shadow : NULL;
}

/*
 * shmcam_producer_ctrl_answer - answer area @area's request @serial:
 * @error (0 or a positive errno) and @value first, serial last.
 */
void shmcam_producer_ctrl_answer(struct shmcam_producer *p, uint32_t area,
                                 uint32_t serial, uint32_t error,
                                 int64_t value)
{
    struct shmcam_ctrl_answer *a, *d;

    if (!p->ctrl || area >= SHMCAM_MAX_CONSUMERS) {
        return;
    }
    a = &p->ctrl->answers[area];
    d = &p->ctrl_shadow.answers[area];
    d->error = error;
    d->value = (uint64_t)value;
    d->serial = serial;
    shmcam_store32(&a->error, error);
    shmcam_store64(&a->value, (uint64_t)value);
    shmcam_wmb();
    shmcam_store32(&a->serial, serial);
}

/*
 * shmcam_producer_poll_ctrls - new control requests, one a consumer area
 *
 * Each area's request is read in the reverse of the order its consumer
 * writes it: ctrl_serial, a read barrier, owner, ctrl_id and ctrl_value,
 * another barrier, then ctrl_serial again.  A serial that moved meanwhile
 * belongs to a request still being written: it is taken at the next look,
 * so a request is never made of two (a bulk copy of the page reads its
 * fields in any order, and could pair a new serial with an old value).
 * An owned area whose ctrl_serial is not 0 and differs from the one last
 * seen there has a new request, filled into @req[area]; the serials of
 * init's time are no requests (those of an earlier producer are not
 * answered).  Returns the mask of areas with one.
 */
uint32_t shmcam_producer_poll_ctrls(struct shmcam_producer *p,
                                    struct shmcam_ctrl_request *req)
{
    uint32_t i, serial, found = 0;

    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        struct shmcam_consumer *c = &p->consumers[i];
        struct shmcam_ctrl_request r;

        serial = shmcam_load32(&c->ctrl_serial);
        if (!serial || serial == p->ctrl_serial[i]) {
            continue;
        }
        shmcam_rmb();
        r.owner = shmcam_load64(&c->owner);
        r.id = shmcam_load32(&c->ctrl_id);
        r.value = (int64_t)shmcam_load64(&c->ctrl_value);
        shmcam_rmb();
        if (!r.owner || shmcam_load32(&c->ctrl_serial) != serial) {
            continue;
        }
        p->ctrl_serial[i] = r.serial = serial;
        req[i] = r;
        found |= 1u << i;
    }
    return found;
}

/*
 * The metadata lock (ABI 1.2): meta_seq is odd while format, caps, card
 * or color change, so that a reader can retry a copy that a rewrite tore.
 */
static void shmcam_producer_meta_begin(struct shmcam_producer *p)
{
    shmcam_store32(&p->hdr->meta_seq, ++p->meta_seq);
    shmcam_wmb();
}

static void shmcam_producer_meta_end(struct shmcam_producer *p)
{
    shmcam_wmb();
    shmcam_store32(&p->hdr->meta_seq, ++p->meta_seq);
    p->shadow.meta_seq = p->meta_seq;
}

/*
 * format_gen tells readers of any minor version that the format moved;
 * meta_seq lets those of 1.2 copy it whole.  @color may be NULL: the
 * source does not say.
 */
void shmcam_producer_set_format(struct shmcam_producer *p,
                                const struct shmcam_format *f,
                                const struct shmcam_color *color)
{
    static const struct shmcam_color none;

    shmcam_producer_meta_begin(p);
    p->format = *f;
    memcpy(&p->hdr->format, f, sizeof(*f));
    memcpy(&p->hdr->color, color ? color : &none, sizeof(p->hdr->color));
    shmcam_wmb();
    shmcam_store32(&p->hdr->format_gen, ++p->format_gen);
    p->shadow.format = *f;
    p->shadow.color = p->hdr->color;
    p->shadow.format_gen = p->format_gen;
    shmcam_producer_meta_end(p);
}

void shmcam_producer_set_caps(struct shmcam_producer *p,
                              const struct shmcam_cap *caps,
                              const struct shmcam_cap_size *sizes, uint32_t n)
{
    if (n > SHMCAM_MAX_CAPS) {
        n = SHMCAM_MAX_CAPS;
    }
    memset(p->caps, 0, sizeof(p->caps));
    memcpy(p->caps, caps, n * sizeof(*caps));
    memset(p->cap_sizes, 0, sizeof(p->cap_sizes));
    if (sizes) {
        memcpy(p->cap_sizes, sizes, n * sizeof(*sizes));
    }
    p->num_caps = n;
    shmcam_producer_meta_begin(p);
    shmcam_store32(&p->hdr->num_caps, 0);
    shmcam_wmb();
    memcpy(p->hdr->caps, p->caps, sizeof(p->hdr->caps));
    memcpy(p->hdr->cap_sizes, p->cap_sizes, sizeof(p->hdr->cap_sizes));
    shmcam_wmb();
    shmcam_store32(&p->hdr->num_caps, n);
    memcpy(p->shadow.caps, p->caps, sizeof(p->shadow.caps));
    memcpy(p->shadow.cap_sizes, p->cap_sizes, sizeof(p->shadow.cap_sizes));
    p->shadow.num_caps = n;
    shmcam_producer_meta_end(p);
}

void shmcam_producer_set_card(struct shmcam_producer *p, const char *card)
{
    shmcam_producer_meta_begin(p);
    memset(p->shadow.card, 0, sizeof(p->shadow.card));
    strncpy(p->shadow.card, card, sizeof(p->shadow.card) - 1);
    memcpy(p->hdr->card, p->shadow.card, sizeof(p->hdr->card));
    shmcam_producer_meta_end(p);
}

void shmcam_producer_set_state(struct shmcam_producer *p,
                               enum shmcam_state state)
{
    p->state = state;
    shmcam_wmb();
    shmcam_store32(&p->hdr->state, state);
    p->shadow.state = state;
}

/* @now_ns: CLOCK_MONOTONIC, the clock of the slots' timestamps. */
void shmcam_producer_heartbeat(struct shmcam_producer *p, uint64_t now_ns)
{
    shmcam_store64(&p->hdr->heartbeat_ns, now_ns);
    shmcam_wmb();
    shmcam_store64(&p->hdr->heartbeat, ++p->heartbeat);
    p->shadow.heartbeat_ns = now_ns;
    p->shadow.heartbeat = p->heartbeat;
}

/*
 * shmcam_producer_restore - put the header back as we wrote it
 *
 * On a region that guests map writable (ivshmem-plain, a shared --listen
 * region), any of them may overwrite the header; nothing of it is read
 * back, but readers would stop.  Called every heartbeat: when the header
 * differs from what we wrote, it is written again, magic last, so that
 * readers find a consistent region and resume; so is the control table.
 * Returns true when either had to be restored.
 */
bool shmcam_producer_restore(struct shmcam_producer *p)
{
    const size_t skip = sizeof(p->shadow.magic);
    bool table = false;

    /* The table too, under its own lock: seq moves on, readers retry. */
    if (p->ctrl && memcmp(p->ctrl, &p->ctrl_shadow, sizeof(p->ctrl_shadow))) {
        shmcam_producer_ctrl_write(p);
        table = true;
    }
    if (!memcmp(p->hdr, &p->shadow, sizeof(p->shadow))) {
        return table;
    }
    shmcam_store64(&p->hdr->magic, 0);
    shmcam_wmb();
    memcpy((uint8_t *)p->hdr + skip, (const uint8_t *)&p->shadow + skip,
           sizeof(p->shadow) - skip);
    shmcam_wmb();
    shmcam_store64(&p->hdr->magic, SHMCAM_MAGIC);
    return true;
}

/* Make the slot of frame counter @frame odd; its data. */
static void *shmcam_producer_odd(struct shmcam_producer *p, uint64_t frame)
{
    uint32_t idx = frame % p->slot_count;
    uint32_t seq = p->seq[idx] + 1;

    p->shadow.slots[idx].seq = seq;
    shmcam_store32(&p->hdr->slots[idx].seq, seq);
    shmcam_wmb();
    return p->data + (uint64_t)idx * p->slot_size;
}

/*
 * shmcam_producer_begin - start writing the next frame into its slot
 *
 * The first half of the seqlock write: the slot's seq goes odd (in the
 * shadow too, so that a restore meanwhile keeps it odd) and a release
 * fence orders that before anything written into the slot.  The caller
 * then writes up to @max_len bytes at the address returned, and
 * shmcam_producer_commit() ends the write.  A reader that copies the slot
 * meanwhile sees seq odd, or changed, and drops its copy.
 *
 * The slot is region memory: guests that map the region writable can
 * change it under the writer, so the writer only writes it: what it
 * wrote is never read back, to be checksummed or copied on elsewhere.
 *
 * Returns the slot's data, or NULL when @max_len is 0 or larger than a
 * slot (the slot is then untouched).  Beginning again before the commit
 * starts the same frame over.
 */
void *shmcam_producer_begin(struct shmcam_producer *p, uint32_t max_len)
{
    if (max_len == 0 || max_len > p->slot_size || p->held) {
        return NULL;
    }
    p->write_max = max_len;
    return shmcam_producer_odd(p, p->frame);
}

/*
 * Steps 3 to 6 of writing a frame (docs/specs/shmcam.rst) for frame
 * p->frame, whose slot is odd: its descriptor, made in the shadow from
 * our own values, copied into the slot, seq even after a release fence,
 * and, for a @whole frame, latest_frame.  A frame not @whole leaves
 * bytesused 0; @skip then gives its number up (the next frame goes to
 * the next slot), else the next frame is written into the same slot.
 */
static int shmcam_producer_end(struct shmcam_producer *p, bool whole,
                               uint32_t len, uint64_t timestamp_ns,
                               uint32_t flags, bool skip)
{
    uint64_t frame = p->frame;
    uint32_t idx = frame % p->slot_count;
    struct shmcam_slot *s = &p->hdr->slots[idx];
    struct shmcam_slot *d = &p->shadow.slots[idx];
    const size_t skip_seq = sizeof(d->seq);
    uint32_t seq = p->seq[idx] + 1;

    if (whole) {
        d->bytesused = len;
        d->frame = frame;
        d->timestamp_ns = timestamp_ns;
        d->format_gen = p->format_gen;
        d->flags = flags;
        d->format = p->format;
    } else {
        d->bytesused = 0;
        if (skip) {
            /* a reader sent here goes past this number */
            d->frame = frame;
        }
    }
    /* all of it but seq, which goes even only after the fence */
    memcpy((uint8_t *)s + skip_seq, (const uint8_t *)d + skip_seq,
           sizeof(*s) - skip_seq);

    shmcam_wmb();
    p->seq[idx] = seq + 1;
    d->seq = seq + 1;
    shmcam_store32(&s->seq, seq + 1);
    p->held &= ~(1u << idx);
    if (!whole) {
        if (skip) {
            p->frame = frame + 1;
        }
        return -EMSGSIZE;
    }
    shmcam_store64(&p->hdr->latest_frame, frame);
    p->shadow.latest_frame = frame;
    p->frame = frame + 1;
    return 0;
}

/*
 * shmcam_producer_commit - end the write begun, publishing @len bytes
 *
 * The descriptor is made in the shadow, from our own values, and copied
 * into the slot; a release fence orders data and descriptor before seq
 * goes even again, and only then does latest_frame point readers at the
 * slot.  The producer never waits for a reader.
 *
 * @len 0, or more than shmcam_producer_begin() was told, drops the frame:
 * seq goes even with bytesused 0 (a reader skips the slot as holding no
 * frame) and the next frame goes to the same slot.  Returns 0, -EMSGSIZE
 * for a dropped frame, or -EINVAL when no write was begun.
 */
int shmcam_producer_commit(struct shmcam_producer *p, uint32_t len,
                           uint64_t timestamp_ns, uint32_t flags)
{
    uint32_t max = p->write_max;

    if (!max) {
        return -EINVAL;
    }
    p->write_max = 0;
    return shmcam_producer_end(p, len && len <= max, len, timestamp_ns,
                               flags, false);
}

/*
 * shmcam_producer_publish - copy one frame into the next slot
 *
 * A frame that is in memory of ours already (a camera's buffer, a file's
 * frame): begin, one copy, commit.  Returns 0, or -EMSGSIZE when the
 * frame does not fit in a slot (nothing written then).
 */
int shmcam_producer_publish(struct shmcam_producer *p, const void *data,
                            uint32_t len, uint64_t timestamp_ns,
                            uint32_t flags)
{
    void *slot = shmcam_producer_begin(p, len);

    if (!slot) {
        return -EMSGSIZE;
    }
    memcpy(slot, data, len);
    return shmcam_producer_commit(p, len, timestamp_ns, flags);
}

/*
 * shmcam_producer_hold - lend the slot of a frame to come to a writer
 *
 * For a writer that fills several slots queued ahead of time, in frame
 * order (a camera that captures into them, V4L2 USERPTR): the slot of
 * frame counter @frame goes odd, as shmcam_producer_begin() makes it,
 * and stays so until shmcam_producer_commit_held() publishes that frame
 * or shmcam_producer_release_held() gives the slots back.  @frame is
 * p->frame or one of the next p->slots_ahead - 1 frames (see
 * shmcam_producer_set_ahead()).  Returns the slot's data, slot_size
 * bytes; NULL for a frame outside that window or while a begin is open.
 * Holding a held slot again returns it unchanged.
 */
void *shmcam_producer_hold(struct shmcam_producer *p, uint64_t frame)
{
    uint32_t idx = frame % p->slot_count;

    if (frame < p->frame || frame - p->frame >= p->slots_ahead ||
        p->write_max) {
        return NULL;
    }
    if (p->held & (1u << idx)) {
        return p->data + (uint64_t)idx * p->slot_size;
    }
    p->held |= 1u << idx;
    return shmcam_producer_odd(p, frame);
}

/*
 * shmcam_producer_commit_held - publish frame p->frame from its held slot
 *
 * As shmcam_producer_commit(), for a slot that shmcam_producer_hold()
 * lent.  A frame of @len 0 or larger than a slot gives its number up:
 * the slot holds no frame (bytesused 0), and the next frame is the next
 * slot's, which the writer already fills.  Returns 0, -EMSGSIZE for a
 * frame given up, or -EINVAL when p->frame's slot is not held.
 */
int shmcam_producer_commit_held(struct shmcam_producer *p, uint32_t len,
                                uint64_t timestamp_ns, uint32_t flags)
{
    uint32_t idx = p->frame % p->slot_count;

    if (!(p->held & (1u << idx))) {
        return -EINVAL;
    }
    return shmcam_producer_end(p, len && len <= p->slot_size, len,
                               timestamp_ns, flags, true);
}

/*
 * shmcam_producer_release_held - the writer gave every held slot back
 *
 * Each goes even again holding no frame (bytesused 0): what the writer
 * left there is never published.  Call it only once the writer can no
 * longer write into them (a camera streamed off).
 */
void shmcam_producer_release_held(struct shmcam_producer *p)
{
    uint32_t idx;

    for (idx = 0; idx < p->slot_count; idx++) {
        struct shmcam_slot *d = &p->shadow.slots[idx];

        if (!(p->held & (1u << idx))) {
            continue;
        }
        d->bytesused = 0;
        shmcam_store32(&p->hdr->slots[idx].bytesused, 0);
        shmcam_wmb();
        p->seq[idx] += 2;
        d->seq = p->seq[idx];
        shmcam_store32(&p->hdr->slots[idx].seq, p->seq[idx]);
    }
    p->held = 0;
}

/*
 * shmcam_producer_set_ahead - how many slots a writer may hold at once
 *
 * 1 (the default) for frames written one at a time; up to
 * slot_count - 2, so that the newest frame and the one before it stay
 * readable.  Told to readers in the header's slots_ahead, so that they
 * do not look back into held slots.  Returns 0, or -EINVAL for @n out of
 * range or while slots are held.
 */
int shmcam_producer_set_ahead(struct shmcam_producer *p, uint32_t n)
{
    if (n < 1 || n > p->slot_count - 2 || p->held || p->write_max) {
        return -EINVAL;
    }
    p->slots_ahead = n;
    p->shadow.slots_ahead = n;
    shmcam_store32(&p->hdr->slots_ahead, n);
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
 * is looked at.  A request counts when the area is owned (owner not 0),
 * SHMCAM_CONSUMER_REQUEST is set, and its request_gen or its owner moved
 * since the request we last took from that area (a new owner counts its
 * requests from scratch); it is then taken, and acted on only if the
 * format, size and interval are all in our own capability table.  Of
 * several new requests the last one in the page wins.
 *
 * Requests are left in place while the producer is not STREAMING, to be
 * taken once it is.  Returns 1 with @req filled, or 0.
 */
int shmcam_producer_poll_requests(struct shmcam_producer *p,
                                  struct shmcam_request *req)
{
    struct shmcam_consumer copy[SHMCAM_MAX_CONSUMERS];
    uint32_t i, j;
    int found = 0;

    if (p->state != SHMCAM_STATE_STREAMING) {
        return 0;
    }
    memcpy(copy, p->consumers, sizeof(copy));
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        const struct shmcam_consumer *c = &copy[i];

        if (!c->owner || !(c->flags & SHMCAM_CONSUMER_REQUEST) ||
            (c->owner == p->req_owner[i] && c->request_gen == p->req_gen[i])) {
            continue;
        }
        p->req_owner[i] = c->owner;
        p->req_gen[i] = c->request_gen;
        for (j = 0; j < p->num_caps; j++) {
            if (shmcam_producer_cap_has(&p->caps[j], c)) {
                req->consumer = i;
                req->owner = c->owner;
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

/*
 * shmcam_producer_reclaim - free consumer areas whose owner went silent
 * @now_ns: the host's CLOCK_MONOTONIC
 *
 * An area counts as abandoned when its owner and heartbeat have both
 * stayed the same for SHMCAM_CONSUMER_TIMEOUT_MS as measured on our clock
 * (a producer that just started has seen nothing stay the same yet).  Its
 * owner is then swapped back to 0, unless the consumer wrote a new one in
 * the meantime, so that a rebooted guest can claim an area again.
 *
 * Returns a mask of the areas freed.
 */
uint32_t shmcam_producer_reclaim(struct shmcam_producer *p, uint64_t now_ns)
{
    uint32_t i, freed = 0;

    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        struct shmcam_consumer *c = &p->consumers[i];
        uint64_t owner = shmcam_load64(&c->owner);
        uint64_t beat = shmcam_load64(&c->heartbeat);

        if (owner != p->seen_owner[i] || beat != p->seen_beat[i]) {
            p->seen_owner[i] = owner;
            p->seen_beat[i] = beat;
            p->seen_ns[i] = now_ns;
            continue;
        }
        if (!owner || now_ns - p->seen_ns[i] <
                      SHMCAM_CONSUMER_TIMEOUT_MS * NSEC_PER_MSEC) {
            continue;
        }
        if (__atomic_compare_exchange_n(&c->owner, &owner, 0, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
            freed |= 1u << i;
        }
        p->seen_owner[i] = 0;
        p->seen_ns[i] = now_ns;
    }
    return freed;
}
