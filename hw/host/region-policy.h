/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Region policy: what shmcam-host accepts as memory to write frames into,
 * when it did not make that memory itself.  An existing region (a /dev/shm
 * object, a --region file) must be ours and locked; a peer's memory (a
 * shmcam-pci device's) must be memory it cannot take away unseen.  The
 * mechanism (opening, mapping) is backends/shmcam-region.c's.
 */
#ifndef SHMCAM_REGION_POLICY_H
#define SHMCAM_REGION_POLICY_H

#include "shmcam-region.h"

/*
 * What a producer accepts of a region that exists already: a regular file
 * (not a symbolic link) owned by the effective uid with no permission
 * bits beyond @max_mode, unless @any_owner.  A region a producer opens is
 * also locked (flock, exclusive) for as long as it stays open, so that a
 * second producer on this machine is refused at once.  When an attach
 * fails, @owner and @mode say what was found.
 */
struct shmcam_region_policy {
    mode_t max_mode;
    bool any_owner;
    uid_t owner;
    mode_t mode;
};

/*
 * Attach a producer to an existing named shm object, or a file given by
 * its path, under @p.  Returns 0, -ENOENT, -ENODATA when it is empty,
 * -ELOOP for a symbolic link, a refusal of the policy (-EINVAL: not a
 * regular file, -EPERM: another owner, -EACCES: a wider mode, -EBUSY:
 * another producer holds the lock), or another negative errno.
 */
int shmcam_region_attach_shm(struct shmcam_region *r, const char *name,
                             struct shmcam_region_policy *p);
int shmcam_region_attach_path(struct shmcam_region *r, const char *path,
                              struct shmcam_region_policy *p);

/*
 * A peer's memory (a region received as an fd): shmcam_region_check_peer()
 * accepts a memfd sealed against shrinking and growing, or a regular file
 * on tmpfs or hugetlbfs; it returns 0, -EPERM for a memfd without those
 * seals, or -ENODEV for anything else.  The latter can still be shrunk by
 * the peer while we write into it: shmcam_region_guard() makes the SIGBUS
 * that would follow replace the mapping with anonymous memory and set
 * r->lost, for the caller to drop the peer; the process goes on.
 */
int shmcam_region_check_peer(int fd);

#endif /* SHMCAM_REGION_POLICY_H */
