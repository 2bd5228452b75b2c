#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: vrdma doing its job, from a fresh clone.  Installs what is
# missing (scripts/deps.sh), builds the module and the tools, boots two
# VMs (two hosts with their own kernels, soft-RoCE on their NICs), starts
# the control plane (etcd, vrdma-agent), makes a container on each host
# through CNI, and runs ibv_rc_pingpong, rping and ib_write_bw between the
# containers through vrdma (and natively between the hosts, to compare).
# Prints a summary; exits non-zero if any step failed.
#
#   scripts/demo.sh [--kver 6.12]
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CACHE:-$SRCDIR/.cache}
kver=6.12
[ "${1:-}" = --kver ] && kver=${2:-6.12}

say() { printf '\n=== %s\n' "$*"; }

say "1/4 dependencies (Debian packages, the $kver kernel image in .cache/)"
rel=$("$SRCDIR/scripts/kernels.sh" release "$kver" 2>/dev/null)
need=
{ [ -n "$rel" ] && [ -f "$CACHE/kernels/$rel/.complete" ]; } || need=1
for c in qemu-system-x86_64 etcd etcdctl jq /usr/lib/cni/bridge /usr/lib/cni/host-local \
	 ibv_rc_pingpong rping ib_write_bw; do
	command -v "$c" > /dev/null || [ -x "$c" ] || need=1
done
pkg-config --exists libcurl json-c libmnl libsodium inih 2>/dev/null || need=1
if [ -n "$need" ]; then
	VRDMA_SERIES=$kver "$SRCDIR/scripts/deps.sh" || { echo "demo: installing dependencies failed" >&2; exit 1; }
else
	echo "all there"
fi

say "2/4 build: vrdma.ko, vrdmactl, vrdma-agent, the vrdma CNI plugin"
make -C "$SRCDIR" userspace > /dev/null || { echo "demo: userspace does not build" >&2; exit 1; }
echo "ok"

say "3/4 two hosts (VMs), etcd, vrdma-agent, a container on each through CNI, RDMA between them"
echo "(a few minutes under CPU emulation; logs in build/vm/cluster-*/)"
out=$("$SRCDIR/selftests/vm/cluster.sh" --kver "$kver" --nodes 2 \
	--list "../scripts/demo/demo_vm.sh 900" --summary demo/summary.txt 2>&1)
rc=$?
say "4/4 result"
# The steps as they ran, then the summary.
printf '%s\n' "$out" | grep -E '^(ok|not ok) |^# node[12]: == ' | sed 's/^# //'
printf '%s\n' "$out" | sed -n '/=== vrdma demo: summary ===/,$p' | grep -vE '^[0-9]+ passed|^1\.\.'
if [ "$rc" != 0 ]; then
	printf '%s\n' "$out" | grep -E '^not ok|^# node[12]: ' | tail -n 40
	echo
	echo "demo: FAILED (details above and in build/vm/cluster-*/)" >&2
	exit 1
fi
echo "demo: all steps passed"
