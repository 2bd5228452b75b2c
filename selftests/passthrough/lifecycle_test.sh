#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lifetime of passthrough devices whose processes map the physical RNIC's
# queues: processes killed mid-transfer, the device deleted, the
# container's namespace deleted and the physical device removed while
# transfers run; the module refuses to unload while a process uses it and
# unloads cleanly (leak audit) once none does.
#
#   h1 rxe1: c1_1 (vp1_1)  c1_3 (vp1_3)
#   h2 rxe2: c2_1 (vp2_1)  c2_3 (vp2_3)
#
# A passthrough ucontext holds a reference on vrdma and on the physical
# driver's module until its last mapping is gone: /sys/module/*/refcnt
# back at its baseline shows that everything was released.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/pt_lib.sh"
require_root
require_pt_tool

KILLS=${KILLS:-5}		# lifecycle_full_test.sh: 50
TMO=120

ktap_plan 15

if ! pt_setup "1_1 1_3 2_1 2_3"; then
	ktap_fail "hosts, vrdma, four containers with passthrough devices"
	ktap_finish
fi
in_ct c1_1 ping -c 1 -W 5 "${ADDR[c2_1]}" > /dev/null

refcnt() { cat "/sys/module/$1/refcnt"; }
VRDMA_BASE=$(refcnt vrdma)
RXE_BASE=$(refcnt rdma_rxe)
released() {	# both modules back at their baseline
	[ "$(refcnt vrdma)" = "$VRDMA_BASE" ] && [ "$(refcnt rdma_rxe)" = "$RXE_BASE" ]
}
ktap_diag "module references: vrdma $VRDMA_BASE, rdma_rxe $RXE_BASE"

log=$PT_DIR/run.log
# stream CT: pt_tool stream in the background, once it transfers.
stream() {
	in_ct "$1" timeout "$TMO" "$PT_TOOL" stream "${DEV[$1]}" "${GID[$1]}" > "$log" 2>&1 &
	SPID=$!
	wait_for 30 grep -q running "$log"
}
# qp_rts CT: a QP of the container's device is in RTS (a transfer runs).
qp_rts() { in_ct "$1" rdma resource show qp 2>/dev/null | grep -q 'state RTS'; }
# bw SRV_CT CLI_CT: ib_write_bw between them in the background, once both
# QPs are connected (long enough to be interrupted).
bw() {
	local s=$1 c=$2
	in_ct "$s" timeout "$TMO" ib_write_bw -F -d "${DEV[$s]}" -x "${GID[$s]}" \
		-s 65536 -n 100000 > "$PT_DIR/srv.log" 2>&1 &
	SRV=$!
	wait_listen 18515 "$s" || return 1
	in_ct "$c" timeout "$TMO" ib_write_bw -F -d "${DEV[$c]}" -x "${GID[$c]}" \
		-s 65536 -n 100000 "${ADDR[$s]}" > "$PT_DIR/cli.log" 2>&1 &
	CLI=$!
	wait_for 30 qp_rts "$c" && wait_for 30 qp_rts "$s"
}
# kill9 PID...: SIGKILL to each background job and all its descendants
# (in_ct's subshell, timeout, the program), the program first.
kill9() {
	local p
	for p in "$@"; do
		kill9 $(pgrep -P "$p")
		kill -9 "$p" 2> /dev/null
	done
}
# gone PID...: every one exits within 20 s (killed otherwise: returns 1).
gone() {
	local p rc=0
	for p in "$@"; do
		if ! wait_for 20 bash -c "! kill -0 $p"; then
			kill9 "$p"
			rc=1
		fi
		wait "$p" 2> /dev/null
	done
	return $rc
}

# ---- kill -9 in the middle of transfers ------------------------------------------
fail=0
for ((i = 1; i <= KILLS; i++)); do
	if ((i % 10 == 0 || i == KILLS)); then
		bw c2_1 c1_1 || { fail=$i; break; }
		kill9 "$CLI" "$SRV"
		wait "$CLI" "$SRV" 2> /dev/null
	else
		stream c1_1 || { fail=$i; break; }
		kill9 "$SPID"
		wait "$SPID" 2> /dev/null
	fi
done
if [ $fail -eq 0 ]; then
	ktap_ok "kill -9 mid-transfer, $KILLS times (every tenth and the last an ib_write_bw pair across hosts)"
else
	ktap_diag "$(cat "$log" "$PT_DIR/cli.log" 2> /dev/null | tail -n 5)"
	ktap_fail "kill -9 mid-transfer, $KILLS times (round $fail did not start)"
fi
for ct in c1_1 c2_1; do
	if pt_released "$ct"; then
		ktap_ok "$ct: every object released"
	else
		ktap_fail "$ct: every object released ($(pt_counts "$ct"); at creation: ${BASE[$ct]})"
	fi
done
ktap_check "module references back at their baseline" wait_for 20 released

