#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rdma-core's own test suite (pyverbs, Debian's python3-pyverbs) on native
# soft-RoCE and on a vrdma device inside a container of the same VM.  Every
# test that passes natively must pass on vrdma, or be listed in KNOWN below
# with the reason (the limitations of Documentation/user-abi.rst).  A
# listed test that passes on vrdma fails the test too: the list must stay
# true.
#
# The suite's provider-specific modules (mlx5, efa) skip on any other
# device and are not run.  Each module runs in its own process with its own
# timeout, so that a hang costs one module, not the rest of the suite.
#
# By default (make check) only the modules of the differences issue 12
# found are run (the device's attributes, memory regions and windows, QPs,
# the new post-send API, CQs): the whole suite takes about 12 minutes
# under emulation.  pyverbs_full_test.sh (make check-full) runs it all.
#
#   PYVERBS_MODULES="test_mr test_qp"   run only these modules
#   PYVERBS_MODULES=all                 run every module
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
. "$(dirname "$0")/conformance_lib.sh"
require_root

TESTS_SRC=/usr/share/doc/rdma-core/tests
RUNNER=$CONF_DIR/pyverbs_run.py
MODULE_TIMEOUT=${MODULE_TIMEOUT:-600}

# Tests that pass on native rxe and not on vrdma, each with its reason.
# "ID|reason", ID a unittest id.  Documentation/user-abi.rst lists the same
# limitations.
MW="memory windows: kernel verbs give no physical window (no alloc_mw for kernel users, no bind in struct ib_send_wr); the device reports max_mw 0"
AW="RC atomic write: kernel verbs cannot post one (rxe's kernel path takes neither the 8 bytes nor the remote address); the device does not report IB_UVERBS_DEVICE_ATOMIC_WRITE, but librxe creates the QP regardless and the test does not check it"
KNOWN=(
	"tests.test_mr.MWTest.test_invalidate_mw_type1|$MW"
	"tests.test_mr.MWTest.test_mw_type1|$MW"
	"tests.test_mr.MWTest.test_mw_type2|$MW"
	"tests.test_mr.MWTest.test_mw_type2_invalidate_dealloc|$MW"
	"tests.test_mr.MWTest.test_mw_type2_invalidate_local|$MW"
	"tests.test_mr.MWTest.test_mw_type2_invalidate_remote|$MW"
	"tests.test_mr.MWTest.test_reg_mw_wrong_type|$MW"
	"tests.test_qpex.QpExTestCase.test_qp_ex_rc_bind_mw|$MW"
	"tests.test_qpex.QpExTestCase.test_qp_ex_rc_atomic_write|$AW"
)

require_pyverbs
[ -f "$TESTS_SRC/run_tests.py" ] || { echo "# no $TESTS_SRC/run_tests.py"; exit "$KSFT_SKIP"; }
netns_exclusive || exit "$KSFT_SKIP"

ktap_plan 4

