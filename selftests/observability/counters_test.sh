#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-container counters (Documentation/observability.rst): traffic of a
# known size moves the packet, byte and work request counters of the
# containers' devices by exactly what it was; a refused address
# translation (no mapping), error completions (local and remote) and
# tunnel MADs each move their counter (the datagrams a UD receiver drops,
# xlate_refused_other_vni, are counted in vdev/ud_isolation_test.sh); `rdma
# statistic`, sysfs hw_counters, the PMA counters and node_exporter's
# /metrics all show the same values; deleting a device removes its
# counters, and a device created again starts from zero.
#
#   h1 10.99.0.1 rxe1: c1_1 10.244.1.1 (vr1_1)
#   h2 10.99.0.2 rxe2: c2_1 10.244.2.1 (vr2_1)
#
# Packets are counted per message from the QP's path MTU (perftest prints
# the MTU it set): exact for the data packets of an IBTA transport;
# acknowledgements and retransmissions are not counted (see the document).
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$LIB_DIR/../verbs/verbs_lib.sh"
require_root

PORT=18515
TMO=180			# one program, seconds
N=100			# perftest iterations
S=5000			# perftest message size: 5 packets at MTU 1024, 4 | S
UD_N=20			# ibv_ud_pingpong iterations
UD_S=512		# and size
NE_PORT=19100		# node_exporter, in the container

for p in ib_write_bw ib_read_bw ib_send_bw ib_atomic_bw ibv_ud_pingpong \
	 ibv_rc_pingpong ibv_srq_pingpong rping; do
	command -v "$p" > /dev/null || { echo "# $p not installed"; exit "$KSFT_SKIP"; }
done
require_verbs_test
netns_exclusive || exit "$KSFT_SKIP"

tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"

# ---- counters ----------------------------------------------------------------

# snap CT DEV FILE: every hw counter of DEV ("name value" lines), as
# `rdma statistic show link DEV/1` shows them in CT.
snap() {
	in_ct "$1" rdma statistic show link "$2/1" > "$tmp/raw" 2>&1 || return 1
	awk '{ for (i = 3; i < NF; i += 2) print $i, $(i + 1) }' "$tmp/raw" > "$3"
	[ -s "$3" ]
}
val() { awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print "none" }' "$1"; }
delta() {	# delta BEFORE AFTER NAME
	local a b
	a=$(val "$1" "$3") b=$(val "$2" "$3")
	[ "$a" = none ] || [ "$b" = none ] && { echo none; return; }
	echo $((b - a))
}

# expect BEFORE AFTER "name=want name=want ...": every delta as wanted;
# sets $got to the deltas seen.
expect() {
	local a=$1 b=$2 kv d ok=0
	got=
	for kv in $3; do
		d=$(delta "$a" "$b" "${kv%%=*}")
		got+="${kv%%=*}=$d "
		[ "$d" = "${kv#*=}" ] || ok=1
	done
	return $ok
}

# values FILE "name=want ...": the values as wanted; sets $got.
values() {
	local kv v ok=0
	got=
	for kv in $2; do
		v=$(val "$1" "${kv%%=*}")
		got+="${kv%%=*}=$v "
		[ "$v" = "${kv#*=}" ] || ok=1
	done
	return $ok
}

# moved BEFORE AFTER NAME: the counter went up; sets $got.
moved() {
	got=$(delta "$1" "$2" "$3")
	[ "$got" != none ] && [ "$got" -gt 0 ]
}

# ---- programs ----------------------------------------------------------------

