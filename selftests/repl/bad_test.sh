#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad requests are refused cleanly, with an error and a message:
#   - group creation: malformed or inconsistent configurations;
#   - operations beyond the region, unaligned, on an unknown group;
#   - malformed netlink requests (repl_tool bad);
#   - namespaces: a container allowed to use the group can, another one
#     cannot (nor see it), nor can it create groups; "group set" revokes.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 22

if ! repl_setup 4; then
	echo "Bail out! setup failed"
	exit 1
fi
topo_container 4 1 > /dev/null
topo_container 4 2 > /dev/null

A1=$(host_addr 1) A2=$(host_addr 2) A3=$(host_addr 3) A4=$(host_addr 4)
F=$REPL_DIR/bad-%a.img

# expect_err DESC PATTERN COMMAND...: fails, and stderr matches PATTERN
expect_err() {
	local desc=$1 pat=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		ktap_diag "unexpectedly succeeded: $out"
		ktap_fail "$desc"
	elif grep -qE "$pat" <<< "$out"; then
		ktap_ok "$desc"
	else
		ktap_diag "$out"
		ktap_fail "$desc (no '$pat')"
	fi
}

expect_err "a member listed twice" "listed twice" \
	"$VRDMACTL" repl group add b members $A1,$A1 size 1M file "$F"
expect_err "a size that is not a multiple of 4096" "multiple of 4096" \
	"$VRDMACTL" repl group add b members $A1,$A2 size 1000 file "$F"
expect_err "a size above 1 GiB" "at most 1 GiB" \
	"$VRDMACTL" repl group add b members $A1,$A2 size 2G file "$F"
expect_err "a relative backing file" "absolute" \
	"$VRDMACTL" repl group add b members $A1,$A2 size 1M file bad.img
expect_err "an unknown %-sequence in the file name" "%-sequence" \
	"$VRDMACTL" repl group add b members $A1,$A2 size 1M file "$REPL_DIR/%a-%x"
expect_err "two local members, one file name" "name their files apart" \
	"$VRDMACTL" repl group add b members $A1,$A2 size 1M file "$REPL_DIR/one.img"
expect_err "nine members" "too many members|Argument list too long|1 to 8" \
	"$VRDMACTL" repl group add b members 10.99.1.1,10.99.1.2,10.99.1.3,10.99.1.4,10.99.1.5,10.99.1.6,10.99.1.7,10.99.1.8,10.99.1.9 size 1M file "$F"
expect_err "a client address of another host" "not an address of this host" \
	"$VRDMACTL" repl group add b members $A1,$A2 size 1M file "$F" client 10.99.1.1
expect_err "a member address that is not unicast" "routable unicast|invalid address" \
	"$VRDMACTL" repl group add b members $A1,224.0.0.1 size 1M file "$F"
expect_err "deleting an unknown group" "no such group" \
	"$VRDMACTL" repl group del nosuch

repl_group g1 1M 1,2,3 allow c4_1 || echo "# group add g1 failed"
repl_wait_active g1 3 || repl_diag g1
expect_err "creating an existing group" "exists" \
	"$VRDMACTL" repl group add g1 members $A1,$A2,$A3 size 1M file "$F"
expect_err "a write across the end of the region" "beyond the region" \
	"$VRDMACTL" repl write g1 1048575 aabb
expect_err "an unaligned gCAS" "alignment" \
	"$VRDMACTL" repl cas g1 4 0 1
expect_err "an operation on an unknown group" "no group 'nosuch'" \
	"$VRDMACTL" repl write nosuch 0 aa
out=$("$REPL_TOOL" bad g1 2>&1)
rc=$?
ktap_diag "$out"
[ $rc = 0 ] && ktap_ok "malformed netlink requests refused, valid ones accepted" ||
	ktap_fail "malformed netlink requests refused, valid ones accepted"

# Namespaces.
ktap_check "allowed container c4_1 writes" in_ct c4_1 "$VRDMACTL" repl write g1 64 c0ffee
[ "$(od -A n -t x1 -j 64 -N 3 "$(repl_file g1 2)" | tr -d ' ')" = c0ffee ] &&
	ktap_ok "its write reached the replicas" || ktap_fail "its write reached the replicas"
expect_err "container c4_2 may not submit to g1" "Operation not permitted" \
	in_ct c4_2 "$REPL_TOOL" raw-write g1 64
if [ -z "$(in_ct c4_2 "$VRDMACTL" repl group show 2>&1)" ] &&
   ! in_ct c4_2 "$VRDMACTL" repl group show g1 > /dev/null 2>&1; then
	ktap_ok "container c4_2 does not see g1"
else
	ktap_fail "container c4_2 does not see g1"
fi
expect_err "a container cannot create a group" "Operation not permitted|initial network namespace" \
	in_ct c4_1 "$VRDMACTL" repl group add c members $A1 size 1M file "$F"
ktap_check "group set g1 allow none" "$VRDMACTL" repl group set g1 allow none
expect_err "c4_1 no longer may" "Operation not permitted" \
	in_ct c4_1 "$REPL_TOOL" raw-write g1 64
ktap_finish
