// SPDX-License-Identifier: GPL-2.0
/*
 * The data path: work requests from the rings shared with userspace to the
 * physical device, and completions back.
 *
 * Sends.  librxe writes send WQEs into the send ring and rings the
 * doorbell, a post_send with no work request, in the caller's context.
 * vrdma_sq_drain() copies each new WQE out of the ring (userspace may
 * change it under us), validates it against the tenant's own objects (the
 * lkeys name MRs of the QP's PD, the AH belongs to that PD, the opcode
 * suits the QP type, lengths are bounded) and posts it to the physical QP.
 * A record per send (struct vrdma_swqe) keeps the application's wr_id in a
 * ring of sq_depth entries indexed by a free-running send counter, which
 * is also the physical wr_id.  The physical QP completes sends in order,
 * so a completion retires every record up to its own.  A WQE that fails
 * validation is not posted: it becomes a record that completes with an
 * error, in its turn, after the sends before it; the QP then moves to the
 * error state and what follows is flushed.  The send ring is consumed
 * only as far as the physical QP has room; the rest waits in the ring.
 *
 * Receives.  librxe posts receives by writing the receive ring, with no
 * system call: vrdma_rq_refill() moves new receive WQEs to the physical
 * queue whenever something happens (a doorbell, a receive completion, the
 * poller in vdev.c), a bounded number at a time (VRDMA_RQ_BUDGET).
 * Records (struct vrdma_rwqe) live in a table of free slots, since SRQ
 * receives complete in any order.
 *
 * Completions.  Each virtual CQ owns a physical CQ, polled here in softirq
 * context (irq_poll, like ib_core's IB_POLL_SOFTIRQ).  Its completions are
 * translated into the rxe user ABI (struct ib_uverbs_wc with user opcode
 * and flag values) and pushed into the virtual CQ's ring.  A completion
 * finds its QP through vdev->qp_hash, by the physical QP's address, never
 * by dereferencing it: one may arrive for a QP being destroyed, and is
 * then dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/hashtable.h>
#include <linux/irq_poll.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

#include "counters.h"
#include "gsi.h"
#include "map.h"
#include "verbs.h"

/* Send flags of the user ABI that vrdma passes on (same values in ib_core). */
#define VRDMA_SEND_FLAGS	(IB_SEND_FENCE | IB_SEND_SIGNALED | \
				 IB_SEND_SOLICITED | IB_SEND_INLINE)

static u64 vrdma_wrid(u64 kind, u32 id, u32 index)
{
	return kind << VRDMA_WRID_KIND_SHIFT |
	       ((u64)id & VRDMA_WRID_ID_MASK) << VRDMA_WRID_ID_SHIFT | index;
}

/* ------------------------------------------------------------------ */
/* QP lookup for completions                                            */

static struct vrdma_qp *vrdma_qp_lookup_rcu(struct vrdma_dev *vdev,
					    struct ib_qp *pqp)
{
	struct vrdma_qp *qp;

	hash_for_each_possible_rcu(vdev->qp_hash, qp, hnode, (unsigned long)pqp)
		if (READ_ONCE(qp->pqp) == pqp)
			return qp;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Completion translation                                               */

static u32 vrdma_uwc_flags(int flags)
{
	u32 uflags = 0;

	if (flags & IB_WC_GRH)
		uflags |= VRDMA_UWC_FLAG_GRH;
	if (flags & IB_WC_WITH_IMM)
		uflags |= VRDMA_UWC_FLAG_WITH_IMM;
	if (flags & IB_WC_WITH_INVALIDATE)
		uflags |= VRDMA_UWC_FLAG_WITH_INV;
	if (flags & IB_WC_IP_CSUM_OK)
		uflags |= VRDMA_UWC_FLAG_IP_CSUM_OK;
	return uflags;
}

static void vrdma_qp_push(struct vrdma_qp *qp, struct vrdma_cq *cq,
			  struct ib_uverbs_wc *uwc, bool solicited)
{
	uwc->qp_num = qp->ibqp.qp_num;
	uwc->port_num = 1;
	vrdma_stats_cqe(qp, uwc);
	if (vrdma_cq_push(cq, uwc, solicited))
		vrdma_stat_inc(qp->vdev, VRDMA_STAT_CQE_DROPPED);
}

/* ------------------------------------------------------------------ */
/* Sends                                                                */

static struct vrdma_swqe *vrdma_sq_rec(struct vrdma_qp *qp, u32 count)
{
	return &qp->sq_shadow[count & (qp->sq_depth - 1)];
}

/*
 * Report retired sends, oldest first: a record completes once it was not
 * posted (a WQE that failed validation, or flushed) or the physical QP
 * completed it.
 */
static void vrdma_sq_retire(struct vrdma_qp *qp)
{
	lockdep_assert_held(&qp->sq_lock);

	while (qp->sq_head != qp->sq_tail) {
		struct vrdma_swqe *rec = vrdma_sq_rec(qp, qp->sq_head);
		struct ib_uverbs_wc uwc = {};

		if (rec->posted && !rec->done)
			break;
		if (rec->posted && rec->status == IB_WC_SUCCESS)
			vrdma_stats_send(qp, rec);
		if (rec->signaled || rec->status != IB_WC_SUCCESS) {
			uwc.wr_id = rec->wr_id;
			uwc.status = rec->status;
			uwc.opcode = rec->opcode;
			uwc.byte_len = rec->byte_len;
			uwc.vendor_err = rec->vendor_err;
			/* A send completion is never solicited (errors do wake). */
			vrdma_qp_push(qp, qp->scq, &uwc, false);
		}
		qp->sq_head++;
	}
	if (qp->sq_head == qp->sq_tail)
		wake_up(&qp->drain_wq);
}

/* A send that is not posted: it completes with @status in its turn. */
static void vrdma_sq_add_unposted(struct vrdma_qp *qp, u64 wr_id, u32 opcode,
				  enum ib_wc_status status)
{
	struct vrdma_swqe *rec = vrdma_sq_rec(qp, qp->sq_tail++);

	*rec = (struct vrdma_swqe) {
		.wr_id = wr_id,
		.opcode = opcode,
		.signaled = true,
		.status = status,
	};
}

static int vrdma_send_opcode(u32 uop, enum ib_qp_type type,
			     enum ib_wr_opcode *op, u32 *wc_op)
{
	switch (uop) {
	case IB_UVERBS_WR_SEND:
		*op = IB_WR_SEND;
		*wc_op = VRDMA_UWC_SEND;
		return 0;
	case IB_UVERBS_WR_SEND_WITH_IMM:
		*op = IB_WR_SEND_WITH_IMM;
		*wc_op = VRDMA_UWC_SEND;
		return 0;
	}
	if (type == IB_QPT_UD)
		return -EINVAL;

	switch (uop) {
	case IB_UVERBS_WR_RDMA_WRITE:
		*op = IB_WR_RDMA_WRITE;
		*wc_op = VRDMA_UWC_RDMA_WRITE;
		return 0;
	case IB_UVERBS_WR_RDMA_WRITE_WITH_IMM:
		*op = IB_WR_RDMA_WRITE_WITH_IMM;
		*wc_op = VRDMA_UWC_RDMA_WRITE;
		return 0;
	}
	if (type != IB_QPT_RC)
		return -EINVAL;

