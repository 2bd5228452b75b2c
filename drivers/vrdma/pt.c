// SPDX-License-Identifier: GPL-2.0
/*
 * Passthrough devices: the application drives the physical RNIC's queues.
 *
 * A virtual device created with mode passthrough creates the user objects
 * of an application (ucontext, PD, CQ, QP, SRQ) on the physical device,
 * through the physical driver's own ib_device_ops and with the
 * application's udata: the driver writes its response (ring offsets,
 * doorbell pages) straight to the application, whose provider library
 * (the stock one of the physical device: the virtual device takes the
 * physical driver's id and ABI version) then maps and drives the physical
 * queues itself.  Nothing of the data path passes through vrdma; for rxe,
 * whose send doorbell is a post_send system call, that call is forwarded.
 *
 * vrdma keeps the control path: device, port and GID queries (the
 * container's overlay GIDs, the shadow device's query verbs), modify_qp
 * (the overlay destination is translated by map.c into the peer host's
 * address and the physical source GID; only a destination mapped in the
 * device's virtual network is accepted), query_qp (the application sees
 * its overlay addresses), limits, and the emulated QP1 of kernel consumers
 * (rdma_cm, through gsi.c).  Kernel objects of a passthrough device are
 * shadow objects (the *_pt structures below start with the shadow ones).
 *
 * What the physical driver sees is what ib_core would build for its own
 * users, made of public fields:
 *
 *  - a physical ucontext per virtual ucontext, allocated on the physical
 *    device with the virtual ucontext's ufile (rdma_user_mmap_io() checks
 *    that the VMA is on that file, and ib_core's disassociation of the
 *    virtual file then zaps those mappings);
 *  - every op that takes udata gets it inside a struct uverbs_attr_bundle
 *    whose context is that physical ucontext (drivers find their ucontext
 *    with rdma_udata_to_drv_context(), rxe records it in its mmap info):
 *    vrdma_pt_udata(), on every path, error and destroy paths included;
 *  - objects allocated with rdma_zalloc_drv_obj() and filled as ib_core's
 *    create paths fill them (device, pd, uobject, handlers, use counts);
 *    SRQs with ib_create_srq_user(), MRs with ib_reg_user_mr(); destroyed
 *    with ib_destroy_*_user(), which undo exactly that.  ib_core's QP
 *    security state is not created: ib_core creates none for a device
 *    without an InfiniBand port either.
 *
 * Allowed: RC and UC QPs, basic SRQs, no create flags.  UD QPs are refused
 * (the address vector of a UD send comes from userspace: rxe takes a
 * struct rxe_av from the WQE, mlx5 an address from its WQE), and so are
 * XRC, raw packet and driver QP types, CQ flags, user AHs (UD only),
 * multicast (no attach op) and memory windows; the virtual device has no
 * driver-specific ioctl methods (ibdev->driver_def is not set).
 *
 * Lifetime
 * --------
 * The physical driver's mappings outlive the objects they belong to: the
 * process may keep a VMA after destroying the object, after the device is
 * deleted (ib_core disassociates the virtual ucontext) or after the
 * physical device is removed, and rxe's VMAs point at its mmap info and,
 * from there, at the physical ucontext and device.  struct vrdma_pt_ctx
 * holds the physical ucontext's memory, a reference on the physical
 * device and on its driver's module (its vm_ops are in it) and one on this
 * module; the virtual ucontext holds one reference on it and every VMA
 * another (vrdma_pt_mmap() wraps the driver's vm_ops to count them).  The
 * last reference frees it from a workqueue.  While a process uses a
 * passthrough device, neither this module nor the physical driver's can
 * be unloaded.
 *
 * The driver's own state of the physical ucontext (ops.dealloc_ucontext)
 * goes with the virtual ucontext, or when the physical device goes away:
 * vrdma_dev_kill() first revokes the mappings of the physical device's
 * doorbells (rdma_user_mmap_disassociate() where the kernel has it, and
 * zap_vma_ptes() on every PFN mapping this module tracks: 6.1 has no
 * helper), then destroys the physical QPs, SRQs, MRs, CQs and PDs, in
 * that order, and the physical ucontexts.  Mappings of memory (rxe's
 * rings are vmalloc memory) cannot be zapped and need not be: the memory
 * is the mapping's, and nothing reads it any more.
 *
 * Locking
 * -------
 *   vdev->gate (rw_semaphore, read: every verb that uses physical objects,
 *	write: vrdma_pt_kill())
 *     pt->lock (mutex): the lists of the device's ucontexts and objects
 *   pt->revoke_lock (mutex): pt->uverbs_ready; held across
 *	rdma_user_mmap_disassociate(), taken by the pt client's remove()
 *	(which ib_core calls before uverbs' own remove_one: clients go in
 *	reverse registration order), so that the uverbs client data of the
 *	device cannot go away under it
 *   mmap_lock (of a process) -> ctx->vma_lock (mutex): the VMAs of a ctx
 *   ib_uverbs' mmap path: mmap_lock -> ctx->live_lock (read) ->
 *	ctx->vma_lock; verbs take the gate and then, pinning user memory,
 *	the mmap lock, so the mmap path never takes the gate
 *   vrdma_pt_kill(): gate (write) -> pt->lock -> ctx->live_lock (write)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/netlink.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_netlink.h>
#include <rdma/uverbs_ioctl.h>
#include <uapi/linux/vrdma.h>

#include "audit.h"
#include "pt.h"
#include "res.h"
#include "verbs.h"

/* ------------------------------------------------------------------ */
/* Mode                                                                 */

static u32 vrdma_pt_default = VRDMA_DEV_MODE_SHADOW;

static const char *const vrdma_pt_mode_names[] = {
	[VRDMA_DEV_MODE_SHADOW] = "shadow",
	[VRDMA_DEV_MODE_PASSTHROUGH] = "passthrough",
};

bool vrdma_pt_mode_valid(u32 mode)
{
	return mode < ARRAY_SIZE(vrdma_pt_mode_names);
}

const char *vrdma_pt_mode_name(u32 mode)
{
	return vrdma_pt_mode_valid(mode) ? vrdma_pt_mode_names[mode] : "?";
}

/* The mode of devices that `rdma link add` creates. */
u32 vrdma_pt_default_mode(void)
{
	return READ_ONCE(vrdma_pt_default);
}

static int vrdma_pt_param_set(const char *val, const struct kernel_param *kp)
{
	u32 mode;

	for (mode = 0; mode < ARRAY_SIZE(vrdma_pt_mode_names); mode++) {
		if (sysfs_streq(val, vrdma_pt_mode_names[mode])) {
			WRITE_ONCE(*(u32 *)kp->arg, mode);
			return 0;
		}
	}
	return -EINVAL;
}

static int vrdma_pt_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  vrdma_pt_mode_name(READ_ONCE(*(u32 *)kp->arg)));
}

static const struct kernel_param_ops vrdma_pt_param_ops = {
	.set = vrdma_pt_param_set,
	.get = vrdma_pt_param_get,
};

module_param_cb(default_mode, &vrdma_pt_param_ops, &vrdma_pt_default, 0644);
MODULE_PARM_DESC(default_mode,
		 "Mode of the devices that 'rdma link add' creates: shadow (default) or passthrough");

/* ------------------------------------------------------------------ */
/* Structures                                                           */

static struct workqueue_struct *vrdma_pt_wq;

/**
 * struct vrdma_pt_dev - the passthrough state of a virtual device
 * @vdev: the device
 * @lock: protects @uctxs, @n_uctx and @objs
 * @uctxs: the device's ucontexts (struct vrdma_pt_ucontext)
 * @n_uctx: entries in @uctxs
 * @objs: the device's user objects (struct vrdma_pt_obj)
 * @revoke_lock: see "Locking" above
 * @uverbs_ready: ib_uverbs serves the device (between the pt client's
 *	add() and remove())
 */
struct vrdma_pt_dev {
	struct vrdma_dev *vdev;
	struct mutex lock;		/* see above */
	struct list_head uctxs;
	unsigned int n_uctx;
	struct list_head objs;
	struct mutex revoke_lock;	/* see above */
	bool uverbs_ready;
};

/**
 * struct vrdma_pt_ctx - a physical ucontext and what its mappings need
 * @ref: the virtual ucontext's reference and one per VMA
 * @pctx: the physical ucontext; its memory stays until @ref drops to 0
 * @pdev: the physical device (a reference on its struct device)
 * @owner: the physical driver's module (a reference)
 * @live_lock: read: a mapping is being made (ops.mmap, inside the mmap
 *	lock, where the gate may not be taken); write: @live changes, or
 *	the mappings are about to be revoked
 * @live: the driver's state of @pctx exists (ops.dealloc_ucontext not yet
 *	called); written under @live_lock, and under the gate held for write
 *	or by the virtual ucontext's dealloc
 * @vma_lock: protects @vmas and @vmops
 * @vmas: the VMAs of the physical driver's mappings (struct vrdma_pt_vma)
 * @vmops: the wrapped vm_ops they use (struct vrdma_pt_vmops)
 * @free_work: frees the ctx (vrdma_pt_wq)
 */
struct vrdma_pt_ctx {
	refcount_t ref;
	struct ib_ucontext *pctx;
	struct ib_device *pdev;
	struct module *owner;
	struct rw_semaphore live_lock;	/* see above */
	bool live;
	struct mutex vma_lock;		/* see above */
	struct list_head vmas;
	struct list_head vmops;
	struct work_struct free_work;
};

/**
 * struct vrdma_pt_vma - a mapping of the physical driver
 * @node: entry in ctx->vmas
 * @vma: the VMA (valid while on the list: vm_ops->close takes it off)
 * @zapped: its PFN mappings were revoked
 */
