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
#include <sys/wait.h>
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
	case PEER_LIVE:
		return "live";
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

static void start(struct sleepd *sd, struct msg_out *m, enum msg_type t)
{
	msg_start(m, t, sd->self.id, sd->epoch, sd->boot, ++sd->seq);
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
	h->has_secureon = sd->cfg.has_secureon;
	memcpy(h->secureon, sd->cfg.secureon, 6);
	strcpy(h->fallback_args, sd->cfg.fallback_args);
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
	msg_put_info(&m, &sd->self, manages, n, sd->cfg.key);
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

/*
 * A PROBE to @p (at @to, or its first IPv4 address): its PROBE_ACK, with
 * our nonce, both shows it alive and verifies its boot id.
 */
static void send_probe(struct sleepd *sd, struct peer *p,
		       const struct sockaddr_in *to, int64_t now)
{
	struct sockaddr_in dst;
	struct msg_out m;

	if (to)
		dst = *to;
	else if (!primary_v4(p, &dst, sd->cfg.port))
		return;
	dst.sin_port = htons(sd->cfg.port);
	p->probe_nonce = ((uint64_t)randombytes_random() << 32) |
			 randombytes_random();
	p->probe_sent = now;
	start(sd, &m, MSG_PROBE);
	msg_put_u64(&m, T_NONCE, p->probe_nonce);
	msg_seal(&m, sd->cfg.key);
	net_send_to(sd, &m, &dst);
	sd->st.probes++;
}

/* An ARP probe of @p's first IPv4 address, to its MAC. */
static void send_l2(struct sleepd *sd, struct peer *p)
{
	struct sockaddr_in a;

	if (p->known && primary_v4(p, &a, 0))
		net_arp_probe(sd, &a.sin_addr, p->info.mac);
}

/* ------------------------------------------------------------------ */
/* Peer state changes                                                   */

static void logp(int level, const char *event,
		 const struct peer *p, const char *key, const char *val,
		 const char *key2, int64_t val2)
{
	struct json_object *r = log_start(level, event);

	if (!r)
		return;
	jadd_str(r, "peer", p->info.name);
	if (key)
		jadd_str(r, key, val);
	if (key2)
		jadd_int(r, key2, val2);
	log_end(r);
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
	logp(LOG_INFO, "release", p, "reason", why, "managed_ms",
	     now - p->managed_since);
}

static void takeover(struct sleepd *sd, struct peer *p, const char *why,
		     int64_t now)
{
	p->manager = sd->self.id;
	p->managed_since = now;
	p->manager_seen = now;
	p->reannounce_at = now + 1000;
	p->next_l2 = now + sd->cfg.probe_ms;
	p->held = false;
	p->lost_manager = 0;
	sd->st.takeovers++;
	kernel_sync_peer(sd, p, true);
	send_subject(sd, MSG_MANAGE, p);
	logp(LOG_INFO, "takeover", p, "reason", why, "silent_ms",
	     now - p->asleep_since);
}

static void manager_lost(struct sleepd *sd, struct peer *p, const char *why,
			 int64_t now)
{
	struct json_object *r = log_start(LOG_INFO, "manager-lost");

	if (r) {
		jadd_str(r, "peer", p->info.name);
		jadd_str(r, "manager", id_name(sd, p->manager));
		jadd_str(r, "reason", why);
		log_end(r);
	}
	p->lost_manager = p->manager;
	unmanaged(p, now);
	kernel_sync_peer(sd, p, false);
}

/* @p manages nobody any more, in our view (it sleeps, died, left). */
static void sleepers_orphaned(struct sleepd *sd, struct peer *p,
			      const char *why, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++)
		if (sd->peers[i]->manager == p->info.id)
			manager_lost(sd, sd->peers[i], why, now);
}

static void mark_asleep(struct sleepd *sd, struct peer *p, const char *why,
			int64_t now)
{
	p->intent_at = 0;
	if (p->state == PEER_ASLEEP || p->state == PEER_WAKING)
		return;
	p->state = PEER_ASLEEP;
	p->asleep_since = now;
	logp(LOG_INFO, "peer-asleep", p, "reason", why, NULL, 0);
	sleepers_orphaned(sd, p, "manager asleep", now);
	kernel_sync_peer(sd, p, false);
}

/*
 * @p is heard again after a silence it did not announce (a partition, a
 * link or receive path down, our own or its own): it missed what we said
 * meanwhile, and so may its side of the network.  A host that woke on
 * our side of a partition announced its addresses there only, and the
 * hosts over there still send to its manager's MAC.  Say it again: a
 * HELLO, and our addresses at once and after the neighbours' locktime
 * (1 s by default).  At most once a second.
 */
static void rejoined(struct sleepd *sd, const struct peer *p, int64_t now)
{
	int64_t *last = &sd->heard_back[(sd->heard_back_i + SLEEPD_HEARD_BACK - 1) %
					SLEEPD_HEARD_BACK];

	/* The network changed around us: silent_at_heal() remembers when. */
	if (!*last || now - *last >= 1000)
		sd->heard_back[sd->heard_back_i++ % SLEEPD_HEARD_BACK] = now;
	if (sd->state != SELF_AWAKE && sd->state != SELF_INTENT)
		return;
	if (sd->rejoin_at && now - sd->rejoin_at < 1000)
		return;
	sd->rejoin_at = now;
	logp(LOG_INFO, "reannounce", p, "reason", "heard again after a silence",
	     "silent_ms", now - p->asleep_since);
	send_hello(sd, now);
	net_announce_self(sd);
	sd->garp_at = now + 1100;
}

