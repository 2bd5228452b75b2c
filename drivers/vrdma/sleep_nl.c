// SPDX-License-Identifier: GPL-2.0
/*
 * Sleep management: the SLEEP_* operations of the vrdma family and the
 * SLEEP_EVENT notifications of its "sleep" multicast group
 * (Documentation/netlink/specs/vrdma.yaml, Documentation/sleep.rst).
 *
 * The generated policies (netlink.h; strict validation: unknown attributes
 * and attributes of other operations are rejected by the core) and
 * GENL_ADMIN_PERM guard them.  They work in any network namespace, on that
 * namespace's domain.  The handlers parse a request into a struct (a peer,
 * a configuration) and check what a policy cannot: required attributes,
 * unicast addresses, list items of the right kind, list lengths, duplicate
 * addresses, the interception's interface; every error comes with an
 * extack message.  sleep.c then applies it.
 *
 *  SLEEP_ACTIVITY_GET  the activity of this host's virtual devices (those
 *                      on the domain's physical device, or on "phys")
 *                      and its replication members (the core's
 *                      vrdma_activity_get(), hooks.h).
 *  SLEEP_PEER_SET      add or change a peer: its state, manager, and,
 *                      when "managed", the interception of its addresses
 *                      on "ifindex" with its listening "ports"; "announce"
 *                      sends gratuitous ARP/NA for it now.
 *  SLEEP_PEER_DEL      forget a peer.
 *  SLEEP_PEER_GET      one peer (do) or all (dump), with counters.
 *  SLEEP_CONFIG_SET    set what is given (wake timeout, event interval,
 *                      physical device, owner, flush) and reply with the
 *                      whole configuration.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/netlink.h>

#include "audit.h"
#include "map.h"
#include "netlink.h"
#include "sleep.h"

static_assert(sizeof(union ib_gid) == sizeof(struct in6_addr));

/* ------------------------------------------------------------------ */
/* Events                                                               */

/**
 * vrdma_sleep_has_listeners() - does a sleep daemon listen in @net?
 * @net: the namespace
 *
 * Return: true if a socket of @net joined the "sleep" multicast group.
 */
bool vrdma_sleep_has_listeners(struct net *net)
{
	return genl_has_listeners(&vrdma_nl_family, net, VRDMA_NLGRP_SLEEP);
}

#define VRDMA_SLEEP_EVENT_SIZE					\
	(nla_total_size(sizeof(u32)) * 6 +			\
	 nla_total_size(sizeof(struct in6_addr)) * 3 +		\
	 nla_total_size(VRDMA_NAME_LEN))

static struct sk_buff *vrdma_sleep_event_new(u32 type, gfp_t gfp, void **hdr)
{
	struct sk_buff *skb;

