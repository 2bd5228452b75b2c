// SPDX-License-Identifier: GPL-2.0
/*
 * Replication groups: creation and deletion (REPL_GROUP_* netlink
 * operations), the operations of clients (REPL_OP, and the exported
 * in-kernel API), and the control loop that runs every member, agent and
 * authority of this host.
 *
 * The control loop
 * ----------------
 * One ordered workqueue runs, under vrdma_repl_lock, the control messages
 * for members and agents
 * received by ctrl.c (queued by repl_ctrl_rx(), which never blocks on
 * vrdma_repl_lock, so that endpoints can be released under it) and a tick
 * every repl_hb_ms: heartbeats, authority decisions, leases, connection
 * retries, broken channels, members and agents waiting for their RDMA
 * device.  repl_kick() runs the tick at once.  The authorities have their
 * own lock, workqueue and tick (see repl_auth_lock).
 *
 * Control messages are wire input: the body sizes, the group name, the
 * region size (a cheap check that the hosts agree on the group), the
 * sender (a member's message must come from that member's address, an
 * authority's from the authority address) and the receiver (the local
 * instance whose address received the datagram, never another local
 * instance) are checked here; the fields of each type by its handler.
 *
 * Namespaces
 * ----------
 * Groups are host-wide: created, changed and deleted from init_net by an
 * administrator.  A group lists the network namespaces (by cookie) that
 * may see it and submit operations to it; init_net always may.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs_struct.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include "audit.h"
#include "ctrl.h"
#include "map.h"
#include "netlink.h"
#include "repl.h"

unsigned int repl_hb_ms = 100;
module_param(repl_hb_ms, uint, 0444);
MODULE_PARM_DESC(repl_hb_ms,
		 "Replication: heartbeat interval in ms (default 100)");

unsigned int repl_lease_ms = 1000;
module_param(repl_lease_ms, uint, 0444);
MODULE_PARM_DESC(repl_lease_ms,
		 "Replication: lease of a member from the authority in ms (default 1000)");

/* The control plane of every group (repl.h, "Locking"). */
DEFINE_MUTEX(vrdma_repl_lock);

static LIST_HEAD(vrdma_repl_groups);		/* RCU; writers: vrdma_repl_lock */
static struct workqueue_struct *repl_wq;
static struct delayed_work repl_tick_work;
static bool repl_running;

/*
 * The authorities run apart, under repl_auth_lock and on their own
 * workqueue, as on a machine of their own: nothing a member or an agent
 * does (even waiting) delays their decisions.  Order: vrdma_repl_lock ->
 * repl_auth_lock; the authorities never take vrdma_repl_lock.
 */
DEFINE_MUTEX(repl_auth_lock);
static LIST_HEAD(repl_auths);			/* repl_auth_lock */
static struct workqueue_struct *repl_auth_wq;
static struct delayed_work repl_auth_tick_work;

static void repl_auth_start(struct repl_authority *a);
static void repl_auth_stop(struct repl_authority *a);

/**
 * repl_kick() - run the control loop's tick now
 */
void repl_kick(void)
{
	if (READ_ONCE(repl_running))
		mod_delayed_work(repl_wq, &repl_tick_work, 0);
}

/* Groups */

static void repl_group_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct repl_group, rcu));
}

static void repl_group_release(struct kref *ref)
{
	struct repl_group *g = container_of(ref, struct repl_group, ref);

	repl_client_destroy(g->client);
	path_put(&g->root);
	call_rcu(&g->rcu, repl_group_free_rcu);
	vrdma_audit_destroyed(VRDMA_AUDIT_REPL_GROUP);
}

/**
 * repl_group_put() - drop a reference to a group
 * @g: the group (may be NULL)
 */
void repl_group_put(struct repl_group *g)
{
	if (g)
		kref_put(&g->ref, repl_group_release);
}

/* A reference to the live group @name, or NULL. */
static struct repl_group *repl_group_get(const char *name)
{
	struct repl_group *g;

	rcu_read_lock();
	list_for_each_entry_rcu(g, &vrdma_repl_groups, node) {
		if (!strcmp(g->name, name) && !READ_ONCE(g->dead) &&
		    kref_get_unless_zero(&g->ref)) {
			rcu_read_unlock();
			return g;
		}
	}
	rcu_read_unlock();
	return NULL;
}

static struct repl_group *repl_group_find_locked(const char *name)
{
	struct repl_group *g;

