#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The physical device goes away while a tenant makes its QPs fail and
# destroys them:
#
#   c1_1 vr11 -- rxe1 (host 1, removed)
#
# vdev_tool storm holds 400 RC QPs; as the removal starts, one thread
# rings doorbells over sends with a bad lkey (each failing WQE moves its QP
# to the error state from a work item), last QP first, while another
# destroys the other QPs, first first.  The removal destroys every
# physical object of the device from the first QP on: the two meet.  The
# removal must complete, the process must get IBV_EVENT_DEVICE_FATAL's
# consequences (its calls fail, nothing hangs) and exit, and the device
# must be deleted.  The VM harness judges the kernel log (hung tasks,
# lockdep, KASAN on a debug kernel).
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/vdev_tool
log=/tmp/storm.log

ktap_plan 4
topo_hosts 1 && vrdma_load || { echo "Bail out! setup"; exit 1; }
topo_container 1 1 > /dev/null
"$VRDMACTL" dev add vr11 netns c1_1 netdev eth0 phys rxe1 || { echo "Bail out! dev add"; exit 1; }
defer "$VRDMACTL" dev del vr11
gidx() { in_ct c1_1 bash -c ". $LIB_DIR/topo.sh; gid_index vr11 $(ct_addr 1 1)"; }
wait_for 20 gidx || { echo "Bail out! vr11 has no GID"; exit 1; }

# The kernel log is the VM's: only what this test adds is judged here.
klog_start=$(dmesg | wc -l)
# A deadlock shows within the test's waits: the hung task detector's
# default (120 s, checked every 120 s) reported the one of issue 10's
# hole 3 only after this test had passed its own check.
HUNG=/proc/sys/kernel/hung_task_timeout_secs
if [ -w $HUNG ]; then
	defer "echo $(cat $HUNG) > $HUNG"
	echo 40 > $HUNG
fi
in_ct c1_1 "$TOOL" storm vr11 "$(gidx)" 400 > $log 2>&1 &
spid=$!
if ! wait_for 120 grep -q ready $log; then
	ktap_diag "$(cat $log)"
	echo "Bail out! storm setup"
	exit 1
fi
rdma link del rxe1 > /tmp/storm-del.log 2>&1 &
dpid=$!
if wait_for 60 bash -c "! kill -0 $dpid 2>/dev/null"; then
	wait $dpid
	ktap_ok "rdma link del rxe1 completed (exit $?)"
else
	ktap_fail "rdma link del rxe1 completed (still running after 60 s)"
fi
if wait_for 60 bash -c "! kill -0 $spid 2>/dev/null"; then
	ktap_ok "the tenant's process finished ($(tail -n 1 $log))"
else
	ktap_diag "$(cat $log)"
	ktap_fail "the tenant's process finished (still running after 60 s)"
fi
wait_for 30 bash -c '! [ -e /sys/class/infiniband/vr11 ]' &&
	ktap_ok "vr11 deleted with its physical device" ||
	ktap_fail "vr11 deleted with its physical device"
hung=$(dmesg | tail -n +$((klog_start + 1)) | grep -c 'blocked for more than')
[ "$hung" = 0 ] && ktap_ok "no task reported hung" || ktap_fail "no task reported hung ($hung)"

ktap_finish
