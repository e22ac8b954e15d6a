/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam region backends: the shared memory a producer writes and every
 * reader maps.  Three kinds: a named POSIX shm object (/dev/shm/NAME, also
 * what QEMU's memory-backend-file maps), any mmap-able file (a regular file,
 * or a PCI BAR resource file such as /sys/bus/pci/devices/.../resource2
 * inside a guest) and an anonymous memfd that can be passed over a socket,
 * such as the one an ivshmem server hands to its clients.
 */
#ifndef SHMCAM_REGION_H
#define SHMCAM_REGION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct shmcam_region {
    char *path;         /* what messages show: /dev/shm/NAME, a path, memfd:NAME */
    char *shm_name;     /* "/NAME" of a shm object we created, else NULL */
    int fd;
    void *base;
    uint64_t size;      /* bytes mapped */
    bool created;       /* we made it: it is removed on close */
    bool writable;
    /* A peer's memory taken away under the mapping (shmcam_region_guard) */
    volatile sig_atomic_t lost;
};

#define SHMCAM_REGION_INIT { .fd = -1 }

/* The smallest power of two >= needed (and >= SHMCAM_MIN_REGION_SIZE). */
uint64_t shmcam_region_round_size(uint64_t needed);

/* "16 MiB", "64 KiB" or "5000 bytes": sizes as messages print them. */
void shmcam_region_size_str(uint64_t size, char *buf, size_t len);

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

int shmcam_region_create_shm(struct shmcam_region *r, const char *name,
                             uint64_t size, mode_t mode);
int shmcam_region_attach_shm(struct shmcam_region *r, const char *name,
                             struct shmcam_region_policy *p);
int shmcam_region_attach_path(struct shmcam_region *r, const char *path,
                              struct shmcam_region_policy *p);
int shmcam_region_open_shm(struct shmcam_region *r, const char *name,
                           bool writable);
int shmcam_region_open_path(struct shmcam_region *r, const char *path,
                            bool writable);
int shmcam_region_open_fd(struct shmcam_region *r, int fd, const char *path,
                          bool writable);
int shmcam_region_create_memfd(struct shmcam_region *r, const char *name,
                               uint64_t size);
/* A memfd of @size bytes sealed against resizing, not mapped: its fd, or
 * a negative errno. */
int shmcam_region_memfd(const char *name, uint64_t size);
void shmcam_region_close(struct shmcam_region *r);

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
void shmcam_region_guard(struct shmcam_region *r);

#endif /* SHMCAM_REGION_H */
