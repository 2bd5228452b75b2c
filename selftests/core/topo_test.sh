#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test topology itself (selftests/lib/topo.sh): three simulated hosts
# whose soft-RoCE devices talk over the bridge (and really cross it), and
# containers on the overlay that reach each other across hosts.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

ktap_plan 9

# Not through ktap_check: its $(...) would lose the deferred cleanup.
if topo_hosts 3; then ktap_ok "three hosts with rxe devices"; else ktap_fail "three hosts with rxe devices"; fi
for h in 1 2 3; do
	[ "$(cat /sys/class/infiniband/rxe$h/ports/1/state 2>/dev/null)" = "4: ACTIVE" ] ||
		{ ktap_fail "rxe$h ACTIVE"; continue; }
	ktap_ok "rxe$h ACTIVE"
done

# RC ping-pong between host 1 and host 3: their packets cross phys-br.
gid1=$(host_gid_index 1) gid3=$(host_gid_index 3)
tx1=$(host_tx_packets 1) tx3=$(host_tx_packets 3)
ibv_rc_pingpong -d rxe3 -g "$gid3" -n 50 > /tmp/pp-srv.log 2>&1 &
srv=$!
wait_listen 18515
ktap_check "ibv_rc_pingpong between host 1 and host 3" \
	timeout 60 ibv_rc_pingpong -d rxe1 -g "$gid1" -n 50 "$(host_addr 3)"
wait $srv || ktap_diag "server: $(cat /tmp/pp-srv.log)"
d1=$(( $(host_tx_packets 1) - tx1 )) d3=$(( $(host_tx_packets 3) - tx3 ))
if [ "$d1" -ge 50 ] && [ "$d3" -ge 50 ]; then
	ktap_ok "RoCE packets crossed the wire (h1 sent $d1, h3 sent $d3)"
else
	ktap_fail "RoCE packets crossed the wire (h1 sent $d1, h3 sent $d3)"
fi

topo_container 1 1 > /dev/null && topo_container 2 1 > /dev/null
ktap_check "containers reach each other over IPv4 across hosts" \
	in_ct c1_1 ping -c 1 -W 5 "$(ct_addr 2 1)"
ktap_check "containers reach each other over IPv6 across hosts" \
	in_ct c2_1 ping -6 -c 1 -W 5 "$(ct_addr6 1 1)"

cleanup_removes_topology() {
	run_deferred
	local left
	left=$(ip rule show | grep -c 'oif h[0-9]')
	[ "$left" -eq 0 ] && ! ip link show phys-br > /dev/null 2>&1
}
ktap_check "cleanup removes the topology" cleanup_removes_topology

ktap_finish
