// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual RoCE devices: creation, deletion, the ib_device_ops table, the
 * query verbs, events and the receive-queue poller.
 *
 * A virtual device is an ib_device with one RoCE v2 port.  Its GID table is
 * built by ib_core's RoCE GID management from the addresses of the
 * container's netdev, which ops.get_netdev reports (the device never calls
 * ib_device_set_netdev(): rdma_rxe looks devices up by netdev with the rxe
 * driver id and would take ours for its own).  It claims the rxe driver id
 * and user ABI so that librxe binds to it.  It is not a kernel-verbs
 * provider (ops.get_dma_mr is not set), so ib_core's kernel clients (MAD,
 * CM, IPoIB) leave it alone.
 *
 * Devices are born in init_net (ib_core on these kernels creates every
 * device there).  In exclusive netns mode the creator moves it into the
 * container's namespace (vrdmactl does, through RDMA_NLDEV_CMD_SET); when
 * the namespace goes, ib_core moves it back and the netdev unregisters,
 * which deletes the device.
 *
 * Lifetime: a device is on vrdma_devs from registration until
 * ops.dealloc_driver, which ib_core calls once, at the end of whichever
 * unregistration comes first (DEV_DEL, `rdma link del`, the netdev
 * unregistering, module unload).
 *
 * Locking: vrdma_devs_lock (a mutex) protects vrdma_devs and is never held
 * across a call that registers or unregisters an ib_device, nor while
 * taking a device's gate (the module's lock order:
 * Documentation/architecture.rst, "Locking").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <net/addrconf.h>
#include <net/net_namespace.h>
#include <rdma/ib_mad.h>
#include <rdma/ib_verbs.h>
#include <uapi/linux/vrdma.h>

#include "audit.h"
#include "counters.h"
#include "phys.h"
#include "pt.h"
#include "res.h"
#include "vdev.h"
#include "verbs.h"

static DEFINE_MUTEX(vrdma_devs_lock);
static LIST_HEAD(vrdma_devs);

/*
 * Deletions that cannot run where they are decided (under RTNL, or under
 * a physical device's unregistration) run here; module unload flushes it.
 * ib_unregister_device_queued() is not used: its queue cannot be flushed
 * from outside ib_core.
 */
static struct workqueue_struct *vrdma_wq;

static unsigned int rq_poll_min_us = 100;
module_param(rq_poll_min_us, uint, 0644);
MODULE_PARM_DESC(rq_poll_min_us,
		 "Receive-queue poll period while receives are being posted (us)");

static unsigned int rq_poll_max_us = 4000;
module_param(rq_poll_max_us, uint, 0644);
MODULE_PARM_DESC(rq_poll_max_us,
		 "Receive-queue poll period when idle (us)");

/*
 * The limits of a device created without them (DEV_NEW without the
 * attribute, or with 0; rdma link add): a tenant nobody gave limits to
 * gets these, not the physical device's.  0 here: no limit.
 */
static unsigned int default_max_qp = 1024;
module_param(default_max_qp, uint, 0644);
MODULE_PARM_DESC(default_max_qp,
		 "QPs of a device created without max-qp (0: no limit)");

static unsigned int default_max_cq = 2048;
module_param(default_max_cq, uint, 0644);
MODULE_PARM_DESC(default_max_cq,
		 "CQs of a device created without max-cq (0: no limit)");

static unsigned int default_max_mr = 8192;
module_param(default_max_mr, uint, 0644);
MODULE_PARM_DESC(default_max_mr,
		 "MRs of a device created without max-mr (0: no limit)");

static unsigned long long default_max_pinned = SZ_1G;
module_param(default_max_pinned, ullong, 0644);
MODULE_PARM_DESC(default_max_pinned,
		 "Bytes of registered memory of a device created without max-pinned (0: no limit)");

#define VRDMA_RQ_IDLE_SCANS	64
/*
 * One scan of the receive queues runs with interrupts disabled: it visits
 * at most VRDMA_SCAN_RQS queues, in turn from one scan to the next, and
 * takes at most VRDMA_SCAN_WQES WQEs in all.
 */
#define VRDMA_SCAN_RQS		64
#define VRDMA_SCAN_WQES		256

/*
 * xa_init() gives the xarrays of one file one lockdep class.  The AH
 * table's lock is taken in any context (the send path holds it while it
 * posts a UD send, under qp->sq_lock, from softirq too); the MR and SRQ
 * tables' locks in process context only (their lookups use RCU).  The AH
 * table gets a class of its own.
 */
static struct lock_class_key vrdma_ahs_lock_key;

/* ------------------------------------------------------------------ */
/* Entering and leaving the physical device                            */

/**
 * vrdma_dev_enter() - start a verb that uses physical objects
 * @vdev: the device
 *
 * Process context.  Pairs with vrdma_dev_leave().
 *
 * Return: 0, or -EIO once the physical device has gone away.
 */
int vrdma_dev_enter(struct vrdma_dev *vdev)
{
	down_read(&vdev->gate);
	if (unlikely(vdev->dead)) {
		up_read(&vdev->gate);
		return -EIO;
	}
	return 0;
}

