/*
 * QTest testcase for shmcam-pci
 *
 * The test plays shmcam-host: it listens on the socket the device's
 * chardev connects to, takes the descriptors the device passes, and
 * checks the guest's registers against its own view of the same memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_ids.h"
#include "standard-headers/linux/pci_regs.h"
#include "hw/misc/shmcam.h"
#include "hw/misc/shmcam-pci.h"
#include "libqos/libqos-pc.h"
#include "libqtest.h"
#include "shmcam-qtest.h"

#define REGION_SIZE     (1 << 20)
/* The slot a hot-plugged device takes, as in ivshmem's qtest. */
#define SLOT_HP         0x06
/* Every poll loop gives up after this long; none should take a second. */
#define DEADLINE_US     (30 * G_USEC_PER_SEC)

static char *tmpdir;

typedef struct {
    char *sock_path;
    int listen_fd;
    int conn_fd;
    int fds[SHMCAM_PCI_HELLO_FDS];
    uint8_t *region;

    QOSState *qs;
    QPCIDevice *dev;
    QPCIBar reg_bar;
    QPCIBar frame_bar;
} Host;

static uint32_t reg_read(Host *h, unsigned reg)
{
    return qpci_io_readl(h->dev, h->reg_bar, reg);
}

static void reg_write(Host *h, unsigned reg, uint32_t val)
{
    qpci_io_writel(h->dev, h->reg_bar, reg, val);
}

static uint8_t *consumer_area(Host *h, unsigned index)
{
    return h->region + SHMCAM_CONSUMER_OFFSET +
           index * sizeof(struct shmcam_consumer);
}

/* Wait until fd is readable; false when the deadline passes. */
static bool wait_readable(int fd)
{
    GPollFD pfd = { .fd = fd, .events = G_IO_IN };

    return g_poll(&pfd, 1, DEADLINE_US / 1000) == 1;
}

/* Poll a register until (value & mask) == want, or the deadline passes. */
static uint32_t wait_reg(Host *h, unsigned reg, uint32_t mask, uint32_t want)
{
    gint64 end = g_get_monotonic_time() + DEADLINE_US;
    uint32_t val;

    for (;;) {
        val = reg_read(h, reg);
        if ((val & mask) == want || g_get_monotonic_time() > end) {
            return val;
        }
        g_usleep(1000);
    }
}

static void host_listen(Host *h)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    h->sock_path = g_strdup_printf("%s/shmcam.sock", tmpdir);
    g_assert_cmpuint(strlen(h->sock_path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, h->sock_path);
    h->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(h->listen_fd, >=, 0);
    g_assert_cmpint(bind(h->listen_fd, (struct sockaddr *)&addr,
                         sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(h->listen_fd, 1), ==, 0);
    h->conn_fd = -1;
    for (int i = 0; i < SHMCAM_PCI_HELLO_FDS; i++) {
        h->fds[i] = -1;
    }
}

static void host_close_fds(Host *h)
{
    for (int i = 0; i < SHMCAM_PCI_HELLO_FDS; i++) {
        if (h->fds[i] >= 0) {
            close(h->fds[i]);
            h->fds[i] = -1;
        }
    }
}

/*
 * Accept the device's connection and take its hello: the protocol
 * version, the region size and three descriptors.
 */
static void host_accept(Host *h)
{
    uint64_t msg[2];
    char control[CMSG_SPACE(sizeof(int) * SHMCAM_PCI_HELLO_FDS)];
    struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = sizeof(control),
    };
    struct cmsghdr *cmsg;
    ssize_t n;

    g_assert_true(wait_readable(h->listen_fd));
    h->conn_fd = accept(h->listen_fd, NULL, NULL);
    g_assert_cmpint(h->conn_fd, >=, 0);

    g_assert_true(wait_readable(h->conn_fd));
    n = recvmsg(h->conn_fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
    g_assert_cmpint(n, ==, sizeof(msg));
    g_assert_cmpuint(le64_to_cpu(msg[0]), ==, SHMCAM_PCI_PROTOCOL);
    g_assert_cmpuint(le64_to_cpu(msg[1]), ==, REGION_SIZE);

    cmsg = CMSG_FIRSTHDR(&mh);
    g_assert_nonnull(cmsg);
    g_assert_cmpint(cmsg->cmsg_level, ==, SOL_SOCKET);
    g_assert_cmpint(cmsg->cmsg_type, ==, SCM_RIGHTS);
    g_assert_cmpuint(cmsg->cmsg_len, ==,
                     CMSG_LEN(sizeof(int) * SHMCAM_PCI_HELLO_FDS));
    memcpy(h->fds, CMSG_DATA(cmsg), sizeof(h->fds));
}

static void host_reply(Host *h, int64_t version, int64_t index)
{
    uint64_t msg[2] = { cpu_to_le64(version), cpu_to_le64(index) };

    g_assert_cmpint(write(h->conn_fd, msg, sizeof(msg)), ==, sizeof(msg));
}

static void host_map_region(Host *h)
{
    h->region = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                     h->fds[SHMCAM_PCI_FD_REGION], 0);
    g_assert_true(h->region != MAP_FAILED);
}

