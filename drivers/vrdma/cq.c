// SPDX-License-Identifier: GPL-2.0
/*
 * Completion queues.
 *
 * A virtual CQ is a ring of struct ib_uverbs_wc in the rxe user ABI (the
 * kernel produces, the application polls it in shared memory) and a
 * physical CQ that receives the completions of the physical QPs attached
 * to the virtual CQ.  post.c polls the physical CQ in softirq context
 * (cq->iop, scheduled by its completion handler), turns each physical
 * completion into a user format completion and appends it with
 * vrdma_cq_push().
 *
 * Sizing the physical CQ: it must never overflow (an overflow is a fatal
 * error of the physical CQ and of every physical QP attached to it).  It
 * holds the completions of the work requests outstanding on the physical
 * queues, which post.c bounds by their depths, not by the virtual CQ's
 * size.  So the physical CQ starts at twice the virtual size plus some
 * slack (VRDMA_PCQ_MIN at least, the physical maximum at most), and
 * vrdma_cq_reserve() lets the owner of a physical queue grow it to the
 * sum of the depths attached.
 *
 * The device serves userspace only (it is not a kernel-verbs provider):
 * there is no ops.poll_cq, and a kernel CQ would need one that sets
 * wc->qp, which the user format completion does not carry.
 */
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/spinlock.h>

#include "audit.h"
#include "counters.h"
#include "res.h"
#include "verbs.h"

/* Physical CQ entries beyond what the virtual size calls for. */
#define VRDMA_PCQ_SLACK		64
/* Smallest physical CQ. */
#define VRDMA_PCQ_MIN		256

static_assert(sizeof(struct ib_uverbs_wc) <= VRDMA_CQE_SIZE);
static_assert(VRDMA_CQE_SIZE >= VRDMA_MIN_ELEM_SIZE);

/* The device's max_cqe (the physical one's, within VRDMA_MAX_CQE). */
static u32 vrdma_cq_max_cqe(struct vrdma_dev *vdev)
{
	return max(vdev->ibdev.attrs.max_cqe, 0);
}

/* Size the physical CQ should have for @cqe entries and @reserved WRs. */
static u32 vrdma_pcq_size(struct vrdma_dev *vdev, u32 cqe, u32 reserved)
{
	u64 want = 2ULL * cqe + VRDMA_PCQ_SLACK;
	int pmax = vdev->pdev->attrs.max_cqe;

	want = max3(want, (u64)reserved + VRDMA_PCQ_SLACK, (u64)VRDMA_PCQ_MIN);
	return min_t(u64, want, max(pmax, 1));
}

/* Grow the physical CQ to @want entries if it is smaller; resize_lock. */
static int vrdma_pcq_grow(struct vrdma_cq *cq, u32 want)
{
	lockdep_assert_held(&cq->resize_lock);

	if (!cq->pcq)
		return -EIO;
	if (want <= cq->pcq->cqe)
		return 0;
	return ib_resize_cq(cq->pcq, want);
}

/* Stop polling the physical CQ and destroy it. */
static void vrdma_pcq_destroy(struct vrdma_cq *cq)
{
	struct ib_cq *pcq = cq->pcq;

	if (!pcq)
		return;
	/* Waits for a poll in progress; none starts afterwards. */
	irq_poll_disable(&cq->iop);
	/* No arming after this: polls arm it, and they are over. */
	spin_lock_bh(&cq->arm_lock);
	cq->pcq = NULL;
	spin_unlock_bh(&cq->arm_lock);
	hrtimer_cancel(&cq->timer);
	ib_destroy_cq(pcq);
}

