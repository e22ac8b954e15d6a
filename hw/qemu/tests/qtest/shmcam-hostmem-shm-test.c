/*
 * QTest testcase for memory-backend-shm with a name
 *
 * The test plays the other program on the shm object: it looks at
 * /dev/shm, creates objects for QEMU to attach to, and maps them to check
 * that what the guest sees through ivshmem-plain's BAR2 is the same
 * memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <sys/mman.h>
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "libqos/libqos-pc.h"
#include "libqtest.h"
#include "shmcam-qtest.h"

#define IVSHMEM_VENDOR_ID   0x1af4
#define IVSHMEM_DEVICE_ID   0x1110
#define IVSHMEM_SHM_BAR     2

#define SIZE_1M             (1 << 20)

typedef struct {
    QOSState *qs;
    QPCIDevice *dev;
    QPCIBar bar;
} Guest;

/* A name of this run's own: "/shmcam-qtest-PID-WHAT". */
static char *shm_name(const char *what)
{
    return g_strdup_printf("/shmcam-qtest-%d-%s", (int)getpid(), what);
}

static bool shm_entry(const char *name, struct stat *st)
{
    g_autofree char *path = g_strdup_printf("/dev/shm%s", name);
    struct stat dummy;

    return stat(path, st ? st : &dummy) == 0;
}

static void assert_entry(const char *name, mode_t mode, off_t size)
{
    struct stat st;

    g_assert_true(shm_entry(name, &st));
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpint(st.st_uid, ==, getuid());
    g_assert_cmpint(st.st_mode & 07777, ==, mode);
    g_assert_cmpint(st.st_size, ==, size);
}

/* Map the object as the producer does; NULL when it does not exist. */
static uint8_t *host_map(const char *name, size_t size)
{
    int fd = shm_open(name, O_RDWR, 0);
    void *p;

    if (fd < 0) {
        return NULL;
    }
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    g_assert_true(p != MAP_FAILED);
    return p;
}

/* Create an object the way a producer that starts first does. */
static uint8_t *host_create(const char *name, size_t size, mode_t mode)
{
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, mode);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fchmod(fd, mode), ==, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return host_map(name, size);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = seed + i * 7;
    }
}

/* Boot a pc with ivshmem-plain on the backend that extra defines as cam. */
static void guest_boot(Guest *g, const char *extra, uint64_t size)
{
    uint64_t barsize;

    g->qs = qtest_pc_boot("%s -device ivshmem-plain,memdev=cam", extra);
    g->dev = NULL;
    qpci_device_foreach(g->qs->pcibus, IVSHMEM_VENDOR_ID, IVSHMEM_DEVICE_ID,
                        shmcam_qtest_save_dev, &g->dev);
    g_assert_nonnull(g->dev);
    qpci_device_enable(g->dev);
    g->bar = qpci_iomap(g->dev, IVSHMEM_SHM_BAR, &barsize);
    g_assert_cmpuint(barsize, ==, size);
}

static void guest_quit(Guest *g)
{
    g_free(g->dev);
    qtest_shutdown(g->qs);
}

/*
 * The guest and the host see the same bytes: what the host wrote at the
 * start and the end of the object reads back through BAR2, and what the
 * guest writes there shows in the host's mapping.
 */
static void check_shared(Guest *g, uint8_t *host, size_t size)
{
    uint64_t offs[] = { 0, size - 4096 };
    uint8_t want[64], got[64];

    for (int i = 0; i < ARRAY_SIZE(offs); i++) {
        fill(want, sizeof(want), 0x11 * (i + 1));
        memcpy(host + offs[i], want, sizeof(want));
        qpci_memread(g->dev, g->bar, offs[i], got, sizeof(got));
        g_assert_cmpmem(got, sizeof(got), want, sizeof(want));

        fill(want, sizeof(want), 0x5a + i);
        qpci_memwrite(g->dev, g->bar, offs[i], want, sizeof(want));
        g_assert_cmpmem(host + offs[i], sizeof(want), want, sizeof(want));
    }
}

