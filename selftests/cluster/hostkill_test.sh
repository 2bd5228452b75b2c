#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A host dies (the last test of the cluster run): node 3's VM is killed by
# the runner (SIGKILL to its qemu: no shutdown, no deregistration).  Its
# lease expires within the TTL, etcd drops its host record and endpoints,
# and the other nodes' agents remove its pods from their kernel maps.
# etcd keeps its quorum (2 of 3 members).  Then the survivors clean up.

. "$(dirname "$0")/lib.sh"

ktap_plan 4

node_up && pod_publish "$(my_pod k1)" && barrier hostkill.up ||
	{ ktap_fail "nodes up, a pod on each"; ktap_finish; }
victim=$NODES
if [ "$NODE" = "$victim" ]; then
	echo "# node $NODE: dying now"
	echo "VRDMA-CLUSTER-KILL"
	sleep 600
	exit 1
fi

vip=$(get "ip.n${victim}k1" "$victim")
wait_for 60 test -e "$RDV/killed.$victim" || { ktap_fail "node $victim killed"; ktap_finish; }
t0=$(date +%s%N)
ktap_check "node $NODE: node $victim's pod $vip still mapped at first" map_has "$VNI" "$vip" "$(node_ip "$victim")"
expired() {
	wait_for $((LEASE_TTL + 30)) map_lacks "$VNI" "$vip" || return
	local ms=$((($(date +%s%N) - t0) / 1000000))
	echo "gone from the map ${ms} ms after the kill (lease TTL ${LEASE_TTL}s)"
	[ "$ms" -le $(((LEASE_TTL + 15) * 1000)) ]
}
ktap_check "node $NODE: node $victim's endpoints left the map within the lease TTL" expired
no_host() {
	ectl put /vrdma-test/quorum "$NODE" > /dev/null &&
	[ -z "$(ectl get --prefix /vrdma/hosts/node$victim --keys-only)" ] &&
	[ -z "$(ectl get --prefix /vrdma/endpoints/ | grep "\"host\":\"node$victim\"")" ]
}
ktap_check "node $NODE: etcd keeps quorum, node $victim's records are gone" no_host
barrier hostkill.seen

cleanup() { node_down; }	# the pods through CNI, agent and etcd
ktap_check "node $NODE: pods deleted through CNI, agent and etcd stopped" cleanup
ktap_finish
