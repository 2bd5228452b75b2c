#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Waking: the SecureOn password of Wake-on-LAN and the fallback command.
# Three simulated hosts s1-s3 and an outsider cl.  s2 configures a
# SecureOn password and the arguments of its fallback command (a BMC's
# address, for example); s1 and s3 configure the fallback command.
#
#  - asleep, s2 ignores magic packets without its password or with a
#    wrong one (as its NIC would); its manager learned the password
#    (sealed in s2's HELLOs) and wakes it;
#  - s2's NIC does not wake (test mode, wake-on-lan = no): after
#    fallback-after, the waker runs the fallback command once, with s2's
#    arguments, logged, and not again within fallback-interval.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
PASS=02:11:22:33:44:55
S2_WAKE="[wake]
secureon = $PASS
fallback-args = -I lanplus -H bmc-s2 -U admin"
WAKER="[wake]
fallback-command = echo \"\$VRDMA_WAKE_PEER \$VRDMA_WAKE_ARGS\" >> $D/fallback.log
fallback-after = 3
fallback-interval = 60"

ktap_plan 8

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge && snet_host cl 200 || { ktap_fail "namespaces"; ktap_finish; }
for i in 1 2 3; do
	extra=$WAKER
	[ $i = 2 ] && extra=$S2_WAKE
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" "$extra" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" ||
	{ ktap_fail "three daemons see each other"; ktap_finish; }
MAC2=$(ns_mac s2)

magic() {	# magic [PASSWORD]: a magic packet for s2 from cl, UDP broadcast
	ip netns exec cl $PY - "$MAC2" "${1:-}" <<'EOP'
import socket, sys
mac = bytes.fromhex(sys.argv[1].replace(':', ''))
pkt = b'\xff' * 6 + mac * 16
if sys.argv[2]:
    pkt += bytes.fromhex(sys.argv[2].replace(':', ''))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.sendto(pkt, ('10.97.0.255', 9))
EOP
}
state() { self_state "$1" "$D"; }
sleep_s2() {
	"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
	wait_for 10 manager_of "$D" s2 s1 s3 > /dev/null
}

# ---- SecureOn -------------------------------------------------------------------
sleep_s2 || { ktap_fail "s2 sleeps and is managed"; ktap_finish; }
magic
magic 02:00:00:00:00:00
if ! wait_for 2 log_has s2 "$D" magic-packet && [ "$(state s2)" = asleep ]; then
	ktap_ok "magic packets without s2's SecureOn password, or with a wrong one, do not wake it"
else
	ktap_fail "magic packets without s2's SecureOn password, or with a wrong one, do not wake it"
fi
"$VRDMACTL" sleep request wake s2 socket "$D/s1.sock" > /dev/null
if wait_for 10 log_has s2 "$D" resume reason "magic packet"; then
	ktap_ok "s1's magic packet carries the password (learned from s2's HELLO): s2 wakes"
else
	ktap_fail "s1's magic packet carries the password (learned from s2's HELLO): s2 wakes"
fi
ktap_check "s1 logged the wake with SecureOn" bash -c "grep '\"event\":\"wake\"' $D/s1.log | grep -q '\"secureon\":true'"
wait_for 10 sleepd_all_awake "$D" "${HOSTS[@]}"

# ---- the fallback command --------------------------------------------------------------
kill "$(sleepd_pid s2)"
wait "$(sleepd_pid s2)" 2> /dev/null
sleepd_start s2 2 "$D" "$S2_WAKE
[test]
wake-on-lan = no" || { ktap_fail "s2 restarts"; ktap_finish; }
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}"
sleep_s2 || { ktap_fail "s2 sleeps again and is managed"; ktap_finish; }
# (A slow wake above may have run it already: count from here.)
touch "$D/fallback.log"
f0=$(wc -l < "$D/fallback.log")
fallbacks() { echo $(($(wc -l < "$D/fallback.log") - f0)); }
ran_once() { [ "$(fallbacks)" -ge 1 ]; }
t1=$(date +%s.%N)
"$VRDMACTL" sleep request wake s2 socket "$D/s1.sock" > /dev/null
if wait_for 15 ran_once; then
	ktap_ok "s2 did not wake: s1 ran the fallback command"
else
	ktap_fail "s2 did not wake: s1 ran the fallback command"
fi
ktap_check "with s2's arguments: $(tail -n 1 "$D/fallback.log" 2> /dev/null)" \
	bash -c "tail -n +$((f0 + 1)) '$D/fallback.log' | grep -qx 's2 -I lanplus -H bmc-s2 -U admin'"
fallback_logged() {
	LOG_SINCE=$t1 log_has s1 "$D" wake-fallback peer s2 &&
		LOG_SINCE=$t1 wait_for 5 log_has s1 "$D" wake-fallback-done status 0
}
ktap_check "logged (wake-fallback, then its exit status 0)" fallback_logged
# Another request 2 s later: magic packets again, the fallback not.
sleep 2
"$VRDMACTL" sleep request wake s2 socket "$D/s1.sock" > /dev/null
more_fallbacks() { [ "$(fallbacks)" -gt 1 ]; }
if ! wait_for 6 more_fallbacks; then
	ktap_ok "rate limited: one fallback per fallback-interval ($(LOG_SINCE=$t1 log_count s1 "$D" wake peer s2) magic packets)"
else
	ktap_fail "rate limited: one fallback per fallback-interval ($(fallbacks) runs)"
fi
ktap_check "the daemons logged no error" logs_clean "$D" s1 s3
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
