/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host --qemu-memdev's lookup of a stock QEMU's memory-backend-shm
 * (hw/host/qemu-memdev.c) and its QMP client (hw/host/qmp.c):
 *
 * - the parsers, on what QEMU and /proc print (recorded from QEMU 10.0);
 * - the QMP client against a server of the test's own: greeting, events
 *   between replies, error classes, a human monitor, a silent socket;
 * - the PID form against a fake QEMU (this program run again, holding
 *   unnamed shm objects as QEMU's memory-backend-shm does: mode 0000,
 *   the name removed at once), as root, as QEMU's own user (pidfd_getfd)
 *   and as another user (refused, with as whom to run);
 * - real QEMU (when installed): the QMP form finds the backend a device
 *   maps where the PID form cannot tell two of one size apart, and
 *   shmcam-host publishes into it, or, run as another user, exits 1 with
 *   the message that says as whom to run.
 *
 * The checks as another user need root (they are skipped otherwise).
 * Every wait is bounded by a hang guard; none is a measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "shmcam.h"
#include "qmp.h"
#include "qemu-memdev.h"

#define HANG_GUARD_US   (30 * G_USEC_PER_SEC)
#define NOBODY          65534
#define NOGROUP         65534
#define DAEMON          1           /* another user than QEMU's */

static gint64 deadline(void)
{
    return g_get_monotonic_time() + HANG_GUARD_US;
}

static void check_deadline(gint64 end, const char *what)
{
    if (g_get_monotonic_time() > end) {
        g_error("hang guard: no %s after %d s", what,
                (int)(HANG_GUARD_US / G_USEC_PER_SEC));
    }
}

/* --- the argument and the parsers ---------------------------------- */

static void test_target(void)
{
    static const struct {
        const char *arg, *msg;
    } bad[] = {
        { "cam0", "--qemu-memdev cam0 is not PID:ID or QMP-SOCKET:ID (e.g. "
          "--qemu-memdev 1234:cam0 for QEMU 1234's -object "
          "memory-backend-shm,id=cam0)" },
        { "1234:", "--qemu-memdev 1234: is not PID:ID or QMP-SOCKET:ID (e.g. "
          "--qemu-memdev 1234:cam0 for QEMU 1234's -object "
          "memory-backend-shm,id=cam0)" },
        { ":cam0", NULL },
        { "1234:0cam", "--qemu-memdev 1234:0cam: '0cam' is not a QEMU object "
          "id (letters, digits, '-', '.' and '_', starting with a letter, "
          "e.g. --qemu-memdev 1234:cam0)" },
        { "1234:ca m", NULL },
        { "0:cam0", "--qemu-memdev 0:cam0: 0 is not a process id (e.g. "
          "--qemu-memdev 1234:cam0; a QMP socket named by digits only: ./0)" },
        { "99999999999:cam0", NULL },
    };
    struct shmcam_qemu_target t;
    unsigned int i;

    g_assert_cmpint(shmcam_qemu_target_parse("1234:cam0", &t, NULL), ==, 0);
    g_assert_cmpint(t.pid, ==, 1234);
    g_assert_null(t.qmp);
    g_assert_cmpstr(t.id, ==, "cam0");
    shmcam_qemu_target_clear(&t);
    g_assert_cmpint(shmcam_qemu_target_parse("/run/vm:0/qmp.sock:my-cam_1.a",
                                             &t, NULL), ==, 0);
    g_assert_cmpint(t.pid, ==, 0);
    g_assert_cmpstr(t.qmp, ==, "/run/vm:0/qmp.sock");
    g_assert_cmpstr(t.id, ==, "my-cam_1.a");
    shmcam_qemu_target_clear(&t);
    g_assert_cmpint(shmcam_qemu_target_parse("./42:cam0", &t, NULL), ==, 0);
    g_assert_cmpstr(t.qmp, ==, "./42");
    shmcam_qemu_target_clear(&t);

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;

        g_assert_cmpint(shmcam_qemu_target_parse(bad[i].arg, &t, &err), ==,
                        -EINVAL);
        g_assert_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
        if (bad[i].msg) {
            g_assert_cmpstr(err->message, ==, bad[i].msg);
        }
    }
}

static void test_size(void)
{
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {
        { "33554432", 33554432 }, { "32M", 32 << 20 }, { "32m", 32 << 20 },
        { "64K", 65536 }, { "1G", 1ull << 30 }, { "1.5G", 3ull << 29 },
        { "0x2000000", 0x2000000 }, { "2T", 2ull << 40 }, { "512B", 512 },
        { "0.5K", 512 },
    };
    static const char *const bad[] = {
        "", "M", "32X", "32MB", "-1", "1.5", "0.3K", "0x",
        "99999999999999999999", "16E",
    };
    unsigned int i;
    uint64_t v;

    for (i = 0; i < G_N_ELEMENTS(good); i++) {
        g_assert_true(shmcam_qemu_parse_size(good[i].s, &v));
        g_assert_cmpuint(v, ==, good[i].v);
    }
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(shmcam_qemu_parse_size(bad[i], &v));
    }
}

