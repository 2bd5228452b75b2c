// SPDX-License-Identifier: GPL-2.0
/*
 * A member of a replication chain on this host.
 *
 * Data path (softirq, member->lock)
 * ----------------------------------
 * Operations arrive as OPS messages: from client agents at the head (one
 * channel per agent), from the predecessor elsewhere.  Received messages
 * wait in member->rxq and are processed in order, entry by entry, by
 * repl_member_run(), which runs after every completion and every event
 * that can unblock it.  For each operation a member
 *
 *   - drops it if its sequence number is not new (a retransmission after
 *     a reconnection), acknowledging it again if it was acknowledged;
 *   - the head gives it the next sequence number (after deduplicating by
 *     (client, operation id): an agent resends what it has not seen
 *     complete when it reconnects);
 *   - applies it to its replica: a copy into the region (WRITE, MEMCPY),
 *     a compare-and-swap of a 64-bit word (CAS, appending this replica's
 *     result to the entry), or a write-back and fsync of the range
 *     (FLUSH, in a work item: the member pauses until it is done);
 *   - appends it to its forward log (struct repl_logent), whose entries
 *     are OPS messages to the successor; or, at the tail, acknowledges it.
 *
 * The forward log keeps every operation until the tail has applied it
 * (a cumulative ACK comes back hop by hop, with the gCAS results): after
 * a reconfiguration the member resends every unacknowledged entry to its
 * new successor, which drops what it already applied.  An ACK releases
 * log entries; the head then reports the completions to the agents (DONE
 * messages), the others acknowledge to their predecessor in turn.  A
 * member sends at most REPL_SEND_CREDITS messages per QP at a time and
 * fills the next message meanwhile: batching adapts to the load.
 *
 * A member pauses (stops taking operations from rxq) while a flush runs,
 * while its forward log or its send buffers are full, while it sends or
 * waits for a state transfer, while it has no configuration, and while
 * fenced (its lease from the authority expired).
 *
 * Control (vrdma_repl_lock)
 * -------------------------
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
#include "repl.h"
#include "sleep.h"

#define REPL_PRED_NRX		16
#define REPL_SUCC_NRX		32
#define REPL_CLIENT_NRX		16
#define REPL_CHAN_NSEND		64
#define REPL_MEMBER_CQE		4096
#define REPL_XFER_CHUNK		(256 * 1024)
#define REPL_XFER_DEPTH		4
#define REPL_CAS_KEEP		REPL_WINDOW

static void repl_member_run(struct repl_member *m);
static void repl_member_push(struct repl_member *m);

/* Operations */

/**
 * repl_op_check() - is an operation valid for a region
 * @size: region size
 * @opcode: enum vrdma_repl_opcode
 * @offset: offset (destination of MEMCPY)
 * @src: source of MEMCPY
 * @len: length
 *
 * Return: 0, -EINVAL (unknown opcode, bad length or alignment) or -ERANGE
 * (beyond the region).
 */
