/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host --listen: an ivshmem server (protocol 0, the one QEMU's
 * ivshmem-doorbell speaks) whose shared memory is the shmcam region.
 * docs/ivshmem-server.rst describes the design.
 *
 * shmcam-host --pci-listen: the server of QEMU's shmcam-pci devices
 * (docs/specs/shmcam-pci.rst).  There the memory comes the other way: each
 * device sends its memory backend, its frame eventfd and its doorbell
 * eventfd, and gets back the consumer index it is to use.  Both kinds of
 * guest take ids from one table, and may be served by one process.
 *
 * This process is the supervisor.  It holds everything a connected QEMU
 * depends on: the listening socket, each client's connection and eventfd,
 * the host peer's eventfd and the region memfds.  It never captures:
 * capture runs in a child process (shmcam_host_capture()), restarted when
 * it dies, so that no crash of the capture code costs a guest its
 * connection (QEMU cannot reconnect to a server).
 *
 * The child learns about guests over a SOCK_SEQPACKET control socket: ADD
 * carries a guest's eventfd (and with --isolate its memfd), DEL says the
 * guest left.  Every new child is told about each guest connected then.
 * The child rings the guests' eventfds itself, so a frame reaches a guest
 * without passing through this process.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "host-ctrl.h"
#include "shmcam-host.h"

#define NSEC_PER_SEC            1000000000ull
#define NSEC_PER_MSEC           1000000ull

#define SHMCAM_SERVER_PROTOCOL  0
#define SHMCAM_SERVER_BACKLOG   16
/* A capture process whose loop stands still this long is stuck. */
#define SHMCAM_WATCHDOG_NS      NSEC_PER_SEC
#define SHMCAM_WATCHDOG_POLL_MS 100
/* A shmcam-pci device sends its hello at once: its id is freed after this. */
#define SHMCAM_HELLO_NS         (5 * NSEC_PER_SEC)
/* Restart delays: the first one, and the cap while the child keeps dying. */
#define SHMCAM_RESTART_MIN_NS   (NSEC_PER_SEC / 2)
#define SHMCAM_RESTART_MAX_NS   (8 * NSEC_PER_SEC)
/* A child that ran this long is restarted after the shortest delay. */
#define SHMCAM_CHILD_STABLE_NS  (10 * NSEC_PER_SEC)
/* How long a child may take to stop after SIGTERM, before SIGKILL. */
#define SHMCAM_CHILD_STOP_NS    (5 * NSEC_PER_SEC)

#define SHMCAM_PCI_PROTOCOL     1
#define SHMCAM_PCI_HELLO_FDS    3       /* memory, frame and doorbell fds */


struct shmcam_server_client {
    int sock;                   /* -1 while the id is free */
    int efd;                    /* vector 0: written to interrupt the guest */
    struct shmcam_region region;        /* --isolate, shmcam-pci: its own */
    bool pci;                   /* a shmcam-pci device */
    bool ready;                 /* set up: the capture process knows it */
    int doorbell_fd;            /* shmcam-pci: the guest writes it */
    int hello_fds[SHMCAM_PCI_HELLO_FDS];        /* shmcam-pci, until ready */
    unsigned int hello_nfds;
    bool hello_bad;             /* more descriptors than a hello has */
    size_t hello_len;
    int64_t hello[2];
    uint64_t hello_by_ns;       /* shmcam-pci: its hello is due by then */
};

struct shmcam_server {
    struct shmcam_host *h;
    pid_t self;
    int listen_fd;              /* --listen, or -1 */
    int pci_fd;                 /* --pci-listen, or -1 */
    bool listening;             /* --listen's socket file is ours to remove */
    bool pci_listening;         /* and --pci-listen's */
    int sigfd;
    int host_efd;               /* peer SHMCAM_HOST_PEER_ID's vector 0 */
    int ctrl_fd;                /* to the child; -1 when none runs */
    pid_t child;                /* 0 when none runs */
    uint64_t child_start_ns;
    uint64_t restart_ns;        /* start a child then; 0: none due */
    uint64_t backoff_ns;
    bool stuck;                 /* the watchdog killed the child */
    struct shmcam_watch *watch; /* shared with the child */
    bool stop;
    struct shmcam_server_client c[SHMCAM_MAX_CONSUMERS];
};

static uint64_t shmcam_server_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * One protocol message: a little-endian int64, with @fd attached when it
 * is not -1.  Never blocks: a client whose socket is full is too far
 * behind to keep.  Returns 0 or a negative errno.
 */
static int shmcam_server_send(int sock, int64_t value, int fd)
{
    int64_t le = GINT64_TO_LE(value);
    struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    struct cmsghdr *cmsg;
    ssize_t n;

    if (fd >= 0) {
        memset(&cm, 0, sizeof(cm));
        msg.msg_control = cm.buf;
        msg.msg_controllen = sizeof(cm.buf);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
        return -errno;
    }
    return n == sizeof(le) ? 0 : -EIO;
}

