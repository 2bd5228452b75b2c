#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's test command (`make check`): build, run host-side checks,
# boot each requested Debian kernel under qemu with the fresh vrdma.ko,
# run the selftests inside, and decide -- here, outside the VM -- whether
# everything passed.  Prints KTAP and ends with "N passed, M failed, K skipped".
#
#   check.sh [--kver "6.12 6.1 debug"] [--tests "core netlink/genl_test ..."] [--bench] [--full]
#
# --full adds the full versions of the tests that a plain run (CI) runs
# bounded, TEST_PROGS_FULL of selftests/lib/list.mk (make check-full).
#
# "debug" is the debug kernel (KASAN, lockdep, kmemleak, UBSAN) built from
# Debian's source by scripts/debug-kernel.sh, cached under .cache/.
#
# A VM run fails when a test fails, when the VM panics, hangs or times out
# (no end-of-tests marker), or when the kernel log shows a problem listed in
# kernel-log-patterns.  Logs stay in build/vm/<release>/ (console.log is the
# kernel log, tests.log the guest's report).
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CACHE:-$SRCDIR/.cache}
# The VM sees the host's root from its own root: a .cache that is a symlink
# (a git worktree sharing another's) is passed resolved.
[ -d "$CACHE" ] && CACHE=$(cd "$CACHE" && pwd -P)
BUILD=${BUILD:-$SRCDIR/build}
HERE=$SRCDIR/selftests/vm
KERNELS=$SRCDIR/scripts/kernels.sh

kvers=
tests=""
mode=check
full=
while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kvers=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--bench) mode=bench; shift ;;
	--full) full=1; shift ;;
	*) echo "check.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
# Without --kver: both Debian kernels; with VRDMA_DEBUG_LANE=1, a whole run
# (no --tests) adds the debug kernel over selftests/vm/debug-subset (not
# yet the default: see Documentation/testing.rst).
debug_subset=
if [ -z "$kvers" ]; then
	kvers="6.12 6.1"
	if [ "$mode" = check ] && [ -z "$tests" ] && [ "${VRDMA_DEBUG_LANE:-0}" = 1 ]; then
		kvers="$kvers debug"
		debug_subset=1
	fi
	[ "$mode" = bench ] && kvers=6.12
fi

passed=0 failed=0 skipped=0 num=0
results=()
report() {	# report RESULT NAME [DIRECTIVE]
	num=$((num + 1))
	case "$1" in
	ok) if [ "${3:-}" = SKIP ]; then skipped=$((skipped + 1)); else passed=$((passed + 1)); fi ;;
	*) failed=$((failed + 1)) ;;
	esac
	local line="$1 $num $2"
	[ -n "${3:-}" ] && line="$line # $3"
	echo "$line"
	[ "$1" = ok ] || failures+=("$line")
}
failures=()
note() { echo "# $*"; }

echo "KTAP version 1"

# --- setup: whatever is missing is installed first -------------------------
# Debian's kernels (the host-side checks build against the first one)
# and whether the debug kernel is wanted.
deb_kvers= debug=
for s in $kvers; do
	case "$s" in debug) debug=1 ;; *) deb_kvers="$deb_kvers $s" ;; esac
