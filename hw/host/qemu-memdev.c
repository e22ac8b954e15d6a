/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A running QEMU's memory-backend-shm, found and taken: see qemu-memdev.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "qmp.h"
#include "qemu-memdev.h"

#define SHMCAM_QEMU_SHM_TYPE "memory-backend-shm"

/* --- the argument -------------------------------------------------- */

/* QEMU's rule for ids (id_wellformed): a letter, then letters, digits,
 * '-', '.' and '_'. */
static bool shmcam_qemu_id_ok(const char *id)
{
    const char *p;

    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

void shmcam_qemu_target_clear(struct shmcam_qemu_target *t)
{
    g_free(t->qmp);
    g_free(t->id);
    memset(t, 0, sizeof(*t));
}

int shmcam_qemu_target_parse(const char *arg, struct shmcam_qemu_target *t,
                             GError **errp)
{
    const char *colon = strrchr(arg, ':'), *p;
    g_autofree char *left = NULL;
    unsigned long long v;
    bool digits = true;

    memset(t, 0, sizeof(*t));
    if (!colon || colon == arg || !colon[1]) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--qemu-memdev %s is not PID:ID or QMP-SOCKET:ID (e.g. "
                    "--qemu-memdev 1234:cam0 for QEMU 1234's -object "
                    "memory-backend-shm,id=cam0)", arg);
        return -EINVAL;
    }
    if (!shmcam_qemu_id_ok(colon + 1)) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--qemu-memdev %s: '%s' is not a QEMU object id "
                    "(letters, digits, '-', '.' and '_', starting with a "
                    "letter, e.g. --qemu-memdev 1234:cam0)", arg, colon + 1);
        return -EINVAL;
    }
    left = g_strndup(arg, colon - arg);
    for (p = left; *p; p++) {
        digits = digits && g_ascii_isdigit(*p);
    }
    if (digits) {
        errno = 0;
        v = strtoull(left, NULL, 10);
        if (errno || v == 0 || v > INT32_MAX) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--qemu-memdev %s: %s is not a process id (e.g. "
                        "--qemu-memdev 1234:cam0; a QMP socket named by "
                        "digits only: ./%s)", arg, left, left);
            return -EINVAL;
        }
        t->pid = (pid_t)v;
    } else {
        t->qmp = g_steal_pointer(&left);
    }
    t->id = g_strdup(colon + 1);
    return 0;
}

/* --- parsing what QEMU and /proc say -------------------------------- */

bool shmcam_qemu_parse_size(const char *s, uint64_t *size)
{
    static const char units[] = "BKMGTPE";
    unsigned __int128 v, frac = 0, scale = 1, mult = 1;
    const char *p = s, *u;
    char *end;
    int base = 10;

    if (!g_ascii_isdigit(*p)) {
        return false;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
    }
    errno = 0;
    v = strtoull(p, &end, base);
    if (errno || end == p + (base == 16 ? 2 : 0)) {
        return false;
    }
    p = end;
    if (base == 10 && *p == '.') {
        for (p++; g_ascii_isdigit(*p); p++) {
            if (scale > UINT64_MAX) {
                return false;
            }
            frac = frac * 10 + (*p - '0');
            scale *= 10;
        }
    }
    if (*p) {
        u = strchr(units, g_ascii_toupper(*p));
        if (!u || p[1]) {
            return false;
        }
        mult = (unsigned __int128)1 << (10 * (u - units));
    } else if (scale > 1) {
        return false;           /* a fraction of a byte */
    }
    if ((frac * mult) % scale) {
        return false;
    }
    v = v * mult + frac * mult / scale;
    if (v > UINT64_MAX) {
        return false;
    }
    *size = (uint64_t)v;
    return true;
}

static void shmcam_qemu_object_free(gpointer p)
{
    struct shmcam_qemu_object *o = p;

    g_free(o->type);
    g_free(o->id);
    g_free(o->name);
    g_free(o);
}

static void shmcam_qemu_object_set(struct shmcam_qemu_object *o,
                                   const char *key, const char *value)
{
    char **field = !strcmp(key, "qom-type") ? &o->type :
                   !strcmp(key, "id") ? &o->id :
                   !strcmp(key, "name") ? &o->name : NULL;

    if (field) {
        g_free(*field);
        *field = g_strdup(value);
    } else if (!strcmp(key, "size") &&
               !shmcam_qemu_parse_size(value, &o->size)) {
        o->size = 0;
    }
}

/* TYPE,key=value,...: ",," is a comma in a value. */
static void shmcam_qemu_object_keyval(struct shmcam_qemu_object *o,
                                      const char *spec)
{
    g_autoptr(GString) e = g_string_new(NULL);
    bool first = true;
    const char *p;

    for (p = spec;; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(e, ',');
            p++;
            continue;
        }
        if (*p && *p != ',') {
            g_string_append_c(e, *p);
            continue;
        }
        char *eq = strchr(e->str, '=');

        if (eq) {
            *eq = '\0';
            shmcam_qemu_object_set(o, e->str, eq + 1);
        } else if (first) {
            shmcam_qemu_object_set(o, "qom-type", e->str);
        }
        first = false;
        g_string_truncate(e, 0);
        if (!*p) {
            return;
        }
    }
}