/* The pid at the other end of a unix socket, or 0. */
static pid_t shmcam_server_peer_pid(int sock)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        return 0;
    }
    return cred.pid;
}

/*
 * The socket path is taken.  A socket file nobody listens on is what a
 * server that died leaves behind: remove it.  Anything else is refused.
 * Returns 0 when the path is free now, or a negative errno with @errp set.
 */
static int shmcam_server_stale(const struct sockaddr_un *sa, GError **errp)
{
    const char *path = sa->sun_path;
    struct stat st;
    int probe, ret;

    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s exists and is not a socket "
                    "(remove it, or choose another path)", path);
        return -EEXIST;
    }
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        ret = -errno;
    } else {
        ret = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ?
              -errno : 0;
        close(probe);
    }
    if (ret == -ECONNREFUSED) {
        if (unlink(path) == 0) {
            return 0;
        }
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "cannot remove the stale socket "
                    "%s: %s (remove it, or choose another path)", path,
                    g_strerror(-ret));
        return ret;
    }
    if (!ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s is in use by a running server "
                    "(stop it first, or choose another path)", path);
        return -EADDRINUSE;
    }
    g_set_error(errp, G_FILE_ERROR, 0, "cannot listen on %s: it exists, and "
                "connecting to it fails: %s (remove it, or choose another "
                "path)", path, g_strerror(-ret));
    return ret;
}

/*
 * Bind and listen on @path, the socket file getting --mode: 0 with *@fd
 * listening and *@bound set once the file is ours to remove, or a negative
 * errno with @errp set.
 */
static int shmcam_server_listen(struct shmcam_server *s, const char *path,
                                int *fd, bool *bound, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    mode_t old_mask;
    int ret;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(errp, G_FILE_ERROR, 0, "socket path %s is too long (at "
                    "most %zu bytes; choose a shorter one)", path,
                    sizeof(sa.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          0);
    if (*fd < 0) {
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "cannot create a unix socket: %s",
                    g_strerror(-ret));
        return ret;
    }
    /* Nobody may connect before the socket has the mode asked for. */
    old_mask = umask(0177);
    ret = bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ?
          -errno : 0;
    if (ret == -EADDRINUSE) {
        ret = shmcam_server_stale(&sa, errp);
        if (!ret) {
            ret = bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ?
                  -errno : 0;
        } else {
            umask(old_mask);
            return ret;
        }
    }
    umask(old_mask);
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot listen on %s: %s (choose a "
                    "path in a directory you may write to)", path,
                    g_strerror(-ret));
        return ret;
    }
    *bound = true;
    if (chmod(path, s->h->shm_mode) < 0 ||
        listen(*fd, SHMCAM_SERVER_BACKLOG) < 0) {
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "cannot listen on %s: %s", path,
                    g_strerror(-ret));
        return ret;
    }
    return 0;
}

/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT stop the server, SIGCHLD says the
 * capture process ended: all arrive on a signalfd.
 */
static int shmcam_server_signals(struct shmcam_server *s, GError **errp)
{
    sigset_t set;
    int ret;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGCHLD);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
        ret = -errno;
    } else {
        s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        ret = s->sigfd < 0 ? -errno : 0;
    }
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot set up signals: %s",
                    g_strerror(-ret));
    }
    return ret;
}

/* The slot size of every region we serve, as the capture process has it. */
static uint32_t shmcam_server_slot_size(const struct shmcam_host *h)
{
    return shmcam_producer_slot_size(h->region_bytes, h->o.slots);
}

/*
 * A region a guest may map before any capture process has run: laid out
 * with its own session, STOPPED, so that a guest finds a shmcam region
 * there from the start.
 */
static int shmcam_server_layout(struct shmcam_server *s,
                                struct shmcam_region *r, GError **errp)
{
    struct shmcam_host *h = s->h;
    struct shmcam_producer p;
    int ret = shmcam_producer_init(&p, r->base, r->size, h->o.slots,
                                   shmcam_server_slot_size(h),
                                   shmcam_host_session_id());

    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot lay out region %s: %s",
                    r->path, g_strerror(-ret));
    }
    return ret;
}

static int shmcam_server_region_new(struct shmcam_server *s,
                                    struct shmcam_region *r, const char *name,
                                    GError **errp)
{
    char size_s[32];
    int ret = shmcam_region_create_memfd(r, name, s->h->region_bytes);

    if (ret) {
        shmcam_region_size_str(s->h->region_bytes, size_s, sizeof(size_s));
        g_set_error(errp, G_FILE_ERROR, 0, "cannot create a memfd region of "
                    "%s: %s", size_s, g_strerror(-ret));
        return ret;
    }
    ret = shmcam_server_layout(s, r, errp);
    if (ret) {
        shmcam_region_close(r);
    }
    return ret;
}

