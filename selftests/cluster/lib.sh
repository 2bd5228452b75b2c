# SPDX-License-Identifier: GPL-2.0
#
# The cluster tests' common part.  Every VM of a cluster.sh run runs the
# same tests; NODE (from the kernel command line) says which host this
# is.  The nodes meet in the output folder that all of them share
# ($VRDMA_OUT/cluster): barriers and values are files there.
#
# Each node is a host: its NIC eth0 (10.99.0.NODE) on the hub, soft-RoCE
# rxe0 on it, vrdma with rxe0 as default physical device, ib_core in
# exclusive netns mode, an etcd member (nodes 1-3, client TLS with
# certificates made by node 1), vrdma-agent, and pods on the CNI bridge
# cni0 (10.244.NODE.0/24), routed to the other nodes' pod networks.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
. "$LIB_DIR/cplane.sh"

NODE=$(sed -n 's/.*vmtest\.node=\([0-9]*\).*/\1/p' /proc/cmdline)
NODES=$(sed -n 's/.*vmtest\.nodes=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -z "$NODE" ] || [ -z "$NODES" ]; then
	echo "# not a cluster VM (no vmtest.node): run by selftests/vm/cluster.sh"
	exit "$KSFT_SKIP"
fi
RDV=$VRDMA_OUT/cluster
mkdir -p "$RDV"

VNI=100
ETCD_NODES=$(seq 1 $((NODES < 3 ? NODES : 3)))
ETCD_EPS=$(for i in $ETCD_NODES; do printf '10.99.0.%s:2379,' "$i"; done)
ETCD_EPS=${ETCD_EPS%,}
export ETCD_TLS=$RDV/pki
ETCD_DATA=/tmp/etcd/node$NODE
AGENT_CONF=/run/vrdma/agent.conf
AGENT_LOG=$VRDMA_OUT/agent-node$NODE.log
CONFLIST=/run/cni/net.d/10-rdmanet.conflist
LEASE_TTL=6

node_ip() { echo "10.99.0.$1"; }

# --- meeting the other nodes -------------------------------------------------------
alive_nodes() {
	local i
	for ((i = 1; i <= NODES; i++)); do
		[ -e "$RDV/killed.$i" ] || echo "$i"
	done
}
put() { printf '%s\n' "$2" > "$RDV/$1.$NODE.tmp" && mv "$RDV/$1.$NODE.tmp" "$RDV/$1.$NODE"; }
get() { cat "$RDV/$1.$2" 2>/dev/null; }	# get KEY NODE
wait_get() {	# wait_get KEY NODE [TIMEOUT]: wait for a value, print it
	wait_for "${3:-120}" test -e "$RDV/$1.$2" && get "$1" "$2"
}
# barrier NAME [TIMEOUT]: wait until every live node reached NAME.
barrier() {
	local name=$1 tmo=${2:-300} i
	put "barrier.$name" 1
	for i in $(alive_nodes); do
		wait_for "$tmo" test -e "$RDV/barrier.$name.$i" || {
			echo "# barrier $name: node $i did not come"
			return 1
		}
	done
}

# --- the host ------------------------------------------------------------------------
node_net() {
	local i
	hostname "node$NODE"
	modprobe virtio_net
	wait_for 20 ip link show eth0 || return
	ip addr add "$(node_ip "$NODE")/24" dev eth0
	ip link set eth0 up
	sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	for ((i = 1; i <= NODES; i++)); do
		[ "$i" = "$NODE" ] || ip route add "10.244.$i.0/24" via "$(node_ip "$i")"
	done
}

node_rdma() {
	modprobe rdma_rxe && rdma link add rxe0 type rxe netdev eth0 &&
	modprobe vrdma phys_default=rxe0 && modprobe rdma_ucm
}

node_pki() {
	local i
	if [ "$NODE" = 1 ]; then
		"$CERTS_SH" "$ETCD_TLS" ca &&
		for i in $ETCD_NODES; do
			"$CERTS_SH" "$ETCD_TLS" server "etcd$i" "$(node_ip "$i"),127.0.0.1" || return
		done &&
		"$CERTS_SH" "$ETCD_TLS" client client && touch "$ETCD_TLS/done"
	else
		wait_for 120 test -e "$ETCD_TLS/done"
	fi
}

node_etcd() {
	local i cluster=
	for i in $ETCD_NODES; do
		cluster="$cluster,etcd$i=http://$(node_ip "$i"):2380"
	done
	if echo "$ETCD_NODES" | grep -qx "$NODE"; then
		etcd_start "etcd$NODE" "$ETCD_DATA" \
			"https://$(node_ip "$NODE"):2379,https://127.0.0.1:2379" \
			"http://$(node_ip "$NODE"):2380" "${cluster#,}" "$ETCD_TLS" "${1:-new}"
	fi
	wait_for 120 etcd_healthy
}

node_agent() {
	mkdir -p /run/vrdma
	agent_config "$AGENT_CONF" "node$NODE" "lease-ttl=$LEASE_TTL"
	agent_start "$AGENT_CONF" "$AGENT_LOG"
}

# node_up: the host (once per VM run: kernel state stays between tests),
# ib_core's exclusive netns mode (guest.sh restores the shared mode after
# each test; node_down does it first), then the daemons, which guest.sh
# kills at the end of each test: the etcd member (restarted on its data
# from an earlier test) and the agent.
node_up() {
	if [ ! -e /run/vrdma-node-host ]; then
		node_net && node_rdma && node_pki && touch /run/vrdma-node-host || return
	fi
	rdma system show | grep -q 'netns exclusive' ||
		rdma system set netns exclusive || return
	local state=new
	[ -d "$ETCD_DATA" ] && state=existing
	pid_alive "$ETCD_DATA.pid" || node_etcd "$state" || return
	pid_alive "$AGENT_LOG.pid" || node_agent || return
	cni_conflist "$CONFLIST" "10.244.$NODE.0/24" "10.244.$NODE.1" "$VNI" exclusive
}
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# node_down: the end of a test, after a barrier: this node's pods deleted
# through CNI (their endpoints withdrawn), the agent and etcd stopped,
# ib_core's shared netns mode back.
node_down() {
	local p
	for p in $(ip netns list | awk '{ print $1 }'); do
		pod_del "$CONFLIST" "$p" > /dev/null 2>&1
	done
	agent_stop "$AGENT_LOG"
	etcd_stop "$ETCD_DATA"
	node_shared
}
# The shared mode once the pods' namespaces are gone.
node_shared() { wait_for 30 rdma system set netns shared; }

# my_pod NAME: this node's pod NAME (a container id too): nNODENAME.
my_pod() { echo "n${NODE}$1"; }

# pod_publish NAME: make a pod and tell the other nodes its address.
pod_publish() {
	pod_add "$CONFLIST" "$1" > "/run/cni/$1.result" || return
	put "ip.$1" "$(pod_ip "$1")"
}
