#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The security of the peer protocol: an attacker on the link (namespace
# ev) sends forged messages (another key), replays genuine ones it
# captured, and sends well-keyed but unverified or malformed messages; none
# of them changes any daemon's view.  Wakes are rate limited.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/sleep_lib.sh"
require_root

[ -x "$SLEEPD" ] || { echo "# $SLEEPD not built"; exit "$KSFT_SKIP"; }

D=$(mktemp -d) || exit 1
defer rm -rf "$D"
HOSTS=(s1 s2 s3)
ID1=$(( (10 << 24) | (97 << 16) | 1 ))
ID2=$(( ID1 + 1 ))

# attack ARGS...: the attacker's tool, in ev (see the Python below).
attack() {
	ip netns exec ev $PY - "$@" <<'EOF'
import hashlib, hmac, os, socket, struct, sys, time

GROUP, PORT = '239.255.77.77', 7789
MAGIC = 0x56534c31
T_NAME, T_MAC, T_FLAGS, T_STATE, T_ADDRS, T_SUBJECT = 1, 2, 3, 4, 5, 11
HELLO, MANAGE, SLEEP = 1, 4, 6

def tlv(t, v):
    return struct.pack('!HH', t, len(v)) + v + b'\0' * (-len(v) % 4)

def msg(key, typ, sender, body, seq=1, epoch=1, boot=0x0123456789abcdef):
    hdr = struct.pack('!IBBHIIQQ', MAGIC, 2, typ, 32 + len(body) + 32,
                      sender, epoch, boot, seq)
    return hdr + body + hmac.new(key, hdr + body, hashlib.sha512).digest()[:32]

def v4(a):
    return b'\0' * 10 + b'\xff\xff' + socket.inet_aton(a)

def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                 socket.inet_aton('10.97.0.66'))
    return s

cmd = sys.argv[1]
if cmd in ('forge', 'stale', 'malformed'):
    key = bytes.fromhex(sys.argv[2])
    s = sock()
    if cmd == 'forge':
        hello = (tlv(T_NAME, b'evil') + tlv(T_MAC, b'\x02\0\0\0\0\x66') +
                 tlv(T_FLAGS, b'\1') + tlv(T_STATE, b'\0') +
                 tlv(T_ADDRS, v4('10.97.0.66')))
        s.sendto(msg(key, HELLO, 66, hello), (GROUP, PORT))
        s.sendto(msg(key, MANAGE, 66, tlv(T_SUBJECT, struct.pack('!I', int(sys.argv[3])))), (GROUP, PORT))
        s.sendto(msg(key, SLEEP, int(sys.argv[3]), b''), (GROUP, PORT))
    elif cmd == 'stale':
        # a boot of s1's daemon nobody verified (an old one, or a forgery)
        s.sendto(msg(key, SLEEP, int(sys.argv[3]), b'', seq=10**6), (GROUP, PORT))
    else:
        bad = struct.pack('!HH', T_NAME, 200) + b'x' * 8	# overruns
        s.sendto(msg(key, HELLO, int(sys.argv[3]), bad), (GROUP, PORT))
elif cmd == 'capture':
    # capture FILE SECONDS: record every datagram to the group, for
    # SECONDS or until FILE.stop exists (FILE appears once listening)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('', PORT))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton(GROUP) + socket.inet_aton('10.97.0.66'))
    s.settimeout(0.2)
    end = time.time() + float(sys.argv[3])
    with open(sys.argv[2], 'wb') as f:
        while time.time() < end and not os.path.exists(sys.argv[2] + '.stop'):
            try:
                d = s.recv(2048)
            except socket.timeout:
                continue
            f.write(struct.pack('!H', len(d)) + d)
            f.flush()
elif cmd == 'replay':
    # replay FILE TYPE SENDER: send again the captured messages of that kind
    data, n = open(sys.argv[2], 'rb').read(), 0
    s = sock()
    while data:
        l = struct.unpack('!H', data[:2])[0]
        d, data = data[2:2 + l], data[2 + l:]
        typ, sender = d[5], struct.unpack('!I', d[8:12])[0]
        if typ == int(sys.argv[3]) and sender == int(sys.argv[4]):
            s.sendto(d, (GROUP, PORT))
            n += 1
    print(n)
EOF
}

