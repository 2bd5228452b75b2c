#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# udaddy across hosts, with its default message count: it posts all its
# receives on one buffer and builds its reply AH from the GRH found there
# (ibv_create_ah_from_wc()), so that GRH must be the overlay's header of
# the datagram polled, never a later datagram's physical one.  IPv4 and
# IPv6 overlays, each direction; a second round with more messages.
#
# Receives have no doorbell: the module moves them to the physical queue
# when the application shows signs of life, at most once per
# rq_poll_min_us.  A server that posts its receives and accepts (SIDR REP)
# must still catch the client's first datagram, even with the poller
# slowed to once a second and two accepts in a row.
#
#   c1_1 vr11 -- rxe1 (host 1) ====== rxe2 (host 2) -- c2_1 vr21
. "$(dirname "$0")/../lib/lib.sh"
. "$LIB_DIR/topo.sh"
. "$(dirname "$0")/cm_lib.sh"
require_root

T=120


# udaddy_pair DESC SERVER_CT CLIENT_CT SADDR [udaddy options]: the client
# starts once the server's ID listens, and retries while the server is
# not listening yet all the same (SIDR: unreachable).
udaddy_pair() {
	local desc=$1 sct=$2 cct=$3 saddr=$4 spid rc=1 out i
	shift 4
	in_ct "$sct" timeout $T udaddy -b "$saddr" "$@" > /tmp/udaddy-srv.log 2>&1 &
	spid=$!
	wait_for 10 cm_listening "$sct" || ktap_diag "no listening cm_id in $sct after 10s"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		out=$(in_ct "$cct" timeout $T udaddy -s "$saddr" "$@" 2>&1) && { rc=0; break; }
		grep -qE 'UNREACHABLE, error: 1$' <<< "$out" || break
		sleep 1
	done
	wait "$spid" || rc=1
	if [ $rc -eq 0 ]; then
		ktap_ok "$desc"
	else
		ktap_diag "client: $out" "server: $(cat /tmp/udaddy-srv.log)"
		ktap_fail "$desc"
	fi
}

ktap_plan 6
if ! cm_two_hosts; then
	echo "Bail out! setup failed"
	exit 1
fi
udaddy_pair "udaddy c1_1 -> c2_1 (IPv4)" c2_1 c1_1 "$(ct_addr 2 1)"
udaddy_pair "udaddy c2_1 -> c1_1 (IPv4)" c1_1 c2_1 "$(ct_addr 1 1)"
udaddy_pair "udaddy c1_1 -> c2_1 (IPv6)" c2_1 c1_1 "$(ct_addr6 2 1)"
udaddy_pair "udaddy c2_1 -> c1_1 (IPv6)" c1_1 c2_1 "$(ct_addr6 1 1)"
udaddy_pair "udaddy c1_1 -> c2_1 (IPv4, 100 messages, 4 connections)" c2_1 c1_1 \
	"$(ct_addr 2 1)" -C 100 -c 4

P=/sys/module/vrdma/parameters
min_us=$(cat $P/rq_poll_min_us) max_us=$(cat $P/rq_poll_max_us)
defer "echo $min_us > $P/rq_poll_min_us; echo $max_us > $P/rq_poll_max_us"
echo 1000000 > $P/rq_poll_max_us && echo 1000000 > $P/rq_poll_min_us
T=30 udaddy_pair "receives posted before the accept catch the first datagram (poller slowed to 1 s)" \
	c2_1 c1_1 "$(ct_addr 2 1)" -C 1 -c 2
ktap_finish