done
deb_kvers=${deb_kvers# }
host_kver=${deb_kvers%% *}
host_kver=${host_kver:-6.12}
# Test limits are multiplied by this on the debug kernel.
DEBUG_TSCALE=${VRDMA_DEBUG_TSCALE:-8}

need_deps=
for s in $deb_kvers $host_kver; do
	rel=$("$KERNELS" release "$s" 2>/dev/null)
	{ [ -n "$rel" ] && [ -f "$CACHE/kernels/$rel/.complete" ]; } || need_deps=1
done
{ [ -f "$CACHE/linux-source-6.12/.complete" ] &&
  [ -f "$CACHE/linux-source-6.12/Makefile" ]; } || need_deps=1
command -v qemu-system-x86_64 >/dev/null || need_deps=1
if [ -n "$need_deps" ]; then
	note "installing missing dependencies (scripts/deps.sh)"
	VRDMA_SERIES="$deb_kvers $host_kver" "$SRCDIR/scripts/deps.sh" 2>&1 | sed 's/^/# /'
fi

mkdir -p "$BUILD/logs"
rm -f "$BUILD/crash-excerpts.txt"

# --- host-side checks --------------------------------------------------------
host_step() {	# host_step NAME LOGFILE COMMAND...
	local name=$1 log=$2 t0=$SECONDS; shift 2
	if "$@" > "$log" 2>&1; then
		note "$name: $((SECONDS - t0))s"
		report ok "$name"
		return 0
	fi
	tail -n 30 "$log" | sed 's/^/# /'
	report "not ok" "$name" "log: ${log#$SRCDIR/}"
	return 1
}
no_warnings() {	# run a command; fail if it fails or prints a compiler warning
	local out rc
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out"
	[ $rc -eq 0 ] || return $rc
	! printf '%s\n' "$out" | grep -E '(warning|error):'
}

install_check() {	# make install into a staging folder: everything lands there
	local stage rel
	stage=$(mktemp -d)
	rel=$("$KERNELS" release "$host_kver")
	make -C "$SRCDIR" install KDIR="/usr/src/linux-headers-$rel" \
		BUILD="$BUILD/install" DESTDIR="$stage" PREFIX=/usr &&
	test -f "$stage/lib/modules/$rel/updates/vrdma.ko" &&
	test -x "$stage/usr/sbin/vrdmactl" &&
	find "$stage" -type f | sed "s|^$stage||"
	local rc=$?
	rm -rf "$stage"
	return $rc
}

host_step "userspace builds without warnings" "$BUILD/logs/userspace.log" \
	no_warnings make -C "$SRCDIR" userspace
host_step "selftests build without warnings" "$BUILD/logs/selftests.log" \
	no_warnings make -C "$SRCDIR" selftests
# The static checks of a whole run (checkpatch, sparse, the generated
# code, the optional parts, DKMS, make install: about 400 s of one CPU)
# run in the background, niced, while the first VM lane runs (its tests
# leave half of the two CPUs idle, waiting); their results are reported
# after the VM lanes.  Each builds in a folder of its own: nothing they
# write is read by a VM.
static_step() {	# static_step NAME LOGFILE COMMAND...: one result line
	local name=$1 log=$2 t0=$SECONDS; shift 2
	if "$@" > "$log" 2>&1; then
		printf 'ok\t%s\t%s\t%s\n' "$name" "$((SECONDS - t0))" "$log"
	else
		printf 'not ok\t%s\t%s\t%s\n' "$name" "$((SECONDS - t0))" "$log"
	fi
}
static_checks() {
	local rel
	static_step "checkpatch --strict clean" "$BUILD/logs/checkpatch.log" \
		make -C "$SRCDIR" checkpatch
	static_step "sparse clean" "$BUILD/logs/sparse.log" \
		make -C "$SRCDIR" sparse BUILD="$BUILD/sparse"
	static_step "netlink code generated from its spec (make ynl-check)" \
		"$BUILD/logs/ynl-check.log" make -C "$SRCDIR" ynl-check
	static_step "vrdma.ko builds without its optional parts (VRDMA_REPL=n VRDMA_SLEEP=n) at W=1" \
		"$BUILD/logs/core-only.log" no_warnings make -C "$SRCDIR" modules \
		BUILD="$BUILD/core-only" VRDMA_REPL=n VRDMA_SLEEP=n
	rel=$("$KERNELS" release "$host_kver")
	static_step "dkms add, build and install ($rel)" "$BUILD/logs/dkms.log" \
		"$SRCDIR/scripts/dkms-check.sh" "$rel"
	static_step "make install honours DESTDIR and PREFIX" \
		"$BUILD/logs/install.log" install_check
}
static_pid=
if [ "$mode" = check ] && [ -z "$tests" ]; then
	(renice -n 10 -p "$BASHPID" > /dev/null; static_checks) \
		> "$BUILD/logs/static.results" 2> "$BUILD/logs/static.err" &
	static_pid=$!
	note "the static checks run in the background (niced) beside the VM lanes"
fi
static_report() {	# the static checks' results, once they are done
	local res name secs log t0=$SECONDS
	[ -n "$static_pid" ] || return 0
	wait "$static_pid"
	[ $((SECONDS - t0)) -lt 2 ] || note "waited $((SECONDS - t0))s for the static checks"
	while IFS=$'\t' read -r res name secs log; do
		note "$name: ${secs}s"
		if [ "$res" = ok ]; then
			report ok "$name"
		else
			tail -n 30 "$log" | sed 's/^/# /'
			report "not ok" "$name" "log: ${log#$SRCDIR/}"
		fi
	done < "$BUILD/logs/static.results"
	[ "$(grep -c . "$BUILD/logs/static.results")" = 6 ] ||
		report "not ok" "the static checks all ran" "log: ${BUILD#$SRCDIR/}/logs/static.err"
}

# The debug kernel, when it is not cached, builds in the background
# (niced: the VM runs of the other kernels come first), while the
# host-side checks and Debian's kernels run; the debug run waits for it.
debug_pid=
if [ -n "$debug" ]; then
	debug_t0=$SECONDS
	nice -n 10 "$SRCDIR/scripts/debug-kernel.sh" build > "$BUILD/logs/debug-kernel.log" 2>&1 &
	debug_pid=$!
fi
debug_kernel_ready() {
	local rc
	wait "$debug_pid"; rc=$?
	if [ $rc -eq 0 ]; then
		report ok "debug kernel $("$KERNELS" release debug) built (scripts/debug-kernel.sh)"
		note "debug kernel: $(tail -n 1 "$BUILD/logs/debug-kernel.log"), ready $((SECONDS - debug_t0))s after the start"
		return 0
	fi
	tail -n 30 "$BUILD/logs/debug-kernel.log" | sed 's/^/# /'
	report "not ok" "debug kernel built (scripts/debug-kernel.sh)" "log: ${BUILD#$SRCDIR/}/logs/debug-kernel.log"
	return 1
}

# --- the list of tests ---------------------------------------------------------
# Each selftests/<dir>/Makefile has a "list" target printing its test
# programs (selftests/lib/list.mk), and each directory a kselftest
# "settings" file giving their time limit (timeout=SECONDS, 45 without
# one, as in kselftest).  --tests takes dirs or dir/prog entries.
# Prints "dir/prog timeout" lines.
dir_timeout() {
	local t
	t=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' "$SRCDIR/selftests/$1/settings" 2>/dev/null)
	echo "${t:-45}"
}
# A directory whose settings say lanes=SERIES... runs only in those lanes
# of a whole run (cplane: userspace, its kernel side tested by map/ and
# netlink/ in every lane); a test named in T runs in every lane asked.
lane_filter() {	# lane_filter SERIES < "dir/prog timeout" lines
	local series=$1 t rest lanes l keep
	while read -r t rest; do
		lanes=$(sed -n 's/^lanes=//p' "$SRCDIR/selftests/${t%%/*}/settings" 2>/dev/null)
		keep=1
		if [ -z "$tests" ] && [ -n "$lanes" ]; then
			keep=0
			for l in $lanes; do [ "$l" = "$series" ] && keep=1; done
		fi
		if [ "$keep" = 1 ]; then
			echo "$t $rest"
		else
			note "$series: $t runs in the lanes $lanes only (its settings)" >&2
		fi
	done
}
list_tests() {
	local sel= d
	if [ -z "$tests" ]; then
		for d in "$SRCDIR"/selftests/*/Makefile; do
			d=$(basename "$(dirname "$d")")
			case "$d" in vm|lib) continue ;; esac
			is_cluster "$d" && continue
			[ "$mode" = bench ] && [ "$d" != bench ] && continue
			[ "$mode" = check ] && [ "$d" = bench ] && continue
			# the long fuzzing runs: make fuzz (T=fuzz)
			[ "$mode" = check ] && [ "$d" = fuzz ] && continue
			sel="$sel $d"
		done
	else
		for t in $tests; do
			is_cluster "$t" || sel="$sel $t"
		done
	fi
	for t in $sel; do
		t=${t#selftests/}; t=${t%/}
		if [ -d "$SRCDIR/selftests/$t" ]; then
			make -s --no-print-directory -C "$SRCDIR/selftests/$t" list ${full:+LIST_FULL=1} |
				sed "s|^|$t/|;s|\$| $(dir_timeout "$t")|"
		else
			# A test named alone may be a diagnostic (TEST_PROGS_DIAG).
			d=$(dirname "$t")
			make -s --no-print-directory -C "$SRCDIR/selftests/$d" list LIST_FULL=1 LIST_DIAG=1 |
				sed "s|^|$d/|;s|\$| $(dir_timeout "$d")|" | awk -v t="$t" '$1 == t'
		fi
	done
}
# Multi-VM tests (a directory with a cluster.conf) run in cluster.sh
# (make check-cluster), never in a single VM.
is_cluster() { local t=${1#selftests/}; [ -f "$SRCDIR/selftests/${t%%/*}/cluster.conf" ]; }
test_list=$(list_tests)
if [ -z "$test_list" ]; then
	report "not ok" "test selection '$tests' matches no test"
	kvers=""	# no VM to boot for nothing
fi

# --- one VM run per kernel --------------------------------------------------------
kvm_usable() {	# KVM works here only if a probe boot reaches userspace
	local rel=$1 out
	[ -w /dev/kvm ] || return 1
	[ "${VRDMA_KVM:-auto}" = 0 ] && return 1
	out=$(timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 512 -smp 1 \
		-nodefaults -display none -no-reboot -serial stdio \
		-kernel "$ktree/boot/vmlinuz-$rel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 vmtest.probe=1" 2>&1)
	grep -q VRDMA-VM-PROBE-OK <<< "$out"
}

run_vm() {	# run_vm SERIES
	local series=$1 rel ktree initrd out accel tmo count lane_t0=$SECONDS
	rel=$("$KERNELS" release "$series")
	if [ -z "$rel" ]; then
		report "not ok" "$series: kernel headers installed" "run make deps"
		return
	fi
	local kdir
	kdir=$("$KERNELS" kdir "$series")
	ktree=$CACHE/kernels/$rel
	out=$BUILD/vm/$rel
	rm -rf "$out"; mkdir -p "$out/share"

	# On the debug kernel (built from tinyconfig, FRAME_WARN 1024) the
	# module is held to Debian's amd64 stack-frame limit.
	local kcflags=
	[ "$series" = debug ] && kcflags=-Wframe-larger-than=2048
	host_step "$series: vrdma.ko builds against $rel at W=1 without warnings" \
		"$out/build.log" no_warnings make -C "$SRCDIR" modules KDIR="$kdir" \
		${kcflags:+KCFLAGS=$kcflags} || return

	# modprobe (and the rdma link autoload) find vrdma.ko in the extracted
	# tree, as they would in /lib/modules/$rel/updates.  The tree holds a
	# stand-in, indexed by depmod; each run's own module is bind-mounted
	# over it inside the VM (init.sh), so that runs from several build
	# folders never share a module.  The stand-in is replaced only when
	# the module's dependencies change.
	local ko=$BUILD/$rel/drivers/vrdma/vrdma.ko slot
	slot=$ktree/lib/modules/$rel/updates/vrdma.ko
	if ! cp "$ko" "$out/share/vrdma.ko" ||
	   ! flock "$ktree/.lock" sh -c '
		[ -f "$2" ] &&
		[ "$(/sbin/modinfo -F depends "$1")" = "$(/sbin/modinfo -F depends "$2")" ] ||
		{ install -D -m 0644 "$1" "$2" && /sbin/depmod -b "$3" "$4"; }' \
		sh "$ko" "$slot" "$ktree" "$rel"; then
		report "not ok" "$series: vrdma.ko installed into the VM's module tree"
		return
	fi
	# The run's own test modules (kclient_test loads them from there).
	rm -f "$out/share/vrdma_repl_kclient.ko"
	[ ! -f "$BUILD/$rel/selftests/repl/kclient/vrdma_repl_kclient.ko" ] ||
		cp "$BUILD/$rel/selftests/repl/kclient/vrdma_repl_kclient.ko" "$out/share/"

	initrd=$BUILD/vm/initramfs-$rel.img
	if [ ! -f "$initrd" ] || [ "$HERE/init.sh" -nt "$initrd" ] ||
	   [ "$HERE/mkinitramfs.sh" -nt "$initrd" ]; then
		"$HERE/mkinitramfs.sh" "$ktree" "$rel" "$initrd" > "$out/mkinitramfs.log" 2>&1 ||
			{ report "not ok" "$series: initramfs" "see $out/mkinitramfs.log"; return; }
	fi

	if [ "$series" = debug ] && [ -n "$debug_subset" ]; then
		printf '%s\n' "$test_list" |
			awk 'NR == FNR { if ($1 !~ /^#/) want[$1] = 1; next } want[$1]' \
				"$HERE/debug-subset" - > "$out/share/tests.txt"
	else
		printf '%s\n' "$test_list" | lane_filter "$series" > "$out/share/tests.txt"
	fi
	# The tests' knobs given to make or check.sh (FUZZ_SEED,
	# NL_FUZZ_COUNT, RING_FUZZ_SECONDS, PYVERBS_MODULES, SLEEP_SIM_N, ...) reach the
	# guest, whose environment is otherwise empty: guest.sh exports them.
	env | grep -E '^(FUZZ_SEED|[A-Z]+_FUZZ_[A-Z_]+|PYVERBS_[A-Z_]+|NEWDEV_[A-Z]+|RESET_RACE_[A-Z]+|SLEEP_SIM_[A-Z]+)=[A-Za-z0-9_.,:/+ -]*$' \
		> "$out/share/env" || true
	[ -s "$out/share/env" ] && note "$series: the tests' environment: $(tr '\n' ' ' < "$out/share/env")"
	# A scratch disk (sparse) for tests that need a real block device.
	truncate -s 4G "$out/scratch.img"
	count=$(grep -c . "$out/share/tests.txt")
	# Whole-run limit: the tests' own limits plus boot and teardown.
	# The debug kernel runs everything several times slower: its tests'
	# limits are scaled (the guest reads the factor from vmtest.tscale).
	local tscale=1
	[ "$series" = debug ] && tscale=$DEBUG_TSCALE
	tmo=$(awk -v s="$tscale" '{ t += ($2 ? $2 : 300) * s } END { print t + 180 * s }' "$out/share/tests.txt")

	accel="-accel tcg,thread=multi -cpu ${VRDMA_VM_CPU:-max}"
	if kvm_usable "$rel"; then accel="-accel kvm -cpu host"; fi
	note "$series: booting $rel ($accel), $count tests, limit ${tmo}s"

	# One VM at a time on this machine: runs from several checkouts wait
	# for each other instead of sharing two CPUs (timing would suffer).
	# VRDMA_VM_SLOTS (or the number in $lock.slots) allows that many
	# VMs at once on a machine with spare CPUs; the default is one.
	local lock=${VRDMA_VM_LOCK:-/tmp/vrdma-vm.lock} slots i slot waited=
	slots=${VRDMA_VM_SLOTS:-$(cat "$lock.slots" 2>/dev/null || echo 1)}
	[[ "$slots" =~ ^[1-9]$ ]] || slots=1
	while :; do
		for ((i = 1; i <= slots; i++)); do
			slot=$lock; [ "$i" -gt 1 ] && slot=$lock.$i
			exec {lockfd}>>"$slot"
			flock -n "$lockfd" && break 2
			exec {lockfd}>&-
		done
		[ -n "$waited" ] || note "$series: waiting for a VM slot ($lock, $slots)"
		waited=$SECONDS
		sleep 5
	done
	[ -n "$waited" ] && note "$series: got a VM slot after $((SECONDS - lane_t0))s"

	local t0=$SECONDS
	timeout -k 10 "$tmo" qemu-system-x86_64 $accel -smp 2 -m 2048 \
		-nodefaults -display none -no-reboot \
		-kernel "$ktree/boot/vmlinuz-$rel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 tsc=reliable no_timer_check mitigations=off log_buf_len=8M printk.time=1 printk.devkmsg=on vmtest.src=$SRCDIR vmtest.ktree=$ktree vmtest.tscale=$tscale ${VRDMA_VM_APPEND:-}" \
		-fsdev local,id=root,path=/,readonly=on,multidevs=remap,security_model=none \
		-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
		-fsdev local,id=src,path="$SRCDIR",readonly=on,multidevs=remap,security_model=none \
		-device virtio-9p-pci,fsdev=src,mount_tag=vrdmasrc \
		-fsdev local,id=out,path="$out/share",security_model=none \
		-device virtio-9p-pci,fsdev=out,mount_tag=vrdmaout \
		-drive file="$out/scratch.img",format=raw,if=virtio,cache=unsafe \
		-serial file:"$out/console.log" -serial file:"$out/tests.log" \
		< /dev/null > "$out/qemu.log" 2>&1
	local qrc=$?
	exec {lockfd}>&-
	note "$series: VM ran $((SECONDS - t0))s (qemu exit $qrc); the lane took $((SECONDS - lane_t0))s"
	judge "$series" "$out" "$qrc"
}

# Decide, from the logs alone, what the VM run says.
judge() {
	local series=$1 out=$2 qrc=$3 line path res dir reported=0
	local tlog=$out/tests.log clog=$out/console.log
	touch "$tlog" "$clog"
	tr -d '\r' < "$tlog" > "$tlog.txt"

	local subfail=() recent=()
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			res=${line%% [0-9]*}
			line=${line#"$res" }
			line=${line#* }		# drop the guest's number
			dir=
			case "$line" in *" # "*) dir=${line##* # }; line=${line%% # *} ;; esac
			if [ "$res" = ok ] && [ "$dir" = SKIP ]; then
				report ok "$series: $line" SKIP
			else
				report "$res" "$series: $line" "$dir"
			fi
			# Its failed checks, for the summary at the end.
			[ "$res" = ok ] || failures+=("${subfail[@]}")
			subfail=() recent=()
			reported=$((reported + 1))
			;;
		"# not ok "*|"# # not ok "*)
			echo "$line"
			# With the diagnostics printed just before it.
			subfail+=("${recent[@]}" "  $line")
			recent=()
			;;
		"# ok "*|"# # ok "*) echo "$line"; recent=() ;;
		"#"*)
			echo "$line"
			recent+=("    ${line:0:200}")
			[ "${#recent[@]}" -le 3 ] || recent=("${recent[@]:1}")
			;;
		esac
	done < "$tlog.txt"

	if grep -q '^VRDMA-TESTS-END' "$tlog.txt"; then
		report ok "$series: VM completed the run"
	else
		local why="no end-of-tests marker"
		[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && why="VM timed out (hung?)"
		grep -q 'Kernel panic' "$clog" && why="kernel panic"
		grep -q 'VRDMA-VM-FATAL' "$tlog.txt" && why=$(grep 'VRDMA-VM-FATAL' "$tlog.txt" | head -n 1)
		report "not ok" "$series: VM completed the run" "$why; see ${clog#$SRCDIR/}"
	fi

	# The kernel log up to the end-of-tests marker (what follows is the
	# power-off, outside the tests' responsibility).
	local bad
	bad=$(tr -d '\r' < "$clog" | sed '/vrdma-selftests: end of tests/q' |
		grep -E -f <(grep -v '^#' "$HERE/kernel-log-patterns") | head -n 20)
	if [ -z "$bad" ]; then
		report ok "$series: kernel log clean"
	else
		printf '%s\n' "$bad" | sed 's/^/# kernel: /'
		report "not ok" "$series: kernel log clean" "see ${clog#$SRCDIR/}"
		# The first report in full (CI keeps only the log's tail and
		# not the console log): printed again after the summary.
		tr -d '\r' < "$clog" | sed '/vrdma-selftests: end of tests/q' |
			awk -v pat="$(grep -v '^#' "$HERE/kernel-log-patterns" | paste -sd'|')" \
				'!on && $0 ~ pat { on = 1; from = NR - 5 }
				 { keep[NR] = $0 }
				 on && NR - from >= 60 { exit }
				 END { if (on) for (i = (from > 0 ? from : 1); i <= NR; i++) if (i in keep) print keep[i] }' |
			sed "s/^/#   $series console: /" >> "$BUILD/crash-excerpts.txt"
	fi
}

for s in $kvers; do
	if [ "$s" = debug ]; then
		debug_kernel_ready || continue
	fi
	run_vm "$s"
done
static_report

note "make check took ${SECONDS}s"
# What failed, again at the end, where a log's tail shows it.
if [ "${#failures[@]}" -gt 0 ]; then
	note "failed:"
	printf '#   %s\n' "${failures[@]}"
	if [ -s "$BUILD/crash-excerpts.txt" ]; then
		note "the first kernel report of each failing series:"
		head -n 66 "$BUILD/crash-excerpts.txt"
	fi
fi
echo "1..$num"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
