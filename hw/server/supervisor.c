/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor of a server's capture process: see supervisor.h.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor.h"

#define NSEC_PER_SEC            1000000000ull
#define NSEC_PER_MSEC           1000000ull

/* A capture process whose loop stands still this long is stuck. */
#define SHMCAM_WATCHDOG_NS      NSEC_PER_SEC
/* Restart delays: the first one, and the cap while the child keeps dying. */
#define SHMCAM_RESTART_MIN_NS   (NSEC_PER_SEC / 2)
#define SHMCAM_RESTART_MAX_NS   (8 * NSEC_PER_SEC)
/* A child that ran this long is restarted after the shortest delay. */
#define SHMCAM_CHILD_STABLE_NS  (10 * NSEC_PER_SEC)
/* How long a child may take to stop after SIGTERM, before SIGKILL. */
#define SHMCAM_CHILD_STOP_NS    (5 * NSEC_PER_SEC)

uint64_t shmcam_supervisor_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int shmcam_supervisor_init(struct shmcam_supervisor *sup, GError **errp)
{
    *sup = (struct shmcam_supervisor) { .self = getpid(), .ctrl_fd = -1 };
    sup->watch = mmap(NULL, sizeof(*sup->watch), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sup->watch == MAP_FAILED) {
        sup->watch = NULL;
        g_set_error(errp, G_FILE_ERROR, 0, "cannot map a page: %s",
                    g_strerror(errno));
        return -ENOMEM;
    }
    return 0;
}

static void shmcam_supervisor_failed(struct shmcam_supervisor *sup,
                                     const char *what)
{
    fprintf(stderr, "shmcam-host: cannot start the capture process: %s: "
            "%s\n", what, g_strerror(errno));
    sup->restart_ns = shmcam_supervisor_now() + SHMCAM_RESTART_MAX_NS;
}

pid_t shmcam_supervisor_spawn(struct shmcam_supervisor *sup,
                              struct shmcam_host *h, int *ctrl, bool *child)
{
    int sv[2];
    pid_t pid;

    *child = false;
    sup->restart_ns = 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   sv) < 0) {
        shmcam_supervisor_failed(sup, "socketpair");
        return 0;
    }
    sup->watch->beat_ns = 0;
    sup->watch->busy = SHMCAM_WATCH_IDLE;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != sup->self) {
            _exit(SHMCAM_EXIT_OK);  /* the server died while we forked */
        }
        close(sv[0]);
        *ctrl = sv[1];
        *child = true;
        h->watch = sup->watch;
        return 0;
    }
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        shmcam_supervisor_failed(sup, "fork");
        return 0;
    }
    sup->ctrl_fd = sv[0];
    sup->child = pid;
    sup->child_start_ns = shmcam_supervisor_now();
    fprintf(stderr, "shmcam-host: capture process %d started\n", (int)pid);
    return pid;
}

/*
 * A clean exit (the end of a --file, or a SIGTERM sent to it alone) is
 * final; anything else is a failure, and a new one starts after a delay
 * that doubles while they keep failing fast.
 */
