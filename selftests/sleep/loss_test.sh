#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packet loss and delay (tc netem on every host's link, both directions):
# 5 %, then 20 % loss, 10 ms +- 5 ms delay.  Four simulated hosts s1-s4
# and a client cl; s2 runs a TCP service on 8080 and sleeps.  For 15 s in
# each phase (sampled): no awake host is taken over, and s2 stays managed (a daemon
# claims it and that daemon's module intercepts it; the client's ARP entry
# for s2 is its manager's MAC); then a connection from the client wakes s2
# and lands on it.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }
modprobe sch_netem 2> /dev/null

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3 s4)
S2=$(snet_addr 2)

ktap_plan 9

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge && snet_host cl 200 || { ktap_fail "namespaces"; ktap_finish; }
for i in 1 2 3 4; do
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
tcp_server s2 8080
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	{ ktap_fail "four daemons see each other awake"; ktap_finish; }
tcp_lands cl "$S2" 8080

netem() {	# netem LOSS: on both ends of every host's link
	local h op=add
	tc qdisc show dev s1-p | grep -q netem && op=change
	for h in "${HOSTS[@]}" cl; do
		tc qdisc $op dev "$h-p" root netem loss "$1" delay 10ms 5ms || return 1
		tc -n "$h" qdisc $op dev eth0 root netem loss "$1" delay 10ms 5ms || return 1
	done
}
managed_by() {	# the daemon that claims s2 and whose module intercepts it
	local m
	for m in $(manager_of "$D" s2 s1 s3 s4); do
		[ "$(peer_field "$m" "$S2" managed)" = True ] && { echo "$m"; return 0; }
	done
	return 1
}

phase() {	# phase LOSS
	local loss=$1 mgr bad=0 i t0 seen=0
	netem "$loss" || { ktap_fail "netem $loss"; return; }
	t0=$(log_count s2 "$D" sleep)
	"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
	if ! wait_for 10 managed_by; then
		ktap_fail "$loss loss: s2 sleeps and is managed"
		return
	fi
	mgr=$(managed_by)
	# 15 s, sampled as fast as the status queries go: s2 managed,
	# nobody awake taken over.
	local end=$(($(date +%s) + 15)) n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		managed_by > /dev/null || { bad=$((bad + 1)); ktap_diag "sample $n: s2 unmanaged"; }
	done
	local wrong
	wrong=$(takeovers_of "$D" "s1 s3 s4" "${HOSTS[@]}")
	if [ -z "$wrong" ]; then
		ktap_ok "$loss loss, 15 s: no awake host taken over"
	else
		ktap_diag "$wrong"
		ktap_fail "$loss loss, 15 s: no awake host taken over"
	fi
	mgr=$(managed_by)
	# The manager's announcements may all have been lost on the way to
	# the client: a packet to s2 makes the client ask again.
	ip netns exec cl ping -c 2 -i 0.5 -W 1 "$S2" > /dev/null 2>&1
	if [ $bad = 0 ] && [ -n "$mgr" ] &&
	   wait_for 10 bash -c "[ \"\$(ip -n cl neigh show $S2 dev eth0 | awk '{ print \$3 }')\" = $(ns_mac "$mgr") ]"; then
		ktap_ok "$loss loss: s2 managed throughout ($n samples; by $mgr; the client's ARP entry is $mgr's MAC)"
	else
		ktap_fail "$loss loss: s2 managed throughout ($bad of $n samples unmanaged, now '$mgr'; client: $(neigh_mac cl "$S2"))"
	fi
	if tcp_lands_slow; then
		ktap_ok "$loss loss: a connection from the client wakes s2 and lands on it"
	else
		ktap_fail "$loss loss: a connection from the client wakes s2 and lands on it"
	fi
	wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}"
}
tcp_lands_slow() {
	local out
	out=$(ip netns exec cl timeout 40 $PY -c "
import socket
s = socket.create_connection(('$S2', 8080), timeout=35)
print(s.recv(16).decode().strip())" 2>&1) && [ "$out" = hello ]
}

phase 5%
phase 20%
netem 0%
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
ktap_check "every host is awake in every view at the end" \
	wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 40)"; done
fi
ktap_finish
