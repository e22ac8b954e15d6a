/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host --listen as QEMU sees it.  The test is an ivshmem client: it
 * connects to the socket, takes the protocol version, its id, the region's
 * memfd and the peers' eventfds over SCM_RIGHTS exactly as QEMU's
 * ivshmem-doorbell does, maps the region and verifies every frame it reads
 * byte for byte against the test pattern.  Then the same with real QEMU
 * processes connecting.
 *
 * shmcam-host --pci-listen the same way: the test is a shmcam-pci device
 * that sends its memory and eventfds, as QEMU's shmcam-pci does
 * (docs/specs/shmcam-pci.rst); the VM tests run the real device.
 *
 * Every wait is bounded by a hang guard; none is a measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "shmcam-pattern.h"

#define HANG_GUARD_US   (30 * G_USEC_PER_SEC)
#define HOST_ID         SHMCAM_HOST_PEER_ID

/* shmcam-host --listen and/or --pci-listen, run by a test */
struct server {
    char *dir;
    char *sock;                 /* --listen, or NULL */
    char *pci_sock;             /* --pci-listen, or NULL */
    char *log;
    pid_t pid;
};

enum {
    SERVE_IVSHMEM = 1,
    SERVE_PCI = 2,
};

/* One ivshmem client, as QEMU is one */
struct client {
    int sock;
    int64_t id;                 /* as the server's messages name it */
    int64_t area;               /* its consumer area */
    int shm_fd;
    int efd;                    /* our own vector 0: the host rings it */
    int host_efd;               /* the host peer's vector 0: we ring it */
    uint8_t *base;
    uint64_t size;
    struct shmcam_layout l;
    bool have_layout;
    uint64_t last;              /* frame counter last read */
    uint64_t last_stamp;
    uint8_t *buf;
    struct shmcam_pattern pat;
    bool pat_ready;
};

static gint64 deadline(void)
{
    return g_get_monotonic_time() + HANG_GUARD_US;
}

static void check_deadline(gint64 end, const char *what)
{
    if (g_get_monotonic_time() > end) {
        g_error("hang guard: still waiting for %s", what);
    }
}

/* --- the server ---------------------------------------------------- */

static char *server_wait_line(struct server *s, const char *prefix,
                              unsigned int nth);

static void server_start_on(struct server *s, unsigned int serve,
                            const char *const *extra)
{
    const char *host = g_getenv("SHMCAM_HOST");
    GPtrArray *argv = g_ptr_array_new();
    int fd;

    g_assert_nonnull(host);
    s->dir = g_dir_make_tmp("shmcam-server-XXXXXX", NULL);
    g_assert_nonnull(s->dir);
    s->sock = s->pci_sock = NULL;
    s->log = g_build_filename(s->dir, "host.log", NULL);
    g_ptr_array_add(argv, (char *)host);
    if (serve & SERVE_IVSHMEM) {
        s->sock = g_build_filename(s->dir, "sock", NULL);
        g_ptr_array_add(argv, "--listen");
        g_ptr_array_add(argv, s->sock);
    }
    if (serve & SERVE_PCI) {
        s->pci_sock = g_build_filename(s->dir, "pci.sock", NULL);
        g_ptr_array_add(argv, "--pci-listen");
        g_ptr_array_add(argv, s->pci_sock);
    }
    g_ptr_array_add(argv, "--size");
    g_ptr_array_add(argv, "320x240");
    g_ptr_array_add(argv, "--fps");
    g_ptr_array_add(argv, "30");
    g_ptr_array_add(argv, "--slots");
    g_ptr_array_add(argv, "16");
    for (; extra && *extra; extra++) {
        g_ptr_array_add(argv, (char *)*extra);
    }
    g_ptr_array_add(argv, NULL);
    fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    s->pid = fork();
    g_assert_cmpint(s->pid, >=, 0);
    if (s->pid == 0) {
        /* a test that fails leaves no server behind */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, STDERR_FILENO);
        dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO);
        execv(host, (char **)argv->pdata);
        _exit(127);
    }
    close(fd);
    g_ptr_array_free(argv, TRUE);
    g_free(server_wait_line(s, serve & SERVE_PCI ?
                            "shmcam-host: shmcam-pci server on " :
                            "shmcam-host: ivshmem server on ", 1));
}

static void server_start(struct server *s, const char *const *extra)
{
    server_start_on(s, SERVE_IVSHMEM, extra);
}

static char *server_log(struct server *s)
{
    char *text = NULL;

    g_file_get_contents(s->log, &text, NULL, NULL);
    return text ? text : g_strdup("");
}

/* Wait for a line of the log that starts with @prefix; returns the line. */
static char *server_wait_line(struct server *s, const char *prefix,
                              unsigned int nth)
{
    gint64 end = deadline();

    for (;;) {
        g_autofree char *text = server_log(s);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        unsigned int i, seen = 0;

        for (i = 0; lines[i]; i++) {
            if (g_str_has_prefix(lines[i], prefix) && ++seen == nth) {
                return g_strdup(lines[i]);
            }
        }
        if (g_get_monotonic_time() > end) {
            g_error("hang guard: no line '%s' (#%u) in the log:\n%s", prefix,
                    nth, text);
        }
        g_usleep(2000);
    }
}

static bool server_has_line(struct server *s, const char *line)
{
    g_autofree char *text = server_log(s);
    g_autofree char *needle = g_strdup_printf("%s\n", line);

    return g_str_has_prefix(text, needle) || strstr(text, needle) ?
           true : false;
}

static unsigned int server_count_lines(struct server *s, const char *prefix)
{
    g_autofree char *text = server_log(s);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    unsigned int i, n = 0;

    for (i = 0; lines[i]; i++) {
        n += g_str_has_prefix(lines[i], prefix);
    }
    return n;
}

/* The pid of the @nth capture process the server started. */
static pid_t server_child(struct server *s, unsigned int nth)
{
    gint64 end = deadline();

    for (;;) {
        g_autofree char *text = server_log(s);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        unsigned int i, seen = 0;
        char rest[16];
        int pid;

        for (i = 0; lines[i]; i++) {
            if (sscanf(lines[i], "shmcam-host: capture process %d %15s",
                       &pid, rest) == 2 && !strcmp(rest, "started") &&
                ++seen == nth) {
                return pid;
            }
        }
        check_deadline(end, "a capture process to start");
        g_usleep(2000);
    }
}

/* What server_start_on() made, once the server is gone. */
static void server_free(struct server *s)
{
    g_unlink(s->log);
    g_rmdir(s->dir);
    g_free(s->dir);
    g_free(s->sock);
    g_free(s->pci_sock);
    g_free(s->log);
}

/* SIGTERM: exit 0, the socket removed, the capture process gone. */
static void server_stop(struct server *s)
{
    pid_t child = server_child(s, 1);
    int status;

    g_assert_cmpint(kill(s->pid, SIGTERM), ==, 0);
    g_assert_cmpint(waitpid(s->pid, &status, 0), ==, s->pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        g_autofree char *text = server_log(s);

        g_error("shmcam-host ended with status 0x%x:\n%s", status, text);
    }
    g_assert_true(!s->sock || !g_file_test(s->sock, G_FILE_TEST_EXISTS));
    g_assert_true(!s->pci_sock ||
                  !g_file_test(s->pci_sock, G_FILE_TEST_EXISTS));
    g_assert_cmpint(kill(child, 0), ==, -1);
    server_free(s);
}

/* --- the client ---------------------------------------------------- */

/*
 * One message: 0, -ETIMEDOUT when none came within @timeout_ms (-1: the
 * hang guard), or -EPIPE when the server closed the connection.
 */
