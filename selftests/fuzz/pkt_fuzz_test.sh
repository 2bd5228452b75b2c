#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Spoofed and mutated packets from raw sockets (pkt_fuzz.py) against a host
# running vrdma with a cluster key, from a network attacker on the hosts'
# network and from a container whose traffic is routed onto it:
#
#   c1_1 vr11 vni 0 -- rxe1 (host 1) ==== rxe2 (host 2) -+- c2_1 vr21 vni 0
#     |  (routed through init_net, out of h1)   |         +- c2_2 vr22 vni 7
#     +-----------------------------------------+
#                     attacker: h3 (host 3, in no map entry)
#
# Kinds (each with its mutations, pkt_fuzz.py): the channel between hosts'
# modules (UDP 4793: announcements, MADs, replication messages; no MAC,
# another key, replays, truncated, oversized, wrong fields, flipped bits,
# other tenants' VNIs and QPNs; MAC-valid random bodies from host 3, which
# the map does not hold), RoCEv2 (UDP 4791) datagrams to vr21's and vr22's
# UD QPs and random QPNs, ARP and ND, and packets to a host host 2 manages
# while it sleeps (its ARP, ND and IP hooks are armed).  The sources are
# spoofed: host 1's address, host 3's, the container's.
#
# Afterwards: neither UD QP received anything, and each counted forged
# datagrams it dropped (xlate_refused_other_vni); no MAD reached either
# device; the module logged why it dropped channel messages (dynamic
# debug: EKEYREJECTED, EALREADY, EBADMSG, EPROTO); the sleep hooks counted
# what they saw; rping across hosts and a UD datagram of c1_1 still go
# through (the module and the channel survived); the module unloads with
# its leak audit clean and unreclaimable slab + vmalloc back to the
# baseline (within 8 MiB).  The kernel log checks of the harness apply.
#
# PKT_FUZZ_COUNT packets from each of the two senders (default 20000),
# each sender bounded by PKT_FUZZ_SECONDS (default 300); FUZZ_SEED=N
# replays a run (the container's sender uses N + 1).
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
TOOL=$HERE/../vdev/vdev_tool
FUZZ="/usr/bin/python3 $HERE/pkt_fuzz.py"
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SEED=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
COUNT=${PKT_FUZZ_COUNT:-20000}
SECS=${PKT_FUZZ_SECONDS:-300}
MIN_KIND=${PKT_FUZZ_MIN_KIND:-1000}
DDC=/sys/kernel/debug/dynamic_debug/control
SL=10.99.0.9 SL6=fd00:99::9
tmp=$(mktemp -d)
defer rm -rf "$tmp"

[ -x "$TOOL" ] || { echo "# $TOOL not built"; exit "$KSFT_SKIP"; }

