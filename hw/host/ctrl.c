/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: the control socket between supervisor and capture process
 * (ctrl.h).
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"
#include "ctrl.h"

/* What travels in the message body; the descriptors go as SCM_RIGHTS. */
struct shmcam_ctrl_wire {
    uint32_t op;
    uint32_t key;
    uint32_t id;
};

int shmcam_ctrl_send(int sock, const struct shmcam_ctrl_msg *m)
{
    struct shmcam_ctrl_wire w = { .op = m->op, .key = m->key, .id = m->id };

    if (m->nfds > SHMCAM_CTRL_MAX_FDS) {
        return -EINVAL;
    }
    return shmcam_fd_send(sock, &w, sizeof(w), m->fds, m->nfds);
}

int shmcam_ctrl_recv(int sock, struct shmcam_ctrl_msg *m)
{
    struct shmcam_ctrl_wire w;
    bool extra = false;
    unsigned int i;
    ssize_t n = shmcam_fd_recv(sock, &w, sizeof(w), m->fds,
                               SHMCAM_CTRL_MAX_FDS, &m->nfds, &extra,
                               MSG_DONTWAIT);

    if (n == -EAGAIN) {
        return -EAGAIN;
    }
    if (n <= 0) {
        return -EPIPE;
    }
    if (n != sizeof(w)) {
        for (i = 0; i < m->nfds; i++) {
            close(m->fds[i]);
        }
        m->nfds = 0;
        return -EBADMSG;
    }
    m->op = w.op;
    m->key = w.key;
    m->id = w.id;
    return 0;
}
