// SPDX-License-Identifier: GPL-2.0
/*
 * The group protocol (Documentation/sleep.rst has the state machine).
 *
 * Every host sends a HELLO to the group every hello interval: its facts
 * (name, MAC, addresses, RNIC and container addresses, listening ports,
 * whether it can manage) and the sleepers it manages.  A peer not heard
 * for dead-after is silent: asleep or dead.
 *
 * Probing: every probe interval, a manager-capable host probes a few
 * random awake peers (PROBE, unicast; PROBE_ACK).  An awake peer that
 * misses two probes in a row is silent.  A silent peer that nobody
 * manages is taken over after one more unanswered probe: by its
 * highest-ranked manager at once, by the others after a delay that grows
 * with their rank (rendezvous hashing of sleeper and manager ids spreads
 * sleepers evenly, and makes every host agree on the ranking).  The
 * manager announces it (MANAGE, and in every HELLO) and installs the
 * interception in the module, which answers ARP/ND for the sleeper and
 * reports valid requests; a request wakes the sleeper (Wake-on-LAN, rate
 * limited).  When the sleeper's HELLO comes back, its manager releases it
 * (RELEASE).  Two managers of one sleeper: the lower ranked withdraws.
 * A manager that goes silent loses its sleepers; they are taken over
 * again.
 *
 * Sleeping: a host that wants to sleep (idle, or asked) and is not kept
 * awake by RDMA activity announces an INTENT and waits intent-wait; it
 * goes only if the awake manager-capable hosts left, not counting those
 * with an intent and a lower id (they go first), are at least the
 * guardian count.  It releases its sleepers, sends SLEEP and sleeps.  If
 * fewer guardians than configured are awake anyway (deaths), the awake
 * host with the lowest id wakes the sleeping manager-capable host with
 * the lowest id.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sleepd.h"

/* Rendezvous score of @manager for @sleeper: everyone computes the same. */
static uint64_t hrw(uint32_t sleeper, uint32_t manager)
{
	uint64_t x = ((uint64_t)sleeper << 32 | manager) + 0x9e3779b97f4a7c15ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

const char *peer_state_name(enum peer_state s)
{
	switch (s) {
	case PEER_AWAKE:
		return "awake";
	case PEER_ASLEEP:
		return "asleep";
	case PEER_WAKING:
		return "waking";
	}
	return "?";
}

static struct peer *peer_find(struct sleepd *sd, uint32_t id)
{
	int i;

	for (i = 0; i < sd->n_peers; i++)
		if (sd->peers[i]->info.id == id)
			return sd->peers[i];
	return NULL;
}

static struct peer *peer_get(struct sleepd *sd, uint32_t id, int64_t now)
{
	struct peer *p = peer_find(sd, id), **arr;

	if (p || id == sd->self.id || sd->n_peers >= SLEEPD_MAX_PEERS)
		return p;
	arr = realloc(sd->peers, (sd->n_peers + 1) * sizeof(*arr));
	if (!arr)
		return NULL;
	sd->peers = arr;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->info.id = id;
	snprintf(p->info.name, sizeof(p->info.name), "id%u", id);
	p->last_heard = now;
	sd->peers[sd->n_peers++] = p;
	return p;
}

static void peer_remove(struct sleepd *sd, struct peer *p)
{
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		if (sd->peers[i] != p)
			continue;
		sd->peers[i] = sd->peers[--sd->n_peers];
		free(p);
		return;
	}
}

struct peer *group_find_addr(struct sleepd *sd, const struct in6_addr *addr)
{
	int i, j;

	for (i = 0; i < sd->n_peers; i++) {
		struct host_info *h = &sd->peers[i]->info;

		for (j = 0; j < h->n_addrs; j++)
			if (!memcmp(&h->addrs[j], addr, sizeof(*addr)))
				return sd->peers[i];
		for (j = 0; j < h->n_rdma; j++)
			if (!memcmp(&h->rdma[j], addr, sizeof(*addr)))
				return sd->peers[i];
	}
	return NULL;
}

struct peer *group_find_name(struct sleepd *sd, const char *name)
{
	int i;

	for (i = 0; i < sd->n_peers; i++)
		if (!strcmp(sd->peers[i]->info.name, name))
			return sd->peers[i];
	return NULL;
}