/*
 * Solicited-only arming.  struct ib_wc does not say whether a receive was
 * solicited: the only way a physical device tells is by calling the
 * completion handler of a CQ armed with IB_CQ_SOLICITED.  So the physical
 * CQ of a virtual CQ with a completion channel is armed for solicited
 * completions (IB_CQ_SOLICITED) whenever the virtual CQ is not armed for
 * any completion, and for any completion (IB_CQ_NEXT_COMP) while it is.
 * A receive polled while a solicited-only arming is in force, has been
 * since before the receive arrived (not re-armed reporting missed events:
 * @cq->rx_unknown) and has not fired was not solicited; the handler
 * running for it means a solicited completion arrived (or an error), and
 * the virtual CQ is signalled once the physical one is drained.
 *
 * A device cannot narrow or withdraw an arming (rxe keeps one for any
 * completion until a completion fires it, through any later
 * solicited-only arming), and one for any completion left behind fires
 * for the next unsolicited receive while the application waits for a
 * solicited one.  So it is armed only at the end of a poll that drained
 * the physical CQ, never while the poll may have missed a completion (a
 * handler ran, or the application armed the virtual CQ, since the poll
 * began: @cq->kicked; the poll runs again instead), and no arming still
 * in force (@cq->parm) is repeated: a repeated arming reports as missed
 * the completions that arrived while the first one was in force, which
 * would make receives known not to be solicited unknown again.
 *
 * While no arming for any completion is in force, the completions the
 * handler does not announce are polled by @cq->timer, every
 * VRDMA_CQ_POLL_MIN_US while it finds some, slowing down to
 * VRDMA_CQ_POLL_MAX_US when it finds none.  A receive whose solicitation
 * is unknown counts as solicited: an extra event, never a lost one.  That
 * is a receive that arrived between a handler's run and the re-arming
 * after it, or one polled after an arming for any completion that
 * outlived its virtual arming: the arming raced with a completion (which
 * it reported missed), or a completion vrdma made itself (a flush, an
 * invalid work request) used the virtual arming up.
 *
 * A CQ without a completion channel has no use for its arming: its
 * physical CQ is always armed for any completion.
 */
#define VRDMA_CQ_POLL_MIN_US	200
#define VRDMA_CQ_POLL_MAX_US	4000

static enum hrtimer_restart vrdma_cq_timer_fn(struct hrtimer *timer)
{
	struct vrdma_cq *cq = container_of(timer, struct vrdma_cq, timer);

	irq_poll_sched(&cq->iop);
	return HRTIMER_NORESTART;
}

/**
 * vrdma_pcq_arm() - arm the physical CQ as the virtual CQ's arming needs
 * @cq: the virtual CQ; its physical CQ was just drained by vrdma_pcq_poll()
 *	(or is new)
 *
 * Context: softirq, or bottom halves disabled; @cq->arm_lock held.
 */
