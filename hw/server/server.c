/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host --listen: an ivshmem server (protocol 0, the one QEMU's
 * ivshmem-doorbell speaks: ivshmem.c) whose shared memory is the shmcam
 * region.  docs/ivshmem-server.rst describes the design.
 *
 * shmcam-host --pci-listen: the server of QEMU's shmcam-pci devices
 * (pci.c, docs/specs/shmcam-pci.rst).  There the memory comes the other
 * way: each device sends its memory backend, its frame eventfd and its
 * doorbell eventfd, and gets back the consumer index it is to use.
 *
 * This process holds everything a connected QEMU depends on: the
 * listening sockets, each client's connection and eventfds, the host
 * peer's eventfd and the region memfds.  It never captures, and it never
 * maps guest memory: capture runs in a child process (host/capture.c)
 * that supervisor.c restarts when it dies, so that no crash of the
 * capture code, and no trick a guest plays with its memory, costs another
 * guest its connection (QEMU cannot reconnect to an ivshmem server).
 *
 * The child learns about guests over the control socket (host/ctrl.h),
 * each by a key that is never given twice; every new child is told about
 * each guest connected then.  The child rings the guests' eventfds
 * itself, so a frame reaches a guest without passing through here.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "ctrl.h"
#include "ivshmem.h"
#include "pci.h"
#include "supervisor.h"
#include "shmcam-host.h"

#define NSEC_PER_SEC            1000000000ull

#define SHMCAM_SERVER_BACKLOG   16
#define SHMCAM_SERVER_POLL_MS   100
/* A shmcam-pci device sends its hello at once: it is dropped after this. */
#define SHMCAM_HELLO_NS         (5 * NSEC_PER_SEC)
/*
 * shmcam-pci devices served at once.  Each brings a region of its own
 * (and holds four descriptors here, three in the capture process).
 */
#define SHMCAM_SERVER_MAX_PCI   256

struct shmcam_server_client {
    uint32_t key;               /* never given twice (ctrl.h) */
    uint32_t id;                /* ivshmem: its peer id and consumer area */
    bool pci;                   /* a shmcam-pci device */
    bool ready;                 /* set up: the capture process knows it */
    char name[32];              /* "client 3", "shmcam-pci client 0" */
    int sock;
    int efd;                    /* vector 0: written to interrupt the guest */
    int memfd;                  /* --isolate, shmcam-pci: its own region */
    int doorbell_fd;            /* shmcam-pci: the guest writes it */
    struct shmcam_pci_peer peer;        /* shmcam-pci: the protocol */
    uint64_t hello_by_ns;       /* shmcam-pci: its hello is due by then */
};

struct shmcam_server {
    struct shmcam_host *h;
    int listen_fd;              /* --listen, or -1 */
    int pci_fd;                 /* --pci-listen, or -1 */
    bool listening;             /* --listen's socket file is ours to remove */
    bool pci_listening;         /* and --pci-listen's */
    int sigfd;
    int host_efd;               /* peer SHMCAM_HOST_PEER_ID's vector 0 */
    struct shmcam_supervisor sup;
    bool stop;
    uint32_t next_key;
    GPtrArray *clients;         /* struct shmcam_server_client */
};

