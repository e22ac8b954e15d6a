/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PipeWire source (--pipewire [TARGET]): shmcam-host as one more
 * client of the user's PipeWire daemon, capturing a video node (a camera
 * that PipeWire's v4l2 or libcamera monitor made, or any video source)
 * through a pw_stream that the session manager links to it.  PipeWire
 * shares a node among its clients: the host's own applications keep the
 * camera while guests see it, and cameras that only libcamera drives (the
 * MIPI cameras of recent laptops) come along.
 *
 * No thread of ours: everything happens on a pw_loop whose fd is the
 * source's fd, which capture.c polls; next() iterates the loop without
 * blocking, start() iterates it until the stream runs or a deadline
 * passes.  (libpipewire has a data thread of its own; the stream hands its
 * buffers over to this loop.)
 *
 * The node is looked up in the registry here, not only named to the
 * session manager: an unknown target then gets its message at once, the
 * node's EnumFormat params fill the capability table, and its removal
 * (global_remove) is the camera gone: -ENODEV, "no signal", and a start()
 * each second, by capture.c, until the node is back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <json-glib/json-glib.h>
#include <pipewire/pipewire.h>
#include <pipewire/extensions/metadata.h>
#include <spa/buffer/meta.h>
#include <spa/param/buffers.h>
#include <spa/param/format-utils.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

#include "shmcam-reader.h"
#include "shmcam-format.h"
#include "shmcam-source.h"

/* Modes cached per node: more than a table holds, since caps() filters
 * them by slot size before taking the first SHMCAM_MAX_CAPS. */
#define SHMCAM_PW_MAX_MODES     (4 * SHMCAM_MAX_CAPS)
/* Data blocks of a buffer we look at: one per plane at most. */
#define SHMCAM_PW_MAX_DATAS     3u
/* A registry round trip: the daemon answers at once, or is not well. */
#define SHMCAM_PW_SYNC_MS       2000
/* Linking, negotiation and the first frame: a USB camera powering up
 * takes a second or so. */
#define SHMCAM_PW_START_MS      5000
/* A new format on the running stream, before it is connected anew. */
#define SHMCAM_PW_SWITCH_MS     2000
/* A buffer time this close to now is taken to be on CLOCK_MONOTONIC. */
#define SHMCAM_PW_PTS_WINDOW_NS (2 * 1000000000ll)

/* One format and size the node offers. */
struct shmcam_pw_mode {
    struct shmcam_cap cap;
    struct shmcam_cap_size size;        /* packed lines: a guess (below) */
};

/* A node the registry announced. */
struct shmcam_pw_node {
    uint32_t id;
    char *serial;                       /* object.serial, as text */
    char *name;                         /* node.name */
    char *path;                         /* object.path, or NULL */
    char *desc;                         /* node.description, or NULL */
    char *media_class;                  /* or NULL */
    int priority;                       /* priority.session */
};

/* Our mapping of a buffer's dma-bufs (MAP_BUFFERS maps only the others). */
struct shmcam_pw_map {
    void *ptr[SHMCAM_PW_MAX_DATAS];
    size_t len[SHMCAM_PW_MAX_DATAS];
};

/* Where one plane of a raw frame is, or is to go. */
struct shmcam_pw_plane {
    const uint8_t *src;
    uint32_t stride;
    uint32_t line;                      /* bytes of picture in a line */
    uint32_t rows;
};

struct shmcam_pw_source {
    struct shmcam_source base;
    char *target;                       /* as given, or NULL: the default */
    char card[SHMCAM_CARD_LEN];

    struct pw_loop *loop;
    struct pw_context *context;
    struct pw_core *core;
    struct spa_hook core_listener;
    struct pw_registry *registry;
    struct spa_hook registry_listener;
    struct pw_metadata *metadata;       /* "default", for the default node */
    struct spa_hook metadata_listener;
    char *default_name;                 /* default.video.source, or NULL */
    GPtrArray *nodes;                   /* struct shmcam_pw_node */
    int sync_seq;
    bool synced;
    char *error;                        /* the daemon's last error */
    bool lost;                          /* the node or the daemon went */

    /* The node captured, bound for its EnumFormat. */
    uint32_t node_id;                   /* SPA_ID_INVALID: none */
    char *node_label;                   /* its name, for messages */
    char *node_target;                  /* its serial, for target.object */
    struct pw_node *node;
    struct spa_hook node_listener;
    struct shmcam_pw_mode modes[SHMCAM_PW_MAX_MODES];
    uint32_t nmodes;
    struct shmcam_format want;          /* for the sizes a range includes */

    struct pw_stream *stream;
    struct spa_hook stream_listener;
    enum pw_stream_state state;
    char *stream_error;
    struct shmcam_format neg;           /* the format PipeWire set */
    bool have_neg;
    struct pw_buffer *first;            /* start() saw it, next() gives it */
    struct pw_buffer *held;             /* handed out by next() */
    bool warned_unmapped;
    uint32_t said_type;                 /* the data type last said, +1 */

    struct shmcam_format fmt;           /* what is published */
    uint8_t *repack;                    /* fmt.sizeimage bytes, or NULL */
};

static int64_t shmcam_pw_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void shmcam_pw_node_free(gpointer p)
{
    struct shmcam_pw_node *n = p;

    g_free(n->serial);
    g_free(n->name);
    g_free(n->path);
    g_free(n->desc);
    g_free(n->media_class);
    g_free(n);
}

/* Is @n one that can feed us: a camera or another source of video? */
static bool shmcam_pw_is_video_source(const struct shmcam_pw_node *n)
{
    const char *c = n->media_class;

    return c && (g_str_has_prefix(c, "Video/Source") ||
                 !strcmp(c, "Stream/Output/Video"));
}

static const char *shmcam_pw_what(struct shmcam_pw_source *ps)
{
    return ps->node_label ? ps->node_label :
           ps->target ? ps->target : "(the default video source)";
}

/* ---- the daemon: core, registry, default metadata ---- */

static void shmcam_pw_core_done(void *data, uint32_t id, int seq)
{
    struct shmcam_pw_source *ps = data;

    if (id == PW_ID_CORE && seq == ps->sync_seq) {
        ps->synced = true;
    }
}

static void shmcam_pw_core_error(void *data, uint32_t id, int seq, int res,
                                 const char *message)
{
    struct shmcam_pw_source *ps = data;

    (void)seq;
    g_free(ps->error);
    ps->error = g_strdup_printf("%s (%s)", message ? message : "error",
                                g_strerror(-res));
    /* The connection itself failed: the daemon is gone. */
    if (id == PW_ID_CORE && res == -EPIPE) {
        ps->lost = true;
    }
}

static const struct pw_core_events shmcam_pw_core_events = {
    PW_VERSION_CORE_EVENTS,
    .done = shmcam_pw_core_done,
    .error = shmcam_pw_core_error,
};

/* The node name in a "default.video.source" value, {"name": "..."}. */
static char *shmcam_pw_json_name(const char *value)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    JsonObject *obj;

    if (!value || !json_parser_load_from_data(parser, value, -1, NULL)) {
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        return NULL;
    }
    obj = json_node_get_object(root);
    if (!json_object_has_member(obj, "name") ||
        json_object_get_member(obj, "name") == NULL ||
        !JSON_NODE_HOLDS_VALUE(json_object_get_member(obj, "name"))) {
        return NULL;
    }
    return g_strdup(json_object_get_string_member(obj, "name"));
}

static int shmcam_pw_metadata_property(void *data, uint32_t subject,
                                       const char *key, const char *type,
                                       const char *value)
{
    struct shmcam_pw_source *ps = data;

    (void)type;
    if (subject == PW_ID_CORE && key && !strcmp(key, "default.video.source")) {
        g_free(ps->default_name);
        ps->default_name = shmcam_pw_json_name(value);
    }
    return 0;
}

static const struct pw_metadata_events shmcam_pw_metadata_events = {
    PW_VERSION_METADATA_EVENTS,
    .property = shmcam_pw_metadata_property,
};

