#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `rdma resource` links each object of a container's virtual device to
# the physical object that carries it (Documentation/observability.rst):
# with -dd the virtual QPs, CQs, MRs (and on kernels that have the
# operation, SRQs) name the physical device and the physical object's
# number, and the objects of a PD its physical PD; on the host, those
# physical objects are owned by "vrdma:<device>".  When the programs exit,
# and when the device is deleted under a running one, the physical objects
# go (nothing of the device is left on the host).
#
#   h1 10.99.0.1 rxe1: c1_1 10.244.1.1 (vr1_1)
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$LIB_DIR/../verbs/verbs_lib.sh"
require_root

TMO=300
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

for p in ibv_rc_pingpong ibv_srq_pingpong; do
	command -v "$p" > /dev/null || { echo "# $p not installed"; exit "$KSFT_SKIP"; }
done
netns_exclusive || exit "$KSFT_SKIP"

tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"


# dump: the resources as the container and the host see them.
dump() {
	local t
	for t in qp cq mr pd $srq; do
		in_ct c1_1 rdma -j -dd resource show "$t" > "$tmp/v_$t.json" || return 1
		rdma -j -dd resource show "$t" > "$tmp/p_$t.json" || return 1
	done
}

# owned TYPE: the host's objects of that type owned by vrdma:vr1_1.
owned() {
	rdma -j resource show "$1" | "$PY" -c '
import json, sys
t = sys.stdin.read().strip()
print(len([e for e in (json.loads(t) if t else []) if "vrdma:vr1_1" in str(e.get("comm"))]))'
}
owned_all() { echo "qp $(owned qp) cq $(owned cq) mr $(owned mr) pd $(owned pd)"; }
none_owned() { [ "$(owned_all)" = "qp 0 cq 0 mr 0 pd 0" ]; }

# servers: an RC ping-pong server and an SRQ ping-pong server (two QPs on
# one SRQ) in c1_1, waiting for their clients with their objects created
# (rdma-core's examples create them before they listen; perftest's tools
# only after a client connected).
servers() {
	ip netns exec c1_1 timeout -k 5 "$TMO" ibv_rc_pingpong -d vr1_1 -g "$gid" -p 18515 \
		> "$tmp/rc.log" 2>&1 &
	rcpp=$!
	ip netns exec c1_1 timeout -k 5 "$TMO" ibv_srq_pingpong -d vr1_1 -g "$gid" -p 18516 -q 2 \
		> "$tmp/srq.log" 2>&1 &
	srqpp=$!
	listening c1_1 18515 "$rcpp" && listening c1_1 18516 "$srqpp"
}
servers_stop() {
	kill "$rcpp" "$srqpp" 2> /dev/null
	wait "$rcpp" "$srqpp" 2> /dev/null
}

ktap_plan 6

if vrdma_load && topo_hosts 1 && topo_container 1 1 > /dev/null && vdev_add vr1_1 c1_1 1; then
	gid=$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")
	# Whether the loaded module has the SRQ operation: built only where
	# ib_core has it (scripts/compat-probe.sh, fill_res_srq_entry).  Asked
	# of the module itself, not of a build folder.
	srq=
	grep -q '[[:space:]]vrdma_fill_res_srq_entry[[:space:]]*\[vrdma\]' /proc/kallsyms && srq=srq
	ktap_diag "fill_res_srq_entry: ${srq:-no}"
	ktap_ok "rxe1, c1_1 with vr1_1"
else
	ktap_fail "rxe1, c1_1 with vr1_1"
	ktap_finish
fi

if servers && dump; then
	ktap_diag "c1_1: $(in_ct c1_1 rdma -dd resource show qp | head -n 4)"
	ktap_diag "host: $(rdma resource show qp | grep vrdma | head -n 4)"
	"$PY" "$HERE/res_check.py" "$tmp" vr1_1 rxe1 $srq > "$tmp/check" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp/check"
	if [ $rc -eq 0 ]; then
		ktap_ok "every virtual object names its physical one, owned by vrdma:vr1_1 ($(grep -c '^ok' "$tmp/check") checks)"
	else
		ktap_fail "every virtual object names its physical one, owned by vrdma:vr1_1"
	fi
else
	ktap_diag "$(tail -n 3 "$tmp/rc.log" "$tmp/srq.log")"
	ktap_fail "servers in c1_1 and the resource dumps"
fi
if [ -n "$srq" ]; then
	if grep -q "^ok .*srq" "$tmp/check"; then
		ktap_ok "SRQs too (fill_res_srq_entry)"
	else
		ktap_fail "SRQs too (fill_res_srq_entry)"
	fi
else
	ktap_skip "SRQs too" "this kernel's ib_core has no fill_res_srq_entry"
fi
servers_stop

# The programs gone, only ib_mad's PD (the emulated QP1's) remains.
qps_gone() { [ "$(owned qp)" = 0 ]; }
if wait_for 30 qps_gone &&
   [ "$(owned_all)" = "qp 0 cq 0 mr 0 pd 1" ]; then
	ktap_ok "programs gone: no physical QP, CQ or MR of vr1_1 left, one PD (ib_mad's)"
else
	ktap_fail "programs gone: $(owned_all) of vr1_1 left on rxe1"
fi

# Deleted while a program runs: everything of the device goes.
servers
before=$(owned_all)
"$VRDMACTL" dev del vr1_1
if wait_for 30 none_owned; then
	ktap_ok "device deleted under its programs: nothing of vr1_1 left on rxe1 (before: $before)"
else
	ktap_fail "device deleted under its programs: $(owned_all) left (before: $before)"
fi
servers_stop
if none_owned; then
	ktap_ok "and nothing after they exit"
else
	ktap_fail "and nothing after they exit: $(owned_all)"
fi

ktap_finish