	skb = genlmsg_new(VRDMA_SLEEP_EVENT_SIZE, gfp);
	if (!skb)
		return NULL;
	*hdr = vrdma_nl_put_hdr(skb, 0, 0, 0, VRDMA_CMD_SLEEP_EVENT);
	if (!*hdr || nla_put_u32(skb, VRDMA_A_SLEEP_EVENT_TYPE, type)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void vrdma_sleep_event_send(struct net *net, struct sk_buff *skb,
				   void *hdr, gfp_t gfp)
{
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&vrdma_nl_family, net, skb, 0,
				VRDMA_NLGRP_SLEEP, gfp);
}

/**
 * vrdma_sleep_event_request() - report a valid request for a sleeper
 * @dom: the domain that manages it
 * @peer: the sleeper
 * @daddr: the address the request went to
 * @saddr: the requester's address
 * @sport: its port
 * @dport: the port it asked for
 * @kind: enum vrdma_sleep_request
 * @ifindex: interface it came in on, 0 for this host's own
 *
 * Context: any (netfilter hooks: softirq, RCU).
 */
void vrdma_sleep_event_request(struct vrdma_sleep_domain *dom,
			       struct vrdma_sleep_peer *peer,
			       const struct in6_addr *daddr,
			       const struct in6_addr *saddr, u16 sport,
			       u16 dport, u32 kind, int ifindex)
{
	struct sk_buff *skb;
	void *hdr;

	if (!vrdma_sleep_has_listeners(dom->net))
		return;
	skb = vrdma_sleep_event_new(VRDMA_SLEEP_EVENT_REQUEST, GFP_ATOMIC,
				    &hdr);
	if (!skb)
		return;
	if (nla_put(skb, VRDMA_A_SLEEP_EVENT_ADDR, sizeof(peer->addr),
		    &peer->addr) ||
	    nla_put_u32(skb, VRDMA_A_SLEEP_EVENT_REQUEST, kind) ||
	    nla_put(skb, VRDMA_A_SLEEP_EVENT_SRC, sizeof(*saddr), saddr) ||
	    nla_put_u32(skb, VRDMA_A_SLEEP_EVENT_SPORT, sport) ||
	    nla_put_u32(skb, VRDMA_A_SLEEP_EVENT_DPORT, dport) ||
	    (!ipv6_addr_equal(daddr, &peer->addr) &&
	     nla_put(skb, VRDMA_A_SLEEP_EVENT_OVERLAY, sizeof(*daddr),
		     daddr)) ||
	    (ifindex && nla_put_u32(skb, VRDMA_A_SLEEP_EVENT_IFINDEX,
				    ifindex))) {
		nlmsg_free(skb);
		return;
	}
	vrdma_sleep_event_send(dom->net, skb, hdr, GFP_ATOMIC);
}

/**
 * vrdma_sleep_event_owner() - the owner of a managed sleeper spoke
 * @dom: the domain that manages it
 * @peer: the sleeper
 * @saddr: the address it spoke from (one of the sleeper's)
 * @ifindex: interface it came in on
 *
 * Context: any (netfilter hooks: softirq, RCU).
 */
void vrdma_sleep_event_owner(struct vrdma_sleep_domain *dom,
			     struct vrdma_sleep_peer *peer,
			     const struct in6_addr *saddr, int ifindex)
{
	struct sk_buff *skb;
	void *hdr;

	if (!vrdma_sleep_has_listeners(dom->net))
		return;
	skb = vrdma_sleep_event_new(VRDMA_SLEEP_EVENT_OWNER_ALIVE, GFP_ATOMIC,
				    &hdr);
	if (!skb)
		return;
	if (nla_put(skb, VRDMA_A_SLEEP_EVENT_ADDR, sizeof(peer->addr),
		    &peer->addr) ||
	    nla_put(skb, VRDMA_A_SLEEP_EVENT_SRC, sizeof(*saddr), saddr) ||
	    nla_put_u32(skb, VRDMA_A_SLEEP_EVENT_IFINDEX, ifindex)) {
		nlmsg_free(skb);
		return;
	}
	vrdma_sleep_event_send(dom->net, skb, hdr, GFP_ATOMIC);
}

/**
 * vrdma_sleep_event_wake_needed() - a connection set-up waits for a host
 * @net: the namespace of the domain that decides
 * @host: the host's address
 * @dgid: the overlay address the application connects to
 * @vni: its virtual network
 * @phys: the physical device of the virtual device
 *
 * Context: process context.
 * Return: 0, or -ENOMEM.
 */
int vrdma_sleep_event_wake_needed(struct net *net,
				  const struct in6_addr *host,
				  const union ib_gid *dgid, u32 vni,
				  const char *phys)
{
	struct sk_buff *skb;
	void *hdr;

	skb = vrdma_sleep_event_new(VRDMA_SLEEP_EVENT_WAKE_NEEDED, GFP_KERNEL,
				    &hdr);
	if (!skb)
		return -ENOMEM;
	if (nla_put(skb, VRDMA_A_SLEEP_EVENT_ADDR, sizeof(*host), host) ||
	    nla_put(skb, VRDMA_A_SLEEP_EVENT_OVERLAY, sizeof(*dgid), dgid) ||
	    nla_put_u32(skb, VRDMA_A_SLEEP_EVENT_VNI, vni) ||
	    nla_put_string(skb, VRDMA_A_SLEEP_EVENT_PHYS, phys)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	vrdma_sleep_event_send(net, skb, hdr, GFP_KERNEL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* SLEEP_ACTIVITY_GET                                                   */

#define VRDMA_SLEEP_ACTIVITY_SIZE				\
	(nla_total_size(sizeof(u32)) * 5 +			\
	 nla_total_size_64bit(sizeof(u64)) +			\
	 nla_total_size(VRDMA_NAME_LEN))

static int vrdma_nl_sleep_activity_put(struct sk_buff *msg, u32 window_ms,
				       const char *phys,
				       const struct vrdma_activity *act)
{
	if (nla_put_u32(msg, VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS, window_ms) ||
	    (phys[0] &&
	     nla_put_string(msg, VRDMA_A_SLEEP_ACTIVITY_PHYS, phys)) ||
	    nla_put_u32(msg, VRDMA_A_SLEEP_ACTIVITY_DEVS, act->devs) ||
	    nla_put_u32(msg, VRDMA_A_SLEEP_ACTIVITY_ACTIVE_DEVS,
			act->active_devs) ||
	    nla_put_u32(msg, VRDMA_A_SLEEP_ACTIVITY_ACTIVE_QPS,
			act->active_qps) ||
	    (act->has_idle &&
	     nla_put_u64_64bit(msg, VRDMA_A_SLEEP_ACTIVITY_IDLE_MS, act->idle,
			       VRDMA_A_SLEEP_ACTIVITY_PAD)) ||
	    nla_put_u32(msg, VRDMA_A_SLEEP_ACTIVITY_REPL_GROUPS, act->holds))
		return -EMSGSIZE;
	return 0;
}

int vrdma_nl_sleep_activity_get_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct nlattr *phys_attr = info->attrs[VRDMA_A_SLEEP_ACTIVITY_PHYS];
	struct nlattr *win = info->attrs[VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS];
	u32 window_ms = win ? nla_get_u32(win) : 60000;
	struct vrdma_activity act;
	char phys[VRDMA_NAME_LEN] = "";
	struct sk_buff *msg;
	void *hdr;

	if (phys_attr)
		nla_strscpy(phys, phys_attr, sizeof(phys));
	else
		vrdma_sleep_domain_phys(genl_info_net(info), phys);
	vrdma_activity_get(phys, window_ms, &act);

	msg = genlmsg_new(VRDMA_SLEEP_ACTIVITY_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return -ENOMEM;
	}
	hdr = vrdma_nl_put_reply_hdr(msg, info, VRDMA_CMD_SLEEP_ACTIVITY_GET);
	if (!hdr || vrdma_nl_sleep_activity_put(msg, window_ms, phys, &act)) {
		nlmsg_free(msg);
		NL_SET_ERR_MSG(info->extack, "reply message too small");
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* ------------------------------------------------------------------ */
/* SLEEP_PEER_*                                                         */

/* Copy an address attribute and check that it is a unicast address. */
static int vrdma_nl_sleep_addr(const struct nlattr *attr,
			       struct in6_addr *addr,
			       struct netlink_ext_ack *extack)
{
	nla_memcpy(addr, attr, sizeof(*addr));
	if (vrdma_map_addr_check((const union ib_gid *)addr, false) !=
	    VRDMA_MAP_ADDR_OK) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "not a unicast address (IPv6 or ::ffff:a.b.c.d)");
		return -EINVAL;
	}
	return 0;
}

/* The key address of a request (required). */
static int vrdma_nl_sleep_key(struct genl_info *info, struct in6_addr *addr)
{
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_SLEEP_ADDR))
		return -EINVAL;
	return vrdma_nl_sleep_addr(info->attrs[VRDMA_A_SLEEP_ADDR], addr,
				   info->extack);
}

/* An item of a list nest (addrs: addr items, ports: port items). */
static int vrdma_nl_sleep_bad_item(const struct nlattr *item,
				   struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG_ATTR(extack, item, "an item of the wrong kind in the list");
	return -EINVAL;
}

static int vrdma_sleep_cmp_port(const void *a, const void *b)
{
	return *(const u16 *)a - *(const u16 *)b;
}

/* The listening ports: count them (@peer NULL), or fill, sort, dedup. */
static_assert(VRDMA_SLEEP_PORTS_MAX == 1024 && VRDMA_SLEEP_ADDRS_MAX == 8);

static int vrdma_nl_sleep_ports(struct genl_info *info,
				struct vrdma_sleep_peer *peer,
				unsigned int *count)
{
	const struct nlattr *list = info->attrs[VRDMA_A_SLEEP_PORTS], *a;
	unsigned int n = 0, i, j;
	int rem;

	*count = 0;
	if (!list)
		return 0;
	nla_for_each_nested(a, list, rem) {
		if (nla_type(a) != VRDMA_A_SLEEP_LIST_PORT)
			return vrdma_nl_sleep_bad_item(a, info->extack);
		if (n == VRDMA_SLEEP_PORTS_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "too many ports (at most 1024)");
			return -E2BIG;
		}
		if (peer)
			peer->ports[n] = nla_get_u16(a);
		n++;
	}
	if (peer && n) {
		sort(peer->ports, n, sizeof(u16), vrdma_sleep_cmp_port, NULL);
		for (i = 1, j = 1; i < n; i++)
			if (peer->ports[i] != peer->ports[j - 1])
				peer->ports[j++] = peer->ports[i];
		n = j;
	}
	*count = n;
	return 0;
}

