# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the control-plane tests (selftests/cplane, selftests/cluster),
# the demo and the benchmark: etcd members, vrdma-agent, pods made by the
# CNI plugins (bridge + host-local + vrdma, run by cni.py as a runtime
# would), and checks of the kernel's map.  Source after lib.sh.

AGENT=$SRC_DIR/userspace/vrdma-agent/vrdma-agent
CNI_PY=$LIB_DIR/cni.py
CERTS_SH=$LIB_DIR/certs.sh
export CNI_PATH=/usr/lib/cni:$SRC_DIR/userspace/cni
export CNI_CACHE_DIR=/run/cni/cache
export ETCDCTL_API=3

# jqe FILTER...: jq -e that fails on empty input (plain jq -e passes it:
# a failing command before the pipe would go unnoticed).
jqe() {
	local in
	in=$(cat)
	[ -n "$in" ] || { echo "jqe: no input"; return 1; }
	printf '%s\n' "$in" | jq -e "$@"
}

# --- etcd ----------------------------------------------------------------------
# etcd_start NAME DATADIR CLIENT_URLS PEER_URL INITIAL_CLUSTER [TLSDIR]
# Starts a member in the background (log DATADIR.log, pid DATADIR.pid).
# With TLSDIR: clients need a certificate of TLSDIR's CA (TLSDIR/NAME.pem
# is the server's).  Timing suits slow emulated machines.
etcd_start() {
	local name=$1 data=$2 curls=$3 peer=$4 cluster=$5 tls=${6:-} state=${7:-new}
	local opts=()
	[ -n "$tls" ] && opts+=(--cert-file "$tls/$name.pem" --key-file "$tls/$name.key"
				--trusted-ca-file "$tls/ca.pem" --client-cert-auth)
	mkdir -p "$(dirname "$data")"
	etcd --name "$name" --data-dir "$data" \
		--listen-client-urls "$curls" --advertise-client-urls "${curls%%,*}" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$cluster" --initial-cluster-state "$state" \
		--initial-cluster-token vrdma-test \
		--heartbeat-interval 250 --election-timeout 2500 \
		--snapshot-count 100000 --auto-compaction-retention 0 \
		--log-level warn --logger zap "${opts[@]}" \
		> "$data.log" 2>&1 &
	echo $! > "$data.pid"
}

etcd_stop() {	# etcd_stop DATADIR [SIGNAL]
	local pid
	pid=$(cat "$1.pid" 2>/dev/null) || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	wait_for 20 bash -c "! kill -0 $pid"
}

# ectl ARGS...: etcdctl against $ETCD_EPS with $ETCD_TLS's client cert.
ectl() {
	local tls=()
	[ -n "${ETCD_TLS:-}" ] && tls=(--cacert "$ETCD_TLS/ca.pem"
		--cert "$ETCD_TLS/client.pem" --key "$ETCD_TLS/client.key")
	etcdctl --endpoints "$ETCD_EPS" --dial-timeout 3s --command-timeout 5s \
		"${tls[@]}" "$@"
}

etcd_healthy() { ectl endpoint health > /dev/null 2>&1; }

# --- vrdma-agent -----------------------------------------------------------------
# agent_config FILE HOST [KEY=VALUE...]: a configuration for $ETCD_EPS
# (with $ETCD_TLS's client certificate, else plain HTTP), JSON logs;
# extra [agent] keys as arguments (section.key=value for [etcd]).
agent_config() {
	local file=$1 host=$2 kv eps scheme=http
	shift 2
	[ -n "${ETCD_TLS:-}" ] && scheme=https
	eps=$(echo "$ETCD_EPS" | sed "s|\([^,]*\)|$scheme://\1|g")
	{
		echo "[agent]"
		echo "host = $host"
		echo "log-format = json"
		for kv in "$@"; do
			case "$kv" in etcd.*) ;; *) echo "${kv%%=*} = ${kv#*=}" ;; esac
		done
		echo "[etcd]"
		echo "endpoints = $eps"
		if [ -n "${ETCD_TLS:-}" ]; then
			echo "cacert = $ETCD_TLS/ca.pem"
			echo "cert = $ETCD_TLS/client.pem"
			echo "key = $ETCD_TLS/client.key"
		else
			echo "plaintext = yes"
		fi
		for kv in "$@"; do
			case "$kv" in etcd.*) kv=${kv#etcd.}; echo "${kv%%=*} = ${kv#*=}" ;; esac
		done
	} > "$file"
}