static int client_recv(struct client *c, int64_t *value, int *fd,
                       int timeout_ms)
{
    struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
    int64_t le;
    struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
    };
    struct cmsghdr *cmsg;
    bool hang_guard = false;
    ssize_t n;

    if (timeout_ms < 0) {
        timeout_ms = HANG_GUARD_US / 1000;
        hang_guard = true;
    }
    if (poll(&pfd, 1, timeout_ms) == 0) {
        if (hang_guard) {
            g_error("hang guard: no message from the server");
        }
        return -ETIMEDOUT;
    }
    n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC);
    if (n == 0) {
        return -EPIPE;
    }
    g_assert_cmpint(n, ==, sizeof(le));
    g_assert_false(msg.msg_flags & MSG_CTRUNC);
    *value = GINT64_FROM_LE(le);
    *fd = -1;
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        g_assert_cmpint(cmsg->cmsg_type, ==, SCM_RIGHTS);
        g_assert_cmpint(cmsg->cmsg_len, ==, CMSG_LEN(sizeof(int)));
        memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
    }
    return 0;
}

/* Nothing waits on the socket: no message, and no EOF. */
static void client_assert_quiet(struct client *c)
{
    char b;

    g_assert_cmpint(recv(c->sock, &b, 1, MSG_DONTWAIT | MSG_PEEK), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
}

static int client_dial(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(sock, >=, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    return sock;
}

/*
 * Connect and read the setup as QEMU does: version 0, our id, the shared
 * memory, then the host peer's eventfd and our own: no other guest's.
 */
/*
 * The capture process lays a guest's region out (the server never maps
 * it): wait until it carries a shmcam header.
 */
static void client_wait_identity(struct client *c)
{
    gint64 end = deadline();

    while (shmcam_check_identity((void *)c->base, c->size)) {
        check_deadline(end, "a shmcam header in the region");
        g_usleep(1000);
    }
}

static void client_connect(struct client *c, struct server *s)
{
    int64_t v;
    int fd;
    struct stat st;

    memset(c, 0, sizeof(*c));
    c->efd = c->host_efd = -1;
    c->last = SHMCAM_NO_FRAME;
    c->last_stamp = SHMCAM_PATTERN_NONE;
    c->sock = client_dial(s->sock);

    g_assert_cmpint(client_recv(c, &v, &fd, -1), ==, 0);
    g_assert_cmpint(v, ==, 0);
    g_assert_cmpint(fd, ==, -1);
    g_assert_cmpint(client_recv(c, &c->id, &fd, -1), ==, 0);
    g_assert_cmpint(fd, ==, -1);
    g_assert_cmpint(c->id, >=, 0);
    g_assert_cmpint(c->id, <, SHMCAM_MAX_CONSUMERS);
    g_assert_cmpint(client_recv(c, &v, &c->shm_fd, -1), ==, 0);
    g_assert_cmpint(v, ==, -1);
    g_assert_cmpint(c->shm_fd, >=, 0);

    g_assert_cmpint(client_recv(c, &v, &c->host_efd, -1), ==, 0);
    g_assert_cmpint(v, ==, HOST_ID);
    g_assert_cmpint(c->host_efd, >=, 0);
    g_assert_cmpint(client_recv(c, &v, &c->efd, -1), ==, 0);
    g_assert_cmpint(v, ==, c->id);
    g_assert_cmpint(c->efd, >=, 0);

    g_assert_cmpint(fstat(c->shm_fd, &st), ==, 0);
    c->size = st.st_size;
    g_assert_true(shmcam_is_pow2(c->size));
    c->base = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   c->shm_fd, 0);
    g_assert_true(c->base != MAP_FAILED);
    c->area = c->id;
    client_wait_identity(c);
}

static void client_close(struct client *c)
{
    if (c->pat_ready) {
        shmcam_pattern_fini(&c->pat);
    }
    g_free(c->buf);
    munmap(c->base, c->size);
    close(c->shm_fd);
    close(c->efd);
    close(c->host_efd);
    close(c->sock);
}

static struct shmcam_header *client_hdr(struct client *c)
{
    return (struct shmcam_header *)c->base;
}

static struct shmcam_consumer *client_area(struct client *c)
{
    return (struct shmcam_consumer *)(c->base + SHMCAM_CONSUMER_OFFSET) +
           c->area;
}

static uint64_t client_latest(struct client *c)
{
    return shmcam_load64(&client_hdr(c)->latest_frame);
}

static void client_set_streaming(struct client *c, bool on)
{
    __atomic_store_n(&client_area(c)->flags, on ? SHMCAM_CONSUMER_STREAMING : 0,
                     __ATOMIC_SEQ_CST);
}

/* Rings on our own eventfd so far (and the count starts again). */
static uint64_t client_rings(struct client *c)
{
    uint64_t n = 0;

    if (read(c->efd, &n, sizeof(n)) < 0) {
        g_assert_cmpint(errno, ==, EAGAIN);
        return 0;
    }
    return n;
}

/* Wait until a frame after @frame is published in this session. */
static void client_wait_latest(struct client *c, uint64_t frame)
{
    gint64 end = deadline();

    while (client_latest(c) == SHMCAM_NO_FRAME || client_latest(c) <= frame) {
        check_deadline(end, "frames");
        g_usleep(1000);
    }
}

/*
 * The next frame, verified byte for byte against the pattern, and in
 * order.  Waits for the producer to stream; a new session starts the
 * count again.  Returns the frame counter.
 */
static uint64_t client_frame(struct client *c)
{
    struct shmcam_header *h = client_hdr(c);
    struct shmcam_frame_info fi;
    gint64 end = deadline();
    uint64_t stamp;
    char why[160];
    int ret;

    for (;;) {
        check_deadline(end, "a frame");
        if (c->have_layout &&
            shmcam_load64(&h->session_id) != c->l.session_id) {
            c->have_layout = false;
        }
        if (!c->have_layout) {
            if (shmcam_load32(&h->state) != SHMCAM_STATE_STREAMING ||
                shmcam_check_identity(h, c->size) ||
                shmcam_layout_read(h, c->size, &c->l)) {
                g_usleep(1000);
                continue;
            }
            c->have_layout = true;
            c->last = SHMCAM_NO_FRAME;
            c->last_stamp = SHMCAM_PATTERN_NONE;
            g_free(c->buf);
            c->buf = g_malloc(c->l.slot_size);
        }
        ret = shmcam_read_frame(c->base, &c->l, c->last, c->buf,
                                c->l.slot_size, &fi);
        if (ret == -EAGAIN || ret == -ESTALE) {
            g_usleep(1000);
            continue;
        }
        g_assert_cmpint(ret, ==, 0);
        break;
    }
    if (c->pat_ready && (c->pat.fmt.pixelformat != fi.format.pixelformat ||
                         c->pat.fmt.width != fi.format.width)) {
        shmcam_pattern_fini(&c->pat);
        c->pat_ready = false;
    }
    if (!c->pat_ready) {
        g_assert_cmpint(shmcam_pattern_init(&c->pat, &fi.format), ==, 0);
        c->pat_ready = true;
    }
    if (shmcam_pattern_verify(&c->pat, c->buf, fi.bytesused, &stamp, why,
                              sizeof(why))) {
        g_error("frame %" G_GUINT64_FORMAT ": %s", fi.frame, why);
    }
    if (c->last_stamp != SHMCAM_PATTERN_NONE) {
        g_assert_cmpuint(stamp, >, c->last_stamp);
    }
    c->last_stamp = stamp;
    c->last = fi.frame;
    return fi.frame;
}

/* Wait for a capture process to lay the region out for a new session. */
static void client_wait_session(struct client *c, uint64_t old)
{
    gint64 end = deadline();

    while (shmcam_load64(&client_hdr(c)->session_id) == old) {
        check_deadline(end, "a new session");
        g_usleep(1000);
    }
}

static void client_frames(struct client *c, unsigned int n)
{
    while (n--) {
        client_frame(c);
    }
}

/* --- tests --------------------------------------------------------- */

/*
 * The protocol as QEMU reads it, frames in the region, and peers: no guest
 * hears of another coming or going (it would get the other's eventfd),
 * and ids are reused.
 */
static void test_protocol(void)
{
    struct server s;
    struct client a, b, c;
    struct stat sa, sb;

    server_start(&s, NULL);
    g_free(server_wait_line(&s, "shmcam-host: test pattern: streaming", 1));
    g_assert_cmpuint(g_file_test(s.sock, G_FILE_TEST_EXISTS), ==, TRUE);

    client_connect(&a, &s);
    g_assert_cmpint(a.id, ==, 0);
    client_connect(&b, &s);
    g_assert_cmpint(b.id, ==, 1);
    /* one region for all, and the log names each client */
    g_assert_cmpint(fstat(a.shm_fd, &sa), ==, 0);
    g_assert_cmpint(fstat(b.shm_fd, &sb), ==, 0);
    g_assert_cmpuint(sa.st_ino, ==, sb.st_ino);
    g_assert_cmpuint(a.size, ==, 4 << 20);
    g_free(server_wait_line(&s, "shmcam-host: client 1 connected (pid", 1));

    client_frames(&a, 10);
    client_frames(&b, 10);
    client_assert_quiet(&a);
    g_assert_cmpuint(client_hdr(&a)->slot_count, ==, 16);
    g_assert_cmpstr(client_hdr(&a)->card, ==, "shmcam test pattern");

    client_close(&a);
    g_free(server_wait_line(&s, "shmcam-host: client 0 disconnected", 1));
    /* id 0 is free again; b hears of neither */
    client_connect(&c, &s);
    g_assert_cmpint(c.id, ==, 0);
    client_frames(&c, 3);
    client_frames(&b, 3);
    client_assert_quiet(&b);
    client_close(&b);
    client_close(&c);
    server_stop(&s);
}

/*
 * Vector 0 of a guest rings once per frame while its consumer area says
 * STREAMING, and never otherwise.  A ring for frame N is written after N
 * is published and before N + 1 is, which makes every bound below exact.
 */
static void test_rings(void)
{
    struct server s;
    struct client a, b;
    uint64_t l0, l1, e0, e1, rings, base, i;

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_connect(&b, &s);
    client_frame(&a);

    /* not streaming: five frames, no ring */
    client_set_streaming(&a, true);
    l0 = client_latest(&b);
    client_wait_latest(&b, l0 + 5);
    g_assert_cmpuint(client_rings(&b), ==, 0);
    g_assert_cmpuint(client_rings(&a), >=, 4);

    /* streaming: one ring per frame published since */
    l0 = client_latest(&b);
    client_set_streaming(&b, true);
    l1 = client_latest(&b);
    client_wait_latest(&b, l1 + 20);
    e0 = client_latest(&b);
    rings = client_rings(&b);
    e1 = client_latest(&b);
    g_assert_cmpuint(rings, >=, e0 - 1 - l1);
    g_assert_cmpuint(rings, <=, e1 - l0);
    /*
     * and each ring announces a frame that is there: after a read, every
     * frame before @base has been rung, so the next rings are for frames
     * from @base on, all of them published
     */
    base = client_latest(&b);
    client_rings(&b);
    for (i = 0; i < 5; i++) {
        struct pollfd pfd = { .fd = b.efd, .events = POLLIN };
        uint64_t next;

        g_assert_cmpint(poll(&pfd, 1, HANG_GUARD_US / 1000), ==, 1);
        next = client_latest(&b);
        rings = client_rings(&b);
        g_assert_cmpuint(rings, >=, 1);
        g_assert_cmpuint(client_latest(&b), >=, base + rings - 1);
        base = next;
    }

    /* stopped again: once a frame after the change is out, silence */
    client_set_streaming(&b, false);
    l1 = client_latest(&b);
    client_wait_latest(&b, l1);
    client_rings(&b);
    client_wait_latest(&b, l1 + 6);
    g_assert_cmpuint(client_rings(&b), ==, 0);

    /* garbage in the flags: only the STREAMING bit counts */
    __atomic_store_n(&client_area(&b)->flags, ~SHMCAM_CONSUMER_STREAMING,
                     __ATOMIC_SEQ_CST);
    l1 = client_latest(&b);
    client_wait_latest(&b, l1 + 3);
    g_assert_cmpuint(client_rings(&b), ==, 0);

    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/* 32 guests at most: the 33rd is refused, and a freed id is given again. */
static void test_full(void)
{
    struct server s;
    struct client *c = g_new0(struct client, SHMCAM_MAX_CONSUMERS + 1);
    uint32_t i;
    int sock;
    char b;

    server_start(&s, NULL);
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        client_connect(&c[i], &s);
        g_assert_cmpint(c[i].id, ==, i);
    }
    /* the 33rd: the connection is closed before any message */
    sock = client_dial(s.sock);
    g_assert_cmpint(recv(sock, &b, 1, 0), ==, 0);
    close(sock);
    {
        g_autofree char *line = server_wait_line(&s, "shmcam-host: refusing a "
                                                 "client (pid ", 1);

        g_assert_true(g_str_has_suffix(line,
                                       "): all 32 client ids are in use"));
    }
    /* shmcam-dump as the 33rd says why it got nothing */
    {
        g_autofree char *err = NULL, *want = NULL;
        const char *argv[] = { g_getenv("SHMCAM_DUMP"), "--connect", s.sock,
                               "--frames", "1", NULL };
        int status;

        g_assert_nonnull(argv[0]);
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                                   G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                   NULL, &err, &status, NULL));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 1);
        want = g_strdup_printf("shmcam-dump: the server at %s closed the "
                               "connection before its setup (it takes 32 "
                               "clients at most)\n", s.sock);
        g_assert_cmpstr(err, ==, want);
        g_free(server_wait_line(&s, "shmcam-host: refusing a client (pid ", 2));
    }
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        client_assert_quiet(&c[i]);
    }

    /* 5 leaves, no one hears it, the next client gets 5 */
    client_close(&c[5]);
    client_connect(&c[SHMCAM_MAX_CONSUMERS], &s);
    g_assert_cmpint(c[SHMCAM_MAX_CONSUMERS].id, ==, 5);
    client_frames(&c[SHMCAM_MAX_CONSUMERS], 2);
    for (i = 0; i <= SHMCAM_MAX_CONSUMERS; i++) {
        if (i != 5) {
            client_assert_quiet(&c[i]);
        }
    }
    for (i = 0; i <= SHMCAM_MAX_CONSUMERS; i++) {
        if (i != 5) {
            client_close(&c[i]);
        }
    }
    g_free(c);
    server_stop(&s);
}

