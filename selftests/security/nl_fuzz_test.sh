#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzz the vrdma netlink family (nl_fuzz.py, driven by
# Documentation/netlink/specs/vrdma.yaml): NL_FUZZ_COUNT random and
# mutated messages over every operation, 80 % from root in the initial
# namespace, 10 % from an unprivileged user, 10 % from another network
# namespace.  make check sends 3000 (about 40 s on 6.12 under TCG);
# make fuzz (selftests/fuzz/) 30000.
# The seeds are printed: FUZZ_SEED=N reruns the same messages.
#
#   c1_1 vr11 --+-- rxe1 (host 1) ==== rxe2 (host 2) -- c2_1 vr21
#
# The fuzzer's vocabulary (names, netdevs, pids, addresses) makes some of
# its requests valid: devices, map entries, groups and sleep peers of its
# own come and go.  Every request must be answered; afterwards the family
# still answers,
# the test's own devices are intact, the module unloads with its leak
# audit clean, and the kernel's unreclaimable slab and vmalloc memory are
# back to what they were before the module was loaded (within 8 MiB).
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
SPEC=$SRC_DIR/Documentation/netlink/specs/vrdma.yaml
YNL=${LINUX_SRC:-$SRC_DIR/.cache/linux-source-6.12}/tools/net/ynl/lib
SEED=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
COUNT=${NL_FUZZ_COUNT:-3000}
SECONDS_MAX=${NL_FUZZ_SECONDS:-240}	# for each of the three callers

[ -f "$YNL/nlspec.py" ] || { echo "# no YNL library at $YNL"; exit "$KSFT_SKIP"; }

ktap_plan 7
topo_hosts 2 || { echo "Bail out! setup"; exit 1; }
topo_container 1 1 > /dev/null
topo_container 2 1 > /dev/null
ip netns del fz 2> /dev/null
ip netns add fz && defer ip netns del fz

mem() {	# unreclaimable slab + vmalloc, kB
	awk '/^SUnreclaim:|^VmallocUsed:/ { n += $2 } END { print n }' /proc/meminfo
}
vrdma_unload
mem0=$(mem)
# With a cluster key: replication refuses to create groups without one
# (ENOKEY), and the fuzzer's groups must reach the code behind that check.
vrdma_load ctrl_key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f ||
	{ echo "Bail out! modprobe"; exit 1; }
for h in 1 2; do
	"$VRDMACTL" dev add "vr${h}1" netns "c${h}_1" netdev eth0 phys "rxe$h" ||
		{ echo "Bail out! dev add"; exit 1; }
	"$VRDMACTL" map add "$(ct_addr "$h" 1)" via "$(host_addr "$h")"
done
# A process of c1_1's namespace, for the requests that name one by pid.
in_ct c1_1 sleep 600 &
pid=$!
defer "kill $pid; wait $pid"

fuzz() {	# fuzz DESC SEED COUNT [wrapper...] [-- extra args]
	local desc=$1 seed=$2 count=$3 out rc
	shift 3
	out=$("$@" /usr/bin/python3 "$HERE/nl_fuzz.py" --spec "$SPEC" --ynl "$YNL" \
		--seed "$seed" --count "$count" --seconds "$SECONDS_MAX" \
		--names vrfz0,rxe1,rxe2,g1 --netdevs eth0,h1,lo \
		--pids "$pid,1,$$" \
		--addrs "$(ct_addr 1 1),$(ct_addr 2 1),$(host_addr 1),$(host_addr 2),fd00:244::1:1" \
		$FUZZ_EXTRA 2>&1)
	rc=$?
	ktap_diag "$desc:" "$out"
	if [ $rc -eq 0 ] && grep -q "^sent $count$" <<< "$out" &&
	   grep -q '^unanswered 0$' <<< "$out"; then
		ktap_ok "$desc: $count messages, every one answered"
	else
		ktap_fail "$desc: $count messages, every one answered (exit $rc)"
	fi
}
fuzz "root, initial namespace (seed $SEED)" "$SEED" $((COUNT * 8 / 10)) env
FUZZ_EXTRA=--user fuzz "unprivileged (seed $((SEED + 1)))" $((SEED + 1)) $((COUNT / 10)) env
fuzz "another namespace (seed $((SEED + 2)))" $((SEED + 2)) $((COUNT / 10)) ip netns exec fz

# (The fuzzer never names the test's own devices.)
j=$("$VRDMACTL" -j dev show vr11 2>&1) && "$VRDMACTL" info > /dev/null &&
	ktap_ok "the family still answers, vr11 is intact" ||
	ktap_fail "the family still answers, vr11 is intact ($j)"

# Whatever the fuzzer created goes with the module.
for d in $("$VRDMACTL" -j dev show 2>/dev/null |
	   /usr/bin/python3 -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'); do
	"$VRDMACTL" dev del "$d"
done
for g in $("$VRDMACTL" -j repl group show 2>/dev/null |
	   /usr/bin/python3 -c 'import json,sys; print(" ".join(g["name"] for g in json.load(sys.stdin)))'); do
	"$VRDMACTL" repl group del "$g"
done
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
ktap_diag "unreclaimable slab + vmalloc: $mem0 kB before, $mem1 kB after"
[ $((mem1 - mem0)) -lt 8192 ] && ktap_ok "kernel memory back to its baseline" ||
	ktap_fail "kernel memory back to its baseline (+$((mem1 - mem0)) kB)"

ktap_finish