# run_pair SRV_CT CLI_CT PROG ARGS...: PROG serves in SRV_CT, its client
# runs in CLI_CT, each on its container's device and GID; both must exit
# 0.  Logs in $tmp/srv.log and $tmp/cli.log.
run_pair() {
	local s=$1 c=$2 prog=$3 gidopt=-g spid srv_rc cli_rc=-1
	shift 3
	case "$prog" in ib_*) gidopt=-x ;; esac
	ip netns exec "$s" timeout -k 5 "$TMO" "$prog" -d "${DEV[$s]}" "$gidopt" "${GID[$s]}" \
		"$@" > "$tmp/srv.log" 2>&1 &
	spid=$!
	if listening "$s" "$PORT" "$spid"; then
		ip netns exec "$c" timeout -k 5 "$TMO" "$prog" -d "${DEV[$c]}" "$gidopt" \
			"${GID[$c]}" "$@" "${ADDR[$s]}" > "$tmp/cli.log" 2>&1
		cli_rc=$?
		[ "$cli_rc" -eq 0 ] || { sleep 2; kill "$spid" 2> /dev/null; }
	fi
	wait "$spid"
	srv_rc=$?
	[ "$srv_rc" -eq 0 ] && [ "$cli_rc" -eq 0 ] && return 0
	ktap_diag "server exit $srv_rc: $(tail -n 5 "$tmp/srv.log")" \
		  "client exit $cli_rc: $(tail -n 5 "$tmp/cli.log")"
	return 1
}

# The path MTU perftest set (its "Mtu : 1024[B]" line), in $tmp/cli.log.
perftest_mtu() { sed -n 's/.*Mtu *: *\([0-9]*\)\[B\].*/\1/p' "$tmp/cli.log" | head -n 1; }
pkts() { echo $(( ($1 + $2 - 1) / $2 )); }	# pkts LEN MTU

# perftest DESC PROG ARGS... -- CLIENT_WANT -- SERVER_WANT: run PROG from
# c1_1 to c2_1; the wanted deltas may use $mtu and $ppm (packets per
# message at that MTU), expanded after the run.
perftest() {
	local desc=$1 prog=$2 args=() cw sw c0=$tmp/c0 c1=$tmp/c1 s0=$tmp/s0 s1=$tmp/s1
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	cw=$2 sw=$4
	if ! snap c1_1 vr1_1 "$c0" || ! snap c2_1 vr2_1 "$s0" ||
	   ! run_pair c2_1 c1_1 "$prog" -F "${args[@]}"; then
		ktap_fail "$desc: client"
		ktap_fail "$desc: server"
		return
	fi
	mtu=$(perftest_mtu)
	if [ -z "$mtu" ]; then
		ktap_diag "no MTU in: $(head -n 20 "$tmp/cli.log")"
		ktap_fail "$desc: client"
		ktap_fail "$desc: server"
		return
	fi
	ppm=$(pkts "$S" "$mtu")
	snap c1_1 vr1_1 "$c1" && snap c2_1 vr2_1 "$s1"
	cw=$(eval echo "\"$cw\"") sw=$(eval echo "\"$sw\"")
	if expect "$c0" "$c1" "$cw"; then
		ktap_ok "$desc: client (MTU $mtu) $got"
	else
		ktap_fail "$desc: client (MTU $mtu) wanted $cw, got $got"
	fi
	if expect "$s0" "$s1" "$sw"; then
		ktap_ok "$desc: server $got"
	else
		ktap_fail "$desc: server wanted $sw, got $got"
	fi
}

declare -A DEV GID ADDR
ct_setup() {	# ct_setup H N [VNI]
	local ct dev
	ct=$(ct_name "$1" "$2")
	dev=vr$1_$2
	topo_container "$1" "$2" > /dev/null && vdev_add "$dev" "$ct" "$1" "${3:-0}" || return 1
	ADDR[$ct]=$(ct_addr "$1" "$2")
	DEV[$ct]=$dev
	GID[$ct]=$(ct_gid_index "$ct" "$dev" "${ADDR[$ct]}")
}

ktap_plan 24

if vrdma_load && modprobe rdma_ucm && topo_hosts 2 && ct_setup 1 1 && ct_setup 2 1 &&
   map_add "$(ct_addr 1 1)" 1 && map_add "$(ct_addr 2 1)" 2; then
	ktap_ok "hosts, containers c1_1 c2_1, their devices, the map"
else
	ktap_fail "hosts, containers c1_1 c2_1, their devices, the map"
	ktap_finish
fi

# ---- the counters exist -----------------------------------------------------
snap c1_1 vr1_1 "$tmp/first"
names=$(awk '{ print $1 }' "$tmp/first" | sort | xargs)
ktap_diag "rdma statistic show link vr1_1/1: $(head -c 300 "$tmp/raw")"
files=$(in_ct c1_1 ls /sys/class/infiniband/vr1_1/ports/1/hw_counters | grep -vx lifespan | xargs)
if [ -n "$names" ] && [ "$names" = "$files" ] &&
   [ "$(awk '$2 != 0 && $1 !~ /^(max_|active_)/' "$tmp/first" | wc -l)" -eq 0 ]; then
	ktap_ok "a new device: $(wc -l < "$tmp/first") counters in rdma statistic and hw_counters, all zero"
