#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The vrdma CNI plugin, chained after bridge and host-local and run the
# way a container runtime runs a network configuration list (cni.py):
# ADD, CHECK, DEL and VERSION; two pods of one host talking RDMA through
# their devices; bad network configurations and arguments, a namespace
# that does not exist, ADD twice, DEL of an unknown pod, the agent not
# running, etcd unreachable at pod creation (nothing half-created), a
# namespace deleted without DEL, and a non-root client of the agent.

# One etcd member is enough here (agent_test fails members over): a
# faster start under emulation.
ETCD_MEMBERS=1
. "$(dirname "$0")/lib.sh"

ktap_plan 20

cplane_start "host up: rxe1, vrdma, an etcd member (TLS), agent ready"
PLUGIN=$SRC_DIR/userspace/cni/vrdma

# plugin CMD CONFIG [CID [NETNS [IFNAME [ARGS]]]]: the vrdma plugin alone.
plugin() {
	printf '%s' "$2" | env CNI_COMMAND="$1" CNI_CONTAINERID="${3-cid1}" \
		CNI_NETNS="${4-/run/netns/pod1}" CNI_IFNAME="${5-eth0}" \
		CNI_ARGS="${6-}" CNI_PATH="$CNI_PATH" "$PLUGIN"
}
# The error object of a failing call must carry CODE and TEXT.
cni_err() {	# cni_err CODE TEXT CMD CONFIG [ARGS...]
	local code=$1 text=$2 out
	shift 2
	out=$(plugin "$@" 2>/dev/null) && { echo "succeeded: $out"; return 1; }
	echo "$out"
	echo "$out" | jqe --argjson c "$code" --arg t "$text" \
		'.code == $c and (.msg | contains($t)) and .cniVersion != null' > /dev/null
}

# --- pods through the chain -------------------------------------------------------
add_pod() {
	local res
	res=$(pod_add "$CONFLIST" "$1") || { echo "$res"; return 1; }
	echo "$res" | jq -c .
	echo "$res" | jqe --arg ns "/run/netns/$1" \
		'.interfaces | map(select(.sandbox == $ns)) | length == 2' > /dev/null
}
ktap_check "ADD through bridge, host-local, vrdma: pod1" add_pod pod1
ktap_check "ADD: pod2" add_pod pod2
ip1=$(pod_ip pod1); ip2=$(pod_ip pod2)
dev1=$(pod_dev pod1); dev2=$(pod_dev pod2)
published() {
	ectl get "/vrdma/endpoints/$VNI/$ip1" --print-value-only |
		jqe --arg d "$dev1" '.host == "h1" and .via == "10.99.0.1" and .dev == $d and .pod == "pod1"' &&
	ectl get /vrdma/pods/h1/pod1/eth0 --print-value-only |
		jqe '.k8s_name == "pod1" and .k8s_namespace == "default"'
}
ktap_check "the endpoint of pod1 ($ip1 -> 10.99.0.1) and its pod record are in etcd" published
ktap_check "CHECK passes" python3 "$CNI_PY" check "$CONFLIST" pod1 /run/netns/pod1 eth0

local_traffic() {	# two pods of one host: local entries, no map needed
	local g1 g2 pid rc
	g1=$(pod_gid pod1); g2=$(pod_gid pod2)
	ip netns exec pod2 timeout 60 ibv_rc_pingpong -d "$dev2" -g "$g2" -n 50 > "$CP/pp.srv" 2>&1 &
	pid=$!
	wait_for 20 bash -c "ip netns exec pod2 ss -Hltn 'sport = :18515' | grep -q ." || return
	ip netns exec pod1 timeout 60 ibv_rc_pingpong -d "$dev1" -g "$g1" -n 50 "$ip2" || return
	wait "$pid"
}
ktap_check "ibv_rc_pingpong between pod1 ($dev1) and pod2 ($dev2)" local_traffic

