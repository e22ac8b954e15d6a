/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-dump's ivshmem client: what QEMU's ivshmem-doorbell does at
 * device start, to read a region an ivshmem server (such as shmcam-host
 * --listen) hands out.  A reader rings nobody: the peers' eventfds are
 * closed as they come.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

#include "fdpass.h"
#include "shmcam-dump.h"

/* How long an ivshmem server may take to send its setup. */
#define SHMCAM_IVSHMEM_SETUP_S  5
/* Peers announced before the shared memory, at most: ids and vectors. */
#define SHMCAM_IVSHMEM_MAX_MSGS 4096

/* One ivshmem server message: 0, -ECONNRESET at EOF, or a negative errno. */
static int shmcam_ivshmem_recv(int sock, int64_t *value, int *fd)
{
    int64_t le;
    unsigned int nfds;
    bool extra = false;
    ssize_t n = shmcam_fd_recv(sock, &le, sizeof(le), fd, 1, &nfds, &extra,
                               MSG_WAITALL);

    if (n < 0) {
        return n == -EAGAIN ? -ETIMEDOUT : n;
    }
    if (!nfds) {
        *fd = -1;
    }
    if (n == 0) {
        return -ECONNRESET;
    }
    if (n != sizeof(le) || extra) {
        if (*fd >= 0) {
            close(*fd);
        }
        return -EPROTO;
    }
    *value = GINT64_FROM_LE(le);
    return 0;
}

/*
 * The setup an ivshmem server sends: protocol version 0, our id, then
 * peers' eventfds (closed: a reader rings nobody) until the shared memory.
 * Returns its fd, or a negative errno.
 */
static int shmcam_ivshmem_setup(int sock, int64_t *id)
{
    int64_t v = 0;
    int fd = -1, i, ret;

    for (i = 0; i < SHMCAM_IVSHMEM_MAX_MSGS; i++) {
        ret = shmcam_ivshmem_recv(sock, &v, &fd);
        if (ret) {
            return ret;
        }
        if (i == 0 ? v != 0 || fd >= 0 :
            i == 1 ? v < 0 || v > 0xffff || fd >= 0 :
            v < -1 || fd < 0) {
            break;
        }
        if (i == 1) {
            *id = v;
        } else if (v == -1) {
            return fd;
        } else if (fd >= 0) {
            close(fd);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    return -EPROTO;
}

/* shmcam-dump.h */
int shmcam_dump_open_ivshmem(struct shmcam_region *r, const char *path,
                               bool writable, int *sock, int64_t *id)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = SHMCAM_IVSHMEM_SETUP_S };
    char *name;
    int fd = -1, ret;

    *sock = -1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    *sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*sock < 0) {
        return -errno;
    }
    if (connect(*sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        setsockopt(*sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        ret = -errno;
    } else {
        ret = fd = shmcam_ivshmem_setup(*sock, id);
    }
    if (ret < 0) {
        close(*sock);
        *sock = -1;
        return ret;
    }
    name = g_strdup_printf("%s (ivshmem client %lld)", path, (long long)*id);
    ret = shmcam_region_open_fd(r, fd, name, writable);
    g_free(name);
    if (ret) {
        close(*sock);
        *sock = -1;
    }
    return ret;
}