/* The capture process is gone: tell guests now, not by a silent heartbeat. */
static void shmcam_server_mark_stopped(struct shmcam_server *s)
{
    struct shmcam_header *hdr;
    uint32_t i;

    for (i = 0; i <= SHMCAM_MAX_CONSUMERS; i++) {
        hdr = i < SHMCAM_MAX_CONSUMERS ? s->c[i].region.base :
              s->h->region.base;
        if (hdr) {
            __atomic_store_n(&hdr->state, SHMCAM_STATE_STOPPED,
                             __ATOMIC_RELEASE);
        }
    }
}

/*
 * Tell the capture process that guest @id came or went.  A child that
 * cannot take a message is stuck: it is killed, and its successor starts
 * from the full list.
 */
static void shmcam_server_tell(struct shmcam_server *s, uint32_t op,
                               uint32_t id)
{
    struct shmcam_server_client *c = &s->c[id];
    struct shmcam_ctrl m = {
        .op = op == SHMCAM_CTRL_ADD && c->pci ? SHMCAM_CTRL_ADD_PCI : op,
        .id = id,
        .fds = { c->efd, c->region.fd, c->doorbell_fd },
    };
    int ret;

    if (!s->child || s->ctrl_fd < 0) {
        return;
    }
    if (op == SHMCAM_CTRL_ADD) {
        m.nfds = c->pci ? 3 : s->h->o.isolate ? 2 : 1;
    }
    ret = shmcam_ctrl_send(s->ctrl_fd, &m);
    if (ret) {
        fprintf(stderr, "shmcam-host: capture process %d takes no messages "
                "(%s): killing it\n", (int)s->child, g_strerror(-ret));
        kill(s->child, SIGKILL);
    }
}

static void shmcam_server_client_free(struct shmcam_server_client *c)
{
    unsigned int i;

    if (c->sock >= 0) {
        close(c->sock);
        c->sock = -1;
    }
    if (c->efd >= 0) {
        close(c->efd);
        c->efd = -1;
    }
    if (c->doorbell_fd >= 0) {
        close(c->doorbell_fd);
        c->doorbell_fd = -1;
    }
    for (i = 0; i < c->hello_nfds; i++) {
        if (c->hello_fds[i] >= 0) {
            close(c->hello_fds[i]);
        }
    }
    c->hello_nfds = 0;
    c->hello_bad = false;
    c->hello_len = 0;
    c->pci = false;
    c->ready = false;
    shmcam_region_close(&c->region);
}

/*
 * Drop client @id.  For an ivshmem guest of the shared region, its
 * consumer area is cleared, so that the next guest with this id starts
 * from a free area.  A shmcam-pci device or an --isolate guest takes its
 * region with it.  No other guest hears of it: guests know only the host
 * peer, never each other (an eventfd of another guest would let one guest
 * flood another with interrupts).
 */
static void shmcam_server_drop(struct shmcam_server *s, uint32_t id,
                               const char *why)
{
    struct shmcam_server_client *c = &s->c[id];
    struct shmcam_consumer *area;
    bool shared = !c->pci && !s->h->o.isolate;

    if (c->sock < 0) {
        return;
    }
    if (c->ready) {
        shmcam_server_tell(s, SHMCAM_CTRL_DEL, id);
    }
    if (shared) {
        area = (struct shmcam_consumer *)((uint8_t *)s->h->region.base +
                                          SHMCAM_CONSUMER_OFFSET) + id;
        __atomic_store_n(&area->flags, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&area->owner, 0, __ATOMIC_RELAXED);
    }
    fprintf(stderr, "shmcam-host: %sclient %u %s\n", c->pci ? "shmcam-pci " : "",
            id, why);
    shmcam_server_client_free(c);
}

/*
 * The setup QEMU reads at device start, in the order of QEMU's own
 * ivshmem-server: protocol version, the client's id, the shared memory,
 * then the peers' eventfds: the host peer's and its own, no other guest's
 * (shmcam_server_drop()).  Nothing is sent to a guest after its setup.
 */
static int shmcam_server_setup(struct shmcam_server *s, uint32_t id)
{
    struct shmcam_server_client *c = &s->c[id];
    int shm_fd = s->h->o.isolate ? c->region.fd : s->h->region.fd;

    return shmcam_server_send(c->sock, SHMCAM_SERVER_PROTOCOL, -1) ?:
           shmcam_server_send(c->sock, id, -1) ?:
           shmcam_server_send(c->sock, -1, shm_fd) ?:
           shmcam_server_send(c->sock, SHMCAM_HOST_PEER_ID, s->host_efd) ?:
           shmcam_server_send(c->sock, id, c->efd);
}

/*
 * The lowest free id for a new connection on @sock, or -1 (and @sock
 * closed) when all are taken.
 */
static int shmcam_server_client_id(struct shmcam_server *s, int sock)
{
    uint32_t id;

    for (id = 0; id < SHMCAM_MAX_CONSUMERS; id++) {
        if (s->c[id].sock < 0) {
            s->c[id].sock = sock;
            return id;
        }
    }
    fprintf(stderr, "shmcam-host: refusing a client (pid %d): all %u "
            "client ids are in use\n", (int)shmcam_server_peer_pid(sock),
            SHMCAM_MAX_CONSUMERS);
    close(sock);
    return -1;
}