int repl_op_check(u64 size, u8 opcode, u64 offset, u64 src, u32 len)
{
	switch (opcode) {
	case VRDMA_REPL_OP_WRITE:
		if (!len || len > VRDMA_REPL_WRITE_MAX)
			return -EINVAL;
		break;
	case VRDMA_REPL_OP_MEMCPY:
		if (!len)
			return -EINVAL;
		if (src > size || len > size - src)
			return -ERANGE;
		break;
	case VRDMA_REPL_OP_CAS:
		if (offset % 8)
			return -EINVAL;
		len = 8;
		break;
	case VRDMA_REPL_OP_FLUSH:
		if (!len && !offset)
			return 0;	/* the whole region */
		if (!len)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (offset > size || len > size - offset)
		return -ERANGE;
	return 0;
}

static size_t repl_wop_size(const struct vrdma_repl_wop *w, bool data)
{
	size_t n = sizeof(*w) + w->nres * sizeof(struct vrdma_repl_wres);

	if (data && w->opcode == VRDMA_REPL_OP_WRITE)
		n += ALIGN(le32_to_cpu(w->len), 8);
	return n;
}

/*
 * Check the entry at @p (@left bytes left in the message): the fixed part,
 * the result count and the total size.  Returns its size or 0.
 */
static size_t repl_wop_parse(const void *p, size_t left, bool data)
{
	const struct vrdma_repl_wop *w = p;
	size_t n;

	if (left < sizeof(*w) || w->nres > VRDMA_REPL_MAX_MEMBERS ||
	    w->pad || (data && w->opcode == VRDMA_REPL_OP_WRITE &&
		       le32_to_cpu(w->len) > VRDMA_REPL_WRITE_MAX))
		return 0;
	n = repl_wop_size(w, data);
	return n <= left ? n : 0;
}

/* Check a message head; returns the message or NULL. */
static const struct vrdma_repl_msg *repl_msg_check(const void *buf, u32 len)
{
	const struct vrdma_repl_msg *msg = buf;

	if (len < sizeof(*msg) || msg->magic != cpu_to_le32(VRDMA_REPL_MSG_MAGIC) ||
	    msg->version != VRDMA_REPL_MSG_VERSION ||
	    le32_to_cpu(msg->len) != len)
		return NULL;
	return msg;
}

static void repl_dirty(struct repl_member *m, u64 off, u64 len)
{
	unsigned long first = off >> PAGE_SHIFT;
	unsigned long last = (off + len - 1) >> PAGE_SHIFT;

	bitmap_set(m->dirty, first, last - first + 1);
}

/* Per-client state */

struct repl_cas_res {
	struct list_head node;
	u64 op_id;
	u8 nres;
	struct vrdma_repl_wres res[VRDMA_REPL_MAX_MEMBERS];
};

struct repl_cs {
	struct hlist_node node;
	u64 client;
	u64 last_id;
	u64 acked_id;
	struct list_head cas;		/* struct repl_cas_res, oldest first */
	unsigned int ncas;
};

static struct repl_cs *repl_cs_find(struct repl_member *m, u64 client)
{
	struct repl_cs *cs;

	hash_for_each_possible(m->cstates, cs, node, client)
		if (cs->client == client)
			return cs;
	return NULL;
}

static struct repl_cs *repl_cs_get(struct repl_member *m, u64 client,
				   gfp_t gfp)
{
	struct repl_cs *cs = repl_cs_find(m, client);

	if (cs)
		return cs;
	cs = kzalloc(sizeof(*cs), gfp);
	if (!cs)
		return NULL;
	cs->client = client;
	INIT_LIST_HEAD(&cs->cas);
	hash_add(m->cstates, &cs->node, client);
	m->ncstates++;
	return cs;
}

static void repl_cs_free_all(struct repl_member *m)
{
	struct repl_cas_res *r, *tmp;
	struct hlist_node *n;
	struct repl_cs *cs;
	int bkt;

	hash_for_each_safe(m->cstates, bkt, n, cs, node) {
		list_for_each_entry_safe(r, tmp, &cs->cas, node)
			kfree(r);
		hash_del(&cs->node);
		kfree(cs);
	}
	m->ncstates = 0;
}

static void repl_cs_store(struct repl_cs *cs, u64 op_id,
			  const struct vrdma_repl_wres *res, u8 nres)
{
	struct repl_cas_res *r;

	/* Without memory a retried gCAS reports no result (documented). */
	r = kmalloc(sizeof(*r), GFP_ATOMIC);
	if (!r)
		return;
	r->op_id = op_id;
	r->nres = nres;
	memcpy(r->res, res, nres * sizeof(*res));
	list_add_tail(&r->node, &cs->cas);
	if (++cs->ncas > REPL_CAS_KEEP) {
		r = list_first_entry(&cs->cas, struct repl_cas_res, node);
		list_del(&r->node);
		kfree(r);
		cs->ncas--;
	}
}

static struct repl_cas_res *repl_cs_lookup(struct repl_cs *cs, u64 op_id)
{
	struct repl_cas_res *r;

	list_for_each_entry_reverse(r, &cs->cas, node)
		if (r->op_id == op_id)
			return r;
	return NULL;
}

/* Union of two result lists (by member), @a first. */
static u8 repl_res_merge(struct vrdma_repl_wres *out,
			 const struct vrdma_repl_wres *a, u8 na,
			 const struct vrdma_repl_wres *b, u8 nb)
{
	u8 n = 0, i, j;

	for (i = 0; i < na && n < VRDMA_REPL_MAX_MEMBERS; i++)
		out[n++] = a[i];
	for (j = 0; j < nb && n < VRDMA_REPL_MAX_MEMBERS; j++) {
		for (i = 0; i < n; i++)
			if (out[i].member == b[j].member)
				break;
		if (i == n)
			out[n++] = b[j];
	}
	return n;
}

/* Slots: ACK, DONE and STATE messages */

static struct repl_slot *repl_member_slot(struct repl_member *m,
					  struct repl_chan *ch, u8 type,
					  size_t room)
{
	struct repl_slot *s = ch->open;

	if (s && s->len + room <= REPL_SMALL_MAX)
		return s;
	if (s) {
		list_add_tail(&s->node, &ch->sendq);
		ch->open = NULL;
	}
	if (list_empty(&m->free_slots))
		return NULL;
	s = list_first_entry(&m->free_slots, struct repl_slot, node);
	list_del(&s->node);
	s->len = sizeof(struct vrdma_repl_msg);
	s->count = 0;
	s->type = type;
	ch->open = s;
	return s;
}

/* Append an entry (head, results) to a slot message. */
static void repl_slot_add(struct repl_member *m, struct repl_slot *s,
			  const struct vrdma_repl_wop *w,
			  const struct vrdma_repl_wres *res, u8 nres)
{
	u8 *p = (u8 *)repl_slot_va(&m->slots, s) + s->len;
	struct vrdma_repl_wop *o = (struct vrdma_repl_wop *)p;

	*o = *w;
	o->nres = nres;
	memcpy(o + 1, res, nres * sizeof(*res));
	s->len += sizeof(*o) + nres * sizeof(*res);
	s->count++;
}

static void repl_chan_return_slots(struct repl_member *m,
				   struct repl_chan *ch)
{
	struct repl_slot *s, *tmp;

	if (ch->open) {
		list_add(&ch->open->node, &m->free_slots);
		ch->open = NULL;
	}
	list_for_each_entry_safe(s, tmp, &ch->sendq, node)
		list_move(&s->node, &m->free_slots);
}

/* Channels */

static void repl_chan_fail(struct repl_chan *ch, int err)
{
	if (ch->dead)
		return;
	ch->dead = true;
	ch->up = false;
	pr_debug("repl: channel (kind %d, peer %u) failed: %d\n", ch->kind,
		 ch->peer_idx, err);
	repl_kick();
}

/**
 * repl_chan_event() - QP events of every channel
 * @ev: the event
 * @ctx: the channel
 */
void repl_chan_event(struct ib_event *ev, void *ctx)
{
	struct repl_chan *ch = ctx;
	unsigned long flags;
	spinlock_t *lock;	/* the owner's */

	if (!ch->m && !ch->c)
		return;
	lock = ch->m ? &ch->m->lock : &ch->c->lock;

	switch (ev->event) {
	case IB_EVENT_QP_FATAL:
	case IB_EVENT_QP_REQ_ERR:
	case IB_EVENT_QP_ACCESS_ERR:
	case IB_EVENT_DEVICE_FATAL:
		spin_lock_irqsave(lock, flags);
		repl_chan_fail(ch, -EIO);
		spin_unlock_irqrestore(lock, flags);
		break;
	default:
		break;
	}
}

/**
 * repl_chan_rx_done() - receive completion of every channel
 * @cq: the CQ
 * @wc: the completion
 */
void repl_chan_rx_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct repl_rxbuf *rxb = container_of(wc->wr_cqe, struct repl_rxbuf,
					      cqe);
	struct repl_chan *ch = rxb->ch;
	struct repl_member *m = ch->m;

	if (!m) {
		repl_client_rx(ch, rxb, wc);
		return;
	}
	spin_lock_bh(&m->lock);
	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			repl_chan_fail(ch, -EIO);
		goto out;
	}
	if (ch->dead)
		goto out;
	rxb->len = wc->byte_len;
	if (ch->kind == REPL_CH_SUCC) {
		/* ACKs are taken at once: they unblock the log. */
		list_add_tail(&rxb->node, &m->ackq);
	} else {
		list_add_tail(&rxb->node, &m->rxq);
	}
	repl_member_run(m);
out:
	spin_unlock_bh(&m->lock);
}

static void repl_member_repost(struct repl_member *m, struct repl_rxbuf *rxb)
{
	struct repl_chan *ch = rxb->ch;

	if (ch->dead)
		return;
	if (repl_chan_post_recv(ch, rxb))
		repl_chan_fail(ch, -EIO);
}

/* Drop what a channel received and nobody processed. */
static void repl_member_drop_rx(struct repl_member *m, struct repl_chan *ch)
{
	struct repl_rxbuf *rxb, *tmp;

	if (!list_empty(&m->rxq) &&
	    list_first_entry(&m->rxq, struct repl_rxbuf, node)->ch == ch) {
		m->rx_pos = 0;
		m->rx_done = 0;
	}
	list_for_each_entry_safe(rxb, tmp, &m->rxq, node)
		if (rxb->ch == ch)
			list_del_init(&rxb->node);
	list_for_each_entry_safe(rxb, tmp, &m->ackq, node)
		if (rxb->ch == ch)
			list_del_init(&rxb->node);
}

/*
 * Take a channel away from the data path (lock held): it sends and
 * receives nothing more; the caller destroys it after unlocking.
 */
