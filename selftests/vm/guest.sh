#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM, chrooted into the host's root (see init.sh).
# Runs every test listed in $VRDMA_OUT/tests.txt and reports in KTAP on
# stdout (the VM's second serial port).  It only reports: check.sh, on the
# host, decides whether the run passed, from this report and from the
# kernel log on the first serial port.
#
# tests.txt: one test per line, "PATH [TIMEOUT]", PATH relative to
# selftests/.  A test passes with exit status 0, is skipped with 4
# (kselftest's KSFT_SKIP), and fails otherwise.  A test after which the
# kernel log shows a problem (kernel-log-patterns) fails too.
set -u

export VRDMA_OUT=/run/vrdma/out
SELFTESTS=$VRDMA_SRC/selftests
PATTERNS=$SELFTESTS/vm/kernel-log-patterns

# modprobe on PATH that knows the extracted module tree, so tests simply
# run "modprobe vrdma".
mkdir -p /run/vrdma/bin
cat > /run/vrdma/bin/modprobe <<EOT
#!/bin/sh
exec /sbin/modprobe -d "$VRDMA_KTREE" "\$@"
EOT
chmod 0755 /run/vrdma/bin/modprobe
export PATH=/run/vrdma/bin:$PATH

ulimit -c 0
hostname vrdma-vm
ip link set lo up

# A scratch ext4 file system on a real (virtio) block device, for tests
# that check durability: $VRDMA_SCRATCH.
export VRDMA_SCRATCH=/run/vrdma/scratch
mkdir -p "$VRDMA_SCRATCH"
if modprobe virtio_blk && modprobe ext4 && [ -b /dev/vda ] &&
   mkfs.ext4 -q -F /dev/vda && mount /dev/vda "$VRDMA_SCRATCH"; then
	:
else
	echo "# no scratch disk: tests that need one will skip"
	rmdir "$VRDMA_SCRATCH"
fi

# The tests' knobs check.sh passed on (FUZZ_SEED, NL_FUZZ_COUNT, ...).
if [ -s "$VRDMA_OUT/env" ]; then
	knob='^[A-Z][A-Z0-9_]*=[A-Za-z0-9_.,:/+ -]*$'
	while IFS= read -r kv; do
		[[ $kv =~ $knob ]] && export "$kv"
	done < "$VRDMA_OUT/env"
	echo "# environment:" $(cat "$VRDMA_OUT/env")
fi

log_lines=0
# Print kernel log lines that are new since the last call and match a
# problem pattern; return 0 when there is none.
kernel_log_clean() {
	local now bad
	now=$(dmesg | wc -l)
	bad=$(dmesg | tail -n +"$((log_lines + 1))" |
		grep -E -f <(grep -v '^#' "$PATTERNS") || true)
	log_lines=$now
	[ -z "$bad" ] && return 0
	printf '%s\n' "$bad" | head -n 40 | sed 's/^/# kernel: /'
	return 1
}

# The debug kernel (KASAN, lockdep, ...) runs everything several times
# slower: check.sh passes a factor for the tests' time limits.
tscale=$(sed -n 's/.*vmtest\.tscale=\([0-9]*\).*/\1/p' /proc/cmdline)
tscale=${tscale:-1}

# kmemleak (debug kernel): what boot left unreferenced is not the tests'
# doing; forget it, and scan again after the last test.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w "$KMEMLEAK" ]; then
	echo scan > "$KMEMLEAK"
	echo clear > "$KMEMLEAK"
fi

# Each test runs in its own cgroup: whatever it leaves running when it
# ends (a daemon in a namespace, the children of a test killed by its
# time limit) is killed there, and the network namespaces it leaves are
# removed, so that the next test starts from a clean machine.
CGROOT=/sys/fs/cgroup
grep -q "^cgroup2 $CGROOT " /proc/mounts || mount -t cgroup2 cgroup2 "$CGROOT"
TESTCG=$CGROOT/vrdma-test
cleanup_after_test() {
	local left
	if [ -f "$TESTCG/cgroup.kill" ]; then
		left=$(wc -l < "$TESTCG/cgroup.procs")
		if [ "$left" -gt 0 ]; then
			echo "$1 left $left processes running: killed"
			echo 1 > "$TESTCG/cgroup.kill"
			wait_empty=50
			while [ -s "$TESTCG/cgroup.procs" ] && [ $wait_empty -gt 0 ]; do
				sleep 0.1; wait_empty=$((wait_empty - 1))
			done
		fi
		rmdir "$TESTCG" 2>/dev/null
	fi
	left=$(ip netns list | awk '{ print $1 }')
	if [ -n "$left" ]; then
		echo "$1 left network namespaces:" $left "(removed)"
		for ns in $left; do ip netns del "$ns"; done
	fi
	# ib_core's netns mode is machine-wide.  A test that set exclusive
	# mode restores it on exit, which fails while its namespaces are still
	# going away (or held by a process killed above): restore it here, so
	# that the next test sees the shared mode it expects.
	if rdma system show 2>/dev/null | grep -q 'netns exclusive'; then
		local tries=300
		while ! rdma system set netns shared 2>/dev/null && [ $tries -gt 0 ]; do
			sleep 0.1; tries=$((tries - 1))
		done
		if rdma system show 2>/dev/null | grep -q 'netns shared'; then
			echo "$1 left ib_core in exclusive netns mode (restored)"
		else
			echo "$1 left ib_core in exclusive netns mode: cannot restore ($(rdma system show 2>&1))"
		fi
	fi
}