/* The addresses: the key first, then the list, without duplicates. */
static int vrdma_nl_sleep_addrs(struct genl_info *info,
				struct vrdma_sleep_peer *peer)
{
	const struct nlattr *list = info->attrs[VRDMA_A_SLEEP_ADDRS], *a;
	struct in6_addr addr;
	unsigned int i;
	int rem, ret;

	peer->addrs[0].addr = peer->addr;
	peer->n_addrs = 1;
	if (!list)
		return 0;
	nla_for_each_nested(a, list, rem) {
		if (nla_type(a) != VRDMA_A_SLEEP_LIST_ADDR)
			return vrdma_nl_sleep_bad_item(a, info->extack);
		ret = vrdma_nl_sleep_addr(a, &addr, info->extack);
		if (ret)
			return ret;
		for (i = 0; i < peer->n_addrs; i++)
			if (ipv6_addr_equal(&peer->addrs[i].addr, &addr))
				break;
		if (i < peer->n_addrs)
			continue;
		if (peer->n_addrs == VRDMA_SLEEP_ADDRS_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "too many addresses (at most 8)");
			return -E2BIG;
		}
		peer->addrs[peer->n_addrs++].addr = addr;
	}
	return 0;
}

/* The interception's interface must exist in the namespace and be
 * Ethernet.
 */