void vrdma_pcq_arm(struct vrdma_cq *cq)
{
	u8 notify = READ_ONCE(cq->notify);
	int want, in, need;

	lockdep_assert_held(&cq->arm_lock);
	want = !cq->events || notify == IB_CQ_NEXT_COMP ? VRDMA_PARM_NEXT :
							   VRDMA_PARM_SOL;
	/*
	 * The handler sets @kicked before it consumes @parm: an arming seen
	 * consumed here is seen kicked too, and left to the poll it queued.
	 */
	in = atomic_read(&cq->parm);
	smp_rmb();	/* @parm before @kicked, see vrdma_pcq_comp_handler() */
	if (atomic_read(&cq->kicked))
		return;
	/* One for any completion in force fires for solicited ones too. */
	need = in & VRDMA_PARM_NEXT ? 0 : want & ~in;
	if (need) {
		/*
		 * Published before the arming, whose handler may run at once
		 * on another CPU and consume it (atomic_xchg() there).
		 */
		atomic_or(need, &cq->parm);
		smp_mb__after_atomic();	/* parm before the device's arming */
		if (ib_req_notify_cq(cq->pcq, (need == VRDMA_PARM_NEXT ?
					       IB_CQ_NEXT_COMP : IB_CQ_SOLICITED) |
				     IB_CQ_REPORT_MISSED_EVENTS) > 0) {
			/*
			 * Completions that arrived since the poll drained the
			 * physical CQ: whether they were solicited is unknown.
			 */
			cq->rx_unknown = true;
			irq_poll_sched(&cq->iop);
		}
	}
	cq->timer_us = clamp(cq->timer_us, VRDMA_CQ_POLL_MIN_US,
			     VRDMA_CQ_POLL_MAX_US);
	if (want != VRDMA_PARM_NEXT)
		hrtimer_start(&cq->timer, ns_to_ktime((u64)cq->timer_us * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_SOFT);
}

/**
 * vrdma_cq_solicited_event() - signal a CQ armed for solicited completions
 * @cq: the virtual CQ
 *
 * Its physical CQ reported a solicited completion (or an error), now in
 * the ring.
 *
 * Context: softirq.
 */
void vrdma_cq_solicited_event(struct vrdma_cq *cq)
{
	struct ib_cq *ibcq = &cq->ibcq;
	bool notify = false;

	unsigned long flags;

	spin_lock_irqsave(&cq->lock, flags);
	if (cq->notify == IB_CQ_SOLICITED) {
		cq->notify = 0;
		notify = true;
	}
	spin_unlock_irqrestore(&cq->lock, flags);
	if (notify && ibcq->comp_handler)
		ibcq->comp_handler(ibcq, ibcq->cq_context);
}

static bool vrdma_cq_quota_get(struct vrdma_dev *vdev)
{
	u32 max_cq = READ_ONCE(vdev->limits.max_cq);

	if (atomic_inc_return(&vdev->n_cq) > max_cq && max_cq) {
		atomic_dec(&vdev->n_cq);
		vrdma_stat_inc(vdev, VRDMA_STAT_LIMIT_EXCEEDED);
		return false;
	}
	return true;
}

/*
 * A kernel consumer's CQ (ib_mad's, for the emulated QP1): completions are
 * produced by vrdma itself (gsi.c) into an array of struct ib_wc; there is
 * no physical CQ.
 */
static int vrdma_create_kernel_cq(struct ib_cq *ibcq,
				  const struct ib_cq_init_attr *attr)
{
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_cq *cq = to_vcq(ibcq);

	if (attr->cqe < 1 || attr->cqe > vrdma_cq_max_cqe(vdev))
		return -EINVAL;
	cq->vdev = vdev;
	cq->kernel = true;
	spin_lock_init(&cq->lock);
	mutex_init(&cq->resize_lock);
	INIT_LIST_HEAD(&cq->srqs);
	cq->ksize = roundup_pow_of_two(attr->cqe + 1);
	cq->kwc = kvcalloc(cq->ksize, sizeof(*cq->kwc), GFP_KERNEL);
	if (!cq->kwc) {
		mutex_destroy(&cq->resize_lock);
		return -ENOMEM;
	}
	ibcq->cqe = cq->ksize - 1;
	vrdma_audit_created(VRDMA_AUDIT_CQ);
	return 0;
}

/*
 * A completion was added: does it fire the CQ's arming (every completion,
 * or a solicited one: @solicited)?  Then the arming is spent.  cq->lock.
 */
static bool vrdma_cq_arm_fires(struct vrdma_cq *cq, bool solicited)
{
	lockdep_assert_held(&cq->lock);
	if (cq->notify != IB_CQ_NEXT_COMP &&
	    !(cq->notify == IB_CQ_SOLICITED && solicited))
		return false;
	cq->notify = 0;
	return true;
}

/* The arming fired: call the CQ's completion handler. */
static void vrdma_cq_comp_event(struct vrdma_cq *cq)
{
	struct ib_cq *ibcq = &cq->ibcq;

	if (ibcq->comp_handler)
		ibcq->comp_handler(ibcq, ibcq->cq_context);
}

/* A completion was lost: report IB_EVENT_CQ_ERR to the CQ's owner. */
static void vrdma_cq_overflow_event(struct vrdma_cq *cq)
{
	struct ib_cq *ibcq = &cq->ibcq;
	struct ib_event ev = {
		.device = ibcq->device,
		.element.cq = ibcq,
		.event = IB_EVENT_CQ_ERR,
	};

	if (ibcq->event_handler)
		ibcq->event_handler(&ev, ibcq->cq_context);
}

/**
 * vrdma_cq_push_kernel() - append a completion to a kernel CQ
 * @cq: the CQ
 * @wc: the completion
 *
 * Context: any.
 * Return: 0, or -ENOSPC if the CQ is full (IB_EVENT_CQ_ERR is reported).
 */
int vrdma_cq_push_kernel(struct vrdma_cq *cq, const struct ib_wc *wc)
{
	unsigned long flags;
	bool notify = false;

	spin_lock_irqsave(&cq->lock, flags);
	if (cq->ktail - cq->khead >= cq->ksize - 1) {
		spin_unlock_irqrestore(&cq->lock, flags);
		vrdma_cq_overflow_event(cq);
		return -ENOSPC;
	}
	cq->kwc[cq->ktail++ & (cq->ksize - 1)] = *wc;
	notify = vrdma_cq_arm_fires(cq, wc->status != IB_WC_SUCCESS ||
				    wc->opcode & IB_WC_RECV);
	spin_unlock_irqrestore(&cq->lock, flags);

	if (notify)
		vrdma_cq_comp_event(cq);
	return 0;
}

/**
 * vrdma_poll_cq() - ib_device_ops.poll_cq, for kernel CQs
 * @ibcq: the CQ
 * @num_entries: room in @wc
 * @wc: filled with completions
 *
 * Context: any.
 * Return: the number of completions, or -EINVAL for a user CQ (whose
 * completions are polled by userspace from its ring).
 */
int vrdma_poll_cq(struct ib_cq *ibcq, int num_entries, struct ib_wc *wc)
{
	struct vrdma_cq *cq = to_vcq(ibcq);
	unsigned long flags;
	int n = 0;

	if (!cq->kernel)
		return -EINVAL;
	spin_lock_irqsave(&cq->lock, flags);
	while (n < num_entries && cq->khead != cq->ktail)
		wc[n++] = cq->kwc[cq->khead++ & (cq->ksize - 1)];
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

/**
 * vrdma_create_cq() - ib_device_ops.create_cq
 * @ibcq: the virtual CQ, allocated by ib_core
 * @attr: the requested size (1 .. the device's max_cqe), no flags
 * @arg: the driver data (struct rxe_create_cq_resp is returned in it)
 *
 * Context: process context.
 * Return: 0, -EINVAL for bad attributes or a short response buffer,
 * -EOPNOTSUPP for flags or a kernel CQ, -ENOSPC when the device's CQ
 * limit is reached, -ENOMEM, -EIO if the physical device is gone,
 * -EFAULT, or the physical device's error.
 */
int vrdma_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		    struct vrdma_create_cq_arg *arg)
{
	struct ib_udata *udata = vrdma_create_cq_udata(arg);
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_cq *cq = to_vcq(ibcq);
	struct rxe_create_cq_resp resp = {};
	struct ib_cq_init_attr pattr = {};
	struct ib_cq *pcq;
	int err;

	if (attr->flags)
		return -EOPNOTSUPP;
	if (!udata)
		return vrdma_create_kernel_cq(ibcq, attr);
	if (udata->outlen < sizeof(resp))
		return -EINVAL;

	if (!vrdma_cq_quota_get(vdev))
		return -ENOSPC;

	cq->vdev = vdev;
	spin_lock_init(&cq->lock);
	mutex_init(&cq->resize_lock);
	INIT_LIST_HEAD(&cq->srqs);
	irq_poll_init(&cq->iop, VRDMA_POLL_BUDGET, vrdma_pcq_poll);
	spin_lock_init(&cq->arm_lock);
	hrtimer_init(&cq->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	cq->timer.function = vrdma_cq_timer_fn;
	cq->timer_us = VRDMA_CQ_POLL_MIN_US;
	/* ib_uverbs sets the context, its event queue, before create_cq. */
	cq->events = !!ibcq->cq_context;

	err = vrdma_dev_enter(vdev);
	if (err)
		goto err_quota;

	if (attr->cqe < 1 || attr->cqe > vrdma_cq_max_cqe(vdev)) {
		err = -EINVAL;
		goto err_leave;
	}

	err = vrdma_queue_init(vdev, &cq->q, attr->cqe, VRDMA_CQE_SIZE, udata,
			       &resp.mi);
	if (err)
		goto err_leave;

	pattr.cqe = vrdma_pcq_size(vdev, attr->cqe, 0);
	pattr.comp_vector = 0;
	pcq = __ib_create_cq(vdev->pdev, vrdma_pcq_comp_handler,
			     vrdma_pcq_event, cq, &pattr, vrdma_dev_owner(vdev));
	if (IS_ERR(pcq)) {
		err = PTR_ERR(pcq);
		goto err_queue;
	}
	cq->pcq = pcq;
	spin_lock_bh(&cq->arm_lock);
	vrdma_pcq_arm(cq);
	spin_unlock_bh(&cq->arm_lock);

	err = ib_copy_to_udata(udata, &resp, sizeof(resp));
	if (err)
		goto err_pcq;

	ibcq->cqe = cq->q.index_mask;
	vrdma_obj_add(vdev, &cq->obj, VRDMA_OBJ_CQ);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_CQ);
	return 0;

err_pcq:
	vrdma_pcq_destroy(cq);
err_queue:
	vrdma_queue_cleanup(&cq->q);
err_leave:
	vrdma_dev_leave(vdev);
err_quota:
	mutex_destroy(&cq->resize_lock);
	atomic_dec(&vdev->n_cq);
	return err;
}

/**
 * vrdma_cq_kill() - destroy a CQ's physical CQ (device kill)
 * @cq: the CQ; no physical QP uses its physical CQ any more
 *
 * Context: vrdma_dev_kill(), the gate held for write.
 */
void vrdma_cq_kill(struct vrdma_cq *cq)
{
	mutex_lock(&cq->resize_lock);
	vrdma_pcq_destroy(cq);
	mutex_unlock(&cq->resize_lock);
}

/**
 * vrdma_destroy_cq() - ib_device_ops.destroy_cq
 * @ibcq: the virtual CQ; ib_core guarantees no QP uses it any more
 * @udata: driver data, or NULL
 *
 * Context: process context.
 * Return: 0.
 */
int vrdma_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct vrdma_cq *cq = to_vcq(ibcq);
	struct vrdma_dev *vdev = cq->vdev;

	if (cq->kernel) {
		kvfree(cq->kwc);
		mutex_destroy(&cq->resize_lock);
		vrdma_audit_destroyed(VRDMA_AUDIT_CQ);
		return 0;
	}
	vrdma_dev_enter_destroy(vdev);
	vrdma_obj_del(vdev, &cq->obj);
	vrdma_pcq_destroy(cq);		/* nothing left to do after a kill */
	vrdma_dev_leave(vdev);

	WARN_ON_ONCE(!list_empty(&cq->srqs));
	vrdma_queue_cleanup(&cq->q);
	mutex_destroy(&cq->resize_lock);
	atomic_dec(&vdev->n_cq);
	vrdma_audit_destroyed(VRDMA_AUDIT_CQ);
	return 0;
}

