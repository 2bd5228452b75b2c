#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "rdma link add NAME type vrdma netdev eth0" run inside a container, with
# ib_core in exclusive netns mode: refused (ib_core asks only CAP_NET_ADMIN,
# which a container may have, and a container must not give itself a device
# outside the operator's limits and VNI; Documentation/security.rst), with
# no device left in either namespace.  vdev/link_test.sh covers shared mode.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
require_root

netns_exclusive || exit "$KSFT_SKIP"

ktap_plan 4
if vrdma_load && topo_hosts 1 && topo_container 1 1 > /dev/null &&
   "$VRDMACTL" phys default rxe1 > /dev/null; then
	ktap_ok "rxe1 (the default physical device) and c1_1"
else
	ktap_fail "rxe1 (the default physical device) and c1_1"
	ktap_finish
fi

defer rdma link del vl1
ktap_check_fails "rdma link add vl1 type vrdma netdev eth0 (inside c1_1) is refused" \
	in_ct c1_1 rdma link add vl1 type vrdma netdev eth0
ktap_check_fails "c1_1 has no vl1" in_ct c1_1 rdma dev show vl1
ktap_check_fails "init_net has no vl1" rdma dev show vl1
ktap_finish