static const char *id_name(struct sleepd *sd, uint32_t id)
{
	struct peer *p;

	if (id == sd->self.id)
		return sd->self.name;
	p = peer_find(sd, id);
	return p ? p->info.name : "?";
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */

static uint64_t next_seq(struct sleepd *sd)
{
	uint64_t s = now_us_real();

	if (s <= sd->last_seq)
		s = sd->last_seq + 1;
	sd->last_seq = s;
	return s;
}

static void start(struct sleepd *sd, struct msg_out *m, enum msg_type t)
{
	msg_start(m, t, sd->self.id, sd->epoch, next_seq(sd));
}

static void send_group(struct sleepd *sd, struct msg_out *m)
{
	msg_seal(m, sd->cfg.key);
	net_send_group(sd, m);
}

static void send_subject(struct sleepd *sd, enum msg_type t,
			 const struct peer *p)
{
	struct msg_out m;

	start(sd, &m, t);
	msg_put_u32(&m, T_SUBJECT, p->info.id);
	msg_put_u32(&m, T_SUBJECT_EPOCH, p->epoch);
	send_group(sd, &m);
}

static void send_plain(struct sleepd *sd, enum msg_type t)
{
	struct msg_out m;

	start(sd, &m, t);
	send_group(sd, &m);
}

static void refresh_self(struct sleepd *sd)
{
	struct host_info *h = &sd->self;

	net_iface(sd);
	if (sd->cfg.n_ports < 0) {
		h->n_ports = net_ports(h->ports, SLEEPD_MAX_PORTS);
	} else {
		h->n_ports = sd->cfg.n_ports;
		memcpy(h->ports, sd->cfg.ports, h->n_ports * sizeof(h->ports[0]));
	}
	h->n_overlay = sd->cfg.n_overlay;
	memcpy(h->overlay, sd->cfg.overlay, sizeof(h->overlay));
	h->n_rdma = sd->cfg.n_rdma;
	memcpy(h->rdma, sd->cfg.rdma, sizeof(h->rdma));
	h->can_manage = sd->cfg.can_manage;
	h->state = sd->state == SELF_INTENT ? HELLO_STATE_INTENT :
					      HELLO_STATE_AWAKE;
}

static void send_hello(struct sleepd *sd, int64_t now)
{
	uint32_t manages[SLEEPD_MAX_MANAGES];
	struct msg_out m;
	int i, n = 0;

	refresh_self(sd);
	for (i = 0; i < sd->n_peers && n < SLEEPD_MAX_MANAGES; i++)
		if (sd->peers[i]->manager == sd->self.id)
			manages[n++] = sd->peers[i]->info.id;
	start(sd, &m, MSG_HELLO);
	msg_put_info(&m, &sd->self, manages, n);
	send_group(sd, &m);
	sd->next_hello = now + sd->cfg.hello_ms * (90 + randombytes_uniform(21)) / 100;
}

static bool primary_v4(const struct peer *p, struct sockaddr_in *to,
		       uint16_t port)
{
	int i;

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons(port);
	for (i = 0; i < p->info.n_addrs; i++)
		if (ipv4_of(&p->info.addrs[i], &to->sin_addr))
			return true;
	return false;
}

static void send_probe(struct sleepd *sd, struct peer *p, bool takeover,
		       int64_t now)
{
	struct sockaddr_in to;
	struct msg_out m;

	if (!primary_v4(p, &to, sd->cfg.port))
		return;
	p->probe_nonce = ((uint64_t)randombytes_random() << 32) |
			 randombytes_random();
	p->probe_pending = true;
	p->probe_takeover = takeover;
	p->probe_sent = now;
	start(sd, &m, MSG_PROBE);
	msg_put_u64(&m, T_NONCE, p->probe_nonce);
	msg_seal(&m, sd->cfg.key);
	net_send_to(sd, &m, &to);
	sd->st.probes++;
}

/* ------------------------------------------------------------------ */
/* Peer state changes                                                   */

static void logp(struct sleepd *sd, int level, const char *event,
		 const struct peer *p, const char *key, const char *val,
		 const char *key2, int64_t val2)
{
	struct json_object *r = log_start(sd, level, event);

	if (!r)
		return;
	jadd_str(r, "peer", p->info.name);
	if (key)
		jadd_str(r, key, val);
	if (key2)
		jadd_int(r, key2, val2);
	log_end(sd, r);
}

/* @p has no manager from @now: the takeover ranks count from then. */
static void unmanaged(struct peer *p, int64_t now)
{
	p->manager = 0;
	p->unmanaged_since = now;
}

static void release(struct sleepd *sd, struct peer *p, const char *why,
		    int64_t now)
{
	if (p->manager != sd->self.id)
		return;
	unmanaged(p, now);
	sd->st.releases++;
	send_subject(sd, MSG_RELEASE, p);
	kernel_sync_peer(sd, p, false);
	logp(sd, LOG_INFO, "release", p, "reason", why, "managed_ms",
	     now - p->managed_since);
}

static void takeover(struct sleepd *sd, struct peer *p, const char *why,
		     int64_t now)
{
	p->manager = sd->self.id;
	p->managed_since = now;
	p->manager_seen = now;
	p->reannounce_at = now + 1000;
	sd->st.takeovers++;
	kernel_sync_peer(sd, p, true);
	send_subject(sd, MSG_MANAGE, p);
	logp(sd, LOG_INFO, "takeover", p, "reason", why, "silent_ms",
	     now - p->asleep_since);
}

static void manager_lost(struct sleepd *sd, struct peer *p, const char *why,
			 int64_t now)
{
	struct json_object *r = log_start(sd, LOG_INFO, "manager-lost");

	if (r) {
		jadd_str(r, "peer", p->info.name);
		jadd_str(r, "manager", id_name(sd, p->manager));
		jadd_str(r, "reason", why);
		log_end(sd, r);
	}
	unmanaged(p, now);
	kernel_sync_peer(sd, p, false);
}

static void mark_asleep(struct sleepd *sd, struct peer *p, const char *why,
			int64_t now)
{
	int i;

	p->intent_at = 0;
	if (p->state != PEER_AWAKE)
		return;
	p->state = PEER_ASLEEP;
	p->asleep_since = now;
	logp(sd, LOG_INFO, "peer-asleep", p, "reason", why, NULL, 0);
	for (i = 0; i < sd->n_peers; i++)
		if (sd->peers[i]->manager == p->info.id)
			manager_lost(sd, sd->peers[i], "manager asleep", now);
	kernel_sync_peer(sd, p, false);
}

static void peer_awake(struct sleepd *sd, struct peer *p, const char *why,
		       int64_t now)
{
	if (p->state == PEER_AWAKE)
		return;
	if (p->state == PEER_WAKING)
		logp(sd, LOG_INFO, "peer-awake", p, "reason", why, "wake_ms",
		     now - p->waking_since);
	else
		logp(sd, LOG_INFO, "peer-awake", p, "reason", why, NULL, 0);
	p->state = PEER_AWAKE;
	p->announced = false;
	p->waking_since = 0;
	p->probe_fails = 0;
	if (p->manager == sd->self.id)
		release(sd, p, "awake", now);
	p->manager = 0;
	kernel_sync_peer(sd, p, false);
}

/* @m claims to manage @s: who keeps it? */
static void claim(struct sleepd *sd, struct peer *s, struct peer *m,
		  int64_t now, bool explicit)
{
	struct json_object *r;
	struct peer *cur;

	if (s->manager == sd->self.id) {
		sd->st.duplicates++;
		r = log_start(sd, LOG_INFO, "duplicate");
		if (r) {
			jadd_str(r, "peer", s->info.name);
			jadd_str(r, "other", m->info.name);
			jadd_str(r, "winner", hrw(s->info.id, m->info.id) >
				 hrw(s->info.id, sd->self.id) ?
				 m->info.name : sd->self.name);
			log_end(sd, r);
		}
		if (hrw(s->info.id, m->info.id) > hrw(s->info.id, sd->self.id)) {
			release(sd, s, "duplicate", now);
			s->manager = m->info.id;
			s->manager_seen = now;
			kernel_sync_peer(sd, s, false);
		} else {
			/*
			 * The other's takeover moved the sleeper's neighbours
			 * to its MAC address: announce it again once the
			 * duplicates settle and the neighbours' locktime (1 s
			 * by default) has passed, else they keep sending to a
			 * host that no longer answers for it.
			 */
			s->reannounce_at = now + 1100;
			if (now >= sd->next_reassert) {
				send_subject(sd, MSG_MANAGE, s);
				sd->next_reassert = now + 200;
			}
		}
		return;
	}
	cur = s->manager ? peer_find(sd, s->manager) : NULL;
	if (!cur || cur == m || cur->state != PEER_AWAKE ||
	    hrw(s->info.id, m->info.id) > hrw(s->info.id, cur->info.id)) {
		s->manager = m->info.id;
		s->manager_seen = now;
	}
	if (explicit && s->state == PEER_AWAKE &&
	    now - s->last_heard > sd->cfg.probe_timeout_ms)
		mark_asleep(sd, s, "managed by another", now);
	kernel_sync_peer(sd, s, false);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                            */

static void rx_hello(struct sleepd *sd, struct peer *p, struct msg *msg,
		     int64_t now)
{
	struct ksave {
		bool in;
	} k = { p->known };
	bool listed;
	int i, j;

	memcpy(&p->info, &msg->info, sizeof(p->info));
	p->known = true;
	p->epoch = msg->epoch;
	if (msg->info.state == HELLO_STATE_INTENT) {
		if (!p->intent_at)
			p->intent_at = now;
	} else {
		p->intent_at = 0;
	}
	if (!k.in) {
		struct json_object *r = log_start(sd, LOG_INFO, "peer-new");

		if (r) {
			jadd_str(r, "peer", p->info.name);
			jadd_int(r, "id", p->info.id);
			jadd_addr(r, "addr", &p->info.addrs[0]);
			log_end(sd, r);
		}
	}
	if (p->state != PEER_AWAKE)
		peer_awake(sd, p, "hello", now);

	/* Its sleepers: claims, refreshed; those it no longer lists. */
	for (i = 0; i < msg->n_manages; i++) {
		struct peer *s = peer_get(sd, msg->manages[i], now);

		if (s && s->manager == p->info.id)
			s->manager_seen = now;
		else if (s)
			claim(sd, s, p, now, false);
	}
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *s = sd->peers[i];

		if (s->manager != p->info.id)
			continue;
		for (listed = false, j = 0; j < msg->n_manages; j++)
			listed |= msg->manages[j] == s->info.id;
		if (!listed) {
			unmanaged(s, now);
			kernel_sync_peer(sd, s, false);
		}
	}
	kernel_sync_peer(sd, p, false);
}

void group_rx(struct sleepd *sd, const uint8_t *buf, size_t len,
	      const struct sockaddr_in *from, int64_t now)
{
	char src[INET_ADDRSTRLEN];
	struct json_object *r;
	const char *why;
	struct msg msg;
	enum msg_err err;
	struct peer *p, *s;
	struct msg_out m;

	sd->st.rx++;
	sd->st.rx_bytes += len;
	inet_ntop(AF_INET, &from->sin_addr, src, sizeof(src));
	err = msg_parse(buf, len, sd->cfg.key, &msg);
	if (err != MSG_OK) {
		if (err == MSG_BAD_AUTH)
			sd->st.auth_fail++;
		else
			sd->st.malformed++;
		r = log_start(sd, LOG_WARN, err == MSG_BAD_AUTH ?
			      "auth-failed" : "malformed");
		if (r) {
			jadd_str(r, "src", src);
			jadd_int(r, "len", len);
			log_end(sd, r);
		}
		return;
	}
	if (msg.sender == sd->self.id)
		return;		/* our own, looped back */
	if (sd->state == SELF_ASLEEP)
		return;
	p = peer_get(sd, msg.sender, now);
	if (!p)
		return;
	why = replay_check(&p->replay, msg.seq, now_us_real(),
			   (uint64_t)sd->cfg.replay_window_ms * 1000);
	if (why) {
		sd->st.replay++;
		r = log_start(sd, LOG_WARN, "replay");
		if (r) {
			jadd_str(r, "peer", p->info.name);
			jadd_str(r, "src", src);
			jadd_int(r, "type", msg.type);
			jadd_str(r, "reason", why);
			log_end(sd, r);
		}
		return;
	}
	/*
	 * Any message is a sign of life but SLEEP: it comes twice, and a
	 * second copy read after our takeover probe went out would pass
	 * for an answer ("heard meanwhile"), costing one more probe.
	 */
	if (msg.type != MSG_SLEEP)
		p->last_heard = now;

	switch (msg.type) {
	case MSG_HELLO:
		rx_hello(sd, p, &msg, now);
		break;
	case MSG_PROBE:
		start(sd, &m, MSG_PROBE_ACK);
		msg_put_u64(&m, T_NONCE, msg.nonce);
		msg_seal(&m, sd->cfg.key);
		net_send_to(sd, &m, from);
		break;
	case MSG_PROBE_ACK:
		if (p->probe_pending && msg.nonce == p->probe_nonce) {
			p->probe_pending = false;
			p->probe_fails = 0;
			if (p->known)
				peer_awake(sd, p, "probe answered", now);
		}
		break;
	case MSG_MANAGE:
		if (msg.subject == sd->self.id) {
			/*
			 * We are awake: say so at once, and take our
			 * neighbours back from the manager's MAC address
			 * (its takeover announced the sleeper's addresses).
			 */
			send_hello(sd, now);
			net_announce_self(sd);
			/* after the neighbours' locktime (1 s by default) */
			sd->garp_at = now + 1100;
			break;
		}
		s = peer_get(sd, msg.subject, now);
		if (s)
			claim(sd, s, p, now, true);
		break;
	case MSG_RELEASE:
		s = peer_find(sd, msg.subject);
		if (s && s->manager == p->info.id) {
			unmanaged(s, now);
			kernel_sync_peer(sd, s, false);
		}
		break;
	case MSG_SLEEP:
		p->announced = true;
		mark_asleep(sd, p, "announced", now);
		break;
	case MSG_INTENT:
		p->intent_at = now;
		break;
	case MSG_LEAVE:
		logp(sd, LOG_INFO, "peer-left", p, NULL, NULL, NULL, 0);
		release(sd, p, "left", now);
		for (int i = 0; i < sd->n_peers; i++)
			if (sd->peers[i]->manager == p->info.id)
				manager_lost(sd, sd->peers[i], "manager left", now);
		kernel_forget_peer(sd, p);
		peer_remove(sd, p);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Waking                                                               */

void group_wake(struct sleepd *sd, struct peer *p, const char *reason,
		int64_t now)
{
	struct json_object *r;

	if (p->state == PEER_AWAKE)
		return;
	if (p->last_wol && now - p->last_wol < sd->cfg.wake_interval_ms) {
		sd->st.wakes_limited++;
		return;
	}
	if (now - p->wol_window > 60000) {
		p->wol_window = now;
		p->wol_count = 0;
	}
	if (p->wol_count >= sd->cfg.wakes_per_min) {
		sd->st.wakes_limited++;
		logp(sd, LOG_WARN, "wake-limited", p, "reason", reason,
		     "per_minute", p->wol_count);
		return;
	}
	p->wol_count++;
	p->last_wol = now;
	net_wol(sd, p->info.mac);
	sd->st.wakes++;
	if (p->state != PEER_WAKING) {
		p->state = PEER_WAKING;
		p->waking_since = now;
	}
	r = log_start(sd, LOG_INFO, "wake");
	if (r) {
		jadd_str(r, "peer", p->info.name);
		jadd_str(r, "reason", reason);
		jadd_str(r, "manager", p->manager ? id_name(sd, p->manager) : "");
		log_end(sd, r);
	}
	kernel_sync_peer(sd, p, false);
}

/* ------------------------------------------------------------------ */
/* Sleeping                                                             */

/* Enough guardians without us? */
static bool guardians_ok(struct sleepd *sd, int64_t now)
{
	int i, others = 0;

	if (!sd->cfg.can_manage)
		return true;
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (!p->known || p->state != PEER_AWAKE || !p->info.can_manage)
			continue;
		/* A lower id with a live intent goes first. */
		if (p->intent_at && now - p->intent_at < 3 * sd->cfg.intent_ms &&
		    p->info.id < sd->self.id)
			continue;
		others++;
	}
	return others >= sd->cfg.guardians;
}

static void refuse(struct sleepd *sd, const char *why, int64_t now)
{
	bool intent = sd->state == SELF_INTENT;
	struct json_object *r;

	sd->refusal = why;
	sd->st.refusals++;
	sd->state = SELF_AWAKE;
	sd->sleep_requested = false;
	sd->sleep_retry_at = now + 2 * sd->cfg.hello_ms +
			     randombytes_uniform(sd->cfg.hello_ms + 1);
	r = log_start(sd, LOG_INFO, "sleep-refused");
	if (r) {
		jadd_str(r, "reason", why);
		log_end(sd, r);
	}
	if (intent)
		send_hello(sd, now);	/* cancels the intent */
}

/* Milliseconds this machine spent suspended since it booted. */
static int64_t suspended_ms(void)
{
	struct timespec b, m;

	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return (b.tv_sec - m.tv_sec) * 1000 +
	       (b.tv_nsec - m.tv_nsec) / 1000000;
}

static void go_to_sleep(struct sleepd *sd, int64_t now)
{
	struct json_object *r;
	int64_t suspended0;
	int i;

	for (i = 0; i < sd->n_peers; i++)
		release(sd, sd->peers[i], "going to sleep", now);
	sd->st.sleeps++;
	sd->refusal = NULL;
	sd->sleep_requested = false;
	/*
	 * Test mode: the host falls silent first, then says so, as a real
	 * host's NIC would stop before its peers take it over.
	 */
	if (sd->cfg.test && sim_enter(sd)) {
		log_msg(sd, LOG_ERR, "sim-failed", "cannot simulate sleep");
		sd->state = SELF_AWAKE;
		return;
	}
	send_plain(sd, MSG_SLEEP);
	send_plain(sd, MSG_SLEEP);
	r = log_start(sd, LOG_INFO, "sleep");
	if (r) {
		jadd_int(r, "epoch", sd->epoch);
		log_end(sd, r);
	}
	sd->state = SELF_ASLEEP;
	sd->resume_at = 0;
	if (sd->cfg.test)
		return;
	suspended0 = suspended_ms();
	if (run_cmd(sd, sd->cfg.sleep_cmd)) {
		log_msg(sd, LOG_WARN, "sleep-command", "failed: %s",
			sd->cfg.sleep_cmd);
		group_resume(sd, "sleep command failed", now_ms());
		return;
	}
	/*
	 * "systemctl suspend" returns once the suspend is queued, before the
	 * machine sleeps: wait until it did (the time spent suspended grew),
	 * or give up after SLEEPD_SUSPEND_WAIT_MS.
	 */
	for (i = 0; i < SLEEPD_SUSPEND_WAIT_MS / 100; i++) {
		if (suspended_ms() - suspended0 >= 500)
			break;
		usleep(100 * 1000);
	}
	if (suspended_ms() - suspended0 < 500) {
		log_msg(sd, LOG_WARN, "sleep-command",
			"returned, but the host did not suspend within %d ms: %s",
			SLEEPD_SUSPEND_WAIT_MS, sd->cfg.sleep_cmd);
		group_resume(sd, "the host did not suspend", now_ms());
		return;
	}
	group_resume(sd, "resumed from suspend", now_ms());
}

void group_resume(struct sleepd *sd, const char *why, int64_t now)
{
	struct json_object *r;
	int i;

	sd->epoch++;
	sd->state = SELF_AWAKE;
	sd->resume_at = 0;
	sd->sleep_requested = false;
	sd->last_busy = now;
	/* We heard nothing while asleep: give everyone a fresh chance. */
	for (i = 0; i < sd->n_peers; i++) {
		sd->peers[i]->last_heard = now;
		sd->peers[i]->probe_pending = false;
		sd->peers[i]->intent_at = 0;
	}
	send_hello(sd, now);
	net_announce_self(sd);
	sd->garp_at = now + 500;
	sd->next_probe = now + sd->cfg.probe_ms;
	r = log_start(sd, LOG_INFO, "resume");
	if (r) {
		jadd_str(r, "reason", why);
		jadd_int(r, "epoch", sd->epoch);
		log_end(sd, r);
	}
}

static void sleep_logic(struct sleepd *sd, int64_t now)
{
	const char *why;
	bool want;

	if (sd->state == SELF_INTENT) {
		if (now < sd->intent_deadline)
			return;
		if (kernel_busy(sd, &why))
			refuse(sd, why, now);
		else if (!guardians_ok(sd, now))
			refuse(sd, "too few guardians would stay awake", now);
		else
			go_to_sleep(sd, now);
		return;
	}
	if (sd->cfg.idle_sleep_ms && now >= sd->next_activity) {
		sd->next_activity = now + 1000;
		if (kernel_busy(sd, &why))
			sd->last_busy = now;
	}
	want = sd->sleep_requested ||
	       (sd->cfg.idle_sleep_ms &&
		now - sd->last_busy >= sd->cfg.idle_sleep_ms);
	if (!want || now < sd->sleep_retry_at)
		return;
	if (kernel_busy(sd, &why)) {
		sd->last_busy = now;
		refuse(sd, why, now);
		return;
	}
	if (!guardians_ok(sd, now)) {
		refuse(sd, "too few guardians would stay awake", now);
		return;
	}
	sd->state = SELF_INTENT;
	sd->intent_at = now;
	sd->intent_deadline = now + sd->cfg.intent_ms;
	send_plain(sd, MSG_INTENT);
	log_msg(sd, LOG_INFO, "sleep-intent", "waiting %d ms", sd->cfg.intent_ms);
}

/* ------------------------------------------------------------------ */
/* The periodic work                                                    */

static void check_liveness(struct sleepd *sd, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i], *m;

		if (p->known && p->state == PEER_AWAKE &&
		    now - p->last_heard > sd->cfg.dead_ms)
			mark_asleep(sd, p, "silent", now);
		if (!p->manager || p->manager == sd->self.id)
			continue;
		m = peer_find(sd, p->manager);
		if (!m || m->state != PEER_AWAKE)
			manager_lost(sd, p, "manager not awake", now);
		else if (now - p->manager_seen > sd->cfg.dead_ms)
			manager_lost(sd, p, "claim not refreshed", now);
	}
}