static void shmcam_pw_global(void *data, uint32_t id, uint32_t permissions,
                             const char *type, uint32_t version,
                             const struct spa_dict *props)
{
    struct shmcam_pw_source *ps = data;
    struct shmcam_pw_node *n;
    const char *v;

    (void)permissions;
    (void)version;
    if (!props) {
        return;
    }
    if (!strcmp(type, PW_TYPE_INTERFACE_Metadata) && !ps->metadata &&
        (v = spa_dict_lookup(props, PW_KEY_METADATA_NAME)) &&
        !strcmp(v, "default")) {
        ps->metadata = pw_registry_bind(ps->registry, id,
                                        PW_TYPE_INTERFACE_Metadata,
                                        PW_VERSION_METADATA, 0);
        if (ps->metadata) {
            pw_metadata_add_listener(ps->metadata, &ps->metadata_listener,
                                     &shmcam_pw_metadata_events, ps);
        }
        return;
    }
    if (strcmp(type, PW_TYPE_INTERFACE_Node)) {
        return;
    }
    n = g_new0(struct shmcam_pw_node, 1);
    n->id = id;
    n->serial = g_strdup(spa_dict_lookup(props, PW_KEY_OBJECT_SERIAL));
    n->name = g_strdup(spa_dict_lookup(props, PW_KEY_NODE_NAME));
    n->path = g_strdup(spa_dict_lookup(props, PW_KEY_OBJECT_PATH));
    v = spa_dict_lookup(props, PW_KEY_NODE_DESCRIPTION);
    n->desc = g_strdup(v ? v : spa_dict_lookup(props, PW_KEY_NODE_NICK));
    n->media_class = g_strdup(spa_dict_lookup(props, PW_KEY_MEDIA_CLASS));
    v = spa_dict_lookup(props, PW_KEY_PRIORITY_SESSION);
    n->priority = v ? atoi(v) : 0;
    g_ptr_array_add(ps->nodes, n);
}

static void shmcam_pw_global_remove(void *data, uint32_t id)
{
    struct shmcam_pw_source *ps = data;
    guint i;

    if (id == ps->node_id) {
        ps->lost = true;
    }
    for (i = 0; i < ps->nodes->len; i++) {
        struct shmcam_pw_node *n = g_ptr_array_index(ps->nodes, i);

        if (n->id == id) {
            g_ptr_array_remove_index(ps->nodes, i);
            break;
        }
    }
}

static const struct pw_registry_events shmcam_pw_registry_events = {
    PW_VERSION_REGISTRY_EVENTS,
    .global = shmcam_pw_global,
    .global_remove = shmcam_pw_global_remove,
};

/*
 * Run the loop until @done says so (> 0), fails (< 0, returned), or
 * @timeout_ms pass (-ETIMEDOUT).  The node or the daemon going meanwhile
 * is -ENODEV.
 */
static int shmcam_pw_wait(struct shmcam_pw_source *ps,
                          int (*done)(struct shmcam_pw_source *ps),
                          int timeout_ms)
{
    int64_t deadline = shmcam_pw_now_ns() + (int64_t)timeout_ms * 1000000;
    int ret;

    for (;;) {
        int64_t left;

        if (ps->lost) {
            return -ENODEV;
        }
        ret = done(ps);
        if (ret) {
            return ret < 0 ? ret : 0;
        }
        left = deadline - shmcam_pw_now_ns();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        ret = pw_loop_iterate(ps->loop, (int)((left + 999999) / 1000000));
        if (ret < 0 && ret != -EINTR) {
            return ret;
        }
    }
}

static int shmcam_pw_synced(struct shmcam_pw_source *ps)
{
    return ps->synced;
}

/* Everything the daemon sent before now, handled: 0 or a negative errno. */
static int shmcam_pw_roundtrip(struct shmcam_pw_source *ps)
{
    ps->synced = false;
    ps->sync_seq = pw_core_sync(ps->core, PW_ID_CORE, ps->sync_seq);
    return shmcam_pw_wait(ps, shmcam_pw_synced, SHMCAM_PW_SYNC_MS);
}

static void shmcam_pw_drop_stream(struct shmcam_pw_source *ps)
{
    if (ps->stream) {
        /*
         * Disconnecting frees its buffers, held ones too, through
         * remove_buffer (our maps with them): with the listener still
         * there, which then goes before the stream.
         */
        pw_stream_disconnect(ps->stream);
        spa_hook_remove(&ps->stream_listener);
        pw_stream_destroy(ps->stream);
        ps->stream = NULL;
    }
    ps->first = ps->held = NULL;
    ps->have_neg = false;
    ps->state = PW_STREAM_STATE_UNCONNECTED;
    g_clear_pointer(&ps->stream_error, g_free);
}

static void shmcam_pw_drop_node(struct shmcam_pw_source *ps)
{
    shmcam_pw_drop_stream(ps);
    if (ps->node) {
        spa_hook_remove(&ps->node_listener);
        pw_proxy_destroy((struct pw_proxy *)ps->node);
        ps->node = NULL;
    }
    ps->node_id = SPA_ID_INVALID;
    ps->nmodes = 0;
    g_clear_pointer(&ps->node_label, g_free);
    g_clear_pointer(&ps->node_target, g_free);
}

/* Leave the daemon: everything of ours there goes with the connection. */
static void shmcam_pw_stop(struct shmcam_source *s)
{
    struct shmcam_pw_source *ps = (struct shmcam_pw_source *)s;

    if (!ps->loop) {
        return;
    }
    shmcam_pw_drop_node(ps);
    if (ps->metadata) {
        spa_hook_remove(&ps->metadata_listener);
        pw_proxy_destroy((struct pw_proxy *)ps->metadata);
        ps->metadata = NULL;
    }
    if (ps->registry) {
        spa_hook_remove(&ps->registry_listener);
        pw_proxy_destroy((struct pw_proxy *)ps->registry);
        ps->registry = NULL;
    }
    if (ps->core) {
        spa_hook_remove(&ps->core_listener);
        pw_core_disconnect(ps->core);
        ps->core = NULL;
    }
    if (ps->context) {
        pw_context_destroy(ps->context);
        ps->context = NULL;
    }
    pw_loop_leave(ps->loop);
    pw_loop_destroy(ps->loop);
    ps->loop = NULL;
    ps->base.fd = -1;
    g_ptr_array_set_size(ps->nodes, 0);
    g_clear_pointer(&ps->default_name, g_free);
    g_clear_pointer(&ps->error, g_free);
    ps->lost = false;
}

/*
 * Connect to the daemon and learn its objects.  Returns 0, or -ENODEV
 * with @errp set when there is no daemon to talk to.
 */
