#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Several etcd endpoints, one of which is not etcd: another service at
# that address answers without JSON (HTTP 200 with a web page, or a
# proxy's HTTP 404 page).  etcd's gateway answers JSON even when it
# fails, so such an endpoint is the endpoint's fault, not the request's:
# the agent fails over to the next endpoint, serves pods through it, and
# says what the first one answered (last_error_kind "malformed" for HTTP
# 200, "refused" for 404).  When no endpoint answers otherwise, a request
# fails after one round with what each said (retrying cannot help), never
# after the retry deadline.

ETCD_MEMBERS=1
. "$(dirname "$0")/lib.sh"

ktap_plan 5

cplane_start "host up: rxe1, vrdma, etcd (TLS), agent ready"

# Two services that are not etcd, on the loopback: HTTP 200 and 404, both
# with a web page.
python3 - > "$CP/web.log" 2>&1 <<'PY' &
import http.server, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        self.rfile.read(n)
        body = b'<html><body>It works!</body></html>'
        self.send_response(200 if self.server.server_port == 23900 else 404)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
servers = [http.server.HTTPServer(('127.0.0.1', p), H) for p in (23900, 23904)]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print('serving', flush=True)
servers[0].serve_forever()
PY
web=$!
defer kill $web
wait_for 20 grep -q serving "$CP/web.log" || { echo "Bail out! web servers"; exit 1; }

# restart_with ENDPOINTS: the agent again, with these endpoints first.
restart_with() {
	agent_stop "$AGENT_LOG"
	agent_config "$AGENT_CONF" h1 lease-ttl=5 etcd.plaintext=yes
	sed -i "s|^endpoints = |endpoints = $1,|" "$AGENT_CONF"
	: > "$AGENT_LOG"
	agent_start "$AGENT_CONF" "$AGENT_LOG"
}

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

# failover PORT STATUS KIND POD: an endpoint answering STATUS with a
# page, first in the list: the agent gets ready through etcd, makes a
# pod, and says what the first endpoint answered (and its KIND).
failover() {
	restart_with "http://127.0.0.1:$1" ||
		{ echo "the agent did not get ready"; tail -n 5 "$AGENT_LOG"; return 1; }
	try_add "$4" > /dev/null || { echo "CNI ADD failed"; return 1; }
	[ -n "$(ectl get "/vrdma/pods/h1/$4/eth0" --print-value-only)" ] ||
		{ echo "$4 not published"; return 1; }
	agent_json | jq -c .etcd
	agent_json | jqe --arg s "$2" --arg k "$3" '.etcd.failovers > 0 and
		.etcd.last_error_kind == $k and
		(.etcd.last_error | contains("http://127.0.0.1:'"$1"': HTTP \($s) without a JSON answer"))' \
		> /dev/null
}
ktap_check "a web server (HTTP 200, a page) listed first: failed over to etcd, pods made, said malformed" \
	failover 23900 200 malformed pod1
ktap_check "a proxy's HTTP 404 page listed first: failed over to etcd, pods made, said refused" \
	failover 23904 404 refused pod2

# alone: the agent with only the two services: it never gets ready, and
# says so after each attempt at once, with no retries.
alone() {
	local n
	agent_stop "$AGENT_LOG"
	agent_config "$AGENT_CONF" h1 lease-ttl=5 etcd.plaintext=yes
	sed -i "s|^endpoints = .*|endpoints = http://127.0.0.1:23900,http://127.0.0.1:23904|" \
		"$AGENT_CONF"
	: > "$AGENT_LOG"
	"$AGENT" -c "$AGENT_CONF" >> "$AGENT_LOG" 2>&1 &
	echo $! > "$AGENT_LOG.pid"
	wait_for 30 grep -q 'without a JSON answer' "$AGENT_LOG" ||
		{ echo "no error said"; tail -n 5 "$AGENT_LOG"; return 1; }
	grep -m1 'without a JSON answer' "$AGENT_LOG"
	n=$(grep -c '"event":"etcd-retry"' "$AGENT_LOG")
	echo "etcd-retry lines: $n"
	grep -q 'HTTP 200 without a JSON answer' "$AGENT_LOG" &&
	grep -q 'HTTP 404 without a JSON answer' "$AGENT_LOG" && [ "$n" = 0 ] &&
	! agent_ready "$SOCK"
}
ktap_check "only services that are not etcd: each named with what it answered, no retries, never ready" alone

back() {
	restart_with "http://127.0.0.1:23900" && try_add pod3 > /dev/null
}
ktap_check "etcd listed again: ready, pods made" back
ktap_finish
