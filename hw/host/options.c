/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shmcam-host's command line: the options into struct shmcam_host_opts,
 * then their checks, which turn them into the format to publish and the
 * size of the regions shmcam-host creates.  main.c runs both.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "shmcam-host.h"
#include "qemu-memdev.h"

/*
 * --pipewire takes its target as an optional argument: --pipewire alone
 * is the default video source (an empty target).
 */
static gboolean shmcam_host_parse_pipewire(const char *name, const char *value,
                                           gpointer data, GError **errp)
{
    struct shmcam_host_opts *o = data;

    (void)name;
    (void)errp;
    g_free(o->pipewire);
    o->pipewire = g_strdup(value ? value : "");
    return TRUE;
}

int shmcam_host_parse(struct shmcam_host *h, int *argc, char ***argv,
                      GError **errp)
{
    struct shmcam_host_opts *o = &h->o;
    GOptionEntry entries[] = {
        { "pattern", 0, 0, G_OPTION_ARG_NONE, &o->pattern,
          "Publish the moving test pattern (the default source)", NULL },
        { "camera", 0, 0, G_OPTION_ARG_FILENAME, &o->camera,
          "Capture from a V4L2 camera", "/dev/videoN" },
        { "pipewire", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
          shmcam_host_parse_pipewire,
          "Capture a PipeWire video node, shared with the host's other "
          "applications: its node.name, object.serial or object.path "
          "(default: the default video source)", "[TARGET]" },
        { "file", 0, 0, G_OPTION_ARG_FILENAME, &o->file,
          "Publish raw frames of --format from a file, or - for stdin", "PATH" },
        { "loop", 0, 0, G_OPTION_ARG_NONE, &o->loop,
          "Start a --file again at its end instead of stopping", NULL },
        { "format", 0, 0, G_OPTION_ARG_STRING, &o->format,
          "Pixel format: YUYV, NV12, YU12 or MJPG (default YUYV)", "FMT" },
        { "size", 0, 0, G_OPTION_ARG_STRING, &o->size,
          "Frame size (default 1280x720)", "WxH" },
        { "fps", 0, 0, G_OPTION_ARG_STRING, &o->fps,
          "Frames per second, e.g. 30 or 30000/1001 (default 30)", "RATE" },
        { "align", 0, 0, G_OPTION_ARG_INT, &o->align,
          "Pad each line of a raw format to a multiple of BYTES, a power of "
          "two up to 4096, as cameras with a stride do (pattern and file "
          "sources; a file's frames are laid out so)", "BYTES" },
        { "slots", 0, 0, G_OPTION_ARG_INT, &o->slots,
          "Frame slots in the region, 3..16 (default 3; with --camera 4, "
          "or 3 where 4 do not fit: a camera captures into the slots "
          "when there are 4 or more)", "N" },
        { "camera-io", 0, 0, G_OPTION_ARG_STRING, &o->camera_io,
          "How --camera frames reach the region: auto (captured straight "
          "into its slots when the camera and the region allow it, else "
          "copied) or mmap (always into the camera's own buffers, then "
          "copied) (default auto)", "auto|mmap" },
        { "controls", 0, 0, G_OPTION_ARG_STRING, &o->controls,
          "Which guests may change the source's controls: first (the "
          "guest whose format is streamed, or any while none is), all, "
          "or none (every control read-only) (default first)",
          "first|all|none" },
        { "shm", 0, 0, G_OPTION_ARG_STRING, &o->shm,
          "POSIX shm region /dev/shm/NAME: created, or attached if it exists "
          "(default shmcam0)", "NAME" },
        { "region", 0, 0, G_OPTION_ARG_FILENAME, &o->region,
          "Attach to an existing mmap-able file (e.g. a PCI BAR resource2)",
          "PATH" },
        { "qemu-memdev", 0, 0, G_OPTION_ARG_STRING, &o->qemu_memdev,
          "Publish into the memory-backend-shm ID of a running stock QEMU "
          "(9.1 or later), found through QEMU's process id or its QMP "
          "socket; run as QEMU's user or as root", "PID:ID|SOCKET:ID" },
        { "listen", 0, 0, G_OPTION_ARG_FILENAME, &o->listen,
          "Serve QEMU's ivshmem-doorbell on a unix socket (ivshmem server "
          "protocol 0), the region being a memfd passed to each guest",
          "SOCKET" },
        { "pci-listen", 0, 0, G_OPTION_ARG_FILENAME, &o->pci_listen,
          "Serve QEMU's shmcam-pci devices on a unix socket: each passes its "
          "memory backend, a region of its own (with or without --listen)",
          "SOCKET" },
        { "isolate", 0, 0, G_OPTION_ARG_NONE, &o->isolate,
          "With --listen: a region of its own for each guest (one more copy "
          "of each frame per guest)", NULL },
        { "region-size", 0, 0, G_OPTION_ARG_STRING, &o->region_size,
          "Size of a region shmcam-host creates (--shm or --listen), a power "
          "of two such as 64M (default: the smallest that fits), so that "
          "larger formats fit later; a shmcam-pci region must be at least "
          "as large", "SIZE" },
        { "keep", 0, 0, G_OPTION_ARG_NONE, &o->keep,
          "Leave a --shm region shmcam-host created in /dev/shm when it "
          "stops (marked stopped), for QEMU's memory-backend-shm attach=on "
          "and the next shmcam-host", NULL },
        { "mode", 0, 0, G_OPTION_ARG_STRING, &o->mode,
          "File mode of a created shm region or --listen socket, and the "
          "widest an existing region may have (default 0600)", "OCTAL" },
        { "force", 0, 0, G_OPTION_ARG_NONE, &o->force,
          "Overwrite a region that holds foreign data, a newer ABI, or a "
          "producer elsewhere that still beats; accept an existing region "
          "of another owner or a wider mode", NULL },
        { "stats", 0, 0, G_OPTION_ARG_NONE, &o->stats,
          "Print frame rate and counts to stderr every second: frames, "
          "frames too large, frame bytes copied into regions, microseconds "
          "spent publishing (all since the start)", NULL },
        { "card", 0, 0, G_OPTION_ARG_STRING, &o->card,
          "Name shown to guests as the card (default: the source's)", "NAME" },
        { "version", 0, 0, G_OPTION_ARG_NONE, &o->version,
          "Print the version and exit", NULL },
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *ctx = g_option_context_new("- publish frames into a shmcam region");
    GOptionGroup *group = g_option_group_new(NULL, NULL, NULL, o, NULL);
    gboolean ok;

    /* A group of our own: --pipewire's callback gets the options. */
    g_option_group_add_entries(group, entries);
    g_option_context_set_main_group(ctx, group);
    g_option_context_set_description(ctx,
        "Exit status: 0 after SIGINT/SIGTERM or the end of a --file, 1 on a "
        "region,\nsource or I/O error, 2 on a bad command line.\n\n"
        "With --listen SOCKET, QEMU connects with\n"
        "  -chardev socket,id=cam,path=SOCKET "
        "-device ivshmem-doorbell,chardev=cam,vectors=1\n"
        "and capture runs in a child process that is restarted when it fails, "
        "while\nguests stay connected (docs/ivshmem-server.rst).  With "
        "--pci-listen SOCKET,\n"
        "  -object memory-backend-shm,id=cam,size=32M\n"
        "  -chardev socket,id=cams,path=SOCKET,reconnect-ms=1000\n"
        "  -device shmcam-pci,memdev=cam,chardev=cams\n"
        "connects the same way (docs/specs/shmcam-pci.rst).  The server "
        "itself exits 0\nafter SIGINT/SIGTERM, 1 when its sockets or region "
        "cannot be set up.\n\n"
        "With --qemu-memdev PID:ID, the memory of a QEMU started with\n"
        "  -object memory-backend-shm,id=ID,size=32M "
        "-device ivshmem-plain,memdev=ID\n"
        "and, for SOCKET:ID, QMP on -qmp unix:SOCKET,server=on,wait=off\n"
        "(docs/memory-backends.rst).\n");
    ok = g_option_context_parse(ctx, argc, argv, errp);
    g_option_context_free(ctx);
    if (ok && *argc > 1) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "unexpected argument '%s'", (*argv)[1]);
        ok = FALSE;
    }
    return ok ? 0 : -EINVAL;
}

