#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The control plane end to end, across separate kernels: every node (VM)
# brings up its host (rxe, vrdma, an etcd member, vrdma-agent), makes a
# pod through the CNI chain (bridge, host-local, vrdma) and nothing else:
# no map entry is typed anywhere.  Then the agents must have put every
# other node's pod into this kernel's map, and ibv_rc_pingpong,
# ibv_ud_pingpong and rping must work between pods of different nodes.

. "$(dirname "$0")/lib.sh"

ktap_plan 8

ktap_check "node $NODE up: rxe0, vrdma, etcd member, vrdma-agent" node_up
barrier e2e.up || { ktap_fail "all nodes up"; ktap_finish; }

pod=$(my_pod p1)
ktap_check "pod $pod made through CNI (bridge, host-local, vrdma)" pod_publish "$pod"
dev=$(pod_dev "$pod")
gid=$(pod_gid "$pod")
ktap_diag "pod $pod: $(pod_ip "$pod") device ${dev:-none} GID index ${gid:-none}"

check_result() {	# the CNI result names the device, in the pod's netns
	jqe --arg d "$dev" --arg ns "/run/netns/$pod" \
		'.interfaces[] | select(.name == $d and .sandbox == $ns)' \
		< "/run/cni/$pod.result"
}
ktap_check "the CNI result lists device $dev" check_result

check_isolated() {	# exclusive mode: the pod sees its own device only
	local devs
	devs=$(ip netns exec "$pod" ibv_devices | awk 'NR > 2 { print $1 }')
	echo "devices in $pod: $devs"
	[ "$devs" = "$dev" ]
}
ktap_check "ibv_devices in the pod shows $dev only" check_isolated

barrier e2e.pods

check_maps() {	# every other node's pod, via that node's RNIC address
	local i ip
	for i in $(alive_nodes); do
		[ "$i" = "$NODE" ] && continue
		ip=$(wait_get "ip.n${i}p1" "$i") || return
		wait_for 60 map_has "$VNI" "$ip" "$(node_ip "$i")" ||
			{ echo "no map entry $ip via $(node_ip "$i")"; "$VRDMACTL" map; return 1; }
		grep -q " $VNI $ip " /run/vrdma-agent/map.journal ||
			{ echo "$ip is not in the agent's journal"; return 1; }
	done
}
ktap_check "the agent put every other node's pod into the kernel map" check_maps
ktap_diag "$("$VRDMACTL" map)"

# traffic NAME SERVER_NODE CLIENT_NODE SERVER_CMD CLIENT_CMD: run a
# client-server pair between two nodes' pods; WAIT_CMD says the server is
# ready.  @IP@ is replaced by the server pod's address, @DEV@/@GID@ by the
# local pod's device and GID index.
traffic() {
	local name=$1 srv=$2 cli=$3 scmd=$4 ccmd=$5 wait=$6 ip rc
	[ "$NODE" = "$srv" ] || [ "$NODE" = "$cli" ] || { ktap_ok "$name (not on this node)"; return; }
	ip=$(wait_get "ip.n${srv}p1" "$srv")
	scmd=${scmd//@IP@/$ip}; scmd=${scmd//@DEV@/$dev}; scmd=${scmd//@GID@/$gid}
	ccmd=${ccmd//@IP@/$ip}; ccmd=${ccmd//@DEV@/$dev}; ccmd=${ccmd//@GID@/$gid}
	if [ "$NODE" = "$srv" ]; then
		ip netns exec "$pod" timeout 120 $scmd > "/tmp/$name.server" 2>&1 &
		local pid=$!
		if ! wait_for 30 bash -c "$wait"; then
			kill "$pid"
			ktap_diag "$(cat "/tmp/$name.server")"
			ktap_fail "$name server on node $NODE listens"
			put "ready.$name" fail
			return
		fi
		put "ready.$name" ok
		wait "$pid"; rc=$?
		ktap_diag "$(tail -n 3 "/tmp/$name.server")"
		[ "$rc" = 0 ] && ktap_ok "$name server on node $NODE" ||
			ktap_fail "$name server on node $NODE (exit $rc)"
	else
		[ "$(wait_get "ready.$name" "$srv")" = ok ] ||
			{ ktap_fail "$name client on node $NODE: no server"; return; }
		ip netns exec "$pod" timeout 120 $ccmd > "/tmp/$name.client" 2>&1; rc=$?
		ktap_diag "$(tail -n 3 "/tmp/$name.client")"
		[ "$rc" = 0 ] && ktap_ok "$name client on node $NODE -> node $srv ($ip)" ||
			ktap_fail "$name client on node $NODE -> node $srv ($ip) (exit $rc)"
	fi
}

last=$NODES
ud_srv=$last; [ "$ud_srv" = 2 ] && ud_srv=1
listen_tcp() { echo "ip netns exec $pod ss -Hltn 'sport = :$1' | grep -q ."; }
listen_cm() { echo "ip netns exec $pod rdma res show cm_id | grep -q LISTEN"; }

traffic rc_pingpong 2 1 \
	"ibv_rc_pingpong -d @DEV@ -g @GID@ -n 200 -p 18515" \
	"ibv_rc_pingpong -d @DEV@ -g @GID@ -n 200 -p 18515 @IP@" "$(listen_tcp 18515)"
traffic ud_pingpong "$ud_srv" 2 \
	"ibv_ud_pingpong -d @DEV@ -g @GID@ -n 200 -s 512 -p 18516" \
	"ibv_ud_pingpong -d @DEV@ -g @GID@ -n 200 -s 512 -p 18516 @IP@" "$(listen_tcp 18516)"
traffic rping 1 "$last" \
	"rping -s -a @IP@ -C 20" \
	"rping -c -a @IP@ -C 20" "$(listen_cm)"

ktap_diag "$("$VRDMACTL" agent status)"
barrier e2e.done
node_down
ktap_finish
