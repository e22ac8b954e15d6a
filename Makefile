# SPDX-License-Identifier: GPL-2.0-or-later
#
# Top-level entry points.  ./configure sets up build/; when it has not been
# run, the first make runs it with the defaults, so that on a fresh machine
# `make check` and `make demo` need nothing before them.

BUILD_DIR ?= build
-include $(BUILD_DIR)/config.mak

.PHONY: all module check check-unit check-vm check-qemu qemu bench demo install \
	clean distclean

all: $(BUILD_DIR)/config.mak
	ninja -C $(BUILD_DIR)
	@$(MAKE) --no-print-directory module
	@if [ -n "$(QEMU_SRC)" ]; then $(MAKE) --no-print-directory qemu; fi

$(BUILD_DIR)/config.mak:
	./configure --builddir=$(BUILD_DIR)

# The module for the kernel named by configure --kernel-dir.  The VM tests
# build their own copies for the kernels they boot (tests/vm).
module: $(BUILD_DIR)/config.mak
	@if [ -n "$(KERNEL_DIR)" ]; then \
		$(MAKE) -C guest-driver KDIR=$(KERNEL_DIR); \
	else \
		echo "shmcam.ko skipped: configure found no kernel headers"; \
	fi

# The unit suite, the QEMU build with its qtests (several minutes the
# first time), then the VM suite; every stage runs, and the last line
# counts them all: "N passed, N failed[, N skipped]" (tests/run-check.sh).
check: all
	QEMU_SRC="$(QEMU_SRC)" tests/run-check.sh $(BUILD_DIR)

check-unit: all
	meson test -C $(BUILD_DIR) --suite unit --print-errorlogs

check-vm: all
	meson test -C $(BUILD_DIR) --suite vm --print-errorlogs --num-processes 1

# qemu-system-x86_64 with the shmcam-pci device, built from Debian's QEMU
# source (or configure --qemu-src) into $(BUILD_DIR)/qemu-build.
QEMU_SRC_OPT = $(if $(QEMU_SRC),--qemu-src=$(QEMU_SRC))
qemu: $(BUILD_DIR)/config.mak
	tests/setup/build-qemu.sh $(QEMU_SRC_OPT) $(BUILD_DIR)

check-qemu: $(BUILD_DIR)/config.mak
	tests/setup/build-qemu.sh --check $(QEMU_SRC_OPT) $(BUILD_DIR)

bench: all
	meson test -C $(BUILD_DIR) --benchmark --verbose

# CAMERA=/dev/videoN shows a real camera instead of the test pattern.
demo: all
	tests/vm/demo.sh $(BUILD_DIR) $(CAMERA)

install: all
	meson install -C $(BUILD_DIR)

clean:
	-ninja -C $(BUILD_DIR) clean
	-$(MAKE) -C guest-driver clean

distclean:
	-$(MAKE) -C guest-driver clean
	rm -rf $(BUILD_DIR) out
