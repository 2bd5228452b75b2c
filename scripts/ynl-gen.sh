#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Generate the netlink code of the vrdma family from its specification,
# Documentation/netlink/specs/vrdma.yaml, with the kernel's YNL generator
# (tools/net/ynl/ynl-gen-c.py of the linux-source tree 'make deps'
# extracts), the way the kernel generates its own families:
#
#   include/uapi/linux/vrdma.h    the user ABI (enums, attributes, commands)
#   drivers/vrdma/vrdma-nl.h      handler prototypes, the family
#   drivers/vrdma/vrdma-nl.c      policies, the ops table, the family
#
#   ynl-gen.sh [--check] LINUX_SRC
#
# Without --check the three files are rewritten; with --check they are
# generated apart and compared with the ones in the tree, and any
# difference fails (make ynl-check; the files are never edited by hand).
#
# ynl-gen-c.py looks for the kernel tree that holds the spec by walking up
# to a directory with a MAINTAINERS file (and loops forever at / when there
# is none), and validates the spec against Documentation/netlink/
# genetlink.yaml next to it: so it runs on a copy of the spec in a
# temporary kernel-like tree.
set -eu

check=
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
if [ $# -ne 1 ]; then
	echo "usage: ynl-gen.sh [--check] LINUX_SRC" >&2
	exit 2
fi
ksrc=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
gen=$ksrc/tools/net/ynl/ynl-gen-c.py
schema=$ksrc/Documentation/netlink/genetlink-c.yaml
spec=Documentation/netlink/specs/vrdma.yaml

for f in "$gen" "$schema"; do
	if [ ! -e "$f" ]; then
		echo "ynl-gen.sh: $f not found: run 'make deps' or set LINUX_SRC" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vrdma-ynl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/Documentation/netlink/specs"
: >"$tmp/MAINTAINERS"
cp "$ksrc"/Documentation/netlink/*.yaml "$tmp/Documentation/netlink/"
cp "$top/$spec" "$tmp/$spec"

# OUTPUT MODE HEADER|SOURCE: the file in the tree, ynl-gen-c.py's mode.
status=0
while read -r out mode kind; do
	# The source includes the header by the base name of its own.
	new=$tmp/${out##*/}
	(cd "$tmp" && python3 "$gen" --mode "$mode" "--$kind" --spec "$spec" \
		-o "$new") >"$tmp/log" 2>&1 || {
		echo "ynl-gen.sh: ynl-gen-c.py failed for $out:" >&2
		cat "$tmp/log" >&2
		exit 1
	}
	if [ -z "$check" ]; then
		cmp -s "$new" "$top/$out" || cp "$new" "$top/$out"
	elif ! diff -u "$top/$out" "$new" >"$tmp/diff"; then
		echo "$out differs from what $spec generates:" >&2
		cat "$tmp/diff" >&2
		status=1
	fi
done <<EOF
include/uapi/linux/vrdma.h uapi header
drivers/vrdma/vrdma-nl.h kernel header
drivers/vrdma/vrdma-nl.c kernel source
EOF
if [ -n "$check" ] && [ "$status" = 0 ]; then
	echo "ynl-check: the netlink code matches $spec"
fi
exit $status
