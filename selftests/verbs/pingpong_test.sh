#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified RDMA programs between containers, through their vrdma devices:
# the rdma-core examples (ibv_{rc,ud,srq,uc}_pingpong) and perftest
# (ib_{write,read,send,atomic}_bw, ib_{write,send}_lat), across hosts (c1_1
# on rxe1 <-> c2_1 on rxe2, whose packets must cross the physical bridge)
# and on one host (c1_1 <-> c1_2, both on rxe1: through the RNIC's
# loopback).  Then the negative cases: a destination missing from the
# address map, and one of another VNI, make the client fail quickly and
# cleanly; and the isolation exclusive netns mode gives: each container
# sees its own device only, init_net sees none of them.
#
#   h1 10.99.0.1 rxe1: c1_1 10.244.1.1 (vr1_1), c1_2 10.244.1.2 (vr1_2)
#   h2 10.99.0.2 rxe2: c2_1 10.244.2.1 (vr2_1), c2_2 10.244.2.2 (vr2_2, vni 7)
#
# Every program runs under timeout; a client starts only once its server
# listens (port 18515, the default of both suites).
#
# PINGPONG_NATIVE=1 (pingpong_native_test.sh) runs the same programs in the
# same containers on the hosts' own soft-RoCE devices instead (shared
# netns mode, where every namespace sees them): it proves this test's
# mechanics on plain rxe; the vrdma-only parts (address map, VNIs,
# isolation) skip there.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/verbs_lib.sh"
require_root

PORT=18515
TMO=180			# one program, seconds
N_PP=50			# ping-pong iterations (~500 us each under TCG)
N_BW=200		# perftest iterations
N_LAT=200

for p in ibv_rc_pingpong ibv_ud_pingpong ibv_srq_pingpong ibv_uc_pingpong \
	 ib_write_bw ib_read_bw ib_send_bw ib_atomic_bw ib_write_lat ib_send_lat; do
	command -v "$p" > /dev/null || { echo "# $p not installed"; exit "$KSFT_SKIP"; }
done

NATIVE=${PINGPONG_NATIVE:-0}
if [ "$NATIVE" != 1 ]; then
	netns_exclusive || exit "$KSFT_SKIP"
elif [ "$(rdma system show 2>/dev/null | sed -n 's/.*netns \([a-z]*\).*/\1/p')" = exclusive ]; then
	# A test before this one may have left the mode exclusive; it can be
	# changed back while no namespace but init_net exists.
	if ! netns_shared_restore; then
		echo "# native mode needs shared netns mode (exclusive, and namespaces exist:" \
			"$(ip netns list | awk '{ printf "%s ", $1 }'))"
		exit "$KSFT_SKIP"
	fi
	echo "# netns mode was exclusive: set to shared"
fi

tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"

# pair SRV_CT SRV_ARGS... -- CLI_CT CLI_ARGS...: a server, then its client
# (CLI_ARGS end with the server's address).  Sets srv_rc and cli_rc (-1:
# never started); logs in $tmp/srv.log and $tmp/cli.log.  Succeeds when
# both exit 0.
pair() {
	local sct=$1 cct srv=() cli=() spid
	shift
	while [ "$1" != -- ]; do srv+=("$1"); shift; done
	shift
	cct=$1
	shift
	cli=("$@")
	srv_rc=-1 cli_rc=-1
	ip netns exec "$sct" timeout -k 5 "$TMO" "${srv[@]}" > "$tmp/srv.log" 2>&1 &
	spid=$!
	if listening "$sct" "$PORT" "$spid"; then
		ip netns exec "$cct" timeout -k 5 "$TMO" "${cli[@]}" > "$tmp/cli.log" 2>&1
		cli_rc=$?
		# A server whose client failed may wait forever: not long.
		[ "$cli_rc" -eq 0 ] || { sleep 2; kill "$spid" 2> /dev/null; }
	else
		: > "$tmp/cli.log"
	fi
	wait "$spid"
	srv_rc=$?
	[ "$srv_rc" -eq 0 ] && [ "$cli_rc" -eq 0 ]
}

# A program's errors go to stderr, unbuffered, ahead of its buffered
# stdout: show them, wherever they are, and the end of the log.
pair_diag() {
	local f
	for f in srv cli; do
		[ $f = srv ] && ktap_diag "server exit $srv_rc:" || ktap_diag "client exit $cli_rc:"
		ktap_diag "$(grep -iE 'error|fail|couldn|unable' "$tmp/$f.log" | head -n 5)" \
			  "$(tail -n 8 "$tmp/$f.log")"
	done
}

# Per container: its device and GID index (native: its host's).
declare -A DEV GID ADDR
ct_setup() {	# ct_setup H N [VNI]
	local ct dev
	ct=$(ct_name "$1" "$2")
	topo_container "$1" "$2" > /dev/null || return 1
	ADDR[$ct]=$(ct_addr "$1" "$2")
	if [ "$NATIVE" = 1 ]; then
		DEV[$ct]=$(host_dev "$1")
		GID[$ct]=$(host_gid_index "$1")
		return 0
	fi
	dev=vr$1_$2
	vdev_add "$dev" "$ct" "$1" "${3:-0}" || return 1
	DEV[$ct]=$dev
	GID[$ct]=$(ct_gid_index "$ct" "$dev" "${ADDR[$ct]}")
}

