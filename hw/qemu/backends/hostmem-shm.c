/*
 * QEMU host POSIX shared memory object backend
 *
 * Without a name the object is private: it is created under a name of
 * QEMU's own choosing and unlinked at once, so only QEMU and whoever it
 * hands the file descriptor to can map it.
 *
 * With name=/NAME other programs open it by that name: QEMU creates it
 * (exclusively, with the given mode) and unlinks it when the backend goes
 * away or QEMU exits, or, with attach=on, maps one that another program
 * created, of exactly the backend's size, and leaves it in place.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/notify.h"
#include "qapi/error.h"
#include "system/hostmem.h"
#include "system/system.h"
#include "migration/cpr.h"

#define TYPE_MEMORY_BACKEND_SHM "memory-backend-shm"

OBJECT_DECLARE_SIMPLE_TYPE(HostMemoryBackendShm, MEMORY_BACKEND_SHM)

struct HostMemoryBackendShm {
    HostMemoryBackend parent_obj;

    char *name;             /* "/NAME", or NULL for a private object */
    mode_t mode;            /* of an object we create */
    bool mode_set;
    bool attach;            /* open an existing object instead */

    /* We created the object named name and must unlink it. */
    bool created;
    Notifier exit_notifier;
};

/* Give up the name of an object we created; other names are not ours. */
static void shm_backend_unlink(HostMemoryBackendShm *m)
{
    if (m->created) {
        shm_unlink(m->name);
        m->created = false;
        qemu_remove_exit_notifier(&m->exit_notifier);
    }
}

/*
 * A backend that a device uses is not finalized when QEMU quits, and an
 * error exit skips the objects' teardown altogether: the name goes with
 * QEMU all the same.
 */
static void shm_backend_exit_notify(Notifier *n, void *data)
{
    HostMemoryBackendShm *m = container_of(n, HostMemoryBackendShm,
                                           exit_notifier);

    shm_backend_unlink(m);
}

/* Returns the object's fd, or -1 with @errp set. */
static int shm_backend_create_named(HostMemoryBackendShm *m, uint64_t size,
                                    Error **errp)
{
    int fd = shm_open(m->name, O_RDWR | O_CREAT | O_EXCL, m->mode);

    if (fd < 0) {
        if (errno == EEXIST) {
            error_setg(errp, "the name %s exists (use attach=on to share it)",
                       m->name);
        } else {
            error_setg_errno(errp, errno, "can't create shm object %s",
                             m->name);
        }
        return -1;
    }
    m->created = true;
    m->exit_notifier.notify = shm_backend_exit_notify;
    qemu_add_exit_notifier(&m->exit_notifier);

    /* shm_open applies the umask; the mode asked for is the mode given. */
    if (fchmod(fd, m->mode) < 0) {
        error_setg_errno(errp, errno, "can't set mode %04o of shm object %s",
                         (unsigned)m->mode, m->name);
        goto fail;
    }
    if (ftruncate(fd, size) < 0) {
        error_setg_errno(errp, errno, "can't resize shm object %s to %"
                         PRIu64 " bytes", m->name, size);
        goto fail;
    }
    return fd;

fail:
    close(fd);
    shm_backend_unlink(m);
    return -1;
}

/*
 * Returns the fd of the existing object, or -1 with @errp set.  Another
 * program laid out this memory: it is mapped as it is, never resized.
 */
static int shm_backend_attach_named(HostMemoryBackendShm *m, uint64_t size,
                                    Error **errp)
{
    struct stat st;
    int fd = shm_open(m->name, O_RDWR, 0);

    if (fd < 0) {
        if (errno == ENOENT) {
            error_setg(errp, "the name %s does not exist (create it first, "
                       "or drop attach=on to have it created)", m->name);
        } else {
            error_setg_errno(errp, errno, "can't open shm object %s",
                             m->name);
        }
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "can't stat shm object %s", m->name);
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size != size) {
        error_setg(errp, "shm object %s is %" PRIu64 " bytes, not the "
                   "backend's %" PRIu64 " (give size=%" PRIu64 "; an "
                   "attached object is never resized)", m->name,
                   (uint64_t)st.st_size, size, (uint64_t)st.st_size);
        close(fd);
        return -1;
    }
    return fd;
}

static bool
shm_backend_memory_alloc(HostMemoryBackend *backend, Error **errp)
{
    HostMemoryBackendShm *m = MEMORY_BACKEND_SHM(backend);
    g_autofree char *backend_name = host_memory_backend_get_name(backend);
    uint32_t ram_flags;
    int fd;

    if (!backend->size) {
        error_setg(errp, "can't create shm backend with size 0");
        return false;
    }
    if (!backend->share) {
        error_setg(errp, "can't create shm backend with `share=off`");
        return false;
    }

    /* Like memory-backend-ram,share=on. */
    ram_flags = RAM_SHARED;
    ram_flags |= backend->reserve ? 0 : RAM_NORESERVE;

    if (!m->name) {
        if (m->attach) {
            error_setg(errp, "attach=on needs the name of the shm object "
                       "(name=/NAME)");
            return false;
        }
        if (m->mode_set) {
            error_setg(errp, "mode needs a name (name=/NAME): an unnamed "
                       "shm object is private to QEMU");
            return false;
        }

        /* A CPR transfer hands the old QEMU's private object over. */
        fd = cpr_find_fd(backend_name, 0);
        if (fd < 0) {
            fd = qemu_shm_alloc(backend->size, errp);
            if (fd < 0) {
                return false;
            }
            cpr_save_fd(backend_name, 0, fd);
        }
        return memory_region_init_ram_from_fd(&backend->mr, OBJECT(backend),
                                              backend_name, backend->size,
                                              ram_flags, fd, 0, errp);
    }

    if (m->attach) {
        if (m->mode_set) {
            error_setg(errp, "mode is for a shm object QEMU creates: with "
                       "attach=on, %s keeps the mode it was created with",
                       m->name);
            return false;
        }
        fd = shm_backend_attach_named(m, backend->size, errp);
    } else {
        fd = shm_backend_create_named(m, backend->size, errp);
    }
    if (fd < 0) {
        return false;
    }
    if (!memory_region_init_ram_from_fd(&backend->mr, OBJECT(backend),
                                        backend_name, backend->size,
                                        ram_flags, fd, 0, errp)) {
        close(fd);
        shm_backend_unlink(m);
        return false;
    }
    return true;
}

