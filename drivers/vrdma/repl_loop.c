// SPDX-License-Identifier: GPL-2.0
/*
 * The replication engine's control loop: it runs every member, agent and
 * authority of this host.
 *
 * One ordered workqueue runs, under vrdma_repl_lock, the control messages
 * for members and agents received by ctrl.c (queued by repl_ctrl_rx(),
 * which never blocks on vrdma_repl_lock, so that endpoints can be released
 * under it) and a tick every vrdma_repl_hb_ms: heartbeats, leases, connection
 * retries, broken channels, members and agents waiting for their RDMA
 * device.  vrdma_repl_kick() runs the tick at once.  The authorities run apart,
 * with their own lock, workqueue, message queue and tick (see
 * vrdma_repl_auth_lock).
 *
 * Control messages are wire input: the body sizes, the group name, the
 * configuration hash (the hosts agree on the whole group: members, their
 * order, the authority, the region size, the timing), the
 * sender (a member's message must come from that member's address, an
 * authority's from the authority address) and the receiver (the local
 * instance whose address received the datagram, never another local
 * instance) are checked here; the fields of each type by its handler.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "ctrl.h"
#include "repl.h"

unsigned int vrdma_repl_hb_ms = 100;
module_param_named(repl_hb_ms, vrdma_repl_hb_ms, uint, 0444);
MODULE_PARM_DESC(repl_hb_ms,
		 "Replication: heartbeat interval in ms (default 100)");

unsigned int vrdma_repl_lease_ms = 1000;
module_param_named(repl_lease_ms, vrdma_repl_lease_ms, uint, 0444);
MODULE_PARM_DESC(repl_lease_ms,
		 "Replication: lease of a member from the authority in ms (default 1000)");

unsigned int vrdma_repl_stall_ms = 5000;
module_param_named(repl_stall_ms, vrdma_repl_stall_ms, uint, 0644);
MODULE_PARM_DESC(repl_stall_ms,
		 "Replication: the authority removes a member whose applied sequence number stays behind its predecessor's for this long, in ms (default 5000, 0: never; at most 3600000)");

static struct workqueue_struct *repl_wq;
static struct delayed_work repl_tick_work;
static bool repl_running;

/*
 * The authorities run apart, under vrdma_repl_auth_lock and on their own
 * workqueue, as on a machine of their own: nothing a member or an agent
 * does (even waiting) delays their decisions.  The authorities never take
 * vrdma_repl_lock (the order: Documentation/architecture.rst, "Locking").
 */
DEFINE_MUTEX(vrdma_repl_auth_lock);
static LIST_HEAD(repl_auths);			/* vrdma_repl_auth_lock */
static struct workqueue_struct *repl_auth_wq;
static struct delayed_work repl_auth_tick_work;

/**
 * vrdma_repl_kick() - run the control loop's tick now
 */
void vrdma_repl_kick(void)
{
	if (READ_ONCE(repl_running))
		mod_delayed_work(repl_wq, &repl_tick_work, 0);
}

struct repl_rxmsg {
	struct list_head node;
	struct in6_addr local;
	struct in6_addr src;
	u8 type;
	size_t len;
	u8 body[];
};

#define REPL_RXQ_MAX	4096

static void repl_dispatch(struct repl_rxmsg *msg);
static void repl_auth_dispatch(struct repl_rxmsg *msg);
static void repl_rxq_work_fn(struct work_struct *work);

/*
 * A queue of received control messages, and the work that dispatches them,
 * one at a time, under the lock of their receivers.
 */
struct repl_rxq {
	struct list_head list;		/* repl_rx_lock */
	struct work_struct work;
	struct workqueue_struct *wq;
	struct mutex *lock;		/* held by dispatch() */
	void (*dispatch)(struct repl_rxmsg *msg);
};

static DEFINE_SPINLOCK(repl_rx_lock);
static unsigned int repl_rx_count;	/* in both queues (repl_rx_lock) */

/* For members and agents, and for authorities. */
static struct repl_rxq repl_rxq = {
	.list		= LIST_HEAD_INIT(repl_rxq.list),
	.work		= __WORK_INITIALIZER(repl_rxq.work, repl_rxq_work_fn),
	.lock		= &vrdma_repl_lock,
	.dispatch	= repl_dispatch,
};

static struct repl_rxq repl_auth_rxq = {
	.list		= LIST_HEAD_INIT(repl_auth_rxq.list),
	.work		= __WORK_INITIALIZER(repl_auth_rxq.work,
					     repl_rxq_work_fn),
	.lock		= &vrdma_repl_auth_lock,
	.dispatch	= repl_auth_dispatch,
};

