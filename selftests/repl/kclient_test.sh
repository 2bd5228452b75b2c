#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The exported in-kernel client API (drivers/vrdma/vrdma_repl.h), used by
# a module of its own, kclient/vrdma_repl_kclient.ko (built with vrdma.ko
# by 'make modules'), on a 3-member chain (authority and client on host 4):
#   - loading it for a group that does not exist fails with ENOENT;
#   - loading it for g1 runs a gWRITE, a gCAS (every replica swaps and
#     reports the old word), a gFLUSH, and two submissions the API refuses
#     (beyond the region, an unaligned gCAS); the module fails to load if
#     anything differs;
#   - every replica's backing file then holds the written bytes and the
#     swapped word;
#   - vrdma cannot be unloaded while a module that uses the API is loaded.
. "$(dirname "$0")/repl_lib.sh"
require_root

# The run's own copy (check.sh puts it next to the run's vrdma.ko, from
# whichever BUILD folder it built), else the default build folder's.
KCLIENT=${VRDMA_OUT:-/nonexistent}/vrdma_repl_kclient.ko
[ -f "$KCLIENT" ] ||
	KCLIENT=$SRC_DIR/build/$(uname -r)/selftests/repl/kclient/vrdma_repl_kclient.ko

ktap_plan 6

if [ ! -f "$KCLIENT" ]; then
	echo "Bail out! $KCLIENT not built (make modules builds it)"
	exit 1
fi
if ! repl_setup 4; then
	echo "Bail out! topology or module setup failed"
	exit 1
fi

kclient_load() { insmod "$KCLIENT" "$@"; }
kclient_unload() { ! module_loaded vrdma_repl_kclient || rmmod vrdma_repl_kclient; }
defer kclient_unload

out=$(kclient_load group=nosuch 2>&1)
if [ $? -ne 0 ] && ! module_loaded vrdma_repl_kclient &&
   dmesg | tail -n 20 | grep -q "open nosuch: -2"; then
	ktap_ok "a group that does not exist: vrdma_repl_open() fails with ENOENT"
else
	ktap_diag "$out"
	ktap_fail "a group that does not exist: vrdma_repl_open() fails with ENOENT"
fi

if repl_group g1 1M && repl_wait_active g1 3; then
	ktap_ok "group add g1 (hosts 1-3, 1 MiB), active"
else
	repl_diag g1
	ktap_fail "group add g1 (hosts 1-3, 1 MiB), active"
fi

# 4096 bytes of 0x5a at 64 KiB, then the word there swapped to 65537.
off=65536
if out=$(kclient_load group=g1 offset=$off pattern=0x5a 2>&1); then
	ktap_ok "the module's gWRITE, gCAS and gFLUSH complete; bad submissions are refused"
else
	ktap_diag "$out" "$(dmesg | grep vrdma_repl_kclient | tail -n 5)"
	ktap_fail "the module's gWRITE, gCAS and gFLUSH complete; bad submissions are refused"
fi

exp=$REPL_DIR/expected.bin
{ printf '\001\000\001\000\000\000\000\000'; head -c 4088 /dev/zero | tr '\0' '\132'; } > "$exp"
ok=1
for h in 1 2 3; do
	file_has "$(repl_file g1 $h)" $off "$exp" ||
		{ ktap_diag "host $h: $(od -A d -t x1 -j $off -N 16 "$(repl_file g1 $h)")"; ok=0; }
done
[ $ok = 1 ] && ktap_ok "every replica holds the written bytes and the swapped word" ||
	ktap_fail "every replica holds the written bytes and the swapped word"

if ! rmmod vrdma 2>/dev/null && module_loaded vrdma; then
	ktap_ok "vrdma stays while the API's user is loaded"
else
	ktap_fail "vrdma stays while the API's user is loaded"
fi
if kclient_unload && ! module_loaded vrdma_repl_kclient; then
	ktap_ok "the API's user unloads"
else
	ktap_fail "the API's user unloads"
fi
ktap_finish