/* A new ivshmem guest: its setup goes out at once. */
static void shmcam_server_client_new(struct shmcam_server *s, int sock)
{
    struct shmcam_server_client *c;
    pid_t pid = shmcam_server_peer_pid(sock);
    g_autofree char *name = NULL;
    GError *err = NULL;
    int ret, id = shmcam_server_client_id(s, sock);

    if (id < 0) {
        return;
    }
    c = &s->c[id];
    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->efd < 0) {
        fprintf(stderr, "shmcam-host: refusing client %d (pid %d): no "
                "eventfd: %s\n", id, (int)pid, g_strerror(errno));
        shmcam_server_client_free(c);
        return;
    }
    name = g_strdup_printf("shmcam-%u", id);
    if (s->h->o.isolate &&
        shmcam_server_region_new(s, &c->region, name, &err)) {
        fprintf(stderr, "shmcam-host: refusing client %d (pid %d): %s\n", id,
                (int)pid, err->message);
        g_error_free(err);
        shmcam_server_client_free(c);
        return;
    }
    ret = shmcam_server_setup(s, id);
    if (ret) {
        fprintf(stderr, "shmcam-host: client %d (pid %d): cannot send the "
                "setup: %s\n", id, (int)pid, g_strerror(-ret));
        shmcam_server_client_free(c);
        return;
    }
    fprintf(stderr, "shmcam-host: client %d connected (pid %d)\n", id,
            (int)pid);
    c->ready = true;
    shmcam_server_tell(s, SHMCAM_CTRL_ADD, id);
}

/*
 * A new shmcam-pci device.  It sends its hello at once; until then it only
 * holds an id (shmcam_server_pci_input()).
 */
static void shmcam_server_pci_new(struct shmcam_server *s, int sock)
{
    int id = shmcam_server_client_id(s, sock);

    if (id >= 0) {
        s->c[id].pci = true;
        s->c[id].hello_by_ns = shmcam_server_now() + SHMCAM_HELLO_NS;
    }
}

static void shmcam_server_accept(struct shmcam_server *s, bool pci)
{
    int sock, fd = pci ? s->pci_fd : s->listen_fd;

    for (;;) {
        sock = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (sock < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                fprintf(stderr, "shmcam-host: accept on %s: %s\n",
                        pci ? s->h->o.pci_listen : s->h->o.listen,
                        g_strerror(errno));
            }
            if (errno != EINTR && errno != ECONNABORTED) {
                return;
            }
            continue;
        }
        if (pci) {
            shmcam_server_pci_new(s, sock);
        } else {
            shmcam_server_client_new(s, sock);
        }
    }
}

/* The device's reply: the protocol version and @value, an id or -errno. */
static int shmcam_server_pci_reply(int sock, int64_t value)
{
    int64_t msg[2] = { GINT64_TO_LE(SHMCAM_PCI_PROTOCOL),
                       GINT64_TO_LE(value) };
    ssize_t n = send(sock, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);

    if (n < 0) {
        return -errno;
    }
    return n == sizeof(msg) ? 0 : -EIO;
}

/* Is @fd an eventfd?  A device could pass anything. */
static bool shmcam_server_is_eventfd(int fd)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    char target[64];
    ssize_t n = readlink(link, target, sizeof(target) - 1);

    if (n < 0) {
        return false;
    }
    target[n] = '\0';
    return !strcmp(target, "anon_inode:[eventfd]");
}

/*
 * Check a complete hello and take the device's descriptors: 0, or a
 * negative errno to reply with, @why saying what was wrong.
 */
