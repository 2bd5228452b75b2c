#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One isolated host takes over nobody (issue 15, S2).  Four simulated hosts
# s1-s4 and a client cl, each host with a TCP service on 8080.
#
#  - s4's clock steps 90 s ahead (libfaketime, its daemon only), beyond
#    any replay window: nobody is taken over, every host stays awake in
#    every view.
#  - s4's receive path drops everything (tc on its link): s4 hears nobody
#    and takes over nobody.
#
# In both, the client's and the hosts' ARP caches keep every host's own
# MAC, and connections from the client land on s1 and s4.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2> /dev/null | head -n 1)
[ -n "$FAKETIME_LIB" ] || { echo "# libfaketime not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3 s4)

ktap_plan 8

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge && snet_host cl 200 || { ktap_fail "namespaces"; ktap_finish; }
echo "+0" > "$D/s4.faketime"
for i in 1 2 3 4; do
	wrap=
	[ $i = 4 ] && wrap="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$D/s4.faketime FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1"
	snet_host "s$i" "$i" && tcp_server "s$i" 8080 &&
		SLEEPD_WRAP=$wrap sleepd_start "s$i" "$i" "$D" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	{ ktap_fail "four daemons see each other awake"; ktap_finish; }
for i in 1 2 3 4; do tcp_lands cl "$(snet_addr $i)" 8080; done
for i in 1 2 3; do ip netns exec s4 ping -c1 -W1 "$(snet_addr $i)" > /dev/null; done

any_takeover() { [ -n "$(takeovers_of "$D" "${HOSTS[*]}" "${HOSTS[@]}")" ]; }
owned_everywhere() {
	neigh_owned cl "${HOSTS[@]}" && neigh_owned s4 s1 s2 s3 &&
		neigh_owned s1 s2 s3 s4
}

# ---- a stepped clock --------------------------------------------------------------------
echo "+90" > "$D/s4.faketime"
# dead-after (2 s), probes and takeover delays: 10 s is several times that.
if ! wait_for 10 any_takeover; then
	ktap_ok "s4's clock stepped 90 s ahead: nobody takes anybody over (10 s)"
else
	ktap_diag "$(takeovers_of "$D" "${HOSTS[*]}" "${HOSTS[@]}")"
	ktap_fail "s4's clock stepped 90 s ahead: nobody takes anybody over (10 s)"
fi
ktap_check "every host is awake in every view" sleepd_all_awake "$D" "${HOSTS[@]}"
ktap_check "ARP caches keep every host's own MAC; connections land on s1 and s4" \
	bash -c "$(declare -f neigh_owned neigh_mac ns_mac snet_addr owned_everywhere tcp_lands); PY=$PY HOSTS=(${HOSTS[*]}); owned_everywhere && tcp_lands cl $(snet_addr 1) 8080 && tcp_lands cl $(snet_addr 4) 8080"
echo "+0" > "$D/s4.faketime"
wait_for 10 sleepd_all_awake "$D" "${HOSTS[@]}"

# ---- a dropped receive path ---------------------------------------------------------------
n0=$(log_count s4 "$D" takeover)
port_filter s4-p pref 1 protocol all matchall action drop
s4_took() { [ "$(log_count s4 "$D" takeover)" != "$n0" ]; }
if ! wait_for 10 s4_took; then
	ktap_ok "s4's receive path drops everything: s4 takes nobody over (10 s)"
else
	ktap_diag "$(takeovers_of "$D" "${HOSTS[*]}" s4)"
	ktap_fail "s4's receive path drops everything: s4 takes nobody over (10 s)"
fi
ktap_check "the client's and s1's ARP caches keep every host's own MAC" \
	bash -c "$(declare -f neigh_owned neigh_mac ns_mac snet_addr); PY=$PY; neigh_owned cl s1 s2 s3 s4 && neigh_owned s1 s2 s3 s4"
ktap_check "a connection from the client lands on s1" tcp_lands cl "$(snet_addr 1)" 8080
tc filter del dev s4-p egress pref 1
ktap_check "s4 hears again: every host awake in every view" \
	wait_for 10 sleepd_all_awake "$D" "${HOSTS[@]}"
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
