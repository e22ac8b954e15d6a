/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Descriptors over unix sockets (SCM_RIGHTS): every place shmcam-host and
 * shmcam-dump pass or take one goes through these two.
 */
#ifndef SHMCAM_FDPASS_H
#define SHMCAM_FDPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The most descriptors one message carries here. */
#define SHMCAM_FDPASS_MAX       4

/*
 * Send @len bytes of @buf with the @nfds descriptors of @fds attached
 * (none when @nfds is 0), never waiting.  Returns 0, -EIO when the
 * message went only in part, or a negative errno.
 */
int shmcam_fd_send(int sock, const void *buf, size_t len, const int *fds,
                   unsigned int nfds);

/*
 * Receive up to @len bytes into @buf; the descriptors that came with them
 * go to @fds (close-on-exec), at most @max, their number to *@nfds.  Any
 * beyond @max, or any the kernel had to drop, are closed and *@extra set:
 * a peer that sends more than the protocol has is not to be trusted.
 * @flags: MSG_DONTWAIT, MSG_WAITALL.  Returns the bytes received, 0 at
 * EOF (no descriptors then), or a negative errno.
 */
ssize_t shmcam_fd_recv(int sock, void *buf, size_t len, int *fds,
                       unsigned int max, unsigned int *nfds, bool *extra,
                       int flags);

#endif /* SHMCAM_FDPASS_H */
