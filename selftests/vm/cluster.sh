#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The multi-VM runner: boots NODES test VMs (separate kernels), joined by
# a virtual Ethernet hub (hub.py: qemu "-netdev dgram" NICs on unix
# sockets, nothing on the host's network), each running the same list of
# tests through guest.sh; the tests play their node's part and meet
# through the output folder, which every VM shares.  Decides on the host,
# from each VM's logs, whether the run passed.  Prints KTAP.
#
#   cluster.sh [--kver 6.12] [--tests "cluster ..."] [--nodes N]
#              [--list "PATH TIMEOUT"] [--summary FILE] [--no-build]
#
# --tests takes directories (those with a cluster.conf) or dir/prog
# entries; --nodes defaults to the largest "nodes=" of their directories'
# cluster.conf (3 without one); --list gives the programs directly (paths relative to
# selftests/, the demo's is ../scripts/demo/demo_vm.sh), and then only
# userspace is built.  A node's test that prints "VRDMA-CLUSTER-KILL" on its report
# is killed at once (SIGKILL to its qemu: a host that dies): its missing
# end-of-tests marker is then expected.  --summary: print that file of the
# output folder at the end (the demo's summary).
#
# Logs: build/vm/cluster-<release>/nodeN/{console,tests}.log, the shared
# folder build/vm/cluster-<release>/share/.
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$SRCDIR/selftests/vm
. "$HERE/vmlib.sh"

kver=6.12 tests=cluster nodes= summary= build=1 standalone=1 list=
while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--nodes) nodes=$2; shift 2 ;;
	--summary) summary=$2; shift 2 ;;
	--list) list=$2; shift 2 ;;
	--no-build) build=; shift ;;
	--hooked) standalone=; shift ;;	# run by check.sh: no plan line
	*) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case "${nodes:-3}" in [2-9]) ;; *) echo "cluster.sh: --nodes must be 2 to 9" >&2; exit 2 ;; esac

passed=0 failed=0 skipped=0 num=0
report() {	# report RESULT NAME [DIRECTIVE]
	num=$((num + 1))
	case "$1" in
	ok) if [ "${3:-}" = SKIP ]; then skipped=$((skipped + 1)); else passed=$((passed + 1)); fi ;;
	*) failed=$((failed + 1)) ;;
	esac
	local line="$1 $num $2"
	[ -n "${3:-}" ] && line="$line # $3"
	echo "$line"
}
note() { echo "# $*"; }
finish() {
	if [ -n "$standalone" ]; then
		echo "1..$num"
		echo "$passed passed, $failed failed, $skipped skipped"
	fi
	[ "$failed" -eq 0 ]
	exit $?
}

[ -n "$standalone" ] && echo "KTAP version 1"