/* "64M", "1G", "65536": 0 or -EINVAL. */
static int shmcam_host_parse_bytes(const char *arg, uint64_t *bytes)
{
    unsigned long long v;
    char *end;
    int shift = 0;

    if (!g_ascii_isdigit(arg[0])) {
        return -EINVAL;
    }
    errno = 0;
    v = strtoull(arg, &end, 10);
    switch (g_ascii_toupper(*end)) {
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case '\0':
        break;
    default:
        return -EINVAL;
    }
    if (errno || (shift && end[1]) || v > (UINT64_MAX >> shift)) {
        return -EINVAL;
    }
    *bytes = (uint64_t)v << shift;
    return 0;
}

/* --listen: the size of the region(s) we create; -EINVAL with a message. */
static int shmcam_host_check_region_size(struct shmcam_host *h, GError **errp)
{
    uint64_t needed = shmcam_producer_needed(h->o.slots,
                                             shmcam_format_slot_size(&h->fmt));
    uint64_t want = shmcam_region_round_size(needed), size;
    char want_arg[32], want_s[32], desc[64];

    shmcam_host_size_arg(want, want_arg, sizeof(want_arg));
    if (!h->o.region_size) {
        h->region_bytes = want;
        return 0;
    }
    if (shmcam_host_parse_bytes(h->o.region_size, &size) ||
        !shmcam_is_pow2(size) || size < SHMCAM_MIN_REGION_SIZE ||
        size > SHMCAM_MAX_REGION_SIZE) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--region-size %s is not a power "
                    "of two between 64K and 64G (e.g. --region-size %s)",
                    h->o.region_size, want_arg);
        return -EINVAL;
    }
    if (size < needed && shmcam_host_fewer_slots(h)) {
        return shmcam_host_check_region_size(h, errp);
    }
    if (size < needed) {
        shmcam_format_str(&h->fmt, desc, sizeof(desc));
        shmcam_region_size_str(want, want_s, sizeof(want_s));
        g_set_error(errp, G_OPTION_ERROR, 0, "--region-size %s is too small: "
                    "%s with %d slots needs %s (--region-size %s)",
                    h->o.region_size, desc, h->o.slots, want_s, want_arg);
        return -EINVAL;
    }
    h->region_bytes = size;
    return 0;
}

