// SPDX-License-Identifier: GPL-2.0
/*
 * The client agent of a group on this host: the entry point of every
 * operation submitted here (netlink requests and in-kernel clients).
 *
 * The agent has an id (random, 64 bits) and numbers its operations
 * (operation ids, increasing).  It keeps each operation, with a copy of
 * its data, until the head reports it complete, and sends them to the
 * head over an RC connection on the agent's own RDMA device (the one
 * whose RoCE GID is the agent's address), in OPS messages filled lazily:
 * while REPL_SEND_CREDITS messages are in flight, operations wait, then
 * go together.  When the head changes (a new configuration from the
 * authority) or the connection breaks, the agent connects to the head of
 * the newest configuration and sends every operation that has not
 * completed again, in order: the head recognises those it applied already
 * by (agent id, operation id) and completes them without applying them a
 * second time.
 *
 * At most REPL_WINDOW operation ids are in flight: a submitter waits for
 * room (or gets -EAGAIN with VRDMA_REPL_NOWAIT).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "audit.h"
#include "ctrl.h"
#include "repl.h"

#define REPL_AGENT_NRX		32
#define REPL_AGENT_CQE		512

static void repl_client_push(struct repl_client *c);

/* Complete an operation (lock held): report it and forget it. */
static void repl_client_complete(struct repl_client *c, struct repl_pending *p,
				 int status, const struct vrdma_repl_wres *res,
				 u8 nres, bool no_result)
{
	struct vrdma_repl_completion comp = {
		.status = status,
		.no_result = no_result,
	};
	unsigned int i;

	for (i = 0; i < nres && i < VRDMA_REPL_MAX_MEMBERS; i++) {
		u8 idx = res[i].member;

		if (idx >= c->g->nmembers)
			continue;
		comp.res[comp.nres].member = idx;
		comp.res[comp.nres].addr = c->g->members[idx];
		comp.res[comp.nres].old = le64_to_cpu(res[i].old);
		comp.res[comp.nres].swapped = res[i].swapped;
		comp.nres++;
	}
	if (c->send_next == p)
		c->send_next = list_is_last(&p->node, &c->pending) ? NULL :
			       list_next_entry(p, node);
	list_del(&p->node);
	c->pend[p->op_id % REPL_WINDOW] = NULL;
	c->npending--;
	p->done(p->ctx, &comp);
	kfree(p->data);
	kfree(p);
	wake_up(&c->wait);
}

static void repl_client_slot_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct repl_slot *s = container_of(wc->wr_cqe, struct repl_slot, cqe);
	struct repl_chan *ch = wc->qp->qp_context;
	struct repl_client *c = ch->c;

	spin_lock_bh(&c->lock);
	list_add(&s->node, &c->free_slots);
	ch->outstanding--;
	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR && !ch->dead) {
			ch->dead = true;
			ch->up = false;
			vrdma_repl_kick();
		}
	} else {
		repl_client_push(c);
	}
	spin_unlock_bh(&c->lock);
}

static void repl_client_fail_chan(struct repl_client *c, struct repl_chan *ch)
{
	if (ch->dead)
		return;
	ch->dead = true;
	ch->up = false;
	vrdma_repl_kick();
}

/* DONE messages from the head. */
static void repl_client_process(struct repl_client *c, struct repl_chan *ch,
				struct repl_rxbuf *rxb)
{
	const u8 *base = (const u8 *)ch->rx.va + rxb->off;
	const struct vrdma_repl_msg *msg = (const void *)base;
	u32 pos = sizeof(*msg), i, count;
	struct repl_pending *p;

	if (rxb->len < sizeof(*msg) ||
	    msg->magic != cpu_to_le32(VRDMA_REPL_MSG_MAGIC) ||
	    msg->version != VRDMA_REPL_MSG_VERSION ||
	    le32_to_cpu(msg->len) != rxb->len ||
	    msg->type != VRDMA_REPL_M_DONE) {
		repl_client_fail_chan(c, ch);
		return;
	}
	count = le16_to_cpu(msg->count);
	for (i = 0; i < count; i++) {
		const struct vrdma_repl_wop *w = (const void *)(base + pos);
		u64 op_id;
		size_t n;
		s32 status;

		if (rxb->len - pos < sizeof(*w) ||
		    w->nres > VRDMA_REPL_MAX_MEMBERS) {
			repl_client_fail_chan(c, ch);
			return;
		}
		n = sizeof(*w) + w->nres * sizeof(struct vrdma_repl_wres);
		if (n > rxb->len - pos) {
			repl_client_fail_chan(c, ch);
			return;
		}
		pos += n;
		op_id = le64_to_cpu(w->op_id);
		if (le64_to_cpu(w->client) != c->id)
			continue;
		p = c->pend[op_id % REPL_WINDOW];
		if (!p || p->op_id != op_id)
			continue;	/* completed already */
		status = (s32)le32_to_cpu(w->status);
		if (status > 0 || status < -MAX_ERRNO)
			status = -EPROTO;
		repl_client_complete(c, p, status, (const void *)(w + 1),
				     w->nres,
				     le16_to_cpu(w->flags) &
				     VRDMA_REPL_WOP_NO_RESULT);
	}
}