static void host_hangup(Host *h)
{
    close(h->conn_fd);
    h->conn_fd = -1;
    host_close_fds(h);
}

static void setup_vm(Host *h)
{
    uint64_t barsize;

    host_listen(h);
    h->qs = qtest_pc_boot("-object memory-backend-memfd,id=cam0,size=%d,"
                          "share=on "
                          "-chardev socket,id=cam0s,path=%s,reconnect-ms=100 "
                          "-device shmcam-pci,memdev=cam0,chardev=cam0s",
                          REGION_SIZE, h->sock_path);
    h->dev = NULL;
    qpci_device_foreach(h->qs->pcibus, SHMCAM_PCI_VENDOR_ID,
                        SHMCAM_PCI_DEVICE_ID, shmcam_qtest_save_dev, &h->dev);
    g_assert_nonnull(h->dev);

    h->reg_bar = qpci_iomap(h->dev, SHMCAM_PCI_REG_BAR, &barsize);
    g_assert_cmpuint(barsize, ==, SHMCAM_PCI_REG_BAR_SIZE);
    qpci_msix_enable(h->dev);
    h->frame_bar = qpci_iomap(h->dev, SHMCAM_PCI_FRAME_BAR, &barsize);
    g_assert_cmpuint(barsize, ==, REGION_SIZE);
    qpci_device_enable(h->dev);
}

static void cleanup_vm(Host *h)
{
    g_free(h->dev);
    qtest_shutdown(h->qs);
    if (h->region) {
        munmap(h->region, REGION_SIZE);
    }
    if (h->conn_fd >= 0) {
        close(h->conn_fd);
    }
    host_close_fds(h);
    close(h->listen_fd);
    g_unlink(h->sock_path);
    g_free(h->sock_path);
}

/* Wait until the device says it is connected. */
static void wait_connected(Host *h)
{
    g_assert_cmphex(wait_reg(h, SHMCAM_PCI_REG_STATUS,
                             SHMCAM_PCI_STATUS_CONNECTED,
                             SHMCAM_PCI_STATUS_CONNECTED), ==,
                    SHMCAM_PCI_STATUS_CONNECTED);
}

/* Connect the device as consumer index and wait until it says so. */
static void connect_host(Host *h, int64_t index)
{
    host_accept(h);
    host_map_region(h);
    host_reply(h, SHMCAM_PCI_PROTOCOL, index);
    wait_connected(h);
}