/*
 * Move the completions of @cq's ring to @nq and make @nq the ring; @nq
 * then holds the old ring.  -EINVAL if @nq cannot hold them.
 */
static int vrdma_cq_swap_ring(struct vrdma_cq *cq, struct vrdma_queue *nq)
{
	unsigned long flags;
	u32 cons, count, i;

	spin_lock_irqsave(&cq->lock, flags);
	cons = vrdma_queue_user_cons(&cq->q);
	count = (cq->prod - cons) & cq->q.index_mask;
	if (count > nq->index_mask) {
		spin_unlock_irqrestore(&cq->lock, flags);
		return -EINVAL;
	}
	for (i = 0; i < count; i++)
		memcpy(vrdma_queue_slot(nq, i), vrdma_queue_slot(&cq->q, cons + i),
		       sizeof(struct ib_uverbs_wc));
	/* A fresh ring: both indices are ours to set before it is used. */
	nq->buf->consumer_index = 0;
	vrdma_queue_publish_prod(nq, count);
	swap(cq->q, *nq);
	cq->prod = count;
	spin_unlock_irqrestore(&cq->lock, flags);
	return 0;
}

/**
 * vrdma_resize_cq() - ib_device_ops.resize_cq
 * @ibcq: the virtual CQ
 * @cqe: the new size (1 .. the device's max_cqe)
 * @udata: driver data (struct rxe_resize_cq_resp is returned in it); NULL
 *	for a kernel caller, which cannot resize
 *
 * Allocates a new ring, grows the physical CQ if needed and moves the
 * unpolled completions, in order, to the new ring.  librxe then unmaps
 * the old ring and maps the new one; the old one is freed when unmapped.
 *
 * Context: process context.
 * Return: 0, -EINVAL for a bad size, a short response buffer or a size
 * smaller than the completions present, -EOPNOTSUPP without udata,
 * -ENOMEM, -EIO if the physical device is gone, -EFAULT, or the physical
 * device's error.
 */
