# SPDX-License-Identifier: GPL-2.0
#
# One host for the control-plane tests: soft-RoCE rxe1 on h1 (10.99.0.1,
# selftests/lib/topo.sh), vrdma with rxe1 as its default, an etcd of
# ETCD_MEMBERS members (default 3; set it before sourcing) on the loopback
# with client TLS (certificates of a throw-away CA), and
# a CNI network "rdmanet" (bridge cni0, 10.244.1.0/24, then vrdma).
# Other hosts are simulated by writing their endpoints into etcd, as
# their agents would.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$LIB_DIR/cplane.sh"

VNI=100
CP=/tmp/cplane
export ETCD_TLS=$CP/pki
ETCD_MEMBERS=${ETCD_MEMBERS:-3}
ETCD_IDS=$(seq 1 "$ETCD_MEMBERS")
ETCD_EPS=$(for i in $ETCD_IDS; do printf '127.0.0.1:2379%s,' "$i"; done)
ETCD_EPS=${ETCD_EPS%,}
AGENT_CONF=$CP/agent.conf
AGENT_LOG=$CP/agent.log
CONFLIST=/run/cni/net.d/10-rdmanet.conflist
SOCK=/run/vrdma/agent.sock
HOST_ADDR=10.99.0.1

etcd_member_start() {	# etcd_member_start I [new|existing]
	local i=$1 cluster=
	local j
	for j in $ETCD_IDS; do cluster="$cluster,etcd$j=http://127.0.0.1:2380$j"; done
	etcd_start "etcd$i" "$CP/etcd$i" "https://127.0.0.1:2379$i" \
		"http://127.0.0.1:2380$i" "${cluster#,}" "$ETCD_TLS" "${2:-new}"
}
etcd_member_stop() { etcd_stop "$CP/etcd$1" "${2:-TERM}"; }

cplane_down() {
	local p
	for p in $(ip netns list | awk '$1 ~ /^pod/ { print $1 }'); do
		pod_del "$CONFLIST" "$p" > /dev/null 2>&1
		ip netns del "$p" 2>/dev/null
	done
	agent_stop "$AGENT_LOG"
	for p in $ETCD_IDS; do etcd_member_stop "$p" KILL; done
	ip link del cni0 2>/dev/null
	[ -n "${CP_MODE_WAS:-}" ] && rdma system set netns "$CP_MODE_WAS"
	rm -rf /run/cni /run/vrdma-agent "$SOCK"
}

# cplane_up [MODE]: the host, etcd and the agent (ready).
cplane_up() {
	local i
	require_root
	cplane_down
	rm -rf "$CP"; mkdir -p "$CP"
	topo_hosts 1 || return
	vrdma_load || return
	# The module may have been loaded earlier (resolving its netlink
	# family loads it): the default physical device, explicitly.
	"$VRDMACTL" phys default rxe1 || return
	modprobe rdma_ucm
	defer cplane_down
	CP_MODE_WAS=$(rdma system show | sed -n 's/.*netns \([a-z]*\).*/\1/p')
	rdma system set netns "${1:-exclusive}" || return
	"$CERTS_SH" "$ETCD_TLS" ca &&
	for i in $ETCD_IDS; do
		"$CERTS_SH" "$ETCD_TLS" server "etcd$i" 127.0.0.1 || return
	done &&
	"$CERTS_SH" "$ETCD_TLS" client client || return
	for i in $ETCD_IDS; do etcd_member_start "$i"; done
	wait_for 120 etcd_healthy || { echo "# etcd did not come up"; tail -n 5 "$CP"/etcd*.log; return 1; }
	mkdir -p /run/vrdma
	agent_config "$AGENT_CONF" h1 "lease-ttl=5"
	agent_start "$AGENT_CONF" "$AGENT_LOG" ||
		{ echo "# the agent did not get ready"; tail -n 20 "$AGENT_LOG"; return 1; }
	cni_conflist "$CONFLIST" 10.244.1.0/24 10.244.1.1 "$VNI" auto
}

# cplane_start DESC [MODE]: cplane_up in the test's own shell (not in
# ktap_check's subshell: its cleanup is deferred to the test's end),
# reported as one check.
cplane_start() {
	local log=/tmp/cplane-up.log
	if cplane_up "${2:-}" > "$log" 2>&1; then
		ktap_ok "$1"
	else
		ktap_diag "$(cat "$log")"
		ktap_fail "$1"
		return 1
	fi
}

# A remote host's endpoint, as its agent would publish it.
ep_put() {	# ep_put VNI ADDR VIA [HOST]
	ectl put "/vrdma/endpoints/$1/$2" \
		"{\"host\":\"${4:-h2}\",\"via\":\"$3\",\"pod\":\"c$RANDOM\"}" > /dev/null
}
ep_del() { ectl del "/vrdma/endpoints/$1/$2" > /dev/null; }
agent_json() { "$VRDMACTL" -j agent status; }
agent_field() { agent_json | jq -r "$1"; }
