#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test VM's initramfs: busybox-static, the modules needed to
# mount the host's root over virtio-9p (with their dependencies, in load
# order, decompressed for busybox insmod), and init.sh as /init.
#
#   mkinitramfs.sh KTREE RELEASE OUTPUT
set -euo pipefail

ktree=$1 rel=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
mods=$ktree/lib/modules/$rel
[ -f "$mods/modules.dep" ] || { echo "mkinitramfs: no $mods/modules.dep" >&2; exit 1; }
busybox=$(command -v busybox || echo /bin/busybox)
file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	[ -x /bin/busybox ] || { echo "mkinitramfs: busybox-static is missing" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,newroot,modules,etc}
cp /bin/busybox "$stage/bin/busybox"
for app in sh mount umount insmod mkdir cat echo sleep poweroff chroot \
	   dmesg ls mknod switch_root sync uname; do
	ln -s busybox "$stage/bin/$app"
done
cp "$here/init.sh" "$stage/init"
chmod 0755 "$stage/init"

# Resolve a module and its dependencies from modules.dep; print paths in
# load order (dependencies first), each once.
declare -A seen=()
order=()
resolve() {
	local name=$1 line path deps d
	line=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst|\.gz)?:" "$mods/modules.dep" | head -n 1) || true
	if [ -z "$line" ]; then
		# built into this kernel
		grep -qE "/${name}\.ko" "$mods/modules.builtin" 2>/dev/null && return 0
		echo "mkinitramfs: module $name not found for $rel" >&2
		exit 1
	fi
	path=${line%%:*}
	deps=${line#*:}
	# modules.dep lists dependencies so that the last one loads first.
	local rev=()
	for d in $deps; do rev=("$d" "${rev[@]}"); done
	for d in "${rev[@]}"; do add "$d"; done
	add "$path"
}
add() {
	local p=$1
	[ -n "${seen[$p]:-}" ] && return 0
	seen[$p]=1
	order+=("$p")
}

for m in virtio_pci netfs 9pnet 9pnet_virtio 9p; do
	if grep -qE "/${m}\.ko" "$mods/modules.builtin" 2>/dev/null; then
		continue
	fi
	resolve "$m"
done

: > "$stage/modules/load-order"
i=0
for p in "${order[@]}"; do
	base=$(basename "$p")
	base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
	dst=$(printf '%02d-%s' "$i" "$base")
	case "$p" in
	*.xz) xz -dc "$mods/$p" > "$stage/modules/$dst" ;;
	*.zst) zstd -qdc "$mods/$p" > "$stage/modules/$dst" ;;
	*.gz) gzip -dc "$mods/$p" > "$stage/modules/$dst" ;;
	*) cp "$mods/$p" "$stage/modules/$dst" ;;
	esac
	echo "$dst" >> "$stage/modules/load-order"
	i=$((i + 1))
done

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
