#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The channel between hosts' modules, with a cluster key (ctrl_key):
#
#   c1_1 vr11 vni 0 -- rxe1 (host 1) ==== rxe2 (host 2) -- c2_1 vr21 vni 0 (victim)
#                                   \\==== rxe3 (host 3, in no map entry)
#
# rdma_cm works across hosts (its MADs go through the channel).  Then
# processes using rxe1 and rxe3 directly (not vrdma: unknown senders, whose
# datagrams the victim's module drops) try to make themselves known with
# forged UD announcements, claiming to be c1_1's QPs:
#   a. unsigned, from host 1;
#   b. signed with another key, from host 1;
#   c. signed with the key, from host 3, where the map does not place
#      c1_1's address;
#   d. signed with the key, from host 1, sent an hour ago;
#   e. signed with the key, from host 1, now: accepted (the positive
#      control: a host with the key speaks for its own containers);
#   f. e's datagram sent again: a replay;
#   i. e's datagram sent again from host 3 (the MAC covers the source and
#      destination addresses: a replay from another source is no fresh
#      message).
# Only e's sender, and c1_1 itself, may reach the victim.  Forged MADs
# (a CM REQ to the victim's address) are dropped too: g. unsigned, and
# h. signed, from host 3, claiming c1_1's address as their source.  The kernel's
# debug messages (dynamic debug, when the kernel has it) show why a to d,
# f, g, h and i were dropped.  Then e's datagram cut short (j), one byte
# too long (k) and 20 KB too long (l) is dropped, for the reason logged.
# Last, m: two fresh announcements whose sequence numbers are 1 us apart
# arrive in the opposite order (as messages sent on two CPUs can): both are
# learned (the replay window counts messages, not nanoseconds), and the
# older one sent again is a replay.
# n: the channel's counters (vrdmactl -s info, init_net) count a to i by
# reason, with or without dynamic debug; o: a container does not see them.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
TOOL=$HERE/../vdev/vdev_tool
FORGE="/usr/bin/python3 $HERE/ctrl_forge.py"
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
WRONG=ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
DDC=/sys/kernel/debug/dynamic_debug/control
tmp=$(mktemp -d)
defer rm -rf "$tmp"

ktap_plan 18
topo_hosts 3 || { echo "Bail out! setup"; exit 1; }
vrdma_unload
modprobe vrdma ctrl_key=$KEY || { echo "Bail out! modprobe vrdma ctrl_key=..."; exit 1; }
defer vrdma_unload
modprobe rdma_ucm
dyndbg=0
if [ -w "$DDC" ]; then
	echo 'file ctrl.c +p; file gsi.c +p' > "$DDC" && dyndbg=1
	defer "echo 'file ctrl.c -p; file gsi.c -p' > $DDC"
fi
for h in 1 2; do
	topo_container "$h" 1 > /dev/null
	"$VRDMACTL" dev add "vr${h}1" netns "c${h}_1" netdev eth0 phys "rxe$h" ||
		{ echo "Bail out! dev add"; exit 1; }
	defer "$VRDMACTL" dev del "vr${h}1"
	"$VRDMACTL" map add "$(ct_addr "$h" 1)" via "$(host_addr "$h")"
done
gidx() { in_ct "$1" bash -c ". $LIB_DIR/topo.sh; gid_index $2 $3"; }
for h in 1 2; do
	wait_for 20 gidx "c${h}_1" "vr${h}1" "$(ct_addr "$h" 1)" || { echo "Bail out! GID"; exit 1; }
done
victim=$(ct_addr 2 1) a1=$(ct_addr 1 1)

# rdma_cm across hosts: the REQ, REP and RTU through the channel.
in_ct c2_1 timeout 60 rping -s -a "$victim" -p 7500 -C 2 -v > "$tmp/srv" 2>&1 &
spid=$!
ok=0
for i in 1 2 3 4 5; do
	sleep 1
	in_ct c1_1 timeout 60 rping -c -a "$victim" -p 7500 -C 2 -v > "$tmp/cli" 2>&1 && { ok=1; break; }
	grep -qiE 'reject|refused|error 111' "$tmp/cli" || break
done
wait $spid
[ $ok = 1 ] && ktap_ok "rping across hosts over the authenticated channel" ||
	{ ktap_diag "$(cat "$tmp/cli")" "$(cat "$tmp/srv")"; ktap_fail "rping across hosts over the authenticated channel"; }

in_ct c2_1 "$TOOL" udrecv vr21 240 4 > "$tmp/victim" 2>&1 &
vpid=$!
wait_for 20 grep -q '^qpn' "$tmp/victim" || { echo "Bail out! receiver"; exit 1; }
vqpn=$(awk '/^qpn/ { print $2 }' "$tmp/victim")

