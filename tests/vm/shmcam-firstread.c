/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-firstread DEV N: open the capture device DEV N times and, each
 * time, read one byte without blocking right after the open, as an
 * application that polls does, and as v4l2-compliance's read/write test
 * does twice in a row, asking for the same answer both times.  The read
 * starts the stream; the producer already publishes the format, so the
 * newest frame must be there at once: every read gives one byte.
 * Prints how many reads gave a byte, EAGAIN, or another error, and exits
 * 0 when all N gave a byte, 1 otherwise, 2 on a bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    unsigned int got = 0, again = 0, other = 0;
    int n, i, last_err = 0;
    char byte;

    n = argc == 3 ? atoi(argv[2]) : 0;
    if (n < 1) {
        fprintf(stderr, "usage: shmcam-firstread DEV N (N >= 1)\n");
        return 2;
    }
    for (i = 0; i < n; i++) {
        int fd = open(argv[1], O_RDWR);
        ssize_t ret;

        if (fd < 0) {
            fprintf(stderr, "shmcam-firstread: %s: %s\n", argv[1],
                    strerror(errno));
            return 1;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        ret = read(fd, &byte, 1);
        if (ret == 1) {
            got++;
        } else if (ret < 0 && errno == EAGAIN) {
            again++;
        } else {
            other++;
            last_err = ret < 0 ? errno : 0;
        }
        close(fd);
    }
    printf("shmcam-firstread: %d reads: %u gave a byte, %u EAGAIN, "
           "%u other", n, got, again, other);
    if (other) {
        printf(" (last: %s)", last_err ? strerror(last_err) : "short read");
    }
    printf("\n");
    return got == (unsigned int)n ? 0 : 1;
}