struct vrdma_pt_vma {
	struct list_head node;
	struct vm_area_struct *vma;
	bool zapped;
};

/*
 * The one vm_operations_struct that is not const: a copy of a driver's,
 * with open and close replaced (checkpatch wants every instance const).
 */
#define vrdma_pt_vm_ops_copy vm_operations_struct

/**
 * struct vrdma_pt_vmops - the physical driver's vm_ops, counted
 * @ops: a copy of @orig whose open and close count the VMA (the VMA's
 *	vm_ops point here: container_of() finds the ctx)
 * @orig: the driver's vm_ops (may be NULL)
 * @ctx: the ctx the VMAs keep alive
 * @node: entry in ctx->vmops
 */
struct vrdma_pt_vmops {
	struct vrdma_pt_vm_ops_copy ops;
	const struct vm_operations_struct *orig;
	struct vrdma_pt_ctx *ctx;
	struct list_head node;
};

/**
 * struct vrdma_pt_ucontext - a virtual ucontext of a passthrough device
 * @ibuc: the virtual ucontext
 * @ctx: its physical ucontext
 * @node: entry in pt->uctxs
 */
struct vrdma_pt_ucontext {
	struct ib_ucontext ibuc;
	struct vrdma_pt_ctx *ctx;
	struct list_head node;
};

static inline struct vrdma_pt_ucontext *to_pt_uc(struct ib_ucontext *ibuc)
{
	return container_of(ibuc, struct vrdma_pt_ucontext, ibuc);
}

/* User objects, in the order vrdma_pt_kill() destroys them. */
enum vrdma_pt_obj_type {
	VRDMA_PT_QP,
	VRDMA_PT_SRQ,
	VRDMA_PT_MR,
	VRDMA_PT_CQ,
	VRDMA_PT_PD,
	VRDMA_PT_NR
};

/**
 * struct vrdma_pt_obj - a user object's entry in pt->objs
 * @node: the entry
 * @type: what the object is
 * @uc: its ucontext; NULL for the kernel (shadow) objects, never listed
 */
struct vrdma_pt_obj {
	struct list_head node;
	enum vrdma_pt_obj_type type;
	struct vrdma_pt_ucontext *uc;
};

struct vrdma_pt_pd {
	struct vrdma_pd spd;		/* first: ib_core's ib_pd */
	struct vrdma_pt_obj obj;
	struct ib_pd *ppd;		/* NULL once killed */
};

struct vrdma_pt_cq {
	struct vrdma_cq scq;		/* first: ib_core's ib_cq */
	struct vrdma_pt_obj obj;
	struct ib_cq *pcq;
};

/**
 * struct vrdma_pt_qp - a QP of a passthrough device
 * @sqp: the shadow QP (kernel QP1); its ibqp is ib_core's
 * @obj: entry in pt->objs
 * @pqp: the physical QP (NULL once killed)
 * @scq: send CQ
 * @rcq: receive CQ
 * @srq: SRQ or NULL
 * @lock: serializes modify_qp (the overlay address below)
 * @av_valid: @grh and @sl hold the address vector the application gave
 * @av_local: that destination is on this host
 * @dest_qpn_valid: @dest_qpn holds the destination QPN the application gave
 * @dest_qpn: that QPN
 * @grh: its GRH (overlay destination, source GID index, ...)
 * @sl: its service level
 * @hnode: entry in vrdma_pt_qps while @pqp exists
 * @hpdev: the physical device of @pqp (the key of @hnode, with @hqpn)
 * @hqpn: the physical QPN
 * @vni: the device's virtual network (for destination checks)
 */
struct vrdma_pt_qp {
	struct vrdma_qp sqp;
	struct vrdma_pt_obj obj;
	struct ib_qp *pqp;
	struct vrdma_pt_cq *scq;
	struct vrdma_pt_cq *rcq;
	struct vrdma_pt_srq *srq;
	struct mutex lock;		/* see above */
	bool av_valid;
	bool av_local;
	bool dest_qpn_valid;
	u32 dest_qpn;
	struct ib_global_route grh;
	u8 sl;
	struct hlist_node hnode;
	struct ib_device *hpdev;
	u32 hqpn;
	u32 vni;
};

struct vrdma_pt_srq {
	struct ib_srq ibsrq;
	struct vrdma_pt_obj obj;
	struct ib_srq *psrq;
};

struct vrdma_pt_mr {
	struct ib_mr ibmr;
	struct vrdma_pt_obj obj;
	struct ib_mr *pmr;
	u64 span;			/* bytes counted against max_pinned */
};

static inline struct vrdma_pt_pd *to_pt_pd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct vrdma_pt_pd, spd.ibpd);
}

static inline struct vrdma_pt_cq *to_pt_cq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct vrdma_pt_cq, scq.ibcq);
}

static inline struct vrdma_pt_qp *to_pt_qp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct vrdma_pt_qp, sqp.ibqp);
}

static inline struct vrdma_pt_srq *to_pt_srq(struct ib_srq *ibsrq)
{
	return container_of(ibsrq, struct vrdma_pt_srq, ibsrq);
}

static inline struct vrdma_pt_mr *to_pt_mr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct vrdma_pt_mr, ibmr);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

/*
 * The udata of a physical op: the application's buffers (none for a
 * destroy), in a bundle whose context is the physical ucontext, as
 * ib_core's write and ioctl paths build bundles.  No attribute is present
 * in it: a driver looking one up finds none.
 */
static struct ib_udata *vrdma_pt_udata(struct uverbs_attr_bundle *b,
				       struct vrdma_pt_ucontext *uc,
				       const struct ib_udata *udata)
{
	memset(b, 0, sizeof(*b));
	if (udata) {
		b->driver_udata.inbuf = udata->inbuf;
		b->driver_udata.outbuf = udata->outbuf;
		b->driver_udata.inlen = udata->inlen;
		b->driver_udata.outlen = udata->outlen;
	}
	b->ufile = uc->ibuc.ufile;
	b->context = uc->ctx->pctx;
	return &b->driver_udata;
}

/* The passthrough ucontext of a user verb's udata. */
static struct vrdma_pt_ucontext *vrdma_pt_uc(struct ib_udata *udata)
{
	return rdma_udata_to_drv_context(udata, struct vrdma_pt_ucontext,
					 ibuc);
}

static void vrdma_pt_obj_add(struct vrdma_dev *vdev, struct vrdma_pt_obj *obj,
			     enum vrdma_pt_obj_type type,
			     struct vrdma_pt_ucontext *uc)
{
	obj->type = type;
	obj->uc = uc;
	mutex_lock(&vdev->pt->lock);
	list_add_tail(&obj->node, &vdev->pt->objs);
	mutex_unlock(&vdev->pt->lock);
}

static void vrdma_pt_obj_del(struct vrdma_dev *vdev, struct vrdma_pt_obj *obj)
{
	mutex_lock(&vdev->pt->lock);
	list_del_init(&obj->node);
	mutex_unlock(&vdev->pt->lock);
}

/* Count an object against a per-device limit (0: none). */
static bool vrdma_pt_quota_get(atomic_t *count, u32 max)
{
	if (atomic_inc_return(count) > max && max) {
		atomic_dec(count);
		return false;
	}
	return true;
}

/*
 * Enter the gate for a verb of user object @uc: -EIO once the physical
 * device or the physical ucontext is gone.
 */
static int vrdma_pt_enter(struct vrdma_dev *vdev, struct vrdma_pt_ucontext *uc)
{
	int ret = vrdma_dev_enter(vdev);

	if (ret)
		return ret;
	if (!uc->ctx->live) {
		vrdma_dev_leave(vdev);
		return -EIO;
	}
	return 0;
}