static void check_probes(struct sleepd *sd, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (!p->probe_pending ||
		    now - p->probe_sent < sd->cfg.probe_timeout_ms)
			continue;
		p->probe_pending = false;
		sd->st.probe_timeouts++;
		if (now - p->last_heard < sd->cfg.probe_timeout_ms)
			continue;	/* heard meanwhile */
		if (p->state == PEER_AWAKE) {
			if (++p->probe_fails < 2) {
				send_probe(sd, p, false, now);
				continue;
			}
			mark_asleep(sd, p, "probe timeout", now);
		}
		if (sd->cfg.can_manage && !p->manager && p->known)
			takeover(sd, p, p->announced ? "announced sleep" :
				 "probe timeout", now);
	}
}

static void random_probes(struct sleepd *sd, int64_t now)
{
	struct peer *pick[64];
	int i, n = 0, seen = 0, k = sd->cfg.probes;

	if (now < sd->next_probe)
		return;
	sd->next_probe = now + sd->cfg.probe_ms * (80 + randombytes_uniform(41)) / 100;
	if (k > (int)ARRAY_SIZE(pick))
		k = ARRAY_SIZE(pick);
	/* Reservoir sampling over the awake peers. */
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (!p->known || p->state != PEER_AWAKE || p->probe_pending)
			continue;
		seen++;
		if (n < k)
			pick[n++] = p;
		else if ((int)randombytes_uniform(seen) < k)
			pick[randombytes_uniform(k)] = p;
	}
	for (i = 0; i < n; i++)
		send_probe(sd, pick[i], false, now);
}

