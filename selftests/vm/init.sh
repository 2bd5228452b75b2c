#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the test VM.  It stays in the initramfs (RAM), so nothing the
# tests do to the 9p-shared root can take it down; it mounts the host's
# root read-only, the source tree and a writable output folder, runs
# guest.sh chrooted into the host's root, and powers off.
#
# Kernel command line parameters read here:
#   vmtest.src=PATH    source tree (mounted at the same path in the guest)
#   vmtest.ktree=PATH  extracted kernel package (modules for modprobe -d)
#   vmtest.probe=1     only prove that the VM boots (KVM probe), then stop
#   vmtest.9pcache=M   9p cache mode of the read-only shares (default loose)

PATH=/bin:/sbin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "vrdma-init: $*" > /dev/kmsg; }
die() {
	say "FATAL: $*"
	echo "VRDMA-VM-FATAL: $*" > /dev/ttyS1
	sync
	poweroff -f
}

src= ktree= probe= cache=loose
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vmtest.src=*) src=${arg#vmtest.src=} ;;
	vmtest.ktree=*) ktree=${arg#vmtest.ktree=} ;;
	vmtest.probe=*) probe=${arg#vmtest.probe=} ;;
	vmtest.9pcache=*) cache=${arg#vmtest.9pcache=} ;;
	esac
done

if [ "$probe" = 1 ]; then
	echo "VRDMA-VM-PROBE-OK" > /dev/ttyS0
	poweroff -f
fi

for m in $(cat /modules/load-order); do
	insmod "/modules/$m" || die "insmod $m failed"
done

r=/newroot
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$opts,ro,cache=$cache" hostroot $r || die "cannot mount the host root"
for d in tmp run var/tmp; do
	mount -t tmpfs -o mode=1777 tmpfs "$r/$d" || die "tmpfs on /$d"
done
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts devpts $r/dev/pts
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
mount -t tmpfs tmpfs $r/dev/shm
mount -t debugfs debugfs $r/sys/kernel/debug 2>/dev/null
mkdir -p $r/run/netns $r/run/vrdma/out
mount -t 9p -o "$opts,rw" vrdmaout $r/run/vrdma/out || die "cannot mount the output folder"
# The source tree, at the same path as on the host (also when it lies
# under a tmpfs-covered path such as /tmp).
mkdir -p "$r$src" 2>/dev/null
mount -t 9p -o "$opts,ro,cache=$cache" vrdmasrc "$r$src" || die "cannot mount the source tree"

# This run's vrdma.ko, over the stand-in that depmod indexed (check.sh).
slot=$r$ktree/lib/modules/$(uname -r)/updates/vrdma.ko
if [ -f $r/run/vrdma/out/vrdma.ko ]; then
	mount -o bind,ro $r/run/vrdma/out/vrdma.ko "$slot" ||
		die "cannot bind this run's vrdma.ko over $slot"
fi

# Kernel-initiated module loads (rdma link autoload, crypto) run in the
# initramfs: point them at the extracted module tree, inside the root.
cat > /bin/vrdma-modprobe <<EOT
#!/bin/sh
exec chroot $r /sbin/modprobe -d $ktree "\$@"
EOT
chmod 0755 /bin/vrdma-modprobe
echo /bin/vrdma-modprobe > /proc/sys/kernel/modprobe

say "starting tests"
chroot $r /usr/bin/env -i HOME=/tmp TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	VRDMA_SRC="$src" VRDMA_KTREE="$ktree" \
	/bin/bash "$src/selftests/vm/guest.sh" > /dev/ttyS1 2>&1
rc=$?
say "guest.sh exited with $rc"
sync
poweroff -f