static void test_registers(void)
{
    Host h = { 0 };

    setup_vm(&h);

    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_ID), ==, SHMCAM_PCI_ID);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_VERSION), ==,
                     SHMCAM_PCI_VERSION);
    g_assert_cmpuint(qpci_config_readw(h.dev, PCI_CLASS_DEVICE), ==,
                     PCI_CLASS_MULTIMEDIA_VIDEO);
    g_assert_cmpuint(qpci_msix_table_size(h.dev), ==, SHMCAM_PCI_VECTORS);

    /* Not connected yet: no consumer index. */
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_STATUS), ==, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_CONSUMER), ==, UINT32_MAX);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONNECTS), ==, 0);

    /* Read-only registers ignore writes; unknown ones read as zero. */
    reg_write(&h, SHMCAM_PCI_REG_ID, 0);
    reg_write(&h, SHMCAM_PCI_REG_CONSUMER, 3);
    reg_write(&h, 0x40, 0xffffffff);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_ID), ==, SHMCAM_PCI_ID);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_CONSUMER), ==, UINT32_MAX);
    g_assert_cmphex(reg_read(&h, 0x40), ==, 0);

    /* The mask keeps only the bits it knows. */
    reg_write(&h, SHMCAM_PCI_REG_INTR_MASK, 0xffffffff);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_MASK), ==,
                    SHMCAM_PCI_INTR_ALL);
    reg_write(&h, SHMCAM_PCI_REG_INTR_MASK, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_MASK), ==, 0);

    /* The consumer window holds what the guest wrote, in any width. */
    qpci_io_writeq(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA,
                   0x1122334455667788ULL);
    qpci_io_writew(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA + 8,
                   0xabcd);
    g_assert_cmphex(qpci_io_readq(h.dev, h.reg_bar,
                                  SHMCAM_PCI_REG_CONSUMER_AREA), ==,
                    0x1122334455667788ULL);
    g_assert_cmphex(qpci_io_readl(h.dev, h.reg_bar,
                                  SHMCAM_PCI_REG_CONSUMER_AREA + 8), ==,
                    0xabcd);
    qpci_io_writeb(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA + 3, 0);
    g_assert_cmphex(qpci_io_readq(h.dev, h.reg_bar,
                                  SHMCAM_PCI_REG_CONSUMER_AREA), ==,
                    0x1122334400667788ULL);
    g_assert_cmphex(qpci_io_readb(h.dev, h.reg_bar,
                                  SHMCAM_PCI_REG_CONSUMER_AREA + 7), ==,
                    0x11);

    cleanup_vm(&h);
}

static void test_fd_handover(void)
{
    Host h = { 0 };
    struct shmcam_consumer *area;
    uint8_t buf[64], want[64];
    uint64_t count;
    struct stat st;

    setup_vm(&h);
    host_accept(&h);
    host_map_region(&h);
    g_assert_cmpint(fstat(h.fds[SHMCAM_PCI_FD_REGION], &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, REGION_SIZE);

    /* Before the reply the device is not connected. */
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_STATUS), ==, 0);
    reg_write(&h, SHMCAM_PCI_REG_INTR_MASK, SHMCAM_PCI_INTR_ALL);
    host_reply(&h, SHMCAM_PCI_PROTOCOL, 5);
    wait_connected(&h);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONSUMER), ==, 5);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONNECTS), ==, 1);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_STATUS), ==,
                    SHMCAM_PCI_INTR_CONNECTION);
    g_assert_true(qpci_msix_pending(h.dev, SHMCAM_PCI_VECTOR_CONNECTION));
    g_assert_false(qpci_msix_pending(h.dev, SHMCAM_PCI_VECTOR_FRAME));
    reg_write(&h, SHMCAM_PCI_REG_INTR_STATUS, SHMCAM_PCI_INTR_CONNECTION);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_STATUS), ==, 0);

    /* What the host writes, the guest reads in BAR2. */
    for (int i = 0; i < sizeof(want); i++) {
        want[i] = i * 7 + 1;
    }
    memcpy(h.region + SHMCAM_DATA_OFFSET, want, sizeof(want));
    qpci_memread(h.dev, h.frame_bar, SHMCAM_DATA_OFFSET, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), want, sizeof(want));

    /* A guest write to BAR2 changes nothing the host sees. */
    memset(buf, 0xee, sizeof(buf));
    qpci_memwrite(h.dev, h.frame_bar, SHMCAM_DATA_OFFSET, buf, sizeof(buf));
    qpci_io_writel(h.dev, h.frame_bar, 0, 0xdeadbeef);
    g_assert_cmpmem(h.region + SHMCAM_DATA_OFFSET, sizeof(want),
                    want, sizeof(want));
    g_assert_cmphex(ldl_le_p(h.region), ==, 0);
    qpci_memread(h.dev, h.frame_bar, SHMCAM_DATA_OFFSET, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), want, sizeof(want));

    /* The consumer window lands in the area of the assigned index. */
    qpci_io_writeq(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA +
                   offsetof(struct shmcam_consumer, heartbeat), 42);
    qpci_io_writel(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA +
                   offsetof(struct shmcam_consumer, req_width), 1280);
    area = (struct shmcam_consumer *)consumer_area(&h, 5);
    g_assert_cmpuint(le64_to_cpu(area->heartbeat), ==, 42);
    g_assert_cmpuint(le32_to_cpu(area->req_width), ==, 1280);
    g_assert_true(buffer_is_zero(consumer_area(&h, 4),
                                 sizeof(struct shmcam_consumer)));
    g_assert_true(buffer_is_zero(consumer_area(&h, 6),
                                 sizeof(struct shmcam_consumer)));
    /* ... and the guest reads it back through BAR2 as well. */
    g_assert_cmpuint(qpci_io_readl(h.dev, h.frame_bar,
                                   SHMCAM_CONSUMER_OFFSET +
                                   5 * sizeof(struct shmcam_consumer) +
                                   offsetof(struct shmcam_consumer,
                                            req_width)), ==, 1280);

    /* The doorbell reaches the host's eventfd. */
    reg_write(&h, SHMCAM_PCI_REG_DOORBELL, 1);
    g_assert_true(wait_readable(h.fds[SHMCAM_PCI_FD_DOORBELL]));
    g_assert_cmpint(read(h.fds[SHMCAM_PCI_FD_DOORBELL], &count,
                         sizeof(count)), ==, sizeof(count));
    g_assert_cmpuint(count, ==, 1);

    /* A frame signalled by the host raises FRAME and MSI-X vector 0. */
    count = 1;
    g_assert_cmpint(write(h.fds[SHMCAM_PCI_FD_FRAME], &count, sizeof(count)),
                    ==, sizeof(count));
    g_assert_cmphex(wait_reg(&h, SHMCAM_PCI_REG_INTR_STATUS,
                             SHMCAM_PCI_INTR_FRAME, SHMCAM_PCI_INTR_FRAME),
                    ==, SHMCAM_PCI_INTR_FRAME);
    g_assert_true(qpci_msix_pending(h.dev, SHMCAM_PCI_VECTOR_FRAME));

    cleanup_vm(&h);
}

