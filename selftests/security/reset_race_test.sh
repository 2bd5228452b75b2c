#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reset RC QPs while their peers send to them (reset_race), on a vrdma
# device, then on the physical devices themselves:
#
#   c1_1 vr11 -- rxe1 (loopback);  rxe1 -- rxe2 (hosts 1 and 2, native)
#
# RESET_RACE_ON=vrdma or native runs one of them (each in its own VM run
# tells more: a broken rxe spoils what follows).  Each run lasts
# RESET_RACE_SECONDS (30) and must end in time with the kernel log free of
# refcount warnings.  A diagnostic (TEST_PROGS_DIAG: make check
# T=security/reset_race_test.sh), in no test list: rdma_rxe before its
# task rework (Debian's 6.1) fails it natively and through vrdma alike
# (Documentation/testing.rst, "Known kernel bugs").
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/reset_race
SECS=${RESET_RACE_SECONDS:-30}
ON=${RESET_RACE_ON:-vrdma native}

ktap_plan $(wc -w <<< "$ON")
topo_hosts 2 || { echo "Bail out! setup"; exit 1; }
topo_container 1 1 > /dev/null

# check DESC NETNS ARGS...: the run (in container NETNS, or the host's
# namespace when it is empty) ends in time, no refcount warning.
check() {
	local desc=$1 ns=$2 out rc n0 n
	shift 2
	n0=$(dmesg | grep -c 'refcount_t:')
	out=$(${ns:+ip netns exec "$ns"} timeout -k 10 $((SECS + 60)) "$TOOL" "$@" "$SECS" 2>&1)
	rc=$?
	n=$(( $(dmesg | grep -c 'refcount_t:') - n0 ))
	ktap_diag "$desc:" "$out" "refcount warnings: $n"
	[ $rc -eq 0 ] && grep -q '^done' <<< "$out" && [ "$n" = 0 ] &&
		ktap_ok "$desc" || ktap_fail "$desc (exit $rc)"
}

if [[ " $ON " == *" vrdma "* ]]; then
	vrdma_unload
	vrdma_load || { echo "Bail out! modprobe"; exit 1; }
	"$VRDMACTL" dev add vr11 netns c1_1 netdev eth0 phys rxe1 ||
		{ echo "Bail out! dev add"; exit 1; }
	gidx() { in_ct c1_1 bash -c ". $LIB_DIR/topo.sh; gid_index vr11 $(ct_addr 1 1)"; }
	wait_for 20 gidx || { echo "Bail out! vr11 has no GID"; exit 1; }
	gidx=$(gidx)
	check "vr11 over rxe1: QPs reset while packets arrive, refcounts intact" \
		c1_1 vr11 "$gidx" vr11 "$gidx"
	"$VRDMACTL" dev del vr11
	vrdma_unload
fi
if [[ " $ON " == *" native "* ]]; then
	check "native rxe1 -- rxe2: QPs reset while packets arrive, refcounts intact" \
		"" rxe1 "$(host_gid_index 1)" rxe2 "$(host_gid_index 2)"
fi
ktap_finish