static struct shmcam_server_client *shmcam_server_client(struct shmcam_server *s,
                                                         unsigned int i)
{
    return g_ptr_array_index(s->clients, i);
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
 * server that died leaves behind: remove it.  Anything else (a symbolic
 * link included) is refused.  Returns 0 when the path is free now, or a
 * negative errno with @errp set.
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
 * Bind and listen on @path: 0 with *@fd listening and *@bound set once
 * the file is ours to remove, or a negative errno with @errp set.  The
 * socket file is made with --mode by the umask at bind: nothing changes
 * its mode by path afterwards, so no one can connect before it has it,
 * and no link planted at @path is followed.
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
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (*fd < 0) {
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "cannot create a unix socket: %s",
                    g_strerror(-ret));
        return ret;
    }
    old_mask = umask(~s->h->shm_mode & 0777);
    ret = bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
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
    if (listen(*fd, SHMCAM_SERVER_BACKLOG) < 0) {
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

/* The bytes a region needs for the format on the command line. */
static uint64_t shmcam_server_needed(const struct shmcam_host *h)
{
    return shmcam_producer_needed(h->o.slots,
                                  shmcam_producer_slot_size(h->region_bytes,
                                                            h->o.slots));
}

static int shmcam_server_memfd(struct shmcam_server *s, const char *name,
                               GError **errp)
{
    char size_s[32];
    int fd = shmcam_region_memfd(name, s->h->region_bytes);

    if (fd < 0) {
        shmcam_region_size_str(s->h->region_bytes, size_s, sizeof(size_s));
        g_set_error(errp, G_FILE_ERROR, 0, "cannot create a memfd region of "
                    "%s: %s", size_s, g_strerror(-fd));
    }
    return fd;
}

/* Tell the capture process about client @c, which is ready. */
static void shmcam_server_tell_add(struct shmcam_server *s,
                                   struct shmcam_server_client *c)
{
    struct shmcam_ctrl_msg m = {
        .op = c->pci ? SHMCAM_CTRL_ADD_PCI : SHMCAM_CTRL_ADD,
        .key = c->key,
        .id = c->id,
        .fds = { c->efd, c->memfd, c->doorbell_fd },
        .nfds = c->pci ? 3 : c->memfd >= 0 ? 2 : 1,
    };

    shmcam_supervisor_tell(&s->sup, &m);
}

static void shmcam_server_client_free(gpointer data)
{
    struct shmcam_server_client *c = data;

    shmcam_pci_peer_free(&c->peer);     /* the socket, and hello fds */
    if (c->efd >= 0) {
        close(c->efd);
    }
    if (c->memfd >= 0) {
        close(c->memfd);
    }
    if (c->doorbell_fd >= 0) {
        close(c->doorbell_fd);
    }
    g_free(c);
}

/*
 * Drop client @i: the capture process lets go of it (and, in the shared
 * region, frees its consumer area for the next guest with its id).  No
 * other guest hears of it: guests know only the host peer.
 */
static void shmcam_server_drop(struct shmcam_server *s, unsigned int i,
                               const char *why)
{
    struct shmcam_server_client *c = shmcam_server_client(s, i);
    struct shmcam_ctrl_msg m = { .op = SHMCAM_CTRL_DEL, .key = c->key,
                             .id = c->id };

    if (c->ready) {
        shmcam_supervisor_tell(&s->sup, &m);
    }
    fprintf(stderr, "shmcam-host: %s %s\n", c->name, why);
    g_ptr_array_remove_index(s->clients, i);
}

static int shmcam_server_find(struct shmcam_server *s, uint32_t key)
{
    unsigned int i;

    for (i = 0; i < s->clients->len; i++) {
        if (shmcam_server_client(s, i)->key == key) {
            return i;
        }
    }
    return -1;
}

/*
 * The lowest id of its kind free for a new connection on @sock.  An
 * ivshmem guest's id is its consumer area (its IVPosition), so there are
 * SHMCAM_MAX_CONSUMERS of them; shmcam-pci devices number apart, each in a
 * region of its own.  Returns the client, or NULL (and @sock closed) when
 * all are taken.
 */
static struct shmcam_server_client *shmcam_server_client_new(struct shmcam_server *s,
                                                             int sock, bool pci)
{
    uint32_t max = pci ? SHMCAM_SERVER_MAX_PCI : SHMCAM_MAX_CONSUMERS;
    g_autofree bool *used = g_new0(bool, max);
    struct shmcam_server_client *c;
    uint32_t id;
    unsigned int i;

    for (i = 0; i < s->clients->len; i++) {
        c = shmcam_server_client(s, i);
        if (c->pci == pci) {
            used[c->id] = true;
        }
    }
    for (id = 0; id < max && used[id]; id++) {
    }
    if (id == max) {
        fprintf(stderr, "shmcam-host: refusing a %sclient (pid %d): all %u "
                "%sclient ids are in use\n", pci ? "shmcam-pci " : "",
                (int)shmcam_server_peer_pid(sock), max,
                pci ? "shmcam-pci " : "");
        close(sock);
        return NULL;
    }
    c = g_new0(struct shmcam_server_client, 1);
    c->key = s->next_key++;
    c->id = id;
    c->pci = pci;
    g_snprintf(c->name, sizeof(c->name), "%sclient %u", pci ? "shmcam-pci " :
               "", id);
    c->sock = sock;
    c->efd = c->memfd = c->doorbell_fd = -1;
    shmcam_pci_peer_init(&c->peer, sock);
    g_ptr_array_add(s->clients, c);
    return c;
}

/* A new ivshmem guest: its setup goes out at once. */
static void shmcam_server_ivshmem_new(struct shmcam_server *s, int sock)
{
    struct shmcam_server_client *c = shmcam_server_client_new(s, sock, false);
    pid_t pid = shmcam_server_peer_pid(sock);
    g_autofree char *name = NULL;
    GError *err = NULL;
    int ret;

    if (!c) {
        return;
    }
    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->efd < 0) {
        fprintf(stderr, "shmcam-host: refusing %s (pid %d): no eventfd: %s\n",
                c->name, (int)pid, g_strerror(errno));
        g_ptr_array_remove(s->clients, c);
        return;
    }
    if (s->h->o.isolate) {
        name = g_strdup_printf("shmcam-%u", c->id);
        c->memfd = shmcam_server_memfd(s, name, &err);
        if (c->memfd < 0) {
            fprintf(stderr, "shmcam-host: refusing %s (pid %d): %s\n",
                    c->name, (int)pid, err->message);
            g_error_free(err);
            g_ptr_array_remove(s->clients, c);
            return;
        }
    }
    ret = shmcam_ivshmem_setup(sock, c->id, s->h->o.isolate ? c->memfd :
                               s->h->shared_fd, SHMCAM_HOST_PEER_ID,
                               s->host_efd, c->efd);
    if (ret) {
        fprintf(stderr, "shmcam-host: %s (pid %d): cannot send the setup: "
                "%s\n", c->name, (int)pid, g_strerror(-ret));
        g_ptr_array_remove(s->clients, c);
        return;
    }
    fprintf(stderr, "shmcam-host: %s connected (pid %d)\n", c->name, (int)pid);
    c->ready = true;
    shmcam_server_tell_add(s, c);
}

