#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`, inside each of the two VMs (scripts/demo.sh boots them with
# selftests/vm/cluster.sh): each VM is a host with soft-RoCE on its NIC,
# vrdma, an etcd member and vrdma-agent; a container (network namespace)
# is made on each host through CNI (bridge, host-local, vrdma).  Then,
# between the containers, through vrdma: ibv_rc_pingpong, rping and
# ib_write_bw, and the same pingpong and ib_write_bw between the hosts'
# own rxe0 devices (native) for comparison.  Node 1 writes the summary
# that scripts/demo.sh prints; every step is a KTAP check, so any failure
# fails the demo.

. "$(dirname "$0")/../../selftests/cluster/lib.sh"
. "$LIB_DIR/topo.sh"		# gid_index

D=$VRDMA_OUT/demo
mkdir -p "$D"
step() { echo "== $*"; }

ktap_plan 9
step "node $NODE: host up (rxe0 on eth0 $(node_ip "$NODE"), vrdma, etcd member, vrdma-agent)"
ktap_check "node $NODE: host up" node_up
barrier demo.up || { ktap_fail "both hosts up"; ktap_finish; }

pod=c$NODE
step "node $NODE: container $pod through CNI"
ktap_check "node $NODE: container $pod made through CNI" pod_publish "$pod"
dev=$(pod_dev "$pod"); gid=$(pod_gid "$pod")
put "dev.$pod" "$dev"
other=$((3 - NODE))
peer_ip=$(wait_get "ip.c$other" "$other")
wait_mapped() { wait_for 60 map_has "$VNI" "$peer_ip" "$(node_ip "$other")"; }
ktap_check "node $NODE: vrdma-agent mapped c$other ($peer_ip) to host $(node_ip "$other")" wait_mapped
"$VRDMACTL" map | grep -v ' local$' > "$D/map.node$NODE"
"$VRDMACTL" agent status > "$D/agent.node$NODE"
if [ "$NODE" = 2 ]; then
	{
		echo "\$ ip netns exec $pod ibv_devices"
		ip netns exec "$pod" ibv_devices
		echo "\$ ip netns exec $pod ibv_devinfo -d $dev"
		ip netns exec "$pod" ibv_devinfo -d "$dev"
	} > "$D/devices.txt" 2>&1
fi
barrier demo.pods

# run_pair NAME WHERE SERVER_CMD CLIENT_CMD READY_CMD: server on node 2,
# client on node 1; WHERE is "pod" (in the containers) or "host".
run_pair() {
	local name=$1 where=$2 scmd=$3 ccmd=$4 ready=$5 ns=() pid rc
	[ "$where" = pod ] && ns=(ip netns exec "$pod")
	if [ "$NODE" = 2 ]; then
		"${ns[@]}" timeout 120 $scmd > "$D/$name.server" 2>&1 &
		pid=$!
		wait_for 30 bash -c "$ready" && put "ready.$name" ok || put "ready.$name" fail
		wait "$pid"; rc=$?
	else
		[ "$(wait_get "ready.$name" 2)" = ok ] || return 1
		"${ns[@]}" timeout 120 $ccmd > "$D/$name.client" 2>&1; rc=$?
	fi
	[ "$rc" = 0 ] || { tail -n 5 "$D/$name".*; return 1; }
}
tcp_ready() {
	if [ "$2" = pod ]; then
		echo "ip netns exec $pod ss -Hltn 'sport = :$1' | grep -q ."
	else
		echo "ss -Hltn 'sport = :$1' | grep -q ."
	fi
}

srv_ip=$(get ip.c2 2)
hgid=$(gid_index rxe0 "$(node_ip "$NODE")")

step "ibv_rc_pingpong: c1 -> c2 through vrdma, then rxe0 -> rxe0 (native)"
ktap_check "node $NODE: ibv_rc_pingpong between the containers" run_pair pp_vrdma pod \
	"ibv_rc_pingpong -d $dev -g $gid -n 500 -p 18601" \
	"ibv_rc_pingpong -d $dev -g $gid -n 500 -p 18601 $srv_ip" "$(tcp_ready 18601 pod)"
ktap_check "node $NODE: ibv_rc_pingpong between the hosts (native)" run_pair pp_native host \
	"ibv_rc_pingpong -d rxe0 -g $hgid -n 500 -p 18602" \
	"ibv_rc_pingpong -d rxe0 -g $hgid -n 500 -p 18602 $(node_ip 2)" "$(tcp_ready 18602 host)"

