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
# seconds, under faults from the same seed: loss and delay on every link
# (netem), daemons killed (SIGKILL) on live hosts and restarted, skewed
# clocks (libfaketime, some daemons), and a partition of the last 20 hosts
# for 60 s (their bridge ports moved to a second bridge).  Measured, from
# the daemons' JSON logs, the client's log, the daemons' counters and tc
# counters on each host's bridge port (see sleep_sim.py analyze):
#
#   - false takeovers: a host taken over while awake (its daemon dead or
#     not), which must be 0,
#   - time until a sleeper is managed (median, p99),
#   - wake latency, SYN to established connection, minus the resume delay,
#   - missed wakes (a SYN to a sleeper's open port never connected), which
#     must be 0 (connections across the partition are left out),
#   - false wakes (a sleeper woken with no valid request),
#   - time with two managers for one sleeper,
#   - control traffic (the peer protocol's UDP port) per host,
#   - how evenly sleepers spread over the awake managers.
#
# A benchmark: it never asserts speed; it fails when the simulation cannot
# run (setup, a daemon dying, the driver) or when a host was taken over
# while awake or a wake was missed.  The figures also go to
# $VRDMA_OUT/sleep_sim.txt, a JSON summary to sleep_sim.json, a plot to
# sleep_sim.png (gnuplot), the schedule, the client's log and the daemons'
# logs to $VRDMA_OUT/sleep_sim/.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../sleep/sleep_lib.sh"
require_root

# make bench passes SLEEP_SIM_N, SLEEP_SIM_DURATION and SLEEP_SIM_SEED to
# the VM (selftests/vm/check.sh); N, DURATION and SEED work when the
# script runs by itself.
N=${SLEEP_SIM_N:-${N:-100}}
DURATION=${SLEEP_SIM_DURATION:-${DURATION:-300}}
SEED=${SLEEP_SIM_SEED:-${SEED:-20260611}}
RESUME_DELAY=1
SIM=$(cd "$(dirname "$0")" && pwd)/sleep_sim.py
OUT=${VRDMA_OUT:-/tmp}/sleep_sim.txt
JSON=${VRDMA_OUT:-/tmp}/sleep_sim.json
PNG=${VRDMA_OUT:-/tmp}/sleep_sim.png
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2> /dev/null | head -n 1)
KEEP=${VRDMA_OUT:-/tmp}/sleep_sim