/**
 * vrdma_repl_client_rx() - receive completion of the agent's channel
 * @ch: the channel
 * @rxb: the buffer
 * @wc: the completion
 */
void vrdma_repl_client_rx(struct repl_chan *ch, struct repl_rxbuf *rxb,
			  struct ib_wc *wc)
{
	struct repl_client *c = ch->c;

	spin_lock_bh(&c->lock);
	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			repl_client_fail_chan(c, ch);
		goto out;
	}
	if (ch->dead)
		goto out;
	rxb->len = wc->byte_len;
	repl_client_process(c, ch, rxb);
	if (!ch->dead && vrdma_repl_chan_post_recv(ch, rxb))
		repl_client_fail_chan(c, ch);
	repl_client_push(c);
out:
	spin_unlock_bh(&c->lock);
}

/* Encode @p into slot @s; false if it does not fit. */
static bool repl_client_encode(struct repl_client *c, struct repl_slot *s,
			       struct repl_pending *p)
{
	u32 dlen = p->op.opcode == VRDMA_REPL_OP_WRITE ? ALIGN(p->op.len, 8) : 0;
	struct vrdma_repl_wop *w;
	u8 *at;

	if (s->len + sizeof(*w) + dlen > REPL_MSG_MAX)
		return false;
	at = (u8 *)vrdma_repl_slot_va(&c->slots, s) + s->len;
	w = (struct vrdma_repl_wop *)at;
	memset(w, 0, sizeof(*w));
	w->client = cpu_to_le64(c->id);
	w->op_id = cpu_to_le64(p->op_id);
	w->offset = cpu_to_le64(p->op.offset);
	w->src = cpu_to_le64(p->op.src);
	w->expected = cpu_to_le64(p->op.expected);
	w->newval = cpu_to_le64(p->op.newval);
	w->len = cpu_to_le32(p->op.len);
	w->opcode = p->op.opcode;
	if (dlen) {
		memcpy(w + 1, p->data, p->op.len);
		memset((u8 *)(w + 1) + p->op.len, 0, dlen - p->op.len);
	}
	s->len += sizeof(*w) + dlen;
	s->count++;
	return true;
}

/* Send what waits, within the credits (lock held). */
static void repl_client_push(struct repl_client *c)
{
	struct repl_chan *ch = c->ch;
	struct repl_slot *s;

	while (ch && ch->up && !ch->dead && c->send_next &&
	       ch->outstanding < REPL_SEND_CREDITS &&
	       !list_empty(&c->free_slots)) {
		s = list_first_entry(&c->free_slots, struct repl_slot, node);
		list_del(&s->node);
		s->len = sizeof(struct vrdma_repl_msg);
		s->count = 0;
		s->type = VRDMA_REPL_M_OPS;
		while (c->send_next && s->count < U16_MAX &&
		       repl_client_encode(c, s, c->send_next))
			c->send_next = list_is_last(&c->send_next->node,
						    &c->pending) ? NULL :
				       list_next_entry(c->send_next, node);
		if (vrdma_repl_slot_post(ch, &c->slots, s, 0, c->cfg.epoch)) {
			list_add(&s->node, &c->free_slots);
			repl_client_fail_chan(c, ch);
			return;
		}
	}
}

