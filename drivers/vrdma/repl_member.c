// SPDX-License-Identifier: GPL-2.0
/*
 * A member of a replication chain on this host: its control
 * (vrdma_repl_lock): creation and destruction, its RDMA device, the
 * configurations from the authority, links to its neighbours, heartbeats
 * and leases, and the state transfer to a joining successor.  repl_data.c
 * holds its data path (apply, forward log, acknowledgments).
 *
 * Configurations from the authority decide the member's neighbours;
 * channels to a neighbour that did not change are kept.  The predecessor
 * connects to its successor (LINK_REQ/LINK_REP over the control channel,
 * retransmitted until answered); a successor that is not in sync gets the
 * region by RDMA WRITE from its predecessor, then a STATE message.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "audit.h"
#include "ctrl.h"
#include "hooks.h"
#include "repl.h"

/* State transfer to a joining successor */

static void repl_xfer_done(struct ib_cq *cq, struct ib_wc *wc);

static void repl_xfer_post(struct repl_member *m, struct repl_chan *ch)
{
	struct repl_xfer *x = ch->xfer;
	size_t lcb = repl_mem_chunk_bytes(&m->region);

	while (x->inflight < REPL_XFER_DEPTH && x->next < x->size) {
		u64 off = x->next, c = off / x->chunk_bytes;
		u32 n = min_t(u64, REPL_XFER_CHUNK, x->size - off);
		struct ib_sge sge;
		struct ib_rdma_wr wr = {};

		n = min_t(u64, n, lcb - off % lcb);
		n = min_t(u64, n, x->chunk_bytes - off % x->chunk_bytes);
		sge.addr = repl_mem_addr(&m->region, off);
		sge.length = n;
		sge.lkey = repl_mem_lkey(&m->region, off);
		wr.wr.wr_cqe = &x->cqe;
		wr.wr.sg_list = &sge;
		wr.wr.num_sge = 1;
		wr.wr.opcode = IB_WR_RDMA_WRITE;
		wr.wr.send_flags = IB_SEND_SIGNALED;
		wr.remote_addr = le64_to_cpu(x->chunks[c].iova) +
				 off % x->chunk_bytes;
		wr.rkey = le32_to_cpu(x->chunks[c].rkey);
		if (ib_post_send(ch->qp, &wr.wr, NULL)) {
			vrdma_repl_chan_fail(ch, -EIO);
			return;
		}
		x->inflight++;
		x->next += n;
	}
}

/* Every write is done: send STATE (client table), resume. */
static void repl_xfer_finish(struct repl_member *m, struct repl_chan *ch)
{
	struct repl_xfer *x = ch->xfer;
	struct vrdma_repl_wclient *wc;
	struct repl_slot *s;
	struct repl_cs *cs;
	unsigned int bkt;

	if (ch->open) {
		list_add_tail(&ch->open->node, &ch->sendq);
		ch->open = NULL;
	}
	if (list_empty(&m->free_slots)) {
		vrdma_repl_chan_fail(ch, -ENOBUFS);
		return;
	}
	s = list_first_entry(&m->free_slots, struct repl_slot, node);
	list_del(&s->node);
	s->len = sizeof(struct vrdma_repl_msg);
	s->count = 0;
	s->type = VRDMA_REPL_M_STATE;
	hash_for_each(m->cstates, bkt, cs, node) {
		if (s->len + sizeof(*wc) > REPL_SMALL_MAX)
			break;
		wc = (void *)((u8 *)vrdma_repl_slot_va(&m->slots, s) + s->len);
		wc->client = cpu_to_le64(cs->client);
		wc->last_id = cpu_to_le64(cs->last_id);
		wc->acked_id = cpu_to_le64(cs->acked_id);
		s->len += sizeof(*wc);
		s->count++;
	}
	if (vrdma_repl_slot_post(ch, &m->slots, s, x->at, m->cfg.epoch)) {
		list_add(&s->node, &m->free_slots);
		vrdma_repl_chan_fail(ch, -EIO);
		return;
	}
	pr_info("repl %s: member %u sent its state (%llu bytes at sequence number %llu) to member %u\n",
		m->g->name, m->idx, x->size, x->at, ch->peer_idx);
	kfree(ch->xfer);
	ch->xfer = NULL;
	m->xfer_pause = false;
	ch->cursor = 0;		/* then every unacknowledged entry */
}

static void repl_xfer_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct repl_chan *ch = wc->qp->qp_context;
	struct repl_member *m = ch->m;

	spin_lock_bh(&m->lock);
	if (ch->xfer)
		ch->xfer->inflight--;
	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			vrdma_repl_chan_fail(ch, -EIO);
	} else if (ch->xfer && !ch->dead) {
		if (ch->xfer->next == ch->xfer->size && !ch->xfer->inflight)
			repl_xfer_finish(m, ch);
		else
			repl_xfer_post(m, ch);
		vrdma_repl_member_run(m);
	}
	spin_unlock_bh(&m->lock);
}

