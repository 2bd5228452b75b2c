#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# verbs_test inside a container, against the container's vrdma device:
# the same ibverbs checks native soft-RoCE passes (rxe_native_test.sh),
# plus the vrdma-only ones (VERBS_VRDMA=1: hostile ring contents), through
# the container's IPv4 GID and then its IPv6 GID (an IPv6 overlay over an
# IPv4 physical network: the GRH a UD receive shows must still be the
# overlay's).  Afterwards neither the virtual device nor the physical one
# holds an object the tests created, and deleting the device releases
# everything it had on the physical device.
#
# ib_core must be in exclusive netns mode, which can only be set before
# any namespace exists: the test skips when that is not possible.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/verbs_lib.sh"
require_root
require_verbs_test

netns_exclusive || exit "$KSFT_SKIP"

ktap_plan 8

if ! vrdma_load; then
	ktap_fail "modprobe vrdma"
	ktap_finish
fi
if ! topo_hosts 1 || ! topo_container 1 1 > /dev/null; then
	ktap_fail "host 1 (rxe1) and container c1_1"
	ktap_finish
fi
phys_before=$(rdma_counts "" rxe1)

# The control plane maps every container's address, its own included: a
# UD receiver learns its sender's overlay address from the map.
if vdev_add vr1_1 c1_1 1 && map_add "$(ct_addr 1 1)" 1; then
	ktap_ok "vrdmactl dev add vr1_1 netns c1_1 netdev eth0 phys rxe1"
else
	ktap_fail "vrdmactl dev add vr1_1 netns c1_1 netdev eth0 phys rxe1"
	ktap_finish
fi

devs=$(in_ct c1_1 ibv_devices 2>&1 | awk 'NR > 2 { print $1 }' | xargs)
if [ "$devs" = vr1_1 ]; then
	ktap_ok "c1_1 sees vr1_1 only"
else
	ktap_fail "c1_1 sees vr1_1 only (ibv_devices: $devs)"
fi

gid4=$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")
gid6=$(wait_for 10 ct_gid_index c1_1 vr1_1 "$(ct_addr6 1 1)" &&
       ct_gid_index c1_1 vr1_1 "$(ct_addr6 1 1)")
ct_before=$(rdma_counts c1_1 vr1_1)
phys_dev=$(rdma_counts "" rxe1)

if run_verbs_test c1_1 vr1_1 "$gid4" eth0 1 1000; then
	ktap_ok "verbs_test on vr1_1 through its IPv4 GID"
else
	ktap_fail "verbs_test on vr1_1 through its IPv4 GID"
fi

if [ -z "$gid6" ]; then
	ktap_fail "verbs_test on vr1_1 through its IPv6 GID (no GID of $(ct_addr6 1 1))"
elif run_verbs_test c1_1 vr1_1 "$gid6" eth0 1 600 "${V6_TESTS[@]}"; then
	ktap_ok "verbs_test on vr1_1 through its IPv6 GID"
else
	ktap_fail "verbs_test on vr1_1 through its IPv6 GID"
fi

if [ -z "$ct_before" ]; then
	ktap_skip "no objects left on vr1_1" "rdma resource show gives no counts in c1_1"
elif wait_counts c1_1 vr1_1 "$ct_before"; then
	ktap_ok "no objects left on vr1_1 ($ct_before)"
else
	ktap_diag "before: $ct_before" "after:  $(rdma_counts c1_1 vr1_1)"
	ktap_fail "no objects left on vr1_1"
fi

if wait_counts "" rxe1 "$phys_dev"; then
	ktap_ok "no physical objects left on rxe1 ($phys_dev)"
else
	ktap_diag "before: $phys_dev" "after:  $(rdma_counts "" rxe1)"
	ktap_fail "no physical objects left on rxe1"
fi

if "$VRDMACTL" dev del vr1_1 && wait_for 10 bash -c "! ip netns exec c1_1 ls /sys/class/infiniband/vr1_1"; then
	ktap_ok "vrdmactl dev del vr1_1"
else
	ktap_fail "vrdmactl dev del vr1_1"
fi

if wait_counts "" rxe1 "$phys_before"; then
	ktap_ok "deleting vr1_1 released its physical objects ($phys_before)"
else
	ktap_diag "before dev add: $phys_before" "now: $(rdma_counts "" rxe1)"
	ktap_fail "deleting vr1_1 released its physical objects"
fi

ktap_finish