	lockdep_assert_held(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

static bool repl_group_allowed(const struct repl_group *g,
			       const struct net *net)
{
	unsigned int i;

	if (net_eq(net, &init_net))
		return true;
	for (i = 0; i < READ_ONCE(g->nnetns); i++)
		if (READ_ONCE(g->netns[i]) == net->net_cookie)
			return true;
	return false;
}

/* Tear down everything a group runs here (lock held, group unlisted). */
static void repl_group_shutdown(struct repl_group *g)
{
	unsigned int i;

	lockdep_assert_held(&vrdma_repl_lock);
	if (g->client) {
		spin_lock_bh(&g->client->lock);
		WRITE_ONCE(g->dead, true);
		spin_unlock_bh(&g->client->lock);
	}
	WRITE_ONCE(g->dead, true);
	if (g->auth)
		repl_auth_stop(g->auth);
	repl_auth_destroy(g->auth);
	g->auth = NULL;
	for (i = 0; i < g->nmembers; i++) {
		repl_member_destroy(g->local[i]);
		g->local[i] = NULL;
	}
	if (g->client)
		repl_client_shutdown(g->client);
}

/* Every instance using @dev releases it (ib_client remove()). */
void repl_dev_removed(struct ib_device *dev)
{
	struct repl_group *g;
	unsigned int i;

	lockdep_assert_held(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node) {
		for (i = 0; i < g->nmembers; i++)
			if (g->local[i] && g->local[i]->have_dev &&
			    g->local[i]->dr.dev == dev)
				repl_member_detach(g->local[i]);
		if (g->client && g->client->have_dev &&
		    g->client->dr.dev == dev)
			repl_client_detach(g->client);
	}
	repl_kick();
}

/* The control loop */

struct repl_rxmsg {
	struct list_head node;
	struct in6_addr local;
	struct in6_addr src;
	u8 type;
	size_t len;
	u8 body[];
};

#define REPL_RXQ_MAX	4096

static DEFINE_SPINLOCK(repl_rx_lock);
static LIST_HEAD(repl_rx_list);		/* for members and agents */
static LIST_HEAD(repl_auth_rx_list);	/* for authorities */
static unsigned int repl_rx_count;
static struct work_struct repl_rx_work;
static struct work_struct repl_auth_rx_work;

/* ctrl.c handler: queue the message for the control loop. */
static void repl_ctrl_rx(struct vrdma_ctrl_ep *ep, const struct in6_addr *src,
			 u8 type, const void *body, size_t len)
{
	struct repl_rxmsg *msg;

	if (len < sizeof(struct vrdma_repl_c_hdr))
		return;
	msg = kmalloc(struct_size(msg, body, len), GFP_KERNEL);
	if (!msg)
		return;
	msg->local = *vrdma_ctrl_ep_addr(ep);
	msg->src = *src;
	msg->type = type;
	msg->len = len;
	memcpy(msg->body, body, len);
	spin_lock_bh(&repl_rx_lock);
	if (repl_rx_count >= REPL_RXQ_MAX) {
		spin_unlock_bh(&repl_rx_lock);
		kfree(msg);
		pr_warn_ratelimited("repl: control queue full, message dropped\n");
		return;
	}
	repl_rx_count++;
	if (((const struct vrdma_repl_c_hdr *)body)->dst_role ==
	    VRDMA_REPL_R_AUTHORITY) {
		list_add_tail(&msg->node, &repl_auth_rx_list);
		spin_unlock_bh(&repl_rx_lock);
		queue_work(repl_auth_wq, &repl_auth_rx_work);
	} else {
		list_add_tail(&msg->node, &repl_rx_list);
		spin_unlock_bh(&repl_rx_lock);
		queue_work(repl_wq, &repl_rx_work);
	}
}

static const size_t repl_c_sizes[] = {
	[VRDMA_REPL_C_HB] = sizeof(struct vrdma_repl_c_hb),
	[VRDMA_REPL_C_CONFIG] = sizeof(struct vrdma_repl_c_config),
	[VRDMA_REPL_C_SUSPECT] = sizeof(struct vrdma_repl_c_suspect),
	[VRDMA_REPL_C_LINK_REQ] = sizeof(struct vrdma_repl_c_link_req),
	[VRDMA_REPL_C_LINK_REP] = sizeof(struct vrdma_repl_c_link_rep),
	[VRDMA_REPL_C_CLIENT_REQ] = sizeof(struct vrdma_repl_c_client_req),
	[VRDMA_REPL_C_CLIENT_REP] = sizeof(struct vrdma_repl_c_client_rep),
};

/* Parse a CONFIG body into @cfg; false if invalid. */
static bool repl_config_parse(const struct repl_group *g,
			      const struct vrdma_repl_c_config *c,
			      struct repl_config *cfg)
{
	unsigned long seen = 0;
	unsigned int i;

	if (!le32_to_cpu(c->h.epoch) || c->nchain > g->nmembers ||
	    c->pad[0] || c->pad[1] || c->pad[2] ||
	    le32_to_cpu(c->lease_ms) > 600000)
		return false;
	memset(cfg, 0, sizeof(*cfg));
	cfg->epoch = le32_to_cpu(c->h.epoch);
	cfg->nchain = c->nchain;
	for (i = 0; i < c->nchain; i++) {
		if (c->idx[i] >= g->nmembers || (seen & BIT(c->idx[i])) ||
		    (c->flags[i] & ~VRDMA_REPL_CE_SYNC))
			return false;
		seen |= BIT(c->idx[i]);
		cfg->idx[i] = c->idx[i];
		cfg->flags[i] = c->flags[i];
	}
	return true;
}

/* Size and group name of a message; false if malformed. */
static bool repl_msg_shape(const struct repl_rxmsg *msg)
{
	const struct vrdma_repl_c_hdr *h = (const void *)msg->body;

	if (msg->type >= ARRAY_SIZE(repl_c_sizes) || !repl_c_sizes[msg->type])
		return false;
	if (msg->type == VRDMA_REPL_C_LINK_REP ?
	    msg->len < repl_c_sizes[msg->type] :
	    msg->len != repl_c_sizes[msg->type])
		return false;
	return memchr(h->group, 0, sizeof(h->group)) && h->group[0];
}

/* Does a message fit group @g: region size, sender's role and address. */
static bool repl_msg_from(const struct repl_group *g,
			  const struct repl_rxmsg *msg)
{
	const struct vrdma_repl_c_hdr *h = (const void *)msg->body;

	if (le64_to_cpu(h->size) != g->size) {
		pr_warn_ratelimited("repl %s: a message from %pI6c disagrees on the region size: are the hosts configured alike?\n",
				    g->name, &msg->src);
		return false;
	}
	switch (h->src_role) {
	case VRDMA_REPL_R_MEMBER:
		return h->src_idx < g->nmembers &&
		       ipv6_addr_equal(&g->members[h->src_idx], &msg->src);
	case VRDMA_REPL_R_AUTHORITY:
		return ipv6_addr_equal(&g->authority, &msg->src);
	case VRDMA_REPL_R_AGENT:
		return true;
	default:
		return false;
	}
}

static void repl_dispatch(struct repl_rxmsg *msg)
{
	const struct vrdma_repl_c_hdr *h = (const void *)msg->body;
	struct repl_member *m = NULL;
	struct repl_client *c = NULL;
	struct repl_config cfg;
	struct repl_group *g;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!repl_msg_shape(msg))
		goto bad;
	g = repl_group_find_locked(h->group);
	if (!g || g->dead)
		return;
	if (!repl_msg_from(g, msg))
		goto bad;
	switch (h->dst_role) {
	case VRDMA_REPL_R_MEMBER:
		if (h->dst_idx >= g->nmembers || !g->local[h->dst_idx] ||
		    !ipv6_addr_equal(&g->members[h->dst_idx], &msg->local))
			return;
		m = g->local[h->dst_idx];
		break;
	case VRDMA_REPL_R_AGENT:
		if (!g->client || !ipv6_addr_equal(&g->client->addr, &msg->local))
			return;
		c = g->client;
		break;
	default:
		goto bad;
	}

	switch (msg->type) {
	case VRDMA_REPL_C_CONFIG: {
		const struct vrdma_repl_c_config *cm = (const void *)h;

		if (h->src_role != VRDMA_REPL_R_AUTHORITY ||
		    !repl_config_parse(g, cm, &cfg))
			goto bad;
		if (m)
			repl_member_config(m, &cfg, le64_to_cpu(cm->echo),
					   le32_to_cpu(cm->lease_ms));
		else
			repl_client_config(c, &cfg);
		return;
	}
	case VRDMA_REPL_C_LINK_REQ:
		if (!m || h->src_role != VRDMA_REPL_R_MEMBER)
			goto bad;
		repl_member_link_req(m, &msg->src, (const void *)h);
		return;
	case VRDMA_REPL_C_LINK_REP:
		if (!m || h->src_role != VRDMA_REPL_R_MEMBER)
			goto bad;
		repl_member_link_rep(m, (const void *)h, msg->len);
		return;
	case VRDMA_REPL_C_CLIENT_REQ:
		if (!m || h->src_role != VRDMA_REPL_R_AGENT)
			goto bad;
		repl_member_client_req(m, &msg->src, (const void *)h);
		return;
	case VRDMA_REPL_C_CLIENT_REP:
		if (!c || h->src_role != VRDMA_REPL_R_MEMBER)
			goto bad;
		repl_client_rep(c, (const void *)h);
		return;
	}
bad:
	pr_debug_ratelimited("repl: invalid control message (type %u) from %pI6c\n",
			     msg->type, &msg->src);
}

static void repl_rx_work_fn(struct work_struct *work)
{
	struct repl_rxmsg *msg, *tmp;
	LIST_HEAD(list);

	unsigned int n = 0;

	spin_lock_bh(&repl_rx_lock);
	list_splice_init(&repl_rx_list, &list);
	spin_unlock_bh(&repl_rx_lock);

	mutex_lock(&vrdma_repl_lock);
	list_for_each_entry_safe(msg, tmp, &list, node) {
		list_del(&msg->node);
		repl_dispatch(msg);
		kfree(msg);
		n++;
	}
	mutex_unlock(&vrdma_repl_lock);
	spin_lock_bh(&repl_rx_lock);
	repl_rx_count -= min(n, repl_rx_count);
	spin_unlock_bh(&repl_rx_lock);
}

/* Messages to authorities: HB and SUSPECT. */
static void repl_auth_dispatch(struct repl_rxmsg *msg)
{
	const struct vrdma_repl_c_hdr *h = (const void *)msg->body;
	struct repl_authority *a;

	lockdep_assert_held(&repl_auth_lock);
	if (!repl_msg_shape(msg))
		goto bad;
	list_for_each_entry(a, &repl_auths, node) {
		if (strcmp(a->g->name, h->group) ||
		    !ipv6_addr_equal(&a->g->authority, &msg->local))
			continue;
		if (!repl_msg_from(a->g, msg))
			goto bad;
		if (msg->type == VRDMA_REPL_C_HB &&
		    (h->src_role == VRDMA_REPL_R_MEMBER ||
		     h->src_role == VRDMA_REPL_R_AGENT))
			repl_auth_hb(a, &msg->src, (const void *)h);
		else if (msg->type == VRDMA_REPL_C_SUSPECT &&
			 h->src_role == VRDMA_REPL_R_MEMBER)
			repl_auth_suspect(a, (const void *)h);
		else
			goto bad;
		return;
	}
	return;
bad:
	pr_debug_ratelimited("repl: invalid control message (type %u) from %pI6c\n",
			     msg->type, &msg->src);
}

static void repl_auth_rx_work_fn(struct work_struct *work)
{
	struct repl_rxmsg *msg, *tmp;
	LIST_HEAD(list);
	unsigned int n = 0;

	spin_lock_bh(&repl_rx_lock);
	list_splice_init(&repl_auth_rx_list, &list);
	spin_unlock_bh(&repl_rx_lock);

	mutex_lock(&repl_auth_lock);
	list_for_each_entry_safe(msg, tmp, &list, node) {
		list_del(&msg->node);
		repl_auth_dispatch(msg);
		kfree(msg);
		n++;
	}
	mutex_unlock(&repl_auth_lock);
	spin_lock_bh(&repl_rx_lock);
	repl_rx_count -= min(n, repl_rx_count);
	spin_unlock_bh(&repl_rx_lock);
}

static void repl_auth_tick_fn(struct work_struct *work)
{
	struct repl_authority *a;

	mutex_lock(&repl_auth_lock);
	list_for_each_entry(a, &repl_auths, node)
		repl_auth_tick(a);
	mutex_unlock(&repl_auth_lock);
	if (READ_ONCE(repl_running))
		queue_delayed_work(repl_auth_wq, &repl_auth_tick_work,
				   msecs_to_jiffies(repl_hb_ms));
}

/* Start and stop the decisions of an authority. */
static void repl_auth_start(struct repl_authority *a)
{
	mutex_lock(&repl_auth_lock);
	list_add_tail(&a->node, &repl_auths);
	mutex_unlock(&repl_auth_lock);
}

static void repl_auth_stop(struct repl_authority *a)
{
	mutex_lock(&repl_auth_lock);
	list_del_init(&a->node);
	mutex_unlock(&repl_auth_lock);
}

static void repl_tick_fn(struct work_struct *work)
{
	struct repl_group *g;
	unsigned int i;

	mutex_lock(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node) {
		if (g->dead)
			continue;
		for (i = 0; i < g->nmembers; i++)
			if (g->local[i])
				repl_member_tick(g->local[i]);
		if (g->client)
			repl_client_tick(g->client);
	}
	mutex_unlock(&vrdma_repl_lock);
	if (READ_ONCE(repl_running))
		queue_delayed_work(repl_wq, &repl_tick_work,
				   msecs_to_jiffies(repl_hb_ms));
}

/* Netlink: groups */

static int repl_nl_addr(struct genl_info *info, const struct nlattr *attr,
			struct in6_addr *addr)
{
	union ib_gid gid;