/* Control */

/**
 * vrdma_repl_hdr_fill() - fill the common head of a control message
 * @h: the head
 * @g: the group
 * @epoch: the sender's epoch
 * @src_role: VRDMA_REPL_R_* of the sender
 * @src_idx: its member index, or VRDMA_REPL_NO_IDX
 * @dst_role: VRDMA_REPL_R_* of the receiver
 * @dst_idx: its member index, or VRDMA_REPL_NO_IDX
 */
void vrdma_repl_hdr_fill(struct vrdma_repl_c_hdr *h, const struct repl_group *g,
			 u32 epoch, u8 src_role, u8 src_idx, u8 dst_role,
		   u8 dst_idx)
{
	memset(h, 0, sizeof(*h));
	strscpy(h->group, g->name, sizeof(h->group));
	h->size = cpu_to_le64(g->size);
	h->epoch = cpu_to_le32(epoch);
	h->src_role = src_role;
	h->src_idx = src_idx;
	h->dst_role = dst_role;
	h->dst_idx = dst_idx;
	memcpy(h->cfg_hash, g->cfg_hash, sizeof(h->cfg_hash));
}

static void repl_member_send_link_req(struct repl_member *m)
{
	struct repl_chan *ch = m->succ;
	struct vrdma_repl_c_link_req req;

	vrdma_repl_hdr_fill(&req.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
			    VRDMA_REPL_R_MEMBER, ch->peer_idx);
	req.qpn = cpu_to_le32(ch->qp->qp_num);
	req.psn = cpu_to_le32(ch->psn);
	req.nonce = cpu_to_le64(m->nonce);
	vrdma_ctrl_send(m->ep, &ch->peer_addr, VRDMA_REPL_C_LINK_REQ, &req,
			sizeof(req));
	ch->retry_at = jiffies + msecs_to_jiffies(max(vrdma_repl_hb_ms, 100U) * 3);
}

static void repl_member_connect_succ(struct repl_member *m, u8 succ_idx)
{
	struct repl_chan *ch;

	lockdep_assert_held(&vrdma_repl_lock);
	ch = vrdma_repl_chan_create(&m->dr, REPL_CH_SUCC, REPL_SUCC_NRX,
				    REPL_SMALL_MAX, REPL_CHAN_NSEND);
	if (IS_ERR(ch)) {
		pr_warn_ratelimited("repl %s: member %u: cannot create a QP: %ld\n",
				    m->g->name, m->idx, PTR_ERR(ch));
		return;
	}
	ch->m = m;
	ch->peer_idx = succ_idx;
	ch->peer_addr = m->g->members[succ_idx];
	ch->epoch = m->cfg.epoch;
	spin_lock_bh(&m->lock);
	m->succ = ch;
	spin_unlock_bh(&m->lock);
	repl_member_send_link_req(m);
}

/* Destroy channels taken off the data path. */
static void repl_destroy_chans(struct list_head *list)
{
	struct repl_chan *ch, *tmp;

	list_for_each_entry_safe(ch, tmp, list, node) {
		list_del_init(&ch->node);
		vrdma_repl_chan_destroy(ch);
	}
}

static void repl_member_suspect(struct repl_member *m, u8 idx)
{
	struct vrdma_repl_c_suspect s = { .idx = idx };

	vrdma_repl_hdr_fill(&s.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
			    VRDMA_REPL_R_AUTHORITY, VRDMA_REPL_NO_IDX);
	vrdma_ctrl_send(m->ep, &m->g->authority, VRDMA_REPL_C_SUSPECT, &s,
			sizeof(s));
}

/* Where @idx is in @cfg, or -1. */
static int repl_cfg_pos(const struct repl_config *cfg, u8 idx)
{
	int i;

	for (i = 0; i < cfg->nchain; i++)
		if (cfg->idx[i] == idx)
			return i;
	return -1;
}

/* Became the tail: everything applied is applied by the whole chain. */
static void repl_member_ack_all(struct repl_member *m)
{
	while (m->log_n) {
		struct repl_logent *e = vrdma_repl_log_ent(m, 0);
		u8 *p = (u8 *)m->log.va + e->off + sizeof(struct vrdma_repl_msg);
		u8 *end = (u8 *)m->log.va + e->off + e->len;

		while (p < end) {
			const struct vrdma_repl_wop *w = (const void *)p;
			u64 seq = le64_to_cpu(w->seq);

			p += vrdma_repl_wop_size(w, true);
			if (seq <= m->walked)
				continue;
			vrdma_repl_op_acked(m, w, seq, (const void *)(w + 1), w->nres);
			m->walked = seq;
		}
		vrdma_repl_log_release_first(m);
	}
	m->acked = m->applied;
	m->walked = m->applied;
	m->log_full = false;
}

