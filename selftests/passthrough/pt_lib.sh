# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the passthrough selftests.  Source after lib.sh; sources
# topo.sh and ../verbs/verbs_lib.sh.
#
#   h1 10.99.0.1 rxe1: c1_1 10.244.1.1 (vp1_1)   c1_2 10.244.1.2 (vp1_2, vni 7)
#   h2 10.99.0.2 rxe2: c2_1 10.244.2.1 (vp2_1)   c2_2 10.244.2.2 (vp2_2, vni 7)
#
# Every device is a passthrough device (VDEV_MODE); the address map holds
# every container.
. "$LIB_DIR/topo.sh"
. "$LIB_DIR/../verbs/verbs_lib.sh"

PT_TOOL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pt_tool
export VDEV_MODE=passthrough
export PT_DIR=/tmp/vrdma-pt

declare -A DEV GID ADDR VNI BASE

require_pt_tool() {
	[ -x "$PT_TOOL" ] && return 0
	echo "# $PT_TOOL is not built (make -C selftests)"
	exit "$KSFT_SKIP"
}

# pt_ct H N [VNI]: container cH_N with its passthrough device vpH_N.
pt_ct() {
	local ct dev
	ct=$(ct_name "$1" "$2")
	dev=vp$1_$2
	topo_container "$1" "$2" > /dev/null || return 1
	ADDR[$ct]=$(ct_addr "$1" "$2")
	VNI[$ct]=${3:-0}
	vdev_add "$dev" "$ct" "$1" "${3:-0}" || return 1
	DEV[$ct]=$dev
	GID[$ct]=$(ct_gid_index "$ct" "$dev" "${ADDR[$ct]}")
	# ib_mad's kernel PD, CQs and QP (the emulated QP1) stay.
	BASE[$ct]=$(rdma_counts "$ct" "$dev")
	map_add "${ADDR[$ct]}" "$1" "${3:-0}"
}

# pt_setup [CONTAINERS...]: hosts 1 and 2, vrdma, exclusive netns mode, the
# containers (default: c1_1 c2_1 c1_2/vni 7 c2_2/vni 7).  A host's traffic
# to its own address stays local (ib_core resolves a passthrough QP's
# physical destination as it does for the host's own QPs).
pt_setup() {
	local spec h n v
	netns_exclusive || return 1
	vrdma_load || return 1
	topo_hosts 2 && host_self_local 1 && host_self_local 2 || return 1
	rm -rf "$PT_DIR"
	mkdir -p "$PT_DIR"
	defer rm -rf "$PT_DIR"
	for spec in "${@:-1_1 2_1 1_2/7 2_2/7}"; do
		for spec in $spec; do
			h=${spec%%_*} n=${spec#*_} v=0
			[[ $n == */* ]] && { v=${n#*/}; n=${n%/*}; }
			pt_ct "$h" "$n" "$v" || { echo "# container c${h}_$n"; return 1; }
		done
	done
}

# pt_counts CT: the container's device's "pd N cq N qp N mr N ctx N srq N".
pt_counts() { rdma_counts "$1" "${DEV[$1]}"; }

# pt_released CT: within 10 s, the device has only the objects it had when
# it was created (no process's object is left).
pt_released() { wait_counts "$1" "${DEV[$1]}" "${BASE[$1]}"; }
