/*
 * Helpers the shmcam qtests share
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SHMCAM_QTEST_H
#define SHMCAM_QTEST_H

#include "libqos/pci.h"

/* qpci_device_foreach() callback: keep the device found. */
static inline void shmcam_qtest_save_dev(QPCIDevice *dev, int devfn,
                                         void *data)
{
    *(QPCIDevice **)data = dev;
}

/*
 * Run QEMU with args; it must exit 1 with message on stderr.  A QEMU that
 * accepted them would wait at -S: timeout(1) is the hang guard.
 */
static inline void shmcam_refused(const char *args, const char *message)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmd = g_strdup_printf("timeout 60 %s -M pc -nodefaults "
                                           "-display none -S %s", qemu, args);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) error = NULL;
    int status;

    g_assert_nonnull(qemu);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                               NULL, &out, &err, &status, &error));
    g_test_message("%s: %s", cmd, err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, message));
}

#endif