/**
 * vrdma_repl_member_config() - a configuration from the authority
 * @m: the member
 * @cfg: the configuration
 * @echo: echo of our heartbeat (0 when pushed)
 * @lease_ms: the lease it grants from the echoed time
 *
 * vrdma_repl_lock held.
 */
void vrdma_repl_member_config(struct repl_member *m, const struct repl_config *cfg,
			      u64 echo, u32 lease_ms)
{
	u8 pred_idx = VRDMA_REPL_NO_IDX, succ_idx = VRDMA_REPL_NO_IDX;
	struct repl_chan *ch, *tmp;
	LIST_HEAD(dead);
	bool first;
	int pos;

	lockdep_assert_held(&vrdma_repl_lock);
	if (echo && !time_after((unsigned long)echo, jiffies) &&
	    cfg->epoch >= m->cfg.epoch) {
		m->lease_end = (unsigned long)echo + msecs_to_jiffies(lease_ms);
		m->leased = true;
		if (m->fenced && time_before(jiffies, m->lease_end)) {
			spin_lock_bh(&m->lock);
			m->fenced = false;
			vrdma_repl_member_run(m);
			spin_unlock_bh(&m->lock);
			pr_info("repl %s: member %u: lease renewed, no longer fenced\n",
				m->g->name, m->idx);
		}
	}
	if (cfg->epoch <= m->cfg.epoch || !m->have_dev)
		return;

	first = !m->cfg.epoch;
	pos = repl_cfg_pos(cfg, m->idx);
	if (pos > 0)
		pred_idx = cfg->idx[pos - 1];
	if (pos >= 0 && pos + 1 < cfg->nchain)
		succ_idx = cfg->idx[pos + 1];

	spin_lock_bh(&m->lock);
	m->cfg = *cfg;
	m->pos = pos;
	if (pos < 0)
		m->in_sync = false;
	else if (first && cfg->epoch == 1)
		m->in_sync = true;	/* the genesis: backing files as they are */
	m->syncing = pos >= 0 && !m->in_sync;
	m->head = pos == 0;

	if (m->pred && m->pred->peer_idx != pred_idx) {
		ch = m->pred;
		vrdma_repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	if (m->succ && m->succ->peer_idx != succ_idx) {
		ch = m->succ;
		vrdma_repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	if (!m->head || pos < 0) {
		list_for_each_entry_safe(ch, tmp, &m->clients, node) {
			vrdma_repl_member_unlink_chan(m, ch);
			list_add(&ch->node, &dead);
		}
	}
	if (pos >= 0 && pos == cfg->nchain - 1 && !m->tail && !m->syncing) {
		m->tail = true;
		repl_member_ack_all(m);
	}
	m->tail = pos >= 0 && pos == cfg->nchain - 1;
	if (pos < 0) {
		/* Out of the chain: what is left is of no use. */
		while (m->log_n)
			vrdma_repl_log_release_first(m);
	}
	vrdma_repl_member_run(m);
	spin_unlock_bh(&m->lock);

	repl_destroy_chans(&dead);

	pr_info("repl %s: member %u (%pI6c): epoch %u, position %d of %u%s\n",
		m->g->name, m->idx, &m->addr, cfg->epoch, pos, cfg->nchain,
		m->syncing ? ", waiting for the state" : "");

	if (succ_idx != VRDMA_REPL_NO_IDX && !m->succ)
		repl_member_connect_succ(m, succ_idx);
}

/**
 * vrdma_repl_member_link_req() - our predecessor connects
 * @m: the member
 * @src: its address (checked by the caller)
 * @req: the request
 *
 * vrdma_repl_lock held.
 */
void vrdma_repl_member_link_req(struct repl_member *m, const struct in6_addr *src,
				const struct vrdma_repl_c_link_req *req)
{
	u32 epoch = le32_to_cpu(req->h.epoch), qpn = le32_to_cpu(req->qpn);
	u64 nonce = le64_to_cpu(req->nonce);
	struct vrdma_repl_c_link_rep *rep;
	struct repl_chan *ch, *old = NULL;
	size_t len = sizeof(*rep);
	bool need_sync;
	u32 c;
	int ret;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!m->have_dev || epoch != m->cfg.epoch || m->pos <= 0 ||
	    m->cfg.idx[m->pos - 1] != req->h.src_idx || !qpn ||
	    qpn > 0xffffff)
		return;

	ch = m->pred;
	if (!ch || ch->peer_qpn != qpn || ch->nonce != nonce || ch->dead) {
		/* Not resolved yet: the predecessor asks again. */
		if (vrdma_repl_peer_l2(&m->dr, src))
			return;
		ch = vrdma_repl_chan_create(&m->dr, REPL_CH_PRED, REPL_PRED_NRX,
					    REPL_MSG_MAX, REPL_CHAN_NSEND);
		if (IS_ERR(ch))
			return;
		ch->m = m;
		ch->peer_idx = req->h.src_idx;
		ch->peer_addr = *src;
		ch->epoch = epoch;
		ch->nonce = nonce;
		ret = vrdma_repl_chan_connect(ch, &m->dr, qpn,
					      le32_to_cpu(req->psn));
		if (ret) {
			pr_warn_ratelimited("repl %s: member %u: cannot connect to member %u: %d\n",
					    m->g->name, m->idx,
					    req->h.src_idx, ret);
			vrdma_repl_chan_destroy(ch);
			return;
		}
		spin_lock_bh(&m->lock);
		if (m->pred) {
			old = m->pred;
			vrdma_repl_member_unlink_chan(m, old);
		}
		m->pred = ch;
		ch->up = true;
		spin_unlock_bh(&m->lock);
		vrdma_repl_chan_destroy(old);
	}

	spin_lock_bh(&m->lock);
	need_sync = !m->in_sync;
	spin_unlock_bh(&m->lock);
	if (need_sync)
		len += m->region.nchunks * sizeof(rep->chunks[0]);
	if (len > VRDMA_CTRL_BODY_MAX)
		return;
	rep = kzalloc(len, GFP_KERNEL);
	if (!rep)
		return;
	vrdma_repl_hdr_fill(&rep->h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
			    VRDMA_REPL_R_MEMBER, req->h.src_idx);
	rep->req_qpn = cpu_to_le32(qpn);
	rep->qpn = cpu_to_le32(ch->qp->qp_num);
	rep->psn = cpu_to_le32(ch->psn);
	spin_lock_bh(&m->lock);
	rep->applied = cpu_to_le64(m->applied);
	spin_unlock_bh(&m->lock);
	if (need_sync) {
		rep->flags = cpu_to_le32(VRDMA_REPL_LINK_NEED_SYNC);
		rep->chunk_bytes = cpu_to_le32(repl_mem_chunk_bytes(&m->region));
		rep->nchunks = cpu_to_le32(m->region.nchunks);
		for (c = 0; c < m->region.nchunks; c++) {
			rep->chunks[c].iova = cpu_to_le64(m->region.mrs[c]->iova);
			rep->chunks[c].rkey = cpu_to_le32(m->region.mrs[c]->rkey);
		}
	}
	vrdma_ctrl_send(m->ep, src, VRDMA_REPL_C_LINK_REP, rep, len);
	kfree(rep);
}

/*
 * Log matching when the link to an up-to-date successor forms (its
 * LINK_REP without NEED_SYNC, @applied its last applied sequence number).
 * Operations flow down the chain, so the successor applied a prefix of
 * what this member applied, and at least what this member no longer
 * keeps (its forward log starts after m->walked, which the tail
 * acknowledged).  Otherwise the two replicas are not the same history: a
 * member re-created on a stale backing file under a restarted authority
 * (both at epoch 1) is such a case.
 *
 *  - The successor applied more: this member's replica is stale.  It is
 *    not up to date any more: its heartbeats say so, the authority
 *    removes it, and it joins again through a state transfer.
 *  - The successor applied less than this member can resend: its
 *    replica is stale.  No link: the chain stalls (the log says why).
 *
 * Either way the link is refused: the successor would take our sequence
 * numbers at or below its own as operations it already applied, and
 * acknowledge operations it never saw.  Otherwise the successor may
 * acknowledge up to @applied (struct repl_chan.sent_seq).
 *
 * Return: 0, or -ESTALE (the channel is failed).  m->lock held.
 */
static int repl_link_match(struct repl_member *m, struct repl_chan *ch,
			   u64 applied)
{
	lockdep_assert_held(&m->lock);
	if (applied > m->applied) {
		pr_warn_ratelimited("repl %s: member %u (%pI6c): member %u applied up to sequence number %llu, this replica up to %llu only: not up to date, not linking\n",
				    m->g->name, m->idx, &m->addr, ch->peer_idx,
				    applied, m->applied);
		m->in_sync = false;
		m->syncing = m->pos >= 0;
		vrdma_repl_kick();	/* tell the authority soon */
	} else if (applied < m->walked) {
		pr_warn_ratelimited("repl %s: member %u (%pI6c): member %u applied up to sequence number %llu only, the chain completed %llu: its replica is stale, not linking\n",
				    m->g->name, m->idx, &m->addr, ch->peer_idx,
				    applied, m->walked);
	} else {
		ch->sent_seq = applied;
		return 0;
	}
	ch->reported = true;	/* no suspicion: the peer is alive */
	vrdma_repl_chan_fail(ch, -ESTALE);
	return -ESTALE;
}

/**
 * vrdma_repl_member_link_rep() - our successor answers
 * @m: the member
 * @rep: the answer
 * @len: its length (at least sizeof(*rep), checked by the caller)
 *
 * vrdma_repl_lock held.
 */
void vrdma_repl_member_link_rep(struct repl_member *m,
				const struct vrdma_repl_c_link_rep *rep, size_t len)
{
	struct repl_chan *ch = m->succ;
	u32 flags = le32_to_cpu(rep->flags), qpn = le32_to_cpu(rep->qpn);
	u32 nchunks = le32_to_cpu(rep->nchunks);
	u32 cb = le32_to_cpu(rep->chunk_bytes);
	struct repl_xfer *x = NULL;
	int ret = 0;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!ch || ch->up || ch->dead ||
	    le32_to_cpu(rep->h.epoch) != m->cfg.epoch ||
	    rep->h.src_idx != ch->peer_idx ||
	    le32_to_cpu(rep->req_qpn) != ch->qp->qp_num || !qpn ||
	    qpn > 0xffffff || (flags & ~VRDMA_REPL_LINK_NEED_SYNC))
		return;
	if (flags & VRDMA_REPL_LINK_NEED_SYNC) {
		if (len != sizeof(*rep) + (size_t)nchunks * sizeof(rep->chunks[0]) ||
		    !cb || cb % PAGE_SIZE || !nchunks ||
		    (u64)nchunks * cb < m->g->size ||
		    (u64)(nchunks - 1) * cb >= m->g->size) {
			pr_warn_ratelimited("repl %s: member %u: bad region description from member %u\n",
					    m->g->name, m->idx, ch->peer_idx);
			return;
		}
		x = kzalloc(struct_size(x, chunks, nchunks), GFP_KERNEL);
		if (!x)
			return;
		x->chunk_bytes = cb;
		x->nchunks = nchunks;
		x->size = m->g->size;
		x->cqe.done = repl_xfer_done;
		memcpy(x->chunks, rep->chunks, nchunks * sizeof(x->chunks[0]));
	} else if (len != sizeof(*rep) || nchunks || cb) {
		return;
	}

	spin_lock_bh(&m->lock);
	if (x)
		ch->sent_seq = m->applied;	/* the state it is to receive */
	else
		ret = repl_link_match(m, ch, le64_to_cpu(rep->applied));
	spin_unlock_bh(&m->lock);
	if (ret)
		return;

	ret = vrdma_repl_chan_connect(ch, &m->dr, qpn, le32_to_cpu(rep->psn));
	if (ret == -EAGAIN) {
		/* Resolving the successor: the next LINK_REQ gets an answer. */
		kfree(x);
		return;
	}
	if (ret) {
		pr_warn_ratelimited("repl %s: member %u: cannot connect to member %u: %d\n",
				    m->g->name, m->idx, ch->peer_idx, ret);
		kfree(x);
		spin_lock_bh(&m->lock);
		vrdma_repl_chan_fail(ch, ret);
		spin_unlock_bh(&m->lock);
		return;
	}

	spin_lock_bh(&m->lock);
	ch->up = true;
	ch->cursor = 0;
	if (x && !m->in_sync) {
		/* We cannot serve a state we do not have. */
		kfree(x);
		vrdma_repl_chan_fail(ch, -EAGAIN);
	} else if (x) {
		x->at = m->applied;
		ch->xfer = x;
		m->xfer_pause = true;
		pr_info("repl %s: member %u: state transfer to member %u\n",
			m->g->name, m->idx, ch->peer_idx);
		repl_xfer_post(m, ch);
	}
	vrdma_repl_member_run(m);
	spin_unlock_bh(&m->lock);
}

