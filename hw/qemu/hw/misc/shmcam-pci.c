/*
 * shmcam-pci: a camera frame area fed by shmcam-host
 *
 * The device passes its memory backend's file descriptor to shmcam-host
 * over a chardev socket; the host publishes frames into that memory and
 * signals each one through an eventfd.  The guest sees the memory as
 * BAR2, mapped read only: a guest cannot disturb what the host or any
 * other reader sees.  The guest's requests (the shmcam consumer area)
 * go through a register window in BAR0 instead, which the device copies
 * into the region at the index the host assigned.
 *
 * docs/specs/shmcam-pci.rst describes the registers and the protocol.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qemu/event_notifier.h"
#include "qemu/host-utils.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "chardev/char-fe.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/misc/shmcam.h"
#include "hw/misc/shmcam-pci.h"
#include "hw/misc/shmcam-qemu-compat.h"
#include "migration/blocker.h"
#include "system/hostmem.h"
#include "qom/object.h"
#include "trace.h"

OBJECT_DECLARE_SIMPLE_TYPE(ShmcamPCIState, SHMCAM_PCI)

#define SHMCAM_PCI_REPLY_SIZE   16
/* A host that misbehaves gets one warning in this long, not a flood. */
#define SHMCAM_PCI_WARN_MS      10000

struct ShmcamPCIState {
    PCIDevice parent_obj;

    HostMemoryBackend *hostmem;
    ShmcamCharFrontend chr;

    MemoryRegion mmio;
    MemoryRegion frames;        /* BAR2: the memdev, mapped read only */
    uint8_t *region;            /* the memdev, writable, for the device */
    uint64_t region_size;

    EventNotifier frame_notifier;       /* written by the host */
    EventNotifier doorbell_notifier;    /* ioeventfd on DOORBELL */

    bool connected;
    uint32_t consumer;
    uint32_t connects;
    uint32_t intr_status;
    uint32_t intr_mask;

    /* The host's reply, gathered across reads. */
    uint8_t reply[SHMCAM_PCI_REPLY_SIZE];
    int reply_len;

    /*
     * The guest's consumer area.  Kept here so that it can be written
     * again at whatever index a restarted host assigns.
     */
    uint8_t consumer_area[SHMCAM_PCI_CONSUMER_AREA_SIZE];

    Error *migration_blocker;

    /* Warnings: when the last was printed, and how many held back since. */
    int64_t warn_ms;
    uint32_t warn_held;
};

QEMU_BUILD_BUG_ON(SHMCAM_PCI_CONSUMER_AREA_SIZE !=
                  sizeof(struct shmcam_consumer));
QEMU_BUILD_BUG_ON(SHMCAM_PCI_CONSUMER_AREA_SIZE % 8 ||
                  SHMCAM_CONSUMER_OFFSET % 8);

static uint8_t *shmcam_pci_consumer_ptr(ShmcamPCIState *s)
{
    return s->region + SHMCAM_CONSUMER_OFFSET +
           s->consumer * sizeof(struct shmcam_consumer);
}

/*
 * Whatever shmcam-host sends costs one warning per SHMCAM_PCI_WARN_MS at
 * most: a host that reconnects in a loop cannot fill QEMU's log.
 */
static void G_GNUC_PRINTF(2, 3) shmcam_pci_warn(ShmcamPCIState *s,
                                                const char *fmt, ...)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    g_autofree char *msg = NULL;
    va_list ap;

    if (s->warn_ms && now - s->warn_ms < SHMCAM_PCI_WARN_MS) {
        s->warn_held++;
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (s->warn_held) {
        warn_report("shmcam-pci: %s (%u more warnings held back since "
                    "the last)", msg, s->warn_held);
    } else {
        warn_report("shmcam-pci: %s", msg);
    }
    s->warn_ms = now;
    s->warn_held = 0;
}

/*
 * One store of @size bytes that the host sees whole, never in parts:
 * the consumer area is shared with a host process reading it at any time.
 * The memory core only passes aligned accesses (.valid.unaligned unset).
 */
