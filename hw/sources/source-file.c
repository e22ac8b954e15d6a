/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file source (--file PATH, or - for standard input): raw frames of
 * the configured format back to back, as `ffmpeg -f rawvideo` writes them,
 * or concatenated JPEGs for MJPG.  At the end of a regular file it starts
 * again with --loop and otherwise ends the stream; a pipe just ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmcam-format.h"
#include "shmcam-jpeg.h"
#include "shmcam-source.h"

struct shmcam_file_source {
    struct shmcam_source base;
    char *path;
    bool loop;
    bool regular;
    bool mjpeg;
    bool skipping;              /* inside a JPEG too large: find the next */
    uint32_t align;             /* lines padded to a multiple of it */
    struct shmcam_format fmt;
    uint8_t *buf;
    size_t cap;                 /* bytes allocated */
    size_t have;                /* bytes read into buf */
    size_t used;                /* bytes of the frame handed out */
    uint64_t frames_read;
};

static int shmcam_file_source_start(struct shmcam_source *s,
                                    struct shmcam_format *fmt, GError **errp)
{
    struct shmcam_file_source *fs = (struct shmcam_file_source *)s;
    struct stat st;

    if (fs->base.fd < 0) {
        int fd = strcmp(fs->path, "-") ? open(fs->path, O_RDONLY | O_CLOEXEC)
                                       : dup(STDIN_FILENO);

        if (fd < 0 || fstat(fd, &st) < 0) {
            int ret = -errno;

            g_set_error(errp, G_FILE_ERROR, 0, "cannot open input file %s: %s "
                        "(give an existing file of raw frames, or - for "
                        "standard input)", fs->path, g_strerror(-ret));
            if (fd >= 0) {
                close(fd);
            }
            return ret;
        }
        fs->regular = S_ISREG(st.st_mode);
        if (!fs->regular) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
        fs->base.fd = fd;
    }
    shmcam_format_align(fmt, fs->align);
    fs->fmt = *fmt;
    fs->mjpeg = fmt->pixelformat == SHMCAM_FMT_MJPEG;
    fs->cap = fmt->sizeimage * (fs->mjpeg ? 2 : 1);
    g_free(fs->buf);
    fs->buf = g_malloc(fs->cap);
    fs->have = fs->used = 0;
    fs->skipping = false;
    return 0;
}

static uint32_t shmcam_file_source_caps(struct shmcam_source *s,
                                        uint32_t slot_size,
                                        struct shmcam_cap *caps,
                                        struct shmcam_cap_size *sizes)
{
    struct shmcam_file_source *fs = (struct shmcam_file_source *)s;

    /* A file has one format: offer exactly that. */
    return shmcam_source_common_caps(&fs->fmt, NULL, 0, false, fs->align,
                                     slot_size, caps, sizes);
}