/* The message of a QMP command's error; the command must have failed. */
static char *qmp_error(QDict *rsp)
{
    QDict *err = qdict_get_qdict(rsp, "error");
    char *desc;

    g_assert_nonnull(err);
    desc = g_strdup(qdict_get_str(err, "desc"));
    qobject_unref(rsp);
    return desc;
}

/* Try to change a property of /objects/cam; returns the error message. */
static char *qom_set_error(QTestState *qts, const char *prop)
{
    if (!strcmp(prop, "attach")) {
        return qmp_error(qtest_qmp(qts, "{'execute': 'qom-set', "
                                   "'arguments': {'path': '/objects/cam', "
                                   "'property': 'attach', 'value': true}}"));
    }
    return qmp_error(qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': "
                               "{'path': '/objects/cam', 'property': %s, "
                               "'value': '/other'}}", prop));
}

static char *qom_get_str(QTestState *qts, const char *path, const char *prop)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': %s, 'property': %s}}", path, prop);
    char *val = g_strdup(qdict_get_str(rsp, "return"));

    qobject_unref(rsp);
    return val;
}

static uint64_t qom_get_uint(QTestState *qts, const char *path,
                             const char *prop)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': %s, 'property': %s}}", path, prop);
    uint64_t val = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return val;
}

static bool qom_get_bool(QTestState *qts, const char *path, const char *prop)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': %s, 'property': %s}}", path, prop);
    bool val = qdict_get_bool(rsp, "return");

    qobject_unref(rsp);
    return val;
}

/*
 * QEMU creates the object: 0600, the backend's size, the guest's memory;
 * its properties are fixed from then on; the name goes when QEMU quits.
 */
static void test_create(void)
{
    g_autofree char *name = shm_name("create");
    g_autofree char *args = g_strdup_printf("-object memory-backend-shm,"
                                            "id=cam,size=%d,name=%s",
                                            SIZE_1M, name);
    const char *path = "/objects/cam";
    const char *props[] = { "name", "mode", "attach" };
    Guest g;
    QTestState *qts;
    uint8_t *host;
    char *s;

    g_assert_false(shm_entry(name, NULL));
    guest_boot(&g, args, SIZE_1M);
    qts = g.qs->qts;
    assert_entry(name, 0600, SIZE_1M);

    host = host_map(name, SIZE_1M);
    g_assert_nonnull(host);
    check_shared(&g, host, SIZE_1M);

    s = qom_get_str(qts, path, "name");
    g_assert_cmpstr(s, ==, name);
    g_free(s);
    g_assert_cmpuint(qom_get_uint(qts, path, "mode"), ==, 0600);
    g_assert_false(qom_get_bool(qts, path, "attach"));

    for (int i = 0; i < ARRAY_SIZE(props); i++) {
        g_autofree char *want = g_strdup_printf("cannot change property "
                                                "'%s' of memory-backend-shm "
                                                "'cam'", props[i]);

        s = qom_set_error(qts, props[i]);
        g_assert_cmpstr(s, ==, want);
        g_free(s);
    }
    /* Nothing changed with the refusals. */
    assert_entry(name, 0600, SIZE_1M);

    guest_quit(&g);
    g_assert_false(shm_entry(name, NULL));
    munmap(host, SIZE_1M);
}

/*
 * mode is the entry's mode whatever the umask (022 here); an integer,
 * octal on the command line with a leading 0.
 */
static void test_mode(void)
{
    g_autofree char *a = shm_name("mode-a");
    g_autofree char *b = shm_name("mode-b");
    g_autofree char *args = g_strdup_printf(
        "-machine none "
        "-object memory-backend-shm,id=a,size=64K,name=%s,mode=0666 "
        "-object memory-backend-shm,id=b,size=64K,name=%s,mode=0640", a, b);
    QTestState *qts = qtest_init(args);

    assert_entry(a, 0666, 64 * KiB);
    assert_entry(b, 0640, 64 * KiB);
    g_assert_cmpuint(qom_get_uint(qts, "/objects/b", "mode"), ==, 0640);

    qtest_quit(qts);
    g_assert_false(shm_entry(a, NULL));
    g_assert_false(shm_entry(b, NULL));
}

