#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything vrdma needs to build and test on Debian 12, and fetch
# the test kernels into the cache (never installed on the host).
#
#   scripts/deps.sh            (what `make deps` runs)
#
# Idempotent: packages already installed and kernels already cached are
# not fetched again.  Set VRDMA_SERIES to limit the kernel series
# (default "6.12 6.1").
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CACHE:-$SRCDIR/.cache}
SERIES=${VRDMA_SERIES:-6.12 6.1}
KERNELS=$SRCDIR/scripts/kernels.sh

log() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "run as root or install sudo"
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

PKGS=(
	# build
	build-essential make gcc pkg-config kmod bc flex bison libelf-dev
	xz-utils cpio dkms sparse
	linux-source-6.12
	# userspace libraries
	libmnl-dev libjson-c-dev libsodium-dev libinih-dev
	libibverbs-dev librdmacm-dev libcurl4-openssl-dev
	# VM and guest tools (the guest shares the host's root)
	qemu-system-x86 busybox-static iproute2 iputils-ping ethtool
	rdma-core ibverbs-utils ibverbs-providers rdmacm-utils perftest
	procps psmisc python3 python3-yaml python3-jsonschema python3-pyverbs
	netcat-openbsd tcpdump
	# observability: node_exporter's infiniband collector, scraped by curl
	prometheus-node-exporter curl
	# sleep selftests (JSON, one host's stepped clock) and the simulation's plot
	jq faketime libfaketime gnuplot-nox
	# the control plane (vrdma-agent, CNI) and its tests, demo, benchmark
	etcd-server etcd-client containernetworking-plugins openssl
	# make bench: a communication library over verbs (UCX's ucx_perftest)
	# and the profile of the data path
	ucx-utils linux-perf
)

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

apt_updated=
apt_install() {
	[ $# -gt 0 ] || return 0
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		$SUDO apt-get update -qq
		apt_updated=1
	fi
	log "installing: $*"
	$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Packages.
mapfile -t need < <(missing_pkgs "${PKGS[@]}")
apt_install "${need[@]}"

# 2. Kernel headers (installed) and images (cached, not installed) of
#    exactly the same release.
mkdir -p "$CACHE/kernels" "$CACHE/debs"
for s in $SERIES; do
	rel=$("$KERNELS" release "$s" || true)
	if [ -z "$rel" ]; then
		[ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
		rel=$("$KERNELS" candidate "$s")
		[ -n "$rel" ] || die "apt offers no linux-headers for series $s"
		apt_install "linux-headers-$rel"
	fi
	tree=$CACHE/kernels/$rel
	if [ -f "$tree/.complete" ]; then
		log "kernel $rel cached"
		continue
	fi
	log "fetching linux-image-$rel-unsigned into $tree"
	rm -rf "$tree"
	mkdir -p "$tree"
	(cd "$CACHE/debs" && rm -f "linux-image-${rel}-unsigned_"*.deb &&
		apt-get download -qq -o APT::Sandbox::User=root "linux-image-$rel-unsigned" >/dev/null) ||
		die "cannot download linux-image-$rel-unsigned"
	dpkg -x "$CACHE/debs/linux-image-${rel}-unsigned_"*.deb "$tree"
	rm -f "$CACHE/debs/linux-image-${rel}-unsigned_"*.deb
	[ -f "$tree/boot/vmlinuz-$rel" ] || die "no vmlinuz in linux-image-$rel-unsigned"
	/sbin/depmod -b "$tree" "$rel"
	echo "$rel" > "$tree/.complete"
done

# 3. Debian's kernel source, whole: checkpatch.pl, the kselftest headers
#    and helpers, ynl, and the debug kernel (scripts/debug-kernel.sh) built
#    from it.  Never copied into the tree.  A tree extracted in part by an
#    older deps.sh is completed in place (files already there are kept).
src=$CACHE/linux-source-6.12
if [ ! -f "$src/.complete" ] || [ ! -f "$src/Makefile" ]; then
	log "extracting linux-source-6.12"
	rm -f "$src/.complete"
	tar -C "$CACHE" --skip-old-files -xJf /usr/src/linux-source-6.12.tar.xz
	dpkg-query -W -f='${Version}\n' linux-source-6.12 > "$src/.complete"
fi

log "ok"