/* {"qom-type": TYPE, "id": ID, "size": N, ...} */
static void shmcam_qemu_object_json(struct shmcam_qemu_object *o,
                                    const char *spec)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *obj;
    JsonNode *n;
    const char *keys[] = { "qom-type", "id", "name" };
    unsigned int i;

    if (!json_parser_load_from_data(parser, spec, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        return;
    }
    obj = json_node_get_object(json_parser_get_root(parser));
    for (i = 0; i < G_N_ELEMENTS(keys); i++) {
        n = json_object_get_member(obj, keys[i]);
        if (n && JSON_NODE_HOLDS_VALUE(n) &&
            json_node_get_value_type(n) == G_TYPE_STRING) {
            shmcam_qemu_object_set(o, keys[i], json_node_get_string(n));
        }
    }
    n = json_object_get_member(obj, "size");
    if (n && JSON_NODE_HOLDS_VALUE(n) &&
        json_node_get_value_type(n) == G_TYPE_INT64 &&
        json_node_get_int(n) > 0) {
        o->size = json_node_get_int(n);
    }
}

GPtrArray *shmcam_qemu_cmdline_objects(const char *cmdline, size_t len)
{
    GPtrArray *objs = g_ptr_array_new_with_free_func(shmcam_qemu_object_free);
    const char *p = cmdline, *end = cmdline + len, *arg;

    while (p < end) {
        arg = p;
        p += strnlen(p, end - p) + 1;
        if ((strcmp(arg, "-object") && strcmp(arg, "--object")) || p >= end ||
            strnlen(p, end - p) == (size_t)(end - p)) {
            continue;
        }
        struct shmcam_qemu_object *o = g_new0(struct shmcam_qemu_object, 1);

        if (p[0] == '{') {
            shmcam_qemu_object_json(o, p);
        } else {
            shmcam_qemu_object_keyval(o, p);
        }
        p += strlen(p) + 1;
        if (o->type && o->id) {
            g_ptr_array_add(objs, o);
        } else {
            shmcam_qemu_object_free(o);
        }
    }
    return objs;
}

GArray *shmcam_qemu_ramblock_hvas(const char *text, const char *id,
                                  uint64_t size)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *suffix = g_strconcat("/", id, NULL);
    g_autoptr(GArray) hvas = NULL;
    int hva_at = 0, used_at = 0, right = 0;     /* counted from the end */
    unsigned int i;

    for (i = 0; lines[i]; i++) {
        g_auto(GStrv) tok = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        g_autoptr(GPtrArray) w = g_ptr_array_new();
        g_autoptr(GString) name = g_string_new(NULL);
        uint64_t used, hva;
        int n, j;

        for (j = 0; tok[j]; j++) {
            if (tok[j][0]) {
                g_ptr_array_add(w, tok[j]);
            }
        }
        n = w->len;
        if (!hvas) {
            /* The header: "Block Name PSize Offset Used Total HVA RO". */
            for (j = 0; j < n; j++) {
                const char *h = g_ptr_array_index(w, j);

                if (!strcmp(h, "HVA")) {
                    hva_at = n - j;
                } else if (!strcmp(h, "Used")) {
                    used_at = n - j;
                } else if (!strcmp(h, "PSize")) {
                    right = n - j + 1;      /* "4 KiB": two words */
                }
            }
            if (!n) {
                continue;
            }
            if (!hva_at || !used_at || !right) {
                return NULL;                /* a header without an HVA */
            }
            hvas = g_array_new(FALSE, FALSE, sizeof(uint64_t));
            continue;
        }
        if (n < right) {
            continue;
        }
        /* The name: the words before the columns on the right (none for
         * a backend no device maps). */
        for (j = 0; j < n - right; j++) {
            g_string_append_printf(name, "%s%s", j ? " " : "",
                                   (char *)g_ptr_array_index(w, j));
        }
        used = g_ascii_strtoull(g_ptr_array_index(w, n - used_at), NULL, 16);
        hva = g_ascii_strtoull(g_ptr_array_index(w, n - hva_at), NULL, 16);
        if ((!strcmp(name->str, id) || g_str_has_suffix(name->str, suffix)) &&
            used == size && hva) {
            g_array_append_val(hvas, hva);
        }
    }
    return hvas ? g_steal_pointer(&hvas)
                : g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

int shmcam_qemu_maps_find(const char *maps, uint64_t addr,
                          struct shmcam_qemu_mapping *m)
{
    const char *line = maps;

