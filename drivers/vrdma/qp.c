// SPDX-License-Identifier: GPL-2.0
/*
 * Queue pairs.
 *
 * A virtual QP is a physical QP on the physical PD of its virtual PD, with
 * the physical CQs (and SRQ) of its virtual CQs (and SRQ), plus the rings
 * the application uses.  Its number is the physical QPN: the peer's RNIC
 * addresses that one.
 *
 * modify_qp translates the address vector: the destination GID the
 * application gives is an overlay address (a container's), which the
 * address map turns into the physical GID of the RNIC of the host that
 * runs it (map.c); the source is the physical device's own address.  A
 * destination that is not in the map, or in another virtual network, fails
 * with -EHOSTUNREACH before anything reaches the wire.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

#include "audit.h"
#include "counters.h"
#include "gsi.h"
#include "map.h"
#include "phys.h"
#include "res.h"
#include "verbs.h"

/* How long destroy waits for the physical QP's work requests to flush. */
#define VRDMA_DRAIN_TIMEOUT	(5 * HZ)

/*
 * The user QPs of this host by physical device and QPN: a UD receive from
 * a local sender shows the sender's overlay address, and is dropped when
 * the sender is not a QP of the receiver's virtual network (post.c); a
 * local destination QPN must be a QP of the sender's (qp.c, post.c).
 */
static DEFINE_HASHTABLE(vrdma_qps, 8);
static DEFINE_SPINLOCK(vrdma_qps_lock);

static u32 vrdma_qps_key(struct ib_device *pdev, u32 qpn)
{
	return hash_ptr(pdev, 16) ^ qpn;
}

/**
 * vrdma_host_qp_rcu() - a user QP of this host
 * @pdev: the physical device
 * @qpn: the physical QPN
 *
 * Caller holds rcu_read_lock(); the QP stays valid until it drops it.
 *
 * Return: the QP, or NULL.
 */
struct vrdma_qp *vrdma_host_qp_rcu(struct ib_device *pdev, u32 qpn)
{
	struct vrdma_qp *qp;

	hash_for_each_possible_rcu(vrdma_qps, qp, unode,
				   vrdma_qps_key(pdev, qpn))
		if (qp->vdev->pdev == pdev && qp->ibqp.qp_num == qpn &&
		    READ_ONCE(qp->pqp))
			return qp;
	return NULL;
}

/**
 * vrdma_ud_qp_rcu() - a UD QP of this host
 * @pdev: the physical device
 * @qpn: the physical QPN
 *
 * Caller holds rcu_read_lock(); the QP stays valid until it drops it.
 *
 * Return: the QP, or NULL.
 */
struct vrdma_qp *vrdma_ud_qp_rcu(struct ib_device *pdev, u32 qpn)
{
	struct vrdma_qp *qp = vrdma_host_qp_rcu(pdev, qpn);

	return qp && qp->ibqp.qp_type == IB_QPT_UD ? qp : NULL;
}

/*
 * UD QPs of this host destroyed lately.  A datagram sent just before its
 * QP was destroyed may still be on its way to a receiver of this host, in
 * the physical device's queues or in a physical CQ not polled yet (the
 * sender saw its send complete: the packet had left; udaddy's server
 * sends its replies, polls their completions and exits).  The receiver
 * must still tell who sent it: the sender's virtual network and
 * addresses are kept for VRDMA_UD_GONE_TTL.  A live QP with the same
 * physical QPN (the device reuses numbers) takes precedence.  At most
 * VRDMA_UD_GONE_MAX are kept, the oldest forgotten first.
 */
#define VRDMA_UD_GONE_TTL	(5 * HZ)
#define VRDMA_UD_GONE_MAX	1024

struct vrdma_ud_gone {
	struct hlist_node hnode;
	struct list_head lru;
	struct rcu_head rcu;
	struct ib_device *pdev;	/* compared, never dereferenced */
	u32 qpn;
	u32 vni;
	bool addrs_valid;
	union ib_gid sgid;
	union ib_gid dgid;
	unsigned long gone_at;
};

static DEFINE_HASHTABLE(vrdma_ud_gone, 6);
static LIST_HEAD(vrdma_ud_gone_lru);	/* oldest first */
static DEFINE_SPINLOCK(vrdma_ud_gone_lock);
static unsigned int vrdma_ud_gone_nr;

/* Forget the oldest entry; vrdma_ud_gone_lock held. */
static void vrdma_ud_gone_evict_oldest(void)
{
	struct vrdma_ud_gone *g;

	lockdep_assert_held(&vrdma_ud_gone_lock);
	g = list_first_entry(&vrdma_ud_gone_lru, struct vrdma_ud_gone, lru);
	hash_del_rcu(&g->hnode);
	list_del(&g->lru);
	vrdma_ud_gone_nr--;
	kfree_rcu(g, rcu);
}

