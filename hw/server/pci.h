/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shmcam-pci protocol (docs/specs/shmcam-pci.rst): the server's side
 * of one device's connection, as a state machine.  The device sends its
 * hello (protocol version, region size; its memory, frame eventfd and
 * doorbell eventfd on the first byte), the server checks it without
 * mapping anything and replies with the consumer index or an errno.
 * Nothing here knows about processes or other devices: the unit tests
 * drive it over a socketpair.
 */
#ifndef SHMCAM_SERVER_PCI_H
#define SHMCAM_SERVER_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHMCAM_PCI_PROTOCOL     1
#define SHMCAM_PCI_HELLO_FDS    3       /* memory, frame and doorbell fds */

enum shmcam_pci_state {
    SHMCAM_PCI_HELLO,           /* the hello has not come in whole */
    SHMCAM_PCI_CHECK,           /* it has: shmcam_pci_check() it */
    SHMCAM_PCI_READY,           /* accepted: it says nothing more */
    SHMCAM_PCI_GONE,            /* hung up, or refused: free it */
};

struct shmcam_pci_peer {
    int sock;
    enum shmcam_pci_state state;
    int64_t hello[2];           /* little-endian, as received */
    size_t hello_len;
    int fds[SHMCAM_PCI_HELLO_FDS];      /* memory, frame, doorbell */
    unsigned int nfds;
    bool bad;                   /* more descriptors than a hello has */
    uint64_t size;              /* the region, once checked */
};

void shmcam_pci_peer_init(struct shmcam_pci_peer *p, int sock);

/* The device spoke: read it, never waiting.  Returns the new state. */
enum shmcam_pci_state shmcam_pci_input(struct shmcam_pci_peer *p);

/*
 * Check a complete hello (state CHECK): the version, three descriptors of
 * which the last two are eventfds, a power-of-two size of at least
 * @needed bytes, and memory a peer cannot take away from under our
 * mapping unseen (shmcam_region_check_peer()) of exactly that size.
 * Returns 0, or a negative errno to refuse it with, @why saying what was
 * wrong (and on success, the region's size).  @need_hint tells what
 * @needed is for, e.g. "1280x720 YUYV with 3 slots needs 4 MiB (give its
 * memory backend size=4M)".
 */
int shmcam_pci_check(struct shmcam_pci_peer *p, uint64_t needed,
                     const char *need_hint, char *why, size_t len);

/*
 * Reply with @value, the consumer index (state READY) or a negative errno
 * (state GONE).  Returns 0 or a negative errno (state GONE).
 */
int shmcam_pci_reply(struct shmcam_pci_peer *p, int64_t value);

/* Close what the peer still holds: its socket and descriptors. */
void shmcam_pci_peer_free(struct shmcam_pci_peer *p);

#endif /* SHMCAM_SERVER_PCI_H */
