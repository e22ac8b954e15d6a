/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-dump on files: verify frames a guest captured (v4l2-ctl
 * --stream-to writes them back to back), and write pattern frames for
 * shmcam-host --file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmcam-dump.h"
#include "shmcam-format.h"
#include "shmcam-jpeg.h"

static const char *shmcam_dump_ext(uint32_t fourcc)
{
    switch (fourcc) {
    case SHMCAM_FMT_YUYV: return "yuyv";
    case SHMCAM_FMT_NV12: return "nv12";
    case SHMCAM_FMT_YUV420: return "yu12";
    default: return "jpg";
    }
}

static int shmcam_dump_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        buf += n;
        len -= n;
    }
    return 0;
}

int shmcam_dump_save(struct shmcam_dump *d, const struct shmcam_format *f,
                     uint64_t frame, const uint8_t *buf, uint32_t len)
{
    char *path = g_strdup_printf("%s/frame-%06llu.%s", d->o.out,
                                 (unsigned long long)frame,
                                 shmcam_dump_ext(f->pixelformat));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ret = fd < 0 ? -errno : shmcam_dump_write_all(fd, buf, len);

    if (fd >= 0) {
        close(fd);
    }
    if (ret) {
        fprintf(stderr, "shmcam-dump: cannot write %s: %s (check --out)\n",
                path, g_strerror(-ret));
    }
    g_free(path);
    return ret;
}

int shmcam_dump_check(struct shmcam_dump *d, const struct shmcam_format *f,
                      const uint8_t *buf, uint32_t len)
{
    struct shmcam_dump_counts *c = &d->c;
    char why[160];
    uint64_t stamp;
    int ret;

    if (d->pat_ready && (d->pat.fmt.pixelformat != f->pixelformat ||
                         d->pat.fmt.width != f->width ||
                         d->pat.fmt.height != f->height)) {
        shmcam_pattern_fini(&d->pat);
        d->pat_ready = false;
    }
    if (!d->pat_ready) {
        ret = shmcam_pattern_init(&d->pat, f);
        if (ret) {
            fprintf(stderr, "shmcam-dump: cannot verify this format: %s\n",
                    g_strerror(-ret));
            c->bad++;
            return -EBADMSG;
        }
        d->pat_ready = true;
    }
    c->frames++;
    ret = shmcam_pattern_verify(&d->pat, buf, len, &stamp, why, sizeof(why));
    if (ret) {
        if (c->bad++ < 10) {
            fprintf(stderr, "shmcam-dump: bad frame #%llu: %s\n",
                    (unsigned long long)c->frames - 1, why);
        }
        return ret;
    }
    if (c->last_stamp != SHMCAM_PATTERN_NONE && stamp <= c->last_stamp) {
        if (c->out_of_order++ < 10) {
            fprintf(stderr, "shmcam-dump: frame %llu after frame %llu: out of "
                    "order\n", (unsigned long long)stamp,
                    (unsigned long long)c->last_stamp);
        }
    }
    c->last_stamp = stamp;
    return 0;
}

struct shmcam_dump_reader {
    int fd;
    uint8_t *buf;
    size_t size, have;
    bool eof;
};

static int shmcam_dump_fill(struct shmcam_dump_reader *r)
{
    while (!r->eof && r->have < r->size) {
        ssize_t n = read(r->fd, r->buf + r->have, r->size - r->have);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        r->eof = n == 0;
        r->have += n;
    }
    return 0;
}

static void shmcam_dump_consume(struct shmcam_dump_reader *r, size_t n)
{
    memmove(r->buf, r->buf + n, r->have - n);
    r->have -= n;
}

/* Where the next JPEG starts after a broken one: its SOI and a marker. */
static size_t shmcam_dump_resync(const struct shmcam_dump_reader *r)
{
    size_t i;

    for (i = 1; i + 2 < r->have; i++) {
        if (r->buf[i] == 0xff && r->buf[i + 1] == 0xd8 && r->buf[i + 2] == 0xff) {
            return i;
        }
    }
    return r->have;
}

