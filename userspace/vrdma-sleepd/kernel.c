// SPDX-License-Identifier: GPL-2.0
/*
 * The vrdma module's side (Documentation/sleep.rst): this daemon owns its
 * namespace's sleep domain (SLEEP_CONFIG_SET owner: if the daemon dies,
 * the module keeps only its sleepers), mirrors its view of the group into it
 * (SLEEP_PEER_SET/DEL: who sleeps, who manages whom, the interception of
 * the sleepers it manages), reads the local RDMA activity
 * (SLEEP_ACTIVITY_GET) and receives the module's events on the "sleep"
 * multicast group: valid requests for its sleepers and connection set-ups
 * waiting for a sleeping host.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <linux/vrdma.h>

#include "sleepd.h"
#include "nl_mcast.h"

int kernel_open(struct sleepd *sd)
{
	struct nlmsghdr *nlh;
	int ret;

	ret = nl_open(&sd->nl, VRDMA_FAMILY_NAME, VRDMA_FAMILY_VERSION);
	if (!ret)
		ret = nl_open(&sd->nl_ev, VRDMA_FAMILY_NAME,
			      VRDMA_FAMILY_VERSION);
	if (!ret)
		ret = nl_mcast_join(&sd->nl_ev, VRDMA_FAMILY_NAME,
				    VRDMA_MCGRP_SLEEP);
	if (ret) {
		log_msg(LOG_ERR, "kernel", "vrdma family: %s%s",
			strerror(-ret),
			ret == -ENOENT ? " (is the vrdma module loaded?)" : "");
		return -1;
	}

	nlh = nl_msg(&sd->nl, VRDMA_CMD_SLEEP_CONFIG_SET, 0);
	mnl_attr_put(nlh, VRDMA_A_SLEEP_CONFIG_OWNER, 0, NULL);
	mnl_attr_put(nlh, VRDMA_A_SLEEP_CONFIG_FLUSH, 0, NULL);
	mnl_attr_put_strz(nlh, VRDMA_A_SLEEP_CONFIG_PHYS, sd->cfg.phys);
	mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS,
			 sd->cfg.event_interval_ms);
	if (sd->cfg.kernel_wake_timeout_ms >= 0)
		mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS,
				 sd->cfg.kernel_wake_timeout_ms);
	ret = nl_request(&sd->nl, nlh, NULL, NULL);
	if (ret) {
		log_msg(LOG_ERR, "kernel", "sleep config: %s%s%s",
			strerror(-ret), sd->nl.ext.msg[0] ? ": " : "",
			sd->nl.ext.msg);
		return -1;
	}
	return 0;
}

void kernel_close(struct sleepd *sd)
{
	struct nlmsghdr *nlh;

	if (sd->nl.sock) {
		nlh = nl_msg(&sd->nl, VRDMA_CMD_SLEEP_CONFIG_SET, 0);
		mnl_attr_put(nlh, VRDMA_A_SLEEP_CONFIG_FLUSH, 0, NULL);
		nl_request(&sd->nl, nlh, NULL, NULL);
	}
	nl_close(&sd->nl);
	nl_close(&sd->nl_ev);
}

static uint32_t kstate(enum peer_state s)
{
	switch (s) {
	case PEER_ASLEEP:
		return VRDMA_SLEEP_STATE_ASLEEP;
	case PEER_WAKING:
		return VRDMA_SLEEP_STATE_WAKING;
	default:
		return VRDMA_SLEEP_STATE_AWAKE;
	}
}

/* The other addresses of @p in the module: host and RNIC addresses. */
static int other_addrs(const struct peer *p, struct in6_addr *out)
{
	int n = 0, i, j;

	for (i = 0; i < p->info.n_addrs + p->info.n_rdma; i++) {
		const struct in6_addr *a = i < p->info.n_addrs ?
			&p->info.addrs[i] : &p->info.rdma[i - p->info.n_addrs];

		if (!memcmp(a, &p->info.addrs[0], sizeof(*a)))
			continue;
		for (j = 0; j < n && memcmp(&out[j], a, sizeof(*a)); j++)
			;
		if (j == n && n < VRDMA_SLEEP_ADDRS_MAX - 1)
			out[n++] = *a;
	}
	return n;
}

