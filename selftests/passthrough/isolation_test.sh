#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Isolation on passthrough devices, where the application drives the
# physical RNIC's queues: the RNIC itself must refuse, or complete in error,
# what a tenant must not do, and nothing may be written where it must not.
#
#   h1 rxe1: c1_1 (vp1_1, vni 0)   c1_2 (vp1_2, vni 7)
#   h2 rxe2: c2_1 (vp2_1, vni 0)   c2_2 (vp2_2, vni 7)
#
# pt_tool nodes (a QP, an MR of remote access, receives posted) report at
# the end whether a byte of theirs changed or a receive completed; an
# attacker in c1_1 connects to a node of its own network (p11 in c1_1, or
# c2_1) and aims at a node of vni 7 (t12 in c1_2, t22 in c2_2), each
# connected to itself.  A control write into the peer proves the nodes do
# notice writes.  Also: what a passthrough device refuses (EOPNOTSUPP).
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/pt_lib.sh"
require_root
require_pt_tool

EPERM=1
EOPNOTSUPP=95
EHOSTUNREACH=113

ktap_plan 15

if ! pt_setup; then
	ktap_fail "hosts, vrdma, four containers with passthrough devices"
	ktap_finish
fi

# ---- what the device refuses ------------------------------------------------------
out=$(in_ct c1_1 "$PT_TOOL" refuse "${DEV[c1_1]}" "${GID[c1_1]}" 2>&1)
ktap_diag "$out"
want() {	# want NAME ERRNO-PATTERN DESC
	if grep -qE "^$1 errno $2\$" <<< "$out"; then
		ktap_ok "$3"
	else
		ktap_fail "$3 (got: $(grep "^$1 " <<< "$out"))"
	fi
}
want ud_qp $EOPNOTSUPP "a UD QP: EOPNOTSUPP"
want raw_packet_qp $EOPNOTSUPP "a raw packet QP: EOPNOTSUPP"
want ah $EOPNOTSUPP "an address handle: EOPNOTSUPP"
want rc_qp 0 "an RC QP is created"
want uc_qp 0 "a UC QP is created"
if grep -qE '^xrcd errno [1-9]' <<< "$out" && grep -qE '^mw errno [1-9]' <<< "$out" &&
   grep -qE '^attach_mcast errno [1-9]' <<< "$out" &&
   grep -qE '^qp_create_flags errno [1-9]' <<< "$out"; then
	ktap_ok "XRC domains, memory windows, multicast and QP create flags are refused"
else
	ktap_fail "XRC domains, memory windows, multicast and QP create flags are refused"
fi

# ---- nodes and attacks --------------------------------------------------------------
# node CT NAME [SELF]: start a node; SELF: connect it to itself.
declare -A NODE_PID
node() {
	local ct=$1 name=$2
	rm -f "$PT_DIR/$name".*
	in_ct "$ct" timeout 120 "$PT_TOOL" node "${DEV[$ct]}" "${GID[$ct]}" "$name" \
		> "$PT_DIR/$name.log" 2>&1 &
	NODE_PID[$name]=$!
	wait_for 30 test -e "$PT_DIR/$name.info" ||
		{ ktap_diag "$name: no info ($(cat "$PT_DIR/$name.log"))"; return 1; }
	if [ "${3:-}" = self ]; then
		# Atomically, as pt_tool writes its files (it reads at once).
		cp "$PT_DIR/$name.info" "$PT_DIR/$name.connect.tmp" &&
			mv "$PT_DIR/$name.connect.tmp" "$PT_DIR/$name.connect"
		wait_for 30 test -e "$PT_DIR/$name.connected" ||
			{ ktap_diag "$name: not connected ($(cat "$PT_DIR/$name.log"))"; return 1; }
	fi
	return 0
}
# node_end NAME: stop it; returns its status (0: intact).
node_end() {
	local rc
	touch "$PT_DIR/$1.stop"
	wait_for 30 grep -qE '^(intact|changed)' "$PT_DIR/$1.log"
	wait "${NODE_PID[$1]}"
	rc=$?
	ktap_diag "$1 (exit $rc): $(tr '\n' ' ' < "$PT_DIR/$1.log")"
	return $rc
}
attack() {	# attack KIND PEER [TARGET]
	local rc
	in_ct c1_1 timeout 90 "$PT_TOOL" attack "${DEV[c1_1]}" "${GID[c1_1]}" "$@" \
		> "$PT_DIR/attack.log" 2>&1
	rc=$?
	ktap_diag "attack $1: $(tr '\n' ' ' < "$PT_DIR/attack.log")"
	return $rc
}
status() { sed -n 's/^status //p' "$PT_DIR/attack.log"; }

