#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The layer-2 liveness defence over IPv6 (issue 15): what other hosts see
# of a live host's IPv6 address.  Three simulated hosts s1-s3 and a
# client cl; s2 runs a TCP service on 8080 (IPv4 and IPv6).
#
#  - s2's daemon is killed (SIGKILL): s2 itself is alive.  Nobody takes it
#    over, the client's and the peers' neighbour caches keep s2's own MAC
#    for its IPv6 address, and a connection from the client to that
#    address lands on s2.
#  - s2 sleeps and is managed (the client's neighbour entry for its IPv6
#    address moves to the manager's MAC); its daemon is killed while it
#    sleeps, and s2 comes back by itself and configures its IPv6 address
#    again: the kernel runs duplicate address detection, a neighbour
#    solicitation for that address from s2's MAC.  That solicitation is the owner
#    speaking: the manager must let s2 go at once, without a wake, and
#    must not answer it (an answer fails s2's DAD, and s2 loses its IPv6
#    address).  The client's neighbour entry and its connections are s2's
#    again.
#
# Every check is on what other hosts see (neighbour caches, where a TCP
# connection lands, the owner's address state), besides the daemons' logs.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
S2=$(snet_addr 2)
S26=$(snet_addr6 2)

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
ktap_ok "three daemons see each other awake"
# Neighbour entries for s2's IPv6 address everywhere.
tcp_lands cl "$S26" 8080
ip netns exec s1 ping -6 -c1 -W1 "$S26" > /dev/null
ip netns exec s3 ping -6 -c1 -W1 "$S26" > /dev/null

