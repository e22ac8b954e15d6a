/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two protocols of shmcam-host's server (hw/server/ivshmem.c and
 * hw/server/pci.c), driven in this process over socketpairs: what a
 * client receives, byte for byte and descriptor by descriptor, and how
 * the server's side of a shmcam-pci connection moves from state to state
 * for hellos good, split, and bad.  No descriptor is left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "shmcam-reader.h"
#include "fdpass.h"
#include "ivshmem.h"
#include "pci.h"

#define MIB             (1u << 20)

static unsigned int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned int n = 0;

    g_assert_nonnull(d);
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static void same_file(int a, int b)
{
    struct stat sa, sb;

    g_assert_cmpint(fstat(a, &sa), ==, 0);
    g_assert_cmpint(fstat(b, &sb), ==, 0);
    g_assert_cmpuint(sa.st_ino, ==, sb.st_ino);
    g_assert_cmpuint(sa.st_dev, ==, sb.st_dev);
}

/* One message as QEMU reads it: an int64 and at most one descriptor. */
static int64_t recv_msg(int sock, int *fd)
{
    int64_t le;
    unsigned int nfds;
    bool extra = false;

    g_assert_cmpint(shmcam_fd_recv(sock, &le, sizeof(le), fd, 1, &nfds,
                                   &extra, MSG_DONTWAIT), ==, sizeof(le));
    g_assert_false(extra);
    if (!nfds) {
        *fd = -1;
    }
    return GINT64_FROM_LE(le);
}

static void test_ivshmem(void)
{
    unsigned int before = open_fds();
    int sv[2], shm, host, own, fd;
    char junk[3] = "xyz";

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    shm = memfd_create("test", MFD_CLOEXEC);
    host = eventfd(0, EFD_CLOEXEC);
    own = eventfd(0, EFD_CLOEXEC);
    g_assert_cmpint(shmcam_ivshmem_setup(sv[0], 7, shm, 32, host, own), ==, 0);

    g_assert_cmpint(recv_msg(sv[1], &fd), ==, 0);       /* the version */
    g_assert_cmpint(fd, ==, -1);
    g_assert_cmpint(recv_msg(sv[1], &fd), ==, 7);       /* our id */
    g_assert_cmpint(fd, ==, -1);
    g_assert_cmpint(recv_msg(sv[1], &fd), ==, -1);      /* the memory */
    same_file(fd, shm);
    close(fd);
    g_assert_cmpint(recv_msg(sv[1], &fd), ==, 32);      /* the host peer */
    same_file(fd, host);
    close(fd);
    g_assert_cmpint(recv_msg(sv[1], &fd), ==, 7);       /* our own vector */
    same_file(fd, own);
    close(fd);
    /* nothing more: no other peer is ever announced */
    g_assert_cmpint(recv(sv[1], junk, 1, MSG_DONTWAIT), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);

    /* what a client says is ignored; its hang-up is a goodbye */
    g_assert_cmpint(shmcam_ivshmem_input(sv[0]), ==, 0);
    g_assert_cmpint(write(sv[1], junk, sizeof(junk)), ==, sizeof(junk));
    g_assert_cmpint(shmcam_ivshmem_input(sv[0]), ==, 0);
    close(sv[1]);
    g_assert_cmpint(shmcam_ivshmem_input(sv[0]), ==, -EPIPE);

    close(sv[0]);
    close(shm);
    close(host);
    close(own);
    g_assert_cmpuint(open_fds(), ==, before);
}

/* A device's memory: a memfd, sealed against resizing unless @unsealed. */
static int memory(uint64_t size, bool unsealed)
{
    int fd = memfd_create("test-memdev", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    if (!unsealed) {
        g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW),
                        ==, 0);
    }
    return fd;
}

/* Send @len bytes of a hello, with @nfds descriptors. */
static void send_part(int sock, const void *buf, size_t len, const int *fds,
                      unsigned int nfds)
{
    g_assert_cmpint(shmcam_fd_send(sock, buf, len, fds, nfds), ==, 0);
}