static int shmcam_pw_connect(struct shmcam_pw_source *ps, GError **errp)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    const char *remote = getenv("PIPEWIRE_REMOTE");
    int ret;

    ps->loop = pw_loop_new(NULL);
    if (!ps->loop) {
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire: cannot make a loop: %s",
                    g_strerror(-ret));
        return ret;
    }
    /* Ours alone: its callbacks run when we iterate it, on this thread. */
    pw_loop_enter(ps->loop);
    ps->base.fd = pw_loop_get_fd(ps->loop);
    ps->context = pw_context_new(ps->loop, NULL, 0);
    if (ps->context) {
        ps->core = pw_context_connect(ps->context, NULL, 0);
    }
    if (!ps->core) {
        ret = -errno;
        shmcam_pw_stop(&ps->base);
        /* libpipewire says EHOSTDOWN when no socket is there. */
        if (ret == -EHOSTDOWN || ret == -ENOENT || ret == -ECONNREFUSED) {
            g_set_error(errp, G_FILE_ERROR, 0, "PipeWire: no daemon at "
                        "%s/%s (is pipewire running for this user? "
                        "systemctl --user status pipewire)",
                        dir ? dir : "$XDG_RUNTIME_DIR",
                        remote ? remote : "pipewire-0");
        } else {
            g_set_error(errp, G_FILE_ERROR, 0, "PipeWire: cannot connect to "
                        "the daemon at %s/%s: %s", dir ? dir :
                        "$XDG_RUNTIME_DIR", remote ? remote : "pipewire-0",
                        g_strerror(-ret));
        }
        return -ENODEV;
    }
    pw_core_add_listener(ps->core, &ps->core_listener,
                         &shmcam_pw_core_events, ps);
    ps->registry = pw_core_get_registry(ps->core, PW_VERSION_REGISTRY, 0);
    pw_registry_add_listener(ps->registry, &ps->registry_listener,
                             &shmcam_pw_registry_events, ps);
    /* The globals, then the default metadata's properties. */
    ret = shmcam_pw_roundtrip(ps);
    if (!ret && ps->metadata) {
        ret = shmcam_pw_roundtrip(ps);
    }
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire: the daemon does not "
                    "answer: %s (is pipewire running well? journalctl --user "
                    "-u pipewire says)", ps->error ? ps->error :
                    g_strerror(-ret));
        shmcam_pw_stop(&ps->base);
        return -ENODEV;
    }
    return 0;
}

/*
 * The node to capture: the target (its node.name, object.serial or
 * object.path), or the default video source (the session manager's
 * default.video.source, else the video source of the highest session
 * priority).  NULL with @errp set when there is none: -ENODEV in *@err,
 * or -EINVAL for a target that is not a video source.
 */
static struct shmcam_pw_node *shmcam_pw_find(struct shmcam_pw_source *ps,
                                             int *err, GError **errp)
{
    struct shmcam_pw_node *best = NULL;
    guint i;

    *err = -ENODEV;
    for (i = 0; i < ps->nodes->len; i++) {
        struct shmcam_pw_node *n = g_ptr_array_index(ps->nodes, i);

        if (ps->target) {
            if (g_strcmp0(n->name, ps->target) &&
                g_strcmp0(n->serial, ps->target) &&
                g_strcmp0(n->path, ps->target)) {
                continue;
            }
            if (!shmcam_pw_is_video_source(n)) {
                *err = -EINVAL;
                g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node '%s' is "
                            "not a video source (its media.class is %s; "
                            "give a Video/Source node: pw-cli ls Node lists "
                            "them)", ps->target, n->media_class ?
                            n->media_class : "not set");
                return NULL;
            }
            return n;
        }
        if (!n->media_class || !g_str_has_prefix(n->media_class,
                                                 "Video/Source")) {
            continue;
        }
        if (ps->default_name && !g_strcmp0(n->name, ps->default_name)) {
            return n;
        }
        if (!best || n->priority > best->priority) {
            best = n;
        }
    }
    if (!best) {
        if (ps->target) {
            g_set_error(errp, G_FILE_ERROR, 0, "PipeWire has no node '%s' "
                        "(pw-cli ls Node lists them; give a node.name, "
                        "object.serial or object.path)", ps->target);
        } else {
            g_set_error(errp, G_FILE_ERROR, 0, "PipeWire has no video "
                        "source (connect a camera, or start its node; "
                        "pw-cli ls Node lists the nodes)");
        }
    }
    return best;
}

/* ---- the node's formats ---- */

static uint32_t shmcam_pw_fourcc(uint32_t subtype, uint32_t video_format)
{
    if (subtype == SPA_MEDIA_SUBTYPE_mjpg) {
        return SHMCAM_FMT_MJPEG;
    }
    if (subtype != SPA_MEDIA_SUBTYPE_raw) {
        return 0;
    }
    switch (video_format) {
    case SPA_VIDEO_FORMAT_YUY2:
        return SHMCAM_FMT_YUYV;
    case SPA_VIDEO_FORMAT_NV12:
        return SHMCAM_FMT_NV12;
    case SPA_VIDEO_FORMAT_I420:
        return SHMCAM_FMT_YUV420;
    default:
        return 0;
    }
}

static uint32_t shmcam_pw_video_format(uint32_t fourcc)
{
    switch (fourcc) {
    case SHMCAM_FMT_YUYV:
        return SPA_VIDEO_FORMAT_YUY2;
    case SHMCAM_FMT_NV12:
        return SPA_VIDEO_FORMAT_NV12;
    default:
        return SPA_VIDEO_FORMAT_I420;
    }
}

/*
 * The values of a property: its single value, or the values of its
 * choice with the choice's type in *@choice (Enum: the default, then the
 * alternatives; Range: default, min, max; Step: and the step).  Returns
 * the number of values, 0 when the property is missing or of another
 * type than @type.
 */
static uint32_t shmcam_pw_values(const struct spa_pod *param, uint32_t key,
                                 uint32_t type, const void **values,
                                 uint32_t *choice)
{
    const struct spa_pod_prop *prop = spa_pod_find_prop(param, NULL, key);
    const struct spa_pod *v;
    uint32_t n;

    if (!prop) {
        return 0;
    }
    v = spa_pod_get_values(&prop->value, &n, choice);
    if (!v || v->type != type || !n) {
        return 0;
    }
    *values = SPA_POD_BODY_CONST(v);
    return n;
}

/* Is the rate @r inside the range [@lo, @hi] (frames per second)? */
static bool shmcam_pw_rate_in(struct spa_fraction r, struct spa_fraction lo,
                              struct spa_fraction hi)
{
    return (uint64_t)r.num * lo.denom >= (uint64_t)lo.num * r.denom &&
           (uint64_t)r.num * hi.denom <= (uint64_t)hi.num * r.denom;
}

/*
 * The frame intervals of a format param into @c: its rates (frames per
 * second) turned into times per frame; for a range, the common rates in
 * it, the one asked for when it is in, and the default.
 */
static void shmcam_pw_param_intervals(struct shmcam_pw_source *ps,
                                      const struct spa_pod *param,
                                      struct shmcam_cap *c)
{
    static const uint32_t common[] = { 60, 30, 15 };
    const struct spa_fraction *r;
    uint32_t n, choice, i;

    n = shmcam_pw_values(param, SPA_FORMAT_VIDEO_framerate,
                         SPA_TYPE_Fraction, (const void **)&r, &choice);
    if (!n) {
        return;
    }
    if ((choice == SPA_CHOICE_Range || choice == SPA_CHOICE_Step) && n >= 3) {
        struct spa_fraction want = {
            ps->want.interval.denominator, ps->want.interval.numerator,
        };

        if (shmcam_pw_rate_in(want, r[1], r[2])) {
            shmcam_cap_add_interval(c, want.denom, want.num);
        }
        for (i = 0; i < G_N_ELEMENTS(common); i++) {
            if (shmcam_pw_rate_in(SPA_FRACTION(common[i], 1), r[1], r[2])) {
                shmcam_cap_add_interval(c, 1, common[i]);
            }
        }
        shmcam_cap_add_interval(c, r[0].denom, r[0].num);
        return;
    }
    /* A single value, or an enum whose first entry repeats one of the
     * others. */
    for (i = choice == SPA_CHOICE_Enum && n > 1 ? 1 : 0; i < n; i++) {
        shmcam_cap_add_interval(c, r[i].denom, r[i].num);
    }
}

static bool shmcam_pw_size_in(uint32_t w, uint32_t h,
                              const struct spa_rectangle *r, uint32_t n)
{
    return n >= 3 && w >= r[1].width && w <= r[2].width &&
           h >= r[1].height && h <= r[2].height &&
           (n < 4 || ((!r[3].width || (w - r[1].width) % r[3].width == 0) &&
                      (!r[3].height || (h - r[1].height) % r[3].height == 0)));
}

/* The sizes of a format param: its list, or for a range the size asked
 * for, the common sizes that lie in it, and its default. */