# native CASE H KEYARGS...: a process on rxeH sends 2 datagrams to the
# victim once its QP was announced (by ctrl_forge.py uda KEYARGS...);
# sets SENDER to its QPN.
native() {
	local c=$1 h=$2
	shift 2
	"$TOOL" udsend "rxe$h" "$(host_gid_index "$h")" "$(host_addr 2)" "$vqpn" 2 \
		"$tmp/go.$c" > "$tmp/send.$c" 2>&1 &
	wait_for 20 grep -q '^qpn' "$tmp/send.$c" || { echo "Bail out! sender $c"; exit 1; }
	SENDER=$(awk '/^qpn/ { print $2 }' "$tmp/send.$c")
	$FORGE uda --src "$(host_addr "$h")" --dev "h$h" --dst "$(host_addr 2)" "$@" \
		0 "$SENDER" "$(host_addr "$h")" "$a1"
}
go() { touch "$tmp/go.$1"; wait_for 60 grep -q '^sent' "$tmp/send.$1"; }

# ctrl COUNTER: a counter of the channel (the module's, all simulated
# hosts together).
ctrl() {
	"$VRDMACTL" -j -s info |
		jq -r --arg c "$1" 'if type == "array" then .[0] else . end | .stats[$c] // empty'
}
declare -A c0
for c in ctrl_rx ctrl_drop_auth ctrl_drop_stale ctrl_drop_replay ctrl_drop_sender; do
	c0[$c]=$(ctrl $c)
done

mark=$(dmesg | wc -l)
native a 1 --key none; go a
native b 1 --key $WRONG; go b
native c 3 --key $KEY; go c
native d 1 --key $KEY --seq old; go d
native e 1 --key $KEY --save "$tmp/e.pkt"
esender=$SENDER
[ $dyndbg = 1 ] && wait_for 10 bash -c "dmesg | grep -q 'UD sender ::ffff:$(host_addr 1) QPN $esender .* learned'"
go e
$FORGE replay --src "$(host_addr 1)" --dev h1 --dst "$(host_addr 2)" "$tmp/e.pkt"
$FORGE replay --src "$(host_addr 3)" --dev h3 --dst "$(host_addr 2)" "$tmp/e.pkt"
$FORGE mad --key none --src "$(host_addr 1)" --dev h1 --dst "$(host_addr 2)" 0 "$a1" "$victim"
$FORGE mad --key $KEY --src "$(host_addr 3)" --dev h3 --dst "$(host_addr 2)" 0 "$a1" "$victim"
legit=$(in_ct c1_1 timeout 60 "$TOOL" udsend vr11 "$(gidx c1_1 vr11 "$a1")" "$victim" "$vqpn" 2 |
	awk '/^qpn/ { print $2 }')
wait $vpid
ktap_diag "victim (QPN $vqpn):" "$(cat "$tmp/victim")"
others=$(awk -v a="$esender" -v b="$legit" '/^recv from/ && $4 != a && $4 != b' "$tmp/victim" | wc -l)
got=$(awk '/^received/ { print $2 }' "$tmp/victim")
[ "$got" = 4 ] && [ "$others" = 0 ] &&
	ktap_ok "only the announced sender and c1_1 reached the victim" ||
	ktap_fail "only the announced sender and c1_1 reached the victim ($got received, $others from forged announcements)"
[ "$(awk -v a="$esender" '/^recv from/ && $4 == a && $NF == 0' "$tmp/victim" | wc -l)" = 2 ] &&
	ktap_ok "e: the announcement signed with the key was accepted" ||
	ktap_fail "e: the announcement signed with the key was accepted"

# At least: a, b, g, i without a valid MAC; d stale; f a replay; c and h
# authentic, from a host that does not hold the address they speak for;
# e and c1_1's announcements accepted.
declare -A want=([ctrl_drop_auth]=4 [ctrl_drop_stale]=1 [ctrl_drop_replay]=1
		 [ctrl_drop_sender]=2 [ctrl_rx]=2)
counted() {
	local c v
	for c in "${!want[@]}"; do
		v=$(ctrl "$c")
		[ -n "$v" ] && [ $((v - ${c0[$c]:-0})) -ge "${want[$c]}" ] || return 1
	done
}
if wait_for 10 counted; then
	ktap_ok "n: the channel's counters count each drop by its reason"
else
	for c in "${!want[@]}"; do
		ktap_diag "$c: $(ctrl "$c") (was ${c0[$c]:-none}, want +${want[$c]})"
	done
	ktap_fail "n: the channel's counters count each drop by its reason"
fi
if in_ct c1_1 "$VRDMACTL" -j -s info > "$tmp/ct.json" &&
   jq -e 'if type == "array" then .[0] else . end | has("version") and (has("stats") | not)' \
	"$tmp/ct.json" > /dev/null; then
	ktap_ok "o: a container sees no counters of the channel"
else
	ktap_diag "$(cat "$tmp/ct.json")"
	ktap_fail "o: a container sees no counters of the channel"
fi