# --- bad input ------------------------------------------------------------------
prev='{"cniVersion":"1.0.0","interfaces":[{"name":"cni0"},{"name":"eth0","sandbox":"/run/netns/ghost"}],"ips":[{"address":"10.244.1.200/24","interface":1}]}'
good='"cniVersion":"1.0.0","name":"rdmanet","type":"vrdma","vni":100'
bad_configs() {
	cni_err 6 "not one JSON object: unexpected end of input" ADD '{"cniVersion":' &&
	cni_err 6 "trailing data" ADD "{$good}{}" &&
	cni_err 1 'CNI version "0.3.1" is not supported' ADD '{"cniVersion":"0.3.1","name":"x","type":"vrdma"}' &&
	cni_err 2 'unknown field "vnii"' ADD "{$good,\"vnii\":1}" &&
	cni_err 7 '"vni" must be an integer from 0 to 16777215 (got 16777216)' ADD '{"cniVersion":"1.0.0","name":"x","type":"vrdma","vni":16777216}' &&
	cni_err 7 '"vni" must be an integer' ADD '{"cniVersion":"1.0.0","name":"x","type":"vrdma","vni":"100"}' &&
	cni_err 7 '"mode" must be' ADD "{$good,\"mode\":\"private\"}" &&
	cni_err 7 '"type" is "bridge", not "vrdma"' ADD '{"cniVersion":"1.0.0","name":"x","type":"bridge"}' &&
	cni_err 7 'no prevResult: vrdma is a chained plugin' ADD "{$good}" &&
	cni_err 7 'prevResult has no address for interface eth0' ADD \
		"{$good,\"prevResult\":{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/run/netns/pod1\"}]}}" &&
	cni_err 7 'prevResult has no interface eth0 in the pod' ADD "{$good,\"prevResult\":$prev}"
}
ktap_check "malformed network configurations: CNI errors 1, 2, 6, 7 with clear messages" bad_configs
bad_args() {
	cni_err 4 'CNI_COMMAND "FROB" is not ADD, DEL, CHECK or VERSION' FROB "{$good}" &&
	cni_err 4 'CNI_CONTAINERID "../x"' ADD "{$good}" ../x &&
	cni_err 4 'CNI_CONTAINERID is not set' ADD "{$good}" "" &&
	cni_err 4 'CNI_IFNAME "averyveryverylongname" is not an interface name' ADD "{$good}" c /run/netns/pod1 averyveryverylongname &&
	cni_err 4 'CNI_NETNS "pod1" is not an absolute path' ADD "{$good}" c pod1 &&
	cni_err 2 'CNI_ARGS: unknown argument "FOO"' ADD "{$good}" c /run/netns/pod1 eth0 "FOO=1" &&
	cni_err 4 'CNI_ARGS: "K8S_POD_NAME" is not KEY=VALUE' ADD "{$good}" c /run/netns/pod1 eth0 "K8S_POD_NAME"
}
ktap_check "bad CNI_* arguments: CNI errors 2 and 4" bad_args
version() {
	plugin VERSION '{"cniVersion":"1.0.0"}' | jqe '.supportedVersions | index("1.0.0")'
}
ktap_check "VERSION lists 1.0.0" version