static void repl_client_send_req(struct repl_client *c)
{
	struct vrdma_repl_c_client_req req;

	vrdma_repl_hdr_fill(&req.h, c->g, c->cfg.epoch, VRDMA_REPL_R_AGENT,
			    VRDMA_REPL_NO_IDX, VRDMA_REPL_R_MEMBER, c->head_idx);
	req.client = cpu_to_le64(c->id);
	req.qpn = cpu_to_le32(c->ch->qp->qp_num);
	req.psn = cpu_to_le32(c->ch->psn);
	vrdma_ctrl_send(c->ep, &c->g->members[c->head_idx],
			VRDMA_REPL_C_CLIENT_REQ, &req, sizeof(req));
	c->retry_at = jiffies + msecs_to_jiffies(max(vrdma_repl_hb_ms, 100U) * 3);
}

/* Tear the channel down (vrdma_repl_lock held). */
static void repl_client_drop_chan(struct repl_client *c)
{
	struct repl_chan *ch;

	spin_lock_bh(&c->lock);
	ch = c->ch;
	c->ch = NULL;
	if (ch) {
		ch->dead = true;
		ch->up = false;
	}
	spin_unlock_bh(&c->lock);
	vrdma_repl_chan_destroy(ch);
}

static void repl_client_connect(struct repl_client *c)
{
	struct repl_chan *ch;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!c->have_dev || c->head_idx < 0)
		return;
	ch = vrdma_repl_chan_create(&c->dr, REPL_CH_HEAD, REPL_AGENT_NRX,
				    REPL_SMALL_MAX, 64);
	if (IS_ERR(ch)) {
		c->retry_at = jiffies + msecs_to_jiffies(1000);
		return;
	}
	ch->c = c;
	ch->peer_idx = c->head_idx;
	ch->peer_addr = c->g->members[c->head_idx];
	ch->epoch = c->cfg.epoch;
	spin_lock_bh(&c->lock);
	c->ch = ch;
	spin_unlock_bh(&c->lock);
	repl_client_send_req(c);
}

/**
 * vrdma_repl_client_rep() - the head answers our connection request
 * @c: the agent
 * @rep: the answer
 *
 * vrdma_repl_lock held.
 */
void vrdma_repl_client_rep(struct repl_client *c,
			   const struct vrdma_repl_c_client_rep *rep)
{
	struct repl_chan *ch = c->ch;
	s32 status = le32_to_cpu(rep->status);
	u32 qpn = le32_to_cpu(rep->qpn);
	int ret;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!ch || ch->up || ch->dead || le64_to_cpu(rep->client) != c->id ||
	    le32_to_cpu(rep->req_qpn) != ch->qp->qp_num ||
	    rep->h.src_idx != ch->peer_idx)
		return;
	if (status) {
		pr_debug("repl %s: the head refused the agent: %d\n",
			 c->g->name, status);
		repl_client_drop_chan(c);
		c->retry_at = jiffies + msecs_to_jiffies(max(vrdma_repl_hb_ms, 100U));
		return;
	}
	if (!qpn || qpn > 0xffffff)
		return;
	ret = vrdma_repl_chan_connect(ch, &c->dr, qpn, le32_to_cpu(rep->psn));
	if (ret == -EAGAIN)
		return;		/* resolving the head: the next request */
	if (ret) {
		pr_warn_ratelimited("repl %s: agent cannot connect to the head: %d\n",
				    c->g->name, ret);
		repl_client_drop_chan(c);
		return;
	}
	spin_lock_bh(&c->lock);
	ch->up = true;
	/* Everything not completed goes (again), in order. */
	c->send_next = list_first_entry_or_null(&c->pending,
						struct repl_pending, node);
	repl_client_push(c);
	spin_unlock_bh(&c->lock);
	pr_debug("repl %s: agent connected to member %u\n", c->g->name,
		 ch->peer_idx);
}

/**
 * vrdma_repl_client_config() - a configuration from the authority
 * @c: the agent
 * @cfg: the configuration
 *
 * vrdma_repl_lock held.
 */
void vrdma_repl_client_config(struct repl_client *c, const struct repl_config *cfg)
{
	int head = cfg->nchain ? cfg->idx[0] : -1;

	lockdep_assert_held(&vrdma_repl_lock);
	if (cfg->epoch <= c->cfg.epoch)
		return;
	c->cfg = *cfg;
	if (head == c->head_idx && c->ch && !c->ch->dead)
		return;
	c->head_idx = head;
	repl_client_drop_chan(c);
	repl_client_connect(c);
}

/**
 * vrdma_repl_client_tick() - periodic work of the agent
 * @c: the agent
 *
 * Heartbeat to the authority (it answers with the configuration),
 * reconnection.  vrdma_repl_lock held.
 */
