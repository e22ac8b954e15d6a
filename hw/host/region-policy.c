/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Region policy: see region-policy.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <glib.h>

#include "region-policy.h"

/*
 * The checks of a producer's attach (struct shmcam_region_policy), on the
 * fd just opened and before anything is mapped: -EINVAL when it is not a
 * regular file, -EPERM for another owner, -EACCES for a wider mode,
 * -EBUSY when another producer holds the lock.
 */
static int shmcam_region_check(int fd, struct shmcam_region_policy *p)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    p->owner = st.st_uid;
    p->mode = st.st_mode & 07777;
    if (!S_ISREG(st.st_mode)) {
        return -EINVAL;
    }
    if (!p->any_owner && st.st_uid != geteuid()) {
        return -EPERM;
    }
    if (!p->any_owner && (p->mode & ~p->max_mode)) {
        return -EACCES;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        return errno == EWOULDBLOCK ? -EBUSY : -errno;
    }
    return 0;
}

/* @fd: just opened, or a negative errno; the region is ours to map then. */
static int shmcam_region_attach_checked(struct shmcam_region *r, int fd,
                                        const char *path,
                                        struct shmcam_region_policy *p)
{
    int ret = fd < 0 ? fd : shmcam_region_check(fd, p);

    if (ret) {
        if (fd >= 0) {
            close(fd);
        }
        return ret;
    }
    return shmcam_region_open_fd(r, fd, path, true);
}

/*
 * shmcam_region_attach_shm - attach a producer to an existing named shm
 * object, under @p.  Returns 0, -ENOENT, -ENODATA when it is empty, -ELOOP
 * for a symbolic link, a policy refusal (shmcam_region_check), or another
 * negative errno.
 */
int shmcam_region_attach_shm(struct shmcam_region *r, const char *name,
                             struct shmcam_region_policy *p)
{
    g_autofree char *shm_name = g_strdup_printf("/%s",
                                                name[0] == '/' ? name + 1 : name);
    g_autofree char *path = g_strdup_printf("/dev/shm%s", shm_name);
    int fd = shm_open(shm_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);

    return shmcam_region_attach_checked(r, fd < 0 ? -errno : fd, path, p);
}

/* shmcam_region_attach_path - the same for a file given by its path. */
int shmcam_region_attach_path(struct shmcam_region *r, const char *path,
                              struct shmcam_region_policy *p)
{
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

    return shmcam_region_attach_checked(r, fd < 0 ? -errno : fd, path, p);
}

int shmcam_region_check_peer(int fd)
{
    const int fixed = F_SEAL_SHRINK | F_SEAL_GROW;
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    char target[16];
    ssize_t n = readlink(link, target, sizeof(target));
    struct statfs sfs;
    struct stat st;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fstatfs(fd, &sfs) < 0 ||
        (sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC)) {
        return -ENODEV;
    }
    /* A memfd ("/memfd:NAME (deleted)") can be sealed, so it must be. */
    if (n >= 7 && !memcmp(target, "/memfd:", 7)) {
        int seals = fcntl(fd, F_GET_SEALS);

        if (seals < 0 || (seals & fixed) != fixed) {
            return -EPERM;
        }
    }
    return 0;
}