static int shmcam_server_pci_accept(struct shmcam_server *s, uint32_t id,
                                    char *why, size_t len)
{
    struct shmcam_server_client *c = &s->c[id];
    struct shmcam_host *h = s->h;
    int64_t version = GINT64_FROM_LE(c->hello[0]);
    int64_t size = GINT64_FROM_LE(c->hello[1]);
    uint64_t needed = shmcam_producer_needed(h->o.slots,
                                             shmcam_server_slot_size(h));
    g_autofree char *path = g_strdup_printf("shmcam-pci:%u", id);
    char size_s[32], needed_s[32], needed_arg[32], desc[64];
    GError *err = NULL;
    int ret;

    if (version != SHMCAM_PCI_PROTOCOL) {
        g_snprintf(why, len, "speaks protocol %" PRId64 ", not %d (use a "
                   "QEMU and a shmcam-host of one release)", version,
                   SHMCAM_PCI_PROTOCOL);
        return -EPROTONOSUPPORT;
    }
    if (c->hello_nfds != SHMCAM_PCI_HELLO_FDS || c->hello_bad ||
        !shmcam_server_is_eventfd(c->hello_fds[1]) ||
        !shmcam_server_is_eventfd(c->hello_fds[2])) {
        g_snprintf(why, len, "sent %s%u descriptors, not its memory and two "
                   "eventfds", c->hello_bad ? "more than " : "",
                   c->hello_nfds);
        return -EINVAL;
    }
    if (size <= 0 || !shmcam_is_pow2(size) ||
        (uint64_t)size < SHMCAM_MIN_REGION_SIZE ||
        (uint64_t)size > SHMCAM_MAX_REGION_SIZE) {
        g_snprintf(why, len, "announces a region of %" PRId64 " bytes, not a "
                   "power of two from 64 KiB to 64 GiB", size);
        return -EINVAL;
    }
    shmcam_region_size_str(size, size_s, sizeof(size_s));
    if ((uint64_t)size < needed) {
        shmcam_region_size_str(shmcam_region_round_size(needed), needed_s,
                               sizeof(needed_s));
        shmcam_host_size_arg(shmcam_region_round_size(needed), needed_arg,
                             sizeof(needed_arg));
        shmcam_format_str(&h->fmt, desc, sizeof(desc));
        g_snprintf(why, len, "its region is %s; %s with %d slots needs %s "
                   "(give its memory backend size=%s)", size_s, desc,
                   h->o.slots, needed_s, needed_arg);
        return -ENOSPC;
    }
    ret = shmcam_region_check_peer(c->hello_fds[0]);
    if (ret == -EPERM) {
        g_snprintf(why, len, "its memory is a memfd that may shrink (seal it "
                   "against shrinking and growing: memory-backend-memfd does "
                   "unless seal=off)");
        return ret;
    }
    if (ret) {
        g_snprintf(why, len, "its memory is not shared memory (use "
                   "memory-backend-memfd, memory-backend-shm, or "
                   "memory-backend-file on tmpfs or hugetlbfs)");
        return ret;
    }
    ret = shmcam_region_open_fd(&c->region, c->hello_fds[0], path, true);
    c->hello_fds[0] = -1;
    if (!ret) {
        shmcam_region_guard(&c->region);
    }
    if (!ret && c->region.size != (uint64_t)size) {
        g_snprintf(why, len, "announces %s, but its memory is %" PRIu64
                   " bytes", size_s, c->region.size);
        return -EINVAL;
    }
    if (ret) {
        g_snprintf(why, len, "cannot map its memory: %s", g_strerror(-ret));
        return ret;
    }
    ret = shmcam_server_layout(s, &c->region, &err);
    if (ret) {
        g_snprintf(why, len, "%s", err->message);
        g_error_free(err);
        return ret;
    }
    c->efd = c->hello_fds[1];
    c->doorbell_fd = c->hello_fds[2];
    c->hello_nfds = 0;
    g_snprintf(why, len, "a region of %s", size_s);
    return 0;
}

/* The hello has come in whole: set the device up, or refuse it. */
static void shmcam_server_pci_hello(struct shmcam_server *s, uint32_t id)
{
    struct shmcam_server_client *c = &s->c[id];
    pid_t pid = shmcam_server_peer_pid(c->sock);
    char why[256];
    int ret = shmcam_server_pci_accept(s, id, why, sizeof(why));

    if (ret) {
        fprintf(stderr, "shmcam-host: refusing shmcam-pci client %u (pid "
                "%d): %s\n", id, (int)pid, why);
        shmcam_server_pci_reply(c->sock, ret);
        shmcam_server_client_free(c);
        return;
    }
    ret = shmcam_server_pci_reply(c->sock, id);
    if (ret) {
        fprintf(stderr, "shmcam-host: shmcam-pci client %u (pid %d): cannot "
                "reply: %s\n", id, (int)pid, g_strerror(-ret));
        shmcam_server_client_free(c);
        return;
    }
    fprintf(stderr, "shmcam-host: shmcam-pci client %u connected (pid %d), "
            "%s\n", id, (int)pid, why);
    c->ready = true;
    shmcam_server_tell(s, SHMCAM_CTRL_ADD, id);
}

/*
 * A shmcam-pci device spoke: its hello, with the descriptors on its first
 * byte.  After that it says nothing; data is ignored, EOF is a goodbye.
 */
static void shmcam_server_pci_input(struct shmcam_server *s, uint32_t id)
{
    struct shmcam_server_client *c = &s->c[id];
    char buf[256];
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(SHMCAM_PCI_HELLO_FDS * sizeof(int))];
    } cm;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    struct cmsghdr *cmsg;
    unsigned int i, nfds;
    ssize_t n;
    int fd;

    if (!c->ready) {
        iov = (struct iovec) { .iov_base = (char *)c->hello + c->hello_len,
                               .iov_len = sizeof(c->hello) - c->hello_len };
        msg.msg_control = cm.buf;
        msg.msg_controllen = sizeof(cm.buf);
    }
    n = recvmsg(c->sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    for (cmsg = n > 0 && msg.msg_controllen ? CMSG_FIRSTHDR(&msg) : NULL;
         cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < nfds; i++) {
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (!c->ready && c->hello_nfds < SHMCAM_PCI_HELLO_FDS) {
                c->hello_fds[c->hello_nfds++] = fd;
            } else {
                close(fd);
                c->hello_bad = true;
            }
        }
    }
    if (n <= 0) {
        shmcam_server_drop(s, id, "disconnected");
        return;
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        c->hello_bad = true;    /* the kernel closed the ones that did not fit */
    }
    if (c->ready) {
        return;
    }
    c->hello_len += n;
    if (c->hello_len == sizeof(c->hello)) {
        shmcam_server_pci_hello(s, id);
    }
}