/* ctrl.c handler: queue the message for the control loop. */
static void repl_ctrl_rx(struct vrdma_ctrl_ep *ep, const struct in6_addr *src,
			 u8 type, const void *body, size_t len)
{
	struct repl_rxq *q = &repl_rxq;
	struct repl_rxmsg *msg;

	if (len < sizeof(struct vrdma_repl_c_hdr))
		return;
	if (((const struct vrdma_repl_c_hdr *)body)->dst_role ==
	    VRDMA_REPL_R_AUTHORITY)
		q = &repl_auth_rxq;
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
	list_add_tail(&msg->node, &q->list);
	spin_unlock_bh(&repl_rx_lock);
	queue_work(q->wq, &q->work);
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

/*
 * Does a message fit group @g: the sender's configuration (its hash),
 * sender's role and address.  A message sent under another configuration
 * is counted and logged, never acted on.
 */
static bool repl_msg_from(struct repl_group *g, const struct repl_rxmsg *msg)
{
	const struct vrdma_repl_c_hdr *h = (const void *)msg->body;

	if (le64_to_cpu(h->size) != g->size ||
	    memcmp(h->cfg_hash, g->cfg_hash, sizeof(g->cfg_hash))) {
		atomic64_inc(&g->cfg_mismatches);
		pr_warn_ratelimited("repl %s: refused a message from %pI6c sent under another configuration of the group (%s; hash %*phN, here %*phN): are the hosts configured alike?\n",
				    g->name, &msg->src,
				    le64_to_cpu(h->size) != g->size ?
				    "another region size" :
				    "members, their order, authority or timing",
				    VRDMA_REPL_CFG_HASH_LEN, h->cfg_hash,
				    VRDMA_REPL_CFG_HASH_LEN, g->cfg_hash);
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
	g = vrdma_repl_group_find_locked(h->group);
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
			vrdma_repl_member_config(m, &cfg, le64_to_cpu(cm->echo),
						 le32_to_cpu(cm->lease_ms));
		else
			vrdma_repl_client_config(c, &cfg);
		return;
	}
	case VRDMA_REPL_C_LINK_REQ:
		if (!m || h->src_role != VRDMA_REPL_R_MEMBER)
			goto bad;
		vrdma_repl_member_link_req(m, &msg->src, (const void *)h);
		return;
	case VRDMA_REPL_C_LINK_REP:
		if (!m || h->src_role != VRDMA_REPL_R_MEMBER)
			goto bad;
		vrdma_repl_member_link_rep(m, (const void *)h, msg->len);
		return;
	case VRDMA_REPL_C_CLIENT_REQ:
		if (!m || h->src_role != VRDMA_REPL_R_AGENT)
			goto bad;
		vrdma_repl_member_client_req(m, &msg->src, (const void *)h);
		return;
	case VRDMA_REPL_C_CLIENT_REP:
		if (!c || h->src_role != VRDMA_REPL_R_MEMBER)
			goto bad;
		vrdma_repl_client_rep(c, (const void *)h);
		return;
	}
bad:
	pr_debug_ratelimited("repl: invalid control message (type %u) from %pI6c\n",
			     msg->type, &msg->src);
}

/* Messages to authorities: HB and SUSPECT. */
static void repl_auth_dispatch(struct repl_rxmsg *msg)
{
	const struct vrdma_repl_c_hdr *h = (const void *)msg->body;
	struct repl_authority *a;

	lockdep_assert_held(&vrdma_repl_auth_lock);
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
			vrdma_repl_auth_hb(a, &msg->src, (const void *)h);
		else if (msg->type == VRDMA_REPL_C_SUSPECT &&
			 h->src_role == VRDMA_REPL_R_MEMBER)
			vrdma_repl_auth_suspect(a, (const void *)h);
		else
			goto bad;
		return;
	}
	return;
bad:
	pr_debug_ratelimited("repl: invalid control message (type %u) from %pI6c\n",
			     msg->type, &msg->src);
}

static void repl_rxq_work_fn(struct work_struct *work)
{
	struct repl_rxq *q = container_of(work, struct repl_rxq, work);
	struct repl_rxmsg *msg, *tmp;
	unsigned int n = 0;
	LIST_HEAD(list);

	spin_lock_bh(&repl_rx_lock);
	list_splice_init(&q->list, &list);
	spin_unlock_bh(&repl_rx_lock);

	mutex_lock(q->lock);
	list_for_each_entry_safe(msg, tmp, &list, node) {
		list_del(&msg->node);
		q->dispatch(msg);
		kfree(msg);
		n++;
	}
	mutex_unlock(q->lock);
	spin_lock_bh(&repl_rx_lock);
	repl_rx_count -= min(n, repl_rx_count);
	spin_unlock_bh(&repl_rx_lock);
}