/**
 * vrdma_dev_enter_user() - start a verb that only userspace makes
 * @vdev: the device
 * @udata: the caller's udata (NULL for a kernel caller)
 * @resp_len: bytes of the response the verb writes to @udata
 *
 * Return: 0 (then vrdma_dev_leave()), -EOPNOTSUPP for a kernel caller,
 * -EINVAL when the response buffer is too small, or vrdma_dev_enter()'s
 * error.
 */
int vrdma_dev_enter_user(struct vrdma_dev *vdev, struct ib_udata *udata,
			 size_t resp_len)
{
	if (!udata)
		return -EOPNOTSUPP;
	if (udata->outlen < resp_len)
		return -EINVAL;
	return vrdma_dev_enter(vdev);
}

/**
 * vrdma_dev_enter_destroy() - start a destroy verb
 * @vdev: the device
 *
 * Process context.  Pairs with vrdma_dev_leave().  Never fails: once the
 * physical device is gone, the object's physical pointer is NULL and the
 * verb only frees the virtual side.
 */
void vrdma_dev_enter_destroy(struct vrdma_dev *vdev)
{
	down_read(&vdev->gate);
}

/**
 * vrdma_dev_leave() - end a verb started with vrdma_dev_enter() or
 *	vrdma_dev_enter_destroy()
 * @vdev: the device
 */
void vrdma_dev_leave(struct vrdma_dev *vdev)
{
	up_read(&vdev->gate);
}

/**
 * vrdma_obj_add() - put a new object on its device's list
 * @vdev: the device
 * @obj: the object's entry
 * @type: what the object is
 */
void vrdma_obj_add(struct vrdma_dev *vdev, struct vrdma_obj *obj,
		   enum vrdma_obj_type type)
{
	obj->type = type;
	mutex_lock(&vdev->obj_lock);
	list_add_tail(&obj->node, &vdev->objs);
	mutex_unlock(&vdev->obj_lock);
}

/**
 * vrdma_obj_del() - take an object off its device's list
 * @vdev: the device
 * @obj: the object's entry
 */
void vrdma_obj_del(struct vrdma_dev *vdev, struct vrdma_obj *obj)
{
	mutex_lock(&vdev->obj_lock);
	list_del_init(&obj->node);
	mutex_unlock(&vdev->obj_lock);
}

/**
 * vrdma_dev_kill() - stop using the physical device
 * @vdev: the device
 *
 * The physical device is going away (its ib_client remove()): destroy
 * every physical object now, in dependency order, and make every later
 * verb fail with -EIO.  The virtual objects stay until their owners
 * destroy them (the device is unregistered right after, which destroys
 * those of userspace).
 */
void vrdma_dev_kill(struct vrdma_dev *vdev)
{
	struct vrdma_obj *obj;
	int type;

	down_write(&vdev->gate);
	if (vdev->dead)
		goto out;
	vdev->dead = true;
	if (vdev->pt) {
		/* Mappings of the physical queues first, without the gate. */
		up_write(&vdev->gate);
		vrdma_pt_revoke(vdev);
		down_write(&vdev->gate);
		vrdma_pt_kill(vdev);
	}
	mutex_lock(&vdev->obj_lock);
	for (type = 0; type < VRDMA_OBJ_NR; type++) {
		list_for_each_entry(obj, &vdev->objs, node) {
			if (obj->type != type)
				continue;
			switch (type) {
			case VRDMA_OBJ_QP:
				vrdma_qp_kill(container_of(obj, struct vrdma_qp, obj));
				break;
			case VRDMA_OBJ_SRQ:
				vrdma_srq_kill(container_of(obj, struct vrdma_srq, obj));
				break;
			case VRDMA_OBJ_AH:
				vrdma_ah_kill(container_of(obj, struct vrdma_ah, obj));
				break;
			case VRDMA_OBJ_MR:
				vrdma_mr_kill(container_of(obj, struct vrdma_mr, obj));
				break;
			case VRDMA_OBJ_CQ:
				vrdma_cq_kill(container_of(obj, struct vrdma_cq, obj));
				break;
			case VRDMA_OBJ_PD:
				vrdma_pd_kill(container_of(obj, struct vrdma_pd, obj));
				break;
			}
		}
	}
	mutex_unlock(&vdev->obj_lock);
	ib_unregister_event_handler(&vdev->phys_handler);
	pr_info("device %s: physical device %s gone, device is dead\n",
		dev_name(&vdev->ibdev.dev), dev_name(&vdev->pdev->dev));
out:
	up_write(&vdev->gate);
}

/* ------------------------------------------------------------------ */
/* Receive-queue poller                                                */

/*
 * Userspace posts receives by writing the receive ring: there is no
 * system call the kernel could notice.  The rings are scanned when the
 * application makes any call into the device (a send doorbell, arming a
 * CQ; at most once per rq_poll_min_us), after every receive completion,
 * and by this timer, which runs while receive queues are active: every
 * rq_poll_min_us while receives are being posted, slowing down to
 * rq_poll_max_us when the queues stay unchanged.  A scan is bounded
 * (VRDMA_SCAN_RQS, VRDMA_SCAN_WQES): what it leaves is found by the next
 * one, which comes rq_poll_min_us later.
 *
 * Return: whether the scan found new receive work or left some.
 */