int vrdma_resize_cq(struct ib_cq *ibcq, int cqe, struct ib_udata *udata)
{
	struct vrdma_cq *cq = to_vcq(ibcq);
	struct vrdma_dev *vdev = cq->vdev;
	struct rxe_resize_cq_resp resp = {};
	struct vrdma_queue nq;
	int err;

	/* The new ring is mapped like the old one: a user caller. */
	err = vrdma_dev_enter_user(vdev, udata, sizeof(resp));
	if (err)
		return err;
	if (cqe < 1 || cqe > vrdma_cq_max_cqe(vdev)) {
		err = -EINVAL;
		goto out_leave;
	}

	mutex_lock(&cq->resize_lock);

	err = vrdma_pcq_grow(cq, vrdma_pcq_size(vdev, cqe, cq->pcq_reserved));
	if (err)
		goto out_unlock;

	err = vrdma_queue_init(vdev, &nq, cqe, VRDMA_CQE_SIZE, udata,
			       &resp.mi);
	if (err)
		goto out_unlock;

	/* Before the swap: the old ring stays in use if this fails. */
	err = ib_copy_to_udata(udata, &resp, sizeof(resp));
	if (err)
		goto out_cleanup;

	/*
	 * What the physical CQ holds counts: refused below if it does not
	 * fit, and it would overflow the new ring later.
	 */
	vrdma_pcq_drain(cq);
	err = vrdma_cq_swap_ring(cq, &nq);
	if (err)
		goto out_cleanup;
	ibcq->cqe = cq->q.index_mask;

out_cleanup:
	/* The old ring on success, the unused new one on failure. */
	vrdma_queue_cleanup(&nq);
out_unlock:
	mutex_unlock(&cq->resize_lock);
out_leave:
	vrdma_dev_leave(vdev);
	return err;
}