static void peer_awake(struct sleepd *sd, struct peer *p, const char *why,
		       int64_t now)
{
	if (p->state == PEER_AWAKE)
		return;
	if ((p->state == PEER_ASLEEP || p->state == PEER_WAKING) &&
	    !p->announced)
		rejoined(sd, p, now);
	if (p->state == PEER_WAKING)
		logp(LOG_INFO, "peer-awake", p, "reason", why, "wake_ms",
		     now - p->waking_since);
	else
		logp(LOG_INFO, "peer-awake", p, "reason", why, NULL, 0);
	p->state = PEER_AWAKE;
	p->announced = false;
	p->waking_since = 0;
	p->confirm_start = 0;
	p->held = false;
	p->lost_manager = 0;
	p->cut_seen = 0;
	p->lone_seen = 0;
	if (p->manager == sd->self.id)
		release(sd, p, "awake", now);
	p->manager = 0;
	kernel_sync_peer(sd, p, false);
}

/*
 * The owner of a sleeper we manage is alive (it answered ARP, or spoke
 * ARP, or the module saw it): stop at once, without a wake, and give its
 * neighbours its own MAC back: at once for its IPv4 addresses, after
 * SLEEPD_RESTORE6_MS for its IPv6 addresses (managed_upkeep()), since an
 * advertisement for an address during its duplicate address detection
 * (the owner coming back runs one) takes the address from it.
 */
void group_owner_alive(struct sleepd *sd, struct peer *p, const char *how,
		       int64_t now)
{
	/* Woken, or back by itself after a sleep it announced: normal. */
	bool woke = p->state == PEER_WAKING || p->announced;

	if (p->manager != sd->self.id)
		return;
	if (!woke)
		sd->st.owner_alive++;
	logp(woke ? LOG_INFO : LOG_WARN, "owner-alive", p, "how", how,
	     "managed_ms", now - p->managed_since);
	release(sd, p, woke ? "awake" : "owner alive", now);
	net_restore(sd, &p->info, AF_INET);
	p->restore6_at = now + SLEEPD_RESTORE6_MS;
	if (p->state != PEER_AWAKE)
		p->state = PEER_LIVE;
	p->confirm_start = 0;
	kernel_sync_peer(sd, p, false);
}

/* @p's daemon is silent, but the host answers at layer 2. */
static void mark_live(struct sleepd *sd, struct peer *p, int64_t now)
{
	p->confirm_start = 0;
	p->intent_at = 0;
	p->next_l2 = now + sd->cfg.probe_ms;
	if (p->manager == sd->self.id) {
		group_owner_alive(sd, p, "arp", now);
		return;
	}
	if (p->state == PEER_LIVE)
		return;
	sd->st.live++;
	p->state = PEER_LIVE;
	p->announced = false;
	logp(LOG_WARN, "peer-live", p, "reason",
	     "its daemon is silent, the host answers ARP", "silent_ms",
	     now - p->last_heard);
	sleepers_orphaned(sd, p, "manager's daemon silent", now);
	if (p->manager)
		unmanaged(p, now);
	kernel_sync_peer(sd, p, false);
}

void group_arp_seen(struct sleepd *sd, const struct in_addr *sip,
		    const uint8_t *sha, int64_t now)
{
	struct in6_addr a;
	struct peer *p;

	if (sd->state == SELF_ASLEEP)
		return;
	memset(&a, 0, sizeof(a));
	a.s6_addr[10] = 0xff;
	a.s6_addr[11] = 0xff;
	memcpy(&a.s6_addr[12], sip, 4);
	p = group_find_addr(sd, &a);
	if (!p || !p->known || memcmp(sha, p->info.mac, 6))
		return;
	p->l2_seen = now;
	/* Managed by us and speaking: the owner is alive. */
	if (p->manager == sd->self.id && now - p->managed_since > 0)
		group_owner_alive(sd, p, "arp", now);
	/*
	 * Held as cut off, and there at layer 2: the partition is over for
	 * it.  Live until its daemon is heard (a live host cut off with
	 * others stays so); and it missed what we said.
	 */
	else if (p->state == PEER_ASLEEP && !p->announced && !p->manager &&
		 p->cut_seen) {
		rejoined(sd, p, now);
		mark_live(sd, p, now);
	}
}

/* Start confirming that @p is silent: protocol and ARP probes. */
static void confirm(struct sleepd *sd, struct peer *p, bool take, int64_t now)
{
	p->confirm_start = now;
	p->confirm_takeover = take;
	send_probe(sd, p, NULL, now);
	send_l2(sd, p);
	p->next_l2 = now + sd->cfg.probe_timeout_ms / 4;
}

