# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the tests that drive vrdmactl (map/map_test.sh,
# netlink/vrdmactl_test.sh).  Source after lib.sh; needs $tmp (a scratch
# folder), $VRDMACTL and $PYTHON.
#
#   run ARGS...                  run vrdmactl; sets $rc, $out, $err
#   run_as WRAPPER... -- ARGS... the same under a wrapper command
#   diag                         $rc, $out and $err as KTAP diagnostics
#   json_check PYTHON-EXPR       EXPR holds for j = the JSON array of $out;
#                                e(addr, vni) lists the entries of j with
#                                that address and vni
#   run_tests TEST...            run each function in a subshell with its
#                                own deferred cleanup; it returns 0 (pass),
#                                $KSFT_SKIP after printing "SKIP reason",
#                                or anything else (fail, its output shown)

run() {
	"$VRDMACTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

run_as() {
	local wrapper=()

	while [ "$1" != "--" ]; do
		wrapper+=("$1")
		shift
	done
	shift
	"${wrapper[@]}" "$VRDMACTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

diag() {
	echo "# rc=$rc"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# stdout: /'
	[ -n "$err" ] && printf '%s\n' "$err" | sed 's/^/# stderr: /'
	return 0
}

json_check() {
	printf '%s' "$out" | "$PYTHON" -c '
import json, sys
j = json.load(sys.stdin)
def e(addr, vni=0):
    return [x for x in j if x["addr"] == addr and x["vni"] == vni]
if not (isinstance(j, list) and ('"$1"')):
    sys.exit("JSON check failed: " + sys.argv[1])
' "$1" 2>&1 | sed 's/^/# /'
	return "${PIPESTATUS[1]}"
}

run_tests() {
	local t result ret desc

	ktap_plan "$#"
	for t in "$@"; do
		result=$( (__DEFERRED=(); trap run_deferred EXIT; "$t") )
		ret=$?
		desc=${t#test_}
		if [ "$ret" -eq 0 ]; then
			ktap_ok "$desc"
		elif [ "$ret" -eq "$KSFT_SKIP" ]; then
			ktap_skip "$desc" "${result##*SKIP }"
		else
			[ -n "$result" ] && printf '%s\n' "$result"
			ktap_fail "$desc"
		fi
	done
}
