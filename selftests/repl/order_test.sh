#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Ordering on a 3-member chain:
#   - 10,000 pipelined gCAS on one word, each expecting the previous one's
#     value: every one swaps on every replica, completions come in order;
#   - two clients contending on one word with gCAS increments: no
#     increment lost, every replica reports the same old values;
#   - a shift register of gMEMCPY + gWRITE pairs: a lost or duplicated
#     operation would break the sequence in some replica.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 6

if ! repl_setup 4 || ! repl_group g1 1M || ! repl_wait_active g1 3; then
	echo "Bail out! setup failed"
	exit 1
fi

ktap_check "10000 pipelined dependent gCAS" "$REPL_TOOL" cas-chain g1 10000 0
w="$(file_u64 "$(repl_file g1 1)" 0) $(file_u64 "$(repl_file g1 2)" 0) $(file_u64 "$(repl_file g1 3)" 0)"
[ "$w" = "10000 10000 10000" ] && ktap_ok "the word is 10000 in every replica" ||
	ktap_fail "the word is 10000 in every replica (got $w)"

"$REPL_TOOL" contend g1 200 4096 > "$REPL_DIR/c1.out" 2>&1 &
p1=$!
"$REPL_TOOL" contend g1 200 4096 > "$REPL_DIR/c2.out" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
ktap_diag "$(cat "$REPL_DIR/c1.out" "$REPL_DIR/c2.out")"
[ $r1 = 0 ] && [ $r2 = 0 ] && ktap_ok "two contending clients: 200 increments each" ||
	ktap_fail "two contending clients: 200 increments each"
w="$(file_u64 "$(repl_file g1 1)" 4096) $(file_u64 "$(repl_file g1 2)" 4096) $(file_u64 "$(repl_file g1 3)" 4096)"
[ "$w" = "400 400 400" ] && ktap_ok "the contended word is 400 in every replica" ||
	ktap_fail "the contended word is 400 in every replica (got $w)"

ktap_check "shift register: 1000 gMEMCPY + gWRITE pairs" "$REPL_TOOL" shift g1 1000
ok=1
for h in 1 2 3; do
	"$REPL_TOOL" verify-shift "$(repl_file g1 $h)" 1000 || ok=0
done
[ $ok = 1 ] && ktap_ok "every replica holds 1000..1" ||
	ktap_fail "every replica holds 1000..1"
ktap_finish