/**
 * vrdma_req_notify_cq() - ib_device_ops.req_notify_cq
 * @ibcq: the virtual CQ
 * @flags: IB_CQ_NEXT_COMP or IB_CQ_SOLICITED, maybe with
 *	IB_CQ_REPORT_MISSED_EVENTS
 *
 * Arms the CQ: the next completion (or the next solicited or unsuccessful
 * one) calls the completion handler.  An arming for any completion is not
 * narrowed by a later solicited-only one.  The physical CQ's arming
 * follows at the end of a poll of it (vrdma_pcq_arm()), which this
 * queues.  An application that arms a CQ has probably just posted
 * receives: the receive rings are scanned.
 *
 * Context: any.
 * Return: 1 if IB_CQ_REPORT_MISSED_EVENTS is set and the ring is not
 * empty, 0 otherwise.
 */
int vrdma_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	struct vrdma_cq *cq = to_vcq(ibcq);
	unsigned long irqflags;
	int ret = 0;

	spin_lock_irqsave(&cq->lock, irqflags);
	if (cq->notify != IB_CQ_NEXT_COMP)
		cq->notify = flags & IB_CQ_SOLICITED_MASK;
	if ((flags & IB_CQ_REPORT_MISSED_EVENTS) &&
	    (cq->kernel ? cq->khead != cq->ktail :
			  cq->prod != vrdma_queue_user_cons(&cq->q)))
		ret = 1;
	spin_unlock_irqrestore(&cq->lock, irqflags);
	if (cq->kernel)
		return ret;

	/* Drain the physical CQ, then arm it (see vrdma_pcq_arm()). */
	if (cq->events)
		vrdma_pcq_kick(cq);

	/* Not under cq->lock, which nests inside rq->lock. */
	vrdma_dev_rq_kick(cq->vdev);
	return ret;
}

