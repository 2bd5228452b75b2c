// SPDX-License-Identifier: GPL-2.0
/*
 * The data path of a member of a replication chain on this host: applying
 * operations, the forward log, acknowledgments (softirq, member->lock).
 * repl_member.c holds the member's control: lifecycle, configuration,
 * links and state transfer.
 *
 * Operations arrive as OPS messages: from client agents at the head (one
 * channel per agent), from the predecessor elsewhere.  Received messages
 * wait in member->rxq and are processed in order, entry by entry, by
 * vrdma_repl_member_run(), which runs after every completion and every event
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

static void repl_member_push(struct repl_member *m);

/* Operations */

/**
 * vrdma_repl_op_check() - is an operation valid for a region
 * @size: region size
 * @opcode: enum vrdma_repl_opcode
 * @offset: offset (destination of MEMCPY)
 * @src: source of MEMCPY
 * @len: length
 *
 * Return: 0, -EINVAL (unknown opcode, bad length or alignment) or -ERANGE
 * (beyond the region).
 */
int vrdma_repl_op_check(u64 size, u8 opcode, u64 offset, u64 src, u32 len)
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

size_t vrdma_repl_wop_size(const struct vrdma_repl_wop *w, bool data)
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
	n = vrdma_repl_wop_size(w, data);
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

static struct repl_cs *repl_cs_find(struct repl_member *m, u64 client)
{
	struct repl_cs *cs;

	hash_for_each_possible(m->cstates, cs, node, client)
		if (cs->client == client)
			return cs;
	return NULL;
}

struct repl_cs *vrdma_repl_cs_get(struct repl_member *m, u64 client,
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

void vrdma_repl_cs_free_all(struct repl_member *m)
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
	u8 *p = (u8 *)vrdma_repl_slot_va(&m->slots, s) + s->len;
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

void vrdma_repl_chan_fail(struct repl_chan *ch, int err)
{
	if (ch->dead)
		return;
	ch->dead = true;
	ch->up = false;
	pr_debug("repl: channel (kind %d, peer %u) failed: %d\n", ch->kind,
		 ch->peer_idx, err);
	vrdma_repl_kick();
}

/**
 * vrdma_repl_chan_event() - QP events of every channel
 * @ev: the event
 * @ctx: the channel
 *
 * Providers call QP event handlers in any context, some (mlx5 on older
 * kernels) in hard interrupt context, where the owner's lock, taken with
 * spin_lock_bh() elsewhere, must not be taken.  So the event only marks
 * the channel and kicks the control loop, whose tick fails it under the
 * lock (vrdma_repl_chan_failed()).
 */
void vrdma_repl_chan_event(struct ib_event *ev, void *ctx)
{
	struct repl_chan *ch = ctx;

	switch (ev->event) {
	case IB_EVENT_QP_FATAL:
	case IB_EVENT_QP_REQ_ERR:
	case IB_EVENT_QP_ACCESS_ERR:
	case IB_EVENT_DEVICE_FATAL:
		WRITE_ONCE(ch->qp_failed, true);
		vrdma_repl_kick();
		break;
	default:
		break;
	}
}

/**
 * vrdma_repl_chan_failed() - whether a channel is dead (owner's lock held)
 * @ch: the channel
 *
 * Fails it first if its QP reported a fatal event.
 *
 * Return: true when it is dead.
 */
bool vrdma_repl_chan_failed(struct repl_chan *ch)
{
	lockdep_assert_held(ch->m ? &ch->m->lock : &ch->c->lock);
	if (READ_ONCE(ch->qp_failed))
		vrdma_repl_chan_fail(ch, -EIO);
	return ch->dead;
}

/**
 * vrdma_repl_chan_rx_done() - receive completion of every channel
 * @cq: the CQ
 * @wc: the completion
 */
void vrdma_repl_chan_rx_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct repl_rxbuf *rxb = container_of(wc->wr_cqe, struct repl_rxbuf,
					      cqe);
	struct repl_chan *ch = rxb->ch;
	struct repl_member *m = ch->m;

	if (!m) {
		vrdma_repl_client_rx(ch, rxb, wc);
		return;
	}
	spin_lock_bh(&m->lock);
	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			vrdma_repl_chan_fail(ch, -EIO);
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
	vrdma_repl_member_run(m);
out:
	spin_unlock_bh(&m->lock);
}

