# SPDX-License-Identifier: GPL-2.0
#
# KTAP reporting for shell selftests.  Source it, declare the plan with
# ktap_plan N, report each check with ktap_ok/ktap_fail/ktap_skip or
# ktap_check "description" COMMAND..., and end with ktap_finish (exit 0 when
# every check passed, 1 otherwise, 4 when everything was skipped).

KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_plan() { echo "TAP version 13"; echo "1..$1"; }
ktap_ok() { KTAP_N=$((KTAP_N + 1)); KTAP_PASS=$((KTAP_PASS + 1)); echo "ok $KTAP_N $*"; }
ktap_fail() { KTAP_N=$((KTAP_N + 1)); KTAP_FAIL=$((KTAP_FAIL + 1)); echo "not ok $KTAP_N $*"; }
ktap_skip() { KTAP_N=$((KTAP_N + 1)); KTAP_SKIP=$((KTAP_SKIP + 1)); echo "ok $KTAP_N $1 # SKIP ${2:-}"; }
ktap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# ktap_check DESCRIPTION COMMAND...: passes when COMMAND succeeds; shows
# its output as diagnostics when it fails.
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

# ktap_check_fails DESCRIPTION COMMAND...: passes when COMMAND fails.
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

ktap_finish() {
	echo "# $KTAP_PASS passed, $KTAP_FAIL failed, $KTAP_SKIP skipped"
	[ "$KTAP_FAIL" -eq 0 ] || exit 1
	[ "$KTAP_PASS" -eq 0 ] && [ "$KTAP_SKIP" -gt 0 ] && exit 4
	exit 0
}