/**
 * vrdma_cq_push() - append a completion to a CQ
 * @cq: the virtual CQ
 * @uwc: the completion, in the user ABI format
 * @solicited: the completion is solicited
 *
 * Signals the completion handler if the CQ is armed for this completion.
 * When the ring is full, the completion is dropped and IB_EVENT_CQ_ERR is
 * reported (once).
 *
 * Context: any.
 * Return: 0, or -ENOSPC if the ring is full.
 */
int vrdma_cq_push(struct vrdma_cq *cq, const struct ib_uverbs_wc *uwc,
		  bool solicited)
{
	unsigned long flags;
	bool notify = false;
	bool report;

	spin_lock_irqsave(&cq->lock, flags);

	if (((cq->prod + 1) & cq->q.index_mask) ==
	    vrdma_queue_user_cons(&cq->q)) {
		report = !cq->overflowed;
		cq->overflowed = true;
		spin_unlock_irqrestore(&cq->lock, flags);

		if (report)
			vrdma_cq_overflow_event(cq);
		return -ENOSPC;
	}

	memcpy(vrdma_queue_slot(&cq->q, cq->prod), uwc, sizeof(*uwc));
	cq->prod = (cq->prod + 1) & cq->q.index_mask;
	vrdma_queue_publish_prod(&cq->q, cq->prod);

	notify = vrdma_cq_arm_fires(cq, solicited ||
				    uwc->status != IB_WC_SUCCESS);
	spin_unlock_irqrestore(&cq->lock, flags);

	if (notify)
		vrdma_cq_comp_event(cq);
	return 0;
}

static int vrdma_cq_reserve_locked(struct vrdma_cq *cq, u32 nwr)
{
	struct vrdma_dev *vdev = cq->vdev;
	u32 reserved;
	int err;

	lockdep_assert_held(&cq->resize_lock);

	if (check_add_overflow(cq->pcq_reserved, nwr, &reserved) ||
	    (u64)reserved + VRDMA_PCQ_SLACK > vdev->pdev->attrs.max_cqe)
		return -ENOSPC;
	err = vrdma_pcq_grow(cq, vrdma_pcq_size(vdev, cq->ibcq.cqe, reserved));
	if (!err)
		cq->pcq_reserved = reserved;
	return err;
}

