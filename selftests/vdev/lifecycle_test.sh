#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Virtual device lifecycle, in ib_core's default (shared) netns mode:
#
#   c1_1 (vr11, limits) --+
#   c1_2 (vx12, default) --+-- rxe1 (host 1)
#   c2_1 (vr21) ----------- rxe2 (host 2, removed at the end)
#
# Per-device limits, the rdma cgroup controller, the default physical
# device, port events from the container's netdev, the device following
# its netdev away, and the removal of the physical device under an open
# device (IB_EVENT_DEVICE_FATAL, no hang, no leak).  ("rdma link" from a
# namespace is refused: link_test.sh.)
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/vdev_tool
ENOSPC=28
EAGAIN=11

ktap_plan 16

dev_json() { "$VRDMACTL" -j dev show "$1" 2>/dev/null; }
json_field() {	# json_field FIELD < JSON-array
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get(sys.argv[1]))' "$1"
}
dev_exists() { [ -e "/sys/class/infiniband/$1" ]; }

if ! topo_hosts 2 || ! vrdma_load; then
	echo "Bail out! topology or module setup failed"
	exit 1
fi
topo_container 1 1 > /dev/null
topo_container 1 2 > /dev/null
topo_container 2 1 > /dev/null
defer "$VRDMACTL" dev del vr11
defer "$VRDMACTL" dev del vr21

# 1. Limits.
ktap_check "dev add with limits" \
	"$VRDMACTL" dev add vr11 netns c1_1 netdev eth0 phys rxe1 \
	max-qp 3 max-cq 2 max-mr 2 max-pinned 64K
j=$(dev_json vr11)
if [ "$(json_field max_qp <<< "$j")" = 3 ] &&
   [ "$(json_field max_pinned <<< "$j")" = 65536 ]; then
	ktap_ok "dev show reports the limits"
else
	ktap_diag "$j"
	ktap_fail "dev show reports the limits"
fi
check_objects() {	# check_objects DESC KIND N EXPECTED_CREATED EXPECTED_ERRNO
	local out
	out=$(in_ct c1_1 "$TOOL" objects vr11 "$2" "$3" 2>&1)
	if [ "$out" = "created $4 errno $5" ]; then
		ktap_ok "$1 ($out)"
	else
		ktap_fail "$1 (got '$out', want 'created $4 errno $5')"
	fi
}
check_objects "max-qp 3: the fourth QP fails with ENOSPC" qp 10 3 $ENOSPC
check_objects "max-cq 2: the third CQ fails with ENOSPC" cq 10 2 $ENOSPC
check_objects "max-mr 2: the third MR fails with ENOSPC" mr 10 2 $ENOSPC
check_objects "max-pinned 64K: a 128 KiB MR fails with ENOSPC" \
	mr-bytes=131072 1 0 $ENOSPC
check_objects "max-pinned 64K: a 32 KiB MR succeeds" mr-bytes=32768 1 1 0

# 2. The rdma cgroup controller charges the virtual device.
ktap_check "dev add vr21" "$VRDMACTL" dev add vr21 netns c2_1 netdev eth0 phys rxe2
cg=/sys/fs/cgroup
if ! grep -q cgroup2 /proc/mounts; then
	mount -t cgroup2 none $cg && defer umount $cg
fi
if echo +rdma > $cg/cgroup.subtree_control 2>/dev/null &&
   mkdir -p $cg/vrdmatest && echo "vr21 hca_handle=2 hca_object=4" > $cg/vrdmatest/rdma.max; then
	defer rmdir $cg/vrdmatest
	# Join the cgroup first: ip netns exec mounts its own /sys.
	out=$(bash -c "echo \$\$ > $cg/vrdmatest/cgroup.procs && exec ip netns exec c2_1 $TOOL objects vr21 pd 10" 2>&1)
	case "$out" in
	"created "[0-3]" errno $EAGAIN") ktap_ok "rdma.max hca_object=4 stops the PDs ($out)" ;;
	*) ktap_fail "rdma.max hca_object=4 stops the PDs (got '$out')" ;;
	esac
else
	ktap_skip "rdma cgroup limit" "no rdma cgroup controller"
fi

# 3. The default physical device.
"$VRDMACTL" phys default rxe1 > /dev/null
ktap_check "vrdmactl dev add vx12 netns c1_2 netdev eth0 (no phys)" \
	"$VRDMACTL" dev add vx12 netns c1_2 netdev eth0
j=$(dev_json vx12)
if [ "$(json_field phys <<< "$j")" = rxe1 ] && [ "$(json_field netdev <<< "$j")" = eth0 ]; then
	ktap_ok "vx12 is on rxe1, bound to c1_2's eth0"
else
	ktap_diag "$j"
	ktap_fail "vx12 is on rxe1, bound to c1_2's eth0"
fi

# 4. Port events follow the container's netdev.
in_ct c1_1 "$TOOL" events vr11 60 > /tmp/ev11.log 2>&1 &
evpid=$!
wait_for 20 grep -q ready /tmp/ev11.log
ip -n c1_1 link set eth0 down
wait_for 10 grep -q 'event port error' /tmp/ev11.log &&
	ktap_ok "eth0 down: IBV_EVENT_PORT_ERR" || ktap_fail "eth0 down: IBV_EVENT_PORT_ERR"
ip -n c1_1 link set eth0 up
wait_for 10 grep -q 'event port active' /tmp/ev11.log &&
	ktap_ok "eth0 up: IBV_EVENT_PORT_ACTIVE" || ktap_fail "eth0 up: IBV_EVENT_PORT_ACTIVE"
kill "$evpid" 2>/dev/null
wait "$evpid" 2>/dev/null

# 5. Deleting the container deletes its device.
ip netns del c1_2
if wait_for 15 bash -c '! [ -e /sys/class/infiniband/vx12 ]'; then
	ktap_ok "deleting the namespace deleted vx12"
else
	ktap_fail "deleting the namespace deleted vx12"
fi

# 6. The physical device goes away under an open virtual device.
in_ct c2_1 "$TOOL" events vr21 60 > /tmp/ev21.log 2>&1 &
evpid=$!
wait_for 20 grep -q ready /tmp/ev21.log
rdma link del rxe2
if wait_for 15 grep -q 'event local catastrophic error' /tmp/ev21.log &&
   wait_for 15 grep -q done /tmp/ev21.log; then
	ktap_ok "rxe2 removed: IBV_EVENT_DEVICE_FATAL, and the process cleans up"
else
	ktap_diag "$(cat /tmp/ev21.log)"
	ktap_fail "rxe2 removed: IBV_EVENT_DEVICE_FATAL, and the process cleans up"
fi
wait "$evpid" 2>/dev/null
if wait_for 15 bash -c '! [ -e /sys/class/infiniband/vr21 ]'; then
	ktap_ok "vr21 deleted with its physical device"
else
	ktap_fail "vr21 deleted with its physical device"
fi

ktap_finish
