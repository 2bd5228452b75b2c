#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's side of sleep management, without the daemon: the SLEEP_*
# netlink operations (through vrdmactl), the interception of a managed
# sleeper's addresses (ARP and neighbour solicitations answered with the
# manager's MAC, gratuitous ARP on takeover, valid requests reported as
# events, other traffic dropped and counted), and its clean-up.
#
#   cl (10.97.0.200) --+-- slp-br --+-- s1 (10.97.0.1): the manager
#                                   (10.97.0.3: the sleeper, no host)
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

SL=$(snet_addr 3)
SL6=$(snet_addr6 3)
tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"

ktap_plan 25

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
if ! snet_bridge || ! snet_host s1 1 || ! snet_host cl 200; then
	ktap_fail "namespaces on a bridge"
	ktap_finish
fi
in_s1() { ip netns exec s1 "$VRDMACTL" "$@"; }
mg_mac=$(ns_mac s1)

# ---- configuration and validation --------------------------------------------
out=$(in_s1 -j sleep config 2>&1)
if grep -q '"wake_timeout_ms":30000' <<< "$out" && grep -q '"peers":0' <<< "$out"; then
	ktap_ok "sleep config: defaults (wake timeout 30000 ms, no peer)"
else
	ktap_diag "$out"; ktap_fail "sleep config: defaults"
fi
ktap_check "sleep config sets the wake timeout and event interval" \
	bash -c "ip netns exec s1 '$VRDMACTL' -j sleep config wake-timeout 2000 event-interval 100 | grep -q '\"wake_timeout_ms\":2000,\"event_interval_ms\":100'"
out=$(in_s1 sleep config wake-timeout 60001 2>&1)
if [ $? -ne 0 ] && grep -q "invalid wake-timeout" <<< "$out"; then
	ktap_ok "a wake timeout above 60000 ms is refused ($out)"
else
	ktap_diag "$out"; ktap_fail "a wake timeout above 60000 ms is refused"
fi
out=$(in_s1 sleep peer set 224.0.0.5 state asleep 2>&1)
if [ $? -ne 0 ] && grep -q "unicast" <<< "$out"; then
	ktap_ok "a multicast peer address is refused, with a message ($out)"
else
	ktap_diag "$out"; ktap_fail "a multicast peer address is refused"
fi
out=$(in_s1 sleep peer set "$SL" state asleep dev lo 2>&1)
if [ $? -ne 0 ] && grep -q "Ethernet" <<< "$out"; then
	ktap_ok "interception on a non-Ethernet interface is refused ($out)"
else
	ktap_diag "$out"; ktap_fail "interception on lo is refused"
fi
ktap_check "an unmanaged peer is added and shown" \
	bash -c "ip netns exec s1 '$VRDMACTL' sleep peer set 10.97.0.7 state awake name h7 &&
		 ip netns exec s1 '$VRDMACTL' sleep peer show | grep -q '^10.97.0.7 name h7 state awake'"
out=$(in_s1 sleep peer set 10.97.0.8 state asleep addrs 10.97.0.7 2>&1)
if [ $? -ne 0 ] && grep -q "another peer" <<< "$out"; then
	ktap_ok "an address of another peer is refused ($out)"
else
	ktap_diag "$out"; ktap_fail "an address of another peer is refused"
fi
ktap_check "sleep peer del forgets it" \
	bash -c "ip netns exec s1 '$VRDMACTL' sleep peer del 10.97.0.7 &&
		 ! ip netns exec s1 '$VRDMACTL' sleep peer show 10.97.0.7"
ktap_check "the namespace of cl has its own, empty, domain" \
	bash -c "[ -z \"\$(ip netns exec cl '$VRDMACTL' sleep peer show)\" ]"

# ---- interception -----------------------------------------------------------------
# cl knew the sleeper's MAC before it slept.
ip -n cl neigh replace "$SL" lladdr 02:00:00:00:00:03 dev eth0 nud stale
in_s1 sleep peer set "$SL" state asleep name sleeper addrs "$SL6" dev eth0 \
	ports 22,8080 announce
