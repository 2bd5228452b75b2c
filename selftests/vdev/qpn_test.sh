#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A connected QP may only be aimed at a QP of its own virtual network,
# wherever the module can tell: on its own host.
#
#   c1_1 vr11 vni 0 --+
#                     +-- rxe1 (host 1; a host process has a QP on it too)
#   c1_2 vr12 vni 7 --+
#
# c1_2 moves an RC QP to RTR towards its own address (the RNIC's loopback)
# with the QPN of: c1_1's QP (another vni), QP 0 and QP 1 (the physical
# device's), a QP of a host process on rxe1; each is refused with EPERM
# before anything reaches the wire.  Its own vni's QP, and c1_1's own QP
# from c1_1, are accepted.  (UD destinations: ud_isolation_test.sh.)
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/vdev_tool
EPERM=1
tmp=$(mktemp -d)
defer rm -rf "$tmp"

ktap_plan 7
topo_hosts 1 && vrdma_load || { echo "Bail out! setup"; exit 1; }
for n in 1 2; do
	topo_container 1 "$n" > /dev/null
	"$VRDMACTL" dev add "vr1$n" netns "c1_$n" netdev eth0 phys rxe1 \
		vni $(( n == 2 ? 7 : 0 )) || { echo "Bail out! dev add vr1$n"; exit 1; }
	defer "$VRDMACTL" dev del "vr1$n"
done
gidx() { in_ct "$1" bash -c ". $LIB_DIR/topo.sh; gid_index $2 $3"; }
for n in 1 2; do
	wait_for 20 gidx "c1_$n" "vr1$n" "$(ct_addr 1 "$n")" ||
		{ echo "Bail out! vr1$n has no GID"; exit 1; }
done

# hold NAME CT|- DEV: a QP held by a process until the test ends; sets
# QPN_<NAME> to its number.  The process's stdin is a FIFO whose only
# writer is this shell (not the process itself, nor the holders started
# after it): closing it ends the process, which the test waits for before
# the topology (rxe1) is torn down.
holder_fds=()
hold() {
	local name=$1 ct=$2 dev=$3 fifo=$tmp/$1 pid
	local -a run=("$TOOL" hold "$dev" rc 300)
	mkfifo "$fifo"
	exec {fd}<> "$fifo"
	[ "$ct" = - ] || run=(ip netns exec "$ct" "${run[@]}")
	holder_fds+=("$fd")
	(
		for f in "${holder_fds[@]}"; do eval "exec $f>&-"; done
		exec "${run[@]}"
	) < "$fifo" > "$tmp/$name.out" 2>&1 &
	pid=$!
	defer "exec $fd>&-; wait $pid"
	wait_for 20 grep -q '^qpn' "$tmp/$name.out" ||
		{ echo "Bail out! $name: $(cat "$tmp/$name.out")"; exit 1; }
	printf -v "QPN_$name" '%s' "$(awk '/^qpn/ { print $2 }' "$tmp/$name.out")"
}
hold other c1_1 vr11
hold own c1_2 vr12
hold host - rxe1

# rtr DESC CT DEV ADDR QPN WANT_ERRNO
rtr() {
	local desc=$1 ct=$2 dev=$3 addr=$4 q=$5 want=$6 out
	out=$(in_ct "$ct" timeout 60 "$TOOL" rcconnect "$dev" \
		"$(gidx "$ct" "$dev" "$addr")" "$addr" "$q" 2>&1)
	if [ "$out" = "rtr errno $want" ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc (got '$out', want 'rtr errno $want')"
	fi
}
a2=$(ct_addr 1 2)
rtr "vni 7 to vni 0's QP $QPN_other: EPERM" c1_2 vr12 "$a2" "$QPN_other" $EPERM
rtr "vni 7 to QP 0: EPERM" c1_2 vr12 "$a2" 0 $EPERM
rtr "vni 7 to QP 1: EPERM" c1_2 vr12 "$a2" 1 $EPERM
rtr "vni 7 to a host process's QP $QPN_host: EPERM" c1_2 vr12 "$a2" "$QPN_host" $EPERM
rtr "vni 7 to QP $QPN_own of vni 7: accepted" c1_2 vr12 "$a2" "$QPN_own" 0
rtr "vni 0 to QP $QPN_other of vni 0: accepted" c1_1 vr11 "$(ct_addr 1 1)" "$QPN_other" 0
# A QPN that no QP of the host has.
rtr "vni 7 to a QPN nobody has: EPERM" c1_2 vr12 "$a2" 0xfffff0 $EPERM

ktap_finish
