#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A container cannot take over an address of its virtual network that the
# map places elsewhere by adding it to its own interface:
#
#   c1_1 vr11 vni 0 (client) --+
#                              +-- rxe1 (host 1) ===== rxe2 (host 2) -- c2_1 vr21 vni 0
#   c1_2 vr12 vni 0 (impostor) +
#
# The map says c2_1's address lives on host 2.  c1_2 adds that address to
# its eth0 (its device's GID table follows) and listens on it, as c2_1
# does.  A connection from c1_1 to the address must reach c2_1: a local
# device holding an address wins only when the map does not say otherwise
# (Documentation/security.rst).
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

PORT=7490

ktap_plan 3
topo_hosts 2 && vrdma_load || { echo "Bail out! setup"; exit 1; }
modprobe rdma_ucm
for hn in 11 12 21; do
	h=${hn:0:1} n=${hn:1:1}
	topo_container "$h" "$n" > /dev/null
	"$VRDMACTL" dev add "vr$hn" netns "c${h}_$n" netdev eth0 phys "rxe$h" ||
		{ echo "Bail out! dev add vr$hn"; exit 1; }
	defer "$VRDMACTL" dev del "vr$hn"
	"$VRDMACTL" map add "$(ct_addr "$h" "$n")" via "$(host_addr "$h")"
	defer "$VRDMACTL" map del "$(ct_addr "$h" "$n")"
done
victim=$(ct_addr 2 1)
ip -n c1_2 addr add "$victim/32" dev eth0
gidx() { in_ct "$1" bash -c ". $LIB_DIR/topo.sh; gid_index $2 $3"; }
wait_for 20 gidx c1_2 vr12 "$victim" || { echo "Bail out! the impostor's GID"; exit 1; }
in_ct c1_1 ping -c 1 -W 5 "$victim" > /dev/null

in_ct c1_2 timeout 60 rping -s -a "$victim" -p $PORT -C 1 -v > /tmp/takeover-impostor.log 2>&1 &
ipid=$!
in_ct c2_1 timeout 60 rping -s -a "$victim" -p $PORT -C 1 -v > /tmp/takeover-owner.log 2>&1 &
opid=$!
ok=0
for i in 1 2 3 4 5; do
	sleep 1
	out=$(in_ct c1_1 timeout 60 rping -c -a "$victim" -p $PORT -C 1 -v 2>&1) && { ok=1; break; }
	grep -qiE 'reject|refused|error 111' <<< "$out" || break
done
[ $ok = 1 ] && ktap_ok "c1_1 connected to $victim" ||
	{ ktap_diag "$out"; ktap_fail "c1_1 connected to $victim"; }
wait_for 30 bash -c "! kill -0 $opid 2>/dev/null"
kill $ipid $opid 2>/dev/null
wait $ipid $opid 2>/dev/null
if grep -q 'ping data' /tmp/takeover-owner.log; then
	ktap_ok "the connection reached c2_1, where the map places $victim"
else
	ktap_diag "owner: $(cat /tmp/takeover-owner.log)"
	ktap_fail "the connection reached c2_1, where the map places $victim"
fi
if grep -q 'ping data' /tmp/takeover-impostor.log; then
	ktap_diag "impostor: $(cat /tmp/takeover-impostor.log)"
	ktap_fail "the impostor c1_2 saw no connection"
else
	ktap_ok "the impostor c1_2 saw no connection"
fi

ktap_finish
