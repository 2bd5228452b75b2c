#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rdma-core's own test suite (pyverbs, Debian's python3-pyverbs) on native
# soft-RoCE and on vrdma devices in containers of the same VM: a shadow
# device (vr1_1 in c1_1) and a passthrough device (vp1_2 in c1_2), both on
# rxe1.  Every test that passes natively must pass on each vrdma device, or
# be listed in that mode's KNOWN list below with the reason (the
# limitations of Documentation/user-abi.rst).  A listed test that passes
# fails the test too: the lists must stay true.
#
# The suite's provider-specific modules (mlx5, efa) skip on any other
# device and are not run.  Each module runs in its own process with its own
# timeout, so that a hang costs one module, not the rest of the suite.
#
# By default (make check) only the modules of the differences issue 12
# found are run (the device's attributes, memory regions and windows, QPs,
# the new post-send API, CQs): the whole suite takes about 5 minutes per
# device under emulation.  pyverbs_full_test.sh (make check-full) runs it
# all.
#
#   PYVERBS_MODULES="test_mr test_qp"   run only these modules
#   PYVERBS_MODULES=all                 run every module
#   PYVERBS_MODES="passthrough"         only these vrdma devices (default
#                                       "shadow passthrough")
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/../verbs/verbs_lib.sh"
. "$(dirname "$0")/conformance_lib.sh"
require_root

TESTS_SRC=/usr/share/doc/rdma-core/tests
RUNNER=$CONF_DIR/pyverbs_run.py
MODULE_TIMEOUT=${MODULE_TIMEOUT:-600}

# Tests that pass on native rxe and not on a vrdma device, each with its
# reason: "ID|reason", ID a unittest id, in the list of the device's mode.
# Documentation/user-abi.rst lists the same limitations.
MW="memory windows: kernel verbs give no physical window (no alloc_mw for kernel users, no bind in struct ib_send_wr); the device reports max_mw 0"
AW="RC atomic write: kernel verbs cannot post one (rxe's kernel path takes neither the 8 bytes nor the remote address); the device does not report IB_UVERBS_DEVICE_ATOMIC_WRITE, but librxe creates the QP regardless and the test does not check it"
# shellcheck disable=SC2034	# (read through namerefs)
KNOWN_shadow=(
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
UD="UD on passthrough: the provider writes a UD work request's address vector into the RNIC's queue without vrdma, so the address map could not be enforced; UD QPs fail with EOPNOTSUPP (use a shadow device)"
AH="address handles on passthrough: only UD uses them; ibv_create_ah fails with EOPNOTSUPP"
PMW="memory windows on passthrough: not implemented (vrdma creates no physical window); the device reports max_mw 0 and ibv_alloc_mw fails with EOPNOTSUPP"
# On passthrough a listed test must skip: the device refuses what it lacks
# (EOPNOTSUPP, max_mw 0), and the suite skips on that.  Some of the UD
# tests' names say "raw"; test_qpex's "bad_flow" tests post on UD QPs.
# shellcheck disable=SC2034
KNOWN_passthrough=(
	"tests.test_cq.CQTest.test_resize_cq|$UD"
	"tests.test_cq_events.CqEventsTestCase.test_cq_events_ud|$UD"
	"tests.test_cqex.CqExTestCase.test_ud_traffic_cq_ex|$UD"
	"tests.test_qp.QPTest.test_create_raw_qp_ex_with_illegal_caps_max_recv_sge|$UD"
	"tests.test_qp.QPTest.test_create_raw_qp_ex_with_illegal_caps_max_recv_wr|$UD"
	"tests.test_qp.QPTest.test_create_raw_qp_ex_with_illegal_caps_max_send_sge|$UD"
	"tests.test_qp.QPTest.test_create_raw_qp_ex_with_illegal_caps_max_send_wr|$UD"
	"tests.test_qp.QPTest.test_create_ud_qp_ex_no_attr|$UD"
	"tests.test_qp.QPTest.test_create_ud_qp_ex_with_attr|$UD"
	"tests.test_qp.QPTest.test_create_ud_qp_no_attr|$UD"
	"tests.test_qp.QPTest.test_create_ud_qp_with_attr|$UD"
	"tests.test_qp.QPTest.test_modify_ud_qp|$UD"
	"tests.test_qp.QPTest.test_query_data_in_order|$UD"
	"tests.test_qp.QPTest.test_query_ud_qp|$UD"
	"tests.test_qpex.QpExTestCase.test_full_rq_bad_flow|$UD"
	"tests.test_qpex.QpExTestCase.test_post_receive_qp_state_bad_flow|$UD"
	"tests.test_qpex.QpExTestCase.test_post_send_qp_state_bad_flow|$UD"
	"tests.test_qpex.QpExTestCase.test_qp_ex_ud_send|$UD"
	"tests.test_qpex.QpExTestCase.test_qp_ex_ud_send_imm|$UD"
	"tests.test_qpex.QpExTestCase.test_qp_ex_ud_zero_size|$UD"
	"tests.test_qpex.QpExTestCase.test_rq_with_larger_sgl_bad_flow|$UD"
	"tests.test_relaxed_ordering.RoTestCase.test_ro_ud_traffic|$UD"
	"tests.test_addr.AHTest.test_create_ah|$AH"
	"tests.test_addr.AHTest.test_destroy_ah|$AH"
	"tests.test_mr.MWTest.test_invalidate_mw_type1|$PMW"
	"tests.test_mr.MWTest.test_mw_type1|$PMW"
	"tests.test_mr.MWTest.test_mw_type2|$PMW"
	"tests.test_mr.MWTest.test_mw_type2_invalidate_dealloc|$PMW"
	"tests.test_mr.MWTest.test_mw_type2_invalidate_local|$PMW"
	"tests.test_mr.MWTest.test_mw_type2_invalidate_remote|$PMW"
	"tests.test_mr.MWTest.test_reg_mw_wrong_type|$PMW"
	"tests.test_qpex.QpExTestCase.test_qp_ex_rc_bind_mw|$PMW"
)

# Tests whose outcome on native rxe itself depends on timing: they are
# run and their outcomes reported on every device, but not compared.
# test_resize_cq posts sends and at once shrinks the CQ below the number
# of their completions, expecting EINVAL, without waiting for the sends to
# complete: on rxe the completions are often not there yet (native rxe1
# failed it in 3 of 3 runs on 6.12, 2026-12-07; CI's run of stop 20 passed
# it natively and failed it twice on vr1_1).  verbs_test's
# rc.cq_resize_below_pending_fails tests the same rule after waiting for
# the completions.
# shellcheck disable=SC2034
KNOWN_racy=(
	"tests.test_cq.CQTest.test_resize_cq|shrinks the CQ below completions it does not wait for (verbs_test rc.cq_resize_below_pending_fails tests the rule)"
)

require_pyverbs
[ -f "$TESTS_SRC/run_tests.py" ] || { echo "# no $TESTS_SRC/run_tests.py"; exit "$KSFT_SKIP"; }
netns_exclusive || exit "$KSFT_SKIP"

read -r -a modes <<< "${PYVERBS_MODES:-shadow passthrough}"
for mode in "${modes[@]}"; do
	case "$mode" in
	shadow|passthrough) ;;
	*) echo "# PYVERBS_MODES: unknown mode $mode"; exit 1 ;;
	esac