static void shmcam_pci_store(uint8_t *p, unsigned size, uint64_t val)
{
    switch (size) {
    case 1:
        qatomic_set(p, val);
        break;
    case 2:
        qatomic_set((uint16_t *)p, cpu_to_le16(val));
        break;
    case 4:
        qatomic_set((uint32_t *)p, cpu_to_le32(val));
        break;
    case 8:
        qatomic_set((uint64_t *)p, cpu_to_le64(val));
        break;
    default:
        g_assert_not_reached();
    }
}

/* The whole consumer area, word by word, each word in one store. */
static void shmcam_pci_store_area(ShmcamPCIState *s, const uint8_t *area)
{
    uint8_t *dst = shmcam_pci_consumer_ptr(s);

    for (size_t i = 0; i < SHMCAM_PCI_CONSUMER_AREA_SIZE; i += 8) {
        shmcam_pci_store(dst + i, 8, area ? ldq_le_p(area + i) : 0);
    }
}

static void shmcam_pci_update_irq(ShmcamPCIState *s, uint32_t raised)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint32_t pending = s->intr_status & s->intr_mask;

    if (msix_enabled(pdev)) {
        if (raised & s->intr_mask & SHMCAM_PCI_INTR_FRAME) {
            trace_shmcam_pci_irq(SHMCAM_PCI_VECTOR_FRAME);
            msix_notify(pdev, SHMCAM_PCI_VECTOR_FRAME);
        }
        if (raised & s->intr_mask & SHMCAM_PCI_INTR_CONNECTION) {
            trace_shmcam_pci_irq(SHMCAM_PCI_VECTOR_CONNECTION);
            msix_notify(pdev, SHMCAM_PCI_VECTOR_CONNECTION);
        }
        return;
    }
    pci_set_irq(pdev, pending != 0);
}

static void shmcam_pci_raise(ShmcamPCIState *s, uint32_t bits)
{
    s->intr_status |= bits;
    shmcam_pci_update_irq(s, bits);
}

static void shmcam_pci_frame_event(EventNotifier *n)
{
    ShmcamPCIState *s = container_of(n, ShmcamPCIState, frame_notifier);

    if (event_notifier_test_and_clear(n)) {
        trace_shmcam_pci_frame();
        shmcam_pci_raise(s, SHMCAM_PCI_INTR_FRAME);
    }
}

static uint64_t shmcam_pci_mmio_read(void *opaque, hwaddr addr,
                                     unsigned size)
{
    ShmcamPCIState *s = opaque;
    uint64_t val = 0;

    if (addr >= SHMCAM_PCI_REG_CONSUMER_AREA &&
        addr + size <= SHMCAM_PCI_REG_CONSUMER_AREA +
                       SHMCAM_PCI_CONSUMER_AREA_SIZE) {
        val = ldn_le_p(s->consumer_area + addr - SHMCAM_PCI_REG_CONSUMER_AREA,
                       size);
        trace_shmcam_pci_mmio_read(addr, size, val);
        return val;
    }
    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "%s: %u-byte read of register 0x%" HWADDR_PRIx
                      " (registers are 32-bit)\n", __func__, size, addr);
        return 0;
    }

    switch (addr) {
    case SHMCAM_PCI_REG_ID:
        val = SHMCAM_PCI_ID;
        break;
    case SHMCAM_PCI_REG_VERSION:
        val = SHMCAM_PCI_VERSION;
        break;
    case SHMCAM_PCI_REG_STATUS:
        val = s->connected ? SHMCAM_PCI_STATUS_CONNECTED : 0;
        break;
    case SHMCAM_PCI_REG_CONSUMER:
        val = s->connected ? s->consumer : UINT32_MAX;
        break;
    case SHMCAM_PCI_REG_INTR_STATUS:
        val = s->intr_status;
        break;
    case SHMCAM_PCI_REG_INTR_MASK:
        val = s->intr_mask;
        break;
    case SHMCAM_PCI_REG_DOORBELL:
        break;
    case SHMCAM_PCI_REG_CONNECTS:
        val = s->connects;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "%s: read of unknown register 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    trace_shmcam_pci_mmio_read(addr, size, val);
    return val;
}

static void shmcam_pci_consumer_write(ShmcamPCIState *s, hwaddr offset,
                                      uint64_t val, unsigned size)
{
    stn_le_p(s->consumer_area + offset, size, val);
    if (s->connected) {
        shmcam_pci_store(shmcam_pci_consumer_ptr(s) + offset, size, val);
    }
}

