#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# UD datagrams never cross virtual networks:
#
#   c1_1 vr11 vni 0 --+-- rxe1 ===== rxe2 --+-- c2_1 vr21 vni 0 (victim)
#   c1_2 vr12 vni 7 --+                     +-- c2_2 vr22 vni 7
#
# vr12 (vni 7) may reach host 2 through c2_2's address, and the physical
# RNIC delivers by QPN and Q_Key alone: the receiving module must drop a
# datagram from another vni before the application sees it (the sender
# announced its vni, see gsi.c).  A sender of the right vni gets through.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/vdev_tool
vni_of() { [ "$2" = 2 ] && echo 7 || echo 0; }

ktap_plan 3
topo_hosts 2 && vrdma_load || { echo "Bail out! setup"; exit 1; }
for h in 1 2; do
	for n in 1 2; do
		topo_container "$h" "$n" > /dev/null
		"$VRDMACTL" dev add "vr$h$n" netns "c${h}_$n" netdev eth0 phys "rxe$h" \
			vni "$(vni_of "$h" "$n")" || exit 1
		defer "$VRDMACTL" dev del "vr$h$n"
		"$VRDMACTL" map add "$(ct_addr "$h" "$n")" via "$(host_addr "$h")" \
			vni "$(vni_of "$h" "$n")"
	done
done
gidx() { in_ct "$1" bash -c ". $LIB_DIR/topo.sh; gid_index $2 $3"; }

in_ct c2_1 "$TOOL" udrecv vr21 40 > /tmp/ud-victim.log 2>&1 &
vpid=$!
wait_for 20 grep -q '^qpn' /tmp/ud-victim.log || { echo "Bail out! receiver"; exit 1; }
qpn=$(awk '/^qpn/ { print $2 }' /tmp/ud-victim.log)

out=$(in_ct c1_2 timeout 60 "$TOOL" udsend vr12 "$(gidx c1_2 vr12 "$(ct_addr 1 2)")" \
	"$(ct_addr 2 2)" "$qpn" 5)
if [ "$out" = "sent 5" ]; then
	ktap_ok "vni 7 sent 5 datagrams to QPN $qpn on host 2 (through c2_2's address)"
else
	ktap_fail "vni 7 sent 5 datagrams to QPN $qpn on host 2 ($out)"
fi
sleep 2
out=$(in_ct c1_1 timeout 60 "$TOOL" udsend vr11 "$(gidx c1_1 vr11 "$(ct_addr 1 1)")" \
	"$(ct_addr 2 1)" "$qpn" 3)
wait $vpid
got=$(awk '/^received/ { print $2 }' /tmp/ud-victim.log)
if [ "$got" = 3 ]; then
	ktap_ok "the victim received only its own vni's 3 datagrams"
else
	ktap_diag "$(cat /tmp/ud-victim.log)"
	ktap_fail "the victim received only its own vni's 3 datagrams (got $got)"
fi
if [ "$out" = "sent 3" ]; then ktap_ok "vni 0 sent 3"; else ktap_fail "vni 0 sent 3 ($out)"; fi

ktap_finish