	memcpy(gid.raw, nla_data(attr), sizeof(gid.raw));
	if (vrdma_map_addr_check(&gid, true) != VRDMA_MAP_ADDR_OK) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "not a routable unicast address");
		return -EINVAL;
	}
	memcpy(addr->s6_addr, gid.raw, sizeof(gid.raw));
	return 0;
}

static bool repl_nl_name(struct genl_info *info, char *name)
{
	struct nlattr *attr = info->attrs[VRDMA_A_REPL_NAME];
	size_t i, len;

	nla_strscpy(name, attr, VRDMA_REPL_NAME_LEN);
	len = strlen(name);
	if (!len) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "empty group name");
		return false;
	}
	for (i = 0; i < len; i++) {
		if (!isalnum(name[i]) && !strchr("-_.", name[i])) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "group names use letters, digits, '-', '_' and '.'");
			return false;
		}
	}
	return true;
}

/* Allowed namespaces: every NETNS_FD and NETNS_PID attribute. */
static int repl_nl_netns(struct genl_info *info, u64 *cookies,
			 unsigned int *n)
{
	const struct nlattr *attr;
	struct net *net;
	int rem;

	*n = 0;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		int type = nla_type(attr);

		if (type != VRDMA_A_REPL_NETNS_FD &&
		    type != VRDMA_A_REPL_NETNS_PID)
			continue;
		if (*n >= VRDMA_REPL_MAX_NETNS) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "too many namespaces (at most 16)");
			return -E2BIG;
		}
		if (type == VRDMA_A_REPL_NETNS_FD)
			net = get_net_ns_by_fd(nla_get_s32(attr));
		else
			net = get_net_ns_by_pid(nla_get_u32(attr));
		if (IS_ERR(net)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "no such network namespace");
			return PTR_ERR(net);
		}
		cookies[(*n)++] = net->net_cookie;
		put_net(net);
	}
	return 0;
}

