#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Solicited-only CQ arming (solicited.py): on native soft-RoCE first, which
# proves the checks right, then on a vrdma device in a container.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
require_root

PY=/usr/bin/python3
PROG=$(cd "$(dirname "$0")" && pwd)/solicited.py
"$PY" -c 'import pyverbs.cq' 2> /dev/null ||
	{ echo "# python3-pyverbs is not installed"; exit "$KSFT_SKIP"; }
netns_exclusive || exit "$KSFT_SKIP"

ktap_plan 3
if vrdma_load && topo_hosts 1 && topo_container 1 1 > /dev/null && host_self_local 1 &&
   vdev_add vr1_1 c1_1 1 && map_add "$(ct_addr 1 1)" 1; then
	ktap_ok "rxe1 in init_net, vr1_1 in c1_1"
else
	ktap_fail "rxe1 in init_net, vr1_1 in c1_1"
	ktap_finish
fi

# run NETNS DEV GID_INDEX
run() {
	run_in "$1" timeout -k 5 300 "$PY" "$PROG" "$2" "$3" 2>&1 | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

if run "" rxe1 "$(host_gid_index 1)"; then
	ktap_ok "solicited-only arming on native rxe1"
else
	ktap_fail "solicited-only arming on native rxe1"
fi
if run c1_1 vr1_1 "$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")"; then
	ktap_ok "solicited-only arming on vr1_1"
else
	ktap_fail "solicited-only arming on vr1_1"
fi
ktap_finish