void vrdma_repl_client_tick(struct repl_client *c)
{
	struct vrdma_repl_c_hb hb = {};
	bool dead;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!c->have_dev)
		vrdma_repl_client_attach(c);
	if (c->have_dev) {
		spin_lock_bh(&c->lock);
		dead = c->ch && vrdma_repl_chan_failed(c->ch);
		spin_unlock_bh(&c->lock);
		if (dead)
			repl_client_drop_chan(c);
		if (!c->ch && c->head_idx >= 0 &&
		    time_after_eq(jiffies, c->retry_at))
			repl_client_connect(c);
		else if (c->ch && !c->ch->up &&
			 time_after(jiffies, c->retry_at))
			repl_client_send_req(c);
	}

	vrdma_repl_hdr_fill(&hb.h, c->g, c->cfg.epoch, VRDMA_REPL_R_AGENT,
			    VRDMA_REPL_NO_IDX, VRDMA_REPL_R_AUTHORITY,
		      VRDMA_REPL_NO_IDX);
	hb.nonce = cpu_to_le64(c->id);
	hb.echo = cpu_to_le64(jiffies);
	hb.flags = cpu_to_le32(c->have_dev ? 0 : VRDMA_REPL_HB_NODEV);
	vrdma_ctrl_send(c->ep, &c->g->authority, VRDMA_REPL_C_HB, &hb,
			sizeof(hb));
}

/**
 * vrdma_repl_client_attach() - set up the agent's RDMA resources
 * @c: the agent
 *
 * vrdma_repl_lock held.
 */
void vrdma_repl_client_attach(struct repl_client *c)
{
	u32 i;
	int ret;

	lockdep_assert_held(&vrdma_repl_lock);
	if (c->have_dev)
		return;
	ret = vrdma_repl_devres_open(&c->dr, &c->addr, REPL_AGENT_CQE, c);
	if (ret)
		return;
	ret = vrdma_repl_slots_init(&c->slots, &c->slot, &c->free_slots,
				    REPL_AGENT_SLOTS, REPL_MSG_MAX, &c->dr);
	if (ret) {
		vrdma_repl_devres_close(&c->dr);
		return;
	}
	for (i = 0; i < REPL_AGENT_SLOTS; i++)
		c->slot[i].cqe.done = repl_client_slot_done;
	c->have_dev = true;
	spin_lock_bh(&c->lock);
	c->can_submit = !c->g->dead;
	spin_unlock_bh(&c->lock);
	c->retry_at = jiffies;
	if (c->head_idx >= 0)
		repl_client_connect(c);
	pr_info("repl %s: client agent (%pI6c) on %s\n", c->g->name, &c->addr,
		dev_name(&c->dr.dev->dev));
}

/**
 * vrdma_repl_client_detach() - release the agent's RDMA resources
 * @c: the agent
 *
 * Operations in flight stay pending until the device comes back (or the
 * group goes away).  vrdma_repl_lock held.
 */
void vrdma_repl_client_detach(struct repl_client *c)
{
	lockdep_assert_held(&vrdma_repl_lock);
	if (!c->have_dev)
		return;
	spin_lock_bh(&c->lock);
	c->can_submit = false;
	spin_unlock_bh(&c->lock);
	repl_client_drop_chan(c);
	vrdma_repl_slots_fini(&c->slots, &c->slot);
	vrdma_repl_devres_close(&c->dr);
	c->have_dev = false;
	wake_up_all(&c->wait);
}

/**
 * vrdma_repl_client_submit() - submit an operation
 * @c: the agent
 * @op: the operation (checked against the region by the caller)
 * @done: completion callback
 * @ctx: its argument
 * @nowait: fail with -EAGAIN instead of waiting for room
 *
 * Return: 0 (@done will be called), -ENETDOWN (no RDMA device for the
 * agent's address), -ESHUTDOWN (the group is deleted), -EAGAIN, -EINTR,
 * -ENOMEM.
 */