static void repl_member_unlink_chan(struct repl_member *m,
				    struct repl_chan *ch)
{
	ch->dead = true;
	ch->up = false;
	repl_member_drop_rx(m, ch);
	repl_chan_return_slots(m, ch);
	if (m->pred == ch)
		m->pred = NULL;
	if (m->succ == ch) {
		m->succ = NULL;
		if (ch->xfer)
			m->xfer_pause = false;
	}
	if (ch->kind == REPL_CH_CLIENT) {
		list_del_init(&ch->node);
		m->nclients--;
	}
}

/* The forward log */

static struct repl_logent *repl_log_ent(struct repl_member *m, u32 i)
{
	return &m->logent[(m->log_first + i) % REPL_LOG_ENTRIES];
}

static struct repl_logent *repl_log_last(struct repl_member *m)
{
	return m->log_n ? repl_log_ent(m, m->log_n - 1) : NULL;
}

static void repl_log_close(struct repl_member *m, struct repl_logent *e)
{
	u32 alen = ALIGN(e->len, 64);

	e->open = false;
	m->log_used -= e->cap - alen;
	e->cap = alen;
	m->log_tail = e->off + alen;
}

/* An open entry with @room bytes free, or NULL (log full). */
static struct repl_logent *repl_log_reserve(struct repl_member *m,
					    size_t room)
{
	size_t cb = repl_mem_chunk_bytes(&m->log);
	struct repl_logent *e = repl_log_last(m);
	u32 off, pad;

	if (e && e->open) {
		if (e->len + room <= e->cap)
			return e;
		/* Only a full entry that is not posted yet can be closed. */
		repl_log_close(m, e);
	}
	if (m->log_n == REPL_LOG_ENTRIES)
		return NULL;
	off = m->log_tail % REPL_LOG_BYTES;
	pad = cb - off % cb;
	pad = pad < REPL_MSG_MAX ? pad : 0;
	if (m->log_used + pad + REPL_MSG_MAX > REPL_LOG_BYTES)
		return NULL;
	e = repl_log_ent(m, m->log_n);
	memset(e, 0, sizeof(*e));
	e->off = (off + pad) % REPL_LOG_BYTES;
	e->pad = pad;
	e->cap = REPL_MSG_MAX;
	e->len = sizeof(struct vrdma_repl_msg);
	e->open = true;
	m->log_used += pad + REPL_MSG_MAX;
	m->log_tail = e->off + REPL_MSG_MAX;
	m->log_n++;
	return e;
}

static void repl_log_release_first(struct repl_member *m)
{
	struct repl_logent *e = repl_log_ent(m, 0);

	if (e->open)
		repl_log_close(m, e);
	m->log_used -= e->pad + e->cap;
	m->log_first = (m->log_first + 1) % REPL_LOG_ENTRIES;
	m->log_n--;
	if (m->succ && m->succ->cursor)
		m->succ->cursor--;
	if (!m->log_n) {
		m->log_tail = 0;
		m->log_used = 0;
	}
}

/* Append an operation (head, results, data) to the open entry. */
static void repl_log_append(struct repl_member *m, struct repl_logent *e,
			    const struct vrdma_repl_wop *w, u64 seq,
			    const struct vrdma_repl_wres *res, u8 nres,
			    const void *data, int status)
{
	u8 *p = (u8 *)m->log.va + e->off + e->len;
	struct vrdma_repl_wop *o = (struct vrdma_repl_wop *)p;
	u32 dlen = 0;

	*o = *w;
	o->seq = cpu_to_le64(seq);
	o->nres = nres;
	o->pad = 0;
	if (status && !o->status)
		o->status = cpu_to_le32(status);
	p += sizeof(*o);
	memcpy(p, res, nres * sizeof(*res));
	p += nres * sizeof(*res);
	if (w->opcode == VRDMA_REPL_OP_WRITE) {
		dlen = le32_to_cpu(w->len);
		memcpy(p, data, dlen);
		memset(p + dlen, 0, ALIGN(dlen, 8) - dlen);
		dlen = ALIGN(dlen, 8);
	}
	e->len += sizeof(*o) + nres * sizeof(*res) + dlen;
	if (!e->count)
		e->first = seq;
	e->last = seq;
	e->count++;
}

/* A send on @ch completed with @status.  m->lock held. */
static void repl_chan_sent(struct repl_chan *ch, enum ib_wc_status status)
{
	lockdep_assert_held(&ch->m->lock);
	ch->outstanding--;
	if (status != IB_WC_SUCCESS) {
		if (status != IB_WC_WR_FLUSH_ERR)
			repl_chan_fail(ch, -EIO);
	} else {
		repl_member_run(ch->m);
	}
}

static void repl_log_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct repl_chan *ch = wc->qp->qp_context;
	struct repl_member *m = ch->m;

	spin_lock_bh(&m->lock);
	repl_chan_sent(ch, wc->status);
	spin_unlock_bh(&m->lock);
}

static int repl_log_post(struct repl_member *m, struct repl_chan *ch,
			 struct repl_logent *e)
{
	e->cqe.done = repl_log_send_done;
	return repl_msg_post(ch, &m->log, e->off, e->len, &e->cqe,
			     VRDMA_REPL_M_OPS, e->count, 0, m->cfg.epoch);
}

/* Completion of an operation by the whole chain */

/*
 * Operation @w (sequence number @seq, results @res) is applied by every
 * member: remember it, report it to the agent (head) or to the
 * predecessor.  Returns false if no send buffer is free (nothing done).
 */
static bool repl_op_acked(struct repl_member *m, const struct vrdma_repl_wop *w,
			  u64 seq, const struct vrdma_repl_wres *res, u8 nres)
{
	u64 client = le64_to_cpu(w->client), op_id = le64_to_cpu(w->op_id);
	bool cas = w->opcode == VRDMA_REPL_OP_CAS;
	struct repl_chan *ch = NULL, *c;
	struct vrdma_repl_wop o;
	struct repl_slot *s;
	struct repl_cs *cs;

	if (m->head) {
		list_for_each_entry(c, &m->clients, node)
			if (c->client == client && c->up) {
				ch = c;
				break;
			}
	} else if ((cas || w->status) && m->pred && m->pred->up) {
		ch = m->pred;
	}
	if (ch) {
		s = repl_member_slot(m, ch, m->head ? VRDMA_REPL_M_DONE :
				     VRDMA_REPL_M_ACK,
				     sizeof(o) + nres * sizeof(*res));
		if (!s)
			return false;
		o = *w;
		o.seq = cpu_to_le64(seq);
		o.len = w->opcode == VRDMA_REPL_OP_WRITE ? 0 : w->len;
		repl_slot_add(m, s, &o, res, nres);
	}
	cs = repl_cs_get(m, client, GFP_ATOMIC);
	if (cs) {
		cs->acked_id = max(cs->acked_id, op_id);
		if (cas)
			repl_cs_store(cs, op_id, res, nres);
	}
	m->ack_need = true;
	return true;
}

