/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A QMP client on a unix socket: see qmp.h.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp.h"

/* A reply longer than this is not one QMP sends to our commands. */
#define SHMCAM_QMP_MAX_LINE (4u << 20)

G_DEFINE_QUARK(shmcam-qmp-error-quark, shmcam_qmp_error)

void shmcam_qmp_close(struct shmcam_qmp *q)
{
    if (q->fd >= 0) {
        close(q->fd);
        q->fd = -1;
    }
    if (q->in) {
        g_string_free(q->in, TRUE);
        q->in = NULL;
    }
    g_free(q->path);
    q->path = NULL;
}

static int shmcam_qmp_fail(struct shmcam_qmp *q, int ret)
{
    shmcam_qmp_close(q);
    return ret;
}

/*
 * The next line QEMU sends (without its "\r\n"), waited for until
 * @deadline (g_get_monotonic_time()); @what names it in messages.
 */
static char *shmcam_qmp_line(struct shmcam_qmp *q, gint64 deadline,
                             const char *what, GError **errp)
{
    char buf[4096];

    for (;;) {
        char *nl = memchr(q->in->str, '\n', q->in->len);
        struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
        gint64 left;
        ssize_t n;
        int r;

        if (nl) {
            size_t len = nl - q->in->str;
            char *line = g_strndup(q->in->str, len);

            g_string_erase(q->in, 0, len + 1);
            g_strchomp(line);
            return line;
        }
        if (q->in->len > SHMCAM_QMP_MAX_LINE) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_PROTOCOL,
                        "QMP socket %s sent more than %u bytes without an "
                        "end of line (is it QMP?)", q->path,
                        SHMCAM_QMP_MAX_LINE);
            return NULL;
        }
        left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "no %s on QMP socket %s within %d s", what, q->path,
                        (q->timeout_ms + 999) / 1000);
            return NULL;
        }
        r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "cannot wait for QMP socket %s: %s", q->path,
                        g_strerror(errno));
            return NULL;
        }
        if (r == 0) {
            continue;
        }
        n = recv(q->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "QMP socket %s closed before its %s%s%s", q->path,
                        what, n ? ": " : "", n ? g_strerror(errno) : "");
            return NULL;
        }
        g_string_append_len(q->in, buf, n);
    }
}

/* A line as a JSON object, or NULL with @errp set. */
static JsonNode *shmcam_qmp_parse(struct shmcam_qmp *q, const char *line,
                                  GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, line, -1, &err) ||
        !(root = json_parser_get_root(parser)) ||
        !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_PROTOCOL,
                    "QMP socket %s sent something that is not a JSON object: "
                    "%.80s%s", q->path, line, strlen(line) > 80 ? "..." : "");
        return NULL;
    }
    return json_node_copy(root);
}

/* The greeting: {"QMP": {"version": ..., "capabilities": [...]}}. */
static int shmcam_qmp_greeting(struct shmcam_qmp *q, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + q->timeout_ms * 1000ll;
    g_autoptr(GError) err = NULL;
    g_autofree char *line = NULL;
    g_autoptr(JsonNode) node = NULL;

    do {
        g_free(line);
        line = shmcam_qmp_line(q, deadline, "greeting", &err);
    } while (line && !line[0]);
    if (!line) {
        if (err->code == SHMCAM_QMP_ERROR_IO && !q->in->len &&
            strstr(err->message, " within ")) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "%s (QEMU serves one client at a time on a -qmp "
                        "socket: another one holds it)", err->message);
        } else if (q->in->len && g_str_has_prefix(q->in->str, "QEMU ")) {
            goto hmp;
        } else {
            g_propagate_error(errp, g_steal_pointer(&err));
        }
        return -EPROTO;
    }
    if (g_str_has_prefix(line, "QEMU ") && strstr(line, "monitor")) {
        goto hmp;
    }
    node = shmcam_qmp_parse(q, line, errp);
    if (!node) {
        return -EPROTO;
    }
    if (!json_object_has_member(json_node_get_object(node), "QMP")) {
        g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_PROTOCOL,
                    "QMP socket %s did not greet as QMP does: %.80s", q->path,
                    line);
        return -EPROTO;
    }
    return 0;

hmp:
    g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_PROTOCOL,
                "%s is QEMU's human monitor (-monitor), not QMP (give QEMU "
                "-qmp unix:%s,server=on,wait=off)", q->path, q->path);
    return -EPROTO;
}

