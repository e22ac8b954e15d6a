/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: the control socket between a server's supervisor
 * (host-server.c) and its capture process (shmcam-host.c).  One
 * SOCK_SEQPACKET message per event: a guest came (with its descriptors)
 * or went.  Only the supervisor sends; the capture process only receives.
 */
#ifndef SHMCAM_HOST_CTRL_H
#define SHMCAM_HOST_CTRL_H

#include <stdint.h>

enum shmcam_ctrl_op {
    SHMCAM_CTRL_ADD = 1,        /* fds: the guest's eventfd [, its memfd] */
    SHMCAM_CTRL_DEL = 2,
    SHMCAM_CTRL_ADD_PCI = 3,    /* fds: frame eventfd, memory, doorbell */
};

/* The most descriptors a message carries. */
#define SHMCAM_CTRL_MAX_FDS     3

struct shmcam_ctrl {
    uint32_t op;                /* enum shmcam_ctrl_op */
    uint32_t id;                /* the guest's consumer id */
    unsigned int nfds;
    int fds[SHMCAM_CTRL_MAX_FDS];
};

/*
 * Send @m without waiting.  Returns 0, or a negative errno (a receiver
 * that takes no more messages is stuck).
 */
int shmcam_ctrl_send(int sock, const struct shmcam_ctrl *m);

/*
 * Take one message into @m, its descriptors now ours (close-on-exec).
 * Returns 0, -EAGAIN when none waits, -EBADMSG for a message of the
 * wrong size (its descriptors closed), or -EPIPE when the sender is gone.
 */
int shmcam_ctrl_recv(int sock, struct shmcam_ctrl *m);

#endif /* SHMCAM_HOST_CTRL_H */
