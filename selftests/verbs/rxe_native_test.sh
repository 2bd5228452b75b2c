#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# verbs_test against native soft-RoCE (rxe1 of a one-host topology): proves
# the test program right before it judges vrdma devices.  Its vrdma-only
# checks (hostile ring contents, which native rxe trusts) skip here, each
# with its reason.  It runs through rxe1's IPv4 GID, then, for the tests
# where the address family matters, through an IPv6 one.  Afterwards rxe1
# holds no object the tests created.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/verbs_lib.sh"
require_root
require_verbs_test

ADDR6=fd00:99::1

ktap_plan 4

if ! topo_hosts 1 || ! host_self_local 1 ||
   ! ip addr add "$ADDR6/64" dev h1 nodad || ! wait_for 10 gid_index rxe1 "$ADDR6"; then
	ktap_fail "one host with soft-RoCE device rxe1 (IPv4 and IPv6 GIDs)"
	ktap_finish
fi
ktap_ok "one host with soft-RoCE device rxe1 (IPv4 and IPv6 GIDs)"

before=$(rdma_counts "" rxe1)
if run_verbs_test "" rxe1 "$(host_gid_index 1)" h1 0 800; then
	ktap_ok "verbs_test on rxe1 through its IPv4 GID"
else
	ktap_fail "verbs_test on rxe1 through its IPv4 GID"
fi

if run_verbs_test "" rxe1 "$(gid_index rxe1 "$ADDR6")" h1 0 400 "${V6_TESTS[@]}"; then
	ktap_ok "verbs_test on rxe1 through its IPv6 GID"
else
	ktap_fail "verbs_test on rxe1 through its IPv6 GID"
fi

if [ -z "$before" ]; then
	ktap_skip "no objects left on rxe1" "rdma resource show gives no counts"
elif wait_counts "" rxe1 "$before"; then
	ktap_ok "no objects left on rxe1 ($before)"
else
	ktap_diag "before: $before" "after:  $(rdma_counts "" rxe1)"
	ktap_fail "no objects left on rxe1"
fi

ktap_finish
