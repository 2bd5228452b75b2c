#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# RDMA-aware wake: ibv_rc_pingpong between containers on two simulated
# hosts, the server's host asleep.  The client's transition to RTR
# resolves the server's overlay address to host 2's RNIC address, which
# host 1's sleep domain knows to be asleep: the module emits a
# wake-needed event and waits; host 1's daemon wakes host 2 (magic
# packet); host 2 resumes and announces itself; the module lets the
# client proceed, and the ping-pong completes.  When host 2 cannot wake,
# the client fails with EHOSTDOWN after the configured wake timeout.  An
# rping (rdma_cm) to the sleeping host wakes it too: its connection
# request MAD is dropped while the host sleeps and raises wake-needed.
#
#   RDMA ("physical") network, init_net:   h1 10.99.0.1 rxe1   h2 10.99.0.2 rxe2
#   containers:                           c1_1 (vr1_1, on rxe1) c2_1 (vr2_1, on rxe2)
#   sleep group (namespaces on slp-br):   s1 (host 1)  s2 (host 2)  s3 (manager only)
#
# Host 2's simulated sleep freezes the processes of s2 and drops all of
# h2's and s2's traffic but magic packets (its sleep hook adds tc rules on
# h2 in init_net).  The containers' processes are not frozen: the overlay
# bridge of the test topology stands for an overlay network that stays up.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }
for p in ibv_rc_pingpong rping; do
	command -v $p > /dev/null || { echo "# $p not installed"; exit "$KSFT_SKIP"; }
done

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
PORT=18515
H2DROP="nsenter --net=/proc/1/ns/net tc"

ktap_plan 14

snet_reset
topo_reset
vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
netns_exclusive || exit "$KSFT_SKIP"
if ! topo_hosts 2 || ! topo_container 1 1 > /dev/null || ! topo_container 2 1 > /dev/null ||
   ! vdev_add vr1_1 c1_1 1 || ! vdev_add vr2_1 c2_1 2 ||
   ! map_add "$(ct_addr 1 1)" 1 || ! map_add "$(ct_addr 2 1)" 2; then
	ktap_fail "two RDMA hosts, two containers with vrdma devices, address map"
	ktap_finish
fi
defer "tc qdisc del dev h2 clsact 2>/dev/null"
G1=$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")
G2=$(ct_gid_index c2_1 vr2_1 "$(ct_addr 2 1)")

# Host 2's RNIC goes quiet with it (hooks of its simulated sleep).
cat > "$D/h2-sleep" <<EOF
#!/bin/sh
$H2DROP qdisc replace dev h2 clsact &&
$H2DROP filter add dev h2 ingress matchall action drop &&
$H2DROP filter add dev h2 egress matchall action drop
EOF
printf '#!/bin/sh\n%s qdisc del dev h2 clsact\n' "$H2DROP" > "$D/h2-wake"
chmod +x "$D/h2-sleep" "$D/h2-wake"

snet_bridge && snet_host s1 1 && snet_host s2 2 && snet_host s3 3 ||
	{ ktap_fail "sleep group namespaces"; ktap_finish; }
# s1's activity window is the daemon's default (60 s), not the tests' 5 s:
# "activity keeps host 1 awake" asks it to sleep after the rping and a
# wait for s2, which take longer than 5 s on a slow VM.  Its wake timeout
# is 10 s: a wake (magic packet, resume delay 1 s, s2's wake hook and thaw,
# its announcement) took up to 4.3 s on 6.1 under load.
sleepd_start s1 1 "$D" "
[sleep]
rdma-addresses = $(host_addr 1)
overlay-addresses = $(ct_addr 1 1)
activity-window = 60
[kernel]
phys = rxe1
wake-timeout = 10" &&
sleepd_start s2 2 "$D" "
[sleep]
rdma-addresses = $(host_addr 2)
overlay-addresses = $(ct_addr 2 1)
activity-window = 1
[kernel]
phys = rxe2
[test]
sleep-hook = $D/h2-sleep
wake-hook = $D/h2-wake" &&
sleepd_start s3 3 "$D" || { ktap_diag "$(cat "$D"/*.err "$D"/*.log 2>/dev/null)"; ktap_fail "daemons start"; ktap_finish; }
wait_for 15 sleepd_all_awake "$D" s1 s2 s3 || { ktap_fail "daemons see each other"; ktap_finish; }

