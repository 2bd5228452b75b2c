// SPDX-License-Identifier: GPL-2.0
/*
 * Shared receive queues.
 *
 * A virtual SRQ is a physical SRQ of the virtual PD's physical PD and a
 * receive queue (struct vrdma_rq, post.c): a ring the application fills in
 * shared memory, from which post.c refills the physical SRQ.  The SRQ has
 * an id in vdev->srqs, carried in the wr_id of its physical receives: the
 * completion path (softirq, RCU) finds the SRQ by it, so an SRQ leaves
 * vdev->srqs and an RCU grace period passes before it is freed.
 *
 * Resizing (IB_SRQ_MAX_WR) replaces the ring only: the unconsumed receive
 * WQEs move, in order, to a new ring under the receive queue's lock, which
 * also serializes post.c's consumer.  The physical SRQ keeps its depth
 * (many RNICs cannot resize an SRQ): the receives outstanding on it are
 * bounded by post.c, and the application's limit is the ring.
 */
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <rdma/uverbs_ioctl.h>

#include "audit.h"
#include "verbs.h"

/* The device's limits (the physical device's, within vrdma's). */
static u32 vrdma_srq_max_wr(struct vrdma_dev *vdev)
{
	return max(vdev->ibdev.attrs.max_srq_wr, 0);
}

static u32 vrdma_srq_max_sge(struct vrdma_dev *vdev)
{
	return max(vdev->ibdev.attrs.max_srq_sge, 0);
}

/* Events of the physical SRQ; any context. */
static void vrdma_srq_event(struct ib_event *pev, void *context)
{
	struct vrdma_srq *srq = context;
	struct ib_srq *ibsrq = &srq->ibsrq;
	struct ib_event ev = {
		.device = ibsrq->device,
		.element.srq = ibsrq,
		.event = pev->event,
	};

	switch (pev->event) {
	case IB_EVENT_SRQ_LIMIT_REACHED:
	case IB_EVENT_SRQ_ERR:
		break;
	default:
		return;
	}
	if (ibsrq->event_handler)
		ibsrq->event_handler(&ev, ibsrq->srq_context);
}

/*
 * Detach the physical SRQ from the receive queue (refills test psrq under
 * rq->lock) and destroy it.
 */
static void vrdma_psrq_destroy(struct vrdma_srq *srq)
{
	struct ib_srq *psrq = srq->psrq;
	unsigned long flags;

	if (!psrq)
		return;
	spin_lock_irqsave(&srq->rq.lock, flags);
	srq->psrq = NULL;
	spin_unlock_irqrestore(&srq->rq.lock, flags);
	ib_destroy_srq(psrq);
}

/*
 * Receives the application can post: the ring's capacity (rq->lock
 * protects it against resizes), within the device's limit.
 */
static u32 vrdma_srq_capacity(struct vrdma_srq *srq)
{
	unsigned long flags;
	u32 cap;

	spin_lock_irqsave(&srq->rq.lock, flags);
	cap = srq->rq.q.index_mask;
	spin_unlock_irqrestore(&srq->rq.lock, flags);
	return min(cap, vrdma_srq_max_wr(srq->vdev));
}

/**
 * vrdma_create_srq() - ib_device_ops.create_srq
 * @ibsrq: the virtual SRQ, allocated by ib_core
 * @init: its attributes; max_wr and max_sge are updated to what the SRQ
 *	provides
 * @udata: driver data (struct rxe_create_srq_resp is returned in it)
 *
 * Context: process context.
 * Return: 0, -EOPNOTSUPP for an SRQ type other than IB_SRQT_BASIC or a
 * kernel SRQ, -EINVAL
 * for bad attributes or a short response buffer, -ENOMEM, -EIO if the
 * physical device is gone, -EFAULT, or the physical device's error.
 */