/*
 * Remember a UD QP that is being destroyed, before it leaves vrdma_qps
 * (no moment where a receiver finds neither).  Process context.
 */
static void vrdma_ud_gone_add(struct vrdma_qp *qp)
{
	struct vrdma_ud_gone *g;
	unsigned long flags;

	if (qp->ibqp.qp_type != IB_QPT_UD)
		return;
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return;	/* its late datagrams are dropped as a stranger's */
	g->pdev = qp->vdev->pdev;
	g->qpn = qp->ibqp.qp_num;
	g->vni = qp->vdev->vni;
	/* Pairs with the release in vrdma_sq_post_one(). */
	g->addrs_valid = smp_load_acquire(&qp->ud_last_valid) &&
			 !rdma_query_gid(&qp->vdev->ibdev, 1,
					 READ_ONCE(qp->ud_last_sgid_index),
					 &g->sgid);
	if (g->addrs_valid)
		g->dgid = qp->ud_last_dgid;
	g->gone_at = jiffies;

	spin_lock_irqsave(&vrdma_ud_gone_lock, flags);
	while (vrdma_ud_gone_nr &&
	       (vrdma_ud_gone_nr >= VRDMA_UD_GONE_MAX ||
		time_after(jiffies, list_first_entry(&vrdma_ud_gone_lru,
						     struct vrdma_ud_gone,
						     lru)->gone_at +
				    VRDMA_UD_GONE_TTL)))
		vrdma_ud_gone_evict_oldest();
	hash_add_rcu(vrdma_ud_gone, &g->hnode, vrdma_qps_key(g->pdev, g->qpn));
	list_add_tail(&g->lru, &vrdma_ud_gone_lru);
	vrdma_ud_gone_nr++;
	spin_unlock_irqrestore(&vrdma_ud_gone_lock, flags);
}

/**
 * vrdma_ud_gone_rcu() - a UD QP of this host destroyed lately
 * @pdev: the physical device
 * @qpn: the physical QPN
 * @vni: set to its virtual network
 * @sgid: set to the overlay source address of its last send
 * @dgid: set to the overlay destination of its last send
 *
 * Caller holds rcu_read_lock().
 *
 * Return: 0 with all set; -ENOENT with only @vni set (it never sent, or
 * its address is gone); -ESRCH if no such QP was destroyed lately.
 */
int vrdma_ud_gone_rcu(struct ib_device *pdev, u32 qpn, u32 *vni,
		      union ib_gid *sgid, union ib_gid *dgid)
{
	struct vrdma_ud_gone *g;

	hash_for_each_possible_rcu(vrdma_ud_gone, g, hnode,
				   vrdma_qps_key(pdev, qpn)) {
		if (g->pdev != pdev || g->qpn != qpn ||
		    time_after(jiffies, g->gone_at + VRDMA_UD_GONE_TTL))
			continue;
		*vni = g->vni;
		if (!g->addrs_valid)
			return -ENOENT;
		*sgid = g->sgid;
		*dgid = g->dgid;
		return 0;
	}
	return -ESRCH;
}

/**
 * vrdma_ud_gone_exit() - forget the departed UD QPs (module unload)
 */
void vrdma_ud_gone_exit(void)
{
	unsigned long flags;

	spin_lock_irqsave(&vrdma_ud_gone_lock, flags);
	while (vrdma_ud_gone_nr)
		vrdma_ud_gone_evict_oldest();
	spin_unlock_irqrestore(&vrdma_ud_gone_lock, flags);
	rcu_barrier();
}

static void vrdma_qp_event(struct ib_event *pev, void *context)
{
	struct vrdma_qp *qp = context;
	struct ib_event ev = {
		.device = &qp->vdev->ibdev,
		.element.qp = &qp->ibqp,
		.event = pev->event,
	};

	if (pev->event == IB_EVENT_QP_LAST_WQE_REACHED) {
		/* From now on, destroy waits for it (vrdma_qp_drained()). */
		if (!READ_ONCE(qp->vdev->phys->last_wqe_reported))
			WRITE_ONCE(qp->vdev->phys->last_wqe_reported, true);
		WRITE_ONCE(qp->last_wqe, true);
		wake_up(&qp->drain_wq);
	}
	if (qp->ibqp.event_handler)
		qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
}

/*
 * Not inside the device's gate: vrdma_dev_kill() holds it for write, and
 * destroy_qp for read, while they cancel this work (a reader waiting
 * behind the writer would deadlock them).  qp->state_lock keeps the
 * physical QP alive instead: vrdma_qp_destroy_phys() detaches it under
 * that lock before destroying it.
 */
