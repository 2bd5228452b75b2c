# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the conformance selftests.  Source after lib.sh, topo.sh and
# ../verbs/verbs_lib.sh.

CONF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3		# Debian's, which has pyverbs

require_pyverbs() {
	"$PY" -c 'import pyverbs.device, pyverbs.cmid' 2> /dev/null && return 0
	echo "# python3-pyverbs is not installed (scripts/deps.sh installs it)"
	exit "$KSFT_SKIP"
}

# conf_setup: host 1 (rxe1 in init_net, its own address reachable, as on a
# real machine) and container c1_1 with vr1_1; one KTAP line; bails out
# when it fails.
conf_setup() {
	if vrdma_load && topo_hosts 1 && topo_container 1 1 > /dev/null &&
	   host_self_local 1 && vdev_add vr1_1 c1_1 1 && map_add "$(ct_addr 1 1)" 1; then
		ktap_ok "rxe1 in init_net, vr1_1 in c1_1"
		return 0
	fi
	ktap_fail "rxe1 in init_net, vr1_1 in c1_1"
	ktap_finish
}

# conf_py NETNS PROG ARGS...: a Python test program of this directory (in
# NETNS, "" = here), its TAP output as diagnostics; returns its status.
conf_py() {
	local ns=$1 prog=$2
	shift 2
	run_in "$ns" timeout -k 5 300 "$PY" "$CONF_DIR/$prog" "$@" < /dev/null 2>&1 |
		sed -u 's/^/# /'
	return "${PIPESTATUS[0]}"
}

# conf_check DESCRIPTION NETNS PROG ARGS...: one KTAP line for conf_py.
conf_check() {
	local desc=$1
	shift
	if conf_py "$@"; then ktap_ok "$desc"; else ktap_fail "$desc"; fi
}