static int vrdma_nl_sleep_ifindex(struct genl_info *info, int ifindex)
{
	struct nlattr *attr = info->attrs[VRDMA_A_SLEEP_IFINDEX];
	struct net_device *dev;
	int ret = 0;

	dev = dev_get_by_index(genl_info_net(info), ifindex);
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no such interface in this network namespace");
		return -ENODEV;
	}
	if (dev->type != ARPHRD_ETHER || dev->addr_len != ETH_ALEN) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "the interception needs an Ethernet interface");
		ret = -EOPNOTSUPP;
	}
	dev_put(dev);
	return ret;
}

/* Free a peer that vrdma_nl_sleep_peer_parse() made. */
static void vrdma_nl_sleep_peer_free(struct vrdma_sleep_peer *peer)
{
	kfree(peer);
	vrdma_audit_destroyed(VRDMA_AUDIT_SLEEP_PEER);
}

/* SLEEP_PEER_SET's attributes: a new peer, not linked anywhere. */
static struct vrdma_sleep_peer *
vrdma_nl_sleep_peer_parse(struct genl_info *info, bool *announce)
{
	struct nlattr **tb = info->attrs;
	struct vrdma_sleep_peer *peer;
	unsigned int n_ports;
	int ifindex = 0;
	bool managed;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_SLEEP_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_SLEEP_STATE))
		return ERR_PTR(-EINVAL);
	managed = nla_get_flag(tb[VRDMA_A_SLEEP_MANAGED]);
	*announce = nla_get_flag(tb[VRDMA_A_SLEEP_ANNOUNCE]);
	if (managed) {
		if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_SLEEP_IFINDEX))
			return ERR_PTR(-EINVAL);
		ifindex = nla_get_u32(tb[VRDMA_A_SLEEP_IFINDEX]);
		ret = vrdma_nl_sleep_ifindex(info, ifindex);
		if (ret)
			return ERR_PTR(ret);
	} else if (tb[VRDMA_A_SLEEP_IFINDEX] || tb[VRDMA_A_SLEEP_PORTS] ||
		   *announce) {
		NL_SET_ERR_MSG(info->extack,
			       "ifindex, ports and announce are for a managed peer only");
		return ERR_PTR(-EINVAL);
	}
	ret = vrdma_nl_sleep_ports(info, NULL, &n_ports);
	if (ret)
		return ERR_PTR(ret);

	peer = kzalloc(struct_size(peer, ports, n_ports), GFP_KERNEL);
	if (!peer) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return ERR_PTR(-ENOMEM);
	}
	vrdma_audit_created(VRDMA_AUDIT_SLEEP_PEER);
	peer->n_ports = n_ports;
	ret = vrdma_nl_sleep_ports(info, peer, &peer->n_ports) ?:
	      vrdma_nl_sleep_key(info, &peer->addr) ?:
	      vrdma_nl_sleep_addrs(info, peer);
	if (!ret && tb[VRDMA_A_SLEEP_MANAGER])
		ret = vrdma_nl_sleep_addr(tb[VRDMA_A_SLEEP_MANAGER],
					  &peer->manager, info->extack);
	if (ret) {
		vrdma_nl_sleep_peer_free(peer);
		return ERR_PTR(ret);
	}
	peer->has_manager = !!tb[VRDMA_A_SLEEP_MANAGER];
	if (tb[VRDMA_A_SLEEP_LLADDR]) {
		nla_memcpy(peer->lladdr, tb[VRDMA_A_SLEEP_LLADDR], ETH_ALEN);
		peer->has_lladdr = true;
	}
	if (tb[VRDMA_A_SLEEP_NAME])
		nla_strscpy(peer->name, tb[VRDMA_A_SLEEP_NAME],
			    sizeof(peer->name));
	peer->state = nla_get_u32(tb[VRDMA_A_SLEEP_STATE]);
	peer->managed = managed;
	peer->ifindex = ifindex;
	return peer;
}