#define vrdma_pt_refuse(ibdev, fmt, ...)				\
	ibdev_info_ratelimited(ibdev, "passthrough device: " fmt	\
			       " (use a shadow device)\n", ##__VA_ARGS__)

/* ------------------------------------------------------------------ */
/* The physical ucontext and its mappings                               */

static void vrdma_pt_ctx_free(struct work_struct *work)
{
	struct vrdma_pt_ctx *ctx = container_of(work, struct vrdma_pt_ctx,
						free_work);
	struct vrdma_pt_vmops *w, *tmp;

	list_for_each_entry_safe(w, tmp, &ctx->vmops, node)
		kfree(w);
	kfree(ctx->pctx);
	put_device(&ctx->pdev->dev);
	module_put(ctx->owner);
	mutex_destroy(&ctx->vma_lock);
	kfree(ctx);
	vrdma_audit_destroyed(VRDMA_AUDIT_PT_CTX);
	/* Last: module exit waits for this work (destroy_workqueue()). */
	module_put(THIS_MODULE);
}

static void vrdma_pt_ctx_put(struct vrdma_pt_ctx *ctx)
{
	/*
	 * The work drops this module's reference: the caller may be a VMA's
	 * close, in this module's code, which must be done with it first.
	 */
	if (refcount_dec_and_test(&ctx->ref))
		queue_work(vrdma_pt_wq, &ctx->free_work);
}

/* Forget the driver's state of the physical ucontext (gate held). */
static void vrdma_pt_ctx_release(struct vrdma_pt_ctx *ctx)
{
	down_write(&ctx->live_lock);
	if (ctx->live) {
		ctx->live = false;
		ctx->pdev->ops.dealloc_ucontext(ctx->pctx);
	}
	up_write(&ctx->live_lock);
}

static void vrdma_pt_vm_open(struct vm_area_struct *vma)
{
	struct vrdma_pt_vmops *w = container_of(vma->vm_ops,
						struct vrdma_pt_vmops, ops);
	struct vrdma_pt_ctx *ctx = w->ctx;
	struct vrdma_pt_vma *v;

	/* A copy (fork) or a split: one more VMA keeps the ctx. */
	refcount_inc(&ctx->ref);
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (v) {
		v->vma = vma;
		mutex_lock(&ctx->vma_lock);
		list_add(&v->node, &ctx->vmas);
		mutex_unlock(&ctx->vma_lock);
	}
	if (w->orig && w->orig->open)
		w->orig->open(vma);
	/* A mapping of device pages that could not be revoked later: now. */
	if (!v && (vma->vm_flags & VM_PFNMAP))
		zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
}

static void vrdma_pt_vm_close(struct vm_area_struct *vma)
{
	struct vrdma_pt_vmops *w = container_of(vma->vm_ops,
						struct vrdma_pt_vmops, ops);
	struct vrdma_pt_ctx *ctx = w->ctx;
	struct vrdma_pt_vma *v;

	if (w->orig && w->orig->close)
		w->orig->close(vma);
	mutex_lock(&ctx->vma_lock);
	list_for_each_entry(v, &ctx->vmas, node) {
		if (v->vma == vma) {
			list_del(&v->node);
			kfree(v);
			break;
		}
	}
	mutex_unlock(&ctx->vma_lock);
	vrdma_pt_ctx_put(ctx);
}

/*
 * A new mapping of the physical driver: count it and track it.  @v and
 * *@spare were allocated beforehand (nothing can fail here: the driver
 * has mapped already); *@spare is consumed if the VMA's vm_ops are new.
 */
static void vrdma_pt_vma_add(struct vrdma_pt_ctx *ctx,
			     struct vm_area_struct *vma,
			     struct vrdma_pt_vma *v,
			     struct vrdma_pt_vmops **spare)
{
	const struct vm_operations_struct *orig = vma->vm_ops;
	struct vrdma_pt_vmops *w;

	mutex_lock(&ctx->vma_lock);
	list_for_each_entry(w, &ctx->vmops, node)
		if (w->orig == orig)
			goto found;
	w = *spare;
	*spare = NULL;
	if (orig)
		w->ops = *orig;
	w->ops.open = vrdma_pt_vm_open;
	w->ops.close = vrdma_pt_vm_close;
	w->orig = orig;
	w->ctx = ctx;
	list_add(&w->node, &ctx->vmops);
found:
	v->vma = vma;
	list_add(&v->node, &ctx->vmas);
	refcount_inc(&ctx->ref);
	vma->vm_ops = &w->ops;
	mutex_unlock(&ctx->vma_lock);
}

/*
 * Revoke the PFN mappings (device pages: doorbells) of @ctx: zap their
 * page table entries, one process at a time (the mmap lock is taken
 * before ctx->vma_lock, as in vm_ops->close).  Later accesses fault into
 * the driver's fault handler (ib_core's maps a zero page) or get SIGBUS.
 * Mappings of memory are left: their pages are the mapping's own.
 */
static void vrdma_pt_ctx_zap(struct vrdma_pt_ctx *ctx)
{
	struct vrdma_pt_vma *v;

	for (;;) {
		struct mm_struct *mm = NULL;

		mutex_lock(&ctx->vma_lock);
		list_for_each_entry(v, &ctx->vmas, node) {
			if (v->zapped || !(v->vma->vm_flags & VM_PFNMAP))
				continue;
			if (mmget_not_zero(v->vma->vm_mm)) {
				mm = v->vma->vm_mm;
				break;
			}
			/* The process is exiting: its mappings go with it. */
			v->zapped = true;
		}
		mutex_unlock(&ctx->vma_lock);
		if (!mm)
			return;

		mmap_read_lock(mm);
		mutex_lock(&ctx->vma_lock);
		list_for_each_entry(v, &ctx->vmas, node) {
			struct vm_area_struct *vma = v->vma;

			if (v->zapped || vma->vm_mm != mm)
				continue;
			v->zapped = true;
			if (vma->vm_flags & VM_PFNMAP)
				zap_vma_ptes(vma, vma->vm_start,
					     vma->vm_end - vma->vm_start);
		}
		mutex_unlock(&ctx->vma_lock);
		mmap_read_unlock(mm);
		mmput(mm);
	}
}

static int vrdma_pt_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma)
{
	struct vrdma_dev *vdev = to_vdev(ibuc->device);
	struct vrdma_pt_ucontext *uc = to_pt_uc(ibuc);
	struct vrdma_pt_ctx *ctx = uc->ctx;
	struct vrdma_pt_vmops *spare;
	struct vrdma_pt_vma *v;
	int ret;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!v || !spare) {
		ret = -ENOMEM;
		goto out;
	}
	/*
	 * Not the gate: ib_uverbs calls us with the mmap lock held.  A kill
	 * sets vdev->dead, then takes live_lock for write before it revokes
	 * the mappings: a mapping made before that is revoked with the rest.
	 */
	down_read(&ctx->live_lock);
	if (READ_ONCE(vdev->dead) || !ctx->live) {
		ret = -EIO;
	} else {
		ret = ctx->pdev->ops.mmap(ctx->pctx, vma);
		if (!ret) {
			vrdma_pt_vma_add(ctx, vma, v, &spare);
			v = NULL;
		}
	}
	up_read(&ctx->live_lock);
out:
	kfree(spare);
	kfree(v);
	return ret;
}

static int vrdma_pt_alloc_ucontext(struct ib_ucontext *ibuc,
				   struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibuc->device);
	struct vrdma_pt_ucontext *uc = to_pt_uc(ibuc);
	struct ib_device *pdev = vdev->pdev;
	struct uverbs_attr_bundle b;
	struct vrdma_pt_ctx *ctx;
	struct ib_ucontext *pctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	refcount_set(&ctx->ref, 1);
	init_rwsem(&ctx->live_lock);
	mutex_init(&ctx->vma_lock);
	INIT_LIST_HEAD(&ctx->vmas);
	INIT_LIST_HEAD(&ctx->vmops);
	INIT_WORK(&ctx->free_work, vrdma_pt_ctx_free);

	ret = vrdma_dev_enter(vdev);
	if (ret)
		goto err_free;
	/* The mappings will run this module's and the driver's code. */
	if (!try_module_get(THIS_MODULE)) {
		ret = -ENODEV;
		goto err_leave;
	}
	if (!try_module_get(pdev->ops.owner)) {
		ret = -ENODEV;
		goto err_self;
	}
	pctx = rdma_zalloc_drv_obj(pdev, ib_ucontext);
	if (!pctx) {
		ret = -ENOMEM;
		goto err_module;
	}
	/* As ib_alloc_ucontext(), on the virtual ucontext's file. */
	pctx->device = pdev;
	pctx->ufile = ibuc->ufile;
	xa_init_flags(&pctx->mmap_xa, XA_FLAGS_ALLOC);
	ctx->pctx = pctx;
	ctx->pdev = pdev;
	ctx->owner = pdev->ops.owner;
	uc->ctx = ctx;

	ret = pdev->ops.alloc_ucontext(pctx, vrdma_pt_udata(&b, uc, udata));
	if (ret)
		goto err_pctx;
	ctx->live = true;
	get_device(&pdev->dev);
	vrdma_audit_created(VRDMA_AUDIT_PT_CTX);

	mutex_lock(&vdev->pt->lock);
	list_add_tail(&uc->node, &vdev->pt->uctxs);
	vdev->pt->n_uctx++;
	mutex_unlock(&vdev->pt->lock);
	vrdma_dev_leave(vdev);
	return 0;

err_pctx:
	uc->ctx = NULL;
	kfree(pctx);
err_module:
	module_put(pdev->ops.owner);
err_self:
	module_put(THIS_MODULE);
err_leave:
	vrdma_dev_leave(vdev);
err_free:
	mutex_destroy(&ctx->vma_lock);
	kfree(ctx);
	return ret;
}

static void vrdma_pt_dealloc_ucontext(struct ib_ucontext *ibuc)
{
	struct vrdma_dev *vdev = to_vdev(ibuc->device);
	struct vrdma_pt_ucontext *uc = to_pt_uc(ibuc);

	vrdma_dev_enter_destroy(vdev);
	mutex_lock(&vdev->pt->lock);
	list_del(&uc->node);
	vdev->pt->n_uctx--;
	mutex_unlock(&vdev->pt->lock);
	vrdma_pt_ctx_release(uc->ctx);
	vrdma_dev_leave(vdev);
	vrdma_pt_ctx_put(uc->ctx);
}

/*
 * The virtual device goes away while the process has it open: ib_core
 * has zapped the mappings rdma_user_mmap_io() made on its file; zap the
 * other PFN mappings of the physical driver too.  The objects are
 * destroyed next, then the ucontext.
 */
static void vrdma_pt_disassociate_ucontext(struct ib_ucontext *ibuc)
{
	vrdma_pt_ctx_zap(to_pt_uc(ibuc)->ctx);
}

/* ------------------------------------------------------------------ */
/* Device                                                               */