    while (line && *line) {
        const char *nl = strchr(line, '\n');
        g_autofree char *l = nl ? g_strndup(line, nl - line) : g_strdup(line);
        uint64_t lo, hi, off, ino;
        unsigned int maj, min;
        char perms[8];
        int at = 0;

        line = nl ? nl + 1 : NULL;
        if (sscanf(l, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %"
                   SCNu64 " %n", &lo, &hi, perms, &off, &maj, &min, &ino,
                   &at) < 7 || addr < lo || addr >= hi) {
            continue;
        }
        memset(m, 0, sizeof(*m));
        m->start = lo;
        m->end = hi;
        m->offset = off;
        m->major = maj;
        m->minor = min;
        m->inode = ino;
        g_strlcpy(m->path, at ? l + at : "", sizeof(m->path));
        return 0;
    }
    return -ENOENT;
}

bool shmcam_qemu_shm_link(const char *link)
{
    const char *p = link;
    int part;

    if (!g_str_has_prefix(p, "/dev/shm/qemu-")) {
        return false;
    }
    p += strlen("/dev/shm/qemu-");
    for (part = 0; part < 2; part++) {
        if (!g_ascii_isdigit(*p)) {
            return false;
        }
        while (g_ascii_isdigit(*p)) {
            p++;
        }
        if (part == 0) {
            if (!g_str_has_prefix(p, "-shm-")) {
                return false;
            }
            p += strlen("-shm-");
        }
    }
    return !strcmp(p, " (deleted)");
}

/* --- QEMU's process ------------------------------------------------ */

/* QEMU's effective uid, from /proc/PID/status (anyone may read it). */
static uid_t shmcam_qemu_euid(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    const char *l;
    unsigned int r, e;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !(l = strstr(text, "\nUid:")) || sscanf(l + 5, "%u %u", &r, &e) != 2) {
        return (uid_t)-1;
    }
    return e;
}

/* "nobody, uid 65534" */
static char *shmcam_qemu_user(uid_t uid)
{
    struct passwd *pw = uid == (uid_t)-1 ? NULL : getpwuid(uid);

    if (uid == (uid_t)-1) {
        return g_strdup("not known");
    }
    return pw ? g_strdup_printf("%s, uid %u", pw->pw_name, (unsigned)uid)
              : g_strdup_printf("uid %u", (unsigned)uid);
}

static int shmcam_qemu_ptrace_scope(void)
{
    g_autofree char *s = NULL;

    if (!g_file_get_contents("/proc/sys/kernel/yama/ptrace_scope", &s, NULL,
                             NULL)) {
        return 0;
    }
    return atoi(s);
}

/*
 * QEMU's descriptors (or its maps) may not be looked at: @what failed
 * with @err.  Say why, and as whom to run.
 */
static int shmcam_qemu_denied(const struct shmcam_qemu_memdev *m,
                              const char *what, int err, GError **errp)
{
    g_autofree char *proc = g_strdup_printf("/proc/%d/fd", m->pid);
    g_autofree char *user = shmcam_qemu_user(m->uid);
    struct stat st;
    int scope = shmcam_qemu_ptrace_scope();

    if (geteuid() == 0) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot open the memory of QEMU "
                    "%d: %s: %s (even as root: a security module, or a "
                    "container without CAP_SYS_PTRACE, keeps shmcam-host "
                    "from QEMU's descriptors)", m->pid, what, g_strerror(err));
    } else if (m->uid != 0 && m->uid != (uid_t)-1 && stat(proc, &st) == 0 &&
               st.st_uid == 0) {
        /* A process that is not dumpable has its /proc files root's. */
        g_set_error(errp, G_FILE_ERROR, 0, "cannot open the memory of QEMU "
                    "%d: %s: %s (QEMU runs as %s, and is not dumpable, "
                    "as after -run-with user=: run shmcam-host as root)",
                    m->pid, what, g_strerror(err), user);
    } else if (m->uid == geteuid() && scope > 0) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot open the memory of QEMU "
                    "%d: %s: %s (kernel.yama.ptrace_scope is %d, which keeps "
                    "QEMU's own user from its descriptors: run shmcam-host "
                    "as root)", m->pid, what, g_strerror(err), scope);
    } else {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot open the memory of QEMU "
                    "%d: %s: %s (run shmcam-host as QEMU's user (%s) or as "
                    "root)", m->pid, what, g_strerror(err), user);
    }
    return -EACCES;
}

/* A file of QEMU's /proc directory, whole; a negative errno with @errp
 * set (for a refusal, as whom to run). */
static int shmcam_qemu_read_proc(struct shmcam_qemu_memdev *m,
                                 const char *name, char **text, size_t *len,
                                 GError **errp)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", m->pid, name);
    g_autoptr(GError) err = NULL;
    int e;

    if (g_file_get_contents(path, text, len, &err)) {
        return 0;
    }
    e = err->code == G_FILE_ERROR_ACCES || err->code == G_FILE_ERROR_PERM ?
        EACCES : err->code == G_FILE_ERROR_NOENT ? ESRCH : EIO;
    if (e == EACCES) {
        return shmcam_qemu_denied(m, path, e, errp);
    }
    if (e == ESRCH) {
        g_set_error(errp, G_FILE_ERROR, 0, "no process %d (give QEMU's "
                    "process id, e.g. from pgrep -f qemu-system, or its QMP "
                    "socket)", m->pid);
    } else {
        g_set_error(errp, G_FILE_ERROR, 0, "%s", err->message);
    }
    return -e;
}