total() {	# total COUNTER: the sum over the daemons
	local h n=0
	for h in "${HOSTS[@]}"; do
		n=$((n + $(sleepd_q "$h" "$D" '.stats[$c]' --arg c "$1")))
	done
	echo "$n"
}
total_ge() { [ "$(total "$1")" -ge "$2" ]; }	# total_ge COUNTER N
views_ok() {	# s1 and s2 awake and unmanaged in every view, no "evil"
	local h
	for h in "${HOSTS[@]}"; do
		[ "$(sleepd_q "$h" "$D" '(any(.peers[]; .name == "evil" or .id == 66) | not) and
			all(.peers[] | select(.name == "s1" or .name == "s2");
			    .state == "awake" and (.manager // "") == "")')" = true ] || return 1
	done
}

ktap_plan 9

vrdma_load || { ktap_fail "vrdma loads"; ktap_finish; }
snet_reset
snet_bridge && snet_host ev 66 || { ktap_fail "namespaces"; ktap_finish; }
# One wake per sleeper per minute at most: the rate limit below does not
# depend on how fast five requests follow each other under emulation.
W60="[manage]
wake-interval = 60"
for i in 1 2 3; do
	snet_host "s$i" "$i" && sleepd_start "s$i" "$i" "$D" "$W60" ||
		{ ktap_fail "host s$i and its daemon"; ktap_finish; }
done
wait_for 15 sleepd_all_awake "$D" "${HOSTS[@]}" || { ktap_fail "daemons see each other"; ktap_finish; }

# ---- forgeries --------------------------------------------------------------------
a0=$(total auth_fail)
attack forge "$(printf '%064x' 7)" "$ID1"
wait_for 10 total_ge auth_fail $((a0 + 9))
a1=$(total auth_fail)
if [ $((a1 - a0)) -ge 9 ] && views_ok; then
	ktap_ok "forged HELLO, MANAGE and SLEEP (another key) are dropped by all three ($((a1 - a0)))"
else
	ktap_fail "forged messages are dropped ($((a1 - a0)) of 9 counted)"
fi
ktap_check_fails "nobody took s1 over" grep -q '"event":"takeover"' "$D/s2.log" "$D/s3.log"

r0=$(total replay)
attack stale "$TEST_KEY" "$ID1"
wait_for 10 total_ge replay $((r0 + 2))
if [ $(($(total replay) - r0)) -ge 2 ] && views_ok; then
	ktap_ok "a well-keyed SLEEP of a boot of s1 nobody verified is dropped (and s1 is challenged)"
else
	ktap_fail "a well-keyed SLEEP of an unverified boot of s1 is dropped ($(($(total replay) - r0)))"
fi
m0=$(total malformed)
attack malformed "$TEST_KEY" "$ID1"
wait_for 10 total_ge malformed $((m0 + 2))
if [ $(($(total malformed) - m0)) -ge 2 ] && views_ok; then
	ktap_ok "a well-keyed HELLO whose TLV overruns the message is dropped as malformed"
else
	ktap_fail "a malformed HELLO is dropped ($(($(total malformed) - m0)))"
fi

# ---- replays ------------------------------------------------------------------------
attack capture "$D/cap" 30 &
cap=$!
wait_for 10 test -e "$D/cap"
"$VRDMACTL" sleep request sleep socket "$D/s2.sock" > /dev/null
wait_for 8 manager_of "$D" s2 s1 s3 > /dev/null
# Wakes are rate limited: five requests, one magic packet.
w0=$(sleepd_q s1 "$D" .stats.wakes)
for i in 1 2 3 4 5; do "$VRDMACTL" sleep request wake s2 socket "$D/s1.sock" > /dev/null; done
w1=$(sleepd_q s1 "$D" .stats.wakes)
lim=$(sleepd_q s1 "$D" .stats.wakes_limited)
if [ $((w1 - w0)) -eq 1 ] && [ "$lim" -ge 4 ]; then
	ktap_ok "wakes are rate limited: 5 requests, 1 magic packet, $lim limited"
else
	ktap_fail "wakes are rate limited: 5 requests, $((w1 - w0)) magic packets, $lim limited"
fi
wait_for 10 views_ok
touch "$D/cap.stop"
wait "$cap"
r0=$(total replay)
n=$(attack replay "$D/cap" 6 "$ID2")	# s2's genuine SLEEP messages
wait_for 10 total_ge replay $((r0 + 2 * ${n:-1}))
if [ "${n:-0}" -ge 1 ] && [ $(($(total replay) - r0)) -ge $((2 * n)) ] && views_ok; then
	ktap_ok "replayed genuine SLEEP of s2 ($n captured) are dropped: s2 stays awake, unmanaged"
else
	ktap_fail "replayed SLEEP of s2 are dropped ($n captured, $(($(total replay) - r0)) counted)"
fi
r0=$(total replay)
n=$(attack replay "$D/cap" 1 "$ID1")	# s1's HELLOs
wait_for 10 total_ge replay $((r0 + ${n:-1}))
if [ "${n:-0}" -ge 1 ] && [ $(($(total replay) - r0)) -ge "$n" ]; then
	ktap_ok "replayed HELLOs of s1 are dropped ($n sent)"
else
	ktap_fail "replayed HELLOs of s1 are dropped ($n sent, $(($(total replay) - r0)) counted)"
fi
ktap_check "every view is still right" views_ok
ktap_check "the daemons logged no error" logs_clean "$D" "${HOSTS[@]}"
if [ "$KTAP_FAIL" -gt 0 ]; then
	for h in "${HOSTS[@]}"; do ktap_diag "== $h" "$(grep -v '"hello"' "$D/$h.log" | tail -n 30)"; done
fi
ktap_finish
