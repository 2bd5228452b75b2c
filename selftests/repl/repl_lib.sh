# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the replication selftests: a chain of simulated hosts.
#
#   repl_setup N            hosts 1..N (topo.sh), the module, a data folder
#   repl_group NAME SIZE [MEMBERS] [EXTRA...]
#                           create a group whose members are hosts 1..3
#                           (or the comma list MEMBERS of host numbers),
#                           authority and client on host N (the last one)
#   repl_wait_active NAME N wait until N members are active and the client
#                           is connected
#   repl_file NAME H        the backing file of host H's member
#
# Backing files live on $VRDMA_SCRATCH (a real ext4 disk of the VM) when it
# exists, else under /var/tmp.
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"

REPL_HOSTS=0
REPL_MODPARAMS=${REPL_MODPARAMS:-dyndbg=+p}
REPL_DIR=

repl_setup() {
	REPL_HOSTS=$1
	topo_hosts "$1" || return 1
	vrdma_load ${REPL_MODPARAMS:-} || return 1
	REPL_DIR=${VRDMA_SCRATCH:-/var/tmp}/repl.$$
	mkdir -p "$REPL_DIR" || return 1
	defer rm -rf "$REPL_DIR"
	return 0
}

repl_file() { echo "$REPL_DIR/$1-$(host_addr "$2").img"; }

# repl_group NAME SIZE [MEMBERS] [EXTRA ARGS...]
repl_group() {
	local name=$1 size=$2 hosts=${3:-1,2,3} members= h
	shift 3 2>/dev/null || shift $#
	for h in ${hosts//,/ }; do
		members=${members:+$members,}$(host_addr "$h")
	done
	"$VRDMACTL" repl group add "$name" members "$members" size "$size" \
		file "$REPL_DIR/$name-%a.img" \
		authority "$(host_addr "$REPL_HOSTS")" \
		client "$(host_addr "$REPL_HOSTS")" "$@" || return 1
	defer "$VRDMACTL" repl group del "$name"
}

# The JSON of a group.
repl_json() { "$VRDMACTL" -j repl group show "$1"; }

# repl_count NAME STATE: members of this host in STATE
repl_count() {
	repl_json "$1" | /usr/bin/python3 -c '
import json, sys
g = json.load(sys.stdin)[0]
print(sum(1 for m in g["members"] if m.get("state") == sys.argv[1]))' "$2"
}

repl_client_state() {
	repl_json "$1" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)[0].get("client_state"))'
}

repl_is_active() {	# NAME N
	[ "$(repl_count "$1" active)" = "$2" ] &&
	[ "$(repl_client_state "$1")" = active ]
}

repl_wait_active() {	# NAME N [TIMEOUT]
	wait_for "${3:-30}" repl_is_active "$1" "$2"
}

# Show a group in the diagnostics.
repl_diag() { ktap_diag "$("$VRDMACTL" -d repl group show "$1" 2>&1)"; }