/* Drop what a queue still holds (module unload, the endpoints gone). */
static void repl_rxq_drain(struct repl_rxq *q)
{
	struct repl_rxmsg *msg, *tmp;

	flush_work(&q->work);
	list_for_each_entry_safe(msg, tmp, &q->list, node) {
		list_del(&msg->node);
		kfree(msg);
	}
}

static void repl_auth_tick_fn(struct work_struct *work)
{
	struct repl_authority *a;

	mutex_lock(&vrdma_repl_auth_lock);
	list_for_each_entry(a, &repl_auths, node)
		vrdma_repl_auth_tick(a);
	mutex_unlock(&vrdma_repl_auth_lock);
	if (READ_ONCE(repl_running))
		queue_delayed_work(repl_auth_wq, &repl_auth_tick_work,
				   msecs_to_jiffies(vrdma_repl_hb_ms));
}

/**
 * vrdma_repl_auth_start() - start the decisions of an authority
 * @a: the authority (its group is listed)
 */
void vrdma_repl_auth_start(struct repl_authority *a)
{
	mutex_lock(&vrdma_repl_auth_lock);
	list_add_tail(&a->node, &repl_auths);
	mutex_unlock(&vrdma_repl_auth_lock);
}

/**
 * vrdma_repl_auth_stop() - stop the decisions of an authority
 * @a: the authority
 */
void vrdma_repl_auth_stop(struct repl_authority *a)
{
	mutex_lock(&vrdma_repl_auth_lock);
	list_del_init(&a->node);
	mutex_unlock(&vrdma_repl_auth_lock);
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
				vrdma_repl_member_tick(g->local[i]);
		if (g->client)
			vrdma_repl_client_tick(g->client);
	}
	mutex_unlock(&vrdma_repl_lock);
	if (READ_ONCE(repl_running))
		queue_delayed_work(repl_wq, &repl_tick_work,
				   msecs_to_jiffies(vrdma_repl_hb_ms));
}

/* Module init and exit */

/**
 * vrdma_repl_init() - start the replication engine
 *
 * Return: 0 or a negative errno.
 */
int __init vrdma_repl_init(void)
{
	int ret;

	if (!vrdma_repl_hb_ms || vrdma_repl_hb_ms > 10000 ||
	    vrdma_repl_lease_ms < 2 * vrdma_repl_hb_ms || vrdma_repl_lease_ms > 600000) {
		pr_err("repl: need 0 < repl_hb_ms <= 10000 and 2 * repl_hb_ms <= repl_lease_ms <= 600000\n");
		return -EINVAL;
	}
	/* The channel (ctrl.c) is the core's, set up before this. */
	repl_wq = alloc_ordered_workqueue("vrdma_repl", WQ_HIGHPRI);
	if (!repl_wq)
		return -ENOMEM;
	repl_auth_wq = alloc_ordered_workqueue("vrdma_repl_auth", WQ_HIGHPRI);
	if (!repl_auth_wq) {
		destroy_workqueue(repl_wq);
		return -ENOMEM;
	}
	repl_rxq.wq = repl_wq;
	repl_auth_rxq.wq = repl_auth_wq;
	INIT_DELAYED_WORK(&repl_auth_tick_work, repl_auth_tick_fn);
	INIT_DELAYED_WORK(&repl_tick_work, repl_tick_fn);
	ret = vrdma_ctrl_register(VRDMA_CTRL_REPL_FIRST, VRDMA_CTRL_REPL_LAST,
				  repl_ctrl_rx);
	if (ret)
		goto err_wq;
	ret = vrdma_repl_devs_init();
	if (ret)
		goto err_ctrl;
	WRITE_ONCE(repl_running, true);
	queue_delayed_work(repl_wq, &repl_tick_work,
			   msecs_to_jiffies(vrdma_repl_hb_ms));
	queue_delayed_work(repl_auth_wq, &repl_auth_tick_work,
			   msecs_to_jiffies(vrdma_repl_hb_ms));
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
	WRITE_ONCE(repl_running, false);
	cancel_delayed_work_sync(&repl_tick_work);
	cancel_delayed_work_sync(&repl_auth_tick_work);
	vrdma_repl_groups_exit();

	/* Every endpoint is gone: no more control messages. */
	vrdma_ctrl_unregister(VRDMA_CTRL_REPL_FIRST, VRDMA_CTRL_REPL_LAST);
	repl_rxq_drain(&repl_rxq);
	repl_rxq_drain(&repl_auth_rxq);
	vrdma_repl_devs_exit();
	vrdma_nl_repl_exit();
	destroy_workqueue(repl_auth_wq);
	destroy_workqueue(repl_wq);
	rcu_barrier();
}