static void test_cmdline(void)
{
    static const char *const args[] = {
        "/usr/bin/qemu-system-x86_64", "-S", "-object",
        "memory-backend-shm,id=cam0,size=32M,share=on", "-device",
        "ivshmem-plain,memdev=cam0", "--object",
        "qom-type=memory-backend-shm,size=0x1000000,id=cam1", "-object",
        ("{\"qom-type\": \"memory-backend-shm\", \"id\": \"cam2\", "
         "\"size\": 8388608}"),
        "-object", "memory-backend-file,id=f,mem-path=/dev/shm/a,,b,size=2M",
        "-object", "memory-backend-shm,id=named,size=4M,name=/shm0",
        "-object", "memory-backend-shm,id=odd,size=lots",
        "-object", "rng-random,filename=/dev/urandom",     /* no id */
        "-name", "-object",
    };
    g_autoptr(GString) buf = g_string_new(NULL);
    g_autoptr(GPtrArray) objs = NULL;
    struct shmcam_qemu_object *o;
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(args); i++) {
        g_string_append_len(buf, args[i], strlen(args[i]) + 1);
    }
    objs = shmcam_qemu_cmdline_objects(buf->str, buf->len);
    g_assert_cmpuint(objs->len, ==, 6);
    o = g_ptr_array_index(objs, 0);
    g_assert_cmpstr(o->type, ==, "memory-backend-shm");
    g_assert_cmpstr(o->id, ==, "cam0");
    g_assert_cmpuint(o->size, ==, 32 << 20);
    g_assert_null(o->name);
    o = g_ptr_array_index(objs, 1);
    g_assert_cmpstr(o->type, ==, "memory-backend-shm");
    g_assert_cmpstr(o->id, ==, "cam1");
    g_assert_cmpuint(o->size, ==, 16 << 20);
    o = g_ptr_array_index(objs, 2);
    g_assert_cmpstr(o->id, ==, "cam2");
    g_assert_cmpuint(o->size, ==, 8 << 20);
    o = g_ptr_array_index(objs, 3);
    g_assert_cmpstr(o->type, ==, "memory-backend-file");
    g_assert_cmpuint(o->size, ==, 2 << 20);
    o = g_ptr_array_index(objs, 4);
    g_assert_cmpstr(o->name, ==, "/shm0");
    o = g_ptr_array_index(objs, 5);
    g_assert_cmpstr(o->id, ==, "odd");
    g_assert_cmpuint(o->size, ==, 0);
}

/* info ramblock of QEMU 10.0 with cam0 mapped by ivshmem-plain, a second
 * backend (unnamed: no device maps it) and a memory-backend-ram */
static const char ramblock_10_0[] =
    "              Block Name    PSize              Offset               Used              Total                HVA  RO\r\n"
    "                  pc.ram    4 KiB  0x0000000005000000 0x0000000008000000 0x0000000008000000 0x00007fac1be00000  rw\r\n"
    "       0000:00:02.0/cam0    4 KiB  0x0000000000000000 0x0000000002000000 0x0000000002000000 0x00007fac7137d000  rw\r\n"
    "                            4 KiB  0x0000000002000000 0x0000000002000000 0x0000000002000000 0x00007fac29fff000  rw\r\n"
    "                            4 KiB  0x0000000004000000 0x0000000001000000 0x0000000001000000 0x00007fac28c00000  rw\r\n"
    "    /rom@etc/acpi/tables    4 KiB  0x000000000d080000 0x0000000000020000 0x0000000000200000 0x00007fac28800000  ro\r\n"
    "                 pc.bios    4 KiB  0x000000000d000000 0x0000000000040000 0x0000000000040000 0x00007fac70200000  ro\r\n";

static void test_ramblock(void)
{
    g_autoptr(GArray) a = shmcam_qemu_ramblock_hvas(ramblock_10_0, "cam0",
                                                     32 << 20);
    g_autoptr(GArray) b = shmcam_qemu_ramblock_hvas(ramblock_10_0, "cam0",
                                                     16 << 20);
    g_autoptr(GArray) c = shmcam_qemu_ramblock_hvas(ramblock_10_0, "pc.ram",
                                                     128 << 20);
    g_autoptr(GArray) d = shmcam_qemu_ramblock_hvas(ramblock_10_0, "am0",
                                                     32 << 20);
    g_autoptr(GArray) e = shmcam_qemu_ramblock_hvas(
        "Block Name PSize Offset Used Total\n"
        "pc.ram 4 KiB 0x0 0x8000000 0x8000000\n", "pc.ram", 128 << 20);

    g_assert_nonnull(a);
    g_assert_cmpuint(a->len, ==, 1);
    g_assert_cmphex(g_array_index(a, uint64_t, 0), ==, 0x7fac7137d000);
    g_assert_cmpuint(b->len, ==, 0);            /* another size */
    g_assert_cmpuint(c->len, ==, 1);
    g_assert_cmphex(g_array_index(c, uint64_t, 0), ==, 0x7fac1be00000);
    g_assert_cmpuint(d->len, ==, 0);            /* "cam0" is not ".../am0" */
    g_assert_null(e);                           /* no HVA column */
}

static void test_maps(void)
{
    static const char maps[] =
        "55d0c1a00000-55d0c1b00000 r--p 00000000 fe:01 1234 /usr/bin/qemu-system-x86_64\n"
        "7fac29fff000-7fac2bfff000 rw-s 00000000 00:1a 934                        /dev/shm/qemu-7213-shm-1 (deleted)\n"
        "7fac7137d000-7fac7337d000 rw-s 00000000 00:1a 933                        /dev/shm/qemu-7213-shm-0 (deleted)\n"
        "7fac7337d000-7fac7337e000 ---p 00000000 00:00 0 \n";
    struct shmcam_qemu_mapping m;

    g_assert_cmpint(shmcam_qemu_maps_find(maps, 0x7fac7137d000, &m), ==, 0);
    g_assert_cmphex(m.start, ==, 0x7fac7137d000);
    g_assert_cmphex(m.end, ==, 0x7fac7337d000);
    g_assert_cmpuint(m.offset, ==, 0);
    g_assert_cmpuint(m.major, ==, 0);
    g_assert_cmpuint(m.minor, ==, 0x1a);
    g_assert_cmpuint(m.inode, ==, 933);
    g_assert_cmpstr(m.path, ==, "/dev/shm/qemu-7213-shm-0 (deleted)");
    g_assert_cmpint(shmcam_qemu_maps_find(maps, 0x7fac2bffefff, &m), ==, 0);
    g_assert_cmpuint(m.inode, ==, 934);
    g_assert_cmpint(shmcam_qemu_maps_find(maps, 0x7fac7337d800, &m), ==, 0);
    g_assert_cmpstr(m.path, ==, "");
    g_assert_cmpint(shmcam_qemu_maps_find(maps, 0x1000, &m), ==, -ENOENT);

    g_assert_true(shmcam_qemu_shm_link("/dev/shm/qemu-7213-shm-0 (deleted)"));
    g_assert_true(shmcam_qemu_shm_link("/dev/shm/qemu-1-shm-12 (deleted)"));
    g_assert_false(shmcam_qemu_shm_link("/dev/shm/qemu-7213-shm-0"));
    g_assert_false(shmcam_qemu_shm_link("/dev/shm/qemu-x-shm-0 (deleted)"));
    g_assert_false(shmcam_qemu_shm_link("/dev/shm/qemu-7213-shm- (deleted)"));
    g_assert_false(shmcam_qemu_shm_link("/memfd:qemu-7213-shm-0 (deleted)"));
    g_assert_false(shmcam_qemu_shm_link("/dev/shm/shmcam0"));
}