/**
 * vrdma_repl_member_client_req() - a client agent connects to us (the head)
 * @m: the member
 * @src: the agent's address
 * @req: the request
 *
 * vrdma_repl_lock held.
 */
void vrdma_repl_member_client_req(struct repl_member *m, const struct in6_addr *src,
				  const struct vrdma_repl_c_client_req *req)
{
	u64 client = le64_to_cpu(req->client);
	u32 qpn = le32_to_cpu(req->qpn);
	struct vrdma_repl_c_client_rep rep = {};
	struct repl_chan *ch = NULL, *c, *old = NULL;
	int status = 0, ret;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!client || !qpn || qpn > 0xffffff)
		return;
	if (!m->have_dev)
		status = -ENODEV;
	else if (m->pos != 0)
		status = -ESTALE;
	else if (vrdma_repl_peer_l2(&m->dr, src))
		return;		/* resolving: the agent asks again */

	spin_lock_bh(&m->lock);
	list_for_each_entry(c, &m->clients, node) {
		if (c->client == client) {
			old = c;
			break;
		}
	}
	if (old && old->peer_qpn == qpn && !old->dead)
		ch = old;
	if (!status && !ch && m->nclients >= REPL_MAX_CLIENTS && !old)
		status = -EBUSY;
	if (!status && !vrdma_repl_cs_get(m, client, GFP_ATOMIC))
		status = -ENOMEM;
	spin_unlock_bh(&m->lock);

	if (!status && !ch) {
		ch = vrdma_repl_chan_create(&m->dr, REPL_CH_CLIENT, REPL_CLIENT_NRX,
					    REPL_MSG_MAX, REPL_CHAN_NSEND);
		if (IS_ERR(ch)) {
			status = PTR_ERR(ch);
			ch = NULL;
		}
	}
	if (ch && ch != old) {
		ch->m = m;
		ch->client = client;
		ch->peer_addr = *src;
		ch->epoch = m->cfg.epoch;
		ret = vrdma_repl_chan_connect(ch, &m->dr, qpn, le32_to_cpu(req->psn));
		if (ret) {
			vrdma_repl_chan_destroy(ch);
			ch = NULL;
			status = ret;
		} else {
			spin_lock_bh(&m->lock);
			if (old)
				vrdma_repl_member_unlink_chan(m, old);
			list_add_tail(&ch->node, &m->clients);
			m->nclients++;
			ch->up = true;
			spin_unlock_bh(&m->lock);
			vrdma_repl_chan_destroy(old);
			pr_debug("repl %s: member %u: client %llx connected\n",
				 m->g->name, m->idx, client);
		}
	}

	vrdma_repl_hdr_fill(&rep.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
			    VRDMA_REPL_R_AGENT, VRDMA_REPL_NO_IDX);
	rep.client = req->client;
	rep.req_qpn = req->qpn;
	if (ch && !status) {
		rep.qpn = cpu_to_le32(ch->qp->qp_num);
		rep.psn = cpu_to_le32(ch->psn);
	}
	rep.status = cpu_to_le32(status);
	vrdma_ctrl_send(m->ep, src, VRDMA_REPL_C_CLIENT_REP, &rep, sizeof(rep));
}

