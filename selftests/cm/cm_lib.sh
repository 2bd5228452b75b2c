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

# cm_wait_exit PID SECONDS: wait until PID (a child) exits, without a
# process per poll (each costs about 130 ms under emulation): /proc and
# read -t.  Returns 1 if it still runs after SECONDS.
exec {cm_tick}<> <(:)
cm_wait_exit() {
	local i stat
	for ((i = 0; i < $2 * 20; i++)); do
		read -r stat 2> /dev/null < "/proc/$1/stat" || return 0
		stat=${stat##*) }
		[ "${stat:0:1}" = Z ] && return 0
		read -r -t 0.05 -u "$cm_tick" || :
	done
	return 1
}

# The descendants of a process, one per line.
cm_descendants() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2> /dev/null); do
		echo "$c"
		cm_descendants "$c"
	done
}

# cm_hang_diag PID [CT...]: where PID and its descendants wait (their
# threads' kernel stacks), what the devices of the containers CT hold
# (QPs with their physical ones, counters), and the host's RNICs.
cm_hang_diag() {
	local p t ct
	for p in "$1" $(cm_descendants "$1"); do
		for t in /proc/"$p"/task/*; do
			[ -e "$t" ] || continue
			ktap_diag "$p/${t##*/} $(cat "$t/comm" 2> /dev/null):" \
				"$(cat "$t/stack" 2> /dev/null)"
		done
	done
	shift
	for ct in "$@"; do
		ktap_diag "$ct QPs: $(in_ct "$ct" rdma -dd resource show qp 2>&1)" \
			"$ct counters: $(in_ct "$ct" rdma statistic show 2>&1)"
	done
	[ $# -eq 0 ] ||
		ktap_diag "host QPs: $(rdma resource show qp 2>&1)" \
			"host counters: $(rdma statistic show 2>&1)"
}