/* Our rank among the live managers of @s (0: we come first). */
static int rank_for(struct sleepd *sd, const struct peer *s)
{
	uint64_t mine = hrw(s->info.id, sd->self.id);
	int i, rank = 0;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *m = sd->peers[i];

		if (m != s && m->known && m->state == PEER_AWAKE &&
		    m->info.can_manage && hrw(s->info.id, m->info.id) > mine)
			rank++;
	}
	return rank;
}

static void takeover_candidates(struct sleepd *sd, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];
		int64_t wait, since;

		if (!p->known || p->state == PEER_AWAKE || p->manager ||
		    p->probe_pending)
			continue;
		/*
		 * The ranks count from when it fell silent, or from when it
		 * lost its manager (released, manager asleep or silent): else
		 * every host would take over a long-time sleeper at once.
		 */
		since = p->asleep_since > p->unmanaged_since ?
			p->asleep_since : p->unmanaged_since;
		wait = (int64_t)rank_for(sd, p) * (sd->cfg.probe_timeout_ms + 300);
		if (now - since >= wait)
			send_probe(sd, p, true, now);
	}
}

static void managed_upkeep(struct sleepd *sd, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (p->manager == sd->self.id && p->reannounce_at &&
		    now >= p->reannounce_at) {
			p->reannounce_at = 0;
			kernel_sync_peer(sd, p, true);
		}
		if (p->state == PEER_WAKING &&
		    now - p->waking_since > sd->cfg.wake_timeout_ms) {
			p->state = PEER_ASLEEP;
			logp(sd, LOG_WARN, "wake-failed", p, NULL, NULL,
			     "waited_ms", now - p->waking_since);
			kernel_sync_peer(sd, p, false);
		}
	}
}