/*
 * kill -9 of the capture process: the connection stays, the supervisor
 * marks the region stopped and starts a new capture process, which lays
 * the region out again with a new session; frames and rings come back on
 * the same socket and eventfd.
 */
static void test_restart(void)
{
    struct server s;
    struct client a;
    pid_t child, child2;
    uint64_t session, l;
    g_autofree char *line = NULL, *want = NULL;

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_set_streaming(&a, true);
    client_frames(&a, 5);
    session = client_hdr(&a)->session_id;
    child = server_child(&s, 1);

    g_assert_cmpint(kill(child, SIGKILL), ==, 0);
    want = g_strdup_printf("shmcam-host: capture process %d was killed by "
                           "signal 9 (Killed); restarting in 0.5 s", child);
    line = server_wait_line(&s, want, 1);
    child2 = server_child(&s, 2);
    g_assert_cmpint(child2, !=, child);

    /* frames of a new session, in the same mapping */
    client_wait_session(&a, session);
    client_frame(&a);
    g_assert_cmpuint(a.l.session_id, ==, client_hdr(&a)->session_id);
    g_assert_cmpuint(client_hdr(&a)->state, ==, SHMCAM_STATE_STREAMING);
    client_frames(&a, 10);
    /* rings on the eventfd we were given at the start */
    client_rings(&a);
    l = client_latest(&a);
    client_wait_latest(&a, l + 3);
    g_assert_cmpuint(client_rings(&a), >=, 2);
    client_assert_quiet(&a);
    g_assert_false(server_has_line(&s, "shmcam-host: client 0 disconnected"));

    client_close(&a);
    server_stop(&s);
    /* the second capture process went with the server */
    g_assert_cmpint(kill(child2, 0), ==, -1);
}

