#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guardians and failover, four simulated hosts (s1-s4), two guardians:
#
#  - every host asks to sleep at once: two sleep (the lowest ids go
#    first), two refuse; the two sleepers are managed by the two awake;
#  - a manager dies (daemon killed, link down): its module's interception
#    goes with its daemon's socket; the others notice, take its sleeper
#    over, and, one guardian short, wake a sleeping manager-capable host.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3 s4)
G2="[manage]
guardians = 2"

ktap_plan 9

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge || { ktap_fail "bridge"; ktap_finish; }
for i in 1 2 3 4; do
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" "$G2" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" || { ktap_fail "four daemons see each other"; ktap_finish; }

# ---- everyone tries to sleep ------------------------------------------------------
reqs=()
for h in "${HOSTS[@]}"; do
	"$VRDMACTL" sleep request sleep socket "$D/$h.sock" > /dev/null &
	reqs+=($!)
done
wait "${reqs[@]}"
state() { self_state "$1" "$D"; }
decided_all() {	# every host slept or refused, and is awake or asleep
	local h s
	for h in "${HOSTS[@]}"; do
		grep -qE '"event":"sleep(-refused)?"' "$D/$h.log" || return 1
	done
	for h in "${HOSTS[@]}"; do
		s=$(state "$h")
		[ "$s" = awake ] || [ "$s" = asleep ] || return 1
	done
}
wait_for 15 decided_all
asleep=() awake=()
for h in "${HOSTS[@]}"; do
	if [ "$(state "$h")" = asleep ]; then asleep+=("$h"); else awake+=("$h"); fi
done
ktap_diag "asleep: ${asleep[*]}; awake: ${awake[*]}"
if [ "${#awake[@]}" -eq 2 ] && [ "${#asleep[@]}" -eq 2 ]; then
	ktap_ok "all four asked to sleep: two guardians stay awake (${awake[*]})"
else
	ktap_fail "all four asked to sleep: two guardians stay awake (${awake[*]})"
fi
nref=0
for h in "${awake[@]}"; do
	# before the intent, at the decision, or promised to another's intent
	grep '"event":"sleep-refused"' "$D/$h.log" | grep -q guardian && nref=$((nref + 1))
done
ktap_check "the two awake refused for the guardians" [ "$nref" -eq 2 ]
ok=1
for h in "${asleep[@]}"; do
	wait_for 5 manager_of "$D" "$h" "${awake[@]}" > /dev/null || ok=0
	ktap_diag "$h: managed by $(manager_of "$D" "$h" "${awake[@]}")"
done
ktap_check "both sleepers are managed by the awake hosts" [ "$ok" -eq 1 ]

# ---- a manager dies -------------------------------------------------------------
# The orphan is the sleeper with the higher id: one guardian short, the
# survivor wakes the lowest sleeping manager-capable host, and it counts a
# peer awake only when heard recently (2 x hello-interval + probe-timeout,
# 1.4 s), sooner than a takeover (dead-after 2 s, then a confirmation):
# with the lowest sleeper as the orphan, the wake came first on 6.1, the
# orphan was awake again and rightly nobody took it over.
first=$(printf '%s\n' "${asleep[@]}" | sort | head -n 1)
orphan=$(printf '%s\n' "${asleep[@]}" | sort | tail -n 1)
victim=$(manager_of "$D" "$orphan" "${awake[@]}" | awk '{ print $1 }')
survivor=${awake[0]}; [ "$survivor" = "$victim" ] && survivor=${awake[1]}
ktap_diag "killing $victim (manager of $orphan); $survivor survives"
t0=$(date +%s.%N)
ns0=$(log_count "$survivor" "$D" takeover peer "$orphan")
nf0=$(log_count "$first" "$D" takeover peer "$orphan")
kill -9 "$(sleepd_pid "$victim")"
wait "$(sleepd_pid "$victim")" 2> /dev/null
ip -n "$victim" link set eth0 down
# Its socket closed: the module keeps only the sleepers it managed.
only_managed() {
	ip netns exec "$victim" "$VRDMACTL" -j sleep peer show |
		$JQ -e 'all(.[]; .managed == true)' > /dev/null
}
if wait_for 3 only_managed; then
	ktap_ok "the dead daemon's domain keeps only the sleepers it managed (its socket closed)"
else
	ktap_diag "$(ip netns exec "$victim" "$VRDMACTL" sleep peer show)"
	ktap_fail "the dead daemon's domain keeps only the sleepers it managed"
fi
# From the logs: the survivor takes it over, or the host it woke (for
# the guardians) does, if it is back first.
taker() {
	if [ "$(log_count "$survivor" "$D" takeover peer "$orphan")" -gt "$ns0" ]; then
		echo "$survivor"
	elif [ "$(log_count "$first" "$D" takeover peer "$orphan")" -gt "$nf0" ]; then
		echo "$first"
	else
		return 1
	fi
}
took_over() { taker > /dev/null; }
if wait_for 10 took_over; then
	ms=$(ms_between "$t0" "$(date +%s.%N)")
	ktap_ok "$orphan was taken over from the dead manager (by $(taker), ${ms} ms, dead-after 2000 ms)"
else
	ktap_diag "$(sleepd_status "$survivor" "$D")"
	ktap_fail "$orphan was taken over from the dead manager"
fi
if log_has "$survivor" "$D" manager-lost peer "$orphan"; then
	ktap_ok "$survivor noticed that $orphan lost its manager"
else
	ktap_fail "$survivor noticed that $orphan lost its manager"
fi
# One guardian short: the lowest awake id wakes the lowest sleeping manager.
is_awake() { [ "$(state "$1")" = awake ]; }
if wait_for 10 log_has "$survivor" "$D" wake reason guardians &&
   wait_for 10 is_awake "$first"; then
	ktap_ok "too few guardians: $survivor woke $first, which is awake again"
else
	ktap_fail "too few guardians: $survivor woke $first"
fi
if wait_for 10 manager_of "$D" "$victim" "$survivor" "$first"; then
	ktap_ok "the dead host itself is managed now ($(manager_of "$D" "$victim" "$survivor" "$first"))"
else
	ktap_fail "the dead host itself is managed now"
fi
alive=("$survivor" "$first")
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 40)"; done
fi
ktap_finish