# The address map, as the control plane would set it.
map_all() {
	[ "$NATIVE" = 1 ] && return 0
	map_add "$(ct_addr 1 1)" 1 && map_add "$(ct_addr 1 2)" 1 &&
		map_add "$(ct_addr 2 1)" 2 && map_add "$(ct_addr 2 2)" 2 7
}

# vrdma_only N: skip the N checks that follow when native, and say so.
vrdma_only() {
	local i
	[ "$NATIVE" = 1 ] || return 1
	for ((i = 0; i < $1; i++)); do
		ktap_skip "${2:-vrdma check}" "native mode: vrdma only"
	done
	return 0
}

# run_prog DESC SRV_CT CLI_CT PROG ARGS...: the program as server in SRV_CT
# and client in CLI_CT, each on its container's device and GID.
run_prog() {
	local desc=$1 s=$2 c=$3 prog=$4 gidopt=-g
	shift 4
	case "$prog" in ib_*) gidopt=-x ;; esac
	pair "$s" "$prog" -d "${DEV[$s]}" "$gidopt" "${GID[$s]}" "$@" -- \
	     "$c" "$prog" -d "${DEV[$c]}" "$gidopt" "${GID[$c]}" "$@" "${ADDR[$s]}"
}

# The programs, as "name args..."; perftest's -F: emulated CPUs report
# inconsistent frequencies, which is no reason to fail.
PROGS=(
	"ibv_rc_pingpong -n $N_PP"
	"ibv_ud_pingpong -n $N_PP -s 512"
	"ibv_srq_pingpong -n $N_PP -q 4"
	"ib_write_bw -F -n $N_BW -s 65536"
	"ib_read_bw -F -n $N_BW -s 65536"
	"ib_send_bw -F -n $N_BW -s 65536"
	"ib_atomic_bw -F -n $N_BW"
	"ib_write_lat -F -n $N_LAT -s 64"
	"ib_send_lat -F -n $N_LAT -s 64"
)