/* One descriptor of QEMU's. */
struct shmcam_qemu_fd {
    int num;
    char *link;
    struct stat st;     /* of what it is open on */
};

static void shmcam_qemu_fd_clear(gpointer p)
{
    g_free(((struct shmcam_qemu_fd *)p)->link);
}

/*
 * QEMU's descriptors that @want accepts (their link and what they are
 * open on), in *@out.  Returns 0 or a negative errno with @errp set.
 */
static int shmcam_qemu_fds(struct shmcam_qemu_memdev *m,
                           bool (*want)(const struct shmcam_qemu_fd *f,
                                        const void *opaque),
                           const void *opaque, GArray **out, GError **errp)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", m->pid);
    DIR *d = opendir(path);
    struct dirent *de;
    int err;

    if (!d) {
        err = errno;
        if (err == EACCES || err == EPERM) {
            return shmcam_qemu_denied(m, path, err, errp);
        }
        g_set_error(errp, G_FILE_ERROR, 0, "cannot list QEMU %d's "
                    "descriptors: %s: %s", m->pid, path, g_strerror(err));
        return -err;
    }
    *out = g_array_new(FALSE, TRUE, sizeof(struct shmcam_qemu_fd));
    g_array_set_clear_func(*out, shmcam_qemu_fd_clear);
    while ((de = readdir(d))) {
        struct shmcam_qemu_fd f = { 0 };
        char link[PATH_MAX];
        ssize_t n;
        char *end;

        f.num = strtol(de->d_name, &end, 10);
        if (!g_ascii_isdigit(de->d_name[0]) || *end) {
            continue;
        }
        n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
        if (n < 0 || fstatat(dirfd(d), de->d_name, &f.st, 0) < 0) {
            continue;           /* closed meanwhile */
        }
        link[n] = '\0';
        f.link = g_strdup(link);
        if (want(&f, opaque)) {
            g_array_append_val(*out, f);
        } else {
            g_free(f.link);
        }
    }
    closedir(d);
    return 0;
}

static void shmcam_qemu_found(struct shmcam_qemu_memdev *m,
                              const struct shmcam_qemu_fd *f)
{
    m->qemu_fd = f->num;
    m->dev = f->st.st_dev;
    m->ino = f->st.st_ino;
    g_free(m->link);
    m->link = g_strdup(f->link);
}

/* A backend of another type: say what to use instead. */
static int shmcam_qemu_wrong_type(struct shmcam_qemu_memdev *m,
                                  const char *id, const char *type,
                                  GError **errp)
{
    g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d's %s is a %s, not a "
                "memory-backend-shm%s", m->pid, id, type,
                !strcmp(type, "memory-backend-file") ?
                " (publish into its mem-path with --shm NAME or --region "
                "PATH)" : " (--qemu-memdev takes memory-backend-shm only)");
    return -EINVAL;
}

/* --- PID:ID: the command line -------------------------------------- */

struct shmcam_qemu_size_want {
    uint64_t size;      /* 0: any */
};

static bool shmcam_qemu_want_shm(const struct shmcam_qemu_fd *f,
                                 const void *opaque)
{
    const struct shmcam_qemu_size_want *w = opaque;

    return shmcam_qemu_shm_link(f->link) && S_ISREG(f->st.st_mode) &&
           (!w->size || (uint64_t)f->st.st_size == w->size);
}

static int shmcam_qemu_find_pid(const struct shmcam_qemu_target *t,
                                struct shmcam_qemu_memdev *m, GError **errp)
{
    g_autofree char *cmdline = NULL, *comm = NULL, *comm_path = NULL;
    g_autoptr(GPtrArray) objs = NULL;
    g_autoptr(GArray) fds = NULL;
    g_autoptr(GString) same = g_string_new(NULL), all = g_string_new(NULL);
    struct shmcam_qemu_object *target = NULL;
    struct shmcam_qemu_size_want w;
    unsigned int i, nshm = 0, nsame = 0;
    char size_s[32];
    size_t len;
    int ret;