ktap_plan 13
echo "# seed $SEED"
topo_hosts 3 || { echo "Bail out! setup"; exit 1; }
mem() {	# unreclaimable slab + vmalloc, kB (empty slabs freed first)
	local f
	for f in /sys/kernel/slab/*/shrink; do echo 1 > "$f"; done 2> /dev/null
	awk '/^SUnreclaim:|^VmallocUsed:/ { n += $2 } END { print n }' /proc/meminfo
}
slabs() {	# kB in use per slab cache
	awk 'NR > 2 { printf "%s %d\n", $1, $2 * $4 / 1024 }' /proc/slabinfo | LC_ALL=C sort -k1,1
}
# The containers (network namespaces cost memory of their own) and the
# routing first, then the baseline, then the module.
for c in 1:1 2:1 2:2; do topo_container "${c%:*}" "${c#*:}" > /dev/null; done
# c1_1's packets to the hosts' network: through init_net (ovl-br), out of
# h1 onto the hosts' bridge, as from a container of host 1.
ip addr add 10.244.255.254/16 dev ovl-br && defer ip addr del 10.244.255.254/16 dev ovl-br
ip -n c1_1 route add 10.99.0.0/24 via 10.244.255.254
ip rule add pref 50 iif ovl-br lookup 101 && defer ip rule del pref 50
fwd=$(sysctl -n net.ipv4.ip_forward)
sysctl -qw net.ipv4.ip_forward=1
defer sysctl -qw net.ipv4.ip_forward="$fwd"
wait_for 10 in_ct c1_1 ping -c 1 -W 1 "$(host_addr 2)" > /dev/null ||
	ktap_diag "c1_1 cannot ping host 2"

vrdma_unload
modprobe rdma_ucm
slabs > "$tmp/slabs0"
mem0=$(mem)
modprobe vrdma ctrl_key=$KEY || { echo "Bail out! modprobe vrdma ctrl_key=..."; exit 1; }
defer vrdma_unload
dyndbg=0
if [ -w "$DDC" ]; then
	echo 'file ctrl.c +p' > "$DDC" && dyndbg=1
	defer "echo 'file ctrl.c -p' > $DDC"
fi
# c1_1 (host 1, vni 0), c2_1 (host 2, vni 0), c2_2 (host 2, vni 7)
for c in 1:1:0 2:1:0 2:2:7; do
	IFS=: read -r h n vni <<< "$c"
	"$VRDMACTL" dev add "vr$h$n" netns "c${h}_$n" netdev eth0 phys "rxe$h" vni "$vni" ||
		{ echo "Bail out! dev add vr$h$n"; exit 1; }
	"$VRDMACTL" map add "$(ct_addr "$h" "$n")" via "$(host_addr "$h")" vni "$vni"
done
gidx() { in_ct "$1" bash -c ". $LIB_DIR/topo.sh; gid_index $2 $3"; }
for c in 1_1 2_1 2_2; do
	wait_for 20 gidx "c$c" "vr${c/_/}" "$(ct_addr "${c%_*}" "${c#*_}")" ||
		{ echo "Bail out! GID of vr${c/_/}"; exit 1; }
done
victim=$(ct_addr 2 1) a1=$(ct_addr 1 1)
# (a vrdmactl after rmmod would load the module again)
defer "module_loaded vrdma && for d in 11 21 22; do $VRDMACTL dev del vr\$d; done"

# Host 2 manages a sleeping host (10.99.0.9): its ARP, ND and IP hooks are
# armed on h2.
"$VRDMACTL" sleep peer set $SL state asleep name sleeper addrs $SL6 dev h2 ports 22,8080 announce ||
	ktap_diag "sleep peer set failed"
defer "module_loaded vrdma && $VRDMACTL sleep peer del $SL"
sleep_stats() { "$VRDMACTL" -j sleep peer show $SL 2>/dev/null; }
s0=$(sleep_stats)

# UD receivers of both tenants on host 2, line-buffered.
for d in 21 22; do
	in_ct "c${d:0:1}_${d:1:1}" stdbuf -oL "$TOOL" udrecv "vr$d" $((2 * SECS + 300)) 2 \
		> "$tmp/recv$d" 2>&1 &
	eval "rpid$d=$!"
	wait_for 20 grep -q '^qpn' "$tmp/recv$d" || { echo "Bail out! receiver vr$d"; exit 1; }
done
defer "kill $rpid21 $rpid22 2>/dev/null"
q21=$(awk '/^qpn/ { print $2 }' "$tmp/recv21")
q22=$(awk '/^qpn/ { print $2 }' "$tmp/recv22")
hwc() { cat "/sys/class/infiniband/$1/ports/1/hw_counters/$2"; }
x21=$(hwc vr21 xlate_refused_other_vni) x22=$(hwc vr22 xlate_refused_other_vni)
m21=$(hwc vr21 mad_rx) m22=$(hwc vr22 mad_rx)
mark=$(dmesg | wc -l)

h2mac=$(cat /sys/class/net/h2/address)
common=(--count "$COUNT" --seconds "$SECS" --dst "$(host_addr 2)"
	--qpns "$q21,$q22" --vnis 0,7,1 --overlays "$victim,$(ct_addr 2 2),$a1"
	--sleeper $SL --sleeper6 $SL6 --dmac "$h2mac" --kinds ctrl,roce,arp,nd,sleep)
t0=$(date +%s)
$FUZZ --seed "$SEED" --dev h3 --key $KEY --keyed-src "$(host_addr 3)" \
	--srcs "$(host_addr 1),$(host_addr 3),$a1" --own "$(host_addr 3)" \
	"${common[@]}" > "$tmp/host.out" 2>&1 &
fh=$!
in_ct c1_1 $FUZZ --seed $((SEED + 1)) --dev eth0 --key $KEY \
	--srcs "$a1,$(host_addr 1),$(host_addr 3)" --own "$a1" \
	"${common[@]}" > "$tmp/ct.out" 2>&1 &
fc=$!
wait $fh; rh=$?
wait $fc; rc=$?
t1=$(date +%s)
ktap_diag "network attacker (h3, seed $SEED):" "$(cat "$tmp/host.out")"
ktap_diag "container c1_1 (seed $((SEED + 1))):" "$(cat "$tmp/ct.out")"
ktap_diag "both senders: $((t1 - t0)) s"
for w in host ct; do
	eval "r=\$r${w:0:1}"
	ok=1
	for k in ctrl roce arp nd sleep; do
		n=$(awk -v k="$k" '$1 == "kind" && $2 == k { print $3 }' "$tmp/$w.out")
		eval "tot_$k=\$(( \${tot_$k:-0} + ${n:-0} ))"
	done
	sent=$(awk '$1 == "sent" { print $2 }' "$tmp/$w.out")
	[ "$r" = 0 ] && [ "${sent:-0}" -gt 0 ] &&
		ktap_ok "$w: $sent packets sent, no send error" ||
		ktap_fail "$w: packets sent without error (exit $r, ${sent:-0} sent)"
done
ok=1
for k in ctrl roce arp nd sleep; do
	eval "n=\$tot_$k"
	[ "$n" -ge "$MIN_KIND" ] || ok=0
	summary+="$k $n, "
done
[ $ok = 1 ] && ktap_ok "at least $MIN_KIND packets of each kind (${summary%, })" ||
	ktap_fail "at least $MIN_KIND packets of each kind (${summary%, })"

# Nothing forged reached an application.
n21=$(grep -c '^recv from' "$tmp/recv21") n22=$(grep -c '^recv from' "$tmp/recv22")
[ "$n21" = 0 ] && [ "$n22" = 0 ] &&
	ktap_ok "neither tenant's UD QP received a forged datagram" ||
	{ ktap_diag "$(grep '^recv from' "$tmp/recv21" "$tmp/recv22" | head)";
	  ktap_fail "neither tenant's UD QP received a forged datagram (vr21 $n21, vr22 $n22)"; }
d21=$(( $(hwc vr21 xlate_refused_other_vni) - x21 ))
d22=$(( $(hwc vr22 xlate_refused_other_vni) - x22 ))
[ "$d21" -gt 0 ] && [ "$d22" -gt 0 ] &&
	ktap_ok "both counted forged datagrams they dropped (xlate_refused_other_vni: vr21 $d21, vr22 $d22)" ||
	ktap_fail "both counted forged datagrams they dropped (xlate_refused_other_vni: vr21 $d21, vr22 $d22)"
dm21=$(( $(hwc vr21 mad_rx) - m21 )) dm22=$(( $(hwc vr22 mad_rx) - m22 ))
[ "$dm21" = 0 ] && [ "$dm22" = 0 ] &&
	ktap_ok "no forged MAD reached a device (mad_rx unchanged)" ||
	ktap_fail "no forged MAD reached a device (mad_rx: vr21 +$dm21, vr22 +$dm22)"

if [ $dyndbg = 1 ]; then
	log=$(dmesg | tail -n +"$((mark + 1))")
	why=""
	for e in 129 114 74 71; do
		why+="-$e: $(grep -c "dropped a datagram from .*: -$e$" <<< "$log"), "
	done
	why+="too long: $(grep -c 'datagram too long' <<< "$log")"
	ktap_diag "channel drops logged (rate limited): $why"
	grep -q ': -129$' <<< "$log" && grep -q ': -114$' <<< "$log" &&
	grep -q ': -74$' <<< "$log" && grep -q ': -71$' <<< "$log" &&
		ktap_ok "channel messages dropped for a bad MAC, a replay, a bad length and bad fields" ||
		ktap_fail "channel messages dropped for a bad MAC, a replay, a bad length and bad fields ($why)"
else
	ktap_skip "channel drop reasons" "no dynamic debug"
fi
s1=$(sleep_stats)
ktap_diag "sleep peer before: $s0" "sleep peer after: $s1"
sv() { jq -r ".[0].$2 // 0" <<< "$1"; }
seen=$(( $(sv "$s1" valid) + $(sv "$s1" ignored) - $(sv "$s0" valid) - $(sv "$s0" ignored) ))
[ "$seen" -gt 0 ] && ktap_ok "the sleep hooks saw $seen packets for the sleeper" ||
	ktap_fail "the sleep hooks saw packets for the sleeper ($seen)"

# The module and the channel survived: rdma_cm and UD between hosts.
in_ct c2_1 timeout 60 rping -s -a "$victim" -p 7500 -C 2 -v > "$tmp/srv" 2>&1 &
spid=$!
ok=0
for i in 1 2 3 4 5; do
	sleep 1
	in_ct c1_1 timeout 60 rping -c -a "$victim" -p 7500 -C 2 -v > "$tmp/cli" 2>&1 && { ok=1; break; }
	grep -qiE 'reject|refused|error 111' "$tmp/cli" || break
done
wait $spid
[ $ok = 1 ] && ktap_ok "rping across hosts over the channel still works" ||
	{ ktap_diag "$(cat "$tmp/cli")" "$(cat "$tmp/srv")"; ktap_fail "rping across hosts over the channel still works"; }
legit=$(in_ct c1_1 timeout 60 "$TOOL" udsend vr11 "$(gidx c1_1 vr11 "$a1")" "$victim" "$q21" 2 |
	awk '/^qpn/ { print $2 }')
wait_for 30 bash -c "[ \$(grep -c '^recv from qpn $legit ' $tmp/recv21) -ge 2 ]" &&
	ktap_ok "c1_1's UD datagrams still reach vr21" ||
	{ ktap_diag "$(cat "$tmp/recv21")"; ktap_fail "c1_1's UD datagrams still reach vr21"; }
kill "$rpid21" "$rpid22" 2> /dev/null
wait "$rpid21" "$rpid22" 2> /dev/null

# Everything goes with the module.
"$VRDMACTL" sleep peer del $SL 2> /dev/null
for d in 11 21 22; do "$VRDMACTL" dev del "vr$d"; done
leaks_before=$(dmesg | grep -c 'vrdma: leak')
if wait_for 30 bash -c '! grep -q "^vrdma " /proc/modules || rmmod vrdma'; then
	ktap_ok "the module unloads"
else
	ktap_fail "the module unloads ($(grep '^vrdma ' /proc/modules))"
fi
leaks=$(( $(dmesg | grep -c 'vrdma: leak') - leaks_before ))
[ "$leaks" = 0 ] && ktap_ok "its leak audit is clean" ||
	{ ktap_diag "$(dmesg | grep 'vrdma: leak' | tail -n 10)"; ktap_fail "its leak audit is clean"; }
mem1=$(mem)
slabs > "$tmp/slabs1"
ktap_diag "unreclaimable slab + vmalloc: $mem0 kB before, $mem1 kB after" \
	"slab caches that grew most (kB):" \
	"$(LC_ALL=C join "$tmp/slabs0" "$tmp/slabs1" | awk '{ print $3 - $2, $1 }' | sort -rn | head -n 8)"
[ $((mem1 - mem0)) -lt 8192 ] && ktap_ok "kernel memory back to its baseline" ||
	ktap_fail "kernel memory back to its baseline (+$((mem1 - mem0)) kB)"

ktap_finish
