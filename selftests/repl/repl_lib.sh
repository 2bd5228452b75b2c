# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the replication selftests: a chain of simulated hosts.
#
#   repl_setup N            hosts 1..N (topo.sh), the module (loaded again
#                           with the cluster key $REPL_KEY: replication
#                           needs one), a data folder
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
REPL_MODPARAMS=${REPL_MODPARAMS:-}
REPL_KEY=${REPL_KEY:-5265706c69636174696f6e2074657374206b65792c206e6f7420612073656372}
REPL_DIR=

repl_setup() {
	REPL_HOSTS=$1
	topo_hosts "$1" || return 1
	vrdma_unload || return 1
	modprobe vrdma ctrl_key="$REPL_KEY" ${REPL_MODPARAMS:-} || return 1
	defer vrdma_unload
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

REPL_TOOL=$(cd "$(dirname "$0")" && pwd)/repl_tool

# repl_field NAME INDEX KEY: a member's field (by configuration index)
repl_field() {
	repl_json "$1" | /usr/bin/python3 -c '
import json, sys
g = json.load(sys.stdin)[0]
for m in g["members"]:
    if m["index"] == int(sys.argv[1]):
        print(m.get(sys.argv[2]))' "$2" "$3"
}

# The 64-bit little-endian word at OFFSET of FILE, in decimal.
file_u64() { od -A n -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }

# Compare LEN bytes of FILE at OFFSET with SRC.
file_has() {	# FILE OFFSET SRC
	cmp -s -n "$(stat -c %s "$3")" <(tail -c +"$(($2 + 1))" "$1") "$3"
}

# The same, read with O_DIRECT (what is on the disk).
file_has_direct() {	# FILE OFFSET(4K-aligned) SRC(4K multiple)
	local n=$(($(stat -c %s "$3") / 4096))
	dd if="$1" bs=4096 skip=$(($2 / 4096)) count="$n" iflag=direct \
		status=none 2>/dev/null | cmp -s - "$3"
}
