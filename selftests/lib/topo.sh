# SPDX-License-Identifier: GPL-2.0
#
# Test topology: simulated hosts and containers in one VM.
#
#              init_net
#   +-------------------------------------------------------------+
#   |  "physical" network (bridge phys-br, 10.99.0.0/24)          |
#   |     h1 10.99.0.1 (rxe1)   h2 10.99.0.2 (rxe2)   ...          |
#   |       |                     |                              |
#   |     h1p ------ phys-br ---- h2p                            |
#   |                                                             |
#   |  overlay network (bridge ovl-br, 10.244.0.0/16, fd00:244::/64) |
#   |     c1_1p   c1_2p   c2_1p ...  (ports of ovl-br)            |
#   +-------|-------|-------|-------------------------------------+
#        netns c1_1  c1_2  c2_1       containers: eth0 =
#                                     10.244.<host>.<n>/16
#                                     fd00:244::<host>:<n>/64
#
# Host i is the veth hi with address 10.99.0.i and a soft-RoCE device rxei
# on it: its "physical RNIC".  Every packet between two hosts' RNICs
# really crosses phys-br (policy routing keeps the kernel from taking the
# loopback shortcut between local addresses; rxe drops loopback traffic).
# Containers are network namespaces on one overlay bridge; which host runs
# a container is decided by the tests (which physical device backs its
# vrdma device), not by the overlay.
#
# Usage (the test must have sourced lib.sh first; call these functions
# directly, never in a subshell such as $(...): their cleanup is registered
# with defer in the calling shell):
#   topo_hosts N              create hosts 1..N (after topo_reset)
#   topo_container H N        create container cH_N (prints its name)
#   in_ct NAME CMD...         run CMD in container NAME
#   host_addr H, ct_addr H N, ct_addr6 H N, host_gid_index H
# Everything is removed on exit (lib.sh's deferred cleanup).

TOPO_HOSTS=0
TOPO_CTS=()

__sysctl_all() {	# set net.ipv4.conf.{all,default}.$1=$2
	sysctl -qw "net.ipv4.conf.all.$1=$2" "net.ipv4.conf.default.$1=$2"
}

host_addr() { echo "10.99.0.$1"; }
host_dev() { echo "rxe$1"; }
ct_name() { echo "c$1_$2"; }
ct_addr() { echo "10.244.$1.$2"; }
ct_addr6() { echo "fd00:244::$1:$2"; }

# gid_index DEV IPV4|IPV6: index of the RoCE v2 GID of that address.
gid_index() {
	local dev=$1 addr=$2 want f i g t
	if [[ $addr == *.* ]]; then
		want=$(printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x' ${addr//./ })
	else
		want=$(/usr/bin/python3 -c 'import ipaddress,sys; print(":".join("%04x" % int(x, 16) for x in ipaddress.ip_address(sys.argv[1]).exploded.split(":")))' "$addr")
	fi
	# read, not $(cat): a process per entry costs ~0.1 s under TCG, and
	# a table without the GID (yet) has up to 1024 entries.
	for f in /sys/class/infiniband/"$dev"/ports/1/gids/*; do
		i=${f##*/}
		g='' t=''
		read -r g 2> /dev/null < "$f"
		[ "$g" = "$want" ] || continue
		read -r t 2> /dev/null < "/sys/class/infiniband/$dev/ports/1/gid_attrs/types/$i"
		[ "$t" = "RoCE v2" ] || continue
		echo "$i"
		return 0
	done
	return 1
}
host_gid_index() { gid_index "$(host_dev "$1")" "$(host_addr "$1")"; }

# Remove what a previous test left behind (one killed by its timeout runs
# no cleanup): containers, host veths and their rxe devices, bridges and
# the policy routing rules.
topo_reset() {
	local x
	for x in $(ip netns list | awk '$1 ~ /^c[0-9]+_[0-9]+$/ { print $1 }'); do
		ip netns del "$x"
	done
	for x in $(rdma link show 2>/dev/null |
		   awk '$NF ~ /^h[0-9]+$/ { split($2, a, "/"); print a[1] }'); do
		rdma link del "$x"
	done
	for x in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		   grep -E '^(h[0-9]+|c[0-9]+_[0-9]+p|phys-br|ovl-br)$'); do
		ip link del "$x" 2> /dev/null
	done
	for x in $(ip rule show | awk -F: '$1 >= 11 && $1 <= 99 && /oif h[0-9]/ { print $1 }'); do
		ip rule del pref "$x"
	done
	if ip rule show pref 1000 | grep -q 'lookup local'; then
		ip rule show pref 0 | grep -q 'lookup local' ||
			ip rule add pref 0 lookup local
		ip rule del pref 1000
	fi
	return 0
}