/* Expand the backing file template for member @idx into @out. */
static int repl_path_expand(const char *tmpl, const struct in6_addr *addr,
			    unsigned int idx, char *out, size_t size)
{
	size_t n = 0;
	const char *p;
	int w;

	for (p = tmpl; *p; p++) {
		if (*p != '%') {
			if (n + 1 >= size)
				return -ENAMETOOLONG;
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == '%')
			w = snprintf(out + n, size - n, "%%");
		else if (*p == 'i')
			w = snprintf(out + n, size - n, "%u", idx);
		else if (*p == 'a' && vrdma_addr_is_v4(addr))
			w = snprintf(out + n, size - n, "%pI4",
				     &addr->s6_addr32[3]);
		else if (*p == 'a')
			w = snprintf(out + n, size - n, "%pI6c", addr);
		else
			return -EINVAL;
		if (w < 0 || n + w >= size)
			return -ENAMETOOLONG;
		n += w;
	}
	out[n] = '\0';
	return 0;
}

static void repl_group_destroy_unlisted(struct repl_group *g)
{
	unsigned int i;

	repl_auth_destroy(g->auth);
	g->auth = NULL;
	for (i = 0; i < g->nmembers; i++) {
		repl_member_destroy(g->local[i]);
		g->local[i] = NULL;
	}
	if (g->client)
		repl_client_shutdown(g->client);
	repl_group_put(g);
}

/**
 * vrdma_nl_repl_group_new_doit() - REPL_GROUP_NEW
 * @skb: the request
 * @info: its attributes (policy-checked by netlink.c)
 *
 * Return: 0 or a negative errno (with an extack message).
 */
int vrdma_nl_repl_group_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[VRDMA_A_REPL_MEMBER_MAX + 1];
	char path[VRDMA_REPL_PATH_MAX];
	const struct nlattr *attr;
	unsigned int i, j, nlocal = 0;
	struct repl_group *g;
	int rem, ret;

	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_SIZE) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_FILE) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_MEMBER))
		return -EINVAL;

	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g) {
		NL_SET_ERR_MSG(extack, "out of memory");
		return -ENOMEM;
	}
	kref_init(&g->ref);
	INIT_LIST_HEAD(&g->node);
	get_fs_root(current->fs, &g->root);
	vrdma_audit_created(VRDMA_AUDIT_REPL_GROUP);

	ret = -EINVAL;
	if (!repl_nl_name(info, g->name))
		goto err;
	g->size = nla_get_u64(info->attrs[VRDMA_A_REPL_SIZE]);
	if (!g->size || g->size % PAGE_SIZE || g->size > REPL_SIZE_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_SIZE],
				    "the size must be a multiple of 4096, at most 1 GiB");
		goto err;
	}
	nla_strscpy(g->file, info->attrs[VRDMA_A_REPL_FILE], sizeof(g->file));
	if (g->file[0] != '/') {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_FILE],
				    "the backing file must be an absolute path");
		goto err;
	}

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != VRDMA_A_REPL_MEMBER)
			continue;
		if (g->nmembers >= VRDMA_REPL_MAX_MEMBERS) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "too many members (at most 8)");
			ret = -E2BIG;
			goto err;
		}
		ret = nla_parse_nested(tb, VRDMA_A_REPL_MEMBER_MAX, attr, NULL,
				       extack);
		if (ret)
			goto err;
		ret = -EINVAL;
		if (!tb[VRDMA_A_REPL_MEMBER_ADDR]) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "a member needs an address");
			goto err;
		}
		if (repl_nl_addr(info, tb[VRDMA_A_REPL_MEMBER_ADDR],
				 &g->members[g->nmembers]))
			goto err;
		for (j = 0; j < g->nmembers; j++) {
			if (ipv6_addr_equal(&g->members[j],
					    &g->members[g->nmembers])) {
				NL_SET_ERR_MSG_ATTR(extack, attr,
						    "a member is listed twice");
				goto err;
			}
		}
		g->nmembers++;
	}

	g->authority = g->members[0];
	if (info->attrs[VRDMA_A_REPL_AUTHORITY] &&
	    repl_nl_addr(info, info->attrs[VRDMA_A_REPL_AUTHORITY],
			 &g->authority))
		goto err;
	if (info->attrs[VRDMA_A_REPL_CLIENT]) {
		if (repl_nl_addr(info, info->attrs[VRDMA_A_REPL_CLIENT],
				 &g->client_addr))
			goto err;
		if (vrdma_addr_local(&g->client_addr) < 0) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_CLIENT],
					    "the client address is not an address of this host");
			ret = -EADDRNOTAVAIL;
			goto err;
		}
		g->has_client_addr = true;
	}
	ret = repl_nl_netns(info, g->netns, &g->nnetns);
	if (ret)
		goto err;

	/* Members of this host, and the file name of each. */
	for (i = 0; i < g->nmembers; i++)
		if (vrdma_addr_local(&g->members[i]) >= 0)
			nlocal++;
	if (nlocal > 1 && !strstr(g->file, "%a") && !strstr(g->file, "%i")) {
		ret = -EINVAL;
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_FILE],
				    "several members are on this host: name their files apart with %a (address) or %i (index)");
		goto err;
	}
	for (i = 0; i < g->nmembers; i++) {
		ret = repl_path_expand(g->file, &g->members[i], i, path,
				       sizeof(path));
		if (ret == -EINVAL) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_FILE],
					    "unknown %-sequence in the file name (%a, %i, %%)");
			goto err;
		}
		if (ret) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_FILE],
					    "file name too long");
			goto err;
		}
	}

	mutex_lock(&vrdma_repl_lock);
	ret = repl_group_find_locked(g->name) ? -EEXIST : 0;
	mutex_unlock(&vrdma_repl_lock);
	if (ret) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_NAME],
				    "a group of that name exists");
		goto err;
	}

	for (i = 0; i < g->nmembers; i++) {
		struct repl_member *m;

		if (vrdma_addr_local(&g->members[i]) < 0)
			continue;
		repl_path_expand(g->file, &g->members[i], i, path, sizeof(path));
		m = repl_member_create(g, i, path);
		if (IS_ERR(m)) {
			ret = PTR_ERR(m);
			pr_warn("repl %s: member %u: cannot set up %s: %d\n",
				g->name, i, path, ret);
			if (ret == -EADDRINUSE)
				NL_SET_ERR_MSG(extack,
					       "the control port is in use on a member's address");
			else if (ret == -EFBIG)
				NL_SET_ERR_MSG(extack,
					       "a backing file is larger than the region");
			else
				NL_SET_ERR_MSG(extack,
					       "cannot open, size or map a backing file (see the kernel log)");
			goto err;
		}
		g->local[i] = m;
	}
	if (!g->has_client_addr) {
		for (i = 0; i < g->nmembers; i++) {
			if (g->local[i]) {
				g->client_addr = g->members[i];
				g->has_client_addr = true;
				break;
			}
		}
	}
	if (g->has_client_addr) {
		g->client = repl_client_create(g, &g->client_addr);
		if (IS_ERR(g->client)) {
			ret = PTR_ERR(g->client);
			g->client = NULL;
			NL_SET_ERR_MSG(extack,
				       "cannot open the control port on the client address");
			goto err;
		}
	}
	if (vrdma_addr_local(&g->authority) >= 0) {
		g->auth = repl_auth_create(g);
		if (IS_ERR(g->auth)) {
			ret = PTR_ERR(g->auth);
			g->auth = NULL;
			NL_SET_ERR_MSG(extack,
				       "cannot open the control port on the authority address");
			goto err;
		}
	}

	mutex_lock(&vrdma_repl_lock);
	if (repl_group_find_locked(g->name)) {
		mutex_unlock(&vrdma_repl_lock);
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_NAME],
				    "a group of that name exists");
		ret = -EEXIST;
		goto err;
	}
	list_add_tail_rcu(&g->node, &vrdma_repl_groups);
	if (g->auth)
		repl_auth_start(g->auth);
	for (i = 0; i < g->nmembers; i++)
		if (g->local[i])
			repl_member_attach(g->local[i]);
	if (g->client)
		repl_client_attach(g->client);
	mutex_unlock(&vrdma_repl_lock);
	pr_info("repl %s: group created: %u members (%u here), %llu bytes%s\n",
		g->name, g->nmembers, nlocal, g->size,
		g->auth ? ", authority here" : "");
	repl_kick();
	return 0;

