#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vrdma-agent on one host, against a 3-member etcd with client TLS:
# configuration checks, endpoints of (simulated) other hosts into the
# kernel map and out again, corrupted etcd values, entries made by hand
# left alone, reconcile after a restart, failover when the etcd member in
# use dies, a watch whose revision was compacted, a client without
# certificate refused.

. "$(dirname "$0")/lib.sh"

ktap_plan 20

# --- configuration checks (no etcd needed) -------------------------------------
bad_conf() {	# bad_conf EXPECTED-MESSAGE CONFIG-LINES...
	local want=$1 f=$CP/bad.conf out
	shift
	mkdir -p "$CP"
	printf '%s\n' "$@" > "$f"
	out=$("$AGENT" -c "$f" -t 2>&1) && { echo "accepted: $out"; return 1; }
	echo "$out"
	echo "$out" | grep -qF -- "$want"
}
check_configs() {
	bad_conf "is plain HTTP: use https:// or allow it with 'plaintext = yes'" \
		"[agent]" "host = h" "address = 10.0.0.1" "[etcd]" "endpoints = http://127.0.0.1:2379" &&
	bad_conf "unknown key 'endpoint' in [etcd]" "[etcd]" "endpoint = https://x:1" &&
	bad_conf "[agent] address = 127.0.0.1: expected 1 to 4 routable" \
		"[agent]" "address = 127.0.0.1" &&
	bad_conf "[agent] lease-ttl = 0: expected seconds, 2 to 3600" "[agent]" "lease-ttl = 0" &&
	bad_conf "[etcd] endpoints is required" "[agent]" "host = h" "address = 10.0.0.1" &&
	bad_conf "not an http:// or https:// URL" "[agent]" "host = h" "address = 10.0.0.1" \
		"[etcd]" "endpoints = 127.0.0.1:2379" &&
	bad_conf "give both cert and key" "[agent]" "host = h" "address = 10.0.0.1" \
		"[etcd]" "endpoints = https://127.0.0.1:2379" "cert = /etc/hostname" &&
	bad_conf "unknown section [agnet]" "[agnet]" "host = h" || return
	local out
	out=$("$AGENT" -c /nonexistent -t 2>&1) && return 1
	echo "$out"
	echo "$out" | grep -q "/nonexistent: No such file or directory"
}
ktap_check "bad configurations are refused with a clear message" check_configs

cplane_start "host up: rxe1, vrdma, 3 etcd members (TLS), agent ready"
check_status() {
	local j
	j=$(agent_json) || return
	echo "$j" | jqe '.state == "ready" and .host == "h1" and .addrs == ["10.99.0.1"]
		and .etcd.reachable and .etcd.watching and (.etcd.endpoint | startswith("https://"))'
}
ktap_check "vrdmactl agent status: ready, RNIC address from rxe1's GIDs, TLS" check_status
ktap_diag "$("$VRDMACTL" agent status)"

# --- endpoints of other hosts ---------------------------------------------------
flow() {
	ep_put "$VNI" 10.244.2.5 10.99.0.2 &&
	wait_for 20 map_has "$VNI" 10.244.2.5 10.99.0.2 &&
	ep_put "$VNI" 10.244.2.5 10.99.0.3 h3 &&	# the pod moved
	wait_for 20 map_has "$VNI" 10.244.2.5 10.99.0.3 &&
	ep_put 7 fd00:244::2:5 fd00:99::2 &&		# IPv6, another VNI
	wait_for 20 map_has 7 fd00:244::2:5 fd00:99::2 &&
	ep_del "$VNI" 10.244.2.5 &&
	wait_for 20 map_lacks "$VNI" 10.244.2.5
}
ktap_check "endpoints of other hosts: added, moved, IPv6, deleted in the kernel map" flow
host_leased() { ectl get /vrdma/hosts/h1 -w json | jqe '.kvs[0].lease > 0'; }
ktap_check "the host's own record is in etcd under its lease" host_leased