/*
 * A producer created the object first: QEMU maps it as it is (the
 * producer's bytes are the guest's), and leaves it behind, unchanged.
 */
static void test_attach(void)
{
    g_autofree char *name = shm_name("attach");
    g_autofree char *args = g_strdup_printf("-object memory-backend-shm,"
                                            "id=cam,size=%d,name=%s,"
                                            "attach=on", SIZE_1M, name);
    uint8_t *host = host_create(name, SIZE_1M, 0644);
    uint8_t want[256], got[256];
    Guest g;

    fill(host, SIZE_1M, 0x3c);
    guest_boot(&g, args, SIZE_1M);
    assert_entry(name, 0644, SIZE_1M);

    fill(want, sizeof(want), 0x3c);
    qpci_memread(g.dev, g.bar, 0, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
    g_assert_true(qom_get_bool(g.qs->qts, "/objects/cam", "attach"));
    check_shared(&g, host, SIZE_1M);

    guest_quit(&g);
    assert_entry(name, 0644, SIZE_1M);
    /* What the guest wrote last is still there for the producer. */
    fill(want, 64, 0x5a);
    g_assert_cmpmem(host, 64, want, 64);

    munmap(host, SIZE_1M);
    g_assert_cmpint(shm_unlink(name), ==, 0);
}

/* An object of another size is refused, and left as it was. */
static void test_size_mismatch(void)
{
    g_autofree char *name = shm_name("size");
    size_t sizes[] = { 2 * SIZE_1M, SIZE_1M / 2 };

    for (int i = 0; i < ARRAY_SIZE(sizes); i++) {
        g_autofree char *args = g_strdup_printf(
            "-object memory-backend-shm,id=cam,size=%d,name=%s,attach=on "
            "-device ivshmem-plain,memdev=cam", SIZE_1M, name);
        g_autofree char *msg = g_strdup_printf(
            "shm object %s is %zu bytes, not the backend's %d (give "
            "size=%zu; an attached object is never resized)",
            name, sizes[i], SIZE_1M, sizes[i]);
        uint8_t *host = host_create(name, sizes[i], 0600);
        uint8_t *want = g_malloc(sizes[i]);

        fill(host, sizes[i], 0x77);
        fill(want, sizes[i], 0x77);
        shmcam_refused(args, msg);
        assert_entry(name, 0600, sizes[i]);
        g_assert_cmpmem(host, sizes[i], want, sizes[i]);

        g_free(want);
        munmap(host, sizes[i]);
        g_assert_cmpint(shm_unlink(name), ==, 0);
    }
}

/*
 * A name in use, by another QEMU or left by a producer, is refused
 * without attach=on, and the refused QEMU does not remove it.
 */
static void test_exists(void)
{
    g_autofree char *name = shm_name("exists");
    g_autofree char *first = g_strdup_printf("-machine none -object "
                                             "memory-backend-shm,id=cam,"
                                             "size=%d,name=%s",
                                             SIZE_1M, name);
    g_autofree char *second = g_strdup_printf("-object memory-backend-shm,"
                                              "id=cam,size=%d,name=%s "
                                              "-device ivshmem-plain,"
                                              "memdev=cam", SIZE_1M, name);
    g_autofree char *msg = g_strdup_printf("the name %s exists (use "
                                           "attach=on to share it)", name);
    QTestState *qts = qtest_init(first);
    uint8_t *host;

    assert_entry(name, 0600, SIZE_1M);
    shmcam_refused(second, msg);
    assert_entry(name, 0600, SIZE_1M);
    qtest_quit(qts);
    g_assert_false(shm_entry(name, NULL));

    host = host_create(name, SIZE_1M, 0640);
    shmcam_refused(second, msg);
    assert_entry(name, 0640, SIZE_1M);
    munmap(host, SIZE_1M);
    g_assert_cmpint(shm_unlink(name), ==, 0);
}

/* attach=on to a name nobody created: refused, and nothing created. */
static void test_attach_missing(void)
{
    g_autofree char *name = shm_name("missing");
    g_autofree char *args = g_strdup_printf("-object memory-backend-shm,"
                                            "id=cam,size=%d,name=%s,"
                                            "attach=on", SIZE_1M, name);
    g_autofree char *msg = g_strdup_printf("the name %s does not exist "
                                           "(create it first, or drop "
                                           "attach=on to have it created)",
                                           name);

    shmcam_refused(args, msg);
    g_assert_false(shm_entry(name, NULL));
}

/* Options that make no sense are refused before anything is created. */
static void test_bad_config(void)
{
    g_autofree char *name = shm_name("bad");
    g_autofree char *args = NULL;

    shmcam_refused("-object memory-backend-shm,id=cam,size=1M,"
                  "name=shmcam-qtest",
                  "shm object name 'shmcam-qtest' must be '/' followed by "
                  "a name without '/' (e.g. /shmcam0)");
    shmcam_refused("-object memory-backend-shm,id=cam,size=1M,"
                  "name=/shmcam/qtest",
                  "shm object name '/shmcam/qtest' must be '/' followed by "
                  "a name without '/' (e.g. /shmcam0)");
    shmcam_refused("-object memory-backend-shm,id=cam,size=1M,attach=on",
                  "attach=on needs the name of the shm object "
                  "(name=/NAME)");
    shmcam_refused("-object memory-backend-shm,id=cam,size=1M,mode=0644",
                  "mode needs a name (name=/NAME): an unnamed shm object "
                  "is private to QEMU");

    args = g_strdup_printf("-object memory-backend-shm,id=cam,size=1M,"
                           "name=%s,mode=0800", name);
    /* Not a number: 0 starts an octal one on the command line. */
    shmcam_refused(args, "Parameter 'mode' expects a uint64 value");
    g_free(args);
    args = g_strdup_printf("-object memory-backend-shm,id=cam,size=1M,"
                           "name=%s,mode=01777", name);
    shmcam_refused(args, "shm object mode 01777 is not a file mode from 0 "
                  "to 0777 (e.g. mode=0600)");
    g_free(args);
    args = g_strdup_printf("-object memory-backend-shm,id=cam,size=1M,"
                           "name=%s,attach=on,mode=0644", name);
    shmcam_refused(args, "mode is for a shm object QEMU creates: with "
                  "attach=on, ");
    g_free(args);
    args = g_strdup_printf("-object memory-backend-shm,id=cam,size=1M,"
                           "name=%s,share=off", name);
    shmcam_refused(args, "can't create shm backend with `share=off`");
    g_assert_false(shm_entry(name, NULL));
}

/*
 * QEMU created the object, then refused a later option and exited: the
 * name goes with it all the same.
 */
static void test_error_exit(void)
{
    g_autofree char *name = shm_name("error-exit");
    g_autofree char *args = g_strdup_printf("-object memory-backend-shm,"
                                            "id=cam,size=%d,name=%s "
                                            "-device ivshmem-plain,"
                                            "memdev=cam,no-such-property=1",
                                            SIZE_1M, name);

    shmcam_refused(args, "no-such-property");
    g_assert_false(shm_entry(name, NULL));
}

/*
 * object-add and object-del at run time: a created object goes with its
 * backend, an attached one stays.
 */
static void test_object_del(void)
{
    g_autofree char *created = shm_name("del-created");
    g_autofree char *attached = shm_name("del-attached");
    QTestState *qts = qtest_init("-machine none");
    uint8_t *host = host_create(attached, 64 * KiB, 0600);

    qtest_qmp_assert_success(qts, "{'execute': 'object-add', 'arguments': "
                             "{'qom-type': 'memory-backend-shm', 'id': 'c', "
                             "'size': 65536, 'name': %s}}", created);
    qtest_qmp_assert_success(qts, "{'execute': 'object-add', 'arguments': "
                             "{'qom-type': 'memory-backend-shm', 'id': 'a', "
                             "'size': 65536, 'name': %s, 'attach': true}}",
                             attached);
    assert_entry(created, 0600, 64 * KiB);

    qtest_qmp_assert_success(qts, "{'execute': 'object-del', 'arguments': "
                             "{'id': 'c'}}");
    g_assert_false(shm_entry(created, NULL));
    qtest_qmp_assert_success(qts, "{'execute': 'object-del', 'arguments': "
                             "{'id': 'a'}}");
    assert_entry(attached, 0600, 64 * KiB);

    qtest_quit(qts);
    assert_entry(attached, 0600, 64 * KiB);
    munmap(host, 64 * KiB);
    g_assert_cmpint(shm_unlink(attached), ==, 0);
}

/* Without a name, as before: a private object that never shows. */
static void test_anonymous(void)
{
    Guest g;
    g_autofree char *prefix = NULL;
    g_autoptr(GDir) dir = NULL;
    const char *entry;
    uint8_t want[64], got[64];

    guest_boot(&g, "-object memory-backend-shm,id=cam,size=1M", SIZE_1M);
    prefix = g_strdup_printf("qemu-%d-", (int)qtest_pid(g.qs->qts));
    dir = g_dir_open("/dev/shm", 0, NULL);
    g_assert_nonnull(dir);
    while ((entry = g_dir_read_name(dir))) {
        g_assert_false(g_str_has_prefix(entry, prefix));
    }

    fill(want, sizeof(want), 0x21);
    qpci_memwrite(g.dev, g.bar, 4096, want, sizeof(want));
    qpci_memread(g.dev, g.bar, 4096, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
    guest_quit(&g);
}

/*
 * A named object cannot be handed over by cpr-transfer (this QEMU
 * unlinks the name as it exits): that mode is refused, with the reason,
 * before anything is sent; normal migration stays possible.
 */
static void test_cpr_blocked(void)
{
    g_autofree char *name = shm_name("cpr");
    g_autofree char *want = g_strdup_printf(
        "memory-backend-shm 'cam' is the named object %s, which "
        "cpr-transfer can't hand to a new QEMU; use migration mode normal, "
        "or a memory-backend-shm without a name", name);
    g_autofree char *cpr = g_strdup_printf("/tmp/shmcam-qtest-cpr-%d.sock",
                                           (int)getpid());
    QTestState *qts = qtest_initf("-machine none -object memory-backend-shm,"
                                  "id=cam,size=64K,name=%s", name);
    char *desc;

    qtest_qmp_assert_success(qts, "{'execute': 'migrate-set-parameters', "
                             "'arguments': {'mode': 'cpr-transfer'}}");
    desc = qmp_error(qtest_qmp(qts, "{'execute': 'migrate', 'arguments': "
        "{'channels': ["
        "{'channel-type': 'main', 'addr': {'transport': 'exec', "
        "'args': ['sh', '-c', 'cat > /dev/null']}}, "
        "{'channel-type': 'cpr', 'addr': {'transport': 'socket', "
        "'type': 'unix', 'path': %s}}]}}", cpr));
    g_assert_cmpstr(desc, ==, want);
    g_free(desc);
    assert_entry(name, 0600, 64 * KiB);

    qtest_quit(qts);
    g_assert_false(shm_entry(name, NULL));
    g_unlink(cpr);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    /* mode must hold whatever the umask QEMU inherits. */
    umask(022);

    qtest_add_func("/memory-backend-shm/create", test_create);
    qtest_add_func("/memory-backend-shm/mode", test_mode);
    qtest_add_func("/memory-backend-shm/attach", test_attach);
    qtest_add_func("/memory-backend-shm/size-mismatch", test_size_mismatch);
    qtest_add_func("/memory-backend-shm/exists", test_exists);
    qtest_add_func("/memory-backend-shm/attach-missing", test_attach_missing);
    qtest_add_func("/memory-backend-shm/bad-config", test_bad_config);
    qtest_add_func("/memory-backend-shm/error-exit", test_error_exit);
    qtest_add_func("/memory-backend-shm/object-del", test_object_del);
    qtest_add_func("/memory-backend-shm/anonymous", test_anonymous);
    qtest_add_func("/memory-backend-shm/cpr-blocked", test_cpr_blocked);

    return g_test_run();
}
