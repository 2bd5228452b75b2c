# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the verbs selftests.  Source after lib.sh and topo.sh.

VERBS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERBS_TEST=$VERBS_DIR/verbs_test

# The tests run again through an IPv6 GID: those where the address family
# matters (addresses, GRH) and a sample of the data path.
V6_TESTS=(-t query_gid -t query_qp -t send_recv -t rdma_write -t rdma_read
	  -t atomic_fetch_and_add -t ud_send_recv_grh -t ud_wrong_qkey_dropped
	  -t srq_many_qps -t qp_connected_to_itself -t err_write_bad_rkey)

require_verbs_test() {
	[ -x "$VERBS_TEST" ] && return 0
	echo "# $VERBS_TEST is not built (make -C selftests)"
	exit "$KSFT_SKIP"
}

# host_self_local H: traffic from host H to its own address stays local, as
# on a real machine.  topo.sh's per-host rules (oif hH -> table 100+H) send
# it out of hH instead, where nobody answers ARP for it: address
# resolution of a QP or AH to the device's own GID then times out
# (ETIMEDOUT), and rxe loops a packet back only when its destination MAC
# is its own.
host_self_local() {
	local h=$1
	# A test killed by its timeout leaves its rule behind.
	ip rule del pref $((5 + h)) 2> /dev/null
	ip rule add pref $((5 + h)) to "$(host_addr "$h")" lookup local || return 1
	defer ip rule del pref $((5 + h))
}

# run_in NETNS CMD...: CMD in network namespace NETNS ("" = here).
run_in() {
	local ns=$1
	shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# rdma_counts [NETNS] DEV: "pd N cq N qp N mr N ctx N srq N" of a device,
# as "rdma resource show" reports them (empty when it cannot).
rdma_counts() {
	local ns=$1 dev=$2
	run_in "$ns" rdma resource show 2>/dev/null |
		sed -n "s/^[0-9]*: *$dev: *//p" |
		awk '{ for (i = 1; i < NF; i += 2)
			if ($i ~ /^(pd|cq|qp|mr|ctx|srq)$/) printf "%s %s ", $i, $(i + 1) }'
}

# wait_counts NETNS DEV EXPECTED: wait up to 10 s for the counts.
wait_counts() {
	local ns=$1 dev=$2 want=$3 end=$((SECONDS + 10))
	while [ "$(rdma_counts "$ns" "$dev")" != "$want" ]; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# listening NS PORT PID: wait until the server PID listens on TCP PORT in
# NS (up to 30 s); fails at once if it exits first.
listening() {
	local ns=$1 port=$2 pid=$3 i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2> /dev/null || return 1
		ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# gid_of DEV INDEX [NETNS]: the GID at INDEX in IPv6 notation.
gid_of() {
	local raw
	raw=$(run_in "${3:-}" cat "/sys/class/infiniband/$1/ports/1/gids/$2" 2>/dev/null) || return 1
	/usr/bin/python3 -c 'import ipaddress,sys; a = ipaddress.IPv6Address(sys.argv[1]); print("::ffff:%s" % a.ipv4_mapped if a.ipv4_mapped else a)' "$raw"
}

# run_verbs_test NETNS DEV GID_INDEX NETDEV VRDMA TIMEOUT [verbs_test args]:
# runs verbs_test (its output as KTAP diagnostics); returns its status.
run_verbs_test() {
	local ns=$1 dev=$2 idx=$3 netdev=$4 vrdma=$5 tmo=$6 gid rc
	shift 6
	gid=$(gid_of "$dev" "$idx" "$ns")
	echo "# verbs_test on $dev${ns:+ in $ns}: GID $idx ($gid, $netdev), VERBS_VRDMA=$vrdma"
	run_in "$ns" env VERBS_DEV="$dev" VERBS_GID_INDEX="$idx" VERBS_EXPECT_GID="$gid" \
		VERBS_EXPECT_NETDEV="$netdev" VERBS_VRDMA="$vrdma" \
		timeout -k 10 "$tmo" "$VERBS_TEST" "$@" 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] && echo "# verbs_test timed out after ${tmo}s"
	return "$rc"
}

# ---- vrdma set-up ----------------------------------------------------------

# netns_exclusive: put ib_core in exclusive network namespace mode, where a
# device belongs to one namespace (it must be set before any namespace
# exists).  Prints why and returns 1 when it cannot be set.  The previous
# mode is restored on exit, once the test's namespaces are gone.
netns_exclusive() {
	local mode
	modprobe ib_core && modprobe ib_uverbs || { echo "# cannot load ib_core/ib_uverbs"; return 1; }
	mode=$(rdma system show 2>/dev/null | sed -n 's/.*netns \([a-z]*\).*/\1/p')
	[ "$mode" = exclusive ] && return 0
	if [ "$mode" != shared ]; then
		echo "# 'rdma system show' does not say the netns mode: $(rdma system show 2>&1)"
		return 1
	fi
	if ! rdma system set netns exclusive 2>/dev/null; then
		echo "# cannot set 'rdma system set netns exclusive' (namespaces exist already:" \
			"$(ip netns list | awk '{ printf "%s ", $1 }'))"
		return 1
	fi
	defer netns_shared_restore
}

netns_shared_restore() {
	local i
	for ((i = 0; i < 300; i++)); do
		rdma system set netns shared 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# cannot restore shared netns mode (namespaces left:" \
		"$(ip netns list | awk '{ printf "%s ", $1 }'))"
	return 1
}

# ct_gid_index CT DEV ADDR: GID index of ADDR on DEV, seen from container CT.
ct_gid_index() {
	in_ct "$1" bash -c "$(declare -f gid_index); gid_index $2 $3"
}

# vdev_add NAME CT H [VNI]: virtual device NAME for container CT on host H's
# RNIC (of mode $VDEV_MODE when set); waits until the container sees it
# with a GID of its IPv4 address.
vdev_add() {
	local name=$1 ct=$2 h=$3 vni=${4:-0} addr
	addr=$(in_ct "$ct" ip -4 -o addr show dev eth0 | awk '{ sub("/.*", "", $4); print $4 }')
	"$VRDMACTL" dev add "$name" netns "$ct" netdev eth0 phys "$(host_dev "$h")" vni "$vni" \
		${VDEV_MODE:+mode "$VDEV_MODE"} || return 1
	defer "$VRDMACTL" dev del "$name"
	wait_for 20 ct_gid_index "$ct" "$name" "$addr" ||
		{ echo "# $name: no RoCE v2 GID of $addr in $ct"; return 1; }
}

# map_add ADDR H [VNI]: overlay ADDR lives behind host H.
map_add() {
	"$VRDMACTL" map add "$1" via "$(host_addr "$2")" vni "${3:-0}" || return 1
	defer "$VRDMACTL" map del "$1" vni "${3:-0}"
}