/**
 * vrdma_cq_reserve() - account physical work requests completing on a CQ
 * @cq: the virtual CQ
 * @nwr: work requests that may be outstanding at once on a physical queue
 *	attached to @cq's physical CQ
 *
 * Grows the physical CQ, if needed, so that it holds the completions of
 * all the work requests reserved.  Undo with vrdma_cq_unreserve().
 *
 * Context: process context, between vrdma_dev_enter() and
 * vrdma_dev_leave().
 * Return: 0; -ENOSPC if the physical CQ cannot be that large, -EIO if the
 * physical device is gone, or the error of ib_resize_cq() (the caller may
 * then fail, or go on at the risk of overflowing the physical CQ).  On
 * error nothing is reserved.
 */
int vrdma_cq_reserve(struct vrdma_cq *cq, u32 nwr)
{
	int err;

	mutex_lock(&cq->resize_lock);
	err = vrdma_cq_reserve_locked(cq, nwr);
	mutex_unlock(&cq->resize_lock);
	return err;
}

/**
 * vrdma_cq_unreserve() - undo vrdma_cq_reserve()
 * @cq: the virtual CQ
 * @nwr: the number of work requests reserved
 *
 * The physical CQ keeps its size.
 *
 * Context: process context.
 */
void vrdma_cq_unreserve(struct vrdma_cq *cq, u32 nwr)
{
	mutex_lock(&cq->resize_lock);
	if (!WARN_ON_ONCE(nwr > cq->pcq_reserved))
		cq->pcq_reserved -= nwr;
	mutex_unlock(&cq->resize_lock);
}

/**
 * struct vrdma_cq_srq - an SRQ whose receives may complete on a CQ
 * @node: entry in cq->srqs
 * @srq: the SRQ
 * @users: QPs that receive through @srq and complete on the CQ
 */
struct vrdma_cq_srq {
	struct list_head node;
	struct vrdma_srq *srq;
	u32 users;
};

/**
 * vrdma_cq_reserve_srq() - account an SRQ's receives on a CQ
 * @cq: the virtual CQ, a QP's receive CQ
 * @srq: the QP's SRQ
 *
 * Every receive outstanding on the physical SRQ may complete on @cq: its
 * depth is reserved once for all the QPs that receive through @srq into
 * @cq.  Undo with vrdma_cq_unreserve_srq().
 *
 * Context: process context, between vrdma_dev_enter() and
 * vrdma_dev_leave().
 * Return: 0, -ENOMEM, or an error of vrdma_cq_reserve().
 */
int vrdma_cq_reserve_srq(struct vrdma_cq *cq, struct vrdma_srq *srq)
{
	struct vrdma_cq_srq *e;
	int err = 0;

	mutex_lock(&cq->resize_lock);
	list_for_each_entry(e, &cq->srqs, node) {
		if (e->srq == srq) {
			e->users++;
			goto out;
		}
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	err = vrdma_cq_reserve_locked(cq, srq->rq.depth);
	if (err) {
		kfree(e);
		goto out;
	}
	e->srq = srq;
	e->users = 1;
	list_add(&e->node, &cq->srqs);
out:
	mutex_unlock(&cq->resize_lock);
	return err;
}

/**
 * vrdma_cq_unreserve_srq() - undo vrdma_cq_reserve_srq()
 * @cq: the virtual CQ
 * @srq: the SRQ
 *
 * Context: process context.
 */
void vrdma_cq_unreserve_srq(struct vrdma_cq *cq, struct vrdma_srq *srq)
{
	struct vrdma_cq_srq *e;

	mutex_lock(&cq->resize_lock);
	list_for_each_entry(e, &cq->srqs, node) {
		if (e->srq != srq)
			continue;
		if (!--e->users) {
			if (!WARN_ON_ONCE(srq->rq.depth > cq->pcq_reserved))
				cq->pcq_reserved -= srq->rq.depth;
			list_del(&e->node);
			kfree(e);
		}
		break;
	}
	mutex_unlock(&cq->resize_lock);
}