# neigh6_owned NS PEER-NS...: NS's neighbour entry for each PEER-NS's IPv6
# address is PEER-NS's own MAC (or absent, never another MAC).
neigh6_owned() {
	local ns=$1 p mac bad=0
	shift
	for p in "$@"; do
		mac=$(neigh_mac "$ns" "$(snet_addr6 "${p#s}")")
		if [ -n "$mac" ] && [ "$mac" != "$(ns_mac "$p")" ]; then
			echo "$ns sees $p ($(snet_addr6 "${p#s}")) at $mac, not $(ns_mac "$p")"
			bad=1
		fi
	done
	return $bad
}
diag_neigh6() {
	local ns
	for ns in cl s1 s3; do
		ktap_diag "$ns: $(ip -n "$ns" -6 neigh show "$S26" dev eth0)"
	done
	ktap_diag "s2 is $(ns_mac s2), s1 $(ns_mac s1), s3 $(ns_mac s3)"
}

# ---- the daemon of a live host dies -------------------------------------------
kill -9 "$(sleepd_pid s2)"
wait "$(sleepd_pid s2)" 2> /dev/null
# dead-after 2 s, then the takeover delays: as live_test.sh.
if ! wait_for 8 took_over "$D" s2 s1 s3; then
	ktap_ok "s2's daemon killed, s2 alive: nobody takes it over (8 s)"
else
	ktap_diag "$(takeovers_of "$D" s2 s1 s3)"
	ktap_fail "s2's daemon killed, s2 alive: nobody takes it over (8 s)"
fi
s2_owned6() {
	neigh6_owned cl s2 && neigh6_owned s1 s2 && neigh6_owned s3 s2 &&
		[ -n "$(neigh_mac cl "$S26")" ]
}
if s2_owned6; then
	ktap_ok "the client's and the peers' neighbour entries for s2's IPv6 address are s2's MAC"
else
	diag_neigh6
	ktap_fail "the client's and the peers' neighbour entries for s2's IPv6 address are s2's MAC"
fi
ktap_check "a connection from the client to s2's IPv6 address lands on s2" \
	tcp_lands cl "$S26" 8080

# ---- a sleeper back by itself: its IPv6 duplicate address detection ------------
sleepd_start s2 2 "$D" || { ktap_fail "s2's daemon restarts"; ktap_finish; }
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	ktap_diag "after the restart: $(sleepd_status s1 "$D")"
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
wait_for 10 manager_of "$D" s2 s1 s3 > /dev/null ||
	{ ktap_fail "s2 sleeps and is managed"; ktap_finish; }
mgr=$(manager_of "$D" s2 s1 s3 | awk '{ print $1 }')
other=s1; [ "$mgr" = s1 ] && other=s3
cl_sees6() { [ "$(neigh_mac cl "$S26")" = "$(ns_mac "$mgr")" ]; }
if wait_for 5 cl_sees6; then
	ktap_ok "s2 sleeps, managed by $mgr: the client's entry for its IPv6 address is $mgr's MAC"
else
	diag_neigh6
	ktap_fail "s2 sleeps, managed by $mgr: the client's entry for its IPv6 address is $mgr's MAC"
fi

# s2's daemon dies while s2 sleeps; s2 comes back by itself: the simulated
# sleep's drop is lifted, its processes resume, and it configures its IPv6
# address again, with duplicate address detection (as a host does that
# boots, or whose network manager configures its link again on resume):
# the kernel's solicitation leaves at once (router_solicitation_delay 0),
# from s2's MAC and the unspecified address.
kill -9 "$(sleepd_pid s2)"
wait "$(sleepd_pid s2)" 2> /dev/null
ip netns exec s2 sh -c "sysctl -qw net.ipv6.conf.eth0.accept_dad=1 \
		net.ipv6.conf.eth0.router_solicitation_delay=0 &&
	ip addr del $S26/64 dev eth0" ||
	{ ktap_fail "s2's address removed for DAD"; ktap_finish; }
ip netns pids s2 | xargs -r kill -CONT
t0=$(date +%s.%N)
ip netns exec s2 sh -c "tc qdisc del dev eth0 clsact && ip addr add $S26/64 dev eth0" ||
	{ ktap_fail "s2's drop lifted, its address added with DAD"; ktap_finish; }

# The address leaves the tentative state (DAD takes 1 s): passed, or failed.
dad_failed() { ip -n s2 -6 addr show dev eth0 | grep "$S26/" | grep -q dadfailed; }
dad_done() { ! ip -n s2 -6 addr show dev eth0 | grep "$S26/" | grep -q tentative; }
dad_settled() { dad_failed || dad_done; }
wait_for 10 dad_settled
if dad_failed; then
	ktap_diag "s2: $(ip -n s2 -6 addr show dev eth0 | grep "$S26/")"
	ktap_fail "s2's duplicate address detection passes: its manager did not answer it"
elif ! dad_done; then
	ktap_fail "s2's duplicate address detection passes (still tentative after 10 s)"
else
	ktap_ok "s2's duplicate address detection passes: its manager did not answer it"
fi
released() { ! manager_of "$D" s2 "$mgr" "$other" > /dev/null && kpeer_free "$mgr" "$S2"; }
if wait_for 5 released; then
	how=$($JQ -R -n -r --argjson t0 "$t0" '[inputs | fromjson? | objects |
		select(.event == "owner-alive" and .peer == "s2" and .ts > $t0)][0] |
		"\(.how // "?") after \((((.ts // $t0) - $t0) * 1000) | floor) ms"' \
		"$D/$mgr.log")
	ktap_ok "$mgr let s2 go at once (owner alive: $how)"
else
	ktap_diag "$(grep -v '"hello"' "$D/$mgr.log" | tail -n 10)"
	ktap_fail "$mgr let s2 go at once"
fi
if ! LOG_SINCE=$t0 log_has "$mgr" "$D" wake peer s2 &&
   ! LOG_SINCE=$t0 log_has "$other" "$D" wake peer s2; then
	ktap_ok "nobody woke s2"
else
	ktap_fail "nobody woke s2 ($mgr: $(LOG_SINCE=$t0 log_count "$mgr" "$D" wake peer s2), $other: $(LOG_SINCE=$t0 log_count "$other" "$D" wake peer s2))"
fi
back6() { neigh6_owned cl s2 && neigh6_owned "$other" s2 && [ -n "$(neigh_mac cl "$S26")" ]; }
if wait_for 5 back6; then
	ktap_ok "the client's and $other's entries for s2's IPv6 address are s2's MAC again"
else
	diag_neigh6
	ktap_fail "the client's and $other's entries for s2's IPv6 address are s2's MAC again"
fi
ktap_check "a connection from the client to s2's IPv6 address lands on s2" \
	tcp_lands cl "$S26" 8080
# No takeover of the live s2 after the release (as in the first phase).
if ! LOG_SINCE=$t0 wait_for 5 took_over "$D" s2 s1 s3; then
	ktap_ok "nobody takes the live s2 over again (5 s)"
else
	ktap_diag "$(takeovers_of "$D" s2 s1 s3)"
	ktap_fail "nobody takes the live s2 over again (5 s)"
fi
ktap_check "s1 and s3 logged no error" logs_clean "$D" s1 s3
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