static bool vrdma_rq_scan(struct vrdma_dev *vdev)
{
	u32 budget = VRDMA_SCAN_WQES, visited = 0, taken;
	struct vrdma_rq *rq, *next = NULL;
	unsigned long flags;
	bool found = false, more;

	spin_lock_irqsave(&vdev->rq_list_lock, flags);
	list_for_each_entry(rq, &vdev->rq_list, node) {
		if (visited++ == VRDMA_SCAN_RQS || !budget) {
			next = rq;
			found = true;
			break;
		}
		taken = vrdma_rq_take(rq, min_t(u32, budget, VRDMA_RQ_BUDGET),
				      &more);
		budget -= taken;
		found |= taken || more;
	}
	/* The next scan starts where this one stopped. */
	if (next)
		list_rotate_to_front(&next->node, &vdev->rq_list);
	spin_unlock_irqrestore(&vdev->rq_list_lock, flags);
	return found;
}

static enum hrtimer_restart vrdma_rq_timer_fn(struct hrtimer *timer)
{
	struct vrdma_dev *vdev = container_of(timer, struct vrdma_dev,
					      rq_timer);
	u64 min_ns = (u64)max(rq_poll_min_us, 10U) * NSEC_PER_USEC;
	u64 max_ns = (u64)max(rq_poll_max_us, rq_poll_min_us) * NSEC_PER_USEC;
	unsigned long flags;
	bool empty;

	if (vrdma_rq_scan(vdev)) {
		vdev->rq_idle = 0;
		vdev->rq_period_ns = min_ns;
	} else if (++vdev->rq_idle >= VRDMA_RQ_IDLE_SCANS) {
		vdev->rq_idle = 0;
		vdev->rq_period_ns = min(vdev->rq_period_ns * 2, max_ns);
	}

	spin_lock_irqsave(&vdev->rq_list_lock, flags);
	empty = list_empty(&vdev->rq_list);
	spin_unlock_irqrestore(&vdev->rq_list_lock, flags);
	if (empty)
		return HRTIMER_NORESTART;

	hrtimer_forward_now(timer, ns_to_ktime(vdev->rq_period_ns));
	return HRTIMER_RESTART;
}

/**
 * vrdma_dev_rq_kick() - scan the receive queues now and poll them fast
 * @vdev: the device
 *
 * Any context.  Called when the application shows signs of life.  A sign
 * of life scans at most once per rq_poll_min_us: the system calls of a
 * process cannot make the kernel scan without bound.
 */
void vrdma_dev_rq_kick(struct vrdma_dev *vdev)
{
	u64 min_ns = (u64)max(rq_poll_min_us, 10U) * NSEC_PER_USEC;
	u64 now = ktime_get_ns();

	if (now - READ_ONCE(vdev->rq_kicked_ns) >= min_ns) {
		WRITE_ONCE(vdev->rq_kicked_ns, now);
		vrdma_rq_scan(vdev);
	}
	vdev->rq_idle = 0;
	vdev->rq_period_ns = min_ns;
	if (!hrtimer_active(&vdev->rq_timer))
		hrtimer_start(&vdev->rq_timer, ns_to_ktime(vdev->rq_period_ns),
			      HRTIMER_MODE_REL_SOFT);
}

/* ------------------------------------------------------------------ */
/* Query verbs                                                          */

static void vrdma_dev_get_attrs(struct vrdma_dev *vdev,
				struct ib_device_attr *a);

/* Also how ib_core fills ibdev->attrs at registration (udata NULL). */
static int vrdma_query_device(struct ib_device *ibdev,
			      struct ib_device_attr *attr,
			      struct ib_udata *udata)
{
	if (udata && (udata->inlen || udata->outlen))
		return -EINVAL;
	vrdma_dev_get_attrs(to_vdev(ibdev), attr);
	return 0;
}

static bool vrdma_ndev_up(struct vrdma_dev *vdev)
{
	unsigned long flags;
	bool up;

	spin_lock_irqsave(&vdev->ndev_lock, flags);
	up = vdev->ndev && netif_running(vdev->ndev) &&
	     netif_carrier_ok(vdev->ndev);
	spin_unlock_irqrestore(&vdev->ndev_lock, flags);
	return up;
}

static int vrdma_query_port(struct ib_device *ibdev, u32 port,
			    struct ib_port_attr *attr)
{
	struct vrdma_dev *vdev = to_vdev(ibdev);
	struct ib_port_attr pattr;
	int ret;

	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = ib_query_port(vdev->pdev, vdev->pport, &pattr);
	vrdma_dev_leave(vdev);
	if (ret)
		return ret;

	/* ib_core zeroed *attr. */
	attr->gid_tbl_len = VRDMA_GID_TBL_LEN;
	attr->max_mtu = pattr.max_mtu;
	attr->active_mtu = pattr.active_mtu;
	attr->max_msg_sz = pattr.max_msg_sz;
	attr->bad_pkey_cntr = 0;
	attr->qkey_viol_cntr = 0;
	attr->pkey_tbl_len = 1;
	attr->max_vl_num = 1;
	attr->active_width = pattr.active_width;
	attr->active_speed = pattr.active_speed;
	attr->ip_gids = true;
	if (pattr.state == IB_PORT_ACTIVE && vrdma_ndev_up(vdev)) {
		attr->state = IB_PORT_ACTIVE;
		attr->phys_state = IB_PORT_PHYS_STATE_LINK_UP;
	} else {
		attr->state = IB_PORT_DOWN;
		attr->phys_state = IB_PORT_PHYS_STATE_DISABLED;
	}
	return 0;
}