static void expect_reply(int sock, int64_t value)
{
    int64_t msg[2];

    g_assert_cmpint(recv(sock, msg, sizeof(msg), MSG_DONTWAIT), ==,
                    sizeof(msg));
    g_assert_cmpint(GINT64_FROM_LE(msg[0]), ==, SHMCAM_PCI_PROTOCOL);
    g_assert_cmpint(GINT64_FROM_LE(msg[1]), ==, value);
}

/* A good hello in three pieces, the descriptors on the first. */
static void test_pci_split(void)
{
    unsigned int before = open_fds();
    struct shmcam_pci_peer p;
    int64_t hello[2] = { GINT64_TO_LE(SHMCAM_PCI_PROTOCOL),
                         GINT64_TO_LE(4 * MIB) };
    int sv[2], fds[3], extra;
    char why[256];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    shmcam_pci_peer_init(&p, sv[0]);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_HELLO);   /* nothing */
    fds[0] = memory(4 * MIB, false);
    fds[1] = eventfd(0, EFD_CLOEXEC);
    fds[2] = eventfd(0, EFD_CLOEXEC);
    send_part(sv[1], hello, 3, fds, 3);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_HELLO);
    send_part(sv[1], (char *)hello + 3, 9, NULL, 0);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_HELLO);
    send_part(sv[1], (char *)hello + 12, 4, NULL, 0);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_CHECK);
    g_assert_cmpuint(p.nfds, ==, 3);

    g_assert_cmpint(shmcam_pci_check(&p, 2 * MIB, "unused", why, sizeof(why)),
                    ==, 0);
    g_assert_cmpstr(why, ==, "a region of 4 MiB");
    g_assert_cmpuint(p.size, ==, 4 * MIB);
    same_file(p.fds[0], fds[0]);
    same_file(p.fds[1], fds[1]);
    same_file(p.fds[2], fds[2]);
    g_assert_cmpint(shmcam_pci_reply(&p, 0), ==, 0);
    g_assert_cmpint(p.state, ==, SHMCAM_PCI_READY);
    expect_reply(sv[1], 0);

    /* after the hello: data ignored, a descriptor closed at once */
    extra = eventfd(0, EFD_CLOEXEC);
    send_part(sv[1], "x", 1, &extra, 1);
    close(extra);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_READY);
    g_assert_cmpuint(p.nfds, ==, 3);
    close(sv[1]);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_GONE);

    shmcam_pci_peer_free(&p);
    close(fds[0]);
    close(fds[1]);
    close(fds[2]);
    g_assert_cmpuint(open_fds(), ==, before);
}

enum bad_memory { MEM_SEALED, MEM_UNSEALED, MEM_PIPE };

struct bad_hello {
    const char *name;
    int64_t version;
    int64_t size;               /* announced */
    uint64_t real_size;         /* of the memory */
    enum bad_memory mem;
    unsigned int nfds;          /* up to 4 */
    bool pipe_fd;               /* a pipe where the frame eventfd goes */
    int err;
    const char *why;
};

