#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Three simulated hosts (network namespaces s1-s3 on a bridge), each with
# vrdma-sleepd in test mode, and an outsider client (cl).  s2 runs a TCP
# service (port 8080) and goes to sleep: its services freeze and all its
# traffic but magic packets is dropped.  It must be managed within the
# configured time by s1 or s3, whose module then answers ARP for it; a
# SYN to a closed port or stray UDP must not wake it; a SYN to 8080 must,
# and the client's connection must then succeed.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
command -v tc > /dev/null || { echo "# tc not installed"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
S2=$(snet_addr 2)

ktap_plan 15

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge && snet_host s1 1 && snet_host s2 2 && snet_host s3 3 &&
	snet_host cl 200 || { ktap_fail "namespaces"; ktap_finish; }
tcp_server s2 8080
for i in 1 2 3; do
	sleepd_start "s$i" "$i" "$D" || { ktap_fail "daemon s$i starts"; ktap_finish; }
done

if wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}"; then
	ktap_ok "three daemons see each other awake"
else
	ktap_diag "$(sleepd_status s1 "$D")"
	ktap_fail "three daemons see each other awake"
	ktap_finish
fi
for i in $(seq 50); do
	ports=$(peer_of s1 "$D" s2 ports)
	[[ $ports == *8080* ]] && break
	sleep 0.2
done
if [[ $ports == *8080* ]]; then
	ktap_ok "s2's listening ports reach its peers ($ports)"
else
	ktap_fail "s2's listening ports reach its peers ($ports)"
fi
ktap_check "the client reaches s2:8080 while it is awake" tcp_connect cl "$S2" 8080 5
s2_mac=$(ns_mac s2)

# ---- s2 sleeps ----------------------------------------------------------------
t0=$(date +%s%N)
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
# HOST's state in the view of the daemon behind SOCK (vrdmactl sleep show).
shown_state() {	# shown_state SOCK HOST
	"$VRDMACTL" -j sleep show socket "$1" |
		$JQ -r --arg h "$2" '[.[] | select(.name == $h)][0].state'
}
if wait_for 5 eval '[ "$(shown_state "$D/s2.sock" s2)" = asleep ]'; then
	ktap_ok "s2 goes to sleep on request"
else
	ktap_diag "$(tail -n 5 "$D/s2.log")"
	ktap_fail "s2 goes to sleep on request"
	ktap_finish
fi
mgr=
if wait_for 6 manager_of "$D" s2 s1 s3; then
	mgr=$(manager_of "$D" s2 s1 s3)
	ms=$(ms_between "$(log_ts s2 "$D" sleep)" "$(log_ts "$mgr" "$D" takeover peer s2)")
	if [ "$ms" -le 2000 ]; then
		ktap_ok "s2 is managed by $mgr ${ms} ms after it fell asleep (limit 2000 ms)"
	else
		ktap_fail "s2 is managed by $mgr ${ms} ms after it fell asleep (limit 2000 ms)"
	fi
else
	ktap_diag "$(sleepd_status s1 "$D")"
	ktap_fail "s2 is managed within 6 s"
	ktap_finish
fi
other=s1; [ "$mgr" = s1 ] && other=s3
if [ "$(peer_of "$other" "$D" s2 manager)" = "$mgr" ] &&
   [ "$(peer_of "$other" "$D" s2 state)" = asleep ]; then
	ktap_ok "$other agrees: s2 asleep, managed by $mgr"
else
	ktap_fail "$other agrees: s2 asleep, managed by $mgr ($(peer_of "$other" "$D" s2 state) $(peer_of "$other" "$D" s2 manager))"
fi
out=$("$VRDMACTL" sleep show socket "$D/$other.sock")
ktap_diag "$out"
if grep -q "^s2 state asleep manager $mgr addrs $S2" <<< "$out" &&
   grep -q "^$mgr state awake addrs .* manages s2" <<< "$out"; then
	ktap_ok "vrdmactl sleep show: who is asleep, who manages whom"
else
	ktap_fail "vrdmactl sleep show: who is asleep, who manages whom"
fi
mgr_mac=$(ns_mac "$mgr")
cl_sees() { [ "$(neigh_mac cl "$S2")" = "$1" ]; }
if [ "$(peer_field "$mgr" "$S2" managed)" = true ] &&
   wait_for 3 cl_sees "$mgr_mac"; then
	ktap_ok "$mgr's module intercepts s2: the client's ARP entry moved to $mgr's MAC"
else
	ktap_diag "cl: $(ip -n cl neigh show "$S2"); s2 $s2_mac, $mgr $mgr_mac"
	ktap_fail "$mgr's module intercepts s2"
fi

# ---- requests that must not wake it ------------------------------------------
wakes0=$(log_count "$mgr" "$D" wake)
tcp_connect cl "$S2" 9999 2 > /dev/null 2>&1
ip netns exec cl $PY -c "
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in (53, 8080, 7789):
    s.sendto(b'x', ('$S2', p))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
# a bare RST to 8080
h = struct.pack('!HHIIBBHHH', 40000, 8080, 1, 0, 5 << 4, 0x04, 0, 0, 0)
s.sendto(h, ('$S2', 0))"
# The module has seen all of them once it counted them; a wake it asked
# for would be in the manager's log within a second (resume delay 1 s).
ignored_ge() { [ "$(peer_field "$mgr" "$S2" ignored)" -ge "$1" ] 2> /dev/null; }
wait_for 5 ignored_ge 4
sleep 1	# what must not happen: give a wrong wake its time
if [ "$(log_count "$mgr" "$D" wake)" = "$wakes0" ] && ! log_has s2 "$D" magic-packet &&
   [ "$(self_state s2 "$D")" = asleep ]; then
	ktap_ok "a SYN to a closed port, stray UDP and a RST do not wake s2"
else
	ktap_fail "a SYN to a closed port, stray UDP and a RST do not wake s2"
fi
ign=$(peer_field "$mgr" "$S2" ignored)
if [ "${ign:-0}" -ge 4 ]; then
	ktap_ok "$mgr's module counted them as ignored ($ign)"
else
	ktap_fail "$mgr's module counted them as ignored ($ign)"
fi

# ---- a valid request wakes it ---------------------------------------------------
t0=$(date +%s%N)
if tcp_lands cl "$S2" 8080 30; then
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	ktap_ok "a SYN to s2:8080 wakes it and the connection succeeds (${ms} ms, resume delay 1000 ms)"
else
	ktap_fail "a SYN to s2:8080 wakes it and the connection succeeds"
fi
if log_has "$mgr" "$D" wake reason tcp-syn && log_has s2 "$D" magic-packet &&
   log_has s2 "$D" resume; then
	ktap_ok "$mgr sent the magic packet (reason tcp-syn); s2 received it and resumed"
else
	ktap_fail "$mgr sent the magic packet (reason tcp-syn); s2 received it and resumed"
fi
if wait_for 5 eval '[ "$(shown_state "$D/$mgr.sock" s2)" = awake ]' &&
   log_has "$mgr" "$D" release reason awake && [ "$(peer_field "$mgr" "$S2" managed)" = false ]; then
	ktap_ok "management stopped when s2 announced itself"
else
	ktap_fail "management stopped when s2 announced itself"
fi
if [ "$(neigh_mac cl "$S2")" = "$s2_mac" ]; then
	ktap_ok "s2's gratuitous ARP moved the client back to its MAC"
else
	ktap_fail "s2's gratuitous ARP moved the client back ($(neigh_mac cl "$S2"), s2 is $s2_mac)"
fi
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log")"; done
fi

ktap_finish
