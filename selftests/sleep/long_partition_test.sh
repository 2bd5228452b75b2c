#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A partition longer than 4 x dead-after takes over nobody on either side,
# neither while it lasts nor at its heal (Documentation/sleep.rst,
# Takeover).  Six simulated hosts s1-s6:
#
#  - s1 sleeps and is managed by M (whoever the ranking picks);
#  - of the four others, the daemon of L is killed: L itself is alive
#    (its peers see it "live", at layer 2);
#  - once L's daemon has been silent for more than dead-after, M, L, s1
#    and X are cut off from Y and Z (their bridge ports moved to a second
#    bridge, as sleep_sim.sh does);
#  - on the cut-off side, a connection from X wakes s1 (M intercepts it);
#    Y and Z do not hear it, and keep M's MAC for s1;
#  - for 5 x dead-after, past the 4 x dead-after after which Y and Z no
#    longer count the other side as expected (isolated() stops holding),
#    nobody takes anybody over: not s1 (its manager M fell silent with
#    X), not L (its layer-2 silence came with the partition), not M or
#    X; Y's and Z's modules intercept none of them and their ARP caches
#    keep the owners' MACs (the manager's for s1);
#  - the partition heals one host after the other, as partitions do: Y
#    first.  s1, which woke on the other side, announces itself to Y
#    (a gratuitous ARP that Y receives after the heal; Y's ARP cache has
#    s1's MAC).  Z stays cut off, alone, for dead-after + 3 s: Z hears
#    nobody and takes nobody over (not Y, silent for Z since it left),
#    and nobody takes Z over (it fell silent with Y, and has not been
#    heard since);
#  - then Z comes back and L's daemon restarts: every host awake in every
#    view, connections from Z land on L and on s1; no awake host ever
#    taken over.
#
# This is what the simulation saw at the heal of a 60 s partition
# (4 x its dead-after): a host of the cut-off half took over sleepers of
# the other half whose managers were cut off with them (some had woken
# meanwhile), and a live host whose daemon had died before the
# partition.  And a loaded 6.1 run of this test brought Z back 5.8 s after
# Y: Z, alone, took Y over, and M and X took Z over.
#
# dead-after is 5 s here, not the suite's 2 s: L's last ARP answer before
# the partition (probed every probe-interval, 1 s) must come within
# dead-after of the other side's last messages, with margin for a loaded
# emulated VM.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3 s4 s5 s6)
DEAD_MS=5000
SLEEPD_TIMERS="hello-interval = 0.5
probe-interval = 1
probes-per-period = 2
probe-timeout = 0.4
dead-after = $((DEAD_MS / 1000))
intent-wait = 0.5"

ktap_plan 15

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge || { ktap_fail "bridge"; ktap_finish; }
# s1's service, listening before its daemon starts: its HELLOs announce
# the port, and its manager's module reports SYNs to it.
snet_host s1 1 || { ktap_fail "host s1"; ktap_finish; }
tcp_server s1 8080
s1_listens() { ip netns exec s1 ss -ltnH "sport = :8080" | grep -q .; }
wait_for 10 s1_listens || ktap_diag "s1's service does not listen"
for i in 1 2 3 4 5 6; do
	{ [ "$i" = 1 ] || snet_host "s$i" "$i"; } && sleepd_start "s$i" "$i" "$D" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
# The other side of the partition (deleted before the hosts: LIFO).
ip link add slp-br2 type bridge mcast_snooping 0 && defer ip link del slp-br2 &&
	ip link set slp-br2 up || { ktap_fail "second bridge"; ktap_finish; }
six_awake() {
	local h
	sleepd_all_awake "$D" "${HOSTS[@]}" || return 1
	for h in s2 s3 s4 s5 s6; do
		[[ $(peer_of "$h" "$D" s1 ports) == *8080* ]] || return 1
	done
}
ktap_check "six daemons see each other awake, and s1's port 8080" wait_for 30 six_awake