/* @m claims to manage @s: who keeps it? */
static void claim(struct sleepd *sd, struct peer *s, struct peer *m,
		  int64_t now, bool explicit)
{
	struct json_object *r;
	struct peer *cur;

	if (s->manager == sd->self.id) {
		sd->st.duplicates++;
		r = log_start(LOG_INFO, "duplicate");
		if (r) {
			jadd_str(r, "peer", s->info.name);
			jadd_str(r, "other", m->info.name);
			jadd_str(r, "winner", hrw(s->info.id, m->info.id) >
				 hrw(s->info.id, sd->self.id) ?
				 m->info.name : sd->self.name);
			log_end(r);
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
			 * host that no longer answers for it.  One MANAGE per
			 * sleeper every 200 ms at most.
			 */
			s->reannounce_at = now + 1100;
			if (now >= s->next_reassert) {
				send_subject(sd, MSG_MANAGE, s);
				s->next_reassert = now + 200;
			}
		}
		return;
	}
	cur = s->manager ? peer_find(sd, s->manager) : NULL;
	if (!cur || cur == m || cur->state != PEER_AWAKE ||
	    hrw(s->info.id, m->info.id) > hrw(s->info.id, cur->info.id)) {
		s->manager = m->info.id;
		s->manager_seen = now;
		/* Managed where it is: no longer a silence we cannot judge. */
		s->cut_seen = 0;
	}
	if (explicit && s->state == PEER_AWAKE &&
	    now - s->last_heard > sd->cfg.probe_timeout_ms)
		mark_asleep(sd, s, "managed by another", now);
	kernel_sync_peer(sd, s, false);
}

/*
 * Somebody claims us while we are awake (MANAGE, or its HELLO lists us):
 * say so at once, and take our neighbours back from the claimer's MAC
 * address (its takeover announced our addresses), again after the
 * neighbours' locktime (1 s by default).  At most once a second.
 */
static void reclaim(struct sleepd *sd, const struct peer *by, const char *how,
		    int64_t now)
{
	if (sd->state != SELF_AWAKE && sd->state != SELF_INTENT)
		return;
	sd->claimer = by->info.id;
	if (sd->reclaim_at && now - sd->reclaim_at < 1000)
		return;
	sd->reclaim_at = now;
	logp(LOG_WARN, "reclaim", by, "reason", how, NULL, 0);
	send_hello(sd, now);
	net_announce_self(sd);
	sd->garp_at = now + 1100;
}

/*
 * The claim on us ended (the claimer's RELEASE, or a HELLO of its that no
 * longer lists us): the claimer stopped answering for our addresses, but
 * its module's last answers may have come after our announcements and
 * moved a neighbour to its MAC again.  Have the last word: announce our
 * addresses once more now and after the neighbours' locktime.
 */
static void reclaim_done(struct sleepd *sd, const struct peer *by,
			 int64_t now)
{
	if (!sd->claimer || sd->claimer != by->info.id)
		return;
	sd->claimer = 0;
	if (sd->state != SELF_AWAKE && sd->state != SELF_INTENT)
		return;
	logp(LOG_INFO, "reclaimed", by, NULL, NULL, NULL, 0);
	net_announce_self(sd);
	sd->garp_at = now + 1100;
}

/*
 * An ARP packet from another MAC address gave one of our IPv4 addresses as
 * its sender: a takeover's gratuitous ARP (its claim may end before any of
 * its HELLOs lists us, so this can be all we ever see of it), or any other
 * host's.  Neighbours that heard it now send to that MAC.  Defend the
 * address as RFC 5227 (section 2.4, b) says: announce it at once, at most
 * once a second.  A known peer's claim also gets the last word when it
 * ends (reclaim_done()).
 */
void group_addr_claimed(struct sleepd *sd, const struct in_addr *sip,
			const uint8_t *sha, int64_t now)
{
	struct json_object *r;
	char mac[18], ip[INET_ADDRSTRLEN];
	int i;

	if (sd->state != SELF_AWAKE && sd->state != SELF_INTENT)
		return;
	sd->st.addr_claims++;
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (p->known && !memcmp(p->info.mac, sha, 6)) {
			reclaim(sd, p, "it announced our address", now);
			return;
		}
	}
	if (sd->reclaim_at && now - sd->reclaim_at < 1000)
		return;
	sd->reclaim_at = now;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", sha[0],
		 sha[1], sha[2], sha[3], sha[4], sha[5]);
	r = log_start(LOG_WARN, "addr-conflict");
	if (r) {
		jadd_str(r, "addr", inet_ntop(AF_INET, sip, ip, sizeof(ip)));
		jadd_str(r, "mac", mac);
		log_end(r);
	}
	net_announce_self(sd);
	sd->garp_at = now + 1100;
}

/* ------------------------------------------------------------------ */
/* Receiving                                                            */

