#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "A && B && C || fail" is meant: fail when any condition does not hold.
# shellcheck disable=SC2015
#
# The address map through vrdmactl: MAP_NEW, MAP_DEL and MAP_GET on the
# running kernel.  IPv4 and IPv6 entries, re-adding (idempotent, updates
# the host address), vni isolation, refused addresses with their extended
# ACK, permissions (unprivileged, other network namespace), the map_max
# limit, a dump larger than one message, the map count of "info", and the
# local entries derived from virtual devices on simulated hosts.  KTAP
# output; exits 4 (skip) if vrdma cannot be loaded.
#
#   [VRDMACTL=/path/to/vrdmactl] ./map_test.sh

vrdmactl_override=${VRDMACTL:-}
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/vrdmactl.sh"
. "$(dirname "$0")/../lib/topo.sh"
VRDMACTL=${vrdmactl_override:-$VRDMACTL}
PYTHON=/usr/bin/python3

set -u

# Documentation ranges: nothing in the test topology uses them.
readonly OVL4=198.51.100
readonly HOST4=203.0.113
readonly OVL6=2001:db8:100
readonly HOST6=2001:db8:203
readonly VNI_A=4242
readonly VNI_B=4243
readonly MAP_MAX_PARAM=/sys/module/vrdma/parameters/map_max

tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"

# map_json: $out = the map as JSON (fails the test on error).
map_json() {
	run -j map show
	[ "$rc" -eq 0 ] || { diag; return 1; }
}

# The number of explicit entries "info" reports.
map_count() {
	"$VRDMACTL" -j info | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["map_count"])'
}

# add ADDR VIA [VNI]: add an entry that the test's cleanup removes.
add() {
	local vni=${3:-0}

	defer "$VRDMACTL" map del "$1" vni "$vni"
	run map add "$1" via "$2" vni "$vni"
	[ "$rc" -eq 0 ] && [ -z "$out" ] && [ -z "$err" ] || { diag; return 1; }
}