	switch (uop) {
	case IB_UVERBS_WR_RDMA_READ:
		*op = IB_WR_RDMA_READ;
		*wc_op = VRDMA_UWC_RDMA_READ;
		return 0;
	case IB_UVERBS_WR_ATOMIC_CMP_AND_SWP:
		*op = IB_WR_ATOMIC_CMP_AND_SWP;
		*wc_op = VRDMA_UWC_COMP_SWAP;
		return 0;
	case IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD:
		*op = IB_WR_ATOMIC_FETCH_AND_ADD;
		*wc_op = VRDMA_UWC_FETCH_ADD;
		return 0;
	}
	return -EINVAL;
}

/**
 * struct vrdma_send_wr - any kind of send work request, on the stack
 * @wr: the work request
 * @sge: its scatter/gather list
 * @len: bytes of the scatter/gather list or of the inline data
 */
struct vrdma_send_wr {
	union {
		struct ib_send_wr send;
		struct ib_rdma_wr rdma;
		struct ib_atomic_wr atomic;
		struct ib_ud_wr ud;
	} wr;
	struct ib_sge sge[VRDMA_MAX_SGE];
	u32 len;
};

/* Is @qpn a UD QP of @qp's virtual network on this host?  Any context. */
static bool vrdma_ud_dest_ok(struct vrdma_qp *qp, u32 qpn)
{
	struct vrdma_qp *dst;
	bool ok;

	rcu_read_lock();
	dst = vrdma_ud_qp_rcu(qp->vdev->pdev, qpn);
	ok = dst && dst->vdev->vni == qp->vdev->vni;
	rcu_read_unlock();
	return ok;
}

/* Has @qp announced itself to @host with source GID @sgid_index? */
static bool vrdma_ud_announced(struct vrdma_qp *qp, const union ib_gid *host,
			       u32 sgid_index)
{
	u32 i;

	lockdep_assert_held(&qp->sq_lock);

	if (time_after(jiffies, qp->announced_at + VRDMA_UDA_REFRESH)) {
		qp->n_announced = 0;	/* refresh now and then */
		qp->announced_at = jiffies;
	}
	for (i = 0; i < qp->n_announced; i++)
		if (qp->announced[i].sgid_index == sgid_index &&
		    !memcmp(&qp->announced[i].host, host, sizeof(*host)))
			return true;
	return false;
}

static void vrdma_ud_announced_add(struct vrdma_qp *qp,
				   const union ib_gid *host, u32 sgid_index)
{
	u32 i = qp->n_announced;

	lockdep_assert_held(&qp->sq_lock);

	if (i == ARRAY_SIZE(qp->announced))
		i = qp->announced_next++ % ARRAY_SIZE(qp->announced);
	else
		qp->n_announced++;
	qp->announced[i].host = *host;
	qp->announced[i].sgid_index = sgid_index;
}

/*
 * Validate the send WQE copied to qp->wqe and post it.  Returns the
 * completion status: IB_WC_SUCCESS when it was posted, an error status
 * when it must complete with that error instead.  *@wait is set (and
 * nothing posted) when the WQE must wait for its QP to announce itself to
 * the destination host (UD).
 */
static enum ib_wc_status vrdma_sq_post_one(struct vrdma_qp *qp,
					   struct vrdma_send_wr *w,
					   u32 *wc_op, bool *wait)
{
	struct rxe_send_wqe *wqe = qp->wqe;
	struct vrdma_dev *vdev = qp->vdev;
	u32 flags = wqe->wr.send_flags;
	u32 elem = vrdma_queue_elem_size(&qp->sq);
	enum ib_wr_opcode op;
	struct vrdma_ah *ah;
	u32 i, num_sge, qpn;
	int access = 0;
	int ret;

	*wait = false;
	*wc_op = VRDMA_UWC_SEND;
	if (vrdma_send_opcode(wqe->wr.opcode, qp->ibqp.qp_type, &op, wc_op))
		return IB_WC_LOC_QP_OP_ERR;
	if (flags & ~VRDMA_SEND_FLAGS)
		return IB_WC_LOC_QP_OP_ERR;

	memset(&w->wr, 0, sizeof(w->wr));
	w->wr.send.opcode = op;
	w->wr.send.send_flags = flags;
	w->wr.send.sg_list = w->sge;
	if (op == IB_WR_SEND_WITH_IMM || op == IB_WR_RDMA_WRITE_WITH_IMM)
		w->wr.send.ex.imm_data = wqe->wr.ex.imm_data;
	if (op == IB_WR_RDMA_READ || op == IB_WR_ATOMIC_CMP_AND_SWP ||
	    op == IB_WR_ATOMIC_FETCH_AND_ADD)
		access = IB_ACCESS_LOCAL_WRITE;

	if (flags & IB_SEND_INLINE) {
		u32 len = wqe->dma.length;

		/* Inline data sits in the slot after the WQE header. */
		if (access || len > qp->max_inline ||
		    len > elem - sizeof(*wqe))
			return IB_WC_LOC_LEN_ERR;
		w->sge[0].addr = (uintptr_t)wqe->dma.inline_data;
		w->sge[0].length = len;
		w->sge[0].lkey = 0;
		w->wr.send.num_sge = len ? 1 : 0;
		w->len = len;
	} else {
		u64 total = 0;

		num_sge = wqe->dma.num_sge;
		if (num_sge > qp->max_send_sge)
			return IB_WC_LOC_LEN_ERR;
		for (i = 0; i < num_sge; i++) {
			struct rxe_sge *s = &wqe->dma.sge[i];

			if (vrdma_mr_check(vdev, qp->pd, s->lkey, s->addr,
					   s->length, access))
				return IB_WC_LOC_PROT_ERR;
			w->sge[i].addr = s->addr;
			w->sge[i].length = s->length;
			w->sge[i].lkey = s->lkey;
			total += s->length;
		}
		if (total > U32_MAX)
			return IB_WC_LOC_LEN_ERR;
		w->wr.send.num_sge = num_sge;
		w->len = total;
	}

	switch (op) {
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
	case IB_WR_RDMA_READ:
		w->wr.rdma.remote_addr = wqe->wr.wr.rdma.remote_addr;
		w->wr.rdma.rkey = wqe->wr.wr.rdma.rkey;
		break;
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		if (w->wr.send.num_sge != 1 || w->sge[0].length != sizeof(u64))
			return IB_WC_LOC_LEN_ERR;
		w->wr.atomic.remote_addr = wqe->wr.wr.atomic.remote_addr;
		w->wr.atomic.compare_add = wqe->wr.wr.atomic.compare_add;
		w->wr.atomic.swap = wqe->wr.wr.atomic.swap;
		w->wr.atomic.rkey = wqe->wr.wr.atomic.rkey;
		break;
	default:
		break;
	}

	w->wr.send.wr_id = vrdma_wrid(VRDMA_WRID_SQ, 0, qp->sq_tail);

	if (qp->ibqp.qp_type != IB_QPT_UD)
		return ib_post_send(qp->pqp, &w->wr.send, NULL) ?
		       IB_WC_LOC_QP_OP_ERR : IB_WC_SUCCESS;

	/*
	 * The address handle must be one of the QP's PD.  The AH table's lock
	 * is held while posting: destroy_ah erases the entry under it before
	 * destroying the physical AH.  QP 0 and QP 1 are the physical
	 * devices' own; on this host, the destination must be a UD QP of
	 * the QP's virtual network (other hosts' receivers drop another
	 * network's datagrams, see vrdma_ud_addrs()).
	 */
	qpn = wqe->wr.wr.ud.remote_qpn;
	if (qpn & ~IB_QPN_MASK || qpn <= 1)
		return IB_WC_LOC_QP_OP_ERR;
	w->wr.ud.remote_qpn = qpn;
	w->wr.ud.remote_qkey = wqe->wr.wr.ud.remote_qkey;
	w->wr.ud.pkey_index = 0;
	xa_lock(&vdev->ahs);
	ah = xa_load(&vdev->ahs, wqe->wr.wr.ud.ah_num);
	if (!ah || ah->pd != qp->pd || !ah->pah ||
	    (ah->local && !vrdma_ud_dest_ok(qp, qpn)) ||
	    (!ah->local && !qp->tun)) {
		xa_unlock(&vdev->ahs);
		return IB_WC_LOC_QP_OP_ERR;
	}
	/*
	 * A remote receiver knows the QP (and drops its datagrams when it
	 * is of another network) once the QP announced itself: decided on
	 * this very copy of the WQE, which is the one posted.
	 */
	if (!ah->local &&
	    !vrdma_ud_announced(qp, &ah->host, ah->attr.grh.sgid_index)) {
		qp->uda_host = ah->host;
		qp->uda_sgid_index = ah->attr.grh.sgid_index;
		xa_unlock(&vdev->ahs);
		*wait = true;
		return IB_WC_SUCCESS;
	}
	w->wr.ud.ah = ah->pah;
	/*
	 * For the receiver's GRH, if it is on this host; before the post:
	 * the RNIC's loopback may deliver the datagram at once.
	 */
	qp->ud_last_dgid = ah->attr.grh.dgid;
	WRITE_ONCE(qp->ud_last_sgid_index, ah->attr.grh.sgid_index);
	/* Pairs with smp_load_acquire() in vrdma_ud_addrs(). */
	smp_store_release(&qp->ud_last_valid, true);
	ret = ib_post_send(qp->pqp, &w->wr.send, NULL);
	xa_unlock(&vdev->ahs);
	return ret ? IB_WC_LOC_QP_OP_ERR : IB_WC_SUCCESS;
}

static void vrdma_qp_error_async(struct vrdma_qp *qp)
{
	qp->sq_error = true;
	schedule_work(&qp->err_work);
}

/* The MRs a posted send's scatter list uses (vrdma_sq_uses_mr()). */
static void vrdma_swqe_set_mrs(struct vrdma_swqe *rec,
			       const struct vrdma_send_wr *w)
{
	int i, j;

	if (w->wr.send.send_flags & IB_SEND_INLINE)
		return;
	for (i = 0; i < w->wr.send.num_sge; i++) {
		u32 lkey = w->sge[i].lkey;

		for (j = 0; j < rec->n_lkey && rec->lkey[j] != lkey; j++)
			;
		if (j < rec->n_lkey)
			continue;
		if (rec->n_lkey == ARRAY_SIZE(rec->lkey)) {
			rec->many_mrs = true;
			return;
		}
		rec->lkey[rec->n_lkey++] = lkey;
	}
}

/* Does a send outstanding on the physical QP use the MR of @lkey? */
static bool vrdma_sq_uses_mr(struct vrdma_qp *qp, u32 lkey)
{
	u32 n, i;

	lockdep_assert_held(&qp->sq_lock);

	for (n = qp->sq_head; n != qp->sq_tail; n++) {
		const struct vrdma_swqe *rec = vrdma_sq_rec(qp, n);

		if (!rec->posted || rec->done)
			continue;
		if (rec->many_mrs)
			return true;
		for (i = 0; i < rec->n_lkey; i++)
			if (rec->lkey[i] == lkey)
				return true;
	}
	return false;
}

/**
 * vrdma_sq_mr_gone() - fail the sends that use a deregistered MR
 * @vdev: the device
 * @pd: the MR's PD
 * @lkey: the MR's key; no lookup finds it any more, and the physical MR
 *	is deregistered
 *
 * A send the physical QP has not completed may still be reading or
 * writing the MR's memory.  The physical RNIC fails it with a local
 * error, and the QP moves to the error state; but rxe on Linux 6.1 may
 * instead stop that QP for good, with no completion and its state still
 * RTS: its requester, failing to copy from the MR, stops sending and
 * leaves the error to the completer, which waits for the requester to
 * retransmit whenever a retry is pending.  So every QP of @pd with such a
 * send outstanding moves to the error state here: what the physical QP
 * completed already completes as it did, and the rest is flushed, in
 * order, as after any error.  A send posted after this finds no MR and
 * fails validation.
 *
 * Context: process context.
 */
void vrdma_sq_mr_gone(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey)
{
	unsigned long flags;
	struct vrdma_qp *qp;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(vdev->qp_hash, bkt, qp, hnode) {
		if (qp->pd != pd)
			continue;
		/* After xa_erase(): a WQE validated before it is recorded. */
		spin_lock_irqsave(&qp->sq_lock, flags);
		if (!qp->sq_error && vrdma_sq_uses_mr(qp, lkey))
			vrdma_qp_error_async(qp);
		spin_unlock_irqrestore(&qp->sq_lock, flags);
	}
	rcu_read_unlock();
}

static void vrdma_sq_drain_locked(struct vrdma_qp *qp)
{
	struct vrdma_send_wr w;
	u32 prod;

	lockdep_assert_held(&qp->sq_lock);

	if (!qp->sq.buf)
		return;
	/* Sends posted before the QP is ready wait in the ring. */
	if (!qp->sq_error && qp->state != IB_QPS_RTS && qp->state != IB_QPS_SQD)
		return;
	WRITE_ONCE(qp->vdev->last_activity, jiffies);
	WRITE_ONCE(qp->last_activity, jiffies);

	qp->uda_pending = false;
	prod = vrdma_queue_user_prod(&qp->sq);
	while ((qp->sq_cons & qp->sq.index_mask) != prod) {
		struct rxe_send_wqe *wqe = qp->wqe;
		enum ib_wc_status status;
		u32 wc_op;

		if (qp->sq_tail - qp->sq_head >= qp->sq_max)
			break;
		memcpy(wqe, vrdma_queue_slot(&qp->sq, qp->sq_cons),
		       vrdma_queue_elem_size(&qp->sq));

		if (qp->sq_error || !qp->pqp) {
			if (vrdma_send_opcode(wqe->wr.opcode, qp->ibqp.qp_type,
					      &w.wr.send.opcode, &wc_op))
				wc_op = VRDMA_UWC_SEND;
			vrdma_sq_add_unposted(qp, wqe->wr.wr_id, wc_op,
					      IB_WC_WR_FLUSH_ERR);
		} else {
			bool wait;

			status = vrdma_sq_post_one(qp, &w, &wc_op, &wait);
			if (wait) {
				/* Left in the ring until announced. */
				qp->uda_pending = true;
				break;
			}
			if (status == IB_WC_SUCCESS) {
				struct vrdma_swqe *rec =
					vrdma_sq_rec(qp, qp->sq_tail++);

				*rec = (struct vrdma_swqe) {
					.wr_id = wqe->wr.wr_id,
					.opcode = wc_op,
					.signaled = qp->sq_sig_all ||
						(w.wr.send.send_flags &
						 IB_SEND_SIGNALED),
					.posted = true,
					.len = w.len,
				};
				vrdma_swqe_set_mrs(rec, &w);
			} else {
				vrdma_sq_add_unposted(qp, wqe->wr.wr_id, wc_op,
						      status);
				vrdma_qp_error_async(qp);
			}
		}
		qp->sq_cons++;
	}
	vrdma_queue_publish_cons(&qp->sq, qp->sq_cons);
	vrdma_sq_retire(qp);
}

/**
 * vrdma_sq_drain() - post the new send WQEs of a QP
 * @qp: the QP
 *
 * Any context.
 *
 * Return: true when a WQE waits for the QP to announce itself to its
 * destination host: the caller calls vrdma_ud_announce() (process
 * context, no lock held) or schedules qp->uda_work.
 */
bool vrdma_sq_drain(struct vrdma_qp *qp)
{
	unsigned long flags;
	bool announce;

	spin_lock_irqsave(&qp->sq_lock, flags);
	vrdma_sq_drain_locked(qp);
	announce = qp->uda_pending;
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	return announce;
}

static void vrdma_sq_complete(struct vrdma_qp *qp, u32 count,
			      const struct ib_wc *wc)
{
	unsigned long flags;
	u32 n;

	spin_lock_irqsave(&qp->sq_lock, flags);
	/* Everything posted up to @count completed, in order. */
	if (count - qp->sq_head >= qp->sq_tail - qp->sq_head) {
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		return;
	}
	for (n = qp->sq_head; n != count + 1; n++) {
		struct vrdma_swqe *rec = vrdma_sq_rec(qp, n);

		if (!rec->posted || rec->done)
			continue;
		rec->done = true;
		if (n == count) {
			rec->status = wc->status;
			rec->vendor_err = wc->vendor_err;
			rec->byte_len = wc->byte_len;
		}
	}
	/*
	 * The physical QP is in error; say so explicitly too, so that every
	 * RNIC flushes what is outstanding (rxe on 6.1 does not always).
	 */
	if (wc->status != IB_WC_SUCCESS && wc->status != IB_WC_WR_FLUSH_ERR)
		vrdma_qp_error_async(qp);
	else if (wc->status != IB_WC_SUCCESS)
		qp->sq_error = true;
	vrdma_sq_retire(qp);
	vrdma_sq_drain_locked(qp);
	if (qp->uda_pending)
		schedule_work(&qp->uda_work);
	spin_unlock_irqrestore(&qp->sq_lock, flags);
}

/* Announcements a call of vrdma_ud_announce() makes at most. */
#define VRDMA_UDA_BURST		16

/*
 * Before a UD QP's datagram goes to another host, the QP tells that host
 * who it is (its overlay address and virtual network, gsi.c's sender
 * directory), and waits for the acknowledgment (at most uda_ack_ms): the
 * receiver shows the sender's overlay address in the GRH and drops the
 * datagrams of another network, or of a sender it does not know.  The
 * send path, in any context, decides on the copy of the WQE it posts;
 * when that names a host the QP has not announced itself to, the WQE
 * stays in the ring and this announces it, in process context.  Process
 * context, no lock held.
 */
static void vrdma_ud_announce(struct vrdma_qp *qp)
{
	struct vrdma_dev *vdev = qp->vdev;
	union ib_gid host, overlay;
	unsigned long flags;
	bool pending = false;
	u32 sgid_index, n;
	int acks;

	mutex_lock(&qp->uda_lock);
	for (n = 0; n < VRDMA_UDA_BURST; n++) {
		spin_lock_irqsave(&qp->sq_lock, flags);
		pending = qp->uda_pending;
		host = qp->uda_host;
		sgid_index = qp->uda_sgid_index;
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		if (!pending)
			break;
		/*
		 * Failures are not retried (UD is unreliable): the datagrams
		 * go, and the receiver drops them as from an unknown sender.
		 */
		if (!rdma_query_gid(&vdev->ibdev, 1, sgid_index, &overlay)) {
			acks = atomic_read(&qp->uda_acks);
			if (!vrdma_tun_announce(qp->tun, vdev->vni,
						qp->ibqp.qp_num, &overlay, &host))
				vrdma_tun_announce_wait(qp, acks);
		}
		spin_lock_irqsave(&qp->sq_lock, flags);
		vrdma_ud_announced_add(qp, &host, sgid_index);
		vrdma_sq_drain_locked(qp);
		pending = qp->uda_pending;
		spin_unlock_irqrestore(&qp->sq_lock, flags);
	}
	mutex_unlock(&qp->uda_lock);
	/* A process that alternates between many hosts: go on later. */
	if (pending)
		schedule_work(&qp->uda_work);
}

/**
 * vrdma_ud_announce_work() - qp->uda_work: announce a UD QP
 * @work: the work item
 */
void vrdma_ud_announce_work(struct work_struct *work)
{
	vrdma_ud_announce(container_of(work, struct vrdma_qp, uda_work));
}

/**
 * vrdma_post_send() - ops.post_send: the send doorbell
 * @ibqp: the QP
 * @wr: NULL (librxe's doorbell); work request lists are not accepted
 * @bad_wr: set to @wr on failure
 *
 * Return: 0 or -EOPNOTSUPP.
 */
int vrdma_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		    const struct ib_send_wr **bad_wr)
{
	struct vrdma_qp *qp = to_vqp(ibqp);

	if (qp->gsi)
		return vrdma_gsi_post_send(qp, wr, bad_wr);
	if (wr) {
		*bad_wr = wr;
		return -EOPNOTSUPP;
	}
	/* As on rxe: a QP takes sends from RTS on (the WQEs stay in the ring). */
	if (READ_ONCE(qp->state) < IB_QPS_RTS)
		return -EINVAL;
	/*
	 * A doorbell is a sign of life: receives may have been posted, and
	 * must reach the physical device before the sends that may answer
	 * them (a datagram finding no receive is lost).  The QP's own
	 * receive queue first, then (rate-limited) all of the device's.
	 */
	vrdma_rq_refill(qp->srq ? &qp->srq->rq : &qp->rq);
	vrdma_dev_rq_kick(qp->vdev);
	if (vrdma_sq_drain(qp))
		vrdma_ud_announce(qp);
	/*
	 * A WQE that failed validation moves the QP to the error state: do
	 * it before returning, so that the application, which may already
	 * see the error completion, also sees the state.
	 */
	if (READ_ONCE(qp->sq_error))
		flush_work(&qp->err_work);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Receives                                                             */

/**
 * vrdma_rq_init() - set up a receive queue
 * @vdev: the device
 * @rq: the queue (zeroed by the caller, with @rq->qp or @rq->srq set)
 * @pd: the PD receive buffers must belong to
 * @depth: receives the physical queue holds
 * @max_sge: scatter elements per receive
 * @udata: the user's udata (the ring is mapped), or NULL
 * @mi: filled with the ring's mmap information
 *
 * Return: 0 or a negative errno.
 */
int vrdma_rq_init(struct vrdma_dev *vdev, struct vrdma_rq *rq,
		  struct vrdma_pd *pd, u32 depth, u32 max_sge,
		  struct ib_udata *udata, struct mminfo *mi)
{
	u32 elem = struct_size_t(struct rxe_recv_wqe, dma.sge, max_sge);
	int ret;

	spin_lock_init(&rq->lock);
	INIT_LIST_HEAD(&rq->node);
	rq->pd = pd;
	rq->depth = depth;
	rq->max_sge = max(max_sge, 1U);

	ret = vrdma_queue_init(vdev, &rq->q, depth, elem, udata, mi);
	if (ret)
		return ret;
	/* Charged to the creator's memory cgroup, like the ring. */
	rq->wqe = kzalloc(vrdma_queue_elem_size(&rq->q), GFP_KERNEL_ACCOUNT);
	rq->shadow = kvcalloc(depth, sizeof(*rq->shadow),
			      VRDMA_GFP_TENANT);
	/* Each posted receive's scatter list, to post it again. */
	rq->sges = kvcalloc(depth, array_size(rq->max_sge + 1,
					      sizeof(*rq->sges)),
			    VRDMA_GFP_TENANT);
	rq->free = bitmap_zalloc(depth, GFP_KERNEL_ACCOUNT);
	if (!rq->wqe || !rq->shadow || !rq->sges || !rq->free) {
		vrdma_rq_cleanup(rq);
		return -ENOMEM;
	}
	bitmap_fill(rq->free, depth);
	return 0;
}

/**
 * vrdma_rq_init_grh() - receive GRHs into a buffer of the module's
 * @rq: a UD QP's receive queue, initialized, not active
 * @pdev: the physical device
 * @lkey: the physical PD's local DMA lkey
 *
 * The physical device writes each UD receive's GRH (the physical
 * addresses) into the first VRDMA_GRH_SIZE bytes of the scatter list.
 * Receives whose first scatter element holds a GRH get one more element in
 * front, in this buffer: the application's buffer only ever sees the
 * header the module rewrote (vrdma_ud_fix_grh()), even when several of its
 * receives share one buffer.
 *
 * Context: process context.
 * Return: 0, -ENOMEM.
 */
int vrdma_rq_init_grh(struct vrdma_rq *rq, struct ib_device *pdev, u32 lkey)
{
	size_t size = array_size(rq->depth, VRDMA_GRH_SIZE);
	u64 dma;
	u8 *buf;

	if (!rq->depth)
		return 0;
	buf = kzalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	dma = ib_dma_map_single(pdev, buf, size, DMA_FROM_DEVICE);
	if (ib_dma_mapping_error(pdev, dma)) {
		kfree(buf);
		return -ENOMEM;
	}
	rq->grh = buf;
	rq->grh_dma = dma;
	rq->grh_dev = pdev;
	rq->grh_lkey = lkey;
	return 0;
}

/**
 * vrdma_rq_free_grh() - free the GRH buffer of vrdma_rq_init_grh()
 * @rq: the queue; its physical QP is destroyed (the physical device,
 *	which may be going away, is not used after this)
 */
void vrdma_rq_free_grh(struct vrdma_rq *rq)
{
	if (!rq->grh)
		return;
	ib_dma_unmap_single(rq->grh_dev, rq->grh_dma,
			    array_size(rq->depth, VRDMA_GRH_SIZE),
			    DMA_FROM_DEVICE);
	kfree(rq->grh);
	rq->grh = NULL;
}

/**
 * vrdma_rq_cleanup() - free a receive queue (deactivated, drained)
 * @rq: the queue
 */
void vrdma_rq_cleanup(struct vrdma_rq *rq)
{
	vrdma_rq_free_grh(rq);
	bitmap_free(rq->free);
	kvfree(rq->sges);
	kvfree(rq->shadow);
	kfree(rq->wqe);
	vrdma_queue_cleanup(&rq->q);
	rq->free = NULL;
	rq->sges = NULL;
	rq->shadow = NULL;
	rq->wqe = NULL;
}

/**
 * vrdma_rq_activate() - the physical queue accepts receives from now on
 * @vdev: the device
 * @rq: the queue
 *
 * Process context (modify_qp to INIT, create_srq).
 */
void vrdma_rq_activate(struct vrdma_dev *vdev, struct vrdma_rq *rq)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->rq_list_lock, flags);
	if (list_empty(&rq->node))
		list_add_tail(&rq->node, &vdev->rq_list);
	spin_lock(&rq->lock);
	rq->active = true;
	spin_unlock(&rq->lock);
	spin_unlock_irqrestore(&vdev->rq_list_lock, flags);
	vrdma_dev_rq_kick(vdev);
}

