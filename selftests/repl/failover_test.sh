#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Failures of a 3-member chain (hosts 1-3; authority and client on host 4),
# each in the middle of a stream of pipelined operations that must all
# complete, none lost, none applied twice:
#   1. the middle member's RNIC is removed (rdma link del rxe2): the chain
#      reconnects around it; the survivors hold the exact result;
#   2. it comes back (rdma link add): it joins at the tail after a state
#      transfer, then takes part in new operations;
#   3. the head's link is cut (ip link set h1 down): the authority removes
#      it, the client agent goes to the new head and resends what did not
#      complete; the old head fences itself; the link comes back and it
#      rejoins.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 13

if ! repl_setup 4 || ! repl_group g1 1M || ! repl_wait_active g1 3; then
	echo "Bail out! setup failed"
	exit 1
fi

N=4000
state_is() { [ "$(repl_field g1 "$1" state)" = "$2" ]; }

# 1. The middle member's RNIC goes away mid-stream (after 2000 of 8000).
t0=$(date +%s)
REPL_AT=2000 REPL_CMD="rdma link del rxe2" \
	"$REPL_TOOL" shift g1 $N > "$REPL_DIR/shift.out" 2>&1
rc=$?
ktap_diag "$(cat "$REPL_DIR/shift.out")"
[ $rc = 0 ] && grep -q "running 'rdma link del rxe2'" "$REPL_DIR/shift.out" &&
	ktap_ok "rxe2 removed mid-stream: all $((2 * N)) operations completed ($(( $(date +%s) - t0 ))s)" ||
	ktap_fail "rxe2 removed mid-stream: all $((2 * N)) operations completed"
ok=1
for h in 1 3; do
	"$REPL_TOOL" verify-shift "$(repl_file g1 $h)" $N || ok=0
done
[ $ok = 1 ] && ktap_ok "hosts 1 and 3 hold $N..1: nothing lost, nothing applied twice" ||
	ktap_fail "hosts 1 and 3 hold $N..1: nothing lost, nothing applied twice"
wait_for 10 state_is 1 down
st="$(repl_field g1 1 role)/$(repl_field g1 1 state) $(repl_field g1 0 role) $(repl_field g1 2 role)"
[ "$st" = "out/down head tail" ] && ktap_ok "member 1 is out (down), the chain is 0 -> 2" ||
	{ repl_diag g1; ktap_fail "member 1 is out (down), the chain is 0 -> 2 (got $st)"; }

# 2. It comes back: state transfer, then it is the tail.
rdma link add rxe2 type rxe netdev h2
if repl_wait_active g1 3 60; then
	ktap_ok "rxe2 back: member 1 rejoined (state transfer), 3 members active"
else
	repl_diag g1
	ktap_fail "rxe2 back: member 1 rejoined (state transfer), 3 members active"
fi
"$REPL_TOOL" verify-shift "$(repl_file g1 2)" $N &&
	ktap_ok "member 1 received the state: $N..1" ||
	ktap_fail "member 1 received the state: $N..1"
[ "$(repl_field g1 1 role)" = tail ] && ktap_ok "member 1 joined at the tail" ||
	ktap_fail "member 1 joined at the tail (role $(repl_field g1 1 role))"
ktap_check "after the rejoin: 300 pipelined gCAS" "$REPL_TOOL" cas-chain g1 300 65536
w="$(file_u64 "$(repl_file g1 1)" 65536) $(file_u64 "$(repl_file g1 2)" 65536) $(file_u64 "$(repl_file g1 3)" 65536)"
[ "$w" = "300 300 300" ] && ktap_ok "the word is 300 in the 3 replicas" ||
	ktap_fail "the word is 300 in the 3 replicas (got $w)"

# 3. The head's link is cut mid-stream (after 2000 of 6000).
REPL_AT=2000 REPL_CMD="ip link set h1 down" \
	"$REPL_TOOL" cas-chain g1 6000 131072 > "$REPL_DIR/cas.out" 2>&1
rc=$?
ktap_diag "$(cat "$REPL_DIR/cas.out")"
[ $rc = 0 ] && grep -q "running 'ip link set h1 down'" "$REPL_DIR/cas.out" &&
	ktap_ok "head's link cut mid-stream: 6000 dependent gCAS all swapped, in order" ||
	{ repl_diag g1; ktap_fail "head's link cut mid-stream: 6000 dependent gCAS all swapped, in order"; }
w="$(file_u64 "$(repl_file g1 2)" 131072) $(file_u64 "$(repl_file g1 3)" 131072)"
[ "$w" = "6000 6000" ] && ktap_ok "the word is 6000 on hosts 2 and 3" ||
	ktap_fail "the word is 6000 on hosts 2 and 3 (got $w)"
wait_for 10 state_is 0 fenced
st="$(repl_field g1 0 state) $(repl_field g1 1 role) $(repl_field g1 2 role)"
[ "$st" = "fenced tail head" ] && ktap_ok "the old head fenced itself; chain 2 -> 1" ||
	{ repl_diag g1; ktap_fail "the old head fenced itself; chain 2 -> 1 (got $st)"; }

ip link set h1 up
if repl_wait_active g1 3 60; then
	ktap_ok "h1 back: member 0 rejoined, 3 members active"
else
	repl_diag g1
	ktap_fail "h1 back: member 0 rejoined, 3 members active"
fi
[ "$(file_u64 "$(repl_file g1 1)" 131072)" = 6000 ] &&
	"$REPL_TOOL" verify-shift "$(repl_file g1 1)" $N &&
	ktap_ok "member 0 received the state" || ktap_fail "member 0 received the state"
ktap_finish