work=$(mktemp -d /tmp/pyverbs.XXXXXX)
defer rm -rf "$work"
cp -r "$TESTS_SRC" "$work/tests"
gunzip -f "$work"/tests/*.gz

if [ "${PYVERBS_MODULES:-}" = all ]; then
	mapfile -t modules < <(cd "$work/tests" && ls test_*.py | sed 's/\.py$//' |
			       grep -v -E '^test_(mlx5|efa)')
else
	read -r -a modules <<< "${PYVERBS_MODULES:-test_device test_mr test_qp test_qpex test_cq}"
fi

conf_setup
native_gid=$(host_gid_index 1)
vrdma_gid=$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")

# run_suite NETNS DEV GID RESULTS: every module, results appended to RESULTS.
run_suite() {
	local ns=$1 dev=$2 gid=$3 res=$4 m t0 rc n
	: > "$res"
	for m in "${modules[@]}"; do
		t0=$SECONDS
		n=$(wc -l < "$res")
		run_in "$ns" timeout -k 10 "$MODULE_TIMEOUT" "$PY" "$RUNNER" "$work/tests" "$res.part" \
			--dev "$dev" --gid "$gid" -v "tests.$m" > "$work/$dev.$m.log" 2>&1
		rc=$?
		cat "$res.part" >> "$res" 2> /dev/null
		rm -f "$res.part"
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "# $dev: $m timed out after ${MODULE_TIMEOUT}s; tests not finished count as not passed"
			tail -n 20 "$work/$dev.$m.log" | sed 's/^/#   /'
		fi
		echo "# $dev: $m: $(($(wc -l < "$res") - n)) tests," \
			"$(tail -n +$((n + 1)) "$res" | grep -c '^pass ') passed, $((SECONDS - t0))s"
	done
}

count() { grep -c "^$1 " "$2"; }

t0=$SECONDS
run_suite "" rxe1 "$native_gid" "$work/native"
echo "# native rxe1 (GID $native_gid): $(count pass "$work/native") passed," \
	"$(count fail "$work/native") failed, $(count error "$work/native") errors," \
	"$(count skip "$work/native") skipped of $(wc -l < "$work/native") in $((SECONDS - t0))s"
# What fails natively is not compared (rxe's own failures, for the record).
awk '$1 == "fail" || $1 == "error" { print "# native " $1 ": " $2 }' "$work/native"
if [ "$(count pass "$work/native")" -gt 0 ]; then
	ktap_ok "pyverbs on native rxe1"
else
	ktap_fail "pyverbs on native rxe1 (nothing passed)"
fi

t0=$SECONDS
run_suite c1_1 vr1_1 "$vrdma_gid" "$work/vrdma"
echo "# vrdma vr1_1 (GID $vrdma_gid): $(count pass "$work/vrdma") passed," \
	"$(count fail "$work/vrdma") failed, $(count error "$work/vrdma") errors," \
	"$(count skip "$work/vrdma") skipped of $(wc -l < "$work/vrdma") in $((SECONDS - t0))s"
awk '$1 == "fail" || $1 == "error" { print "# vrdma " $1 ": " $2 }' "$work/vrdma"
if [ "$(count pass "$work/vrdma")" -gt 0 ]; then
	ktap_ok "pyverbs on vrdma vr1_1"
else
	ktap_fail "pyverbs on vrdma vr1_1 (nothing passed)"
fi

# Why tests skipped, on each device (the same reasons on both, but for the
# known limitations).
for r in native vrdma; do
	echo "# skipped on $r, by reason:"
	awk '$1 == "skip" { $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' "$work/$r" |
		sort | uniq -c | sort -rn | sed 's/^/#   /'
done

# known ID: the reason when ID is listed.
known() {
	local k
	for k in "${KNOWN[@]}"; do
		[ "${k%%|*}" = "$1" ] && { echo "${k#*|}"; return 0; }
	done
	return 1
}

# The verdict: natively passing tests that do not pass on vrdma.
bad=0
while read -r id; do
	st=$(awk -v id="$id" '$2 == id { print $1 }' "$work/vrdma")
	[ "$st" = pass ] && continue
	if reason=$(known "$id"); then
		echo "# known: $id: ${st:-not run}: $reason"
	else
		echo "# REGRESSION: $id: passes natively, ${st:-not run} on vrdma"
		bad=$((bad + 1))
	fi
done < <(awk '$1 == "pass" { print $2 }' "$work/native")
for k in "${KNOWN[@]}"; do
	id=${k%%|*}
	if grep -q "^pass $id " "$work/vrdma"; then
		echo "# STALE: $id passes on vrdma but is listed: ${k#*|}"
		bad=$((bad + 1))
	fi
done
if [ "$bad" -gt 0 ]; then
	# The failing tests' own messages.
	for f in "$work"/vr1_1.*.log; do
		grep -A 12 -E '^(FAIL|ERROR):' "$f" | sed 's/^/#   /'
	done | head -n 400
	ktap_fail "every test passing natively passes on vrdma or is listed ($bad not)"
else
	ktap_ok "every test passing natively passes on vrdma or is listed"
fi
ktap_finish