/* Events only interrupt once unmasked, and at once when already pending. */
static void test_interrupt_mask(void)
{
    Host h = { 0 };
    uint64_t one = 1;

    setup_vm(&h);
    connect_host(&h, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_STATUS), ==,
                    SHMCAM_PCI_INTR_CONNECTION);
    g_assert_false(qpci_msix_pending(h.dev, SHMCAM_PCI_VECTOR_CONNECTION));

    g_assert_cmpint(write(h.fds[SHMCAM_PCI_FD_FRAME], &one, sizeof(one)), ==,
                    sizeof(one));
    g_assert_cmphex(wait_reg(&h, SHMCAM_PCI_REG_INTR_STATUS,
                             SHMCAM_PCI_INTR_FRAME, SHMCAM_PCI_INTR_FRAME),
                    ==, SHMCAM_PCI_INTR_ALL);
    g_assert_false(qpci_msix_pending(h.dev, SHMCAM_PCI_VECTOR_FRAME));

    reg_write(&h, SHMCAM_PCI_REG_INTR_MASK, SHMCAM_PCI_INTR_FRAME);
    g_assert_true(qpci_msix_pending(h.dev, SHMCAM_PCI_VECTOR_FRAME));
    g_assert_false(qpci_msix_pending(h.dev, SHMCAM_PCI_VECTOR_CONNECTION));

    reg_write(&h, SHMCAM_PCI_REG_INTR_STATUS, SHMCAM_PCI_INTR_FRAME);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_STATUS), ==,
                    SHMCAM_PCI_INTR_CONNECTION);

    cleanup_vm(&h);
}

/* A reset withdraws the guest's request but keeps the connection. */
static void test_reset(void)
{
    Host h = { 0 };
    uint64_t barsize;

    setup_vm(&h);
    connect_host(&h, 4);
    qpci_io_writel(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA +
                   offsetof(struct shmcam_consumer, flags),
                   SHMCAM_CONSUMER_STREAMING);
    reg_write(&h, SHMCAM_PCI_REG_INTR_MASK, SHMCAM_PCI_INTR_ALL);
    g_assert_false(buffer_is_zero(consumer_area(&h, 4),
                                  sizeof(struct shmcam_consumer)));

    qtest_system_reset(h.qs->qts);
    h.reg_bar = qpci_iomap(h.dev, SHMCAM_PCI_REG_BAR, &barsize);
    qpci_device_enable(h.dev);

    g_assert_true(buffer_is_zero(consumer_area(&h, 4),
                                 sizeof(struct shmcam_consumer)));
    g_assert_cmphex(qpci_io_readl(h.dev, h.reg_bar,
                                  SHMCAM_PCI_REG_CONSUMER_AREA +
                                  offsetof(struct shmcam_consumer, flags)),
                    ==, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_MASK), ==, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_STATUS), ==, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_STATUS), ==,
                    SHMCAM_PCI_STATUS_CONNECTED);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONSUMER), ==, 4);

    cleanup_vm(&h);
}