no_netns() {	# prevResult naming a namespace that does not exist
	local p=${prev//10.244.1.200/10.244.1.201}
	cni_err 102 "network namespace /run/netns/ghost: No such file or directory" \
		ADD "{$good,\"prevResult\":$p}" ghost /run/netns/ghost eth0
}
ktap_check "a pod namespace that does not exist: clear error" no_netns
twice() {
	local n
	n=$("$VRDMACTL" dev show | grep -c vrp)
	cni_err 103 "container pod1 interface eth0 already has device $dev1 (ADD twice without DEL)" \
		ADD "{$good,\"prevResult\":$(cat "$CNI_CACHE_DIR/rdmanet-pod1-eth0.json")}" pod1 /run/netns/pod1 eth0 &&
	[ "$("$VRDMACTL" dev show | grep -c vrp)" = "$n" ]
}
ktap_check "ADD twice: refused, no second device" twice
ktap_check "DEL of an unknown pod succeeds and does nothing" plugin DEL "{$good}" nosuchpod /run/netns/nosuchpod

# --- deletion ------------------------------------------------------------------------
del_pod() {
	pod_del "$CONFLIST" pod2 || return
	[ -z "$(ectl get "/vrdma/endpoints/$VNI/$ip2" --print-value-only)" ] &&
	[ -z "$(ectl get /vrdma/pods/h1/pod2/eth0 --print-value-only)" ] &&
	! "$VRDMACTL" dev show "$dev2" 2>/dev/null &&
	plugin DEL "{$good}" pod2 /run/netns/pod2	# again: idempotent
}
ktap_check "DEL: device, endpoint and record gone; DEL again succeeds" del_pod

# --- faults ------------------------------------------------------------------------
etcd_down() {	# etcd unreachable at pod creation
	local out rc before
	before=$("$VRDMACTL" dev show | grep -c vrp)
	for i in $ETCD_IDS; do etcd_member_stop "$i" KILL; done
	ip netns add pod3
	out=$(python3 "$CNI_PY" add "$CONFLIST" pod3 /run/netns/pod3 eth0 2>/dev/null); rc=$?
	echo "$out"
	python3 "$CNI_PY" del "$CONFLIST" pod3 /run/netns/pod3 eth0 > /dev/null 2>&1
	ip netns del pod3
	[ "$rc" != 0 ] &&
	echo "$out" | jqe '.code == 11 and (.msg | test("^etcd is unreachable, nothing was created: "))' > /dev/null &&
	[ "$("$VRDMACTL" dev show | grep -c vrp)" = "$before" ]
}
ktap_check "etcd unreachable at pod creation: CNI error 11, no device made" etcd_down
for i in $ETCD_IDS; do etcd_member_start "$i" existing; done
wait_for 120 etcd_healthy
ktap_check "etcd back: pod3 made through CNI" wait_for 60 add_pod pod3
two_records() {	# pod1 and pod3: nothing of the failed attempt
	ectl get --prefix /vrdma/pods/ --keys-only | grep .
	[ "$(ectl get --prefix /vrdma/pods/ --keys-only | grep -c .)" = 2 ]
}
ktap_check "...and nothing of the failed attempt is left in etcd" two_records

ep_absent() { [ -z "$(ectl get "/vrdma/endpoints/$VNI/$1" --print-value-only)" ]; }
gone_ns() {	# the namespace deleted without CNI DEL: the agent notices
	local ip3
	ip3=$(pod_ip pod3)
	ip netns del pod3
	wait_for 30 ep_absent "$ip3" &&
	agent_log_has "$AGENT_LOG" pod-gone '"container":"pod3"'
}
ktap_check "a namespace deleted without DEL: the agent withdraws its endpoint" gone_ns
python3 "$CNI_PY" del "$CONFLIST" pod3 /run/netns/pod3 eth0 > /dev/null 2>&1

not_root() {
	local out
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$VRDMACTL" agent status 2>&1) &&
		{ echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q "Permission denied"
}
ktap_check "the agent's socket is root only" not_root

devices_reconciled() {	# start-up: kernel devices against etcd's records
	local ip1
	ip1=$(pod_ip pod1)
	agent_stop "$AGENT_LOG" || return
	ip netns del pod1			# its device goes with it
	ip netns add orphan
	"$VRDMACTL" dev add vrp77 netns orphan netdev lo 2>/dev/null ||
		{ ip -n orphan link add eth0 type dummy; ip -n orphan link set eth0 up
		  "$VRDMACTL" dev add vrp77 netns orphan netdev eth0; } || return
	agent_start "$AGENT_CONF" "$AGENT_LOG" || return
	ip netns del orphan
	wait_for 20 ep_absent "$ip1" &&
	[ -z "$(ectl get /vrdma/pods/h1/pod1/eth0 --print-value-only)" ] &&
	! "$VRDMACTL" dev show vrp77 2>/dev/null &&
	agent_log_has "$AGENT_LOG" orphan-dev vrp77 &&
	agent_log_has "$AGENT_LOG" pod-gone '"container":"pod1"'
}
ktap_check "agent start: a pod whose device went is withdrawn, a device without record deleted" devices_reconciled
python3 "$CNI_PY" del "$CONFLIST" pod1 /run/netns/pod1 eth0 > /dev/null 2>&1

agent_gone() {
	local res
	agent_stop "$AGENT_LOG"
	res=$(printf '%s' "{$good,\"prevResult\":{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/run/netns/pod1\"}],\"ips\":[{\"address\":\"10.244.1.77/24\",\"interface\":0}]}}" |
		env CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=/run/netns/pod1 CNI_IFNAME=eth0 "$PLUGIN" 2>/dev/null)
	echo "$res"
	echo "$res" | jqe '.code == 11 and (.msg | contains("(is vrdma-agent running?)"))' > /dev/null &&
	plugin DEL "{$good}" pod1 /run/netns/pod1 2>&1 | grep -q "vrdma-agent not running"
}
ktap_check "agent not running: ADD fails (try again later), DEL succeeds with a warning" agent_gone
ktap_finish
