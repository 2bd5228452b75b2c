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

LIST_HEAD(vrdma_repl_groups);		/* RCU; writers: vrdma_repl_lock */
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

/**
 * repl_group_get() - find a live group by name
 * @name: its name
 *
 * Return: the group with a reference (repl_group_put() it), or NULL.
 */
struct repl_group *repl_group_get(const char *name)
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

/**
 * repl_group_find_locked() - find a group by name
 * @name: its name
 *
 * Context: vrdma_repl_lock held.
 * Return: the group (live or not), or NULL.
 */
struct repl_group *repl_group_find_locked(const char *name)
{
	struct repl_group *g;

	lockdep_assert_held(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

/**
 * repl_group_allowed() - may a namespace use a group?
 * @g: the group
 * @net: the namespace
 *
 * Return: true for init_net and the namespaces the group allows.
 */
bool repl_group_allowed(const struct repl_group *g, const struct net *net)
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

/* Groups: creation, deletion, namespaces */

/**
 * repl_path_expand() - the backing file of a member
 * @tmpl: the group's file name template (%a: the address, %i: the
 *	index, %%: '%')
 * @addr: the member's address
 * @idx: its index
 * @out: the file name
 * @size: size of @out
 *
 * Return: 0, -EINVAL (an unknown %-sequence) or -ENAMETOOLONG.
 */
int repl_path_expand(const char *tmpl, const struct in6_addr *addr,
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
 * repl_group_new() - create a group on this host
 * @cfg: its configuration (parsed and checked by repl_nl.c)
 * @extack: for errors
 *
 * Validates what needs this host's state (several local members need
 * their own files, the name is free), then builds: each local member
 * with its backing file, the client agent (on the client address, or the
 * first local member's), the authority if its address is local.
 *
 * Context: process context; takes vrdma_repl_lock.
 * Return: 0 or a negative errno (-EEXIST: a group of that name exists;
 * others with an extack message).
 */
int repl_group_new(const struct repl_group_cfg *cfg,
		   struct netlink_ext_ack *extack)
{
	char path[VRDMA_REPL_PATH_MAX];
	unsigned int i, nlocal = 0;
	struct repl_group *g;
	int ret;

	for (i = 0; i < cfg->nmembers; i++)
		if (vrdma_addr_local(&cfg->members[i]) >= 0)
			nlocal++;
	if (nlocal > 1 && !strstr(cfg->file, "%a") &&
	    !strstr(cfg->file, "%i")) {
		NL_SET_ERR_MSG(extack,
			       "several members are on this host: name their files apart with %a (address) or %i (index)");
		return -EINVAL;
	}
	mutex_lock(&vrdma_repl_lock);
	ret = repl_group_find_locked(cfg->name) ? -EEXIST : 0;
	mutex_unlock(&vrdma_repl_lock);
	if (ret)
		return ret;

	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g) {
		NL_SET_ERR_MSG(extack, "out of memory");
		return -ENOMEM;
	}
	kref_init(&g->ref);
	INIT_LIST_HEAD(&g->node);
	get_fs_root(current->fs, &g->root);
	vrdma_audit_created(VRDMA_AUDIT_REPL_GROUP);
	strscpy(g->name, cfg->name, sizeof(g->name));
	strscpy(g->file, cfg->file, sizeof(g->file));
	g->size = cfg->size;
	g->nmembers = cfg->nmembers;
	memcpy(g->members, cfg->members, sizeof(g->members));
	g->authority = cfg->authority;
	g->client_addr = cfg->client_addr;
	g->has_client_addr = cfg->has_client_addr;
	memcpy(g->netns, cfg->netns, sizeof(g->netns));
	g->nnetns = cfg->nnetns;

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
 * repl_group_del() - delete a group on this host
 * @name: its name
 *
 * Pending operations complete with -ESHUTDOWN; local replicas are written
 * back to their files.
 *
 * Context: process context; takes vrdma_repl_lock.
 * Return: 0, or -ENOENT.
 */
int repl_group_del(const char *name)
{
	struct repl_group *g;

	mutex_lock(&vrdma_repl_lock);
	g = repl_group_find_locked(name);
	if (!g) {
		mutex_unlock(&vrdma_repl_lock);
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
 * repl_group_set_netns() - replace the namespaces allowed to use a group
 * @name: the group
 * @netns: the namespaces' cookies
 * @n: their number (at most VRDMA_REPL_MAX_NETNS; 0: init_net only)
 *
 * Context: process context; takes vrdma_repl_lock.
 * Return: 0, or -ENOENT.
 */
int repl_group_set_netns(const char *name, const u64 *netns, unsigned int n)
{
	struct repl_group *g;
	unsigned int i;

	mutex_lock(&vrdma_repl_lock);
	g = repl_group_find_locked(name);
	if (g) {
		WRITE_ONCE(g->nnetns, 0);
		for (i = 0; i < n; i++)
			WRITE_ONCE(g->netns[i], netns[i]);
		WRITE_ONCE(g->nnetns, n);
	}
	mutex_unlock(&vrdma_repl_lock);
	return g ? 0 : -ENOENT;
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
	vrdma_nl_repl_exit();
	destroy_workqueue(repl_auth_wq);
	destroy_workqueue(repl_wq);
	rcu_barrier();
}