/* Answer a client's retransmission of an operation acked already. */
static bool repl_done_dup(struct repl_member *m, struct repl_chan *ch,
			  struct repl_cs *cs, const struct vrdma_repl_wop *w)
{
	struct vrdma_repl_wop o = *w;
	struct repl_cas_res *r = NULL;
	struct repl_slot *s;

	if (w->opcode == VRDMA_REPL_OP_CAS)
		r = repl_cs_lookup(cs, le64_to_cpu(w->op_id));
	s = repl_member_slot(m, ch, VRDMA_REPL_M_DONE, sizeof(o) +
			     VRDMA_REPL_MAX_MEMBERS *
			     sizeof(struct vrdma_repl_wres));
	if (!s)
		return false;
	o.seq = 0;
	o.len = 0;
	o.status = 0;
	o.flags = cpu_to_le16(w->opcode == VRDMA_REPL_OP_CAS && !r ?
			      VRDMA_REPL_WOP_NO_RESULT : 0);
	repl_slot_add(m, s, &o, r ? r->res : NULL, r ? r->nres : 0);
	return true;
}

static bool repl_done_err(struct repl_member *m, struct repl_chan *ch,
			  const struct vrdma_repl_wop *w, int err)
{
	struct vrdma_repl_wop o = *w;
	struct repl_slot *s;

	s = repl_member_slot(m, ch, VRDMA_REPL_M_DONE, sizeof(o));
	if (!s)
		return false;
	o.seq = 0;
	o.len = 0;
	o.status = cpu_to_le32(err);
	repl_slot_add(m, s, &o, NULL, 0);
	return true;
}

/* Applying operations */

static void repl_flush_start(struct repl_member *m, u64 seq,
			     const struct vrdma_repl_wop *w)
{
	m->flush_seq = seq;
	m->flush_done = false;
	m->flush_pending = true;
	m->flush_off = le64_to_cpu(w->offset);
	m->flush_len = le32_to_cpu(w->len);
	if (!m->flush_len) {
		m->flush_off = 0;
		m->flush_len = m->g->size;
	}
	queue_work(system_highpri_wq, &m->flush_work);
}

static void repl_member_flush_work(struct work_struct *work)
{
	struct repl_member *m = container_of(work, struct repl_member,
					     flush_work);
	u64 off, len;
	int ret;

	spin_lock_bh(&m->lock);
	off = m->flush_off;
	len = m->flush_len;
	spin_unlock_bh(&m->lock);

	ret = repl_file_writeback(m->file, &m->region, m->dirty, off, len,
				  true);

	spin_lock_bh(&m->lock);
	m->flush_status = ret;
	m->flush_done = true;
	m->flush_pending = false;
	repl_member_run(m);
	spin_unlock_bh(&m->lock);
}

static bool repl_member_paused(struct repl_member *m)
{
	return !m->have_dev || m->pos < 0 || m->fenced || m->syncing ||
	       m->xfer_pause || m->flush_pending || !m->cfg.epoch;
}

/*
 * Apply one operation entry of an OPS message from the predecessor
 * (@ch->kind == REPL_CH_PRED) or from an agent (REPL_CH_CLIENT, head).
 * Returns 0 when done with the entry, -EAGAIN to stay on it (paused), or
 * -EPROTO (the channel is broken).
 */
static int repl_apply_entry(struct repl_member *m, struct repl_chan *ch,
			    struct vrdma_repl_wop *w)
{
	struct vrdma_repl_wres res[VRDMA_REPL_MAX_MEMBERS];
	const struct vrdma_repl_wres *wres = (const void *)(w + 1);
	u64 op_id = le64_to_cpu(w->op_id), client = le64_to_cpu(w->client);
	u64 off = le64_to_cpu(w->offset), seq;
	u32 len = le32_to_cpu(w->len);
	const u8 *data = (const u8 *)(wres + w->nres);
	bool from_client = ch->kind == REPL_CH_CLIENT;
	struct repl_logent *e = NULL;
	struct repl_cs *cs;
	u8 nres = w->nres;
	int status = 0, ret;
	u8 *va;

	if (from_client) {
		if (client != ch->client || w->nres || w->seq)
			return -EPROTO;
		cs = repl_cs_get(m, client, GFP_ATOMIC);
		if (cs && op_id <= cs->last_id) {
			m->stat_dups++;
			if (op_id > cs->acked_id)
				return 0;	/* in flight: it will complete */
			return repl_done_dup(m, ch, cs, w) ? 0 : -EAGAIN;
		}
		ret = repl_op_check(m->g->size, w->opcode, off,
				    le64_to_cpu(w->src), len);
		if (ret)
			return repl_done_err(m, ch, w, ret) ? 0 : -EAGAIN;
		if (repl_member_paused(m))
			return -EAGAIN;
		seq = m->applied + 1;
	} else {
		seq = le64_to_cpu(w->seq);
		if (seq <= m->applied) {
			m->stat_dups++;
			/* Acked already (or by us, the tail): say it again. */
			if (!m->tail && seq > m->acked)
				return 0;
			cs = repl_cs_find(m, client);
			if (w->opcode == VRDMA_REPL_OP_CAS && cs) {
				struct repl_cas_res *r = repl_cs_lookup(cs, op_id);

				if (r && !repl_op_acked(m, w, seq, r->res,
							r->nres))
					return -EAGAIN;
			}
			m->ack_need = true;
			return 0;
		}
		if (seq != m->applied + 1 ||
		    repl_op_check(m->g->size, w->opcode, off,
				  le64_to_cpu(w->src), len))
			return -EPROTO;
		if (repl_member_paused(m))
			return -EAGAIN;
	}

	/* Room for what this operation produces: a log entry or an ACK. */
	if (!m->tail) {
		e = repl_log_reserve(m, repl_wop_size(w, true) +
				     sizeof(struct vrdma_repl_wres));
		if (!e) {
			m->log_full = true;
			return -EAGAIN;
		}
	} else if (list_empty(&m->free_slots)) {
		return -EAGAIN;
	}

	memcpy(res, wres, nres * sizeof(*res));
	va = m->region.va;
	switch (w->opcode) {
	case VRDMA_REPL_OP_WRITE:
		memcpy(va + off, data, len);
		repl_dirty(m, off, len);
		break;
	case VRDMA_REPL_OP_MEMCPY:
		memmove(va + off, va + le64_to_cpu(w->src), len);
		repl_dirty(m, off, len);
		break;
	case VRDMA_REPL_OP_CAS: {
		__le64 *word = (__le64 *)(va + off);
		u64 old = le64_to_cpu(READ_ONCE(*word));
		bool swap = old == le64_to_cpu(w->expected);

		if (swap) {
			WRITE_ONCE(*word, w->newval);
			repl_dirty(m, off, 8);
		}
		if (nres < VRDMA_REPL_MAX_MEMBERS) {
			memset(&res[nres], 0, sizeof(res[nres]));
			res[nres].old = cpu_to_le64(old);
			res[nres].member = m->idx;
			res[nres].swapped = swap;
			nres++;
		}
		break;
	}
	case VRDMA_REPL_OP_FLUSH:
		if (!m->flush_done || m->flush_seq != seq) {
			repl_flush_start(m, seq, w);
			return -EAGAIN;
		}
		m->flush_done = false;
		status = m->flush_status;
		if (status)
			pr_warn_ratelimited("repl %s: member %u: flush failed: %d\n",
					    m->g->name, m->idx, status);
		break;
	}

