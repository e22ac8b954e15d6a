/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor of a server's capture process: starts it, restarts it
 * when it dies (sooner while it keeps running long, later while it keeps
 * failing fast), and kills it when its loop stands still (the watchdog).
 * It holds the control socket to it.  It knows nothing of the guests:
 * server.c tells it what to send, and hears whom a stuck child was busy
 * with.
 */
#ifndef SHMCAM_SERVER_SUPERVISOR_H
#define SHMCAM_SERVER_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "ctrl.h"
#include "shmcam-host.h"

struct shmcam_supervisor {
    pid_t self;
    pid_t child;                /* 0 when none runs */
    int ctrl_fd;                /* to the child; -1 when none runs */
    uint64_t child_start_ns;
    uint64_t restart_ns;        /* start a child then; 0: none due */
    uint64_t backoff_ns;
    bool stuck;                 /* the watchdog killed the child */
    struct shmcam_watch *watch; /* shared with the child */
};

uint64_t shmcam_supervisor_now(void);

/* Returns 0, or a negative errno with @errp set. */
int shmcam_supervisor_init(struct shmcam_supervisor *sup, GError **errp);

/*
 * Fork a capture process.  In the parent: its pid, or 0 when it could not
 * (said, and a new try scheduled).  In the child: 0 with *@ctrl its end
 * of the control socket, and the parent's watch page in @h; the child
 * dies with the supervisor.  *@child tells the two apart.
 */
pid_t shmcam_supervisor_spawn(struct shmcam_supervisor *sup,
                              struct shmcam_host *h, int *ctrl, bool *child);

/*
 * Process @pid ended with @status: when it was the capture process, say
 * so and schedule its successor (none after a clean exit, or once the
 * server is stopping, @stop).  Returns whether it was.
 */
bool shmcam_supervisor_reaped(struct shmcam_supervisor *sup, pid_t pid,
                              int status, bool stop);

/*
 * The watchdog, every turn of the server's loop: a capture process whose
 * loop stood still for a second outside a source start is killed (its
 * successor starts at once).  Returns the key of the client whose eventfd
 * it was stuck on, for the server to disconnect, or SHMCAM_WATCH_IDLE.
 */
uint32_t shmcam_supervisor_watchdog(struct shmcam_supervisor *sup,
                                    uint64_t now);

/* Send @m to the capture process; one that takes no message is killed. */
void shmcam_supervisor_tell(struct shmcam_supervisor *sup,
                            const struct shmcam_ctrl_msg *m);

/* Is a start due at @now?  How many ms to wait for it at most (@max)? */
bool shmcam_supervisor_due(const struct shmcam_supervisor *sup, uint64_t now);
int shmcam_supervisor_timeout(const struct shmcam_supervisor *sup,
                              uint64_t now, int max);

/* Stop the capture process: SIGTERM, then SIGKILL after 5 s. */
void shmcam_supervisor_stop(struct shmcam_supervisor *sup);

#endif /* SHMCAM_SERVER_SUPERVISOR_H */