# agent_start CONF LOG: start vrdma-agent; wait until it is ready.
agent_start() {
	local conf=$1 log=$2 sock
	sock=$(sed -n 's/^socket = //p' "$conf")
	sock=${sock:-/run/vrdma/agent.sock}
	"$AGENT" -c "$conf" >> "$log" 2>&1 &
	echo $! > "$log.pid"
	wait_for 60 agent_ready "$sock"
}
agent_ready() { "$VRDMACTL" -j agent status socket "${1:-/run/vrdma/agent.sock}" | grep -q '"state":"ready"'; }
agent_stop() {	# agent_stop LOG [SIGNAL]
	local pid
	pid=$(cat "$1.pid" 2>/dev/null) || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	wait_for 20 bash -c "! kill -0 $pid"
}
# agent_log_has LOG EVENT [TEXT]: a JSON log line of EVENT (containing TEXT)
agent_log_has() { grep "\"event\":\"$2\"" "$1" | grep -qF -- "${3:-}"; }

# --- pods through CNI ----------------------------------------------------------------
# cni_conflist FILE SUBNET GATEWAY VNI [MODE]: bridge + host-local, then vrdma.
cni_conflist() {
	local file=$1 subnet=$2 gw=$3 vni=$4 mode=${5:-auto}
	mkdir -p "$(dirname "$file")"
	cat > "$file" <<CONF
{
  "cniVersion": "1.0.0",
  "name": "rdmanet",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "/run/cni/ipam",
        "ranges": [[{ "subnet": "$subnet", "gateway": "$gw" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "vrdma", "vni": $vni, "mode": "$mode" }
  ]
}
CONF
}

# pod_add CONFLIST NAME: a network namespace NAME (container id NAME)
# set up by the chain; prints the CNI result.
pod_add() {
	ip netns add "$2" || return
	ip -n "$2" link set lo up
	python3 "$CNI_PY" add "$1" "$2" "/run/netns/$2" eth0 \
		"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$2"
}
pod_del() {	# pod_del CONFLIST NAME
	python3 "$CNI_PY" del "$1" "$2" "/run/netns/$2" eth0
	local rc=$?
	ip netns del "$2" 2>/dev/null
	return $rc
}
pod_ip() { ip -n "$1" -4 -o addr show dev eth0 | awk '{ print $4 }' | cut -d/ -f1; }
# The pod's vrdma device (the only RDMA device its namespace sees).
pod_dev() { ip netns exec "$1" rdma dev show 2>/dev/null | awk -F'[: ]+' 'NR==1 { print $2 }'; }
# The GID index of the pod's IPv4 address on its device.
pod_gid() {
	ip netns exec "$1" bash -c '
		dev=$1 addr=$2
		want=$(printf "0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x" ${addr//./ })
		for f in /sys/class/infiniband/$dev/ports/1/gids/*; do
			i=${f##*/}
			[ "$(cat $f 2>/dev/null)" = "$want" ] || continue
			[ "$(cat /sys/class/infiniband/$dev/ports/1/gid_attrs/types/$i 2>/dev/null)" = "RoCE v2" ] || continue
			echo $i; exit 0
		done; exit 1' _ "$(pod_dev "$1")" "$(pod_ip "$1")"
}

# --- the kernel's map ------------------------------------------------------------------
# map_via VNI ADDR: the explicit entry's host address, or nothing.
map_via() {
	"$VRDMACTL" -j map show | jq -r --arg a "$2" --argjson v "$1" \
		'.[] | select(.addr == $a and .vni == $v and (.flags // [] | index("local") | not)) | .via'
}
map_has() { [ "$(map_via "$1" "$2")" = "$3" ]; }	# map_has VNI ADDR VIA
map_lacks() { [ -z "$(map_via "$1" "$2")" ]; }
map_explicit_count() { "$VRDMACTL" -j map show | jq '[.[] | select(.flags // [] | index("local") | not)] | length'; }