static void rx_hello(struct sleepd *sd, struct peer *p, struct msg *msg,
		     int64_t now)
{
	bool was_known = p->known, claims_us = false, listed;
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
	if (!was_known) {
		struct json_object *r = log_start(LOG_INFO, "peer-new");

		if (r) {
			jadd_str(r, "peer", p->info.name);
			jadd_int(r, "id", p->info.id);
			jadd_addr(r, "addr", &p->info.addrs[0]);
			log_end(r);
		}
	}
	if (p->state != PEER_AWAKE)
		peer_awake(sd, p, "hello", now);

	/* Its sleepers: claims, refreshed; those it no longer lists. */
	for (i = 0; i < msg->n_manages; i++) {
		struct peer *s;

		if (msg->manages[i] == sd->self.id) {
			reclaim(sd, p, "its HELLO lists us", now);
			claims_us = true;
			continue;
		}
		s = peer_get(sd, msg->manages[i], now);
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
	if (!claims_us)
		reclaim_done(sd, p, now);
	kernel_sync_peer(sd, p, false);
}

static void rx_intent(struct sleepd *sd, struct peer *p, struct msg *msg,
		      const struct sockaddr_in *from, int64_t now)
{
	uint8_t state = sd->state == SELF_INTENT ? HELLO_STATE_INTENT :
						   HELLO_STATE_AWAKE;
	struct msg_out m;

	p->intent_at = now;
	if (state == HELLO_STATE_AWAKE)
		p->acked_awake_at = now;
	start(sd, &m, MSG_INTENT_ACK);
	msg_put_u64(&m, T_NONCE, msg->nonce);
	msg_put(&m, T_STATE, &state, 1);
	msg_seal(&m, sd->cfg.key);
	net_send_to(sd, &m, from);
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
	err = msg_parse(buf, len, sd->cfg.key, &msg);
	if (err != MSG_OK) {
		inet_ntop(AF_INET, &from->sin_addr, src, sizeof(src));
		if (err == MSG_BAD_AUTH)
			sd->st.auth_fail++;
		else
			sd->st.malformed++;
		r = log_start(LOG_WARN, err == MSG_BAD_AUTH ?
			      "auth-failed" : "malformed");
		if (r) {
			jadd_str(r, "src", src);
			jadd_int(r, "len", len);
			log_end(r);
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
	/* Anybody with the key may ask whether we live: the answer is true. */
	if (msg.type == MSG_PROBE) {
		start(sd, &m, MSG_PROBE_ACK);
		msg_put_u64(&m, T_NONCE, msg.nonce);
		msg_seal(&m, sd->cfg.key);
		net_send_to(sd, &m, from);
	}
	if (msg.type == MSG_PROBE_ACK && p->probe_nonce &&
	    msg.nonce == p->probe_nonce &&
	    (!p->replay.verified || p->replay.boot != msg.boot)) {
		/* The answer to our nonce: fresh, whatever came before. */
		p->probe_nonce = 0;
		logp(LOG_DEBUG, "verified", p, NULL, NULL, "boot",
		     (int64_t)msg.boot);
		replay_verify(&p->replay, msg.boot, msg.seq);
	} else {
		why = replay_check(&p->replay, msg.boot, msg.seq);
		if (why == REPLAY_UNVERIFIED) {
			/* Challenge it (once per probe timeout). */
			sd->st.unverified++;
			sd->st.replay++;
			if (!p->probe_nonce ||
			    now - p->probe_sent >= sd->cfg.probe_timeout_ms)
				send_probe(sd, p, from, now);
			return;
		}
		if (why) {
			sd->st.replay++;
			inet_ntop(AF_INET, &from->sin_addr, src, sizeof(src));
			r = log_start(LOG_WARN, "replay");
			if (r) {
				jadd_str(r, "peer", p->info.name);
				jadd_str(r, "src", src);
				jadd_int(r, "type", msg.type);
				jadd_str(r, "reason", why);
				log_end(r);
			}
			return;
		}
	}
	/*
	 * Any message is a sign of life but SLEEP: it comes more than once,
	 * and a late copy read after our takeover probe went out would pass
	 * for an answer.
	 */
	if (msg.type != MSG_SLEEP) {
		p->last_heard = now;
		if (p->known && p->state == PEER_LIVE)
			peer_awake(sd, p, "heard", now);
	}

	switch (msg.type) {
	case MSG_HELLO:
		rx_hello(sd, p, &msg, now);
		break;
	case MSG_PROBE:
	case MSG_PROBE_ACK:
		if (p->known && p->state != PEER_AWAKE)
			peer_awake(sd, p, "probe answered", now);
		break;
	case MSG_MANAGE:
		if (msg.subject == sd->self.id) {
			reclaim(sd, p, "its MANAGE names us", now);
			break;
		}
		s = peer_get(sd, msg.subject, now);
		if (s)
			claim(sd, s, p, now, true);
		break;
	case MSG_RELEASE:
		if (msg.subject == sd->self.id) {
			reclaim_done(sd, p, now);
			break;
		}
		s = peer_find(sd, msg.subject);
		if (s && s->manager == p->info.id) {
			unmanaged(s, now);
			kernel_sync_peer(sd, s, false);
		}
		break;
	case MSG_SLEEP:
		p->announced = true;
		p->cut_seen = 0;
		mark_asleep(sd, p, "announced", now);
		break;
	case MSG_INTENT:
		rx_intent(sd, p, &msg, from, now);
		break;
	case MSG_INTENT_ACK:
		if (sd->state == SELF_INTENT && msg.nonce == sd->intent_nonce) {
			p->ack_nonce = msg.nonce;
			p->ack_state = msg.info.state;
		}
		break;
	case MSG_LEAVE:
		logp(LOG_INFO, "peer-left", p, NULL, NULL, NULL, 0);
		release(sd, p, "left", now);
		sleepers_orphaned(sd, p, "manager left", now);
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

	if (p->state == PEER_AWAKE || p->state == PEER_LIVE)
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
		logp(LOG_WARN, "wake-limited", p, "reason", reason,
		     "per_minute", p->wol_count);
		return;
	}
	p->wol_count++;
	p->last_wol = now;
	net_wol(sd, p->info.mac, p->info.has_secureon ? p->info.secureon : NULL);
	sd->st.wakes++;
	if (p->state != PEER_WAKING) {
		p->state = PEER_WAKING;
		p->waking_since = now;
	}
	r = log_start(LOG_INFO, "wake");
	if (r) {
		jadd_str(r, "peer", p->info.name);
		jadd_str(r, "reason", reason);
		jadd_str(r, "manager", p->manager ? id_name(sd, p->manager) : "");
		json_object_object_add(r, "secureon", json_object_new_boolean(
				p->info.has_secureon));
		log_end(r);
	}
	kernel_sync_peer(sd, p, false);
}

/*
 * Not back after fallback-after: run the fallback command (a BMC, for
 * example) with the sleeper's arguments in its environment, at most once
 * per fallback-interval per sleeper, without waiting for it.
 */
static void wake_fallback(struct sleepd *sd, struct peer *p, int64_t now)
{
	char mac[18], addr[INET6_ADDRSTRLEN];
	struct json_object *r;
	unsigned int i;
	pid_t pid;

	if (!sd->cfg.fallback_cmd[0] || p->state != PEER_WAKING ||
	    now - p->waking_since < sd->cfg.fallback_after_ms ||
	    (p->last_fallback &&
	     now - p->last_fallback < sd->cfg.fallback_interval_ms))
		return;
	for (i = 0; i < ARRAY_SIZE(sd->children); i++)
		if (!sd->children[i].pid)
			break;
	if (i == ARRAY_SIZE(sd->children))
		return;		/* enough running: later */
	p->last_fallback = now;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 p->info.mac[0], p->info.mac[1], p->info.mac[2], p->info.mac[3],
		 p->info.mac[4], p->info.mac[5]);
	addr_str(&p->info.addrs[0], addr, sizeof(addr));
	pid = fork();
	if (pid == 0) {
		setenv("VRDMA_WAKE_PEER", p->info.name, 1);
		setenv("VRDMA_WAKE_MAC", mac, 1);
		setenv("VRDMA_WAKE_ADDR", addr, 1);
		setenv("VRDMA_WAKE_ARGS", p->info.fallback_args, 1);
		execl("/bin/sh", "sh", "-c", sd->cfg.fallback_cmd, (char *)NULL);
		_exit(127);
	}
	sd->st.fallbacks++;
	r = log_start(pid < 0 ? LOG_WARN : LOG_INFO, "wake-fallback");
	if (r) {
		jadd_str(r, "peer", p->info.name);
		jadd_str(r, "args", p->info.fallback_args);
		jadd_int(r, "pid", pid);
		jadd_int(r, "waited_ms", now - p->waking_since);
		log_end(r);
	}
	if (pid > 0) {
		sd->children[i].pid = pid;
		sd->children[i].started = now;
		strcpy(sd->children[i].peer, p->info.name);
	}
}

static void reap_children(struct sleepd *sd, int64_t now)
{
	struct json_object *r;
	unsigned int i;
	int st;

	for (i = 0; i < ARRAY_SIZE(sd->children); i++) {
		struct child *c = &sd->children[i];

		if (!c->pid || waitpid(c->pid, &st, WNOHANG) != c->pid)
			continue;
		r = log_start(WIFEXITED(st) && !WEXITSTATUS(st) ?
			      LOG_INFO : LOG_WARN, "wake-fallback-done");
		if (r) {
			jadd_str(r, "peer", c->peer);
			jadd_int(r, "status", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			jadd_int(r, "ms", now - c->started);
			log_end(r);
		}
		c->pid = 0;
	}
}

/* ------------------------------------------------------------------ */
/* Sleeping                                                             */

/* Heard (any believed message) recently enough to count as awake. */
static bool recent(struct sleepd *sd, const struct peer *p, int64_t now)
{
	return p->known && p->state == PEER_AWAKE &&
	       now - p->last_heard <= 2 * sd->cfg.hello_ms +
				       sd->cfg.probe_timeout_ms;
}

/*
 * Enough guardians without us?  Before the intent: the manager-capable
 * peers heard recently, but those with a live intent and a lower id (they
 * go first).  At the decision (@acked): only those that answered our
 * INTENT, awake or with an intent of their own and a higher id (they will
 * stay for us).
 */
static bool guardians_ok(struct sleepd *sd, bool acked, int64_t now)
{
	int i, others = 0;

	if (!sd->cfg.can_manage)
		return true;
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (!p->info.can_manage || !recent(sd, p, now))
			continue;
		if (acked) {
			if (p->ack_nonce != sd->intent_nonce ||
			    (p->ack_state != HELLO_STATE_AWAKE &&
			     p->info.id < sd->self.id))
				continue;
		} else if (p->intent_at &&
			   now - p->intent_at < 3 * sd->cfg.intent_ms &&
			   p->info.id < sd->self.id) {
			continue;
		}
		others++;
	}
	return others >= sd->cfg.guardians;
}

/*
 * We told a peer with a higher id and a live intent that we stay awake:
 * it may count on us, and would count us again (an intent with a higher
 * id than ours) if we announced one: we stay.  (A lower id's intent we
 * leave out of our own count anyway.)
 */
static bool promised(struct sleepd *sd, int64_t now)
{
	int i;

	if (!sd->cfg.can_manage)
		return false;
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (p->info.id > sd->self.id && p->acked_awake_at &&
		    now - p->acked_awake_at < 3 * sd->cfg.intent_ms)
			return true;
	}
	return false;
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
	r = log_start(LOG_INFO, "sleep-refused");
	if (r) {
		jadd_str(r, "reason", why);
		log_end(r);
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
		log_msg(LOG_ERR, "sim-failed", "cannot simulate sleep");
		sd->state = SELF_AWAKE;
		return;
	}
	for (i = 0; i < 3; i++)
		send_plain(sd, MSG_SLEEP);
	r = log_start(LOG_INFO, "sleep");
	if (r) {
		jadd_int(r, "epoch", sd->epoch);
		log_end(r);
	}
	sd->state = SELF_ASLEEP;
	sd->resume_at = 0;
	if (sd->cfg.test)
		return;
	suspended0 = suspended_ms();
	if (run_cmd(sd->cfg.sleep_cmd)) {
		log_msg(LOG_WARN, "sleep-command", "failed: %s",
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
		log_msg(LOG_WARN, "sleep-command",
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
	/*
	 * We heard nothing while asleep: give those we saw awake a fresh
	 * chance, and believe nobody's counters until a challenge verifies
	 * them again (what they sent meanwhile could come back as a replay).
	 * Those already silent keep their silence: with it reset, a host
	 * back from sleep in a partition heard "everyone" (isolated() and
	 * correlated() saw nobody silent) and took the other side over
	 * (the simulation: 43 of 48 false takeovers, 1-5 s after a resume).
	 */
	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (p->state == PEER_AWAKE || p->state == PEER_LIVE)
			p->last_heard = now;
		/*
		 * Nor did we hear the claims of a sleeper's manager: one we
		 * saw awake gets as fresh a chance as its silence (else the
		 * first tick finds the claim "not refreshed", and we may
		 * take the sleeper over beside its manager).
		 */
		if (p->manager && p->manager != sd->self.id) {
			const struct peer *m = peer_find(sd, p->manager);

			if (m && m->state == PEER_AWAKE)
				p->manager_seen = now;
		}
		p->l2_seen = 0;
		p->confirm_start = 0;
		p->intent_at = 0;
		p->acked_awake_at = 0;
		p->probe_nonce = 0;
		p->replay.verified = false;
	}
	send_hello(sd, now);
	net_announce_self(sd);
	sd->garp_at = now + 500;
	sd->next_probe = now + sd->cfg.probe_ms;
	r = log_start(LOG_INFO, "resume");
	if (r) {
		jadd_str(r, "reason", why);
		jadd_int(r, "epoch", sd->epoch);
		log_end(r);
	}
}

static void send_intent(struct sleepd *sd, int64_t now)
{
	struct msg_out m;

	start(sd, &m, MSG_INTENT);
	msg_put_u64(&m, T_NONCE, sd->intent_nonce);
	send_group(sd, &m);
	sd->next_intent_tx = now + sd->cfg.intent_ms / 4;
}

static void sleep_logic(struct sleepd *sd, int64_t now)
{
	const char *why;
	bool want;

	if (sd->state == SELF_INTENT) {
		if (now < sd->intent_deadline) {
			/* Until the deadline: again, for whoever missed it. */
			if (now >= sd->next_intent_tx)
				send_intent(sd, now);
			return;
		}
		if (kernel_busy(sd, &why))
			refuse(sd, why, now);
		else if (!guardians_ok(sd, true, now))
			refuse(sd, "too few guardians confirmed they stay awake",
			       now);
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
	if (promised(sd, now)) {
		refuse(sd, "we are the guardian another host's sleep intent counts on",
		       now);
		return;
	}
	if (!guardians_ok(sd, false, now)) {
		refuse(sd, "too few guardians would stay awake", now);
		return;
	}
	sd->state = SELF_INTENT;
	sd->intent_at = now;
	sd->intent_deadline = now + sd->cfg.intent_ms;
	sd->intent_nonce = ((uint64_t)randombytes_random() << 32) |
			   randombytes_random();
	send_hello(sd, now);	/* STATE 1 */
	send_intent(sd, now);
	log_msg(LOG_INFO, "sleep-intent", "waiting %d ms", sd->cfg.intent_ms);
}

/* ------------------------------------------------------------------ */
/* The periodic work                                                    */

/*
 * Do we hear the group?  A host whose receive path failed hears nobody:
 * it must take over nobody.  Isolated: it hears fewer than half of the
 * peers (2 or more) it heard within the last 4 x dead-after, those that
 * announced their sleep left aside.
 */
static bool isolated(struct sleepd *sd, int64_t now)
{
	int i, expected = 0, heard = 0;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];

		if (!p->known || p->announced ||
		    now - p->last_heard > 4 * sd->cfg.dead_ms)
			continue;
		expected++;
		heard += now - p->last_heard <= sd->cfg.dead_ms;
	}
	return expected >= 2 && 2 * heard < expected;
}

/*
 * The last sign of life of @p: a believed message, or an ARP packet from
 * its address and MAC (a live host whose daemon is silent).
 */
static int64_t last_sign(const struct peer *p)
{
	return p->l2_seen > p->last_heard ? p->l2_seen : p->last_heard;
}

/*
 * Did @p fall silent with others?  Another peer that did not announce a
 * sleep, silent (no message, no ARP) for more than half of dead-after,
 * whose last sign of life came within dead-after of @p's: that is the
 * network (a partition, a switch, our own receive path), not hosts going
 * to sleep.
 */
static bool correlated(struct sleepd *sd, const struct peer *p, int64_t now)
{
	int64_t t = last_sign(p);
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *q = sd->peers[i];

		if (q == p || !q->known || q->announced ||
		    now - last_sign(q) <= sd->cfg.dead_ms / 2)
			continue;
		if (llabs(last_sign(q) - t) <= sd->cfg.dead_ms)
			return true;
	}
	return false;
}

/*
 * Did @p lose its manager to the network?  The manager it lost did not
 * announce a sleep, is silent for more than half of dead-after and fell
 * silent with others: it is cut off with them, and most likely still
 * manages @p over there (where @p may even have woken).
 */
static bool manager_cut_off(struct sleepd *sd, const struct peer *p,
			    int64_t now)
{
	const struct peer *m;

	if (!p->lost_manager)
		return false;
	m = peer_find(sd, p->lost_manager);
	return m && m->known && !m->announced &&
	       now - last_sign(m) > sd->cfg.dead_ms / 2 &&
	       correlated(sd, m, now);
}

/*
 * Do we hear anybody at all?  No believed message from any peer for
 * dead-after: cut off alone (the last of our side of a partition to be
 * left, our link or receive path down), or every other host is asleep
 * or dead.  isolated() needs two peers to expect, and forgets them after
 * 4 x dead-after: a host left alone after a partition's heal began, or
 * alone for longer, would take the one it heard last over.
 */
static bool hears_nobody(struct sleepd *sd, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++)
		if (sd->peers[i]->known &&
		    now - sd->peers[i]->last_heard <= sd->cfg.dead_ms)
			return false;
	return true;
}