static void guardian_check(struct sleepd *sd, int64_t now)
{
	struct peer *target = NULL;
	uint32_t lowest = sd->self.id;
	int i, awake = sd->cfg.can_manage ? 1 : 0;

	if (now < sd->next_guardian)
		return;
	sd->next_guardian = now + 500;
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (!p->known)
			continue;
		if (p->state == PEER_AWAKE) {
			awake += p->info.can_manage;
			if (p->info.id < lowest)
				lowest = p->info.id;
		} else if (p->state == PEER_ASLEEP && p->info.can_manage &&
			   (!target || p->info.id < target->info.id)) {
			target = p;
		}
	}
	/* Someone is waking already: wait for it. */
	for (i = 0; i < sd->n_peers; i++)
		if (sd->peers[i]->state == PEER_WAKING &&
		    sd->peers[i]->info.can_manage)
			awake++;
	if (awake >= sd->cfg.guardians || lowest != sd->self.id || !target)
		return;
	group_wake(sd, target, "guardians", now);
}

void group_tick(struct sleepd *sd, int64_t now)
{
	int i;

	if (sd->state == SELF_ASLEEP) {
		if (sd->resume_at && now >= sd->resume_at) {
			sim_leave(sd);
			group_resume(sd, "magic packet", now);
		}
		return;
	}
	if (now >= sd->next_hello)
		send_hello(sd, now);
	if (sd->garp_at && now >= sd->garp_at) {
		sd->garp_at = 0;
		net_announce_self(sd);
	}
	check_liveness(sd, now);
	check_probes(sd, now);
	if (sd->cfg.can_manage) {
		random_probes(sd, now);
		takeover_candidates(sd, now);
	}
	managed_upkeep(sd, now);
	guardian_check(sd, now);
	sleep_logic(sd, now);
	/*
	 * Every change syncs the module's copy of its peer at once; this
	 * is the safety net (a failed request is retried), once a second:
	 * on every tick, it cost a formatted signature per peer up to
	 * 40 times a second (ticks follow the received messages too).
	 */
	if (sd->state == SELF_ASLEEP || now < sd->next_resync)
		return;
	sd->next_resync = now + 1000;
	for (i = 0; i < sd->n_peers; i++)
		kernel_sync_peer(sd, sd->peers[i], false);
}

