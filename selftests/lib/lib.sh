# SPDX-License-Identifier: GPL-2.0
#
# Common helpers for vrdma's shell selftests (run as root inside the test
# VM).  Source it from a test:   . "$(dirname "$0")/../lib/lib.sh"

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$LIB_DIR/../.." && pwd)
VRDMACTL=$SRC_DIR/userspace/vrdmactl/vrdmactl

. "$LIB_DIR/ktap.sh"

KSFT_SKIP=4

# Deferred cleanup, run in reverse order on exit (like net/lib.sh defer).
__DEFERRED=()
defer() { __DEFERRED+=("$*"); }
run_deferred() {
	local i
	for ((i = ${#__DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${__DEFERRED[i]}" > /dev/null 2>&1 || true
	done
	__DEFERRED=()
}
trap run_deferred EXIT

require_root() {
	[ "$(id -u)" -eq 0 ] || { echo "# needs root"; exit $KSFT_SKIP; }
}

# Wait up to $1 seconds (fractions allowed) for a command to succeed.
wait_for() {
	local timeout=$1 end
	shift
	end=$(( $(date +%s%N) + ${timeout%.*} * 1000000000 ))
	until "$@" > /dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

module_loaded() { grep -q "^$1 " /proc/modules; }

vrdma_load() {
	module_loaded vrdma || modprobe vrdma "$@"
}

vrdma_unload() {
	module_loaded vrdma || return 0
	rmmod vrdma
}