/* The length of the next frame in the buffer, or 0 with a bad frame counted. */
static size_t shmcam_dump_next_len(struct shmcam_dump *d,
                                   struct shmcam_dump_reader *r)
{
    size_t len;
    int ret;

    if (d->fmt.pixelformat != SHMCAM_FMT_MJPEG) {
        if (r->have >= d->fmt.sizeimage) {
            return d->fmt.sizeimage;
        }
        fprintf(stderr, "shmcam-dump: %zu bytes at the end of %s are not a "
                "whole frame of %u bytes\n", r->have, d->o.input,
                d->fmt.sizeimage);
    } else {
        ret = shmcam_jpeg_length(r->buf, r->have, &len);
        if (!ret) {
            return len;
        }
        fprintf(stderr, "shmcam-dump: %s at frame #%llu of %s\n",
                ret == -EAGAIN ? "truncated or oversized JPEG" : "no JPEG",
                (unsigned long long)d->c.frames, d->o.input);
    }
    d->c.frames++;
    d->c.bad++;
    shmcam_dump_consume(r, d->fmt.pixelformat == SHMCAM_FMT_MJPEG ?
                        shmcam_dump_resync(r) : r->have);
    return 0;
}

/*
 * shmcam_dump_input - verify a file of frames against the pattern
 *
 * Returns 0 when every frame is good, in order, and as many as --frames
 * asked for; -EBADMSG otherwise; another negative errno on I/O errors.
 */
int shmcam_dump_input(struct shmcam_dump *d)
{
    struct shmcam_dump_reader r = { .fd = -1 };
    int ret = 0;

    r.fd = strcmp(d->o.input, "-") ? open(d->o.input, O_RDONLY | O_CLOEXEC)
                                   : dup(STDIN_FILENO);
    if (r.fd < 0) {
        ret = -errno;
        fprintf(stderr, "shmcam-dump: cannot open %s: %s\n", d->o.input,
                g_strerror(-ret));
        return ret;
    }
    r.size = (size_t)d->fmt.sizeimage * 2;
    r.buf = g_malloc(r.size);
    while (!ret && (d->o.frames <= 0 || d->c.frames < (uint64_t)d->o.frames)) {
        size_t len;

        ret = shmcam_dump_fill(&r);
        if (ret || !r.have) {
            break;
        }
        len = shmcam_dump_next_len(d, &r);
        if (len) {
            if (d->o.verify) {
                shmcam_dump_check(d, &d->fmt, r.buf, len);
            } else {
                d->c.frames++;
            }
            if (d->o.out) {
                ret = shmcam_dump_save(d, &d->fmt, d->c.frames - 1, r.buf, len);
            }
            shmcam_dump_consume(&r, len);
        }
    }
    if (ret) {
        fprintf(stderr, "shmcam-dump: reading %s: %s\n", d->o.input,
                g_strerror(-ret));
    }
    close(r.fd);
    g_free(r.buf);
    return ret;
}

/* Write frames 0..N-1 of the pattern to a file, as --file reads them. */
int shmcam_dump_generate(struct shmcam_dump *d)
{
    uint64_t n, count = d->o.frames > 0 ? (uint64_t)d->o.frames : 1;
    int fd, ret;

    ret = shmcam_pattern_init(&d->pat, &d->fmt);
    if (ret) {
        fprintf(stderr, "shmcam-dump: cannot make the pattern: %s\n",
                g_strerror(-ret));
        return ret;
    }
    d->pat_ready = true;
    fd = strcmp(d->o.generate, "-") ?
         open(d->o.generate, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) :
         dup(STDOUT_FILENO);
    if (fd < 0) {
        ret = -errno;
    }
    for (n = 0; !ret && n < count; n++) {
        const uint8_t *data;
        uint32_t len = shmcam_pattern_render(&d->pat, n, &data);

        ret = shmcam_dump_write_all(fd, data, len);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (ret) {
        fprintf(stderr, "shmcam-dump: cannot write %s: %s\n", d->o.generate,
                g_strerror(-ret));
    }
    return ret;
}