static uint32_t shmcam_pw_param_sizes(struct shmcam_pw_source *ps,
                                      const struct spa_pod *param,
                                      uint32_t sizes[][2], uint32_t max)
{
    static const uint32_t common[][2] = {
        { 320, 240 }, { 640, 480 }, { 1280, 720 }, { 1920, 1080 },
    };
    const struct spa_rectangle *r;
    uint32_t n, choice, i, count = 0;

    n = shmcam_pw_values(param, SPA_FORMAT_VIDEO_size, SPA_TYPE_Rectangle,
                         (const void **)&r, &choice);
    if (!n) {
        return 0;
    }
    if (choice == SPA_CHOICE_Range || choice == SPA_CHOICE_Step) {
        if (shmcam_pw_size_in(ps->want.width, ps->want.height, r, n)) {
            sizes[count][0] = ps->want.width;
            sizes[count++][1] = ps->want.height;
        }
        for (i = 0; i < G_N_ELEMENTS(common) && count < max; i++) {
            if (shmcam_pw_size_in(common[i][0], common[i][1], r, n)) {
                sizes[count][0] = common[i][0];
                sizes[count++][1] = common[i][1];
            }
        }
        n = 1;                          /* then the default */
    }
    for (i = choice == SPA_CHOICE_Enum && n > 1 ? 1 : 0;
         i < n && count < max; i++) {
        sizes[count][0] = r[i].width;
        sizes[count++][1] = r[i].height;
    }
    return count;
}

static struct shmcam_pw_mode *shmcam_pw_find_mode(struct shmcam_pw_source *ps,
                                                  uint32_t fourcc, uint32_t w,
                                                  uint32_t h)
{
    uint32_t i;

    for (i = 0; i < ps->nmodes; i++) {
        struct shmcam_cap *c = &ps->modes[i].cap;

        if (c->pixelformat == fourcc && c->width == w && c->height == h) {
            return &ps->modes[i];
        }
    }
    return NULL;
}

/*
 * One EnumFormat param of the node: a mode for each format shmcam
 * carries and each size, merged with what other params said of them.
 * The lines are counted packed: PipeWire says a node's stride only with
 * its buffers, and the mode streaming gets the real one (caps()).
 */
static void shmcam_pw_node_param(void *data, int seq, uint32_t id,
                                 uint32_t index, uint32_t next,
                                 const struct spa_pod *param)
{
    struct shmcam_pw_source *ps = data;
    uint32_t media_type, subtype, nf = 1, choice = SPA_CHOICE_None, f, i;
    uint32_t sizes[SHMCAM_PW_MAX_MODES][2], nsizes, one = 0;
    const uint32_t *formats = &one;

    (void)seq;
    (void)index;
    (void)next;
    if (id != SPA_PARAM_EnumFormat || !param ||
        spa_format_parse(param, &media_type, &subtype) < 0 ||
        media_type != SPA_MEDIA_TYPE_video) {
        return;
    }
    if (subtype == SPA_MEDIA_SUBTYPE_raw) {
        nf = shmcam_pw_values(param, SPA_FORMAT_VIDEO_format, SPA_TYPE_Id,
                              (const void **)&formats, &choice);
    }
    nsizes = shmcam_pw_param_sizes(ps, param, sizes, G_N_ELEMENTS(sizes));
    for (f = choice == SPA_CHOICE_Enum && nf > 1 ? 1 : 0; f < nf; f++) {
        uint32_t fourcc = shmcam_pw_fourcc(subtype, formats[f]);

        for (i = 0; fourcc && i < nsizes; i++) {
            struct shmcam_format fmt;
            struct shmcam_pw_mode *m = shmcam_pw_find_mode(ps, fourcc,
                                                           sizes[i][0],
                                                           sizes[i][1]);

            if (!m) {
                if (ps->nmodes >= SHMCAM_PW_MAX_MODES ||
                    shmcam_format_init(&fmt, fourcc, sizes[i][0], sizes[i][1],
                                       ps->want.interval)) {
                    continue;
                }
                m = &ps->modes[ps->nmodes++];
                memset(m, 0, sizeof(*m));
                m->cap.pixelformat = fourcc;
                m->cap.width = fmt.width;
                m->cap.height = fmt.height;
                m->size.bytesperline = fmt.bytesperline;
                m->size.sizeimage = fmt.sizeimage;
            }
            shmcam_pw_param_intervals(ps, param, &m->cap);
        }
    }
}

static const struct pw_node_events shmcam_pw_node_events = {
    PW_VERSION_NODE_EVENTS,
    .param = shmcam_pw_node_param,
};

/* Bind @n and learn its formats: 0, or -ENODEV with @errp set. */
static int shmcam_pw_use_node(struct shmcam_pw_source *ps,
                              const struct shmcam_pw_node *n, GError **errp)
{
    uint32_t i;
    int ret;

    shmcam_pw_drop_node(ps);
    ps->node = pw_registry_bind(ps->registry, n->id, PW_TYPE_INTERFACE_Node,
                                PW_VERSION_NODE, 0);
    if (!ps->node) {
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node '%s': %s",
                    n->name ? n->name : n->serial, g_strerror(-ret));
        return -ENODEV;
    }
    ps->node_id = n->id;
    ps->node_label = g_strdup(n->name ? n->name : n->serial);
    ps->node_target = g_strdup(n->serial ? n->serial : n->name);
    snprintf(ps->card, sizeof(ps->card), "%s",
             n->desc ? n->desc : n->name ? n->name : "PipeWire");
    pw_node_add_listener(ps->node, &ps->node_listener,
                         &shmcam_pw_node_events, ps);
    pw_node_enum_params(ps->node, 0, SPA_PARAM_EnumFormat, 0, UINT32_MAX,
                        NULL);
    ret = shmcam_pw_roundtrip(ps);
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node %s: %s while "
                    "asking its formats", ps->node_label,
                    ret == -ENODEV ? "it went away" : g_strerror(-ret));
        return -ENODEV;
    }
    for (i = 0; i < ps->nmodes; i++) {
        struct shmcam_cap *c = &ps->modes[i].cap;

        /* No rate said (a variable rate): the one asked for stands in. */
        if (!c->num_intervals) {
            shmcam_cap_add_interval(c, ps->want.interval.numerator,
                                   ps->want.interval.denominator);
        }
    }
    return 0;
}

static double shmcam_pw_absd(double v)
{
    return v < 0 ? -v : v;
}

/*
 * The mode closest to @fmt, as a camera adjusts S_FMT: the size nearest
 * to the one asked for in the same format, the rate nearest to the one
 * asked for at that size; @fmt is updated to it.  Returns 0, or -EINVAL
 * with @errp set when the node does not have the format.
 */
static int shmcam_pw_choose(struct shmcam_pw_source *ps,
                            struct shmcam_format *fmt, GError **errp)
{
    const struct shmcam_pw_mode *best = NULL;
    const struct shmcam_cap *c;
    struct shmcam_fract iv;
    uint64_t best_d = UINT64_MAX;
    double want_fps, best_fps = 0;
    GString *offered;
    char name[5];
    uint32_t i;

    for (i = 0; i < ps->nmodes; i++) {
        const struct shmcam_pw_mode *m = &ps->modes[i];
        uint64_t d = (uint64_t)labs((long)m->cap.width - (long)fmt->width) +
                     (uint64_t)labs((long)m->cap.height - (long)fmt->height);

        if (m->cap.pixelformat == fmt->pixelformat && d < best_d) {
            best = m;
            best_d = d;
        }
    }
    if (!best) {
        offered = g_string_new(NULL);
        for (i = 0; i < ps->nmodes; i++) {
            shmcam_format_name(ps->modes[i].cap.pixelformat, name);
            if (!strstr(offered->str, name)) {
                g_string_append_printf(offered, "%s%s",
                                       offered->len ? ", " : "", name);
            }
        }
        shmcam_format_name(fmt->pixelformat, name);
        if (offered->len) {
            g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node %s cannot "
                        "deliver %s (it offers %s; choose another --format)",
                        shmcam_pw_what(ps), name, offered->str);
        } else {
            g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node %s offers "
                        "none of %s (choose another node)", shmcam_pw_what(ps),
                        shmcam_format_names());
        }
        g_string_free(offered, TRUE);
        return -EINVAL;
    }
    c = &best->cap;
    iv = c->intervals[0];
    want_fps = (double)fmt->interval.denominator / fmt->interval.numerator;
    for (i = 0; i < c->num_intervals; i++) {
        double fps = (double)c->intervals[i].denominator /
                     c->intervals[i].numerator;

        if (i == 0 || shmcam_pw_absd(fps - want_fps) <
                      shmcam_pw_absd(best_fps - want_fps)) {
            best_fps = fps;
            iv = c->intervals[i];
        }
    }
    fmt->width = c->width;
    fmt->height = c->height;
    fmt->interval = iv;
    return 0;
}