ktap_plan $((2 * ${#PROGS[@]} + 2 + 2 + 2 + 5))

if [ "$NATIVE" = 1 ]; then
	# rxe1 <-> rxe1 (same host) needs the host's own address to be local.
	topo_hosts 2 && host_self_local 1
elif vrdma_load; then
	topo_hosts 2
else
	false
fi || { ktap_fail "hosts 1 and 2 (and vrdma loaded)"; ktap_finish; }
if ! ct_setup 1 1 || ! ct_setup 1 2 || ! ct_setup 2 1 || ! ct_setup 2 2 7 || ! map_all; then
	ktap_fail "four containers with their devices, address map"
	ktap_finish
fi
ktap_diag "GID indices: c1_1 ${GID[c1_1]} c1_2 ${GID[c1_2]} c2_1 ${GID[c2_1]} c2_2 ${GID[c2_2]}"

# ---- across hosts: c2_1 serves, c1_1 connects -----------------------------
for p in "${PROGS[@]}"; do
	read -r -a cmd <<< "$p"
	tx1=$(host_tx_packets 1) tx2=$(host_tx_packets 2)
	if run_prog "" c2_1 c1_1 "${cmd[@]}"; then
		d1=$(( $(host_tx_packets 1) - tx1 )) d2=$(( $(host_tx_packets 2) - tx2 ))
		if [ "$d1" -ge 20 ] && [ "$d2" -ge 20 ]; then
			ktap_ok "across hosts: $p (h1 sent $d1, h2 sent $d2 packets)"
		else
			ktap_fail "across hosts: $p: its packets did not cross the wire (h1 $d1, h2 $d2)"
		fi
	else
		pair_diag
		ktap_fail "across hosts: $p"
	fi
done

# UC: vrdma may not support it; then it must fail cleanly (no hang).
if run_prog "" c2_1 c1_1 ibv_uc_pingpong -n "$N_PP"; then
	ktap_ok "across hosts: ibv_uc_pingpong"
elif [ "$srv_rc" -ne 124 ] && [ "$srv_rc" -ne 137 ] && [ "$cli_rc" -ne 124 ] &&
     grep -qi "couldn't\|failed\|error" "$tmp/srv.log" "$tmp/cli.log"; then
	ktap_diag "$(cat "$tmp/srv.log" "$tmp/cli.log" | grep -i "couldn't\|failed\|error" | head -n 2)"
	ktap_ok "across hosts: ibv_uc_pingpong unsupported, fails cleanly"
else
	pair_diag
	ktap_fail "across hosts: ibv_uc_pingpong (neither works nor fails cleanly)"
fi

# ---- on one host: c1_2 serves, c1_1 connects (RNIC loopback) -----------------
for p in "${PROGS[@]}"; do
	read -r -a cmd <<< "$p"
	tx1=$(host_tx_packets 1)
	if run_prog "" c1_2 c1_1 "${cmd[@]}"; then
		d1=$(( $(host_tx_packets 1) - tx1 ))
		if [ "$d1" -lt 20 ]; then
			ktap_ok "same host: $p"
		else
			ktap_fail "same host: $p: $d1 packets left host 1 (loopback expected)"
		fi
	else
		pair_diag
		ktap_fail "same host: $p"
	fi
done
if run_prog "" c1_2 c1_1 ibv_uc_pingpong -n "$N_PP"; then
	ktap_ok "same host: ibv_uc_pingpong"
elif [ "$srv_rc" -ne 124 ] && [ "$srv_rc" -ne 137 ] && [ "$cli_rc" -ne 124 ]; then
	ktap_ok "same host: ibv_uc_pingpong unsupported, fails cleanly"
else
	pair_diag
	ktap_fail "same host: ibv_uc_pingpong (neither works nor fails cleanly)"
fi

# ---- a destination the map does not know ------------------------------------
# The client's transition to RTR is where the destination is resolved: it
# must fail there, at once, not hang or time out.
vrdma_only 2 "unmapped destination" || {
"$VRDMACTL" map del "$(ct_addr 2 1)" vni 0
start=$SECONDS
run_prog "" c2_1 c1_1 ibv_rc_pingpong -n 5
secs=$((SECONDS - start))
if [ "$cli_rc" -gt 0 ] && [ "$cli_rc" -ne 124 ] && [ "$cli_rc" -ne 137 ] && [ "$secs" -lt 60 ]; then
	ktap_diag "client: $(grep -v '^ *local\|^ *remote' "$tmp/cli.log" | head -n 2)"
	ktap_ok "unmapped destination: the client fails cleanly (${secs}s)"
else
	pair_diag
	ktap_fail "unmapped destination: the client fails cleanly (exit $cli_rc after ${secs}s)"
fi
"$VRDMACTL" map add "$(ct_addr 2 1)" via "$(host_addr 2)" vni 0
if run_prog "" c2_1 c1_1 ibv_rc_pingpong -n 5; then
	ktap_ok "mapped again: ibv_rc_pingpong works"
else
	pair_diag
	ktap_fail "mapped again: ibv_rc_pingpong works"
fi
}

# ---- another tenant (vni 7) -------------------------------------------------
vrdma_only 2 "other VNI" || {
start=$SECONDS
run_prog "" c2_2 c1_1 ibv_rc_pingpong -n 5
secs=$((SECONDS - start))
if [ "$cli_rc" -gt 0 ] && [ "$cli_rc" -ne 124 ] && [ "$cli_rc" -ne 137 ] && [ "$secs" -lt 60 ]; then
	ktap_ok "other VNI: the client fails cleanly (${secs}s)"
else
	pair_diag
	ktap_fail "other VNI: the client fails cleanly (exit $cli_rc after ${secs}s)"
fi
start=$SECONDS
run_prog "" c1_1 c2_2 ibv_ud_pingpong -n 5 -s 512
secs=$((SECONDS - start))
if [ "$cli_rc" -ne 0 ] && [ "$cli_rc" -ne 137 ] && [ "$secs" -lt 150 ]; then
	ktap_ok "other VNI: a UD address handle from vni 7 to vni 0 fails (client exit $cli_rc)"
else
	pair_diag
	ktap_fail "other VNI: a UD address handle from vni 7 to vni 0 fails (client exit $cli_rc after ${secs}s)"
fi
}

# ---- isolation ----------------------------------------------------------------
vrdma_only 5 "isolation" && ktap_finish
for ct in c1_1 c2_2; do
	devs=$(ip netns exec "$ct" rdma dev 2>&1 | awk '{ sub(":", "", $2); print $2 }' | xargs)
	if [ "$devs" = "${DEV[$ct]}" ]; then
		ktap_ok "rdma dev in $ct lists ${DEV[$ct]} only"
	else
		ktap_fail "rdma dev in $ct lists ${DEV[$ct]} only (it lists: $devs)"
	fi
done
devs=$(ip netns exec c1_2 ibv_devices 2>&1 | awk 'NR > 2 { print $1 }' | xargs)
if [ "$devs" = vr1_2 ]; then
	ktap_ok "ibv_devices in c1_2 lists vr1_2 only"
else
	ktap_fail "ibv_devices in c1_2 lists vr1_2 only (it lists: $devs)"
fi
devs=$(rdma dev 2>&1 | awk '{ sub(":", "", $2); print $2 }' | xargs)
if [[ " $devs " != *" vr"* ]] && [[ " $devs " == *" rxe1 "* ]]; then
	ktap_ok "init_net sees no virtual device ($devs)"
else
	ktap_fail "init_net sees no virtual device (it sees: $devs)"
fi
if ! ls /sys/class/infiniband | grep -q '^vr' && ! ibv_devices 2>&1 | grep -q ' vr'; then
	ktap_ok "nor do sysfs and ibv_devices in init_net"
else
	ktap_fail "nor do sysfs and ibv_devices in init_net ($(ls /sys/class/infiniband | xargs))"
fi

ktap_finish
