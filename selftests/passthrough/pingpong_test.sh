#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs between containers through passthrough devices:
# the rdma-core examples, perftest (RC and SRQ), rdma_cm programs (rping,
# perftest -R), across hosts (c1_1 on rxe1 <-> c2_1 on rxe2, whose packets
# must cross the physical bridge) and on one host (c1_1 <-> c1_3, both on
# rxe1: through the RNIC's loopback).  UD
# programs fail at once with EOPNOTSUPP.  The overlay GIDs show in
# ibv_devinfo -v; vrdmactl shows the mode; rdma link add takes the mode of
# the module parameter default_mode.
#
#   h1 rxe1: c1_1 10.244.1.1 (vp1_1)  c1_3 10.244.1.3 (vp1_3)
#   h2 rxe2: c2_1 10.244.2.1 (vp2_1)
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/pt_lib.sh"
require_root

PORT=18515
TMO=120			# one program, seconds
N_PP=50
N_BW=200
N_LAT=200

for p in ibv_rc_pingpong ibv_ud_pingpong ibv_srq_pingpong ibv_uc_pingpong \
	 ib_write_bw ib_read_bw ib_send_bw ib_atomic_bw ib_write_lat \
	 ib_read_lat ib_send_lat rping ibv_devinfo; do
	command -v "$p" > /dev/null || { echo "# $p not installed"; exit "$KSFT_SKIP"; }
done

# make check runs a few programs (PT_FULL unset), make check-full every one
# both ways (pingpong_full_test.sh).
if [ -n "${PT_FULL:-}" ]; then
	PROGS=(
		"ibv_rc_pingpong -n $N_PP"
		"ibv_rc_pingpong -n $N_PP -e"
		"ibv_uc_pingpong -n $N_PP"
		"ibv_srq_pingpong -n $N_PP -q 4"
		"ib_write_bw -F -n $N_BW -s 65536"
		"ib_write_lat -F -n $N_LAT -s 8"
		"ib_read_bw -F -n $N_BW -s 65536"
		"ib_read_lat -F -n $N_LAT -s 8"
		"ib_send_bw -F -n $N_BW -s 65536"
		"ib_send_lat -F -n $N_LAT -s 8"
		"ib_atomic_bw -F -n $N_BW"
		"ib_write_bw -F -n $N_BW -s 65536 -R"
		"ib_send_lat -F -n $N_LAT -s 8 -R"
		"rping -C 20 -v"
	)
	SAME=("${PROGS[@]}")
else
	PROGS=(
		"ibv_rc_pingpong -n $N_PP -e"
		"ibv_srq_pingpong -n $N_PP -q 4"
		"ib_write_bw -F -n $N_BW -s 65536"
		"ib_read_lat -F -n $N_LAT -s 8"
		"ib_send_lat -F -n $N_LAT -s 8 -R"
	)
	SAME=(
		"ibv_rc_pingpong -n $N_PP"
		"ib_read_bw -F -n $N_BW -s 65536"
	)
fi

ktap_plan $((${#PROGS[@]} + ${#SAME[@]} + 2 + 4 + 3))

tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"

if ! pt_setup "1_1 2_1 1_3"; then
	ktap_fail "hosts, vrdma, three containers with passthrough devices"
	ktap_finish
fi
ktap_diag "GID indices: c1_1 ${GID[c1_1]} c1_3 ${GID[c1_3]} c2_1 ${GID[c2_1]}"
# The overlay neighbours answer before rdma_cm resolves them.
in_ct c1_1 ping -c 1 -W 5 "${ADDR[c2_1]}" > /dev/null
in_ct c1_1 ping -c 1 -W 5 "${ADDR[c1_3]}" > /dev/null

# A server is ready when its TCP port listens (ibverbs examples, perftest)
# or its rdma_cm ID listens (-R, rping: not in ss).
ready() {	# ready NS PID CM
	local ns=$1 pid=$2 cm=$3 i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2> /dev/null || return 1
		if [ "$cm" = 1 ]; then
			ip netns exec "$ns" rdma resource show cm_id 2>/dev/null |
				grep -q 'state LISTEN' && return 0
		else
			ip netns exec "$ns" ss -Hltn "sport = :$PORT" | grep -q . && return 0
		fi
		sleep 0.1
	done
	return 1
}

# run_prog SRV_CT CLI_CT PROG ARGS...: server then client, each on its
# container's device; sets srv_rc, cli_rc; succeeds when both exit 0.
run_prog() {
	local s=$1 c=$2 prog=$3 srv cli spid cm=0
	shift 3
	case "$prog" in
	rping)
		srv=(rping -s -a "${ADDR[$s]}" -p "$PORT" "$@")
		cli=(rping -c -a "${ADDR[$s]}" -p "$PORT" "$@")
		cm=1 ;;
	ib_*)
		srv=("$prog" -d "${DEV[$s]}" -x "${GID[$s]}" "$@")
		cli=("$prog" -d "${DEV[$c]}" -x "${GID[$c]}" "$@" "${ADDR[$s]}")
		[[ " $* " == *" -R "* ]] && cm=1 ;;
	*)
		srv=("$prog" -d "${DEV[$s]}" -g "${GID[$s]}" "$@")
		cli=("$prog" -d "${DEV[$c]}" -g "${GID[$c]}" "$@" "${ADDR[$s]}") ;;
	esac
	srv_rc=-1 cli_rc=-1
	ip netns exec "$s" timeout -k 5 "$TMO" "${srv[@]}" > "$tmp/srv.log" 2>&1 &
	spid=$!
	if ready "$s" "$spid" "$cm"; then
		ip netns exec "$c" timeout -k 5 "$TMO" "${cli[@]}" > "$tmp/cli.log" 2>&1
		cli_rc=$?
		[ "$cli_rc" -eq 0 ] || kill "$spid" 2> /dev/null
	else
		: > "$tmp/cli.log"
	fi
	wait "$spid"
	srv_rc=$?
	[ "$srv_rc" -eq 0 ] && [ "$cli_rc" -eq 0 ]
}