static void vrdma_qp_err_work(struct work_struct *work)
{
	struct vrdma_qp *qp = container_of(work, struct vrdma_qp, err_work);
	struct ib_qp_attr attr = { .qp_state = IB_QPS_ERR };

	mutex_lock(&qp->state_lock);
	if (qp->pqp && qp->state != IB_QPS_ERR &&
	    !ib_modify_qp(qp->pqp, &attr, IB_QP_STATE))
		qp->state = IB_QPS_ERR;
	mutex_unlock(&qp->state_lock);
	/* Receives waiting in the ring are flushed now. */
	vrdma_rq_refill(&qp->rq);
}

/**
 * vrdma_qp_set_error() - move a QP to the error state from any context
 * @qp: the QP
 */
void vrdma_qp_set_error(struct vrdma_qp *qp)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->sq_lock, flags);
	qp->sq_error = true;
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	schedule_work(&qp->err_work);
}

static int vrdma_qp_check_init(struct vrdma_dev *vdev,
			       struct ib_qp_init_attr *init,
			       struct ib_udata *udata)
{
	const struct ib_device_attr *a = &vdev->ibdev.attrs;
	struct ib_qp_cap *cap = &init->cap;

	switch (init->qp_type) {
	case IB_QPT_RC:
	case IB_QPT_UC:
	case IB_QPT_UD:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (init->create_flags)
		return -EOPNOTSUPP;
	/* Kernel consumers get QP1 only (gsi.c). */
	if (!udata)
		return -EOPNOTSUPP;
	if (udata->outlen < sizeof(struct rxe_create_qp_resp))
		return -EINVAL;
	if (!init->send_cq || !init->recv_cq)
		return -EINVAL;
	/* A queue of depth 0 (a receive-only or send-only QP) is valid. */
	if (cap->max_send_wr > a->max_qp_wr ||
	    cap->max_send_sge > a->max_send_sge ||
	    cap->max_inline_data > VRDMA_MAX_INLINE)
		return -EINVAL;
	if (!init->srq &&
	    (cap->max_recv_wr > a->max_qp_wr ||
	     cap->max_recv_sge > a->max_recv_sge))
		return -EINVAL;
	return 0;
}

static void vrdma_qp_unreserve(struct vrdma_qp *qp)
{
	if (qp->scq_reserved)
		vrdma_cq_unreserve(qp->scq, qp->scq_reserved);
	if (qp->rcq_reserved)
		vrdma_cq_unreserve(qp->rcq, qp->rcq_reserved);
	if (qp->srq_reserved)
		vrdma_cq_unreserve_srq(qp->rcq, qp->srq);
	qp->scq_reserved = 0;
	qp->rcq_reserved = 0;
	qp->srq_reserved = false;
}

static void vrdma_qp_free_sq(struct vrdma_qp *qp)
{
	kvfree(qp->sq_shadow);
	kfree(qp->wqe);
	vrdma_queue_cleanup(&qp->sq);
	qp->sq_shadow = NULL;
	qp->wqe = NULL;
}

/**
 * vrdma_create_qp() - ops.create_qp
 * @ibqp: the QP (allocated by ib_core)
 * @init: its attributes; the capabilities granted are written back
 * @udata: the user's udata (struct rxe_create_qp_resp)
 *
 * Return: 0 or a negative errno.
 */
int vrdma_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		    struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_qp *qp = to_vqp(ibqp);
	struct vrdma_pd *pd = to_vpd(ibqp->pd);
	struct rxe_create_qp_resp resp = {};
	struct ib_qp_init_attr pinit = {};
	unsigned long flags;
	u32 elem, rq_depth;
	int ret;

	/* The only kernel QP: ib_mad's QP1, emulated (gsi.c). */
	if (!udata && init->qp_type == IB_QPT_GSI)
		return vrdma_gsi_create(qp, init);
	ret = vrdma_qp_check_init(vdev, init, udata);
	if (ret)
		return ret;
	if (vdev->limits.max_qp &&
	    atomic_inc_return(&vdev->n_qp) > vdev->limits.max_qp) {
		atomic_dec(&vdev->n_qp);
		vrdma_stat_inc(vdev, VRDMA_STAT_LIMIT_EXCEEDED);
		return -ENOSPC;
	} else if (!vdev->limits.max_qp) {
		atomic_inc(&vdev->n_qp);
	}

	ret = vrdma_dev_enter(vdev);
	if (ret)
		goto err_count;

	qp->vdev = vdev;
	qp->pd = pd;
	qp->scq = to_vcq(init->send_cq);
	qp->rcq = to_vcq(init->recv_cq);
	qp->srq = init->srq ? to_vsrq(init->srq) : NULL;
	qp->sq_sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	qp->state = IB_QPS_RESET;
	spin_lock_init(&qp->sq_lock);
	mutex_init(&qp->state_lock);
	INIT_WORK(&qp->err_work, vrdma_qp_err_work);
	mutex_init(&qp->uda_lock);
	INIT_WORK(&qp->uda_work, vrdma_ud_announce_work);
	init_waitqueue_head(&qp->drain_wq);
	INIT_HLIST_NODE(&qp->hnode);
	INIT_HLIST_NODE(&qp->unode);
	INIT_LIST_HEAD(&qp->obj.node);
	spin_lock_init(&qp->rq.lock);
	qp->rq.qp = qp;

