#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A backing file is opened where its path says, not where a link points:
#   - a symbolic link as the file, or as a directory on the path, is
#     refused (ELOOP), and what it points to is left alone;
#   - a file with other hard links, or owned by another user, is refused;
#   - a new file is created, and a shorter file of the caller's is
#     extended, as before.
# The "precious" file would otherwise be grown to the region's size and
# then receive the replica's contents.
. "$(dirname "$0")/repl_lib.sh"
require_root

ktap_plan 8

if ! repl_setup 1; then
	echo "Bail out! setup failed"
	exit 1
fi
A1=$(host_addr 1)
D=$REPL_DIR
mkdir -p "$D/real" "$D/links" "$D/hard" "$D/other"
printf 'precious data\n' > "$D/precious"
want=$(sha1sum < "$D/precious")

# group FILE: try to create a one-member group on host 1 with FILE; prints
# vrdmactl's output, returns its status (and deletes the group).
group() {
	local out rc
	out=$("$VRDMACTL" repl group add f members "$A1" size 1M file "$1" 2>&1)
	rc=$?
	[ $rc = 0 ] && "$VRDMACTL" repl group del f
	echo "$out"
	return $rc
}
precious_intact() { [ "$(sha1sum < "$D/precious")" = "$want" ]; }

# refused DESC FILE
refused() {
	local out
	if out=$(group "$2"); then
		ktap_fail "$1 is refused"
	else
		ktap_ok "$1 is refused ($(echo $out))"
	fi
}

ln -s "$D/precious" "$D/links/m-$A1.img"
refused "a symbolic link as the file" "$D/links/m-%a.img"
ln -s "$D/real" "$D/dirlink"
refused "a symbolic link on the path" "$D/dirlink/m-%a.img"
ln "$D/precious" "$D/hard/m-$A1.img"
refused "a file with another hard link" "$D/hard/m-%a.img"
precious_intact && ktap_ok "the linked file is unchanged" ||
	ktap_fail "the linked file is unchanged (now $(stat -c %s "$D/precious") bytes)"
[ -z "$(ls -A "$D/real")" ] && ktap_ok "nothing was created behind the directory link" ||
	ktap_fail "nothing was created behind the directory link ($(ls "$D/real"))"

printf 'x' > "$D/other/m-$A1.img"
chown nobody "$D/other/m-$A1.img"
refused "a file owned by another user" "$D/other/m-%a.img"

out=$(group "$D/real/m-%a.img") && [ "$(stat -c %s "$D/real/m-$A1.img")" = 1048576 ] &&
	ktap_ok "a new file is created with the region's size" ||
	ktap_fail "a new file is created with the region's size ($(echo $out))"
truncate -s 4096 "$D/real/m-$A1.img"
out=$(group "$D/real/m-%a.img") && [ "$(stat -c %s "$D/real/m-$A1.img")" = 1048576 ] &&
	ktap_ok "a shorter file of the caller's is extended" ||
	ktap_fail "a shorter file of the caller's is extended ($(echo $out))"

ktap_finish