# The daemons' default timers: hellos every 5 s from 100 hosts are 20
# datagrams/s on the segment, each host probes 3 peers every 5 s, a peer
# silent for 15 s is confirmed silent (protocol and ARP probes) for 1 s.
# (Before the layer-2 confirmation, the default 1 s probe timeout made
# 740 false takeovers in 300 s here: two probes unanswered in time on two
# loaded emulated CPUs were enough.)
SLEEPD_TIMERS="hello-interval = 5
probe-interval = 5
probes-per-period = 3
probe-timeout = 1
dead-after = 15
intent-wait = 1"
EXTRA="[manage]
wake-interval = 1
wake-timeout = 60
[test]
resume-delay = $RESUME_DELAY"

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }
[ -n "$FAKETIME_LIB" ] || { echo "# libfaketime not installed"; exit "$KSFT_SKIP"; }
command -v gnuplot > /dev/null || { echo "# gnuplot not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
# Whatever happens, keep the logs.
defer "mkdir -p '$KEEP' && cp '$D'/*.log '$D'/*.json* '$D'/*.err '$KEEP'/ 2>/dev/null"
# Hosts moved to the partition's bridge go back before the bridges go.
rm -rf "$KEEP"

ktap_plan 8
elapsed() { echo $((SECONDS - ${1:-0})); }

# ---- hosts ------------------------------------------------------------------------
vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
modprobe sch_ingress 2>/dev/null; modprobe cls_flower; modprobe act_gact; modprobe sch_netem
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
$PY "$SIM" schedule "$D/schedule.json" --seed "$SEED" --hosts "$N" \
	--duration "$DURATION" | sed 's/^/# /'
ktap_diag "seed $SEED (SLEEP_SIM_SEED=$SEED SLEEP_SIM_N=$N SLEEP_SIM_DURATION=$DURATION to replay it)"
t=$SECONDS
ok=1
# The hosts as snet_host makes them (sleep_lib.sh), in batches: under
# emulation a process costs a few hundred milliseconds, and snet_host's
# eleven a host took minutes for 100 hosts.
HOSTS="$(seq -f 's%g' 1 "$N") cl"
netem=$($PY -c 'import json,sys; n = json.load(open(sys.argv[1]))["netem"]; print("loss %g%% delay %gms %gms" % (n["loss"], n["delay_ms"], n["jitter_ms"]))' "$D/schedule.json")
snet_bridge || ok=0
for h in $HOSTS; do echo "netns add $h"; done > "$D/ns.batch"
for h in $HOSTS; do echo "netns del $h"; done > "$D/nsdel.batch"
[ $ok = 1 ] && ip -batch "$D/ns.batch" || ok=0
defer "ip -batch '$D/nsdel.batch' 2>/dev/null"
for h in $HOSTS; do
	echo "link add $h-p type veth peer name eth0 netns $h"
	echo "link set $h-p master slp-br up"
done > "$D/links.batch"
[ $ok = 1 ] && ip -batch "$D/links.batch" || ok=0
i=0
for h in $HOSTS; do
	[ $ok = 1 ] || break
	i=$((i + 1))
	[ "$h" = cl ] && i=200
	# In the host: its addresses, ARP and DAD as snet_host sets them,
	# loss and delay on its end of the link.
	ip netns exec "$h" sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore &&
		echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad &&
		ip -batch - && tc qdisc add dev eth0 root netem '"$netem" <<EOT || ok=0
link set lo up
addr add $(snet_addr $i)/24 dev eth0
addr add $(snet_addr6 $i)/64 dev eth0 nodad
link set eth0 up
EOT
done
# The partition's other side.
ip link add slp-br2 type bridge mcast_snooping 0 && ip link set slp-br2 up &&
	defer ip link del slp-br2 || ok=0
# Count the peer protocol on each host's bridge port: ingress is what the
# host sends, egress what it receives.  Loss and delay on the bridge's
# end of every link (the client's too).
: > "$D/tc.batch"
for h in $HOSTS; do
	echo "qdisc add dev $h-p root netem $netem" >> "$D/tc.batch"
	[ "$h" = cl ] && continue
	cat >> "$D/tc.batch" <<EOT
qdisc add dev $h-p clsact
filter add dev $h-p ingress pref 1 protocol ip flower ip_proto udp dst_port 7789 action pass
filter add dev $h-p egress pref 1 protocol ip flower ip_proto udp dst_port 7789 action pass
EOT
done
[ $ok = 1 ] && tc -batch "$D/tc.batch" || ok=0
if [ $ok = 1 ]; then
	ktap_ok "$N hosts on one bridge, a client, counters, netem $netem ($(elapsed $t) s)"
else
	ktap_fail "$N hosts on one bridge, a client, counters"
	ktap_finish
fi

# ---- the services, the daemons ----------------------------------------------------
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
declare -A SKEW
while read -r h o; do SKEW[$h]=$o; done < <($PY -c '
import json, sys
for h, o in json.load(open(sys.argv[1]))["skew"].items():
    print(h, o)' "$D/schedule.json")
# All at once (sleepd_start waits for each daemon's socket in turn).
for ((i = 1; i <= N; i++)); do
	wrap=
	[ -n "${SKEW[s$i]:-}" ] &&
		wrap="env LD_PRELOAD=$FAKETIME_LIB FAKETIME=$(printf '%+ds' "${SKEW[s$i]}") FAKETIME_DONT_FAKE_MONOTONIC=1"
	sleepd_conf "s$i" "$i" "$D" "$EXTRA
[sleep]
ports = ${PORTS[s$i]}" > "$D/s$i.conf"
	ip netns exec "s$i" $wrap "$SLEEPD" -c "$D/s$i.conf" 2>> "$D/s$i.err" &
	# The driver kills and restarts daemons: it keeps their pids here.
	echo $! > "$D/s$i.pid"
done
# Stop every daemon at once at the end.
daemon_pids() { local i; for ((i = 1; i <= N; i++)); do cat "$D/s$i.pid"; done; }
defer "kill \$(daemon_pids) 2>/dev/null; sleep 3; kill -9 \$(daemon_pids) 2>/dev/null"
sockets() { local i; for ((i = 1; i <= N; i++)); do [ -S "$D/s$i.sock" ] || return 1; done; }
wait_for 120 sockets || {
	ok=0
	for ((i = 1; i <= N; i++)); do
		[ -S "$D/s$i.sock" ] || ktap_diag "s$i did not start: $(tail -n 3 "$D/s$i.err")"
	done
}
ktap_diag "daemons started in $(elapsed $t) s"
# Converged?  Asked every 5 s: each question is a Python process (over a
# second under emulation) asking all N daemons for their whole view.
conv=0
for ((k = 0; ok && k < 36; k++)); do
	$PY "$SIM" converged "$D" "$N" > "$D/converged.out" 2>&1 && { conv=1; break; }
	sleep 5
done
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
ip netns exec cl $PY "$SIM" drive "$D/schedule.json" "$D" "$D/driver.jsonl" \
	--sleepd "$SLEEPD" --faketime "$FAKETIME_LIB" 2> "$D/driver.err"
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
	echo "timers (the defaults): hello 5 s, probe 5 s x 3 peers, probe timeout 1 s, dead-after 15 s, intent 1 s;" \
		"guardians 1; resume delay $RESUME_DELAY s; client connect limit 30 s (open ports), 8 s (closed)"
	$PY "$SIM" analyze "$D" "$N" "$D/schedule.json" "$D/driver.jsonl" \
		"$D/snap0.json" "$D/snap1.json" "$JSON" --resume-delay "$RESUME_DELAY" \
		--plot "$PNG" 2>&1
} | tee "$OUT" | sed 's/^/# /'
if [ -s "$JSON" ]; then
	ktap_ok "figures computed ($OUT, $JSON)"
else
	ktap_fail "figures computed"
fi
ktap_check "plot drawn ($PNG)" test -s "$PNG"
summ() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$JSON" "$1" 2> /dev/null; }
ft=$(summ false_takeovers) mw=$(summ missed)
ktap_check "no host taken over while awake (false takeovers: ${ft:-?})" [ "${ft:-1}" = 0 ]
ktap_check "no missed wake (missed: ${mw:-?} of $(summ to_sleepers))" [ "${mw:-1}" = 0 ]
ktap_finish