static void test_reconnect(void)
{
    Host h = { 0 };
    struct stat st1, st2;
    struct shmcam_consumer *area;

    setup_vm(&h);
    connect_host(&h, 2);
    g_assert_cmpint(fstat(h.fds[SHMCAM_PCI_FD_REGION], &st1), ==, 0);
    qpci_io_writel(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA +
                   offsetof(struct shmcam_consumer, req_pixelformat),
                   SHMCAM_FMT_NV12);
    reg_write(&h, SHMCAM_PCI_REG_INTR_STATUS, SHMCAM_PCI_INTR_ALL);

    /* The host goes away: the guest sees the device disconnected. */
    host_hangup(&h);
    g_assert_cmphex(wait_reg(&h, SHMCAM_PCI_REG_STATUS,
                             SHMCAM_PCI_STATUS_CONNECTED, 0), ==, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_CONSUMER), ==, UINT32_MAX);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_INTR_STATUS), ==,
                    SHMCAM_PCI_INTR_CONNECTION);

    /*
     * A new host (as after a restart) gets the same memory again and
     * gives another index; the guest's request follows it there.
     */
    munmap(h.region, REGION_SIZE);
    h.region = NULL;
    host_accept(&h);
    g_assert_cmpint(fstat(h.fds[SHMCAM_PCI_FD_REGION], &st2), ==, 0);
    g_assert_cmpuint(st1.st_ino, ==, st2.st_ino);
    g_assert_cmpuint(st1.st_dev, ==, st2.st_dev);
    host_map_region(&h);
    host_reply(&h, SHMCAM_PCI_PROTOCOL, 7);
    wait_connected(&h);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONSUMER), ==, 7);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONNECTS), ==, 2);
    area = (struct shmcam_consumer *)consumer_area(&h, 7);
    g_assert_cmphex(le32_to_cpu(area->req_pixelformat), ==, SHMCAM_FMT_NV12);

    cleanup_vm(&h);
}

/*
 * A host that refuses, or speaks another protocol, is hung up on; QEMU
 * warns once for the lot, not once for each (a host cannot flood its log).
 * QEMU's stderr is the test's, so it goes to a file meanwhile.
 */
static void test_refused(void)
{
    g_autofree char *log = g_strdup_printf("%s/qemu-stderr.log", tmpdir);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    int saved = dup(STDERR_FILENO), fd, warnings = 0;
    Host h = { 0 };
    char c;

    fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(saved, >=, 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    setup_vm(&h);
    dup2(saved, STDERR_FILENO);
    close(saved);

    host_accept(&h);
    host_reply(&h, SHMCAM_PCI_PROTOCOL, -EBUSY);
    g_assert_true(wait_readable(h.conn_fd));
    g_assert_cmpint(read(h.conn_fd, &c, 1), ==, 0);
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_STATUS), ==, 0);
    host_hangup(&h);

    host_accept(&h);
    host_reply(&h, SHMCAM_PCI_PROTOCOL + 1, 0);
    g_assert_true(wait_readable(h.conn_fd));
    g_assert_cmpint(read(h.conn_fd, &c, 1), ==, 0);
    host_hangup(&h);

    host_accept(&h);
    host_reply(&h, SHMCAM_PCI_PROTOCOL, SHMCAM_MAX_CONSUMERS);
    g_assert_true(wait_readable(h.conn_fd));
    g_assert_cmpint(read(h.conn_fd, &c, 1), ==, 0);
    host_hangup(&h);

    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_STATUS), ==, 0);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONNECTS), ==, 0);

    /* A good host after all that still gets the device. */
    connect_host(&h, 0);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONNECTS), ==, 1);

    cleanup_vm(&h);

    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    g_test_message("QEMU's stderr: %s", text);
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        if (strstr(lines[i], "warning: shmcam-pci: ")) {
            g_assert_nonnull(strstr(lines[i], "shmcam-host refused the "
                                    "region: Device or resource busy"));
            warnings++;
        }
    }
    g_assert_cmpint(warnings, ==, 1);
    g_unlink(log);
}