else
	ktap_diag "rdma statistic: $names" "hw_counters: $files" \
		  "non-zero: $(awk '$2 != 0 && $1 !~ /^(max_|active_)/' "$tmp/first" | xargs)"
	ktap_fail "a new device: the same counters in rdma statistic and hw_counters, all zero"
fi

# ---- traffic of a known size --------------------------------------------------
perftest "ib_write_bw -n $N -s $S" ib_write_bw -n "$N" -s "$S" -- \
	"rdma_write_wrs=$N tx_bytes=$((N * S)) tx_pkts=\$((N * ppm)) send_wrs=0 rx_bytes=0 cqe_err_local=0 cqe_err_remote=0" -- \
	"recv_wrs=0 rx_bytes=0 rx_pkts=0 tx_pkts=0"
perftest "ib_send_bw -n $N -s $S" ib_send_bw -n "$N" -s "$S" -- \
	"send_wrs=$N tx_bytes=$((N * S)) tx_pkts=\$((N * ppm)) recv_wrs=0 rx_bytes=0" -- \
	"recv_wrs=$N rx_bytes=$((N * S)) rx_pkts=\$((N * ppm)) send_wrs=0 tx_bytes=0"
perftest "ib_read_bw -n $N -s $S" ib_read_bw -n "$N" -s "$S" -- \
	"rdma_read_wrs=$N tx_pkts=$N rx_bytes=$((N * S)) rx_pkts=\$((N * ppm)) tx_bytes=0" -- \
	"recv_wrs=0 rx_bytes=0 tx_pkts=0"
perftest "ib_atomic_bw -n $N" ib_atomic_bw -n "$N" -- \
	"atomic_wrs=$N tx_pkts=$N rx_pkts=$N rx_bytes=$((8 * N)) tx_bytes=0" -- \
	"recv_wrs=0 rx_bytes=0 tx_pkts=0"

# UD: one packet a message; a receive holds the 40-byte GRH, not counted.
snap c1_1 vr1_1 "$tmp/c0" && snap c2_1 vr2_1 "$tmp/s0"
if run_pair c2_1 c1_1 ibv_ud_pingpong -n "$UD_N" -s "$UD_S"; then
	snap c1_1 vr1_1 "$tmp/c1" && snap c2_1 vr2_1 "$tmp/s1"
	want="send_wrs=$UD_N recv_wrs=$UD_N tx_pkts=$UD_N rx_pkts=$UD_N tx_bytes=$((UD_N * UD_S)) rx_bytes=$((UD_N * UD_S))"
	for side in c s; do
		if expect "$tmp/${side}0" "$tmp/${side}1" "$want"; then
			ktap_ok "ibv_ud_pingpong -n $UD_N -s $UD_S: $side $got"
		else
			ktap_fail "ibv_ud_pingpong -n $UD_N -s $UD_S: $side wanted $want, got $got"
		fi
	done
else
	ktap_fail "ibv_ud_pingpong runs"
	ktap_fail "ibv_ud_pingpong runs"
fi

# ---- error completions ----------------------------------------------------------
# verbs_test's QPs on vr1_1, connected to each other: a WQE naming an MR of
# another PD (vrdma refuses it: a local error), an RDMA WRITE to a bad
# rkey (the responder's RNIC refuses it: a remote error).
idx=${GID[c1_1]}
for t in "err_mr_of_other_pd cqe_err_local" "err_write_bad_rkey cqe_err_remote"; do
	read -r name counter <<< "$t"
	snap c1_1 vr1_1 "$tmp/e0"
	run_verbs_test c1_1 vr1_1 "$idx" eth0 1 300 -t "$name" > "$tmp/vt.log"
	rc=$?
	snap c1_1 vr1_1 "$tmp/e1"
	if [ "$rc" -eq 0 ] && moved "$tmp/e0" "$tmp/e1" "$counter"; then
		ktap_ok "verbs_test $name: $counter +$got"
	else
		cat "$tmp/vt.log"
		ktap_fail "verbs_test $name (exit $rc): $counter +$got"
	fi