/*
 * A request written into the consumer area and announced by ringing the
 * host peer (what the guest driver does for S_FMT): the format changes.
 */
static void test_request(void)
{
    struct server s;
    struct client a;
    struct shmcam_consumer *area;
    static const uint64_t one = 1;
    gint64 end = deadline();

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_frames(&a, 2);
    area = client_area(&a);
    area->req_pixelformat = SHMCAM_FMT_NV12;
    area->req_width = 320;
    area->req_height = 240;
    area->req_interval = (struct shmcam_fract) { 1, 30 };
    __atomic_store_n(&area->owner, 0x5a5a5a5a5a5a5a5bull, __ATOMIC_SEQ_CST);
    __atomic_store_n(&area->flags, SHMCAM_CONSUMER_REQUEST, __ATOMIC_SEQ_CST);
    __atomic_store_n(&area->request_gen, 1, __ATOMIC_SEQ_CST);
    g_assert_cmpint(write(a.host_efd, &one, sizeof(one)), ==, sizeof(one));
    while (shmcam_load32(&client_hdr(&a)->format.pixelformat) !=
           SHMCAM_FMT_NV12) {
        check_deadline(end, "the format change");
        g_usleep(1000);
    }
    g_free(server_wait_line(&s, "shmcam-host: consumer 0 requests 320x240 "
                            "NV12 at 1/30 s per frame: switching", 1));
    /* frames in NV12 verify too */
    while (client_frame(&a), a.pat.fmt.pixelformat != SHMCAM_FMT_NV12) {
        check_deadline(end, "an NV12 frame");
    }
    client_frames(&a, 5);
    client_close(&a);
    server_stop(&s);
}

/* Write a request into @c's area (owner @owner) and ring the host peer. */
static void client_request(struct client *c, uint64_t owner, uint32_t fourcc,
                           uint32_t gen, bool streaming)
{
    struct shmcam_consumer *area = client_area(c);
    static const uint64_t one = 1;

    area->req_pixelformat = fourcc;
    area->req_width = 320;
    area->req_height = 240;
    area->req_interval = (struct shmcam_fract) { 1, 30 };
    __atomic_store_n(&area->owner, owner, __ATOMIC_SEQ_CST);
    __atomic_store_n(&area->flags, SHMCAM_CONSUMER_REQUEST |
                     (streaming ? SHMCAM_CONSUMER_STREAMING : 0),
                     __ATOMIC_SEQ_CST);
    __atomic_store_n(&area->request_gen, gen, __ATOMIC_SEQ_CST);
    g_assert_cmpint(write(c->host_efd, &one, sizeof(one)), ==, sizeof(one));
}

/*
 * Flood @c with alternating NV12 and YU12 requests, one every 20 ms for
 * @ms, ringing each time, while @v reads frames; returns the frames @v
 * got per second.
 */
static double client_flood(struct client *c, struct client *v, uint32_t *gen,
                           unsigned int ms)
{
    gint64 start = g_get_monotonic_time(), next = start;
    gint64 end = start + ms * (gint64)1000;
    uint64_t first = client_frame(v), last = first;

    while (g_get_monotonic_time() < end) {
        if (g_get_monotonic_time() >= next) {
            ++*gen;
            client_request(c, 0x0f0f0f0f0f0f0f0full,
                           *gen & 1 ? SHMCAM_FMT_NV12 : SHMCAM_FMT_YUV420,
                           *gen, true);
            next += 20 * 1000;
        }
        last = client_frame(v);
    }
    return (last - first) * 1e6 / (g_get_monotonic_time() - start);
}

/*
 * Requests are arbitrated: while the consumer whose format is in effect
 * streams, another one's requests are refused, said once, and a flood of
 * them leaves its frame rate alone.  Once it stops streaming the other
 * consumer's requests are taken, at most SHMCAM_REQUEST_BURST at once and
 * then one a second, however many come.
 */
static void test_request_flood(void)
{
    struct server s;
    struct client a, b;
    uint32_t gen = 0;
    unsigned int switches;
    double fps;
    gint64 end;

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_connect(&b, &s);
    /* b asks for what streams, and streams: its format holds */
    client_request(&b, 0x5a5a5a5a5a5a5a5bull, SHMCAM_FMT_YUYV, 1, true);
    client_frames(&b, 5);
    fps = client_flood(&a, &b, &gen, 4000);
    g_test_message("the holder's frame rate under a flood: %.1f fps", fps);
    g_assert_cmpfloat(fps, >=, 27.0);
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: consumer 0 asks "
                                        "for "), ==, 1);
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: consumer 0 "
                                        "requests "), ==, 0);
    g_assert_cmpuint(client_hdr(&b)->format.pixelformat, ==, SHMCAM_FMT_YUYV);

    /* b stops streaming: a's requests are taken, rate-limited */
    client_set_streaming(&b, false);
    fps = client_flood(&a, &b, &gen, 4000);
    switches = server_count_lines(&s, "shmcam-host: consumer 0 requests ");
    end = deadline();
    g_test_message("%u switches in 4 s of flooding, %.1f fps meanwhile",
                   switches, fps);
    g_assert_cmpuint(switches, >=, 1);
    g_assert_cmpuint(switches, <=, 4 + 4 + 1);
    /* the last request is not lost: its turn comes */
    while (shmcam_load32(&client_hdr(&b)->format.pixelformat) !=
           (gen & 1 ? SHMCAM_FMT_NV12 : SHMCAM_FMT_YUV420)) {
        check_deadline(end, "the last request taken");
        g_usleep(1000);
    }
    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/*
 * A guest writes nonsense into the header: the capture process neither
 * spins (it keeps its own heartbeat period) nor stops delivering.
 */
static void test_header_scribbled(void)
{
    struct server s;
    struct client a, b;
    struct shmcam_header *h;
    uint64_t beat0, beat1, f0, f1;
    gint64 end = deadline();

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_connect(&b, &s);
    client_frames(&b, 2);
    h = client_hdr(&a);
    __atomic_store_n(&h->heartbeat_ms, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&h->heartbeat, ~0ull - 5, __ATOMIC_SEQ_CST);
    /* the producer's next beat overwrites ours with its own count */
    while (shmcam_load64(&h->heartbeat) == ~0ull - 5) {
        check_deadline(end, "a heartbeat");
        g_usleep(1000);
    }
    /* heartbeats every 100 ms, frames every 33 ms: beats stay fewer */
    f0 = client_latest(&a);
    beat0 = shmcam_load64(&h->heartbeat);
    client_wait_latest(&a, f0 + 15);
    beat1 = shmcam_load64(&h->heartbeat);
    f1 = client_latest(&a);
    g_assert_cmpuint(beat1 - beat0, <=, f1 - f0);
    /* never read back; put back as the producer wrote it */
    while (shmcam_load32(&h->heartbeat_ms) == 0) {
        check_deadline(end, "the header restored");
        g_usleep(1000);
    }
    g_assert_cmpuint(h->heartbeat_ms, ==, 100);
    client_frames(&b, 10);
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: capture process "),
                     ==, 1);
    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/*
 * A co-tenant writes garbage over the header and consumer pages of the
 * shared region for 3 s: the producer restores its header every
 * heartbeat and says so once; both guests read verified frames again
 * within 2 s of the end, and no process died.
 */