/* A new shmcam-pci device: it sends its hello at once (pci.c). */
static void shmcam_server_pci_new(struct shmcam_server *s, int sock)
{
    struct shmcam_server_client *c = shmcam_server_client_new(s, sock, true);

    if (c) {
        c->hello_by_ns = shmcam_supervisor_now() + SHMCAM_HELLO_NS;
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
            shmcam_server_ivshmem_new(s, sock);
        }
    }
}

/*
 * A device's hello came in whole: check it (nothing of its memory is
 * mapped here), then reply with its consumer index, 0 (the first area of
 * its own region, which the capture process lays out), or refuse it.
 */
static void shmcam_server_pci_hello(struct shmcam_server *s, unsigned int i)
{
    struct shmcam_server_client *c = shmcam_server_client(s, i);
    struct shmcam_host *h = s->h;
    pid_t pid = shmcam_server_peer_pid(c->sock);
    uint64_t needed = shmcam_server_needed(h);
    char why[256], hint[160], needed_s[32], needed_arg[32], desc[64];
    int ret;

    shmcam_region_size_str(shmcam_region_round_size(needed), needed_s,
                           sizeof(needed_s));
    shmcam_host_size_arg(shmcam_region_round_size(needed), needed_arg,
                         sizeof(needed_arg));
    shmcam_format_str(&h->fmt, desc, sizeof(desc));
    g_snprintf(hint, sizeof(hint), "%s with %d slots needs %s (give its "
               "memory backend size=%s)", desc, h->o.slots, needed_s,
               needed_arg);
    ret = shmcam_pci_check(&c->peer, needed, hint, why, sizeof(why));
    if (ret) {
        fprintf(stderr, "shmcam-host: refusing %s (pid %d): %s\n", c->name,
                (int)pid, why);
        shmcam_pci_reply(&c->peer, ret);
        g_ptr_array_remove_index(s->clients, i);
        return;
    }
    ret = shmcam_pci_reply(&c->peer, 0);
    if (ret) {
        fprintf(stderr, "shmcam-host: %s (pid %d): cannot reply: %s\n",
                c->name, (int)pid, g_strerror(-ret));
        g_ptr_array_remove_index(s->clients, i);
        return;
    }
    /* The descriptors are the client's now, no longer the hello's. */
    c->memfd = c->peer.fds[0];
    c->efd = c->peer.fds[1];
    c->doorbell_fd = c->peer.fds[2];
    c->peer.nfds = 0;
    fprintf(stderr, "shmcam-host: %s connected (pid %d), %s\n", c->name,
            (int)pid, why);
    c->ready = true;
    shmcam_server_tell_add(s, c);
}

