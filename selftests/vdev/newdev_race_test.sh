#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DEV_NEW racing with the removal of its physical device:
#
#   c1_1 -- vrr (created) -- rxer (a soft-RoCE device on veth rv0, removed)
#
# 10 timed rounds: "vrdmactl dev add vrr ... phys rxer" and "rdma link del
# rxer" start together, the removal a little later each round (0 to
# 290 ms, evenly spread).  Then 20 triggered rounds: an "rdma -b" (batch) already running
# (its netlink socket open) is given "link del rxer" the moment
# /sys/class/infiniband/vrr appears, i.e. while ib_register_device() is
# still setting up vrr's port attributes and before it adds the clients:
# the window in which a device is on vrdma's list but not yet registered.
# (The timed rounds alone did not show the bug on the code before its fix
# in 30 rounds; see Documentation/security.rst.)  Whichever wins, no
# virtual device may outlive its physical device: a device being
# registered when its RNIC goes away must not stay, alive, on the removed
# RNIC.  The kernel log must stay clean.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

# NEWDEV_ROUNDS / NEWDEV_TRIGGERED: more rounds, outside make check.
ROUNDS=${NEWDEV_ROUNDS:-10}
TRIGGERED=${NEWDEV_TRIGGERED:-20}
TOOL=$(cd "$(dirname "$0")" && pwd)/vdev_tool

ktap_plan 3
topo_hosts 1 && vrdma_load || { echo "Bail out! setup"; exit 1; }
topo_container 1 1 > /dev/null
ip link del rv0 2> /dev/null
ip link add rv0 type veth peer name rv0p || { echo "Bail out! veth"; exit 1; }
defer ip link del rv0
ip addr add 10.99.5.1/24 dev rv0
ip link set rv0 up
ip link set rv0p up
defer "$VRDMACTL" dev del vrr
defer rdma link del rxer

exists() { [ -e "/sys/class/infiniband/$1" ]; }
# fifo_open_by PID: process PID has $FIFO open.
fifo_open_by() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = "$FIFO" ] && return 0
	done
	return 1
}
# The kernel log is the VM's: only what this test adds is judged here.
klog_start=$(dmesg | wc -l)
created=0 survived=0 usable=0 triggered=0
FIFO=/tmp/newdev.fifo
for ((i = 0; i < ROUNDS + TRIGGERED; i++)); do
	rdma link add rxer type rxe netdev rv0 || { echo "Bail out! rxer"; exit 1; }
	wait_for 10 gid_index rxer 10.99.5.1 || { echo "Bail out! rxer has no GID"; exit 1; }
	if [ "$i" -lt "$ROUNDS" ]; then
		"$VRDMACTL" dev add vrr netns c1_1 netdev eth0 phys rxer > /tmp/newdev.log 2>&1 &
		apid=$!
		# Not a wait: the offset of this round's race (0 to 290 ms,
		# evenly spread over the rounds).
		sleep "$(printf '0.%03d' $(((i * 290 / ROUNDS) % 1000)))"
		rdma link del rxer
	else
		rm -f $FIFO; mkfifo $FIFO
		# (-b: getopt reads "-batch" as -b with the file "atch")
		rdma -b $FIFO &
		rpid=$!
		# Read-write: the open does not wait for the reader (rdma).
		exec {wfd}<> $FIFO
		# rdma must hold the FIFO before this side closes it, or what
		# was written is lost with the pipe and rdma waits forever.
		if ! wait_for 20 fifo_open_by $rpid; then
			echo "Bail out! rdma -b did not open $FIFO"
			exit 1
		fi
		"$VRDMACTL" dev add vrr netns c1_1 netdev eth0 phys rxer > /tmp/newdev.log 2>&1 &
		apid=$!
		# Not a sleep: spin (shell builtins only) until vrr appears or
		# its DEV_NEW has returned.
		until [ -e /sys/class/infiniband/vrr ] || ! kill -0 $apid 2> /dev/null; do :; done
		[ -e /sys/class/infiniband/vrr ] && triggered=$((triggered + 1))
		echo "link del rxer" >&$wfd
		exec {wfd}>&-
		wait $rpid
	fi
	wait $apid && created=$((created + 1))
	# The removal unregisters a device it found asynchronously.
	if wait_for 10 bash -c '! [ -e /sys/class/infiniband/vrr ]'; then
		continue
	fi
	survived=$((survived + 1))
	ktap_diag "round $i: vrr outlived rxer: $("$VRDMACTL" dev show vrr 2>&1)"
	# What a tenant would do with it.
	out=$(in_ct c1_1 timeout 30 "$TOOL" objects vrr pd 1 2>&1) && [ "$out" = "created 1 errno 0" ] &&
		usable=$((usable + 1))
	"$VRDMACTL" dev del vrr
	wait_for 10 bash -c '! [ -e /sys/class/infiniband/vrr ]'
done
ktap_diag "$created of $((ROUNDS + TRIGGERED)) creations succeeded;" \
	"the removal started with vrr in sysfs in $triggered of $TRIGGERED triggered rounds"
[ "$survived" = 0 ] && ktap_ok "no device outlived its physical device" ||
	ktap_fail "no device outlived its physical device ($survived of $((ROUNDS + TRIGGERED)) rounds)"
[ "$usable" = 0 ] && ktap_ok "no verb ran on a removed physical device" ||
	ktap_fail "no verb ran on a removed physical device ($usable times)"
klog=$(dmesg | tail -n +$((klog_start + 1)))
oops=$(grep -cE 'BUG:|Oops|general protection|WARNING:' <<< "$klog")
[ "$oops" = 0 ] && ktap_ok "no oops or warning" ||
	{ ktap_diag "$(grep -A5 -E 'BUG:|Oops|WARNING:' <<< "$klog" | head -n 30)"; ktap_fail "no oops or warning"; }

ktap_finish