/* --- the QMP client, against a server of ours ---------------------- */

enum fake_qmp_mode {
    QMP_OK,             /* QEMU: events between replies, one command missing */
    QMP_HMP,            /* a human monitor */
    QMP_SILENT,         /* another client holds it: nothing is said */
    QMP_GARBAGE,        /* not QMP at all */
};

struct fake_qmp {
    char *dir;
    char *path;
    int lsock;
    enum fake_qmp_mode mode;
    pthread_t thread;
    GPtrArray *seen;        /* the commands, as executed */
};

static void fake_send(int fd, const char *s)
{
    g_assert_cmpint(send(fd, s, strlen(s), MSG_NOSIGNAL), ==, strlen(s));
}

static void *fake_qmp_thread(void *opaque)
{
    struct fake_qmp *f = opaque;
    g_autoptr(GString) in = g_string_new(NULL);
    char buf[1024];
    int fd = accept(f->lsock, NULL, NULL);
    ssize_t n;

    g_assert_cmpint(fd, >=, 0);
    switch (f->mode) {
    case QMP_HMP:
        fake_send(fd, "QEMU 10.0.2 monitor - type 'help' for more "
                  "information\r\n(qemu) ");
        break;
    case QMP_GARBAGE:
        fake_send(fd, "hello, world\r\n");
        break;
    case QMP_SILENT:
        break;
    case QMP_OK:
        fake_send(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, "
                  "\"minor\": 0, \"major\": 10}, \"package\": \"\"}, "
                  "\"capabilities\": [\"oob\"]}}\r\n");
        break;
    }
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
        char *nl;

        g_string_append_len(in, buf, n);
        while ((nl = strchr(in->str, '\n'))) {
            g_autoptr(JsonParser) p = json_parser_new();
            g_autofree char *line = g_strndup(in->str, nl - in->str);
            g_autofree char *reply = NULL;
            JsonObject *o;
            const char *cmd;
            gint64 id;

            g_string_erase(in, 0, nl - in->str + 1);
            g_assert_true(json_parser_load_from_data(p, line, -1, NULL));
            o = json_node_get_object(json_parser_get_root(p));
            cmd = json_object_get_string_member(o, "execute");
            id = json_object_get_int_member(o, "id");
            g_ptr_array_add(f->seen, g_strdup(cmd));
            if (!strcmp(cmd, "qmp_capabilities")) {
                reply = g_strdup_printf("{\"return\": {}, \"id\": %"
                                        G_GINT64_FORMAT "}\r\n", id);
            } else if (!strcmp(cmd, "query-memdev")) {
                /* an event first, and a reply to someone else's id */
                fake_send(fd, "{\"timestamp\": {\"seconds\": 1, "
                          "\"microseconds\": 2}, \"event\": \"RESUME\"}\r\n");
                fake_send(fd, "{\"return\": [], \"id\": 999}\r\n");
                reply = g_strdup_printf("{\"return\": [{\"id\": \"cam0\", "
                                        "\"size\": 33554432}], \"id\": %"
                                        G_GINT64_FORMAT "}\r\n", id);
            } else if (!strcmp(cmd, "human-monitor-command")) {
                reply = g_strdup_printf("{\"return\": \"a\\r\\nb\\r\\n\", "
                                        "\"id\": %" G_GINT64_FORMAT "}\r\n",
                                        id);
            } else if (!strcmp(cmd, "qom-get")) {
                reply = g_strdup_printf("{\"id\": %" G_GINT64_FORMAT ", "
                                        "\"error\": {\"class\": "
                                        "\"GenericError\", \"desc\": "
                                        "\"Property 'x' not found\"}}\r\n", id);
            } else {
                reply = g_strdup_printf("{\"id\": %" G_GINT64_FORMAT ", "
                                        "\"error\": {\"class\": "
                                        "\"CommandNotFound\", \"desc\": "
                                        "\"The command %s has not been "
                                        "found\"}}\r\n", id, cmd);
            }
            fake_send(fd, reply);
        }
    }
    close(fd);
    return NULL;
}

static void fake_qmp_start(struct fake_qmp *f, enum fake_qmp_mode mode)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    f->dir = g_dir_make_tmp("shmcam-qmp-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    f->path = g_build_filename(f->dir, "qmp.sock", NULL);
    f->mode = mode;
    f->seen = g_ptr_array_new_with_free_func(g_free);
    g_strlcpy(sa.sun_path, f->path, sizeof(sa.sun_path));
    f->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(f->lsock, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(f->lsock, 1), ==, 0);
    g_assert_cmpint(pthread_create(&f->thread, NULL, fake_qmp_thread, f), ==,
                    0);
}

