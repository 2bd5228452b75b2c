#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vrdma-sleepd's group protocol under spoofed and mutated packets from raw
# sockets (pkt_fuzz.py, kind sleepd): three daemons (s1, s2, s3) and an
# attacker on their link (ev), who records the group's genuine messages,
# then sends them again (replays, from the daemons' own addresses),
# re-signed with another key, truncated, oversized, with wrong header
# fields and flipped bits, forges messages of the daemons with another
# key, and sends MAC-valid messages whose TLVs overrun the message (as a
# holder of the key would: malformed).  Afterwards every daemon still
# runs, sees the other two awake and nobody else, counted what it dropped
# (auth_fail, replay, malformed), took nobody over and logged no error.
#
# SLEEPD_FUZZ_COUNT packets (default 10000), bounded by
# SLEEPD_FUZZ_SECONDS (default 300); FUZZ_SEED=N replays a run (the
# captured messages differ from run to run: their bytes are the daemons').
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../sleep/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }

HERE=$(cd "$(dirname "$0")" && pwd)
SEED=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
COUNT=${SLEEPD_FUZZ_COUNT:-10000}
SECS=${SLEEPD_FUZZ_SECONDS:-300}
D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
ID1=$(( (10 << 24) | (97 << 16) | 1 ))

total() {	# total COUNTER: the sum over the daemons
	local h n=0
	for h in "${HOSTS[@]}"; do
		n=$((n + $(sleepd_q "$h" "$D" '.stats[$c]' --arg c "$1")))
	done
	echo "$n"
}
views_ok() {	# everyone awake, unmanaged, and nobody else in any view
	local h
	for h in "${HOSTS[@]}"; do
		[ "$(sleepd_q "$h" "$D" '(.peers | length) == 2 and
			all(.peers[]; (.name | test("^s[123]$")) and .state == "awake" and
			    (.manager // "") == "")')" = true ] || return 1
	done
}

ktap_plan 7
echo "# seed $SEED"
vrdma_load || { echo "Bail out! vrdma"; exit 1; }
snet_reset
snet_bridge && snet_host ev 66 || { echo "Bail out! namespaces"; exit 1; }
for i in 1 2 3; do
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" ||
		{ echo "Bail out! host s$i and its daemon"; exit 1; }
done
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" || { echo "Bail out! daemons see each other"; exit 1; }
ip -n ev route add 224.0.0.0/4 dev eth0
a0=$(total auth_fail) r0=$(total replay) m0=$(total malformed)

t0=$(date +%s)
ip netns exec ev $PY "$HERE/pkt_fuzz.py" --seed "$SEED" --count "$COUNT" \
	--seconds "$SECS" --dev eth0 --dst "$(snet_addr 1)" --own "$(snet_addr 66)" \
	--srcs "$(snet_addr 1),$(snet_addr 2),$(snet_addr 3),$(snet_addr 66)" \
	--kinds sleepd --capture 5 --gkey "$TEST_KEY" \
	--ids "$ID1,$((ID1 + 1)),$((ID1 + 2))" > "$D/fuzz.out" 2>&1
rc=$?
t1=$(date +%s)
ktap_diag "attacker (ev, seed $SEED), $((t1 - t0)) s:" "$(cat "$D/fuzz.out")"
sent=$(awk '$1 == "sent" { print $2 }' "$D/fuzz.out")
caps=$(awk '$1 == "captured" { print $2 }' "$D/fuzz.out")
[ "$rc" = 0 ] && [ "${sent:-0}" -ge 1000 ] && [ "${caps:-0}" -ge 1 ] &&
	ktap_ok "$sent packets sent ($caps genuine messages captured), no send error" ||
	ktap_fail "packets sent (exit $rc, ${sent:-0} sent, ${caps:-0} captured; at least 1000 and 1)"

alive=1
for h in "${HOSTS[@]}"; do
	kill -0 "$(sleepd_pid "$h")" 2> /dev/null || { alive=0; ktap_diag "$h's daemon is gone"; }
done
[ $alive = 1 ] && ktap_ok "every daemon still runs" || ktap_fail "every daemon still runs"
# Counters: what the daemons have read of it by now.
sleep_counts() {
	[ "$(total auth_fail)" -gt "$a0" ] && [ "$(total replay)" -gt "$r0" ] &&
		[ "$(total malformed)" -gt "$m0" ]
}
wait_for 30 sleep_counts
da=$(( $(total auth_fail) - a0 )) dr=$(( $(total replay) - r0 )) dm=$(( $(total malformed) - m0 ))
[ "$da" -gt 0 ] && [ "$dr" -gt 0 ] && [ "$dm" -gt 0 ] &&
	ktap_ok "dropped and counted: auth_fail $da, replay $dr, malformed $dm" ||
	ktap_fail "dropped and counted: auth_fail $da, replay $dr, malformed $dm"
wait_for 20 views_ok &&
	ktap_ok "every daemon sees the other two awake, unmanaged, and nobody else" ||
	{ for h in "${HOSTS[@]}"; do ktap_diag "$h: $(sleepd_q "$h" "$D" '[.peers[] | {name, state, manager}]' -c)"; done
	  ktap_fail "every daemon sees the other two awake, unmanaged, and nobody else"; }
ktap_check_fails "nobody was taken over" grep -q '"event":"takeover"' "$D/s1.log" "$D/s2.log" "$D/s3.log"
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
# They still work: s2 sleeps and one of the others takes it over.
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
wait_for 20 manager_of "$D" s2 s1 s3 > /dev/null &&
	ktap_ok "afterwards s2 can still go to sleep and be managed" ||
	ktap_fail "afterwards s2 can still go to sleep and be managed"
ktap_finish
