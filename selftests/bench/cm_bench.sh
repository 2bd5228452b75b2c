#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# RDMA CM connection set-up with cmtime: vrdma against native rxe, in one
# VM run.  Native rdma_cm runs on rxe1 in init_net over host 1's own
# address (loopback through the RNIC: the simulated hosts share init_net,
# where another host's address is local); vrdma runs between two
# containers on rxe1 (the same path) and between containers on two hosts
# (the MADs cross the wire through the tunnel).  Reports the median of
# ROUNDS runs of the connect step (us per connection) and the total set-up
# and teardown rate (connections/s), and the ratios to native.  Never
# asserts speed; fails only when a run does not complete.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-50}
OUT=${VRDMA_OUT:-/tmp}/cm_bench.txt

topo_hosts 2 || { echo "Bail out! topology"; exit 1; }
vrdma_load && modprobe rdma_ucm || { echo "Bail out! modules"; exit 1; }
for c in "1 1" "1 2" "2 1"; do
	set -- $c
	topo_container "$1" "$2" > /dev/null
	"$VRDMACTL" dev add "vr$1$2" netns "c$1_$2" netdev eth0 phys "rxe$1" || exit 1
	defer "$VRDMACTL" dev del "vr$1$2"
	"$VRDMACTL" map add "$(ct_addr "$1" "$2")" via "$(host_addr "$1")"
done
in_ct c1_1 ping -c 1 -W 5 "$(ct_addr 2 1)" > /dev/null
in_ct c1_1 ping -c 1 -W 5 "$(ct_addr 1 2)" > /dev/null

# one SETUP: prints "connect_us_per_conn total_ms"
one() {
	local setup=$1 sct cct saddr spid out
	case $setup in
	native) sct= cct= saddr=$(host_addr 1) ;;
	same) sct=c1_2 cct=c1_1 saddr=$(ct_addr 1 2) ;;
	across) sct=c2_1 cct=c1_1 saddr=$(ct_addr 2 1) ;;
	esac
	if [ -z "$sct" ]; then
		timeout 300 cmtime -b "$saddr" -c "$CONNS" > /dev/null 2>&1 &
	else
		in_ct "$sct" timeout 300 cmtime -b "$saddr" -c "$CONNS" > /dev/null 2>&1 &
	fi
	spid=$!
	sleep 2
	if [ -z "$cct" ]; then
		out=$(timeout 300 cmtime -s "$saddr" -c "$CONNS" 2>&1)
	else
		out=$(in_ct "$cct" timeout 300 cmtime -s "$saddr" -c "$CONNS" 2>&1)
	fi
	local rc=$?
	wait $spid
	[ $rc -eq 0 ] || { echo "$out" | sed 's/^/# /' >&2; return 1; }
	[ -n "$RAW_SHOWN" ] || { echo "$out" | sed 's/^/# raw: /' >&2; RAW_SHOWN=1; }
	# A line per step: its name, then "total ms, max ms, min us, us/conn"
	# (the last four fields): "connect" us/conn, and the steps' total.
	awk 'NF >= 5 && $NF ~ /^[0-9.]+$/ && $(NF - 3) ~ /^[0-9.]+$/ {
		t += $(NF - 3); if ($1 == "connect") c = $NF }
	     END { print c, t }' <<< "$out"
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "TAP version 13"
echo "1..1"
ok=1
declare -A CONN TOT
for setup in native same across; do
	c=() t=()
	for ((r = 1; r <= ROUNDS; r++)); do
		line=$(one $setup) || { ok=0; echo "# $setup round $r failed"; continue; }
		read -r cu tm <<< "$line"
		echo "# $setup round $r: connect $cu us/conn, all steps $tm ms for $CONNS"
		c+=("$cu") t+=("$tm")
	done
	CONN[$setup]=$(printf '%s\n' "${c[@]}" | median)
	TOT[$setup]=$(printf '%s\n' "${t[@]}" | median)
done
{
	echo "RDMA CM set-up, cmtime -c $CONNS, median of $ROUNDS rounds (kernel $(uname -r))"
	printf '%-36s %14s %14s %10s\n' "setup" "connect us/conn" "all steps ms" "ratio"
	for setup in native same across; do
		ratio=$(awk -v a="${CONN[$setup]}" -v b="${CONN[native]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
		printf '%-36s %14s %14s %10s\n' "$setup" "${CONN[$setup]}" "${TOT[$setup]}" "$ratio"
	done
	echo "native: rxe1 loopback in init_net; same: vrdma c1_1 -> c1_2 on rxe1; across: vrdma c1_1 (rxe1) -> c2_1 (rxe2)"
} | tee "$OUT" | sed 's/^/# /'
if [ $ok = 1 ]; then echo "ok 1 every cmtime run completed"; else echo "not ok 1 every cmtime run completed"; exit 1; fi