/*
 * Hot-plug and unplug, as ivshmem's qtest does them: a device added at
 * run time connects; unplugged, it withdraws its request and closes its
 * connection, so that the host frees its consumer slot at once; plugged
 * again on the same chardev it says hello on a connection of its own.
 */
static void plug(Host *h, int64_t index)
{
    uint64_t barsize;

    qtest_qmp_device_add(h->qs->qts, "shmcam-pci", "cam",
                         "{'addr': %s, 'memdev': 'cam0', "
                         "'chardev': 'cam0s'}", stringify(SLOT_HP));
    h->dev = qpci_device_find(h->qs->pcibus, QPCI_DEVFN(SLOT_HP, 0));
    g_assert_nonnull(h->dev);
    h->reg_bar = qpci_iomap(h->dev, SHMCAM_PCI_REG_BAR, &barsize);
    qpci_device_enable(h->dev);
    connect_host(h, index);
}

static void test_hotplug(void)
{
    Host h = { 0 };
    struct shmcam_consumer *area;
    char c;

    host_listen(&h);
    h.qs = qtest_pc_boot("-object memory-backend-memfd,id=cam0,size=%d,"
                         "share=on "
                         "-chardev socket,id=cam0s,path=%s,reconnect-ms=100",
                         REGION_SIZE, h.sock_path);
    plug(&h, 3);
    qpci_io_writel(h.dev, h.reg_bar, SHMCAM_PCI_REG_CONSUMER_AREA +
                   offsetof(struct shmcam_consumer, flags),
                   SHMCAM_CONSUMER_STREAMING);
    area = (struct shmcam_consumer *)consumer_area(&h, 3);
    g_assert_cmphex(le32_to_cpu(area->flags), ==, SHMCAM_CONSUMER_STREAMING);

    qpci_unplug_acpi_device_test(h.qs->qts, "cam", SLOT_HP);
    g_free(h.dev);
    h.dev = NULL;
    /* The host's view: the request is gone and the connection closed. */
    g_assert_true(buffer_is_zero(consumer_area(&h, 3),
                                 sizeof(struct shmcam_consumer)));
    g_assert_true(wait_readable(h.conn_fd));
    g_assert_cmpint(read(h.conn_fd, &c, 1), ==, 0);
    host_hangup(&h);
    munmap(h.region, REGION_SIZE);
    h.region = NULL;

    /* Plugged again: a fresh connection, one hello, a new index. */
    plug(&h, 5);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONSUMER), ==, 5);
    g_assert_cmpuint(reg_read(&h, SHMCAM_PCI_REG_CONNECTS), ==, 1);

    cleanup_vm(&h);
}

/* Migration is refused with a reason a user can act on. */
static void test_migration_blocked(void)
{
    Host h = { 0 };
    QDict *rsp, *err;

    setup_vm(&h);
    connect_host(&h, 0);
    rsp = qtest_qmp(h.qs->qts, "{'execute': 'migrate', 'arguments': "
                    "{'uri': 'exec:cat > /dev/null'}}");
    err = qdict_get_qdict(rsp, "error");
    g_assert_nonnull(err);
    g_test_message("migrate: %s", qdict_get_str(err, "desc"));
    g_assert_cmpstr(qdict_get_str(err, "desc"), ==,
                    "shmcam-pci can't be migrated: its frames come from "
                    "shmcam-host on this machine; unplug it (device_del) "
                    "before migrating, and plug a shmcam-pci on the "
                    "destination");
    qobject_unref(rsp);
    /* Nothing else changed. */
    g_assert_cmphex(reg_read(&h, SHMCAM_PCI_REG_STATUS), ==,
                    SHMCAM_PCI_STATUS_CONNECTED);

    cleanup_vm(&h);
}