err:
	repl_group_destroy_unlisted(g);
	return ret;
}

/**
 * vrdma_nl_repl_group_del_doit() - REPL_GROUP_DEL
 * @skb: the request
 * @info: its attributes
 *
 * Return: 0 or a negative errno.
 */
int vrdma_nl_repl_group_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	char name[VRDMA_REPL_NAME_LEN];
	struct repl_group *g;

	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_NAME) ||
	    !repl_nl_name(info, name))
		return -EINVAL;
	mutex_lock(&vrdma_repl_lock);
	g = repl_group_find_locked(name);
	if (!g) {
		mutex_unlock(&vrdma_repl_lock);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_NAME],
				    "no such group");
		return -ENOENT;
	}
	list_del_rcu(&g->node);
	repl_group_shutdown(g);
	mutex_unlock(&vrdma_repl_lock);
	pr_info("repl %s: group deleted\n", g->name);
	repl_group_put(g);
	return 0;
}

/**
 * vrdma_nl_repl_group_set_doit() - REPL_GROUP_SET: allowed namespaces
 * @skb: the request
 * @info: its attributes
 *
 * Return: 0 or a negative errno.
 */
int vrdma_nl_repl_group_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	char name[VRDMA_REPL_NAME_LEN];
	u64 netns[VRDMA_REPL_MAX_NETNS];
	struct repl_group *g;
	unsigned int n, i;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_NAME) ||
	    !repl_nl_name(info, name))
		return -EINVAL;
	ret = repl_nl_netns(info, netns, &n);
	if (ret)
		return ret;
	mutex_lock(&vrdma_repl_lock);
	g = repl_group_find_locked(name);
	if (g) {
		WRITE_ONCE(g->nnetns, 0);
		for (i = 0; i < n; i++)
			WRITE_ONCE(g->netns[i], netns[i]);
		WRITE_ONCE(g->nnetns, n);
	}
	mutex_unlock(&vrdma_repl_lock);
	if (!g) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_NAME],
				    "no such group");
		return -ENOENT;
	}
	return 0;
}

/* The newest chain known here (authority, members, agent) into @cfg. */
static const struct repl_config *repl_group_view(struct repl_group *g,
						 struct repl_config *cfg)
{
	const struct repl_config *best = NULL;
	unsigned int i;

	lockdep_assert_held(&vrdma_repl_lock);
	if (g->auth) {
		mutex_lock(&repl_auth_lock);
		*cfg = g->auth->cfg;
		mutex_unlock(&repl_auth_lock);
		return cfg;
	}
	for (i = 0; i < g->nmembers; i++)
		if (g->local[i] && (!best || g->local[i]->cfg.epoch > best->epoch))
			best = &g->local[i]->cfg;
	if (g->client && (!best || g->client->cfg.epoch > best->epoch))
		best = &g->client->cfg;
	if (!best)
		return NULL;
	*cfg = *best;
	return cfg;
}

static enum vrdma_repl_role repl_role(const struct repl_config *cfg, u8 idx)
{
	unsigned int i;

	if (!cfg)
		return VRDMA_REPL_ROLE_OUT;
	for (i = 0; i < cfg->nchain; i++) {
		if (cfg->idx[i] != idx)
			continue;
		if (cfg->nchain == 1)
			return VRDMA_REPL_ROLE_SOLE;
		if (!i)
			return VRDMA_REPL_ROLE_HEAD;
		return i == cfg->nchain - 1 ? VRDMA_REPL_ROLE_TAIL :
		       VRDMA_REPL_ROLE_MIDDLE;
	}
	return VRDMA_REPL_ROLE_OUT;
}

static int repl_nl_put_member(struct sk_buff *skb, struct repl_group *g,
			      const struct repl_config *cfg, u8 idx,
			      bool admin)
{
	struct repl_member *m = g->local[idx];
	enum vrdma_repl_state state;
	struct nlattr *nest;
	u64 applied;
	u32 epoch;

	nest = nla_nest_start(skb, VRDMA_A_REPL_MEMBER);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put(skb, VRDMA_A_REPL_MEMBER_ADDR, sizeof(g->members[idx]),
		    &g->members[idx]) ||
	    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_INDEX, idx) ||
	    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_ROLE, repl_role(cfg, idx)))
		goto cancel;
	if (m) {
		repl_member_info(m, &applied, &epoch, &state);
		if (nla_put_flag(skb, VRDMA_A_REPL_MEMBER_LOCAL) ||
		    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_STATE, state) ||
		    nla_put_u64_64bit(skb, VRDMA_A_REPL_MEMBER_APPLIED, applied,
				      VRDMA_A_REPL_MEMBER_PAD) ||
		    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_EPOCH, epoch) ||
		    (admin && nla_put_string(skb, VRDMA_A_REPL_MEMBER_FILE,
					     m->path)))
			goto cancel;
	}
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int repl_nl_fill(struct sk_buff *skb, struct repl_group *g,
			bool admin)
{
	struct repl_config view;
	const struct repl_config *cfg = repl_group_view(g, &view);
	unsigned long done = 0;
	unsigned int i;

	lockdep_assert_held(&vrdma_repl_lock);
	if (nla_put_string(skb, VRDMA_A_REPL_NAME, g->name) ||
	    nla_put_u64_64bit(skb, VRDMA_A_REPL_SIZE, g->size,
			      VRDMA_A_REPL_PAD) ||
	    nla_put(skb, VRDMA_A_REPL_AUTHORITY, sizeof(g->authority),
		    &g->authority) ||
	    (g->auth && nla_put_flag(skb, VRDMA_A_REPL_AUTHORITY_LOCAL)) ||
	    nla_put_u32(skb, VRDMA_A_REPL_EPOCH, cfg ? cfg->epoch : 0))
		return -EMSGSIZE;
	if (admin && nla_put_string(skb, VRDMA_A_REPL_FILE, g->file))
		return -EMSGSIZE;
	if (g->client &&
	    (nla_put(skb, VRDMA_A_REPL_CLIENT, sizeof(g->client->addr),
		     &g->client->addr) ||
	     nla_put_u32(skb, VRDMA_A_REPL_CLIENT_STATE,
			 !g->client->have_dev ? VRDMA_REPL_STATE_DOWN :
			 g->client->ch && g->client->ch->up ?
			 VRDMA_REPL_STATE_ACTIVE : VRDMA_REPL_STATE_WAITING)))
		return -EMSGSIZE;
	for (i = 0; admin && i < g->nnetns; i++)
		if (nla_put_u64_64bit(skb, VRDMA_A_REPL_NETNS_COOKIE,
				      g->netns[i], VRDMA_A_REPL_PAD))
			return -EMSGSIZE;
	/* The chain first, in order, then the others. */
	for (i = 0; cfg && i < cfg->nchain; i++) {
		if (repl_nl_put_member(skb, g, cfg, cfg->idx[i], admin))
			return -EMSGSIZE;
		done |= BIT(cfg->idx[i]);
	}
	for (i = 0; i < g->nmembers; i++)
		if (!(done & BIT(i)) && repl_nl_put_member(skb, g, cfg, i, admin))
			return -EMSGSIZE;
	return 0;
}