static void vrdma_pt_get_attrs(struct vrdma_dev *vdev, struct ib_device_attr *a)
{
	const struct ib_device_attr *p = &vdev->pdev->attrs;
	const struct vrdma_limits *l = &vdev->limits;

	memset(a, 0, sizeof(*a));
	a->fw_ver = p->fw_ver;
	a->sys_image_guid = vdev->ibdev.node_guid;
	a->max_mr_size = p->max_mr_size;
	a->page_size_cap = p->page_size_cap;
	a->vendor_id = p->vendor_id;
	a->vendor_part_id = p->vendor_part_id;
	a->hw_ver = p->hw_ver;
	a->max_qp = l->max_qp && (u32)p->max_qp > l->max_qp ? l->max_qp :
							       p->max_qp;
	a->max_qp_wr = p->max_qp_wr;
	a->device_cap_flags = p->device_cap_flags &
			      (IB_DEVICE_RC_RNR_NAK_GEN |
			       IB_DEVICE_SRQ_RESIZE |
			       IB_DEVICE_CURR_QP_STATE_MOD);
	/*
	 * Kernel consumers (ib_mad, on the emulated QP1): as shadow; no
	 * IBK_ALLOW_USER_UNREG either (vdev.c).
	 */
	a->kernel_cap_flags = IBK_LOCAL_DMA_LKEY;
	a->max_send_sge = p->max_send_sge;
	a->max_recv_sge = p->max_recv_sge;
	a->max_sge_rd = p->max_sge_rd;
	a->max_cq = l->max_cq && (u32)p->max_cq > l->max_cq ? l->max_cq :
							       p->max_cq;
	a->max_cqe = p->max_cqe;
	a->max_mr = l->max_mr && (u32)p->max_mr > l->max_mr ? l->max_mr :
							       p->max_mr;
	a->max_pd = p->max_pd;
	a->max_qp_rd_atom = p->max_qp_rd_atom;
	a->max_res_rd_atom = p->max_res_rd_atom;
	a->max_qp_init_rd_atom = p->max_qp_init_rd_atom;
	a->atomic_cap = p->atomic_cap;
	a->max_srq = p->max_srq;
	a->max_srq_wr = p->max_srq_wr;
	a->max_srq_sge = p->max_srq_sge;
	a->max_pkeys = 1;
	a->local_ca_ack_delay = p->local_ca_ack_delay;
}

/* Also how ib_core fills ibdev->attrs at registration (udata NULL). */
static int vrdma_pt_query_device(struct ib_device *ibdev,
				 struct ib_device_attr *attr,
				 struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibdev);
	struct vrdma_pt_ucontext *uc;
	struct uverbs_attr_bundle b;
	int ret;

	/*
	 * The provider's own part of the answer is the physical driver's.
	 * (An empty udata may be no bundle's: ib_core's registration passes
	 * one of its own.)
	 */
	if (udata && (udata->inlen || udata->outlen)) {
		uc = vrdma_pt_uc(udata);
		ret = vrdma_pt_enter(vdev, uc);
		if (ret)
			return ret;
		ret = vdev->pdev->ops.query_device(vdev->pdev, attr,
						   vrdma_pt_udata(&b, uc,
								  udata));
		vrdma_dev_leave(vdev);
		if (ret)
			return ret;
	}
	vrdma_pt_get_attrs(vdev, attr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* PD                                                                   */

static int vrdma_pt_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibpd->device);
	struct vrdma_pt_ucontext *uc = vrdma_pt_uc(udata);
	struct vrdma_pt_pd *pd = to_pt_pd(ibpd);
	struct ib_device *pdev = vdev->pdev;
	struct uverbs_attr_bundle b;
	struct ib_pd *ppd;
	int ret;

	if (!uc)
		return vrdma_alloc_pd(ibpd, udata);

	ret = vrdma_pt_enter(vdev, uc);
	if (ret)
		return ret;
	ppd = rdma_zalloc_drv_obj(pdev, ib_pd);
	if (!ppd) {
		ret = -ENOMEM;
		goto out;
	}
	ppd->device = pdev;
	ppd->uobject = ibpd->uobject;
	atomic_set(&ppd->usecnt, 0);
	/* The owner ib_core's resource tracking shows for its MRs and SRQs. */
	ppd->res.kern_name = KBUILD_MODNAME;
	ret = pdev->ops.alloc_pd(ppd, vrdma_pt_udata(&b, uc, udata));
	if (ret) {
		kfree(ppd);
		goto out;
	}
	pd->ppd = ppd;
	vrdma_pt_obj_add(vdev, &pd->obj, VRDMA_PT_PD, uc);
	vrdma_audit_created(VRDMA_AUDIT_PD);
out:
	vrdma_dev_leave(vdev);
	return ret;
}

static int vrdma_pt_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibpd->device);
	struct vrdma_pt_pd *pd = to_pt_pd(ibpd);
	struct uverbs_attr_bundle b;
	int ret;

	if (!pd->obj.uc)
		return vrdma_dealloc_pd(ibpd, udata);

	vrdma_dev_enter_destroy(vdev);
	if (pd->ppd) {
		ret = ib_dealloc_pd_user(pd->ppd,
					 vrdma_pt_udata(&b, pd->obj.uc, udata));
		if (ret) {
			vrdma_dev_leave(vdev);
			return ret;
		}
		pd->ppd = NULL;
	}
	vrdma_pt_obj_del(vdev, &pd->obj);
	vrdma_dev_leave(vdev);
	vrdma_audit_destroyed(VRDMA_AUDIT_PD);
	return 0;
}

/* ------------------------------------------------------------------ */
/* MR                                                                   */

static struct ib_mr *vrdma_pt_reg_user_mr(struct ib_pd *ibpd, u64 start,
					  u64 length, u64 iova, int access,
					  struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibpd->device);
	struct vrdma_pt_pd *pd = to_pt_pd(ibpd);
	struct vrdma_pt_mr *mr;
	struct ib_mr *pmr;
	u64 end, last;
	int ret;

	if (!pd->obj.uc)
		return ERR_PTR(-EOPNOTSUPP);
	/* The shadow device's policy; hints go to the physical device. */
	ret = vrdma_mr_check_access(vdev, access & ~VRDMA_MR_ACCESS_HINTS);
	if (ret)
		return ERR_PTR(ret);
	if (!length || check_add_overflow(start, length, &end) ||
	    check_add_overflow(iova, length - 1, &last) || end > TASK_SIZE)
		return ERR_PTR(-EINVAL);

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	mr->span = vrdma_mr_span(start & ~PAGE_MASK, length);
	if (!vrdma_mr_quota_get(vdev, mr->span)) {
		ret = -ENOSPC;
		goto err_free;
	}

	ret = vrdma_pt_enter(vdev, pd->obj.uc);
	if (ret)
		goto err_quota;
	if (!pd->ppd) {
		ret = -EIO;
		goto err_leave;
	}
	/* In the caller's context: the physical driver pins its memory. */
	pmr = ib_reg_user_mr(pd->ppd, start, length, iova,
			     access & ~IB_ACCESS_HUGETLB);
	if (IS_ERR(pmr)) {
		ret = PTR_ERR(pmr);
		goto err_leave;
	}
	mr->pmr = pmr;
	mr->ibmr.lkey = pmr->lkey;
	mr->ibmr.rkey = pmr->rkey;
	vrdma_pt_obj_add(vdev, &mr->obj, VRDMA_PT_MR, pd->obj.uc);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_MR);
	return &mr->ibmr;

err_leave:
	vrdma_dev_leave(vdev);
err_quota:
	vrdma_mr_quota_put(vdev, mr->span);
err_free:
	kfree(mr);
	return ERR_PTR(ret);
}

static int vrdma_pt_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibmr->device);
	struct vrdma_pt_mr *mr = to_pt_mr(ibmr);
	int ret;

	vrdma_dev_enter_destroy(vdev);
	if (mr->pmr) {
		/* Registered as ib_reg_user_mr() does: without udata. */
		ret = ib_dereg_mr_user(mr->pmr, NULL);
		if (ret) {
			vrdma_dev_leave(vdev);
			return ret;
		}
		mr->pmr = NULL;
	}
	vrdma_pt_obj_del(vdev, &mr->obj);
	vrdma_dev_leave(vdev);
	vrdma_mr_quota_put(vdev, mr->span);
	vrdma_audit_destroyed(VRDMA_AUDIT_MR);
	kfree(mr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* CQ                                                                   */

/* The physical CQ's handlers: to the virtual CQ's (any context). */
static void vrdma_pt_cq_comp(struct ib_cq *pcq, void *context)
{
	struct vrdma_pt_cq *cq = context;
	struct ib_cq *ibcq = &cq->scq.ibcq;

	WRITE_ONCE(to_vdev(ibcq->device)->last_activity, jiffies);
	if (ibcq->comp_handler)
		ibcq->comp_handler(ibcq, ibcq->cq_context);
}

static void vrdma_pt_cq_event(struct ib_event *pev, void *context)
{
	struct vrdma_pt_cq *cq = context;
	struct ib_cq *ibcq = &cq->scq.ibcq;
	struct ib_event ev = {
		.device = ibcq->device,
		.element.cq = ibcq,
		.event = pev->event,
	};

	if (ibcq->event_handler)
		ibcq->event_handler(&ev, ibcq->cq_context);
}

static int vrdma_pt_create_cq(struct ib_cq *ibcq,
			      const struct ib_cq_init_attr *attr,
			      struct vrdma_create_cq_arg *arg)
{
	struct ib_udata *udata = vrdma_create_cq_udata(arg);
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_pt_ucontext *uc = vrdma_pt_uc(udata);
	struct vrdma_pt_cq *cq = to_pt_cq(ibcq);
	struct ib_device *pdev = vdev->pdev;
	struct ib_cq_init_attr pattr;
	struct uverbs_attr_bundle b;
	struct ib_cq *pcq;
	int ret;

	if (!uc)
		return vrdma_create_cq(ibcq, attr, arg);
	if (attr->flags) {
		vrdma_pt_refuse(ibcq->device, "CQ flags 0x%x are not supported",
				attr->flags);
		return -EOPNOTSUPP;
	}
	if (!vrdma_pt_quota_get(&vdev->n_cq, READ_ONCE(vdev->limits.max_cq)))
		return -ENOSPC;

	ret = vrdma_pt_enter(vdev, uc);
	if (ret)
		goto err_quota;
	pcq = rdma_zalloc_drv_obj(pdev, ib_cq);
	if (!pcq) {
		ret = -ENOMEM;
		goto err_leave;
	}
	/* As ib_core's create_cq(). */
	pcq->device = pdev;
	pcq->uobject = ibcq->uobject;
	pcq->comp_handler = vrdma_pt_cq_comp;
	pcq->event_handler = vrdma_pt_cq_event;
	pcq->cq_context = cq;
	atomic_set(&pcq->usecnt, 0);
	pattr = *attr;
	pattr.comp_vector = 0;
	vrdma_pt_udata(&b, uc, udata);
	ret = pdev->ops.create_cq(pcq, &pattr, vrdma_create_cq_arg_of(&b));
	if (ret) {
		kfree(pcq);
		goto err_leave;
	}
	ibcq->cqe = pcq->cqe;
	cq->pcq = pcq;
	vrdma_pt_obj_add(vdev, &cq->obj, VRDMA_PT_CQ, uc);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_CQ);
	return 0;

err_leave:
	vrdma_dev_leave(vdev);
err_quota:
	atomic_dec(&vdev->n_cq);
	return ret;
}