# The control: a write into the peer is seen (the checks below can fail).
node c2_1 p21
if attack write-ok p21 && ! node_end p21; then
	ktap_ok "control: an RDMA WRITE into the peer lands and is noticed; query_qp shows the overlay GID"
else
	ktap_fail "control: an RDMA WRITE into the peer lands and is noticed; query_qp shows the overlay GID"
fi

# A bogus lkey: the RNIC refuses the local buffer.
node c2_1 p21
attack bogus-lkey p21; rc=$?
node_end p21; prc=$?
# The RNIC completes the WRITE in error: rxe on 6.12 flushes it (the
# error moved the QP to the error state first), rxe on 6.1 reports a local
# QP operation error (the specification's status is a local protection
# error).
if [ $rc -eq 0 ] && [ $prc -eq 0 ] &&
   [[ $(status) =~ ^(local protection error|local QP operation error|Work\ Request\ Flushed\ Error)$ ]]; then
	ktap_ok "bogus lkey: $(status), nothing written"
else
	ktap_fail "bogus lkey: completed in error, nothing written (status $(status))"
fi

# Another tenant's rkey, on the same RNIC (rxe1: t12's MR is a key of it).
node c1_2 t12 self
node c1_1 p11
attack foreign-rkey p11 t12; rc=$?
node_end p11; prc=$?
node_end t12; trc=$?
if [ $rc -eq 0 ] && [ "$(status)" = "remote access error" ] && [ $trc -eq 0 ] && [ $prc -eq 0 ]; then
	ktap_ok "another tenant's rkey, same host: remote access error, nothing written"
else
	ktap_fail "another tenant's rkey, same host: remote access error, nothing written (status $(status))"
fi
# ... and through another host's RNIC (rxe2, t22's MR there).
node c2_2 t22 self
node c2_1 p21
attack foreign-rkey p21 t22; rc=$?
node_end p21; prc=$?
node_end t22; trc=$?
if [ $rc -eq 0 ] && [ "$(status)" = "remote access error" ] && [ $trc -eq 0 ] && [ $prc -eq 0 ]; then
	ktap_ok "another tenant's rkey, across hosts: remote access error, nothing written"
else
	ktap_fail "another tenant's rkey, across hosts: remote access error, nothing written (status $(status))"
fi

# Another container's QPN as destination (at the address of a peer of the
# attacker's network): across hosts the RNIC drops the packets and the
# sends fail; on one host vrdma knows the QPN is another network's and
# modify_qp fails with EPERM.
node c2_2 t22 self
node c2_1 p21
attack foreign-qpn p21 t22; rc=$?
node_end p21; prc=$?
node_end t22; trc=$?
if [ $rc -eq 0 ] && [ -n "$(status)" ] && [[ $(status) != modify* ]] &&
   [ $trc -eq 0 ] && [ $prc -eq 0 ]; then
	ktap_ok "another container's QPN, across hosts: $(status), nothing received"
else
	ktap_fail "another container's QPN, across hosts: completed in error, nothing received (status $(status))"
fi
node c1_2 t12 self
node c1_1 p11
attack foreign-qpn p11 t12; rc=$?
node_end p11; prc=$?
node_end t12; trc=$?
if [ $rc -eq 0 ] && [ "$(status)" = "modify errno $EPERM" ] &&
   [ $trc -eq 0 ] && [ $prc -eq 0 ]; then
	ktap_ok "another container's QPN, same host: EPERM at modify_qp, nothing received"
else
	ktap_fail "another container's QPN, same host: EPERM at modify_qp, nothing received (status $(status))"
fi

# Another tenant's address: refused at modify_qp, nothing reaches the wire.
node c2_2 t22 self
node c2_1 p21
attack other-vni p21 t22; rc=$?
node_end p21 > /dev/null
node_end t22; trc=$?
if [ $rc -eq 0 ] && [ "$(status)" = "modify errno $EHOSTUNREACH" ] && [ $trc -eq 0 ]; then
	ktap_ok "another tenant's address: EHOSTUNREACH at modify_qp"
else
	ktap_fail "another tenant's address: EHOSTUNREACH at modify_qp (status $(status))"
fi

# Nothing of theirs is left: the devices' objects are gone.
leftover=
for ct in c1_1 c1_2 c2_1 c2_2; do
	pt_released "$ct" ||
		leftover+=" $ct: $(pt_counts "$ct") (at creation: ${BASE[$ct]})"
done
if [ -z "$leftover" ]; then
	ktap_ok "every object was released"
else
	ktap_fail "every object was released:$leftover"
fi
ktap_check "the kernel log names the refusals" \
	bash -c "dmesg | grep -q 'passthrough device: address handles are not supported'"

ktap_finish