static int vrdma_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			    u16 *pkey)
{
	if (index > 0)
		return -EINVAL;
	*pkey = IB_DEFAULT_PKEY_FULL;
	return 0;
}

static int vrdma_get_port_immutable(struct ib_device *ibdev, u32 port,
				    struct ib_port_immutable *immutable)
{
	immutable->core_cap_flags = RDMA_CORE_PORT_IBA_ROCE_UDP_ENCAP;
	immutable->pkey_tbl_len = 1;
	immutable->gid_tbl_len = VRDMA_GID_TBL_LEN;
	immutable->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

static enum rdma_link_layer vrdma_get_link_layer(struct ib_device *ibdev,
						 u32 port)
{
	return IB_LINK_LAYER_ETHERNET;
}

/**
 * vrdma_dev_netdev() - the container's netdev, whose addresses are the GIDs
 * @vdev: the device
 *
 * Context: any; takes a spinlock.
 * Return: the netdev with a reference (dev_put() it), or NULL once it is
 * gone.
 */
struct net_device *vrdma_dev_netdev(struct vrdma_dev *vdev)
{
	struct net_device *ndev;
	unsigned long flags;

	spin_lock_irqsave(&vdev->ndev_lock, flags);
	ndev = vdev->ndev;
	if (ndev)
		dev_hold(ndev);
	spin_unlock_irqrestore(&vdev->ndev_lock, flags);
	return ndev;
}

/* ib_core calls it under RCU or RTNL and releases the reference. */
static struct net_device *vrdma_get_netdev(struct ib_device *ibdev, u32 port)
{
	return vrdma_dev_netdev(to_vdev(ibdev));
}

static int vrdma_alloc_ucontext(struct ib_ucontext *uctx,
				struct ib_udata *udata)
{
	return 0;
}

static void vrdma_dealloc_ucontext(struct ib_ucontext *uctx)
{
}

/* Required to move the device between namespaces; nothing to undo. */
static void vrdma_disassociate_ucontext(struct ib_ucontext *uctx)
{
}

/* ------------------------------------------------------------------ */
/* Events                                                               */

static void vrdma_dispatch_port_event(struct vrdma_dev *vdev,
				      enum ib_event_type type)
{
	struct ib_event ev = {
		.device = &vdev->ibdev,
		.event = type,
		.element.port_num = 1,
	};

	ib_dispatch_event(&ev);
}

/* Events of the physical device, forwarded to its virtual devices. */
static void vrdma_phys_event(struct ib_event_handler *handler,
			     struct ib_event *pev)
{
	struct vrdma_dev *vdev = container_of(handler, struct vrdma_dev,
					      phys_handler);