/* Check the options and turn them into a format; -EINVAL with a message. */
int shmcam_host_check(struct shmcam_host *h, GError **errp)
{
    struct shmcam_host_opts *o = &h->o;
    struct shmcam_fract iv = { 1, 30 };
    uint32_t fourcc = SHMCAM_FMT_YUYV, w = 1280, hgt = 720;
    char *end;
    const char *why = NULL;

    if (!!o->pattern + !!o->camera + !!o->file + !!o->pipewire > 1) {
        why = "choose one source: --pattern, --camera, --file or --pipewire";
    } else if (!!o->shm + !!o->region + !!(o->listen || o->pci_listen) > 1) {
        why = "choose one region: --shm NAME, --region PATH or --listen "
              "SOCKET (--pci-listen SOCKET: the guests bring theirs)";
    } else if (o->qemu_memdev &&
               (o->shm || o->region || o->listen || o->pci_listen)) {
        why = "choose one region: --qemu-memdev PID:ID is QEMU's memory, "
              "with no --shm, --region, --listen or --pci-listen beside it";
    } else if (o->isolate && !o->listen) {
        why = "--isolate needs --listen SOCKET";
    } else if (o->region_size && o->region) {
        why = "--region-size is for a region shmcam-host creates (--shm NAME "
              "or --listen SOCKET); --region PATH has the size it was "
              "created with";
    } else if (o->region_size && o->qemu_memdev) {
        why = "--region-size is for a region shmcam-host creates (--shm NAME "
              "or --listen SOCKET); --qemu-memdev's backend has the size "
              "QEMU gave it";
    } else if (o->keep && (o->region || o->qemu_memdev || o->listen ||
                           o->pci_listen)) {
        why = "--keep is for a --shm region (shmcam-host removes no other "
              "region at exit)";
    } else if (o->listen && !o->listen[0]) {
        why = "--listen needs a socket path (e.g. --listen /run/shmcam.sock)";
    } else if (o->pci_listen && !o->pci_listen[0]) {
        why = "--pci-listen needs a socket path (e.g. --pci-listen "
              "/run/shmcam-pci.sock)";
    } else if (o->listen && o->pci_listen &&
               !strcmp(o->listen, o->pci_listen)) {
        why = "--listen and --pci-listen need two different sockets";
    } else if (o->camera_io && strcmp(o->camera_io, "auto") &&
               strcmp(o->camera_io, "mmap")) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--camera-io %s is not auto or "
                    "mmap", o->camera_io);
        return -EINVAL;
    } else if (shmcam_host_parse_controls(o->controls, &h->ctrl_policy)) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--controls %s is not first, "
                    "all or none", o->controls);
        return -EINVAL;
    } else if (o->camera_io && !o->camera) {
        why = "--camera-io is for --camera";
    } else if (o->slots && (o->slots < (int)SHMCAM_MIN_SLOTS ||
                            o->slots > (int)SHMCAM_MAX_SLOTS)) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--slots %d is out of range "
                    "(use %u..%u)", o->slots, SHMCAM_MIN_SLOTS, SHMCAM_MAX_SLOTS);
        return -EINVAL;
    } else if (o->align && (o->camera || o->pipewire)) {
        why = "--align is for the pattern and --file (a camera has a stride "
              "of its own)";
    } else if (o->align < 0 || (uint32_t)o->align > SHMCAM_MAX_ALIGN ||
               (o->align & (o->align - 1))) {
        g_set_error(errp, G_OPTION_ERROR, 0, "--align %d is not a power of "
                    "two up to %u (e.g. --align 64)", o->align,
                    SHMCAM_MAX_ALIGN);
        return -EINVAL;
    } else if (o->shm && (!o->shm[0] || strchr(o->shm + 1, '/'))) {
        why = "--shm NAME must be a name without '/' (e.g. --shm cam0)";
    }
    if (why) {
        g_set_error(errp, G_OPTION_ERROR, 0, "%s", why);
        return -EINVAL;
    }