static void repl_member_send_hb(struct repl_member *m)
{
	struct vrdma_repl_c_hb hb = {};
	u32 flags = 0;

	spin_lock_bh(&m->lock);
	if (!m->have_dev)
		flags |= VRDMA_REPL_HB_NODEV;
	if (m->in_sync)
		flags |= VRDMA_REPL_HB_IN_SYNC;
	if (m->fenced)
		flags |= VRDMA_REPL_HB_FENCED;
	hb.applied = cpu_to_le64(m->applied);
	spin_unlock_bh(&m->lock);

	vrdma_repl_hdr_fill(&hb.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
			    VRDMA_REPL_R_AUTHORITY, VRDMA_REPL_NO_IDX);
	hb.nonce = cpu_to_le64(m->nonce);
	hb.echo = cpu_to_le64(jiffies);
	hb.synced_epoch = cpu_to_le32(READ_ONCE(m->synced_epoch));
	hb.flags = cpu_to_le32(flags);
	vrdma_ctrl_send(m->ep, &m->g->authority, VRDMA_REPL_C_HB, &hb,
			sizeof(hb));
}

/**
 * vrdma_repl_member_tick() - periodic work of a member
 * @m: the member
 *
 * Heartbeat, lease, broken channels, connection retries.
 * vrdma_repl_lock held.
 */