	switch (pev->event) {
	case IB_EVENT_PORT_ACTIVE:
	case IB_EVENT_PORT_ERR:
		if (pev->element.port_num != vdev->pport)
			return;
		if (pev->event == IB_EVENT_PORT_ACTIVE && !vrdma_ndev_up(vdev))
			return;
		vrdma_dispatch_port_event(vdev, pev->event);
		break;
	case IB_EVENT_DEVICE_FATAL:
		vrdma_dispatch_port_event(vdev, IB_EVENT_DEVICE_FATAL);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Creation and deletion                                                */

static void vrdma_dev_unreg_work(struct work_struct *work);

static void vrdma_dev_release_ndev(struct vrdma_dev *vdev)
{
	struct net_device *ndev;
	unsigned long flags;

	spin_lock_irqsave(&vdev->ndev_lock, flags);
	ndev = vdev->ndev;
	vdev->ndev = NULL;
	spin_unlock_irqrestore(&vdev->ndev_lock, flags);
	if (ndev)
		netdev_put(ndev, &vdev->ndev_tracker);
}

/* ops.dealloc_driver: the end of the device, after every unregistration. */
static void vrdma_dealloc_driver(struct ib_device *ibdev)
{
	struct vrdma_dev *vdev = to_vdev(ibdev);

	mutex_lock(&vrdma_devs_lock);
	list_del(&vdev->node);
	mutex_unlock(&vrdma_devs_lock);

	/* A removal of the physical device may be killing it right now. */
	down_write(&vdev->gate);
	if (!vdev->dead) {
		vdev->dead = true;
		ib_unregister_event_handler(&vdev->phys_handler);
	}
	up_write(&vdev->gate);
	hrtimer_cancel(&vdev->rq_timer);
	WARN_ON(!list_empty(&vdev->rq_list));
	WARN_ON(!xa_empty(&vdev->mrs));
	WARN_ON(!xa_empty(&vdev->ahs));
	WARN_ON(!xa_empty(&vdev->srqs));
	WARN_ON(!list_empty(&vdev->objs));
	xa_destroy(&vdev->mrs);
	xa_destroy(&vdev->ahs);
	xa_destroy(&vdev->srqs);
	vrdma_dev_release_ndev(vdev);
	vrdma_pt_dev_free(vdev);
	vrdma_phys_detach(vdev->phys);
	vrdma_phys_put(vdev->phys);
	vrdma_counters_cleanup(vdev);
	vrdma_audit_destroyed(VRDMA_AUDIT_DEV);
	pr_info("device %s deleted\n", dev_name(&ibdev->dev));
}

static const struct ib_device_ops vrdma_dev_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_RXE,
	.uverbs_abi_ver = VRDMA_UVERBS_ABI_VERSION,

	.alloc_pd = vrdma_alloc_pd,
	.alloc_ucontext = vrdma_alloc_ucontext,
	.create_ah = vrdma_create_ah,
	.create_cq = vrdma_create_cq,
	.create_qp = vrdma_create_qp,
	.create_srq = vrdma_create_srq,
	.create_user_ah = vrdma_create_ah,
	.dealloc_driver = vrdma_dealloc_driver,
	.dealloc_pd = vrdma_dealloc_pd,
	.dealloc_ucontext = vrdma_dealloc_ucontext,
	.dereg_mr = vrdma_dereg_mr,
	.destroy_ah = vrdma_destroy_ah,
	.destroy_cq = vrdma_destroy_cq,
	.destroy_qp = vrdma_destroy_qp,
	.destroy_srq = vrdma_destroy_srq,
	.disassociate_ucontext = vrdma_disassociate_ucontext,
	.get_dma_mr = vrdma_get_dma_mr,
	.get_link_layer = vrdma_get_link_layer,
	.get_netdev = vrdma_get_netdev,
	.get_port_immutable = vrdma_get_port_immutable,
	.mmap = vrdma_mmap,
	.mmap_free = vrdma_mmap_free,
	.modify_qp = vrdma_modify_qp,
	.modify_srq = vrdma_modify_srq,
	.poll_cq = vrdma_poll_cq,
	.post_recv = vrdma_post_recv,
	.post_send = vrdma_post_send,
	.post_srq_recv = vrdma_post_srq_recv,
	.query_ah = vrdma_query_ah,
	.query_device = vrdma_query_device,
	.query_pkey = vrdma_query_pkey,
	.query_port = vrdma_query_port,
	.query_qp = vrdma_query_qp,
	.query_srq = vrdma_query_srq,
	.reg_user_mr = vrdma_reg_user_mr,
	.req_notify_cq = vrdma_req_notify_cq,
	.resize_cq = vrdma_resize_cq,

	INIT_RDMA_OBJ_SIZE(ib_ah, vrdma_ah, ibah),
	INIT_RDMA_OBJ_SIZE(ib_cq, vrdma_cq, ibcq),
	INIT_RDMA_OBJ_SIZE(ib_pd, vrdma_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, vrdma_qp, ibqp),
	INIT_RDMA_OBJ_SIZE(ib_srq, vrdma_srq, ibsrq),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, vrdma_ucontext, ibuc),
};

static int vrdma_min(int phys, int ours)
{
	return phys > 0 ? min(phys, ours) : ours;
}

/* The device's attributes: the physical device's, within our limits. */
static void vrdma_dev_get_attrs(struct vrdma_dev *vdev,
				struct ib_device_attr *a)
{
	const struct ib_device_attr *p = &vdev->pdev->attrs;
	const struct vrdma_limits *l = &vdev->limits;

