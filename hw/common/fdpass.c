/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Descriptors over unix sockets: see fdpass.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

union shmcam_fdpass_cmsg {
    struct cmsghdr align;
    char buf[CMSG_SPACE(SHMCAM_FDPASS_MAX * sizeof(int))];
};

int shmcam_fd_send(int sock, const void *buf, size_t len, const int *fds,
                   unsigned int nfds)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    union shmcam_fdpass_cmsg cm;
    struct cmsghdr *cmsg;
    ssize_t n;

    if (nfds > SHMCAM_FDPASS_MAX) {
        return -EINVAL;
    }
    if (nfds) {
        memset(&cm, 0, sizeof(cm));
        msg.msg_control = cm.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
    }
    do {
        n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    return (size_t)n == len ? 0 : -EIO;
}

ssize_t shmcam_fd_recv(int sock, void *buf, size_t len, int *fds,
                       unsigned int max, unsigned int *nfds, bool *extra,
                       int flags)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    union shmcam_fdpass_cmsg cm;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
    };
    struct cmsghdr *cmsg;
    unsigned int i, n_in;
    ssize_t n;
    int fd;

    *nfds = 0;
    do {
        n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    for (cmsg = msg.msg_controllen ? CMSG_FIRSTHDR(&msg) : NULL; cmsg;
         cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n_in = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < n_in; i++) {
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (n > 0 && *nfds < max) {
                fds[(*nfds)++] = fd;
            } else {
                close(fd);
                *extra = true;
            }
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        *extra = true;          /* the kernel closed the ones that did not fit */
    }
    return n;
}