void vrdma_repl_member_tick(struct repl_member *m)
{
	struct repl_chan *ch, *tmp;
	LIST_HEAD(dead);
	u8 suspect_succ = VRDMA_REPL_NO_IDX, suspect_pred = VRDMA_REPL_NO_IDX;
	bool reconnect = false;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!m->have_dev)
		vrdma_repl_member_attach(m);

	if (m->have_dev) {
		spin_lock_bh(&m->lock);
		if (m->leased && !m->fenced &&
		    time_after(jiffies, m->lease_end)) {
			m->fenced = true;
			pr_warn("repl %s: member %u (%pI6c): no word from the authority, fenced\n",
				m->g->name, m->idx, &m->addr);
		}
		ch = m->succ;
		if (ch && vrdma_repl_chan_failed(ch)) {
			if (!ch->reported && !ch->xfer)
				suspect_succ = ch->peer_idx;
			vrdma_repl_member_unlink_chan(m, ch);
			list_add(&ch->node, &dead);
			reconnect = true;
		}
		ch = m->pred;
		if (ch && vrdma_repl_chan_failed(ch)) {
			suspect_pred = ch->peer_idx;
			vrdma_repl_member_unlink_chan(m, ch);
			list_add(&ch->node, &dead);
		}
		list_for_each_entry_safe(ch, tmp, &m->clients, node) {
			if (vrdma_repl_chan_failed(ch)) {
				vrdma_repl_member_unlink_chan(m, ch);
				list_add(&ch->node, &dead);
			}
		}
		spin_unlock_bh(&m->lock);
		repl_destroy_chans(&dead);

		if (suspect_succ != VRDMA_REPL_NO_IDX)
			repl_member_suspect(m, suspect_succ);
		if (suspect_pred != VRDMA_REPL_NO_IDX)
			repl_member_suspect(m, suspect_pred);
		if (reconnect && m->pos >= 0 && m->pos + 1 < m->cfg.nchain)
			repl_member_connect_succ(m, m->cfg.idx[m->pos + 1]);
		else if (m->succ && !m->succ->up &&
			 time_after(jiffies, m->succ->retry_at))
			repl_member_send_link_req(m);
	}
	repl_member_send_hb(m);
}