/* ---- the stream ---- */

static void shmcam_pw_state_changed(void *data, enum pw_stream_state old,
                                    enum pw_stream_state state,
                                    const char *error)
{
    struct shmcam_pw_source *ps = data;

    (void)old;
    ps->state = state;
    if (state == PW_STREAM_STATE_ERROR) {
        g_free(ps->stream_error);
        ps->stream_error = g_strdup(error ? error : "stream error");
    }
}

/*
 * PipeWire set a format (or cleared it, @param NULL): take it, and ask
 * for buffers we can read and for their header (the capture time).
 */
static void shmcam_pw_param_changed(void *data, uint32_t id,
                                    const struct spa_pod *param)
{
    struct shmcam_pw_source *ps = data;
    uint32_t media_type, subtype, fourcc = 0;
    struct spa_rectangle size = { 0, 0 };
    struct spa_fraction rate = { 0, 1 };
    struct spa_video_info_raw raw;
    struct spa_video_info_mjpg mjpg;
    const struct spa_pod *params[2];
    uint8_t buf[512];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));

    if (id != SPA_PARAM_Format) {
        return;
    }
    ps->have_neg = false;
    if (!param || spa_format_parse(param, &media_type, &subtype) < 0 ||
        media_type != SPA_MEDIA_TYPE_video) {
        return;
    }
    if (subtype == SPA_MEDIA_SUBTYPE_raw &&
        spa_format_video_raw_parse(param, &raw) >= 0) {
        fourcc = shmcam_pw_fourcc(subtype, raw.format);
        size = raw.size;
        rate = raw.framerate;
    } else if (subtype == SPA_MEDIA_SUBTYPE_mjpg &&
               spa_format_video_mjpg_parse(param, &mjpg) >= 0) {
        fourcc = SHMCAM_FMT_MJPEG;
        size = mjpg.size;
        rate = mjpg.framerate;
    }
    if (!fourcc || shmcam_format_init(&ps->neg, fourcc, size.width,
                                      size.height, ps->want.interval)) {
        return;
    }
    if (rate.num && rate.denom) {
        ps->neg.interval.numerator = rate.denom;
        ps->neg.interval.denominator = rate.num;
    }
    ps->have_neg = true;

    params[0] = spa_pod_builder_add_object(&b,
        SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
        SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(4, 2, 16),
        SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int(
            (1 << SPA_DATA_MemPtr) | (1 << SPA_DATA_MemFd) |
            (1 << SPA_DATA_DmaBuf)));
    params[1] = spa_pod_builder_add_object(&b,
        SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
        SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
        SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
    pw_stream_update_params(ps->stream, params, 2);
}

/* MAP_BUFFERS maps memfds; a dma-buf we map ourselves, to read it. */
static void shmcam_pw_add_buffer(void *data, struct pw_buffer *pb)
{
    struct shmcam_pw_map *map = g_new0(struct shmcam_pw_map, 1);
    struct spa_buffer *sb = pb->buffer;
    uint32_t i;

    (void)data;
    for (i = 0; i < sb->n_datas && i < SHMCAM_PW_MAX_DATAS; i++) {
        struct spa_data *d = &sb->datas[i];
        void *p;

        if (d->type != SPA_DATA_DmaBuf || d->data || d->fd < 0 ||
            !d->maxsize) {
            continue;
        }
        p = mmap(NULL, d->mapoffset + d->maxsize, PROT_READ, MAP_SHARED,
                 d->fd, 0);
        if (p != MAP_FAILED) {
            map->ptr[i] = p;
            map->len[i] = d->mapoffset + d->maxsize;
        }
    }
    pb->user_data = map;
}

static void shmcam_pw_remove_buffer(void *data, struct pw_buffer *pb)
{
    struct shmcam_pw_source *ps = data;
    struct shmcam_pw_map *map = pb->user_data;
    uint32_t i;

    if (ps->first == pb) {
        ps->first = NULL;
    }
    if (ps->held == pb) {
        ps->held = NULL;
    }
    for (i = 0; map && i < SHMCAM_PW_MAX_DATAS; i++) {
        if (map->ptr[i]) {
            munmap(map->ptr[i], map->len[i]);
        }
    }
    g_free(map);
    pb->user_data = NULL;
}

static const struct pw_stream_events shmcam_pw_stream_events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = shmcam_pw_state_changed,
    .param_changed = shmcam_pw_param_changed,
    .add_buffer = shmcam_pw_add_buffer,
    .remove_buffer = shmcam_pw_remove_buffer,
};

/* The EnumFormat we connect with: exactly the mode chosen. */
static const struct spa_pod *
shmcam_pw_format_param(struct spa_pod_builder *b, const struct shmcam_format *f)
{
    struct spa_rectangle size = SPA_RECTANGLE(f->width, f->height);
    struct spa_fraction rate = SPA_FRACTION(f->interval.denominator,
                                            f->interval.numerator);

    if (f->pixelformat == SHMCAM_FMT_MJPEG) {
        return spa_pod_builder_add_object(b,
            SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat,
            SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
            SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_mjpg),
            SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&size),
            SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction(&rate));
    }
    return spa_pod_builder_add_object(b,
        SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat,
        SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
        SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
        SPA_FORMAT_VIDEO_format,
        SPA_POD_Id(shmcam_pw_video_format(f->pixelformat)),
        SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&size),
        SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction(&rate));
}

static void shmcam_pw_sync_dmabuf(struct pw_buffer *pb, uint64_t how)
{
    struct spa_buffer *sb = pb->buffer;
    uint32_t i;

    for (i = 0; i < sb->n_datas && i < SHMCAM_PW_MAX_DATAS; i++) {
        struct dma_buf_sync sync = { .flags = how | DMA_BUF_SYNC_READ };
        int r;

        if (sb->datas[i].type != SPA_DATA_DmaBuf || sb->datas[i].fd < 0) {
            continue;
        }
        do {
            r = ioctl(sb->datas[i].fd, DMA_BUF_IOCTL_SYNC, &sync);
        } while (r < 0 && errno == EINTR);
    }
}

static void shmcam_pw_requeue(struct shmcam_pw_source *ps,
                              struct pw_buffer *pb)
{
    if (ps->stream) {
        pw_stream_queue_buffer(ps->stream, pb);
    }
}

/*
 * The newest buffer the stream has: older ones go back at once (a
 * reader wants the latest frame, and the producer its buffers).  NULL
 * when there is none.
 */
static struct pw_buffer *shmcam_pw_dequeue(struct shmcam_pw_source *ps)
{
    struct pw_buffer *pb = NULL, *next;

    while (ps->stream && (next = pw_stream_dequeue_buffer(ps->stream))) {
        if (pb) {
            shmcam_pw_requeue(ps, pb);
        }
        pb = next;
    }
    return pb;
}

/* Where data block @i of @pb is in our memory, or NULL. */
static const uint8_t *shmcam_pw_block(struct pw_buffer *pb, uint32_t i)
{
    struct spa_data *d = &pb->buffer->datas[i];
    struct shmcam_pw_map *map = pb->user_data;

    if (d->data) {
        return d->data;
    }
    if (map && i < SHMCAM_PW_MAX_DATAS && map->ptr[i]) {
        return (const uint8_t *)map->ptr[i] + d->mapoffset;
    }
    return NULL;
}