/*
 * Did @p fall silent as others were heard again?  Its last sign of life
 * came within dead-after of a moment when peers silent in our view (not
 * announced) were heard again: we moved to the other side of a
 * partition, or the network changed around us, and @p is the one left
 * behind (the partition's heal, host by host), not a host going to
 * sleep.
 */
static bool silent_at_heal(struct sleepd *sd, const struct peer *p)
{
	int64_t t = last_sign(p);
	int i;

	for (i = 0; i < SLEEPD_HEARD_BACK; i++)
		if (sd->heard_back[i] &&
		    llabs(sd->heard_back[i] - t) <= sd->cfg.dead_ms)
			return true;
	return false;
}

/* May we take @p over?  Logs the first refusal of an episode. */
static bool may_take_over(struct sleepd *sd, struct peer *p, int64_t now)
{
	const char *why = NULL, *cut = NULL;

	if (!p->announced && correlated(sd, p, now))
		cut = "other peers fell silent with it";
	else if (manager_cut_off(sd, p, now))
		cut = "its manager fell silent with other peers";
	else if (!p->announced && silent_at_heal(sd, p))
		cut = "it fell silent as others were heard again";
	/*
	 * A partition does not heal at once: the hosts of the other side
	 * come back one by one, with any delay between them, and the last
	 * one must not look like a lone silence meanwhile.  Remember it
	 * until the peer is heard (peer_awake()), announces its sleep, or
	 * is claimed by a manager.
	 */
	if (cut)
		p->cut_seen = now;
	/*
	 * Alone, we know nothing of the peer we heard last.  Once we hear
	 * others again, it will be heard within a hello interval if it is
	 * awake: hold it for dead-after more.  (A peer silent alone while
	 * others are heard is a sleeper or a dead host: take it over, a
	 * magic packet may bring it back.)
	 */
	if (!cut && !p->announced && hears_nobody(sd, now)) {
		cut = "we hear no peer";
		p->lone_seen = now;
	}
	if (isolated(sd, now))
		why = "we hear too few peers";
	else if (cut)
		why = cut;
	else if (p->cut_seen)
		why = "it was cut off, and not heard since";
	else if (p->lone_seen && now - p->lone_seen <= sd->cfg.dead_ms)
		why = "we heard no peer a moment ago";
	if (!why)
		return true;
	if (!p->held) {
		p->held = true;
		sd->st.held++;
		logp(LOG_WARN, "takeover-held", p, "reason", why, NULL, 0);
	}
	return false;
}

