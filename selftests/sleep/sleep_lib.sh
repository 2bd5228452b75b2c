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
# JSON is read with jq: a Python process costs over a second under
# emulation (Documentation/testing.rst), jq a tenth of that.  Python is
# left for what needs sockets.
JQ=/usr/bin/jq

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

# A JSON field of the kernel's view of a peer, in NS ("" if absent;
# booleans print as true and false): peer_field NS ADDR FIELD
peer_field() {
	ip netns exec "$1" "$VRDMACTL" -j sleep peer show "$2" 2>/dev/null |
		$JQ -r --arg f "$3" '.[0][$f] // (if .[0][$f] == false then false else "" end)'
}

# A TCP client SYN: connect NS ADDR PORT [SECONDS]; succeeds when it
# connects.
tcp_connect() {
	ip netns exec "$1" timeout "$((${4:-3} + 1))" nc -z -w "${4:-3}" "$2" "$3"
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

# ---- daemons ----------------------------------------------------------------

# Timers of the tests (seconds), short: hosts are managed within about a
# second and a half, a silent manager is replaced within about three.
SLEEPD_TIMERS="hello-interval = 0.5
probe-interval = 1
probes-per-period = 2
probe-timeout = 0.4
dead-after = 2
intent-wait = 0.5"

# sleepd_conf NS N DIR [EXTRA-INI]: the configuration of host NS (.N).
sleepd_conf() {
	local ns=$1 n=$2 dir=$3 extra=${4:-}
	cat <<EOC
[daemon]
name = $ns
interface = eth0
control-socket = $dir/$ns.sock
log = $dir/$ns.log
log-level = info

[group]
address = 239.255.77.77
port = 7789
key = $TEST_KEY

[timers]
$SLEEPD_TIMERS

[manage]
guardians = 1
wake-interval = 0.3
wake-timeout = 20

[sleep]
activity-window = 5

[test]
enabled = yes
resume-delay = 1
freeze = netns
drop = yes
$extra
EOC
}

# sleepd_start NS N DIR [EXTRA-INI]: start the daemon of NS (killed on
# exit); its log is DIR/NS.log, its control socket DIR/NS.sock.
sleepd_start() {
	local ns=$1 n=$2 dir=$3 extra=${4:-}
	sleepd_conf "$ns" "$n" "$dir" "$extra" > "$dir/$ns.conf"
	# SLEEPD_WRAP: a command prefix (env, faketime) for this daemon.
	ip netns exec "$ns" ${SLEEPD_WRAP:-} "$SLEEPD" -c "$dir/$ns.conf" 2>> "$dir/$ns.err" &
	eval "SLEEPD_PID_$ns=$!"
	defer "kill $! 2>/dev/null; sleep 0.3; kill -9 $! 2>/dev/null"
	wait_for 10 test -S "$dir/$ns.sock"
}

sleepd_pid() { eval "echo \$SLEEPD_PID_$1"; }

# sleepd_status NS DIR: the daemon's status (JSON).
sleepd_status() {
	"$VRDMACTL" sleep status socket "$2/$1.sock"
}

# json_get JSON FILTER [JQ-ARGS...]: a jq filter over JSON (raw output).
json_get() {
	local j=$1 f=$2
	shift 2
	$JQ -r "$@" "$f" <<< "$j" 2>/dev/null
}

# sleepd_q NS DIR FILTER [JQ-ARGS...]: a jq filter over NS's status.
sleepd_q() {
	local ns=$1 dir=$2 f=$3
	shift 3
	sleepd_status "$ns" "$dir" | $JQ -r "$@" "$f" 2>/dev/null
}

# NS's own state (awake, asleep, ...): self_state NS DIR
self_state() { sleepd_q "$1" "$2" '.self.state'; }

# peer_of NS DIR PEER FIELD: a field of PEER in NS's view ("" if none).
peer_of() {
	sleepd_q "$1" "$2" '[.peers[] | select(.name == $p) | .[$f]][0] |
		if . == null then "" elif type == "array" or type == "object" then tojson else . end' \
		--arg p "$3" --arg f "$4"
}

# All of NS... see each other awake: sleepd_all_awake DIR NS...
sleepd_all_awake() {
	local dir=$1 ns n
	shift
	n=$(($# - 1))
	for ns in "$@"; do
		[ "$(sleepd_q "$ns" "$dir" '[.peers[] | select(.state == "awake")] | length')" = "$n" ] || return 1
	done
}

# manager_of DIR SLEEPER NS...: which of NS... says it manages SLEEPER
# (all of them, if several do); fails if none does.
manager_of() {
	local dir=$1 sl=$2 ns m=
	shift 2
	for ns in "$@"; do
		[ "$(sleepd_q "$ns" "$dir" 'any(.self.manages[]; . == $s)' --arg s "$sl")" = true ] &&
			m="$m${m:+ }$ns"
	done
	[ -n "$m" ] && echo "$m"
}

# A TCP server in NS on PORT that answers "hello" to each connection.
tcp_server() {
	ip netns exec "$1" $PY - "$2" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(b'hello\n')
    c.close()
EOF
	defer "kill $! 2>/dev/null"
}

# log_query MODE NS DIR EVENT [KEY VALUE]: NS's log entries of EVENT (with
# that field, if given; logged after LOG_SINCE, a time in seconds, if set).
# MODE has: exit 0 if there is one; ts: print the time of the first (s),
# exit 1 if none; count: print how many.
log_query() {
	local r
	r=$($JQ -R -n -r --arg ev "$4" --arg k "${5:-}" --arg v "${6:-}" \
		--argjson since "${LOG_SINCE:-0}" '
		[inputs | fromjson? | objects |
		 select(.event == $ev and ($k == "" or (.[$k] | tostring) == $v) and
			(.ts // 0) > $since)] |
		"\(length) \(.[0].ts // "")"' "$3/$2.log" 2>/dev/null) || r="0 "
	case $1 in
	has) [ "${r%% *}" -gt 0 ] ;;
	ts) [ "${r%% *}" -gt 0 ] && echo "${r#* }" ;;
	count) echo "${r%% *}" ;;
	esac
}

log_has() { log_query has "$@"; }	# NS DIR EVENT [KEY VALUE]
log_ts() { log_query ts "$@"; }		# NS DIR EVENT [KEY VALUE]
log_count() { log_query count "$@"; }	# NS DIR EVENT [KEY VALUE]

# ms_between T0 T1: milliseconds from T0 to T1 (seconds).
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { d = (b - a) * 1000; printf "%d\n", d < 0 ? d - 0.5 : d + 0.5 }'; }

# Fails when a daemon's log shows an error or its stderr is not empty.
logs_clean() {
	local dir=$1 ns bad=0
	shift
	for ns in "$@"; do
		if grep -q '"level":"error"' "$dir/$ns.log" 2>/dev/null || [ -s "$dir/$ns.err" ]; then
			echo "$ns:"; grep '"level":"error"' "$dir/$ns.log"; cat "$dir/$ns.err"
			bad=1
		fi
	done
	return $bad
}

# ---- faults and what other hosts see ------------------------------------------

# took_over DIR PEER NS...: one of NS... logged a takeover of PEER.
took_over() {
	local dir=$1 peer=$2 ns
	shift 2
	for ns in "$@"; do
		log_has "$ns" "$dir" takeover peer "$peer" && return 0
	done
	return 1
}

# takeovers_of_awake DIR "AWAKE..." NS...: the takeovers of hosts in AWAKE
# that NS... logged (peer names, one per line).
takeovers_of() {
	local dir=$1 awake=" $2 " ns
	shift 2
	for ns in "$@"; do
		$JQ -R -r --arg awake "$awake" 'fromjson? | objects |
			select(.event == "takeover") | (.peer | tostring) as $p |
			select($awake | contains(" \($p) ")) |
			"\(.host) took \(.peer) over (\(.reason))"' "$dir/$ns.log" 2>/dev/null
	done
}

# neigh_owned NS PEER-NS...: NS's neighbour entries for each PEER-NS's
# IPv4 address are PEER-NS's own MAC (or absent, never another MAC).
neigh_owned() {
	local ns=$1 p n mac bad=0
	shift
	for p in "$@"; do
		n=${p#s}
		mac=$(neigh_mac "$ns" "$(snet_addr "$n")")
		if [ -n "$mac" ] && [ "$mac" != "$(ns_mac "$p")" ]; then
			echo "$ns sees $p ($(snet_addr "$n")) at $mac, not $(ns_mac "$p")"
			bad=1
		fi
	done
	return $bad
}

# port_filter PORT-DEV "MATCH... action drop": a filter on a host's bridge
# port (its egress is the host's receive path), removed on exit.
port_filter() {
	local dev=$1
	shift
	tc qdisc show dev "$dev" | grep -q clsact ||
		{ tc qdisc add dev "$dev" clsact && defer "tc qdisc del dev $dev clsact"; }
	tc filter add dev "$dev" egress "$@"
}

# drop_msg_type NS TYPE: NS receives no peer-protocol message of TYPE
# (u32 on the UDP payload: IPv4 header without options, UDP, 5th byte).
drop_msg_type() {
	modprobe cls_u32 2>/dev/null
	port_filter "$1-p" pref 10 protocol ip u32 match ip protocol 17 0xff \
		match ip dport 7789 0xffff match u8 "$2" 0xff at 33 action drop
}

# tcp_lands NS ADDR PORT: a connection from NS reaches the service (it
# answers "hello"), not an interception.
tcp_lands() {
	local out
	out=$(ip netns exec "$1" timeout "${4:-5}" nc -w "$((${4:-5} - 1))" "$2" "$3" < /dev/null 2>&1) &&
		[ "$out" = hello ]
}

# The module's state for ADDR in NS is awake and not managed.
kpeer_free() {
	[ "$(peer_field "$1" "$2" managed)" != true ]
}
