#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tail latency of replication when the replicas' CPUs are busy: the
# in-kernel chain engine against a chain of forwarding processes, in one
# VM run.
#
#   vrdma:  repl_tool (host 4) -> agent -> h1 -> h2 -> h3, ACKs back
#           h3 -> h2 -> h1 -> agent; members forward in softirq, from
#           their RNIC's completions (IB_POLL_SOFTIRQ CQs): no process
#   ufwd:   ufwd client (rxe4) -> ufwd replica (rxe1) -> (rxe2) -> (rxe3),
#           ACKs back the same way: the same six RC messages per
#           operation, native rxe verbs, each replica a process that
#           sleeps on its completion channel, copies the data into its
#           region and forwards (selftests/bench/ufwd.c)
#
# Every measurement runs idle and with CPU hogs: one busy loop per CPU
# (sh -c 'while :; do :; done', nice 0, SCHED_OTHER), the other tenants of
# the replica hosts.  The hosts are simulated in one kernel, so the hogs
# load every "host" at once; the client of both chains runs at SCHED_FIFO
# 10 (CLIENT_RT=0: nice 0 like the rest), standing for a client host that
# is not busy.  Latency: N gWRITEs one at a time (p50, p99, p99.9 in us,
# and ops/s) at 64 B and 4 KiB; throughput: NPIPE gWRITEs with WINDOW in
# flight.  Each figure is the median of ROUNDS rounds (fewer when the next
# one would not fit in BUDGET seconds), the busy run right after the idle
# one of the same kind.  The result is the ratio busy / idle of p99 and
# p99.9 for each chain, per round and its median.  Each run's line also
# gives the CPU time of ksoftirqd (softirq work deferred to threads, which
# the hogs delay) and the RNR/retransmission events of rxe1-4.
#
# Caveats: rxe is the "RNIC" of both chains and is software: on 6.12 its
# tasks run on an unbound workqueue (kworkers, which compete with the
# hogs), on 6.1 in tasklets.  Under TCG an idle vCPU halts and its wake-up
# costs much more than on hardware, which penalises the idle runs of
# wake-up-heavy paths (ufwd most).  Writes $VRDMA_OUT/repl_bench.txt.
# Never asserts speed; fails only when a run does not complete.
. "$(dirname "$0")/../repl/repl_lib.sh"
require_root

ROUNDS=${ROUNDS:-5}
BUDGET=${BUDGET:-1450}		# seconds of measurement: no round starts beyond
N=${N:-5000}			# operations per latency run
NPIPE=${NPIPE:-10000}		# operations per pipelined run
WINDOW=${WINDOW:-16}		# operations in flight (pipelined)
SIZES=${SIZES:-"64 4096"}
HOGS=${HOGS:-$(nproc)}
CLIENT_RT=${CLIENT_RT:-1}	# the client process at SCHED_FIFO 10 (its host is not busy)
OUT=${VRDMA_OUT:-/tmp}/repl_bench.txt
REPL_TOOL=$SRC_DIR/selftests/repl/repl_tool
BENCH_DIR=$SRC_DIR/selftests/bench
PORT=18600

echo "TAP version 13"
echo "1..1"

# The programs of this benchmark, built here (the source tree is
# read-only in the VM; the host's compiler and rdma-core headers are there).
BIN=$(mktemp -d /tmp/repl_bench.XXXXXX)
defer rm -rf "$BIN"
CFLAGS="-D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror"
have_ufwd=1
if ! cc $CFLAGS -o "$BIN/ufwd" "$BENCH_DIR/ufwd.c" -libverbs 2> "$BIN/cc.log"; then
	sed 's/^/# ufwd: /' "$BIN/cc.log"
	have_ufwd=0
fi
have_pipe=1
if ! cc $CFLAGS -I"$SRC_DIR/include/uapi" -I"$SRC_DIR/userspace/librepl" \
	-o "$BIN/repl_pipe" "$BENCH_DIR/repl_pipe.c" \
	"$SRC_DIR/userspace/librepl/vrdma_repl.c" -lmnl 2> "$BIN/cc.log"; then
	sed 's/^/# repl_pipe: /' "$BIN/cc.log"
	have_pipe=0
fi

if ! repl_setup 4 || ! repl_group rb 1M || ! repl_wait_active rb 3 60; then
	echo "Bail out! replication group setup"
	exit 1
fi
for h in 1 2 3 4; do GIDX[$h]=$(host_gid_index $h); done
group_epoch() { repl_json rb | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0].get("epoch"))'; }
epoch0=$(group_epoch)

# CPU hogs
HOG_PIDS=()
hogs_start() {
	local i
	for ((i = 0; i < HOGS; i++)); do
		sh -c 'while :; do :; done' &
		HOG_PIDS+=($!)
	done
	sleep 1
}
hogs_stop() {
	local p
	for p in "${HOG_PIDS[@]}"; do kill "$p" 2> /dev/null; done
	for p in "${HOG_PIDS[@]}"; do wait "$p" 2> /dev/null; done
	HOG_PIDS=()
}
defer hogs_stop

