# SPDX-License-Identifier: GPL-2.0
#
# vrdma top-level Makefile.
#
#   make [KDIR=...]          build vrdma.ko and all of userspace
#   make deps                install build/test dependencies (Debian 12)
#   make check [KVER=..] [T=..]  run the selftests in a VM (see README.md)
#   make bench               run the benchmarks in a VM
#   make install [DESTDIR=] [PREFIX=]
#   make checkpatch | sparse | clean
#
# The module is built in a shadow tree under build/<kernel release>/ so that
# builds for several kernels never share objects.

SRCDIR		:= $(CURDIR)
CACHE		?= $(SRCDIR)/.cache
BUILD		?= $(SRCDIR)/build
PREFIX		?= /usr/local
DESTDIR		?=
LINUX_SRC	?= $(CACHE)/linux-source-6.12

default_kdir	:= $(shell $(SRCDIR)/scripts/kernels.sh kdir 6.12 2>/dev/null)
ifeq ($(default_kdir),)
default_kdir	:= /lib/modules/$(shell uname -r)/build
endif
KDIR		?= $(default_kdir)
# The release the kernel reports (uname -r): Debian's 6.1 headers say
# 6.1.192 in kernel.release but 6.1.0-NN-amd64 in UTS_RELEASE.
KREL		 = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR		 = $(BUILD)/$(KREL)

# W=1 by default: the module must stay warning-free at that level.
W		?= 1

.PHONY: all modules userspace selftests install install-modules \
	install-userspace deps check bench checkpatch sparse clean

all: modules userspace

# Shadow tree: symlinks to the sources, objects stay in build/<release>.
$(BUILD)/%/.shadow:
	@mkdir -p $(@D)
	@for f in Kbuild drivers include scripts; do \
		ln -sfn $(SRCDIR)/$$f $(@D)/$$f; done
	@touch $@

modules:
	@test -n "$(KREL)" || { echo "No kernel headers in KDIR=$(KDIR): run 'make deps'" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(MODDIR)/.shadow
	$(MAKE) -C $(KDIR) M=$(MODDIR) W=$(W) modules
	@echo "built $(MODDIR)/drivers/vrdma/vrdma.ko"

userspace:
	$(MAKE) -C userspace

selftests: userspace
	$(MAKE) -C selftests LINUX_SRC=$(LINUX_SRC)

install: install-modules install-userspace

install-modules: modules
	install -D -m 0644 $(MODDIR)/drivers/vrdma/vrdma.ko \
		$(DESTDIR)/lib/modules/$(KREL)/updates/vrdma.ko
	install -D -m 0644 include/uapi/linux/vrdma.h \
		$(DESTDIR)$(PREFIX)/include/linux/vrdma.h

install-userspace: userspace
	$(MAKE) -C userspace install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

deps:
	@$(SRCDIR)/scripts/deps.sh

# KVER: space-separated kernel series to test on (default: both).
KVER		?= 6.12 6.1
T		?=
check:
	@$(SRCDIR)/selftests/vm/check.sh --kver "$(KVER)" $(if $(T),--tests "$(T)")

bench:
	@$(SRCDIR)/selftests/vm/check.sh --bench --kver "$(firstword $(KVER))" $(if $(T),--tests "$(T)")

CHECKPATCH	?= $(LINUX_SRC)/scripts/checkpatch.pl
KSRC_FILES	 = $(wildcard drivers/vrdma/*.[ch]) $(wildcard include/uapi/linux/*.h)
checkpatch:
	@test -x $(CHECKPATCH) || { echo "checkpatch.pl not found: run 'make deps'" >&2; exit 1; }
	$(CHECKPATCH) --strict --no-tree --show-types --terse -f $(KSRC_FILES)

sparse:
	@$(MAKE) --no-print-directory $(MODDIR)/.shadow
	$(MAKE) -C $(KDIR) M=$(MODDIR) C=2 W=$(W) modules 2>&1 | tee $(MODDIR)/sparse.log
	@! grep -E 'warning:|error:' $(MODDIR)/sparse.log

clean:
	rm -rf $(BUILD)
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