step "rping: c1 -> c2 through vrdma (rdma_cm, the connection set-up tunnelled)"
ktap_check "node $NODE: rping between the containers" run_pair rping pod \
	"rping -s -a $srv_ip -C 20" "rping -c -a $srv_ip -C 20" \
	"ip netns exec $pod rdma res show cm_id | grep -q LISTEN"

step "ib_write_bw: c1 -> c2 through vrdma, then rxe0 -> rxe0 (native)"
ktap_check "node $NODE: ib_write_bw between the containers" run_pair bw_vrdma pod \
	"ib_write_bw -d $dev -x $gid -F -s 65536 -n 400 -p 18603" \
	"ib_write_bw -d $dev -x $gid -F -s 65536 -n 400 -p 18603 $srv_ip" "$(tcp_ready 18603 pod)"
ktap_check "node $NODE: ib_write_bw between the hosts (native)" run_pair bw_native host \
	"ib_write_bw -d rxe0 -x $hgid -F -s 65536 -n 400 -p 18604" \
	"ib_write_bw -d rxe0 -x $hgid -F -s 65536 -n 400 -p 18604 $(node_ip 2)" "$(tcp_ready 18604 host)"
barrier demo.done

# --- the summary (node 1) ----------------------------------------------------------
lat() { sed -n 's/.* = \([0-9.]*\) usec\/iter.*/\1/p' "$D/$1.client"; }
tput() { sed -n 's/.* = \([0-9.]*\) Mbit\/sec.*/\1/p' "$D/$1.client"; }
bw() { awk '$1 == 65536 && NF >= 5 { print $4 }' "$D/$1.client" | tail -n 1; }
if [ "$NODE" = 1 ]; then
	{
		echo "================= vrdma demo: summary ================="
		echo "Two hosts, each a VM with its own kernel, joined by a virtual"
		echo "Ethernet; soft-RoCE (rxe0) on each NIC; etcd on both; vrdma-agent"
		echo "on both; one container per host, made by the CNI chain"
		echo "bridge + host-local + vrdma.  No map entry was typed by hand."
		echo
		echo "Hosts and containers:"
		printf '  %-6s %-10s %-5s  %-3s %-11s device %s\n' node1 "$(node_ip 1)" rxe0 c1 "$(get ip.c1 1)" "$(get dev.c1 1)"
		printf '  %-6s %-10s %-5s  %-3s %-11s device %s\n' node2 "$(node_ip 2)" rxe0 c2 "$(get ip.c2 2)" "$(get dev.c2 2)"
		echo
		echo "Inside container c2 (node2): its own RDMA device only:"
		sed 's/^/  /' "$D/devices.txt" | grep -E '^\s+(\$|device|-+|vrp|hca_id|\s+(transport|state|link_layer|port:|active_mtu))' | head -n 14
		echo
		echo "Overlay -> host translations (each host's kernel map, written by vrdma-agent from etcd):"
		sed 's/^/  node1: /' "$D/map.node1"
		sed 's/^/  node2: /' "$D/map.node2"
		echo
		echo "Between the containers through vrdma, next to the hosts' native rxe0:"
		printf '  %-34s %16s %16s\n' "" "vrdma (c1->c2)" "native (rxe0)"
		printf '  %-34s %13s us %13s us\n' "ibv_rc_pingpong latency (4 KiB)" "$(lat pp_vrdma)" "$(lat pp_native)"
		printf '  %-34s %11s Mb/s %11s Mb/s\n' "ibv_rc_pingpong throughput" "$(tput pp_vrdma)" "$(tput pp_native)"
		printf '  %-34s %11s MB/s %11s MB/s\n' "ib_write_bw 64 KiB, average" "$(bw bw_vrdma)" "$(bw bw_native)"
		printf '  %-34s %16s\n' "rping (rdma_cm), 20 pings" "ok"
		echo
		echo "(Software RoCE under CPU emulation: absolute numbers mean little,"
		echo " the comparison with native on the same emulated wire does.)"
		echo "Logs: build/vm/cluster-*/ (node*/tests.log, share/demo/, share/agent-node*.log)"
	} > "$D/summary.txt"
fi

# Leave the hosts clean for the module's unload.
cleanup() {
	pod_del "$CONFLIST" "$pod" && barrier demo.clean && agent_stop "$AGENT_LOG" && etcd_stop "$ETCD_DATA"
}
ktap_check "node $NODE: container deleted, agent and etcd stopped" cleanup
ktap_finish
