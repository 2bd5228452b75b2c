#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tunnelled MADs arrive while virtual devices are created and deleted:
#
#   c1_1 vrkeep (keeps rxe1's MAD tunnel open) --+
#   c1_2 vrspray (created and deleted 30 times) --+-- rxe1 (host 1)
#   host 2: a process sprays well-formed tunnelled MADs of vni 0 at
#           rxe1's control port (no cluster key: unauthenticated), from
#           an address the map places on host 2, for an address nobody
#           holds
#
# Every MAD is matched against the devices of its vni on rxe1, a device
# being created included: nothing may look at a device before it is
# registered (its GID table does not exist yet).  The kernel log must stay
# clean (the test checks it too), and every creation must succeed.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

ROUNDS=30

ktap_plan 3
topo_hosts 2 && vrdma_load || { echo "Bail out! setup"; exit 1; }
modprobe rdma_ucm
PORT=$(cat /sys/module/vrdma/parameters/ctrl_port)
# The MADs' source lives on host 2: the tunnel accepts them from there.
"$VRDMACTL" map add 10.244.2.99 via "$(host_addr 2)"
defer "$VRDMACTL" map del 10.244.2.99
topo_container 1 1 > /dev/null
topo_container 1 2 > /dev/null
"$VRDMACTL" dev add vrkeep netns c1_1 netdev eth0 phys rxe1 || { echo "Bail out! dev add"; exit 1; }
defer "$VRDMACTL" dev del vrkeep
# The tunnel opens with the device's QP1 (ib_mad creates it at registration).
wait_for 20 bash -c "ss -Hlun 'sport = :$PORT' | grep -q ." ||
	{ echo "Bail out! no tunnel socket on port $PORT"; exit 1; }

oops_before=$(dmesg | grep -cE 'BUG:|Oops|general protection')
# struct vrdma_ctrl_hdr (ctrl.h, type 32: a MAD), struct vrdma_gsi_hdr
# (gsi.c) and a 256-byte MAD, sent through h2.
/usr/bin/python3 - "$(host_addr 1)" "$(host_addr 2)" "$PORT" > /tmp/spray.log 2>&1 <<'EOF' &
import ipaddress, socket, struct, sys, time
dst, src, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
sgid = ipaddress.IPv6Address("::ffff:10.244.2.99").packed
dgid = ipaddress.IPv6Address("::ffff:10.244.1.99").packed
mad = bytes([1, 7, 2, 0x10]) + bytes(252)
gsi = struct.pack(">IIIIIIHH16s16s", 0x76524d31, len(mad), 0, 1, 1,
                  0x80010000, 0xffff, 0, sgid, dgid) + mad
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"h2")
s.bind((src, 0))
print("spraying", flush=True)
n, end = 0, time.time() + 300
while time.time() < end:
    hdr = struct.pack(">IBBHIIQ", 0x56524354, 2, 32, 0, len(gsi), 0,
                      time.time_ns() + n)
    try:
        s.sendto(hdr + gsi, (dst, port))
        n += 1
    except OSError:
        time.sleep(0.001)
    if n % 10000 == 0:
        print("sent", n, flush=True)
EOF
spray=$!
defer "kill $spray 2>/dev/null"
# (python3 alone takes seconds to start from the VM's 9p root)
wait_for 60 grep -q '^spraying' /tmp/spray.log || { echo "Bail out! spray: $(cat /tmp/spray.log)"; exit 1; }

fails=0
for ((i = 0; i < ROUNDS; i++)); do
	"$VRDMACTL" dev add vrspray netns c1_2 netdev eth0 phys rxe1 > /dev/null || fails=$((fails + 1))
	"$VRDMACTL" dev del vrspray || fails=$((fails + 1))
done
kill $spray 2>/dev/null
wait $spray 2>/dev/null
ktap_diag "spray: $(tail -n 1 /tmp/spray.log) datagrams"
[ "$fails" = 0 ] && ktap_ok "$ROUNDS devices created and deleted under the spray" ||
	ktap_fail "$ROUNDS devices created and deleted under the spray ($fails failures)"
oops=$(( $(dmesg | grep -cE 'BUG:|Oops|general protection') - oops_before ))
[ "$oops" = 0 ] && ktap_ok "no oops" || { ktap_diag "$(dmesg | grep -A5 -E 'BUG:|Oops' | head -n 30)"; ktap_fail "no oops ($oops)"; }
# The tunnel still works: a connection between the two containers.
"$VRDMACTL" dev add vrspray netns c1_2 netdev eth0 phys rxe1 > /dev/null &&
	defer "$VRDMACTL" dev del vrspray
in_ct c1_2 timeout 60 rping -s -a "$(ct_addr 1 2)" -p 7480 -C 2 > /tmp/spray-srv.log 2>&1 &
srv=$!
ok=0
for i in 1 2 3 4 5; do
	sleep 1
	in_ct c1_1 timeout 60 rping -c -a "$(ct_addr 1 2)" -p 7480 -C 2 > /dev/null 2>&1 && { ok=1; break; }
done
wait $srv
[ $ok = 1 ] && ktap_ok "rping between the containers afterwards" ||
	ktap_fail "rping between the containers afterwards"

ktap_finish