topo_hosts() {
	local n=$1 i
	topo_reset
	modprobe rdma_rxe || return 1
	modprobe veth
	modprobe bridge
	__sysctl_all rp_filter 0
	__sysctl_all accept_local 1
	__sysctl_all arp_ignore 1
	__sysctl_all arp_announce 2
	ip link add phys-br type bridge || return 1
	defer ip link del phys-br
	ip link set phys-br up
	# The local table moves below the per-host rules: traffic from one
	# host's address to another's must leave through that host's veth.
	ip rule add pref 1000 lookup local
	ip rule del pref 0
	defer 'ip rule add pref 0 lookup local; ip rule del pref 1000'
	for ((i = 1; i <= n; i++)); do
		ip link add "h$i" type veth peer name "h${i}p" || return 1
		defer ip link del "h$i"
		ip link set "h${i}p" master phys-br up
		sysctl -qw "net.ipv4.conf.h$i.rp_filter=0" "net.ipv4.conf.h$i.accept_local=1" \
			"net.ipv4.conf.h$i.arp_ignore=1" "net.ipv4.conf.h$i.arp_announce=2"
		ip addr add "$(host_addr "$i")/24" dev "h$i"
		ip link set "h$i" up
		ip rule add pref $((10 + i)) oif "h$i" lookup $((100 + i))
		defer ip rule del pref $((10 + i))
		ip route add table $((100 + i)) 10.99.0.0/24 dev "h$i" src "$(host_addr "$i")"
		rdma link add "$(host_dev "$i")" type rxe netdev "h$i" || return 1
		defer rdma link del "$(host_dev "$i")"
	done
	TOPO_HOSTS=$n
	for ((i = 1; i <= n; i++)); do
		wait_for 10 host_gid_index "$i" || { echo "# rxe$i has no RoCE v2 GID" >&2; return 1; }
	done
	# Bridge ports forward only once out of the listening state (no STP:
	# immediately); the overlay bridge is created on first use.
	return 0
}

__topo_overlay() {
	ip link show ovl-br > /dev/null 2>&1 && return 0
	modprobe veth
	modprobe bridge
	ip link add ovl-br type bridge || return 1
	defer ip link del ovl-br
	ip link set ovl-br up
}

topo_container() {
	local h=$1 n=$2 name
	name=$(ct_name "$h" "$n")
	__topo_overlay || return 1
	# A leftover of an earlier test goes first.
	ip netns del "$name" 2> /dev/null
	ip link del "${name}p" 2> /dev/null
	ip netns add "$name" || return 1
	defer ip netns del "$name"
	ip link add "${name}p" type veth peer name eth0 netns "$name" || return 1
	defer ip link del "${name}p"
	ip link set "${name}p" master ovl-br up
	ip -n "$name" link set lo up
	ip -n "$name" addr add "$(ct_addr "$h" "$n")/16" dev eth0
	ip -n "$name" addr add "$(ct_addr6 "$h" "$n")/64" dev eth0 nodad
	ip -n "$name" link set eth0 up
	TOPO_CTS+=("$name")
	echo "$name"
}

in_ct() {
	local name=$1
	shift
	ip netns exec "$name" "$@"
}

# tx packets of a host's veth (to prove that traffic crossed the wire)
host_tx_packets() { cat "/sys/class/net/h$1/statistics/tx_packets"; }

# Wait until a TCP port listens (in a container when $3 is given).
wait_listen() {
	local port=$1 ct=${2:-}
	if [ -n "$ct" ]; then
		wait_for 20 bash -c "ip netns exec $ct ss -Hltn 'sport = :$port' | grep -q ."
	else
		wait_for 20 bash -c "ss -Hltn 'sport = :$port' | grep -q ."
	fi
}
