#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The minimum-awake rule holds (issue 15, S4).  s1-s3 can manage, s4
# cannot; one guardian is required.
#
#  - s3 dies (daemon killed, link down) and, before anybody finds it
#    silent, s1 and s2 both ask to sleep: one of them stays awake.
#  - Every INTENT between s1 and s2 is lost, and both ask to sleep at
#    once: one of them stays awake.
#
# Then a guardian is awake in s4's view and the sleeper is managed by it.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }

# Slow timers: a dead peer stays "awake" by silence for 10 s, and no
# periodic HELLO (every 3 s) is likely to tell an intent within the 0.5 s
# intent-wait; the decisions must not depend on them.
SLEEPD_TIMERS="hello-interval = 3
probe-interval = 10
probes-per-period = 1
probe-timeout = 0.4
dead-after = 10
intent-wait = 0.5"

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3 s4)

ktap_plan 6

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge || { ktap_fail "bridge"; ktap_finish; }
for i in 1 2 3 4; do
	extra=
	[ $i = 4 ] && extra="[manage]
can-manage = no"
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" "$extra" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
wait_for 25 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	{ ktap_fail "four daemons see each other"; ktap_finish; }

state() { self_state "$1" "$D"; }
decided() {	# decided NS COUNT0: NS slept or refused since COUNT0 decisions
	[ $(($(log_count "$1" "$D" sleep) + $(log_count "$1" "$D" sleep-refused))) -gt "$2" ]
}
both_try() {	# s1 and s2 ask to sleep at once; waits until both decided
	local d1 d2
	d1=$(($(log_count s1 "$D" sleep) + $(log_count s1 "$D" sleep-refused)))
	d2=$(($(log_count s2 "$D" sleep) + $(log_count s2 "$D" sleep-refused)))
	"$VRDMACTL" sleep request sleep socket "$D/s1.sock" > /dev/null &
	local req=$!
	"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
	wait "$req"
	wait_for 10 decided s1 "$d1"
	wait_for 10 decided s2 "$d2"
}
guardian_kept() {	# one of s1, s2 awake; the other, if asleep, managed by it
	local a=
	[ "$(state s1)" = awake ] && a=s1
	[ "$(state s2)" = awake ] && a="$a s2"
	[ -n "$a" ] || { echo "s1 and s2 both asleep"; return 1; }
	echo "awake: $a"
}
sleeper_managed() {	# the asleep one of s1, s2 is managed, in s4's view
	local h
	for h in s1 s2; do
		[ "$(state "$h")" = asleep ] || continue
		[ -n "$(peer_of s4 "$D" "$h" manager)" ] || return 1
	done
}
both_awake() { [ "$(state s1)" = awake ] && [ "$(state s2)" = awake ]; }
s4_sees_both() {
	[ "$(sleepd_q s4 "$D" '[.peers[] | select(.state == "awake" and (.name == "s1" or .name == "s2"))] | length')" = 2 ]
}
wake_all() {
	local h
	for h in s1 s2; do
		[ "$(state "$h")" = asleep ] &&
			"$VRDMACTL" sleep request wake "$h" socket "$D/s4.sock" > /dev/null
	done
	wait_for 25 both_awake
}

# ---- a dead peer counts as awake ---------------------------------------------
kill -9 "$(sleepd_pid s3)"
wait "$(sleepd_pid s3)" 2> /dev/null
ip -n s3 link set eth0 down
both_try
out=$(guardian_kept)
ktap_diag "$out"
ktap_check "s3 dead, s1 and s2 ask to sleep at once: one stays awake" guardian_kept
ktap_check "the sleeper is managed (s4's view)" wait_for 15 sleeper_managed
wake_all || ktap_diag "s1 and s2 not both awake again"
wait_for 20 s4_sees_both

# ---- lost INTENTs ---------------------------------------------------------------
drop_msg_type s1 7
drop_msg_type s2 7
both_try
out=$(guardian_kept)
ktap_diag "$out"
ktap_check "every INTENT between s1 and s2 lost, both ask to sleep: one stays awake" guardian_kept
ktap_check "the sleeper is managed (s4's view)" wait_for 15 sleeper_managed
guardian_seen() {
	[ "$(sleepd_q s4 "$D" 'any(.peers[]; .state == "awake" and .can_manage)')" = true ]
}
ktap_check "s4 sees a guardian awake" guardian_seen
ktap_check "the daemons logged no error" logs_clean "$D" s1 s2 s4
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