/* A file of @size bytes in tmpdir, for memory-backend-file. */
static char *make_file(const char *name, off_t size)
{
    char *path = g_strdup_printf("%s/%s", tmpdir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static void test_bad_config(void)
{
    g_autofree char *sock = g_strdup_printf("%s/none.sock", tmpdir);
    g_autofree char *chr = g_strdup_printf("-chardev socket,id=s,path=%s,"
                                           "reconnect-ms=1000", sock);
    g_autofree char *args = NULL;

    shmcam_refused("-device shmcam-pci",
                         "shmcam-pci needs a memdev");

    args = g_strdup_printf("-object memory-backend-memfd,id=m,size=1M "
                           "%s -device shmcam-pci,memdev=m", chr);
    shmcam_refused(args, "shmcam-pci needs a chardev");
    g_free(args);

    args = g_strdup_printf("-object memory-backend-ram,id=m,size=1M "
                           "%s -device shmcam-pci,memdev=m,chardev=s", chr);
    shmcam_refused(args, "memdev m is not shared memory with a file "
                         "descriptor");
    g_free(args);

    args = g_strdup_printf("-object memory-backend-memfd,id=m,size=1M,"
                           "share=off %s -device shmcam-pci,memdev=m,"
                           "chardev=s", chr);
    shmcam_refused(args, "memdev m is not shared memory with a file "
                         "descriptor");
    g_free(args);

    args = g_strdup_printf("-object memory-backend-memfd,id=m,size=3M "
                           "%s -device shmcam-pci,memdev=m,chardev=s", chr);
    shmcam_refused(args, "memdev m is 3145728 bytes; shmcam-pci needs "
                         "a power of two from 65536 to 68719476736");
    g_free(args);

    args = g_strdup_printf("-object memory-backend-memfd,id=m,size=1M "
                           "%s -chardev socket,id=s2,path=%s,"
                           "reconnect-ms=1000 "
                           "-device shmcam-pci,memdev=m,chardev=s "
                           "-device shmcam-pci,memdev=m,chardev=s2",
                           chr, sock);
    shmcam_refused(args, "can't use already busy memdev: m");
    g_free(args);

    /* A read-only memdev: the device writes the guest's requests. */
    {
        g_autofree char *img = make_file("region.img", 2 * REGION_SIZE);
        static const char *const ro[] = { "readonly=on", "readonly=on,rom=on" };

        for (int i = 0; i < ARRAY_SIZE(ro); i++) {
            args = g_strdup_printf("-object memory-backend-file,id=m,"
                                   "size=1M,mem-path=%s,share=on,%s %s "
                                   "-device shmcam-pci,memdev=m,chardev=s",
                                   img, ro[i], chr);
            shmcam_refused(args, "memdev m is read only (readonly=on or "
                           "rom=on); shmcam-pci writes the guest's "
                           "requests into it");
            g_free(args);
        }

        /* shmcam-host maps the file from its start. */
        args = g_strdup_printf("-object memory-backend-file,id=m,size=1M,"
                               "mem-path=%s,share=on,offset=65536 %s "
                               "-device shmcam-pci,memdev=m,chardev=s",
                               img, chr);
        shmcam_refused(args, "memdev m starts at offset 65536 of its file; "
                       "shmcam-host maps the file from its start, so "
                       "shmcam-pci needs offset=0");
        g_free(args);
        g_unlink(img);
    }

    /* Descriptors pass over a unix socket only. */
    shmcam_refused("-object memory-backend-memfd,id=m,size=1M "
                   "-chardev null,id=n -device shmcam-pci,memdev=m,chardev=n",
                   "chardev n can't pass file descriptors; shmcam-pci needs "
                   "a unix socket (e.g. -chardev socket,id=n,"
                   "path=/run/shmcam.sock,reconnect-ms=1000)");
    args = g_strdup_printf("-object memory-backend-memfd,id=m,size=1M "
                           "-chardev socket,id=t,host=127.0.0.1,port=9,"
                           "reconnect-ms=1000 "
                           "-device shmcam-pci,memdev=m,chardev=t");
    shmcam_refused(args, "chardev t can't pass file descriptors");
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);

    tmpdir = g_dir_make_tmp("shmcam-pci-test-XXXXXX", NULL);
    g_assert(tmpdir);

    qtest_add_func("/shmcam-pci/registers", test_registers);
    qtest_add_func("/shmcam-pci/fd-handover", test_fd_handover);
    qtest_add_func("/shmcam-pci/interrupt-mask", test_interrupt_mask);
    qtest_add_func("/shmcam-pci/reset", test_reset);
    qtest_add_func("/shmcam-pci/reconnect", test_reconnect);
    qtest_add_func("/shmcam-pci/refused", test_refused);
    qtest_add_func("/shmcam-pci/bad-config", test_bad_config);
    qtest_add_func("/shmcam-pci/hotplug", test_hotplug);
    qtest_add_func("/shmcam-pci/migration-blocked", test_migration_blocked);

    ret = g_test_run();

    g_rmdir(tmpdir);
    g_free(tmpdir);
    return ret;
}
