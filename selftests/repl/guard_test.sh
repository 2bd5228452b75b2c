#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The control channel of a 3-member chain (hosts 1-3; authority and
# client on host 4) against replays and misconfigured hosts (issue 14, R5
# and R6), from a raw socket on the simulated network (repl_ctrl.py):
#   1. heartbeats of member 1 (host 2) are captured on the wire and played
#      again to the authority, from before host 2 is cut off (its bridge
#      port down) until after: they must not keep member 1 in the chain,
#      and (with dynamic debug) the channel drops them as replays;
#   2. a host that has the group under the same name and size but with
#      its members in another order sends a heartbeat (from host 2's
#      address, asking to leave: NODEV): the authority refuses it, logs
#      and counts the mismatch, member 1 stays;
#   3. the positive control of 2: the same heartbeat with the group's own
#      configuration is obeyed (member 1 leaves);
#   4. replication needs a cluster key: without ctrl_key, "group add" is
#      refused with a message that says so.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 9

HERE=$(cd "$(dirname "$0")" && pwd)
CTRL="/usr/bin/python3 $HERE/repl_ctrl.py"
KEY=${REPL_KEY:-none}
DDC=/sys/kernel/debug/dynamic_debug/control
A1=$(host_addr 1) A2=$(host_addr 2) A3=$(host_addr 3) A4=$(host_addr 4)

if ! repl_setup 4 || ! repl_group g1 1M || ! repl_wait_active g1 3; then
	echo "Bail out! setup failed"
	exit 1
fi
ktap_ok "chain g1 active (hosts 1-3)"

# removed_since MARK IDX: the authority removed member IDX after dmesg
# line MARK
removed_since() {
	dmesg | tail -n +"$(($1 + 1))" |
		grep -q "repl g1: authority: member $2 (::ffff:[0-9.]*) removed"
}

# 1. Replayed heartbeats of a member cut off from the network.
$CTRL capture --dev h4 --src "$A2" --dst "$A4" --count 20 "$REPL_DIR/hb.frames" ||
	{ echo "Bail out! no heartbeat captured"; exit 1; }
dyndbg=0
if [ -w "$DDC" ]; then
	echo 'file ctrl.c +p' > "$DDC" && dyndbg=1
	defer "echo 'file ctrl.c -p' > $DDC"
fi
# The replay starts while member 1 lives (duplicates), then it is cut off.
mark0=$(dmesg | wc -l)
$CTRL replay --dev h4p --seconds 15 --interval 0.05 "$REPL_DIR/hb.frames" \
	> "$REPL_DIR/replay.out" 2>&1 &
rpid=$!
wait_for 20 grep -q replaying "$REPL_DIR/replay.out" ||
	{ echo "Bail out! the replay did not start"; exit 1; }
mark=$(dmesg | wc -l)
ip link set h2p down
t0=$(date +%s%N)
# The lease (repl_lease_ms, 1 s) and two heartbeats: removed after 1.2 s
# (while the replay goes on).
if wait_for 8 removed_since "$mark" 1; then
	ktap_ok "replayed heartbeats do not keep a cut-off member in the chain (removed after $((($(date +%s%N) - t0) / 1000000)) ms)"
else
	ktap_diag "$(dmesg | tail -n +"$((mark + 1))" | grep -E 'repl|ctrl' | tail -n 20)"
	ktap_fail "replayed heartbeats do not keep a cut-off member in the chain"
fi
kill "$rpid" 2> /dev/null
wait "$rpid"
if [ $dyndbg = 1 ]; then
	# (rate limited: the first drops, before or after the cut)
	dmesg | tail -n +"$((mark0 + 1))" |
		grep -q "dropped a datagram from ::ffff:$A2: -114" &&
		ktap_ok "the replayed frames reached the channel, which dropped them (EALREADY)" ||
		ktap_fail "the replayed frames reached the channel, which dropped them (EALREADY)"
else
	ktap_skip "the replayed frames reached the channel, which dropped them" "no dynamic debug"
fi
ip link set h2p up
if repl_wait_active g1 3 60; then
	ktap_ok "member 1 back: 3 members active"
else
	repl_diag g1
	ktap_fail "member 1 back: 3 members active"
fi

# 2. A heartbeat from a host configured with the members in another order.
spec="name=g1,size=1048576,hb_ms=100,lease_ms=1000,authority=$A4"
$CTRL capture --dev h4 --src "$A2" --dst "$A4" --count 1 "$REPL_DIR/hb1.frames" ||
	{ echo "Bail out! no heartbeat captured"; exit 1; }
mark=$(dmesg | wc -l)
$CTRL forge-hb --src "$A2" --dev h2 --dst "$A4" --key "$KEY" --nodev \
	--cfg "$spec,members=$A1+$A3+$A2" "$REPL_DIR/hb1.frames"
mismatch_logged() {
	dmesg | tail -n +"$((mark + 1))" |
		grep -q "repl g1: .*$A2 .*another configuration"
}
if wait_for 5 mismatch_logged; then
	ktap_ok "a message under another configuration is refused and logged"
else
	ktap_fail "a message under another configuration is refused and logged"
fi
n=$(repl_json g1 | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)[0].get("config_mismatches"))')
[ "$n" = 1 ] && ktap_ok "the group counts 1 configuration mismatch" ||
	ktap_fail "the group counts 1 configuration mismatch (got $n)"
if removed_since "$mark" 1; then
	ktap_fail "member 1 stays in the chain"
else
	ktap_ok "member 1 stays in the chain"
fi

# 3. The same heartbeat under the group's configuration is obeyed.
mark=$(dmesg | wc -l)
$CTRL forge-hb --src "$A2" --dev h2 --dst "$A4" --key "$KEY" --nodev \
	--cfg "$spec,members=$A1+$A2+$A3" "$REPL_DIR/hb1.frames"
if wait_for 5 removed_since "$mark" 1; then
	ktap_ok "the same heartbeat under the group's configuration is obeyed"
else
	ktap_fail "the same heartbeat under the group's configuration is obeyed"
fi

# 4. No key, no replication.
"$VRDMACTL" repl group del g1
vrdma_unload
modprobe vrdma || { echo "Bail out! modprobe vrdma"; exit 1; }
if out=$("$VRDMACTL" repl group add g2 members "$A1,$A2,$A3" size 1M \
	 file "$REPL_DIR/g2-%a.img" authority "$A4" 2>&1); then
	"$VRDMACTL" repl group del g2
	ktap_fail "without ctrl_key, group add is refused"
elif grep -q "ctrl_key" <<< "$out"; then
	ktap_ok "without ctrl_key, group add is refused: $out"
else
	ktap_diag "$out"
	ktap_fail "without ctrl_key, group add is refused (no mention of ctrl_key)"
fi

ktap_finish
