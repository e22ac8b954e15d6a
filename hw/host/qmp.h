/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A QMP client (the QEMU Machine Protocol, docs/interop/qmp-spec.rst in
 * QEMU's tree) on a unix socket, as QEMU serves it with
 * -qmp unix:PATH,server=on,wait=off: connect, read the greeting, leave
 * capabilities negotiation, then run commands one at a time and take
 * their return values.  Events QEMU sends meanwhile are skipped.  Every
 * wait has a deadline, so a QEMU that holds another client on the socket
 * (it serves one at a time) is an error, not a hang.  Nothing here knows
 * what the commands are for: the unit tests drive it against a server of
 * their own.
 */
#ifndef SHMCAM_HOST_QMP_H
#define SHMCAM_HOST_QMP_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#define SHMCAM_QMP_ERROR (shmcam_qmp_error_quark())
GQuark shmcam_qmp_error_quark(void);

enum shmcam_qmp_error {
    SHMCAM_QMP_ERROR_IO,            /* connect, read, write, a deadline */
    SHMCAM_QMP_ERROR_DENIED,        /* connect: no permission */
    SHMCAM_QMP_ERROR_PROTOCOL,      /* not QMP, or a reply that is not */
    SHMCAM_QMP_ERROR_COMMAND,       /* QEMU's error reply: its desc */
    SHMCAM_QMP_ERROR_NOT_FOUND,     /* ... of class CommandNotFound */
};

struct shmcam_qmp {
    int fd;
    char *path;
    pid_t pid;                      /* QEMU's, from SO_PEERCRED */
    uid_t uid;
    int timeout_ms;                 /* for each reply */
    GString *in;                    /* received, not yet a whole line */
    unsigned int next_id;
};

#define SHMCAM_QMP_INIT { .fd = -1 }
#define SHMCAM_QMP_TIMEOUT_MS 5000

/*
 * Connect to the QMP socket @path, check QEMU's greeting and send
 * qmp_capabilities.  Each reply is waited for @timeout_ms at most.
 * Returns 0, or a negative errno with @errp set (the connection closed).
 */
int shmcam_qmp_connect(struct shmcam_qmp *q, const char *path,
                       int timeout_ms, GError **errp);

/*
 * Run @command with @args (a JSON object, or NULL for none).  Returns its
 * "return" value (json_node_unref() it), or NULL with @errp set: QEMU's
 * error reply (SHMCAM_QMP_ERROR_COMMAND, or _NOT_FOUND for a command this
 * QEMU lacks: its desc is the message), or a broken connection.
 */
JsonNode *shmcam_qmp_call(struct shmcam_qmp *q, const char *command,
                          const char *args, GError **errp);

void shmcam_qmp_close(struct shmcam_qmp *q);

#endif /* SHMCAM_HOST_QMP_H */