/**
 * vrdma_nl_repl_group_get_doit() - REPL_GROUP_GET, one group
 * @skb: the request
 * @info: its attributes
 *
 * Return: 0 or a negative errno.
 */
int vrdma_nl_repl_group_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	/* File names and namespaces: for init_net's administrators only. */
	bool admin = net_eq(genl_info_net(info), &init_net) &&
		     netlink_capable(skb, CAP_NET_ADMIN);
	char name[VRDMA_REPL_NAME_LEN];
	struct repl_group *g;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_NAME) ||
	    !repl_nl_name(info, name))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return -ENOMEM;
	}
	mutex_lock(&vrdma_repl_lock);
	g = repl_group_find_locked(name);
	if (!g || !repl_group_allowed(g, genl_info_net(info))) {
		mutex_unlock(&vrdma_repl_lock);
		nlmsg_free(msg);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_NAME],
				    "no such group");
		return -ENOENT;
	}
	hdr = vrdma_nl_put_reply_hdr(msg, info, VRDMA_CMD_REPL_GROUP_GET);
	ret = hdr ? repl_nl_fill(msg, g, admin) : -EMSGSIZE;
	mutex_unlock(&vrdma_repl_lock);
	if (ret) {
		nlmsg_free(msg);
		NL_SET_ERR_MSG(info->extack, "reply message too small");
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/**
 * vrdma_nl_repl_group_get_dumpit() - REPL_GROUP_GET, every visible group
 * @skb: the dump buffer
 * @cb: the dump (cb->args[0]: groups already dumped)
 *
 * Return: the dump's length or a negative errno.
 */
int vrdma_nl_repl_group_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct net *net = sock_net(cb->skb->sk);
	bool admin = net_eq(net, &init_net) &&
		     netlink_capable(cb->skb, CAP_NET_ADMIN);
	long skip = cb->args[0], i = 0;
	struct repl_group *g;
	void *hdr;

	mutex_lock(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node) {
		if (!repl_group_allowed(g, net))
			continue;
		if (i++ < skip)
			continue;
		hdr = vrdma_nl_dump_hdr(skb, cb, VRDMA_CMD_REPL_GROUP_GET);
		if (!hdr || repl_nl_fill(skb, g, admin)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			i--;
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&vrdma_repl_lock);
	cb->args[0] = i;
	return skb->len;
}

/* Netlink: operations */

/* A completion to report to a netlink socket. */
struct repl_nl_done {
	struct list_head node;
	struct net *net;
	u32 portid;
	u64 cookie;
	char group[VRDMA_REPL_NAME_LEN];
	struct vrdma_repl_completion c;
};

static DEFINE_SPINLOCK(repl_nl_lock);
static LIST_HEAD(repl_nl_list);
static struct work_struct repl_nl_work;

static void repl_nl_done_cb(void *ctx, const struct vrdma_repl_completion *c)
{
	struct repl_nl_done *d = ctx;
	unsigned long flags;

	d->c = *c;
	spin_lock_irqsave(&repl_nl_lock, flags);
	list_add_tail(&d->node, &repl_nl_list);
	spin_unlock_irqrestore(&repl_nl_lock, flags);
	queue_work(system_highpri_wq, &repl_nl_work);
}

static int repl_nl_put_done(struct sk_buff *skb, struct repl_nl_done *d)
{
	struct nlattr *nest;
	unsigned int i;
	void *hdr;

	hdr = vrdma_nl_put_hdr(skb, 0, 0, 0, VRDMA_CMD_REPL_OP_DONE);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(skb, VRDMA_A_REPL_NAME, d->group) ||
	    nla_put_u64_64bit(skb, VRDMA_A_REPL_COOKIE, d->cookie,
			      VRDMA_A_REPL_PAD) ||
	    nla_put_s32(skb, VRDMA_A_REPL_STATUS, d->c.status))
		goto cancel;
	for (i = 0; i < d->c.nres; i++) {
		const struct vrdma_repl_result *r = &d->c.res[i];

		nest = nla_nest_start(skb, VRDMA_A_REPL_RESULT);
		if (!nest ||
		    nla_put_u32(skb, VRDMA_A_REPL_RESULT_MEMBER, r->member) ||
		    nla_put(skb, VRDMA_A_REPL_RESULT_ADDR, sizeof(r->addr),
			    &r->addr) ||
		    nla_put_u64_64bit(skb, VRDMA_A_REPL_RESULT_OLD, r->old,
				      VRDMA_A_REPL_RESULT_PAD) ||
		    nla_put_u8(skb, VRDMA_A_REPL_RESULT_SWAPPED, r->swapped))
			goto cancel;
		nla_nest_end(skb, nest);
	}
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Send a batch of completions and drop its namespace reference. */
static void repl_nl_send(struct sk_buff **skb, struct net **net, u32 portid)
{
	if (*skb)
		genlmsg_unicast(*net, *skb, portid);	/* consumes it */
	if (*net)
		put_net(*net);
	*skb = NULL;
	*net = NULL;
}

/*
 * Deliver completions in order, several per datagram to the same socket.
 * A socket that is gone or full loses them (the library sizes its receive
 * buffer for REPL_WINDOW completions).
 */
static void repl_nl_work_fn(struct work_struct *work)
{
	struct repl_nl_done *d, *tmp;
	struct sk_buff *skb = NULL;
	struct net *net = NULL;
	u32 portid = 0;
	LIST_HEAD(list);

	spin_lock_irq(&repl_nl_lock);
	list_splice_init(&repl_nl_list, &list);
	spin_unlock_irq(&repl_nl_lock);

	list_for_each_entry_safe(d, tmp, &list, node) {
		list_del(&d->node);
		if (skb && (d->net != net || d->portid != portid))
			repl_nl_send(&skb, &net, portid);
		if (skb && !repl_nl_put_done(skb, d)) {
			put_net(d->net);	/* the batch holds one */
			kfree(d);
			continue;
		}
		repl_nl_send(&skb, &net, portid);
		/* A new batch, which takes over this completion's reference. */
		net = d->net;
		portid = d->portid;
		skb = genlmsg_new(16384, GFP_KERNEL);
		if (!skb || repl_nl_put_done(skb, d)) {
			pr_warn_ratelimited("repl: a completion was lost (out of memory)\n");
			nlmsg_free(skb);
			skb = NULL;
			put_net(net);
			net = NULL;
		}
		kfree(d);
	}
	repl_nl_send(&skb, &net, portid);
}

static int repl_nl_u64(struct genl_info *info, int type, u64 *val)
{
	if (GENL_REQ_ATTR_CHECK(info, type))
		return -EINVAL;
	*val = nla_get_u64(info->attrs[type]);
	return 0;
}

/**
 * vrdma_nl_repl_op_doit() - REPL_OP: submit an operation
 * @skb: the request
 * @info: its attributes
 *
 * The request is acknowledged once queued; the completion comes later as
 * a REPL_OP_DONE message to the requesting socket.
 *
 * Return: 0 or a negative errno.
 */
int vrdma_nl_repl_op_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct vrdma_repl_op op = {};
	char name[VRDMA_REPL_NAME_LEN];
	const struct nlattr *attr;
	struct repl_nl_done *d;
	struct repl_group *g;
	u8 *data = NULL;
	u64 len64 = 0;
	int rem, ret;

	/* Writing replicas is a privilege of the namespace's administrator. */
	if (!netlink_ns_capable(skb, genl_info_net(info)->user_ns,
				CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack,
			       "submitting to a group needs CAP_NET_ADMIN in the network namespace");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OPCODE) ||
	    !repl_nl_name(info, name))
		return -EINVAL;
	op.opcode = nla_get_u32(info->attrs[VRDMA_A_REPL_OPCODE]);
	if (info->attrs[VRDMA_A_REPL_LEN])
		op.len = nla_get_u32(info->attrs[VRDMA_A_REPL_LEN]);
	if (info->attrs[VRDMA_A_REPL_OFFSET])
		op.offset = nla_get_u64(info->attrs[VRDMA_A_REPL_OFFSET]);

	switch (op.opcode) {
	case VRDMA_REPL_OP_WRITE:
		if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OFFSET) ||
		    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_DATA))
			return -EINVAL;
		nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem)
			if (nla_type(attr) == VRDMA_A_REPL_DATA)
				len64 += nla_len(attr);
		if (!len64 || len64 > VRDMA_REPL_WRITE_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_DATA],
					    "a write carries 1 to 65536 bytes");
			return -EINVAL;
		}
		if (info->attrs[VRDMA_A_REPL_LEN] && op.len != len64) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_LEN],
					    "len differs from the data's length");
			return -EINVAL;
		}
		op.len = len64;
		break;
	case VRDMA_REPL_OP_MEMCPY:
		if (repl_nl_u64(info, VRDMA_A_REPL_SRC, &op.src) ||
		    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OFFSET) ||
		    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_LEN))
			return -EINVAL;
		break;
	case VRDMA_REPL_OP_CAS:
		if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OFFSET) ||
		    repl_nl_u64(info, VRDMA_A_REPL_EXPECTED, &op.expected) ||
		    repl_nl_u64(info, VRDMA_A_REPL_NEW, &op.newval))
			return -EINVAL;
		break;
	case VRDMA_REPL_OP_FLUSH:
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_OPCODE],
				    "unknown operation");
		return -EINVAL;
	}
	if (op.opcode != VRDMA_REPL_OP_WRITE &&
	    info->attrs[VRDMA_A_REPL_DATA]) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_DATA],
				    "only a write carries data");
		return -EINVAL;
	}

	g = repl_group_get(name);
	if (!g) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_NAME],
				    "no such group");
		return -ENOENT;
	}
	if (!repl_group_allowed(g, genl_info_net(info))) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VRDMA_A_REPL_NAME],
				    "this network namespace may not use the group");
		ret = -EPERM;
		goto out;
	}
	ret = repl_op_check(g->size, op.opcode, op.offset, op.src, op.len);
	if (ret) {
		if (ret == -ERANGE)
			NL_SET_ERR_MSG(extack, "the range lies beyond the region");
		else
			NL_SET_ERR_MSG(extack,
				       "invalid operation (length, or alignment of a compare-and-swap: 8 bytes)");
		goto out;
	}
	if (!g->client) {
		NL_SET_ERR_MSG(extack,
			       "no client address on this host: re-create the group with 'client ADDR'");
		ret = -ENOTCONN;
		goto out;
	}

	ret = -ENOMEM;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		goto out_nomem;
	if (op.opcode == VRDMA_REPL_OP_WRITE) {
		u32 pos = 0;

		data = kmalloc(op.len, GFP_KERNEL);
		if (!data) {
			kfree(d);
			goto out_nomem;
		}
		nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
			if (nla_type(attr) != VRDMA_A_REPL_DATA)
				continue;
			memcpy(data + pos, nla_data(attr), nla_len(attr));
			pos += nla_len(attr);
		}
		op.data = data;
	}
	d->net = get_net(genl_info_net(info));
	d->portid = info->snd_portid;
	if (info->attrs[VRDMA_A_REPL_COOKIE])
		d->cookie = nla_get_u64(info->attrs[VRDMA_A_REPL_COOKIE]);
	strscpy(d->group, g->name, sizeof(d->group));

	ret = repl_client_submit(g->client, &op, repl_nl_done_cb, d, false);
	kfree(data);
	if (ret) {
		put_net(d->net);
		kfree(d);
		if (ret == -ENETDOWN)
			NL_SET_ERR_MSG(extack,
				       "no RDMA device for this host's client address");
		else if (ret == -ESHUTDOWN)
			NL_SET_ERR_MSG(extack, "the group is being deleted");
		else if (ret == -EINTR)
			NL_SET_ERR_MSG(extack, "interrupted");
		else
			NL_SET_ERR_MSG(extack, "cannot queue the operation");
	}
	goto out;