static int vrdma_pt_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_pt_cq *cq = to_pt_cq(ibcq);
	struct uverbs_attr_bundle b;
	int ret;

	if (!cq->obj.uc)
		return vrdma_destroy_cq(ibcq, udata);

	vrdma_dev_enter_destroy(vdev);
	if (cq->pcq) {
		ret = ib_destroy_cq_user(cq->pcq,
					 vrdma_pt_udata(&b, cq->obj.uc, udata));
		if (ret) {
			vrdma_dev_leave(vdev);
			return ret;
		}
		cq->pcq = NULL;
	}
	vrdma_pt_obj_del(vdev, &cq->obj);
	vrdma_dev_leave(vdev);
	atomic_dec(&vdev->n_cq);
	vrdma_audit_destroyed(VRDMA_AUDIT_CQ);
	return 0;
}

static int vrdma_pt_resize_cq(struct ib_cq *ibcq, int cqe,
			      struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_pt_cq *cq = to_pt_cq(ibcq);
	struct uverbs_attr_bundle b;
	int ret;

	if (!cq->obj.uc)
		return vrdma_resize_cq(ibcq, cqe, udata);
	if (!vdev->pdev->ops.resize_cq)
		return -EOPNOTSUPP;
	ret = vrdma_pt_enter(vdev, cq->obj.uc);
	if (ret)
		return ret;
	if (!cq->pcq) {
		ret = -EIO;
	} else {
		ret = vdev->pdev->ops.resize_cq(cq->pcq, cqe,
						vrdma_pt_udata(&b, cq->obj.uc,
							       udata));
		if (!ret)
			ibcq->cqe = cq->pcq->cqe;
	}
	vrdma_dev_leave(vdev);
	return ret;
}

static int vrdma_pt_req_notify_cq(struct ib_cq *ibcq,
				  enum ib_cq_notify_flags flags)
{
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_pt_cq *cq = to_pt_cq(ibcq);
	int ret;

	if (!cq->obj.uc)
		return vrdma_req_notify_cq(ibcq, flags);
	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = cq->pcq ? ib_req_notify_cq(cq->pcq, flags) : -EIO;
	vrdma_dev_leave(vdev);
	return ret;
}

/*
 * Reached only through the poll_cq write command (providers poll their
 * rings): the physical driver's completions, with the virtual QPs.
 */
static int vrdma_pt_poll_cq(struct ib_cq *ibcq, int num_entries,
			    struct ib_wc *wc)
{
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_pt_cq *cq = to_pt_cq(ibcq);
	int i, ret;

	if (!cq->obj.uc)
		return vrdma_poll_cq(ibcq, num_entries, wc);
	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = cq->pcq ? ib_poll_cq(cq->pcq, num_entries, wc) : -EIO;
	for (i = 0; i < ret; i++) {
		struct vrdma_pt_qp *qp = wc[i].qp ? wc[i].qp->qp_context : NULL;

		wc[i].qp = qp ? &qp->sqp.ibqp : NULL;
	}
	vrdma_dev_leave(vdev);
	return ret;
}

/* ------------------------------------------------------------------ */
/* SRQ                                                                  */

static void vrdma_pt_srq_event(struct ib_event *pev, void *context)
{
	struct vrdma_pt_srq *srq = context;
	struct ib_srq *ibsrq = &srq->ibsrq;
	struct ib_event ev = {
		.device = ibsrq->device,
		.element.srq = ibsrq,
		.event = pev->event,
	};

	if (ibsrq->event_handler)
		ibsrq->event_handler(&ev, ibsrq->srq_context);
}

static int vrdma_pt_create_srq(struct ib_srq *ibsrq,
			       struct ib_srq_init_attr *init,
			       struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibsrq->device);
	struct vrdma_pt_ucontext *uc = vrdma_pt_uc(udata);
	struct vrdma_pt_srq *srq = to_pt_srq(ibsrq);
	struct vrdma_pt_pd *pd = to_pt_pd(ibsrq->pd);
	struct ib_srq_init_attr pinit;
	struct uverbs_attr_bundle b;
	struct ib_srq *psrq;
	int ret;

	/* Kernel consumers get no SRQ, as on a shadow device. */
	if (!uc)
		return -EOPNOTSUPP;
	if (init->srq_type != IB_SRQT_BASIC) {
		vrdma_pt_refuse(ibsrq->device, "SRQ type %d is not supported",
				init->srq_type);
		return -EOPNOTSUPP;
	}
	ret = vrdma_pt_enter(vdev, uc);
	if (ret)
		return ret;
	if (!pd->ppd) {
		ret = -EIO;
		goto out;
	}
	pinit = *init;
	pinit.event_handler = vrdma_pt_srq_event;
	pinit.srq_context = srq;
	psrq = ib_create_srq_user(pd->ppd, &pinit, ibsrq->uobject,
				  vrdma_pt_udata(&b, uc, udata));
	if (IS_ERR(psrq)) {
		ret = PTR_ERR(psrq);
		goto out;
	}
	init->attr = pinit.attr;
	srq->psrq = psrq;
	vrdma_pt_obj_add(vdev, &srq->obj, VRDMA_PT_SRQ, uc);
	vrdma_audit_created(VRDMA_AUDIT_SRQ);
out:
	vrdma_dev_leave(vdev);
	return ret;
}

static int vrdma_pt_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibsrq->device);
	struct vrdma_pt_srq *srq = to_pt_srq(ibsrq);
	struct uverbs_attr_bundle b;
	int ret;

	vrdma_dev_enter_destroy(vdev);
	if (srq->psrq) {
		ret = ib_destroy_srq_user(srq->psrq,
					  vrdma_pt_udata(&b, srq->obj.uc,
							 udata));
		if (ret) {
			vrdma_dev_leave(vdev);
			return ret;
		}
		srq->psrq = NULL;
	}
	vrdma_pt_obj_del(vdev, &srq->obj);
	vrdma_dev_leave(vdev);
	vrdma_audit_destroyed(VRDMA_AUDIT_SRQ);
	return 0;
}

static int vrdma_pt_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
			       enum ib_srq_attr_mask mask,
			       struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibsrq->device);
	struct vrdma_pt_srq *srq = to_pt_srq(ibsrq);
	struct uverbs_attr_bundle b;
	int ret;

	ret = vrdma_pt_enter(vdev, srq->obj.uc);
	if (ret)
		return ret;
	ret = srq->psrq ?
		vdev->pdev->ops.modify_srq(srq->psrq, attr, mask,
					   vrdma_pt_udata(&b, srq->obj.uc,
							  udata)) : -EIO;
	vrdma_dev_leave(vdev);
	return ret;
}

static int vrdma_pt_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct vrdma_dev *vdev = to_vdev(ibsrq->device);
	struct vrdma_pt_srq *srq = to_pt_srq(ibsrq);
	int ret;

	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = srq->psrq ? ib_query_srq(srq->psrq, attr) : -EIO;
	vrdma_dev_leave(vdev);
	return ret;
}

static int vrdma_pt_post_srq_recv(struct ib_srq *ibsrq,
				  const struct ib_recv_wr *wr,
				  const struct ib_recv_wr **bad_wr)
{
	struct vrdma_dev *vdev = to_vdev(ibsrq->device);
	struct vrdma_pt_srq *srq = to_pt_srq(ibsrq);
	int ret;

	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = srq->psrq ?
		vdev->pdev->ops.post_srq_recv(srq->psrq, wr, bad_wr) : -EIO;
	vrdma_dev_leave(vdev);
	return ret;
}

/* ------------------------------------------------------------------ */
/* QP                                                                   */

/*
 * The user QPs of passthrough devices on this host by physical device and
 * QPN: a destination QPN on this host must be a QP of the sender's virtual
 * network and QP type (as for shadow QPs, qp.c).  Looked up under the
 * lock only (ib_core frees the QPs without an RCU grace period).
 */
static DEFINE_HASHTABLE(vrdma_pt_qps, 8);
static DEFINE_SPINLOCK(vrdma_pt_qps_lock);

static u32 vrdma_pt_qps_key(struct ib_device *pdev, u32 qpn)
{
	return hash_ptr(pdev, 16) ^ qpn;
}