static void test_header_overwritten(void)
{
    struct server s;
    struct client a, b;
    uint8_t *page;
    gint64 stop, back;
    GRand *rand = g_rand_new_with_seed(7);

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_connect(&b, &s);
    client_frames(&a, 3);
    client_frames(&b, 3);
    page = (uint8_t *)client_hdr(&a);
    stop = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < stop) {
        int i;

        for (i = 0; i < 256; i++) {
            uint32_t off = g_rand_int_range(rand, 0, 2 * SHMCAM_PAGE_SIZE / 8);

            __atomic_store_n((uint64_t *)page + off,
                             ((uint64_t)g_rand_int(rand) << 32) |
                             g_rand_int(rand), __ATOMIC_RELAXED);
        }
        g_usleep(1000);
    }
    stop = g_get_monotonic_time();
    client_frames(&a, 5);
    client_frames(&b, 5);
    back = g_get_monotonic_time();
    g_test_message("both guests streamed again %" G_GINT64_FORMAT
                   " ms after the scribbling", (back - stop) / 1000);
    g_assert_cmpint(back - stop, <=, 2 * G_USEC_PER_SEC);
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: the header of "),
                     ==, 1);
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: capture process "),
                     ==, 1);
    g_rand_free(rand);
    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/*
 * Frames until @n more arrived; returns the longest wait for one (us).
 * Frames of a new session count (the producer may restart under us).
 */
static gint64 client_longest_gap(struct client *c, unsigned int n)
{
    gint64 t = g_get_monotonic_time(), gap = 0, now;

    while (n--) {
        client_frame(c);
        now = g_get_monotonic_time();
        gap = MAX(gap, now - t);
        t = now;
    }
    return gap;
}

/*
 * O_NONBLOCK belongs to the open file description the guest's QEMU shares
 * with us: a guest clears it on its eventfd and fills the counter, so that
 * the next ring would block.  The capture process sees it, drops that
 * guest and names it; the other guest's frames do not stop.
 */
static void test_eventfd_tampered(void)
{
    struct server s;
    struct client a, b;
    const uint64_t full = 0xfffffffffffffffeull;
    gint64 gap;
    int fl;

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_connect(&b, &s);
    client_set_streaming(&b, true);
    client_frames(&b, 3);
    /* a's counter full (no ring comes while a does not stream), blocking */
    client_rings(&a);
    g_assert_cmpint(write(a.efd, &full, sizeof(full)), ==, sizeof(full));
    fl = fcntl(a.efd, F_GETFL);
    g_assert_cmpint(fcntl(a.efd, F_SETFL, fl & ~O_NONBLOCK), ==, 0);
    client_set_streaming(&a, true);
    gap = client_longest_gap(&b, 30);
    g_test_message("the other guest's longest gap: %" G_GINT64_FORMAT " ms",
                   gap / 1000);
    g_assert_cmpint(gap, <=, 2 * G_USEC_PER_SEC);
    g_free(server_wait_line(&s, "shmcam-host: client 0 cleared O_NONBLOCK "
                            "on its frame eventfd: disconnecting it", 1));
    g_free(server_wait_line(&s, "shmcam-host: client 0 tampered with its "
                            "eventfd or memory: disconnected", 1));
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: capture process "),
                     ==, 1);
    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/*
 * A capture process whose loop stands still (here: stopped by SIGSTOP) is
 * killed by the supervisor's watchdog, and a new one starts at once: the
 * guest's gap stays under 2 s.
 */
static void test_watchdog(void)
{
    struct server s;
    struct client a;
    g_autofree char *want = NULL;
    pid_t child;
    gint64 gap;

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_frames(&a, 3);
    child = server_child(&s, 1);
    g_assert_cmpint(kill(child, SIGSTOP), ==, 0);
    gap = client_longest_gap(&a, 10);
    g_test_message("the guest's longest gap: %" G_GINT64_FORMAT " ms",
                   gap / 1000);
    want = g_strdup_printf("shmcam-host: capture process %d has not moved "
                           "for ", child);
    g_free(server_wait_line(&s, want, 1));
    g_free(want);
    want = g_strdup_printf("shmcam-host: capture process %d was killed by "
                           "signal 9 (Killed); restarting now", child);
    g_free(server_wait_line(&s, want, 1));
    g_assert_cmpint(server_child(&s, 2), !=, child);
    g_assert_cmpint(gap, <=, 2 * G_USEC_PER_SEC);
    g_assert_false(server_has_line(&s, "shmcam-host: client 0 disconnected"));
    client_close(&a);
    server_stop(&s);
}

/*
 * A consumer area whose owner stopped beating is freed after
 * SHMCAM_CONSUMER_TIMEOUT_MS; one whose owner beats is kept.
 */
static void test_reclaim(void)
{
    struct server s;
    struct client a;
    struct shmcam_consumer *areas;
    gint64 end = deadline();

    server_start(&s, NULL);
    client_connect(&a, &s);
    client_frame(&a);
    areas = (struct shmcam_consumer *)(a.base + SHMCAM_CONSUMER_OFFSET);
    __atomic_store_n(&areas[7].heartbeat, 41, __ATOMIC_SEQ_CST);
    __atomic_store_n(&areas[7].owner, 0x7007, __ATOMIC_SEQ_CST);
    __atomic_store_n(&areas[8].owner, 0x8009, __ATOMIC_SEQ_CST);
    while (shmcam_load64(&areas[7].owner)) {
        check_deadline(end, "the stale area to be freed");
        __atomic_fetch_add(&areas[8].heartbeat, 1, __ATOMIC_SEQ_CST);
        g_usleep(50000);
    }
    g_assert_cmphex(shmcam_load64(&areas[8].owner), ==, 0x8009);
    g_free(server_wait_line(&s, "shmcam-host: consumer area 7: no heartbeat "
                            "for 5 s, freed", 1));
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: consumer area "),
                     ==, 1);
    client_close(&a);
    server_stop(&s);
}

/*
 * --isolate: each guest its own region, and guests do not learn of each
 * other.  One guest wrecking its region changes nothing for another.
 */
static void test_isolate(void)
{
    static const char *const args[] = { "--isolate", NULL };
    struct server s;
    struct client a, b, c;
    struct stat sa, sb;

    server_start(&s, args);
    client_connect(&a, &s);
    client_connect(&b, &s);
    g_assert_cmpint(b.id, ==, 1);
    g_assert_cmpint(fstat(a.shm_fd, &sa), ==, 0);
    g_assert_cmpint(fstat(b.shm_fd, &sb), ==, 0);
    g_assert_cmpuint(sa.st_ino, !=, sb.st_ino);
    client_frames(&a, 5);
    client_frames(&b, 5);
    g_assert_cmpuint(client_hdr(&a)->session_id, !=,
                     client_hdr(&b)->session_id);

    /* rings come from each guest's own area */
    client_set_streaming(&b, true);
    client_rings(&b);
    client_wait_latest(&b, client_latest(&b) + 3);
    g_assert_cmpuint(client_rings(&b), >=, 2);
    g_assert_cmpuint(client_rings(&a), ==, 0);

    /* a wrecks its whole region; b goes on */
    memset(a.base, 0xa5, a.size);
    client_frames(&b, 10);
    g_assert_cmpint(b.l.session_id, ==, client_hdr(&b)->session_id);

    /* b leaves and c comes: a hears nothing of either */
    client_close(&b);
    g_free(server_wait_line(&s, "shmcam-host: client 1 disconnected", 1));
    client_connect(&c, &s);
    g_assert_cmpint(c.id, ==, 1);
    client_frames(&c, 3);
    client_assert_quiet(&a);
    client_close(&a);
    client_close(&c);
    server_stop(&s);
}