# --- corrupted values -------------------------------------------------------------
corrupt() {
	local before
	ep_put "$VNI" 10.244.2.9 10.99.0.2 && wait_for 20 map_has "$VNI" 10.244.2.9 10.99.0.2 || return
	before=$(agent_field .map.bad_values)
	ectl put /vrdma/endpoints/100/10.244.2.6 'not json' > /dev/null
	ectl put /vrdma/endpoints/100/10.244.2.7 '{"host":"h2","via":"224.0.0.1"}' > /dev/null
	ectl put /vrdma/endpoints/100/10.244.2.8 '{"host":"h2 x","via":"10.99.0.2"}' > /dev/null
	ectl put /vrdma/endpoints/99999999/10.244.2.8 '{"host":"h2","via":"10.99.0.2"}' > /dev/null
	ectl put /vrdma/endpoints/100/010.244.2.8 '{"host":"h2","via":"10.99.0.2"}' > /dev/null
	ectl put /vrdma/endpoints/100/fd00:244:0::2:8 '{"host":"h2","via":"10.99.0.2"}' > /dev/null
	ectl put /vrdma/endpoints/100/127.0.0.1 '{"host":"h2","via":"10.99.0.2"}' > /dev/null
	ectl put /vrdma/endpoints/100 '{"host":"h2","via":"10.99.0.2"}' > /dev/null
	printf '{"host":"h2","via":"10.99.0.2"}\0x' | ectl put /vrdma/endpoints/100/10.244.2.10 > /dev/null
	head -c 300000 /dev/zero | tr '\0' '[' | ectl put /vrdma/endpoints/100/10.244.2.11 > /dev/null
	# A valid entry overwritten with garbage leaves the map.
	ectl put /vrdma/endpoints/100/10.244.2.9 '{"host":"h2"}' > /dev/null
	wait_for 20 map_lacks "$VNI" 10.244.2.9 || { echo "10.244.2.9 stayed"; return 1; }
	wait_for 20 bash -c "[ \$($VRDMACTL -j agent status | jq .map.bad_values) -ge $((before + 10)) ]" ||
		{ echo "bad values counted: $(agent_field .map.bad_values) (was $before)"; return 1; }
	agent_ready "$SOCK" || return
	[ "$(map_explicit_count)" = 1 ] || { "$VRDMACTL" map; return 1; }	# the IPv6 one
}
ktap_check "corrupted etcd values: logged, never in the map, the agent stays up" corrupt
bad_logged() {
	agent_log_has "$AGENT_LOG" bad-endpoint '"key":"/vrdma/endpoints/100/010.244.2.8","error":"not an IPv4 or IPv6 address"' &&
	agent_log_has "$AGENT_LOG" bad-endpoint '"key":"/vrdma/endpoints/100/fd00:244:0::2:8","error":"the address is not in its canonical form"' &&
	agent_log_has "$AGENT_LOG" bad-endpoint '"key":"/vrdma/endpoints/100/10.244.2.6","error":"the value is not a JSON object"' ||
		{ grep '"event":"bad-endpoint"' "$AGENT_LOG"; return 1; }
}
ktap_check "the log names the corrupted key and why" bad_logged
ectl del --prefix /vrdma/endpoints/ > /dev/null

# --- ownership and restart -----------------------------------------------------------
"$VRDMACTL" map add 10.250.0.1 via 10.99.0.9 vni "$VNI"
restart() {
	local t0
	ep_put "$VNI" 10.244.3.1 10.99.0.3 && ep_put "$VNI" 10.244.3.2 10.99.0.3 &&
	wait_for 20 map_has "$VNI" 10.244.3.2 10.99.0.3 || return
	agent_stop "$AGENT_LOG" || return
	# While it is away: one endpoint goes, one comes, one moves.
	ep_del "$VNI" 10.244.3.1 && ep_put "$VNI" 10.244.3.3 10.99.0.3 &&
	ep_put "$VNI" 10.244.3.2 10.99.0.4 || return
	t0=$(date +%s%N)
	agent_start "$AGENT_CONF" "$AGENT_LOG" || return
	echo "ready $((($(date +%s%N) - t0) / 1000000)) ms after start"
	map_lacks "$VNI" 10.244.3.1 && map_has "$VNI" 10.244.3.3 10.99.0.3 &&
	map_has "$VNI" 10.244.3.2 10.99.0.4 &&
	tail -n 20 "$AGENT_LOG" | grep '"event":"reconciled"' | tail -n 1 |
		grep -q '"added":2,"removed":1,"foreign":1'
}
ktap_check "restart: what changed meanwhile is reconciled (journal), nothing else" restart
ktap_check "an entry added by hand is left alone" map_has "$VNI" 10.250.0.1 10.99.0.9
"$VRDMACTL" map del 10.250.0.1 vni "$VNI"

