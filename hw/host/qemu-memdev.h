/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The memory of a running QEMU's memory-backend-shm, for shmcam-host
 * --qemu-memdev: a stock QEMU (9.1 and later) with
 *
 *     -object memory-backend-shm,id=cam0,size=32M
 *     -device ivshmem-plain,memdev=cam0
 *
 * makes that memory with shm_open() under a name of its own
 * ("/qemu-PID-shm-N", mode 0000), removes the name at once and keeps the
 * descriptor.  The object is then reachable only through QEMU's
 * descriptor table, /proc/PID/fd/N, by a process allowed to ptrace QEMU:
 * its own user or root.  This finds the descriptor of the backend with a
 * given id, one of two ways:
 *
 * PID:ID
 *     QEMU's process id.  The backend's size comes from QEMU's command
 *     line (-object memory-backend-shm,id=ID,size=SIZE); the descriptor is
 *     the one QEMU holds on an unnamed "/dev/shm/qemu-*-shm-*" object of
 *     that size.  Two backends of one size cannot be told apart so: that
 *     is an error that asks for the QMP form.
 * SOCKET:ID
 *     QEMU's QMP socket (-qmp unix:SOCKET,server=on,wait=off), whose peer
 *     credentials name QEMU's process.  query-memdev gives the backend's
 *     size, qom-get its type, x-query-ramblock (or HMP's info ramblock)
 *     the host address QEMU maps it at, /proc/PID/maps the file mapped
 *     there (its device and inode), and the descriptor is the one open on
 *     that file.  Exact, and it also sees backends made with object-add.
 *
 * The descriptor is then taken (opened anew through /proc/PID/fd/N, which
 * the object's mode 0000 allows root only; as QEMU's own user it is
 * duplicated with pidfd_getfd()), checked (the same file, a regular file
 * on tmpfs without a name, the backend's size, QEMU's owner and mode),
 * and locked (a record lock of this process's: a second producer on it
 * is refused at once).  QEMU keeps ownership: nothing here resizes,
 * renames or removes anything.
 */
#ifndef SHMCAM_HOST_QEMU_MEMDEV_H
#define SHMCAM_HOST_QEMU_MEMDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

/* --qemu-memdev's argument: QEMU's process or QMP socket, and an id. */
struct shmcam_qemu_target {
    pid_t pid;          /* 0 with @qmp */
    char *qmp;          /* a QMP socket's path, or NULL */
    char *id;
};

/*
 * Split @arg ("PID:ID" or "SOCKET:ID", at its last ':') into @t.  Returns
 * 0, or -EINVAL with @errp set (G_OPTION_ERROR: a message for the command
 * line).  shmcam_qemu_target_clear() frees what @t holds.
 */
int shmcam_qemu_target_parse(const char *arg, struct shmcam_qemu_target *t,
                             GError **errp);
void shmcam_qemu_target_clear(struct shmcam_qemu_target *t);

/* A backend found, and what is accepted of it. */
struct shmcam_qemu_memdev {
    /* set by the caller */
    mode_t max_mode;    /* the widest mode accepted (QEMU's is 0000) */
    bool force;         /* accept another owner or a wider mode */
    /* set by shmcam_qemu_memdev_open() */
    pid_t pid;          /* QEMU's */
    uid_t uid;          /* QEMU's effective uid, or (uid_t)-1 */
    int qemu_fd;        /* the descriptor's number in QEMU */
    uint64_t size;      /* the backend's, or 0 when not known */
    dev_t dev;
    ino_t ino;
    int pidfd;          /* QEMU's, or -1 */
    int pidfd_err;      /* why there is none */
    char *link;         /* what /proc/PID/fd/N names */
    char *desc;         /* "memory-backend-shm cam0 of QEMU 1234" */
    char *how;          /* "QEMU's command line", "QMP socket PATH" */
};

/*
 * Find the backend @arg names (as shmcam_qemu_target_parse() takes it),
 * take its descriptor, check and lock it.  Returns the descriptor (ours
 * to map and close), or a negative errno with @errp set: -ESRCH for no
 * such process, -ENOENT for no such backend or descriptor, -EACCES when
 * QEMU's descriptors may not be opened (the message says as whom to run),
 * -ENOTUNIQ when its process id alone cannot tell the backend from
 * another, -EINVAL, -EEXIST, -EPERM or -EBUSY for memory that is refused
 * (not a shm object, named, another size, another owner or a wider mode,
 * another producer's), or another negative errno.
 */
int shmcam_qemu_memdev_open(const char *arg, struct shmcam_qemu_memdev *m,
                            GError **errp);
void shmcam_qemu_memdev_clear(struct shmcam_qemu_memdev *m);

/*
 * Once QEMU m->pid has exited, say so and send this process SIGTERM: the
 * memory went with QEMU, and no guest reads it any more.  A thread that
 * does nothing else waits for QEMU's end on its pidfd (taken from @m).
 * SIGTERM must be blocked and taken by the caller's loop (a signalfd).
 * Returns 0 or a negative errno.
 */
int shmcam_qemu_memdev_watch(struct shmcam_qemu_memdev *m);

/*
 * The parts, for the unit tests.
 *
 * A size as QEMU takes it ("32M", "1.5G", "0x2000000", "33554432"):
 * true with *@size, false when it is not one.
 */
bool shmcam_qemu_parse_size(const char *s, uint64_t *size);

/* An -object of a command line: its type, id, name= and size=. */
struct shmcam_qemu_object {
    char *type;
    char *id;
    char *name;         /* or NULL */
    uint64_t size;      /* 0: none given, or not one QEMU would take */
};

/*
 * The -object options of a command line as /proc/PID/cmdline has it
 * (@len bytes of NUL-terminated arguments), in both of QEMU's forms
 * (TYPE,id=ID,size=SIZE with ",," for a comma, and JSON).  Returns an
 * array of struct shmcam_qemu_object that frees them.
 */
GPtrArray *shmcam_qemu_cmdline_objects(const char *cmdline, size_t len);

/*
 * The host addresses (HVA) of the RAM blocks of backend @id, @size bytes,
 * in the text of x-query-ramblock or HMP's info ramblock: a block named
 * @id, or DEVICE/@id once a device maps it.  Returns an array of
 * uint64_t, empty when there is none, or NULL when the text has no HVA
 * column.
 */
GArray *shmcam_qemu_ramblock_hvas(const char *text, const char *id,
                                  uint64_t size);

/* What /proc/PID/maps says is mapped at an address. */
struct shmcam_qemu_mapping {
    uint64_t start, end, offset;    /* offset of start in the file */
    unsigned int major, minor;
    uint64_t inode;
    char path[256];
};

/* The mapping of @maps (the text of /proc/PID/maps) that holds @addr:
 * 0, or -ENOENT. */
int shmcam_qemu_maps_find(const char *maps, uint64_t addr,
                          struct shmcam_qemu_mapping *m);

/* Is @link what /proc/PID/fd/N says of QEMU's unnamed shm object,
 * "/dev/shm/qemu-PID-shm-N (deleted)"? */
bool shmcam_qemu_shm_link(const char *link);

#endif /* SHMCAM_HOST_QEMU_MEMDEV_H */
