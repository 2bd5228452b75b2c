#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# verbs_test's rc.dereg_mr_in_flight, again and again, on a vrdma device
# in a container: 32 RDMA reads and writes are posted and their memory
# region is deregistered while they are in flight; every one of them must
# complete (successfully, then with errors), each run.  What the race
# depends on (how far the physical RNIC got when the region went away)
# differs from run to run: one run of vdev_test.sh proves little.
# Afterwards rxe1 holds nothing the tests created.
#
# DEREG_RUNS (default 10) sets the number of runs.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/verbs_lib.sh"
require_root
require_verbs_test

runs=${DEREG_RUNS:-10}
ktap_plan 2
vrdma_load && topo_hosts 1 && topo_container 1 1 > /dev/null ||
	{ echo "Bail out! setup"; exit 1; }
vdev_add vr1_1 c1_1 1 || { echo "Bail out! dev add"; exit 1; }
gid4=$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")
phys_dev=$(rdma_counts "" rxe1)

failed=0
for ((i = 1; i <= runs; i++)); do
	t0=$SECONDS
	if run_verbs_test c1_1 vr1_1 "$gid4" eth0 1 120 -t dereg_mr_in_flight > "/tmp/dereg_mr.$$" 2>&1; then
		echo "# run $i: ok ($((SECONDS - t0))s): $(grep -o '[0-9]* completed, [0-9]* failed' "/tmp/dereg_mr.$$")"
	else
		failed=$((failed + 1))
		echo "# run $i: FAILED ($((SECONDS - t0))s)"
		sed 's/^/# /' "/tmp/dereg_mr.$$"
	fi
done
rm -f "/tmp/dereg_mr.$$"
if [ "$failed" -eq 0 ]; then
	ktap_ok "dereg_mr_in_flight: failed 0 of $runs"
else
	ktap_fail "dereg_mr_in_flight: failed $failed of $runs"
fi
wait_counts "" rxe1 "$phys_dev" && ktap_ok "no physical objects left on rxe1" ||
	{ ktap_diag "before: $phys_dev" "after: $(rdma_counts "" rxe1)"; ktap_fail "no physical objects left on rxe1"; }

ktap_finish