	if (!qp->pd->ppd || !qp->scq->pcq || !qp->rcq->pcq ||
	    (qp->srq && !qp->srq->psrq)) {
		ret = -EIO;
		goto err_leave;
	}

	/* The physical QP first: it decides the real capabilities. */
	pinit.event_handler = vrdma_qp_event;
	pinit.qp_context = qp;
	pinit.send_cq = qp->scq->pcq;
	pinit.recv_cq = qp->rcq->pcq;
	pinit.srq = qp->srq ? qp->srq->psrq : NULL;
	pinit.cap = init->cap;
	if (qp->srq) {
		pinit.cap.max_recv_wr = 0;
		pinit.cap.max_recv_sge = 0;
	} else if (init->qp_type == IB_QPT_UD) {
		/* One more for the GRH buffer (vrdma_rq_init_grh()). */
		pinit.cap.max_recv_sge = max(init->cap.max_recv_sge, 1U) + 1;
	}
	pinit.sq_sig_type = init->sq_sig_type;
	pinit.qp_type = init->qp_type;
	qp->pqp = ib_create_qp_kernel(pd->ppd, &pinit, vrdma_dev_owner(vdev));
	if (IS_ERR(qp->pqp)) {
		ret = PTR_ERR(qp->pqp);
		qp->pqp = NULL;
		goto err_leave;
	}

	/*
	 * At most sq_max sends and rq_depth receives are outstanding on the
	 * physical QP; more wait in the rings, which hold what the
	 * application asked for.  The physical QP may be larger than asked
	 * (rxe rounds a queue up to a power of two, less one: the largest QP
	 * the device allows would otherwise need physical CQs twice the
	 * largest), and is never given more than the rings can hold.
	 */
	qp->sq_max = min(pinit.cap.max_send_wr, init->cap.max_send_wr);
	rq_depth = min(pinit.cap.max_recv_wr, init->cap.max_recv_wr);

	/* The physical CQs must hold every completion that can be pending. */
	ret = vrdma_cq_reserve(qp->scq, qp->sq_max);
	if (ret)
		goto err_pqp;
	qp->scq_reserved = qp->sq_max;
	if (!qp->srq) {
		ret = vrdma_cq_reserve(qp->rcq, rq_depth);
		if (ret)
			goto err_reserve;
		qp->rcq_reserved = rq_depth;
	} else {
		/* Any receive of the SRQ may complete on the receive CQ. */
		ret = vrdma_cq_reserve_srq(qp->rcq, qp->srq);
		if (ret)
			goto err_reserve;
		qp->srq_reserved = true;
	}

	qp->max_send_sge = init->cap.max_send_sge;
	qp->max_inline = min(init->cap.max_inline_data,
			     pinit.cap.max_inline_data);
	qp->sq_depth = roundup_pow_of_two(max(qp->sq_max, 1U));
	qp->sq_shadow = kvcalloc(qp->sq_depth, sizeof(*qp->sq_shadow),
				 VRDMA_GFP_TENANT);
	elem = max_t(u32, struct_size_t(struct rxe_send_wqe, dma.sge,
					qp->max_send_sge),
		     sizeof(struct rxe_send_wqe) + qp->max_inline);
	ret = qp->sq_shadow ? vrdma_queue_init(vdev, &qp->sq,
					       init->cap.max_send_wr, elem,
					       udata, &resp.sq_mi) : -ENOMEM;
	if (ret)
		goto err_reserve;
	qp->wqe = kzalloc(vrdma_queue_elem_size(&qp->sq), GFP_KERNEL_ACCOUNT);
	if (!qp->wqe) {
		ret = -ENOMEM;
		goto err_sq;
	}

	if (!qp->srq) {
		ret = vrdma_rq_init(vdev, &qp->rq, pd, rq_depth,
				    init->cap.max_recv_sge, udata,
				    &resp.rq_mi);
		if (ret)
			goto err_sq;
		if (init->qp_type == IB_QPT_UD) {
			ret = vrdma_rq_init_grh(&qp->rq, vdev->pdev,
						pd->ppd->local_dma_lkey);
			if (ret)
				goto err_rq;
		}
	}

	ret = ib_copy_to_udata(udata, &resp, sizeof(resp));
	if (ret)
		goto err_rq;

	/* The rings hold what the application asked for; inline may shrink. */
	init->cap.max_inline_data = qp->max_inline;
	/* What the rings hold, as rxe reports (rounded up). */
	qp->max_send_wr = qp->sq.index_mask;
	qp->max_recv_wr = qp->srq ? 0 : qp->rq.q.index_mask;
	init->cap.max_send_wr = qp->max_send_wr;
	init->cap.max_recv_wr = qp->max_recv_wr;