static void shmcam_pci_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                                  unsigned size)
{
    ShmcamPCIState *s = opaque;

    trace_shmcam_pci_mmio_write(addr, size, val);

    if (addr >= SHMCAM_PCI_REG_CONSUMER_AREA &&
        addr + size <= SHMCAM_PCI_REG_CONSUMER_AREA +
                       SHMCAM_PCI_CONSUMER_AREA_SIZE) {
        shmcam_pci_consumer_write(s, addr - SHMCAM_PCI_REG_CONSUMER_AREA,
                                  val, size);
        return;
    }
    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "%s: %u-byte write of register 0x%" HWADDR_PRIx
                      " (registers are 32-bit)\n", __func__, size, addr);
        return;
    }

    switch (addr) {
    case SHMCAM_PCI_REG_INTR_STATUS:
        s->intr_status &= ~val;
        shmcam_pci_update_irq(s, 0);
        break;
    case SHMCAM_PCI_REG_INTR_MASK:
        if (val & ~SHMCAM_PCI_INTR_ALL) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: unknown interrupt bits 0x%" PRIx64
                          " in INTR_MASK ignored\n", __func__,
                          val & ~SHMCAM_PCI_INTR_ALL);
        }
        s->intr_mask = val & SHMCAM_PCI_INTR_ALL;
        /* An unmasked event that is already pending is delivered now. */
        shmcam_pci_update_irq(s, s->intr_status);
        break;
    case SHMCAM_PCI_REG_DOORBELL:
        /* The ioeventfd normally takes this write; if not, ring here. */
        event_notifier_set(&s->doorbell_notifier);
        break;
    case SHMCAM_PCI_REG_ID:
    case SHMCAM_PCI_REG_VERSION:
    case SHMCAM_PCI_REG_STATUS:
    case SHMCAM_PCI_REG_CONSUMER:
    case SHMCAM_PCI_REG_CONNECTS:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "%s: write to read-only register 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "%s: write to unknown register 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
}