#define FNV1A_INIT	0xcbf29ce484222325ULL

/* FNV-1a over @len bytes: a change detector, not a defence. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;

	while (len--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Make the module's copy of @p match our view (nothing when unchanged);
 * @announce: gratuitous ARP/NA for it now (we just took it over).
 */
void kernel_sync_peer(struct sleepd *sd, struct peer *p, bool announce)
{
	struct in6_addr others[VRDMA_SLEEP_ADDRS_MAX];
	bool managed = p->manager == sd->self.id;
	const struct in6_addr *manager = NULL;
	struct nlattr *nest;
	struct nlmsghdr *nlh;
	uint32_t ks = kstate(p->state);
	int n, i, ret;
	uint64_t h;

	if (!p->known || !p->info.n_addrs)
		return;
	if (managed) {
		manager = &sd->self.addrs[0];
	} else if (p->manager) {
		for (i = 0; i < sd->n_peers; i++)
			if (sd->peers[i]->info.id == p->manager &&
			    sd->peers[i]->info.n_addrs)
				manager = &sd->peers[i]->info.addrs[0];
	}
	n = other_addrs(p, others);
	/* Everything the module is told, so that any change is re-sent. */
	h = fnv1a(FNV1A_INIT, others, n * sizeof(others[0]));
	h = fnv1a(h, p->info.ports, p->info.n_ports * sizeof(p->info.ports[0]));
	h = fnv1a(h, p->info.mac, sizeof(p->info.mac));
	if (manager)
		h = fnv1a(h, manager, sizeof(*manager));
	/*
	 * With the state, management and name: no formatted string (this
	 * runs for every peer once a second and at every HELLO).
	 */
	h = fnv1a(h, &ks, sizeof(ks));
	h = fnv1a(h, &managed, sizeof(managed));
	h = fnv1a(h, &n, sizeof(n));
	h = fnv1a(h, &p->info.n_ports, sizeof(p->info.n_ports));
	h = fnv1a(h, p->info.name, strlen(p->info.name));
	if (!announce && p->in_kernel && h == p->ksig &&
	    !memcmp(&p->kaddr, &p->info.addrs[0], sizeof(p->kaddr)))
		return;
	if (p->in_kernel && memcmp(&p->kaddr, &p->info.addrs[0],
				   sizeof(p->kaddr)))
		kernel_forget_peer(sd, p);

	nlh = nl_msg(&sd->nl, VRDMA_CMD_SLEEP_PEER_SET, 0);
	mnl_attr_put(nlh, VRDMA_A_SLEEP_ADDR, 16, &p->info.addrs[0]);
	mnl_attr_put_strz(nlh, VRDMA_A_SLEEP_NAME, p->info.name);
	mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_STATE, ks);
	/* Its own MAC: the module recognises the owner speaking. */
	mnl_attr_put(nlh, VRDMA_A_SLEEP_LLADDR, 6, p->info.mac);
	if (manager)
		mnl_attr_put(nlh, VRDMA_A_SLEEP_MANAGER, 16, manager);
	if (n) {
		nest = mnl_attr_nest_start(nlh, VRDMA_A_SLEEP_ADDRS);
		for (i = 0; i < n; i++)
			mnl_attr_put(nlh, VRDMA_A_SLEEP_LIST_ADDR, 16,
				     &others[i]);
		mnl_attr_nest_end(nlh, nest);
	}
	if (managed) {
		mnl_attr_put(nlh, VRDMA_A_SLEEP_MANAGED, 0, NULL);
		mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_IFINDEX, sd->ifindex);
		if (p->info.n_ports) {
			nest = mnl_attr_nest_start(nlh, VRDMA_A_SLEEP_PORTS);
			for (i = 0; i < p->info.n_ports; i++)
				mnl_attr_put_u16(nlh, VRDMA_A_SLEEP_LIST_PORT,
						 p->info.ports[i]);
			mnl_attr_nest_end(nlh, nest);
		}
		if (announce)
			mnl_attr_put(nlh, VRDMA_A_SLEEP_ANNOUNCE, 0, NULL);
	}
	ret = nl_request(&sd->nl, nlh, NULL, NULL);
	if (ret) {
		struct json_object *r = log_start(LOG_WARN, "kernel-peer");

		if (r) {
			jadd_str(r, "peer", p->info.name);
			jadd_str(r, "error", strerror(-ret));
			jadd_str(r, "message", sd->nl.ext.msg);
			log_end(r);
		}
		p->in_kernel = false;
		return;
	}
	p->ksig = h;
	p->kaddr = p->info.addrs[0];
	p->in_kernel = true;
}