static void vrdma_pt_qp_hash(struct vrdma_pt_qp *qp, struct vrdma_dev *vdev)
{
	qp->hpdev = vdev->pdev;
	qp->hqpn = qp->pqp->qp_num;
	qp->vni = vdev->vni;
	spin_lock(&vrdma_pt_qps_lock);
	hash_add(vrdma_pt_qps, &qp->hnode,
		 vrdma_pt_qps_key(qp->hpdev, qp->hqpn));
	spin_unlock(&vrdma_pt_qps_lock);
}

/* Before its physical QP is destroyed (its QPN may be reused). */
static void vrdma_pt_qp_unhash(struct vrdma_pt_qp *qp)
{
	spin_lock(&vrdma_pt_qps_lock);
	if (!hlist_unhashed(&qp->hnode))
		hash_del(&qp->hnode);
	spin_unlock(&vrdma_pt_qps_lock);
}

/*
 * May @qp be aimed at @dqpn (@local: on this host)?  QP 0 and QP 1 are
 * the physical devices' own; on this host the destination must be a user
 * QP, passthrough or shadow, of the same type and virtual network.  Other
 * hosts' QPs are not known here (Documentation/security.rst).
 */
static int vrdma_pt_check_dest(struct vrdma_pt_qp *qp, struct vrdma_dev *vdev,
			       bool local, u32 dqpn)
{
	enum ib_qp_type type = qp->sqp.ibqp.qp_type;
	struct vrdma_pt_qp *dst;
	struct vrdma_qp *sdst;
	int ret = -EPERM;

	lockdep_assert_held(&qp->lock);

	if (dqpn <= 1)
		return -EPERM;
	if (!local)
		return 0;

	spin_lock(&vrdma_pt_qps_lock);
	hash_for_each_possible(vrdma_pt_qps, dst, hnode,
			       vrdma_pt_qps_key(vdev->pdev, dqpn)) {
		if (dst->hpdev == vdev->pdev && dst->hqpn == dqpn) {
			if (dst->vni == vdev->vni &&
			    dst->sqp.ibqp.qp_type == type)
				ret = 0;
			break;
		}
	}
	spin_unlock(&vrdma_pt_qps_lock);
	if (!ret)
		return 0;

	rcu_read_lock();
	sdst = vrdma_host_qp_rcu(vdev->pdev, dqpn);
	if (sdst && sdst->vdev->vni == vdev->vni && sdst->ibqp.qp_type == type)
		ret = 0;
	rcu_read_unlock();
	return ret;
}

static void vrdma_pt_qp_event(struct ib_event *pev, void *context)
{
	struct vrdma_pt_qp *qp = context;
	struct ib_qp *ibqp = &qp->sqp.ibqp;
	struct ib_event ev = {
		.device = ibqp->device,
		.element.qp = ibqp,
		.event = pev->event,
	};

	if (ibqp->event_handler)
		ibqp->event_handler(&ev, ibqp->qp_context);
}

static int vrdma_pt_qp_check(struct ib_qp *ibqp, struct ib_qp_init_attr *init)
{
	switch (init->qp_type) {
	case IB_QPT_RC:
	case IB_QPT_UC:
		break;
	case IB_QPT_UD:
		vrdma_pt_refuse(ibqp->device,
				"UD QPs are not supported (a UD send's address comes from userspace)");
		return -EOPNOTSUPP;
	default:
		vrdma_pt_refuse(ibqp->device, "QP type %d is not supported",
				init->qp_type);
		return -EOPNOTSUPP;
	}
	if (init->create_flags) {
		vrdma_pt_refuse(ibqp->device,
				"QP create flags 0x%x are not supported",
				init->create_flags);
		return -EOPNOTSUPP;
	}
	if (!init->send_cq || !init->recv_cq || init->rwq_ind_tbl)
		return -EINVAL;
	return 0;
}

static int vrdma_pt_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
			      struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_pt_ucontext *uc = vrdma_pt_uc(udata);
	struct vrdma_pt_qp *qp = to_pt_qp(ibqp);
	struct vrdma_pt_pd *pd = to_pt_pd(ibqp->pd);
	struct ib_device *pdev = vdev->pdev;
	struct ib_qp_init_attr pinit;
	struct uverbs_attr_bundle b;
	struct ib_pd *ppd;
	struct ib_qp *pqp;
	int ret;

	/* Kernel QPs: ib_mad's QP1, emulated (gsi.c), as on shadow devices. */
	if (!uc)
		return vrdma_create_qp(ibqp, init, udata);
	ret = vrdma_pt_qp_check(ibqp, init);
	if (ret)
		return ret;
	if (!vrdma_pt_quota_get(&vdev->n_qp, READ_ONCE(vdev->limits.max_qp)))
		return -ENOSPC;

	qp->scq = to_pt_cq(init->send_cq);
	qp->rcq = to_pt_cq(init->recv_cq);
	qp->srq = init->srq ? to_pt_srq(init->srq) : NULL;
	mutex_init(&qp->lock);

	ret = vrdma_pt_enter(vdev, uc);
	if (ret)
		goto err_quota;
	ppd = pd->ppd;
	if (!ppd || !qp->scq->pcq || !qp->rcq->pcq ||
	    (qp->srq && !qp->srq->psrq)) {
		ret = -EIO;
		goto err_leave;
	}

	pqp = rdma_zalloc_drv_obj_numa(pdev, ib_qp);
	if (!pqp) {
		ret = -ENOMEM;
		goto err_leave;
	}
	/* As ib_core's create_qp(). */
	pqp->device = pdev;
	pqp->pd = ppd;
	pqp->uobject = ibqp->uobject;
	pqp->real_qp = pqp;
	pqp->qp_type = init->qp_type;
	pqp->srq = qp->srq ? qp->srq->psrq : NULL;
	pqp->event_handler = vrdma_pt_qp_event;
	pqp->qp_context = qp;
	spin_lock_init(&pqp->mr_lock);
	INIT_LIST_HEAD(&pqp->rdma_mrs);
	INIT_LIST_HEAD(&pqp->sig_mrs);
	/* (6.12's srq_completion serves kernel QP drains only.) */
	pqp->send_cq = qp->scq->pcq;
	pqp->recv_cq = qp->rcq->pcq;

	pinit = *init;
	pinit.event_handler = vrdma_pt_qp_event;
	pinit.qp_context = qp;
	pinit.send_cq = pqp->send_cq;
	pinit.recv_cq = pqp->recv_cq;
	pinit.srq = pqp->srq;
	pinit.port_num = 0;
	ret = pdev->ops.create_qp(pqp, &pinit, vrdma_pt_udata(&b, uc, udata));
	if (ret) {
		kfree(pqp);
		goto err_leave;
	}
	/* mlx4 overwrites them (see ib_core's create_qp()). */
	pqp->send_cq = pinit.send_cq;
	pqp->recv_cq = pinit.recv_cq;
	/* As ib_qp_usecnt_inc(): ib_destroy_qp_user() undoes it. */
	atomic_inc(&ppd->usecnt);
	atomic_inc(&pqp->send_cq->usecnt);
	atomic_inc(&pqp->recv_cq->usecnt);
	if (pqp->srq)
		atomic_inc(&pqp->srq->usecnt);

	/* The capabilities the physical QP has, and its number. */
	init->cap = pinit.cap;
	ibqp->qp_num = pqp->qp_num;
	qp->pqp = pqp;
	vrdma_pt_qp_hash(qp, vdev);
	vrdma_pt_obj_add(vdev, &qp->obj, VRDMA_PT_QP, uc);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_QP);
	return 0;

err_leave:
	vrdma_dev_leave(vdev);
err_quota:
	atomic_dec(&vdev->n_qp);
	return ret;
}

static int vrdma_pt_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_pt_qp *qp = to_pt_qp(ibqp);
	struct uverbs_attr_bundle b;
	int ret;

	if (!qp->obj.uc)
		return vrdma_destroy_qp(ibqp, udata);

	vrdma_dev_enter_destroy(vdev);
	if (qp->pqp) {
		vrdma_pt_qp_unhash(qp);
		ret = ib_destroy_qp_user(qp->pqp,
					 vrdma_pt_udata(&b, qp->obj.uc, udata));
		if (ret) {
			vrdma_pt_qp_hash(qp, vdev);
			vrdma_dev_leave(vdev);
			return ret;
		}
		qp->pqp = NULL;
	}
	vrdma_pt_obj_del(vdev, &qp->obj);
	vrdma_dev_leave(vdev);
	mutex_destroy(&qp->lock);
	atomic_dec(&vdev->n_qp);
	vrdma_audit_destroyed(VRDMA_AUDIT_QP);
	return 0;
}

static int vrdma_pt_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			      int mask, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_pt_qp *qp = to_pt_qp(ibqp);
	struct uverbs_attr_bundle b;
	struct ib_qp_attr *pattr;
	bool local = false;
	int pmask, ret;

	if (!qp->obj.uc)
		return vrdma_modify_qp(ibqp, attr, mask, udata);

	pattr = kmalloc(sizeof(*pattr), GFP_KERNEL);
	if (!pattr)
		return -ENOMEM;
	ret = vrdma_pt_enter(vdev, qp->obj.uc);
	if (ret)
		goto out_free;
	if (!qp->pqp) {
		ret = -EIO;
		goto out_leave;
	}
	/* The overlay destination becomes the peer host's (map.c). */
	ret = vrdma_qp_translate(vdev, attr, mask, pattr, &pmask, &local);
	if (ret)
		goto out_leave;

	mutex_lock(&qp->lock);
	/* The destination QP, with the destination given now or before. */
	if ((mask & IB_QP_DEST_QPN) ||
	    ((mask & IB_QP_AV) && qp->dest_qpn_valid))
		ret = vrdma_pt_check_dest(qp, vdev, mask & IB_QP_AV ? local :
					  qp->av_valid && qp->av_local,
					  mask & IB_QP_DEST_QPN ?
					  attr->dest_qp_num : qp->dest_qpn);
	/* ib_core's own path for a user modify_qp, on the physical QP. */
	if (!ret)
		ret = ib_modify_qp_with_udata(qp->pqp, pattr, pmask,
					      vrdma_pt_udata(&b, qp->obj.uc,
							     udata));
	if (!ret && (mask & IB_QP_AV)) {
		qp->grh = *rdma_ah_read_grh(&attr->ah_attr);
		qp->grh.sgid_attr = NULL;
		qp->sl = rdma_ah_get_sl(&attr->ah_attr);
		qp->av_local = local;
		qp->av_valid = true;
	}
	if (!ret && (mask & IB_QP_DEST_QPN)) {
		qp->dest_qpn = attr->dest_qp_num;
		qp->dest_qpn_valid = true;
	}
	mutex_unlock(&qp->lock);
	rdma_destroy_ah_attr(&pattr->ah_attr);
