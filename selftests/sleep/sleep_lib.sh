# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the sleep selftests.  Source after lib.sh.
#
# Simulated hosts are network namespaces "sN" with one veth (eth0,
# 10.97.0.N/24, fd00:97::N/64) on the bridge slp-br in init_net; "cl" is
# an outsider (10.97.0.200) that only sends requests.

SLEEP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SLEEPD=$SRC_DIR/userspace/vrdma-sleepd/vrdma-sleepd
PY=/usr/bin/python3

# The group key of the tests (32 bytes, hex).
TEST_KEY=6b65792d6f662d7468652d767264
TEST_KEY=${TEST_KEY}6d612d736c6565702d746573747321212121
TEST_KEY=${TEST_KEY:0:64}

snet_addr() { echo "10.97.0.$1"; }
snet_addr6() { echo "fd00:97::$1"; }

# Remove what an earlier (killed) test left.
snet_reset() {
	local ns
	for ns in $(ip netns list | awk '$1 ~ /^(s[0-9]+|cl)$/ { print $1 }'); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns"
	done
	ip link del slp-br 2>/dev/null
	return 0
}

snet_bridge() {
	modprobe veth && modprobe bridge || return 1
	ip link add slp-br type bridge mcast_snooping 0 || return 1
	defer ip link del slp-br
	ip link set slp-br up
}

# snet_host NAME N: namespace NAME with address .N on the bridge.
snet_host() {
	local ns=$1 n=$2
	ip netns add "$ns" || return 1
	defer "ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null; sleep 0.2; ip netns del $ns"
	ip link add "$ns-p" type veth peer name eth0 netns "$ns" || return 1
	ip link set "$ns-p" master slp-br up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$(snet_addr "$n")/24" dev eth0
	ip -n "$ns" addr add "$(snet_addr6 "$n")/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv6.conf.all.accept_dad=0
}

ns_mac() { ip -n "$1" -br link show eth0 | awk '{ print $3 }'; }

# The MAC address NS has cached for ADDR ("" if none).
neigh_mac() {
	ip -n "$1" neigh show "$2" dev eth0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

# A JSON field of the kernel's view of a peer, in NS:
# peer_field NS ADDR FIELD
peer_field() {
	ip netns exec "$1" "$VRDMACTL" -j sleep peer show "$2" 2>/dev/null |
		$PY -c 'import json,sys; a = json.load(sys.stdin); print(a[0].get(sys.argv[1], ""))' "$3"
}

# A TCP client SYN: connect NS ADDR PORT [SECONDS]; succeeds when it
# connects.
tcp_connect() {
	ip netns exec "$1" timeout "${4:-3}" $PY - "$2" "$3" "${4:-3}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.settimeout(float(sys.argv[3]))
s.connect((sys.argv[1], int(sys.argv[2])))
EOF
}

# syn_burst NS ADDR PORT N: N connection attempts (one SYN each) at once.
syn_burst() {
	ip netns exec "$1" $PY - "$2" "$3" "$4" <<'EOF'
import socket, sys, time
socks = []
for i in range(int(sys.argv[3])):
    s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
    s.setblocking(False)
    try:
        s.connect((sys.argv[1], int(sys.argv[2])))
    except BlockingIOError:
        pass
    socks.append(s)
time.sleep(0.3)
EOF
}

# A RoCE v2 packet (UDP 4791) with BTH opcode OP to QP DQPN:
# roce_send NS ADDR OP DQPN
roce_send() {
	ip netns exec "$1" $PY - "$2" "$3" "$4" <<'EOF'
import socket, struct, sys
op, qpn = int(sys.argv[2], 0), int(sys.argv[3], 0)
bth = struct.pack('!BBHI I', op, 0, 0xffff, qpn & 0xffffff, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bth + bytes(24), (sys.argv[1], 4791))
EOF
}