void kernel_forget_peer(struct sleepd *sd, struct peer *p)
{
	struct nlmsghdr *nlh;

	if (!p->in_kernel)
		return;
	nlh = nl_msg(&sd->nl, VRDMA_CMD_SLEEP_PEER_DEL, 0);
	mnl_attr_put(nlh, VRDMA_A_SLEEP_ADDR, 16, &p->kaddr);
	nl_request(&sd->nl, nlh, NULL, NULL);
	p->in_kernel = false;
	p->ksig = 0;
}

struct activity {
	uint32_t active_devs, active_qps, repl_groups;
	bool ok;
};

static int activity_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct nl_policy pol[VRDMA_A_SLEEP_ACTIVITY_MAX + 1] = {
		[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_DEVS]	= { MNL_TYPE_U32 },
		[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_QPS]	= { MNL_TYPE_U32 },
		[VRDMA_A_SLEEP_ACTIVITY_REPL_GROUPS]	= { MNL_TYPE_U32 },
	};
	const struct nlattr *tb[VRDMA_A_SLEEP_ACTIVITY_MAX + 1];
	struct activity *a = data;

	if (nl_parse(nlh, pol, VRDMA_A_SLEEP_ACTIVITY_MAX, tb))
		return MNL_CB_ERROR;
	if (tb[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_DEVS])
		a->active_devs = mnl_attr_get_u32(tb[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_DEVS]);
	if (tb[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_QPS])
		a->active_qps = mnl_attr_get_u32(tb[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_QPS]);
	if (tb[VRDMA_A_SLEEP_ACTIVITY_REPL_GROUPS])
		a->repl_groups = mnl_attr_get_u32(tb[VRDMA_A_SLEEP_ACTIVITY_REPL_GROUPS]);
	a->ok = true;
	return MNL_CB_OK;
}

bool kernel_busy(struct sleepd *sd, const char **why)
{
	struct activity a = { 0 };
	struct nlmsghdr *nlh;

	nlh = nl_msg(&sd->nl, VRDMA_CMD_SLEEP_ACTIVITY_GET, 0);
	mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS,
			 sd->cfg.activity_window_ms);
	if (nl_request(&sd->nl, nlh, activity_cb, &a) || !a.ok) {
		*why = "cannot read the RDMA activity";
		return true;
	}
	if (a.active_devs) {
		*why = "RDMA traffic in the activity window";
		return true;
	}
	if (a.repl_groups) {
		*why = "member of a replication group";
		return true;
	}
	return false;
}

struct event_ctx {
	struct sleepd *sd;
	int64_t now;
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct nl_policy pol[VRDMA_A_SLEEP_EVENT_MAX + 1] = {
		[VRDMA_A_SLEEP_EVENT_TYPE]	= { MNL_TYPE_U32 },
		[VRDMA_A_SLEEP_EVENT_ADDR]	= { MNL_TYPE_BINARY, 16 },
		[VRDMA_A_SLEEP_EVENT_REQUEST]	= { MNL_TYPE_U32 },
		[VRDMA_A_SLEEP_EVENT_SRC]	= { MNL_TYPE_BINARY, 16 },
		[VRDMA_A_SLEEP_EVENT_DPORT]	= { MNL_TYPE_U32 },
		[VRDMA_A_SLEEP_EVENT_OVERLAY]	= { MNL_TYPE_BINARY, 16 },
	};
	const struct nlattr *tb[VRDMA_A_SLEEP_EVENT_MAX + 1];
	struct event_ctx *ctx = data;
	struct sleepd *sd = ctx->sd;
	const struct in6_addr *addr;
	struct json_object *r;
	char reason[64];
	uint32_t type;
	struct peer *p;