int vrdma_nl_sleep_peer_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vrdma_sleep_peer *peer;
	bool announce;

	peer = vrdma_nl_sleep_peer_parse(info, &announce);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	return vrdma_sleep_peer_set(genl_info_net(info), peer, announce,
				    info->extack);
}

int vrdma_nl_sleep_peer_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct in6_addr addr;
	int ret;

	ret = vrdma_nl_sleep_key(info, &addr);
	if (ret)
		return ret;
	ret = vrdma_sleep_peer_del(genl_info_net(info), &addr);
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_SLEEP_ADDR],
				    "no such peer in this network namespace");
	return ret;
}

static size_t vrdma_nl_sleep_peer_size(const struct vrdma_sleep_peer *peer)
{
	return nla_total_size(sizeof(struct in6_addr)) * 2 +
	       nla_total_size(VRDMA_NAME_LEN) +
	       nla_total_size(sizeof(u32)) * 2 + nla_total_size(0) +
	       nla_total_size(0) +
	       peer->n_addrs * nla_total_size(sizeof(struct in6_addr)) +
	       nla_total_size(0) +
	       peer->n_ports * nla_total_size(sizeof(u16)) +
	       nla_total_size(0) + 6 * nla_total_size_64bit(sizeof(u64));
}

static int vrdma_nl_sleep_put_stats(struct sk_buff *skb,
				    const struct vrdma_sleep_stats *st)
{
	const struct {
		int type;
		const atomic64_t *val;
	} c[] = {
		{ VRDMA_A_SLEEP_STATS_VALID, &st->valid },
		{ VRDMA_A_SLEEP_STATS_IGNORED, &st->ignored },
		{ VRDMA_A_SLEEP_STATS_EVENTS, &st->events },
		{ VRDMA_A_SLEEP_STATS_ARP_REPLIES, &st->arp_replies },
		{ VRDMA_A_SLEEP_STATS_WAITS, &st->waits },
		{ VRDMA_A_SLEEP_STATS_WAIT_TIMEOUTS, &st->wait_timeouts },
	};
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, VRDMA_A_SLEEP_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(c); i++)
		if (nla_put_u64_64bit(skb, c[i].type, atomic64_read(c[i].val),
				      VRDMA_A_SLEEP_STATS_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* The peer's attributes, after the message header. */
static int vrdma_nl_sleep_put_peer(struct sk_buff *skb,
				   const struct vrdma_sleep_peer *peer)
{
	struct nlattr *nest;
	unsigned int i;

	if (nla_put(skb, VRDMA_A_SLEEP_ADDR, sizeof(peer->addr), &peer->addr) ||
	    (peer->name[0] &&
	     nla_put_string(skb, VRDMA_A_SLEEP_NAME, peer->name)) ||
	    nla_put_u32(skb, VRDMA_A_SLEEP_STATE, READ_ONCE(peer->state)) ||
	    (peer->has_manager &&
	     nla_put(skb, VRDMA_A_SLEEP_MANAGER, sizeof(peer->manager),
		     &peer->manager)) ||
	    (peer->managed &&
	     (nla_put_flag(skb, VRDMA_A_SLEEP_MANAGED) ||
	      nla_put_u32(skb, VRDMA_A_SLEEP_IFINDEX, peer->ifindex))))
		return -EMSGSIZE;

	if (peer->n_addrs > 1) {
		nest = nla_nest_start(skb, VRDMA_A_SLEEP_ADDRS);
		if (!nest)
			return -EMSGSIZE;
		for (i = 1; i < peer->n_addrs; i++)
			if (nla_put(skb, VRDMA_A_SLEEP_LIST_ADDR,
				    sizeof(struct in6_addr),
				    &peer->addrs[i].addr))
				return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	if (peer->n_ports) {
		nest = nla_nest_start(skb, VRDMA_A_SLEEP_PORTS);
		if (!nest)
			return -EMSGSIZE;
		for (i = 0; i < peer->n_ports; i++)
			if (nla_put_u16(skb, VRDMA_A_SLEEP_LIST_PORT,
					peer->ports[i]))
				return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return vrdma_nl_sleep_put_stats(skb, &peer->stats);
}

int vrdma_nl_sleep_peer_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vrdma_sleep_peer *peer = NULL;
	struct vrdma_sleep_domain *dom;
	struct sk_buff *msg = NULL;
	struct in6_addr addr;
	void *hdr;
	int ret;

	ret = vrdma_nl_sleep_key(info, &addr);
	if (ret)
		return ret;

	mutex_lock(&vrdma_sleep_lock);
	dom = vrdma_sleep_domain_get(genl_info_net(info), false);
	if (dom)
		peer = vrdma_sleep_peer_find(dom, &addr);
	if (!peer) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_SLEEP_ADDR],
				    "no such peer in this network namespace");
		ret = -ENOENT;
		goto out;
	}
	msg = genlmsg_new(vrdma_nl_sleep_peer_size(peer), GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	hdr = vrdma_nl_put_reply_hdr(msg, info, VRDMA_CMD_SLEEP_PEER_GET);
	if (!hdr || vrdma_nl_sleep_put_peer(msg, peer)) {
		nlmsg_free(msg);
		msg = NULL;
		NL_SET_ERR_MSG(info->extack, "reply message too small");
		ret = -EMSGSIZE;
		goto out;
	}
	genlmsg_end(msg, hdr);
out:
	mutex_unlock(&vrdma_sleep_lock);
	if (!msg)
		return ret;
	return genlmsg_reply(msg, info);
}

/*
 * cb->args[0]: hash bucket, cb->args[1]: peers of that bucket already
 * dumped.  Peers that come and go between the parts of a dump may be
 * missed or repeated.
 */
int vrdma_nl_sleep_peer_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct vrdma_sleep_domain *dom;
	struct vrdma_sleep_peer *peer;
	unsigned long bkt = cb->args[0], skip;
	int ret = 0;
	void *hdr;

	mutex_lock(&vrdma_sleep_lock);
	dom = vrdma_sleep_domain_get(sock_net(cb->skb->sk), false);
	if (!dom)
		goto out;
	for (; bkt < HASH_SIZE(dom->peers); bkt++, cb->args[1] = 0) {
		skip = 0;
		hlist_for_each_entry(peer, &dom->peers[bkt], node) {
			if (skip++ < cb->args[1])
				continue;
			hdr = vrdma_nl_dump_hdr(skb, cb,
						VRDMA_CMD_SLEEP_PEER_GET);
			if (!hdr || vrdma_nl_sleep_put_peer(skb, peer)) {
				if (hdr)
					genlmsg_cancel(skb, hdr);
				if (!skb->len) {
					NL_SET_ERR_MSG(cb->extack,
						       "dump message too small");
					ret = -EMSGSIZE;
				}
				goto out;
			}
			genlmsg_end(skb, hdr);
			cb->args[1]++;
		}
	}
out:
	cb->args[0] = bkt;
	mutex_unlock(&vrdma_sleep_lock);
	return ret ? ret : skb->len;
}