/* Client @i spoke; returns whether it is still there afterwards. */
static bool shmcam_server_client_input(struct shmcam_server *s, unsigned int i)
{
    struct shmcam_server_client *c = shmcam_server_client(s, i);
    uint32_t key = c->key;

    if (!c->pci) {
        if (shmcam_ivshmem_input(c->sock)) {
            shmcam_server_drop(s, i, "disconnected");
            return false;
        }
        return true;
    }
    switch (shmcam_pci_input(&c->peer)) {
    case SHMCAM_PCI_CHECK:
        shmcam_server_pci_hello(s, i);
        return shmcam_server_find(s, key) >= 0;
    case SHMCAM_PCI_GONE:
        shmcam_server_drop(s, i, "disconnected");
        return false;
    default:
        return true;
    }
}

/*
 * What the capture process says: the clients it found tampering with
 * their eventfds or memory, to disconnect.
 */
static void shmcam_server_child_input(struct shmcam_server *s)
{
    struct shmcam_ctrl_msg m;
    unsigned int k;
    int i, ret;

    while ((ret = shmcam_ctrl_recv(s->sup.ctrl_fd, &m)) == 0 ||
           ret == -EBADMSG) {
        for (k = 0; !ret && k < m.nfds; k++) {
            close(m.fds[k]);
        }
        if (!ret && m.op == SHMCAM_CTRL_BLAME &&
            (i = shmcam_server_find(s, m.key)) >= 0) {
            shmcam_server_drop(s, i, "tampered with its eventfd or memory: "
                               "disconnected");
        }
    }
}

/* The capture process: in the child, keep what capture needs. */
static void __attribute__((noreturn))
shmcam_server_child(struct shmcam_server *s, int ctrl)
{
    struct shmcam_host *h = s->h;
    int status;

    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->pci_fd >= 0) {
        close(s->pci_fd);
    }
    close(s->sigfd);
    g_ptr_array_unref(s->clients);
    h->ctrl_fd = ctrl;
    h->doorbell_fd = s->host_efd;
    status = shmcam_host_capture(h);
    shmcam_host_free(h);
    _exit(status);
}

static void shmcam_server_start_child(struct shmcam_server *s)
{
    unsigned int i;
    bool child;
    int ctrl;

    if (!shmcam_supervisor_spawn(&s->sup, s->h, &ctrl, &child)) {
        if (child) {
            shmcam_server_child(s, ctrl);
        }
        return;
    }
    for (i = 0; i < s->clients->len; i++) {
        if (shmcam_server_client(s, i)->ready) {
            shmcam_server_tell_add(s, shmcam_server_client(s, i));
        }
    }
}

/*
 * Every turn of the loop: shmcam-pci devices past their hello's deadline
 * are disconnected; then the watchdog (supervisor.c), and the client whose
 * eventfd a stuck capture process was using is disconnected.
 */
static void shmcam_server_watchdog(struct shmcam_server *s)
{
    uint64_t now = shmcam_supervisor_now();
    unsigned int i = s->clients->len;
    uint32_t busy;
    int k;

    while (i--) {
        struct shmcam_server_client *c = shmcam_server_client(s, i);

        if (c->pci && !c->ready && now >= c->hello_by_ns) {
            shmcam_server_drop(s, i, "sent no hello within 5 s: "
                               "disconnected");
        }
    }
    busy = shmcam_supervisor_watchdog(&s->sup, now);
    if (busy != SHMCAM_WATCH_IDLE && (k = shmcam_server_find(s, busy)) >= 0) {
        shmcam_server_drop(s, k, "stalled the capture process: "
                           "disconnected");
    }
}

static void shmcam_server_signal(struct shmcam_server *s)
{
    struct signalfd_siginfo si;
    pid_t pid;
    int status;

    while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo != SIGCHLD) {
            s->stop = true;
            continue;
        }
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            shmcam_supervisor_reaped(&s->sup, pid, status, s->stop);
        }
    }
}

enum {
    SHMCAM_SERVER_PFD_SIGNAL,
    SHMCAM_SERVER_PFD_LISTEN,   /* --listen; a negative fd is not polled */
    SHMCAM_SERVER_PFD_PCI,      /* --pci-listen */
    SHMCAM_SERVER_PFD_CHILD,    /* the capture process's messages */
    SHMCAM_SERVER_PFD_CLIENTS,  /* then each client's socket */
};