/* Properties shape the object: none may change once it exists. */
static bool shm_backend_prop_settable(Object *obj, const char *prop,
                                      Error **errp)
{
    HostMemoryBackend *backend = MEMORY_BACKEND(obj);
    g_autofree char *id = NULL;

    if (host_memory_backend_mr_inited(backend)) {
        id = host_memory_backend_get_name(backend);
        error_setg(errp, "cannot change property '%s' of %s '%s'", prop,
                   object_get_typename(obj), id);
        return false;
    }
    return true;
}

static char *shm_backend_get_name(Object *obj, Error **errp)
{
    return g_strdup(MEMORY_BACKEND_SHM(obj)->name);
}

static void shm_backend_set_name(Object *obj, const char *str, Error **errp)
{
    HostMemoryBackendShm *m = MEMORY_BACKEND_SHM(obj);

    if (!shm_backend_prop_settable(obj, "name", errp)) {
        return;
    }
    /* The portable form of a POSIX shared memory object's name. */
    if (str[0] != '/' || !str[1] || strchr(str + 1, '/') ||
        strlen(str + 1) > NAME_MAX) {
        error_setg(errp, "shm object name '%s' must be '/' followed by "
                   "a name without '/' (e.g. /shmcam0)", str);
        return;
    }
    g_free(m->name);
    m->name = g_strdup(str);
}

static char *shm_backend_get_mode(Object *obj, Error **errp)
{
    return g_strdup_printf("%04o", (unsigned)MEMORY_BACKEND_SHM(obj)->mode);
}

static void shm_backend_set_mode(Object *obj, const char *str, Error **errp)
{
    HostMemoryBackendShm *m = MEMORY_BACKEND_SHM(obj);
    unsigned int mode;

    if (!shm_backend_prop_settable(obj, "mode", errp)) {
        return;
    }
    if (qemu_strtoui(str, NULL, 8, &mode) < 0 || mode > 0777) {
        error_setg(errp, "shm object mode '%s' is not an octal file "
                   "mode from 0 to 0777 (e.g. 0600)", str);
        return;
    }
    m->mode = mode;
    m->mode_set = true;
}

static bool shm_backend_get_attach(Object *obj, Error **errp)
{
    return MEMORY_BACKEND_SHM(obj)->attach;
}

static void shm_backend_set_attach(Object *obj, bool value, Error **errp)
{
    if (!shm_backend_prop_settable(obj, "attach", errp)) {
        return;
    }
    MEMORY_BACKEND_SHM(obj)->attach = value;
}

static void
shm_backend_instance_init(Object *obj)
{
    HostMemoryBackendShm *m = MEMORY_BACKEND_SHM(obj);

    MEMORY_BACKEND(m)->share = true;
    m->mode = 0600;
}

static void
shm_backend_instance_finalize(Object *obj)
{
    HostMemoryBackendShm *m = MEMORY_BACKEND_SHM(obj);

    shm_backend_unlink(m);
    g_free(m->name);
}

static void
shm_backend_class_init(ObjectClass *oc, void *data)
{
    HostMemoryBackendClass *bc = MEMORY_BACKEND_CLASS(oc);

    bc->alloc = shm_backend_memory_alloc;

    object_class_property_add_str(oc, "name", shm_backend_get_name,
                                  shm_backend_set_name);
    object_class_property_set_description(oc, "name",
        "Name of the shm object others open, /NAME (default: a private "
        "object)");
    object_class_property_add_str(oc, "mode", shm_backend_get_mode,
                                  shm_backend_set_mode);
    object_class_property_set_description(oc, "mode",
        "File mode of the named shm object QEMU creates, octal "
        "(default: 0600)");
    object_class_property_add_bool(oc, "attach", shm_backend_get_attach,
                                   shm_backend_set_attach);
    object_class_property_set_description(oc, "attach",
        "Map the existing shm object 'name' instead of creating it; it "
        "stays after QEMU (default: off)");
}

static const TypeInfo shm_backend_info = {
    .name = TYPE_MEMORY_BACKEND_SHM,
    .parent = TYPE_MEMORY_BACKEND,
    .instance_init = shm_backend_instance_init,
    .instance_finalize = shm_backend_instance_finalize,
    .class_init = shm_backend_class_init,
    .instance_size = sizeof(HostMemoryBackendShm),
};

static void register_types(void)
{
    type_register_static(&shm_backend_info);
}

type_init(register_types);
