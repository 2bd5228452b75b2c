#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rdma_server and rdma_client (librdmacm's synchronous API: one connection,
# one message each way, completions waited for on completion channels)
# between containers on two hosts, RUNS times (200) with every CPU busy.
# No run may hang: each has a limit of 60 s, far beyond what one takes.
#
#   RUNS=N    number of runs
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/cm_lib.sh"
require_root

RUNS=${RUNS:-200}
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
for ((run = 1; run <= RUNS; run++)); do
	in_ct c2_1 timeout $T rdma_server -s "$saddr" -p $PORT > /tmp/cs-srv.log 2>&1 &
	spid=$!
	# rdma_cm listeners do not show in ss: retry while refused.
	for ((try = 0; try < 100; try++)); do
		out=$(in_ct c1_1 timeout $T rdma_client -s "$saddr" -p $PORT 2>&1)
		crc=$?
		[ $crc -ne 0 ] && grep -qiE 'refused|reject|unreachable' <<< "$out" &&
			kill -0 "$spid" 2> /dev/null || break
		sleep 0.1
	done
	wait "$spid"
	src=$?
	if [ $crc -eq 124 ] || [ $src -eq 124 ]; then
		hangs=$((hangs + 1))
		ktap_diag "run $run hung (client $crc, server $src)" "client: $out" \
			"server: $(cat /tmp/cs-srv.log)"
	elif [ $crc -ne 0 ] || [ $src -ne 0 ]; then
		fails=$((fails + 1))
		ktap_diag "run $run failed (client $crc, server $src)" "client: $out" \
			"server: $(cat /tmp/cs-srv.log)"
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