done

# ---- refused translations --------------------------------------------------------
# No mapping: the client's modify_qp to RTR fails.
snap c1_1 vr1_1 "$tmp/x0"
"$VRDMACTL" map del "$(ct_addr 2 1)" vni 0
run_pair c2_1 c1_1 ibv_rc_pingpong -n 5 > /dev/null
"$VRDMACTL" map add "$(ct_addr 2 1)" via "$(host_addr 2)" vni 0
snap c1_1 vr1_1 "$tmp/x1"
if moved "$tmp/x0" "$tmp/x1" xlate_refused_nomap; then
	ktap_ok "unmapped destination: xlate_refused_nomap +$got"
else
	ktap_fail "unmapped destination: xlate_refused_nomap +$got"
fi

# ---- tunnel MADs -------------------------------------------------------------------
# rdma_cm's connection (REQ, REP, RTU, DREQ, DREP) through both QP1s.  The
# client starts once the server's rdma_cm ID listens (rdma_cm listeners do
# not show in ss; ib_core's resource tracking lists them), and retries
# while it is refused (a server that lists its ID before it accepts).
cm_listening() { in_ct "$1" rdma resource show cm_id | grep -q "state LISTEN "; }
snap c1_1 vr1_1 "$tmp/m0" && snap c2_1 vr2_1 "$tmp/n0"
ip netns exec c2_1 timeout -k 5 "$TMO" rping -s -a "$(ct_addr 2 1)" -p 7471 -C 1 > "$tmp/srv.log" 2>&1 &
spid=$!
wait_for 30 cm_listening c2_1 || ktap_diag "no listening cm_id in c2_1 after 30s"
rc=1
for i in 1 2 3 4 5; do
	[ "$i" -eq 1 ] || sleep 1
	in_ct c1_1 timeout -k 5 "$TMO" rping -c -a "$(ct_addr 2 1)" -p 7471 -C 1 > "$tmp/cli.log" 2>&1 &&
		{ rc=0; break; }
done
wait "$spid" || rc=1
snap c1_1 vr1_1 "$tmp/m1" && snap c2_1 vr2_1 "$tmp/n1"
if [ $rc -eq 0 ] && moved "$tmp/m0" "$tmp/m1" mad_tx && c_tx=$got &&
   moved "$tmp/m0" "$tmp/m1" mad_rx && c_rx=$got && moved "$tmp/n0" "$tmp/n1" mad_tx &&
   s_tx=$got && moved "$tmp/n0" "$tmp/n1" mad_rx; then
	ktap_ok "rping: MADs client tx +$c_tx rx +$c_rx, server tx +$s_tx rx +$got"
else
	ktap_diag "rping exit $rc: $(tail -n 3 "$tmp/cli.log")" \
		  "client: $(delta "$tmp/m0" "$tmp/m1" mad_tx) $(delta "$tmp/m0" "$tmp/m1" mad_rx)"
	ktap_fail "rping: MADs in and out on both devices"
fi

# ---- every interface shows the same values ---------------------------------------
snap c1_1 vr1_1 "$tmp/now"
in_ct c1_1 sh -c 'echo 0 > /sys/class/infiniband/vr1_1/ports/1/hw_counters/lifespan'
# Every file, read in one entry into the container.
in_ct c1_1 sh -c 'for f in "$1"/*; do echo "${f##*/} $(cat "$f")"; done' - \
	/sys/class/infiniband/vr1_1/ports/1/hw_counters > "$tmp/sysfs"
bad=
while read -r n v; do
	f=$(val "$tmp/sysfs" "$n")
	[ "$f" = "$v" ] || bad+="$n ($v, sysfs $f) "
done < "$tmp/now"
if [ -z "$bad" ]; then
	ktap_ok "sysfs hw_counters = rdma statistic ($(wc -l < "$tmp/now") counters)"
else
	ktap_fail "sysfs hw_counters = rdma statistic: $bad"
fi

