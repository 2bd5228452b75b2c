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

mapfile -t tests < <(grep -v -e '^#' -e '^[[:space:]]*$' "$VRDMA_OUT/tests.txt")
n=${#tests[@]}
echo "KTAP version 1"
echo "1..$((n + 1))"
kernel_log_clean > /dev/null || true   # boot messages are judged by the host

i=0
for entry in "${tests[@]}"; do
	i=$((i + 1))
	read -r path tmo <<< "$entry"
	tmo=${tmo:-300}
	dir=$SELFTESTS/$(dirname "$path")
	prog=$(basename "$path")
	echo "# $path: starting (timeout ${tmo}s)"
	echo "vrdma-selftests: start $path" > /dev/kmsg
	start=$(date +%s)
	(cd "$dir" && exec timeout -k 10 "$tmo" "./$prog") 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
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
kernel_log_clean || msg=" # kernel log shows a problem"
if [ -z "$msg" ]; then echo "ok $i unload and leak audit"; else echo "not ok $i unload and leak audit$msg"; fi

dmesg > "$VRDMA_OUT/dmesg.txt" 2>/dev/null
echo "vrdma-selftests: end of tests" > /dev/kmsg
echo "VRDMA-TESTS-END"