out_nomem:
	NL_SET_ERR_MSG(extack, "out of memory");
out:
	repl_group_put(g);
	return ret;
}

/* The in-kernel API */

struct vrdma_repl {
	struct repl_group *g;
};

/**
 * vrdma_repl_open() - open a replication group for in-kernel submission
 * @name: the group's name
 * @net: the network namespace the caller acts for (&init_net may use
 *	every group; another one only the groups that allow it)
 *
 * Context: process context.
 * Return: a handle for vrdma_repl_submit(), or an ERR_PTR: -ENOENT (no
 * such group), -EPERM (@net may not use it), -ENOMEM.
 */
struct vrdma_repl *vrdma_repl_open(const char *name, struct net *net)
{
	struct vrdma_repl *r;
	struct repl_group *g;

	g = repl_group_get(name);
	if (!g)
		return ERR_PTR(-ENOENT);
	if (!repl_group_allowed(g, net)) {
		repl_group_put(g);
		return ERR_PTR(-EPERM);
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r) {
		repl_group_put(g);
		return ERR_PTR(-ENOMEM);
	}
	r->g = g;
	return r;
}
EXPORT_SYMBOL_GPL(vrdma_repl_open);

/**
 * vrdma_repl_close() - close a handle
 * @r: the handle (may be an ERR_PTR or NULL)
 *
 * Operations in flight still complete (their callbacks run later).
 */