# vrdmactl, from the host: the same counters, in plain text and in JSON.
"$VRDMACTL" -s dev show vr1_1 > "$tmp/ctl" 2>&1
"$VRDMACTL" -j -s dev show vr1_1 > "$tmp/ctl.json" 2>&1
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]["stats"]
for k, v in d.items():
    print(k, v)' "$tmp/ctl.json" > "$tmp/ctl.kv" 2> "$tmp/ctl.err"
sed -n 's/^ *stats: *//p' "$tmp/ctl" | awk '{ for (i = 1; i < NF; i += 2) print $i, $(i + 1) }' > "$tmp/ctl.plain"
if [ -s "$tmp/ctl.kv" ] && cmp -s "$tmp/now" "$tmp/ctl.kv" && cmp -s "$tmp/now" "$tmp/ctl.plain"; then
	ktap_ok "vrdmactl -s dev show (plain and -j) = rdma statistic ($(wc -l < "$tmp/ctl.kv") counters)"
else
	ktap_diag "$(head -c 600 "$tmp/ctl")" "$(cat "$tmp/ctl.err")" \
		  "differ (rdma statistic < > vrdmactl -j): $(diff "$tmp/now" "$tmp/ctl.kv" | grep '^[<>]' | head -n 6 | xargs)"
	ktap_fail "vrdmactl -s dev show (plain and -j) = rdma statistic"
fi

tx=$(val "$tmp/now" tx_bytes) rx=$(val "$tmp/now" rx_bytes)
txp=$(val "$tmp/now" tx_pkts) rxp=$(val "$tmp/now" rx_pkts)
pma=/sys/class/infiniband/vr1_1/ports/1/counters
got=$(in_ct c1_1 cat $pma/port_xmit_data $pma/port_rcv_data $pma/port_xmit_packets \
	$pma/port_rcv_packets $pma/unicast_xmit_packets $pma/multicast_xmit_packets | xargs)
want="$((tx / 4)) $((rx / 4)) $txp $rxp $txp 0"
if [ "$got" = "$want" ] && ! in_ct c1_1 cat $pma/symbol_error > /dev/null 2>&1; then
	ktap_ok "PMA counters: data/4, packets ($got); link error counters refused"
else
	ktap_fail "PMA counters: wanted $want, got $got; symbol_error: $(in_ct c1_1 cat $pma/symbol_error 2>&1)"
fi

# node_exporter, as a sidecar of the container (its /sys is the
# container's: only vr1_1).  Debian's prometheus-node-exporter (make deps).
if ! command -v prometheus-node-exporter > /dev/null; then
	ktap_skip "node_exporter /metrics" "prometheus-node-exporter is not installed (make deps)"
elif ! command -v curl > /dev/null; then
	ktap_skip "node_exporter /metrics" "curl is not installed (make deps)"
else
# (ip netns exec runs it in this shell's child: the PID is its own)
ip netns exec c1_1 prometheus-node-exporter --collector.disable-defaults --collector.infiniband \
	--web.listen-address="127.0.0.1:$NE_PORT" > "$tmp/ne.log" 2>&1 &
nepid=$!
defer kill "$nepid"
if wait_for 60 in_ct c1_1 curl -sf -o "$tmp/metrics" "http://127.0.0.1:$NE_PORT/metrics"; then
	m() { awk -v n="$1" 'index($0, n "{") == 1 && /device="vr1_1"/ { printf "%.0f", $2 }' "$tmp/metrics"; }
	got="$(m node_infiniband_port_data_transmitted_bytes_total) $(m node_infiniband_port_data_received_bytes_total)"
	got+=" $(m node_infiniband_port_packets_transmitted_total) $(m node_infiniband_port_packets_received_total)"
	want="$((tx / 4 * 4)) $((rx / 4 * 4)) $txp $rxp"
	if [ "$got" = "$want" ] && grep -q 'node_infiniband_info{board_id="vrdma",device="vr1_1"' "$tmp/metrics" &&
	   grep -q 'node_scrape_collector_success{collector="infiniband"} 1' "$tmp/metrics"; then
		ktap_ok "node_exporter /metrics: vr1_1 bytes and packets $got"
	else
		ktap_diag "$(grep -E 'infiniband' "$tmp/metrics" | grep -v '^#' | head -n 20)"
		ktap_fail "node_exporter /metrics: wanted $want, got $got"
	fi
