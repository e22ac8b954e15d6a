/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: the control socket between supervisor and capture process
 * (host-ctrl.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host-ctrl.h"

/* What travels in the message body; the descriptors go as SCM_RIGHTS. */
struct shmcam_ctrl_wire {
    uint32_t op;
    uint32_t id;
};

union shmcam_ctrl_cmsg {
    struct cmsghdr align;
    char buf[CMSG_SPACE(SHMCAM_CTRL_MAX_FDS * sizeof(int))];
};

int shmcam_ctrl_send(int sock, const struct shmcam_ctrl *m)
{
    struct shmcam_ctrl_wire w = { .op = m->op, .id = m->id };
    struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    union shmcam_ctrl_cmsg cm;
    struct cmsghdr *cmsg;

    if (m->nfds > SHMCAM_CTRL_MAX_FDS) {
        return -EINVAL;
    }
    if (m->nfds) {
        memset(&cm, 0, sizeof(cm));
        msg.msg_control = cm.buf;
        msg.msg_controllen = CMSG_SPACE(m->nfds * sizeof(int));
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(m->nfds * sizeof(int));
        memcpy(CMSG_DATA(cmsg), m->fds, m->nfds * sizeof(int));
    }
    return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int shmcam_ctrl_recv(int sock, struct shmcam_ctrl *m)
{
    struct shmcam_ctrl_wire w;
    struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
    union shmcam_ctrl_cmsg cm;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
    };
    struct cmsghdr *cmsg;
    unsigned int i, n_in;
    ssize_t n;

    do {
        n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        return -EAGAIN;
    }
    if (n <= 0) {
        return -EPIPE;
    }
    m->nfds = 0;
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n_in = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < n_in; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (m->nfds < SHMCAM_CTRL_MAX_FDS) {
                m->fds[m->nfds++] = fd;
            } else {
                close(fd);
            }
        }
    }
    if (n != sizeof(w)) {
        for (i = 0; i < m->nfds; i++) {
            close(m->fds[i]);
        }
        m->nfds = 0;
        return -EBADMSG;
    }
    m->op = w.op;
    m->id = w.id;
    return 0;
}