/* ------------------------------------------------------------------ */
/* SLEEP_CONFIG_SET                                                     */

#define VRDMA_SLEEP_CONFIG_SIZE					\
	(nla_total_size(sizeof(u32)) * 5 + nla_total_size(0) +	\
	 nla_total_size(VRDMA_NAME_LEN))

/* SLEEP_CONFIG_SET's attributes: what to change. */
static void vrdma_nl_sleep_config_parse(struct genl_info *info,
					struct vrdma_sleep_config *cfg)
{
	struct nlattr **tb = info->attrs;

	*cfg = (struct vrdma_sleep_config) {
		.has_wake_timeout = !!tb[VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS],
		.has_event_interval =
			!!tb[VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS],
		.has_phys = !!tb[VRDMA_A_SLEEP_CONFIG_PHYS],
		.owner = tb[VRDMA_A_SLEEP_CONFIG_OWNER] ? info->snd_portid : 0,
		.flush = nla_get_flag(tb[VRDMA_A_SLEEP_CONFIG_FLUSH]),
	};
	if (cfg->has_wake_timeout)
		cfg->wake_timeout_ms =
			nla_get_u32(tb[VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS]);
	if (cfg->has_event_interval)
		cfg->event_interval_ms =
			nla_get_u32(tb[VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS]);
	if (cfg->has_phys)
		nla_strscpy(cfg->phys, tb[VRDMA_A_SLEEP_CONFIG_PHYS],
			    sizeof(cfg->phys));
}

