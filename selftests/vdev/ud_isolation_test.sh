#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# UD datagrams never cross virtual networks, and nobody but a vrdma UD QP
# of the receiver's virtual network gets a datagram to its application:
#
#   c1_1 vr11 vni 0 --+                     +-- c2_1 vr21 vni 0 (victim)
#   c1_2 vr12 vni 7 --+-- rxe1 ===== rxe2 --+-- c2_2 vr22 vni 7
#                                           +-- c2_3 vr23 vni 0
#
# The physical RNIC delivers a UD datagram to whichever QP of the host has
# the destination QPN and the Q_Key.  The victim's receiving module must
# drop, before the application sees them:
#  1. datagrams of vni 7 from host 1 (the sender announced its vni);
#  2. the same, sent behind 70 other datagrams in one doorbell (the
#     announcement covers every datagram posted, not the first 64);
#  3. datagrams of vni 7 from host 2 itself: c2_2 addresses its own
#     address with the victim's QPN (the RNIC loops them back);
#  4. datagrams of a process that uses rxe1 directly (not vrdma: it never
#     announced itself);
#  5. the same from a process on rxe2 (this host).
# Its own vni's datagrams get through: from c2_3 (this host) and c1_1.
# The victim stops once those 5 arrived; every datagram it received must
# come from them, and its device counted each of the others that reached
# it, as many as their senders sent (xlate_refused_other_vni,
# Documentation/observability.rst).
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/vdev_tool
vni_of() { [ "$2" = 2 ] && echo 7 || echo 0; }
log=/tmp/ud-victim.log

ktap_plan 9
topo_hosts 2 && vrdma_load || { echo "Bail out! setup"; exit 1; }
# rxe2's own traffic to its own address stays on the host (rxe loops a
# packet back when its destination MAC is its own); host 1's still leaves
# through h1.
ip rule del pref 7 2> /dev/null
ip rule add pref 7 to "$(host_addr 2)" oif h2 lookup local || { echo "Bail out! rule"; exit 1; }
defer ip rule del pref 7
for hn in 11 12 21 22 23; do
	h=${hn:0:1} n=${hn:1:1}
	topo_container "$h" "$n" > /dev/null
	"$VRDMACTL" dev add "vr$hn" netns "c${h}_$n" netdev eth0 phys "rxe$h" \
		vni "$(vni_of "$h" "$n")" || { echo "Bail out! dev add vr$hn"; exit 1; }
	defer "$VRDMACTL" dev del "vr$hn"
	"$VRDMACTL" map add "$(ct_addr "$h" "$n")" via "$(host_addr "$h")" \
		vni "$(vni_of "$h" "$n")"
done
gidx() { in_ct "$1" bash -c ". $LIB_DIR/topo.sh; gid_index $2 $3"; }
for hn in 11 12 21 22 23; do
	h=${hn:0:1} n=${hn:1:1}
	wait_for 20 gidx "c${h}_$n" "vr$hn" "$(ct_addr "$h" "$n")" ||
		{ echo "Bail out! vr$hn has no GID"; exit 1; }
done

in_ct c2_1 "$TOOL" udrecv vr21 120 5 > $log 2>&1 &
vpid=$!
wait_for 20 grep -q '^qpn' $log || { echo "Bail out! receiver"; exit 1; }
qpn=$(awk '/^qpn/ { print $2 }' $log)

# send DESC CT|- DEV GIDX DGID COUNT: COUNT datagrams to the victim's QPN
# (in init_net when CT is -); sets SENDER to the sender's QPN and SENT to
# the datagrams it sent (successful completions).
send() {
	local desc=$1 ct=$2 out
	shift 2
	if [ "$ct" = - ]; then
		out=$(timeout 60 "$TOOL" udsend "$1" "$2" "$3" "$qpn" "$4" 2>&1)
	else
		out=$(in_ct "$ct" timeout 60 "$TOOL" udsend "$1" "$2" "$3" "$qpn" "$4" 2>&1)
	fi
	ktap_diag "$desc: $(echo $out)"
	SENDER=$(awk '/^qpn/ { print $2 }' <<< "$out")
	SENT=$(awk '/^sent/ { print $2 }' <<< "$out")
}

# foreign: the datagrams sent to the victim that it must drop.
send "1. vni 7 from host 1, through c2_2's address" c1_2 vr12 \
	"$(gidx c1_2 vr12 "$(ct_addr 1 2)")" "$(ct_addr 2 2)" 5
foreign=$((SENT))
out=$(in_ct c1_2 timeout 60 "$TOOL" udburst vr12 "$(gidx c1_2 vr12 "$(ct_addr 1 2)")" \
	"$(ct_addr 1 2)" self 70 "$(ct_addr 2 2)" "$qpn" 5 2>&1)
ktap_diag "2. vni 7 from host 1, behind 70 datagrams in one doorbell: $(echo $out)"
# (its 70 to itself, first in the doorbell, are not the victim's)
foreign=$((foreign + $(awk '/^sent/ { print $2 }' <<< "$out") - 70))
# Refused by the sending module (the destination QPN is another vni's
# on the same host): none sent, expected.
send "3. vni 7 from host 2, to its own address" c2_2 vr22 \
	"$(gidx c2_2 vr22 "$(ct_addr 2 2)")" "$(ct_addr 2 2)" 5
