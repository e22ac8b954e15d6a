/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Region backends: shm create/attach/remove, files, memfd, sizes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "shmcam-region.h"

static void test_shm(void)
{
    struct shmcam_region a = SHMCAM_REGION_INIT, b = SHMCAM_REGION_INIT;
    char *name = g_strdup_printf("shmcam-unit-%d", getpid());
    char *path = g_strdup_printf("/dev/shm/%s", name);
    struct stat st;

    g_assert_cmpint(shmcam_region_create_shm(&a, name, 1 << 16, 0600), ==, 0);
    g_assert_cmpstr(a.path, ==, path);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(shmcam_region_create_shm(&b, name, 1 << 16, 0600), ==, -EEXIST);
    g_assert_cmpint(shmcam_region_open_shm(&b, name, false), ==, 0);
    g_assert_cmpuint(b.size, ==, 1 << 16);
    ((char *)a.base)[100] = 42;
    g_assert_cmpint(((char *)b.base)[100], ==, 42);
    shmcam_region_close(&b);
    g_assert_cmpint(stat(path, &st), ==, 0);    /* attached: left alone */
    shmcam_region_close(&a);
    g_assert_cmpint(stat(path, &st), ==, -1);   /* created: removed */
    g_assert_cmpint(shmcam_region_open_shm(&b, name, false), ==, -ENOENT);
    g_assert_cmpint(b.fd, ==, -1);
    g_free(name);
    g_free(path);
}

static void test_path_and_memfd(void)
{
    struct shmcam_region r = SHMCAM_REGION_INIT;
    char *path = g_strdup_printf("/tmp/shmcam-unit-%d", getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(shmcam_region_open_path(&r, path, true), ==, -ENODATA);
    g_assert_cmpint(ftruncate(fd, 1 << 17), ==, 0);
    g_assert_cmpint(shmcam_region_open_path(&r, path, true), ==, 0);
    g_assert_cmpuint(r.size, ==, 1 << 17);
    shmcam_region_close(&r);
    g_assert_cmpint(access(path, F_OK), ==, 0);
    unlink(path);
    close(fd);
    g_assert_cmpint(shmcam_region_open_path(&r, "/nonexistent/x", true), ==, -ENOENT);
    g_assert_cmpint(shmcam_region_open_path(&r, "/tmp", false), ==, -EISDIR);

    g_assert_cmpint(shmcam_region_create_memfd(&r, "unit", 1 << 16), ==, 0);
    g_assert_cmpuint(r.size, ==, 1 << 16);
    g_assert_cmpint(ftruncate(r.fd, 1 << 20), ==, -1);  /* sealed */
    shmcam_region_close(&r);
    g_free(path);
}

static void test_sizes(void)
{
    char buf[32];

    g_assert_cmpuint(shmcam_region_round_size(1), ==, 1 << 16);
    g_assert_cmpuint(shmcam_region_round_size(3 * 4149248 + 8192), ==, 16 << 20);
    g_assert_cmpuint(shmcam_region_round_size(16 << 20), ==, 16 << 20);
    shmcam_region_size_str(16 << 20, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "16 MiB");
    shmcam_region_size_str(64 << 10, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "64 KiB");
    shmcam_region_size_str(5000, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "5000 bytes");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/region/shm", test_shm);
    g_test_add_func("/region/path-and-memfd", test_path_and_memfd);
    g_test_add_func("/region/sizes", test_sizes);
    return g_test_run();
}