test_add_show_v4() {
	local n

	n=$(map_count)
	add "$OVL4.1" "$HOST4.1" || return 1
	[ "$(map_count)" -eq $((n + 1)) ] || { echo "# map_count $(map_count), expected $((n + 1))"; return 1; }
	map_json || return 1
	json_check 'len(e("'$OVL4.1'")) == 1 and
		e("'$OVL4.1'")[0]["via"] == "'$HOST4.1'" and
		e("'$OVL4.1'")[0]["flags"] == []' || { diag; return 1; }
	run map show
	[ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -qx "$OVL4.1 via $HOST4.1" ||
		{ diag; return 1; }
}

test_add_show_v6() {
	add "$OVL6::1" "$HOST6::1" "$VNI_A" || return 1
	add "$OVL6::2" "$HOST4.2" "$VNI_A" || return 1	# IPv6 overlay, IPv4 host
	add "$OVL4.2" "$HOST6::2" "$VNI_A" || return 1	# and the reverse
	map_json || return 1
	json_check 'e("'$OVL6::1'", '$VNI_A')[0]["via"] == "'$HOST6::1'" and
		e("'$OVL6::2'", '$VNI_A')[0]["via"] == "'$HOST4.2'" and
		e("'$OVL4.2'", '$VNI_A')[0]["via"] == "'$HOST6::2'"' ||
		{ diag; return 1; }
	run -d map show
	[ "$rc" -eq 0 ] &&
		printf '%s\n' "$out" | grep -qx "$OVL6::1 via $HOST6::1 vni $VNI_A" ||
		{ diag; return 1; }
}

# Adding an entry again is not an error and changes nothing.
test_readd_idempotent() {
	local n

	add "$OVL4.3" "$HOST4.3" || return 1
	n=$(map_count)
	run map add "$OVL4.3" via "$HOST4.3"
	[ "$rc" -eq 0 ] && [ -z "$err" ] || { diag; return 1; }
	[ "$(map_count)" -eq "$n" ] || { echo "# map_count changed"; return 1; }
	map_json || return 1
	json_check 'len(e("'$OVL4.3'")) == 1' || { diag; return 1; }
}

# Adding an entry with another host address moves it.
test_readd_updates_via() {
	local n

	add "$OVL4.4" "$HOST4.4" || return 1
	n=$(map_count)
	run map add "$OVL4.4" via "$HOST6::4"
	[ "$rc" -eq 0 ] && [ -z "$err" ] || { diag; return 1; }
	[ "$(map_count)" -eq "$n" ] || { echo "# map_count changed"; return 1; }
	map_json || return 1
	json_check 'len(e("'$OVL4.4'")) == 1 and
		e("'$OVL4.4'")[0]["via"] == "'$HOST6::4'"' || { diag; return 1; }
}

test_del() {
	local n

	add "$OVL4.5" "$HOST4.5" || return 1
	n=$(map_count)
	run map del "$OVL4.5"
	[ "$rc" -eq 0 ] && [ -z "$err" ] || { diag; return 1; }
	[ "$(map_count)" -eq $((n - 1)) ] || { echo "# map_count not decremented"; return 1; }
	map_json || return 1
	json_check 'not e("'$OVL4.5'")' || { diag; return 1; }

	# Gone: deleting it again fails, with the kernel's reason.
	run map del "$OVL4.5"
	[ "$rc" -eq 1 ] &&
		[[ "$err" =~ ^vrdmactl:\ No\ such\ file\ or\ directory:\ no\ such\ entry.*\(attribute\ \'addr\'\)$ ]] ||
		{ diag; return 1; }
}

# One address, two vnis: two entries, each its own host; the default vni
# is 0, which has none.
test_vni_isolation() {
	add "$OVL4.6" "$HOST4.61" "$VNI_A" || return 1
	add "$OVL4.6" "$HOST4.62" "$VNI_B" || return 1
	map_json || return 1
	json_check 'e("'$OVL4.6'", '$VNI_A')[0]["via"] == "'$HOST4.61'" and
		e("'$OVL4.6'", '$VNI_B')[0]["via"] == "'$HOST4.62'" and
		len(e("'$OVL4.6'", '$VNI_A')) == 1 and
		not e("'$OVL4.6'", 0)' || { diag; return 1; }

	run map del "$OVL4.6"
	[ "$rc" -eq 1 ] && [[ "$err" =~ No\ such\ file ]] || { diag; return 1; }
	run map del "$OVL4.6" vni "$VNI_A"
	[ "$rc" -eq 0 ] || { diag; return 1; }
	map_json || return 1
	json_check 'not e("'$OVL4.6'", '$VNI_A') and
		e("'$OVL4.6'", '$VNI_B')[0]["via"] == "'$HOST4.62'"' ||
		{ diag; return 1; }
}

# refused ADDR VIA ATTR PATTERN: the kernel refuses the entry with EINVAL,
# a message matching PATTERN, pointing at attribute ATTR.
refused() {
	run map add "$1" via "$2"
	[ "$rc" -eq 1 ] && [ -z "$out" ] &&
		[[ "$err" =~ ^vrdmactl:\ Invalid\ argument:\ .*$4.*\(attribute\ \'$3\'\)$ ]] ||
		{ echo "# map add $1 via $2"; diag; return 1; }
}

test_bad_addresses() {
	local n

	n=$(map_count)
	refused 0.0.0.0 "$HOST4.1" addr unspecified || return 1
	refused :: "$HOST4.1" addr unspecified || return 1
	refused 127.0.0.1 "$HOST4.1" addr loopback || return 1
	refused ::1 "$HOST4.1" addr loopback || return 1
	refused 224.0.0.1 "$HOST4.1" addr multicast || return 1
	refused ff02::1 "$HOST4.1" addr multicast || return 1
	refused 255.255.255.255 "$HOST4.1" addr broadcast || return 1
	refused ::10.0.0.1 "$HOST4.1" addr IPv4-compatible || return 1
	refused "$OVL4.7" 0.0.0.0 via unspecified || return 1
	refused "$OVL4.7" :: via unspecified || return 1
	refused "$OVL4.7" 239.1.1.1 via multicast || return 1
	refused "$OVL4.7" 255.255.255.255 via broadcast || return 1
	refused "$OVL4.7" 127.0.0.2 via loopback || return 1
	refused "$OVL4.7" fe80::1 via link-local || return 1
	[ "$(map_count)" -eq "$n" ] || { echo "# a refused entry was added"; return 1; }

	# A link-local overlay address is an address (IPv6 GIDs are).
	add fe80::1234 "$HOST4.7" || return 1

	# Deleting the unspecified address is refused the same way.
	run map del ::
	[ "$rc" -eq 1 ] && [[ "$err" =~ unspecified.*\(attribute\ \'addr\'\)$ ]] ||
		{ diag; return 1; }
}

# usage ARGS...: refused by vrdmactl itself (exit 2), never sent.
usage() {
	run "$@"
	[ "$rc" -eq 2 ] && [ -z "$out" ] || { echo "# vrdmactl $*"; diag; return 1; }
}

test_bad_usage() {
	usage map add "$OVL4.8" via "$HOST4.8" vni 16777216 || return 1
	usage map add "$OVL4.8" via "$HOST4.8" vni -1 || return 1
	usage map add "$OVL4.8" || return 1
	usage map add 10.0.0.300 via "$HOST4.8" || return 1
	usage map add "$OVL4.8" via nonsense || return 1
	usage map del || return 1
	usage map del "$OVL4.8" via "$HOST4.8" || return 1
}

test_vni_max() {
	add "$OVL4.9" "$HOST4.9" 16777215 || return 1
	map_json || return 1
	json_check 'len(e("'$OVL4.9'", 16777215)) == 1' || { diag; return 1; }
}

test_unprivileged() {
	local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

	command -v setpriv >/dev/null || { echo "SKIP no setpriv"; return $KSFT_SKIP; }
	"${nobody[@]}" test -x "$VRDMACTL" ||
		{ echo "SKIP $VRDMACTL not executable by nobody"; return $KSFT_SKIP; }
	add "$OVL4.10" "$HOST4.10" || return 1

	run_as "${nobody[@]}" -- map add "$OVL4.11" via "$HOST4.11"
	[ "$rc" -eq 1 ] && [[ "$err" =~ ^vrdmactl:\ Operation\ not\ permitted ]] ||
		{ diag; return 1; }
	run_as "${nobody[@]}" -- map del "$OVL4.10"
	[ "$rc" -eq 1 ] && [[ "$err" =~ ^vrdmactl:\ Operation\ not\ permitted ]] ||
		{ diag; return 1; }
	# Reading is allowed, and from the initial namespace shows everything.
	run_as "${nobody[@]}" -- -j map show
	[ "$rc" -eq 0 ] || { diag; return 1; }
	json_check 'len(e("'$OVL4.10'")) == 1' || { diag; return 1; }
}

# From another network namespace: the host-wide map cannot be changed,
# and a namespace without virtual devices sees no entry.
test_other_netns() {
	command -v unshare >/dev/null || { echo "SKIP no unshare"; return $KSFT_SKIP; }
	add "$OVL4.12" "$HOST4.12" || return 1

	run_as unshare --net -- map add "$OVL4.13" via "$HOST4.13"
	[ "$rc" -eq 1 ] &&
		[[ "$err" =~ ^vrdmactl:\ Operation\ not\ permitted:\ .*initial\ network\ namespace ]] ||
		{ diag; return 1; }
	run_as unshare --net -- map del "$OVL4.12"
	[ "$rc" -eq 1 ] && [[ "$err" =~ ^vrdmactl:\ Operation\ not\ permitted: ]] ||
		{ diag; return 1; }
	run_as unshare --net -- -j map show
	[ "$rc" -eq 0 ] || { diag; return 1; }
	json_check 'j == []' || { diag; return 1; }
	run map show
	[ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q "^$OVL4.12 " || { diag; return 1; }
}

# map_max bounds the explicit entries; updates of existing ones still work.
test_map_max() {
	local old n

	[ -w "$MAP_MAX_PARAM" ] || { echo "SKIP no $MAP_MAX_PARAM"; return $KSFT_SKIP; }
	old=$(cat "$MAP_MAX_PARAM")
	defer "echo $old > $MAP_MAX_PARAM"
	n=$(map_count)
	echo $((n + 2)) > "$MAP_MAX_PARAM"
	add "$OVL4.14" "$HOST4.14" || return 1
	add "$OVL4.15" "$HOST4.15" || return 1
	run map add "$OVL4.16" via "$HOST4.16"
	[ "$rc" -eq 1 ] &&
		[[ "$err" =~ ^vrdmactl:\ No\ space\ left\ on\ device:\ .*map_max ]] ||
		{ diag; return 1; }
	run map add "$OVL4.15" via "$HOST4.17"
	[ "$rc" -eq 0 ] || { diag; return 1; }
	echo "$old" > "$MAP_MAX_PARAM"
	run map add "$OVL4.16" via "$HOST4.16"
	[ "$rc" -eq 0 ] || { diag; return 1; }
	defer "$VRDMACTL" map del "$OVL4.16"
}

# A dump larger than one netlink message (about 400 entries fit in one).
test_large_dump() {
	local i n=1000 n0

	n0=$(map_count)
	# One process for all (vrdmactl -b): a thousand execs are slow under
	# emulation.
	for ((i = 0; i < n; i++)); do
		echo "map add 10.$((200 + i / 250)).$((i % 250)).1 via $HOST4.20 vni 7000"
	done > /tmp/map-add.batch
	"$VRDMACTL" -b /tmp/map-add.batch || { echo "# batch add failed"; return 1; }
	[ "$(map_count)" -eq $((n0 + n)) ] || { echo "# map_count $(map_count)"; return 1; }
	map_json || return 1
	json_check 'len([x for x in j if x["vni"] == 7000]) == '$n' and
		len(set((x["addr"], x["vni"]) for x in j)) == len(j)' ||
		{ echo "# $(printf '%s' "$out" | wc -c) bytes of JSON"; return 1; }
	for ((i = 0; i < n; i++)); do
		echo "map del 10.$((200 + i / 250)).$((i % 250)).1 vni 7000"
	done > /tmp/map-del.batch
	"$VRDMACTL" -b /tmp/map-del.batch || { echo "# batch del failed"; return 1; }
	[ "$(map_count)" -eq "$n0" ] || { echo "# map_count $(map_count)"; return 1; }
}

# "info" counts what "map show" lists as explicit entries.
test_info_count() {
	add "$OVL4.21" "$HOST4.21" || return 1
	map_json || return 1
	json_check 'len([x for x in j if "local" not in x["flags"]]) == '"$(map_count)" ||
		{ diag; return 1; }
}

local_entries_ready() {
	map_json > /dev/null && json_check "$1" > /dev/null
}

# Local entries: derived from virtual devices, per physical device (host).
#   host 1 (rxe1): c1_1 vni A, c1_2 vni B      host 2 (rxe2): c2_1 vni A
test_local_entries() {
	local c

	modprobe rdma_rxe 2>/dev/null || { echo "SKIP no rdma_rxe"; return $KSFT_SKIP; }
	topo_hosts 2 > /dev/null || { echo "topology setup failed"; return 1; }
	for c in "1 1 $VNI_A" "1 2 $VNI_B" "2 1 $VNI_A"; do
		# shellcheck disable=SC2086 # "HOST N VNI"
		set -- $c
		topo_container "$1" "$2" > /dev/null || return 1
		run dev add "vr_c$1_$2" netns "$(ct_name "$1" "$2")" netdev eth0 \
			phys "$(host_dev "$1")" vni "$3"
		if [ "$rc" -eq 1 ] && [[ "$err" =~ Operation\ not\ supported ]]; then
			echo "SKIP dev add not implemented by the module yet"
			return $KSFT_SKIP
		fi
		[ "$rc" -eq 0 ] || { diag; return 1; }
		defer "$VRDMACTL" dev del "vr_c$1_$2"
	done

	# GIDs appear asynchronously.
	local want='len(e("10.244.1.1", '$VNI_A')) == 1 and
		len(e("10.244.1.2", '$VNI_B')) == 1 and
		len(e("10.244.2.1", '$VNI_A')) == 1 and
		len(e("fd00:244::1:1", '$VNI_A')) == 1'
	wait_for 10 local_entries_ready "$want"
	map_json || return 1
	json_check "$want" || { diag; return 1; }
	json_check 'e("10.244.1.1", '$VNI_A')[0] == {"addr": "10.244.1.1",
			"via": "10.99.0.1", "vni": '$VNI_A', "flags": ["local"]} and
		e("10.244.1.2", '$VNI_B')[0]["via"] == "10.99.0.1" and
		e("10.244.2.1", '$VNI_A')[0]["via"] == "10.99.0.2" and
		e("fd00:244::1:1", '$VNI_A')[0]["flags"] == ["local"] and
		not e("10.244.1.1", 0)' || { diag; return 1; }

	# Local entries are not counted and cannot be deleted.
	json_check 'len([x for x in j if "local" not in x["flags"]]) == '"$(map_count)" ||
		{ diag; return 1; }
	run map del 10.244.1.1 vni "$VNI_A"
	[ "$rc" -eq 1 ] && [[ "$err" =~ No\ such\ file.*local ]] || { diag; return 1; }

	# An explicit entry for a local address coexists with the local one.
	add 10.244.2.1 10.99.0.2 "$VNI_A" || return 1
	add "$OVL4.30" "$HOST4.30" "$VNI_B" || return 1
	map_json || return 1
	json_check 'len(e("10.244.2.1", '$VNI_A')) == 2' || { diag; return 1; }

	# A container sees the entries of its own vni only.
	run_as ip netns exec c1_1 -- -j map show
	[ "$rc" -eq 0 ] || { diag; return 1; }
	json_check 'j and all(x["vni"] == '$VNI_A' for x in j) and
		len(e("10.244.2.1", '$VNI_A')) == 2 and
		len(e("10.244.1.1", '$VNI_A')) == 1' || { diag; return 1; }
	run_as ip netns exec c1_2 -- -j map show
	[ "$rc" -eq 0 ] || { diag; return 1; }
	json_check 'j and all(x["vni"] == '$VNI_B' for x in j) and
		len(e("'$OVL4.30'", '$VNI_B')) == 1' || { diag; return 1; }
}

tests=(
	test_add_show_v4
	test_add_show_v6
	test_readd_idempotent
	test_readd_updates_via
	test_del
	test_vni_isolation
	test_bad_addresses
	test_bad_usage
	test_vni_max
	test_unprivileged
	test_other_netns
	test_map_max
	test_large_dump
	test_info_count
	test_local_entries
)

require_root
# shellcheck disable=SC2119 # no module parameters
vrdma_load > /dev/null 2>&1
if ! module_loaded vrdma; then
	echo "TAP version 13"
	echo "1..0 # SKIP vrdma module not loaded"
	exit "$KSFT_SKIP"
fi
if [ ! -x "$VRDMACTL" ] || [ ! -x "$PYTHON" ]; then
	echo "TAP version 13"
	echo "Bail out! needs $VRDMACTL (make -C userspace) and $PYTHON"
	exit 1
fi
run map show
if [ "$rc" -eq 1 ] && [[ "$err" =~ Operation\ not\ supported ]]; then
	echo "TAP version 13"
	echo "1..0 # SKIP the module has no address map yet"
	exit "$KSFT_SKIP"
fi

run_tests "${tests[@]}"
ktap_finish