/* Once the client has gone: the commands it ran, joined by spaces. */
static char *fake_qmp_stop(struct fake_qmp *f)
{
    char *seen;

    pthread_join(f->thread, NULL);
    g_ptr_array_add(f->seen, NULL);
    seen = g_strjoinv(" ", (char **)f->seen->pdata);
    close(f->lsock);
    g_unlink(f->path);
    g_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
    g_ptr_array_free(f->seen, TRUE);
    return seen;
}

static void test_qmp_client(void)
{
    struct fake_qmp f;
    struct shmcam_qmp q = SHMCAM_QMP_INIT;
    g_autoptr(GError) err = NULL;
    g_autofree char *seen = NULL;
    JsonNode *r;
    JsonObject *o;

    fake_qmp_start(&f, QMP_OK);
    g_assert_cmpint(shmcam_qmp_connect(&q, f.path, 5000, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpint(q.pid, ==, getpid());       /* SO_PEERCRED */
    g_assert_cmpint(q.uid, ==, geteuid());
    r = shmcam_qmp_call(&q, "query-memdev", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(r));
    g_assert_cmpuint(json_array_get_length(json_node_get_array(r)), ==, 1);
    o = json_array_get_object_element(json_node_get_array(r), 0);
    g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, "cam0");
    g_assert_cmpint(json_object_get_int_member(o, "size"), ==, 33554432);
    json_node_unref(r);

    g_assert_null(shmcam_qmp_call(&q, "x-query-ramblock", NULL, &err));
    g_assert_error(err, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_NOT_FOUND);
    g_assert_cmpstr(err->message, ==,
                    "The command x-query-ramblock has not been found");
    g_clear_error(&err);
    g_assert_null(shmcam_qmp_call(&q, "qom-get", "{\"path\": \"/x\"}", &err));
    g_assert_error(err, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_COMMAND);
    g_assert_cmpstr(err->message, ==, "Property 'x' not found");
    g_clear_error(&err);
    r = shmcam_qmp_call(&q, "human-monitor-command",
                        "{\"command-line\": \"info ramblock\"}", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(json_node_get_string(r), ==, "a\r\nb\r\n");
    json_node_unref(r);
    shmcam_qmp_close(&q);
    seen = fake_qmp_stop(&f);
    g_assert_cmpstr(seen, ==, "qmp_capabilities query-memdev x-query-ramblock "
                    "qom-get human-monitor-command");
}

static void test_qmp_refused(void)
{
    static const struct {
        enum fake_qmp_mode mode;
        const char *fmt;
    } cases[] = {
        { QMP_HMP, "%s is QEMU's human monitor (-monitor), not QMP (give "
          "QEMU -qmp unix:%s,server=on,wait=off)" },
        { QMP_SILENT, "no greeting on QMP socket %s within 1 s (QEMU serves "
          "one client at a time on a -qmp socket: another one holds it)" },
        { QMP_GARBAGE, "QMP socket %s sent something that is not a JSON "
          "object: hello, world" },
    };
    struct shmcam_qmp q = SHMCAM_QMP_INIT;
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *want = NULL;
        struct fake_qmp f;

        fake_qmp_start(&f, cases[i].mode);
        g_assert_cmpint(shmcam_qmp_connect(&q, f.path, 300, &err), ==, -EPROTO);
        g_assert_cmpint(q.fd, ==, -1);
        want = g_strdup_printf(cases[i].fmt, f.path, f.path);
        g_assert_cmpstr(err->message, ==, want);
        g_free(fake_qmp_stop(&f));
    }
    {
        g_autoptr(GError) err = NULL;

        g_assert_cmpint(shmcam_qmp_connect(&q, "/nonexistent/qmp.sock", 300,
                                           &err), ==, -ENOENT);
        g_assert_cmpstr(err->message, ==, "no QMP socket /nonexistent/qmp.sock "
                        "(start QEMU with -qmp unix:/nonexistent/qmp.sock,"
                        "server=on,wait=off)");
    }
}

/* --- a fake QEMU: its unnamed shm objects as QEMU makes them ---------- */

/*
 * This program run as "--fake-qemu -object memory-backend-shm,id=..,
 * size=.. ...": for each such object, what qemu_shm_alloc() does
 * (shm_open of "/qemu-PID-shm-N" with mode 0, shm_unlink, ftruncate),
 * then a shared mapping; "ready" on stdout, then it waits for the end of
 * its stdin.  With "-undumpable", it makes itself what QEMU is after
 * -run-with user=: not dumpable.
 */
static int fake_qemu_main(int argc, char **argv)
{
    int i, seq = 0;
    char c;

    for (i = 2; i < argc; i++) {
        g_autofree char *name = NULL, *size_s = NULL;
        const char *s;
        uint64_t size = 0;
        char *end;
        int fd;

        if (!strcmp(argv[i], "-undumpable")) {
            prctl(PR_SET_DUMPABLE, 0);
            continue;
        }
        if (strcmp(argv[i], "-object") || i + 1 >= argc ||
            !g_str_has_prefix(argv[++i], "memory-backend-shm,")) {
            continue;
        }
        s = strstr(argv[i], "size=");
        if (!s) {
            return 2;
        }
        end = strchr(s, ',');
        size_s = end ? g_strndup(s + 5, end - s - 5) : g_strdup(s + 5);
        if (!shmcam_qemu_parse_size(size_s, &size)) {
            return 2;
        }
        name = g_strdup_printf("/qemu-%d-shm-%d", getpid(), seq++);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0);
        if (fd < 0) {
            return 3;
        }
        shm_unlink(name);
        if (ftruncate(fd, size) < 0 ||
            mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
            MAP_FAILED) {
            return 4;
        }
    }
    printf("ready\n");
    fflush(stdout);
    while (read(STDIN_FILENO, &c, 1) > 0) {
    }
    return 0;
}

struct fake_qemu {
    pid_t pid;
    int in;             /* its stdin: closed to stop it */
};