#ifndef CONFIG_PIPEWIRE
    if (o->pipewire) {
        g_set_error(errp, G_FILE_ERROR, 0, "--pipewire: this shmcam-host was "
                    "built without PipeWire (install libpipewire-0.3-dev, "
                    "then run ./configure again and rebuild)");
        return -EINVAL;
    }
#endif
    if (!o->slots) {
        h->slots_auto = o->camera && !(o->camera_io &&
                                       !strcmp(o->camera_io, "mmap"));
        o->slots = h->slots_auto ? SHMCAM_MIN_SLOTS + 1 : SHMCAM_MIN_SLOTS;
    }
    if (o->qemu_memdev) {
        struct shmcam_qemu_target t;

        if (shmcam_qemu_target_parse(o->qemu_memdev, &t, errp)) {
            return -EINVAL;
        }
        shmcam_qemu_target_clear(&t);
    }
    if (o->format && !(fourcc = shmcam_format_from_name(o->format))) {
        g_set_error(errp, G_OPTION_ERROR, 0, "unknown format '%s' (use one of "
                    "%s)", o->format, shmcam_format_names());
        return -EINVAL;
    }
    if (o->size && shmcam_parse_size(o->size, &w, &hgt)) {
        g_set_error(errp, G_OPTION_ERROR, 0, "invalid size '%s' (use WIDTHxHEIGHT, "
                    "e.g. 1280x720)", o->size);
        return -EINVAL;
    }
    if (o->fps && shmcam_parse_fps(o->fps, &iv)) {
        g_set_error(errp, G_OPTION_ERROR, 0, "invalid frame rate '%s' (use frames "
                    "per second, 1..1000, e.g. 30 or 30000/1001)", o->fps);
        return -EINVAL;
    }
    if (w < SHMCAM_MIN_WIDTH || w > SHMCAM_MAX_WIDTH ||
        hgt < SHMCAM_MIN_HEIGHT || hgt > SHMCAM_MAX_HEIGHT) {
        g_set_error(errp, G_OPTION_ERROR, 0, "size %ux%u is out of range (width "
                    "%u..%u, height %u..%u)", w, hgt, SHMCAM_MIN_WIDTH,
                    SHMCAM_MAX_WIDTH, SHMCAM_MIN_HEIGHT, SHMCAM_MAX_HEIGHT);
        return -EINVAL;
    }
    if ((w | hgt) & 1) {
        g_set_error(errp, G_OPTION_ERROR, 0, "size %ux%u is odd (use an even "
                    "width and height, e.g. %ux%u)", w, hgt, w & ~1u, hgt & ~1u);
        return -EINVAL;
    }
    h->shm_mode = 0600;
    if (o->mode) {
        unsigned long m = strtoul(o->mode, &end, 8);

        if (!o->mode[0] || *end || m > 0777) {
            g_set_error(errp, G_OPTION_ERROR, 0, "--mode %s is not a file mode "
                        "(use octal, e.g. 0600)", o->mode);
            return -EINVAL;
        }
        h->shm_mode = m;
    }
    if (!o->shm && !o->region && !o->qemu_memdev && !shmcam_host_serves(h)) {
        o->shm = g_strdup("shmcam0");
    }
    if (shmcam_format_init(&h->fmt, fourcc, w, hgt, iv)) {
        return -EINVAL;
    }
    h->align = o->align;
    shmcam_format_align(&h->fmt, h->align);
    return shmcam_host_serves(h) || o->region_size ?
           shmcam_host_check_region_size(h, errp) : 0;
}