foreign=$((foreign + SENT))
send "4. rxe1 directly" - rxe1 "$(host_gid_index 1)" "$(host_addr 2)" 3
foreign=$((foreign + SENT))
send "5. rxe2 directly" - rxe2 "$(host_gid_index 2)" "$(host_addr 2)" 3
foreign=$((foreign + SENT))
send "vni 0 from host 2" c2_3 vr23 "$(gidx c2_3 vr23 "$(ct_addr 2 3)")" \
	"$(ct_addr 2 1)" 2
legit1=$SENDER
send "vni 0 from host 1" c1_1 vr11 "$(gidx c1_1 vr11 "$(ct_addr 1 1)")" \
	"$(ct_addr 2 1)" 3
legit2=$SENDER
wait $vpid
ktap_diag "victim (QPN $qpn):" "$(cat $log)"

# A sender is its QPN and its address (QPNs are per physical device: the
# two legitimate senders may have the same).
got=$(awk '/^received/ { print $2 }' $log)
from() { grep -c "^recv from qpn $1 gid $2 status 0$" $log; }
others=$(awk -v a="$legit1 $(ct_addr 2 3)" -v b="$legit2 $(ct_addr 1 1)" \
	'/^recv from/ && $4 " " $6 != a && $4 " " $6 != b' $log | wc -l)
[ "$got" = 5 ] && ktap_ok "the victim received 5 datagrams" ||
	ktap_fail "the victim received 5 datagrams (got $got)"
[ "$others" = 0 ] && ktap_ok "none from another vni or a non-vrdma sender" ||
	ktap_fail "none from another vni or a non-vrdma sender ($others)"
[ "$(from "$legit1" "$(ct_addr 2 3)")" = 2 ] && ktap_ok "2 from c2_3 (vni 0, same host)" ||
	ktap_fail "2 from c2_3 (vni 0, same host)"
[ "$(from "$legit2" "$(ct_addr 1 1)")" = 3 ] && ktap_ok "3 from c1_1 (vni 0, other host)" ||
	ktap_fail "3 from c1_1 (vni 0, other host)"
# Sent before the legitimate ones, they were all dropped by the time
# those arrived (a QP's receives complete in order).  The device's sysfs
# directory is in init_net in ib_core's shared netns mode (the test's),
# in its container's namespace in exclusive mode.
hwc=/sys/class/infiniband/vr21/ports/1/hw_counters/xlate_refused_other_vni
drops=$(cat $hwc 2> /dev/null || in_ct c2_1 cat $hwc 2>&1)
[ "$foreign" -gt 0 ] && [ "$drops" = "$foreign" ] &&
	ktap_ok "vr21 counted the $foreign it dropped (xlate_refused_other_vni)" ||
	ktap_fail "vr21 counted the $foreign it dropped (xlate_refused_other_vni $drops)"

# The sender learns it at once when the module can tell on its own host:
# another vni's QP, or a QPN that is no vrdma QP (QP1 is the physical
# device's own MAD QP).
out=$(in_ct c2_2 timeout 60 "$TOOL" udsend vr22 "$(gidx c2_2 vr22 "$(ct_addr 2 2)")" \
	"$(ct_addr 2 2)" "$qpn" 1 2>&1)
grep -q '^sent 0' <<< "$out" && grep -q '^status 2$' <<< "$out" &&
	ktap_ok "vni 7 to vni 0's QPN on its own host: IBV_WC_LOC_QP_OP_ERR" ||
	ktap_fail "vni 7 to vni 0's QPN on its own host: IBV_WC_LOC_QP_OP_ERR ($(echo $out))"
for q in 0 1; do
	out=$(in_ct c2_3 timeout 60 "$TOOL" udsend vr23 "$(gidx c2_3 vr23 "$(ct_addr 2 3)")" \
		"$(ct_addr 2 1)" $q 1 2>&1)
	grep -q '^sent 0' <<< "$out" && grep -q '^status 2$' <<< "$out" &&
		ktap_ok "UD to QPN $q: IBV_WC_LOC_QP_OP_ERR" ||
		ktap_fail "UD to QPN $q: IBV_WC_LOC_QP_OP_ERR ($(echo $out))"
done
out=$(in_ct c1_1 timeout 60 "$TOOL" udsend vr11 "$(gidx c1_1 vr11 "$(ct_addr 1 1)")" \
	"$(ct_addr 2 1)" 1 1 2>&1)
grep -q '^sent 0' <<< "$out" && grep -q '^status 2$' <<< "$out" &&
	ktap_ok "UD to QPN 1 of another host: IBV_WC_LOC_QP_OP_ERR" ||
	ktap_fail "UD to QPN 1 of another host: IBV_WC_LOC_QP_OP_ERR ($(echo $out))"

ktap_finish
