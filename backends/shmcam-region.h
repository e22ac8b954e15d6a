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

int shmcam_region_create_shm(struct shmcam_region *r, const char *name,
                             uint64_t size, mode_t mode);
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
 * shmcam_region_guard() makes a SIGBUS on @r's mapping (a peer cut its
 * memory short under it) replace the mapping with anonymous memory and set
 * r->lost, for the caller to drop the peer; the process goes on.  What a
 * peer's memory must be to be used at all is region-policy.h's.
 */
void shmcam_region_guard(struct shmcam_region *r);

#endif /* SHMCAM_REGION_H */