	m->applied = seq;
	m->stat_ops++;
	cs = repl_cs_get(m, client, GFP_ATOMIC);
	if (cs)
		cs->last_id = max(cs->last_id, op_id);
	else
		pr_warn_ratelimited("repl: no memory for a client's state\n");

	if (status && !w->status)
		w->status = cpu_to_le32(status);
	if (m->tail) {
		/* Applied by every member: complete it. */
		m->acked = seq;
		m->walked = seq;
		if (!repl_op_acked(m, w, seq, res, nres))
			pr_warn_ratelimited("repl %s: member %u: lost a completion (no send buffer)\n",
					    m->g->name, m->idx);
	} else {
		repl_log_append(m, e, w, seq, res, nres, data, status);
	}
	return 0;
}

/* Process an OPS message from rxq; false if paused in the middle. */
static bool repl_process_ops(struct repl_member *m, struct repl_rxbuf *rxb,
			     const struct vrdma_repl_msg *msg)
{
	struct repl_chan *ch = rxb->ch;
	u8 *base = (u8 *)ch->rx.va + rxb->off;
	u16 count = le16_to_cpu(msg->count);
	size_t n;
	int ret;

	while (m->rx_done < count) {
		n = repl_wop_parse(base + m->rx_pos, rxb->len - m->rx_pos, true);
		if (!n) {
			repl_chan_fail(ch, -EPROTO);
			return true;
		}
		ret = repl_apply_entry(m, ch, (void *)(base + m->rx_pos));
		if (ret == -EAGAIN)
			return false;
		if (ret) {
			pr_warn_ratelimited("repl %s: member %u: bad operation from %pI6c\n",
					    m->g->name, m->idx, &ch->peer_addr);
			repl_chan_fail(ch, ret);
			return true;
		}
		m->rx_pos += n;
		m->rx_done++;
	}
	if (m->rx_pos != rxb->len)
		repl_chan_fail(ch, -EPROTO);
	return true;
}

/* STATE: the end of a state transfer from the predecessor. */
static void repl_process_state(struct repl_member *m, struct repl_rxbuf *rxb,
			       const struct vrdma_repl_msg *msg)
{
	const struct vrdma_repl_wclient *wc = (const void *)(msg + 1);
	u16 i, count = le16_to_cpu(msg->count);
	struct repl_cs *cs;

	if (!m->syncing || rxb->len != sizeof(*msg) + count * sizeof(*wc)) {
		repl_chan_fail(rxb->ch, -EPROTO);
		return;
	}
	for (i = 0; i < count; i++) {
		cs = repl_cs_get(m, le64_to_cpu(wc[i].client), GFP_ATOMIC);
		if (!cs)
			continue;
		cs->last_id = max(cs->last_id, le64_to_cpu(wc[i].last_id));
		cs->acked_id = max(cs->acked_id, le64_to_cpu(wc[i].acked_id));
	}
	m->applied = le64_to_cpu(msg->arg);
	m->acked = m->applied;
	m->walked = m->applied;
	bitmap_fill(m->dirty, m->region.npages);
	m->in_sync = true;
	m->syncing = false;
	WRITE_ONCE(m->synced_epoch, m->cfg.epoch);
	m->ack_need = true;
	pr_info("repl %s: member %u (%pI6c) received the state at sequence number %llu\n",
		m->g->name, m->idx, &m->addr, m->applied);
	repl_kick();	/* tell the authority soon */
}

/* Process one ACK from the successor; false if it must be resumed. */
static bool repl_process_ack(struct repl_member *m, struct repl_rxbuf *rxb)
{
	struct repl_chan *ch = rxb->ch;
	u8 *base = (u8 *)ch->rx.va + rxb->off;
	const struct vrdma_repl_msg *msg = repl_msg_check(base, rxb->len);
	struct vrdma_repl_wres merged[VRDMA_REPL_MAX_MEMBERS];
	const struct vrdma_repl_wop *aw = NULL;
	u32 apos = sizeof(*msg), ai = 0, count;
	u64 last, aseq = 0;
	size_t n;

	if (!msg || msg->type != VRDMA_REPL_M_ACK) {
		repl_chan_fail(ch, -EPROTO);
		return true;
	}
	last = le64_to_cpu(msg->arg);
	count = le16_to_cpu(msg->count);
	if (last > m->applied) {
		repl_chan_fail(ch, -EPROTO);
		return true;
	}

	while (m->log_n && m->walked < last) {
		struct repl_logent *e = repl_log_ent(m, 0);
		u8 *p = (u8 *)m->log.va + e->off + sizeof(struct vrdma_repl_msg);
		u8 *end = (u8 *)m->log.va + e->off + e->len;

		if (!e->count || e->first > last)
			break;
		if (e->open) {
			/* Acked while being filled (after a reconnection). */
			repl_log_close(m, e);
			end = (u8 *)m->log.va + e->off + e->len;
		}
		while (p < end) {
			const struct vrdma_repl_wop *w = (const void *)p;
			u64 seq = le64_to_cpu(w->seq);
			u8 nres;

			p += repl_wop_size(w, true);
			if (seq <= m->walked)
				continue;
			if (seq > last)
				goto out;
			/* The successor's entry for this sequence number. */
			while (ai < count && aseq < seq) {
				n = repl_wop_parse(base + apos, rxb->len - apos,
						   false);
				if (!n) {
					repl_chan_fail(ch, -EPROTO);
					return true;
				}
				aw = (const void *)(base + apos);
				aseq = le64_to_cpu(aw->seq);
				apos += n;
				ai++;
			}
			nres = w->nres;
			memcpy(merged, w + 1, nres * sizeof(merged[0]));
			if (aw && aseq == seq) {
				struct vrdma_repl_wop tmp = *w;

				nres = repl_res_merge(merged, (const void *)(w + 1),
						      w->nres,
						      (const void *)(aw + 1),
						      aw->nres);
				if (aw->status && !tmp.status)
					tmp.status = aw->status;
				if (!repl_op_acked(m, &tmp, seq, merged, nres))
					return false;
			} else if (!repl_op_acked(m, w, seq, merged, nres)) {
				return false;
			}
			m->walked = seq;
		}
		if (e->last <= m->walked)
			repl_log_release_first(m);
		else
			break;
	}
out:
	m->acked = max(m->acked, min(last, m->walked));
	m->ack_need = true;
	m->log_full = false;
	return true;
}

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
			repl_chan_fail(ch, -EIO);
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
		repl_chan_fail(ch, -ENOBUFS);
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
		wc = (void *)((u8 *)repl_slot_va(&m->slots, s) + s->len);
		wc->client = cpu_to_le64(cs->client);
		wc->last_id = cpu_to_le64(cs->last_id);
		wc->acked_id = cpu_to_le64(cs->acked_id);
		s->len += sizeof(*wc);
		s->count++;
	}
	if (repl_slot_post(ch, &m->slots, s, x->at, m->cfg.epoch)) {
		list_add(&s->node, &m->free_slots);
		repl_chan_fail(ch, -EIO);
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
			repl_chan_fail(ch, -EIO);
	} else if (ch->xfer && !ch->dead) {
		if (ch->xfer->next == ch->xfer->size && !ch->xfer->inflight)
			repl_xfer_finish(m, ch);
		else
			repl_xfer_post(m, ch);
		repl_member_run(m);
	}
	spin_unlock_bh(&m->lock);
}

