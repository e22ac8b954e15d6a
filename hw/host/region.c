/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: create or attach the region, refuse one that is not ours
 * or too small, and lay it out.  Nothing is written to a region before
 * every check has passed.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "region-policy.h"
#include "qemu-memdev.h"
#include "shmcam-host.h"

uint64_t shmcam_host_session_id(void)
{
    uint64_t id = 0;

    if (getrandom(&id, sizeof(id), 0) != sizeof(id) || !id) {
        id = ((uint64_t)time(NULL) << 32) ^ getpid() ^ (uintptr_t)&id;
    }
    return id;
}

/* A size as truncate -s takes it: "8M", "64K" (regions are powers of two). */
void shmcam_host_size_arg(uint64_t size, char *buf, size_t len)
{
    static const char unit[] = "KMG";
    int i = -1;

    while (i < 2 && size >= 1024 && size % 1024 == 0) {
        size >>= 10;
        i++;
    }
    if (i < 0) {
        g_snprintf(buf, len, "%llu", (unsigned long long)size);
    } else {
        g_snprintf(buf, len, "%llu%c", (unsigned long long)size, unit[i]);
    }
}

/*
 * The region policy's refusals (struct shmcam_region_policy): say what was
 * found and what to do.  Returns true when @ret was one of them.
 */
static bool shmcam_host_region_refused(struct shmcam_host *h, const char *path,
                                       int ret,
                                       const struct shmcam_region_policy *p,
                                       GError **errp)
{
    struct passwd *pw;

    switch (ret) {
    case -ELOOP:
        g_set_error(errp, G_FILE_ERROR, 0, "region %s is a symbolic link "
                    "(give the file it points to)", path);
        return true;
    case -EINVAL:
        g_set_error(errp, G_FILE_ERROR, 0, "region %s is not a regular file "
                    "(give a file, a /dev/shm object or a PCI resource file)",
                    path);
        return true;
    case -EPERM:
        pw = getpwuid(p->owner);
        g_set_error(errp, G_FILE_ERROR, 0, "region %s belongs to %s (uid %u), "
                    "not to uid %u that shmcam-host runs as: its owner could "
                    "read the frames or take the region away (remove it and "
                    "let shmcam-host create it, choose another name, or "
                    "--force if you trust its owner)", path,
                    pw ? pw->pw_name : "nobody known", (unsigned)p->owner,
                    (unsigned)geteuid());
        return true;
    case -EACCES:
        g_set_error(errp, G_FILE_ERROR, 0, "region %s has mode %04o, wider "
                    "than --mode %04o allows (chmod %04o %s, or --mode %04o "
                    "to accept it)", path, (unsigned)p->mode,
                    (unsigned)h->shm_mode, (unsigned)h->shm_mode, path,
                    (unsigned)p->mode);
        return true;
    case -EBUSY:
        g_set_error(errp, G_FILE_ERROR, 0, "region %s is in use by another "
                    "shmcam-host on this machine (stop it first)", path);
        return true;
    default:
        return false;
    }
}

/*
 * --qemu-memdev: a running QEMU's memory-backend-shm, found, checked and
 * locked by qemu-memdev.c.  It stays QEMU's: mapped, never resized, never
 * removed; when QEMU exits, we stop (a SIGTERM, as from the user).
 */
static int shmcam_host_region_qemu(struct shmcam_host *h, GError **errp)
{
    struct shmcam_qemu_memdev m = {
        .max_mode = h->shm_mode,
        .force = h->o.force,
    };
    int fd = shmcam_qemu_memdev_open(h->o.qemu_memdev, &m, errp), ret = fd;
    char size[32];

    if (fd >= 0) {
        shmcam_region_size_str(m.size, size, sizeof(size));
        fprintf(stderr, "shmcam-host: %s is QEMU's descriptor %d, %s, %s, "
                "found through %s\n", m.desc, m.qemu_fd, m.link, size, m.how);
        ret = shmcam_region_open_fd(&h->region, fd, m.desc, true);
        if (ret) {
            g_set_error(errp, G_FILE_ERROR, 0, "cannot map %s: %s", m.desc,
                        g_strerror(-ret));
        } else if (shmcam_qemu_memdev_watch(&m)) {
            fprintf(stderr, "shmcam-host: cannot watch QEMU %d: shmcam-host "
                    "will not stop when it exits\n", m.pid);
        }
    }
    shmcam_qemu_memdev_clear(&m);
    return ret;
}