out_leave:
	vrdma_dev_leave(vdev);
out_free:
	kfree(pattr);
	return ret;
}

static int vrdma_pt_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			     int mask, struct ib_qp_init_attr *init)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_pt_qp *qp = to_pt_qp(ibqp);
	struct ib_global_route *grh;
	int ret;

	if (!qp->obj.uc)
		return vrdma_query_qp(ibqp, attr, mask, init);

	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = qp->pqp ? ib_query_qp(qp->pqp, attr, mask, init) : -EIO;
	vrdma_dev_leave(vdev);
	if (ret)
		return ret;

	/* The application sees the addresses it gave, not the hosts'. */
	rdma_destroy_ah_attr(&attr->ah_attr);
	rdma_destroy_ah_attr(&attr->alt_ah_attr);
	memset(&attr->ah_attr, 0, sizeof(attr->ah_attr));
	memset(&attr->alt_ah_attr, 0, sizeof(attr->alt_ah_attr));
	attr->port_num = 1;
	attr->pkey_index = 0;
	attr->alt_port_num = 0;
	attr->alt_pkey_index = 0;
	mutex_lock(&qp->lock);
	if (qp->av_valid) {
		attr->ah_attr.type = RDMA_AH_ATTR_TYPE_ROCE;
		rdma_ah_set_port_num(&attr->ah_attr, 1);
		rdma_ah_set_ah_flags(&attr->ah_attr, IB_AH_GRH);
		rdma_ah_set_sl(&attr->ah_attr, qp->sl);
		grh = rdma_ah_retrieve_grh(&attr->ah_attr);
		*grh = qp->grh;
	}
	mutex_unlock(&qp->lock);

	/* The virtual objects, not the physical driver's. */
	init->event_handler = ibqp->event_handler;
	init->qp_context = ibqp->qp_context;
	init->send_cq = &qp->scq->scq.ibcq;
	init->recv_cq = &qp->rcq->scq.ibcq;
	init->srq = qp->srq ? &qp->srq->ibsrq : NULL;
	init->port_num = 1;
	return 0;
}

/*
 * The send doorbell of providers that need one (rxe: a post_send system
 * call without work requests), or the post_send write command.
 */
static int vrdma_pt_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
			      const struct ib_send_wr **bad_wr)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_pt_qp *qp = to_pt_qp(ibqp);
	int ret;

	if (!qp->obj.uc)
		return vrdma_post_send(ibqp, wr, bad_wr);
	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	WRITE_ONCE(vdev->last_activity, jiffies);
	ret = qp->pqp ? vdev->pdev->ops.post_send(qp->pqp, wr, bad_wr) : -EIO;
	vrdma_dev_leave(vdev);
	return ret;
}

static int vrdma_pt_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
			      const struct ib_recv_wr **bad_wr)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_pt_qp *qp = to_pt_qp(ibqp);
	int ret;

	if (!qp->obj.uc)
		return vrdma_post_recv(ibqp, wr, bad_wr);
	ret = vrdma_dev_enter(vdev);
	if (ret)
		return ret;
	ret = qp->pqp ? vdev->pdev->ops.post_recv(qp->pqp, wr, bad_wr) : -EIO;
	vrdma_dev_leave(vdev);
	return ret;
}

/* ------------------------------------------------------------------ */
/* AH                                                                   */

/* User AHs serve UD only; kernel ones (ib_cm's, QP1) are shadow AHs. */
static int vrdma_pt_create_user_ah(struct ib_ah *ibah,
				   struct rdma_ah_init_attr *init,
				   struct ib_udata *udata)
{
	vrdma_pt_refuse(ibah->device,
			"address handles are not supported (UD only)");
	return -EOPNOTSUPP;
}

/* ------------------------------------------------------------------ */
/* Kill                                                                 */

static void vrdma_pt_obj_kill(struct vrdma_pt_obj *obj)
{
	struct uverbs_attr_bundle b;
	struct ib_udata *udata = vrdma_pt_udata(&b, obj->uc, NULL);
	int ret = 0;

	switch (obj->type) {
	case VRDMA_PT_QP: {
		struct vrdma_pt_qp *qp = container_of(obj, struct vrdma_pt_qp,
						      obj);

		if (qp->pqp) {
			vrdma_pt_qp_unhash(qp);
			ret = ib_destroy_qp_user(qp->pqp, udata);
		}
		if (!ret)
			qp->pqp = NULL;
		break;
	}
	case VRDMA_PT_SRQ: {
		struct vrdma_pt_srq *srq = container_of(obj,
							struct vrdma_pt_srq,
							obj);

		if (srq->psrq)
			ret = ib_destroy_srq_user(srq->psrq, udata);
		if (!ret)
			srq->psrq = NULL;
		break;
	}
	case VRDMA_PT_MR: {
		struct vrdma_pt_mr *mr = container_of(obj, struct vrdma_pt_mr,
						      obj);

		if (mr->pmr)
			ret = ib_dereg_mr_user(mr->pmr, NULL);
		if (!ret)
			mr->pmr = NULL;
		break;
	}
	case VRDMA_PT_CQ: {
		struct vrdma_pt_cq *cq = container_of(obj, struct vrdma_pt_cq,
						      obj);

		if (cq->pcq)
			ret = ib_destroy_cq_user(cq->pcq, udata);
		if (!ret)
			cq->pcq = NULL;
		break;
	}
	case VRDMA_PT_PD: {
		struct vrdma_pt_pd *pd = container_of(obj, struct vrdma_pt_pd,
						      obj);

		if (pd->ppd)
			ret = ib_dealloc_pd_user(pd->ppd, udata);
		if (!ret)
			pd->ppd = NULL;
		break;
	}
	default:
		break;
	}
	if (ret)
		pr_notice("physical object (type %d) not destroyed: %d\n",
			  obj->type, ret);
}

/**
 * vrdma_pt_revoke() - revoke the mappings of the physical queues
 * @vdev: the passthrough device, dead (no new mapping can be made)
 *
 * Context: process context, without the gate (see pt.h).
 */
void vrdma_pt_revoke(struct vrdma_dev *vdev)
{
	struct vrdma_pt_dev *pt = vdev->pt;
	struct vrdma_pt_ucontext *uc;
	struct vrdma_pt_ctx **ctxs;
	unsigned int i, n = 0;

	mutex_lock(&pt->lock);
	ctxs = kmalloc_array(max(pt->n_uctx, 1U), sizeof(*ctxs), GFP_KERNEL);
	if (ctxs) {
		list_for_each_entry(uc, &pt->uctxs, node) {
			refcount_inc(&uc->ctx->ref);
			ctxs[n++] = uc->ctx;
		}
	}
	mutex_unlock(&pt->lock);
	if (!ctxs) {
		pr_notice("device %s: mappings not revoked (no memory)\n",
			  dev_name(&vdev->ibdev.dev));
		return;
	}
	/* Mappings in the making are done (the device is dead: no new one). */
	for (i = 0; i < n; i++) {
		down_write(&ctxs[i]->live_lock);
		up_write(&ctxs[i]->live_lock);
	}

	/* ib_core's mappings (rdma_user_mmap_io()), where it can zap them. */
	mutex_lock(&pt->revoke_lock);
	if (pt->uverbs_ready && n)
		vrdma_user_mmap_disassociate(&vdev->ibdev);
	mutex_unlock(&pt->revoke_lock);

	/* Every PFN mapping of the physical drivers, by this module. */
	for (i = 0; i < n; i++) {
		vrdma_pt_ctx_zap(ctxs[i]);
		vrdma_pt_ctx_put(ctxs[i]);
	}
	kfree(ctxs);
}

/**
 * vrdma_pt_kill() - destroy the physical objects of a passthrough device
 * @vdev: the device, dead, its mappings revoked
 *
 * The user objects stay until their owners destroy them (with their
 * physical pointers NULL); the physical ucontexts' driver state goes, their
 * memory stays until their last mapping is gone.
 *
 * Context: vrdma_dev_kill(), the gate held for write.
 */
void vrdma_pt_kill(struct vrdma_dev *vdev)
{
	struct vrdma_pt_dev *pt = vdev->pt;
	struct vrdma_pt_ucontext *uc;
	struct vrdma_pt_obj *obj;
	int type;

	lockdep_assert_held_write(&vdev->gate);
	mutex_lock(&pt->lock);
	for (type = 0; type < VRDMA_PT_NR; type++)
		list_for_each_entry(obj, &pt->objs, node)
			if (obj->type == type)
				vrdma_pt_obj_kill(obj);
	list_for_each_entry(uc, &pt->uctxs, node)
		vrdma_pt_ctx_release(uc->ctx);
	mutex_unlock(&pt->lock);
}

/* ------------------------------------------------------------------ */
/* Device setup                                                         */