done

ktap_plan $((2 + 2 * ${#modes[@]}))

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

# Host 1 (rxe1 in init_net), c1_1 with the shadow device vr1_1 (conf_setup)
# and c1_2 with the passthrough device vp1_2, both on rxe1.
conf_setup
declare -A DEV NS GIDX
DEV[native]=rxe1 NS[native]=""
GIDX[native]=$(host_gid_index 1)
DEV[shadow]=vr1_1 NS[shadow]=c1_1
GIDX[shadow]=$(ct_gid_index c1_1 vr1_1 "$(ct_addr 1 1)")
if [[ " ${modes[*]} " == *" passthrough "* ]]; then
	DEV[passthrough]=vp1_2 NS[passthrough]=c1_2
	if ! { topo_container 1 2 > /dev/null &&
	       VDEV_MODE=passthrough vdev_add vp1_2 c1_2 1 && map_add "$(ct_addr 1 2)" 1; }; then
		ktap_fail "vp1_2 (passthrough) in c1_2"
		ktap_finish
	fi
	GIDX[passthrough]=$(ct_gid_index c1_2 vp1_2 "$(ct_addr 1 2)")
	ktap_diag "vp1_2 (passthrough) in c1_2, GID ${GIDX[passthrough]}"
fi

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

# run_mode MODE: the suite on that mode's device, its counts, one KTAP line.
run_mode() {
	local r=$1 t0=$SECONDS
	run_suite "${NS[$r]}" "${DEV[$r]}" "${GIDX[$r]}" "$work/$r"
	echo "# $r ${DEV[$r]} (GID ${GIDX[$r]}): $(count pass "$work/$r") passed," \
		"$(count fail "$work/$r") failed, $(count error "$work/$r") errors," \
		"$(count skip "$work/$r") skipped of $(wc -l < "$work/$r") in $((SECONDS - t0))s"
	# What fails natively is not compared (rxe's own failures, for the record).
	awk -v r="$r" '$1 == "fail" || $1 == "error" { print "# " r " " $1 ": " $2 }' "$work/$r"
	if [ "$(count pass "$work/$r")" -gt 0 ]; then
		ktap_ok "pyverbs on $r ${DEV[$r]}"
	else
		ktap_fail "pyverbs on $r ${DEV[$r]} (nothing passed)"
	fi
}

run_mode native
for mode in "${modes[@]}"; do
	run_mode "$mode"
done

# Why tests skipped, on each device (the same reasons on all, but for the
# known limitations).
for r in native "${modes[@]}"; do
	echo "# skipped on $r, by reason:"
	awk '$1 == "skip" { $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' "$work/$r" |
		sort | uniq -c | sort -rn | sed 's/^/#   /'
done

# known MODE ID: the reason when ID is listed for MODE (MODE racy: in
# KNOWN_racy).
known() {
	local -n list=KNOWN_$1
	local k
	for k in "${list[@]}"; do
		[ "${k%%|*}" = "$2" ] && { echo "${k#*|}"; return 0; }
	done
	return 1
}

# rerun MODE ID: test ID alone on MODE's device once more; prints its status.
# A test may lose a race with the device now and then (those that lose it
# often, natively too, are in KNOWN_racy): a test that passes natively and not
# on vrdma runs a second time before it counts.
rerun() {
	local r=$1 id=$2
	rm -f "$work/rerun"
	run_in "${NS[$r]}" timeout -k 10 "$MODULE_TIMEOUT" "$PY" "$RUNNER" "$work/tests" "$work/rerun" \
		--dev "${DEV[$r]}" --gid "${GIDX[$r]}" -v "$id" < /dev/null >> "$work/${DEV[$r]}.rerun.log" 2>&1
	awk -v id="$id" '$2 == id { print $1 }' "$work/rerun" 2> /dev/null
}

# The verdict, per mode: natively passing tests that do not pass on the
# mode's device, and listed tests that do.
for mode in "${modes[@]}"; do
	declare -n klist=KNOWN_$mode
	bad=0 badids=""
	while read -r id; do
		st=$(awk -v id="$id" '$2 == id { print $1 }' "$work/$mode")
		[ "$st" = pass ] && continue
		if reason=$(known "$mode" "$id"); then
			echo "# $mode: known: $id: ${st:-not run}: $reason"
			if [ "$mode" = passthrough ] && [ "$st" != skip ]; then
				echo "# $mode: NOT REFUSED: $id is listed but ${st:-not run}, not skipped"
				bad=$((bad + 1)) badids+=" ${id##*.}"
			fi
		elif reason=$(known racy "$id"); then
			echo "# $mode: RACY, not compared: $id: ${st:-not run} on ${DEV[$mode]}: $reason"
		elif [ "$(rerun "$mode" "$id")" = pass ]; then
			echo "# $mode: FLAKY: $id: ${st:-not run} on ${DEV[$mode]}, passed when run again alone"
		else
			echo "# $mode: REGRESSION: $id: passes natively, ${st:-not run} on ${DEV[$mode]} (twice)"
			bad=$((bad + 1)) badids+=" ${id##*.}"
		fi
	done < <(awk '$1 == "pass" { print $2 }' "$work/native")
	for k in "${klist[@]}"; do
		id=${k%%|*}
		if grep -q "^pass $id " "$work/$mode"; then
			echo "# $mode: STALE: $id passes on ${DEV[$mode]} but is listed: ${k#*|}"
			bad=$((bad + 1)) badids+=" ${id##*.}"
		fi
	done
	unset -n klist
	if [ "$bad" -gt 0 ]; then
		# The failing tests' own messages.
		for f in "$work/${DEV[$mode]}".*.log; do
			grep -A 12 -E '^(FAIL|ERROR):' "$f" | sed 's/^/#   /'
		done | head -n 400
		# (the names in the KTAP line: a log cut short keeps them)
		ktap_fail "every test passing natively passes on $mode ${DEV[$mode]} or is listed ($bad not:$badids)"
	else
		ktap_ok "every test passing natively passes on $mode ${DEV[$mode]} or is listed"
	fi
done
ktap_finish