/* Until SIGINT or SIGTERM: connections, departures, the capture process. */
static int shmcam_server_loop(struct shmcam_server *s)
{
    g_autofree struct pollfd *pfd = NULL;
    g_autofree uint32_t *keys = NULL;
    const unsigned int first = SHMCAM_SERVER_PFD_CLIENTS;
    unsigned int cap = 0, n, i, k;
    int idx;

    while (!s->stop) {
        if (cap < first + s->clients->len) {
            cap = first + s->clients->len;
            pfd = g_renew(struct pollfd, pfd, cap);
            keys = g_renew(uint32_t, keys, cap);
        }
        n = 0;
        pfd[n++] = (struct pollfd) { .fd = s->sigfd, .events = POLLIN };
        pfd[n++] = (struct pollfd) { .fd = s->listen_fd, .events = POLLIN };
        pfd[n++] = (struct pollfd) { .fd = s->pci_fd, .events = POLLIN };
        pfd[n++] = (struct pollfd) { .fd = s->sup.ctrl_fd, .events = POLLIN };
        for (i = 0; i < s->clients->len; i++) {
            keys[n] = shmcam_server_client(s, i)->key;
            pfd[n++] = (struct pollfd) {
                .fd = shmcam_server_client(s, i)->sock, .events = POLLIN,
            };
        }
        if (poll(pfd, n, shmcam_supervisor_timeout(&s->sup,
                                                   shmcam_supervisor_now(),
                                                   SHMCAM_SERVER_POLL_MS)) < 0 &&
            errno != EINTR) {
            return -errno;
        }
        if (pfd[SHMCAM_SERVER_PFD_SIGNAL].revents) {
            shmcam_server_signal(s);
        }
        if (pfd[SHMCAM_SERVER_PFD_CHILD].revents && s->sup.ctrl_fd >= 0) {
            shmcam_server_child_input(s);
        }
        for (k = first; k < n; k++) {
            /* By key: an earlier one may have gone meanwhile. */
            if (pfd[k].revents && (idx = shmcam_server_find(s, keys[k])) >= 0) {
                shmcam_server_client_input(s, idx);
            }
        }
        if (pfd[SHMCAM_SERVER_PFD_LISTEN].revents && !s->stop) {
            shmcam_server_accept(s, false);
        }
        if (pfd[SHMCAM_SERVER_PFD_PCI].revents && !s->stop) {
            shmcam_server_accept(s, true);
        }
        shmcam_server_watchdog(s);
        if (!s->stop && shmcam_supervisor_due(&s->sup,
                                              shmcam_supervisor_now())) {
            shmcam_server_start_child(s);
        }
    }
    return 0;
}

/* Stop the capture process (it marks the regions stopped), let go of all. */
static void shmcam_server_shutdown(struct shmcam_server *s)
{
    s->stop = true;
    shmcam_supervisor_stop(&s->sup);
    g_ptr_array_unref(s->clients);
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
    if (s->host_efd >= 0) {
        close(s->host_efd);
    }
    if (s->sigfd >= 0) {
        close(s->sigfd);
    }
}

/*
 * Every client holds a few descriptors here: take as many as we may, so
 * that the limit to the number of guests is ours, not the default one.
 */
static void shmcam_server_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
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
        .listen_fd = -1,
        .pci_fd = -1,
        .sigfd = -1,
        .host_efd = -1,
        .clients = g_ptr_array_new_with_free_func(shmcam_server_client_free),
    };
    GError *err = NULL;
    char size_s[32];
    int ret;

    shmcam_server_raise_nofile();
    ret = shmcam_supervisor_init(&s.sup, &err) ?:
          shmcam_server_signals(&s, &err);
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
        h->shared_fd = shmcam_server_memfd(&s, "shmcam", &err);
        ret = h->shared_fd < 0 ? h->shared_fd : 0;
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
                h->o.pci_listen, SHMCAM_SERVER_MAX_PCI, size_s);
    }
    shmcam_server_start_child(&s);
    ret = shmcam_server_loop(&s);
    if (ret) {
        fprintf(stderr, "shmcam-host: poll: %s\n", g_strerror(-ret));
    }
    shmcam_server_shutdown(&s);
    return ret ? SHMCAM_EXIT_ERROR : SHMCAM_EXIT_OK;
}
