# SPDX-License-Identifier: GPL-2.0
#
# KTAP reporting for shell selftests: the kernel's own
# tools/testing/selftests/kselftest/ktap_helpers.sh (from Debian's
# linux-source-6.12, extracted into .cache/ by scripts/deps.sh; the VM sees
# it through the shared host root), plus what it lacks:
#
#   ktap_plan N                   header and plan
#   ktap_ok DESC / ktap_fail DESC one result
#   ktap_skip DESC [REASON]       a skipped check, with its reason
#   ktap_diag LINE...             diagnostics, one "# " line each
#   ktap_check DESC COMMAND...    passes when COMMAND succeeds (its output
#                                 becomes diagnostics when it fails)
#   ktap_check_fails DESC COMMAND...  passes when COMMAND fails
#   ktap_finish                   totals; exit 0 when every planned check
#                                 passed, 1 when one failed or the count
#                                 differs from the plan, 4 (KSFT_SKIP) when
#                                 all were skipped
#
# KTAP_FAIL is the number of failed checks so far.

KTAP_HELPERS=${KTAP_HELPERS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." &&
	pwd)/.cache/linux-source-6.12/tools/testing/selftests/kselftest/ktap_helpers.sh}
if [ ! -f "$KTAP_HELPERS" ]; then
	echo "Bail out! no $KTAP_HELPERS (run make deps)"
	exit 1
fi
# shellcheck source=/dev/null
. "$KTAP_HELPERS"

KTAP_FAIL=0

ktap_plan() { ktap_print_header; ktap_set_plan "$1"; }
ktap_ok() { ktap_test_pass "$*"; }
ktap_fail() { ktap_test_fail "$*"; KTAP_FAIL=$KTAP_CNT_FAIL; }
# ktap_test_skip has no reason: the directive carries it here.
ktap_skip() {
	__ktap_test ok "$1" "SKIP${2:+ $2}"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}
ktap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

ktap_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ktap_ok "$desc"
	else
		ktap_diag "$out"
		ktap_fail "$desc"
	fi
}

ktap_check_fails() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ktap_diag "unexpectedly succeeded:" "$out"
		ktap_fail "$desc"
	else
		ktap_ok "$desc"
	fi
}

# Like ktap_finished, a run that reported fewer or more checks than its
# plan fails (a check skipped silently is a defect); the tests here also
# report "all skipped" as a skip.
ktap_finish() {
	local ran=$((KTAP_CNT_PASS + KTAP_CNT_FAIL + KTAP_CNT_SKIP))

	ktap_print_totals
	[ "$KTAP_CNT_FAIL" -eq 0 ] || exit "$KSFT_FAIL"
	if [ "$KSFT_NUM_TESTS" -gt 0 ] && [ "$ran" -ne "$KSFT_NUM_TESTS" ]; then
		echo "# planned $KSFT_NUM_TESTS checks, reported $ran"
		exit "$KSFT_FAIL"
	fi
	[ "$KTAP_CNT_PASS" -eq 0 ] && [ "$KTAP_CNT_SKIP" -gt 0 ] && exit "$KSFT_SKIP"
	exit "$KSFT_PASS"
}