static const struct bad_hello bad_hellos[] = {
    { "version", 2, 4 * MIB, 4 * MIB, MEM_SEALED, 3, false,
      -EPROTONOSUPPORT, "speaks protocol 2, not 1 (use a QEMU and a "
      "shmcam-host of one release)" },
    { "two-fds", 1, 4 * MIB, 4 * MIB, MEM_SEALED, 2, false, -EINVAL,
      "sent 2 descriptors, not its memory and two eventfds" },
    { "four-fds", 1, 4 * MIB, 4 * MIB, MEM_SEALED, 4, false, -EINVAL,
      "sent more than 3 descriptors, not its memory and two eventfds" },
    { "not-eventfd", 1, 4 * MIB, 4 * MIB, MEM_SEALED, 3, true, -EINVAL,
      "sent 3 descriptors, not its memory and two eventfds" },
    { "odd-size", 1, 3 * MIB, 3 * MIB, MEM_SEALED, 3, false, -EINVAL,
      "announces a region of 3145728 bytes, not a power of two from 64 KiB "
      "to 64 GiB" },
    { "small", 1, 1 * MIB, 1 * MIB, MEM_SEALED, 3, false, -ENOSPC,
      "its region is 1 MiB; the hint" },
    { "unsealed", 1, 4 * MIB, 4 * MIB, MEM_UNSEALED, 3, false, -EPERM,
      "its memory is a memfd that may shrink (seal it against shrinking and "
      "growing: memory-backend-memfd does unless seal=off)" },
    { "pipe", 1, 4 * MIB, 4 * MIB, MEM_PIPE, 3, false, -ENODEV,
      "its memory is not shared memory (use memory-backend-memfd, "
      "memory-backend-shm, or memory-backend-file on tmpfs or hugetlbfs)" },
    { "size-lie", 1, 8 * MIB, 4 * MIB, MEM_SEALED, 3, false, -EINVAL,
      "announces 8 MiB, but its memory is 4194304 bytes" },
};

static void test_pci_bad(gconstpointer data)
{
    const struct bad_hello *b = data;
    unsigned int before = open_fds(), i;
    struct shmcam_pci_peer p;
    int64_t hello[2] = { GINT64_TO_LE(b->version), GINT64_TO_LE(b->size) };
    int sv[2], fds[4], pipefd[2];
    char why[256];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
    shmcam_pci_peer_init(&p, sv[0]);
    fds[0] = b->mem == MEM_PIPE ? dup(pipefd[0]) :
             memory(b->real_size, b->mem == MEM_UNSEALED);
    fds[1] = b->pipe_fd ? dup(pipefd[1]) : eventfd(0, EFD_CLOEXEC);
    fds[2] = eventfd(0, EFD_CLOEXEC);
    fds[3] = eventfd(0, EFD_CLOEXEC);
    send_part(sv[1], hello, sizeof(hello), fds, b->nfds);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_CHECK);
    g_assert_cmpint(shmcam_pci_check(&p, 2 * MIB, "the hint", why,
                                     sizeof(why)), ==, b->err);
    g_assert_cmpstr(why, ==, b->why);
    g_assert_cmpint(shmcam_pci_reply(&p, b->err), ==, 0);
    g_assert_cmpint(p.state, ==, SHMCAM_PCI_GONE);
    expect_reply(sv[1], b->err);

    shmcam_pci_peer_free(&p);
    for (i = 0; i < G_N_ELEMENTS(fds); i++) {
        close(fds[i]);
    }
    close(pipefd[0]);
    close(pipefd[1]);
    close(sv[1]);
    g_assert_cmpuint(open_fds(), ==, before);
}

/* A device that hangs up before its hello is whole. */
static void test_pci_gone(void)
{
    unsigned int before = open_fds();
    struct shmcam_pci_peer p;
    int sv[2], fd = eventfd(0, EFD_CLOEXEC);

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    shmcam_pci_peer_init(&p, sv[0]);
    send_part(sv[1], "abc", 3, &fd, 1);
    close(fd);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_HELLO);
    close(sv[1]);
    g_assert_cmpint(shmcam_pci_input(&p), ==, SHMCAM_PCI_GONE);
    shmcam_pci_peer_free(&p);
    g_assert_cmpuint(open_fds(), ==, before);
}

int main(int argc, char **argv)
{
    unsigned int i;

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proto/ivshmem", test_ivshmem);
    g_test_add_func("/proto/pci-split", test_pci_split);
    g_test_add_func("/proto/pci-gone", test_pci_gone);
    for (i = 0; i < G_N_ELEMENTS(bad_hellos); i++) {
        g_autofree char *path = g_strdup_printf("/proto/pci-bad/%s",
                                                bad_hellos[i].name);

        g_test_add_data_func(path, &bad_hellos[i], test_pci_bad);
    }
    return g_test_run();
}