/**
 * vrdma_rq_deactivate() - stop moving receives to the physical queue
 * @vdev: the device
 * @rq: the queue
 */
void vrdma_rq_deactivate(struct vrdma_dev *vdev, struct vrdma_rq *rq)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->rq_list_lock, flags);
	list_del_init(&rq->node);
	spin_lock(&rq->lock);
	rq->active = false;
	spin_unlock(&rq->lock);
	spin_unlock_irqrestore(&vdev->rq_list_lock, flags);
}

/* Complete a receive WQE that is not posted (flushed or invalid). */
static void vrdma_rq_complete_unposted(struct vrdma_rq *rq, u64 wr_id,
				       enum ib_wc_status status)
{
	struct ib_uverbs_wc uwc = {
		.wr_id = wr_id,
		.status = status,
		.opcode = VRDMA_UWC_RECV,
	};

	lockdep_assert_held(&rq->lock);
	/* SRQ receives belong to no QP until consumed: nothing to report. */
	if (rq->qp) {
		rq->done++;
		vrdma_qp_push(rq->qp, rq->qp->rcq, &uwc, true);
	}
}

/* The consumer index userspace sees (see struct vrdma_rq); rq->lock. */
static void vrdma_rq_publish_cons(struct vrdma_rq *rq)
{
	lockdep_assert_held(&rq->lock);
	if (rq->q.buf)
		vrdma_queue_publish_cons(&rq->q, rq->qp ? rq->done : rq->cons);
}