	/* A UD QP announces itself to the hosts it sends to (post.c). */
	if (init->qp_type == IB_QPT_UD) {
		qp->tun = vrdma_tun_get(vdev);
		if (IS_ERR(qp->tun))
			qp->tun = NULL;
		qp->announced_at = jiffies;
	}

	ibqp->qp_num = qp->pqp->qp_num;
	spin_lock_irqsave(&vdev->qp_hash_lock, flags);
	hash_add_rcu(vdev->qp_hash, &qp->hnode, (unsigned long)qp->pqp);
	spin_unlock_irqrestore(&vdev->qp_hash_lock, flags);
	spin_lock_irqsave(&vrdma_qps_lock, flags);
	hash_add_rcu(vrdma_qps, &qp->unode,
		     vrdma_qps_key(vdev->pdev, ibqp->qp_num));
	spin_unlock_irqrestore(&vrdma_qps_lock, flags);
	vrdma_obj_add(vdev, &qp->obj, VRDMA_OBJ_QP);
	vrdma_audit_created(VRDMA_AUDIT_QP);
	vrdma_dev_leave(vdev);
	return 0;

err_rq:
	if (!qp->srq)
		vrdma_rq_cleanup(&qp->rq);
err_sq:
	vrdma_qp_free_sq(qp);
err_reserve:
	vrdma_qp_unreserve(qp);
err_pqp:
	ib_destroy_qp(qp->pqp);
	qp->pqp = NULL;
err_leave:
	vrdma_dev_leave(vdev);
err_count:
	atomic_dec(&vdev->n_qp);
	return ret;
}

/**
 * vrdma_qp_translate() - the application's QP attributes, for the physical QP
 * @vdev: the device (gate held)
 * @attr: the attributes the application gave (overlay address vector)
 * @mask: which ones
 * @pattr: set to the physical QP's attributes; the caller releases
 *	@pattr->ah_attr with rdma_destroy_ah_attr()
 * @pmask: set to their mask
 * @local: set when the new destination (IB_QP_AV) is on this host
 *
 * Also for passthrough QPs (pt.c).
 *
 * Return: 0, -EOPNOTSUPP for alternate paths, path migration and rate
 * limits, -EINVAL for an address vector that is not RoCE with a GRH, or
 * the error of vrdma_map_resolve().
 */
int vrdma_qp_translate(struct vrdma_dev *vdev, const struct ib_qp_attr *attr,
		       int mask, struct ib_qp_attr *pattr, int *pmask,
		       bool *local)
{
	int ret;

	if (mask & (IB_QP_ALT_PATH | IB_QP_PATH_MIG_STATE | IB_QP_RATE_LIMIT))
		return -EOPNOTSUPP;
	if ((mask & IB_QP_DEST_QPN) && (attr->dest_qp_num & ~IB_QPN_MASK))
		return -EINVAL;

	*pattr = *attr;
	*pmask = mask;
	memset(&pattr->ah_attr, 0, sizeof(pattr->ah_attr));
	memset(&pattr->alt_ah_attr, 0, sizeof(pattr->alt_ah_attr));

	if (mask & IB_QP_PORT)
		pattr->port_num = vdev->pport;
	if (mask & IB_QP_PKEY_INDEX)
		pattr->pkey_index = 0;

	if (mask & IB_QP_AV) {
		const struct rdma_ah_attr *ah = &attr->ah_attr;
		const struct ib_global_route *grh;

		if (ah->type != RDMA_AH_ATTR_TYPE_ROCE ||
		    !(rdma_ah_get_ah_flags(ah) & IB_AH_GRH))
			return -EINVAL;
		grh = rdma_ah_read_grh(ah);
		ret = vrdma_map_resolve(vdev, &grh->dgid, &pattr->ah_attr, local);
		if (ret)
			return ret;
		pattr->ah_attr.grh.flow_label = grh->flow_label;
		pattr->ah_attr.grh.traffic_class = grh->traffic_class;
		/* The hop limit is the physical route's (map.c). */
		pattr->ah_attr.sl = ah->sl;
		pattr->ah_attr.static_rate = ah->static_rate;
	}
	return 0;
}

/*
 * A connected QP may only be aimed at a QP of its own virtual network: QP
 * 0 and QP 1 are the physical devices' own; on this host (@local), the
 * destination must be a user QP of the same type and network.  The
 * module does not know other hosts' QPs (Documentation/security.rst).
 */
static int vrdma_qp_check_dest(struct vrdma_qp *qp, bool local, u32 dqpn)
{
	struct vrdma_qp *dst;
	int ret = -EPERM;

	lockdep_assert_held(&qp->state_lock);

	if (dqpn <= 1)
		return -EPERM;
	if (!local)
		return 0;
	rcu_read_lock();
	dst = vrdma_host_qp_rcu(qp->vdev->pdev, dqpn);
	if (dst && dst->vdev->vni == qp->vdev->vni &&
	    dst->ibqp.qp_type == qp->ibqp.qp_type)
		ret = 0;
	rcu_read_unlock();
	return ret;
}