# pingpong N: server in c2_1, client in c1_1; sets cli_rc, srv_rc, secs.
pingpong() {
	local n=$1 spid start
	ip netns exec c2_1 timeout 90 ibv_rc_pingpong -d vr2_1 -g "$G2" -n "$n" > "$D/srv.log" 2>&1 &
	spid=$!
	wait_for 20 bash -c "ip netns exec c2_1 ss -Hltn 'sport = :$PORT' | grep -q ."
	start=$(date +%s%N)
	ip netns exec c1_1 timeout 60 ibv_rc_pingpong -d vr1_1 -g "$G1" -n "$n" \
		"$(ct_addr 2 1)" > "$D/cli.log" 2>&1
	cli_rc=$?
	secs=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$cli_rc" -eq 0 ] || { sleep 1; kill "$spid" 2>/dev/null; }
	wait "$spid"
	srv_rc=$?
}
pp_diag() {
	ktap_diag "client exit $cli_rc: $(tail -n 3 "$D/cli.log")" "server exit $srv_rc: $(tail -n 3 "$D/srv.log")"
}

pingpong 5
if [ "$cli_rc" -eq 0 ] && [ "$srv_rc" -eq 0 ]; then
	ktap_ok "ibv_rc_pingpong c1_1 -> c2_1 while host 2 is awake (${secs} ms)"
else
	pp_diag; ktap_fail "ibv_rc_pingpong while host 2 is awake"
fi

# ---- host 2 sleeps --------------------------------------------------------------
sleep 1.5	# out of its activity window (1 s)
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
if wait_for 10 manager_of "$D" s2 s1 s3 &&
   wait_for 5 bash -c "ip netns exec s1 '$VRDMACTL' sleep peer show | grep -q '^$(snet_addr 2) name s2 state asleep.*$(host_addr 2)'"; then
	ktap_ok "host 2 sleeps, managed by $(manager_of "$D" s2 s1 s3); host 1's module knows its RNIC address asleep"
else
	ktap_diag "$(ip netns exec s1 "$VRDMACTL" sleep peer show)"
	ktap_fail "host 2 sleeps and host 1's module knows"
	ktap_finish
fi
if ! ip netns exec c1_1 ping -c 1 -W 1 "$(host_addr 2)" > /dev/null 2>&1 &&
   [ "$(tc -s filter show dev h2 ingress | grep -c 'action drop')" -ge 1 ]; then
	ktap_ok "host 2's RNIC is unreachable while it sleeps"
else
	ktap_fail "host 2's RNIC is unreachable while it sleeps"
fi

# ---- an RDMA connection to a container on it wakes it --------------------------
pingpong 20
if [ "$cli_rc" -eq 0 ] && [ "$srv_rc" -eq 0 ]; then
	ktap_ok "ibv_rc_pingpong to the sleeping host's container completes (${secs} ms, resume delay 1000 ms)"
else
	pp_diag; ktap_fail "ibv_rc_pingpong to the sleeping host's container completes"
fi
if log_has s1 "$D" wake-needed && log_has s1 "$D" wake reason rdma-connect &&
   log_has s2 "$D" magic-packet && log_has s2 "$D" resume; then
	ktap_ok "the module asked host 1's daemon (wake-needed), which woke host 2"
else
	ktap_fail "the module asked host 1's daemon (wake-needed), which woke host 2"
fi
out=$(ip netns exec s1 "$VRDMACTL" -j sleep peer show "$(snet_addr 2)")
waits=$(json_get "$out" '.[0].waits')
if [ "${waits:-0}" -ge 1 ] && [ "$(json_get "$out" '.[0].wait_timeouts')" = 0 ]; then
	ktap_ok "the client's connection set-up waited ($waits), without timing out"
else
	ktap_diag "$out"; ktap_fail "the client's connection set-up waited"
fi
wait_for 5 bash -c "[ \"\$(tc filter show dev h2 ingress 2>/dev/null)\" = '' ]"
ktap_check "host 2 is awake again for everyone" \
	wait_for 5 bash -c "ip netns exec s3 '$VRDMACTL' sleep peer show | grep -q '^$(snet_addr 2) name s2 state awake'"