# ---- s1 sleeps, managed by M ------------------------------------------------------
"$VRDMACTL" sleep request sleep socket "$D/s1.sock" > /dev/null
M=
one_manager() {
	local m
	m=$(manager_of "$D" s1 s2 s3 s4 s5 s6) || return 1
	[ "${m// /}" = "$m" ] && [ "$(self_state s1 "$D")" = asleep ] && M=$m
}
if wait_for 15 one_manager; then
	ktap_ok "s1 sleeps and is managed by one host ($M)"
else
	ktap_diag "s1: $(self_state s1 "$D"); managed by: $(manager_of "$D" s1 s2 s3 s4 s5 s6)"
	ktap_fail "s1 sleeps and is managed by one host"
	ktap_finish
fi
REST=()
for h in s2 s3 s4 s5 s6; do [ "$h" = "$M" ] || REST+=("$h"); done
X=${REST[0]} L=${REST[1]} Y=${REST[2]} Z=${REST[3]}
CUT=("$M" "$X" "$L" s1)		# the side cut off from Y and Z
AWAKE_CUT=("$M" "$X" "$L")
ktap_diag "M=$M X=$X L=$L cut off from Y=$Y Z=$Z"
tcp_server "$L" 8080

# ---- L's daemon dies; L lives ----------------------------------------------------
kill -9 "$(sleepd_pid "$L")"
wait "$(sleepd_pid "$L")" 2> /dev/null
# Until its protocol silence is older than dead-after (x 1.5) in Y's and
# Z's views, so that it cannot match the partition's silences.
l_live_long() {
	local h ago
	for h in "$Y" "$Z"; do
		[ "$(peer_of "$h" "$D" "$L" state)" = live ] || return 1
		ago=$(peer_of "$h" "$D" "$L" heard_ms_ago)
		[ -n "$ago" ] && [ "$ago" -gt $((DEAD_MS * 3 / 2)) ] || return 1
	done
}
if wait_for 20 l_live_long; then
	ktap_ok "$L's daemon killed: $Y and $Z see $L live, silent for more than 1.5 x dead-after"
else
	ktap_diag "$Y: $(peer_of "$Y" "$D" "$L" state) $(peer_of "$Y" "$D" "$L" heard_ms_ago) ms;" \
		"$Z: $(peer_of "$Z" "$D" "$L" state) $(peer_of "$Z" "$D" "$L" heard_ms_ago) ms"
	ktap_fail "$L's daemon killed: $Y and $Z see $L live, silent for more than 1.5 x dead-after"
