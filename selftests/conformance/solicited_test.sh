#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Solicited-only CQ arming (solicited.py): on native soft-RoCE first, which
# proves the checks right, then on a vrdma device in a container.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
. "$(dirname "$0")/conformance_lib.sh"
require_root
require_pyverbs
netns_exclusive || exit "$KSFT_SKIP"

ktap_plan 3
conf_setup
conf_check "solicited-only arming on native rxe1" "" solicited.py rxe1 "$(host_gid_index 1)"
conf_check "solicited-only arming on vr1_1" \
	c1_1 solicited.py vr1_1 "$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")"
ktap_finish