# ---- an rdma_cm connection wakes it too ------------------------------------------
# The connection request is a MAD through the module's tunnel: the module
# drops it while host 2 sleeps (as the sleeping host's wire would), emits
# wake-needed, and ib_cm's retransmission reaches host 2 once it is awake.
sleep 1.5
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
wait_for 10 bash -c "ip netns exec s1 '$VRDMACTL' sleep peer show | grep -q '^$(snet_addr 2) name s2 state asleep'"
ev0=$(json_get "$(ip netns exec s1 "$VRDMACTL" -j sleep peer show "$(snet_addr 2)")" '.[0].events')
ip netns exec c2_1 timeout 90 rping -s -a "$(ct_addr 2 1)" -p 7471 -C 5 -v > "$D/rps.log" 2>&1 &
spid=$!
sleep 1
start=$(date +%s%N)
ip netns exec c1_1 timeout 60 rping -c -a "$(ct_addr 2 1)" -p 7471 -C 5 -v > "$D/rpc.log" 2>&1
cli_rc=$?
secs=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$cli_rc" -eq 0 ] || kill "$spid" 2>/dev/null
wait "$spid"
srv_rc=$?
ev1=$(json_get "$(ip netns exec s1 "$VRDMACTL" -j sleep peer show "$(snet_addr 2)")" '.[0].events')
if [ "$cli_rc" -eq 0 ] && [ "$srv_rc" -eq 0 ] && [ "$(grep -c 'ping data' "$D/rpc.log")" -eq 5 ]; then
	ktap_ok "rping -v (rdma_cm) to the sleeping host's container completes (${secs} ms)"
else
	ktap_diag "client exit $cli_rc: $(tail -n 3 "$D/rpc.log")" "server exit $srv_rc: $(tail -n 3 "$D/rps.log")"
	ktap_fail "rping -v (rdma_cm) to the sleeping host's container completes"
fi
if [ "${ev1:-0}" -gt "${ev0:-0}" ] && [ "$(log_count s2 "$D" resume)" -ge 2 ]; then
	ktap_ok "its connection request raised wake-needed (events $ev0 -> $ev1) and host 2 resumed"
else
	ktap_fail "its connection request raised wake-needed (events $ev0 -> $ev1) and host 2 resumed"
fi
wait_for 10 bash -c "ip netns exec s1 '$VRDMACTL' sleep peer show | grep -q '^$(snet_addr 2) name s2 state awake'"

# ---- activity keeps host 1 awake -------------------------------------------------
"$VRDMACTL" sleep request sleep socket "$D/s1.sock" > /dev/null
if wait_for 5 log_has s1 "$D" sleep-refused reason "RDMA traffic in the activity window"; then
	ktap_ok "host 1 refuses to sleep: RDMA traffic in its activity window"
else
	ktap_fail "host 1 refuses to sleep: RDMA traffic in its activity window ($(sleepd_q s1 "$D" .self.last_refusal))"
fi
act=$(ip netns exec s1 "$VRDMACTL" -j sleep activity window 60000)
if [ "$(json_get "$act" '.[0].phys')" = rxe1 ] && [ "$(json_get "$act" '.[0].active_devs')" = 1 ]; then
	ktap_ok "sleep activity of host 1 (rxe1): 1 active device"
else
	ktap_diag "$act"; ktap_fail "sleep activity of host 1 (rxe1)"
fi

# ---- a host that cannot wake: the set-up fails after the wake timeout ------------
sleep 1.5
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
wait_for 10 bash -c "ip netns exec s1 '$VRDMACTL' sleep peer show | grep -q '^$(snet_addr 2) name s2 state asleep'"
kill -STOP "$(sleepd_pid s2)"	# it will not resume
pingpong 5
kill -CONT "$(sleepd_pid s2)"
if [ "$cli_rc" -ne 0 ] && [ "$cli_rc" -ne 124 ] && [ "$secs" -ge 9500 ] && [ "$secs" -lt 30000 ] &&
   grep -qi "modify QP to RTR\|connect" "$D/cli.log"; then
	ktap_ok "host 2 cannot wake: the client fails after the 10 s wake timeout (${secs} ms)"
else
	pp_diag; ktap_fail "host 2 cannot wake: the client fails after the wake timeout (${secs} ms)"
fi
out=$(ip netns exec s1 "$VRDMACTL" -j sleep peer show "$(snet_addr 2)")
if [ "$(json_get "$out" '.[0].wait_timeouts')" -ge 1 ]; then
	ktap_ok "the module counted the timeout"
else
	ktap_diag "$out"; ktap_fail "the module counted the timeout"
fi
ktap_check "the daemons logged no error" logs_clean "$D" s1 s2 s3
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in s1 s2 s3; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