static void vrdma_srq_error(struct vrdma_srq *srq)
{
	struct ib_event ev = {
		.device = srq->ibsrq.device,
		.element.srq = &srq->ibsrq,
		.event = IB_EVENT_SRQ_ERR,
	};

	if (srq->ibsrq.event_handler)
		srq->ibsrq.event_handler(&ev, srq->ibsrq.srq_context);
}

/* The scatter list posted for @slot: @max_sge + 1 entries (one a GRH's). */
static struct ib_sge *vrdma_rq_sges(struct vrdma_rq *rq, u32 slot)
{
	return &rq->sges[(size_t)slot * (rq->max_sge + 1)];
}

static int vrdma_rq_post_one(struct vrdma_rq *rq, u32 slot)
{
	struct rxe_recv_wqe *wqe = rq->wqe;
	struct vrdma_dev *vdev = to_vdev(rq->pd->ibpd.device);
	struct ib_sge *sge = vrdma_rq_sges(rq, slot);
	struct ib_recv_wr wr = {};
	u32 i, n = 0, num_sge = wqe->dma.num_sge;
	u64 total = 0;

	if (num_sge > rq->max_sge)
		return -EINVAL;
	/* A UD receive's GRH lands in the module's buffer (vrdma_rq_init_grh()). */
	rq->shadow[slot].grh = rq->grh && num_sge &&
			       wqe->dma.sge[0].length >= VRDMA_GRH_SIZE;
	if (rq->shadow[slot].grh) {
		sge[n].addr = rq->grh_dma + (u64)slot * VRDMA_GRH_SIZE;
		sge[n].length = VRDMA_GRH_SIZE;
		sge[n].lkey = rq->grh_lkey;
		n++;
	}
	for (i = 0; i < num_sge; i++) {
		struct rxe_sge *s = &wqe->dma.sge[i];
		u32 skip = i == 0 && rq->shadow[slot].grh ? VRDMA_GRH_SIZE : 0;

		if (vrdma_mr_check(vdev, rq->pd, s->lkey, s->addr, s->length,
				   IB_ACCESS_LOCAL_WRITE))
			return -EINVAL;
		total += s->length;
		if (s->length == skip)
			continue;
		sge[n].addr = s->addr + skip;
		sge[n].length = s->length - skip;
		sge[n].lkey = s->lkey;
		n++;
	}
	if (total > U32_MAX)
		return -EINVAL;
	rq->shadow[slot].num_sge = n;

	wr.sg_list = sge;
	wr.num_sge = n;
	if (rq->srq) {
		wr.wr_id = vrdma_wrid(VRDMA_WRID_SRQ, rq->id, slot);
		if (!rq->srq->psrq)
			return -EIO;
		return ib_post_srq_recv(rq->srq->psrq, &wr, NULL);
	}
	wr.wr_id = vrdma_wrid(VRDMA_WRID_RQ, 0, slot);
	if (!rq->qp->pqp)
		return -EIO;
	return ib_post_recv(rq->qp->pqp, &wr, NULL);
}