# "BUSY TOTAL" jiffies of all CPUs so far (to tell CPU-bound tests from
# those that mostly wait).
cpu_jiffies() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t; exit }' /proc/stat
}

mapfile -t tests < <(grep -v -e '^#' -e '^[[:space:]]*$' "$VRDMA_OUT/tests.txt")
n=${#tests[@]}
echo "KTAP version 1"
echo "1..$((n + 1))"
kernel_log_clean > /dev/null || true   # boot messages are judged by the host
echo "# the tests start $(cut -d ' ' -f 1 /proc/uptime)s after boot"

i=0
for entry in "${tests[@]}"; do
	i=$((i + 1))
	read -r path tmo _ <<< "$entry"
	tmo=$(( ${tmo:-300} * tscale ))
	dir=$SELFTESTS/$(dirname "$path")
	prog=$(basename "$path")
	echo "# $path: starting (timeout ${tmo}s)"
	echo "vrdma-selftests: start $path" > /dev/kmsg
	start=$(date +%s)
	read -r busy0 total0 < <(cpu_jiffies)
	mkdir -p "$TESTCG" 2>/dev/null
	# (cleaning up inside the pipeline: a leftover process holding its
	# write end would keep it open)
	(cd "$dir" && bash -c 'echo $$ > "$0/cgroup.procs" 2>/dev/null
		exec timeout -k 10 "$1" "./$2"' "$TESTCG" "$tmo" "$prog"
	 rc=$?
	 cleanup_after_test "$path"
	 exit $rc) 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
	read -r busy1 total1 < <(cpu_jiffies)
	echo "# $path: ${secs}s, CPUs busy $(( (busy1 - busy0) * 100 / (total1 - total0 + 1) ))%"
	echo "vrdma-selftests: end $path rc=$rc" > /dev/kmsg
	directive=
	if ! kernel_log_clean; then
		result="not ok"; directive=" # kernel log shows a problem"
	elif [ "$rc" -eq 0 ]; then
		result="ok"
	elif [ "$rc" -eq 4 ]; then
		result="ok"; directive=" # SKIP"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		result="not ok"; directive=" # TIMEOUT after ${tmo}s"
	else
		result="not ok"; directive=" # exit status $rc"
	fi
	echo "$result $i $path (${secs}s)$directive"
done

# Last test: the module unloads, and its leak audit (run on unload) and
# the kernel log stay clean.
i=$((i + 1))
msg=
if grep -q '^vrdma ' /proc/modules; then
	rmmod vrdma 2>&1 | sed 's/^/# /'
	grep -q '^vrdma ' /proc/modules && msg=" # vrdma did not unload"
fi
sleep 1
# kmemleak reports an object once it has been unreferenced for two scans;
# its report goes to the kernel log, where check.sh judges it.
if [ -w "$KMEMLEAK" ]; then
	echo scan > "$KMEMLEAK"
	echo scan > "$KMEMLEAK"
	leaks=$(cat "$KMEMLEAK")
	if [ -n "$leaks" ]; then
		# one write per line (printk.devkmsg=on: not rate-limited)
		while IFS= read -r line; do
			echo "kmemleak report: $line" > /dev/kmsg
		done <<< "$leaks"
		echo "# kmemleak: $(grep -c 'unreferenced object' <<< "$leaks") unreferenced objects"
	fi
fi
kernel_log_clean || msg=" # kernel log shows a problem"
if [ -z "$msg" ]; then echo "ok $i unload and leak audit"; else echo "not ok $i unload and leak audit$msg"; fi

dmesg > "$VRDMA_OUT/dmesg.txt" 2>/dev/null
echo "vrdma-selftests: end of tests" > /dev/kmsg
echo "VRDMA-TESTS-END"
