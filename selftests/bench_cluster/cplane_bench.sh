#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Control-plane convergence across separate kernels (3 VMs): node 1 makes
# PODS pods (200) one after the other through CNI; for each, the time from
# the start of its CNI ADD until its endpoint is in the kernel map of both
# other nodes (each node's agent logs when it programmed the entry; the
# nodes' clocks are compared NTP-style over the wire first, the offset
# error is at most half the round trip, reported).  Then node 2's agent
# is restarted with those endpoints in its map (warm: nothing to change),
# and again after its map and journal were wiped (cold: everything to
# add): time to ready and the reconcile's own time.
#
# Writes $VRDMA_OUT/cplane_bench.json, .txt and .png.  Reports, never
# asserts; fails only when a step does not complete.

. "$(dirname "$0")/../cluster/lib.sh"
. "$LIB_DIR/topo.sh"
PODS=${PODS:-200}
# No expiry is measured here: a lease that outlasts the stalls of three
# TCG VMs on a loaded machine (the cluster's 6 s one expired once, at pod
# 65, when etcd did not answer for 15 s).
LEASE_TTL=30
STATS="python3 $SRC_DIR/selftests/bench/cplane_stats.py"
OUTD=$VRDMA_OUT

node_up && barrier bench.up || { echo "Bail out! nodes up"; exit 1; }

# --- clocks ------------------------------------------------------------------------
if [ "$NODE" = 1 ]; then
	for j in 2 3; do
		wait_get "offsrv.$j" "$j" > /dev/null
		put "offset.$j" "$($STATS offset "$(node_ip "$j")" 9999)"
		echo "# node $j clock - node 1 clock, delay: $(get "offset.$j" 1)"
	done
	put offsets done
else
	$STATS offset-server 9999 &
	srv=$!
	put "offsrv.$NODE" 1
	wait_get offsets 1 > /dev/null
	kill "$srv"
fi

# --- pods on node 1 ------------------------------------------------------------------
if [ "$NODE" = 1 ]; then
	: > "$RDV/requests"
	t0=$SECONDS retries=0
	for ((k = 1; k <= PODS; k++)); do
		p=b$k
		# As a runtime does: a failed ADD (nothing is left of it) is
		# asked again; the time counts from the attempt that worked.
		for try in 1 2 3; do
			ts=$(date +%s.%N)
			pod_add "$CONFLIST" "$p" > "/tmp/$p.add" && break
			echo "# pod $p, attempt $try: $(cat "/tmp/$p.add")"
			pod_del "$CONFLIST" "$p" > /dev/null 2>&1
			retries=$((retries + 1))
			[ "$try" = 3 ] && { echo "Bail out! pod $p"; exit 1; }
			wait_for 60 agent_ready
		done
		te=$(date +%s.%N)
		echo "$VNI $(pod_ip "$p") $ts $te" >> "$RDV/requests"
	done
	echo "# $PODS pods in $((SECONDS - t0)) s, $retries ADDs asked again"
	put retries "$retries"
	put created "$PODS"
else
	wait_get created 1 3000 > /dev/null
	have() { [ "$(map_explicit_count)" -ge "$PODS" ]; }
	wait_for 600 have || echo "# node $NODE: only $(map_explicit_count) entries"
	# When this node's agent programmed each entry, on node 1's clock.
	off=$(get "offset.$NODE" 1 | cut -d' ' -f1)
	jq -r --argjson off "$off" 'select(.event == "map-add" and .published != null) |
		"\(.vni) \(.addr) \(.published + .lag_us / 1e6 - $off) \(.published)"' "$AGENT_LOG" \
		> "$RDV/landed.$NODE"
fi
barrier bench.landed 3000

# --- agent restart (node 2) -------------------------------------------------------------
if [ "$NODE" = 2 ]; then
	restart_ms() {	# restart the agent; print "ready_ms reconcile_ms"
		local t0 ms
		t0=$(date +%s%N)
		agent_start "$AGENT_CONF" "$AGENT_LOG" || return 1
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "$ms $(grep '"event":"reconciled"' "$AGENT_LOG" | tail -n 1 | jq -r .ms)"
	}
	agent_stop "$AGENT_LOG"
	warm=$(restart_ms)
	agent_stop "$AGENT_LOG"
	rm -f /run/vrdma-agent/map.journal
	"$VRDMACTL" -j map show | jq -r '.[] | select(.flags // [] | index("local") | not) |
		"map del \(.addr) vni \(.vni)"' > /tmp/flush.batch
	"$VRDMACTL" -b /tmp/flush.batch
	cold=$(restart_ms)
	echo "# restart with $(map_explicit_count) endpoints: warm $warm, cold $cold (ready ms, reconcile ms)"
	put restart "$warm $cold"
fi
barrier bench.restart 600

# --- the report (node 1) ----------------------------------------------------------------
if [ "$NODE" = 1 ]; then
	mkdir -p "$RDV/sinks"
	# Both nodes' arrival times, as sink lines: "T add VNI ADDR VIA TPUB".
	for j in 2 3; do
		awk '{ print $3, "add", $1, $2, "-", $4 }' "$RDV/landed.$j" > "$RDV/sinks/n$j"
	done
	read -r wr wc cr cc <<< "$(get restart 2)"
	$STATS scale "$RDV/sinks" "$RDV/requests" "$OUTD/cplane_bench.json" \
		pods="$PODS" nodes="$NODES" where="3 VMs (TCG), 1 vCPU each" \
		lease_ttl_s="$LEASE_TTL" add_retries="$(get retries 1)" \
		offset_node2="$(get offset.2 1)" offset_node3="$(get offset.3 1)" \
		restart_warm_ready_ms="$wr" restart_warm_reconcile_ms="$wc" \
		restart_cold_ready_ms="$cr" restart_cold_reconcile_ms="$cc" \
		| tee "$OUTD/cplane_bench.txt" | sed 's/^/# /'
	$STATS cdf "$OUTD/cplane_bench.json" > /tmp/cdf.dat
	gnuplot <<GP
set terminal png size 800,500
set output "$OUTD/cplane_bench.png"
set title "vrdma control plane: $PODS pods on node 1 -> kernel maps of nodes 2 and 3 (3 VMs, TCG)"
set xlabel "CNI ADD start -> endpoint in both other kernels' maps (ms)"
set ylabel "fraction of pods"
set grid
set key bottom right
plot "/tmp/cdf.dat" using 1:2 with lines lw 2 title "CDF"
GP
	echo "ok 1 control-plane convergence over $PODS pods, agent restart"
fi
barrier bench.done 600
# Clean up for the module's unload: the daemons stopped, the pods'
# namespaces deleted (their devices go with their interfaces).  Not CNI
# DEL pod by pod: at the pace of their ADDs (about 8 s each under TCG)
# 200 would outlast the time limit.
agent_stop "$AGENT_LOG"; etcd_stop "$ETCD_DATA"
for p in $(ip netns list | awk '{ print $1 }'); do ip netns del "$p"; done
exit 0