/* The engine */

static void repl_member_slot_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct repl_slot *s = container_of(wc->wr_cqe, struct repl_slot, cqe);
	struct repl_chan *ch = wc->qp->qp_context;
	struct repl_member *m = ch->m;

	spin_lock_bh(&m->lock);
	list_add(&s->node, &m->free_slots);
	repl_chan_sent(ch, wc->status);
	spin_unlock_bh(&m->lock);
}

/*
 * Send what a slot-based channel has, within its credits.  On the
 * predecessor's channel every message is an ACK whose cumulative sequence
 * number is taken at posting time; one without entries is sent when the
 * predecessor has not heard the latest.
 */
static void repl_push_slots(struct repl_member *m, struct repl_chan *ch,
			    bool pred)
{
	struct repl_slot *s;

	while (ch->up && !ch->dead && ch->outstanding < REPL_SEND_CREDITS) {
		if (!list_empty(&ch->sendq)) {
			s = list_first_entry(&ch->sendq, struct repl_slot, node);
			list_del(&s->node);
		} else if (ch->open && (ch->open->count ||
				       (pred && m->ack_need))) {
			s = ch->open;
			ch->open = NULL;
		} else if (pred && m->ack_need &&
			   !list_empty(&m->free_slots)) {
			s = list_first_entry(&m->free_slots, struct repl_slot,
					     node);
			list_del(&s->node);
			s->len = sizeof(struct vrdma_repl_msg);
			s->count = 0;
			s->type = VRDMA_REPL_M_ACK;
		} else {
			return;
		}
		if (repl_slot_post(ch, &m->slots, s, pred ? m->acked : 0,
				   m->cfg.epoch)) {
			list_add(&s->node, &m->free_slots);
			repl_chan_fail(ch, -EIO);
			return;
		}
		if (pred)
			m->ack_need = false;
	}
}

static void repl_member_push(struct repl_member *m)
{
	struct repl_chan *ch = m->succ, *c;

	if (ch && ch->up && !ch->dead && !ch->xfer) {
		while (ch->outstanding < REPL_SEND_CREDITS &&
		       ch->cursor < m->log_n) {
			struct repl_logent *e = repl_log_ent(m, ch->cursor);

			if (e->open) {
				if (!e->count)
					break;
				repl_log_close(m, e);
			}
			if (repl_log_post(m, ch, e)) {
				repl_chan_fail(ch, -EIO);
				break;
			}
			ch->cursor++;
		}
	}
	if (m->pred)
		repl_push_slots(m, m->pred, true);
	list_for_each_entry(c, &m->clients, node)
		repl_push_slots(m, c, false);
}

/*
 * Run the member's engine (lock held): acknowledgements first, then the
 * operations received, then send what can be sent.
 */
static void repl_member_run(struct repl_member *m)
{
	const struct vrdma_repl_msg *msg;
	struct repl_rxbuf *rxb;

	lockdep_assert_held(&m->lock);
	if (!m->have_dev)
		return;

	while (!list_empty(&m->ackq)) {
		rxb = list_first_entry(&m->ackq, struct repl_rxbuf, node);
		if (!repl_process_ack(m, rxb))
			break;
		list_del_init(&rxb->node);
		repl_member_repost(m, rxb);
	}

	while (!list_empty(&m->rxq)) {
		rxb = list_first_entry(&m->rxq, struct repl_rxbuf, node);
		msg = repl_msg_check((u8 *)rxb->ch->rx.va + rxb->off, rxb->len);
		if (!msg) {
			repl_chan_fail(rxb->ch, -EPROTO);
		} else if (msg->type == VRDMA_REPL_M_OPS) {
			if (!m->rx_pos) {
				m->rx_pos = sizeof(*msg);
				m->rx_done = 0;
			}
			if (!repl_process_ops(m, rxb, msg))
				break;
		} else if (msg->type == VRDMA_REPL_M_STATE &&
			   rxb->ch->kind == REPL_CH_PRED) {
			repl_process_state(m, rxb, msg);
		} else {
			repl_chan_fail(rxb->ch, -EPROTO);
		}
		m->rx_pos = 0;
		m->rx_done = 0;
		list_del_init(&rxb->node);
		repl_member_repost(m, rxb);
	}

	repl_member_push(m);
}

/* Control */

/**
 * repl_hdr_fill() - fill the common head of a control message
 * @h: the head
 * @g: the group
 * @epoch: the sender's epoch
 * @src_role: VRDMA_REPL_R_* of the sender
 * @src_idx: its member index, or VRDMA_REPL_NO_IDX
 * @dst_role: VRDMA_REPL_R_* of the receiver
 * @dst_idx: its member index, or VRDMA_REPL_NO_IDX
 */
void repl_hdr_fill(struct vrdma_repl_c_hdr *h, const struct repl_group *g,
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
}

static void repl_member_send_link_req(struct repl_member *m)
{
	struct repl_chan *ch = m->succ;
	struct vrdma_repl_c_link_req req;

	repl_hdr_fill(&req.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
		      VRDMA_REPL_R_MEMBER, ch->peer_idx);
	req.qpn = cpu_to_le32(ch->qp->qp_num);
	req.psn = cpu_to_le32(ch->psn);
	req.nonce = cpu_to_le64(m->nonce);
	vrdma_ctrl_send(m->ep, &ch->peer_addr, VRDMA_REPL_C_LINK_REQ, &req,
			sizeof(req));
	ch->retry_at = jiffies + msecs_to_jiffies(max(repl_hb_ms, 100U) * 3);
}

static void repl_member_connect_succ(struct repl_member *m, u8 succ_idx)
{
	struct repl_chan *ch;

	lockdep_assert_held(&vrdma_repl_lock);
	ch = repl_chan_create(&m->dr, REPL_CH_SUCC, REPL_SUCC_NRX,
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
		repl_chan_destroy(ch);
	}
}

