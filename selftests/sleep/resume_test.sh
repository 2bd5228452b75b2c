#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A host back from sleep trusts the claims of managers it sees awake
# (Documentation/sleep.rst, Takeover).  Three simulated hosts s1-s3:
#
#  - s3 sleeps; one of s1 and s2 (M) manages it;
#  - the other (R) sleeps longer than dead-after, and M wakes it;
#  - after its resume, R does not find s3's manager lost ("claim not
#    refreshed": it heard no claim while it slept), and s3 keeps one
#    manager, M.
#
# (A resume used to refresh the peers' silences but not the claims of
# their managers: within a tick of every resume the host logged
# manager-lost for each managed sleeper, and could take one over beside
# its manager.)
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
DEAD_MS=2000	# the suite's dead-after (sleep_lib.sh)

ktap_plan 6

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge || { ktap_fail "bridge"; ktap_finish; }
for i in 1 2 3; do
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	{ ktap_fail "three daemons see each other"; ktap_finish; }

# ---- s3 sleeps, managed -----------------------------------------------------------
"$VRDMACTL" sleep request sleep socket "$D/s3.sock" > /dev/null
if M=$(wait_for 10 manager_of "$D" s3 s1 s2 && manager_of "$D" s3 s1 s2) &&
   [ "$(wc -w <<< "$M")" = 1 ]; then
	ktap_ok "s3 sleeps, managed by $M"
else
	ktap_fail "s3 sleeps, managed by one host ('$M')"
	ktap_finish
fi
R=s1
[ "$M" = s1 ] && R=s2

# ---- R sleeps longer than dead-after, M wakes it -----------------------------------
"$VRDMACTL" sleep request sleep socket "$D/$R.sock" > /dev/null
r_asleep() { [ "$(self_state "$R" "$D")" = asleep ]; }
if wait_for 10 r_asleep; then
	ktap_ok "$R sleeps too"
else
	ktap_fail "$R sleeps too ($(self_state "$R" "$D"))"
	ktap_finish
fi
t_slept=$(log_ts "$R" "$D" sleep)
# Not a blind wait: R must have heard no claim for longer than dead-after.
slept_long() { [ "$(ms_between "$t_slept" "$(date +%s.%N)")" -gt $((DEAD_MS + 1000)) ]; }
wait_for 10 slept_long
"$VRDMACTL" sleep request wake "$R" socket "$D/$M.sock" > /dev/null
if wait_for 10 log_has "$R" "$D" resume; then
	ktap_ok "$M wakes $R"
else
	ktap_fail "$M wakes $R"
	ktap_finish
fi

# ---- after the resume --------------------------------------------------------------
LOG_SINCE=$(log_ts "$R" "$D" resume)
export LOG_SINCE
# Twice dead-after: the old code logged it within a tick of the resume.
if ! wait_for $((2 * DEAD_MS / 1000)) log_has "$R" "$D" manager-lost peer s3; then
	ktap_ok "$R keeps $M's claim on s3 after its resume"
else
	ktap_diag "$(grep '"manager-lost"' "$D/$R.log")"
	ktap_fail "$R keeps $M's claim on s3 after its resume"
fi
unset LOG_SINCE
only_m() { [ "$(manager_of "$D" s3 s1 s2)" = "$M" ]; }
ktap_check "s3 has one manager, $M" only_m
ktap_check "no errors in the daemons' logs" logs_clean "$D" "${HOSTS[@]}"
ktap_finish