/* --- a shmcam-pci device ------------------------------------------- */

#define PCI_PROTOCOL    1

/*
 * What a shmcam-pci device sends at each connection: its protocol version
 * and region size, with @nfds of @fds on the first byte.  Returns the
 * reply's value (the consumer index or a negative errno), or -EPIPE when
 * the server hung up without one.
 */
static int64_t pci_hello(struct server *s, int *sock, int64_t version,
                         int64_t size, const int *fds, unsigned int nfds)
{
    int64_t msg[2] = { GINT64_TO_LE(version), GINT64_TO_LE(size) };
    struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } cm;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    struct cmsghdr *cmsg;
    struct pollfd pfd;
    ssize_t n;

    g_assert_cmpuint(nfds, <=, 4);
    *sock = client_dial(s->pci_sock);
    if (nfds) {
        memset(&cm, 0, sizeof(cm));
        m.msg_control = cm.buf;
        m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        cmsg = CMSG_FIRSTHDR(&m);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
    }
    g_assert_cmpint(sendmsg(*sock, &m, 0), ==, sizeof(msg));
    pfd = (struct pollfd) { .fd = *sock, .events = POLLIN };
    g_assert_cmpint(poll(&pfd, 1, HANG_GUARD_US / 1000), ==, 1);
    n = recv(*sock, msg, sizeof(msg), MSG_WAITALL);
    if (n == 0) {
        return -EPIPE;
    }
    g_assert_cmpint(n, ==, sizeof(msg));
    g_assert_cmpint(GINT64_FROM_LE(msg[0]), ==, PCI_PROTOCOL);
    return GINT64_FROM_LE(msg[1]);
}

/* Memory as a memory backend has it: a memfd of @size bytes, mapped. */
/*
 * A device's memory as QEMU's memory backends make it: a memfd sealed
 * against resizing (memory-backend-memfd), an unsealed one (seal=off), or
 * an unlinked tmpfs file (memory-backend-shm), mapped at *@base.
 */
enum pci_mem { PCI_MEM_SEALED, PCI_MEM_UNSEALED, PCI_MEM_SHM };

static int pci_memory_as(uint64_t size, uint8_t **base, enum pci_mem kind)
{
    g_autofree char *name = g_strdup_printf("/shmcam-test-%d", (int)getpid());
    int fd;

    if (kind == PCI_MEM_SHM) {
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        shm_unlink(name);
    } else {
        fd = memfd_create("test-memdev", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        g_assert_cmpint(fd, >=, 0);
    }
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    if (kind == PCI_MEM_SEALED) {
        g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW),
                        ==, 0);
    }
    *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    g_assert_true(*base != MAP_FAILED);
    return fd;
}

/*
 * Connect as a device with a region of @size bytes, which the server is to
 * name shmcam-pci client @id, and take the consumer index: 0, the first
 * area of its own region.  c->efd is the frame eventfd (the host rings
 * it), c->host_efd the doorbell (we ring it).
 */
static void pci_connect_as(struct client *c, struct server *s, uint64_t size,
                           enum pci_mem kind, int id)
{
    g_autofree char *line = g_strdup_printf("shmcam-host: shmcam-pci client "
                                            "%d connected (pid %d)", id,
                                            (int)getpid());
    unsigned int before = server_count_lines(s, line);
    int fds[3];

    memset(c, 0, sizeof(*c));
    c->last = SHMCAM_NO_FRAME;
    c->last_stamp = SHMCAM_PATTERN_NONE;
    c->size = size;
    c->shm_fd = pci_memory_as(size, &c->base, kind);
    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->host_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    g_assert_cmpint(c->efd, >=, 0);
    g_assert_cmpint(c->host_efd, >=, 0);
    fds[0] = c->shm_fd;
    fds[1] = c->efd;
    fds[2] = c->host_efd;
    c->area = pci_hello(s, &c->sock, PCI_PROTOCOL, size, fds, 3);
    g_assert_cmpint(c->area, ==, 0);
    c->id = id;
    g_free(server_wait_line(s, line, before + 1));
    client_wait_identity(c);
}

static void pci_connect(struct client *c, struct server *s, uint64_t size,
                        int id)
{
    pci_connect_as(c, s, size, PCI_MEM_SEALED, id);
}

/* Id 0 is free (again): a device gets it, and frames. */
static void pci_id0_streams(struct server *s)
{
    struct client a;

    pci_connect(&a, s, 4 << 20, 0);
    client_frames(&a, 3);
    client_close(&a);
}

/* Is every byte of @p @byte? */
static bool all_bytes(const uint8_t *p, size_t len, uint8_t byte)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != byte) {
            return false;
        }
    }
    return true;
}

/*
 * A refused hello: the reply is @err, the log says @why, and the device's
 * memory is untouched.
 */
static void pci_refused_as(struct server *s, int64_t version, int64_t size,
                           uint64_t real_size, unsigned int nfds, bool pipe_fd,
                           enum pci_mem kind, int64_t err, const char *why)
{
    g_autofree char *want = NULL;
    g_autofree char *line = NULL;
    uint8_t *base;
    int fds[4], p[2] = { -1, -1 }, sock;
    unsigned int i, before;

    fds[0] = pci_memory_as(real_size, &base, kind);
    memset(base, 0xa5, real_size);
    for (i = 1; i < 4; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC);
    }
    if (pipe_fd) {
        g_assert_cmpint(pipe(p), ==, 0);
        fds[2] = p[0];
    }
    before = server_count_lines(s, "shmcam-host: refusing shmcam-pci "
                                "client 0 ");
    g_assert_cmpint(pci_hello(s, &sock, version, size, fds, nfds), ==, err);
    want = g_strdup_printf("shmcam-host: refusing shmcam-pci client 0 (pid "
                           "%d): %s", (int)getpid(), why);
    line = server_wait_line(s, "shmcam-host: refusing shmcam-pci client 0 ",
                            before + 1);
    g_assert_cmpstr(line, ==, want);
    g_assert_true(all_bytes(base, real_size, 0xa5));
    /* the server hung up */
    g_assert_cmpint(recv(sock, &i, 1, 0), ==, 0);
    close(sock);
    munmap(base, real_size);
    for (i = 0; i < 4; i++) {
        close(fds[i]);
    }
    if (p[1] >= 0) {
        close(p[1]);
    }
}

static void pci_refused(struct server *s, int64_t version, int64_t size,
                        uint64_t real_size, unsigned int nfds, bool pipe_fd,
                        int64_t err, const char *why)
{
    pci_refused_as(s, version, size, real_size, nfds, pipe_fd,
                   PCI_MEM_SEALED, err, why);
}

/*
 * A shmcam-pci device: its own region, laid out and filled with verified
 * frames; rings on its frame eventfd while its consumer area (at the index
 * it was given, in its own region) says it streams; a request announced on
 * its doorbell; a second device with a region of its own; a kill -9 of the
 * capture process; departures.
 */