static void repl_member_suspect(struct repl_member *m, u8 idx)
{
	struct vrdma_repl_c_suspect s = { .idx = idx };

	repl_hdr_fill(&s.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
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
		struct repl_logent *e = repl_log_ent(m, 0);
		u8 *p = (u8 *)m->log.va + e->off + sizeof(struct vrdma_repl_msg);
		u8 *end = (u8 *)m->log.va + e->off + e->len;

		while (p < end) {
			const struct vrdma_repl_wop *w = (const void *)p;
			u64 seq = le64_to_cpu(w->seq);

			p += repl_wop_size(w, true);
			if (seq <= m->walked)
				continue;
			repl_op_acked(m, w, seq, (const void *)(w + 1), w->nres);
			m->walked = seq;
		}
		repl_log_release_first(m);
	}
	m->acked = m->applied;
	m->walked = m->applied;
	m->log_full = false;
}

/**
 * repl_member_config() - a configuration from the authority
 * @m: the member
 * @cfg: the configuration
 * @echo: echo of our heartbeat (0 when pushed)
 * @lease_ms: the lease it grants from the echoed time
 *
 * vrdma_repl_lock held.
 */
void repl_member_config(struct repl_member *m, const struct repl_config *cfg,
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
			repl_member_run(m);
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
		repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	if (m->succ && m->succ->peer_idx != succ_idx) {
		ch = m->succ;
		repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	if (!m->head || pos < 0) {
		list_for_each_entry_safe(ch, tmp, &m->clients, node) {
			repl_member_unlink_chan(m, ch);
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
			repl_log_release_first(m);
	}
	repl_member_run(m);
	spin_unlock_bh(&m->lock);

	repl_destroy_chans(&dead);

	pr_info("repl %s: member %u (%pI6c): epoch %u, position %d of %u%s\n",
		m->g->name, m->idx, &m->addr, cfg->epoch, pos, cfg->nchain,
		m->syncing ? ", waiting for the state" : "");

	if (succ_idx != VRDMA_REPL_NO_IDX && !m->succ)
		repl_member_connect_succ(m, succ_idx);
}

/**
 * repl_member_link_req() - our predecessor connects
 * @m: the member
 * @src: its address (checked by the caller)
 * @req: the request
 *
 * vrdma_repl_lock held.
 */
void repl_member_link_req(struct repl_member *m, const struct in6_addr *src,
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
		if (repl_peer_l2(&m->dr, src))
			return;
		ch = repl_chan_create(&m->dr, REPL_CH_PRED, REPL_PRED_NRX,
				      REPL_MSG_MAX, REPL_CHAN_NSEND);
		if (IS_ERR(ch))
			return;
		ch->m = m;
		ch->peer_idx = req->h.src_idx;
		ch->peer_addr = *src;
		ch->epoch = epoch;
		ch->nonce = nonce;
		ret = repl_chan_connect(ch, &m->dr, qpn,
					le32_to_cpu(req->psn));
		if (ret) {
			pr_warn_ratelimited("repl %s: member %u: cannot connect to member %u: %d\n",
					    m->g->name, m->idx,
					    req->h.src_idx, ret);
			repl_chan_destroy(ch);
			return;
		}
		spin_lock_bh(&m->lock);
		if (m->pred) {
			old = m->pred;
			repl_member_unlink_chan(m, old);
		}
		m->pred = ch;
		ch->up = true;
		spin_unlock_bh(&m->lock);
		repl_chan_destroy(old);
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
	repl_hdr_fill(&rep->h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
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

/**
 * repl_member_link_rep() - our successor answers
 * @m: the member
 * @rep: the answer
 * @len: its length (at least sizeof(*rep), checked by the caller)
 *
 * vrdma_repl_lock held.
 */
void repl_member_link_rep(struct repl_member *m,
			  const struct vrdma_repl_c_link_rep *rep, size_t len)
{
	struct repl_chan *ch = m->succ;
	u32 flags = le32_to_cpu(rep->flags), qpn = le32_to_cpu(rep->qpn);
	u32 nchunks = le32_to_cpu(rep->nchunks);
	u32 cb = le32_to_cpu(rep->chunk_bytes);
	struct repl_xfer *x = NULL;
	int ret;

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

	ret = repl_chan_connect(ch, &m->dr, qpn, le32_to_cpu(rep->psn));
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
		repl_chan_fail(ch, ret);
		spin_unlock_bh(&m->lock);
		return;
	}

	spin_lock_bh(&m->lock);
	ch->up = true;
	ch->cursor = 0;
	if (x && !m->in_sync) {
		/* We cannot serve a state we do not have. */
		kfree(x);
		repl_chan_fail(ch, -EAGAIN);
	} else if (x) {
		x->at = m->applied;
		ch->xfer = x;
		m->xfer_pause = true;
		pr_info("repl %s: member %u: state transfer to member %u\n",
			m->g->name, m->idx, ch->peer_idx);
		repl_xfer_post(m, ch);
	}
	repl_member_run(m);
	spin_unlock_bh(&m->lock);
}

/**
 * repl_member_client_req() - a client agent connects to us (the head)
 * @m: the member
 * @src: the agent's address
 * @req: the request
 *
 * vrdma_repl_lock held.
 */
void repl_member_client_req(struct repl_member *m, const struct in6_addr *src,
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
	else if (repl_peer_l2(&m->dr, src))
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
	if (!status && !repl_cs_get(m, client, GFP_ATOMIC))
		status = -ENOMEM;
	spin_unlock_bh(&m->lock);

	if (!status && !ch) {
		ch = repl_chan_create(&m->dr, REPL_CH_CLIENT, REPL_CLIENT_NRX,
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
		ret = repl_chan_connect(ch, &m->dr, qpn, le32_to_cpu(req->psn));
		if (ret) {
			repl_chan_destroy(ch);
			ch = NULL;
			status = ret;
		} else {
			spin_lock_bh(&m->lock);
			if (old)
				repl_member_unlink_chan(m, old);
			list_add_tail(&ch->node, &m->clients);
			m->nclients++;
			ch->up = true;
			spin_unlock_bh(&m->lock);
			repl_chan_destroy(old);
			pr_debug("repl %s: member %u: client %llx connected\n",
				 m->g->name, m->idx, client);
		}
	}

	repl_hdr_fill(&rep.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
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

	repl_hdr_fill(&hb.h, m->g, m->cfg.epoch, VRDMA_REPL_R_MEMBER, m->idx,
		      VRDMA_REPL_R_AUTHORITY, VRDMA_REPL_NO_IDX);
	hb.nonce = cpu_to_le64(m->nonce);
	hb.echo = cpu_to_le64(jiffies);
	hb.synced_epoch = cpu_to_le32(READ_ONCE(m->synced_epoch));
	hb.flags = cpu_to_le32(flags);
	vrdma_ctrl_send(m->ep, &m->g->authority, VRDMA_REPL_C_HB, &hb,
			sizeof(hb));
}

/**
 * repl_member_tick() - periodic work of a member
 * @m: the member
 *
 * Heartbeat, lease, broken channels, connection retries.
 * vrdma_repl_lock held.
 */
void repl_member_tick(struct repl_member *m)
{
	struct repl_chan *ch, *tmp;
	LIST_HEAD(dead);
	u8 suspect_succ = VRDMA_REPL_NO_IDX, suspect_pred = VRDMA_REPL_NO_IDX;
	bool reconnect = false;

	lockdep_assert_held(&vrdma_repl_lock);
	if (!m->have_dev)
		repl_member_attach(m);

	if (m->have_dev) {
		spin_lock_bh(&m->lock);
		if (m->leased && !m->fenced &&
		    time_after(jiffies, m->lease_end)) {
			m->fenced = true;
			pr_warn("repl %s: member %u (%pI6c): no word from the authority, fenced\n",
				m->g->name, m->idx, &m->addr);
		}
		ch = m->succ;
		if (ch && ch->dead) {
			if (!ch->reported && !ch->xfer)
				suspect_succ = ch->peer_idx;
			repl_member_unlink_chan(m, ch);
			list_add(&ch->node, &dead);
			reconnect = true;
		}
		ch = m->pred;
		if (ch && ch->dead) {
			suspect_pred = ch->peer_idx;
			repl_member_unlink_chan(m, ch);
			list_add(&ch->node, &dead);
		}
		list_for_each_entry_safe(ch, tmp, &m->clients, node) {
			if (ch->dead) {
				repl_member_unlink_chan(m, ch);
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
 * repl_member_info() - a snapshot for reports
 * @m: the member
 * @applied: set to its last applied sequence number
 * @epoch: set to the epoch it is in
 * @state: set to its state
 */
void repl_member_info(struct repl_member *m, u64 *applied, u32 *epoch,
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
 * repl_member_attach() - set up the member's RDMA resources
 * @m: the member (without them)
 *
 * Finds the device whose RoCE GID is the member's address; nothing
 * happens if there is none yet.  A member that gets its device (back) is
 * a new instance (new nonce) that must be brought up to date.
 * vrdma_repl_lock held.
 */
void repl_member_attach(struct repl_member *m)
{
	u32 i;
	int ret;

	lockdep_assert_held(&vrdma_repl_lock);
	if (m->have_dev)
		return;
	ret = repl_devres_open(&m->dr, &m->addr, REPL_MEMBER_CQE, m);
	if (ret)
		return;
	ret = repl_mem_reg(&m->region, &m->dr,
			   IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE);
	if (ret)
		goto err_dev;
	ret = repl_mem_alloc(&m->log, REPL_LOG_BYTES);
	if (ret)
		goto err_region;
	ret = repl_mem_reg(&m->log, &m->dr, IB_ACCESS_LOCAL_WRITE);
	if (ret)
		goto err_log;
	ret = repl_slots_init(&m->slots, &m->slot, &m->free_slots,
			      REPL_NSLOTS, REPL_SMALL_MAX, &m->dr);
	if (ret)
		goto err_log_reg;
	for (i = 0; i < REPL_NSLOTS; i++)
		m->slot[i].cqe.done = repl_member_slot_done;

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
	repl_mem_unreg(&m->log);
err_log:
	repl_mem_free(&m->log);
err_region:
	repl_mem_unreg(&m->region);
err_dev:
	repl_devres_close(&m->dr);
	pr_warn_ratelimited("repl %s: member %u: cannot set up RDMA resources: %d\n",
			    m->g->name, m->idx, ret);
}

/**
 * repl_member_detach() - release the member's RDMA resources
 * @m: the member
 *
 * Its device goes away, or the member does.  vrdma_repl_lock held.
 */
void repl_member_detach(struct repl_member *m)
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
		repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	if (m->succ) {
		ch = m->succ;
		repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	list_for_each_entry_safe(ch, tmp, &m->clients, node) {
		repl_member_unlink_chan(m, ch);
		list_add(&ch->node, &dead);
	}
	while (m->log_n)
		repl_log_release_first(m);
	spin_unlock_bh(&m->lock);

	repl_destroy_chans(&dead);
	repl_slots_fini(&m->slots, &m->slot);
	repl_mem_unreg(&m->log);
	repl_mem_free(&m->log);
	repl_mem_unreg(&m->region);
	repl_devres_close(&m->dr);
	pr_info("repl %s: member %u (%pI6c) lost its RDMA device\n",
		m->g->name, m->idx, &m->addr);
}

/**
 * repl_member_create() - a member of this host
 * @g: the group (not yet visible)
 * @idx: the member's index
 * @path: its backing file
 *
 * Opens the backing file and pins the region; may take long for a large
 * region.  Called without vrdma_repl_lock (the group is not visible yet).
 *
 * Return: the member or an ERR_PTR.
 */
struct repl_member *repl_member_create(struct repl_group *g, u8 idx,
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
	INIT_WORK(&m->flush_work, repl_member_flush_work);

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
	m->file = repl_file_open(g, path, g->size);
	if (IS_ERR(m->file)) {
		ret = PTR_ERR(m->file);
		m->file = NULL;
		goto err;
	}
	ret = repl_mem_pin_file(&m->region, m->file, g->size);
	if (ret)
		goto err;
	m->dirty = bitmap_zalloc(m->region.npages, GFP_KERNEL);
	if (!m->dirty) {
		ret = -ENOMEM;
		goto err;
	}
	vrdma_audit_created(VRDMA_AUDIT_REPL_MEMBER);
	/* A host that holds a replica must stay awake (sleep.c). */
	vrdma_sleep_repl_groups_add(1);
	return m;

err:
	repl_mem_free(&m->region);
	if (m->file)
		fput(m->file);
	vrdma_ctrl_ep_put(m->ep);
	kfree(m->logent);
	kfree(m);
	return ERR_PTR(ret);
}

/**
 * repl_member_destroy() - the member goes away
 * @m: the member
 *
 * Releases its RDMA resources, writes the region back to the file system
 * (no fsync) and unpins it.  vrdma_repl_lock held, or the member was
 * never visible.
 */
void repl_member_destroy(struct repl_member *m)
{
	int ret;

	if (!m)
		return;
	repl_member_detach(m);
	cancel_work_sync(&m->flush_work);
	ret = repl_file_writeback(m->file, &m->region, m->dirty, 0,
				  m->g->size, false);
	if (ret)
		pr_warn("repl %s: member %u: cannot write the region back to %s: %d\n",
			m->g->name, m->idx, m->path, ret);
	repl_mem_free(&m->region);
	fput(m->file);
	bitmap_free(m->dirty);
	repl_cs_free_all(m);
	vrdma_ctrl_ep_put(m->ep);
	kfree(m->logent);
	kfree(m);
	vrdma_sleep_repl_groups_add(-1);
	vrdma_audit_destroyed(VRDMA_AUDIT_REPL_MEMBER);
}
