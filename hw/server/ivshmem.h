/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ivshmem server protocol, version 0, as QEMU's ivshmem-doorbell
 * speaks it (docs/ivshmem-server.rst): the server's side of one
 * connection.  Its life: the setup goes out at once, then the client says
 * nothing until it hangs up.  Nothing here knows about processes or other
 * clients: the unit tests drive it over a socketpair.
 */
#ifndef SHMCAM_SERVER_IVSHMEM_H
#define SHMCAM_SERVER_IVSHMEM_H

#include <stdint.h>

#define SHMCAM_IVSHMEM_PROTOCOL 0

/*
 * Send the setup QEMU reads at device start, in the order of QEMU's own
 * ivshmem-server: the protocol version, the client's @id, the shared
 * memory @shm_fd, then the peers' eventfds: the host peer's (@host_id,
 * @host_efd) and the client's own @own_efd; no other client's (an eventfd
 * of another guest would let one guest flood another with interrupts).
 * Nothing is sent to a client after its setup.  Never blocks.  Returns 0
 * or a negative errno.
 */
int shmcam_ivshmem_setup(int sock, uint32_t id, int shm_fd, uint32_t host_id,
                         int host_efd, int own_efd);

/*
 * The client spoke: data is ignored (it has nothing to say), end of file
 * is its goodbye.  Returns 0 while it stays, -EPIPE once it is gone.
 */
int shmcam_ivshmem_input(int sock);

#endif /* SHMCAM_SERVER_IVSHMEM_H */