	memset(a, 0, sizeof(*a));
	a->sys_image_guid = vdev->ibdev.node_guid;
	a->max_mr_size = p->max_mr_size;
	a->page_size_cap = p->page_size_cap;
	a->max_qp = l->max_qp ? vrdma_min(p->max_qp, l->max_qp) : p->max_qp;
	a->max_qp_wr = vrdma_min(p->max_qp_wr, VRDMA_MAX_QP_WR);
	a->vendor_id = VRDMA_VENDOR_ID;
	/* What the device does: a system image GUID, port events. */
	a->device_cap_flags = IB_DEVICE_RC_RNR_NAK_GEN |
			      IB_DEVICE_SYS_IMAGE_GUID |
			      IB_DEVICE_PORT_ACTIVE_EVENT |
			      (p->device_cap_flags & IB_DEVICE_SRQ_RESIZE);
	/*
	 * Kernel consumers (ib_mad) use virtual addresses with lkey 0.  No
	 * IBK_ALLOW_USER_UNREG: "rdma link del" would let any holder of
	 * CAP_NET_ADMIN (a container too) delete any tenant's device.
	 */
	a->kernel_cap_flags = IBK_LOCAL_DMA_LKEY;
	a->max_send_sge = vrdma_min(p->max_send_sge, VRDMA_MAX_SGE);
	/* A UD receive takes one more on the physical QP (its GRH). */
	a->max_recv_sge = vrdma_min(max(p->max_recv_sge - 1, 1),
				    VRDMA_MAX_SGE);
	a->max_sge_rd = vrdma_min(p->max_sge_rd, VRDMA_MAX_SGE);
	a->max_cq = l->max_cq ? vrdma_min(p->max_cq, l->max_cq) : p->max_cq;
	a->max_cqe = vrdma_min(p->max_cqe, VRDMA_MAX_CQE);
	a->max_mr = l->max_mr ? vrdma_min(p->max_mr, l->max_mr) : p->max_mr;
	a->max_pd = p->max_pd;
	a->max_qp_rd_atom = p->max_qp_rd_atom;
	a->max_res_rd_atom = p->max_res_rd_atom;
	a->max_qp_init_rd_atom = p->max_qp_init_rd_atom;
	a->atomic_cap = p->atomic_cap;
	a->max_ah = p->max_ah;
	a->max_srq = p->max_srq;
	a->max_srq_wr = vrdma_min(p->max_srq_wr, VRDMA_MAX_QP_WR);
	a->max_srq_sge = vrdma_min(p->max_srq_sge, VRDMA_MAX_SGE);
	a->max_pkeys = 1;
	a->local_ca_ack_delay = p->local_ca_ack_delay;
}

/*
 * In exclusive netns mode a device belongs to one namespace, and ib_core
 * creates every device in init_net (these kernels have no
 * ib_alloc_device_with_net()).  A device that "rdma link add" creates from
 * inside a container must be in the container's namespace, where its
 * netdev is and its creator can see it: set its namespace before it is
 * registered, which is what ib_core's rdma_dev_change_netns() leaves
 * behind after a move (the namespace's exit moves it back to init_net).
 * In shared mode (rdma_dev_access_netns() is true for any namespace) it
 * stays in init_net.
 */
static void vrdma_dev_set_birth_net(struct ib_device *ibdev, struct net *net)
{
	if (!net || net_eq(net, &init_net) || rdma_dev_access_netns(ibdev, net))
		return;
	write_pnet(&ibdev->coredev.rdma_net, net);
}

/**
 * vrdma_dev_create() - create and register a virtual device
 * @params: what it is made of
 * @out: the new device (registered; the caller holds no reference)
 *
 * Return: 0 or a negative errno.
 */
int vrdma_dev_create(const struct vrdma_dev_params *params,
		     struct vrdma_dev **out)
{
	struct vrdma_dev *vdev;
	struct ib_device *ibdev;
	int ret;

	if (params->vni > VRDMA_VNI_MAX || !vrdma_pt_mode_valid(params->mode))
		return -EINVAL;

	ret = vrdma_phys_attach(params->phys);
	if (ret)
		return ret;

	vdev = ib_alloc_device(vrdma_dev, ibdev);
	if (!vdev) {
		ret = -ENOMEM;
		goto err_detach;
	}
	ibdev = &vdev->ibdev;

