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
# Two phases: bulk, every agent asked for its pods at the same time (the
# agents in parallel, each one's pods in turn: a saturating load), then
# paced, SINGLES (200) more pods one at a time, each asked for once the
# previous one reached every other agent (one change on a quiet cluster
# that holds the 10,000).
#
# Reports, for each phase: convergence (request to an agent -> the
# endpoint in the last other agent's sink) p50/p99, propagation
# (publication -> last sink), etcd's CPU time and bytes (both
# directions, its veth) per change; the agents' memory (RSS and PSS),
# the load average, and a CDF plot of both phases.  Writes
# $VRDMA_OUT/cplane_scale.json (bulk), cplane_scale_paced.json, .txt
# and .png.  Needs no kernel module: it also runs on a plain host (as
# root), where OUT defaults to /tmp/cplane-bench.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/cplane.sh"
require_root

AGENTS=${AGENTS:-100}
PODS=${PODS:-100}
SINGLES=${SINGLES:-200}
OUTD=${VRDMA_OUT:-/tmp/cplane-bench}
W=/tmp/cpb
STATS="python3 $(dirname "$0")/cplane_stats.py"
mkdir -p "$OUTD"
rm -f "$OUTD"/cplane_scale*.json

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
		lease-ttl=30 log-level=warning etcd.timeout=15
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
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
where=$( [ -n "${VRDMA_OUT:-}" ] && echo "VM (TCG), $(nproc) vCPU" || echo "host, $(nproc) CPU" )
load0=$(cut -d' ' -f1 /proc/loadavg)

# 1. Bulk: every agent asked for its pods at once, each one's in turn.
cpu0=$(stat_cpu); bytes0=$(stat_bytes); start=$(date +%s.%N)
$STATS drive "$W" "$AGENTS" "$PODS" cpb "$W/requests" || { echo "Bail out! no pod added"; exit 1; }
drive_end=$(date +%s.%N)
changes=$(wc -l < "$W/requests")
failed=$((AGENTS * PODS - changes))
# Every sink has all the others' endpoints: those of the pods added (a
# request fails when etcd does not answer within the agents' timeout;
# the failures are reported).  Agent I's pods are 10.(100+I/250).(I%250).*
# (cplane_stats.py).  A sink is read again only until it is complete,
# once a second: reading 100 growing sinks ten times a second would take
# CPU time from the agents and etcd measured.
declare -A want
for i in $(seq 1 "$AGENTS"); do
	want[$W/sink/a$i]=$((changes - $(grep -c " 10\.$((100 + i / 250))\.$((i % 250))\." "$W/requests")))
done
pending=("$W"/sink/*)
converged() {
	local f left=()
	for f in "${pending[@]}"; do
		[ "$(grep -c ' add ' "$f")" -ge "${want[$f]}" ] || left+=("$f")
	done
	pending=("${left[@]}")
	[ ${#pending[@]} -eq 0 ] || { sleep 0.9; return 1; }
}
wait_for 1800 converged || echo "# not every endpoint reached every agent (${#pending[@]} sinks short)"
end=$(date +%s.%N)
cpu1=$(stat_cpu); bytes1=$(stat_bytes)
load1=$(cut -d' ' -f1 /proc/loadavg)

# 2. Paced: SINGLES more pods, one at a time, each once the previous one
# is everywhere: one change on a quiet cluster that holds them all.
$STATS paced "$W" "$AGENTS" "$SINGLES" cpb "$W/sink" "$W/requests.paced" ||
	echo "# some paced pods failed"
end2=$(date +%s.%N)
cpu2=$(stat_cpu); bytes2=$(stat_bytes)
singles=$(wc -l < "$W/requests.paced")

# Memory: resident (shared libraries counted in each) and proportional.
mem() {	# mem FIELD PID...: mean of FIELD of smaps_rollup, MiB
	local f=$1 p
	shift
	for p in "$@"; do awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/smaps_rollup"; done |
		awk '{ s += $1 } END { printf "%.1f", s / NR / 1024 }'
}
apids=$(for i in $(seq 1 "$AGENTS"); do cat "$W/a$i.log.pid"; done)
epid=$(cat "$W/etcd.pid")

$STATS scale "$W/sink" "$W/requests" "$OUTD/cplane_scale.json" \
	phase=bulk agents="$AGENTS" pods_per_agent="$PODS" changes="$changes" where="$where" \
	failed_requests="$failed" \
	load1_start="$load0" load1_end="$load1" \
	requests_s="$(diff_s "$start" "$drive_end")" \
	duration_s="$(diff_s "$start" "$end")" \
	etcd_cpu_s="$(diff_s "$cpu0" "$cpu1")" \
	etcd_cpu_ms_per_change="$(awk -v a="$cpu0" -v b="$cpu1" -v n="$changes" 'BEGIN { printf "%.2f", (b - a) * 1000 / n }')" \
	etcd_bytes="$((bytes1 - bytes0))" \
	etcd_bytes_per_change="$(( (bytes1 - bytes0) / changes ))" \
	etcd_rss_mib="$(mem Rss "$epid")" \
	agent_rss_mib="$(mem Rss $apids)" agent_pss_mib="$(mem Pss $apids)" \
	| tee "$OUTD/cplane_scale.txt" | sed 's/^/# /'
if [ "$singles" -gt 0 ]; then
	$STATS scale "$W/sink" "$W/requests.paced" "$OUTD/cplane_scale_paced.json" \
		phase=paced agents="$AGENTS" endpoints_before="$changes" changes="$singles" \
		failed_requests="$((SINGLES - singles))" \
		where="$where" duration_s="$(diff_s "$end" "$end2")" \
		etcd_cpu_ms_per_change="$(awk -v a="$cpu1" -v b="$cpu2" -v n="$singles" 'BEGIN { printf "%.2f", (b - a) * 1000 / n }')" \
		etcd_bytes_per_change="$(( (bytes2 - bytes1) / singles ))" \
		| tee -a "$OUTD/cplane_scale.txt" | sed 's/^/# /'
fi

curves=("$OUTD/cplane_scale.json")
plot="\"$W/cdf.dat\" using 1:2 with lines lw 2 title \"all agents at once ($changes pods)\""
if [ "$singles" -gt 0 ]; then
	curves+=("$OUTD/cplane_scale_paced.json")
	plot="$plot, \"$W/cdf.dat\" using 3:4 with lines lw 2 title \"one at a time ($singles more pods)\""
fi
$STATS cdf "${curves[@]}" > "$W/cdf.dat"
gnuplot <<GP
set terminal png size 800,500
set output "$OUTD/cplane_scale.png"
set title "vrdma control plane: $AGENTS agents, $changes endpoints, one etcd ($where)"
set xlabel "convergence: request to an agent -> endpoint at the last of the other agents (ms)"
set ylabel "fraction of endpoints"
set logscale x
set grid
set key bottom right
set datafile missing "?"
plot $plot
GP
[ -s "$OUTD/cplane_scale.png" ] && echo "# plot: $OUTD/cplane_scale.png"
echo "ok 1 control plane at scale: $AGENTS agents, $changes + $singles endpoints"
