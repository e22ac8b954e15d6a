/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host: the control socket between a server's supervisor
 * (server/server.c) and its capture process (host/capture.c).  One
 * SOCK_SEQPACKET message per event.  The supervisor says that a guest came
 * (with its descriptors) or went; the capture process says that a guest
 * tampered with what it shares with us, for the supervisor to disconnect
 * it.
 */
#ifndef SHMCAM_HOST_CTRL_H
#define SHMCAM_HOST_CTRL_H

#include <stdint.h>

enum shmcam_ctrl_op {
    /* supervisor to capture process */
    SHMCAM_CTRL_ADD = 1,        /* fds: the guest's eventfd [, its memfd] */
    SHMCAM_CTRL_DEL = 2,
    SHMCAM_CTRL_ADD_PCI = 3,    /* fds: frame eventfd, memory, doorbell */
    /* capture process to supervisor */
    SHMCAM_CTRL_BLAME = 4,      /* no fds: disconnect this guest */
};

/* The most descriptors a message carries. */
#define SHMCAM_CTRL_MAX_FDS     3

struct shmcam_ctrl_msg {
    uint32_t op;                /* enum shmcam_ctrl_op */
    /*
     * The connection: a number the supervisor never gives twice, so that
     * a message about a guest that left cannot hit the next one.
     */
    uint32_t key;
    uint32_t id;                /* the guest's id, as messages name it */
    unsigned int nfds;
    int fds[SHMCAM_CTRL_MAX_FDS];
};

/*
 * Send @m without waiting.  Returns 0, or a negative errno (a receiver
 * that takes no more messages is stuck).
 */
int shmcam_ctrl_send(int sock, const struct shmcam_ctrl_msg *m);

/*
 * Take one message into @m, its descriptors now ours (close-on-exec).
 * Returns 0, -EAGAIN when none waits, -EBADMSG for a message of the
 * wrong size (its descriptors closed), or -EPIPE when the sender is gone.
 */
int shmcam_ctrl_recv(int sock, struct shmcam_ctrl_msg *m);

#endif /* SHMCAM_HOST_CTRL_H */