/**
 * vrdma_repl_member_info() - a snapshot for reports
 * @m: the member
 * @applied: set to its last applied sequence number
 * @epoch: set to the epoch it is in
 * @state: set to its state
 */
void vrdma_repl_member_info(struct repl_member *m, u64 *applied, u32 *epoch,
			    enum vrdma_repl_state *state)
{
	spin_lock_bh(&m->lock);
	*applied = m->applied;
	*epoch = m->cfg.epoch;
	if (!m->have_dev)
		*state = VRDMA_REPL_STATE_DOWN;
	else if (!m->cfg.epoch)
		*state = VRDMA_REPL_STATE_WAITING;
	else if (m->fenced)
		*state = VRDMA_REPL_STATE_FENCED;
	else if (m->pos < 0)
		*state = VRDMA_REPL_STATE_OUT;
	else if (m->syncing)
		*state = VRDMA_REPL_STATE_SYNCING;
	else
		*state = VRDMA_REPL_STATE_ACTIVE;
	spin_unlock_bh(&m->lock);
}

/**
 * vrdma_repl_member_attach() - set up the member's RDMA resources
 * @m: the member (without them)
 *
 * Finds the device whose RoCE GID is the member's address; nothing
 * happens if there is none yet.  A member that gets its device (back) is
 * a new instance (new nonce) that must be brought up to date.
 * vrdma_repl_lock held.
 */
void vrdma_repl_member_attach(struct repl_member *m)
{
	u32 i;
	int ret;

	lockdep_assert_held(&vrdma_repl_lock);
	if (m->have_dev)
		return;
	ret = vrdma_repl_devres_open(&m->dr, &m->addr, REPL_MEMBER_CQE, m);
	if (ret)
		return;
	ret = vrdma_repl_mem_reg(&m->region, &m->dr,
				 IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE);
	if (ret)
		goto err_dev;
	ret = vrdma_repl_mem_alloc(&m->log, REPL_LOG_BYTES);
	if (ret)
		goto err_region;
	ret = vrdma_repl_mem_reg(&m->log, &m->dr, IB_ACCESS_LOCAL_WRITE);
	if (ret)
		goto err_log;
	ret = vrdma_repl_slots_init(&m->slots, &m->slot, &m->free_slots,
				    REPL_NSLOTS, REPL_SMALL_MAX, &m->dr);
	if (ret)
		goto err_log_reg;
	for (i = 0; i < REPL_NSLOTS; i++)
		m->slot[i].cqe.done = vrdma_repl_member_slot_done;

	spin_lock_bh(&m->lock);
	m->log_first = 0;
	m->log_n = 0;
	m->log_tail = 0;
	m->log_used = 0;
	m->log_full = false;
	m->in_sync = false;
	m->syncing = false;
	m->fenced = false;
	m->xfer_pause = false;
	m->pos = -1;
	m->head = false;
	m->tail = false;
	m->have_dev = true;
	spin_unlock_bh(&m->lock);
	m->nonce = get_random_u64();
	m->leased = false;
	pr_info("repl %s: member %u (%pI6c) on %s\n", m->g->name, m->idx,
		&m->addr, dev_name(&m->dr.dev->dev));
	return;

err_log_reg:
	vrdma_repl_mem_unreg(&m->log);
err_log:
	vrdma_repl_mem_free(&m->log);
err_region:
	vrdma_repl_mem_unreg(&m->region);
err_dev:
	vrdma_repl_devres_close(&m->dr);
	pr_warn_ratelimited("repl %s: member %u: cannot set up RDMA resources: %d\n",
			    m->g->name, m->idx, ret);
}

/**
 * vrdma_repl_member_detach() - release the member's RDMA resources
 * @m: the member
 *
 * Its device goes away, or the member does.  vrdma_repl_lock held.
 */