int vrdma_repl_client_submit(struct repl_client *c, const struct vrdma_repl_op *op,
			     vrdma_repl_done_t done, void *ctx, bool nowait)
{
	gfp_t gfp = nowait ? GFP_ATOMIC : GFP_KERNEL;
	struct repl_pending *p, *oldest;
	int ret;

	p = kzalloc(sizeof(*p), gfp);
	if (!p)
		return -ENOMEM;
	p->op = *op;
	p->op.data = NULL;
	p->done = done;
	p->ctx = ctx;
	if (op->opcode == VRDMA_REPL_OP_WRITE) {
		p->data = kmemdup(op->data, op->len, gfp);
		if (!p->data) {
			kfree(p);
			return -ENOMEM;
		}
	}

	spin_lock_bh(&c->lock);
	for (;;) {
		if (c->g->dead) {
			ret = -ESHUTDOWN;
			goto err;
		}
		if (!c->can_submit) {
			ret = -ENETDOWN;
			goto err;
		}
		oldest = list_first_entry_or_null(&c->pending,
						  struct repl_pending, node);
		if (!oldest || c->next_id - oldest->op_id < REPL_WINDOW)
			break;
		if (nowait) {
			ret = -EAGAIN;
			goto err;
		}
		spin_unlock_bh(&c->lock);
		ret = wait_event_interruptible(c->wait, ({
			bool room;

			spin_lock_bh(&c->lock);
			oldest = list_first_entry_or_null(&c->pending,
							  struct repl_pending,
							  node);
			room = !oldest || c->next_id - oldest->op_id <
			       REPL_WINDOW || !c->can_submit || c->g->dead;
			spin_unlock_bh(&c->lock);
			room;
		}));
		if (ret) {
			kfree(p->data);
			kfree(p);
			return -EINTR;
		}
		spin_lock_bh(&c->lock);
	}
	p->op_id = c->next_id++;
	list_add_tail(&p->node, &c->pending);
	c->pend[p->op_id % REPL_WINDOW] = p;
	c->npending++;
	c->stat_ops++;
	if (!c->send_next)
		c->send_next = p;
	repl_client_push(c);
	spin_unlock_bh(&c->lock);
	return 0;

err:
	spin_unlock_bh(&c->lock);
	kfree(p->data);
	kfree(p);
	return ret;
}

/**
 * vrdma_repl_client_create() - the agent of a group on this host
 * @g: the group
 * @addr: the agent's address (a local RNIC's)
 *
 * Called without vrdma_repl_lock (the group is not visible yet).
 *
 * Return: the agent or an ERR_PTR.
 */
struct repl_client *vrdma_repl_client_create(struct repl_group *g,
					     const struct in6_addr *addr)
{
	struct repl_client *c;
	int ret;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->g = g;
	c->addr = *addr;
	c->head_idx = -1;
	c->next_id = 1;
	do {
		c->id = get_random_u64();
	} while (!c->id);
	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->pending);
	INIT_LIST_HEAD(&c->free_slots);
	init_waitqueue_head(&c->wait);
	c->pend = kcalloc(REPL_WINDOW, sizeof(*c->pend), GFP_KERNEL);
	if (!c->pend) {
		ret = -ENOMEM;
		goto err;
	}
	c->ep = vrdma_ctrl_ep_get(addr);
	if (IS_ERR(c->ep)) {
		ret = PTR_ERR(c->ep);
		c->ep = NULL;
		goto err;
	}
	vrdma_audit_created(VRDMA_AUDIT_REPL_CLIENT);
	return c;

err:
	kfree(c->pend);
	kfree(c);
	return ERR_PTR(ret);
}

/**
 * vrdma_repl_client_shutdown() - stop the agent (the group is deleted)
 * @c: the agent
 *
 * Completes every pending operation with -ESHUTDOWN.  vrdma_repl_lock
 * held, or the group never visible.
 */
void vrdma_repl_client_shutdown(struct repl_client *c)
{
	struct repl_pending *p;

	vrdma_repl_client_detach(c);
	spin_lock_bh(&c->lock);
	c->can_submit = false;
	while ((p = list_first_entry_or_null(&c->pending, struct repl_pending,
					     node)))
		repl_client_complete(c, p, -ESHUTDOWN, NULL, 0, false);
	spin_unlock_bh(&c->lock);
	wake_up_all(&c->wait);
	vrdma_ctrl_ep_put(c->ep);
	c->ep = NULL;
}

/**
 * vrdma_repl_client_destroy() - free the agent (after vrdma_repl_client_shutdown())
 * @c: the agent, or NULL
 */
void vrdma_repl_client_destroy(struct repl_client *c)
{
	if (!c)
		return;
	WARN_ON_ONCE(!list_empty(&c->pending));
	kfree(c->pend);
	kfree(c);
	vrdma_audit_destroyed(VRDMA_AUDIT_REPL_CLIENT);
}
