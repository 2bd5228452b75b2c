#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Decentralized sleep management at scale: N simulated hosts (network
# namespaces s1..sN on one bridge, default 100), one vrdma-sleepd each in
# test mode (simulated sleep: the host's processes freeze, tc drops all but
# magic packets, resume delay), every host with 1-3 listening TCP
# services, and an outsider client (cl).  A random schedule (fixed seed,
# printed) sends sleep requests to the daemons and makes the client
# connect to sleeping and awake hosts' open and closed ports for DURATION
# seconds.  Measured, from the daemons' JSON logs, the client's log, the
# daemons' counters and tc counters on each host's bridge port (see
# sleep_sim.py analyze):
#
#   - time until a sleeper is managed (median, p99),
#   - wake latency, SYN to established connection, minus the resume delay,
#   - missed wakes (a SYN to a sleeper's open port never connected),
#   - false wakes (a sleeper woken with no valid request),
#   - time with two managers for one sleeper,
#   - control traffic (the peer protocol's UDP port) per host,
#   - how evenly sleepers spread over the awake managers.
#
# A benchmark: it reports, never asserts speed or the figures; it fails
# only when the simulation cannot run (setup, a daemon dying, the driver).
# The figures also go to $VRDMA_OUT/sleep_sim.txt, the schedule, the
# client's log and the daemons' logs to $VRDMA_OUT/sleep_sim/.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../sleep/sleep_lib.sh"
require_root

N=${N:-100}
DURATION=${DURATION:-300}
SEED=${SEED:-20260611}
RESUME_DELAY=1
SIM=$(cd "$(dirname "$0")" && pwd)/sleep_sim.py
OUT=${VRDMA_OUT:-/tmp}/sleep_sim.txt
KEEP=${VRDMA_OUT:-/tmp}/sleep_sim

# The daemons' default timers, but the probe timeout: hellos every 5 s
# from 100 hosts are 20 datagrams/s on the segment, each host probes 3
# peers every 5 s.  A sleep is announced, then confirmed by one probe.
# The default probe timeout (1 s) is too short for 100 daemons on two
# emulated CPUs (TCG), where a daemon can wait a second for a CPU: two
# probes in a row unanswered in time, and an awake host is taken over
# (740 false takeovers in 300 s with 1 s, 82 with 2 s).
SLEEPD_TIMERS="hello-interval = 5
probe-interval = 5
probes-per-period = 3
probe-timeout = 2
dead-after = 15
intent-wait = 1"
EXTRA="[manage]
wake-interval = 1
wake-timeout = 60
[test]
resume-delay = $RESUME_DELAY"

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
# Whatever happens, keep the logs.
defer "mkdir -p '$KEEP' && cp '$D'/*.log '$D'/*.json* '$D'/*.err '$KEEP'/ 2>/dev/null"
rm -rf "$KEEP"

ktap_plan 5
elapsed() { echo $((SECONDS - ${1:-0})); }

# ---- hosts ------------------------------------------------------------------------
vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
modprobe sch_ingress 2>/dev/null; modprobe cls_flower; modprobe act_gact
snet_reset
# The neighbour tables are one for all namespaces: N hosts knowing N
# neighbours each overflow the default limit (1024 entries), and the
# unicast probes that cannot resolve their next hop fail.  Real hosts
# each have their own.
for f in 4 6; do
	for k in 1 2 3; do
		key=net.ipv$f.neigh.default.gc_thresh$k
		defer "sysctl -qw $key=$(sysctl -n $key)"
	done
	sysctl -qw net.ipv$f.neigh.default.gc_thresh1=$((N * N)) \
		net.ipv$f.neigh.default.gc_thresh2=$((4 * N * N)) \
		net.ipv$f.neigh.default.gc_thresh3=$((8 * N * N))
done
t=$SECONDS
ok=1
snet_bridge || ok=0
for ((i = 1; i <= N && ok; i++)); do
	snet_host "s$i" "$i" || ok=0
done
[ $ok = 1 ] && snet_host cl 200 || ok=0
# Count the peer protocol on each host's bridge port: ingress is what the
# host sends, egress what it receives.
: > "$D/tc.batch"
for ((i = 1; i <= N; i++)); do
	cat >> "$D/tc.batch" <<EOT
qdisc add dev s$i-p clsact
filter add dev s$i-p ingress pref 1 protocol ip flower ip_proto udp dst_port 7789 action pass
filter add dev s$i-p egress pref 1 protocol ip flower ip_proto udp dst_port 7789 action pass
EOT
done
[ $ok = 1 ] && tc -batch "$D/tc.batch" || ok=0
if [ $ok = 1 ]; then
	ktap_ok "$N hosts on one bridge, a client, counters ($(elapsed $t) s)"
