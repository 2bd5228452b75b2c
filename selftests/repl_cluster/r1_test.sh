#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Issue 14, R1: the authority's host crashes while the group is still at
# epoch 1 and the group is re-created there.  Two kernels (cluster.sh
# --nodes 2), the group's default configuration:
#
#   node1 10.99.0.1: member 0 (the head), the authority (the first
#                    member's address), the client agent
#   node2 10.99.0.2: member 1 (the tail)
#
# 1. 100 gWRITEs complete (epoch 1, nothing else ever changed).
# 2. node1 "crashes": its group is deleted (the authority, member 0 and the
#    agent vanish without a message, as with a power loss) and created
#    again at once with the same command: a new authority, at epoch 1, and
#    a new member 0 on its old backing file.  node2 keeps its state.
# 3. 300 gWRITEs of distinct words through the re-created group.
#
# Checked: every operation reported complete is in every replica (node2's
# backing file, read there; node1's once member 0 is active again), all
# 300 complete, and the two replicas end byte-identical.  Before the fix,
# the new member 0 took its stale file as up to date ("genesis"), the
# old tail dropped the new operations 1..100 as already applied and
# acknowledged them: 100 operations reported complete that node2 never
# applied.
. "$(dirname "$0")/../cluster/lib.sh"
. "$(dirname "$0")/../repl/repl_lib.sh"
REPL_TOOL=$(cd "$(dirname "$0")/../repl" && pwd)/repl_tool
require_root

ktap_plan 8

G=r1
PRE=100			# operations before the crash (words at 0)
POST=300		# after it (words at 65536)
A1=$(node_ip 1) A2=$(node_ip 2)
DIR=/var/tmp/r1
FILE=$DIR/$G-$(node_ip "$NODE").img
on_node() { [ "$NODE" = "$1" ]; }
client_up() { [ "$(repl_client_state "$G")" = active ]; }
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
group_add() {
	"$VRDMACTL" repl group add "$G" members "$A1,$A2" size 1M \
		file "$DIR/$G-%a.img"
}
member_state() { repl_field "$G" "$(($1 - 1))" state; }
up_here() {	# this node's member active (and, on node1, the agent)
	[ "$(member_state "$NODE")" = active ] || return
	on_node 1 || return 0
	[ "$(repl_client_state "$G")" = active ]
}

if [ "$NODE" -gt 2 ]; then
	for i in 1 2 3 4 5 6 7 8; do not_here "R1 step $i"; done
	ktap_finish
fi
defer "$VRDMACTL" repl group del "$G"
defer vrdma_unload

ktap_check "node $NODE up: rxe0, vrdma with the cluster key" setup
barrier r1.setup 120
on_node 2 && group_add
barrier r1.node2 60
on_node 1 && group_add
if wait_for 60 up_here && barrier r1.up 120; then
	ktap_ok "group $G active, member $((NODE - 1)) at epoch $(repl_field "$G" "$((NODE - 1))" epoch)"
else
	repl_diag "$G"
	ktap_fail "group $G active"
	ktap_finish
fi

# 1. Operations before the crash.
if on_node 1; then
	"$REPL_TOOL" stamp "$G" $PRE 0 1000 60 > "$RDV/r1.pre.out" 2> "$RDV/r1.pre.err"
	rc=$?
	ktap_diag "$(head -n 1 "$RDV/r1.pre.out") $(cat "$RDV/r1.pre.err")"
	[ $rc = 0 ] && ktap_ok "$PRE gWRITEs completed before the crash" ||
		ktap_fail "$PRE gWRITEs completed before the crash"
	put r1.pre 1
else
	wait_get r1.pre 1 120 > /dev/null
	not_here "$PRE gWRITEs completed before the crash"
fi
ktap_check "the $PRE words are in member $((NODE - 1))'s replica" \
	"$REPL_TOOL" verify-stamp "$FILE" 0 1000 < "$RDV/r1.pre.out"
on_node 2 && put r1.epoch "$(repl_field "$G" 1 epoch)/$(repl_field "$G" 1 applied)"
barrier r1.pre 120

# 2. node1 crashes and its group is created again, on the same files.
if on_node 1; then
	st=$(wait_get r1.epoch 2 10)
	"$VRDMACTL" repl group del "$G" && group_add
	ktap_diag "$(dmesg | grep "repl $G" | tail -n 4)"
	[ "${st%/*}" = 1 ] &&
		ktap_ok "crash and re-creation of node1 while node2 is at epoch 1 (epoch/applied $st)" ||
		ktap_fail "crash and re-creation of node1 while node2 is at epoch 1 (epoch/applied $st)"
else
	not_here "crash and re-creation of node1"
fi

# 3. Operations through the re-created group.
if on_node 1; then
	wait_for 30 client_up
	t0=$(date +%s)
	"$REPL_TOOL" stamp "$G" $POST 65536 5000 60 > "$RDV/r1.post.out" 2> "$RDV/r1.post.err"
	rc=$?
	ktap_diag "$(head -n 1 "$RDV/r1.post.out") in $(($(date +%s) - t0)) s $(cat "$RDV/r1.post.err")"
	put r1.post 1
	[ $rc = 0 ] && ktap_ok "$POST gWRITEs through the re-created group completed" ||
		ktap_fail "$POST gWRITEs through the re-created group completed"
else
	wait_get r1.post 1 150 > /dev/null
	not_here "$POST gWRITEs through the re-created group completed"
fi
# Every node: once its member is active again (node1's may rejoin), and
# the replicas settled (node2 copies its own after node1's is active).
wait_for 60 up_here
on_node 1 && put r1.settled 1
on_node 2 && wait_get r1.settled 1 90 > /dev/null
ktap_diag "$(dmesg | grep "repl $G" | tail -n 12)"
repl_diag "$G"
ktap_check "every operation reported complete is in member $((NODE - 1))'s replica" \
	"$REPL_TOOL" verify-stamp "$FILE" 65536 5000 < "$RDV/r1.post.out"

# The replicas, compared byte for byte.
cp "$FILE" "$RDV/r1.replica.$NODE" && put r1.copied 1
if on_node 1; then
	wait_get r1.copied 2 60 > /dev/null
	ktap_check "the two replicas are byte-identical" \
		cmp "$RDV/r1.replica.1" "$RDV/r1.replica.2"
else
	not_here "the two replicas are byte-identical"
fi
barrier r1.end 120
ktap_finish