int shmcam_qmp_connect(struct shmcam_qmp *q, const char *path,
                       int timeout_ms, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct ucred cred;
    socklen_t len = sizeof(cred);
    g_autoptr(JsonNode) ret = NULL;
    int err;

    q->path = g_strdup(path);
    q->timeout_ms = timeout_ms;
    q->in = g_string_new(NULL);
    q->next_id = 1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                    "QMP socket path %s is longer than a unix socket's %zu "
                    "bytes", path, sizeof(sa.sun_path) - 1);
        return shmcam_qmp_fail(q, -ENAMETOOLONG);
    }
    strcpy(sa.sun_path, path);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err = errno;
        if (err == ENOENT) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "no QMP socket %s (start QEMU with -qmp "
                        "unix:%s,server=on,wait=off)", path, path);
        } else if (err == ECONNREFUSED) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "nothing listens on QMP socket %s (QEMU has exited, "
                        "or it is not a socket)", path);
        } else if (err == EACCES || err == EPERM) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_DENIED,
                        "may not connect to QMP socket %s: %s", path,
                        g_strerror(err));
        } else {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "cannot connect to QMP socket %s: %s", path,
                        g_strerror(err));
        }
        return shmcam_qmp_fail(q, -err);
    }
    if (getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        cred.pid <= 0) {
        g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                    "QMP socket %s: no process id for its server (is QEMU "
                    "in another pid namespace?)", path);
        return shmcam_qmp_fail(q, -ESRCH);
    }
    q->pid = cred.pid;
    q->uid = cred.uid;
    err = shmcam_qmp_greeting(q, errp);
    if (err) {
        return shmcam_qmp_fail(q, err);
    }
    ret = shmcam_qmp_call(q, "qmp_capabilities", NULL, errp);
    return ret ? 0 : shmcam_qmp_fail(q, -EPROTO);
}

/* Send it all, or fail. */
static bool shmcam_qmp_send(struct shmcam_qmp *q, const char *s, GError **errp)
{
    size_t len = strlen(s), off = 0;

    while (off < len) {
        ssize_t n = send(q->fd, s + off, len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                        "cannot write to QMP socket %s: %s", q->path,
                        g_strerror(errno));
            return false;
        }
        off += n;
    }
    return true;
}

/* Is @o the reply to the command of @id?  (A reply without an id answers
 * a command QEMU could not read: ours, as we send one at a time.) */
static bool shmcam_qmp_is_reply(JsonObject *o, unsigned int id)
{
    JsonNode *n;

    if (!json_object_has_member(o, "return") &&
        !json_object_has_member(o, "error")) {
        return false;
    }
    n = json_object_get_member(o, "id");
    return !n || (JSON_NODE_HOLDS_VALUE(n) &&
                  json_node_get_value_type(n) == G_TYPE_INT64 &&
                  json_node_get_int(n) == id);
}

JsonNode *shmcam_qmp_call(struct shmcam_qmp *q, const char *command,
                          const char *args, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + q->timeout_ms * 1000ll;
    unsigned int id = q->next_id++;
    g_autofree char *req = NULL;
    g_autofree char *what = g_strdup_printf("reply to %s", command);

    if (q->fd < 0) {
        g_set_error(errp, SHMCAM_QMP_ERROR, SHMCAM_QMP_ERROR_IO,
                    "QMP socket %s is not connected", q->path ? q->path : "");
        return NULL;
    }
    req = g_strdup_printf("{\"execute\": \"%s\"%s%s, \"id\": %u}\n", command,
                          args ? ", \"arguments\": " : "", args ? args : "",
                          id);
    if (!shmcam_qmp_send(q, req, errp)) {
        return NULL;
    }
    for (;;) {
        g_autofree char *line = shmcam_qmp_line(q, deadline, what, errp);
        g_autoptr(JsonNode) node = NULL;
        JsonObject *o, *e;
        JsonNode *r;
        const char *cls, *desc;

        if (!line) {
            return NULL;
        }
        if (!line[0]) {
            continue;
        }
        node = shmcam_qmp_parse(q, line, errp);
        if (!node) {
            return NULL;
        }
        o = json_node_get_object(node);
        if (json_object_has_member(o, "event") || !shmcam_qmp_is_reply(o, id)) {
            continue;
        }
        r = json_object_get_member(o, "return");
        if (r) {
            return json_node_copy(r);
        }
        r = json_object_get_member(o, "error");
        e = JSON_NODE_HOLDS_OBJECT(r) ? json_node_get_object(r) : NULL;
        cls = e ? json_object_get_string_member_with_default(e, "class", "")
                : "";
        desc = e ? json_object_get_string_member_with_default(e, "desc", "")
                 : "";
        g_set_error(errp, SHMCAM_QMP_ERROR,
                    !strcmp(cls, "CommandNotFound") ?
                    SHMCAM_QMP_ERROR_NOT_FOUND : SHMCAM_QMP_ERROR_COMMAND,
                    "%s", desc[0] ? desc : "QEMU refused the command");
        return NULL;
    }
}