# The client of both chains: the hogs stand for the replica hosts' other
# tenants; the client's host is not busy, which in one kernel means a
# client that preempts them (it sleeps between operations all the same).
CLIENT=()
[ "$CLIENT_RT" = 1 ] && command -v chrt > /dev/null && CLIENT=(chrt -f 10)

# One run; prints the "size S n N p50_us .. ops_s .." line.
run_vrdma() {	# SIZE COUNT WINDOW
	if [ "$3" = 1 ]; then
		timeout 900 "${CLIENT[@]}" "$REPL_TOOL" lat rb "$1" "$2" 0
	else
		timeout 900 "${CLIENT[@]}" "$BIN/repl_pipe" rb "$1" "$2" "$3"
	fi
}

UF_PIDS=()
ufwd_stop() {
	local p
	for p in "${UF_PIDS[@]}"; do kill "$p" 2> /dev/null; done
	for p in "${UF_PIDS[@]}"; do wait "$p" 2> /dev/null; done
	UF_PIDS=()
}
defer ufwd_stop
run_ufwd() {	# SIZE COUNT WINDOW
	local rc p
	# tail, middle, head: each listens for its predecessor
	timeout 900 "$BIN/ufwd" replica rxe3 "${GIDX[3]}" $((PORT + 3)) 2> "$BIN/uf3.log" &
	UF_PIDS+=($!)
	timeout 900 "$BIN/ufwd" replica rxe2 "${GIDX[2]}" $((PORT + 2)) \
		"$(host_addr 3)" $((PORT + 3)) 2> "$BIN/uf2.log" &
	UF_PIDS+=($!)
	timeout 900 "$BIN/ufwd" replica rxe1 "${GIDX[1]}" $((PORT + 1)) \
		"$(host_addr 2)" $((PORT + 2)) 2> "$BIN/uf1.log" &
	UF_PIDS+=($!)
	timeout 900 "${CLIENT[@]}" "$BIN/ufwd" client rxe4 "${GIDX[4]}" "$(host_addr 1)" $((PORT + 1)) \
		"$1" "$2" "$3" 2> "$BIN/ufc.log"
	rc=$?
	# The head sees the client's end and the others follow: wait a little.
	for p in "${UF_PIDS[@]}"; do
		wait_for 5 bash -c "! kill -0 $p" || true
	done
	ufwd_stop
	[ $rc = 0 ] || cat "$BIN/ufc.log" "$BIN"/uf[123].log | sed 's/^/ufwd: /' >&2
	return $rc
}

# Transport trouble on the RNICs (both chains use rxe1-4): RNR NAKs,
# retransmissions, duplicates, sequence errors.
rxe_trouble() {
	local h c n=0 v
	for h in 1 2 3 4; do
		for c in duplicate_request out_of_seq_request rcvd_rnr_err \
			 send_rnr_err rcvd_seq_err completer_retry_err; do
			v=$(cat "/sys/class/infiniband/rxe$h/ports/1/hw_counters/$c" 2> /dev/null) || continue
			n=$((n + v))
		done
	done
	echo $n
}

# CPU time of the ksoftirqd threads, in ms: softirq work (vrdma's data
# path, rxe on 6.1, the veths) that overflowed into threads, which compete
# with the hogs like any process.
ksoftirqd_ms() {
	local p t=0
	for p in $(pgrep -x 'ksoftirqd/[0-9]+'); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2> /dev/null || echo 0)))
	done
	echo $((t * 1000 / $(getconf CLK_TCK)))
}