	if (nl_cmd(nlh) != VRDMA_CMD_SLEEP_EVENT ||
	    nl_parse(nlh, pol, VRDMA_A_SLEEP_EVENT_MAX, tb) ||
	    !tb[VRDMA_A_SLEEP_EVENT_TYPE] || !tb[VRDMA_A_SLEEP_EVENT_ADDR])
		return MNL_CB_OK;
	type = mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_TYPE]);
	addr = mnl_attr_get_payload(tb[VRDMA_A_SLEEP_EVENT_ADDR]);
	p = group_find_addr(sd, addr);

	if (type == VRDMA_SLEEP_EVENT_OWNER_ALIVE) {
		/* The module saw the owner of a sleeper we manage speak. */
		if (p)
			group_owner_alive(sd, p, "module", ctx->now);
		return MNL_CB_OK;
	}
	r = log_start(LOG_INFO, type == VRDMA_SLEEP_EVENT_REQUEST ?
		      "request" : "wake-needed");
	if (r) {
		jadd_str(r, "peer", p ? p->info.name : "?");
		jadd_addr(r, "addr", addr);
		if (tb[VRDMA_A_SLEEP_EVENT_SRC])
			jadd_addr(r, "src",
				  mnl_attr_get_payload(tb[VRDMA_A_SLEEP_EVENT_SRC]));
		if (tb[VRDMA_A_SLEEP_EVENT_DPORT])
			jadd_int(r, "dport",
				 mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_DPORT]));
		if (tb[VRDMA_A_SLEEP_EVENT_REQUEST])
			jadd_str(r, "kind",
				 mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_REQUEST]) ==
				 VRDMA_SLEEP_REQUEST_TCP_SYN ? "tcp-syn" : "rdma-cm");
		if (tb[VRDMA_A_SLEEP_EVENT_OVERLAY])
			jadd_addr(r, "overlay",
				  mnl_attr_get_payload(tb[VRDMA_A_SLEEP_EVENT_OVERLAY]));
		log_end(r);
	}
	if (!p)
		return MNL_CB_OK;
	if (type == VRDMA_SLEEP_EVENT_REQUEST) {
		sd->st.requests++;
		if (p->manager != sd->self.id)
			return MNL_CB_OK;
		snprintf(reason, sizeof(reason), "%s",
			 tb[VRDMA_A_SLEEP_EVENT_REQUEST] &&
			 mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_REQUEST]) ==
			 VRDMA_SLEEP_REQUEST_RDMA_CM ? "rdma-cm" : "tcp-syn");
		group_wake(sd, p, reason, ctx->now);
	} else if (type == VRDMA_SLEEP_EVENT_WAKE_NEEDED) {
		if (p->state == PEER_AWAKE)
			kernel_sync_peer(sd, p, false);	/* the module lags */
		else
			group_wake(sd, p, "rdma-connect", ctx->now);
	}
	return MNL_CB_OK;
}

void kernel_events(struct sleepd *sd, int64_t now)
{
	struct event_ctx ctx = { .sd = sd, .now = now };
	ssize_t n;

	for (;;) {
		n = recv(mnl_socket_get_fd(sd->nl_ev.sock), sd->nl_ev.rbuf,
			 32768, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS)
				log_msg(LOG_WARN, "kernel",
					"events lost (socket buffer full)");
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return;
		}
		mnl_cb_run(sd->nl_ev.rbuf, n, 0, 0, event_cb, &ctx);
	}
}
