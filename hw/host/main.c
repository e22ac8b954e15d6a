/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host's main: the options (options.c), then either the capture
 * loop itself (capture.c: --shm, --region) or a server that runs it in a
 * child process (server/server.c: --listen, --pci-listen).
 */
#include <stdio.h>
#include <string.h>

#include "shmcam-reader.h"
#include "shmcam-host.h"

int main(int argc, char **argv)
{
    struct shmcam_host h = {
        .region = SHMCAM_REGION_INIT,
        .sigfd = -1,
        .ctrl_fd = -1,
        .shared_fd = -1,
        .doorbell_fd = -1,
    };
    GError *err = NULL;
    int ret, status = SHMCAM_EXIT_USAGE;

    shmcam_host_outputs_init(&h);
    ret = shmcam_host_parse(&h, &argc, &argv, &err);
    if (!ret && h.o.version) {
        printf("shmcam-host %s (shmcam ABI %u.%u)\n", SHMCAM_VERSION,
               SHMCAM_ABI_MAJOR, SHMCAM_ABI_MINOR);
        shmcam_host_free(&h);
        return SHMCAM_EXIT_OK;
    }
    if (!ret) {
        ret = shmcam_host_check(&h, &err);
    }
    if (ret) {
        fprintf(stderr, "shmcam-host: %s%s\n",
                err ? err->message : "invalid options",
                !err || (err->domain == G_OPTION_ERROR &&
                         !strstr(err->message, "(")) ?
                " (see shmcam-host --help)" : "");
        g_clear_error(&err);
        shmcam_host_free(&h);
        return status;
    }
    status = shmcam_host_serves(&h) ? shmcam_server_main(&h) :
             shmcam_host_capture(&h);
    shmcam_host_free(&h);
    return status;
}
