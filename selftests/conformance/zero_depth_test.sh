#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Zero-depth queues (max_send_wr = 0, max_recv_wr = 0) through verbs and
# rdma_cm (zero_depth.py): on native soft-RoCE first, which proves the
# checks right, then on a vrdma device in a container.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
. "$(dirname "$0")/conformance_lib.sh"
require_root
require_pyverbs
netns_exclusive || exit "$KSFT_SKIP"

ktap_plan 3
conf_setup
conf_check "zero-depth queues on native rxe1" "" zero_depth.py rxe1 "$(host_addr 1)"
conf_check "zero-depth queues on vr1_1" c1_1 zero_depth.py vr1_1 "$(ct_addr 1 1)"
ktap_finish
