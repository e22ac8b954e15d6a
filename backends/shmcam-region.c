/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam region backends: create or attach the shared region.
 *
 * Every function returns 0 or a negative errno and leaves the region
 * closed (fd -1, nothing mapped) on failure, so callers only need
 * shmcam_region_close() on the success path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "shmcam.h"
#include "shmcam-region.h"

uint64_t shmcam_region_round_size(uint64_t needed)
{
    uint64_t size = SHMCAM_MIN_REGION_SIZE;

    while (size < needed && size < SHMCAM_MAX_REGION_SIZE) {
        size <<= 1;
    }
    return size;
}

void shmcam_region_size_str(uint64_t size, char *buf, size_t len)
{
    if (size && size % (1024 * 1024) == 0) {
        snprintf(buf, len, "%llu MiB", (unsigned long long)(size >> 20));
    } else if (size && size % 1024 == 0) {
        snprintf(buf, len, "%llu KiB", (unsigned long long)(size >> 10));
    } else {
        snprintf(buf, len, "%llu bytes", (unsigned long long)size);
    }
}

/* "cam0" and "/cam0" both name the shm object "/cam0". */
static char *shmcam_region_shm_name(const char *name)
{
    return g_strdup_printf("%s%s", name[0] == '/' ? "" : "/", name);
}

static int shmcam_region_map(struct shmcam_region *r, uint64_t size)
{
    int prot = PROT_READ | (r->writable ? PROT_WRITE : 0);
    void *base;

    if (size == 0 || size > SIZE_MAX) {
        return -EINVAL;
    }
    base = mmap(NULL, size, prot, MAP_SHARED, r->fd, 0);
    if (base == MAP_FAILED) {
        return -errno;
    }
    r->base = base;
    r->size = size;
    return 0;
}

/* The mapping size of an fd: st_size, which for a BAR resource file is the BAR size. */
static int shmcam_region_fd_size(int fd, uint64_t *size)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    if (S_ISDIR(st.st_mode)) {
        return -EISDIR;
    }
    *size = st.st_size;
    return 0;
}

static int shmcam_region_fail(struct shmcam_region *r, int ret)
{
    shmcam_region_close(r);
    return ret;
}

/*
 * shmcam_region_create_shm - create a new named shm object of @size bytes
 *
 * Returns 0, -EEXIST when the name exists already (attach to it with
 * shmcam_region_open_shm instead), or another negative errno.
 */
int shmcam_region_create_shm(struct shmcam_region *r, const char *name,
                             uint64_t size, mode_t mode)
{
    char *shm_name = shmcam_region_shm_name(name);
    int ret;

    r->fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (r->fd < 0) {
        ret = -errno;
        g_free(shm_name);
        return ret;
    }
    r->shm_name = shm_name;
    r->created = true;
    r->writable = true;
    r->path = g_strdup_printf("/dev/shm%s", shm_name);
    /* umask must not narrow what the user asked for */
    if (fchmod(r->fd, mode) < 0 || ftruncate(r->fd, size) < 0 ||
        flock(r->fd, LOCK_EX | LOCK_NB) < 0) {
        return shmcam_region_fail(r, -errno);
    }
    ret = shmcam_region_map(r, size);
    return ret ? shmcam_region_fail(r, ret) : 0;
}

static int shmcam_region_attach_fd(struct shmcam_region *r)
{
    uint64_t size = 0;
    int ret = shmcam_region_fd_size(r->fd, &size);

    if (!ret && size == 0) {
        ret = -ENODATA;
    }
    if (!ret) {
        ret = shmcam_region_map(r, size);
    }
    return ret ? shmcam_region_fail(r, ret) : 0;
}

/*
 * shmcam_region_open_shm - attach to an existing named shm object
 *
 * Returns 0, -ENOENT when there is none, -ENODATA when it is empty, or
 * another negative errno.
 */