/* Clients say nothing in protocol 0: data is ignored, EOF is a goodbye. */
static void shmcam_server_client_input(struct shmcam_server *s, uint32_t id)
{
    char buf[256];
    ssize_t n;

    if (s->c[id].sock < 0) {
        return;
    }
    if (s->c[id].pci) {
        shmcam_server_pci_input(s, id);
        return;
    }
    n = recv(s->c[id].sock, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {
        return;
    }
    shmcam_server_drop(s, id, "disconnected");
}

/* In the child: keep what capture needs, let go of what the server holds. */
static void __attribute__((noreturn))
shmcam_server_child(struct shmcam_server *s, int ctrl)
{
    struct shmcam_host *h = s->h;
    uint32_t i;
    int status;

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != s->self) {
        _exit(SHMCAM_EXIT_OK);      /* the server died while we forked */
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->pci_fd >= 0) {
        close(s->pci_fd);
    }
    close(s->sigfd);
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        shmcam_server_client_free(&s->c[i]);
    }
    h->ctrl_fd = ctrl;
    h->doorbell_fd = s->host_efd;
    status = shmcam_host_capture(h);
    shmcam_host_free(h);
    _exit(status);
}

static void shmcam_server_start_child(struct shmcam_server *s)
{
    int sv[2];
    uint32_t id;
    pid_t pid;

    s->restart_ns = 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        fprintf(stderr, "shmcam-host: cannot start the capture process: %s\n",
                g_strerror(errno));
        s->restart_ns = shmcam_server_now() + SHMCAM_RESTART_MAX_NS;
        return;
    }
    s->watch->beat_ns = 0;
    s->watch->busy = SHMCAM_WATCH_IDLE;
    s->watch->blame = 0;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        shmcam_server_child(s, sv[1]);
    }
    close(sv[1]);
    if (pid < 0) {
        fprintf(stderr, "shmcam-host: cannot start the capture process: %s\n",
                g_strerror(errno));
        close(sv[0]);
        s->restart_ns = shmcam_server_now() + SHMCAM_RESTART_MAX_NS;
        return;
    }
    s->ctrl_fd = sv[0];
    s->child = pid;
    s->child_start_ns = shmcam_server_now();
    fprintf(stderr, "shmcam-host: capture process %d started\n", (int)pid);
    for (id = 0; id < SHMCAM_MAX_CONSUMERS; id++) {
        if (s->c[id].ready) {
            shmcam_server_tell(s, SHMCAM_CTRL_ADD, id);
        }
    }
}

/*
 * The capture process ended.  A clean exit (the end of a --file, or a
 * SIGTERM sent to it alone) is final; anything else is a failure, and a
 * new one starts after a delay that doubles while they keep failing fast.
 */
