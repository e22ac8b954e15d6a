/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shmcam-pci protocol, the server's side: see pci.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "shmcam-reader.h"
#include "region-policy.h"
#include "fdpass.h"
#include "pci.h"

void shmcam_pci_peer_init(struct shmcam_pci_peer *p, int sock)
{
    memset(p, 0, sizeof(*p));
    p->sock = sock;
    p->state = SHMCAM_PCI_HELLO;
}

/*
 * The hello, with the descriptors on its first byte.  After the reply the
 * device says nothing; data is ignored, end of file is a goodbye.
 */
enum shmcam_pci_state shmcam_pci_input(struct shmcam_pci_peer *p)
{
    char buf[256];
    int fds[SHMCAM_FDPASS_MAX];
    unsigned int nfds = 0, i;
    bool hello = p->state == SHMCAM_PCI_HELLO;
    ssize_t n;

    if (p->state == SHMCAM_PCI_GONE) {
        return p->state;
    }
    if (hello) {
        n = shmcam_fd_recv(p->sock, (char *)p->hello + p->hello_len,
                           sizeof(p->hello) - p->hello_len, fds,
                           SHMCAM_FDPASS_MAX, &nfds, &p->bad, MSG_DONTWAIT);
    } else {
        n = shmcam_fd_recv(p->sock, buf, sizeof(buf), fds, 0, &nfds,
                           &p->bad, MSG_DONTWAIT);
    }
    if (n == -EAGAIN) {
        return p->state;
    }
    for (i = 0; i < nfds; i++) {
        if (p->nfds < SHMCAM_PCI_HELLO_FDS) {
            p->fds[p->nfds++] = fds[i];
        } else {
            close(fds[i]);
            p->bad = true;
        }
    }
    if (n <= 0) {
        p->state = SHMCAM_PCI_GONE;
        return p->state;
    }
    if (hello) {
        p->hello_len += n;
        if (p->hello_len == sizeof(p->hello)) {
            p->state = SHMCAM_PCI_CHECK;
        }
    }
    return p->state;
}

/* Is @fd an eventfd?  A device could pass anything. */
static bool shmcam_pci_is_eventfd(int fd)
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

int shmcam_pci_check(struct shmcam_pci_peer *p, uint64_t needed,
                     const char *need_hint, char *why, size_t len)
{
    int64_t version = GINT64_FROM_LE(p->hello[0]);
    int64_t size = GINT64_FROM_LE(p->hello[1]);
    char size_s[32];
    struct stat st = { 0 };
    int ret;

    if (version != SHMCAM_PCI_PROTOCOL) {
        g_snprintf(why, len, "speaks protocol %" PRId64 ", not %d (use a "
                   "QEMU and a shmcam-host of one release)", version,
                   SHMCAM_PCI_PROTOCOL);
        return -EPROTONOSUPPORT;
    }
    if (p->nfds != SHMCAM_PCI_HELLO_FDS || p->bad ||
        !shmcam_pci_is_eventfd(p->fds[1]) ||
        !shmcam_pci_is_eventfd(p->fds[2])) {
        g_snprintf(why, len, "sent %s%u descriptors, not its memory and two "
                   "eventfds", p->bad ? "more than " : "", p->nfds);
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
        g_snprintf(why, len, "its region is %s; %s", size_s, need_hint);
        return -ENOSPC;
    }
    ret = shmcam_region_check_peer(p->fds[0]);
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
    if (fstat(p->fds[0], &st) < 0 || (uint64_t)st.st_size != (uint64_t)size) {
        g_snprintf(why, len, "announces %s, but its memory is %lld bytes",
                   size_s, (long long)st.st_size);
        return -EINVAL;
    }
    p->size = size;
    g_snprintf(why, len, "a region of %s", size_s);
    return 0;
}

int shmcam_pci_reply(struct shmcam_pci_peer *p, int64_t value)
{
    int64_t msg[2] = { GINT64_TO_LE(SHMCAM_PCI_PROTOCOL),
                       GINT64_TO_LE(value) };
    int ret = shmcam_fd_send(p->sock, msg, sizeof(msg), NULL, 0);

    p->state = !ret && value >= 0 ? SHMCAM_PCI_READY : SHMCAM_PCI_GONE;
    return ret;
}

void shmcam_pci_peer_free(struct shmcam_pci_peer *p)
{
    unsigned int i;

    for (i = 0; i < p->nfds; i++) {
        if (p->fds[i] >= 0) {
            close(p->fds[i]);
        }
    }
    p->nfds = 0;
    if (p->sock >= 0) {
        close(p->sock);
        p->sock = -1;
    }
    p->state = SHMCAM_PCI_GONE;
}