/**
 * vrdma_rq_take() - move new receive WQEs to the physical queue
 * @rq: the queue
 * @budget: WQEs to take at most (interrupts are disabled meanwhile)
 * @more: set when the ring holds WQEs beyond @budget
 *
 * Each WQE taken is posted, or completes with an error (flushed, or
 * invalid), or is dropped (an invalid WQE of an SRQ).  Any context.
 *
 * Return: the number of WQEs taken.
 */
u32 vrdma_rq_take(struct vrdma_rq *rq, u32 budget, bool *more)
{
	unsigned long flags;
	bool report = false;
	u32 prod, taken = 0;

	*more = false;
	spin_lock_irqsave(&rq->lock, flags);
	if (!rq->active || !rq->q.buf)
		goto out;
	prod = vrdma_queue_user_prod(&rq->q);
	while ((rq->cons & rq->q.index_mask) != prod) {
		struct rxe_recv_wqe *wqe = rq->wqe;
		u32 slot;

		if (taken == budget) {
			*more = true;
			break;
		}
		if (rq->error) {
			/* Flushed in order, after the posted receives. */
			if (rq->posted)
				break;
			memcpy(wqe, vrdma_queue_slot(&rq->q, rq->cons),
			       sizeof(*wqe));
			vrdma_rq_complete_unposted(rq, wqe->wr_id,
						   IB_WC_WR_FLUSH_ERR);
			rq->cons++;
			taken++;
			continue;
		}
		if (rq->posted >= rq->depth)
			break;
		slot = find_first_bit(rq->free, rq->depth);
		if (WARN_ON_ONCE(slot >= rq->depth))
			break;
		memcpy(wqe, vrdma_queue_slot(&rq->q, rq->cons),
		       vrdma_queue_elem_size(&rq->q));
		if (vrdma_rq_post_one(rq, slot)) {
			/*
			 * A bad receive WQE.  A QP's completes with an error
			 * and the QP goes to the error state; an SRQ's
			 * belongs to no QP yet: it is dropped and the SRQ
			 * reports IB_EVENT_SRQ_ERR, once until modify_srq
			 * re-arms it (ib_uverbs queues every event until the
			 * process reads it).
			 */
			if (rq->qp) {
				vrdma_rq_complete_unposted(rq, wqe->wr_id,
							   IB_WC_LOC_PROT_ERR);
				rq->error = true;
				vrdma_qp_error_async(rq->qp);
			} else if (!rq->err_reported) {
				rq->err_reported = true;
				report = true;
			}
		} else {
			struct vrdma_rwqe *rec = &rq->shadow[slot];

			rec->wr_id = wqe->wr_id;
			rec->sge0_addr = wqe->dma.num_sge ?
					 wqe->dma.sge[0].addr : 0;
			rec->sge0_lkey = wqe->dma.num_sge ?
					 wqe->dma.sge[0].lkey : 0;
			rec->sge0_len = wqe->dma.num_sge ?
					wqe->dma.sge[0].length : 0;
			clear_bit(slot, rq->free);
			rq->posted++;
		}
		rq->cons++;
		taken++;
	}
	vrdma_rq_publish_cons(rq);
out:
	spin_unlock_irqrestore(&rq->lock, flags);
	if (report)
		vrdma_srq_error(rq->srq);
	return taken;
}

