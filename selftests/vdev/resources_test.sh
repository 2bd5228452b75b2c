#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a tenant's objects cost the host is bounded:
#
#   c1_1 vr11 (no limits given) -- rxe1 (host 1)
#
# 1. A device created without limits gets the module's default limits,
#    not "unlimited".
# 2. Its kernel memory is charged to the creator's memory cgroup: under
#    memory.max = 96 MiB, creating the largest QPs the device allows fails
#    with ENOMEM after at most one (each takes about 70 MiB of rings and
#    tables in vrdma).
# 3. A QP that receives through an SRQ reserves the SRQ's depth on its
#    receive CQ's physical CQ: the physical CQ cannot overflow.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

TOOL=$(cd "$(dirname "$0")" && pwd)/vdev_tool
ENOMEM=12
cg=/sys/fs/cgroup
tmp=$(mktemp -d)
defer rm -rf "$tmp"

ktap_plan 5
topo_hosts 1 && vrdma_load || { echo "Bail out! setup"; exit 1; }
topo_container 1 1 > /dev/null
"$VRDMACTL" dev add vr11 netns c1_1 netdev eth0 phys rxe1 || { echo "Bail out! dev add"; exit 1; }
defer "$VRDMACTL" dev del vr11

# 1. Default limits.
j=$("$VRDMACTL" -j dev show vr11)
for k in max_qp max_cq max_mr max_pinned; do
	v=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get(sys.argv[1]))' "$k" <<< "$j")
	p=$(cat "/sys/module/vrdma/parameters/default_$k" 2>/dev/null)
	if [ -n "$v" ] && [ "$v" != 0 ] && [ "$v" = "$p" ]; then
		ok=${ok:-1}
	else
		ok=0
		ktap_diag "$k: device $v, module default '${p}'"
	fi
done
[ "$ok" = 1 ] && ktap_ok "a device without limits gets the module's non-zero defaults" ||
	ktap_fail "a device without limits gets the module's non-zero defaults"

# 2. The memory cgroup.
if ! grep -q cgroup2 /proc/mounts; then
	mount -t cgroup2 none $cg && defer umount $cg
fi
if echo +memory > $cg/cgroup.subtree_control 2>/dev/null && mkdir -p $cg/vrdmamem &&
   echo 96M > $cg/vrdmamem/memory.max; then
	defer rmdir $cg/vrdmamem
	out=$(bash -c "echo \$\$ > $cg/vrdmamem/cgroup.procs && exec ip netns exec c1_1 $TOOL objects vr11 bigqp 4" 2>&1)
	rc=$?
	ktap_diag "largest QPs under memory.max=96M: $out (exit $rc)"
	case "$out" in
	"created "[01]" errno $ENOMEM") ktap_ok "the QPs' memory is charged to the cgroup: ENOMEM" ;;
	*) ktap_fail "the QPs' memory is charged to the cgroup: ENOMEM (got '$out', exit $rc)" ;;
	esac
	oom=$(awk '/^oom_kill / { print $2 }' $cg/vrdmamem/memory.events)
	[ "${oom:-0}" = 0 ] && ktap_ok "no OOM kill: the creation failed cleanly" ||
		ktap_fail "no OOM kill: the creation failed cleanly (oom_kill $oom)"
	out=$(in_ct c1_1 "$TOOL" objects vr11 bigqp 1 2>&1)
	[ "$out" = "created 1 errno 0" ] && ktap_ok "outside the cgroup the same QP can be created" ||
		ktap_fail "outside the cgroup the same QP can be created ($out)"
else
	ktap_skip "memory cgroup charge" "no memory cgroup controller"
	ktap_skip "memory cgroup: no OOM kill" "no memory cgroup controller"
	ktap_skip "memory cgroup: without limit" "no memory cgroup controller"
fi

# 3. The physical CQ of a CQ that receives SRQ completions.
pcq_max() {	# the largest physical CQ of rxe1
	rdma resource show cq dev rxe1 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "cqe" && $(i + 1) > m) m = $(i + 1) } END { print m + 0 }'
}
before=$(pcq_max)
# The holder's stdin is a FIFO whose only writer is this shell (the
# holder itself must not inherit it): closing it ends the holder.
mkfifo "$tmp/srq"
exec {fd}<> "$tmp/srq"
( eval "exec $fd>&-"; exec ip netns exec c1_1 "$TOOL" srqcq vr11 8192 120 ) \
	< "$tmp/srq" > "$tmp/srq.out" 2>&1 &
spid=$!
if wait_for 30 grep -q ready "$tmp/srq.out"; then
	after=$(pcq_max)
	if [ "$after" -ge $((8192 + 64)) ]; then
		ktap_ok "an SRQ of 8192 receives reserves them on the receive CQ (physical CQ: $after)"
	else
		ktap_diag "$(rdma resource show cq dev rxe1)"
		ktap_fail "an SRQ of 8192 receives reserves them on the receive CQ (largest physical CQ $after, was $before)"
	fi
else
	ktap_fail "an SRQ of 8192 receives reserves them on the receive CQ ($(cat "$tmp/srq.out"))"
fi
exec {fd}>&-
wait $spid

ktap_finish