int vrdma_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		     struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibsrq->device);
	struct vrdma_pd *pd = to_vpd(ibsrq->pd);
	struct vrdma_srq *srq = to_vsrq(ibsrq);
	struct ib_srq_attr *attr = &init->attr;
	struct rxe_create_srq_resp resp = {};
	struct ib_srq_init_attr pinit = {};
	struct ib_srq *psrq;
	int err;

	if (init->srq_type != IB_SRQT_BASIC)
		return -EOPNOTSUPP;
	/* Kernel consumers are not supported: a user-only device. */
	err = vrdma_dev_enter_user(vdev, udata, sizeof(resp));
	if (err)
		return err;

	if (attr->max_wr < 1 || attr->max_wr > vrdma_srq_max_wr(vdev) ||
	    attr->max_sge < 1 || attr->max_sge > vrdma_srq_max_sge(vdev) ||
	    attr->srq_limit > attr->max_wr) {
		err = -EINVAL;
		goto err_leave;
	}
	if (!pd->ppd) {
		err = -EIO;
		goto err_leave;
	}

	srq->vdev = vdev;
	srq->rq.srq = srq;	/* before vrdma_rq_init() */

	pinit.event_handler = vrdma_srq_event;
	pinit.srq_context = srq;
	pinit.srq_type = IB_SRQT_BASIC;
	pinit.attr.max_wr = attr->max_wr;
	pinit.attr.max_sge = attr->max_sge;
	pinit.attr.srq_limit = attr->srq_limit;
	psrq = ib_create_srq(pd->ppd, &pinit);
	if (IS_ERR(psrq)) {
		err = PTR_ERR(psrq);
		goto err_leave;
	}
	srq->psrq = psrq;

	/* At most max_wr receives outstanding on the physical SRQ. */
	err = vrdma_rq_init(vdev, &srq->rq, pd, attr->max_wr, attr->max_sge,
			    udata, &resp.mi);
	if (err)
		goto err_psrq;

	/* Nothing is posted before activation: no lookup can find it yet. */
	err = xa_alloc(&vdev->srqs, &srq->rq.id, srq,
		       XA_LIMIT(1, VRDMA_WRID_ID_MASK), GFP_KERNEL_ACCOUNT);
	if (err)
		goto err_rq;

	resp.srq_num = 0;	/* no XRC */
	err = ib_copy_to_udata(udata, &resp, sizeof(resp));
	if (err)
		goto err_id;

	attr->max_wr = vrdma_srq_capacity(srq);
	vrdma_obj_add(vdev, &srq->obj, VRDMA_OBJ_SRQ);
	vrdma_rq_activate(vdev, &srq->rq);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_SRQ);
	return 0;

err_id:
	xa_erase(&vdev->srqs, srq->rq.id);
err_rq:
	vrdma_rq_cleanup(&srq->rq);
err_psrq:
	srq->psrq = NULL;	/* unused yet: no need for rq->lock */
	ib_destroy_srq(psrq);
err_leave:
	vrdma_dev_leave(vdev);
	return err;
}

/*
 * Move the unconsumed receive WQEs of @rq's ring to @nq and make @nq the
 * ring; @nq then holds the old ring.  -EINVAL if @nq cannot hold them.
 */
static int vrdma_srq_swap_ring(struct vrdma_rq *rq, struct vrdma_queue *nq)
{
	u32 esize = vrdma_queue_elem_size(&rq->q);
	unsigned long flags;
	u32 prod, count, i;

	if (WARN_ON_ONCE(vrdma_queue_elem_size(nq) != esize))
		return -EINVAL;

	spin_lock_irqsave(&rq->lock, flags);
	prod = vrdma_queue_user_prod(&rq->q);
	count = (prod - rq->cons) & rq->q.index_mask;
	if (count > nq->index_mask) {
		spin_unlock_irqrestore(&rq->lock, flags);
		return -EINVAL;
	}
	/* Userspace may be writing: the consumer re-validates each WQE. */
	for (i = 0; i < count; i++)
		memcpy(vrdma_queue_slot(nq, i),
		       vrdma_queue_slot(&rq->q, rq->cons + i), esize);
	/* A fresh ring: both indices are ours to set before it is used. */
	nq->buf->consumer_index = 0;
	vrdma_queue_publish_prod(nq, count);
	swap(rq->q, *nq);
	rq->cons = 0;
	spin_unlock_irqrestore(&rq->lock, flags);
	return 0;
}

/* IB_SRQ_MAX_WR: replace the ring by one of @max_wr elements. */
static int vrdma_srq_resize(struct vrdma_srq *srq, u32 max_wr,
			    struct ib_udata *udata, u64 mi_addr)
{
	struct vrdma_rq *rq = &srq->rq;
	struct mminfo mi = {};
	struct vrdma_queue nq;
	int err;

	/* elem_size does not change; rq->lock is not needed to read it. */
	err = vrdma_queue_init(srq->vdev, &nq, max_wr,
			       vrdma_queue_elem_size(&rq->q), udata, &mi);
	if (err)
		return err;

	/* Before the swap: the old ring stays in use if this fails. */
	if (copy_to_user(u64_to_user_ptr(mi_addr), &mi, sizeof(mi))) {
		err = -EFAULT;
		goto out;
	}

	err = vrdma_srq_swap_ring(rq, &nq);
out:
	/* The old ring on success, the unused new one on failure. */
	vrdma_queue_cleanup(&nq);
	return err;
}

/**
 * vrdma_modify_srq() - ib_device_ops.modify_srq
 * @ibsrq: the virtual SRQ
 * @attr: the new attributes
 * @mask: IB_SRQ_MAX_WR (resize) and/or IB_SRQ_LIMIT (arm the limit event)
 * @udata: driver data: struct rxe_modify_srq_cmd, whose mmap_info_addr
 *	receives the new ring's struct mminfo on a resize; NULL for a kernel
 *	caller, which cannot resize
 *
 * A resize moves the unconsumed receives to a new ring (librxe unmaps the
 * old one and maps the new one); it fails with -EINVAL if max_wr is
 * smaller than the receives in the ring.  The limit is passed to the
 * physical SRQ, which counts the receives posted to it.  The limit is set
 * first: a failure after a successful resize would leave the application
 * on the old ring.  A successful call re-arms IB_EVENT_SRQ_ERR, which an
 * SRQ reports once for the invalid WQEs it drops (post.c).
 *
 * Context: process context.
 * Return: 0, -EINVAL for bad attributes, -EOPNOTSUPP for a resize without
 * udata, -ENOMEM, -EFAULT, -EIO if the physical device is gone, or the
 * physical device's error.
 */
