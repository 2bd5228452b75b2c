#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Translation of virtual destinations (vrdma_map_resolve()) with real
# traffic between simulated hosts:
#
#   host 1 (rxe1, 10.99.0.1)              host 2 (rxe2, 10.99.0.2)
#     c1_1 10.244.1.1 vni A                 c2_1 10.244.2.1 vni A
#     c1_2 10.244.1.2 vni A                 c2_2 10.244.2.2 vni B
#
# RC and UD pingpong between hosts through map entries (the packets cross
# the physical bridge: rxe counters move), between containers of one host
# without any entry (RNIC loopback), and refusals that never reach the
# wire: a destination without entry, an entry of another vni.  KTAP
# output; exits 4 (skip) if vrdma or its virtual devices are unavailable.

vrdmactl_override=${VRDMACTL:-}
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/topo.sh"
VRDMACTL=${vrdmactl_override:-$VRDMACTL}

set -u

readonly VNI_A=100
readonly VNI_B=200
readonly PORT=18515
readonly ITERS=20

dev_of() { echo "vr_c$1_$2"; }

# Counter of a physical RNIC (rxe hw_counters).
rxe_sent() { cat "/sys/class/infiniband/$(host_dev "$1")/ports/1/hw_counters/sent_pkts"; }

setup() {
	local c h n vni

	modprobe rdma_rxe 2>/dev/null || { echo "SKIP no rdma_rxe"; return $KSFT_SKIP; }
	topo_hosts 2 > /dev/null || { echo "# topology setup failed"; return 1; }
	for c in "1 1 $VNI_A" "1 2 $VNI_A" "2 1 $VNI_A" "2 2 $VNI_B"; do
		read -r h n vni <<< "$c"
		topo_container "$h" "$n" > /dev/null || return 1
		if ! out=$("$VRDMACTL" dev add "$(dev_of "$h" "$n")" \
				netns "$(ct_name "$h" "$n")" netdev eth0 \
				phys "$(host_dev "$h")" vni "$vni" 2>&1); then
			if [[ "$out" =~ Operation\ not\ supported ]]; then
				echo "SKIP virtual devices not implemented yet"
				return $KSFT_SKIP
			fi
			echo "# dev add: $out"
			return 1
		fi
		defer "$VRDMACTL" dev del "$(dev_of "$h" "$n")"
		wait_for 10 gid_index "$(dev_of "$h" "$n")" "$(ct_addr "$h" "$n")" ||
			{ echo "# $(dev_of "$h" "$n") has no GID for $(ct_addr "$h" "$n")"; return 1; }
	done
	"$VRDMACTL" map add "$(ct_addr 1 1)" via "$(host_addr 1)" vni $VNI_A &&
	"$VRDMACTL" map add "$(ct_addr 1 2)" via "$(host_addr 1)" vni $VNI_A &&
	"$VRDMACTL" map add "$(ct_addr 2 1)" via "$(host_addr 2)" vni $VNI_A &&
	"$VRDMACTL" map add "$(ct_addr 2 2)" via "$(host_addr 2)" vni $VNI_B
}

# pingpong TOOL SERVER(H N) CLIENT(H N) [EXTRA ARGS]: run TOOL's server in
# container SERVER and its client in CLIENT; sets $srv_rc, $cli_rc, $log
# and $listened (the server got as far as listening).  Both sides are
# bounded in time.
pingpong() {
	local tool=$1 sh=$2 sn=$3 ch=$4 cn=$5 sgid cgid spid i
	shift 5

	sgid=$(gid_index "$(dev_of "$sh" "$sn")" "$(ct_addr "$sh" "$sn")")
	cgid=$(gid_index "$(dev_of "$ch" "$cn")" "$(ct_addr "$ch" "$cn")")
	timeout 30 ip netns exec "$(ct_name "$sh" "$sn")" "$tool" \
		-d "$(dev_of "$sh" "$sn")" -g "$sgid" -n $ITERS -p $PORT "$@" \
		> "$tmp/srv" 2>&1 &
	spid=$!
	listened=0
	for ((i = 0; i < 200; i++)); do
		if ip netns exec "$(ct_name "$sh" "$sn")" ss -Hltn "sport = :$PORT" | grep -q .; then
			listened=1
			break
		fi
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$listened" = 0 ]; then
		kill "$spid" 2>/dev/null
		wait "$spid"
		srv_rc=124 cli_rc=124
		log="$tool server never listened: $(cat "$tmp/srv")"
		return
	fi
	timeout 20 ip netns exec "$(ct_name "$ch" "$cn")" "$tool" \
		-d "$(dev_of "$ch" "$cn")" -g "$cgid" -n $ITERS -p $PORT "$@" \
		"$(ct_addr "$sh" "$sn")" > "$tmp/cli" 2>&1
	cli_rc=$?
	[ "$cli_rc" -eq 0 ] || kill "$spid" 2>/dev/null
	wait "$spid"
	srv_rc=$?
	log=$(printf '%s server (rc %s):\n%s\nclient (rc %s):\n%s' "$tool" \
		"$srv_rc" "$(cat "$tmp/srv")" "$cli_rc" "$(cat "$tmp/cli")")
}