/*
 * The planes of @f laid out as shmcam lays them (docs/specs/shmcam.rst),
 * its lines @bpl bytes apart, from @base (NULL: the planes' strides and
 * sizes only): their number.
 */
static uint32_t shmcam_pw_layout(const struct shmcam_format *f, uint32_t bpl,
                                 const uint8_t *base,
                                 struct shmcam_pw_plane p[3])
{
    uint32_t y = bpl * f->height;
    /* no base: only the strides and sizes are wanted */
    const uint8_t *u = base ? base + y : NULL;
    const uint8_t *v = base ? base + y + y / 4 : NULL;

    p[0] = (struct shmcam_pw_plane) { base, bpl, f->width, f->height };
    switch (f->pixelformat) {
    case SHMCAM_FMT_YUYV:
        p[0].line = f->width * 2;
        return 1;
    case SHMCAM_FMT_NV12:
        p[1] = (struct shmcam_pw_plane) { u, bpl, f->width, f->height / 2 };
        return 2;
    default:
        p[1] = (struct shmcam_pw_plane) { u, bpl / 2, f->width / 2,
                                          f->height / 2 };
        p[2] = (struct shmcam_pw_plane) { v, bpl / 2, f->width / 2,
                                          f->height / 2 };
        return 3;
    }
}

/* Can a single block with lines @stride apart be read as @f's layout,
 * and be published so?  (shmcam's own limits on a stride.) */
static bool shmcam_pw_stride_ok(const struct shmcam_format *f, uint32_t stride)
{
    struct shmcam_format g = *f;

    shmcam_format_set_stride(&g, stride);
    return shmcam_frame_bound(&g) &&
           !(f->pixelformat == SHMCAM_FMT_YUV420 && (stride & 1));
}

/*
 * Do the planes of @pb, in blocks of their own, have the strides of @f
 * with lines @stride apart?  Then that stride is published (the planes
 * copied into one block), not a packed one: a frame's bytes stay where
 * the node put them within its lines.  A single block always does.
 */
static bool shmcam_pw_strides_match(struct pw_buffer *pb,
                                    const struct shmcam_format *f,
                                    uint32_t stride)
{
    struct spa_buffer *sb = pb->buffer;
    struct shmcam_pw_plane p[3];
    uint32_t n = shmcam_pw_layout(f, stride, NULL, p), i;

    if (sb->n_datas < n || n == 1 || !shmcam_pw_block(pb, 1)) {
        return true;
    }
    for (i = 0; i < n; i++) {
        struct spa_chunk *c = sb->datas[i].chunk;

        if (!c || c->stride <= 0 || (uint32_t)c->stride != p[i].stride) {
            return false;
        }
    }
    return true;
}

/*
 * The planes of a raw frame in @pb, as the node laid them out: one block
 * holding them all in shmcam's (and V4L2's) layout, its chunk's stride
 * apart (a stride of 0: packed), or one block per plane, each with its
 * own chunk.  Returns the number of planes, or 0 when the buffer holds no
 * whole frame of ps->fmt.
 */
static uint32_t shmcam_pw_planes(struct shmcam_pw_source *ps,
                                 struct pw_buffer *pb,
                                 struct shmcam_pw_plane p[3], bool *one_block)
{
    struct spa_buffer *sb = pb->buffer;
    struct shmcam_format f = ps->fmt;
    uint32_t n, i;

    n = shmcam_pw_layout(&f, f.bytesperline, NULL, p);
    *one_block = false;
    if (sb->n_datas >= n && n > 1 && shmcam_pw_block(pb, 1)) {
        for (i = 0; i < n; i++) {
            struct spa_data *d = &sb->datas[i];
            const uint8_t *base = shmcam_pw_block(pb, i);
            uint32_t stride = d->chunk->stride > 0 ?
                              (uint32_t)d->chunk->stride : p[i].line;

            if (!base || stride < p[i].line ||
                d->chunk->offset > d->maxsize ||
                d->chunk->size > d->maxsize - d->chunk->offset ||
                (uint64_t)stride * (p[i].rows - 1) + p[i].line >
                d->chunk->size) {
                return 0;
            }
            p[i].src = base + d->chunk->offset;
            p[i].stride = stride;
        }
        return n;
    } else {
        struct spa_data *d = &sb->datas[0];
        const uint8_t *base = shmcam_pw_block(pb, 0);
        uint32_t stride = d->chunk->stride > 0 ? (uint32_t)d->chunk->stride :
                          p[0].line;

        if (!base || !shmcam_pw_stride_ok(&f, stride) ||
            d->chunk->offset > d->maxsize ||
            d->chunk->size > d->maxsize - d->chunk->offset) {
            return 0;
        }
        shmcam_format_set_stride(&f, stride);
        if (d->chunk->size < f.sizeimage) {
            return 0;
        }
        *one_block = true;
        return shmcam_pw_layout(&f, stride, base + d->chunk->offset, p);
    }
}

/*
 * A raw frame of @pb in ps->fmt's layout: in the buffer itself when it
 * is so already, else copied line by line into ps->repack (a stride that
 * changed, planes in blocks of their own).  Returns where, or NULL when
 * @pb holds no whole frame.
 */
static const uint8_t *shmcam_pw_raw(struct shmcam_pw_source *ps,
                                    struct pw_buffer *pb)
{
    struct shmcam_pw_plane src[3], dst[3];
    bool one_block;
    uint32_t n = shmcam_pw_planes(ps, pb, src, &one_block), i, y;

    if (!n) {
        return NULL;
    }
    if (one_block && src[0].stride == ps->fmt.bytesperline) {
        return src[0].src;
    }
    if (!ps->repack) {
        /* Zeroed once: the padding of each line stays so. */
        ps->repack = g_malloc0(ps->fmt.sizeimage);
    }
    shmcam_pw_layout(&ps->fmt, ps->fmt.bytesperline, ps->repack, dst);
    for (i = 0; i < n; i++) {
        for (y = 0; y < dst[i].rows; y++) {
            memcpy((uint8_t *)dst[i].src + (size_t)y * dst[i].stride,
                   src[i].src + (size_t)y * src[i].stride, dst[i].line);
        }
    }
    return ps->repack;
}

/*
 * The capture time of @pb: its header's pts when that is on our clock,
 * CLOCK_MONOTONIC, else 0.  PipeWire does not say which clock a producer
 * used: a camera node stamps its frames with the driver's monotonic
 * capture time, a GStreamer pipeline with its running time from 0.  A pts
 * within SHMCAM_PW_PTS_WINDOW_NS before now can only be the former.
 */
static uint64_t shmcam_pw_timestamp(const struct spa_meta_header *h)
{
    int64_t now = shmcam_pw_now_ns();

    if (!h || h->pts <= 0 || h->pts > now ||
        now - h->pts > SHMCAM_PW_PTS_WINDOW_NS) {
        return 0;
    }
    return h->pts;
}

/*
 * @pb as a frame into @f.  Returns 0; -EAGAIN when it holds no frame we
 * can read (given back to the stream); -EMSGSIZE for an MJPEG frame
 * larger than ps->fmt.sizeimage (given back too).
 */
static int shmcam_pw_frame(struct shmcam_pw_source *ps, struct pw_buffer *pb,
                           struct shmcam_source_frame *f)
{
    struct spa_buffer *sb = pb->buffer;
    const struct spa_meta_header *h =
        spa_buffer_find_meta_data(sb, SPA_META_Header, sizeof(*h));
    struct spa_data *d = sb->n_datas ? &sb->datas[0] : NULL;
    bool corrupted;