else
	ktap_diag "$(tail -n 5 "$tmp/ne.log")"
	ktap_fail "node_exporter /metrics: no answer"
fi
fi

# ---- objects and limits -----------------------------------------------------------
# A device with limits, and the objects of a ping-pong server while it waits.
qps_idle() { snap c2_1 vr2_1 "$tmp/o2" && [ "$(val "$tmp/o2" active_qps)" = 0 ]; }
"$VRDMACTL" dev del vr2_1
if "$VRDMACTL" dev add vr2_1 netns c2_1 netdev eth0 phys rxe2 max-qp 3 max-cq 5 max-mr 7 &&
   wait_for 20 ct_gid_index c2_1 vr2_1 "$(ct_addr 2 1)"; then
	GID[c2_1]=$(ct_gid_index c2_1 vr2_1 "$(ct_addr 2 1)")
	snap c2_1 vr2_1 "$tmp/o0"
	# ibv_rc_pingpong creates its PD, MR, CQ and QP before it listens.
	ip netns exec c2_1 timeout -k 5 "$TMO" ibv_rc_pingpong -d vr2_1 -g "${GID[c2_1]}" -n 5 \
		> "$tmp/srv.log" 2>&1 &
	spid=$!
	listening c2_1 "$PORT" "$spid"
	snap c2_1 vr2_1 "$tmp/o1"
	kill "$spid" 2> /dev/null
	wait "$spid" 2> /dev/null
	wait_for 20 qps_idle
	ok=0
	values "$tmp/o0" "max_qps=3 max_cqs=5 max_mrs=7 active_qps=0 active_cqs=0 active_mrs=0 tx_bytes=0" ||
		ok=1
	before=$got
	values "$tmp/o1" "active_qps=1" || ok=1
	during="$got active_cqs=$(val "$tmp/o1" active_cqs) active_mrs=$(val "$tmp/o1" active_mrs)"
	[ "$(val "$tmp/o1" active_cqs)" -ge 1 ] && [ "$(val "$tmp/o1" active_mrs)" -ge 1 ] || ok=1
	values "$tmp/o2" "active_qps=0 active_cqs=0 active_mrs=0 pinned_bytes=0" || ok=1
	after=$got
	if [ $ok -eq 0 ]; then
		ktap_ok "objects against limits: new $before; in use $during; after $after"
	else
		ktap_fail "objects against limits: new $before; in use $during; after $after"
	fi
	# Four QPs where three are allowed: the fourth is refused (ENOSPC)
	# and the program gives up before it listens.
	snap c2_1 vr2_1 "$tmp/l0"
	ip netns exec c2_1 timeout -k 5 60 ibv_srq_pingpong -d vr2_1 -g "${GID[c2_1]}" -q 4 \
		> "$tmp/lim.log" 2>&1
	lrc=$?
	snap c2_1 vr2_1 "$tmp/l1"
	if [ "$lrc" -ne 0 ] && [ "$lrc" -ne 124 ] && expect "$tmp/l0" "$tmp/l1" "limit_exceeded=1"; then
		ktap_ok "a QP beyond max-qp: limit_exceeded +1 (program exit $lrc)"
	else
		ktap_diag "$(tail -n 3 "$tmp/lim.log")"
		ktap_fail "a QP beyond max-qp: exit $lrc, $got"
	fi
else
	ktap_fail "objects against limits: vr2_1 with limits"
	ktap_fail "a QP beyond max-qp"
fi

# ---- deletion --------------------------------------------------------------------
"$VRDMACTL" dev del vr1_1
if ! in_ct c1_1 test -e /sys/class/infiniband/vr1_1 &&
   ! in_ct c1_1 rdma statistic show link vr1_1/1 > /dev/null 2>&1; then
	ktap_ok "deleted device: its counters are gone"
else
	ktap_fail "deleted device: its counters are gone"
fi
if vdev_add vr1_1 c1_1 1 && snap c1_1 vr1_1 "$tmp/again" &&
   [ "$(awk '$2 != 0 && $1 !~ /^(max_|active_)/' "$tmp/again" | wc -l)" -eq 0 ]; then
	ktap_ok "created again: every counter starts from zero"
else
	ktap_fail "created again: every counter starts from zero ($(awk '$2 != 0' "$tmp/again" | xargs))"
fi

ktap_finish