/* Reset: the rings start over, as they do for rxe. */
static void vrdma_qp_reset_rings(struct vrdma_qp *qp)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->sq_lock, flags);
	qp->sq_cons = 0;
	qp->sq_head = 0;
	qp->sq_tail = 0;
	qp->sq_error = false;
	if (qp->sq.buf) {
		WRITE_ONCE(qp->sq.buf->producer_index, 0);
		vrdma_queue_publish_cons(&qp->sq, 0);
	}
	spin_unlock_irqrestore(&qp->sq_lock, flags);

	if (qp->srq)
		return;
	spin_lock_irqsave(&qp->rq.lock, flags);
	qp->rq.cons = 0;
	qp->rq.done = 0;
	qp->rq.error = false;
	qp->rq.posted = 0;
	bitmap_fill(qp->rq.free, qp->rq.depth);
	if (qp->rq.q.buf) {
		WRITE_ONCE(qp->rq.q.buf->producer_index, 0);
		vrdma_queue_publish_cons(&qp->rq.q, 0);
	}
	spin_unlock_irqrestore(&qp->rq.lock, flags);
}

/* A state the physical QP reached: what it means for the rings. */
static void vrdma_qp_new_state(struct vrdma_qp *qp, enum ib_qp_state state)
{
	struct vrdma_dev *vdev = qp->vdev;
	unsigned long flags;

	lockdep_assert_held(&qp->state_lock);

	qp->state = state;
	switch (state) {
	case IB_QPS_RESET:
		if (!qp->srq)
			vrdma_rq_deactivate(vdev, &qp->rq);
		vrdma_qp_reset_rings(qp);
		break;
	case IB_QPS_INIT:
	case IB_QPS_RTR:
		if (!qp->srq)
			vrdma_rq_activate(vdev, &qp->rq);
		break;
	case IB_QPS_RTS:
	case IB_QPS_SQD:
		if (vrdma_sq_drain(qp))
			schedule_work(&qp->uda_work);
		break;
	case IB_QPS_ERR:
	case IB_QPS_SQE:
		spin_lock_irqsave(&qp->sq_lock, flags);
		qp->sq_error = true;
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		if (!qp->srq) {
			spin_lock_irqsave(&qp->rq.lock, flags);
			qp->rq.error = true;
			spin_unlock_irqrestore(&qp->rq.lock, flags);
			vrdma_rq_refill(&qp->rq);
		}
		vrdma_sq_drain(qp);	/* flushes: announces nothing */
		break;
	}
}

/**
 * vrdma_modify_qp() - ops.modify_qp
 * @ibqp: the QP
 * @attr: new attributes; the destination GID is an overlay address
 * @mask: which ones
 * @udata: the user's udata (no driver data in the rxe ABI)
 *
 * Return: 0 or a negative errno (-EHOSTUNREACH: destination not in the
 * map of the device's virtual network; -EPERM: a destination QP outside
 * it, see vrdma_qp_check_dest()).
 */
int vrdma_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		    struct ib_udata *udata)
{
	struct vrdma_qp *qp = to_vqp(ibqp);
	struct vrdma_dev *vdev = qp->vdev;
	struct ib_qp_attr *pattr;
	bool local = false;
	int pmask, ret;

	if (udata && udata->inlen)
		return -EOPNOTSUPP;
	if (qp->gsi)
		return vrdma_gsi_modify(qp, attr, mask);

	pattr = kmalloc(sizeof(*pattr), GFP_KERNEL);
	if (!pattr)
		return -ENOMEM;

	ret = vrdma_dev_enter(vdev);
	if (ret)
		goto out_free;

	ret = vrdma_qp_translate(vdev, attr, mask, pattr, &pmask, &local);
	if (ret)
		goto out_leave;

	mutex_lock(&qp->state_lock);
	/* The destination QP, with the destination given now or before. */
	if ((mask & IB_QP_DEST_QPN) ||
	    ((mask & IB_QP_AV) && qp->dest_qpn_valid))
		ret = vrdma_qp_check_dest(qp, mask & IB_QP_AV ? local :
					  qp->av_valid && qp->av_local,
					  mask & IB_QP_DEST_QPN ?
					  attr->dest_qp_num : qp->dest_qpn);
	if (!ret)
		ret = ib_modify_qp(qp->pqp, pattr, pmask);
	if (!ret) {
		if (mask & IB_QP_AV) {
			qp->vdgid = attr->ah_attr.grh.dgid;
			qp->vsgid_index = attr->ah_attr.grh.sgid_index;
			qp->av_local = local;
			qp->av_valid = true;
		}
		if (mask & IB_QP_DEST_QPN) {
			qp->dest_qpn = attr->dest_qp_num;
			qp->dest_qpn_valid = true;
		}
		if ((mask & IB_QP_PATH_MTU) &&
		    ib_mtu_enum_to_int(attr->path_mtu) > 0)
			WRITE_ONCE(qp->pmtu_shift,
				   ilog2(ib_mtu_enum_to_int(attr->path_mtu)));
		if (mask & IB_QP_STATE)
			vrdma_qp_new_state(qp, attr->qp_state);
	}
	mutex_unlock(&qp->state_lock);
	rdma_destroy_ah_attr(&pattr->ah_attr);

out_leave:
	vrdma_dev_leave(vdev);
out_free:
	kfree(pattr);
	return ret;
}