median() { awk '$1 != "" && $1 != "-"' | sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Results: R[system,cond,mode,size,metric] holds one value per round.
declare -A R
ok=1
SYSTEMS="vrdma"
[ $have_ufwd = 1 ] && SYSTEMS="vrdma ufwd"
MODES="lat"
[ $have_pipe = 1 ] && MODES="lat pipe"

measure() {	# SYSTEM COND MODE SIZE ROUND
	local sys=$1 cond=$2 mode=$3 size=$4 r=$5 line count win=1 t0 e0 k0 extra
	count=$N
	[ "$mode" = pipe ] && { count=$NPIPE; win=$WINDOW; }
	t0=$SECONDS e0=$(rxe_trouble) k0=$(ksoftirqd_ms)
	if ! line=$(run_$sys "$size" "$count" "$win" 2> "$BIN/err.log"); then
		sed 's/^/# /' "$BIN/err.log" | tail -n 20
		echo "# $sys $cond $mode ${size}B round $r: failed"
		ok=0
		line="size $size n $count p50_us - p99_us - p999_us - ops_s -"
	else
		extra=" ($((SECONDS - t0)) s, ksoftirqd $(($(ksoftirqd_ms) - k0)) ms"
		e0=$(($(rxe_trouble) - e0))
		[ $e0 = 0 ] || extra="$extra, $e0 RNR/retransmission/duplicate events"
		echo "# $sys $cond $mode ${size}B round $r: $line$extra)"
	fi
	# a failed run keeps its place ("-"): the rounds stay aligned
	read -r _ _ _ _ _ p50 _ p99 _ p999 _ ops <<< "$line"
	local k="$sys,$cond,$mode,$size"
	R[$k,p50]+="$p50 " R[$k,p99]+="$p99 " R[$k,p999]+="$p999 " R[$k,ops]+="$ops "
}

echo "# kernel $(uname -r), $(nproc) CPUs, $HOGS hogs, N=$N, pipelined: $NPIPE ops, window $WINDOW, client: ${CLIENT[*]:-SCHED_OTHER}"
# Idle and busy runs of one kind follow each other, so that the ratio of
# each round compares runs a few seconds apart (the VM's own speed drifts
# with the load of the machine that runs it).
t_start=$SECONDS
rounds=0
for ((r = 1; r <= ROUNDS; r++)); do
	t_round=$SECONDS
	for mode in $MODES; do
		for size in $SIZES; do
			for sys in $SYSTEMS; do
				for cond in idle busy; do
					[ $cond = busy ] && hogs_start
					measure $sys $cond $mode $size $r
					[ $cond = busy ] && hogs_stop
				done
			done
		done
	done
	rounds=$r
	if [ $r -lt "$ROUNDS" ] &&
	   [ $((SECONDS - t_start + 5 * (SECONDS - t_round) / 4)) -gt "$BUDGET" ]; then
		echo "# stopping after $r rounds: another one would not fit in ${BUDGET}s"
		break
	fi
done
epoch1=$(group_epoch)
active=$(repl_count rb active)

med() { printf '%s\n' ${R[$1,$2]:-} | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && a != "" && b != "-" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# The busy / idle ratios of METRIC for KEY (SYSTEM,-,MODE,SIZE), one per round.
ratios() {	# SYSTEM MODE SIZE METRIC
	local i b x y
	read -r -a i <<< "${R[$1,idle,$2,$3,$4]:-}"
	read -r -a b <<< "${R[$1,busy,$2,$3,$4]:-}"
	for ((x = 0; x < ${#i[@]} && x < ${#b[@]}; x++)); do
		ratio "${b[x]}" "${i[x]}"
		echo
	done
}
{
	echo "Replication, 3-member chain, gWRITE (kernel $(uname -r), $(nproc) CPUs), median of $rounds rounds"
	echo "lat: $N operations one at a time; pipe: $NPIPE operations, $WINDOW in flight; busy: $HOGS busy loops (nice 0)"
	echo "client process: ${CLIENT[*]:-SCHED_OTHER, nice 0}; replicas: vrdma in softirq, ufwd processes SCHED_OTHER nice 0"
	printf '%-6s %-5s %-5s %6s %9s %9s %9s %9s\n' chain cpus mode size p50_us p99_us p99.9_us ops/s
	for sys in $SYSTEMS; do
		for mode in $MODES; do
			for size in $SIZES; do
				for cond in idle busy; do
					k="$sys,$cond,$mode,$size"
					printf '%-6s %-5s %-5s %6s %9s %9s %9s %9s\n' "$sys" "$cond" "$mode" "$size" \
						"$(med "$k" p50)" "$(med "$k" p99)" "$(med "$k" p999)" "$(med "$k" ops)"
				done
			done
		done
	done
	echo
	echo "busy / idle, median of the rounds' ratios (each round's in brackets)"
	printf '%-6s %-5s %6s  %-36s %-36s %-36s\n' chain mode size p99 p99.9 ops/s
	for mode in $MODES; do
		for size in $SIZES; do
			for sys in $SYSTEMS; do
				line=$(printf '%-6s %-5s %6s ' "$sys" "$mode" "$size")
				for m in p99 p999 ops; do
					all=$(ratios "$sys" "$mode" "$size" $m | grep -v n/a)
					line="$line $(printf '%-36s' "$(printf '%s' "$all" | median) [$(echo $all)]")"
				done
				echo "$line"
			done
		done
	done
	if [ $have_ufwd = 1 ]; then
		echo
		echo "ufwd / vrdma, same condition (median p99 and p99.9)"
		for mode in $MODES; do
			for size in $SIZES; do
				for cond in idle busy; do
					printf '%-5s %6s %-5s %9s %9s\n' "$mode" "$size" "$cond" \
						"$(ratio "$(med "ufwd,$cond,$mode,$size" p99)" "$(med "vrdma,$cond,$mode,$size" p99)")" \
						"$(ratio "$(med "ufwd,$cond,$mode,$size" p999)" "$(med "vrdma,$cond,$mode,$size" p999)")"
				done
			done
		done
	else
		echo "ufwd (userspace chain) not measured: it did not build"
	fi
	echo "group epoch $epoch0 -> $epoch1 during the runs (a change: the chain was reconfigured), $active members active at the end"
} | tee "$OUT" | sed 's/^/# /'
if [ $ok = 1 ]; then echo "ok 1 every run completed"; else echo "not ok 1 every run completed"; exit 1; fi
