#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What network namespaces and containers cost on this kernel: the steps
# the netns-heavy tests repeat (netns add and delete, a test container
# with its veth and addresses, ip netns exec, vrdmactl dev add and del).
# Written to find out why those tests take two to three times longer on
# 6.12 than on 6.1 (Documentation/testing.rst); run it on both kernels and
# with VRDMA_VM_APPEND (kernel parameters, e.g. rcupdate.rcu_expedited=1)
# to compare.  Reports the median of ROUNDS rounds per step, in ms, as
# text and JSON.  Never asserts speed; fails only when a step fails.
#
# Each round runs twice in the same VM, alternating, with
# /sys/kernel/rcu_expedited 0 and 1 (NETNS_RCU_AB=0: once, as booted):
# the two settings see the same load, which runs on different VMs do not.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

ROUNDS=${ROUNDS:-3}
N=${N:-5}
RCU_EXP=/sys/kernel/rcu_expedited
AB=${NETNS_RCU_AB:-1}
[ -w $RCU_EXP ] || AB=0
OUT=${VRDMA_OUT:-/tmp}/netns_bench

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# One round of each step, N times over; prints "STEP MS" lines.
netns_cycle() {
	local i t
	t=$(now_ms)
	for i in $(seq 1 "$N"); do ip netns add "nsb$i" || return 1; done
	echo "netns_add $(($(now_ms) - t))"
	t=$(now_ms)
	for i in $(seq 1 "$N"); do ip -n "nsb$i" link set lo up || return 1; done
	echo "netns_lo_up $(($(now_ms) - t))"
	t=$(now_ms)
	for i in $(seq 1 "$N"); do ip netns del "nsb$i" || return 1; done
	echo "netns_del $(($(now_ms) - t))"
}
round() {
	local t i r=$1
	# What any step pays: starting a program, and one ip command.
	t=$(now_ms)
	for i in $(seq 1 $((N * 4))); do /bin/true || return 1; done
	echo "exec_true_x4 $(($(now_ms) - t))"
	t=$(now_ms)
	for i in $(seq 1 "$N"); do ip link show dev lo > /dev/null || return 1; done
	echo "ip_link_show $(($(now_ms) - t))"
	netns_cycle || return 1
	t=$(now_ms)
	for i in $(seq 1 "$N"); do topo_container 1 "$((r * N + i))" > /dev/null || return 1; done
	echo "container $(($(now_ms) - t))"
	t=$(now_ms)
	for i in $(seq 1 "$N"); do ip netns exec "c1_$((r * N + i))" true || return 1; done
	echo "netns_exec $(($(now_ms) - t))"
	t=$(now_ms)
	for i in $(seq 1 "$N"); do ip netns exec "c1_$((r * N + i))" rdma dev > /dev/null || return 1; done
	echo "netns_exec_rdma $(($(now_ms) - t))"
	t=$(now_ms)
	for i in $(seq 1 "$N"); do
		"$VRDMACTL" dev add "vb$i" netns "c1_$((r * N + i))" netdev eth0 phys rxe1 > /dev/null || return 1
	done
	echo "dev_add $(($(now_ms) - t))"
	t=$(now_ms)
	for i in $(seq 1 "$N"); do "$VRDMACTL" dev del "vb$i" || return 1; done
	echo "dev_del $(($(now_ms) - t))"
}

echo "TAP version 13"
echo "1..1"
topo_hosts 1 > /dev/null || { echo "Bail out! topology"; exit 1; }
vrdma_load > /dev/null 2>&1 || { echo "Bail out! vrdma"; exit 1; }
: > "$OUT.raw"
booted=$(cat $RCU_EXP 2>/dev/null || echo -)
[ "$AB" = 1 ] && defer "echo $booted > $RCU_EXP"
for r in $(seq 0 $((ROUNDS - 1))); do
	if [ "$AB" = 1 ]; then
		# Alternating which setting goes first.
		for k in 0 1; do
			e=$(((r + k) % 2))
			echo "$e" > $RCU_EXP
			# (not in a pipeline: its containers' defers stay here)
			round "$((2 * r + k))" > "$OUT.round" ||
				{ echo "not ok 1 round $r of the netns steps failed"; exit 1; }
			sed "s/^/exp$e /" "$OUT.round" >> "$OUT.raw"
		done
	else
		round "$r" > "$OUT.round" ||
			{ echo "not ok 1 round $r of the netns steps failed"; exit 1; }
		sed "s/^/booted /" "$OUT.round" >> "$OUT.raw"
	fi
done
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
json="{\"kernel\":\"$(uname -r)\",\"n\":$N,\"rounds\":$ROUNDS,\"rcu_expedited_booted\":\"$booted\""
: > "$OUT.txt"
for set in $(awk '!seen[$1]++ { print $1 }' "$OUT.raw"); do
	case $set in
	exp0) what="rcu_expedited=0" ;;
	exp1) what="rcu_expedited=1" ;;
	*) what="as booted" ;;
	esac
	echo "$what:" >> "$OUT.txt"
	json="$json,\"median_ms_$set\":{"
	sep=
	for step in $(awk -v t="$set" '$1 == t && !seen[$2]++ { print $2 }' "$OUT.raw"); do
		m=$(awk -v t="$set" -v s="$step" '$1 == t && $2 == s { print $3 }' "$OUT.raw" | median)
		printf '  %-16s %6d ms for %d (%d ms each)\n' "$step" "$m" "$N" "$((m / N))" >> "$OUT.txt"
		json="$json$sep\"$step\":$m"
		sep=,
	done
	json="$json}"
done
echo "$json}" > "$OUT.json"
sed 's/^/# /' "$OUT.txt"
echo "# kernel command line: $(cat /proc/cmdline)"
echo "ok 1 $ROUNDS rounds of $N of each step on $(uname -r)"