# --- tests: "dir/prog timeout" lines -------------------------------------------
# A directory's "make list" prints "prog [timeout]"; without a timeout,
# its kselftest "settings" file gives it (timeout=SECONDS), else 300.
list_dir() {	# list_dir DIR
	local t
	t=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' "$SRCDIR/selftests/$1/settings" 2>/dev/null)
	make -s --no-print-directory -C "$SRCDIR/selftests/$1" list |
		awk -v d="$1" -v t="${t:-300}" 'NF { print d "/" $1, (NF > 1 ? $2 : t) }'
}
list_tests() {
	local t
	for t in $tests; do
		t=${t#selftests/}; t=${t%/}
		if [ -d "$SRCDIR/selftests/$t" ]; then
			list_dir "$t"
		else
			list_dir "$(dirname "$t")" | awk -v t="$t" '$1 == t'
		fi
	done
}
if [ -n "$list" ]; then
	test_list=$list
else
	test_list=$(list_tests)
fi
if [ -z "$test_list" ]; then
	report "not ok" "cluster: test selection '$tests' matches no test"
	finish
fi
if [ -z "$nodes" ]; then
	nodes=$(for d in $(printf '%s\n' "$test_list" | awk '{ print $1 }' | xargs -n 1 dirname | sort -u); do
		sed -n 's/^nodes=\([2-9]\)$/\1/p' "$SRCDIR/selftests/$d/cluster.conf" 2>/dev/null
	done | sort -n | tail -n 1)
	nodes=${nodes:-3}
fi

mkdir -p "$BUILD/logs"
if [ -n "$build" ]; then
	for part in userspace ${list:+-}selftests; do
		[ "$part" = -selftests ] && continue
		if ! make -C "$SRCDIR" "$part" > "$BUILD/logs/cluster-$part.log" 2>&1 ||
		   grep -qE '(warning|error):' "$BUILD/logs/cluster-$part.log"; then
			tail -n 20 "$BUILD/logs/cluster-$part.log" | sed 's/^/# /'
			report "not ok" "cluster: $part builds without warnings"
			finish
		fi
	done
fi
if ! vm_module "$kver" "$BUILD/logs/cluster-module-$kver.log" || ! vm_initramfs; then
	report "not ok" "$kver: cluster VMs prepared" "$VM_ERR"
	finish
fi

out=$BUILD/vm/cluster-$VM_REL
share=$out/share
rm -rf "$out"
mkdir -p "$share/cluster"
printf '%s\n' "$test_list" > "$share/tests.txt"
cp "$VM_KO" "$share/vrdma.ko"
tmo=$(awk '{ t += ($2 ? $2 : 300) } END { print t + 240 }' "$share/tests.txt")
accel=$(vm_accel)

# The hub, then the VMs: one vCPU and 1 GiB each.
socks=()
for ((i = 1; i <= nodes; i++)); do
	mkdir -p "$out/node$i"
	socks+=("$out/node$i/nic.sock")
done
python3 "$HERE/hub.py" "$out/hub.sock" "${socks[@]}" 2> "$out/hub.log" &
hub_pid=$!
trap 'kill $hub_pid 2>/dev/null' EXIT

# One VM slot (2 vCPUs, 2 GiB) per two of these VMs (1 vCPU, 1 GiB).
vm_lock $(((nodes + 1) / 2)) "$kver cluster"
note "$kver: booting $nodes VMs of $VM_REL ($accel), $(grep -c . "$share/tests.txt") tests, limit ${tmo}s"
t0=$SECONDS
declare -A qpid killed
for ((i = 1; i <= nodes; i++)); do
	qemu-system-x86_64 $accel -smp 1 -m 1024 \
		-nodefaults -display none -no-reboot \
		-kernel "$VM_KTREE/boot/vmlinuz-$VM_REL" -initrd "$VM_INITRD" \
		-append "$(vm_append vmtest.node=$i vmtest.nodes=$nodes)" \
		-fsdev local,id=root,path=/,readonly=on,multidevs=remap,security_model=none \
		-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
		-fsdev local,id=src,path="$SRCDIR",readonly=on,multidevs=remap,security_model=none \
		-device virtio-9p-pci,fsdev=src,mount_tag=vrdmasrc \
		-fsdev local,id=out,path="$share",security_model=none \
		-device virtio-9p-pci,fsdev=out,mount_tag=vrdmaout \
		-netdev dgram,id=n0,local.type=unix,local.path="$out/node$i/nic.sock",remote.type=unix,remote.path="$out/hub.sock" \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:99:00:0$i \
		-serial file:"$out/node$i/console.log" -serial file:"$out/node$i/tests.log" \
		< /dev/null > "$out/node$i/qemu.log" 2>&1 &
	qpid[$i]=$!
	killed[$i]=
done

# Wait for every VM; kill those whose test asks for it (a dead host),
# and every one still running at the run's time limit.
timed_out=
while :; do
	alive=0
	if [ $((SECONDS - t0)) -gt "$tmo" ] && [ -z "$timed_out" ]; then
		timed_out=1
		note "time limit (${tmo}s) reached: stopping the VMs"
		for ((i = 1; i <= nodes; i++)); do
			kill -KILL "${qpid[$i]}" 2>/dev/null
		done
	fi
	for ((i = 1; i <= nodes; i++)); do
		kill -0 "${qpid[$i]}" 2>/dev/null || continue
		alive=$((alive + 1))
		if [ -z "${killed[$i]}" ] &&
		   grep -q 'VRDMA-CLUSTER-KILL' "$out/node$i/tests.log" 2>/dev/null; then
			kill -KILL "${qpid[$i]}"
			killed[$i]=1
			touch "$share/cluster/killed.$i"
			note "node$i: killed at the test's request ($((SECONDS - t0))s)"
		fi
	done
	[ "$alive" -eq 0 ] && break
	sleep 0.5
done
for ((i = 1; i <= nodes; i++)); do
	wait "${qpid[$i]}"
	qrc[$i]=$?
done
vm_unlock
kill "$hub_pid" 2>/dev/null
wait "$hub_pid" 2>/dev/null
note "$kver: cluster ran $((SECONDS - t0))s"

# --- judgement, from each node's logs ----------------------------------------
for ((i = 1; i <= nodes; i++)); do
	tlog=$out/node$i/tests.log clog=$out/node$i/console.log
	touch "$tlog" "$clog"
	tr -d '\r' < "$tlog" > "$tlog.txt"
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			res=${line%% [0-9]*}
			line=${line#"$res" }
			line=${line#* }
			dir=
			case "$line" in *" # "*) dir=${line##* # }; line=${line%% # *} ;; esac
			if [ "$res" = ok ] && [ "$dir" = SKIP ]; then
				report ok "$kver: node$i: $line" SKIP
			else
				report "$res" "$kver: node$i: $line" "$dir"
			fi
			;;
		"#"*) echo "# node$i: ${line#\# }" ;;
		esac
	done < "$tlog.txt"
	if grep -q '^VRDMA-TESTS-END' "$tlog.txt"; then
		report ok "$kver: node$i: VM completed the run"
	elif [ -n "${killed[$i]}" ]; then
		report ok "$kver: node$i: VM killed by its test (a host that dies)"
	else
		why="no end-of-tests marker"
		[ -n "$timed_out" ] && why="VM timed out (hung?)"
		grep -q 'Kernel panic' "$clog" && why="kernel panic"
		grep -q 'VRDMA-VM-FATAL' "$tlog.txt" && why=$(grep 'VRDMA-VM-FATAL' "$tlog.txt" | head -n 1)
		report "not ok" "$kver: node$i: VM completed the run" "$why; see ${clog#$SRCDIR/}"
	fi
	bad=$(vm_kernel_problems "$clog")
	if [ -z "$bad" ]; then
		report ok "$kver: node$i: kernel log clean"
	else
		printf '%s\n' "$bad" | sed 's/^/# kernel: /'
		report "not ok" "$kver: node$i: kernel log clean" "see ${clog#$SRCDIR/}"
	fi
done

if [ -n "$summary" ] && [ -f "$share/$summary" ]; then
	echo
	cat "$share/$summary"
	echo
fi
finish