static const MemoryRegionOps shmcam_pci_mmio_ops = {
    .read = shmcam_pci_mmio_read,
    .write = shmcam_pci_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

static void shmcam_pci_set_connected(ShmcamPCIState *s, bool connected)
{
    if (s->connected == connected) {
        return;
    }
    s->connected = connected;
    shmcam_pci_raise(s, SHMCAM_PCI_INTR_CONNECTION);
}

static void shmcam_pci_send_hello(ShmcamPCIState *s)
{
    int fds[SHMCAM_PCI_HELLO_FDS];
    uint64_t msg[2];
    int ret;

    fds[SHMCAM_PCI_FD_REGION] =
        memory_region_get_fd(host_memory_backend_get_memory(s->hostmem));
    fds[SHMCAM_PCI_FD_FRAME] = event_notifier_get_fd(&s->frame_notifier);
    fds[SHMCAM_PCI_FD_DOORBELL] =
        event_notifier_get_fd(&s->doorbell_notifier);
    msg[0] = cpu_to_le64(SHMCAM_PCI_PROTOCOL);
    msg[1] = cpu_to_le64(s->region_size);

    s->reply_len = 0;
    if (qemu_chr_fe_set_msgfds(&s->chr, fds, ARRAY_SIZE(fds)) < 0) {
        shmcam_pci_warn(s, "chardev %s can't pass the region to "
                        "shmcam-host", qemu_chr_fe_get_driver(&s->chr)->label);
        qemu_chr_fe_disconnect(&s->chr);
        return;
    }
    errno = 0;
    ret = qemu_chr_fe_write_all(&s->chr, (uint8_t *)msg, sizeof(msg));
    if (ret != sizeof(msg)) {
        shmcam_pci_warn(s, "can't pass the region to shmcam-host: %s",
                        ret < 0 && errno ? strerror(errno)
                                         : "the connection closed");
        qemu_chr_fe_disconnect(&s->chr);
        return;
    }
    trace_shmcam_pci_hello(s->region_size);
}

static void shmcam_pci_handle_reply(ShmcamPCIState *s)
{
    int64_t version = ldq_le_p(s->reply);
    int64_t index = ldq_le_p(s->reply + 8);

    if (version != SHMCAM_PCI_PROTOCOL) {
        shmcam_pci_warn(s, "shmcam-host speaks protocol %" PRId64
                        ", this device %d; disconnecting", version,
                        SHMCAM_PCI_PROTOCOL);
        qemu_chr_fe_disconnect(&s->chr);
        return;
    }
    if (index < 0) {
        shmcam_pci_warn(s, "shmcam-host refused the region: %s",
                        strerror(index < -4095 ? EINVAL : -index));
        qemu_chr_fe_disconnect(&s->chr);
        return;
    }
    if (index >= SHMCAM_MAX_CONSUMERS) {
        shmcam_pci_warn(s, "shmcam-host assigned consumer %" PRId64
                        ", beyond the last (%u); disconnecting", index,
                        SHMCAM_MAX_CONSUMERS - 1);
        qemu_chr_fe_disconnect(&s->chr);
        return;
    }

    s->consumer = index;
    s->connects++;
    /* Whatever the guest asked of the previous host still holds. */
    shmcam_pci_store_area(s, s->consumer_area);
    trace_shmcam_pci_connected(s->consumer);
    shmcam_pci_set_connected(s, true);
}

static int shmcam_pci_can_receive(void *opaque)
{
    ShmcamPCIState *s = opaque;

    return s->connected ? SHMCAM_PCI_REPLY_SIZE
                        : SHMCAM_PCI_REPLY_SIZE - s->reply_len;
}

static void shmcam_pci_receive(void *opaque, const uint8_t *buf, int size)
{
    ShmcamPCIState *s = opaque;

    if (s->connected) {
        /* The protocol has nothing after the reply. */
        shmcam_pci_warn(s, "unexpected %d bytes from shmcam-host ignored",
                        size);
        return;
    }
    assert(s->reply_len + size <= SHMCAM_PCI_REPLY_SIZE);
    memcpy(s->reply + s->reply_len, buf, size);
    s->reply_len += size;
    if (s->reply_len == SHMCAM_PCI_REPLY_SIZE) {
        shmcam_pci_handle_reply(s);
    }
}

static void shmcam_pci_chr_event(void *opaque, QEMUChrEvent event)
{
    ShmcamPCIState *s = opaque;

    switch (event) {
    case CHR_EVENT_OPENED:
        shmcam_pci_send_hello(s);
        break;
    case CHR_EVENT_CLOSED:
        trace_shmcam_pci_disconnected();
        s->reply_len = 0;
        shmcam_pci_set_connected(s, false);
        break;
    default:
        break;
    }
}

static bool shmcam_pci_check_memdev(ShmcamPCIState *s, Error **errp)
{
    const char *id;
    MemoryRegion *mr;
    uint64_t size;

    if (!s->hostmem) {
        error_setg(errp, "shmcam-pci needs a memdev (e.g. "
                   "-object memory-backend-shm,id=cam0,size=64M and "
                   "memdev=cam0)");
        return false;
    }
    id = object_get_canonical_path_component(OBJECT(s->hostmem));
    if (host_memory_backend_is_mapped(s->hostmem)) {
        error_setg(errp, "can't use already busy memdev: %s", id);
        return false;
    }
    mr = host_memory_backend_get_memory(s->hostmem);
    if (!s->hostmem->share || memory_region_get_fd(mr) < 0) {
        error_setg(errp, "memdev %s is not shared memory with a file "
                   "descriptor; use memory-backend-shm, or "
                   "memory-backend-memfd or -file with share=on", id);
        return false;
    }
    /*
     * The device writes the guest's requests into the memory, so it must
     * be writable; and shmcam-host maps the file from its start.
     */
    if (memory_region_is_rom(mr) ||
        (object_property_find(OBJECT(s->hostmem), "readonly") &&
         object_property_get_bool(OBJECT(s->hostmem), "readonly", NULL))) {
        error_setg(errp, "memdev %s is read only (readonly=on or rom=on); "
                   "shmcam-pci writes the guest's requests into it: give a "
                   "writable memdev, e.g. memory-backend-shm, or "
                   "memory-backend-file with share=on and neither readonly "
                   "nor rom", id);
        return false;
    }
    if (object_property_find(OBJECT(s->hostmem), "offset") &&
        object_property_get_uint(OBJECT(s->hostmem), "offset", NULL)) {
        error_setg(errp, "memdev %s starts at offset %" PRIu64 " of its "
                   "file; shmcam-host maps the file from its start, so "
                   "shmcam-pci needs offset=0 (give the region a file of "
                   "its own)", id,
                   object_property_get_uint(OBJECT(s->hostmem), "offset",
                                            NULL));
        return false;
    }
    size = memory_region_size(mr);
    if (!is_power_of_2(size) || size < SHMCAM_MIN_REGION_SIZE ||
        size > SHMCAM_MAX_REGION_SIZE) {
        error_setg(errp, "memdev %s is %" PRIu64 " bytes; shmcam-pci needs "
                   "a power of two from %llu to %llu", id, size,
                   SHMCAM_MIN_REGION_SIZE, SHMCAM_MAX_REGION_SIZE);
        return false;
    }
    return true;
}

static void shmcam_pci_realize(PCIDevice *pdev, Error **errp)
{
    ShmcamPCIState *s = SHMCAM_PCI(pdev);
    MemoryRegion *mr;
    int fd;

    if (!shmcam_pci_check_memdev(s, errp)) {
        return;
    }
    if (!qemu_chr_fe_backend_connected(&s->chr)) {
        error_setg(errp, "shmcam-pci needs a chardev: the socket of "
                   "shmcam-host (e.g. -chardev socket,id=cam0s,"
                   "path=/run/shmcam.sock,reconnect-ms=1000 and "
                   "chardev=cam0s)");
        return;
    }
    if (!qemu_chr_has_feature(qemu_chr_fe_get_driver(&s->chr),
                              QEMU_CHAR_FEATURE_FD_PASS)) {
        error_setg(errp, "chardev %s can't pass file descriptors; "
                   "shmcam-pci needs a unix socket (e.g. -chardev socket,"
                   "id=%s,path=/run/shmcam.sock,reconnect-ms=1000)",
                   qemu_chr_fe_get_driver(&s->chr)->label,
                   qemu_chr_fe_get_driver(&s->chr)->label);
        return;
    }

    error_setg(&s->migration_blocker, "shmcam-pci can't be migrated: its "
               "frames come from shmcam-host on this machine; unplug it "
               "(device_del) before migrating, and plug a shmcam-pci on "
               "the destination");
    if (migrate_add_blocker(&s->migration_blocker, errp) < 0) {
        return;
    }

    mr = host_memory_backend_get_memory(s->hostmem);
    s->region = memory_region_get_ram_ptr(mr);
    s->region_size = memory_region_size(mr);

    /*
     * A second mapping of the same memory, read only, is what the guest
     * sees: its writes are dropped (TCG) or refused by KVM, and the host
     * mapping cannot be written through it at all.
     */
    fd = dup(memory_region_get_fd(mr));
    if (fd < 0) {
        error_setg_errno(errp, errno, "can't duplicate memdev descriptor");
        goto err_blocker;
    }
    if (!memory_region_init_ram_from_fd(&s->frames, OBJECT(s),
                                        "shmcam-pci.frames", s->region_size,
                                        RAM_SHARED | RAM_READONLY, fd, 0,
                                        errp)) {
        close(fd);
        goto err_blocker;
    }

    if (event_notifier_init(&s->frame_notifier, 0) < 0) {
        error_setg_errno(errp, errno, "can't create frame eventfd");
        goto err_frames;
    }
    if (event_notifier_init(&s->doorbell_notifier, 0) < 0) {
        error_setg_errno(errp, errno, "can't create doorbell eventfd");
        goto err_frame_notifier;
    }

    memory_region_init_io(&s->mmio, OBJECT(s), &shmcam_pci_mmio_ops, s,
                          "shmcam-pci.mmio", SHMCAM_PCI_REG_BAR_SIZE);
    memory_region_add_eventfd(&s->mmio, SHMCAM_PCI_REG_DOORBELL, 4, false, 0,
                              &s->doorbell_notifier);
    pci_register_bar(pdev, SHMCAM_PCI_REG_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->mmio);

    if (msix_init_exclusive_bar(pdev, SHMCAM_PCI_VECTORS,
                                SHMCAM_PCI_MSIX_BAR, errp)) {
        goto err_mmio;
    }
    for (int i = 0; i < SHMCAM_PCI_VECTORS; i++) {
        msix_vector_use(pdev, i);
    }
    pci_config_set_interrupt_pin(pdev->config, 1);

    pci_register_bar(pdev, SHMCAM_PCI_FRAME_BAR,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_PREFETCH |
                     PCI_BASE_ADDRESS_MEM_TYPE_64,
                     &s->frames);
    host_memory_backend_set_mapped(s->hostmem, true);

    event_notifier_set_handler(&s->frame_notifier, shmcam_pci_frame_event);
    qemu_chr_fe_set_handlers(&s->chr, shmcam_pci_can_receive,
                             shmcam_pci_receive, shmcam_pci_chr_event, NULL,
                             s, NULL, true);
    return;

err_mmio:
    memory_region_del_eventfd(&s->mmio, SHMCAM_PCI_REG_DOORBELL, 4, false, 0,
                              &s->doorbell_notifier);
    event_notifier_cleanup(&s->doorbell_notifier);
err_frame_notifier:
    event_notifier_cleanup(&s->frame_notifier);
err_frames:
    object_unparent(OBJECT(&s->frames));
err_blocker:
    migrate_del_blocker(&s->migration_blocker);
}

static void shmcam_pci_exit(PCIDevice *pdev)
{
    ShmcamPCIState *s = SHMCAM_PCI(pdev);

    /*
     * Unplugged: the host must see the guest gone at once, its request
     * withdrawn and its connection closed, so that it frees the consumer
     * slot; a device plugged later on the same chardev says hello on a
     * connection of its own.
     */
    if (s->connected) {
        shmcam_pci_store_area(s, NULL);
    }
    qemu_chr_fe_set_handlers(&s->chr, NULL, NULL, NULL, NULL, NULL, NULL,
                             true);
    qemu_chr_fe_disconnect(&s->chr);
    s->connected = false;
    qemu_chr_fe_deinit(&s->chr, false);
    migrate_del_blocker(&s->migration_blocker);
    event_notifier_set_handler(&s->frame_notifier, NULL);
    memory_region_del_eventfd(&s->mmio, SHMCAM_PCI_REG_DOORBELL, 4, false, 0,
                              &s->doorbell_notifier);
    event_notifier_cleanup(&s->doorbell_notifier);
    event_notifier_cleanup(&s->frame_notifier);
    msix_uninit_exclusive_bar(pdev);
    host_memory_backend_set_mapped(s->hostmem, false);
}

static void shmcam_pci_reset(DeviceState *dev)
{
    ShmcamPCIState *s = SHMCAM_PCI(dev);

    /* A rebooted guest starts with no request the host would act on. */
    memset(s->consumer_area, 0, sizeof(s->consumer_area));
    if (s->connected) {
        shmcam_pci_store_area(s, NULL);
    }
    s->intr_status = 0;
    s->intr_mask = 0;
    msix_reset(PCI_DEVICE(s));
    pci_set_irq(PCI_DEVICE(s), 0);
}

static const Property shmcam_pci_properties[] = {
    DEFINE_PROP_LINK("memdev", ShmcamPCIState, hostmem, TYPE_MEMORY_BACKEND,
                     HostMemoryBackend *),
    DEFINE_PROP_CHR("chardev", ShmcamPCIState, chr),
};

static void shmcam_pci_class_init(ObjectClass *klass, ShmcamClassData data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = shmcam_pci_realize;
    k->exit = shmcam_pci_exit;
    k->vendor_id = SHMCAM_PCI_VENDOR_ID;
    k->device_id = SHMCAM_PCI_DEVICE_ID;
    k->revision = SHMCAM_PCI_REVISION;
    k->class_id = PCI_CLASS_MULTIMEDIA_VIDEO;
    device_class_set_legacy_reset(dc, shmcam_pci_reset);
    device_class_set_props(dc, shmcam_pci_properties);
    dc->desc = "Camera frames shared by shmcam-host";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo shmcam_pci_types[] = {
    {
        .name          = TYPE_SHMCAM_PCI,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(ShmcamPCIState),
        .class_init    = shmcam_pci_class_init,
        .interfaces    = (ShmcamInterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(shmcam_pci_types)