else
	ktap_fail "$N hosts on one bridge, a client, counters"
	ktap_finish
fi

# ---- the schedule, the services, the daemons -------------------------------------
$PY "$SIM" schedule "$D/schedule.json" --seed "$SEED" --hosts "$N" \
	--duration "$DURATION" | sed 's/^/# /'
ktap_diag "seed $SEED (SEED=$SEED N=$N DURATION=$DURATION to replay it)"
$PY "$SIM" services "$D/schedule.json" "$D/services.ready" > "$D/services.out" 2>&1 &
defer "kill $! 2>/dev/null"
wait_for 60 test -f "$D/services.ready"

t=$SECONDS
ok=1
# Each daemon is told its ports: "ports = auto" reads /proc/net/tcp*,
# which walks the kernel's socket hash, one for all namespaces, at every
# hello: N daemons on one kernel would pay it N times over.
declare -A PORTS
while read -r h p; do PORTS[$h]=$p; done < <($PY -c '
import json, sys
for h, p in json.load(open(sys.argv[1]))["ports"].items():
    print(h, ",".join(map(str, p)))' "$D/schedule.json")
for ((i = 1; i <= N; i++)); do
	sleepd_start "s$i" "$i" "$D" "$EXTRA
[sleep]
ports = ${PORTS[s$i]}" || { ok=0; ktap_diag "s$i did not start: $(cat "$D/s$i.err")"; break; }
done
# Stop every daemon at once at the end (sleepd_start's own cleanup then
# finds them gone).
daemon_pids() { local i; for ((i = 1; i <= N; i++)); do sleepd_pid "s$i"; done; }
defer "kill \$(daemon_pids) 2>/dev/null; sleep 3"
ktap_diag "daemons started in $(elapsed $t) s"
conv=0
[ $ok = 1 ] && wait_for 120 $PY "$SIM" converged "$D" "$N" && conv=1
$PY "$SIM" diag "$D" "$N" 2>&1 | sed 's/^/# idle: /'
if [ $conv = 1 ]; then
	ktap_ok "$N daemons started ($(elapsed $t) s) and see each other awake, with their ports"
else
	ktap_diag "$($PY "$SIM" converged "$D" "$N")"
	ktap_fail "$N daemons started and see each other awake"
	ktap_finish
fi

# ---- the run ------------------------------------------------------------------------
$PY "$SIM" snapshot "$D" "$N" "$D/snap0.json"
t=$SECONDS
ip netns exec cl $PY "$SIM" drive "$D/schedule.json" "$D" "$D/driver.jsonl" 2> "$D/driver.err"
rc=$?
$PY "$SIM" snapshot "$D" "$N" "$D/snap1.json"
if [ $rc = 0 ] && grep -q '"op": "end"' "$D/driver.jsonl"; then
	ktap_ok "the schedule ran ($(elapsed $t) s)"
else
	ktap_diag "$(tail -n 20 "$D/driver.err")"
	ktap_fail "the schedule ran"
fi
alive=0
for p in $(daemon_pids); do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
if [ "$alive" = "$N" ]; then
	ktap_ok "all $N daemons are still running"
else
	for ((i = 1; i <= N; i++)); do
		kill -0 "$(sleepd_pid "s$i")" 2>/dev/null || ktap_diag "s$i died: $(tail -n 3 "$D/s$i.err")"
	done
	ktap_fail "all $N daemons are still running ($alive)"
fi

# ---- the figures ------------------------------------------------------------------------
{
	echo "Sleep-management simulation: $N hosts, $DURATION s, seed $SEED (kernel $(uname -r), $(nproc) CPUs)"
	echo "timers: hello 5 s, probe 5 s x 3 peers, probe timeout 2 s, dead-after 15 s, intent 1 s;" \
		"guardians 1; resume delay $RESUME_DELAY s; client connect limit 30 s (open ports), 8 s (closed)"
	$PY "$SIM" analyze "$D" "$N" "$D/schedule.json" "$D/driver.jsonl" \
		"$D/snap0.json" "$D/snap1.json" "$D/summary.json" --resume-delay "$RESUME_DELAY" 2>&1
} | tee "$OUT" | sed 's/^/# /'
if [ -s "$D/summary.json" ]; then
	ktap_ok "figures computed ($OUT)"
else
	ktap_fail "figures computed"
fi
ktap_finish