int shmcam_region_open_shm(struct shmcam_region *r, const char *name,
                           bool writable)
{
    char *shm_name = shmcam_region_shm_name(name);

    r->path = g_strdup_printf("/dev/shm%s", shm_name);
    r->writable = writable;
    r->fd = shm_open(shm_name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
    g_free(shm_name);
    if (r->fd < 0) {
        return shmcam_region_fail(r, -errno);
    }
    return shmcam_region_attach_fd(r);
}

/*
 * shmcam_region_open_path - map an existing file: a regular file, a file
 * in /dev/shm or a PCI BAR resource file.
 *
 * Returns 0, -ENOENT, -EISDIR, -ENODATA when it is empty, or another
 * negative errno (-ENODEV when the file cannot be mapped).
 */
int shmcam_region_open_path(struct shmcam_region *r, const char *path,
                            bool writable)
{
    r->path = g_strdup(path);
    r->writable = writable;
    r->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (r->fd < 0) {
        return shmcam_region_fail(r, -errno);
    }
    return shmcam_region_attach_fd(r);
}

/*
 * shmcam_region_open_fd - map a region received as an fd (a memfd passed
 * over a socket), taking ownership of @fd; @path names it in messages.
 *
 * Returns 0, -ENODATA when it is empty, or another negative errno; @fd is
 * closed on failure.
 */
int shmcam_region_open_fd(struct shmcam_region *r, int fd, const char *path,
                          bool writable)
{
    r->path = g_strdup(path);
    r->writable = writable;
    r->fd = fd;
    return shmcam_region_attach_fd(r);
}

/*
 * shmcam_region_memfd - an anonymous region's memory, unmapped;
 * shmcam_region_create_memfd - the same, mapped: for passing its fd to
 * QEMU or a peer.  Return its fd, or 0; or a negative errno.
 */
int shmcam_region_memfd(const char *name, uint64_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), ret;

    if (fd < 0) {
        return -errno;
    }
    /* Peers may map it but never resize it under us. */
    if (ftruncate(fd, size) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        ret = -errno;
        close(fd);
        return ret;
    }
    return fd;
}

int shmcam_region_create_memfd(struct shmcam_region *r, const char *name,
                               uint64_t size)
{
    int ret;

    r->path = g_strdup_printf("memfd:%s", name);
    r->writable = true;
    r->created = true;
    r->fd = shmcam_region_memfd(name, size);
    if (r->fd < 0) {
        return shmcam_region_fail(r, r->fd);
    }
    ret = shmcam_region_map(r, size);
    return ret ? shmcam_region_fail(r, ret) : 0;
}

/* Regions whose mapping a peer may take away: what the handler looks at. */
#define SHMCAM_REGION_GUARDS    128

static struct shmcam_region *volatile shmcam_region_guards[SHMCAM_REGION_GUARDS];

static void shmcam_region_sigbus(int sig, siginfo_t *si, void *uc)
{
    uint8_t *addr = si->si_addr;
    unsigned int i;

    (void)uc;
    for (i = 0; i < SHMCAM_REGION_GUARDS; i++) {
        struct shmcam_region *r = shmcam_region_guards[i];

        if (r && r->base && addr >= (uint8_t *)r->base &&
            addr < (uint8_t *)r->base + r->size) {
            /* The access is retried on anonymous memory. */
            mmap(r->base, r->size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            r->lost = 1;
            return;
        }
    }
    signal(sig, SIG_DFL);       /* not a peer's: the fault kills us */
}

void shmcam_region_guard(struct shmcam_region *r)
{
    static bool installed;
    unsigned int i;

    if (!installed) {
        struct sigaction sa = {
            .sa_sigaction = shmcam_region_sigbus,
            .sa_flags = SA_SIGINFO,
        };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, NULL);
        installed = true;
    }
    for (i = 0; i < SHMCAM_REGION_GUARDS; i++) {
        if (!shmcam_region_guards[i]) {
            shmcam_region_guards[i] = r;
            return;
        }
    }
}

static void shmcam_region_unguard(struct shmcam_region *r)
{
    unsigned int i;

    for (i = 0; i < SHMCAM_REGION_GUARDS; i++) {
        if (shmcam_region_guards[i] == r) {
            shmcam_region_guards[i] = NULL;
        }
    }
}

void shmcam_region_close(struct shmcam_region *r)
{
    shmcam_region_unguard(r);
    r->lost = 0;
    if (r->base) {
        munmap(r->base, r->size);
        r->base = NULL;
    }
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    if (r->created && r->shm_name) {
        shm_unlink(r->shm_name);
    }
    g_free(r->shm_name);
    g_free(r->path);
    r->shm_name = NULL;
    r->path = NULL;
    r->created = false;
    r->size = 0;
}
