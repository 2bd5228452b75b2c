#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A host that sleeps and resumes during a partition takes over nobody on
# the other side (Documentation/sleep.rst, Takeover).
# Five simulated hosts s1-s5; s4 and s5 are cut off from s1-s3 (their
# bridge ports moved to a second bridge, as sleep_sim.sh does):
#
#  - s1 finds s4 and s5 silent together and holds their takeover;
#  - s1 sleeps and is woken by s2;
#  - after its resume, s1 still counts s4 and s5 silent since before its
#    sleep, and for 2 x dead-after nobody on its side takes them over: s1's
#    module intercepts neither, and s2's and s3's ARP caches keep their
#    own MACs;
#  - the partition heals: every host awake in every view, no awake host
#    was ever taken over.
#
# (A resume used to give every peer a fresh silence: s1 heard "everyone",
# isolated() and correlated() saw nobody silent, and it took s4 and s5
# over within a second of its resume.)
#
# dead-after is 5 s here, not the suite's 2 s: the old code's takeovers
# came only while the reset silences were shorter than dead-after / 2
# (then correlated() holds again), and 1 s was too short for a
# confirmation after the simulated resume under emulation (seen on 6.12).
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3 s4 s5)
CUT=(s4 s5)
DEAD_MS=5000
SLEEPD_TIMERS="hello-interval = 0.5
probe-interval = 1
probes-per-period = 2
probe-timeout = 0.4
dead-after = $((DEAD_MS / 1000))
intent-wait = 0.5"

ktap_plan 10

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge || { ktap_fail "bridge"; ktap_finish; }
for i in 1 2 3 4 5; do
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
# The other side of the partition (deleted before the hosts: LIFO).
ip link add slp-br2 type bridge mcast_snooping 0 && defer ip link del slp-br2 &&
	ip link set slp-br2 up || { ktap_fail "second bridge"; ktap_finish; }
ktap_check "five daemons see each other awake" \
	wait_for 20 sleepd_all_awake "$D" "${HOSTS[@]}"
# Neighbour entries for s4 and s5 on s1-s3: a takeover's gratuitous ARP
# (or the module's answers) would change them.
for h in s1 s2 s3; do
	for c in "${CUT[@]}"; do
		ip netns exec "$h" ping -c1 -W1 "$(snet_addr "${c#s}")" > /dev/null
	done
done

# ---- the partition ------------------------------------------------------------
for c in "${CUT[@]}"; do ip link set "$c-p" master slp-br2; done
held_both() {
	log_has s1 "$D" takeover-held peer s4 && log_has s1 "$D" takeover-held peer s5
}
if wait_for 15 held_both; then
	ktap_ok "partition: s1 finds s4 and s5 silent together and holds their takeover"
else
	ktap_diag "$(grep -v '"hello"' "$D/s1.log" | tail -n 20)"
	ktap_fail "partition: s1 finds s4 and s5 silent together and holds their takeover"
fi

# ---- s1 sleeps, is woken -----------------------------------------------------------
"$VRDMACTL" sleep request sleep socket "$D/s1.sock" > /dev/null
# (s2 and s3 hear too few peers while s4 and s5 are in their memory, 4 x
# dead-after: nobody manages s1 that long, and s2 wakes it unmanaged.)
s1_asleep() {
	[ "$(self_state s1 "$D")" = asleep ] && [ "$(peer_of s2 "$D" s1 state)" = asleep ]
}
if wait_for 10 s1_asleep; then
	ktap_ok "s1 sleeps (and s2 sees it asleep)"
else
	ktap_diag "s1: $(self_state s1 "$D"), in s2's view: $(peer_of s2 "$D" s1 state)"
	ktap_fail "s1 sleeps (and s2 sees it asleep)"
	ktap_finish
fi
"$VRDMACTL" sleep request wake s1 socket "$D/s2.sock" > /dev/null
s1_awake() { [ "$(self_state s1 "$D")" = awake ] && log_has s1 "$D" resume; }
if wait_for 10 s1_awake; then
	ktap_ok "s2 wakes s1: s1 resumed"
else
	ktap_fail "s2 wakes s1: s1 resumed"
	ktap_finish
fi

# ---- after the resume -----------------------------------------------------------
t_slept=$(log_ts s1 "$D" sleep)
t_query=$(date +%s.%N)
ago4=$(peer_of s1 "$D" s4 heard_ms_ago) ago5=$(peer_of s1 "$D" s5 heard_ms_ago)
# They fell silent before s1 slept: in s1's view they have been silent
# since before its sleep (a resume that forgot it says since the resume).
min_ms=$(ms_between "$t_slept" "$t_query")
if [ -n "$ago4" ] && [ -n "$ago5" ] && [ "$ago4" -gt "$min_ms" ] && [ "$ago5" -gt "$min_ms" ]; then
	ktap_ok "after its resume, s1 counts s4 and s5 silent since before its sleep (${ago4} and ${ago5} ms > ${min_ms} ms)"
else
	ktap_fail "after its resume, s1 counts s4 and s5 silent since before its sleep ('$ago4' and '$ago5' ms, slept ${min_ms} ms ago)"
fi
took_cut() { [ -n "$(takeovers_of "$D" "${CUT[*]}" s1 s2 s3)" ]; }
t_resume=$(log_ts s1 "$D" resume)
# Twice dead-after: the old code's takeovers came within dead-after / 2
# of the resume and a confirmation (probe-timeout 0.4 s).
win=$((2 * DEAD_MS / 1000))
if ! wait_for "$win" took_cut; then
	ktap_ok "for $win s after its resume, nobody takes s4 or s5 over"
else
	ktap_diag "$(takeovers_of "$D" "${CUT[*]}" s1 s2 s3)" \
		"s1 resumed at $t_resume"
	ktap_fail "for $win s after its resume, nobody takes s4 or s5 over"
fi
owned_cut() {
	local c
	for c in "${CUT[@]}"; do
		kpeer_free s1 "$(snet_addr "${c#s}")" ||
			{ echo "s1's module intercepts $c"; return 1; }
	done
	neigh_owned s2 "${CUT[@]}" && neigh_owned s3 "${CUT[@]}"
}
ktap_check "s1's module intercepts neither s4 nor s5; s2's and s3's ARP caches keep their own MACs" owned_cut

# ---- the partition heals -------------------------------------------------------
for c in "${CUT[@]}"; do ip link set "$c-p" master slp-br; done
ktap_check "healed: every host awake in every view" \
	wait_for 20 sleepd_all_awake "$D" "${HOSTS[@]}"
# s1 was rightly taken over while it slept; nobody else ever.
wrong=$(takeovers_of "$D" "s2 s3 s4 s5" "${HOSTS[@]}")
if [ -z "$wrong" ]; then
	ktap_ok "no awake host was taken over"
else
	ktap_diag "$wrong"
	ktap_fail "no awake host was taken over"
fi
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
