#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prove that dkms.conf works: dkms add, build and install the committed
# tree for a kernel release, into private trees (the system's DKMS state
# and /lib/modules are not touched).
#
#   scripts/dkms-check.sh RELEASE
set -euo pipefail

rel=$1
src=$(cd "$(dirname "$0")/.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/src" "$tmp/tree" "$tmp/install/$rel/kernel"
git -C "$src" ls-files -z -co --exclude-standard | (cd "$src" && xargs -0 cp --parents -t "$tmp/src" 2>/dev/null) ||
	cp -r "$src/." "$tmp/src/"
mv "$tmp/src" "$tmp/vrdma-$ver"
mkdir "$tmp/src"
mv "$tmp/vrdma-$ver" "$tmp/src/"

opts=(-m vrdma -v "$ver" --sourcetree "$tmp/src" --dkmstree "$tmp/tree")
dkms add "${opts[@]}"
dkms build "${opts[@]}" -k "$rel"
dkms install "${opts[@]}" -k "$rel" --installtree "$tmp/install" 2>&1 | grep -v '^readelf'
ko=$(find "$tmp/install/$rel" -name 'vrdma.ko*' | head -n 1)
[ -n "$ko" ] || { echo "dkms-check: no vrdma.ko installed" >&2; exit 1; }
echo "dkms-check: installed ${ko#"$tmp/install/"}"
