#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Live hosts are never taken over (issue 15, S1 and S3).  Three simulated
# hosts s1-s3 and a client cl; s2 runs a TCP service on 8080.
#
#  - s2's daemon is killed (SIGKILL): s2 itself is alive.  Nobody takes it
#    over, the client's and the peers' ARP caches keep s2's own MAC, and a
#    connection from the client lands on s2.
#  - s2's daemon is frozen (SIGSTOP) longer than dead-after, then resumes
#    (SIGCONT): same, and every peer sees it awake again.
#  - S3: s1 stops hearing s2 (its receive path drops s2's frames) and takes
#    it over wrongly, while every MANAGE to s2 is lost.  s2 reclaims its
#    addresses from s1's HELLO (its MANAGES list), and once s1 hears s2
#    again, the client's ARP entry is s2's and its connections land on s2.
#
# Every check is on what other hosts see (neighbour caches, where a TCP
# connection lands), besides the daemons' logs.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
S2=$(snet_addr 2)

ktap_plan 12

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge && snet_host s1 1 && snet_host s2 2 && snet_host s3 3 &&
	snet_host cl 200 || { ktap_fail "namespaces"; ktap_finish; }
tcp_server s2 8080
for i in 1 2 3; do
	sleepd_start "s$i" "$i" "$D" || { ktap_fail "daemon s$i starts"; ktap_finish; }
done
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	{ ktap_fail "three daemons see each other awake"; ktap_finish; }
# Neighbour entries for s2 everywhere: the client connects, the peers ping.
tcp_lands cl "$S2" 8080
ip netns exec s1 ping -c1 -W1 "$S2" > /dev/null
ip netns exec s3 ping -c1 -W1 "$S2" > /dev/null

# Pass when nobody took s2 over during WINDOW seconds (polled).
not_taken_over() {	# not_taken_over WINDOW
	! wait_for "$1" took_over "$D" s2 s1 s3
}

# ---- S1: the daemon of a live host dies ----------------------------------------
kill -9 "$(sleepd_pid s2)"
wait "$(sleepd_pid s2)" 2> /dev/null
# dead-after 2 s, then the takeover delays: 8 s is twice what it took.
if not_taken_over 8; then
	ktap_ok "s2's daemon killed, s2 alive: nobody takes it over (8 s)"
else
	ktap_diag "$(takeovers_of "$D" s2 s1 s3)"
	ktap_fail "s2's daemon killed, s2 alive: nobody takes it over (8 s)"
fi
ktap_check "the client and the peers keep s2's own MAC in their ARP caches" \
	bash -c "$(declare -f neigh_owned neigh_mac ns_mac snet_addr); PY=$PY; neigh_owned cl s2 && neigh_owned s1 s2 && neigh_owned s3 s2"
ktap_check "a connection from the client lands on s2" tcp_lands cl "$S2" 8080
ktap_check "no module intercepts s2" bash -c "$(declare -f peer_field kpeer_free); VRDMACTL=$VRDMACTL PY=$PY; kpeer_free s1 $S2 && kpeer_free s3 $S2"

# ---- S1: frozen daemon, then resumed ----------------------------------------------
sleepd_start s2 2 "$D" || { ktap_fail "s2's daemon restarts"; ktap_finish; }
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	ktap_diag "after the restart: $(sleepd_status s1 "$D")"
n1=$(log_count s1 "$D" takeover peer s2) n3=$(log_count s3 "$D" takeover peer s2)
kill -STOP "$(sleepd_pid s2)"
stopped() {
	[ "$(log_count s1 "$D" takeover peer s2)" = "$n1" ] &&
	[ "$(log_count s3 "$D" takeover peer s2)" = "$n3" ]
}
ok=1
end=$(($(date +%s) + 8))
while [ "$(date +%s)" -lt "$end" ]; do stopped || { ok=0; break; }; sleep 0.2; done
kill -CONT "$(sleepd_pid s2)"
if [ $ok = 1 ]; then
	ktap_ok "s2's daemon frozen (SIGSTOP) for 8 s: nobody takes s2 over"
else
	ktap_diag "$(takeovers_of "$D" s2 s1 s3)"
	ktap_fail "s2's daemon frozen (SIGSTOP) for 8 s: nobody takes s2 over"
fi
ktap_check "resumed (SIGCONT): every peer sees s2 awake" \
	wait_for 10 sleepd_all_awake "$D" "${HOSTS[@]}"
ktap_check "the client and the peers still have s2's own MAC; a connection lands on s2" \
	bash -c "$(declare -f neigh_owned neigh_mac ns_mac snet_addr tcp_lands); PY=$PY; neigh_owned cl s2 && neigh_owned s1 s2 && neigh_owned s3 s2 && tcp_lands cl $S2 8080"

# ---- S3: a wrong takeover while the MANAGE is lost ----------------------------------
drop_msg_type s2 4				# every MANAGE to s2 is lost
port_filter s1-p pref 11 protocol all flower src_mac "$(ns_mac s2)" action drop
if wait_for 15 took_over "$D" s2 s1; then
	ktap_ok "s1, deaf to s2, took it over"
else
	ktap_diag "$(grep -v '"hello"' "$D/s1.log" | tail -n 20)"
	ktap_fail "s1, deaf to s2, took it over"
	ktap_finish
fi
# s1 hears s2 again (the MANAGE filter stays).
tc filter del dev s1-p egress pref 11
ktap_check "s1 hears s2 again: it no longer manages s2" \
	bash -c "$(declare -f peer_field kpeer_free wait_for); VRDMACTL=$VRDMACTL PY=$PY; wait_for 10 kpeer_free s1 $S2"
own() { neigh_owned cl s2 && neigh_owned s3 s2 && [ -n "$(neigh_mac cl "$S2")" ]; }
if wait_for 10 own; then
	ktap_ok "s2 reclaimed its address: the client's and s3's ARP entries are s2's MAC"
else
	ktap_diag "$(own)"
	ktap_fail "s2 reclaimed its address: the client's and s3's ARP entries are s2's MAC"
fi
ktap_check "a connection from the client lands on s2" tcp_lands cl "$S2" 8080
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 40)"; done
fi
ktap_finish
