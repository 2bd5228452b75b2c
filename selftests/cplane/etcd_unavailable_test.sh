#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# etcd answers, but cannot serve: a 3-member cluster that lost its quorum
# (two members killed).  The last member has no leader and its gateway
# answers HTTP 503 "etcdserver: no leader".  The agent must say so (etcd
# is unavailable, naming the endpoint and etcd's own words), not that
# etcd is unreachable; it must ride out an outage shorter than its retry
# deadline (a CNI ADD made while there is no leader succeeds once the
# quorum is back), and recover after a longer one.  A request etcd
# rejects (HTTP 4xx: here authentication turned on, the agent's
# certificate names no user) is reported as refused, with what etcd
# said, and never retried (each endpoint asked once at most: the
# gateway says this one in plain text, not JSON, and an answer without
# JSON may be another service's at that address).

. "$(dirname "$0")/lib.sh"

ktap_plan 8

cplane_start "host up: rxe1, vrdma, 3 etcd members (TLS), agent ready"
# A retry deadline that outlasts an election under emulation (a restarted
# member, then up to two election timeouts), and a CNI timeout well
# above it (the request may first wait for a background call's round:
# the agent is one thread).
agent_stop "$AGENT_LOG"
agent_config "$AGENT_CONF" h1 lease-ttl=5 etcd.retry-deadline=20
agent_start "$AGENT_CONF" "$AGENT_LOG" || { echo "# the agent did not restart"; tail -n 5 "$AGENT_LOG"; }
sed -i 's/"type": "vrdma", /"type": "vrdma", "timeout": 60, /' "$CONFLIST"

# The member that stays: the gateway of a member without leader answers
# a request that requires one with HTTP 503 (what the agent sees).
LONE=1
lone_no_leader() {
	local code
	code=$(curl -s -o "$CP/lone.json" -w '%{http_code}' --max-time 5 \
		--cacert "$ETCD_TLS/ca.pem" --cert "$ETCD_TLS/client.pem" \
		--key "$ETCD_TLS/client.key" -H 'Grpc-Metadata-hasleader: true' \
		-X POST -d '{"key":"eA=="}' "https://127.0.0.1:2379$LONE/v3/kv/range")
	[ "$code" = 503 ] && grep -q 'no leader' "$CP/lone.json"
}
quorum_lost() {
	etcd_member_stop 2 KILL && etcd_member_stop 3 KILL &&
	wait_for 60 lone_no_leader || return
	echo "member $LONE: HTTP 503 $(cat "$CP/lone.json")"
}
quorum_back() {	# quorum_back MEMBER...
	local i
	for i in "$@"; do etcd_member_start "$i" existing; done
}

# try_add NAME: a pod through CNI; prints the result (or error object).
try_add() {
	local out rc
	ip netns add "$1" || return
	ip -n "$1" link set lo up
	out=$(python3 "$CNI_PY" add "$CONFLIST" "$1" "/run/netns/$1" eth0 \
		"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$1" 2>/dev/null)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" != 0 ]; then
		python3 "$CNI_PY" del "$CONFLIST" "$1" "/run/netns/$1" eth0 > /dev/null 2>&1
		ip netns del "$1"
	fi
	return $rc
}

# --- a long outage: the CNI error says what is wrong ------------------------------
unavailable() {
	local out before t0
	before=$("$VRDMACTL" dev show | grep -c vrp)
	quorum_lost || return
	t0=$(date +%s%N)
	out=$(try_add pod1) && { echo "ADD succeeded without quorum: $out"; return 1; }
	echo "$out"
	echo "ADD failed after $((($(date +%s%N) - t0) / 1000000)) ms"
	echo "$out" | jqe '.code == 11 and
		(.msg | startswith("etcd is unavailable (no leader or overloaded), nothing was created: ")) and
		(.msg | contains("https://127.0.0.1:2379'$LONE': etcdserver: no leader (HTTP 503")) and
		(.msg | contains("unreachable") | not)' > /dev/null &&
	[ "$("$VRDMACTL" dev show | grep -c vrp)" = "$before" ]
}
ktap_check "quorum lost: CNI error 11 says etcd is unavailable (no leader, HTTP 503), not unreachable" unavailable