# ---- rmmod refused while a process uses a device ---------------------------------
in_ct c1_1 timeout "$TMO" "$PT_TOOL" hold "${DEV[c1_1]}" "${GID[c1_1]}" "$PT_DIR/go" > "$log" 2>&1 &
HPID=$!
wait_for 30 grep -q ready "$log"
if ! rmmod vrdma 2> "$PT_DIR/rmmod.err" && module_loaded vrdma; then
	ktap_ok "rmmod vrdma refused while in use: $(head -n 1 "$PT_DIR/rmmod.err")"
else
	ktap_fail "rmmod vrdma refused while in use"
	echo "Bail out! vrdma unloaded under a process"
	exit 1
fi
touch "$PT_DIR/go"
wait $HPID
if grep -q "verb errno 0" "$log"; then
	ktap_ok "the device still works after the refusal"
else
	ktap_fail "the device still works after the refusal ($(cat "$log"))"
fi
rm -f "$PT_DIR/go"

# ---- dev del with live mappings ------------------------------------------------------
stream c1_3
in_ct c1_3 timeout "$TMO" "$PT_TOOL" hold "${DEV[c1_3]}" "${GID[c1_3]}" "$PT_DIR/go" > "$PT_DIR/hold.log" 2>&1 &
HPID=$!
wait_for 30 grep -q ready "$PT_DIR/hold.log"
start=$SECONDS
if timeout 30 "$VRDMACTL" dev del "${DEV[c1_3]}"; then
	ktap_ok "dev del with two processes mapping the queues returns ($((SECONDS - start))s)"
else
	ktap_fail "dev del with two processes mapping the queues returns"
fi
# The streaming process sees its verbs fail and exits by itself.
if gone "$SPID"; then
	ktap_ok "the transfer fails and its process exits: $(grep -m1 pt_tool "$log")"
else
	ktap_fail "the transfer fails and its process exits (it had to be killed)"
fi
# The other one still maps the rings: vrdma stays in use until it exits.
if [ "$(refcnt vrdma)" != "$VRDMA_BASE" ] && ! rmmod vrdma 2> /dev/null; then
	ktap_ok "mappings outlive the device: vrdma still referenced"
else
	ktap_fail "mappings outlive the device: vrdma still referenced"
fi
touch "$PT_DIR/go"
wait $HPID
if grep -qE "verb errno (5|19)$" "$PT_DIR/hold.log"; then
	ktap_ok "a verb after the deletion fails: $(grep verb "$PT_DIR/hold.log")"
else
	ktap_fail "a verb after the deletion fails ($(cat "$PT_DIR/hold.log"))"
fi
rm -f "$PT_DIR/go"
ktap_check "module references back at their baseline" wait_for 20 released

# ---- the container's namespace deleted mid-transfer -----------------------------------
if bw c2_1 c1_1; then
	# What a container runtime does: the namespace and its veth go.
	ip netns del c1_1
	ip link del c1_1p
	if wait_for 20 bash -c "! $VRDMACTL dev show ${DEV[c1_1]}"; then
		ktap_ok "namespace deleted mid-transfer: ${DEV[c1_1]} deleted"
	else
		ktap_fail "namespace deleted mid-transfer: ${DEV[c1_1]} deleted"
	fi
	gone "$CLI"
	kill9 "$SRV"
	gone "$SRV"
else
	ktap_fail "namespace deleted mid-transfer: the transfer did not start"
fi

# ---- the physical device removed mid-transfer ---------------------------------------------
if bw c2_1 c2_3; then
	rdma link del rxe2
	if wait_for 20 bash -c "! $VRDMACTL dev show ${DEV[c2_1]} && ! $VRDMACTL dev show ${DEV[c2_3]}"; then
		ktap_ok "rxe2 removed mid-transfer: its devices are deleted"
	else
		ktap_fail "rxe2 removed mid-transfer: its devices are deleted"
	fi
	gone "$CLI" "$SRV"
	ktap_diag "client: $(tail -n 2 "$PT_DIR/cli.log")"
else
	ktap_fail "rxe2 removed mid-transfer: the transfer did not start"
fi
ktap_check "module references back at their baseline" wait_for 20 released

# ---- unload: clean ------------------------------------------------------------------------
"$VRDMACTL" dev del "${DEV[c1_3]}" 2> /dev/null
for d in $(rdma dev 2>/dev/null | awk '{ sub(":", "", $2); print $2 }' | grep '^vp'); do
	"$VRDMACTL" dev del "$d"
done
dmesg_before=$(dmesg | wc -l)
if rmmod vrdma && ! dmesg | tail -n +"$((dmesg_before + 1))" | grep -q "vrdma: leak"; then
	ktap_ok "rmmod vrdma once unused: no leak"
else
	dmesg | tail -n 20 | sed 's/^/# /'
	ktap_fail "rmmod vrdma once unused: no leak"
fi

ktap_finish