fi
# Neighbour entries on Y and Z for the other side (s1's is M's MAC, M's
# module answers for it): a takeover's gratuitous ARP would change them.
for h in "$Y" "$Z"; do
	for c in "${CUT[@]}"; do
		ip netns exec "$h" ping -c1 -W1 "$(snet_addr "${c#s}")" > /dev/null
	done
done

# ---- the partition ----------------------------------------------------------------
t_cut=$(date +%s.%N)
for h in "$Y" "$Z"; do ip link set "$h-p" master slp-br2; done
# s1 will wake on this side: Y must hear of it from s1 itself, a
# gratuitous ARP (sender = target = s1's address, s1's MAC) after the
# heal.  (Y's ARP cache would follow s1's ARP requests too, but the
# hosts that s1 does not talk to only follow its announcements.)
S1_HEX=$(printf '0x%02x%02x%02x%02x' $(snet_addr 1 | tr . ' '))
ip netns exec "$Y" timeout 300 tcpdump -l -n -c 1 -i eth0 \
	"arp and ether src $(ns_mac s1) and arp[14:4] = $S1_HEX and arp[24:4] = $S1_HEX" \
	> "$D/garp.$Y" 2> "$D/garp.$Y.err" &
defer "kill $! 2>/dev/null"
wait_for 10 grep -q "listening on" "$D/garp.$Y.err" || ktap_diag "tcpdump on $Y: $(cat "$D/garp.$Y.err")"
lost_s1() {
	LOG_SINCE=$t_cut log_has "$Y" "$D" manager-lost peer s1 &&
		LOG_SINCE=$t_cut log_has "$Z" "$D" manager-lost peer s1
}
if wait_for 15 lost_s1; then
	ktap_ok "partition: $Y and $Z lose s1's manager $M"
else
	ktap_diag "$(grep -v '"hello"' "$D/$Y.log" | tail -n 20)"
	ktap_fail "partition: $Y and $Z lose s1's manager $M"
fi

# s1 wakes on the cut-off side: X's connection reaches M's interception,
# M wakes s1.  Y and Z hear none of it.
lands_s1_x() { tcp_lands "$X" "$(snet_addr 1)" 8080 8; }
ktap_check "partition: a connection from $X wakes s1 and lands on it" wait_for 30 lands_s1_x

# Any takeover at all since the partition began (s1 was managed by M
# before it, and woke; everybody else is awake).
took_any() {
	local h
	for h in "${HOSTS[@]}"; do
		[ "$h" = "$L" ] && continue
		LOG_SINCE=$t_cut log_has "$h" "$D" takeover && return 0
	done
	return 1
}
took_list() {
	local h
	for h in "${HOSTS[@]}"; do
		[ "$h" = "$L" ] && continue
		$JQ -R -r 'fromjson? | objects | select(.event == "takeover") |
			"\(.ts) \(.host) took \(.peer) over (\(.reason))"' "$D/$h.log"
	done | awk -v t0="$t_cut" '$1 > t0 {
		printf "%+.1f s after the cut: %s\n", $1 - t0, substr($0, index($0, " ") + 1) }'
}
# untaken_till T: nobody takes anybody over until the time T (s).
untaken_till() {
	while awk -v e="$1" -v n="$(date +%s.%N)" 'BEGIN { exit !(n < e) }'; do
		took_any && return 1
		sleep 0.2
	done
	! took_any
}
# Up to 5 x dead-after after the cut: Y and Z stop seeing themselves
# isolated 4 x dead-after after the other side's last messages (before
# the fix, they took s1 and L over then).
if untaken_till "$(awk -v t="$t_cut" -v d="$DEAD_MS" 'BEGIN { printf "%.3f", t + 5 * d / 1000 }')"; then
	ktap_ok "for 5 x dead-after ($((5 * DEAD_MS / 1000)) s) after the cut, nobody takes anybody over"
else
	ktap_diag "$(took_list)"
	ktap_fail "for 5 x dead-after ($((5 * DEAD_MS / 1000)) s) after the cut, nobody takes anybody over"
fi
# What Y and Z see of the other side: their modules intercept nobody;
# their ARP caches have each host's own MAC (M's for s1), never the MAC
# of Y or Z.
other_side_owned() {
	local h c a mac bad=0
	for h in "$Y" "$Z"; do
		for c in "${CUT[@]}"; do
			a=$(snet_addr "${c#s}")
			kpeer_free "$h" "$a" || { echo "$h's module intercepts $c"; bad=1; }
			mac=$(neigh_mac "$h" "$a")
			if [ "$mac" = "$(ns_mac "$Y")" ] || [ "$mac" = "$(ns_mac "$Z")" ]; then
				echo "$h sees $c ($a) at $mac, the MAC of Y or Z"
				bad=1
			fi
		done
		neigh_owned "$h" "${AWAKE_CUT[@]}" || bad=1
	done
	return $bad
}
ktap_check "$Y's and $Z's modules intercept none of the other side; their ARP caches keep its MACs" \
	other_side_owned