static void repl_member_repost(struct repl_member *m, struct repl_rxbuf *rxb)
{
	struct repl_chan *ch = rxb->ch;

	if (ch->dead)
		return;
	if (vrdma_repl_chan_post_recv(ch, rxb))
		vrdma_repl_chan_fail(ch, -EIO);
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
void vrdma_repl_member_unlink_chan(struct repl_member *m,
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

struct repl_logent *vrdma_repl_log_ent(struct repl_member *m, u32 i)
{
	return &m->logent[(m->log_first + i) % REPL_LOG_ENTRIES];
}

static struct repl_logent *repl_log_last(struct repl_member *m)
{
	return m->log_n ? vrdma_repl_log_ent(m, m->log_n - 1) : NULL;
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
	e = vrdma_repl_log_ent(m, m->log_n);
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

void vrdma_repl_log_release_first(struct repl_member *m)
{
	struct repl_logent *e = vrdma_repl_log_ent(m, 0);

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
			vrdma_repl_chan_fail(ch, -EIO);
	} else {
		vrdma_repl_member_run(ch->m);
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
	return vrdma_repl_msg_post(ch, &m->log, e->off, e->len, &e->cqe,
			     VRDMA_REPL_M_OPS, e->count, 0, m->cfg.epoch);
}

/* Completion of an operation by the whole chain */

/*
 * Operation @w (sequence number @seq, results @res) is applied by every
 * member: remember it, report it to the agent (head) or to the
 * predecessor.  Returns false if no send buffer is free (nothing done).
 */
bool vrdma_repl_op_acked(struct repl_member *m, const struct vrdma_repl_wop *w,
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
	cs = vrdma_repl_cs_get(m, client, GFP_ATOMIC);
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

void vrdma_repl_member_flush_work(struct work_struct *work)
{
	struct repl_member *m = container_of(work, struct repl_member,
					     flush_work);
	u64 off, len;
	int ret;

	spin_lock_bh(&m->lock);
	off = m->flush_off;
	len = m->flush_len;
	spin_unlock_bh(&m->lock);

	ret = vrdma_repl_file_writeback(m->file, &m->region, m->dirty, off, len,
					true);

	spin_lock_bh(&m->lock);
	m->flush_status = ret;
	m->flush_done = true;
	m->flush_pending = false;
	vrdma_repl_member_run(m);
	spin_unlock_bh(&m->lock);
}

/*
 * A member that has a successor in its chain applies an operation only
 * once the link to it is up: vrdma_repl_member_link_rep() has checked
 * then that the successor applied nothing this member did not (log
 * matching), which an operation applied before would hide.
 */
static bool repl_member_unlinked(const struct repl_member *m)
{
	return m->pos >= 0 && m->pos + 1 < m->cfg.nchain &&
	       (!m->succ || !m->succ->up);
}

static bool repl_member_paused(struct repl_member *m)
{
	return !m->have_dev || m->pos < 0 || m->fenced || m->syncing ||
	       m->xfer_pause || m->flush_pending || !m->cfg.epoch ||
	       repl_member_unlinked(m);
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
		cs = vrdma_repl_cs_get(m, client, GFP_ATOMIC);
		if (cs && op_id <= cs->last_id) {
			m->stat_dups++;
			if (op_id > cs->acked_id)
				return 0;	/* in flight: it will complete */
			return repl_done_dup(m, ch, cs, w) ? 0 : -EAGAIN;
		}
		ret = vrdma_repl_op_check(m->g->size, w->opcode, off,
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

				if (r && !vrdma_repl_op_acked(m, w, seq, r->res,
							      r->nres))
					return -EAGAIN;
			}
			m->ack_need = true;
			return 0;
		}
		if (seq != m->applied + 1 ||
		    vrdma_repl_op_check(m->g->size, w->opcode, off,
					le64_to_cpu(w->src), len))
			return -EPROTO;
		if (repl_member_paused(m))
			return -EAGAIN;
	}

	/* Room for what this operation produces: a log entry or an ACK. */
	if (!m->tail) {
		e = repl_log_reserve(m, vrdma_repl_wop_size(w, true) +
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
	cs = vrdma_repl_cs_get(m, client, GFP_ATOMIC);
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
		if (!vrdma_repl_op_acked(m, w, seq, res, nres))
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
			vrdma_repl_chan_fail(ch, -EPROTO);
			return true;
		}
		ret = repl_apply_entry(m, ch, (void *)(base + m->rx_pos));
		if (ret == -EAGAIN)
			return false;
		if (ret) {
			pr_warn_ratelimited("repl %s: member %u: bad operation from %pI6c\n",
					    m->g->name, m->idx, &ch->peer_addr);
			vrdma_repl_chan_fail(ch, ret);
			return true;
		}
		m->rx_pos += n;
		m->rx_done++;
	}
	if (m->rx_pos != rxb->len)
		vrdma_repl_chan_fail(ch, -EPROTO);
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
		vrdma_repl_chan_fail(rxb->ch, -EPROTO);
		return;
	}
	for (i = 0; i < count; i++) {
		cs = vrdma_repl_cs_get(m, le64_to_cpu(wc[i].client), GFP_ATOMIC);
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
	vrdma_repl_kick();	/* tell the authority soon */
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
		vrdma_repl_chan_fail(ch, -EPROTO);
		return true;
	}
	last = le64_to_cpu(msg->arg);
	count = le16_to_cpu(msg->count);
	/* Only what it had applied when it linked, or what we sent it. */
	if (last > m->applied || last > ch->sent_seq) {
		pr_warn_ratelimited("repl %s: member %u: member %u acknowledged sequence number %llu, beyond what it was sent (%llu)\n",
				    m->g->name, m->idx, ch->peer_idx, last,
				    min(m->applied, ch->sent_seq));
		vrdma_repl_chan_fail(ch, -EPROTO);
		return true;
	}

	while (m->log_n && m->walked < last) {
		struct repl_logent *e = vrdma_repl_log_ent(m, 0);
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

			p += vrdma_repl_wop_size(w, true);
			if (seq <= m->walked)
				continue;
			if (seq > last)
				goto out;
			/* The successor's entry for this sequence number. */
			while (ai < count && aseq < seq) {
				n = repl_wop_parse(base + apos, rxb->len - apos,
						   false);
				if (!n) {
					vrdma_repl_chan_fail(ch, -EPROTO);
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
				if (!vrdma_repl_op_acked(m, &tmp, seq, merged, nres))
					return false;
			} else if (!vrdma_repl_op_acked(m, w, seq, merged, nres)) {
				return false;
			}
			m->walked = seq;
		}
		if (e->last <= m->walked)
			vrdma_repl_log_release_first(m);
		else
			break;
	}
out:
	m->acked = max(m->acked, min(last, m->walked));
	m->ack_need = true;
	m->log_full = false;
	return true;
}

/* The engine */

void vrdma_repl_member_slot_done(struct ib_cq *cq, struct ib_wc *wc)
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
		if (vrdma_repl_slot_post(ch, &m->slots, s, pred ? m->acked : 0,
					 m->cfg.epoch)) {
			list_add(&s->node, &m->free_slots);
			vrdma_repl_chan_fail(ch, -EIO);
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
			struct repl_logent *e = vrdma_repl_log_ent(m, ch->cursor);

			if (e->open) {
				if (!e->count)
					break;
				repl_log_close(m, e);
			}
			if (repl_log_post(m, ch, e)) {
				vrdma_repl_chan_fail(ch, -EIO);
				break;
			}
			ch->sent_seq = max(ch->sent_seq, e->last);
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
void vrdma_repl_member_run(struct repl_member *m)
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
			vrdma_repl_chan_fail(rxb->ch, -EPROTO);
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
			vrdma_repl_chan_fail(rxb->ch, -EPROTO);
		}
		m->rx_pos = 0;
		m->rx_done = 0;
		list_del_init(&rxb->node);
		repl_member_repost(m, rxb);
	}

	repl_member_push(m);
}