static int vrdma_nl_sleep_config_put(struct sk_buff *msg,
				     const struct vrdma_sleep_config *cfg)
{
	if (nla_put_u32(msg, VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS,
			cfg->wake_timeout_ms) ||
	    nla_put_u32(msg, VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS,
			cfg->event_interval_ms) ||
	    (cfg->phys[0] &&
	     nla_put_string(msg, VRDMA_A_SLEEP_CONFIG_PHYS, cfg->phys)) ||
	    (cfg->owner && nla_put_flag(msg, VRDMA_A_SLEEP_CONFIG_OWNER)) ||
	    nla_put_u32(msg, VRDMA_A_SLEEP_CONFIG_PEERS, cfg->peers) ||
	    nla_put_u32(msg, VRDMA_A_SLEEP_CONFIG_MANAGED, cfg->managed))
		return -EMSGSIZE;
	return 0;
}

int vrdma_nl_sleep_config_set_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	struct vrdma_sleep_config cfg;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	vrdma_nl_sleep_config_parse(info, &cfg);

	msg = genlmsg_new(VRDMA_SLEEP_CONFIG_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return -ENOMEM;
	}
	ret = vrdma_sleep_config_set(genl_info_net(info), &cfg);
	if (ret == -EBUSY)
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[VRDMA_A_SLEEP_CONFIG_PHYS],
				    "another network namespace's sleep domain decides for this physical device");
	else if (ret)
		NL_SET_ERR_MSG(info->extack, "out of memory");
	if (ret)
		goto err;

	hdr = vrdma_nl_put_reply_hdr(msg, info, VRDMA_CMD_SLEEP_CONFIG_SET);
	if (!hdr || vrdma_nl_sleep_config_put(msg, &cfg)) {
		NL_SET_ERR_MSG(info->extack, "reply message too small");
		ret = -EMSGSIZE;
		goto err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err:
	nlmsg_free(msg);
	return ret;
}