static int shmcam_host_region_open(struct shmcam_host *h, uint64_t size,
                                   GError **errp)
{
    struct shmcam_region_policy policy = {
        .max_mode = h->shm_mode,
        .any_owner = h->o.force,
    };
    char want[32], *shm_path;
    int ret;

    if (h->o.qemu_memdev) {
        return shmcam_host_region_qemu(h, errp);
    }
    shmcam_host_size_arg(size, want, sizeof(want));
    if (h->o.region) {
        ret = shmcam_region_attach_path(&h->region, h->o.region, &policy);
        if (ret == -ENOENT) {
            g_set_error(errp, G_FILE_ERROR, 0, "region %s does not exist "
                        "(create it, e.g. truncate -s %s %s, or use --shm NAME)",
                        h->o.region, want, h->o.region);
        } else if (ret == -ENODATA) {
            g_set_error(errp, G_FILE_ERROR, 0, "region %s is empty (give it "
                        "a size, e.g. truncate -s %s %s)", h->o.region, want,
                        h->o.region);
        } else if (ret && !shmcam_host_region_refused(h, h->o.region, ret,
                                                      &policy, errp)) {
            g_set_error(errp, G_FILE_ERROR, 0, "cannot map region %s: %s "
                        "(give a file you may read and write)", h->o.region,
                        g_strerror(-ret));
        }
        return ret;
    }
    ret = shmcam_region_create_shm(&h->region, h->o.shm, size, h->shm_mode);
    if (ret == -EEXIST) {
        ret = shmcam_region_attach_shm(&h->region, h->o.shm, &policy);
    }
    if (ret) {
        shm_path = g_strdup_printf("/dev/shm/%s", h->o.shm[0] == '/' ?
                                   h->o.shm + 1 : h->o.shm);
        if (!shmcam_host_region_refused(h, shm_path, ret, &policy, errp)) {
            g_set_error(errp, G_FILE_ERROR, 0, "cannot create or open shm "
                        "region %s: %s (choose another --shm name, or check "
                        "its owner and mode)", shm_path, g_strerror(-ret));
        }
        g_free(shm_path);
    }
    return ret;
}

/* Is the region's content ours to overwrite?  Refuses unless --force. */
static int shmcam_host_region_content(struct shmcam_host *h, GError **errp)
{
    struct shmcam_region *r = &h->region;
    uint16_t major;

    switch (shmcam_producer_probe(r->base, r->size, &major)) {
    case SHMCAM_CONTENT_FOREIGN:
        if (h->o.force) {
            return 0;
        }
        g_set_error(errp, G_FILE_ERROR, 0, "region %s holds data that is not "
                    "a shmcam region (use another region, or --force to "
                    "overwrite it)", r->path);
        return -EEXIST;
    case SHMCAM_CONTENT_NEWER:
        if (h->o.force) {
            return 0;
        }
        g_set_error(errp, G_FILE_ERROR, 0, "region %s has shmcam ABI %u, newer "
                    "than this shmcam-host's %u (update shmcam-host, or --force "
                    "to overwrite it)", r->path, major, SHMCAM_ABI_MAJOR);
        return -EPROTONOSUPPORT;
    default:
        return 0;
    }
}

/* Another shmcam-host still beating in this region?  Watch it briefly. */
static int shmcam_host_region_busy(struct shmcam_host *h, GError **errp)
{
    const struct shmcam_header *hdr = h->region.base;
    uint64_t beat;
    uint32_t ms;

    if (h->o.force || hdr->magic != SHMCAM_MAGIC ||
        __atomic_load_n(&hdr->state, __ATOMIC_RELAXED) == SHMCAM_STATE_STOPPED) {
        return 0;
    }
    ms = hdr->heartbeat_ms;
    ms = ms < 10 ? 10 : ms > 1000 ? 1000 : ms;
    beat = __atomic_load_n(&hdr->heartbeat, __ATOMIC_RELAXED);
    g_usleep(3000ull * ms);
    if (__atomic_load_n(&hdr->heartbeat, __ATOMIC_RELAXED) == beat) {
        return 0;
    }
    g_set_error(errp, G_FILE_ERROR, 0, "region %s is in use by a running "
                "shmcam-host (stop it first, or --force to take the region "
                "over)", h->region.path);
    return -EBUSY;
}

/*
 * --slots was not given and 4 do not fit: go on with 3 (a camera then
 * copies its frames, and says so).  Returns true when that changed
 * anything, for the caller to size again.
 */
bool shmcam_host_fewer_slots(struct shmcam_host *h)
{
    if (!h->slots_auto || h->o.slots <= (int)SHMCAM_MIN_SLOTS) {
        return false;
    }
    h->o.slots = SHMCAM_MIN_SLOTS;
    return true;
}

static int shmcam_host_region_size(struct shmcam_host *h, uint32_t slot_size,
                                   GError **errp)
{
    struct shmcam_region *r = &h->region;
    uint64_t needed = shmcam_producer_needed(h->o.slots, slot_size);
    uint64_t want = shmcam_region_round_size(needed), fit;
    char have_s[32], want_s[32], desc[64], hint[64];

    shmcam_region_size_str(r->size, have_s, sizeof(have_s));
    shmcam_region_size_str(want, want_s, sizeof(want_s));
    if (!shmcam_is_pow2(r->size) || r->size < SHMCAM_MIN_REGION_SIZE ||
        r->size > SHMCAM_MAX_REGION_SIZE) {
        g_set_error(errp, G_FILE_ERROR, 0, "region %s is %s, not a power of "
                    "two between 64 KiB and 64 GiB (make it %s)", r->path,
                    have_s, want_s);
        return -EINVAL;
    }
    if (needed <= r->size) {
        return 0;
    }
    if (shmcam_host_fewer_slots(h)) {
        return shmcam_host_region_size(h, slot_size, errp);
    }
    fit = r->size > SHMCAM_DATA_OFFSET ?
          (r->size - SHMCAM_DATA_OFFSET) / slot_size : 0;
    if (fit >= SHMCAM_MIN_SLOTS) {
        g_snprintf(hint, sizeof(hint), "--slots %u or a bigger region",
                   (unsigned)fit);
    } else {
        g_snprintf(hint, sizeof(hint), "a smaller --size or a bigger region");
    }
    shmcam_format_str(&h->fmt, desc, sizeof(desc));
    g_set_error(errp, G_FILE_ERROR, 0, "region %s is %s; %s with %d slots "
                "needs %s (%s)", r->path, have_s, desc, h->o.slots, want_s,
                hint);
    return -ENOSPC;
}