	vrdma_phys_hold(params->phys);
	vdev->phys = params->phys;
	vdev->pdev = params->phys->ibdev;
	vdev->pport = 1;
	vdev->vni = params->vni;
	vdev->limits = params->limits;
	if (!vdev->limits.max_qp)
		vdev->limits.max_qp = READ_ONCE(default_max_qp);
	if (!vdev->limits.max_cq)
		vdev->limits.max_cq = READ_ONCE(default_max_cq);
	if (!vdev->limits.max_mr)
		vdev->limits.max_mr = READ_ONCE(default_max_mr);
	if (!vdev->limits.max_pinned)
		vdev->limits.max_pinned = READ_ONCE(default_max_pinned);
	vdev->mode = params->mode;
	spin_lock_init(&vdev->ndev_lock);
	vdev->ndev = params->ndev;
	netdev_hold(params->ndev, &vdev->ndev_tracker, GFP_KERNEL);
	INIT_LIST_HEAD(&vdev->node);
	INIT_WORK(&vdev->unreg_work, vrdma_dev_unreg_work);
	init_rwsem(&vdev->gate);
	mutex_init(&vdev->obj_lock);
	INIT_LIST_HEAD(&vdev->objs);
	xa_init(&vdev->mrs);
	xa_init_flags(&vdev->ahs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
	lockdep_set_class(&vdev->ahs.xa_lock, &vrdma_ahs_lock_key);
	xa_init_flags(&vdev->srqs, XA_FLAGS_ALLOC1);
	spin_lock_init(&vdev->qp_hash_lock);
	hash_init(vdev->qp_hash);
	spin_lock_init(&vdev->gsi_lock);
	spin_lock_init(&vdev->rq_list_lock);
	INIT_LIST_HEAD(&vdev->rq_list);
	hrtimer_init(&vdev->rq_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	vdev->rq_timer.function = vrdma_rq_timer_fn;

	strscpy(ibdev->node_desc, "vrdma", sizeof(ibdev->node_desc));
	ibdev->node_type = RDMA_NODE_IB_CA;
	ibdev->phys_port_cnt = 1;
	ibdev->num_comp_vectors = 1;
	ibdev->local_dma_lkey = 0;
	addrconf_addr_eui48((unsigned char *)&ibdev->node_guid,
			    params->ndev->dev_addr);
	ibdev->uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND) |
				  BIT_ULL(IB_USER_VERBS_CMD_REQ_NOTIFY_CQ);
	/* The first ops given win: passthrough ones, then the shadow ones. */
	if (vdev->mode == VRDMA_DEV_MODE_PASSTHROUGH)
		ib_set_device_ops(ibdev, &vrdma_pt_ops);
	ib_set_device_ops(ibdev, &vrdma_dev_ops);
	vrdma_res_init(vdev);
	if (vdev->mode == VRDMA_DEV_MODE_PASSTHROUGH) {
		ret = vrdma_pt_dev_init(vdev);
		if (ret) {
			vrdma_dev_release_ndev(vdev);
			vrdma_phys_put(vdev->phys);
			ib_dealloc_device(ibdev);
			goto err_detach;
		}
	}

	INIT_IB_EVENT_HANDLER(&vdev->phys_handler, vdev->pdev,
			      vrdma_phys_event);
	ib_register_event_handler(&vdev->phys_handler);

	mutex_lock(&vrdma_devs_lock);
	list_add_tail(&vdev->node, &vrdma_devs);
	mutex_unlock(&vrdma_devs_lock);
	vrdma_audit_created(VRDMA_AUDIT_DEV);

	vrdma_dev_set_birth_net(ibdev, params->net);

	/* From here on, failure and deletion go through dealloc_driver. */
	ret = vrdma_counters_init(vdev);
	if (!ret)
		ret = ib_register_device(ibdev, params->name, NULL);
	if (ret) {
		ib_dealloc_device(ibdev);
		return ret;
	}
	/*
	 * The physical device went away during the registration: the
	 * removal killed the device (vrdma_devs_phys_removed()), but could
	 * not unregister it, not yet registered.  Nothing may stay on a
	 * removed physical device.
	 */
	if (READ_ONCE(vdev->dead)) {
		ib_unregister_device(ibdev);
		return -ENODEV;
	}

	pr_info("device %s created on %s (netdev %s, vni %u)\n",
		dev_name(&ibdev->dev), dev_name(&vdev->pdev->dev),
		params->ndev->name, vdev->vni);
	*out = vdev;
	return 0;

err_detach:
	vrdma_phys_detach(params->phys);
	return ret;
}

/**
 * vrdma_devs_for_each() - call a function for every virtual device
 * @fn: the function; a non-zero return stops the iteration
 * @arg: its argument
 *
 * Calls @fn under vrdma_devs_lock: @fn may not register, unregister or
 * enter a device.
 *
 * Return: what the last call of @fn returned, or 0.
 */
int vrdma_devs_for_each(int (*fn)(struct vrdma_dev *vdev, void *arg),
			void *arg)
{
	struct vrdma_dev *vdev;
	int ret = 0;

	mutex_lock(&vrdma_devs_lock);
	list_for_each_entry(vdev, &vrdma_devs, node) {
		ret = fn(vdev, arg);
		if (ret)
			break;
	}
	mutex_unlock(&vrdma_devs_lock);
	return ret;
}

/**
 * vrdma_devs_count() - number of virtual devices on the host
 *
 * Return: the count.
 */
unsigned int vrdma_devs_count(void)
{
	struct vrdma_dev *vdev;
	unsigned int n = 0;

	mutex_lock(&vrdma_devs_lock);
	list_for_each_entry(vdev, &vrdma_devs, node)
		n++;
	mutex_unlock(&vrdma_devs_lock);
	return n;
}

/**
 * vrdma_dev_get_by_name() - find a virtual device by name
 * @name: its ib_device name
 *
 * Return: the device with a reference (ib_device_put() it), or NULL.
 */
struct vrdma_dev *vrdma_dev_get_by_name(const char *name)
{
	struct vrdma_dev *vdev;

	mutex_lock(&vrdma_devs_lock);
	list_for_each_entry(vdev, &vrdma_devs, node) {
		if (strcmp(dev_name(&vdev->ibdev.dev), name))
			continue;
		if (!ib_device_try_get(&vdev->ibdev))
			break;
		mutex_unlock(&vrdma_devs_lock);
		return vdev;
	}
	mutex_unlock(&vrdma_devs_lock);
	return NULL;
}

/**
 * vrdma_dev_get_next() - iterate over the virtual devices
 * @index: the lowest ib_device index wanted
 *
 * Return: the first device (in creation order) whose index is @index or
 * more, with a reference (ib_device_put() it), or NULL.
 */
struct vrdma_dev *vrdma_dev_get_next(u32 index)
{
	struct vrdma_dev *vdev;