void vrdma_repl_member_detach(struct repl_member *m)
{
	struct repl_chan *ch, *tmp;
	LIST_HEAD(dead);

	lockdep_assert_held(&vrdma_repl_lock);
	if (!m->have_dev)
		return;
	/* A flush in progress finishes first (it does not use the device). */
	flush_work(&m->flush_work);

	spin_lock_bh(&m->lock);
	m->have_dev = false;
	m->in_sync = false;
	if (m->pred) {
		ch = m->pred;
		vrdma_repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	if (m->succ) {
		ch = m->succ;
		vrdma_repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	list_for_each_entry_safe(ch, tmp, &m->clients, node) {
		vrdma_repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	while (m->log_n)
		vrdma_repl_log_release_first(m);
	spin_unlock_bh(&m->lock);

	repl_destroy_chans(&dead);
	vrdma_repl_slots_fini(&m->slots, &m->slot);
	vrdma_repl_mem_unreg(&m->log);
	vrdma_repl_mem_free(&m->log);
	vrdma_repl_mem_unreg(&m->region);
	vrdma_repl_devres_close(&m->dr);
	pr_info("repl %s: member %u (%pI6c) lost its RDMA device\n",
		m->g->name, m->idx, &m->addr);
}

/**
 * vrdma_repl_member_create() - a member of this host
 * @g: the group (not yet visible)
 * @idx: the member's index
 * @path: its backing file
 *
 * Opens the backing file and pins the region; may take long for a large
 * region.  Called without vrdma_repl_lock (the group is not visible yet).
 *
 * Return: the member or an ERR_PTR.
 */
struct repl_member *vrdma_repl_member_create(struct repl_group *g, u8 idx,
					     const char *path)
{
	struct repl_member *m;
	int ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->g = g;
	m->idx = idx;
	m->addr = g->members[idx];
	m->pos = -1;
	strscpy(m->path, path, sizeof(m->path));
	spin_lock_init(&m->lock);
	INIT_LIST_HEAD(&m->rxq);
	INIT_LIST_HEAD(&m->ackq);
	INIT_LIST_HEAD(&m->clients);
	INIT_LIST_HEAD(&m->free_slots);
	hash_init(m->cstates);
	INIT_WORK(&m->flush_work, vrdma_repl_member_flush_work);

	m->logent = kcalloc(REPL_LOG_ENTRIES, sizeof(*m->logent), GFP_KERNEL);
	if (!m->logent) {
		ret = -ENOMEM;
		goto err;
	}
	m->ep = vrdma_ctrl_ep_get(&m->addr);
	if (IS_ERR(m->ep)) {
		ret = PTR_ERR(m->ep);
		m->ep = NULL;
		goto err;
	}
	m->file = vrdma_repl_file_open(g, path, g->size);
	if (IS_ERR(m->file)) {
		ret = PTR_ERR(m->file);
		m->file = NULL;
		goto err;
	}
	ret = vrdma_repl_mem_pin_file(&m->region, m->file, g->size);
	if (ret)
		goto err;
	m->dirty = bitmap_zalloc(m->region.npages, GFP_KERNEL);
	if (!m->dirty) {
		ret = -ENOMEM;
		goto err;
	}
	vrdma_audit_created(VRDMA_AUDIT_REPL_MEMBER);
	/* A host that holds a replica must stay awake (sleep.c). */
	vrdma_activity_hold(1);
	return m;

err:
	vrdma_repl_mem_free(&m->region);
	if (m->file)
		fput(m->file);
	vrdma_ctrl_ep_put(m->ep);
	kfree(m->logent);
	kfree(m);
	return ERR_PTR(ret);
}

/**
 * vrdma_repl_member_destroy() - the member goes away
 * @m: the member
 *
 * Releases its RDMA resources, writes the region back to the file system
 * (no fsync) and unpins it.  vrdma_repl_lock held, or the member was
 * never visible.
 */
void vrdma_repl_member_destroy(struct repl_member *m)
{
	int ret;

	if (!m)
		return;
	vrdma_repl_member_detach(m);
	cancel_work_sync(&m->flush_work);
	ret = vrdma_repl_file_writeback(m->file, &m->region, m->dirty, 0,
					m->g->size, false);
	if (ret)
		pr_warn("repl %s: member %u: cannot write the region back to %s: %d\n",
			m->g->name, m->idx, m->path, ret);
	vrdma_repl_mem_free(&m->region);
	fput(m->file);
	bitmap_free(m->dirty);
	vrdma_repl_cs_free_all(m);
	vrdma_ctrl_ep_put(m->ep);
	kfree(m->logent);
	kfree(m);
	vrdma_activity_hold(-1);
	vrdma_audit_destroyed(VRDMA_AUDIT_REPL_MEMBER);
}