bool shmcam_supervisor_reaped(struct shmcam_supervisor *sup, pid_t pid,
                              int status, bool stop)
{
    uint64_t now = shmcam_supervisor_now(), ran = now - sup->child_start_ns;
    char how[64];

    if (!sup->child || pid != sup->child) {
        return false;
    }
    sup->child = 0;
    close(sup->ctrl_fd);
    sup->ctrl_fd = -1;
    if (stop) {
        return true;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        fprintf(stderr, "shmcam-host: capture process %d finished; guests "
                "stay connected until shmcam-host stops\n", (int)pid);
        return true;
    }
    if (WIFSIGNALED(status)) {
        g_snprintf(how, sizeof(how), "was killed by signal %d (%s)",
                   WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        g_snprintf(how, sizeof(how), "exited with status %d",
                   WEXITSTATUS(status));
    }
    if (sup->stuck) {
        /* The peer that stalled it is gone: no reason to wait. */
        sup->stuck = false;
        fprintf(stderr, "shmcam-host: capture process %d %s; restarting "
                "now\n", (int)pid, how);
        sup->restart_ns = now;
        return true;
    }
    if (ran >= SHMCAM_CHILD_STABLE_NS) {
        sup->backoff_ns = SHMCAM_RESTART_MIN_NS;
    } else {
        sup->backoff_ns = CLAMP(sup->backoff_ns * 2, SHMCAM_RESTART_MIN_NS,
                                SHMCAM_RESTART_MAX_NS);
    }
    fprintf(stderr, "shmcam-host: capture process %d %s; restarting in "
            "%.1f s\n", (int)pid, how, sup->backoff_ns / 1e9);
    sup->restart_ns = now + sup->backoff_ns;
    return true;
}

uint32_t shmcam_supervisor_watchdog(struct shmcam_supervisor *sup,
                                    uint64_t now)
{
    uint64_t beat;
    uint32_t busy;

    if (!sup->child || sup->stuck) {
        return SHMCAM_WATCH_IDLE;
    }
    beat = __atomic_load_n(&sup->watch->beat_ns, __ATOMIC_RELAXED);
    busy = __atomic_load_n(&sup->watch->busy, __ATOMIC_RELAXED);
    if (!beat || busy == SHMCAM_WATCH_SOURCE || now < beat ||
        now - beat < SHMCAM_WATCHDOG_NS) {
        return SHMCAM_WATCH_IDLE;
    }
    if (busy != SHMCAM_WATCH_IDLE) {
        fprintf(stderr, "shmcam-host: capture process %d is stuck on an "
                "eventfd: killing it\n", (int)sup->child);
    } else {
        fprintf(stderr, "shmcam-host: capture process %d has not moved for "
                "%llu ms: killing it\n", (int)sup->child,
                (unsigned long long)((now - beat) / NSEC_PER_MSEC));
    }
    sup->stuck = true;
    kill(sup->child, SIGKILL);
    return busy;
}

void shmcam_supervisor_tell(struct shmcam_supervisor *sup,
                            const struct shmcam_ctrl_msg *m)
{
    int ret;

    if (!sup->child || sup->ctrl_fd < 0) {
        return;
    }
    ret = shmcam_ctrl_send(sup->ctrl_fd, m);
    if (ret) {
        fprintf(stderr, "shmcam-host: capture process %d takes no messages "
                "(%s): killing it\n", (int)sup->child, g_strerror(-ret));
        kill(sup->child, SIGKILL);
    }
}

bool shmcam_supervisor_due(const struct shmcam_supervisor *sup, uint64_t now)
{
    return sup->restart_ns && now >= sup->restart_ns;
}

int shmcam_supervisor_timeout(const struct shmcam_supervisor *sup,
                              uint64_t now, int max)
{
    if (!sup->restart_ns) {
        return max;
    }
    if (now >= sup->restart_ns) {
        return 0;
    }
    return MIN((sup->restart_ns - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC,
               (uint64_t)max);
}

void shmcam_supervisor_stop(struct shmcam_supervisor *sup)
{
    uint64_t deadline = shmcam_supervisor_now() + SHMCAM_CHILD_STOP_NS;
    int status;

    if (sup->child) {
        kill(sup->child, SIGTERM);
        while (waitpid(sup->child, &status, WNOHANG) == 0) {
            if (shmcam_supervisor_now() >= deadline) {
                fprintf(stderr, "shmcam-host: capture process %d ignores "
                        "SIGTERM: killing it\n", (int)sup->child);
                kill(sup->child, SIGKILL);
                waitpid(sup->child, &status, 0);
                break;
            }
            poll(NULL, 0, 20);
        }
        sup->child = 0;
    }
    if (sup->ctrl_fd >= 0) {
        close(sup->ctrl_fd);
        sup->ctrl_fd = -1;
    }
    if (sup->watch) {
        munmap(sup->watch, sizeof(*sup->watch));
        sup->watch = NULL;
    }
}