/* Read what is there into buf: 0 (some or none), -EPIPE at the end. */
static int shmcam_file_source_fill(struct shmcam_file_source *fs)
{
    while (fs->have < fs->cap) {
        ssize_t n = read(fs->base.fd, fs->buf + fs->have, fs->cap - fs->have);

        if (n > 0) {
            fs->have += n;
            continue;
        }
        if (n == 0) {
            return -EPIPE;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EAGAIN ? 0 : -errno;
    }
    return 0;
}

/* At the end of input: rewind a regular file with --loop. */
static int shmcam_file_source_eof(struct shmcam_file_source *fs)
{
    if (!fs->loop || !fs->regular || !fs->frames_read) {
        return -EPIPE;
    }
    fs->have = 0;
    return lseek(fs->base.fd, 0, SEEK_SET) < 0 ? -errno : 0;
}

/* How long the frame at the start of buf is: 0 when not complete yet. */
static int shmcam_file_source_frame_len(struct shmcam_file_source *fs,
                                        size_t *len)
{
    int ret;

    if (!fs->mjpeg) {
        *len = fs->have >= fs->fmt.sizeimage ? fs->fmt.sizeimage : 0;
        return 0;
    }
    ret = shmcam_jpeg_length(fs->buf, fs->have, len);
    if (ret == -EAGAIN) {
        *len = 0;
        return fs->have >= fs->cap ? -EMSGSIZE : 0;
    }
    if (!ret && *len > fs->fmt.sizeimage) {
        return -EMSGSIZE;
    }
    return ret;
}

/*
 * Drop what is before the next JPEG's start of image (FF D8 FF: an SOI
 * and the marker after it; entropy-coded data never holds FF D8).
 * Returns true when one starts the buffer now; else the last bytes stay,
 * since a marker may straddle two reads, and fs->skipping is set.
 */
static bool shmcam_file_source_resync(struct shmcam_file_source *fs)
{
    size_t i, keep;

    for (i = 1; i + 2 < fs->have; i++) {
        if (fs->buf[i] == 0xff && fs->buf[i + 1] == 0xd8 &&
            fs->buf[i + 2] == 0xff) {
            fs->have -= i;
            memmove(fs->buf, fs->buf + i, fs->have);
            fs->skipping = false;
            return true;
        }
    }
    keep = MIN(fs->have, 2);
    memmove(fs->buf, fs->buf + fs->have - keep, keep);
    fs->have = keep;
    fs->skipping = true;
    return false;
}

/*
 * The frame at the start of buf is larger than a frame of the format may
 * be: drop it (all @len bytes when its end is known, else up to the next
 * frame, however many reads away), for the loop to count.
 */
static int shmcam_file_source_drop(struct shmcam_file_source *fs, size_t len)
{
    if (len && len <= fs->have) {
        fs->have -= len;
        memmove(fs->buf, fs->buf + len, fs->have);
    } else {
        shmcam_file_source_resync(fs);
    }
    return -EMSGSIZE;
}

static int shmcam_file_source_next(struct shmcam_source *s,
                                   struct shmcam_source_frame *f)
{
    struct shmcam_file_source *fs = (struct shmcam_file_source *)s;
    size_t len = 0;
    int ret;

    while (fs->skipping) {
        ret = shmcam_file_source_fill(fs);
        if (ret && ret != -EPIPE) {
            return ret;
        }
        if (shmcam_file_source_resync(fs)) {
            break;
        }
        if (ret == -EPIPE) {
            fs->skipping = false;
            fs->have = 0;
            return shmcam_file_source_eof(fs) ?: -EAGAIN;
        }
        if (!fs->regular) {
            return -EAGAIN;
        }
    }
    for (;;) {
        ret = shmcam_file_source_frame_len(fs, &len);
        if (ret || len) {
            break;
        }
        ret = shmcam_file_source_fill(fs);
        if (ret == -EPIPE) {
            ret = shmcam_file_source_frame_len(fs, &len);
            if (ret || len) {
                break;
            }
            ret = shmcam_file_source_eof(fs);
            if (ret) {
                return ret;
            }
            continue;
        }
        if (ret) {
            return ret;
        }
        ret = shmcam_file_source_frame_len(fs, &len);
        if (ret || len) {
            break;
        }
        if (!fs->regular) {
            return -EAGAIN;
        }
    }
    if (ret == -EMSGSIZE) {
        return shmcam_file_source_drop(fs, len);
    }
    if (ret) {
        return ret == -EINVAL ? -EBADMSG : ret;
    }
    f->data = fs->buf;
    f->len = len;
    f->flags = SHMCAM_SLOT_KEYFRAME;
    fs->used = len;
    fs->frames_read++;
    return 0;
}

static void shmcam_file_source_release(struct shmcam_source *s)
{
    struct shmcam_file_source *fs = (struct shmcam_file_source *)s;

    memmove(fs->buf, fs->buf + fs->used, fs->have - fs->used);
    fs->have -= fs->used;
    fs->used = 0;
}

static void shmcam_file_source_stop(struct shmcam_source *s)
{
    struct shmcam_file_source *fs = (struct shmcam_file_source *)s;

    if (fs->base.fd >= 0) {
        close(fs->base.fd);
        fs->base.fd = -1;
    }
    g_free(fs->buf);
    fs->buf = NULL;
}

static void shmcam_file_source_free(struct shmcam_source *s)
{
    struct shmcam_file_source *fs = (struct shmcam_file_source *)s;

    shmcam_file_source_stop(s);
    g_free(fs->path);
    g_free(fs);
}

static const struct shmcam_source_ops shmcam_file_source_ops = {
    .start = shmcam_file_source_start,
    .caps = shmcam_file_source_caps,
    .next = shmcam_file_source_next,
    .release = shmcam_file_source_release,
    .stop = shmcam_file_source_stop,
    .free = shmcam_file_source_free,
};

struct shmcam_source *shmcam_file_source_new(const char *path, bool loop,
                                             uint32_t align)
{
    struct shmcam_file_source *fs = g_new0(struct shmcam_file_source, 1);

    fs->align = align;
    fs->base.ops = &shmcam_file_source_ops;
    fs->base.card = "shmcam file";
    fs->base.fd = -1;
    fs->path = g_strdup(path);
    fs->loop = loop;
    return &fs->base;
}
