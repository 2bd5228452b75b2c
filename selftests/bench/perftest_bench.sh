#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vrdma against the native device, in one VM run, with perftest:
#
#   native:  rxe1 (host 1) <--------------------------> rxe2 (host 2)
#   vrdma:   c1_1 vr11 on rxe1 <-- the same wire --> c2_1 vr21 on rxe2
#
# Each measurement runs ROUNDS times alternating native and vrdma; the
# report gives the median of each and the ratio vrdma/native.  Absolute
# figures under emulation mean little: the ratio is the result.  Writes
# $VRDMA_OUT/bench.txt (table) when run in the VM.  Fails only when a run
# does not complete.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

ROUNDS=${ROUNDS:-3}
OUT=${VRDMA_OUT:-/tmp}/bench.txt

topo_hosts 2 || { echo "Bail out! topology"; exit 1; }
vrdma_load || { echo "Bail out! modprobe vrdma"; exit 1; }
topo_container 1 1 > /dev/null
topo_container 2 1 > /dev/null
"$VRDMACTL" dev add vr11 netns c1_1 netdev eth0 phys rxe1 || exit 1
"$VRDMACTL" dev add vr21 netns c2_1 netdev eth0 phys rxe2 || exit 1
defer "$VRDMACTL" dev del vr11
defer "$VRDMACTL" dev del vr21
"$VRDMACTL" map add "$(ct_addr 1 1)" via "$(host_addr 1)"
"$VRDMACTL" map add "$(ct_addr 2 1)" via "$(host_addr 2)"
wait_for 10 in_ct c1_1 bash -c ". $LIB_DIR/topo.sh; gid_index vr11 $(ct_addr 1 1)"

# run_pair SETUP TOOL ARGS...: one measurement; prints the result line.
#   SETUP native: server rxe2 on host 2's address, client rxe1
#   SETUP vrdma: server vr21 in c2_1, client vr11 in c1_1
run_pair() {
	local setup=$1 tool=$2 sdev cdev sgid cgid server srv
	shift 2
	if [ "$setup" = native ]; then
		sdev=rxe2 cdev=rxe1 server=$(host_addr 2)
		sgid=$(host_gid_index 2) cgid=$(host_gid_index 1)
		timeout 300 "$tool" -d $sdev -x "$sgid" -F "$@" > /tmp/bench-srv.log 2>&1 &
		srv=$!
		wait_listen 18515 || return 1
		timeout 300 "$tool" -d $cdev -x "$cgid" -F "$@" "$server" > /tmp/bench-cli.log 2>&1
	else
		sdev=vr21 cdev=vr11 server=$(ct_addr 2 1)
		sgid=$(in_ct c2_1 bash -c ". $LIB_DIR/topo.sh; gid_index vr21 $server")
		cgid=$(in_ct c1_1 bash -c ". $LIB_DIR/topo.sh; gid_index vr11 $(ct_addr 1 1)")
		in_ct c2_1 timeout 300 "$tool" -d $sdev -x "$sgid" -F "$@" > /tmp/bench-srv.log 2>&1 &
		srv=$!
		wait_listen 18515 c2_1 || return 1
		in_ct c1_1 timeout 300 "$tool" -d $cdev -x "$cgid" -F "$@" "$server" > /tmp/bench-cli.log 2>&1
	fi
	local rc=$?
	wait $srv
	[ $rc -eq 0 ] || { cat /tmp/bench-cli.log /tmp/bench-srv.log | sed 's/^/# /' >&2; return 1; }
	# The data line follows the "#bytes" header.
	awk '/^ *#bytes/ { getline; print; exit }' /tmp/bench-cli.log
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -a ROWS
ok=1
# name | tool args | awk field of the result | unit | higher is better
bench() {
	local name=$1 field=$2 unit=$3 better=$4 tool=$5
	shift 5
	local r setup line n v nat=() vrd=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for setup in native vrdma; do
			line=$(run_pair $setup "$tool" "$@") || { ok=0; echo "# $name $setup: failed"; continue; }
			v=$(awk -v f="$field" '{ print $f }' <<< "$line")
			echo "# $name $setup round $r: $v $unit"
			if [ $setup = native ]; then nat+=("$v"); else vrd+=("$v"); fi
		done
	done
	local mn mv ratio
	mn=$(printf '%s\n' "${nat[@]}" | median)
	mv=$(printf '%s\n' "${vrd[@]}" | median)
	ratio=$(awk -v a="$mv" -v b="$mn" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
	ROWS+=("$(printf '%-28s %12s %12s %8s  %s' "$name" "$mn" "$mv" "$ratio" "$unit ($better)")")
}

echo "TAP version 13"
echo "1..1"
bench "ib_write_bw 64KiB"  4 MB/s "higher is better" ib_write_bw -n 1000 -s 65536
bench "ib_read_bw 64KiB"   4 MB/s "higher is better" ib_read_bw -n 1000 -s 65536
bench "ib_send_bw 64KiB"   4 MB/s "higher is better" ib_send_bw -n 1000 -s 65536
bench "ib_write_bw 64B"    5 Mpps "higher is better" ib_write_bw -n 5000 -s 64
bench "ib_write_lat 64B"   5 usec "typical, lower is better" ib_write_lat -n 1000 -s 64
bench "ib_send_lat 64B"    5 usec "typical, lower is better" ib_send_lat -n 1000 -s 64
bench "ib_read_lat 64B"    5 usec "typical, lower is better" ib_read_lat -n 1000 -s 64
bench "ib_send_lat 64B p99" 8 usec "99th percentile, lower is better" ib_send_lat -n 1000 -s 64

{
	echo "vrdma vs native rxe, same VM run, median of $ROUNDS rounds (kernel $(uname -r))"
	printf '%-28s %12s %12s %8s  %s\n' "benchmark" "native" "vrdma" "ratio" "unit"
	printf '%s\n' "${ROWS[@]}"
} | tee "$OUT" | sed 's/^/# /'

if [ $ok = 1 ]; then echo "ok 1 every benchmark completed"; else echo "not ok 1 every benchmark completed"; exit 1; fi
