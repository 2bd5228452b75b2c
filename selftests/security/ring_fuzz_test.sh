#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scribble over the rings a process shares with its vrdma device
# (ring_scribbler: threads corrupting WQEs and producer indices of live
# QPs, SRQs and CQs while others ring doorbells, arm CQs, change QP
# states, destroy, recreate and resize), then do it again while the
# physical device is removed (the kill):
#
#   c1_1 vr11 -- rxe1 (host 1; removed in the second run)
#
# Each run lasts RING_FUZZ_SECONDS and must end in time having corrupted
# at least RING_FUZZ_WQES WQEs (the second, unless the device went first):
# make check scribbles 20 s for at least 1000, make fuzz (selftests/fuzz/)
# 120 s for at least 10000.  The device must go with its RNIC, the
# module unload with its leak audit clean, and the kernel's unreclaimable
# slab and vmalloc memory be back to its baseline (within 8 MiB).  The
# softirq time the runs cost is reported.  FUZZ_SEED=N replays a run.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/ring_scribbler
SEED=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
SECS=${RING_FUZZ_SECONDS:-20}
WQES=${RING_FUZZ_WQES:-1000}

ktap_plan 6
topo_hosts 1 || { echo "Bail out! setup"; exit 1; }
topo_container 1 1 > /dev/null
mem() {	# unreclaimable slab + vmalloc, kB
	awk '/^SUnreclaim:|^VmallocUsed:/ { n += $2 } END { print n }' /proc/meminfo
}
softirq() {	# softirq time of all CPUs, in clock ticks
	awk '/^cpu / { print $8 }' /proc/stat
}
vrdma_unload
mem0=$(mem)
vrdma_load || { echo "Bail out! modprobe"; exit 1; }
"$VRDMACTL" dev add vr11 netns c1_1 netdev eth0 phys rxe1 || { echo "Bail out! dev add"; exit 1; }
gidx() { in_ct c1_1 bash -c ". $LIB_DIR/topo.sh; gid_index vr11 $(ct_addr 1 1)"; }
wait_for 20 gidx || { echo "Bail out! vr11 has no GID"; exit 1; }
gidx=$(gidx)

# run DESC SECONDS SEED [KILL_AFTER]
run() {
	local desc=$1 secs=$2 seed=$3 kill=${4:-} out rc s0 s1 t0 pid
	s0=$(softirq) t0=$(date +%s)
	in_ct c1_1 timeout -k 10 $((secs + 120)) "$TOOL" vr11 "$gidx" "$secs" "$WQES" "$seed" \
		> /tmp/scribble.log 2>&1 &
	pid=$!
	if [ -n "$kill" ]; then
		wait_for 60 grep -q '^ready' /tmp/scribble.log
		wait_for "$kill" bash -c "! kill -0 $pid 2>/dev/null"
		rdma link del rxe1
	fi
	wait $pid
	rc=$?
	s1=$(softirq)
	out=$(cat /tmp/scribble.log)
	ktap_diag "$desc:" "$out" \
		"softirq time: $(( (s1 - s0) * 1000 / $(getconf CLK_TCK) )) ms in $(( $(date +%s) - t0 )) s"
	if [ $rc -eq 0 ] && grep -q '^done' <<< "$out" &&
	   [ "$(awk '/^corrupted/ { print $2 }' <<< "$out")" -ge "$WQES" ]; then
		ktap_ok "$desc: at least $WQES corrupted WQEs, ended in time"
	else
		ktap_fail "$desc: at least $WQES corrupted WQEs, ended in time (exit $rc)"
	fi
}
run "scribbling (seed $SEED)" "$SECS" "$SEED"
run "scribbling, the physical device removed (seed $((SEED + 1)))" "$SECS" $((SEED + 1)) $((SECS / 2))
grep -q '^fatal yes' /tmp/scribble.log && ktap_ok "the process saw IBV_EVENT_DEVICE_FATAL" ||
	ktap_fail "the process saw IBV_EVENT_DEVICE_FATAL"
wait_for 30 bash -c '! [ -e /sys/class/infiniband/vr11 ]' &&
	ktap_ok "vr11 went with rxe1" || ktap_fail "vr11 went with rxe1"

leaks_before=$(dmesg | grep -c 'vrdma: leak')
wait_for 30 bash -c '! grep -q "^vrdma " /proc/modules || rmmod vrdma'
leaks=$(( $(dmesg | grep -c 'vrdma: leak') - leaks_before ))
! grep -q '^vrdma ' /proc/modules && [ "$leaks" = 0 ] &&
	ktap_ok "the module unloads, its leak audit clean" ||
	ktap_fail "the module unloads, its leak audit clean ($leaks leak lines)"
mem1=$(mem)
ktap_diag "unreclaimable slab + vmalloc: $mem0 kB before, $mem1 kB after"
[ $((mem1 - mem0)) -lt 8192 ] && ktap_ok "kernel memory back to its baseline" ||
	ktap_fail "kernel memory back to its baseline (+$((mem1 - mem0)) kB)"

ktap_finish