static void check_liveness(struct sleepd *sd, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i], *m;

		if (p->known && !p->confirm_start &&
		    ((p->state == PEER_AWAKE &&
		      now - p->last_heard > sd->cfg.dead_ms) ||
		     (p->state == PEER_LIVE &&
		      now - p->l2_seen > sd->cfg.dead_ms)))
			confirm(sd, p, false, now);
		/* A live host, or a sleeper we manage: is its owner there? */
		if (p->known && !p->confirm_start && now >= p->next_l2 &&
		    (p->state == PEER_LIVE || p->manager == sd->self.id)) {
			send_l2(sd, p);
			p->next_l2 = now + sd->cfg.probe_ms;
		}
		if (!p->manager || p->manager == sd->self.id)
			continue;
		m = peer_find(sd, p->manager);
		if (!m || m->state != PEER_AWAKE)
			manager_lost(sd, p, "manager not awake", now);
		else if (now - p->manager_seen > sd->cfg.dead_ms)
			manager_lost(sd, p, "claim not refreshed", now);
	}
}

/* The confirmations running: an answer, or the end of probe-timeout. */
static void check_confirm(struct sleepd *sd, int64_t now)
{
	int i;

	for (i = 0; i < sd->n_peers; i++) {
		struct peer *p = sd->peers[i];
		int64_t t0 = p->confirm_start;

		if (!t0)
			continue;
		if (p->last_heard >= t0) {
			p->confirm_start = 0;	/* its daemon answered */
			continue;
		}
		if (p->l2_seen >= t0) {
			mark_live(sd, p, now);
			continue;
		}
		if (now - t0 < sd->cfg.probe_timeout_ms) {
			if (now >= p->next_l2) {
				send_l2(sd, p);
				p->next_l2 = now + sd->cfg.probe_timeout_ms / 4;
			}
			continue;
		}
		p->confirm_start = 0;
		if (p->state == PEER_AWAKE || p->state == PEER_LIVE)
			mark_asleep(sd, p, "silent", now);
		if (p->confirm_takeover && sd->cfg.can_manage && !p->manager &&
		    p->known && may_take_over(sd, p, now))
			takeover(sd, p, p->announced ? "announced sleep" :
				 "silent", now);
	}
}