/**
 * vrdma_rq_refill() - move up to VRDMA_RQ_BUDGET new receive WQEs to the
 *	physical queue
 * @rq: the queue
 *
 * Any context.
 *
 * Return: whether the ring held new receives.
 */
bool vrdma_rq_refill(struct vrdma_rq *rq)
{
	bool more;

	return vrdma_rq_take(rq, VRDMA_RQ_BUDGET, &more) || more;
}

/*
 * The first GID of @vdev of the given family (IPv4-mapped or not, never
 * link-local).
 */
static int vrdma_dev_first_gid(struct vrdma_dev *vdev, bool v4,
			       union ib_gid *gid)
{
	u32 i;

	for (i = 0; i < VRDMA_GID_TBL_LEN; i++) {
		if (rdma_query_gid(&vdev->ibdev, 1, i, gid))
			continue;
		if (ipv6_addr_v4mapped((struct in6_addr *)gid) != v4)
			continue;
		if (!v4 && ipv6_addr_type((struct in6_addr *)gid) &
			   IPV6_ADDR_LINKLOCAL)
			continue;
		return 0;
	}
	return -ENOENT;
}

/* A sender of this host destroyed since it sent (vrdma_ud_gone_rcu()). */
static int vrdma_ud_gone_addrs(struct vrdma_dev *vdev, u32 src_qp,
			       union ib_gid *osgid, union ib_gid *odgid)
{
	u32 vni;
	int ret;

	ret = vrdma_ud_gone_rcu(vdev->pdev, src_qp, &vni, osgid, odgid);
	if (ret == -ESRCH || vni != vdev->vni)
		return -EPERM;
	if (ret ||
	    vrdma_map_elsewhere(vdev->pdev, vdev->pport, vdev->vni, osgid))
		return -ENOENT;
	return 0;
}

/*
 * Who sent a UD datagram, and the overlay addresses it shows: the
 * sender's and the one it was sent to.
 *
 * The physical RNIC delivers a datagram to whichever QP of the host has
 * the destination QPN and the Q_Key: the receiver decides whether the
 * application may see it.  Only a vrdma UD QP of the receiver's virtual
 * network may send to it.  A sender of this host (its physical source GID
 * is one of this physical device's) is found by its QPN among the host's
 * QPs, or among those destroyed lately (its datagram was on its way); its
 * last send says which of its addresses it used and which of ours it
 * addressed.  A sender of another host is known from its
 * announcement (gsi.c's sender directory), which gives its virtual
 * network and overlay address; the destination shown is then our first
 * address of the sender's family.  A sender that is not a QP of this host
 * and never announced itself (a process using an RNIC directly, a sender
 * whose announcement was lost) is unknown, and dropped like one of
 * another network: UD is unreliable, and nothing but a vrdma UD QP of the
 * network is allowed to reach the application.
 *
 * Return: 0 with *@osgid and *@odgid set; -ENOENT when the sender is
 * allowed but its addresses are not known (the GRH stays as the RNIC
 * wrote it); -EPERM when the datagram must not reach the application.
 */
static int vrdma_ud_addrs(struct vrdma_dev *vdev, const union ib_gid *sgid,
			  u32 src_qp, union ib_gid *osgid, union ib_gid *odgid)
{
	const struct ib_gid_attr *attr;
	struct vrdma_qp *sender;

	attr = rdma_find_gid(vdev->pdev, sgid, IB_GID_TYPE_ROCE_UDP_ENCAP,
			     NULL);
	if (IS_ERR(attr)) {
		u32 vni;

		if (vrdma_ud_sender_rcu(sgid, src_qp, &vni, osgid) ||
		    vni != vdev->vni)
			return -EPERM;
		return vrdma_dev_first_gid(vdev,
				ipv6_addr_v4mapped((struct in6_addr *)osgid),
				odgid) ? -ENOENT : 0;
	}
	rdma_put_gid_attr(attr);

	sender = vrdma_ud_qp_rcu(vdev->pdev, src_qp);
	if (!sender)
		return vrdma_ud_gone_addrs(vdev, src_qp, osgid, odgid);
	if (sender->vdev->vni != vdev->vni)
		return -EPERM;
	/* Pairs with the release in vrdma_sq_post_one(). */
	if (!smp_load_acquire(&sender->ud_last_valid))
		return -ENOENT;
	/* Not an address of its vni that the map places elsewhere. */
	if (rdma_query_gid(&sender->vdev->ibdev, 1,
			   READ_ONCE(sender->ud_last_sgid_index), osgid) ||
	    vrdma_map_elsewhere(vdev->pdev, vdev->pport, vdev->vni, osgid))
		return -ENOENT;
	*odgid = sender->ud_last_dgid;
	return 0;
}

static_assert(sizeof(struct ib_grh) == VRDMA_GRH_SIZE);

/*
 * Rewrite @gh with the overlay addresses.
 *
 * Return: 0 when rewritten; -EPERM when the datagram must not reach the
 * application (vrdma_ud_addrs(), or a header that is not understood: its
 * sender cannot be told); -ENOENT when the sender is allowed but its
 * addresses are not known (@gh unchanged).
 */
static int vrdma_ud_rewrite_grh(struct vrdma_dev *vdev, struct ib_grh *gh,
				const struct ib_wc *wc)
{
	bool v4 = wc->network_hdr_type == RDMA_NETWORK_IPV4;
	union ib_gid sgid, osgid, odgid;
	u8 tclass, hop_limit;
	struct ib_grh grh = *gh;
	struct iphdr *ip4 = (struct iphdr *)((u8 *)&grh + 20);
	u32 flow = 0;
	u16 payload;
	int ret;

	if (v4) {
		if (ip4->version != 4 || ip4->ihl != 5)
			return -EPERM;
		ipv6_addr_set_v4mapped(ip4->saddr, (struct in6_addr *)&sgid);
		tclass = ip4->tos;
		hop_limit = ip4->ttl;
		payload = be16_to_cpu(ip4->tot_len) - sizeof(*ip4);
	} else {
		u32 vtf = be32_to_cpu(grh.version_tclass_flow);

		if (vtf >> 28 != 6)
			return -EPERM;
		sgid = grh.sgid;
		tclass = (vtf >> 20) & 0xff;
		flow = vtf & 0xfffff;
		hop_limit = grh.hop_limit;
		payload = be16_to_cpu(grh.paylen);
	}

	ret = vrdma_ud_addrs(vdev, &sgid, wc->src_qp, &osgid, &odgid);
	if (ret)
		return ret;

	memset(&grh, 0, sizeof(grh));
	if (ipv6_addr_v4mapped((struct in6_addr *)&osgid)) {
		ip4->version = 4;
		ip4->ihl = 5;
		ip4->tos = tclass;
		ip4->tot_len = cpu_to_be16(payload + sizeof(*ip4));
		ip4->frag_off = htons(IP_DF);
		ip4->ttl = hop_limit;
		ip4->protocol = IPPROTO_UDP;
		memcpy(&ip4->saddr, &osgid.raw[12], sizeof(ip4->saddr));
		memcpy(&ip4->daddr, &odgid.raw[12], sizeof(ip4->daddr));
		ip4->check = ip_fast_csum(ip4, ip4->ihl);
	} else {
		grh.version_tclass_flow = cpu_to_be32(6U << 28 |
						      (u32)tclass << 20 | flow);
		grh.paylen = cpu_to_be16(payload);
		grh.next_hdr = IPPROTO_UDP;
		grh.hop_limit = hop_limit;
		grh.sgid = osgid;
		grh.dgid = odgid;
	}
	*gh = grh;
	return 0;
}