static void test_pci(void)
{
    struct server s;
    struct client a, b;
    struct shmcam_consumer *area;
    static const uint64_t one = 1;
    g_autofree char *want = NULL;
    gint64 end = deadline();
    uint64_t session, l;
    pid_t child;

    server_start_on(&s, SERVE_PCI, NULL);
    pci_connect(&a, &s, 4 << 20, 0);
    want = g_strdup_printf("shmcam-host: shmcam-pci client 0 connected (pid "
                           "%d), a region of 4 MiB", (int)getpid());
    g_free(server_wait_line(&s, want, 1));
    client_frames(&a, 5);

    /* rings only while streaming */
    client_wait_latest(&a, client_latest(&a) + 2);
    g_assert_cmpuint(client_rings(&a), ==, 0);
    client_set_streaming(&a, true);
    client_rings(&a);
    client_wait_latest(&a, client_latest(&a) + 3);
    g_assert_cmpuint(client_rings(&a), >=, 2);

    /* a request, announced on the doorbell */
    area = client_area(&a);
    area->req_pixelformat = SHMCAM_FMT_NV12;
    area->req_width = 320;
    area->req_height = 240;
    area->req_interval = (struct shmcam_fract) { 1, 30 };
    __atomic_store_n(&area->owner, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&area->flags, SHMCAM_CONSUMER_STREAMING |
                     SHMCAM_CONSUMER_REQUEST, __ATOMIC_SEQ_CST);
    __atomic_store_n(&area->request_gen, 1, __ATOMIC_SEQ_CST);
    g_assert_cmpint(write(a.host_efd, &one, sizeof(one)), ==, sizeof(one));
    g_free(server_wait_line(&s, "shmcam-host: consumer 0 requests 320x240 "
                            "NV12 at 1/30 s per frame: switching", 1));
    while (client_frame(&a), a.pat.fmt.pixelformat != SHMCAM_FMT_NV12) {
        check_deadline(end, "an NV12 frame");
    }

    /* a second device: a region of its own, a session of its own */
    pci_connect(&b, &s, 8 << 20, 1);
    client_frames(&b, 3);
    g_assert_cmpuint(client_hdr(&a)->session_id, !=,
                     client_hdr(&b)->session_id);

    /* kill -9 of the capture process: both get frames again */
    session = client_hdr(&a)->session_id;
    child = server_child(&s, 1);
    g_assert_cmpint(kill(child, SIGKILL), ==, 0);
    server_child(&s, 2);
    client_wait_session(&a, session);
    client_frames(&a, 5);
    client_frames(&b, 5);
    client_rings(&a);
    l = client_latest(&a);
    client_wait_latest(&a, l + 3);
    g_assert_cmpuint(client_rings(&a), >=, 2);

    /* a leaves: b goes on; the id is free again */
    client_close(&a);
    g_free(server_wait_line(&s, "shmcam-host: shmcam-pci client 0 "
                            "disconnected", 1));
    client_frames(&b, 5);
    pci_connect(&a, &s, 4 << 20, 0);
    client_frames(&a, 2);
    client_assert_quiet(&a);
    client_assert_quiet(&b);
    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/*
 * Hellos a server must refuse, each with its reply, its message and the
 * device's memory untouched; a good device is served afterwards.
 */
static void test_pci_refused(void)
{
    struct server s;

    server_start_on(&s, SERVE_PCI, NULL);
    pci_refused(&s, 2, 4 << 20, 4 << 20, 3, false, -EPROTONOSUPPORT,
                "speaks protocol 2, not 1 (use a QEMU and a shmcam-host of "
                "one release)");
    pci_refused(&s, PCI_PROTOCOL, 4 << 20, 4 << 20, 2, false, -EINVAL,
                "sent 2 descriptors, not its memory and two eventfds");
    pci_refused(&s, PCI_PROTOCOL, 4 << 20, 4 << 20, 4, false, -EINVAL,
                "sent more than 3 descriptors, not its memory and two "
                "eventfds");
    pci_refused(&s, PCI_PROTOCOL, 4 << 20, 4 << 20, 3, true, -EINVAL,
                "sent 3 descriptors, not its memory and two eventfds");
    pci_refused(&s, PCI_PROTOCOL, 3 << 20, 4 << 20, 3, false, -EINVAL,
                "announces a region of 3145728 bytes, not a power of two "
                "from 64 KiB to 64 GiB");
    pci_refused(&s, PCI_PROTOCOL, 8 << 20, 4 << 20, 3, false, -EINVAL,
                "announces 8 MiB, but its memory is 4194304 bytes");
    pci_refused(&s, PCI_PROTOCOL, 1 << 20, 1 << 20, 3, false, -ENOSPC,
                "its region is 1 MiB; 320x240 YUYV with 16 slots needs 4 MiB "
                "(give its memory backend size=4M)");
    pci_id0_streams(&s);
    server_stop(&s);
}

/*
 * A device's memory must stay: a memfd that could shrink is refused; a
 * tmpfs file (memory-backend-shm), which cannot be sealed, is taken, and
 * when the device shrinks it after the hello, the capture process's next
 * write faults on it: that device is dropped, named, and the other one
 * streams on; no process died.
 */
static void test_pci_memory(void)
{
    struct server s;
    struct client a, b;

    server_start_on(&s, SERVE_PCI, NULL);
    pci_refused_as(&s, PCI_PROTOCOL, 4 << 20, 4 << 20, 3, false,
                   PCI_MEM_UNSEALED, -EPERM,
                   "its memory is a memfd that may shrink (seal it against "
                   "shrinking and growing: memory-backend-memfd does unless "
                   "seal=off)");

    pci_connect_as(&a, &s, 4 << 20, PCI_MEM_SHM, 0);
    pci_connect(&b, &s, 4 << 20, 1);
    client_frames(&a, 3);
    client_frames(&b, 3);
    munmap(a.base, a.size);
    g_assert_cmpint(ftruncate(a.shm_fd, 0), ==, 0);
    a.base = mmap(NULL, a.size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_free(server_wait_line(&s, "shmcam-host: shmcam-pci client 0 cut its "
                            "memory short under its region: disconnecting it",
                            1));
    g_free(server_wait_line(&s, "shmcam-host: shmcam-pci client 0 tampered "
                            "with its eventfd or memory: disconnected", 1));
    client_frames(&b, 10);
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: capture process "),
                     ==, 1);
    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/*
 * A shmcam-pci connection that never says hello holds an id for 5 s, then
 * is disconnected and the id is free again.
 */
static void test_pci_silent(void)
{
    struct server s;
    int sock;
    char b;

    server_start_on(&s, SERVE_PCI, NULL);
    sock = client_dial(s.pci_sock);
    g_free(server_wait_line(&s, "shmcam-host: shmcam-pci client 0 sent no "
                            "hello within 5 s: disconnected", 1));
    g_assert_cmpint(recv(sock, &b, 1, 0), ==, 0);
    close(sock);
    pci_id0_streams(&s);
    server_stop(&s);
}

/*
 * SIGHUP and SIGQUIT end a server as SIGTERM does: exit 0, the socket
 * removed, the capture process gone.
 */
static void test_hangup(void)
{
    static const int sigs[] = { SIGHUP, SIGQUIT };
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(sigs); i++) {
        struct server s;
        struct client a;
        pid_t child;
        int status;

        server_start(&s, NULL);
        client_connect(&a, &s);
        client_frames(&a, 2);
        child = server_child(&s, 1);
        g_assert_cmpint(kill(s.pid, sigs[i]), ==, 0);
        g_assert_cmpint(waitpid(s.pid, &status, 0), ==, s.pid);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        g_assert_false(g_file_test(s.sock, G_FILE_TEST_EXISTS));
        g_assert_cmpint(kill(child, 0), ==, -1);
        g_assert_cmpuint(shmcam_load32(&client_hdr(&a)->state), ==,
                         SHMCAM_STATE_STOPPED);
        client_close(&a);
        server_free(&s);
    }
}

/*
 * --listen and --pci-listen in one server: ivshmem guests share a region
 * and hear neither of each other nor of the device, which has its own
 * region.  The two kinds number apart: a device takes no ivshmem id.
 */
static void test_pci_mixed(void)
{
    struct server s;
    struct client a, b, d;

    server_start_on(&s, SERVE_IVSHMEM | SERVE_PCI, NULL);
    client_connect(&a, &s);
    pci_connect(&d, &s, 4 << 20, 0);
    client_connect(&b, &s);
    g_assert_cmpint(b.id, ==, 1);
    client_frames(&a, 3);
    client_frames(&b, 3);
    client_frames(&d, 3);
    g_assert_cmpuint(client_hdr(&a)->session_id, ==,
                     client_hdr(&b)->session_id);
    g_assert_cmpuint(client_hdr(&a)->session_id, !=,
                     client_hdr(&d)->session_id);
    client_close(&d);
    g_free(server_wait_line(&s, "shmcam-host: shmcam-pci client 0 "
                            "disconnected", 1));
    client_frames(&a, 3);
    client_assert_quiet(&a);
    client_assert_quiet(&b);
    client_close(&b);
    g_free(server_wait_line(&s, "shmcam-host: client 1 disconnected", 1));
    client_frames(&a, 3);
    client_assert_quiet(&a);
    client_close(&a);
    server_stop(&s);
}

/*
 * More outputs than a region has consumer areas: --listen's shared region
 * with every one of its SHMCAM_MAX_CONSUMERS ivshmem guests, and
 * SHMCAM_PCI_MANY shmcam-pci devices with a region each.  Every guest and
 * device gets frames; when a device leaves, the next one takes its id,
 * and all the others stream on.
 */
#define SHMCAM_PCI_MANY 33

static void test_pci_many(void)
{
    struct server s;
    struct client *d = g_new0(struct client, SHMCAM_PCI_MANY);
    struct client *g = g_new0(struct client, SHMCAM_MAX_CONSUMERS);
    uint32_t i;

    server_start_on(&s, SERVE_IVSHMEM | SERVE_PCI, NULL);
    for (i = 0; i < SHMCAM_PCI_MANY; i++) {
        pci_connect(&d[i], &s, 4 << 20, i);
    }
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        client_connect(&g[i], &s);
        g_assert_cmpint(g[i].id, ==, i);
    }
    for (i = 0; i < SHMCAM_PCI_MANY; i++) {
        client_frames(&d[i], 3);
    }
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        client_frames(&g[i], 3);
    }
    g_assert_cmpuint(server_count_lines(&s, "shmcam-host: capture process "),
                     ==, 1);
    client_close(&d[7]);
    g_free(server_wait_line(&s, "shmcam-host: shmcam-pci client 7 "
                            "disconnected", 1));
    pci_connect(&d[7], &s, 4 << 20, 7);
    for (i = 0; i < SHMCAM_PCI_MANY; i++) {
        client_frames(&d[i], 2);
        client_close(&d[i]);
    }
    for (i = 0; i < SHMCAM_MAX_CONSUMERS; i++) {
        client_frames(&g[i], 2);
        client_close(&g[i]);
    }
    g_free(d);
    g_free(g);
    server_stop(&s);
}