    m->pid = t->pid;
    m->uid = shmcam_qemu_euid(m->pid);
    ret = shmcam_qemu_read_proc(m, "cmdline", &cmdline, &len, errp);
    if (ret) {
        return ret;
    }
    comm_path = g_strdup_printf("/proc/%d/comm", m->pid);
    if (g_file_get_contents(comm_path, &comm, NULL, NULL)) {
        g_strchomp(comm);
    }
    objs = shmcam_qemu_cmdline_objects(cmdline, len);
    for (i = 0; i < objs->len; i++) {
        struct shmcam_qemu_object *o = g_ptr_array_index(objs, i);

        if (!strcmp(o->id, t->id)) {
            target = o;
        }
        if (!strcmp(o->type, SHMCAM_QEMU_SHM_TYPE)) {
            g_string_append_printf(all, "%s%s", nshm++ ? ", " : "", o->id);
        }
    }
    if (!target && !nshm) {
        g_set_error(errp, G_FILE_ERROR, 0, "process %d (%s) has no -object "
                    "memory-backend-shm on its command line (give QEMU's "
                    "process id; for a backend made with object-add, its QMP "
                    "socket: --qemu-memdev SOCKET:%s)", m->pid,
                    comm ? comm : "?", t->id);
        return -ENOENT;
    }
    if (!target) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d has no -object "
                    "memory-backend-shm,id=%s on its command line (it has %s; "
                    "for a backend made with object-add, give its QMP socket: "
                    "--qemu-memdev SOCKET:%s)", m->pid, t->id, all->str,
                    t->id);
        return -ENOENT;
    }
    if (strcmp(target->type, SHMCAM_QEMU_SHM_TYPE)) {
        return shmcam_qemu_wrong_type(m, t->id, target->type, errp);
    }
    if (target->name) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d's memory-backend-shm %s "
                    "has name=%s, an object other programs open: publish "
                    "into it with --shm %s", m->pid, t->id, target->name,
                    target->name[0] == '/' ? target->name + 1 : target->name);
        return -EEXIST;
    }
    /* The unnamed ones of its size, or of a size we could not read. */
    for (i = 0; i < objs->len; i++) {
        struct shmcam_qemu_object *o = g_ptr_array_index(objs, i);

        if (!strcmp(o->type, SHMCAM_QEMU_SHM_TYPE) && !o->name &&
            (!o->size || !target->size || o->size == target->size)) {
            g_string_append_printf(same, "%s%s", nsame++ ? ", " : "", o->id);
        }
    }
    m->size = target->size;
    w.size = target->size;
    ret = shmcam_qemu_fds(m, shmcam_qemu_want_shm, &w, &fds, errp);
    if (ret) {
        return ret;
    }
    g_snprintf(size_s, sizeof(size_s), "%" PRIu64 " bytes", target->size);
    if (fds->len == 0) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d holds no unnamed shm "
                    "object%s%s for memory-backend-shm %s (is it still "
                    "starting, or was the backend deleted?)", m->pid,
                    target->size ? " of " : "", target->size ? size_s : "",
                    t->id);
        return -ENOENT;
    }
    if (fds->len > 1 || nsame > 1) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d has %u memory-backend-shm "
                    "objects%s%s (%s; %u shm descriptors), which its process "
                    "id alone cannot tell apart: give its QMP socket instead "
                    "(QEMU's -qmp unix:SOCKET,server=on,wait=off, then "
                    "--qemu-memdev SOCKET:%s)", m->pid, MAX(nsame, fds->len),
                    target->size ? " of " : "", target->size ? size_s : "",
                    same->str, fds->len, t->id);
        return -ENOTUNIQ;
    }
    shmcam_qemu_found(m, &g_array_index(fds, struct shmcam_qemu_fd, 0));
    m->how = g_strdup("QEMU's command line");
    return 0;
}

/* --- SOCKET:ID: QMP ------------------------------------------------ */

struct shmcam_qemu_inode_want {
    dev_t dev;
    ino_t ino;
};

static bool shmcam_qemu_want_inode(const struct shmcam_qemu_fd *f,
                                   const void *opaque)
{
    const struct shmcam_qemu_inode_want *w = opaque;

    return f->st.st_dev == w->dev && f->st.st_ino == w->ino;
}

static gint shmcam_qemu_strcmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The backend's size from query-memdev; when it has none of @id, the ids
 * it has, sorted, in @ids. */
static int shmcam_qemu_qmp_size(struct shmcam_qmp *q,
                                struct shmcam_qemu_memdev *m, const char *id,
                                GString *ids, GError **errp)
{
    g_autoptr(JsonNode) ret = shmcam_qmp_call(q, "query-memdev", NULL, errp);
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    JsonArray *a;
    unsigned int i;

    if (!ret) {
        return -EPROTO;
    }
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d's query-memdev returned "
                    "no list", m->pid);
        return -EPROTO;
    }
    a = json_node_get_array(ret);
    for (i = 0; i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                  : NULL;
        const char *mid = o ? json_object_get_string_member_with_default(o,
                                                    "id", NULL) : NULL;

        if (!mid) {
            continue;
        }
        g_ptr_array_add(all, (char *)mid);
        if (!strcmp(mid, id)) {
            m->size = json_object_get_int_member_with_default(o, "size", 0);
            return 0;
        }
    }
    g_ptr_array_sort(all, shmcam_qemu_strcmp);
    for (i = 0; i < all->len; i++) {
        g_string_append_printf(ids, "%s%s", i ? ", " : "",
                               (char *)g_ptr_array_index(all, i));
    }
    return -ENOENT;
}