void group_init(struct sleepd *sd)
{
	int64_t now = now_ms();

	sd->started = now;
	sd->last_busy = now;
	sd->epoch = 1;
	sd->next_hello = now;
	sd->next_probe = now + sd->cfg.probe_ms;
	sd->next_guardian = now + sd->cfg.dead_ms;	/* learn the group first */
	sd->sleep_retry_at = now + sd->cfg.hello_ms;
	refresh_self(sd);
}

/* The daemon stops: its sleepers go to others, its peers forget it. */
void group_leave(struct sleepd *sd)
{
	int64_t now = now_ms();
	int i;

	if (sd->state == SELF_ASLEEP)
		return;
	for (i = 0; i < sd->n_peers; i++)
		release(sd, sd->peers[i], "daemon stops", now);
	send_plain(sd, MSG_LEAVE);
}

/* ------------------------------------------------------------------ */
/* Status                                                               */

static struct json_object *addr_array(const struct in6_addr *a, int n)
{
	struct json_object *arr = json_object_new_array();
	char buf[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(
				addr_str(&a[i], buf, sizeof(buf))));
	return arr;
}

static struct json_object *host_json(struct sleepd *sd,
				     const struct host_info *h)
{
	struct json_object *o = json_object_new_object(), *ports;
	char mac[18];
	int i;

	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "id", json_object_new_int64(h->id));
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", h->mac[0],
		 h->mac[1], h->mac[2], h->mac[3], h->mac[4], h->mac[5]);
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "can_manage",
			       json_object_new_boolean(h->can_manage));
	json_object_object_add(o, "addrs", addr_array(h->addrs, h->n_addrs));
	json_object_object_add(o, "rdma", addr_array(h->rdma, h->n_rdma));
	json_object_object_add(o, "overlay",
			       addr_array(h->overlay, h->n_overlay));
	ports = json_object_new_array();
	for (i = 0; i < h->n_ports; i++)
		json_object_array_add(ports, json_object_new_int(h->ports[i]));
	json_object_object_add(o, "ports", ports);
	(void)sd;
	return o;
}

