#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The control plane at scale, against one etcd: AGENTS vrdma-agents (100),
# each a process in a network namespace of its own behind a veth, each
# with PODS pods (100): 10,000 endpoints, every one of which reaches the
# other 99 agents.  The agents run in dry-run mode: their map changes go
# to a sink file each (with times) instead of a kernel map (one kernel
# cannot hold 100 hosts' maps); devices are not made.  etcd (plain HTTP
# here: a private bridge) runs in a namespace of its own, so that its
# veth counts its bytes.
#
# Reports: convergence (request to an agent -> the endpoint in the last
# other agent's sink) p50/p99, propagation (publication -> last sink),
# etcd's CPU time and bytes (both directions, its veth) per change, the
# agents' memory, and a CDF plot.  Writes $VRDMA_OUT/cplane_scale.json,
# .txt and .png.  Needs no kernel module: it also runs on a plain host
# (as root), where OUT defaults to /tmp/cplane-bench.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/cplane.sh"
require_root

AGENTS=${AGENTS:-100}
PODS=${PODS:-100}
OUTD=${VRDMA_OUT:-/tmp/cplane-bench}
W=/tmp/cpb
STATS="python3 $(dirname "$0")/cplane_stats.py"
mkdir -p "$OUTD"

cleanup() {
	local i
	for i in $(seq 1 "$AGENTS"); do
		[ -f "$W/a$i.log.pid" ] && kill "$(cat "$W/a$i.log.pid")" 2>/dev/null
	done
	[ -f "$W/etcd.pid" ] && kill "$(cat "$W/etcd.pid")" 2>/dev/null
	sleep 1
	for i in $(seq 1 "$AGENTS"); do ip netns del "cpb$i" 2>/dev/null; done
	ip netns del cpbe 2>/dev/null
	ip link del cpb-br 2>/dev/null
}
cleanup
rm -rf "$W"; mkdir -p "$W/sink"
defer cleanup

# The network: a bridge in init_net, etcd 10.77.0.1, agent I 10.77.1.I.
modprobe veth 2>/dev/null; modprobe bridge 2>/dev/null
ip link add cpb-br type bridge && ip link set cpb-br up || exit 1
netns_veth() {	# netns_veth NS HOSTSIDE ADDR
	ip netns add "$1" && ip link add "$2" type veth peer name eth0 netns "$1" &&
	ip link set "$2" master cpb-br up && ip -n "$1" addr add "$3/16" dev eth0 &&
	ip -n "$1" link set eth0 up && ip -n "$1" link set lo up
}
netns_veth cpbe cpb-e 10.77.0.1 || exit 1
ip netns exec cpbe etcd --name e --data-dir "$W/etcd" \
	--listen-client-urls http://10.77.0.1:2379 --advertise-client-urls http://10.77.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster e=http://127.0.0.1:2380 --log-level warn --logger zap \
	--quota-backend-bytes 4294967296 > "$W/etcd.log" 2>&1 &
echo $! > "$W/etcd.pid"
ETCD_EPS=10.77.0.1:2379
export ETCD_TLS=
wait_for 60 ip netns exec cpbe env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_EPS" endpoint health ||
	{ echo "Bail out! etcd"; exit 1; }

t0=$(date +%s.%N)
for i in $(seq 1 "$AGENTS"); do
	netns_veth "cpb$i" "cpb-a$i" "10.77.$((i / 250 + 1)).$((i % 250 + 1))" || exit 1
	agent_config "$W/a$i.conf" "a$i" "address=10.88.$((i / 250)).$((i % 250 + 1))" \
		dry-run=yes "sink=$W/sink/a$i" "socket=$W/a$i.sock" "state-dir=$W/state$i" \
		lease-ttl=30 log-level=warning
	ip netns exec "cpb$i" "$AGENT" -c "$W/a$i.conf" > "$W/a$i.log" 2>&1 &
	echo $! > "$W/a$i.log.pid"
done
all_ready() {
	local i
	for i in $(seq 1 "$AGENTS"); do agent_ready "$W/a$i.sock" || return 1; done
}
wait_for 600 all_ready || { echo "Bail out! agents not ready"; exit 1; }
echo "# $AGENTS agents ready in $(echo "$(date +%s.%N) - $t0" | awk '{ print $1 - $3 }' ) s"

stat_cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$(cat "$W/etcd.pid")/stat"; }
stat_bytes() { echo $(( $(cat /sys/class/net/cpb-e/statistics/rx_bytes) + $(cat /sys/class/net/cpb-e/statistics/tx_bytes) )); }
cpu0=$(stat_cpu); bytes0=$(stat_bytes); start=$(date +%s.%N)

$STATS drive "$W" "$AGENTS" "$PODS" cpb "$W/requests" || { echo "Bail out! pods"; exit 1; }
want=$(((AGENTS - 1) * PODS))
converged() {
	local f
	for f in "$W"/sink/*; do
		[ "$(grep -c ' add ' "$f")" -ge "$want" ] || return 1
	done
}
wait_for 1800 converged || echo "# not every endpoint reached every agent"
end=$(date +%s.%N)
cpu1=$(stat_cpu); bytes1=$(stat_bytes)
rss=$(for i in $(seq 1 "$AGENTS"); do awk '/VmRSS/ { print $2 }' "/proc/$(cat "$W/a$i.log.pid")/status"; done |
      awk '{ s += $1 } END { printf "%.1f", s / NR / 1024 }')
etcd_rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$(cat "$W/etcd.pid")/status")
changes=$(wc -l < "$W/requests")
where=$( [ -n "${VRDMA_OUT:-}" ] && echo "VM (TCG), $(nproc) vCPU" || echo "host, $(nproc) CPU" )

$STATS scale "$W/sink" "$W/requests" "$OUTD/cplane_scale.json" \
	agents="$AGENTS" pods_per_agent="$PODS" changes="$changes" where="$where" \
	duration_s="$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" \
	etcd_cpu_s="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" \
	etcd_bytes="$((bytes1 - bytes0))" \
	etcd_bytes_per_change="$(( (bytes1 - bytes0) / changes ))" \
	etcd_rss_mib="$etcd_rss" agent_rss_mib="$rss" | tee "$OUTD/cplane_scale.txt" | sed 's/^/# /'

$STATS cdf "$OUTD/cplane_scale.json" > "$W/cdf.dat"
gnuplot <<GP
set terminal png size 800,500
set output "$OUTD/cplane_scale.png"
set title "vrdma control plane: $AGENTS agents, $changes endpoints, one etcd ($where)"
set xlabel "convergence: request to an agent -> endpoint at the last of the other agents (ms)"
set ylabel "fraction of endpoints"
set logscale x
set grid
set key bottom right
plot "$W/cdf.dat" using 1:2 with lines lw 2 title "CDF"
GP
[ -s "$OUTD/cplane_scale.png" ] && echo "# plot: $OUTD/cplane_scale.png"
echo "ok 1 control plane at scale: $AGENTS agents, $changes endpoints"