/**
 * vrdma_query_qp() - ops.query_qp
 * @ibqp: the QP
 * @attr: filled; the destination GID is the one the application gave
 * @mask: attributes wanted
 * @init: filled with the creation attributes
 *
 * Return: 0 or a negative errno.
 */
int vrdma_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_qp_init_attr *init)
{
	struct vrdma_qp *qp = to_vqp(ibqp);
	struct vrdma_dev *vdev = qp->vdev;
	struct ib_qp_init_attr pinit = {};
	struct ib_global_route *grh;
	int ret;

	if (qp->gsi) {
		vrdma_gsi_query(qp, attr, init);
		return 0;
	}
	/* An error found by the data path moves the QP asynchronously. */
	flush_work(&qp->err_work);

	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = ib_query_qp(qp->pqp, attr, mask, &pinit);
	vrdma_dev_leave(vdev);
	if (ret)
		return ret;

	rdma_destroy_ah_attr(&attr->ah_attr);
	rdma_destroy_ah_attr(&attr->alt_ah_attr);
	memset(&attr->alt_ah_attr, 0, sizeof(attr->alt_ah_attr));
	memset(&attr->ah_attr, 0, sizeof(attr->ah_attr));
	attr->port_num = 1;
	attr->pkey_index = 0;
	attr->alt_port_num = 0;
	attr->alt_pkey_index = 0;
	if (qp->av_valid) {
		attr->ah_attr.type = RDMA_AH_ATTR_TYPE_ROCE;
		rdma_ah_set_port_num(&attr->ah_attr, 1);
		rdma_ah_set_ah_flags(&attr->ah_attr, IB_AH_GRH);
		grh = rdma_ah_retrieve_grh(&attr->ah_attr);
		grh->dgid = qp->vdgid;
		grh->sgid_index = qp->vsgid_index;
		grh->hop_limit = 64;
	}

	attr->cap.max_send_wr = qp->max_send_wr;
	attr->cap.max_send_sge = qp->max_send_sge;
	attr->cap.max_inline_data = qp->max_inline;
	attr->cap.max_recv_wr = qp->max_recv_wr;
	attr->cap.max_recv_sge = qp->srq ? 0 : qp->rq.max_sge;

	memset(init, 0, sizeof(*init));
	init->event_handler = qp->ibqp.event_handler;
	init->qp_context = qp->ibqp.qp_context;
	init->send_cq = &qp->scq->ibcq;
	init->recv_cq = &qp->rcq->ibcq;
	init->srq = qp->srq ? &qp->srq->ibsrq : NULL;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sq_sig_all ? IB_SIGNAL_ALL_WR :
					     IB_SIGNAL_REQ_WR;
	init->qp_type = qp->ibqp.qp_type;
	init->port_num = 1;
	return 0;
}

static bool vrdma_qp_drained(struct vrdma_qp *qp)
{
	unsigned long flags;
	bool drained;

	spin_lock_irqsave(&qp->sq_lock, flags);
	drained = qp->sq_head == qp->sq_tail;
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (drained && !qp->srq) {
		spin_lock_irqsave(&qp->rq.lock, flags);
		drained = !qp->rq.posted;
		spin_unlock_irqrestore(&qp->rq.lock, flags);
	}
	/*
	 * An RC QP of an SRQ may hold a receive of the SRQ until the device
	 * reports IB_EVENT_QP_LAST_WQE_REACHED.  Not every device reports it
	 * (rxe on Linux 6.1 never does): waiting for it is waiting out
	 * VRDMA_DRAIN_TIMEOUT for each QP.  So it is waited for only from a
	 * device that has reported it once.  Without it, the receive a QP
	 * held completes (flushed) into the physical CQ, which destroy polls
	 * before it forgets the QP (vrdma_qp_destroy_phys()), or later, when
	 * it only returns its slot to the SRQ.
	 */
	if (drained && qp->srq && qp->ibqp.qp_type == IB_QPT_RC &&
	    READ_ONCE(qp->vdev->phys->last_wqe_reported))
		drained = READ_ONCE(qp->last_wqe);
	return drained;
}

