#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module and group lifecycle:
#   - a group deleted with operations in flight: they complete with an
#     error (ESHUTDOWN), nothing hangs;
#   - the module unloads with groups present: groups go, the replicas are
#     written back to their files, the leak audit stays clean;
#   - with a cluster key (ctrl_key), control messages are authenticated
#     and the chain works as before.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 8

if ! repl_setup 4 || ! repl_group g1 1M || ! repl_wait_active g1 3; then
	echo "Bail out! setup failed"
	exit 1
fi

# Deletion under load.
"$REPL_TOOL" shift g1 20000 > "$REPL_DIR/shift.out" 2>&1 &
pid=$!
sleep 1
"$VRDMACTL" repl group del g1
t0=$(date +%s)
if wait_for 20 bash -c "! kill -0 $pid 2>/dev/null"; then
	ktap_ok "group deleted under load: the client ended ($(( $(date +%s) - t0 ))s)"
else
	kill $pid
	ktap_fail "group deleted under load: the client ended"
fi
wait $pid
rc=$?
ktap_diag "$(cat "$REPL_DIR/shift.out")"
[ $rc != 0 ] && grep -qE "shut down|ESHUTDOWN|Cannot send after transport endpoint shutdown|No such file" "$REPL_DIR/shift.out" &&
	ktap_ok "its operations in flight failed (ESHUTDOWN)" ||
	ktap_fail "its operations in flight failed (ESHUTDOWN)"

# Unload with two groups present.
repl_group g2 1M && repl_group g3 256K 1,2 || echo "# group add failed"
repl_wait_active g2 3 && repl_wait_active g3 2 || repl_diag g2
"$VRDMACTL" repl write g2 8192 0123456789abcdef
"$VRDMACTL" repl write g3 0 feedface
if rmmod vrdma; then
	ktap_ok "rmmod vrdma with two groups present"
else
	ktap_fail "rmmod vrdma with two groups present"
fi
ok=1
for h in 1 2 3; do
	[ "$(od -A n -t x1 -j 8192 -N 8 "$(repl_file g2 $h)" | tr -d ' ')" = 0123456789abcdef ] || ok=0
done
[ "$(od -A n -t x1 -N 4 "$(repl_file g3 2)" | tr -d ' ')" = feedface ] || ok=0
[ $ok = 1 ] && ktap_ok "the replicas were written back to their files" ||
	ktap_fail "the replicas were written back to their files"
dmesg | grep -q "vrdma: leak" && ktap_fail "no leak reported" || ktap_ok "no leak reported"

# A cluster key.
key=$(head -c 32 /dev/urandom | od -A n -t x1 | tr -d ' \n')
if modprobe vrdma ctrl_key="$key" && dmesg | grep -q "control messages are authenticated"; then
	ktap_ok "loaded with a cluster key"
else
	ktap_fail "loaded with a cluster key"
fi
repl_group g4 1M
if repl_wait_active g4 3; then
	ktap_ok "authenticated chain active"
else
	repl_diag g4
	ktap_fail "authenticated chain active"
fi
"$VRDMACTL" repl write g4 0 a5a5a5a5
[ "$(od -A n -t x1 -N 4 "$(repl_file g4 3)" | tr -d ' ')" = a5a5a5a5 ] &&
	ktap_ok "gWRITE through the authenticated chain" ||
	ktap_fail "gWRITE through the authenticated chain"
ktap_finish