/* --- real QEMU ----------------------------------------------------- */

struct qemu {
    pid_t pid;
    char *err;
};

static void qemu_start(struct qemu *q, struct server *s, const char *qemu,
                       unsigned int n)
{
    g_autofree char *chardev = g_strdup_printf("socket,id=cam,path=%s",
                                               s->sock);
    const char *argv[] = {
        qemu, "-M", "q35", "-nodefaults", "-display", "none", "-S",
        "-monitor", "none", "-serial", "none",
        "-chardev", chardev,
        "-device", "ivshmem-doorbell,chardev=cam,vectors=1", NULL,
    };
    int fd;

    q->err = g_strdup_printf("%s/qemu%u.err", s->dir, n);
    fd = open(q->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    q->pid = fork();
    g_assert_cmpint(q->pid, >=, 0);
    if (q->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(qemu, (char **)argv);
        _exit(127);
    }
    close(fd);
}

/* QEMU is running and has said nothing: it took every message. */
static void qemu_assert_happy(struct qemu *q)
{
    g_autofree char *text = NULL;

    g_assert_cmpint(kill(q->pid, 0), ==, 0);
    g_assert_true(g_file_get_contents(q->err, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "");
}

/* QEMU maps the region we serve: the memfd, at its full size. */
static void qemu_wait_region(struct qemu *q, uint64_t size)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", q->pid);
    gint64 end = deadline();

    for (;;) {
        g_autofree char *maps = NULL;
        g_auto(GStrv) lines = NULL;
        unsigned int i;

        g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
        lines = g_strsplit(maps, "\n", -1);
        for (i = 0; lines[i]; i++) {
            unsigned long long lo, hi;

            if (strstr(lines[i], "/memfd:shmcam ") &&
                sscanf(lines[i], "%llx-%llx", &lo, &hi) == 2 &&
                hi - lo == size) {
                return;
            }
        }
        check_deadline(end, "QEMU to map the region");
        g_usleep(2000);
    }
}

static void qemu_kill(struct qemu *q)
{
    int status;

    kill(q->pid, SIGKILL);
    g_assert_cmpint(waitpid(q->pid, &status, 0), ==, q->pid);
    g_unlink(q->err);
    g_free(q->err);
}

/*
 * QEMU's ivshmem-doorbell connects at startup (-S: no guest runs), gets
 * an id, maps the region; it keeps its connection through a kill -9 of
 * the capture process; no other peer hears of its coming or going.
 */
static void test_qemu(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    g_autofree char *line = NULL;
    struct server s;
    struct client a;
    struct qemu q1, q2;
    uint64_t session;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 is not installed");
        return;
    }
    server_start(&s, NULL);
    client_connect(&a, &s);
    client_frames(&a, 2);

    qemu_start(&q1, &s, qemu, 1);
    line = g_strdup_printf("shmcam-host: client 1 connected (pid %d)", q1.pid);
    g_free(server_wait_line(&s, line, 1));
    qemu_start(&q2, &s, qemu, 2);
    qemu_wait_region(&q1, a.size);
    qemu_wait_region(&q2, a.size);

    session = client_hdr(&a)->session_id;
    kill(server_child(&s, 1), SIGKILL);
    server_child(&s, 2);
    client_wait_session(&a, session);
    client_frames(&a, 5);
    g_assert_cmpuint(a.l.session_id, ==, client_hdr(&a)->session_id);
    g_assert_false(server_has_line(&s, "shmcam-host: client 1 disconnected"));
    qemu_assert_happy(&q1);
    qemu_assert_happy(&q2);

    qemu_kill(&q1);
    g_free(server_wait_line(&s, "shmcam-host: client 1 disconnected", 1));
    qemu_assert_happy(&q2);
    qemu_kill(&q2);
    g_free(server_wait_line(&s, "shmcam-host: client 2 disconnected", 1));
    client_frames(&a, 3);
    client_assert_quiet(&a);
    client_close(&a);
    server_stop(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/server/protocol", test_protocol);
    g_test_add_func("/server/rings", test_rings);
    g_test_add_func("/server/full", test_full);
    g_test_add_func("/server/restart", test_restart);
    g_test_add_func("/server/request", test_request);
    g_test_add_func("/server/request-flood", test_request_flood);
    g_test_add_func("/server/header-scribbled", test_header_scribbled);
    g_test_add_func("/server/header-overwritten", test_header_overwritten);
    g_test_add_func("/server/eventfd-tampered", test_eventfd_tampered);
    g_test_add_func("/server/watchdog", test_watchdog);
    g_test_add_func("/server/reclaim", test_reclaim);
    g_test_add_func("/server/isolate", test_isolate);
    g_test_add_func("/server/pci", test_pci);
    g_test_add_func("/server/pci-refused", test_pci_refused);
    g_test_add_func("/server/pci-memory", test_pci_memory);
    g_test_add_func("/server/pci-silent", test_pci_silent);
    g_test_add_func("/server/hangup", test_hangup);
    g_test_add_func("/server/pci-mixed", test_pci_mixed);
    g_test_add_func("/server/pci-many", test_pci_many);
    g_test_add_func("/server/qemu", test_qemu);
    return g_test_run();
}