int vrdma_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		     enum ib_srq_attr_mask mask, struct ib_udata *udata)
{
	struct vrdma_srq *srq = to_vsrq(ibsrq);
	struct vrdma_dev *vdev = srq->vdev;
	struct rxe_modify_srq_cmd cmd = {};
	struct ib_srq_attr pattr = {};
	u32 max_wr;
	int err;

	if (mask & ~(IB_SRQ_MAX_WR | IB_SRQ_LIMIT))
		return -EINVAL;
	if (mask & IB_SRQ_MAX_WR) {
		/* The new ring is mapped like the old one: a user caller. */
		if (!udata)
			return -EOPNOTSUPP;
		if (udata->inlen < sizeof(cmd))
			return -EINVAL;
		err = ib_copy_from_udata(&cmd, udata, sizeof(cmd));
		if (err)
			return err;
	}

	err = vrdma_dev_enter(vdev);
	if (err)
		return err;

	if (mask & IB_SRQ_MAX_WR) {
		if (attr->max_wr < 1 || attr->max_wr > vrdma_srq_max_wr(vdev)) {
			err = -EINVAL;
			goto out;
		}
		max_wr = attr->max_wr;
	} else {
		max_wr = vrdma_srq_capacity(srq);
	}

	if (mask & IB_SRQ_LIMIT) {
		if (attr->srq_limit > max_wr) {
			err = -EINVAL;
			goto out;
		}
		if (!srq->psrq) {
			err = -EIO;
			goto out;
		}
		pattr.srq_limit = attr->srq_limit;
		err = ib_modify_srq(srq->psrq, &pattr, IB_SRQ_LIMIT);
		if (err)
			goto out;
	}

	if (mask & IB_SRQ_MAX_WR)
		err = vrdma_srq_resize(srq, max_wr, udata, cmd.mmap_info_addr);
	if (!err) {
		unsigned long flags;

		spin_lock_irqsave(&srq->rq.lock, flags);
		srq->rq.err_reported = false;
		spin_unlock_irqrestore(&srq->rq.lock, flags);
	}
out:
	vrdma_dev_leave(vdev);
	return err;
}

/**
 * vrdma_query_srq() - ib_device_ops.query_srq
 * @ibsrq: the virtual SRQ
 * @attr: where the attributes are returned
 *
 * Context: process context.
 * Return: 0, -EIO if the physical device is gone, or the physical
 * device's error.
 */
int vrdma_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct vrdma_srq *srq = to_vsrq(ibsrq);
	struct vrdma_dev *vdev = srq->vdev;
	struct ib_srq_attr pattr = {};
	int err;

	err = vrdma_dev_enter(vdev);
	if (err)
		return err;
	err = srq->psrq ? ib_query_srq(srq->psrq, &pattr) : -EIO;
	vrdma_dev_leave(vdev);
	if (err)
		return err;

	attr->max_wr = vrdma_srq_capacity(srq);
	attr->max_sge = srq->rq.max_sge;
	attr->srq_limit = pattr.srq_limit;
	return 0;
}

/**
 * vrdma_srq_kill() - destroy an SRQ's physical SRQ (device kill)
 * @srq: the SRQ; no physical QP uses its physical SRQ any more
 *
 * Context: vrdma_dev_kill(), the gate held for write.
 */
void vrdma_srq_kill(struct vrdma_srq *srq)
{
	vrdma_rq_deactivate(srq->vdev, &srq->rq);
	vrdma_psrq_destroy(srq);
}

/**
 * vrdma_destroy_srq() - ib_device_ops.destroy_srq
 * @ibsrq: the virtual SRQ; ib_core guarantees no QP uses it any more
 * @udata: driver data, or NULL
 *
 * Receives still posted are dropped (an SRQ's receives are not flushed).
 *
 * Context: process context.
 * Return: 0.
 */
int vrdma_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	struct vrdma_srq *srq = to_vsrq(ibsrq);
	struct vrdma_dev *vdev = srq->vdev;

	vrdma_dev_enter_destroy(vdev);
	vrdma_obj_del(vdev, &srq->obj);
	vrdma_srq_kill(srq);		/* nothing left to do after a kill */
	vrdma_dev_leave(vdev);

	/*
	 * Completions of receives the SRQ gave to QPs now destroyed may still
	 * be in a physical CQ: wait for the pollers that found the SRQ.
	 */
	xa_erase(&vdev->srqs, srq->rq.id);
	synchronize_rcu();

	vrdma_rq_cleanup(&srq->rq);
	vrdma_audit_destroyed(VRDMA_AUDIT_SRQ);
	return 0;
}