static void shmcam_server_child_gone(struct shmcam_server *s, int status)
{
    uint64_t now = shmcam_server_now(), ran = now - s->child_start_ns;
    pid_t pid = s->child;
    char how[64];

    s->child = 0;
    close(s->ctrl_fd);
    s->ctrl_fd = -1;
    shmcam_server_mark_stopped(s);
    if (s->stop) {
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        fprintf(stderr, "shmcam-host: capture process %d finished; guests "
                "stay connected until shmcam-host stops\n", (int)pid);
        return;
    }
    if (WIFSIGNALED(status)) {
        g_snprintf(how, sizeof(how), "was killed by signal %d (%s)",
                   WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        g_snprintf(how, sizeof(how), "exited with status %d",
                   WEXITSTATUS(status));
    }
    if (s->stuck) {
        /* The peer that stalled it is gone: no reason to wait. */
        s->stuck = false;
        fprintf(stderr, "shmcam-host: capture process %d %s; restarting "
                "now\n", (int)pid, how);
        s->restart_ns = now;
        return;
    }
    if (ran >= SHMCAM_CHILD_STABLE_NS) {
        s->backoff_ns = SHMCAM_RESTART_MIN_NS;
    } else {
        s->backoff_ns = CLAMP(s->backoff_ns * 2, SHMCAM_RESTART_MIN_NS,
                              SHMCAM_RESTART_MAX_NS);
    }
    fprintf(stderr, "shmcam-host: capture process %d %s; restarting in "
            "%.1f s\n", (int)pid, how, s->backoff_ns / 1e9);
    s->restart_ns = now + s->backoff_ns;
}

/*
 * Every turn of the loop: shmcam-pci devices past their hello's deadline
 * are disconnected, and so is a client whose memory was cut short under
 * our mapping.  Then what the capture process said in the page we share
 * (struct shmcam_watch): the clients it found tampering with their
 * eventfds or memory are disconnected; a loop that stood still for SHMCAM_WATCHDOG_NS outside a
 * source start means a blocked write or read, or worse: the child is
 * killed (a successor starts at once), and the client whose eventfd it was
 * using, if any, disconnected.
 */
static void shmcam_server_watchdog(struct shmcam_server *s)
{
    uint32_t blame = __atomic_exchange_n(&s->watch->blame, 0,
                                         __ATOMIC_RELAXED);
    uint64_t beat, now;
    int32_t busy;
    uint32_t i;

    while (blame) {
        shmcam_server_drop(s, __builtin_ctz(blame),
                           "tampered with its eventfd or memory: "
                           "disconnected");
        blame &= blame - 1;
    }
    now = shmcam_server_now();
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        if (s->c[i].region.lost) {
            shmcam_server_drop(s, i, "cut its memory short under its "
                               "region: disconnected");
        } else if (s->c[i].sock >= 0 && s->c[i].pci && !s->c[i].ready &&
                   now >= s->c[i].hello_by_ns) {
            shmcam_server_drop(s, i, "sent no hello within 5 s: "
                               "disconnected");
        }
    }
    if (!s->child || s->stuck) {
        return;
    }
    beat = __atomic_load_n(&s->watch->beat_ns, __ATOMIC_RELAXED);
    busy = __atomic_load_n(&s->watch->busy, __ATOMIC_RELAXED);
    if (!beat || busy == SHMCAM_WATCH_SOURCE || now < beat ||
        now - beat < SHMCAM_WATCHDOG_NS) {
        return;
    }
    if (busy >= 0 && (uint32_t)busy < SHMCAM_MAX_CONSUMERS) {
        fprintf(stderr, "shmcam-host: capture process %d is stuck on client "
                "%d's eventfd: killing it\n", (int)s->child, busy);
        shmcam_server_drop(s, busy, "stalled the capture process: "
                           "disconnected");
    } else {
        fprintf(stderr, "shmcam-host: capture process %d has not moved for "
                "%llu ms: killing it\n", (int)s->child,
                (unsigned long long)((now - beat) / NSEC_PER_MSEC));
    }
    s->stuck = true;
    kill(s->child, SIGKILL);
}

static void shmcam_server_reap(struct shmcam_server *s)
{
    pid_t pid;
    int status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == s->child) {
            shmcam_server_child_gone(s, status);
        }
    }
}

static void shmcam_server_signal(struct shmcam_server *s)
{
    struct signalfd_siginfo si;

    while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            shmcam_server_reap(s);
        } else {
            s->stop = true;
        }
    }
}

enum {
    SHMCAM_SERVER_PFD_SIGNAL,
    SHMCAM_SERVER_PFD_LISTEN,   /* --listen; a negative fd is not polled */
    SHMCAM_SERVER_PFD_PCI,      /* --pci-listen */
    SHMCAM_SERVER_PFD_CLIENTS,  /* then each client's socket */
};

/* Until SIGINT or SIGTERM: connections, departures, the capture process. */
static int shmcam_server_loop(struct shmcam_server *s)
{
    struct pollfd pfd[SHMCAM_SERVER_PFD_CLIENTS + SHMCAM_MAX_CONSUMERS];
    const uint32_t first = SHMCAM_SERVER_PFD_CLIENTS;
    uint32_t ids[SHMCAM_MAX_CONSUMERS], id, k, n;
    uint64_t now;
    int timeout;

    while (!s->stop) {
        n = 0;
        pfd[n++] = (struct pollfd) { .fd = s->sigfd, .events = POLLIN };
        pfd[n++] = (struct pollfd) { .fd = s->listen_fd, .events = POLLIN };
        pfd[n++] = (struct pollfd) { .fd = s->pci_fd, .events = POLLIN };
        for (id = 0; id < SHMCAM_MAX_CONSUMERS; id++) {
            if (s->c[id].sock >= 0) {
                ids[n - first] = id;
                pfd[n++] = (struct pollfd) { .fd = s->c[id].sock,
                                             .events = POLLIN };
            }
        }
        timeout = SHMCAM_WATCHDOG_POLL_MS;
        if (s->restart_ns) {
            now = shmcam_server_now();
            timeout = now >= s->restart_ns ? 0 :
                      MIN((s->restart_ns - now + NSEC_PER_MSEC - 1) /
                          NSEC_PER_MSEC, (uint64_t)timeout);
        }
        if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
            return -errno;
        }
        if (pfd[SHMCAM_SERVER_PFD_SIGNAL].revents) {
            shmcam_server_signal(s);
        }
        for (k = first; k < n; k++) {
            if (pfd[k].revents) {
                shmcam_server_client_input(s, ids[k - first]);
            }
        }
        if (pfd[SHMCAM_SERVER_PFD_LISTEN].revents && !s->stop) {
            shmcam_server_accept(s, false);
        }
        if (pfd[SHMCAM_SERVER_PFD_PCI].revents && !s->stop) {
            shmcam_server_accept(s, true);
        }
        shmcam_server_watchdog(s);
        if (s->restart_ns && !s->stop &&
            shmcam_server_now() >= s->restart_ns) {
            shmcam_server_start_child(s);
        }
    }
    return 0;
}