/* x-query-ramblock's text, or HMP's info ramblock where QEMU lacks it. */
static char *shmcam_qemu_qmp_ramblock(struct shmcam_qmp *q, GError **errp)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = shmcam_qmp_call(q, "x-query-ramblock", NULL,
                                              &err);
    JsonObject *o;

    if (ret && JSON_NODE_HOLDS_OBJECT(ret)) {
        o = json_node_get_object(ret);
        return g_strdup(json_object_get_string_member_with_default(o,
                                        "human-readable-text", ""));
    }
    if (!ret && err->code != SHMCAM_QMP_ERROR_NOT_FOUND) {
        g_propagate_error(errp, g_steal_pointer(&err));
        return NULL;
    }
    g_clear_pointer(&ret, json_node_unref);
    ret = shmcam_qmp_call(q, "human-monitor-command",
                          "{\"command-line\": \"info ramblock\"}", errp);
    if (!ret) {
        return NULL;
    }
    return g_strdup(JSON_NODE_HOLDS_VALUE(ret) &&
                    json_node_get_value_type(ret) == G_TYPE_STRING ?
                    json_node_get_string(ret) : "");
}

static int shmcam_qemu_find_qmp_in(struct shmcam_qmp *q,
                                   const struct shmcam_qemu_target *t,
                                   struct shmcam_qemu_memdev *m, GError **errp)
{
    g_autoptr(GString) ids = g_string_new(NULL);
    g_autoptr(JsonNode) type = NULL;
    g_autoptr(GArray) hvas = NULL, fds = NULL;
    g_autofree char *args = NULL, *text = NULL, *maps = NULL;
    struct shmcam_qemu_inode_want w = { 0 };
    struct shmcam_qemu_mapping map;
    unsigned int i, found = 0;
    int ret;

    ret = shmcam_qemu_qmp_size(q, m, t->id, ids, errp);
    if (ret == -ENOENT) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d has no memory backend "
                    "%s (it has %s; give it -object memory-backend-shm,id=%s,"
                    "size=32M)", m->pid, t->id, ids->len ? ids->str : "none",
                    t->id);
    }
    if (ret) {
        return ret;
    }
    args = g_strdup_printf("{\"path\": \"/objects/%s\", \"property\": "
                           "\"type\"}", t->id);
    type = shmcam_qmp_call(q, "qom-get", args, errp);
    if (!type) {
        return -EPROTO;
    }
    if (!JSON_NODE_HOLDS_VALUE(type) ||
        json_node_get_value_type(type) != G_TYPE_STRING ||
        strcmp(json_node_get_string(type), SHMCAM_QEMU_SHM_TYPE)) {
        return shmcam_qemu_wrong_type(m, t->id, JSON_NODE_HOLDS_VALUE(type) &&
                                      json_node_get_value_type(type) ==
                                      G_TYPE_STRING ?
                                      json_node_get_string(type) : "?", errp);
    }
    text = shmcam_qemu_qmp_ramblock(q, errp);
    if (!text) {
        return -EPROTO;
    }
    hvas = shmcam_qemu_ramblock_hvas(text, t->id, m->size);
    if (!hvas) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d's info ramblock shows no "
                    "host addresses (HVA): give its process id instead "
                    "(--qemu-memdev %d:%s)", m->pid, m->pid, t->id);
        return -EPROTO;
    }
    if (hvas->len == 0) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d's memory-backend-shm %s "
                    "is not mapped by any device (give it one: -device "
                    "ivshmem-plain,memdev=%s)", m->pid, t->id, t->id);
        return -ENOENT;
    }
    ret = shmcam_qemu_read_proc(m, "maps", &maps, NULL, errp);
    if (ret) {
        return ret;
    }
    for (i = 0; i < hvas->len; i++) {
        uint64_t hva = g_array_index(hvas, uint64_t, i);
        dev_t dev;

        if (shmcam_qemu_maps_find(maps, hva, &map) ||
            !g_str_has_prefix(map.path, "/dev/shm/") ||
            map.offset + (hva - map.start) != 0 || map.end - hva < m->size) {
            continue;
        }
        dev = makedev(map.major, map.minor);
        if (found && (w.dev != dev || w.ino != map.inode)) {
            g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d has more than one "
                        "RAM block named %s of %" PRIu64 " bytes: give its "
                        "process id instead (--qemu-memdev %d:%s)", m->pid,
                        t->id, m->size, m->pid, t->id);
            return -ENOTUNIQ;
        }
        w.dev = dev;
        w.ino = map.inode;
        found++;
    }
    if (!found) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d maps no shm object where "
                    "it puts memory-backend-shm %s (%#" PRIx64 ")", m->pid,
                    t->id, g_array_index(hvas, uint64_t, 0));
        return -ENOENT;
    }
    ret = shmcam_qemu_fds(m, shmcam_qemu_want_inode, &w, &fds, errp);
    if (ret) {
        return ret;
    }
    if (fds->len == 0) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d maps memory-backend-shm "
                    "%s (%s) but holds no descriptor of it", m->pid, t->id,
                    map.path);
        return -ENOENT;
    }
    shmcam_qemu_found(m, &g_array_index(fds, struct shmcam_qemu_fd, 0));
    m->how = g_strdup_printf("QMP socket %s", t->qmp);
    return 0;
}