retries_logged() {
	agent_log_has "$AGENT_LOG" etcd-retry "etcdserver: no leader (HTTP 503" ||
		{ grep '"event":"etcd' "$AGENT_LOG" | tail -n 5; return 1; }
	grep '"event":"etcd-retry"' "$AGENT_LOG" | tail -n 1
}
ktap_check "the agent logs its retries with etcd's words" retries_logged

# --- a short outage: ridden out ------------------------------------------------------
ride_out() {
	local out pid rc t0
	lone_no_leader || quorum_lost || return
	t0=$(date +%s%N)
	try_add pod2 > "$CP/pod2.out" &
	pid=$!
	# The quorum comes back once the ADD's own etcd call is retrying
	# (one member is enough: 2 of 3).
	wait_for 60 agent_log_has "$AGENT_LOG" etcd-retry "request add pod2: " ||
		{ echo "the ADD never retried"; wait "$pid"; cat "$CP/pod2.out"; return 1; }
	echo "ADD retrying after $((($(date +%s%N) - t0) / 1000000)) ms: quorum back"
	quorum_back 2
	wait "$pid"; rc=$?
	out=$(cat "$CP/pod2.out")
	echo "$out" | tail -n 3
	echo "ADD took $((($(date +%s%N) - t0) / 1000000)) ms, status $rc"
	[ "$rc" = 0 ] && echo "$out" | jqe '.interfaces | map(select(.name | startswith("vrp"))) | length == 1' > /dev/null
}
ktap_check "quorum back within the retry deadline: the waiting CNI ADD succeeds" ride_out

# --- recovery -----------------------------------------------------------------------------
quorum_back 3
wait_for 120 etcd_healthy
# The watch may be waiting to start again (up to 5 s after a failure).
agent_healthy() { agent_json | jqe '.state == "ready" and .etcd.reachable and .etcd.watching'; }
recovered() {
	wait_for 60 agent_ready "$SOCK" || { echo "the agent is not ready"; return 1; }
	wait_for 60 try_add pod3 > /dev/null || { echo "pod3 was not made"; return 1; }
	wait_for 30 agent_healthy || { "$VRDMACTL" agent status; return 1; }
}
ktap_check "etcd healthy again: the agent is ready, a new pod is made" recovered
published() {
	[ -n "$(ectl get /vrdma/pods/h1/pod2/eth0 --print-value-only)" ] &&
	[ -n "$(ectl get /vrdma/pods/h1/pod3/eth0 --print-value-only)" ] &&
	[ -z "$(ectl get /vrdma/pods/h1/pod1/eth0 --print-value-only)" ]
}
ktap_check "pods 2 and 3 are published in etcd, nothing of the failed pod 1" published

# --- a request etcd rejects: not retried ----------------------------------------------
ROOT_PW=root:vrdma-test
auth_off() { ectl --user "$ROOT_PW" auth disable > /dev/null; }
refused() {
	local out r0 r1 t0 rc
	ectl user add "$ROOT_PW" > /dev/null && ectl user grant-role root root > /dev/null &&
	ectl auth enable > /dev/null || return
	r0=$(agent_field .etcd.retries)
	t0=$(date +%s%N)
	out=$(try_add pod4); rc=$?
	echo "$out"
	echo "ADD failed after $((($(date +%s%N) - t0) / 1000000)) ms"
	auth_off || { echo "auth disable failed"; return 1; }
	r1=$(agent_field .etcd.retries)
	echo "retries $r0 -> $r1"
	[ "$rc" != 0 ] && [ "$r0" = "$r1" ] &&
	echo "$out" | jqe '(.msg | test("^etcd refused the request, nothing was created: https://127[.]0[.]0[.]1:2379[1-3]: ")) and
		(.msg | test("HTTP 4[0-9][0-9]")) and
		((.msg | contains("attempts") | not) or (.msg | test("[(][1-3] attempts? in")))' > /dev/null
}
ktap_check "authentication on, the agent's user unknown: etcd refused the request (HTTP 4xx, its message), no retry" refused
auth_off 2>/dev/null
survived() {
	wait_for 60 agent_ready "$SOCK" && wait_for 60 try_add pod5 > /dev/null
}
ktap_check "auth off again: the agent is ready and makes pods" survived
ktap_finish