static struct json_object *manages_json(struct sleepd *sd, uint32_t id)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < sd->n_peers; i++)
		if (sd->peers[i]->manager == id)
			json_object_array_add(arr, json_object_new_string(
					sd->peers[i]->info.name));
	return arr;
}

struct json_object *group_status(struct sleepd *sd, int64_t now)
{
	static const char *const self_states[] = {
		[SELF_AWAKE] = "awake", [SELF_INTENT] = "intent",
		[SELF_ASLEEP] = "asleep",
	};
	struct json_object *o = json_object_new_object(), *self, *peers, *st;
	int i;

	self = host_json(sd, &sd->self);
	json_object_object_add(self, "state",
			       json_object_new_string(self_states[sd->state]));
	json_object_object_add(self, "epoch", json_object_new_int64(sd->epoch));
	json_object_object_add(self, "manages", manages_json(sd, sd->self.id));
	if (sd->refusal)
		json_object_object_add(self, "last_refusal",
				       json_object_new_string(sd->refusal));
	json_object_object_add(o, "self", self);

	peers = json_object_new_array();
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];
		struct json_object *j;

		if (!p->known)
			continue;
		j = host_json(sd, &p->info);
		json_object_object_add(j, "state", json_object_new_string(
				peer_state_name(p->state)));
		if (p->manager)
			json_object_object_add(j, "manager", json_object_new_string(
					id_name(sd, p->manager)));
		json_object_object_add(j, "manages",
				       manages_json(sd, p->info.id));
		json_object_object_add(j, "epoch", json_object_new_int64(p->epoch));
		json_object_object_add(j, "heard_ms_ago",
				       json_object_new_int64(now - p->last_heard));
		json_object_array_add(peers, j);
	}
	json_object_object_add(o, "peers", peers);

	st = json_object_new_object();
#define ST(x) json_object_object_add(st, #x, json_object_new_uint64(sd->st.x))
	ST(rx); ST(tx); ST(rx_bytes); ST(tx_bytes); ST(auth_fail); ST(replay);
	ST(malformed); ST(probes); ST(probe_timeouts); ST(takeovers);
	ST(releases); ST(duplicates); ST(wakes); ST(wakes_limited);
	ST(requests); ST(sleeps); ST(refusals);
#undef ST
	json_object_object_add(st, "uptime_ms",
			       json_object_new_int64(now - sd->started));
	json_object_object_add(o, "stats", st);
	return o;
}