static int shmcam_qemu_find_qmp(const struct shmcam_qemu_target *t,
                                struct shmcam_qemu_memdev *m, GError **errp)
{
    struct shmcam_qmp q = SHMCAM_QMP_INIT;
    g_autoptr(GError) err = NULL;
    g_autofree char *user = NULL;
    struct stat st;
    int ret;

    ret = shmcam_qmp_connect(&q, t->qmp, SHMCAM_QMP_TIMEOUT_MS, &err);
    if (ret && err->code == SHMCAM_QMP_ERROR_DENIED) {
        if (stat(t->qmp, &st) == 0) {
            user = shmcam_qemu_user(st.st_uid);
            g_set_error(errp, G_FILE_ERROR, 0, "%s (run shmcam-host as QEMU's "
                        "user (the socket's owner: %s) or as root)",
                        err->message, user);
        } else {
            g_set_error(errp, G_FILE_ERROR, 0, "%s (run shmcam-host as QEMU's "
                        "user or as root)", err->message);
        }
        return ret;
    }
    if (ret) {
        g_propagate_error(errp, g_steal_pointer(&err));
        return ret;
    }
    m->pid = q.pid;
    m->uid = shmcam_qemu_euid(m->pid);
    ret = shmcam_qemu_find_qmp_in(&q, t, m, errp);
    shmcam_qmp_close(&q);
    return ret;
}

/* --- the descriptor ------------------------------------------------- */

/*
 * QEMU's descriptor m->qemu_fd as one of ours: opened anew (root may: the
 * object's mode is 0000), else duplicated with pidfd_getfd() (QEMU's own
 * user may).  A negative errno with @errp set.
 */
static int shmcam_qemu_take(struct shmcam_qemu_memdev *m, GError **errp)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd/%d", m->pid,
                                            m->qemu_fd);
    g_autofree char *what = NULL;
    int fd, err;

    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        return fd;
    }
    err = errno;
    if (err != EACCES && err != EPERM) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot open %s: %s: %s%s",
                    m->desc, path, g_strerror(err), err == ENOENT ?
                    " (QEMU closed it meanwhile: is the backend being "
                    "deleted?)" : "");
        return -err;
    }
    fd = m->pidfd < 0 ? -1 : pidfd_getfd(m->pidfd, m->qemu_fd, 0);
    err = m->pidfd < 0 ? m->pidfd_err : errno;
    if (fd >= 0) {
        return fd;
    }
    if (err == ENOSYS) {
        g_set_error(errp, G_FILE_ERROR, 0, "cannot open the memory of QEMU "
                    "%d: %s: Permission denied, and this kernel has no "
                    "pidfd_getfd (Linux 5.6 or later) for QEMU's own user: "
                    "run shmcam-host as root", m->pid, path);
        return -EACCES;
    }
    if (err == EACCES || err == EPERM) {
        what = g_strdup_printf("pidfd_getfd of its descriptor %d", m->qemu_fd);
        return shmcam_qemu_denied(m, what, err, errp);
    }
    g_set_error(errp, G_FILE_ERROR, 0, "cannot take %s (QEMU's descriptor "
                "%d): %s", m->desc, m->qemu_fd, g_strerror(err));
    return -err;
}

/* What we hold is QEMU's unnamed shm object of the backend's size, its
 * owner's and mode, and no other producer's: 0, or a negative errno. */