pair_diag() {
	ktap_diag "server exit $srv_rc:" "$(tail -n 6 "$tmp/srv.log")" \
		  "client exit $cli_rc:" "$(tail -n 6 "$tmp/cli.log")"
}

# ---- across hosts: c2_1 serves, c1_1 connects -------------------------------
for p in "${PROGS[@]}"; do
	read -r -a cmd <<< "$p"
	tx1=$(host_tx_packets 1) tx2=$(host_tx_packets 2)
	if run_prog c2_1 c1_1 "${cmd[@]}"; then
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

# ---- on one host: c1_3 serves, c1_1 connects (RNIC loopback) ------------------
for p in "${SAME[@]}"; do
	read -r -a cmd <<< "$p"
	tx1=$(host_tx_packets 1)
	if run_prog c1_3 c1_1 "${cmd[@]}"; then
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

# ---- UD: refused at once, with EOPNOTSUPP ---------------------------------------
start=$SECONDS
out=$(in_ct c1_1 timeout 30 ibv_ud_pingpong -d "${DEV[c1_1]}" -g "${GID[c1_1]}" -s 512 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "Couldn't create QP" <<< "$out" &&
   [ $((SECONDS - start)) -lt 20 ]; then
	ktap_ok "ibv_ud_pingpong fails at once: $(head -n 1 <<< "$out")"
else
	ktap_diag "exit $rc after $((SECONDS - start))s: $out"
	ktap_fail "ibv_ud_pingpong fails at once"
fi
if dmesg | tail -n 50 | grep -q "passthrough device: UD QPs are not supported"; then
	ktap_ok "the kernel log says why"
else
	ktap_fail "the kernel log says why (no 'UD QPs are not supported' line)"
fi

# ---- what the application sees ---------------------------------------------------
# ibv_devinfo -v: the GID table is the container's overlay addresses.
devinfo=$(in_ct c1_1 ibv_devinfo -v -d "${DEV[c1_1]}" 2>&1)
if grep -qi "GID\[ *${GID[c1_1]}\]:.*::ffff:${ADDR[c1_1]}" <<< "$devinfo" &&
   ! grep -qi "::ffff:10\.99\.0\." <<< "$devinfo"; then
	ktap_ok "ibv_devinfo -v shows the overlay GID ::ffff:${ADDR[c1_1]}, no host address"
else
	ktap_diag "$(grep -i gid <<< "$devinfo")"
	ktap_fail "ibv_devinfo -v shows the overlay GID ::ffff:${ADDR[c1_1]}, no host address"
fi
# The provider is the physical device's (rxe's) and binds: transport, state.
if grep -q "state:.*PORT_ACTIVE" <<< "$devinfo"; then
	ktap_ok "ibv_devinfo: the port is active"
else
	ktap_fail "ibv_devinfo: the port is active"
fi
mode=$("$VRDMACTL" -j dev show vp1_1 | jq -r '.[0].mode')
line=$("$VRDMACTL" dev show vp1_1)
if [ "$mode" = passthrough ] && grep -q "mode passthrough" <<< "$line"; then
	ktap_ok "vrdmactl dev show: mode passthrough (text and JSON)"
else
	ktap_diag "json: $mode" "text: $line"
	ktap_fail "vrdmactl dev show: mode passthrough (text and JSON)"
fi
if ! "$VRDMACTL" dev add vpx netns c1_1 netdev eth0 phys rxe1 mode fast 2> "$tmp/err"; then
	ktap_ok "dev add mode fast is refused: $(head -n 1 "$tmp/err")"
else
	"$VRDMACTL" dev del vpx
	ktap_fail "dev add mode fast is refused"
fi

# ---- rdma link add: the mode of default_mode ---------------------------------------
# (from the initial namespace, on a netdev of its own: a container cannot
# add itself a device, selftests/vdev/link_test.sh)
ip link add vxh type veth peer name vxhp
defer ip link del vxh
P=/sys/module/vrdma/parameters/default_mode
old=$(cat $P)
defer "echo $old > $P"
check_link_mode() {	# check_link_mode MODE
	local got
	echo "$1" > $P || return 1
	rdma link add vxh0 type vrdma netdev vxh || return 1
	got=$("$VRDMACTL" -j dev show vxh0 | jq -r '.[0].mode')
	"$VRDMACTL" dev del vxh0
	wait_for 10 bash -c '! [ -e /sys/class/infiniband/vxh0 ]'
	echo "# rdma link add with default_mode $1: $got"
	[ "$got" = "$1" ]
}
"$VRDMACTL" phys default rxe1
ktap_check "rdma link add: default_mode passthrough" check_link_mode passthrough
ktap_check "rdma link add: default_mode shadow" check_link_mode shadow
if ! echo fast > $P 2> /dev/null && [ "$(cat $P)" = shadow ]; then
	ktap_ok "default_mode refuses 'fast'"
else
	ktap_fail "default_mode refuses 'fast' (now $(cat $P))"
fi

ktap_finish