/* Become @uid (and @gid), for good: a process of another user. */
static void become(uid_t uid, gid_t gid)
{
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0) {
        _exit(125);
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* cleared by the change of user */
}

/* Start a fake QEMU with @objs (an -object spec each, or an option of
 * its own: "-undumpable"), as @uid. */
static void fake_qemu_start(struct fake_qemu *fq, uid_t uid,
                            const char *const *objs)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    int in[2], out[2];
    char line[16] = "";
    FILE *f;

    g_ptr_array_add(argv, (char *)"/proc/self/exe");
    g_ptr_array_add(argv, (char *)"--fake-qemu");
    for (; *objs; objs++) {
        if (**objs != '-') {
            g_ptr_array_add(argv, (char *)"-object");
        }
        g_ptr_array_add(argv, (char *)*objs);
    }
    g_ptr_array_add(argv, NULL);
    g_assert_cmpint(pipe2(in, O_CLOEXEC), ==, 0);
    g_assert_cmpint(pipe2(out, O_CLOEXEC), ==, 0);
    fq->pid = fork();
    g_assert_cmpint(fq->pid, >=, 0);
    if (fq->pid == 0) {
        if (uid != geteuid()) {
            become(uid, uid == NOBODY ? NOGROUP : uid);
        } else {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        }
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        execv("/proc/self/exe", (char **)argv->pdata);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fq->in = in[1];
    f = fdopen(out[0], "r");
    g_assert_nonnull(fgets(line, sizeof(line), f));
    g_assert_cmpstr(line, ==, "ready\n");
    fclose(f);
}

static void fake_qemu_stop(struct fake_qemu *fq)
{
    int status;

    close(fq->in);
    g_assert_cmpint(waitpid(fq->pid, &status, 0), ==, fq->pid);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The descriptor @arg finds: what QEMU's /proc/PID/fd/N is open on. */
/*
 * shmcam_qemu_memdev_open(@arg) must fail with @ret and the message @fmt
 * formats, exactly.
 */
static void G_GNUC_PRINTF(3, 4) assert_refused(const char *arg, int ret,
                                               const char *fmt, ...)
{
    struct shmcam_qemu_memdev m = { .max_mode = 0600 };
    g_autoptr(GError) err = NULL;
    g_autofree char *want = NULL;
    va_list ap;

    va_start(ap, fmt);
    want = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assert_cmpint(shmcam_qemu_memdev_open(arg, &m, &err), ==, ret);
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, want);
    shmcam_qemu_memdev_clear(&m);
}

static void assert_is_qemus(int fd, const struct shmcam_qemu_memdev *m)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd/%d", m->pid,
                                            m->qemu_fd);
    struct stat a, b;

    g_assert_cmpint(fstat(fd, &a), ==, 0);
    g_assert_cmpint(stat(path, &b), ==, 0);
    g_assert_cmpuint(a.st_dev, ==, b.st_dev);
    g_assert_cmpuint(a.st_ino, ==, b.st_ino);
    g_assert_cmpuint(a.st_mode & 07777, ==, 0);
    g_assert_cmpuint(a.st_nlink, ==, 0);
}

/* shmcam_qemu_memdev_open(@arg) in a child process of user @uid: its
 * message (NULL when it found the backend, of @size bytes). */
static char *open_as(uid_t uid, const char *arg, uint64_t size)
{
    g_autofree char *msg = NULL;
    int p[2], status;
    pid_t pid;

    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        struct shmcam_qemu_memdev m = { .max_mode = 0600 };
        GError *err = NULL;
        int fd;

        close(p[0]);
        if (uid != geteuid()) {
            become(uid, uid == NOBODY ? NOGROUP : uid);
        }
        fd = shmcam_qemu_memdev_open(arg, &m, &err);
        if (fd < 0) {
            (void)!write(p[1], err->message, strlen(err->message));
            _exit(1);
        }
        _exit(m.size == size ? 0 : 2);
    }
    close(p[1]);
    {
        char buf[1024];
        ssize_t n;
        g_autoptr(GString) s = g_string_new(NULL);

        while ((n = read(p[0], buf, sizeof(buf))) > 0) {
            g_string_append_len(s, buf, n);
        }
        close(p[0]);
        msg = g_strdup(s->str);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) {
        return NULL;
    }
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    return g_steal_pointer(&msg);
}