static int shmcam_qemu_check(struct shmcam_qemu_memdev *m, int fd,
                             GError **errp)
{
    g_autofree char *owner = NULL, *qemu_user = NULL;
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    struct statfs sfs;
    struct stat st;

    if (fstat(fd, &st) < 0 || st.st_dev != m->dev || st.st_ino != m->ino) {
        g_set_error(errp, G_FILE_ERROR, 0, "QEMU %d's descriptor %d changed "
                    "while shmcam-host looked at it (is the backend being "
                    "deleted? try again)", m->pid, m->qemu_fd);
        return -EAGAIN;
    }
    if (!S_ISREG(st.st_mode) || fstatfs(fd, &sfs) < 0 ||
        sfs.f_type != TMPFS_MAGIC) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s is %s, not a shm object "
                    "(--qemu-memdev takes memory-backend-shm only)", m->desc,
                    m->link);
        return -EINVAL;
    }
    if (st.st_nlink > 0 || !g_str_has_suffix(m->link, " (deleted)")) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s is %s, an object with a name "
                    "that other programs open: publish into it with --shm %s",
                    m->desc, m->link,
                    g_str_has_prefix(m->link, "/dev/shm/") ?
                    m->link + strlen("/dev/shm/") : "NAME");
        return -EEXIST;
    }
    if (m->size && (uint64_t)st.st_size != m->size) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s is %lld bytes, not the "
                    "backend's %" PRIu64 " (is it another backend's?)",
                    m->desc, (long long)st.st_size, m->size);
        return -EINVAL;
    }
    m->size = st.st_size;
    if (!m->force && st.st_uid != m->uid && st.st_uid != 0) {
        owner = shmcam_qemu_user(st.st_uid);
        qemu_user = shmcam_qemu_user(m->uid);
        g_set_error(errp, G_FILE_ERROR, 0, "%s belongs to %s, not to QEMU's "
                    "user (%s) or root (--force if you trust its owner)",
                    m->desc, owner, qemu_user);
        return -EPERM;
    }
    if (!m->force && (st.st_mode & 07777 & ~m->max_mode)) {
        g_set_error(errp, G_FILE_ERROR, 0, "%s has mode %04o, wider than "
                    "--mode %04o allows (QEMU makes it 0000: who changed it? "
                    "--mode %04o to accept it)", m->desc,
                    (unsigned)(st.st_mode & 07777), (unsigned)m->max_mode,
                    (unsigned)(st.st_mode & 07777));
        return -EACCES;
    }
    /*
     * A record lock, not flock(): a descriptor from pidfd_getfd() shares
     * QEMU's open file, which would keep an flock() after we are gone.  A
     * record lock is this process's, whatever the descriptor, and goes
     * with it.
     */
    if (fcntl(fd, F_SETLK, &lock) < 0) {
        if (errno == EAGAIN || errno == EACCES) {
            g_set_error(errp, G_FILE_ERROR, 0, "%s is in use by another "
                        "shmcam-host on this machine (stop it first)",
                        m->desc);
            return -EBUSY;
        }
        g_set_error(errp, G_FILE_ERROR, 0, "cannot lock %s: %s", m->desc,
                    g_strerror(errno));
        return -errno;
    }
    return 0;
}

/* The watcher: QEMU's end, then SIGTERM to this process. */
static gpointer shmcam_qemu_watcher(gpointer opaque)
{
    struct shmcam_qemu_memdev *w = opaque;
    struct pollfd pfd = { .fd = w->pidfd, .events = POLLIN };
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
    fprintf(stderr, "shmcam-host: QEMU %d has exited, its %s with it: "
            "stopping\n", w->pid, w->desc);
    kill(getpid(), SIGTERM);
    close(w->pidfd);
    g_free(w->desc);
    g_free(w);
    return NULL;
}

int shmcam_qemu_memdev_watch(struct shmcam_qemu_memdev *m)
{
    struct shmcam_qemu_memdev *w;
    GThread *t;

    if (m->pidfd < 0) {
        return -EBADF;
    }
    w = g_new0(struct shmcam_qemu_memdev, 1);
    w->pid = m->pid;
    w->pidfd = m->pidfd;
    w->desc = g_strdup(m->desc);
    if (strstr(w->desc, " of QEMU ")) {
        *strstr(w->desc, " of QEMU ") = '\0';      /* "memory-backend-shm ID" */
    }
    t = g_thread_try_new("qemu-watch", shmcam_qemu_watcher, w, NULL);
    if (!t) {
        g_free(w->desc);
        g_free(w);
        return -EAGAIN;
    }
    m->pidfd = -1;          /* the watcher's, for as long as we run */
    g_thread_unref(t);
    return 0;
}

void shmcam_qemu_memdev_clear(struct shmcam_qemu_memdev *m)
{
    if (m->pidfd >= 0) {
        close(m->pidfd);
        m->pidfd = -1;
    }
    g_free(m->link);
    g_free(m->desc);
    g_free(m->how);
    m->link = m->desc = m->how = NULL;
}

int shmcam_qemu_memdev_open(const char *arg, struct shmcam_qemu_memdev *m,
                            GError **errp)
{
    struct shmcam_qemu_target t;
    int ret, fd;

    m->uid = (uid_t)-1;
    m->qemu_fd = -1;
    m->pidfd = -1;
    m->size = 0;
    ret = shmcam_qemu_target_parse(arg, &t, errp);
    if (ret) {
        return ret;
    }
    ret = t.qmp ? shmcam_qemu_find_qmp(&t, m, errp)
                : shmcam_qemu_find_pid(&t, m, errp);
    if (!ret) {
        m->desc = g_strdup_printf("memory-backend-shm %s of QEMU %d", t.id,
                                  m->pid);
        /* From here on the process is this one, whatever becomes of the
         * number: its pidfd. */
        m->pidfd = pidfd_open(m->pid, 0);        /* close-on-exec */
        m->pidfd_err = m->pidfd < 0 ? errno : 0;
    }
    shmcam_qemu_target_clear(&t);
    if (ret) {
        return ret;
    }
    fd = shmcam_qemu_take(m, errp);
    if (fd < 0) {
        return fd;
    }
    ret = shmcam_qemu_check(m, fd, errp);
    if (ret) {
        close(fd);
        return ret;
    }
    return fd;
}
