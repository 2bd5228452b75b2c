#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A manager whose daemon dies keeps its sleepers (the module's orphan
# interception).  Three simulated hosts s1-s3 and a client cl; s2 runs a
# TCP service on 8080 and sleeps; its manager's daemon is killed
# (SIGKILL): its module keeps answering for s2 and, for the client's SYN,
# sends the magic packet itself, before the other hosts have even found
# the dead daemon silent; the connection lands on s2.  When another host
# announces a sleeper, the dead daemon's module lets it go.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
S2=$(snet_addr 2)

ktap_plan 5

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge && snet_host cl 200 || { ktap_fail "namespaces"; ktap_finish; }
for i in 1 2 3; do
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
tcp_server s2 8080
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	{ ktap_fail "three daemons see each other"; ktap_finish; }
tcp_lands cl "$S2" 8080
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
wait_for 10 manager_of "$D" s2 s1 s3 > /dev/null ||
	{ ktap_fail "s2 sleeps and is managed"; ktap_finish; }
mgr=$(manager_of "$D" s2 s1 s3 | awk '{ print $1 }')
other=s1; [ "$mgr" = s1 ] && other=s3
wait_for 5 bash -c "[ \"\$(ip -n cl neigh show $S2 dev eth0 | awk '{ print \$3 }')\" = $(ns_mac "$mgr") ]"

kill -9 "$(sleepd_pid "$mgr")"
wait "$(sleepd_pid "$mgr")" 2> /dev/null
t0=$(date +%s.%N)
kept() {
	ip netns exec "$mgr" "$VRDMACTL" -j sleep peer show |
		$PY -c 'import json,sys; a = json.load(sys.stdin); sys.exit(not (len(a) == 1 and a[0].get("managed") and a[0]["addr"] == sys.argv[1]))' "$S2"
}
ktap_check "$mgr's daemon killed: its module keeps s2 (and only s2) intercepted" wait_for 3 kept
if out=$(ip netns exec cl timeout 25 $PY -c "
import socket
s = socket.create_connection(('$S2', 8080), timeout=20)
print(s.recv(16).decode().strip())" 2>&1) && [ "$out" = hello ]; then
	ms=$(ms_between "$t0" "$(date +%s.%N)")
	ktap_ok "a connection to s2 wakes it and lands on it (${ms} ms after the kill)"
else
	ktap_fail "a connection to s2 wakes it and lands on it"
fi
mp=$(log_ts s2 "$D" magic-packet)
to=$(log_ts "$other" "$D" takeover peer s2 || echo 9999999999)
if [ -n "$mp" ] && $PY -c "import sys; sys.exit(not float('$mp') < float('$to'))" &&
   ! log_has "$other" "$D" wake peer s2; then
	ktap_ok "the magic packet came from $mgr's module: before $other took s2 over, and $other sent none"
else
	ktap_fail "the magic packet came from $mgr's module (magic $mp, $other's takeover $to)"
fi
# s2 is awake and announced itself: the orphan interception let it go
# (the owner spoke), and answers for it no more.
ktap_check "the client's ARP entry is s2's own MAC again; a connection lands on s2" \
	bash -c "$(declare -f neigh_owned neigh_mac ns_mac snet_addr tcp_lands wait_for); PY=$PY; wait_for 5 neigh_owned cl s2 && tcp_lands cl $S2 8080"
ktap_check "the daemons logged no error" logs_clean "$D" s2 "$other"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