# ---- the partition heals: Y first, then Z ---------------------------------------------
t_heal=$(date +%s.%N)
ip link set "$Y-p" master slp-br
# (From their logs: status queries are too slow under emulation.)
y_back() {
	local h
	for h in "$M" "$X"; do
		LOG_SINCE=$t_heal log_has "$h" "$D" peer-awake peer "$Y" || return 1
	done
}
wait_for 10 y_back || ktap_diag "$M and $X do not hear $Y again"
s1_told_y() {
	grep -q "tell $(snet_addr 1)" "$D/garp.$Y" &&
		[ "$(neigh_mac "$Y" "$(snet_addr 1)")" = "$(ns_mac s1)" ]
}
if wait_for 5 s1_told_y; then
	ktap_ok "healed for $Y: s1 (woken over there) announces itself to $Y, whose ARP cache has s1's MAC"
else
	ktap_diag "$Y saw: $(cat "$D/garp.$Y"); $Y's entry for s1: $(neigh_mac "$Y" "$(snet_addr 1)")," \
		"s1's MAC $(ns_mac s1), M's $(ns_mac "$M")"
	ktap_fail "healed for $Y: s1 (woken over there) announces itself to $Y, whose ARP cache has s1's MAC"
fi
# Z stays cut off, alone, for dead-after + 3 s after Y left it: longer
# than Y's silence takes to be confirmed in Z's view, and than the
# correlation of Z's silence with Y's lasted in M's and X's.
took_z() {
	local h
	for h in "${HOSTS[@]}"; do
		[ "$h" = "$L" ] && continue
		LOG_SINCE=$t_cut log_has "$h" "$D" takeover peer "$Z" && return 0
	done
	return 1
}
untaken_till "$(awk -v t="$t_heal" -v d="$DEAD_MS" 'BEGIN { printf "%.3f", t + d / 1000 + 3 }')" ||
	ktap_diag "$(took_list)"
if LOG_SINCE=$t_cut log_has "$Z" "$D" takeover; then
	ktap_fail "$Z, alone for dead-after + 3 s after $Y left it, takes nobody over"
else
	ktap_ok "$Z, alone for dead-after + 3 s after $Y left it, takes nobody over"
fi
if took_z; then
	ktap_fail "meanwhile nobody takes $Z, still cut off, over"
else
	ktap_ok "meanwhile nobody takes $Z, still cut off, over"
fi
t_z=$(date +%s.%N)
ip link set "$Z-p" master slp-br
sleepd_start "$L" "${L#s}" "$D" || ktap_diag "$L's daemon did not restart"
ktap_check "healed, $L's daemon restarted: the six hosts awake in every view" \
	wait_for 20 sleepd_all_awake "$D" "${HOSTS[@]}"
lands_l() { tcp_lands "$Z" "$(snet_addr "${L#s}")" 8080; }
ktap_check "a connection from $Z lands on $L" lands_l
lands_s1() { tcp_lands "$Z" "$(snet_addr 1)" 8080; }
ktap_check "a connection from $Z lands on s1" lands_s1
# s1 was rightly taken over when it slept; nobody else ever, and s1 by
# nobody after that.
wrong=$(takeovers_of "$D" "${HOSTS[*]:1}" "${HOSTS[@]}")
for h in "$M" "$X" "$L" "$Y" "$Z"; do
	LOG_SINCE=$t_cut log_has "$h" "$D" takeover peer s1 &&
		wrong="$wrong${wrong:+$'\n'}$h took s1 over after the cut"
done
if [ -z "$wrong" ]; then
	ktap_ok "no awake host was taken over; nobody took s1 over after the cut"
else
	ktap_diag "$wrong"
	ktap_fail "no awake host was taken over; nobody took s1 over after the cut"
fi
ktap_diag "the partition lasted $(ms_between "$t_cut" "$t_heal") ms until $Y came back," \
	"$(ms_between "$t_heal" "$t_z") ms more until $Z did (dead-after $DEAD_MS ms)"
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(tail -n 40 "$D/$h.log")"; done
fi
ktap_finish