cl_sees() { [ "$(neigh_mac cl "$SL")" = "$1" ]; }
if [ $? -eq 0 ] && wait_for 5 cl_sees "$mg_mac"; then
	ktap_ok "takeover with announce: the gratuitous ARP moved cl's entry to the manager's MAC"
else
	ktap_diag "cl: $(ip -n cl neigh show "$SL")"
	ktap_fail "takeover with announce: gratuitous ARP"
fi
ip -n cl neigh flush dev eth0
ip netns exec cl ping -c 1 -W 1 "$SL" > /dev/null 2>&1
if [ "$(neigh_mac cl "$SL")" = "$mg_mac" ]; then
	ktap_ok "an ARP request for the sleeper is answered with the manager's MAC"
else
	ktap_diag "cl: $(ip -n cl neigh show "$SL")"
	ktap_fail "an ARP request for the sleeper is answered with the manager's MAC"
fi
ip netns exec cl ping -6 -c 1 -W 1 "$SL6" > /dev/null 2>&1
if [ "$(neigh_mac cl "$SL6")" = "$mg_mac" ]; then
	ktap_ok "a neighbour solicitation for its IPv6 address too"
else
	ktap_diag "cl: $(ip -n cl -6 neigh show)"
	ktap_fail "a neighbour solicitation for its IPv6 address too"
fi

# Events: a monitor in s1, then requests from cl.
ip netns exec s1 "$VRDMACTL" sleep monitor timeout 120 > "$tmp/ev" 2>&1 &
mon=$!
defer kill $mon
# (the monitor may take a moment to join the group)
for i in 1 2 3 4 5 6 7 8 9 10; do
	syn_burst cl "$SL" 8080 1
	wait_for 1 grep -q "request tcp-syn.*dport 8080" "$tmp/ev" && break
done
ktap_check "a SYN to a listening port is a valid request: event" \
	grep -q "^request addr $SL request tcp-syn src 10.97.0.200 sport [0-9]* dport 8080" "$tmp/ev"
sleep 0.2
syn_burst cl "$SL6" 22 1
wait_for 5 grep -q "dport 22 overlay" "$tmp/ev"
ktap_check "a SYN over IPv6 to another listening port: event" \
	grep -q "request tcp-syn src fd00:97::200 sport [0-9]* dport 22 overlay $SL6" "$tmp/ev"
n0=$(wc -l < "$tmp/ev")
syn_burst cl "$SL" 9999 1
ip netns exec cl $PY -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('$SL', 53))"
roce_send cl "$SL" 0x04 0x11	# RC SEND only to QP 0x11: not a CM MAD
sleep 1
n1=$(wc -l < "$tmp/ev")
if [ "$n1" -eq "$n0" ]; then
	ktap_ok "a SYN to a closed port, stray UDP and RoCE data are not requests"
else
	ktap_diag "$(tail -n +"$((n0 + 1))" "$tmp/ev")"
	ktap_fail "a SYN to a closed port, stray UDP and RoCE data are not requests"
fi
roce_send cl "$SL" 0x64 1	# UD SEND only to QP1: a CM MAD
wait_for 5 grep -q "rdma-cm" "$tmp/ev"
ktap_check "a RoCE v2 CM MAD (UD SEND to QP1, UDP 4791) is a valid request" \
	grep -q "request addr $SL request rdma-cm src 10.97.0.200 sport [0-9]* dport 4791" "$tmp/ev"
# Rate limit: a burst of SYNs within the event interval makes one event.
n0=$(grep -c "dport 22 " "$tmp/ev")
in_s1 sleep config event-interval 2000 > /dev/null
sleep 2.5
syn_burst cl "$SL" 22 5
# The monitor may take a while to write under load; the burst is sent at
# once, so nothing after it can make a second event legitimately.
new_syn_event() { [ "$(grep -c "dport 22 " "$tmp/ev")" -gt "$n0" ]; }
wait_for 5 new_syn_event
sleep 0.5
n1=$(grep -c "dport 22 " "$tmp/ev")
in_s1 sleep config event-interval 100 > /dev/null
if [ $((n1 - n0)) -eq 1 ]; then
	ktap_ok "events about one sleeper are rate limited (5 SYNs, 1 event)"
