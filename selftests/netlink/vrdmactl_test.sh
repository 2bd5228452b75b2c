#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "A && B && C || fail" is meant: fail when any condition does not hold.
# shellcheck disable=SC2015
#
# Drive the built vrdmactl against the vrdma module (loaded here if it is
# not): plain and JSON output, abbreviations, errors carrying the kernel's
# extended ACK (exit 1) and usage errors (exit 2).  KTAP output; exits 4
# (skip) if vrdma cannot be loaded, non-zero if any test fails.
#
#   [VRDMACTL=/path/to/vrdmactl] ./vrdmactl_test.sh

vrdmactl_override=${VRDMACTL:-}
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/vrdmactl.sh"
VRDMACTL=${vrdmactl_override:-$VRDMACTL}
PYTHON=${PYTHON:-/usr/bin/python3}

set -u

readonly NO_SUCH_PHYS=vrdma-st-nodev

tmp=$(mktemp -d) || exit 1
defer rm -rf "$tmp"

have_python() {
	[ -x "$PYTHON" ]
}

# Each test prints nothing on success, diagnostics and returns 1 on failure,
# or prints "SKIP reason" and returns $KSFT_SKIP.

test_info() {
	run info
	[ "$rc" -eq 0 ] && [[ "$out" =~ ^version\ [^\ ]+ ]] && [ -z "$err" ] ||
		{ diag; return 1; }
}

test_info_json() {
	have_python || { echo "SKIP no $PYTHON"; return $KSFT_SKIP; }
	run -j info
	[ "$rc" -eq 0 ] || { diag; return 1; }
	json_check 'len(j) == 1 and isinstance(j[0]["version"], str) and
		isinstance(j[0]["dev_count"], int) and
		isinstance(j[0]["map_count"], int)' || { diag; return 1; }
}

# Options may follow the object, as with iproute2.
test_info_json_option_last() {
	have_python || { echo "SKIP no $PYTHON"; return $KSFT_SKIP; }
	run info -j
	[ "$rc" -eq 0 ] || { diag; return 1; }
	json_check 'len(j) == 1 and "version" in j[0]' || { diag; return 1; }
}

test_info_pretty() {
	have_python || { echo "SKIP no $PYTHON"; return $KSFT_SKIP; }
	run -p info
	[ "$rc" -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -gt 1 ] ||
		{ diag; return 1; }
	json_check 'len(j) == 1' || { diag; return 1; }
}

test_info_abbreviated() {
	local full

	run info
	full=$out
	run i
	[ "$rc" -eq 0 ] && [ "$out" = "$full" ] || { diag; return 1; }
}

test_phys_show_json() {
	have_python || { echo "SKIP no $PYTHON"; return $KSFT_SKIP; }
	run -j phys show
	[ "$rc" -eq 0 ] || { diag; return 1; }
	json_check 'all(isinstance(p["name"], str) and
			isinstance(p["index"], int) and
			isinstance(p["default"], bool) for p in j) and
		sum(p["default"] for p in j) <= 1' || { diag; return 1; }
}

# The default of "phys show" is the one "info" reports.
test_phys_default_consistent() {
	local phys

	have_python || { echo "SKIP no $PYTHON"; return $KSFT_SKIP; }
	run -j phys
	[ "$rc" -eq 0 ] || { diag; return 1; }
	phys=$out
	run -j info
	[ "$rc" -eq 0 ] || { diag; return 1; }
	out="[$phys, $out]"
	json_check '[p["name"] for p in j[0] if p["default"]] ==
		([j[1][0]["phys_default"]] if "phys_default" in j[1][0] else [])' ||
		{ diag; return 1; }
}

# One line per device in plain output, as many as in JSON.
test_phys_show_plain() {
	local lines

	run phys show
	[ "$rc" -eq 0 ] || { diag; return 1; }
	lines=$(printf '%s' "$out" | grep -c .)
	run -j phys show
	have_python || { echo "SKIP no $PYTHON"; return $KSFT_SKIP; }
	json_check "len(j) == $lines" || { diag; return 1; }
}

current_default() {
	"$VRDMACTL" phys show | sed -n 's/^[0-9]*: \([^:]*\):.* default$/\1/p'
}

test_phys_set_default() {
	local name

	[ "$(id -u)" -eq 0 ] || { echo "SKIP needs root"; return $KSFT_SKIP; }
	name=$(current_default)
	[ -n "$name" ] || { echo "SKIP no default physical device"; return $KSFT_SKIP; }
	run phys default "$name"
	[ "$rc" -eq 0 ] && [ -z "$err" ] && [ "$(current_default)" = "$name" ] ||
		{ diag; return 1; }
}

# The kernel's error and extack message, exit status 1.
test_error_extack() {
	[ "$(id -u)" -eq 0 ] || { echo "SKIP needs root"; return $KSFT_SKIP; }
	run phys default "$NO_SUCH_PHYS"
	[ "$rc" -eq 1 ] && [ -z "$out" ] &&
		[[ "$err" =~ ^vrdmactl:\ No\ such\ device:\ .+$ ]] ||
		{ diag; return 1; }
}