# --- failover ---------------------------------------------------------------------------
in_use=$(agent_field .etcd.endpoint)
member=${in_use##*:}; member=${member#2379}
failover() {
	local fo
	fo=$(agent_field .etcd.failovers)
	etcd_member_stop "$member" KILL
	# If it led, the others elect a leader first (seconds under TCG).
	wait_for 30 ep_put "$VNI" 10.244.4.1 10.99.0.2 &&
	wait_for 30 map_has "$VNI" 10.244.4.1 10.99.0.2 || return
	echo "member $member killed; now on $(agent_field .etcd.endpoint), failovers $(agent_field .etcd.failovers)"
	[ "$(agent_field .etcd.failovers)" -gt "$fo" ] && agent_ready "$SOCK"
}
ktap_check "the etcd member in use dies: the agent fails over, updates still arrive" failover
etcd_member_start "$member" existing
wait_for 60 etcd_healthy

# --- compaction -------------------------------------------------------------------------
compacted() {
	local pid rev
	# The member the watch stream is on (the unary calls' may differ).
	in_use=$(agent_field .etcd.watch_endpoint)
	member=${in_use##*:}; member=${member#2379}
	pid=$(cat "$AGENT_LOG.pid")
	kill -STOP "$pid"
	# Its member dies first: the changes never reach its watch stream.
	etcd_member_stop "$member" KILL
	wait_for 30 ep_put "$VNI" 10.244.5.1 10.99.0.2 && wait_for 30 ep_del "$VNI" 10.244.4.1 &&
	rev=$(ectl get /vrdma/hosts/h1 -w json | jq -e .header.revision) &&
	ectl compact "$rev" > /dev/null || { kill -CONT "$pid"; return 1; }
	kill -CONT "$pid"
	echo "member $member killed under the stopped agent's watch; compacted up to $rev"
	wait_for 30 map_has "$VNI" 10.244.5.1 10.99.0.2 || { echo "10.244.5.1 not mapped"; return 1; }
	wait_for 30 map_lacks "$VNI" 10.244.4.1 || { echo "10.244.4.1 still mapped"; return 1; }
	agent_log_has "$AGENT_LOG" watch "compacted" &&
	[ "$(agent_field .etcd.compactions)" -ge 1 ] ||
		{ grep '"event":"watch"' "$AGENT_LOG" | tail -n 5; return 1; }
}
ktap_check "a watch from a compacted revision: full reconcile" compacted
etcd_member_start "$member" existing
wait_for 60 etcd_healthy

# --- lease ------------------------------------------------------------------------------
lease() {	# a lease that expired (etcd was away too long) is replaced
	local old
	old=$(agent_field .etcd.lease)
	ectl lease revoke "$old" > /dev/null || return
	wait_for 20 lease_changed "$old" && wait_for 20 host_leased
}
lease_changed() { [ "$(agent_field .etcd.lease)" != "$1" ]; }
ktap_check "a lost lease is replaced and the host registered again" lease

# A restart with another lease-ttl takes a lease of that TTL: the previous
# run's, kept alive every third of the new TTL, would expire between two
# keep-alives (or outlive a dead host longer than configured).
lease_ttl_change() {	# lease_ttl_change TTL
	local old new granted
	old=$(agent_field .etcd.lease)
	agent_stop "$AGENT_LOG" || return
	agent_config "$AGENT_CONF" h1 "lease-ttl=$1"
	agent_start "$AGENT_CONF" "$AGENT_LOG" || return
	new=$(agent_field .etcd.lease)
	granted=$(ectl lease timetolive "$new" -w json | jq '."granted-ttl"')
	echo "lease-ttl $1: lease $old -> $new, granted TTL $granted s, agent's $(agent_field .etcd.lease_ttl) s"
	[ "$new" != "$old" ] && [ "$granted" = "$1" ] &&
	[ "$(agent_field .etcd.lease_ttl)" = "$1" ] && wait_for 20 host_leased
}
ktap_check "a restart with a longer lease-ttl takes a lease of that TTL" lease_ttl_change 20
ktap_check "and back to the shorter one" lease_ttl_change 5

# --- TLS: a client without certificate -------------------------------------------------
no_cert() {
	local conf=$CP/nocert.conf log=$CP/nocert.log
	grep -v -e '^cert' -e '^key' "$AGENT_CONF" |
		sed 's|^socket.*||; s|^\[agent\]|[agent]\nsocket = /run/vrdma/nocert.sock\nstate-dir = /run/vrdma-nocert\naddress = 10.99.0.7|' > "$conf"
	"$AGENT" -c "$conf" > "$log" 2>&1 &
	local pid=$!
	wait_for 20 grep -q '"event":"etcd","msg":"cannot register' "$log"
	local rc=$?
	kill "$pid"; wait "$pid"
	rm -rf /run/vrdma-nocert
	cat "$log" | tail -n 2
	[ "$rc" = 0 ]
}
ktap_check "etcd refuses an agent without client certificate (it keeps trying, says why)" no_cert
plaintext() {	# https members, plain http asked for: refused, not downgraded
	local conf=$CP/plain.conf
	sed 's|https://|http://|g' "$AGENT_CONF" > "$conf"
	printf 'plaintext = yes\n' >> "$conf"
	"$AGENT" -c "$conf" -t
}
ktap_check "plain HTTP is accepted only with plaintext = yes" plaintext

# --- the log ---------------------------------------------------------------------------
json_lines() { [ -s "$AGENT_LOG" ] && jq -e . "$AGENT_LOG" > /dev/null; }
ktap_check "JSON log lines, every one parses" json_lines
ktap_check "map-add records carry the VNI, address, via and host" \
	agent_log_has "$AGENT_LOG" map-add '"vni":100,"addr":"10.244.2.5","via":"10.99.0.2","host":"h2"'
text_log() {
	local out
	out=$(printf '[agent]\nhost = h1\naddress = 10.99.0.1\nlog-format = text\n[etcd]\nendpoints = http://127.0.0.1:1\n' > "$CP/t.conf";
	      timeout 2 "$AGENT" -c "$CP/t.conf" 2>&1)
	echo "$out" | head -n 2
	echo "$out" | grep -q ' error config: .*plain HTTP'
}
ktap_check "text log lines: time, level, event, message" text_log
ktap_check "the agent survived all of it" agent_ready "$SOCK"
ktap_finish
