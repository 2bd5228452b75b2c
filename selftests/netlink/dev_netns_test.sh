#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vrdmactl dev add and ib_core's network namespace modes.  In shared mode
# (the default) the new device is visible everywhere and nothing is moved.
# In exclusive mode vrdmactl moves it into the container's namespace
# (RDMA_NLDEV_CMD_SET, NET_NS_FD): only that namespace sees it, and the
# namespace can be given as a name or as a pid.  The mode can only change
# while no other network namespace exists; the test is skipped if one
# lingers.  KTAP output; exits 4 (skip) if vrdma cannot be loaded.

vrdmactl_override=${VRDMACTL:-}
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/topo.sh"
VRDMACTL=${vrdmactl_override:-$VRDMACTL}

set -u

readonly DEV=vr_nstest

netns_mode() { rdma system show 2>/dev/null | sed -n 's/.*netns \([a-z]*\).*/\1/p'; }
set_mode() { rdma system set netns "$1" > /dev/null 2>&1 && [ "$(netns_mode)" = "$1" ]; }
# rdma dev [in container C]: is device $DEV listed?
listed() { rdma dev 2>/dev/null | grep -q ": $DEV:"; }
listed_in() { ip netns exec "$1" rdma dev 2>/dev/null | grep -q ": $DEV:"; }

require_root
# shellcheck disable=SC2119 # no module parameters
vrdma_load > /dev/null 2>&1
if ! module_loaded vrdma || ! command -v rdma > /dev/null ||
   [ ! -x "$VRDMACTL" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP needs the vrdma module, rdma and vrdmactl"
	exit "$KSFT_SKIP"
fi
mode=$(netns_mode)
if [ "$mode" != shared ] && [ "$mode" != exclusive ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP cannot read the RDMA netns mode"
	exit "$KSFT_SKIP"
fi

ktap_plan 7

if ! topo_hosts 1 > /dev/null; then
	echo "Bail out! topology setup failed"
	exit 1
fi

# Shared mode: the device is created and visible from init_net and from
# the container.
if [ "$mode" = shared ]; then
	topo_container 1 1 > /dev/null
	if out=$("$VRDMACTL" dev add $DEV netns c1_1 netdev eth0 phys rxe1 2>&1) &&
	   wait_for 5 listed && listed_in c1_1; then
		ktap_ok "shared mode: dev add, visible everywhere"
	else
		ktap_diag "$out" "$(rdma dev)"
		ktap_fail "shared mode: dev add, visible everywhere"
	fi
	"$VRDMACTL" dev del $DEV > /dev/null 2>&1
	ip link del c1_1p
	ip netns del c1_1
else
	ktap_skip "shared mode: dev add, visible everywhere" "the host is in exclusive mode"
fi

# Exclusive mode, once the namespaces above are gone.
if ! wait_for 20 set_mode exclusive; then
	for t in "exclusive mode: dev add" "device only in its namespace" \
		 "vrdma still lists it" "dev del" "namespace given as a pid" \
		 "back to shared mode"; do
		ktap_skip "$t" "cannot set exclusive mode (network namespaces exist)"
	done
	ktap_finish
fi
defer "wait_for 20 set_mode $mode"

topo_container 1 1 > /dev/null
if out=$("$VRDMACTL" dev add $DEV netns c1_1 netdev eth0 phys rxe1 2>&1); then
	ktap_ok "exclusive mode: dev add"
else
	ktap_diag "$out"
	ktap_fail "exclusive mode: dev add"
fi
if wait_for 5 listed_in c1_1 && ! listed; then
	ktap_ok "device only in its namespace"
else
	ktap_diag "init_net: $(rdma dev)" "c1_1: $(ip netns exec c1_1 rdma dev)"
	ktap_fail "device only in its namespace"
fi
ktap_check "vrdma still lists it" bash -c "'$VRDMACTL' dev show $DEV | grep -q '$DEV:'"
if out=$("$VRDMACTL" dev del $DEV 2>&1) && ! listed_in c1_1 && ! listed; then
	ktap_ok "dev del"
else
	ktap_diag "$out"
	ktap_fail "dev del"
fi

# NETNS as the pid of a process in the namespace.
ip netns exec c1_1 sleep 60 &
pid=$!
defer "kill $pid"
in_c1_1() { [ "$(readlink "/proc/$pid/ns/net")" = "$(ip netns exec c1_1 readlink /proc/self/ns/net)" ]; }
if wait_for 5 in_c1_1 &&
   out=$("$VRDMACTL" dev add $DEV netns "$pid" netdev eth0 phys rxe1 2>&1) &&
   wait_for 5 listed_in c1_1 && ! listed; then
	ktap_ok "namespace given as a pid"
else
	ktap_diag "$out"
	ktap_fail "namespace given as a pid"
fi
"$VRDMACTL" dev del $DEV > /dev/null 2>&1
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

ip link del c1_1p
ip netns del c1_1
if [ "$mode" = exclusive ] || wait_for 20 set_mode shared; then
	ktap_ok "back to shared mode"
else
	ktap_fail "back to shared mode"
fi
ktap_finish