else
	ktap_fail "events about one sleeper are rate limited ($((n1 - n0)) events for 5 SYNs)"
fi
kill $mon 2>/dev/null

out=$(ip netns exec s1 "$VRDMACTL" -j sleep peer show "$SL")
ktap_diag "$out"
val() { json_get "$out" '.[0][$k]' --arg k "$1"; }
if [ "$(val valid)" -ge 8 ] && [ "$(val ignored)" -ge 4 ] && [ "$(val arp_replies)" -ge 2 ]; then
	ktap_ok "counters: valid $(val valid), ignored $(val ignored), ARP/NA replies $(val arp_replies)"
else
	ktap_fail "counters: valid $(val valid), ignored $(val ignored), ARP/NA replies $(val arp_replies)"
fi
ktap_check "the manager itself does not answer for the sleeper (no ICMP, no RST)" \
	bash -c "! ip netns exec cl ping -c 1 -W 1 $SL"
# Gratuitous ARP of the woken sleeper (sender = target = its address) is
# left alone.  The client forgets the sleeper first, so that no ARP probe
# of its own is answered meanwhile.
arp_replies() { peer_field s1 "$SL" arp_replies; }
ip -n cl neigh del "$SL" dev eth0 2> /dev/null
sleep 1
r0=$(arp_replies)
ip netns exec cl $PY - "$SL" <<'EOF2'
import socket, struct, sys
ip = socket.inet_aton(sys.argv[1])
mac = bytes.fromhex('02aabbccdd03')
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
s.send(b'\xff' * 6 + mac + b'\x08\x06' +
       struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac + ip + b'\0' * 6 + ip)
EOF2
sleep 1
r1=$(arp_replies)
if [ -n "$r0" ] && [ "$r0" = "$r1" ]; then
	ktap_ok "the sleeper's own gratuitous ARP is not answered ($r0 replies before and after)"
else
	ktap_fail "the sleeper's own gratuitous ARP is not answered ($r0 -> $r1 replies)"
fi

# ---- change and removal -----------------------------------------------------------
in_s1 sleep peer set "$SL" state awake name sleeper
ip -n cl neigh flush dev eth0
ip netns exec cl ping -c 1 -W 1 "$SL" > /dev/null 2>&1
if [ -z "$(neigh_mac cl "$SL")" ] || [ "$(neigh_mac cl "$SL")" != "$mg_mac" ]; then
	ktap_ok "no longer managed: ARP for it is not answered"
else
	ktap_fail "no longer managed: ARP for it is still answered"
fi
valid_kept() { [ "$(peer_field s1 "$SL" valid)" -ge 8 ]; }
ktap_check "its counters survived the change" valid_kept
in_s1 sleep peer set "$SL" state asleep dev eth0 ports 8080 > /dev/null
ktap_check "config flush forgets every peer" \
	bash -c "ip netns exec s1 '$VRDMACTL' -j sleep config flush | grep -q '\"peers\":0,\"managed\":0'"
in_s1 sleep peer set "$SL" state asleep dev eth0 ports 8080 > /dev/null
ip netns pids s1 | xargs -r kill -9 2>/dev/null
ip netns del s1
sleep 1
ktap_check "a namespace with a managed sleeper goes away cleanly" \
	bash -c "! ip netns list | grep -q '^s1 '"
out=$("$VRDMACTL" -j sleep activity 2>&1)
if grep -q '"devs":0' <<< "$out" && grep -q '"repl_groups":0' <<< "$out"; then
	ktap_ok "sleep activity: no device, no replication group ($out)"
else
	ktap_diag "$out"; ktap_fail "sleep activity"
fi

ktap_finish
