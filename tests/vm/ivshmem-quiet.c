/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshmem-quiet SOCKET FILE: an ivshmem server that hands QEMU's
 * ivshmem-doorbell the memory of FILE and the peers' eventfds, as any
 * ivshmem server does, and then never rings.  It stands for a generic
 * server (QEMU's contrib/ivshmem-server) in front of a region that
 * shmcam-host --shm publishes into: frames advance, no interrupt says so.
 * One client at a time; it runs until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shmcam.h"
#include "ivshmem.h"

int main(int argc, char **argv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int lfd, shm_fd;

    if (argc != 3 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "usage: ivshmem-quiet SOCKET FILE\n");
        return 2;
    }
    shm_fd = open(argv[2], O_RDWR | O_CLOEXEC);
    if (shm_fd < 0) {
        fprintf(stderr, "ivshmem-quiet: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(lfd, 4) < 0) {
        fprintf(stderr, "ivshmem-quiet: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (;;) {
        int sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        int host_efd = eventfd(0, EFD_CLOEXEC);
        int own_efd = eventfd(0, EFD_CLOEXEC);
        int ret = -EIO;

        if (sock >= 0 && host_efd >= 0 && own_efd >= 0) {
            ret = shmcam_ivshmem_setup(sock, 0, shm_fd, SHMCAM_HOST_PEER_ID,
                                       host_efd, own_efd);
        }
        if (ret) {
            fprintf(stderr, "ivshmem-quiet: setup: %s\n", strerror(-ret));
        } else {
            struct pollfd p = { .fd = sock, .events = POLLIN };

            printf("ivshmem-quiet: client 0 has %s; it will never be rung\n",
                   argv[2]);
            fflush(stdout);
            /* Until it hangs up; what it rings (host_efd) is never read. */
            while (poll(&p, 1, -1) >= 0 && !shmcam_ivshmem_input(sock)) {
            }
        }
        if (sock >= 0) {
            close(sock);
        }
        if (host_efd >= 0) {
            close(host_efd);
        }
        if (own_efd >= 0) {
            close(own_efd);
        }
    }
}