/* ------------------------------------------------------------------ */
/* rdma resource                                                        */

/*
 * The physical side of a passthrough object in `rdma resource -dd`: the
 * physical device, and for a QP its physical QPN (its number is that QPN
 * anyway).  The physical objects of a passthrough device are user objects
 * of its physical device, not in ib_core's resource tracking there, and
 * are not looked at here: only what the virtual object recorded.  Kernel
 * objects (ib_mad's) are shadow objects (res.c).
 */
static int vrdma_pt_res_put(struct sk_buff *msg, struct vrdma_dev *vdev,
			    const char *what, u32 id, bool has_id)
{
	struct nlattr *table;

	table = nla_nest_start_noflag(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_put_driver_string(msg, "mode", "passthrough") ||
	    rdma_nl_put_driver_string(msg, "phys_dev",
				      dev_name(&vdev->pdev->dev)) ||
	    (has_id && rdma_nl_put_driver_u32(msg, what, id))) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

static int vrdma_pt_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp)
{
	struct vrdma_pt_qp *qp = to_pt_qp(ibqp);

	if (!qp->obj.uc)
		return vrdma_res_fill_qp_entry(msg, ibqp);
	/* hqpn is written before the QP is visible, and never changes. */
	return vrdma_pt_res_put(msg, to_vdev(ibqp->device), "phys_qpn",
				qp->hqpn, qp->hpdev);
}

static int vrdma_pt_fill_res_cq_entry(struct sk_buff *msg, struct ib_cq *ibcq)
{
	struct vrdma_pt_cq *cq = to_pt_cq(ibcq);

	if (!cq->obj.uc)
		return vrdma_res_fill_cq_entry(msg, ibcq);
	return vrdma_pt_res_put(msg, to_vdev(ibcq->device), NULL, 0, false);
}

/* Nothing of the MR is read: kernel and user MRs have different layouts. */
static int vrdma_pt_fill_res_mr_entry(struct sk_buff *msg, struct ib_mr *ibmr)
{
	return vrdma_pt_res_put(msg, to_vdev(ibmr->device), NULL, 0, false);
}

#ifdef VRDMA_HAVE_FILL_RES_SRQ_ENTRY
/* Every SRQ of a passthrough device is a user SRQ (create_srq). */
static int vrdma_pt_fill_res_srq_entry(struct sk_buff *msg,
				       struct ib_srq *ibsrq)
{
	return vrdma_pt_res_put(msg, to_vdev(ibsrq->device), NULL, 0, false);
}
#endif

const struct ib_device_ops vrdma_pt_ops = {
	.owner = THIS_MODULE,

	.alloc_pd = vrdma_pt_alloc_pd,
	.alloc_ucontext = vrdma_pt_alloc_ucontext,
	.create_cq = vrdma_pt_create_cq,
	.create_qp = vrdma_pt_create_qp,
	.create_srq = vrdma_pt_create_srq,
	.fill_res_cq_entry = vrdma_pt_fill_res_cq_entry,
	.fill_res_mr_entry = vrdma_pt_fill_res_mr_entry,
	.fill_res_qp_entry = vrdma_pt_fill_res_qp_entry,
#ifdef VRDMA_HAVE_FILL_RES_SRQ_ENTRY
	.fill_res_srq_entry = vrdma_pt_fill_res_srq_entry,
#endif
	.create_user_ah = vrdma_pt_create_user_ah,
	.dealloc_pd = vrdma_pt_dealloc_pd,
	.dealloc_ucontext = vrdma_pt_dealloc_ucontext,
	.dereg_mr = vrdma_pt_dereg_mr,
	.destroy_cq = vrdma_pt_destroy_cq,
	.destroy_qp = vrdma_pt_destroy_qp,
	.destroy_srq = vrdma_pt_destroy_srq,
	.disassociate_ucontext = vrdma_pt_disassociate_ucontext,
	.mmap = vrdma_pt_mmap,
	.modify_qp = vrdma_pt_modify_qp,
	.modify_srq = vrdma_pt_modify_srq,
	.poll_cq = vrdma_pt_poll_cq,
	.post_recv = vrdma_pt_post_recv,
	.post_send = vrdma_pt_post_send,
	.post_srq_recv = vrdma_pt_post_srq_recv,
	.query_device = vrdma_pt_query_device,
	.query_qp = vrdma_pt_query_qp,
	.query_srq = vrdma_pt_query_srq,
	.reg_user_mr = vrdma_pt_reg_user_mr,
	.req_notify_cq = vrdma_pt_req_notify_cq,
	.resize_cq = vrdma_pt_resize_cq,

	INIT_RDMA_OBJ_SIZE(ib_cq, vrdma_pt_cq, scq.ibcq),
	INIT_RDMA_OBJ_SIZE(ib_pd, vrdma_pt_pd, spd.ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, vrdma_pt_qp, sqp.ibqp),
	INIT_RDMA_OBJ_SIZE(ib_srq, vrdma_pt_srq, ibsrq),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, vrdma_pt_ucontext, ibuc),
};

/**
 * vrdma_pt_dev_init() - make a new virtual device a passthrough device
 * @vdev: the device, not registered yet, its ops set
 *
 * The device takes the physical driver's provider personality (driver id
 * and user ABI version), so that the stock provider of the physical
 * device binds to it.
 *
 * Return: 0, -EOPNOTSUPP if the physical device has no user verbs, or
 * -ENOMEM.
 */
int vrdma_pt_dev_init(struct vrdma_dev *vdev)
{
	const struct ib_device_ops *pops = &vdev->pdev->ops;
	struct vrdma_pt_dev *pt;

	if (!pops->alloc_ucontext || !pops->dealloc_ucontext || !pops->mmap ||
	    !pops->alloc_pd || !pops->create_cq || !pops->create_qp ||
	    !pops->modify_qp || !pops->query_qp || !pops->post_send ||
	    !pops->post_recv || !pops->req_notify_cq || !pops->poll_cq ||
	    !pops->create_srq || !pops->modify_srq || !pops->post_srq_recv ||
	    !pops->reg_user_mr || !pops->query_device)
		return -EOPNOTSUPP;

	pt = kzalloc(sizeof(*pt), GFP_KERNEL);
	if (!pt)
		return -ENOMEM;
	pt->vdev = vdev;
	mutex_init(&pt->lock);
	mutex_init(&pt->revoke_lock);
	INIT_LIST_HEAD(&pt->uctxs);
	INIT_LIST_HEAD(&pt->objs);
	vdev->pt = pt;

	vdev->ibdev.ops.driver_id = pops->driver_id;
	vdev->ibdev.ops.uverbs_abi_ver = pops->uverbs_abi_ver;
	vdev->ibdev.ops.uverbs_no_driver_id_binding =
		pops->uverbs_no_driver_id_binding;
	vdev->ibdev.uverbs_cmd_mask |= vdev->pdev->uverbs_cmd_mask;
	return 0;
}

/**
 * vrdma_pt_dev_free() - free the passthrough state of a device
 * @vdev: the device (ops.dealloc_driver: every object is gone)
 */
void vrdma_pt_dev_free(struct vrdma_dev *vdev)
{
	struct vrdma_pt_dev *pt = vdev->pt;

	if (!pt)
		return;
	WARN_ON(!list_empty(&pt->uctxs) || !list_empty(&pt->objs));
	mutex_destroy(&pt->lock);
	mutex_destroy(&pt->revoke_lock);
	kfree(pt);
	vdev->pt = NULL;
}

/*
 * An ib_client that sees the passthrough devices between ib_uverbs' add()
 * and remove().  Where the kernel has rdma_user_mmap_disassociate(), this
 * module needs ib_uverbs, whose client is then registered first: this
 * client's remove() runs before uverbs' remove_one().
 */
static struct vrdma_pt_dev *vrdma_pt_of(struct ib_device *ibdev)
{
	if (ibdev->ops.owner != THIS_MODULE)
		return NULL;
	return to_vdev(ibdev)->pt;
}

static int vrdma_pt_client_add(struct ib_device *ibdev)
{
	struct vrdma_pt_dev *pt = vrdma_pt_of(ibdev);

	if (!pt)
		return -EOPNOTSUPP;
	mutex_lock(&pt->revoke_lock);
	pt->uverbs_ready = true;
	mutex_unlock(&pt->revoke_lock);
	return 0;
}

static void vrdma_pt_client_remove(struct ib_device *ibdev, void *data)
{
	struct vrdma_pt_dev *pt = vrdma_pt_of(ibdev);

	if (!pt)
		return;
	mutex_lock(&pt->revoke_lock);
	pt->uverbs_ready = false;
	mutex_unlock(&pt->revoke_lock);
}

static struct ib_client vrdma_pt_client = {
	.name = "vrdma_pt",
	.add = vrdma_pt_client_add,
	.remove = vrdma_pt_client_remove,
	.no_kverbs_req = true,
};

/**
 * vrdma_pt_init() - module init of passthrough devices
 *
 * Return: 0 or a negative errno.
 */
int __init vrdma_pt_init(void)
{
	int ret;

	vrdma_pt_wq = alloc_workqueue("vrdma_pt", WQ_UNBOUND, 0);
	if (!vrdma_pt_wq)
		return -ENOMEM;
	ret = ib_register_client(&vrdma_pt_client);
	if (ret)
		destroy_workqueue(vrdma_pt_wq);
	return ret;
}

/**
 * vrdma_pt_exit() - module exit: every device and ctx is gone
 */
void vrdma_pt_exit(void)
{
	ib_unregister_client(&vrdma_pt_client);
	/* Waits for the last ctx's free, which dropped this module's ref. */
	destroy_workqueue(vrdma_pt_wq);
}