/*
 * A UD receive's first 40 bytes are the GRH the physical RNIC wrote, from
 * the physical packet: the hosts' addresses, in the physical network's
 * family.  The application must see the overlay: the header is rewritten
 * with the overlay addresses, in their family (an IPv6 header, or an IPv4
 * header in the last 20 bytes).  Left as is when the sender is unknown.
 *
 * The header is in the module's buffer (@rq->grh, at @slot) when
 * @rec->grh, and is then copied into the application's buffer; otherwise
 * it is rewritten in place there.
 */
static int vrdma_ud_fix_grh(struct vrdma_qp *qp, struct vrdma_rq *rq,
			    u32 slot, const struct vrdma_rwqe *rec,
			    const struct ib_wc *wc)
{
	struct vrdma_dev *vdev = qp->vdev;
	struct ib_grh grh;
	int ret;

	/* A datagram whose GRH cannot be read cannot be told: dropped. */
	if (!(wc->wc_flags & IB_WC_GRH) || rec->sge0_len < sizeof(grh))
		return -EPERM;
	if (rec->grh) {
		u64 dma = rq->grh_dma + (u64)slot * VRDMA_GRH_SIZE;

		ib_dma_sync_single_for_cpu(rq->grh_dev, dma, sizeof(grh),
					   DMA_FROM_DEVICE);
		memcpy(&grh, rq->grh + (size_t)slot * VRDMA_GRH_SIZE,
		       sizeof(grh));
	} else if (vrdma_mr_read(vdev, qp->pd, rec->sge0_lkey,
				 rec->sge0_addr, &grh, sizeof(grh))) {
		return -EPERM;
	}

	ret = vrdma_ud_rewrite_grh(vdev, &grh, wc);
	if (ret == -EPERM)
		return ret;
	if (ret && !rec->grh)
		return 0;	/* addresses not known: the RNIC's header stays */
	vrdma_mr_write(vdev, qp->pd, rec->sge0_lkey, rec->sge0_addr, &grh,
		       sizeof(grh));
	return 0;
}

/*
 * The RNIC wrote a datagram the application must not see into its
 * receive buffer: zero what it wrote (through the module's pin of the
 * pages; best effort, the region may be going away).
 */
static void vrdma_rq_scrub(struct vrdma_rq *rq, u32 slot, u32 len)
{
	const struct ib_sge *sge = vrdma_rq_sges(rq, slot);
	const void *zero = page_address(ZERO_PAGE(0));
	struct vrdma_dev *vdev = to_vdev(rq->pd->ibpd.device);
	u32 i = 0, n, off;

	/* The GRH in the module's buffer never reaches the application. */
	if (rq->shadow[slot].grh) {
		len -= min_t(u32, len, sge[0].length);
		i = 1;
	}
	for (; i < rq->shadow[slot].num_sge && len; i++) {
		for (off = 0; off < sge[i].length && len; off += n, len -= n) {
			n = min3(sge[i].length - off, len, (u32)PAGE_SIZE);
			if (vrdma_mr_write(vdev, rq->pd, sge[i].lkey,
					   sge[i].addr + off, zero, n))
				break;
		}
	}
}

/*
 * Post a receive again, as it was: its datagram was not for the
 * application.  The slot stays in use.  Returns 0 when reposted.
 */
static int vrdma_rq_repost(struct vrdma_rq *rq, u32 slot)
{
	struct ib_recv_wr wr = {
		.sg_list = vrdma_rq_sges(rq, slot),
		.num_sge = rq->shadow[slot].num_sge,
	};

	if (rq->srq) {
		wr.wr_id = vrdma_wrid(VRDMA_WRID_SRQ, rq->id, slot);
		return rq->srq->psrq ?
		       ib_post_srq_recv(rq->srq->psrq, &wr, NULL) : -EIO;
	}
	wr.wr_id = vrdma_wrid(VRDMA_WRID_RQ, 0, slot);
	return READ_ONCE(rq->qp->pqp) ?
	       ib_post_recv(rq->qp->pqp, &wr, NULL) : -EIO;
}

static void vrdma_rq_complete(struct vrdma_rq *rq, struct vrdma_cq *cq,
			      u32 slot, const struct ib_wc *wc,
			      struct vrdma_qp *qp)
{
	struct ib_uverbs_wc uwc = {};
	enum ib_wc_status status = wc->status;
	struct vrdma_rwqe rec;
	unsigned long flags;
	bool dropped = false;

	spin_lock_irqsave(&rq->lock, flags);
	if (slot >= rq->depth || test_bit(slot, rq->free)) {
		spin_unlock_irqrestore(&rq->lock, flags);
		return;
	}
	rec = rq->shadow[slot];
	spin_unlock_irqrestore(&rq->lock, flags);

	/*
	 * A UD datagram the application may not see (vrdma_ud_addrs()): its
	 * bytes are wiped from the buffer and the receive is posted again.
	 * Should that fail (the QP is going to the error state), the receive
	 * completes as flushed, without the datagram's length or sender.
	 */
	if (qp && qp->ibqp.qp_type == IB_QPT_UD && status == IB_WC_SUCCESS &&
	    vrdma_ud_fix_grh(qp, rq, slot, &rec, wc) == -EPERM) {
		vrdma_stat_inc(qp->vdev, VRDMA_STAT_XLATE_OTHER_VNI);
		vrdma_rq_scrub(rq, slot, wc->byte_len);
		if (!vrdma_rq_repost(rq, slot))
			return;
		status = IB_WC_WR_FLUSH_ERR;
		dropped = true;
	}

	spin_lock_irqsave(&rq->lock, flags);
	set_bit(slot, rq->free);
	rq->posted--;
	if (rq->qp) {
		/* A QP's receives complete in order: its slot is free now. */
		rq->done++;
		vrdma_rq_publish_cons(rq);
	}
	if (status != IB_WC_SUCCESS && status != IB_WC_WR_FLUSH_ERR &&
	    !rq->srq)
		rq->error = true;
	spin_unlock_irqrestore(&rq->lock, flags);
	if (qp && status != IB_WC_SUCCESS && status != IB_WC_WR_FLUSH_ERR)
		vrdma_qp_set_error(qp);

	if (qp) {
		uwc.wr_id = rec.wr_id;
		uwc.status = status;
		uwc.opcode = VRDMA_UWC_RECV;
		if (!dropped) {
			uwc.vendor_err = wc->vendor_err;
			if (wc->opcode == IB_WC_RECV_RDMA_WITH_IMM)
				uwc.opcode = VRDMA_UWC_RECV_RDMA_WITH_IMM;
			uwc.byte_len = wc->byte_len;
			uwc.wc_flags = vrdma_uwc_flags(wc->wc_flags);
			if (wc->wc_flags & IB_WC_WITH_IMM)
				uwc.ex.imm_data = wc->ex.imm_data;
			else if (wc->wc_flags & IB_WC_WITH_INVALIDATE)
				uwc.ex.invalidate_rkey = wc->ex.invalidate_rkey;
			uwc.src_qp = wc->src_qp;
			uwc.sl = wc->sl;
		}
		/* Known only while a solicited-only arming is in force (cq.c). */
		vrdma_qp_push(qp, cq, &uwc, !cq->rx_unsol);
	}
	vrdma_rq_refill(rq);
	if (qp && !rq->posted)
		wake_up(&qp->drain_wq);
}

