#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rdma_server and rdma_client (librdmacm's synchronous API: one connection,
# one message each way, completions waited for on completion channels)
# between containers on two hosts, RUNS times with every CPU busy.  No
# run may hang: each program has a limit of 60 s, far beyond what one
# takes; one that hangs has its threads' kernel stacks and the devices'
# QPs and counters reported before it is killed.
#
# make check runs it 20 times (CI's time), client_server_full_test.sh
# (make check-full) 200 times.
#
#   RUNS=N    number of runs (20)
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/cm_lib.sh"
require_root

RUNS=${RUNS:-20}
PORT=7474
T=60


# Busy loops on every CPU, for the test's lifetime (at most $1 seconds).
load() {
	local i
	for ((i = 0; i < $(nproc); i++)); do
		timeout "$1" sh -c 'while :; do :; done' &
		defer kill $!
	done
}

ktap_plan 2
if ! cm_two_hosts; then
	echo "Bail out! setup failed"
	exit 1
fi
ktap_ok "c1_1 (vr11, host 1) and c2_1 (vr21, host 2)"

saddr=$(ct_addr 2 1)
load 3600
hangs=0
fails=0
t0=$SECONDS
# One run: the server, then the client (retried while the server does not
# listen yet: rdma_cm listeners do not show in ss).  A program still running
# after $T seconds hangs: its state is reported, then it is killed.
one_run() {
	local try spid cpid
	crc= src=
	in_ct c2_1 rdma_server -s "$saddr" -p $PORT > /tmp/cs-srv.log 2>&1 &
	spid=$!
	for ((try = 0; try < 100; try++)); do
		in_ct c1_1 rdma_client -s "$saddr" -p $PORT > /tmp/cs-cli.log 2>&1 &
		cpid=$!
		if ! cm_wait_exit "$cpid" $T; then
			ktap_diag "run $run: rdma_client hangs after ${T}s"
			cm_hang_diag "$cpid" c1_1 c2_1
			kill -9 "$cpid"
		fi
		wait "$cpid"
		crc=$?
		[ $crc -ne 0 ] && grep -qiE 'refused|reject|unreachable' /tmp/cs-cli.log &&
			kill -0 "$spid" 2> /dev/null || break
		sleep 0.1
	done
	if ! cm_wait_exit "$spid" $T; then
		ktap_diag "run $run: rdma_server hangs after ${T}s"
		cm_hang_diag "$spid" c1_1 c2_1
		kill -9 "$spid"
	fi
	wait "$spid"
	src=$?
}

for ((run = 1; run <= RUNS; run++)); do
	one_run
	if [ $crc -eq 137 ] || [ $src -eq 137 ]; then
		hangs=$((hangs + 1))
		ktap_diag "run $run hung (client $crc, server $src)" \
			"client: $(cat /tmp/cs-cli.log)" "server: $(cat /tmp/cs-srv.log)"
	elif [ $crc -ne 0 ] || [ $src -ne 0 ]; then
		fails=$((fails + 1))
		ktap_diag "run $run failed (client $crc, server $src)" \
			"client: $(cat /tmp/cs-cli.log)" "server: $(cat /tmp/cs-srv.log)"
	fi
	[ $((hangs + fails)) -lt 5 ] || break
done
runs=$((run > RUNS ? RUNS : run))
ktap_diag "$runs runs in $((SECONDS - t0))s: $hangs hung, $fails failed"
if [ $hangs -eq 0 ] && [ $fails -eq 0 ] && [ "$runs" -eq "$RUNS" ]; then
	ktap_ok "$RUNS rdma_server/rdma_client runs under load: none hung or failed"
else
	ktap_fail "$RUNS rdma_server/rdma_client runs under load: $hangs hung, $fails failed (of $runs)"
fi
ktap_finish