if [ $dyndbg = 1 ]; then
	log=$(dmesg | tail -n +"$mark")
	h1=::ffff:$(host_addr 1) h3=::ffff:$(host_addr 3)
	n129=$(grep -c "dropped a datagram from $h1: -129" <<< "$log")
	[ "$n129" -ge 1 ] && ktap_ok "a: an unsigned message is dropped (EKEYREJECTED)" ||
		ktap_fail "a: an unsigned message is dropped (EKEYREJECTED)"
	[ "$n129" -ge 2 ] && ktap_ok "b: a message signed with another key is dropped (EKEYREJECTED)" ||
		ktap_fail "b: a message signed with another key is dropped (EKEYREJECTED)"
	! grep -q "UD sender $h3" <<< "$log" &&
		ktap_ok "c: no announcement from host 3 for an address the map places on host 1 is learned" ||
		ktap_fail "c: no announcement from host 3 for an address the map places on host 1 is learned"
	grep -q "dropped a datagram from $h1: -116" <<< "$log" &&
		ktap_ok "d: a message sent an hour ago is dropped (ESTALE)" ||
		ktap_fail "d: a message sent an hour ago is dropped (ESTALE)"
	grep -q "dropped a datagram from $h1: -114" <<< "$log" &&
		ktap_ok "f: a replayed message is dropped (EALREADY)" ||
		ktap_fail "f: a replayed message is dropped (EALREADY)"
	wait_for 10 bash -c "[ \$(dmesg | tail -n +$mark | grep -c 'dropped a datagram from $h1: -129') -ge 3 ]" &&
		ktap_ok "g: an unsigned MAD is dropped (EKEYREJECTED)" ||
		ktap_fail "g: an unsigned MAD is dropped (EKEYREJECTED)"
	wait_for 10 bash -c "dmesg | grep -q 'MAD from $h3 for .*$victim: .*$a1 does not live there'" &&
		ktap_ok "h: a signed MAD from a host that does not hold its source is dropped" ||
		ktap_fail "h: a signed MAD from a host that does not hold its source is dropped"
	wait_for 10 bash -c "dmesg | tail -n +$mark | grep -q 'dropped a datagram from $h3: -129'" &&
		ktap_ok "i: a message replayed from another host is dropped (EKEYREJECTED)" ||
		ktap_fail "i: a message replayed from another host is dropped (EKEYREJECTED)"

	# Malformed datagrams (the saved announcement e, cut short, one
	# byte too long, and longer than any message).  A drop reason is
	# logged rate limited, so each is sent again until it shows.
	malformed() {	# malformed FILE PATTERN
		local m
		m=$(dmesg | wc -l)
		wait_for 15 bash -c "$FORGE replay --src $(host_addr 1) --dev h1 --dst $(host_addr 2) $1;
			dmesg | tail -n +$((m + 1)) | grep -q '$2'"
	}
	elen=$(stat -c %s "$tmp/e.pkt")
	ok=1
	for n in 3 15 $((elen - 1)); do
		head -c "$n" "$tmp/e.pkt" > "$tmp/cut.pkt"
		malformed "$tmp/cut.pkt" "dropped a datagram from $h1: -74" ||
			{ ktap_diag "a datagram cut to $n of $elen bytes: no drop logged"; ok=0; }
	done
	[ $ok = 1 ] && ktap_ok "j: a message cut short (3, 15, $((elen - 1)) bytes) is dropped (EBADMSG)" ||
		ktap_fail "j: a message cut short is dropped (EBADMSG)"
	{ cat "$tmp/e.pkt"; printf x; } > "$tmp/long.pkt"
	malformed "$tmp/long.pkt" "dropped a datagram from $h1: -74" &&
		ktap_ok "k: a message one byte too long is dropped (EBADMSG)" ||
		ktap_fail "k: a message one byte too long is dropped (EBADMSG)"
	{ cat "$tmp/e.pkt"; head -c 20000 /dev/zero; } > "$tmp/huge.pkt"
	malformed "$tmp/huge.pkt" "datagram too long" &&
		ktap_ok "l: a datagram longer than any message (20 KB more) is dropped" ||
		ktap_fail "l: a datagram longer than any message (20 KB more) is dropped"

	t=$(date +%s%N)
	learned() { dmesg | tail -n +"$mark" | grep -q "UD sender $h1 QPN $1 .* learned"; }
	$FORGE uda --key $KEY --src "$(host_addr 1)" --dev h1 --dst "$(host_addr 2)" \
		--seq $((t + 1000)) 0 7340033 "$(host_addr 1)" "$a1"
	$FORGE uda --key $KEY --src "$(host_addr 1)" --dev h1 --dst "$(host_addr 2)" \
		--seq "$t" --save "$tmp/m.pkt" 0 7340034 "$(host_addr 1)" "$a1"
	ok=1
	wait_for 10 learned 7340033 || { ktap_diag "m: the newer message was not learned"; ok=0; }
	wait_for 5 learned 7340034 || { ktap_diag "m: the older message, arriving second, was not learned"; ok=0; }
	malformed "$tmp/m.pkt" "dropped a datagram from $h1: -114" ||
		{ ktap_diag "m: the older message sent again: no replay drop logged"; ok=0; }
	[ $ok = 1 ] && ktap_ok "m: two messages arriving out of order are both accepted, then a replay is dropped" ||
		ktap_fail "m: two messages arriving out of order are both accepted, then a replay is dropped"
else
	for c in a b c d f g h i j k l m; do ktap_skip "$c: why it was dropped" "no dynamic debug"; done
fi
ktap_check "the key is in force" \
	bash -c 'dmesg | grep -q "control messages are authenticated"' 

ktap_finish
