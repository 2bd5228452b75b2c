#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "rdma link add NAME type vrdma netdev eth0" run inside a container, with
# ib_core in exclusive netns mode: the device must be in the container's
# namespace (the netdev's), where its owner can see it, use it and delete
# it, and not in init_net.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
require_root

netns_exclusive || exit "$KSFT_SKIP"

ktap_plan 6
if vrdma_load && topo_hosts 1 && topo_container 1 1 > /dev/null &&
   "$VRDMACTL" phys default rxe1 > /dev/null; then
	ktap_ok "rxe1 (the default physical device) and c1_1"
else
	ktap_fail "rxe1 (the default physical device) and c1_1"
	ktap_finish
fi

defer rdma link del vl1
defer in_ct c1_1 rdma link del vl1
ktap_check "rdma link add vl1 type vrdma netdev eth0 (inside c1_1)" \
	in_ct c1_1 rdma link add vl1 type vrdma netdev eth0

if wait_for 10 in_ct c1_1 rdma dev show vl1; then
	ktap_ok "c1_1 sees vl1"
else
	ktap_diag "c1_1: $(in_ct c1_1 rdma dev show 2>&1)" "init_net: $(rdma dev show 2>&1)"
	ktap_fail "c1_1 sees vl1"
fi
ktap_check_fails "init_net does not see vl1" rdma dev show vl1
out=$(in_ct c1_1 ibv_devinfo -d vl1 2>&1)
if grep -q 'state:.*PORT_ACTIVE' <<< "$out"; then
	ktap_ok "ibv_devinfo -d vl1 in c1_1: port active"
else
	ktap_diag "$out"
	ktap_fail "ibv_devinfo -d vl1 in c1_1: port active"
fi
ktap_check "rdma link del vl1 (inside c1_1)" in_ct c1_1 rdma link del vl1
ktap_finish
