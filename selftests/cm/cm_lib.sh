# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the cm selftests.  Source after lib.sh and topo.sh.

# cm_two_hosts: container c1_1 (vr11 on rxe1, host 1) and c2_1 (vr21 on
# rxe2, host 2), both overlay addresses of each mapped, neighbours known.
cm_two_hosts() {
	local h
	topo_hosts 2 || return 1
	vrdma_load || return 1
	modprobe rdma_ucm || return 1
	for h in 1 2; do
		topo_container "$h" 1 > /dev/null || return 1
		"$VRDMACTL" dev add "vr${h}1" netns "c${h}_1" netdev eth0 phys "rxe$h" ||
			return 1
		defer "$VRDMACTL" dev del "vr${h}1"
		"$VRDMACTL" map add "$(ct_addr "$h" 1)" via "$(host_addr "$h")" || return 1
		"$VRDMACTL" map add "$(ct_addr6 "$h" 1)" via "$(host_addr "$h")" || return 1
	done
	in_ct c1_1 ping -c 1 -W 5 "$(ct_addr 2 1)" > /dev/null
	in_ct c1_1 ping -6 -c 1 -W 5 "$(ct_addr6 2 1)" > /dev/null
	return 0
}

# cm_state CT STATE: an rdma_cm ID of container CT is in STATE;
# cm_listening CT: one listens (rdma_cm listeners do not show in ss, but
# ib_core's resource tracking lists them).
cm_state() { in_ct "$1" rdma resource show cm_id | grep -q "state $2 "; }
cm_listening() { cm_state "$1" LISTEN; }
