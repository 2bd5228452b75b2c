#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Issue 14, R5: two hosts that configure a group under the same name and
# region size but otherwise differently must not form a chain.  Two
# kernels (cluster.sh --nodes 2), the authority on node1:
#
#   node1 10.99.0.1: group r5, members 10.99.0.1,10.99.0.2, authority
#                    10.99.0.1: member 0, the authority, the client agent
#   node2 10.99.0.2: group r5, members 10.99.0.1,10.99.0.2,10.99.0.3 (one
#                    more member), the same authority and size: member 1
#
# Member 1 has the same index and address in both configurations, so a
# check of only the name, size and sender's address takes node2's
# heartbeats: member 1 joins a chain whose length, tail and quorum the two
# hosts see differently.  Checked:
#   1. node1 refuses node2's messages (configuration hash): they are
#      counted (config_mismatches) and logged, member 1 stays out of
#      node1's chain and node2's member 1 never becomes active;
#   2. the positive control: node2 re-creates the group with node1's
#      configuration; member 1 joins and 20 gWRITEs from node1 reach
#      node2's replica.
. "$(dirname "$0")/../cluster/lib.sh"
. "$(dirname "$0")/../repl/repl_lib.sh"
REPL_TOOL=$(cd "$(dirname "$0")/../repl" && pwd)/repl_tool
require_root

ktap_plan 7

G=r5
A1=$(node_ip 1) A2=$(node_ip 2) A3=$(node_ip 3)
DIR=/var/tmp/r5
FILE=$DIR/$G-$(node_ip "$NODE").img
on_node() { [ "$NODE" = "$1" ]; }
not_here() { ktap_ok "$1 (not on node $NODE)"; }

setup() {
	if [ ! -e /run/vrdma-node-host ]; then
		node_net && modprobe rdma_rxe &&
		rdma link add rxe0 type rxe netdev eth0 &&
		touch /run/vrdma-node-host || return
	fi
	vrdma_unload && modprobe vrdma ctrl_key="$REPL_KEY" || return
	rm -rf "$DIR" && mkdir -p "$DIR"
}
group_add() {	# group_add MEMBERS
	"$VRDMACTL" repl group add "$G" members "$1" size 1M \
		file "$DIR/$G-%a.img" authority "$A1"
}
gfield() {	# gfield KEY: a field of the group
	repl_json "$G" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)[0].get(sys.argv[1]))' "$1"
}
mismatches_at_least() { [ "$(gfield config_mismatches)" -ge "$1" ] 2> /dev/null; }
member_state() { repl_field "$G" "$(($1 - 1))" state; }
sole_here() {	# node1: member 0 active alone, the agent active
	[ "$(member_state 1)" = active ] &&
	[ "$(repl_field "$G" 0 role)" = sole ] &&
	[ "$(repl_client_state "$G")" = active ]
}
chain_of_two() {	# this node's member active in a chain of two
	[ "$(member_state "$NODE")" = active ] &&
	[ "$(repl_field "$G" 0 role)" = head ] &&
	[ "$(repl_field "$G" 1 role)" = tail ] || return
	on_node 1 || return 0
	[ "$(repl_client_state "$G")" = active ]
}

if [ "$NODE" -gt 2 ]; then
	for i in 1 2 3 4 5 6 7; do not_here "R5 step $i"; done
	ktap_finish
fi
defer "$VRDMACTL" repl group del "$G"
defer vrdma_unload

ktap_check "node $NODE up: rxe0, vrdma with the cluster key" setup
barrier r5.setup 120

# 1. Same name and size, another member list.
if on_node 2; then
	ktap_check "node2: group $G with 3 members ($A1,$A2,$A3)" \
		group_add "$A1,$A2,$A3"
	barrier r5.node2 60
else
	barrier r5.node2 60
	mark=$(dmesg | wc -l)
	ktap_check "node1: group $G with 2 members ($A1,$A2)" \
		group_add "$A1,$A2"
fi
if on_node 1; then
	# Node2 heartbeats every repl_hb_ms (member 1 and its agent): at
	# least 10 messages refused within 15 s.
	wait_for 30 sole_here
	if wait_for 15 mismatches_at_least 10; then
		ktap_ok "node1 refuses and counts node2's messages (config_mismatches $(gfield config_mismatches))"
	else
		ktap_diag "$(dmesg | grep "repl $G" | tail -n 12)"
		ktap_fail "node1 refuses and counts node2's messages (config_mismatches $(gfield config_mismatches))"
	fi
	line=$(dmesg | tail -n +"$((mark + 1))" |
	       grep "repl $G: refused a message from ::ffff:$A2 sent under another configuration" |
	       head -n 1)
	ktap_diag "$line"
	ktap_diag "node1 config_hash $(gfield config_hash)"
	[ -n "$line" ] && ktap_ok "node1 logs the refusal" ||
		ktap_fail "node1 logs the refusal"
	repl_diag "$G"
	if sole_here && [ "$(repl_field "$G" 1 role)" = out ]; then
		ktap_ok "member 1 is out of node1's chain (member 0 sole)"
	else
		ktap_fail "member 1 is out of node1's chain (member 0 $(repl_field "$G" 0 role), member 1 $(repl_field "$G" 1 role))"
	fi
	put r5.judged 1
else
	not_here "node1 refuses and counts node2's messages"
	not_here "node1 logs the refusal"
	wait_get r5.judged 1 90 > /dev/null
	repl_diag "$G"
	ktap_diag "node2 config_hash $(gfield config_hash)"
	st=$(member_state 2)
	[ "$st" != active ] &&
		ktap_ok "node2's member 1 never joined (state $st)" ||
		ktap_fail "node2's member 1 never joined (state $st)"
fi
barrier r5.mismatch 120

# 2. The positive control: node2 takes node1's configuration.
on_node 2 && { "$VRDMACTL" repl group del "$G"; group_add "$A1,$A2"; }
if wait_for 60 chain_of_two; then
	ktap_ok "with the same configuration, member $((NODE - 1)) is active in a chain of two"
else
	repl_diag "$G"
	ktap_fail "with the same configuration, member $((NODE - 1)) is active in a chain of two"
fi
barrier r5.joined 120
if on_node 1; then
	"$REPL_TOOL" stamp "$G" 20 0 1000 60 > "$RDV/r5.out" 2> "$RDV/r5.err"
	rc=$?
	ktap_diag "$(head -n 1 "$RDV/r5.out") $(cat "$RDV/r5.err")"
	put r5.ops "$rc"
	[ $rc = 0 ] && ktap_ok "20 gWRITEs completed" ||
		ktap_fail "20 gWRITEs completed"
else
	rc=$(wait_get r5.ops 1 120)
	if [ "$rc" = 0 ]; then
		ktap_check "the 20 words are in member 1's replica" \
			"$REPL_TOOL" verify-stamp "$FILE" 0 1000 < "$RDV/r5.out"
	else
		ktap_fail "the 20 words are in member 1's replica (node1's gWRITEs failed: ${rc:-none})"
	fi
fi
barrier r5.end 120
ktap_finish