/*
 * Destroy the physical QP: stop feeding it, flush it, wait (bounded) for
 * the flushed completions, and make sure no poll of its CQs still looks at
 * it.  Completions that arrive later find no QP in vdev->qp_hash and are
 * dropped.  Last, the QP's work items are cancelled: only completions
 * (which can no longer find the QP) and the send path (which finds no
 * physical QP) schedule them.
 *
 * Called inside the gate (read: destroy_qp; write: vrdma_dev_kill()),
 * without qp->state_lock.
 */
static void vrdma_qp_destroy_phys(struct vrdma_qp *qp, bool drain)
{
	struct vrdma_dev *vdev = qp->vdev;
	struct ib_qp_attr attr = { .qp_state = IB_QPS_ERR };
	struct ib_qp *pqp = qp->pqp;
	unsigned long flags;
	bool flushing;

	lockdep_assert_held(&vdev->gate);

	if (!qp->srq)
		vrdma_rq_deactivate(vdev, &qp->rq);
	spin_lock_irqsave(&qp->sq_lock, flags);
	qp->sq_error = true;
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (!pqp)
		goto cancel;

	mutex_lock(&qp->state_lock);
	flushing = drain && qp->state != IB_QPS_RESET &&
		   !ib_modify_qp(pqp, &attr, IB_QP_STATE);
	if (flushing)
		qp->state = IB_QPS_ERR;
	mutex_unlock(&qp->state_lock);
	if (flushing) {
		wait_event_timeout(qp->drain_wq, vrdma_qp_drained(qp),
				   VRDMA_DRAIN_TIMEOUT);
		/* What the QP completed reaches its CQ (vrdma_qp_drained()). */
		if (qp->srq)
			vrdma_pcq_drain(qp->rcq);
	}

	irq_poll_disable(&qp->scq->iop);
	if (qp->rcq != qp->scq)
		irq_poll_disable(&qp->rcq->iop);
	spin_lock_irqsave(&vdev->qp_hash_lock, flags);
	hash_del_rcu(&qp->hnode);
	spin_unlock_irqrestore(&vdev->qp_hash_lock, flags);
	/* Not when the physical device goes (its datagrams go with it). */
	if (drain)
		vrdma_ud_gone_add(qp);
	spin_lock_irqsave(&vrdma_qps_lock, flags);
	hash_del_rcu(&qp->unode);
	spin_unlock_irqrestore(&vrdma_qps_lock, flags);
	/*
	 * The data path tests qp->pqp under these locks, the error work
	 * under state_lock.
	 */
	mutex_lock(&qp->state_lock);
	spin_lock_irqsave(&qp->sq_lock, flags);
	WRITE_ONCE(qp->pqp, NULL);
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	spin_lock_irqsave(&qp->rq.lock, flags);
	spin_unlock_irqrestore(&qp->rq.lock, flags);
	mutex_unlock(&qp->state_lock);
	synchronize_rcu();
	irq_poll_enable(&qp->scq->iop);
	irq_poll_sched(&qp->scq->iop);
	if (qp->rcq != qp->scq) {
		irq_poll_enable(&qp->rcq->iop);
		irq_poll_sched(&qp->rcq->iop);
	}

	ib_destroy_qp(pqp);
	/* Before the physical device may go (vrdma_qp_kill()). */
	if (!qp->srq)
		vrdma_rq_free_grh(&qp->rq);
cancel:
	cancel_work_sync(&qp->err_work);
	cancel_work_sync(&qp->uda_work);
}

/**
 * vrdma_qp_kill() - destroy a QP's physical QP (device kill)
 * @qp: the QP
 */
void vrdma_qp_kill(struct vrdma_qp *qp)
{
	/* No waiting: the physical device is going away. */
	vrdma_qp_destroy_phys(qp, false);
}

/**
 * vrdma_destroy_qp() - ops.destroy_qp
 * @ibqp: the QP
 * @udata: the user's udata
 *
 * Return: 0.
 */
int vrdma_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct vrdma_qp *qp = to_vqp(ibqp);
	struct vrdma_dev *vdev = qp->vdev;

	if (qp->gsi) {
		vrdma_gsi_destroy(qp);
		return 0;
	}
	vrdma_dev_enter_destroy(vdev);
	vrdma_obj_del(vdev, &qp->obj);
	vrdma_qp_destroy_phys(qp, true);
	vrdma_dev_leave(vdev);

	if (!qp->srq)
		vrdma_rq_cleanup(&qp->rq);
	vrdma_qp_free_sq(qp);
	vrdma_qp_unreserve(qp);
	if (qp->tun)
		vrdma_tun_put(qp->tun);
	atomic_dec(&vdev->n_qp);
	vrdma_audit_destroyed(VRDMA_AUDIT_QP);
	return 0;
}
