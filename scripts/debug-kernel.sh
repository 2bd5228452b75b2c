#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel of `make check KVER=debug`: Debian's linux-source-6.12,
# `make tinyconfig`, then selftests/*/config and selftests/vm/debug.config
# merged over it (KASAN, lockdep, kmemleak, UBSAN, debug objects, ...).
#
#   debug-kernel.sh release   print the release the current config builds
#   debug-kernel.sh kdir      print its build directory (make KDIR=...)
#   debug-kernel.sh ktree     print its module tree (laid out as the Debian
#                             images are: boot/vmlinuz-REL, lib/modules/REL)
#   debug-kernel.sh build     build it unless it is cached
#
# Cached under .cache/ keyed by a hash of the config fragments, the
# recipe's version (RECIPE, bumped when this script builds differently)
# and the source's version: a change to any of them gives a new release
# (6.12.N-vrdmadbg-HASH), built once in its own tree.  Several worktrees
# sharing one .cache may build and boot different ones at the same time:
# a build never touches another's tree; builds unused for 3 days go.
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CACHE:-$SRCDIR/.cache}
LINUX_SRC=${LINUX_SRC:-$CACHE/linux-source-6.12}
FRAGMENT=$SRCDIR/selftests/vm/debug.config
RECIPE=2

die() { printf 'debug-kernel: error: %s\n' "$*" >&2; exit 1; }

src_version() {	# "6.12.118" from the source's Makefile
	[ -f "$LINUX_SRC/Makefile" ] || die "no full kernel source in $LINUX_SRC (run make deps)"
	awk '/^VERSION =/ { v = $3 } /^PATCHLEVEL =/ { p = $3 }
	     /^SUBLEVEL =/ { s = $3 } END { print v "." p "." s }' "$LINUX_SRC/Makefile"
}

# The test configs first, debug.config last: its choices win (built in
# rather than modules).
fragments() {
	local f
	for f in "$SRCDIR"/selftests/*/config; do
		[ -f "$f" ] && echo "$f"
	done
	echo "$FRAGMENT"
}

key() {
	{
		src_version
		cat "$LINUX_SRC/.complete" 2>/dev/null || true
		fragments | while read -r f; do echo "== ${f#"$SRCDIR"/}"; cat "$f"; done
		echo "recipe $RECIPE"
	} | sha256sum | cut -c1-12
}

release() { echo "$(src_version)-vrdmadbg-$(key)"; }
kdir() { echo "$CACHE/debug-kernel/obj-$(key)"; }
ktree() { echo "$CACHE/kernels/$(release)"; }

build() {
	local rel obj tree frags t0 missing
	rel=$(release) obj=$(kdir) tree=$(ktree)
	mkdir -p "$CACHE/debug-kernel"
	# (cached: no need to wait for another config's build)
	if [ -f "$tree/.complete" ]; then
		touch "$tree/.complete"
		echo "debug-kernel: $rel cached"
		return 0
	fi
	exec {lockfd}>>"$CACHE/debug-kernel/.lock"
	flock "$lockfd"
	if [ -f "$tree/.complete" ]; then
		touch "$tree/.complete"
		echo "debug-kernel: $rel cached"
		return 0
	fi
	t0=$SECONDS
	echo "debug-kernel: building $rel in $obj"
	# Builds no run used for 3 days go (a run touches its .complete); a
	# build of another config may be under way.
	local old
	for old in "$CACHE"/kernels/*-vrdmadbg-*; do
		[ -d "$old" ] && [ "$old" != "$tree" ] || continue
		[ -n "$(find "$old/.complete" -mtime -3 2>/dev/null)" ] && continue
		[ ! -f "$old/.complete" ] && [ -n "$(find "$old" -maxdepth 0 -mmin -600)" ] && continue
		rm -rf "$old" "$CACHE/debug-kernel/obj-${old##*-vrdmadbg-}"
	done
	rm -rf "$tree"
	mkdir -p "$obj"

	mapfile -t frags < <(fragments)
	make -s -C "$LINUX_SRC" O="$obj" tinyconfig
	"$LINUX_SRC/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${frags[@]}"
	make -s -C "$LINUX_SRC" O="$obj" LOCALVERSION="-vrdmadbg-$(key)" olddefconfig
	# Every =y of debug.config must have survived olddefconfig (a missing
	# dependency drops an option silently).
	missing=$(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' "$FRAGMENT" |
		while read -r o; do grep -qx "$o=y" "$obj/.config" || echo "$o"; done)
	[ -z "$missing" ] || die "options of debug.config not set after olddefconfig: $(echo $missing)"

	make -C "$LINUX_SRC" O="$obj" LOCALVERSION="-vrdmadbg-$(key)" \
		-j"$(nproc)" bzImage modules > "$obj/build.log" 2>&1 ||
		{ tail -n 40 "$obj/build.log" >&2; die "kernel build failed (see $obj/build.log)"; }
	[ "$(cat "$obj/include/config/kernel.release")" = "$rel" ] ||
		die "built $(cat "$obj/include/config/kernel.release"), expected $rel"
	make -s -C "$LINUX_SRC" O="$obj" LOCALVERSION="-vrdmadbg-$(key)" \
		INSTALL_MOD_PATH="$tree" INSTALL_MOD_STRIP=1 modules_install > /dev/null
	install -D -m 0644 "$obj/arch/x86/boot/bzImage" "$tree/boot/vmlinuz-$rel"
	cp "$obj/.config" "$tree/boot/config-$rel"
	echo "$rel" > "$tree/.complete"
	echo "debug-kernel: built $rel in $((SECONDS - t0))s"
}

case "${1:-}" in
release) release ;;
kdir) kdir ;;
ktree) ktree ;;
build) build ;;
*) echo "usage: debug-kernel.sh release|kdir|ktree|build" >&2; exit 2 ;;
esac