/*
 * In a server, the supervisor created the region, a sealed memfd it never
 * maps (or, with --isolate or for shmcam-pci, hands over each guest's as
 * it comes): it is ours, and only needs mapping and a new session laid
 * out.  The source may have picked a larger format than the command
 * line said (a camera does): it must still fit.
 */
static int shmcam_host_region_listen(struct shmcam_host *h, GError **errp)
{
    uint32_t need = shmcam_format_slot_size(&h->fmt);
    uint64_t want = shmcam_region_round_size(shmcam_producer_needed(h->o.slots,
                                                                    need));
    char have_s[32], want_s[32], want_arg[32], desc[64];
    uint64_t ctrl_offset;
    int ret;

    /* As each region will be laid out: with its control table if room. */
    h->slot_size = shmcam_producer_layout(h->region_bytes, h->o.slots, need,
                                          &ctrl_offset);
    if (!h->slot_size) {
        shmcam_region_size_str(h->region_bytes, have_s, sizeof(have_s));
        shmcam_region_size_str(want, want_s, sizeof(want_s));
        shmcam_host_size_arg(want, want_arg, sizeof(want_arg));
        shmcam_format_str(&h->fmt, desc, sizeof(desc));
        g_set_error(errp, G_FILE_ERROR, 0, "the region is %s; %s with %d "
                    "slots needs %s (--region-size %s)", have_s, desc,
                    h->o.slots, want_s, want_arg);
        return -ENOSPC;
    }
    if (!shmcam_host_shares_region(h)) {
        h->initialised = true;      /* the regions come with their guests */
        return 0;
    }
    ret = shmcam_region_open_fd(&h->region, dup(h->shared_fd),
                                "memfd:shmcam", true);
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot map the shared region: %s",
                    g_strerror(-ret));
        return ret;
    }
    ret = shmcam_producer_init(&h->prod, h->region.base, h->region.size,
                               h->o.slots, need, shmcam_host_session_id());
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot lay out region %s: %s",
                    h->region.path, g_strerror(-ret));
        return ret;
    }
    h->initialised = true;
    return 0;
}

/*
 * shmcam_host_region_setup - open the region, check it, lay it out
 *
 * Returns 0, or a negative errno with @errp set; on failure the region is
 * closed, removed if we created it, and left untouched otherwise.
 */
int shmcam_host_region_setup(struct shmcam_host *h, GError **errp)
{
    uint32_t slot_size = shmcam_format_slot_size(&h->fmt);
    uint64_t needed = shmcam_producer_needed(h->o.slots, slot_size);
    int ret;

    if (shmcam_host_serves(h)) {
        return shmcam_host_region_listen(h, errp);
    }

    ret = shmcam_host_region_open(h, h->region_bytes ?:
                                  shmcam_region_round_size(needed), errp);
    if (ret) {
        return ret;
    }
    ret = shmcam_host_region_content(h, errp) ?:
          shmcam_host_region_size(h, slot_size, errp) ?:
          shmcam_host_region_busy(h, errp);
    if (!ret) {
        ret = shmcam_producer_init(&h->prod, h->region.base, h->region.size,
                                   h->o.slots, slot_size,
                                   shmcam_host_session_id());
        if (ret) {
            g_set_error(errp, G_FILE_ERROR, 0, "cannot lay out region %s: %s",
                        h->region.path, g_strerror(-ret));
        }
    }
    if (ret) {
        shmcam_region_close(&h->region);
        return ret;
    }
    h->slot_size = h->prod.slot_size;
    h->initialised = true;
    return 0;
}

/*
 * Created regions go away (unless --keep); attached ones stay, marked
 * stopped.  A --listen
 * region is the server's: the capture process only lets go of its mapping.
 */
void shmcam_host_region_release(struct shmcam_host *h)
{
    if (h->o.keep && h->region.created) {
        h->region.created = false;      /* --keep: left for the next user */
        fprintf(stderr, "shmcam-host: %s stays (--keep): remove it with rm "
                "when no one needs it\n", h->region.path);
    }
    if (h->initialised && h->prod.hdr) {
        shmcam_producer_set_state(&h->prod, SHMCAM_STATE_STOPPED);
        h->initialised = false;
    }
    shmcam_region_close(&h->region);
}