	mutex_lock(&vrdma_devs_lock);
	list_for_each_entry(vdev, &vrdma_devs, node) {
		if (vdev->ibdev.index >= index &&
		    ib_device_try_get(&vdev->ibdev)) {
			mutex_unlock(&vrdma_devs_lock);
			return vdev;
		}
	}
	mutex_unlock(&vrdma_devs_lock);
	return NULL;
}

/**
 * vrdma_dev_visible() - may a requester in a namespace see a device?
 * @vdev: the device
 * @net: the requester's namespace
 *
 * Return: true from init_net, else only for the namespace of the device's
 * netdev.
 */
bool vrdma_dev_visible(struct vrdma_dev *vdev, struct net *net)
{
	struct net_device *ndev;
	bool visible;

	if (net_eq(net, &init_net))
		return true;
	ndev = vrdma_dev_netdev(vdev);
	visible = ndev && net_eq(dev_net(ndev), net);
	if (ndev)
		dev_put(ndev);
	return visible;
}

static void vrdma_dev_unreg_work(struct work_struct *work)
{
	struct vrdma_dev *vdev = container_of(work, struct vrdma_dev,
					      unreg_work);

	ib_unregister_device_and_put(&vdev->ibdev);
}

/*
 * Delete a device asynchronously.  Any context but atomic; does nothing if
 * the device is already being unregistered.
 */
static void vrdma_dev_unregister_async(struct vrdma_dev *vdev)
{
	if (!ib_device_try_get(&vdev->ibdev))
		return;
	/* The work owns the reference; a second request finds it pending. */
	if (!queue_work(vrdma_wq, &vdev->unreg_work))
		ib_device_put(&vdev->ibdev);
}

/**
 * vrdma_devs_phys_removed() - a physical device is going away
 * @phys: the device
 *
 * Called by phys.c's remove() before the physical device is freed.
 * Every virtual device on it reports IB_EVENT_DEVICE_FATAL, stops using it
 * (vrdma_dev_kill()) and is unregistered.  A device being registered is
 * killed too (DEV_NEW then unregisters it, vrdma_dev_create()), and so is
 * one being unregistered: only a reference to its struct device (not a
 * registration) keeps it while it is killed.
 */
void vrdma_devs_phys_removed(struct vrdma_phys *phys)
{
	struct vrdma_dev *vdev, *victims[16];
	unsigned int i, n;

	do {
		n = 0;
		mutex_lock(&vrdma_devs_lock);
		list_for_each_entry(vdev, &vrdma_devs, node) {
			if (vdev->phys != phys || READ_ONCE(vdev->dead))
				continue;
			get_device(&vdev->ibdev.dev);
			victims[n++] = vdev;
			if (n == ARRAY_SIZE(victims))
				break;
		}
		mutex_unlock(&vrdma_devs_lock);

		for (i = 0; i < n; i++) {
			vdev = victims[i];
			vrdma_dispatch_port_event(vdev, IB_EVENT_DEVICE_FATAL);
			vrdma_dev_kill(vdev);
			put_device(&vdev->ibdev.dev);
		}
	} while (n == ARRAY_SIZE(victims));

	mutex_lock(&vrdma_devs_lock);
	list_for_each_entry(vdev, &vrdma_devs, node)
		if (vdev->phys == phys)
			vrdma_dev_unregister_async(vdev);
	mutex_unlock(&vrdma_devs_lock);
}

/* ------------------------------------------------------------------ */
/* The container's netdev                                               */

static int vrdma_netdev_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct net_device *ndev = netdev_notifier_info_to_dev(ptr);
	struct vrdma_dev *vdev;

	switch (event) {
	case NETDEV_UNREGISTER:
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		break;
	default:
		return NOTIFY_DONE;
	}

	mutex_lock(&vrdma_devs_lock);
	list_for_each_entry(vdev, &vrdma_devs, node) {
		if (READ_ONCE(vdev->ndev) != ndev)
			continue;
		if (event == NETDEV_UNREGISTER) {
			/*
			 * The netdev must not wait for us: drop it now, the
			 * device follows (ib_core may need RTNL to delete it).
			 */
			vrdma_dev_release_ndev(vdev);
			vrdma_dispatch_port_event(vdev, IB_EVENT_PORT_ERR);
			vrdma_dev_unregister_async(vdev);
		} else if (vrdma_ndev_up(vdev)) {
			vrdma_dispatch_port_event(vdev, IB_EVENT_PORT_ACTIVE);
		} else {
			vrdma_dispatch_port_event(vdev, IB_EVENT_PORT_ERR);
		}
	}
	mutex_unlock(&vrdma_devs_lock);
	return NOTIFY_DONE;
}

static struct notifier_block vrdma_netdev_nb = {
	.notifier_call = vrdma_netdev_event,
};

/* ------------------------------------------------------------------ */

/**
 * vrdma_dev_init() - start watching netdevs for virtual devices
 *
 * Return: 0 or a negative errno.
 */
int __init vrdma_dev_init(void)
{
	int ret;

	vrdma_wq = alloc_workqueue("vrdma", WQ_UNBOUND, 0);
	if (!vrdma_wq)
		return -ENOMEM;
	ret = register_netdevice_notifier(&vrdma_netdev_nb);
	if (ret)
		destroy_workqueue(vrdma_wq);
	return ret;
}

/**
 * vrdma_dev_exit() - delete every virtual device
 *
 * Module unload: no process has a device open (ib_uverbs holds a module
 * reference while one does).
 */
void vrdma_dev_exit(void)
{
	struct vrdma_dev *vdev;

	unregister_netdevice_notifier(&vrdma_netdev_nb);

	/* Pending deletions first, then whatever is left. */
	flush_workqueue(vrdma_wq);
	for (;;) {
		bool busy = false;

		mutex_lock(&vrdma_devs_lock);
		vdev = list_first_entry_or_null(&vrdma_devs, struct vrdma_dev,
						node);
		if (vdev && !ib_device_try_get(&vdev->ibdev)) {
			/* Being unregistered elsewhere: wait for it. */
			busy = true;
			vdev = NULL;
		}
		mutex_unlock(&vrdma_devs_lock);
		if (vdev)
			ib_unregister_device_and_put(&vdev->ibdev);
		else if (busy)
			msleep(20);
		else
			break;
	}
	destroy_workqueue(vrdma_wq);
}