/* Probes keep the picture fresh: an answer counts as heard. */
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

		if (!p->known || p->state != PEER_AWAKE || p->confirm_start)
			continue;
		seen++;
		if (n < k)
			pick[n++] = p;
		else if ((int)randombytes_uniform(seen) < k)
			pick[randombytes_uniform(k)] = p;
	}
	for (i = 0; i < n; i++)
		send_probe(sd, pick[i], NULL, now);
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

		if (!p->known || (p->state != PEER_ASLEEP &&
				  p->state != PEER_WAKING) ||
		    p->manager || p->confirm_start)
			continue;
		/*
		 * The ranks count from when it fell silent, or from when it
		 * lost its manager (released, manager asleep or silent): else
		 * every host would take over a long-time sleeper at once.
		 */
		since = p->asleep_since > p->unmanaged_since ?
			p->asleep_since : p->unmanaged_since;
		wait = (int64_t)rank_for(sd, p) * (sd->cfg.probe_timeout_ms + 300);
		if (now - since < wait)
			continue;
		if (may_take_over(sd, p, now)) {
			confirm(sd, p, true, now);
			continue;
		}
		/*
		 * Held as cut off: ARP-probe it every probe-interval, to see
		 * a live host (its daemon dead) again once the network heals
		 * (group_arp_seen()); its daemon's messages make it awake.
		 */
		if (p->cut_seen && !p->announced && now >= p->next_l2) {
			send_l2(sd, p);
			p->next_l2 = now + sd->cfg.probe_ms;
		}
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
		/* Unless it sleeps again, or has a manager again. */
		if (p->restore6_at && now >= p->restore6_at) {
			p->restore6_at = 0;
			if (!p->manager && p->state != PEER_ASLEEP)
				net_restore(sd, &p->info, AF_INET6);
		}
		wake_fallback(sd, p, now);
		if (p->state == PEER_WAKING &&
		    now - p->waking_since > sd->cfg.wake_timeout_ms) {
			p->state = PEER_ASLEEP;
			logp(LOG_WARN, "wake-failed", p, NULL, NULL,
			     "waited_ms", now - p->waking_since);
			kernel_sync_peer(sd, p, false);
		}
	}
}

/* Too few guardians (awake on recent evidence): wake one. */
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
		if (recent(sd, p, now)) {
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

	reap_children(sd, now);
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
	check_confirm(sd, now);
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
	randombytes_buf(&sd->boot, sizeof(sd->boot));
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
	ST(unverified); ST(malformed); ST(probes); ST(arp_probes);
	ST(takeovers); ST(releases); ST(duplicates); ST(live);
	ST(owner_alive); ST(held); ST(wakes); ST(wakes_limited);
	ST(fallbacks); ST(requests); ST(sleeps); ST(refusals); ST(addr_claims);
#undef ST
	json_object_object_add(st, "uptime_ms",
			       json_object_new_int64(now - sd->started));
	json_object_object_add(o, "stats", st);
	return o;
}