# Passes when both sides succeed and host H's RNIC sent packets.
expect_traffic() {
	local tool=$1 h=$2 before after
	shift 2

	before=$(rxe_sent "$h")
	pingpong "$tool" "$@"
	after=$(rxe_sent "$h")
	if [ "$srv_rc" -ne 0 ] || [ "$cli_rc" -ne 0 ]; then
		ktap_diag "$log"
		return 1
	fi
	if [ "$after" -le "$before" ]; then
		ktap_diag "rxe$h sent_pkts did not move ($before -> $after)"
		return 1
	fi
}

# Passes when the client fails and neither RNIC sent a packet.
expect_refused() {
	local tool=$1 b1 b2
	shift

	b1=$(rxe_sent 1)
	b2=$(rxe_sent 2)
	pingpong "$tool" "$@"
	if [ "$listened" = 0 ]; then
		ktap_diag "$log"
		return 1
	fi
	if [ "$cli_rc" -eq 0 ]; then
		ktap_diag "the client succeeded" "$log"
		return 1
	fi
	if [ "$(rxe_sent 1)" -ne "$b1" ] || [ "$(rxe_sent 2)" -ne "$b2" ]; then
		ktap_diag "packets were sent: rxe1 $b1 -> $(rxe_sent 1), rxe2 $b2 -> $(rxe_sent 2)" "$log"
		return 1
	fi
}

require_root
# shellcheck disable=SC2119 # no module parameters
vrdma_load > /dev/null 2>&1
if ! module_loaded vrdma || ! command -v ibv_rc_pingpong > /dev/null; then
	echo "TAP version 13"
	echo "1..0 # SKIP needs the vrdma module and ibv_rc_pingpong"
	exit "$KSFT_SKIP"
fi

tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"

# In this shell: its deferred cleanup must run at exit.
setup > "$tmp/setup" 2>&1
ret=$?
result=$(cat "$tmp/setup")
if [ "$ret" -eq "$KSFT_SKIP" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP ${result##*SKIP }"
	exit "$KSFT_SKIP"
fi
ktap_plan 7
if [ "$ret" -ne 0 ]; then
	printf '%s\n' "$result"
	echo "Bail out! setup failed"
	exit 1
fi

# RC between hosts: both directions are resolved through the map.
if expect_traffic ibv_rc_pingpong 1 2 1 1 1; then
	ktap_ok "rc between hosts through the map"
else
	ktap_fail "rc between hosts through the map"
fi

# UD: address handles are resolved the same way.
if expect_traffic ibv_ud_pingpong 2 2 1 1 1; then
	ktap_ok "ud between hosts through the map"
else
	ktap_fail "ud between hosts through the map"
fi

# Containers of one host: local, no entry needed, the RNIC loops back.
"$VRDMACTL" map del "$(ct_addr 1 1)" vni $VNI_A
"$VRDMACTL" map del "$(ct_addr 1 2)" vni $VNI_A
pingpong ibv_rc_pingpong 1 1 1 2
if [ "$srv_rc" -eq 0 ] && [ "$cli_rc" -eq 0 ]; then
	ktap_ok "rc between containers of one host (local, loopback)"
else
	ktap_diag "$log"
	ktap_fail "rc between containers of one host (local, loopback)"
fi
"$VRDMACTL" map add "$(ct_addr 1 1)" via "$(host_addr 1)" vni $VNI_A

# The client's destination is not mapped: its modify_qp fails, nothing
# reaches the wire (the server, which resolves the client, may connect).
"$VRDMACTL" map del "$(ct_addr 2 1)" vni $VNI_A
if expect_refused ibv_rc_pingpong 2 1 1 1; then
	ktap_ok "rc to an unmapped destination is refused"
else
	ktap_fail "rc to an unmapped destination is refused"
fi
if expect_refused ibv_ud_pingpong 2 1 1 1; then
	ktap_ok "ud to an unmapped destination is refused"
else
	ktap_fail "ud to an unmapped destination is refused"
fi

# The destination is mapped, in another vni only (the server, of that
# vni, is given an entry for the client so that only the client's side
# is refused).
"$VRDMACTL" map add "$(ct_addr 1 1)" via "$(host_addr 1)" vni $VNI_B
if expect_refused ibv_rc_pingpong 2 2 1 1; then
	ktap_ok "rc to a destination of another vni is refused"
else
	ktap_fail "rc to a destination of another vni is refused"
fi

# Mapped again: traffic flows again (no stale state).
"$VRDMACTL" map add "$(ct_addr 2 1)" via "$(host_addr 2)" vni $VNI_A
if expect_traffic ibv_rc_pingpong 1 2 1 1 1; then
	ktap_ok "rc after the entry is added back"
else
	ktap_fail "rc after the entry is added back"
fi

"$VRDMACTL" map del "$(ct_addr 1 1)" vni $VNI_A
"$VRDMACTL" map del "$(ct_addr 1 1)" vni $VNI_B
"$VRDMACTL" map del "$(ct_addr 1 2)" vni $VNI_A 2>/dev/null
"$VRDMACTL" map del "$(ct_addr 2 1)" vni $VNI_A
"$VRDMACTL" map del "$(ct_addr 2 2)" vni $VNI_B
ktap_finish