void vrdma_repl_close(struct vrdma_repl *r)
{
	if (IS_ERR_OR_NULL(r))
		return;
	repl_group_put(r->g);
	kfree(r);
}
EXPORT_SYMBOL_GPL(vrdma_repl_close);

/**
 * vrdma_repl_size() - the size of a group's region
 * @r: the handle
 *
 * Return: bytes.
 */
u64 vrdma_repl_size(const struct vrdma_repl *r)
{
	return r->g->size;
}
EXPORT_SYMBOL_GPL(vrdma_repl_size);

/**
 * vrdma_repl_submit() - submit an operation to every member of the group
 * @r: the handle
 * @op: the operation (its data is copied)
 * @done: called once when every member of the chain has applied it (or
 *	it failed), in softirq context
 * @ctx: argument of @done
 * @flags: VRDMA_REPL_NOWAIT: fail with -EAGAIN rather than sleep when
 *	REPL_WINDOW operations of this host are in flight
 *
 * Operations submitted on one host are applied by every member in the
 * order of submission.
 *
 * Context: process context; with VRDMA_REPL_NOWAIT also softirq (never hard
 * interrupts, nor a completion callback of this group: its lock is held).
 * Return: 0 (then @done is called exactly once), or -EINVAL, -ERANGE (an
 * invalid operation), -ENOTCONN (no client agent on this host),
 * -ENETDOWN (its RDMA device is missing), -ESHUTDOWN (the group was
 * deleted), -EAGAIN, -EINTR, -ENOMEM; @done is then not called.
 */
int vrdma_repl_submit(struct vrdma_repl *r, const struct vrdma_repl_op *op,
		      vrdma_repl_done_t done, void *ctx, unsigned int flags)
{
	struct repl_group *g = r->g;
	int ret;

	if (flags & ~VRDMA_REPL_NOWAIT)
		return -EINVAL;
	ret = repl_op_check(g->size, op->opcode, op->offset, op->src, op->len);
	if (ret)
		return ret;
	if (op->opcode == VRDMA_REPL_OP_WRITE && !op->data)
		return -EINVAL;
	if (!g->client)
		return -ENOTCONN;
	return repl_client_submit(g->client, op, done, ctx,
				  flags & VRDMA_REPL_NOWAIT);
}
EXPORT_SYMBOL_GPL(vrdma_repl_submit);

/* Module init and exit */

/**
 * vrdma_repl_init() - start the replication engine
 *
 * Return: 0 or a negative errno.
 */
int __init vrdma_repl_init(void)
{
	int ret;

	if (!repl_hb_ms || repl_hb_ms > 10000 ||
	    repl_lease_ms < 2 * repl_hb_ms || repl_lease_ms > 600000) {
		pr_err("repl: need 0 < repl_hb_ms <= 10000 and 2 * repl_hb_ms <= repl_lease_ms <= 600000\n");
		return -EINVAL;
	}
	repl_wq = alloc_ordered_workqueue("vrdma_repl", WQ_HIGHPRI);
	if (!repl_wq)
		return -ENOMEM;
	repl_auth_wq = alloc_ordered_workqueue("vrdma_repl_auth", WQ_HIGHPRI);
	if (!repl_auth_wq) {
		destroy_workqueue(repl_wq);
		return -ENOMEM;
	}
	INIT_WORK(&repl_rx_work, repl_rx_work_fn);
	INIT_WORK(&repl_auth_rx_work, repl_auth_rx_work_fn);
	INIT_DELAYED_WORK(&repl_auth_tick_work, repl_auth_tick_fn);
	INIT_WORK(&repl_nl_work, repl_nl_work_fn);
	INIT_DELAYED_WORK(&repl_tick_work, repl_tick_fn);
	ret = vrdma_ctrl_register(VRDMA_CTRL_REPL_FIRST, VRDMA_CTRL_REPL_LAST,
				  repl_ctrl_rx);
	if (ret)
		goto err_wq;
	ret = repl_devs_init();
	if (ret)
		goto err_ctrl;
	WRITE_ONCE(repl_running, true);
	queue_delayed_work(repl_wq, &repl_tick_work,
			   msecs_to_jiffies(repl_hb_ms));
	queue_delayed_work(repl_auth_wq, &repl_auth_tick_work,
			   msecs_to_jiffies(repl_hb_ms));
	return 0;

err_ctrl:
	vrdma_ctrl_unregister(VRDMA_CTRL_REPL_FIRST, VRDMA_CTRL_REPL_LAST);
err_wq:
	destroy_workqueue(repl_auth_wq);
	destroy_workqueue(repl_wq);
	return ret;
}

/**
 * vrdma_repl_exit() - stop the replication engine: delete every group
 *
 * The netlink family is gone already (no new request).
 */
void vrdma_repl_exit(void)
{
	struct repl_rxmsg *msg, *tmp;
	struct repl_group *g;

	WRITE_ONCE(repl_running, false);
	cancel_delayed_work_sync(&repl_tick_work);
	cancel_delayed_work_sync(&repl_auth_tick_work);

	mutex_lock(&vrdma_repl_lock);
	while ((g = list_first_entry_or_null(&vrdma_repl_groups,
					     struct repl_group, node))) {
		list_del_rcu(&g->node);
		repl_group_shutdown(g);
		pr_info("repl %s: group deleted (module unload)\n", g->name);
		repl_group_put(g);
	}
	mutex_unlock(&vrdma_repl_lock);

	/* Every endpoint is gone: no more control messages. */
	vrdma_ctrl_unregister(VRDMA_CTRL_REPL_FIRST, VRDMA_CTRL_REPL_LAST);
	flush_work(&repl_rx_work);
	flush_work(&repl_auth_rx_work);
	list_for_each_entry_safe(msg, tmp, &repl_rx_list, node) {
		list_del(&msg->node);
		kfree(msg);
	}
	list_for_each_entry_safe(msg, tmp, &repl_auth_rx_list, node) {
		list_del(&msg->node);
		kfree(msg);
	}
	repl_devs_exit();
	flush_work(&repl_nl_work);
	destroy_workqueue(repl_auth_wq);
	destroy_workqueue(repl_wq);
	rcu_barrier();
}
