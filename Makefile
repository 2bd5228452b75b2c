# SPDX-License-Identifier: GPL-2.0
#
# vrdma top-level Makefile.
#
#   make [KDIR=...]          build vrdma.ko and all of userspace
#   make VRDMA_REPL=n VRDMA_SLEEP=n  vrdma.ko without replication, without
#                            sleep management (Documentation/architecture.rst)
#   make deps                install build/test dependencies (Debian 12)
#   make check [KVER=..] [T=..]  run the selftests in a VM (see README.md)
#   make check-full [KVER=..] [T=..]  make check with the full versions of
#                            the tests it runs bounded (not in CI)
#   make check-cluster [KVER=..] [T=..]  the multi-VM tests (selftests/cluster/)
#   make bench               run the benchmarks in a VM
#   make fuzz [KVER=..]      the long fuzzing runs in a VM (selftests/fuzz/)
#   make demo                two VMs, the control plane, RDMA between containers
#   make install [DESTDIR=] [PREFIX=]
#   make checkpatch | sparse | clean
#   make ynl-gen | ynl-check  regenerate the netlink code from its spec, or
#                            check that it matches (scripts/ynl-gen.sh)
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

.PHONY: all shadow modules userspace selftests install install-modules \
	install-userspace deps check check-full check-cluster bench fuzz demo checkpatch sparse \
	ynl-gen ynl-check clean

all: modules userspace

# Shadow tree: kbuild writes objects next to the sources, so drivers/ is
# made of real directories holding one symlink per source file, and objects
# and generated files stay in build/<release>.  Refreshed on every build
# (new files); include/ and scripts/ receive no output and are linked whole.
# A drivers symlink left by an older layout is removed first (creating links
# through it would overwrite the sources), and generated files that an older
# build left among the sources are not linked.
shadow:
	@test -n "$(KREL)" || { echo "No kernel headers in KDIR=$(KDIR): run 'make deps'" >&2; exit 1; }
	@mkdir -p $(MODDIR)
	@if [ -L $(MODDIR)/drivers ]; then rm -f $(MODDIR)/drivers; fi
	@for f in Kbuild include scripts; do \
		ln -sfn $(SRCDIR)/$$f $(MODDIR)/$$f; done
	@cd $(SRCDIR) && find drivers $(TEST_MODULES) -type f \( -name '*.[ch]' -o -name Kbuild \) \
		! -name '*.mod.c' ! -name compat-autoconf.h | \
	while read -r f; do \
		mkdir -p $(MODDIR)/$${f%/*} && ln -sfn $(SRCDIR)/$$f $(MODDIR)/$$f; \
	done

# Test modules that kbuild builds with vrdma.ko (VRDMA_TEST_MODULES in
# Kbuild): they use its exports.
TEST_MODULES	:= selftests/repl/kclient

modules: shadow
	$(MAKE) -C $(KDIR) M=$(MODDIR) W=$(W) VRDMA_TEST_MODULES=m modules
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

# KVER: space-separated kernel series to test on: 6.12, 6.1, debug (the
# debug kernel, scripts/debug-kernel.sh).  Default: 6.12 and 6.1 (and with
# VRDMA_DEBUG_LANE=1, for a whole run, the debug kernel over
# selftests/vm/debug-subset).
KVER		?=
T		?=
check:
	@$(SRCDIR)/selftests/vm/check.sh $(if $(KVER),--kver "$(KVER)") $(if $(T),--tests "$(T)")

check-full:
	@$(SRCDIR)/selftests/vm/check.sh --full $(if $(KVER),--kver "$(KVER)") $(if $(T),--tests "$(T)")

# The control plane across several VMs (not part of make check).
check-cluster:
	@$(SRCDIR)/selftests/vm/cluster.sh --kver "$(or $(firstword $(KVER)),6.12)" $(if $(T),--tests "$(T)")

# selftests/bench in one VM, then selftests/bench_cluster on three.
BENCH_1	 = $(filter-out bench_cluster%,$(or $(T),all))
BENCH_N	 = $(if $(T),$(filter bench_cluster%,$(T)),bench_cluster)
bench:
	@rc=0; \
	$(if $(BENCH_1),$(SRCDIR)/selftests/vm/check.sh --bench $(if $(KVER),--kver "$(firstword $(KVER))") $(if $(T),--tests "$(BENCH_1)") || rc=1;) \
	$(if $(BENCH_N),$(SRCDIR)/selftests/vm/cluster.sh --kver "$(or $(firstword $(KVER)),6.12)" --tests "$(BENCH_N)" || rc=1;) \
	exit $$rc

# The long fuzzing runs: selftests/fuzz/ (make check runs short ones).
fuzz:
	@$(SRCDIR)/selftests/vm/check.sh $(if $(KVER),--kver "$(KVER)") --tests "$(if $(T),$(T),fuzz)"

demo:
	@$(SRCDIR)/scripts/demo.sh --kver "$(firstword $(KVER))"

CHECKPATCH	?= $(LINUX_SRC)/scripts/checkpatch.pl
# Generated files (scripts/ynl-gen.sh: "YNL-GEN" banner) are left out.
KSRC_FILES	 = $(shell grep -L '^/\* YNL-GEN ' drivers/vrdma/*.[ch] include/uapi/linux/*.h) \
		   $(wildcard $(addsuffix /*.c,$(TEST_MODULES)))
checkpatch:
	@test -x $(CHECKPATCH) || { echo "checkpatch.pl not found: run 'make deps'" >&2; exit 1; }
	$(CHECKPATCH) --strict --no-tree --show-types --terse -f $(KSRC_FILES)

sparse: shadow
	$(MAKE) -C $(KDIR) M=$(MODDIR) C=2 W=$(W) VRDMA_TEST_MODULES=m modules 2>&1 | tee $(MODDIR)/sparse.log
	@! grep -E 'warning:|error:' $(MODDIR)/sparse.log

# include/uapi/linux/vrdma.h, drivers/vrdma/vrdma-nl.[ch] are generated
# from Documentation/netlink/specs/vrdma.yaml: edit the spec, run ynl-gen.
ynl-gen:
	$(SRCDIR)/scripts/ynl-gen.sh $(LINUX_SRC)

ynl-check:
	$(SRCDIR)/scripts/ynl-gen.sh --check $(LINUX_SRC)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
