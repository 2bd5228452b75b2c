# SPDX-License-Identifier: GPL-2.0
#
# Shell pieces for runners that boot test VMs the way check.sh does
# (cluster.sh, the demo): the module built and put into the extracted
# kernel tree, the initramfs, the accelerator, the machine-wide VM lock,
# and the kernel-log judgement.  Source it after setting SRCDIR; it sets
# CACHE, BUILD, HERE and KERNELS when they are not set.
#
# The recipe is check.sh's (Documentation/testing.rst): the host's root
# shared read-only over 9p, init.sh as PID 1 of an initramfs, guest.sh
# running the tests listed in the output share's tests.txt, KTAP on the
# second serial port, the kernel log on the first.

CACHE=${CACHE:-$SRCDIR/.cache}
# The VM resolves paths inside the host's root: no symlinks in them (a
# worktree's .cache is often one).
[ -d "$CACHE" ] && CACHE=$(cd "$CACHE" && pwd -P)
BUILD=${BUILD:-$SRCDIR/build}
HERE=${HERE:-$SRCDIR/selftests/vm}
KERNELS=${KERNELS:-$SRCDIR/scripts/kernels.sh}

# vm_module SERIES LOG: build vrdma.ko against SERIES at W=1, warnings
# failing, and make it the one modprobe finds in the extracted kernel
# tree.  Sets VM_REL, VM_KTREE, VM_KO.  Returns non-zero with VM_ERR.
vm_module() {
	local series=$1 log=$2 slot
	VM_ERR=
	VM_REL=$("$KERNELS" release "$series")
	if [ -z "$VM_REL" ]; then
		VM_ERR="no kernel headers for $series (make deps)"
		return 1
	fi
	VM_KTREE=$CACHE/kernels/$VM_REL
	if [ ! -f "$VM_KTREE/.complete" ]; then
		VM_ERR="kernel $VM_REL is not in $CACHE/kernels (make deps)"
		return 1
	fi
	if ! make -C "$SRCDIR" modules KDIR="$("$KERNELS" kdir "$series")" \
		> "$log" 2>&1 || grep -qE '(warning|error):' "$log"; then
		VM_ERR="vrdma.ko does not build cleanly against $VM_REL (see $log)"
		return 1
	fi
	VM_KO=$BUILD/$VM_REL/drivers/vrdma/vrdma.ko
	# Same stand-in scheme as check.sh: depmod indexes a copy, each run
	# bind-mounts its own module over it (init.sh).
	slot=$VM_KTREE/lib/modules/$VM_REL/updates/vrdma.ko
	flock "$VM_KTREE/.lock" sh -c '
		[ -f "$2" ] &&
		[ "$(/sbin/modinfo -F depends "$1")" = "$(/sbin/modinfo -F depends "$2")" ] ||
		{ install -D -m 0644 "$1" "$2" && /sbin/depmod -b "$3" "$4"; }' \
		sh "$VM_KO" "$slot" "$VM_KTREE" "$VM_REL" ||
		{ VM_ERR="cannot install vrdma.ko into $VM_KTREE"; return 1; }
}

# vm_initramfs: build (when stale) the initramfs of VM_REL; sets VM_INITRD.
vm_initramfs() {
	VM_INITRD=$BUILD/vm/initramfs-$VM_REL.img
	if [ ! -f "$VM_INITRD" ] || [ "$HERE/init.sh" -nt "$VM_INITRD" ] ||
	   [ "$HERE/mkinitramfs.sh" -nt "$VM_INITRD" ]; then
		mkdir -p "$BUILD/vm"
		"$HERE/mkinitramfs.sh" "$VM_KTREE" "$VM_REL" "$VM_INITRD" \
			> "$BUILD/vm/mkinitramfs-$VM_REL.log" 2>&1 ||
			{ VM_ERR="initramfs: see $BUILD/vm/mkinitramfs-$VM_REL.log"; return 1; }
	fi
}

# vm_accel: qemu's accelerator options (KVM when a probe boot works).
vm_accel() {
	local out
	if [ -w /dev/kvm ] && [ "${VRDMA_KVM:-auto}" != 0 ]; then
		out=$(timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 512 -smp 1 \
			-nodefaults -display none -no-reboot -serial stdio \
			-kernel "$VM_KTREE/boot/vmlinuz-$VM_REL" -initrd "$VM_INITRD" \
			-append "console=ttyS0 panic=-1 vmtest.probe=1" 2>&1)
		if grep -q VRDMA-VM-PROBE-OK <<< "$out"; then
			echo "-accel kvm -cpu host"
			return
		fi
	fi
	echo "-accel tcg,thread=multi -cpu max"
}

# vm_append: the kernel command line of a test VM, plus "$@".
vm_append() {
	echo "console=ttyS0 panic=-1 tsc=reliable no_timer_check mitigations=off log_buf_len=8M printk.time=1 printk.devkmsg=on vmtest.src=$SRCDIR vmtest.ktree=$VM_KTREE $*"
}

# vm_lock NEED NOTE: take NEED of the machine's VM slots (check.sh's
# lock files: $lock, $lock.2, ... up to the number in $lock.slots, each
# one 2-vCPU VM) on the fds VM_LOCKFDS, saying NOTE while waiting.  All or
# nothing: while not enough slots are free at once it holds none, so that
# it never starves the single VMs of others (it may wait longer itself).
# NEED is capped at the number of slots.  vm_unlock drops them.
VM_LOCKFDS=()
vm_lock() {
	local need=$1 lock=${VRDMA_VM_LOCK:-/tmp/vrdma-vm.lock} slots slot i fd waited=
	slots=${VRDMA_VM_SLOTS:-$(cat "$lock.slots" 2>/dev/null || echo 1)}
	[[ "$slots" =~ ^[1-9]$ ]] || slots=1
	[ "$need" -gt "$slots" ] && need=$slots
	while :; do
		VM_LOCKFDS=()
		for ((i = 1; i <= slots && ${#VM_LOCKFDS[@]} < need; i++)); do
			slot=$lock; [ "$i" -gt 1 ] && slot=$lock.$i
			exec {fd}>>"$slot"
			if flock -n "$fd"; then
				VM_LOCKFDS+=("$fd")
			else
				exec {fd}>&-
			fi
		done
		[ "${#VM_LOCKFDS[@]}" -ge "$need" ] && break
		vm_unlock
		[ -n "$waited" ] || echo "# $2: waiting for $need VM slot(s) ($lock, $slots)"
		waited=1
		sleep 5
	done
}
vm_unlock() {
	local fd
	for fd in "${VM_LOCKFDS[@]}"; do exec {fd}>&-; done
	VM_LOCKFDS=()
}

# vm_kernel_problems CONSOLE_LOG: the lines of a VM's kernel log, up to
# the end-of-tests marker, that match kernel-log-patterns (none: clean).
vm_kernel_problems() {
	tr -d '\r' < "$1" | sed '/vrdma-selftests: end of tests/q' |
		grep -E -f <(grep -v '^#' "$HERE/kernel-log-patterns") | head -n 20
}
