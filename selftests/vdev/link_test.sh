#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "rdma link" from a container, in ib_core's default (shared) netns mode:
#
#   c1_1 vr11 (vrdmactl, vni 7) --+-- rxe1 (host 1, the default)
#   c1_2 (a pod with NET_ADMIN) --+
#
# ib_core lets any process with CAP_NET_ADMIN over the initial user
# namespace (a Kubernetes pod with NET_ADMIN, root in c1_2 here) add and
# delete RDMA links.  A container must not create itself a device (it
# would choose no vni and no limits), nor delete another tenant's device,
# which it can see in shared mode.  The host's administrator creates and
# deletes devices with vrdmactl; "rdma link add" still works from the
# initial namespace.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

ktap_plan 5
topo_hosts 1 && vrdma_load || { echo "Bail out! setup"; exit 1; }
mode=$(rdma system show 2>/dev/null | sed -n 's/.*netns \([a-z]*\).*/\1/p')
[ "$mode" = shared ] ||
	{ echo "Bail out! ib_core netns mode is '$mode', this test needs shared"; exit 1; }
topo_container 1 1 > /dev/null
topo_container 1 2 > /dev/null
"$VRDMACTL" phys default rxe1 > /dev/null
"$VRDMACTL" dev add vr11 netns c1_1 netdev eth0 phys rxe1 vni 7 ||
	{ echo "Bail out! dev add"; exit 1; }
defer "$VRDMACTL" dev del vr11
exists() { [ -e "/sys/class/infiniband/$1" ]; }

out=$(in_ct c1_2 rdma link add vx12 type vrdma netdev eth0 2>&1)
rc=$?
defer "$VRDMACTL" dev del vx12
if [ $rc -ne 0 ] && ! exists vx12; then
	ktap_ok "a container cannot add itself a device ($(echo $out))"
else
	ktap_fail "a container cannot add itself a device (rdma link add: exit $rc, vx12 exists: $(exists vx12 && echo yes || echo no))"
fi

out=$(in_ct c1_2 rdma link del vr11 2>&1)
rc=$?
if [ $rc -ne 0 ] && exists vr11; then
	ktap_ok "a container cannot delete another tenant's device ($(echo $out))"
else
	ktap_fail "a container cannot delete another tenant's device (rdma link del vr11: exit $rc)"
fi

# The host: rdma link add from the initial namespace gets the defaults.
ip link add vxh type veth peer name vxhp
defer ip link del vxh
if rdma link add vxh0 type vrdma netdev vxh; then
	defer "$VRDMACTL" dev del vxh0
	ktap_ok "rdma link add from the initial namespace"
	j=$("$VRDMACTL" -j dev show vxh0)
	q=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("max_qp"))' <<< "$j")
	p=$(cat /sys/module/vrdma/parameters/default_max_qp 2>/dev/null)
	[ -n "$q" ] && [ "$q" != 0 ] && [ "$q" = "$p" ] &&
		ktap_ok "it has the default limits (max_qp $q)" ||
		ktap_fail "it has the default limits (max_qp $q, default '$p')"
else
	ktap_fail "rdma link add from the initial namespace"
	ktap_skip "it has the default limits" "no device"
fi
"$VRDMACTL" dev del vxh0 2>/dev/null
wait_for 10 bash -c '! [ -e /sys/class/infiniband/vxh0 ]' &&
	ktap_ok "vrdmactl dev del deletes it" || ktap_fail "vrdmactl dev del deletes it"

ktap_finish
