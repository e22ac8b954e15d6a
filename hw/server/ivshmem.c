/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ivshmem server protocol, version 0: see ivshmem.h.
 */
#include <errno.h>
#include <sys/socket.h>

#include <glib.h>

#include "fdpass.h"
#include "ivshmem.h"

/* One message: a little-endian int64, with @fd attached unless it is -1. */
static int shmcam_ivshmem_send(int sock, int64_t value, int fd)
{
    int64_t le = GINT64_TO_LE(value);

    return shmcam_fd_send(sock, &le, sizeof(le), &fd, fd >= 0 ? 1 : 0);
}

int shmcam_ivshmem_setup(int sock, uint32_t id, int shm_fd, uint32_t host_id,
                         int host_efd, int own_efd)
{
    return shmcam_ivshmem_send(sock, SHMCAM_IVSHMEM_PROTOCOL, -1) ?:
           shmcam_ivshmem_send(sock, id, -1) ?:
           shmcam_ivshmem_send(sock, -1, shm_fd) ?:
           shmcam_ivshmem_send(sock, host_id, host_efd) ?:
           shmcam_ivshmem_send(sock, id, own_efd);
}

int shmcam_ivshmem_input(int sock)
{
    char buf[256];
    ssize_t n;

    do {
        n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n > 0 || (n < 0 && errno == EAGAIN) ? 0 : -EPIPE;
}