/* Stop the capture process (it marks the regions stopped), let go of all. */
static void shmcam_server_shutdown(struct shmcam_server *s)
{
    uint64_t deadline = shmcam_server_now() + SHMCAM_CHILD_STOP_NS;
    uint32_t i;
    int status;

    s->stop = true;
    if (s->child) {
        kill(s->child, SIGTERM);
        while (waitpid(s->child, &status, WNOHANG) == 0) {
            if (shmcam_server_now() >= deadline) {
                fprintf(stderr, "shmcam-host: capture process %d ignores "
                        "SIGTERM: killing it\n", (int)s->child);
                kill(s->child, SIGKILL);
                waitpid(s->child, &status, 0);
                break;
            }
            poll(NULL, 0, 20);
        }
        s->child = 0;
    }
    shmcam_server_mark_stopped(s);
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        shmcam_server_client_free(&s->c[i]);
    }
    if (s->listening) {
        unlink(s->h->o.listen);
    }
    if (s->pci_listening) {
        unlink(s->h->o.pci_listen);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->pci_fd >= 0) {
        close(s->pci_fd);
    }
    if (s->ctrl_fd >= 0) {
        close(s->ctrl_fd);
    }
    if (s->host_efd >= 0) {
        close(s->host_efd);
    }
    if (s->sigfd >= 0) {
        close(s->sigfd);
    }
}

/*
 * shmcam_server_main - serve guests until SIGINT or SIGTERM
 *
 * Returns the exit status: 0 after a signal, 1 when a socket or the
 * region cannot be set up (with a message on stderr).
 */
int shmcam_server_main(struct shmcam_host *h)
{
    struct shmcam_server s = {
        .h = h,
        .self = getpid(),
        .listen_fd = -1,
        .pci_fd = -1,
        .sigfd = -1,
        .host_efd = -1,
        .ctrl_fd = -1,
    };
    GError *err = NULL;
    char size_s[32];
    uint32_t i;
    int ret;

    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        s.c[i] = (struct shmcam_server_client) {
            .sock = -1, .efd = -1, .doorbell_fd = -1,
            .region = SHMCAM_REGION_INIT,
        };
    }
    s.watch = mmap(NULL, sizeof(*s.watch), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s.watch == MAP_FAILED) {
        fprintf(stderr, "shmcam-host: cannot map a page: %s\n",
                g_strerror(errno));
        return SHMCAM_EXIT_ERROR;
    }
    h->watch = s.watch;
    ret = shmcam_server_signals(&s, &err);
    if (!ret && h->o.listen) {
        ret = shmcam_server_listen(&s, h->o.listen, &s.listen_fd,
                                   &s.listening, &err);
    }
    if (!ret && h->o.pci_listen) {
        ret = shmcam_server_listen(&s, h->o.pci_listen, &s.pci_fd,
                                   &s.pci_listening, &err);
    }
    if (!ret) {
        s.host_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s.host_efd < 0) {
            ret = -errno;
            g_set_error(&err, G_FILE_ERROR, 0, "cannot create an eventfd: %s",
                        g_strerror(-ret));
        }
    }
    if (!ret && shmcam_host_shares_region(h)) {
        ret = shmcam_server_region_new(&s, &h->region, "shmcam", &err);
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: %s\n", err->message);
        g_error_free(err);
        shmcam_server_shutdown(&s);
        return SHMCAM_EXIT_ERROR;
    }
    shmcam_region_size_str(h->region_bytes, size_s, sizeof(size_s));
    if (h->o.listen) {
        fprintf(stderr, "shmcam-host: ivshmem server on %s for up to %u "
                "guests, %s %s\n", h->o.listen, SHMCAM_MAX_CONSUMERS,
                h->o.isolate ? "a region of its own for each:" :
                "one region:", size_s);
    }
    if (h->o.pci_listen) {
        fprintf(stderr, "shmcam-host: shmcam-pci server on %s for up to %u "
                "guests, each bringing a region of %s or more\n",
                h->o.pci_listen, SHMCAM_MAX_CONSUMERS, size_s);
    }
    shmcam_server_start_child(&s);
    ret = shmcam_server_loop(&s);
    if (ret) {
        fprintf(stderr, "shmcam-host: poll: %s\n", g_strerror(-ret));
    }
    shmcam_server_shutdown(&s);
    return ret ? SHMCAM_EXIT_ERROR : SHMCAM_EXIT_OK;
}