/**
 * vrdma_post_recv() - ops.post_recv: the emulated QP1's (the rxe user ABI
 *	posts receives through the ring)
 * @ibqp: the QP
 * @wr: work requests
 * @bad_wr: set to the first one not posted
 *
 * Return: 0 or a negative errno (-EOPNOTSUPP for a user QP).
 */
int vrdma_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		    const struct ib_recv_wr **bad_wr)
{
	struct vrdma_qp *qp = to_vqp(ibqp);

	if (qp->gsi)
		return vrdma_gsi_post_recv(qp, wr, bad_wr);
	*bad_wr = wr;
	return -EOPNOTSUPP;
}

/**
 * vrdma_post_srq_recv() - ops.post_srq_recv: not used by the rxe user ABI
 * @ibsrq: the SRQ
 * @wr: work requests
 * @bad_wr: set to @wr
 *
 * Return: -EOPNOTSUPP.
 */
int vrdma_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr)
{
	*bad_wr = wr;
	return -EOPNOTSUPP;
}

/* ------------------------------------------------------------------ */
/* The physical CQ                                                      */

static void vrdma_handle_wc(struct vrdma_cq *cq, const struct ib_wc *wc)
{
	struct vrdma_dev *vdev = cq->vdev;
	u64 kind = wc->wr_id >> VRDMA_WRID_KIND_SHIFT;
	u32 id = (wc->wr_id >> VRDMA_WRID_ID_SHIFT) & VRDMA_WRID_ID_MASK;
	u32 index = lower_32_bits(wc->wr_id);
	struct vrdma_srq *srq;
	struct vrdma_qp *qp;

	WRITE_ONCE(vdev->last_activity, jiffies);
	qp = vrdma_qp_lookup_rcu(vdev, wc->qp);
	if (qp)
		WRITE_ONCE(qp->last_activity, jiffies);
	switch (kind) {
	case VRDMA_WRID_SQ:
		if (qp)
			vrdma_sq_complete(qp, index, wc);
		break;
	case VRDMA_WRID_RQ:
		if (qp)
			vrdma_rq_complete(&qp->rq, cq, index, wc, qp);
		break;
	case VRDMA_WRID_SRQ:
		srq = xa_load(&vdev->srqs, id);
		if (srq)
			vrdma_rq_complete(&srq->rq, cq, index, wc, qp);
		break;
	}
}

/* Handle up to @budget completions of @cq's physical CQ; arm_lock held. */
static int vrdma_pcq_poll_locked(struct vrdma_cq *cq, int budget)
{
	struct ib_wc wcs[16];
	int done = 0, n, i;

	lockdep_assert_held(&cq->arm_lock);
	while (done < budget) {
		n = ib_poll_cq(cq->pcq, min_t(int, ARRAY_SIZE(wcs),
					      budget - done), wcs);
		if (n <= 0)
			break;
		/*
		 * Only a solicited-only arming in force since before these
		 * arrived, and not fired, says "not solicited".
		 */
		cq->rx_unsol = !cq->rx_unknown &&
			       atomic_read(&cq->parm) == VRDMA_PARM_SOL;
		rcu_read_lock();
		for (i = 0; i < n; i++)
			vrdma_handle_wc(cq, &wcs[i]);
		rcu_read_unlock();
		done += n;
	}
	cq->rx_unsol = false;
	return done;
}

/**
 * vrdma_pcq_drain() - move what a physical CQ holds to its virtual CQ now
 * @cq: the virtual CQ
 *
 * For a caller that must see every completion the physical device has
 * made (vrdma_resize_cq(): a ring smaller than what is still to come
 * would overflow).  The handler's poll, which may be waiting in
 * ksoftirqd, would move them later.  Does not arm the physical CQ: that
 * stays the polls' job (vrdma_pcq_arm()).
 *
 * Context: process context.
 */
void vrdma_pcq_drain(struct vrdma_cq *cq)
{
	spin_lock_bh(&cq->arm_lock);
	if (cq->pcq)
		vrdma_pcq_poll_locked(cq, cq->pcq->cqe);
	spin_unlock_bh(&cq->arm_lock);
}

/**
 * vrdma_pcq_poll() - poll a physical CQ (irq_poll callback, softirq)
 * @iop: the virtual CQ's irq_poll
 * @budget: completions to process at most
 *
 * Return: completions processed.
 */
int vrdma_pcq_poll(struct irq_poll *iop, int budget)
{
	struct vrdma_cq *cq = container_of(iop, struct vrdma_cq, iop);
	int done;

	/* Polling and arming exclude each other: see vrdma_pcq_arm(). */
	spin_lock(&cq->arm_lock);
	/* Kicks from now on are this poll's to see (full barrier). */
	atomic_xchg(&cq->kicked, 0);
	done = vrdma_pcq_poll_locked(cq, budget);
	/* The timer's period, when it runs (vrdma_pcq_arm() bounds it). */
	cq->timer_us = done ? 0 : cq->timer_us * 2;

	if (done < budget) {
		cq->rx_unknown = false;
		irq_poll_complete(iop);
		if (atomic_xchg(&cq->sol_fired, 0))
			vrdma_cq_solicited_event(cq);
		/*
		 * A kick during this poll found it scheduled: poll again for
		 * what it announced rather than arm (vrdma_pcq_arm()).
		 */
		smp_mb();	/* irq_poll_complete() before reading @kicked */
		if (atomic_read(&cq->kicked))
			irq_poll_sched(iop);
		else
			vrdma_pcq_arm(cq);
	}
	spin_unlock(&cq->arm_lock);
	return done;
}

/**
 * vrdma_pcq_kick() - poll a physical CQ soon, and arm it only after that
 * @cq: the virtual CQ
 *
 * Context: any.
 */
void vrdma_pcq_kick(struct vrdma_cq *cq)
{
	/* Seen by a poll under way, before it arms (vrdma_pcq_poll()). */
	atomic_set(&cq->kicked, 1);
	smp_mb__after_atomic();	/* @kicked before irq_poll_sched() */

	/*
	 * Software RNICs call the handler from process context (rxe's work
	 * items): a softirq raised there would wait for ksoftirqd.  Run it
	 * when bottom halves are enabled again, right here, instead.
	 */
	if (in_interrupt() || irqs_disabled()) {
		irq_poll_sched(&cq->iop);
		return;
	}
	local_bh_disable();
	irq_poll_sched(&cq->iop);
	local_bh_enable();
}

/**
 * vrdma_pcq_comp_handler() - a physical CQ has completions
 * @pcq: the physical CQ
 * @cq_context: the virtual CQ
 */
void vrdma_pcq_comp_handler(struct ib_cq *pcq, void *cq_context)
{
	struct vrdma_cq *cq = cq_context;

	/* Kicked before the arming is seen consumed (vrdma_pcq_arm()). */
	atomic_set(&cq->kicked, 1);
	/* The arming that fired is consumed; was it solicited-only? */
	if (atomic_xchg(&cq->parm, 0) == VRDMA_PARM_SOL)
		atomic_set(&cq->sol_fired, 1);
	vrdma_pcq_kick(cq);
}

/**
 * vrdma_pcq_event() - an asynchronous event of a physical CQ
 * @event: the event
 * @cq_context: the virtual CQ
 */
void vrdma_pcq_event(struct ib_event *event, void *cq_context)
{
	struct vrdma_cq *cq = cq_context;
	struct ib_event ev = {
		.device = &cq->vdev->ibdev,
		.element.cq = &cq->ibcq,
		.event = event->event,
	};

	if (cq->ibcq.event_handler)
		cq->ibcq.event_handler(&ev, cq->ibcq.cq_context);
}
