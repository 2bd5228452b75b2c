#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Faults of the control plane, across separate kernels, one pod per node
# to begin with:
#
# 1. vrdma-agent killed (SIGKILL) on nodes 1 and 2 while an RC connection
#    between their pods runs: the kernel maps stay, the restarted agents
#    reconcile without a change, and the connection completes.
# 2. One etcd member killed (node 3's): nothing changes in the maps, and a
#    new pod still reaches every other node; the member then rejoins.
# 3. A pod deleted through CNI: its entry leaves every other node's map,
#    and a new rdma_cm connection to it is refused at once (unreachable),
#    not left to time out.

. "$(dirname "$0")/lib.sh"

# Part 1 checks that a restart shorter than the lease changes nothing.
# Under TCG a restart takes seconds (15-25 s seen with two agents
# restarting at once): the cluster's 6 s lease (short for
# hostkill_test) would expire meanwhile, and the other hosts drop the
# host's endpoints until it is back, as they must.  Here the agents hold
# a lease that outlasts such a restart; the next test's agents take the
# cluster's again (a restart with another lease-ttl takes a new lease).
LEASE_TTL=30

ktap_plan 6

node_up && pod_publish "$(my_pod f1)" && barrier faults.up ||
	{ ktap_fail "nodes up, a pod on each"; ktap_finish; }
pod=$(my_pod f1)
dev=$(pod_dev "$pod")
gid=$(pod_gid "$pod")
map_snapshot() {	# the explicit entries (local ones follow the pods)
	"$VRDMACTL" -j map show | jq -c '[.[] | select(.flags // [] | index("local") | not)] | sort_by(.vni, .addr)'
}

# --- 1. agents killed and restarted under a running connection -----------------
if [ "$NODE" = 1 ] || [ "$NODE" = 2 ]; then
	before=$(map_snapshot)
	ip=$(wait_get ip.n2f1 2)
	if [ "$NODE" = 2 ]; then
		ip netns exec "$pod" timeout 240 ibv_rc_pingpong -d "$dev" -g "$gid" \
			-n 10000 -p 18520 -e > /tmp/long.server 2>&1 &
		ppid=$!
		wait_for 30 bash -c "ip netns exec $pod ss -Hltn 'sport = :18520' | grep -q ." &&
			put ready.long ok
	else
		wait_get ready.long 2 > /dev/null
		ip netns exec "$pod" timeout 240 ibv_rc_pingpong -d "$dev" -g "$gid" \
			-n 10000 -p 18520 -e "$ip" > /tmp/long.client 2>&1 &
		ppid=$!
		# Connected: the TCP exchange is over once the QP is up.
		wait_for 30 bash -c "! ip netns exec $pod ss -Htn 'dport = :18520' | grep -q ESTAB"
	fi
	agent_stop "$AGENT_LOG" KILL
	sleep 1		# the agent is really gone for a while
	kill -0 "$ppid" 2>/dev/null && conn_alive=1 || conn_alive=
	after_kill=$(map_snapshot)
	restarted=$(date +%s%N)
	agent_start "$AGENT_CONF" "$AGENT_LOG" && ready=1 || ready=
	ktap_diag "agent restarted, ready after $((($(date +%s%N) - restarted) / 1000000)) ms (lease TTL ${LEASE_TTL}s)"
	check_agent() {
		local now
		[ -n "$ready" ] || { echo "the agent did not get ready"; return 1; }
		[ "$after_kill" = "$before" ] || { echo "map changed when the agent died"; return 1; }
		now=$(map_snapshot)
		[ "$now" = "$before" ] || {
			echo "map changed after the restart: $before -> $now"
			grep -e '"event":"lease"' -e '"event":"map-del"' "$AGENT_LOG" | tail -n 5
			return 1
		}
		# The restart's reconcile added and removed nothing.
		tail -n 50 "$AGENT_LOG" | grep '"event":"reconciled"' | tail -n 1 |
			grep -q '"added":0,"removed":0'
	}
	ktap_check "node $NODE: agent killed and restarted: map untouched, reconciled without changes" check_agent
	wait "$ppid"; rc=$?
	ktap_diag "$(tail -n 2 /tmp/long.*)"
	[ "$rc" = 0 ] && [ -n "$conn_alive" ] &&
		ktap_ok "node $NODE: the RC connection ran through the agent restart (10000 iterations)" ||
		ktap_fail "node $NODE: the RC connection ran through the agent restart (exit $rc)"
else
	ktap_ok "agent restart (nodes 1 and 2 only)"
	ktap_ok "connection through the agent restart (nodes 1 and 2 only)"
fi
barrier faults.agents

# --- 2. one etcd member dies ---------------------------------------------------------
before=$(map_snapshot)
barrier faults.snap
if [ "$NODE" = 3 ]; then
	etcd_stop "$ETCD_DATA" KILL
	put etcd3 dead
fi
wait_get etcd3 3 > /dev/null
# A new pod on node 1 while the member is down.
if [ "$NODE" = 1 ]; then
	pod_publish "$(my_pod f2)" || ktap_diag "pod $(my_pod f2) failed"
fi
check_member_down() {
	local ip
	ip=$(wait_get ip.n1f2 1) || return
	if [ "$NODE" != 1 ]; then
		wait_for 60 map_has "$VNI" "$ip" "$(node_ip 1)" ||
			{ echo "$ip not in the map"; return 1; }
	fi
	# Nothing else changed.
	[ "$(map_snapshot | jq -c --arg a "$ip" 'map(select(.addr != $a))')" = "$before" ]
}
ktap_check "node $NODE: etcd member of node 3 killed: maps unchanged, a new pod converges" check_member_down
barrier faults.member
if [ "$NODE" = 3 ]; then
	etcd_start "etcd3" "$ETCD_DATA" "https://$(node_ip 3):2379,https://127.0.0.1:2379" \
		"http://$(node_ip 3):2380" \
		"etcd1=http://$(node_ip 1):2380,etcd2=http://$(node_ip 2):2380,etcd3=http://$(node_ip 3):2380" \
		"$ETCD_TLS" existing
	local_member() { ETCD_EPS=127.0.0.1:2379 ectl get /vrdma/hosts/node1 | grep -q node1; }
	ktap_check "node 3: the etcd member rejoined and serves" wait_for 90 local_member
else
	ktap_ok "etcd member restart (node 3 only)"
fi
barrier faults.rejoin

# --- 3. a pod deleted -----------------------------------------------------------------
gone=$(get ip.n2f1 2)
if [ "$NODE" = 2 ]; then
	ktap_check "node 2: pod $pod deleted through CNI" pod_del "$CONFLIST" "$pod"
	put deleted ok
else
	wait_get deleted 2 > /dev/null
	ktap_check "node $NODE: the deleted pod's entry left the map" \
		wait_for 60 map_lacks "$VNI" "$gone"
fi
refused() {	# rdma_cm to the deleted pod: unreachable at once
	local t0=$SECONDS out
	out=$(ip netns exec "$pod" timeout 60 rping -c -a "$gone" -C 1 2>&1) &&
		{ echo "rping connected: $out"; return 1; }
	echo "$out" | tail -n 3
	echo "refused after $((SECONDS - t0)) s"
	[ $((SECONDS - t0)) -lt 30 ]
}
if [ "$NODE" = 1 ]; then
	ktap_check "node 1: a new connection to the deleted pod is refused (not a timeout)" refused
else
	ktap_ok "connection refusal (node 1 only)"
fi
barrier faults.done
node_down
ktap_finish