    if (!d || !d->chunk) {
        shmcam_pw_requeue(ps, pb);
        return -EAGAIN;
    }
    if (!shmcam_pw_block(pb, 0)) {
        if (!ps->warned_unmapped) {
            fprintf(stderr, "shmcam-host: PipeWire node %s: its buffers "
                    "cannot be mapped (data type %u): frames dropped\n",
                    shmcam_pw_what(ps), d->type);
            ps->warned_unmapped = true;
        }
        shmcam_pw_requeue(ps, pb);
        return -EAGAIN;
    }
    if (ps->said_type != d->type + 1) {
        fprintf(stderr, "shmcam-host: PipeWire node %s: frames come in %s\n",
                shmcam_pw_what(ps),
                d->type == SPA_DATA_DmaBuf ? "dma-bufs (mapped to be read)" :
                d->type == SPA_DATA_MemFd ? "memfds" : "shared memory");
        ps->said_type = d->type + 1;
    }
    shmcam_pw_sync_dmabuf(pb, DMA_BUF_SYNC_START);
    corrupted = (d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED) ||
                (h && (h->flags & SPA_META_HEADER_FLAG_CORRUPTED));
    if (ps->fmt.pixelformat == SHMCAM_FMT_MJPEG) {
        /* Passed through as it came: one whole JPEG per buffer. */
        if (!d->chunk->size || corrupted || d->chunk->offset > d->maxsize ||
            d->chunk->size > d->maxsize - d->chunk->offset) {
            shmcam_pw_sync_dmabuf(pb, DMA_BUF_SYNC_END);
            shmcam_pw_requeue(ps, pb);
            return -EAGAIN;
        }
        if (d->chunk->size > ps->fmt.sizeimage) {
            shmcam_pw_sync_dmabuf(pb, DMA_BUF_SYNC_END);
            shmcam_pw_requeue(ps, pb);
            return -EMSGSIZE;
        }
        f->data = shmcam_pw_block(pb, 0) + d->chunk->offset;
        f->len = d->chunk->size;
    } else {
        f->data = shmcam_pw_raw(ps, pb);
        f->len = ps->fmt.sizeimage;
        if (!f->data) {
            shmcam_pw_sync_dmabuf(pb, DMA_BUF_SYNC_END);
            shmcam_pw_requeue(ps, pb);
            return -EAGAIN;
        }
    }
    /* A JPEG is whole in itself; a raw frame always is. */
    f->flags = SHMCAM_SLOT_KEYFRAME | (corrupted ? SHMCAM_SLOT_ERROR : 0);
    f->timestamp_ns = shmcam_pw_timestamp(h);
    ps->held = pb;
    return 0;
}

static int shmcam_pw_next(struct shmcam_source *s,
                          struct shmcam_source_frame *f)
{
    struct shmcam_pw_source *ps = (struct shmcam_pw_source *)s;
    struct pw_buffer *pb;
    int ret;

    if (!ps->stream) {
        return -ENODEV;
    }
    pb = ps->first;
    ps->first = NULL;
    if (!pb) {
        ret = pw_loop_iterate(ps->loop, 0);
        if (ret < 0 && ret != -EINTR) {
            return -ENODEV;
        }
        if (ps->lost || ps->state == PW_STREAM_STATE_ERROR ||
            ps->state == PW_STREAM_STATE_UNCONNECTED) {
            return -ENODEV;
        }
        pb = shmcam_pw_dequeue(ps);
    }
    if (!pb) {
        return -EAGAIN;
    }
    return shmcam_pw_frame(ps, pb, f);
}

static void shmcam_pw_release(struct shmcam_source *s)
{
    struct shmcam_pw_source *ps = (struct shmcam_pw_source *)s;

    if (ps->held) {
        shmcam_pw_sync_dmabuf(ps->held, DMA_BUF_SYNC_END);
        shmcam_pw_requeue(ps, ps->held);
        ps->held = NULL;
    }
}

/*
 * Waiting for the stream to run: PipeWire set a format and a first
 * buffer came.  The buffer is kept for next(): its stride is the one
 * start() publishes.
 */
static int shmcam_pw_running(struct shmcam_pw_source *ps)
{
    if (ps->state == PW_STREAM_STATE_ERROR) {
        return -EIO;
    }
    if (ps->state == PW_STREAM_STATE_UNCONNECTED) {
        return -ENODEV;
    }
    if (!ps->have_neg) {
        return 0;
    }
    if (!ps->first) {
        ps->first = shmcam_pw_dequeue(ps);
    }
    return ps->first != NULL;
}

/*
 * Wait until the stream runs in @fmt, and take its line stride from the
 * first buffer into @fmt (packed lines, to be repacked into, when the
 * node's cannot be published).  Returns 0, or a negative errno with
 * @errp set.
 */
static int shmcam_pw_wait_format(struct shmcam_pw_source *ps,
                                 struct shmcam_format *fmt, int timeout_ms,
                                 GError **errp)
{
    struct spa_data *d;
    char want[48], got[48];
    uint32_t stride;
    int ret = shmcam_pw_wait(ps, shmcam_pw_running, timeout_ms);

    shmcam_format_str(fmt, want, sizeof(want));
    if (ret == -ETIMEDOUT && !ps->have_neg) {
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire did not link "
                    "shmcam-host to node %s for %s within %d s (is a "
                    "session manager such as WirePlumber running? it makes "
                    "the links)", shmcam_pw_what(ps), want, timeout_ms / 1000);
        return ret;
    }
    if (ret == -ETIMEDOUT) {
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node %s sent no %s "
                    "frame within %d s (is it running? pw-top shows it)",
                    shmcam_pw_what(ps), want, timeout_ms / 1000);
        return ret;
    }
    if (ret) {
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node %s: %s (for %s)",
                    shmcam_pw_what(ps), ret == -ENODEV ? "it went away" :
                    ps->stream_error ? ps->stream_error : g_strerror(-ret),
                    want);
        return ret == -ENODEV ? ret : -EIO;
    }
    if (ps->neg.pixelformat != fmt->pixelformat ||
        ps->neg.width != fmt->width || ps->neg.height != fmt->height) {
        shmcam_format_str(&ps->neg, got, sizeof(got));
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire node %s set %s when "
                    "asked for %s (choose another --format or --size)",
                    shmcam_pw_what(ps), got, want);
        return -EINVAL;
    }
    shmcam_format_init(fmt, fmt->pixelformat, fmt->width, fmt->height,
                       ps->neg.interval);
    d = &ps->first->buffer->datas[0];
    stride = d->chunk && d->chunk->stride > 0 ? (uint32_t)d->chunk->stride :
             fmt->bytesperline;
    if (fmt->pixelformat != SHMCAM_FMT_MJPEG &&
        shmcam_pw_stride_ok(fmt, stride) &&
        shmcam_pw_strides_match(ps->first, fmt, stride)) {
        shmcam_format_set_stride(fmt, stride);
    }
    g_clear_pointer(&ps->repack, g_free);
    ps->fmt = *fmt;
    return 0;
}

/* A stream of ours, linked by the session manager to the node. */
static int shmcam_pw_connect_stream(struct shmcam_pw_source *ps,
                                    struct shmcam_format *fmt, GError **errp)
{
    uint8_t buf[512];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *param = shmcam_pw_format_param(&b, fmt);
    struct pw_properties *props;
    int ret;

