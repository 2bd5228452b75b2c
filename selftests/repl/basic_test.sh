#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A 3-member chain (hosts 1-3; authority and client on host 4):
#   - group create, show (roles, states), delete;
#   - gWRITE: the data is byte-identical in every replica's backing file;
#   - gMEMCPY within every replica;
#   - gCAS: swaps on every replica, reports every replica's old value;
#     a second one with a stale expected value swaps nowhere;
#   - gFLUSH: before it, the data is not on the disk (O_DIRECT reads);
#     after it, it is, on every replica.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 15

if ! repl_setup 4; then
	echo "Bail out! topology or module setup failed"
	exit 1
fi
if [ -z "${VRDMA_SCRATCH:-}" ]; then
	ktap_diag "no scratch disk: backing files on tmpfs, durability is not checked"
fi

if repl_group g1 1M; then
	ktap_ok "group add g1 (hosts 1-3, 1 MiB)"
else
	ktap_fail "group add g1 (hosts 1-3, 1 MiB)"
fi
if repl_wait_active g1 3; then
	ktap_ok "the chain is active, the client connected"
else
	repl_diag g1
	ktap_fail "the chain is active, the client connected"
fi
roles="$(repl_field g1 0 role) $(repl_field g1 1 role) $(repl_field g1 2 role)"
if [ "$roles" = "head middle tail" ]; then
	ktap_ok "roles: head middle tail"
else
	ktap_fail "roles: head middle tail (got '$roles')"
fi

# gWRITE of 200 KiB (four operations) at offset 4096, and 4 bytes at 0.
src=$REPL_DIR/src.bin
head -c 204800 /dev/urandom > "$src"
ktap_check "repl write g1 4096 @200KiB" "$VRDMACTL" repl write g1 4096 "@$src"
ktap_check "repl write g1 0 deadbeef" "$VRDMACTL" repl write g1 0 0xdeadbeef
ok=1
for h in 1 2 3; do
	f=$(repl_file g1 $h)
	file_has "$f" 4096 "$src" || { ktap_diag "host $h: data differs"; ok=0; }
	[ "$(od -A n -t x1 -N 4 "$f" | tr -d ' ')" = deadbeef ] ||
		{ ktap_diag "host $h: first bytes $(od -A n -t x1 -N 4 "$f")"; ok=0; }
done
[ $ok = 1 ] && ktap_ok "gWRITE: byte-identical in the 3 backing files" ||
	ktap_fail "gWRITE: byte-identical in the 3 backing files"

# gMEMCPY 200 KiB from 4096 to 512 KiB.
ktap_check "repl memcpy g1 4096 512K 200K" "$VRDMACTL" repl memcpy g1 4096 512K 200K
ok=1
for h in 1 2 3; do
	file_has "$(repl_file g1 $h)" 524288 "$src" ||
		{ ktap_diag "host $h: copy differs"; ok=0; }
done
[ $ok = 1 ] && ktap_ok "gMEMCPY: every replica copied" ||
	ktap_fail "gMEMCPY: every replica copied"

# gCAS at the last word: 0 -> 42 swaps everywhere, then 0 -> 7 nowhere.
cas=$((1048576 - 8))
out=$("$VRDMACTL" -j repl cas g1 $cas 0 42 2>&1)
res=$(/usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(" ".join("%d:%d:%s" % (x["member"], x["old"], x["swapped"]) for x in r))' "$out" 2>&1)
if [ "$res" = "0:0:True 1:0:True 2:0:True" ]; then
	ktap_ok "gCAS 0 -> 42: swapped on every replica, each reports old 0"
else
	ktap_diag "$out"
	ktap_fail "gCAS 0 -> 42: swapped on every replica, each reports old 0 (got '$res')"
fi
out=$("$VRDMACTL" -j repl cas g1 $cas 0 7 2>&1)
res=$(/usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(" ".join("%d:%d:%s" % (x["member"], x["old"], x["swapped"]) for x in r))' "$out" 2>&1)
vals="$(file_u64 "$(repl_file g1 1)" $cas) $(file_u64 "$(repl_file g1 2)" $cas) $(file_u64 "$(repl_file g1 3)" $cas)"
if [ "$res" = "0:42:False 1:42:False 2:42:False" ] && [ "$vals" = "42 42 42" ]; then
	ktap_ok "gCAS with a stale expected value: no replica swaps, each reports 42"
else
	ktap_diag "$out" "words: $vals"
	ktap_fail "gCAS with a stale expected value: no replica swaps, each reports 42"
fi

# gFLUSH durability, read back with O_DIRECT (the disk, not the cache).
if [ -n "${VRDMA_SCRATCH:-}" ]; then
	pat=$REPL_DIR/pat.bin
	head -c 8192 /dev/urandom > "$pat"
	"$VRDMACTL" repl write g1 786432 "@$pat"
	ok=1
	for h in 1 2 3; do
		file_has "$(repl_file g1 $h)" 786432 "$pat" || ok=0
		file_has_direct "$(repl_file g1 $h)" 786432 "$pat" && ok=0
	done
	[ $ok = 1 ] && ktap_ok "before gFLUSH: in every replica's file, not on its disk yet" ||
		ktap_fail "before gFLUSH: in every replica's file, not on its disk yet"
	ktap_check "repl flush g1 768K 8K" "$VRDMACTL" repl flush g1 768K 8K
	ok=1
	for h in 1 2 3; do
		file_has_direct "$(repl_file g1 $h)" 786432 "$pat" ||
			{ ktap_diag "host $h: not on the disk"; ok=0; }
	done
	[ $ok = 1 ] && ktap_ok "after gFLUSH: on every replica's disk (O_DIRECT)" ||
		ktap_fail "after gFLUSH: on every replica's disk (O_DIRECT)"
else
	ktap_skip "before gFLUSH" "no scratch disk"
	ktap_skip "repl flush" "no scratch disk"
	ktap_skip "after gFLUSH" "no scratch disk"
fi

applied=$(repl_field g1 2 applied)
ktap_check "group del g1" "$VRDMACTL" repl group del g1
if ! "$VRDMACTL" repl group show g1 > /dev/null 2>&1 &&
   file_has "$(repl_file g1 3)" 4096 "$src"; then
	ktap_ok "deleted; the replicas stay readable ($applied operations)"
else
	ktap_fail "deleted; the replicas stay readable"
fi
ktap_finish