static void test_pid_form(void)
{
    static const char *const objs[] = {
        "memory-backend-shm,id=cam0,size=1M",
        "memory-backend-shm,id=cam1,size=2M,share=on",
        "memory-backend-file,id=file0,size=1M,mem-path=/dev/shm/none",
        NULL,
    };
    struct fake_qemu fq;
    struct shmcam_qemu_memdev m = { .max_mode = 0600 };
    g_autoptr(GError) err = NULL;
    g_autofree char *arg = NULL, *want = NULL, *msg = NULL;
    int fd;

    fake_qemu_start(&fq, geteuid(), objs);
    arg = g_strdup_printf("%d:cam1", fq.pid);
    fd = shmcam_qemu_memdev_open(arg, &m, &err);
    g_assert_no_error(err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(m.size, ==, 2 << 20);
    g_assert_cmpint(m.pid, ==, fq.pid);
    g_assert_cmpuint(m.uid, ==, geteuid());
    g_assert_true(shmcam_qemu_shm_link(m.link));
    g_assert_cmpstr(m.how, ==, "QEMU's command line");
    want = g_strdup_printf("memory-backend-shm cam1 of QEMU %d", fq.pid);
    g_assert_cmpstr(m.desc, ==, want);
    assert_is_qemus(fd, &m);

    /* A second producer on it is refused by the lock; once the first
     * has let go, it is not. */
    msg = open_as(geteuid(), arg, 2 << 20);
    g_free(want);
    want = g_strdup_printf("memory-backend-shm cam1 of QEMU %d is in use by "
                           "another shmcam-host on this machine (stop it "
                           "first)", fq.pid);
    g_assert_cmpstr(msg, ==, want);
    close(fd);
    shmcam_qemu_memdev_clear(&m);
    g_free(msg);
    msg = open_as(geteuid(), arg, 2 << 20);
    g_assert_null(msg);

    /* No such id; another type. */
    g_free(arg);
    arg = g_strdup_printf("%d:cam9", fq.pid);
    g_assert_cmpint(shmcam_qemu_memdev_open(arg, &m, &err), ==, -ENOENT);
    g_free(want);
    want = g_strdup_printf("QEMU %d has no -object memory-backend-shm,id=cam9 "
                           "on its command line (it has cam0, cam1; for a "
                           "backend made with object-add, give its QMP "
                           "socket: --qemu-memdev SOCKET:cam9)", fq.pid);
    g_assert_cmpstr(err->message, ==, want);
    g_clear_error(&err);
    g_free(arg);
    arg = g_strdup_printf("%d:file0", fq.pid);
    g_assert_cmpint(shmcam_qemu_memdev_open(arg, &m, &err), ==, -EINVAL);
    g_free(want);
    want = g_strdup_printf("QEMU %d's file0 is a memory-backend-file, not a "
                           "memory-backend-shm (publish into its mem-path "
                           "with --shm NAME or --region PATH)", fq.pid);
    g_assert_cmpstr(err->message, ==, want);
    g_clear_error(&err);
    shmcam_qemu_memdev_clear(&m);
    fake_qemu_stop(&fq);
}

static void test_pid_refused(void)
{
    static const char *const two[] = {
        "memory-backend-shm,id=cam0,size=1M",
        "memory-backend-shm,id=cam1,size=1M",
        NULL,
    };
    struct fake_qemu fq;
    g_autofree char *arg = NULL, *comm = NULL;
    int status;
    pid_t gone;

    /* Two of one size: the PID cannot tell them apart. */
    fake_qemu_start(&fq, geteuid(), two);
    arg = g_strdup_printf("%d:cam1", fq.pid);
    assert_refused(arg, -ENOTUNIQ, "QEMU %d has 2 memory-backend-shm objects "
                   "of 1048576 bytes (cam0, cam1; 2 shm descriptors), which "
                   "its process id alone cannot tell apart: give its QMP "
                   "socket instead (QEMU's -qmp unix:SOCKET,server=on,"
                   "wait=off, then --qemu-memdev SOCKET:cam1)", fq.pid);
    fake_qemu_stop(&fq);

    /* A process that is gone, and one that is no QEMU (this one). */
    gone = fork();
    if (gone == 0) {
        _exit(0);
    }
    g_assert_cmpint(waitpid(gone, &status, 0), ==, gone);
    g_free(arg);
    arg = g_strdup_printf("%d:cam0", gone);
    assert_refused(arg, -ESRCH, "no process %d (give QEMU's process id, e.g. "
                   "from pgrep -f qemu-system, or its QMP socket)", gone);
    g_free(arg);
    arg = g_strdup_printf("%d:cam0", getpid());
    g_assert_true(g_file_get_contents("/proc/self/comm", &comm, NULL, NULL));
    g_strchomp(comm);
    assert_refused(arg, -ENOENT, "process %d (%s) has no -object "
                   "memory-backend-shm on its command line (give QEMU's "
                   "process id; for a backend made with object-add, its QMP "
                   "socket: --qemu-memdev SOCKET:cam0)", getpid(), comm);
}

/*
 * As QEMU's own user, the object's mode 0000 forbids a new open: the
 * descriptor comes by pidfd_getfd().  As another user, QEMU's descriptors
 * may not be looked at: the message says as whom to run.
 */
static void test_pid_users(void)
{
    static const char *const one[] = {
        "memory-backend-shm,id=cam0,size=1M", NULL,
    };
    static const char *const undumpable[] = {
        "-undumpable", "memory-backend-shm,id=cam0,size=1M", NULL,
    };
    g_autofree char *arg = NULL, *msg = NULL, *want = NULL;
    struct fake_qemu fq;

    if (geteuid() != 0) {
        g_test_skip("needs root, to run as other users");
        return;
    }
    fake_qemu_start(&fq, NOBODY, one);
    arg = g_strdup_printf("%d:cam0", fq.pid);
    msg = open_as(NOBODY, arg, 1 << 20);
    g_assert_cmpstr(msg, ==, NULL);
    msg = open_as(0, arg, 1 << 20);
    g_assert_cmpstr(msg, ==, NULL);
    msg = open_as(DAEMON, arg, 1 << 20);
    want = g_strdup_printf("cannot open the memory of QEMU %d: /proc/%d/fd: "
                           "Permission denied (run shmcam-host as QEMU's "
                           "user (nobody, uid 65534) or as root)", fq.pid,
                           fq.pid);
    g_assert_cmpstr(msg, ==, want);
    fake_qemu_stop(&fq);

    /* Not dumpable, as after -run-with user=: root only. */
    fake_qemu_start(&fq, NOBODY, undumpable);
    g_free(arg);
    arg = g_strdup_printf("%d:cam0", fq.pid);
    g_free(msg);
    msg = open_as(NOBODY, arg, 1 << 20);
    g_free(want);
    want = g_strdup_printf("cannot open the memory of QEMU %d: /proc/%d/fd: "
                           "Permission denied (QEMU runs as nobody, uid "
                           "65534, and is not dumpable, as after -run-with "
                           "user=: run shmcam-host as root)", fq.pid, fq.pid);
    g_assert_cmpstr(msg, ==, want);
    g_free(msg);
    msg = open_as(0, arg, 1 << 20);
    g_assert_null(msg);
    fake_qemu_stop(&fq);

    /* QEMU as root: nobody may not. */
    fake_qemu_start(&fq, 0, one);
    g_free(arg);
    arg = g_strdup_printf("%d:cam0", fq.pid);
    g_free(msg);
    msg = open_as(NOBODY, arg, 1 << 20);
    g_free(want);
    want = g_strdup_printf("cannot open the memory of QEMU %d: /proc/%d/fd: "
                           "Permission denied (run shmcam-host as QEMU's "
                           "user (root, uid 0) or as root)", fq.pid, fq.pid);
    g_assert_cmpstr(msg, ==, want);
    fake_qemu_stop(&fq);
}

/* --- real QEMU ------------------------------------------------------- */

struct qemu {
    pid_t pid;
    char *dir;
    char *qmp;
    char *err;
};

/* QEMU, paused, with cam0 mapped by ivshmem-plain and a second backend of
 * the same size that no device maps. */
static bool qemu_start(struct qemu *q)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    g_autofree char *qmp_arg = NULL;
    gint64 end = deadline();
    int fd;

    if (!qemu) {
        return false;
    }
    q->dir = g_dir_make_tmp("shmcam-memdev-XXXXXX", NULL);
    /* Reachable: the socket's own mode decides who may connect. */
    g_assert_cmpint(chmod(q->dir, 0755), ==, 0);
    q->qmp = g_build_filename(q->dir, "qmp.sock", NULL);
    q->err = g_build_filename(q->dir, "qemu.err", NULL);
    qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", q->qmp);
    fd = open(q->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    q->pid = fork();
    g_assert_cmpint(q->pid, >=, 0);
    if (q->pid == 0) {
        const char *argv[] = {
            qemu, "-M", "pc", "-accel", "tcg", "-nodefaults", "-display",
            "none", "-S", "-m", "64", "-monitor", "none", "-serial", "none",
            "-qmp", qmp_arg,
            "-object", "memory-backend-shm,id=cam0,size=32M",
            "-device", "ivshmem-plain,memdev=cam0",
            "-object", "memory-backend-shm,id=spare,size=32M",
            NULL,
        };

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        umask(022);     /* the QMP socket: root's, open to no one else */
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(qemu, (char **)argv);
        _exit(127);
    }
    close(fd);
    while (!g_file_test(q->qmp, G_FILE_TEST_EXISTS)) {
        g_assert_cmpint(waitpid(q->pid, NULL, WNOHANG), ==, 0);
        check_deadline(end, "QMP socket from QEMU");
        g_usleep(10000);
    }
    return true;
}

static void qemu_stop(struct qemu *q)
{
    kill(q->pid, SIGKILL);
    g_assert_cmpint(waitpid(q->pid, NULL, 0), ==, q->pid);
    g_unlink(q->qmp);
    g_unlink(q->err);
    g_rmdir(q->dir);
    g_free(q->qmp);
    g_free(q->err);
    g_free(q->dir);
}

/* shmcam-host ARGS... as @uid: its exit status, its stderr in *@out; with
 * @stop_at, once its output has @stop_at, SIGTERM to @victim (0: to
 * shmcam-host). */
static int host_run(uid_t uid, const char *const *args, const char *stop_at,
                    pid_t victim, char **out)
{
    const char *host = g_getenv("SHMCAM_HOST");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GString) text = g_string_new(NULL);
    gint64 end = deadline();
    int p[2], status;
    pid_t pid;

    g_assert_nonnull(host);
    g_ptr_array_add(argv, (char *)host);
    for (; *args; args++) {
        g_ptr_array_add(argv, (char *)*args);
    }
    g_ptr_array_add(argv, NULL);
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        if (uid != geteuid()) {
            become(uid, uid == NOBODY ? NOGROUP : uid);
        }
        dup2(p[1], STDERR_FILENO);
        execv(host, (char **)argv->pdata);
        _exit(127);
    }
    close(p[1]);
    g_unix_set_fd_nonblocking(p[0], TRUE, NULL);
    for (;;) {
        char buf[512];
        ssize_t n = read(p[0], buf, sizeof(buf));

        if (n > 0) {
            g_string_append_len(text, buf, n);
            if (stop_at && strstr(text->str, stop_at)) {
                kill(victim ? victim : pid, SIGTERM);
                stop_at = NULL;
            }
            continue;
        }
        if (n == 0) {
            break;
        }
        check_deadline(end, "end of shmcam-host");
        g_usleep(10000);
    }
    close(p[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    *out = g_string_free(g_steal_pointer(&text), FALSE);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_qemu(void)
{
    struct qemu q;
    struct shmcam_qemu_memdev m = { .max_mode = 0600 };
    g_autoptr(GError) err = NULL;
    g_autofree char *arg = NULL, *want = NULL, *out = NULL, *maps = NULL;
    g_autofree char *maps_path = NULL, *link_path = NULL;
    const struct shmcam_header *hdr;
    struct stat st;
    int fd;

    if (!qemu_start(&q)) {
        g_test_skip("qemu-system-x86_64 is not installed");
        return;
    }

    /* The QMP form finds the one a device maps. */
    arg = g_strdup_printf("%s:cam0", q.qmp);
    fd = shmcam_qemu_memdev_open(arg, &m, &err);
    g_assert_no_error(err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(m.pid, ==, q.pid);
    g_assert_cmpuint(m.size, ==, 32 << 20);
    want = g_strdup_printf("QMP socket %s", q.qmp);
    g_assert_cmpstr(m.how, ==, want);
    assert_is_qemus(fd, &m);
    /* ... and that is the file QEMU maps for cam0, not spare's. */
    maps_path = g_strdup_printf("/proc/%d/maps", q.pid);
    g_assert_true(g_file_get_contents(maps_path, &maps, NULL, NULL));
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_nonnull(strstr(maps, m.link));
    close(fd);
    shmcam_qemu_memdev_clear(&m);

    g_free(arg);
    arg = g_strdup_printf("%s:spare", q.qmp);
    assert_refused(arg, -ENOENT, "QEMU %d's memory-backend-shm spare is not "
                   "mapped by any device (give it one: -device "
                   "ivshmem-plain,memdev=spare)", q.pid);
    g_free(arg);
    arg = g_strdup_printf("%s:pc.ram", q.qmp);
    assert_refused(arg, -EINVAL, "QEMU %d's pc.ram is a memory-backend-ram, "
                   "not a memory-backend-shm (--qemu-memdev takes "
                   "memory-backend-shm only)", q.pid);
    g_free(arg);
    arg = g_strdup_printf("%s:cam7", q.qmp);
    assert_refused(arg, -ENOENT, "QEMU %d has no memory backend cam7 (it has "
                   "cam0, pc.ram, spare; give it -object memory-backend-shm,"
                   "id=cam7,size=32M)", q.pid);

    /* The PID form cannot tell cam0 from spare. */
    g_free(arg);
    arg = g_strdup_printf("%d:cam0", q.pid);
    g_assert_cmpint(shmcam_qemu_memdev_open(arg, &m, &err), ==, -ENOTUNIQ);
    g_clear_error(&err);
    shmcam_qemu_memdev_clear(&m);

    /* shmcam-host publishes into it, and leaves it to QEMU. */
    {
        g_autofree char *qarg = g_strdup_printf("%s:cam0", q.qmp);
        const char *args[] = {
            "--pattern", "--size", "640x480", "--qemu-memdev", qarg, NULL,
        };

        g_assert_cmpint(host_run(geteuid(), args, ": streaming\n", 0, &out),
                        ==, 0);
        g_free(want);
        want = g_strdup_printf("shmcam-host: memory-backend-shm cam0 of QEMU "
                               "%d is QEMU's descriptor ", q.pid);
        g_assert_nonnull(strstr(out, want));
        g_assert_nonnull(strstr(out, "32 MiB, found through QMP socket "));
        g_free(want);
        want = g_strdup_printf("into memory-backend-shm cam0 of QEMU %d (32 "
                               "MiB: 3 slots", q.pid);
        g_assert_nonnull(strstr(out, want));
    }
    g_free(arg);
    arg = g_strdup_printf("%s:cam0", q.qmp);
    fd = shmcam_qemu_memdev_open(arg, &m, &err);
    g_assert_no_error(err);
    hdr = mmap(NULL, m.size, PROT_READ, MAP_SHARED, fd, 0);
    g_assert_true(hdr != MAP_FAILED);
    g_assert_cmphex(hdr->magic, ==, SHMCAM_MAGIC);
    g_assert_cmpuint(hdr->state, ==, SHMCAM_STATE_STOPPED);
    munmap((void *)hdr, m.size);
    link_path = g_strdup_printf("/proc/%d/fd/%d", q.pid, m.qemu_fd);
    g_assert_cmpint(stat(link_path, &st), ==, 0);
    g_assert_cmpuint(st.st_size, ==, 32 << 20);     /* never resized */
    close(fd);
    shmcam_qemu_memdev_clear(&m);

    /* shmcam-host as another user: exit 1, and as whom to run. */
    if (geteuid() == 0) {
        g_autofree char *parg = g_strdup_printf("%d:cam0", q.pid);
        g_autofree char *qarg = g_strdup_printf("%s:cam0", q.qmp);
        const char *pargs[] = { "--pattern", "--qemu-memdev", parg, NULL };
        const char *qargs[] = { "--pattern", "--qemu-memdev", qarg, NULL };

        g_free(out);
        g_assert_cmpint(host_run(NOBODY, pargs, NULL, 0, &out), ==, 1);
        g_free(want);
        want = g_strdup_printf("shmcam-host: cannot open the memory of QEMU "
                               "%d: /proc/%d/fd: Permission denied (run "
                               "shmcam-host as QEMU's user (root, uid 0) or "
                               "as root)\n", q.pid, q.pid);
        g_assert_cmpstr(out, ==, want);
        g_free(out);
        g_assert_cmpint(host_run(NOBODY, qargs, NULL, 0, &out), ==, 1);
        g_free(want);
        want = g_strdup_printf("shmcam-host: may not connect to QMP socket "
                               "%s: Permission denied (run shmcam-host as "
                               "QEMU's user (the socket's owner: root, uid "
                               "0) or as root)\n", q.qmp);
        g_assert_cmpstr(out, ==, want);
    }

    /* QEMU exits: shmcam-host stops, as after a SIGTERM. */
    {
        g_autofree char *qarg = g_strdup_printf("%s:cam0", q.qmp);
        const char *args[] = { "--pattern", "--qemu-memdev", qarg, NULL };

        g_free(out);
        g_assert_cmpint(host_run(geteuid(), args, ": streaming\n", q.pid,
                                 &out), ==, 0);
        g_free(want);
        want = g_strdup_printf("shmcam-host: QEMU %d has exited, its "
                               "memory-backend-shm cam0 with it: stopping\n",
                               q.pid);
        g_assert_nonnull(strstr(out, want));
    }
    qemu_stop(&q);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--fake-qemu")) {
        return fake_qemu_main(argc, argv);
    }
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/qemu-memdev/target", test_target);
    g_test_add_func("/qemu-memdev/size", test_size);
    g_test_add_func("/qemu-memdev/cmdline", test_cmdline);
    g_test_add_func("/qemu-memdev/ramblock", test_ramblock);
    g_test_add_func("/qemu-memdev/maps", test_maps);
    g_test_add_func("/qemu-memdev/qmp-client", test_qmp_client);
    g_test_add_func("/qemu-memdev/qmp-refused", test_qmp_refused);
    g_test_add_func("/qemu-memdev/pid-form", test_pid_form);
    g_test_add_func("/qemu-memdev/pid-refused", test_pid_refused);
    g_test_add_func("/qemu-memdev/pid-users", test_pid_users);
    g_test_add_func("/qemu-memdev/qemu", test_qemu);
    return g_test_run();
}