    props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Video",
                              PW_KEY_MEDIA_CATEGORY, "Capture",
                              PW_KEY_MEDIA_ROLE, "Camera",
                              PW_KEY_APP_NAME, "shmcam-host",
                              PW_KEY_NODE_NAME, "shmcam-host",
                              PW_KEY_NODE_DESCRIPTION,
                              "shmcam-host (camera for guests)",
                              PW_KEY_TARGET_OBJECT, ps->node_target,
                              NULL);
    ps->stream = pw_stream_new(ps->core, "shmcam-host", props);
    if (!ps->stream) {
        ret = -errno;
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire: cannot make a "
                    "stream: %s", g_strerror(-ret));
        return ret;
    }
    ps->state = PW_STREAM_STATE_UNCONNECTED;
    pw_stream_add_listener(ps->stream, &ps->stream_listener,
                           &shmcam_pw_stream_events, ps);
    /*
     * Not moved to another camera when this one goes (DONT_RECONNECT):
     * guests would see another camera without a word; they see "no
     * signal" instead until it is back.
     */
    ret = pw_stream_connect(ps->stream, PW_DIRECTION_INPUT, PW_ID_ANY,
                            PW_STREAM_FLAG_AUTOCONNECT |
                            PW_STREAM_FLAG_MAP_BUFFERS |
                            PW_STREAM_FLAG_DONT_RECONNECT, &param, 1);
    if (ret < 0) {
        g_set_error(errp, G_FILE_ERROR, 0, "PipeWire: cannot connect a "
                    "stream to node %s: %s", shmcam_pw_what(ps),
                    g_strerror(-ret));
        return ret;
    }
    ps->state = pw_stream_get_state(ps->stream, NULL);
    return shmcam_pw_wait_format(ps, fmt, SHMCAM_PW_START_MS, errp);
}

/*
 * Another format on the running stream: its EnumFormat updated, which
 * makes PipeWire negotiate the link anew, its buffers with it, while the
 * stream, its link and the other clients of the node stay.  Returns 0 or
 * a negative errno with @errp set.
 */
static int shmcam_pw_switch(struct shmcam_pw_source *ps,
                            struct shmcam_format *fmt, GError **errp)
{
    uint8_t buf[512];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *param = shmcam_pw_format_param(&b, fmt);
    int ret;

    if (ps->held) {
        shmcam_pw_release(&ps->base);
    }
    if (ps->first) {
        shmcam_pw_requeue(ps, ps->first);
        ps->first = NULL;
    }
    ps->have_neg = false;
    ret = pw_stream_update_params(ps->stream, &param, 1);
    if (ret < 0) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s", g_strerror(-ret));
        return ret;
    }
    return shmcam_pw_wait_format(ps, fmt, SHMCAM_PW_SWITCH_MS, errp);
}

static int shmcam_pw_start(struct shmcam_source *s, struct shmcam_format *fmt,
                           GError **errp)
{
    struct shmcam_pw_source *ps = (struct shmcam_pw_source *)s;
    struct shmcam_format want = *fmt;
    struct shmcam_pw_node *n;
    GError *err = NULL;
    char desc[48];
    int ret;

    if (ps->lost) {
        shmcam_pw_stop(s);
    }
    if (!ps->loop) {
        ret = shmcam_pw_connect(ps, errp);
    } else {
        ret = shmcam_pw_roundtrip(ps);
        if (ret) {
            g_set_error(errp, G_FILE_ERROR, 0, "PipeWire: the daemon does "
                        "not answer: %s", ps->error ? ps->error :
                        g_strerror(-ret));
            shmcam_pw_stop(s);
        }
    }
    if (ret) {
        return ret;
    }
    n = shmcam_pw_find(ps, &ret, errp);
    if (!n) {
        shmcam_pw_drop_node(ps);
        return ret;
    }
    ps->want = want;
    if (n->id != ps->node_id || !ps->nmodes) {
        ret = shmcam_pw_use_node(ps, n, errp);
        if (ret) {
            shmcam_pw_drop_node(ps);
            return ret;
        }
    }
    ret = shmcam_pw_choose(ps, fmt, errp);
    if (ret) {
        return ret;
    }
    if (ps->stream && ps->have_neg && ps->state != PW_STREAM_STATE_ERROR &&
        ps->state != PW_STREAM_STATE_UNCONNECTED &&
        fmt->pixelformat == ps->fmt.pixelformat &&
        fmt->width == ps->fmt.width && fmt->height == ps->fmt.height &&
        !memcmp(&fmt->interval, &ps->fmt.interval, sizeof(fmt->interval))) {
        /* Already so (going back after a format that failed). */
        *fmt = ps->fmt;
        return 0;
    }
    if (ps->stream && ps->state != PW_STREAM_STATE_ERROR &&
        ps->state != PW_STREAM_STATE_UNCONNECTED) {
        ret = shmcam_pw_switch(ps, fmt, &err);
        shmcam_format_str(fmt, desc, sizeof(desc));
        if (!ret) {
            fprintf(stderr, "shmcam-host: PipeWire node %s: switched to %s "
                    "on the running stream\n", shmcam_pw_what(ps), desc);
            return 0;
        }
        fprintf(stderr, "shmcam-host: PipeWire node %s: cannot switch to %s "
                "on the running stream (%s): connecting it anew\n",
                shmcam_pw_what(ps), desc, err->message);
        g_clear_error(&err);
        *fmt = want;
        ret = shmcam_pw_choose(ps, fmt, errp);
        if (ret) {
            return ret;
        }
    }
    shmcam_pw_drop_stream(ps);
    ret = shmcam_pw_connect_stream(ps, fmt, errp);
    if (ret) {
        shmcam_pw_drop_stream(ps);
    }
    return ret;
}

/*
 * The capability table from the node's EnumFormat, as learnt at this
 * start: the modes whose frames fit a slot of @slot_size bytes, the one
 * now streaming first, with its real line and image size.
 */
static uint32_t shmcam_pw_caps(struct shmcam_source *s, uint32_t slot_size,
                               struct shmcam_cap *caps,
                               struct shmcam_cap_size *sizes)
{
    struct shmcam_pw_source *ps = (struct shmcam_pw_source *)s;
    uint32_t n = 0, i, pass;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < ps->nmodes && n < SHMCAM_MAX_CAPS; i++) {
            const struct shmcam_pw_mode *m = &ps->modes[i];
            struct shmcam_cap_size size = m->size;
            bool current = ps->stream &&
                           m->cap.pixelformat == ps->fmt.pixelformat &&
                           m->cap.width == ps->fmt.width &&
                           m->cap.height == ps->fmt.height;

            if (current) {
                size.bytesperline = ps->fmt.bytesperline;
                size.sizeimage = ps->fmt.sizeimage;
            }
            if (size.sizeimage > slot_size || current != (pass == 0)) {
                continue;
            }
            sizes[n] = size;
            caps[n++] = m->cap;
        }
    }
    return n;
}

static void shmcam_pw_free(struct shmcam_source *s)
{
    struct shmcam_pw_source *ps = (struct shmcam_pw_source *)s;

    shmcam_pw_stop(s);
    g_ptr_array_free(ps->nodes, TRUE);
    g_free(ps->repack);
    g_free(ps->target);
    g_free(ps);
    pw_deinit();
}

static const struct shmcam_source_ops shmcam_pw_source_ops = {
    .start = shmcam_pw_start,
    .caps = shmcam_pw_caps,
    .next = shmcam_pw_next,
    .release = shmcam_pw_release,
    .stop = shmcam_pw_stop,
    .free = shmcam_pw_free,
};

struct shmcam_source *shmcam_pipewire_source_new(const char *target)
{
    struct shmcam_pw_source *ps = g_new0(struct shmcam_pw_source, 1);

    pw_init(NULL, NULL);
    /*
     * libpipewire warns on stderr about what is no error of ours (no
     * realtime priority, say): shmcam-host's stderr is for its own
     * messages, unless PIPEWIRE_DEBUG asks for PipeWire's.
     */
    if (!getenv("PIPEWIRE_DEBUG")) {
        pw_log_set_level(SPA_LOG_LEVEL_ERROR);
    }
    ps->base.ops = &shmcam_pw_source_ops;
    ps->base.card = ps->card;
    ps->base.fd = -1;
    ps->base.paced = true;
    ps->target = target && target[0] ? g_strdup(target) : NULL;
    ps->nodes = g_ptr_array_new_with_free_func(shmcam_pw_node_free);
    ps->node_id = SPA_ID_INVALID;
    snprintf(ps->card, sizeof(ps->card), "PipeWire");
    return &ps->base;
}