# A policy error names the offending attribute.
test_error_policy() {
	local long

	[ "$(id -u)" -eq 0 ] || { echo "SKIP needs root"; return $KSFT_SKIP; }
	long=$(printf 'x%.0s' $(seq 200))
	run phys default "$long"
	[ "$rc" -eq 1 ] &&
		[[ "$err" =~ ^vrdmactl:\ (Invalid\ argument|Numerical\ result\ out\ of\ range):\ .+\ \(attribute\ \'name\'\)$ ]] ||
		{ diag; return 1; }
}

test_error_unprivileged() {
	local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

	command -v setpriv >/dev/null || { echo "SKIP no setpriv"; return $KSFT_SKIP; }
	[ "$(id -u)" -eq 0 ] || { echo "SKIP needs root"; return $KSFT_SKIP; }
	"${nobody[@]}" test -x "$VRDMACTL" ||
		{ echo "SKIP $VRDMACTL not executable by nobody"; return $KSFT_SKIP; }
	run_as "${nobody[@]}" -- phys default "$NO_SUCH_PHYS"
	[ "$rc" -eq 1 ] && [[ "$err" =~ ^vrdmactl:\ Operation\ not\ permitted ]] ||
		{ diag; return 1; }
}

test_error_in_netns() {
	command -v unshare >/dev/null || { echo "SKIP no unshare"; return $KSFT_SKIP; }
	[ "$(id -u)" -eq 0 ] || { echo "SKIP needs root"; return $KSFT_SKIP; }
	run_as unshare --net -- phys default "$NO_SUCH_PHYS"
	[ "$rc" -eq 1 ] &&
		[[ "$err" =~ ^vrdmactl:\ Operation\ not\ permitted:\ .+$ ]] ||
		{ diag; return 1; }
}

# usage_error ARGS...: exit status 2, one line on stderr with a hint.
usage_error() {
	run "$@"
	[ "$rc" -eq 2 ] && [ -z "$out" ] &&
		[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
		[[ "$err" =~ ^vrdmactl:\ .*\(try\ \'vrdmactl\ .*help\'\)$ ]] ||
		{ diag; return 1; }
}

test_usage_unknown_object() {
	usage_error frobnicate
}

test_usage_unknown_command() {
	usage_error phys frobnicate
}

test_usage_missing_argument() {
	usage_error phys default
}

test_usage_extra_argument() {
	usage_error info show extra
}

test_usage_bad_option() {
	usage_error -Z info
}

test_usage_bad_address() {
	usage_error map add 10.0.0.300 via 192.0.2.1
}

test_usage_bad_vni() {
	usage_error map add 10.0.0.1 via 192.0.2.1 vni 16777216
}

test_help() {
	run -h
	[ "$rc" -eq 0 ] && [[ "$out" =~ ^Usage:\ vrdmactl ]] || { diag; return 1; }
	run dev help
	# (global options before the object, as in "vrdmactl [ -s ] dev")
	[ "$rc" -eq 0 ] && [[ "$out" =~ ^Usage:\ vrdmactl\ (\[\ [^]]*\]\ )?dev ]] ||
		{ diag; return 1; }
}

# show_or_unsupported OBJECT: a JSON list, or "not implemented yet".
show_or_unsupported() {
	run -j "$1" show
	if [ "$rc" -eq 1 ] && [[ "$err" =~ Operation\ not\ supported ]]; then
		echo "SKIP $1 commands not implemented by the module yet"
		return $KSFT_SKIP
	fi
	[ "$rc" -eq 0 ] || { diag; return 1; }
	have_python || { echo "SKIP no $PYTHON"; return $KSFT_SKIP; }
	json_check 'True' || { diag; return 1; }
}

test_dev_show_json() {
	show_or_unsupported dev
}

test_map_show_json() {
	show_or_unsupported map
}

tests=(
	test_info
	test_info_json
	test_info_json_option_last
	test_info_pretty
	test_info_abbreviated
	test_phys_show_json
	test_phys_default_consistent
	test_phys_show_plain
	test_phys_set_default
	test_error_extack
	test_error_policy
	test_error_unprivileged
	test_error_in_netns
	test_usage_unknown_object
	test_usage_unknown_command
	test_usage_missing_argument
	test_usage_extra_argument
	test_usage_bad_option
	test_usage_bad_address
	test_usage_bad_vni
	test_help
	test_dev_show_json
	test_map_show_json
)

if [ "$(id -u)" -eq 0 ]; then
	# shellcheck disable=SC2119 # no module parameters
	vrdma_load > /dev/null 2>&1
fi
if ! module_loaded vrdma 2> /dev/null; then
	echo "TAP version 13"
	echo "1..0 # SKIP vrdma module not loaded"
	exit "$KSFT_SKIP"
fi
if [ ! -x "$VRDMACTL" ]; then
	echo "TAP version 13"
	echo "Bail out! $VRDMACTL not built (make -C userspace)"
	exit 1
fi

run_tests "${tests[@]}"
ktap_finish
