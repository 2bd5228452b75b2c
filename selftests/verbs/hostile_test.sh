#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a hostile process can make the kernel do through its rings is
# bounded (verbs_test's ring_srq_err_once and ring_refill_budget, on a
# vrdma device in a container; vdev_test.sh runs them among all the
# others):
#   - invalid SRQ WQEs raise IBV_EVENT_SRQ_ERR once, not once each;
#   - one scan of the receive rings takes a bounded number of WQEs.
# Afterwards the device and rxe1 hold nothing the tests created.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/verbs_lib.sh"
require_root
require_verbs_test

ktap_plan 3
vrdma_load && topo_hosts 1 && topo_container 1 1 > /dev/null ||
	{ echo "Bail out! setup"; exit 1; }
phys_before=$(rdma_counts "" rxe1)
vdev_add vr1_1 c1_1 1 || { echo "Bail out! dev add"; exit 1; }
gid4=$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")
phys_dev=$(rdma_counts "" rxe1)

run_verbs_test c1_1 vr1_1 "$gid4" eth0 1 300 -t ring_srq_err_once -t ring_refill_budget &&
	ktap_ok "verbs_test ring_srq_err_once ring_refill_budget" ||
	ktap_fail "verbs_test ring_srq_err_once ring_refill_budget"
wait_counts "" rxe1 "$phys_dev" && ktap_ok "no physical objects left on rxe1" ||
	{ ktap_diag "before: $phys_dev" "after: $(rdma_counts "" rxe1)"; ktap_fail "no physical objects left on rxe1"; }
"$VRDMACTL" dev del vr1_1 && wait_counts "" rxe1 "$phys_before" &&
	ktap_ok "deleting vr1_1 released everything on rxe1" ||
	ktap_fail "deleting vr1_1 released everything on rxe1"

ktap_finish
