#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module lifecycle: vrdma loads and unloads cleanly, over and over; while
# loaded its generic netlink family is registered with the controller and
# its rdma link type autoloads it.  Leaks and warnings are caught by the
# module's own leak audit (run on unload) and the runner's kernel log check.
. "$(dirname "$0")/../lib/lib.sh"
require_root

CYCLES=20

family_registered() { genl ctrl list 2>/dev/null | grep -q 'Name: vrdma$'; }
family_absent() { ! family_registered; }

ktap_plan 7

vrdma_unload
ktap_check "modprobe vrdma" modprobe vrdma
ktap_check "the load is logged" bash -c "dmesg | grep -q 'vrdma: loaded'"
ktap_check "generic netlink family vrdma is registered" family_registered

cycle_ok=1
for ((i = 1; i <= CYCLES; i++)); do
	if ! rmmod vrdma || ! family_absent || module_loaded vrdma ||
	   ! modprobe vrdma || ! family_registered; then
		ktap_diag "cycle $i failed"
		cycle_ok=0
		break
	fi
done
if [ $cycle_ok = 1 ]; then ktap_ok "$CYCLES unload/load cycles"; else ktap_fail "$CYCLES unload/load cycles"; fi

ktap_check "rmmod vrdma" rmmod vrdma
ktap_check "family gone after unload" family_absent

# "rdma link add ... type vrdma" asks the kernel for module rdma-link-vrdma
# (MODULE_ALIAS_RDMA_LINK): the module must load by itself.  Whether the
# link is created is tested with the virtual device; only the autoload
# matters here.
modprobe ib_core
rdma link add vrdma_autoload type vrdma netdev lo > /dev/null 2>&1
rdma link del vrdma_autoload > /dev/null 2>&1
ktap_check "rdma link type vrdma autoloads the module" module_loaded vrdma

ktap_finish
