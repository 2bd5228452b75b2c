/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtual RoCE device: objects and the interfaces between the files
 * that implement them.
 *
 *   vdev.c   device lifecycle, ib_device_ops table, query verbs, events,
 *            the receive-queue poller
 *   queue.c  rings shared with userspace (rxe user ABI) and their mmap
 *   mr.c     protection domains and memory regions
 *   cq.c     completion queues
 *   qp.c     queue pairs: create, modify, query, destroy
 *   post.c   the data path: send doorbells, receive refill, completions
 *   srq.c    shared receive queues
 *   ah.c     address handles
 *   map.c    overlay address -> physical address translation
 *
 * Every virtual object owns the matching object on the physical device
 * (created with ib_core's kernel verbs): a virtual PD is a physical PD, a
 * virtual CQ a physical CQ, and so on.  Userspace speaks the rxe user ABI
 * (include/uapi/rdma/rdma_user_rxe.h) so that rdma-core's stock librxe
 * binds: work queues and completion queues are rings in memory shared with
 * the process.  The kernel reads work requests from the rings, validates
 * them against the tenant's own objects and posts them to the physical
 * objects; completions of the physical CQ are translated into the virtual
 * CQ's ring.
 *
 * Locking
 * -------
 * What each lock protects is said at its field.  The order of every lock
 * of the module is one table: Documentation/architecture.rst, "Locking".
 * Spinlocks are taken with interrupts disabled (_irqsave): physical
 * completion handlers may run in any context.
 */
#ifndef _VRDMA_VERBS_H
#define _VRDMA_VERBS_H

#include <linux/completion.h>
#include <linux/hashtable.h>
#include <linux/hrtimer.h>
#include <linux/irq_poll.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/refcount.h>
#include <linux/wait.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_user_rxe.h>

#include "compat.h"

struct vrdma_gsi;
struct vrdma_phys;
struct vrdma_srq;
struct vrdma_stats;
struct vrdma_pt_dev;
struct vrdma_tun;

/* rxe user ABI version (RXE_UVERBS_ABI_VERSION, private to rxe). */
#define VRDMA_UVERBS_ABI_VERSION	2
/*
 * Vendor id of the rxe personality (RXE_VENDOR_ID, private to rxe): not 0,
 * which applications take for a broken device, and not the physical
 * device's, which would make them use that vendor's provider extensions.
 */
#define VRDMA_VENDOR_ID			0xffffff

/*
 * Large allocations for a process's objects: charged to its memory
 * cgroup, failing (ENOMEM for the verb, without a warning) beyond the
 * cgroup's limit instead of calling the OOM killer.
 */
#define VRDMA_GFP_TENANT	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)

/* Limits of the virtual device (clamped to the physical device's). */
#define VRDMA_MAX_SGE			32
#define VRDMA_MAX_INLINE		512
#define VRDMA_MAX_QP_WR			16384
#define VRDMA_MAX_CQE			(64 * 1024)
#define VRDMA_MIN_ELEM_SIZE		64	/* a cache line */
#define VRDMA_CQE_SIZE			64	/* >= sizeof(struct ib_uverbs_wc) */
#define VRDMA_GID_TBL_LEN		64

/* Work completion values of the user ABI (libibverbs' enum ibv_wc_*). */
enum {
	VRDMA_UWC_SEND			= 0,
	VRDMA_UWC_RDMA_WRITE		= 1,
	VRDMA_UWC_RDMA_READ		= 2,
	VRDMA_UWC_COMP_SWAP		= 3,
	VRDMA_UWC_FETCH_ADD		= 4,
	VRDMA_UWC_RECV			= 1 << 7,
	VRDMA_UWC_RECV_RDMA_WITH_IMM	= (1 << 7) + 1,
};

enum {
	VRDMA_UWC_FLAG_GRH		= 1 << 0,
	VRDMA_UWC_FLAG_WITH_IMM		= 1 << 1,
	VRDMA_UWC_FLAG_IP_CSUM_OK	= 1 << 2,
	VRDMA_UWC_FLAG_WITH_INV		= 1 << 3,
};

/*
 * Every object of a device is on its object list, so that
 * vrdma_dev_kill() can destroy the physical objects when the physical
 * device goes away, in this order (QPs before the CQs they use, ...).
 */
enum vrdma_obj_type {
	VRDMA_OBJ_QP,
	VRDMA_OBJ_SRQ,
	VRDMA_OBJ_AH,
	VRDMA_OBJ_MR,
	VRDMA_OBJ_CQ,
	VRDMA_OBJ_PD,
	VRDMA_OBJ_NR
};

/**
 * struct vrdma_obj - an object's entry in its device's object list
 * @node: entry in vdev->objs (vdev->obj_lock)
 * @type: what the object is
 */
struct vrdma_obj {
	struct list_head node;
	enum vrdma_obj_type type;
};

/**
 * struct vrdma_limits - per-device resource limits (0: the device maximum)
 */
struct vrdma_limits {
	u32 max_qp;
	u32 max_cq;
	u32 max_mr;
	u64 max_pinned;		/* bytes of registered memory */
};

/**
 * struct vrdma_dev - a virtual RoCE device
 * @ibdev: the ib_device (first member: ib_alloc_device())
 * @phys: the backing physical device (a reference)
 * @pdev: @phys's ib_device, usable while the device is not @dead
 * @pport: the physical port used
 * @vni: virtual network (tenant) of the device's addresses
 * @ndev_lock: protects @ndev
 * @ndev: the container's netdev whose addresses are the GIDs (a
 *	reference); NULL once it unregisters
 * @ndev_tracker: reference tracker of @ndev
 * @node: entry in the list of devices (vrdma_devs_lock)
 * @unreg_work: asynchronous deletion
 * @phys_handler: receives the physical device's events
 * @gate: see "Locking" above
 * @dead: the physical device went away (written under @gate)
 * @obj_lock: protects @objs
 * @objs: every object of the device (struct vrdma_obj)
 * @mrs: lkey -> struct vrdma_mr, for work request validation (RCU)
 * @ahs: ah_num -> struct vrdma_ah
 * @srqs: id -> struct vrdma_srq (the id is part of receive wr_ids)
 * @qp_hash_lock: serializes writers of @qp_hash
 * @qp_hash: physical QP -> struct vrdma_qp, for completions (RCU)
 * @gsi_lock: protects @gsi and its receive ring (gsi.c)
 * @gsi: the emulated QP1, or NULL
 * @limits: resource limits
 * @n_qp, @n_cq, @n_mr: objects in use, checked against @limits
 * @pinned: bytes of registered memory
 * @rq_list_lock: protects @rq_list
 * @rq_list: receive queues (struct vrdma_rq) the poller scans
 * @rq_timer: the receive-queue poller
 * @rq_period_ns: its current period
 * @rq_idle: consecutive scans that found no new receive work
 * @rq_kicked_ns: when a sign of life last scanned the receive queues
 * @stats: per-CPU counters (counters.h)
 * @owner: "vrdma:<name>", the owner ib_core's resource tracking shows for
 *	the device's physical objects (vrdma_dev_owner())
 * @owner_set: @owner is written (once, release/acquire)
 * @mode: enum vrdma_dev_mode (uapi), fixed at creation
 * @pt: passthrough state (pt.c), NULL for a shadow device
 */
struct vrdma_dev {
	struct ib_device ibdev;
	struct vrdma_phys *phys;
	struct ib_device *pdev;
	u32 pport;
	u32 vni;

	spinlock_t ndev_lock;		/* protects ndev */
	struct net_device *ndev;
	netdevice_tracker ndev_tracker;

	struct list_head node;
	struct work_struct unreg_work;
	struct ib_event_handler phys_handler;
	struct rw_semaphore gate;
	bool dead;
	struct mutex obj_lock;		/* protects objs */
	struct list_head objs;

	struct xarray mrs;
	struct xarray ahs;
	struct xarray srqs;
	spinlock_t qp_hash_lock;	/* serializes qp_hash writers */
	DECLARE_HASHTABLE(qp_hash, 8);
	spinlock_t gsi_lock;		/* protects gsi */
	struct vrdma_gsi *gsi;

	struct vrdma_limits limits;
	atomic_t n_qp;
	atomic_t n_cq;
	atomic_t n_mr;
	atomic64_t pinned;

	spinlock_t rq_list_lock;	/* protects rq_list */
	struct list_head rq_list;
	struct hrtimer rq_timer;
	u64 rq_period_ns;
	u32 rq_idle;
	u64 rq_kicked_ns;

	unsigned long last_activity;	/* jiffies of the data path's last run
					 * (post.c), 0: never; hooks.c
					 */

	struct vrdma_stats __percpu *stats;
	char owner[IB_DEVICE_NAME_MAX + 8];
	bool owner_set;
	u32 mode;
	struct vrdma_pt_dev *pt;
};

static inline struct vrdma_dev *to_vdev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct vrdma_dev, ibdev);
}

/**
 * struct vrdma_queue - a ring in the rxe user ABI layout
 * @buf: header and slots (vmalloc_user(); mapped by the process for user
 *	objects).  Userspace may write anything in it at any time: indices
 *	read from it are masked, sizes are never read back from it.
 * @buf_size: size of @buf in bytes (page aligned)
 * @log2_elem_size: slot size
 * @index_mask: number of slots - 1 (the ring holds @index_mask elements)
 * @mmap: the mmap entry for user objects, NULL for kernel objects
 */
struct vrdma_queue {
	struct rxe_queue_buf *buf;
	size_t buf_size;
	u32 log2_elem_size;
	u32 index_mask;
	struct rdma_user_mmap_entry *mmap;
};

/*
 * queue.c.  vrdma_queue_init() allocates a ring for at least @nelem
 * elements of at least @elem_size bytes (rounded up to a power of two, at
 * least VRDMA_MIN_ELEM_SIZE) and, when @udata is not NULL, makes it
 * mappable and describes it in @mi.  vrdma_queue_cleanup() frees it (a
 * mapped ring lives until the process unmaps it).
 */
int vrdma_queue_init(struct vrdma_dev *vdev, struct vrdma_queue *q,
		     u32 nelem, u32 elem_size, struct ib_udata *udata,
		     struct mminfo *mi);
void vrdma_queue_cleanup(struct vrdma_queue *q);
int vrdma_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma);
void vrdma_mmap_free(struct rdma_user_mmap_entry *entry);

static inline void *vrdma_queue_slot(const struct vrdma_queue *q, u32 index)
{
	return q->buf->data + ((size_t)(index & q->index_mask) << q->log2_elem_size);
}

static inline u32 vrdma_queue_elem_size(const struct vrdma_queue *q)
{
	return 1U << q->log2_elem_size;
}

/* Producer index written by userspace (SQ, RQ, SRQ): acquire, masked. */
static inline u32 vrdma_queue_user_prod(const struct vrdma_queue *q)
{
	/* Pairs with the producer's release: the slots are written first. */
	return smp_load_acquire(&q->buf->producer_index) & q->index_mask;
}

/* Consumer index written by userspace (CQ): acquire, masked. */
static inline u32 vrdma_queue_user_cons(const struct vrdma_queue *q)
{
	/* Pairs with the consumer's release: it is done with the slots. */
	return smp_load_acquire(&q->buf->consumer_index) & q->index_mask;
}

static inline void vrdma_queue_publish_cons(struct vrdma_queue *q, u32 cons)
{
	/* The slots were read before: userspace may reuse them now. */
	smp_store_release(&q->buf->consumer_index, cons & q->index_mask);
}

static inline void vrdma_queue_publish_prod(struct vrdma_queue *q, u32 prod)
{
	/* The slots were written before: userspace may read them now. */
	smp_store_release(&q->buf->producer_index, prod & q->index_mask);
}

struct vrdma_ucontext {
	struct ib_ucontext ibuc;
};

/**
 * struct vrdma_pd - a protection domain: one physical PD each
 * @ibpd: the virtual PD
 * @ppd: the physical PD (NULL once the device is killed)
 * @obj: entry in the device's object list
 */
struct vrdma_pd {
	struct ib_pd ibpd;
	struct ib_pd *ppd;
	struct vrdma_obj obj;
};

static inline struct vrdma_pd *to_vpd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct vrdma_pd, ibpd);
}

/**
 * struct vrdma_mr - a memory region registered with the physical device
 * @ibmr: the virtual MR; its lkey and rkey are the physical ones (the
 *	peer's RNIC checks the rkey)
 * @pmr: the physical MR (NULL once the device is killed)
 * @obj: entry in the device's object list
 * @pd: the virtual PD
 * @iova: first address of the region
 * @length: its length
 * @access: IB_ACCESS_* flags
 * @pages: the region's pages, pinned (without accounting: the physical
 *	MR accounts them) for kernel writes into it (UD GRH rewrite); only
 *	for regions with IB_ACCESS_LOCAL_WRITE
 * @npages: entries in @pages
 * @page_off: offset of the region's first byte in its first page
 * @users: vrdma_mr_read()/vrdma_mr_write() in progress, plus one for the
 *	registration; deregistration waits for it to drop to zero
 * @released: completed when @users drops to zero
 * @rcu: freeing is RCU-deferred (lookups under rcu_read_lock())
 */
struct vrdma_mr {
	struct ib_mr ibmr;
	struct ib_mr *pmr;
	struct vrdma_obj obj;
	struct vrdma_pd *pd;
	u64 iova;
	u64 length;
	int access;
	struct page **pages;
	unsigned long npages;
	unsigned int page_off;
	refcount_t users;
	struct completion released;
	struct rcu_head rcu;
};

static inline struct vrdma_mr *to_vmr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct vrdma_mr, ibmr);
}

/*
 * mr.c.  vrdma_mr_check() validates one scatter/gather element of a work
 * request: the lkey names an MR of @pd, [addr, addr + len) lies inside it
 * and it grants @access (IB_ACCESS_LOCAL_WRITE for receive buffers and
 * RDMA READ / atomic targets, 0 otherwise).  Any context; returns 0 or
 * -EINVAL.  vrdma_mr_write() copies @len bytes into a registered region
 * (for GRH rewrites; 0 or -EINVAL).
 */
int vrdma_mr_check(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey,
		   u64 addr, u32 len, int access);
int vrdma_mr_write(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey,
		   u64 addr, const void *src, u32 len);
int vrdma_mr_read(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey,
		  u64 addr, void *dst, u32 len);

/**
 * struct vrdma_cq - a completion queue
 * @ibcq: the virtual CQ
 * @pcq: the physical CQ (ib_create_cq() with vrdma_pcq_comp_handler() and
 *	vrdma_pcq_event(), @ibcq's CQ as context; NULL once killed)
 * @iop: polls @pcq in softirq context (post.c)
 * @obj: entry in the device's object list
 * @vdev: the device
 * @lock: protects @q's producer side, @prod and @notify
 * @q: the ring (kernel produces, userspace consumes)
 * @prod: producer index (kernel private; the shared copy is output only)
 * @notify: armed for the next completion (IB_CQ_NEXT_COMP), the next
 *	solicited one (IB_CQ_SOLICITED), or not (0)
 * @overflowed: an overflow was reported (IB_EVENT_CQ_ERR)
 * @kernel: a kernel consumer's CQ (ib_mad's): no physical CQ and no
 *	shared ring, completions in @kwc
 * @kwc: ring of kernel completions (power of two entries)
 * @ksize: its size
 * @khead: oldest completion in @kwc (under @lock)
 * @ktail: next free entry of @kwc (under @lock)
 * @resize_lock: serializes resizes of @q and @pcq, @pcq_reserved and
 *	@srqs
 * @pcq_reserved: physical work requests that may complete on @pcq
 *	(vrdma_cq_reserve())
 * @events: the CQ has a completion channel (its arming matters)
 * @parm: the armings of @pcq in force, VRDMA_PARM_* (cleared by @pcq's
 *	completion handler, which consumes them)
 * @sol_fired: @pcq's completion handler ran for a solicited-only arming
 * @kicked: @pcq's completion handler ran, or @ibcq was armed, since the
 *	last poll of @pcq began: a poll is on its way, and arming @pcq waits
 *	for its end (vrdma_pcq_kick())
 * @arm_lock: serializes polling @pcq and arming it (softirq)
 * @rx_unsol: the receives being polled are not solicited (under @arm_lock)
 * @rx_unknown: @pcq holds completions that may have arrived while no
 *	solicited-only arming was in force (under @arm_lock)
 * @timer: polls @pcq while it is not armed for every completion
 * @timer_us: its period (under @arm_lock)
 * @srqs: SRQs whose receives may complete on @pcq (vrdma_cq_reserve_srq())
 */
struct vrdma_cq {
	struct ib_cq ibcq;
	struct ib_cq *pcq;
	struct vrdma_obj obj;
	struct irq_poll iop;
	struct vrdma_dev *vdev;
	spinlock_t lock;		/* see above */
	struct vrdma_queue q;
	u32 prod;
	u8 notify;
	bool overflowed;
	bool kernel;
	struct ib_wc *kwc;
	u32 ksize;
	u32 khead;
	u32 ktail;
	struct mutex resize_lock;	/* see above */
	u32 pcq_reserved;
	bool events;
	atomic_t parm;
	atomic_t sol_fired;
	atomic_t kicked;
	spinlock_t arm_lock;		/* see above */
	bool rx_unsol;
	bool rx_unknown;
	struct hrtimer timer;
	u32 timer_us;
	struct list_head srqs;
};

/* The armings of a physical CQ in force (struct vrdma_cq.parm). */
#define VRDMA_PARM_NEXT		BIT(0)
#define VRDMA_PARM_SOL		BIT(1)

static inline struct vrdma_cq *to_vcq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct vrdma_cq, ibcq);
}

/*
 * cq.c.  vrdma_cq_push() appends one completion to the ring and signals
 * the completion channel if the CQ is armed for it; any context.  Returns
 * -ENOSPC (and reports IB_EVENT_CQ_ERR once) when the ring is full.
 */
int vrdma_cq_push(struct vrdma_cq *cq, const struct ib_uverbs_wc *uwc,
		  bool solicited);
int vrdma_cq_push_kernel(struct vrdma_cq *cq, const struct ib_wc *wc);
void vrdma_pcq_arm(struct vrdma_cq *cq);
void vrdma_cq_solicited_event(struct vrdma_cq *cq);
int vrdma_poll_cq(struct ib_cq *ibcq, int num_entries, struct ib_wc *wc);

/*
 * cq.c.  The physical CQ must hold the completions of every work request
 * outstanding on the physical queues attached to it.  A physical queue's
 * owner reserves its depth with vrdma_cq_reserve() (process context,
 * inside the gate; grows the physical CQ if needed; -ENOSPC if it cannot
 * be that large) and releases it with vrdma_cq_unreserve().
 */
int vrdma_cq_reserve(struct vrdma_cq *cq, u32 nwr);
void vrdma_cq_unreserve(struct vrdma_cq *cq, u32 nwr);
int vrdma_cq_reserve_srq(struct vrdma_cq *cq, struct vrdma_srq *srq);
void vrdma_cq_unreserve_srq(struct vrdma_cq *cq, struct vrdma_srq *srq);

/*
 * post.c: the physical CQ's handlers.  cq.c creates the physical CQ with
 * ib_create_cq(pdev, vrdma_pcq_comp_handler, vrdma_pcq_event, cq, ...),
 * calls irq_poll_init(&cq->iop, VRDMA_POLL_BUDGET, vrdma_pcq_poll) and arms
 * it (vrdma_pcq_arm()); before destroying it, irq_poll_disable(&cq->iop)
 * and hrtimer_cancel(&cq->timer).
 */
#define VRDMA_POLL_BUDGET	64
void vrdma_pcq_comp_handler(struct ib_cq *pcq, void *cq_context);
void vrdma_pcq_kick(struct vrdma_cq *cq);
void vrdma_pcq_drain(struct vrdma_cq *cq);
void vrdma_pcq_event(struct ib_event *event, void *cq_context);
int vrdma_pcq_poll(struct irq_poll *iop, int budget);

/*
 * wr_id of a work request posted to the physical device: what it is, and
 * where its record is (a send: the send counter; a receive: the slot in
 * the receive queue's shadow table, and for an SRQ the SRQ's id).  No
 * pointer: a completion may arrive for an object already destroyed, and is
 * then dropped after a lookup.
 */
#define VRDMA_WRID_KIND_SHIFT	62
#define VRDMA_WRID_SQ		0ULL
#define VRDMA_WRID_RQ		1ULL
#define VRDMA_WRID_SRQ		2ULL
#define VRDMA_WRID_ID_SHIFT	32
#define VRDMA_WRID_ID_MASK	GENMASK_ULL(29, 0)

/**
 * struct vrdma_rwqe - a receive work request posted to the physical device
 * @wr_id: the application's wr_id
 * @sge0_addr: first scatter element (UD: where the GRH lands)
 * @sge0_lkey: its lkey
 * @sge0_len: its length
 * @num_sge: scatter elements posted (in the queue's @sges, at the slot)
 * @grh: the GRH lands in the queue's @grh buffer, not in the application's
 */
struct vrdma_rwqe {
	u64 wr_id;
	u64 sge0_addr;
	u32 sge0_lkey;
	u32 sge0_len;
	u32 num_sge;
	bool grh;
};

/**
 * struct vrdma_rq - a receive queue (of a QP, or an SRQ)
 * @lock: protects everything below but @node
 * @q: the ring (userspace produces, the kernel consumes)
 * @cons: consumer index (kernel private): the next WQE to move
 * @done: a QP's queue: receives completed, the consumer index userspace
 *	sees (a WQE's slot stays taken until it completes, as in rxe, so
 *	that the ring is the queue's capacity); an SRQ publishes @cons
 * @wqe: copy of the receive WQE being processed
 * @shadow: one entry per receive posted to the physical queue
 * @sges: scatter lists of the posted receives, @max_sge + 1 per slot
 * @free: bitmap of free @shadow entries
 * @depth: entries in @shadow (the physical queue's depth)
 * @posted: receives outstanding on the physical queue
 * @max_sge: scatter elements per receive
 * @pd: the PD receive buffers must belong to
 * @qp: the QP (NULL for an SRQ)
 * @srq: the SRQ (NULL for a QP's own receive queue)
 * @id: SRQ id (vdev->srqs), 0 for a QP's own queue
 * @active: the physical queue accepts receives (QP in INIT or later)
 * @error: the queue is in error: receives are flushed, not posted
 * @err_reported: an SRQ reported IB_EVENT_SRQ_ERR; not again until
 *	modify_srq re-arms it
 * @node: entry in vdev->rq_list while @active
 * @grh: a UD QP's receive queue: VRDMA_GRH_SIZE bytes per slot where the
 *	physical device writes the GRH (NULL otherwise)
 * @grh_dma: @grh mapped for @grh_dev
 * @grh_dev: the physical device
 * @grh_lkey: the physical PD's local DMA lkey
 */
struct vrdma_rq {
	spinlock_t lock;		/* see above */
	struct vrdma_queue q;
	u32 cons;
	u32 done;
	void *wqe;
	struct vrdma_rwqe *shadow;
	struct ib_sge *sges;
	unsigned long *free;
	u32 depth;
	u32 posted;
	u32 max_sge;
	struct vrdma_pd *pd;
	struct vrdma_qp *qp;
	struct vrdma_srq *srq;
	u32 id;
	bool active;
	bool error;
	bool err_reported;
	struct list_head node;
	u8 *grh;
	u64 grh_dma;
	struct ib_device *grh_dev;
	u32 grh_lkey;
};

#define VRDMA_GRH_SIZE		40	/* sizeof(struct ib_grh) */

int vrdma_rq_init_grh(struct vrdma_rq *rq, struct ib_device *pdev, u32 lkey);
void vrdma_rq_free_grh(struct vrdma_rq *rq);

/**
 * struct vrdma_srq - a shared receive queue
 * @ibsrq: the virtual SRQ
 * @psrq: the physical SRQ (NULL once the device is killed)
 * @obj: entry in the device's object list
 * @vdev: the device
 * @rq: its receive queue; @rq.id is the SRQ's id in vdev->srqs
 */
struct vrdma_srq {
	struct ib_srq ibsrq;
	struct ib_srq *psrq;
	struct vrdma_obj obj;
	struct vrdma_dev *vdev;
	struct vrdma_rq rq;
};

static inline struct vrdma_srq *to_vsrq(struct ib_srq *ibsrq)
{
	return container_of(ibsrq, struct vrdma_srq, ibsrq);
}

/* MRs a send's record names (more: struct vrdma_swqe's @many_mrs). */
#define VRDMA_SWQE_LKEYS	2

/**
 * struct vrdma_swqe - the record of a send WQE taken from the ring
 * @wr_id: the application's wr_id
 * @opcode: VRDMA_UWC_* opcode its completion reports
 * @status: its completion status (set when it is done)
 * @byte_len: byte_len of its completion
 * @vendor_err: vendor_err of its completion
 * @signaled: the application asked for a completion
 * @posted: it was posted to the physical QP (else it completes with
 *	@status in its turn, without one)
 * @done: the physical QP completed it
 * @len: bytes of its scatter list or inline data (counters.h)
 * @lkey: the MRs its scatter list uses, @n_lkey of them (posted sends)
 * @n_lkey: entries of @lkey used
 * @many_mrs: its scatter list uses more MRs than @lkey holds
 */
struct vrdma_swqe {
	u64 wr_id;
	u32 opcode;
	u32 status;
	u32 byte_len;
	u32 vendor_err;
	u32 len;
	u32 lkey[VRDMA_SWQE_LKEYS];
	u8 n_lkey;
	bool many_mrs;
	bool signaled;
	bool posted;
	bool done;
};

/**
 * struct vrdma_qp - a queue pair
 * @ibqp: the virtual QP; its qp_num is the physical QPN (the peer sends
 *	to it)
 * @pqp: the physical QP (NULL once the device is killed)
 * @obj: entry in the device's object list
 * @vdev: the device
 * @pd: its PD
 * @scq: send CQ
 * @rcq: receive CQ
 * @srq: SRQ, or NULL
 * @scq_reserved: completions reserved on @scq's physical CQ
 * @rcq_reserved: completions reserved on @rcq's physical CQ
 * @srq_reserved: @srq's receives are reserved on @rcq's physical CQ
 * @sq_lock: protects the send queue fields below
 * @sq: send ring (userspace produces, the kernel consumes)
 * @sq_cons: its consumer index (kernel private)
 * @sq_shadow: records of the sends taken from the ring, not yet retired
 * @sq_depth: entries in @sq_shadow (power of two, >= @sq_max)
 * @sq_max: records in use at most (the physical QP's send queue depth,
 *	at most what the application asked for)
 * @sq_head: oldest outstanding send (free-running counter)
 * @sq_tail: next send (free-running counter)
 * @max_send_wr: send queue size the application asked for (and got)
 * @max_recv_wr: receive queue size the application asked for (and got)
 * @max_send_sge: scatter elements per send
 * @max_inline: inline bytes per send
 * @sq_sig_all: every send completes with a completion
 * @sq_error: the send queue is in error: sends are flushed
 * @wqe: copy of the send WQE being processed (userspace may change the
 *	ring under us)
 * @rq: the QP's own receive queue (unused with an SRQ)
 * @state_lock: serializes modify_qp and the error work
 * @state: last state set on the physical QP
 * @err_work: moves the physical QP to the error state (from atomic
 *	context, where ib_modify_qp() may not be called)
 * @hnode: entry in vdev->qp_hash
 * @last_activity: jiffies of the QP's last send doorbell or completion
 *	(post.c), 0: never; read by hooks.c
 * @unode: entry in the host's directory of user QPs (qp.c)
 * @ud_last_valid: @ud_last_dgid and @ud_last_sgid_index are set
 * @ud_last_dgid: overlay destination of the last UD send
 * @ud_last_sgid_index: source GID index of the last UD send
 * @drain_wq: destroy waits here for outstanding work requests
 * @last_wqe: IB_EVENT_QP_LAST_WQE_REACHED seen (SRQ QPs)
 * @av_valid: @vdgid is set
 * @vdgid: destination GID as the application gave it (overlay)
 * @vsgid_index: source GID index as the application gave it
 * @av_local: the destination is on this host (valid with @av_valid)
 * @dest_qpn_valid: @dest_qpn is set
 * @dest_qpn: the destination QPN (RC, UC)
 * @gsi: the emulation state of a QP1 (gsi.c), NULL for other QPs
 * @gsi_qkey: a QP1's Q_Key
 * @tun: a UD QP's tunnel endpoint, to announce itself to the hosts it
 *	sends to (gsi.c)
 * @uda_lock: serializes announcers (post.c)
 * @uda_work: announces from process context what the send path, in any
 *	context, found unannounced
 * @uda_pending: the WQE at @sq_cons waits for an announcement to
 *	(@uda_host, @uda_sgid_index) (under @sq_lock)
 * @uda_host: the host it goes to (physical GID)
 * @uda_sgid_index: its source GID index
 * @announced: (host, source GID index) pairs it announced itself to,
 *	under @sq_lock
 * @n_announced: entries in @announced
 * @announced_next: the entry replaced next when @announced is full
 * @announced_at: when @announced was last emptied (jiffies)
 * @uda_acks: acknowledgments of its announcements received (gsi.c)
 * @pmtu_shift: log2 of the path MTU set with modify_qp, 0 before (and for
 *	UD): packets of a message, for the counters (counters.h)
 */
struct vrdma_qp {
	struct ib_qp ibqp;
	struct ib_qp *pqp;
	struct vrdma_obj obj;
	struct vrdma_dev *vdev;
	struct vrdma_pd *pd;
	struct vrdma_cq *scq;
	struct vrdma_cq *rcq;
	struct vrdma_srq *srq;
	u32 scq_reserved;
	u32 rcq_reserved;
	bool srq_reserved;

	spinlock_t sq_lock;		/* see above */
	struct vrdma_queue sq;
	u32 sq_cons;
	struct vrdma_swqe *sq_shadow;
	u32 sq_depth;
	u32 sq_max;
	u32 sq_head;
	u32 sq_tail;
	u32 max_send_wr;
	u32 max_recv_wr;
	u32 max_send_sge;
	u32 max_inline;
	bool sq_sig_all;
	bool sq_error;
	void *wqe;

	struct vrdma_rq rq;

	struct mutex state_lock;	/* see above */
	enum ib_qp_state state;
	struct work_struct err_work;
	struct hlist_node hnode;
	unsigned long last_activity;
	struct hlist_node unode;
	bool ud_last_valid;
	union ib_gid ud_last_dgid;
	u32 ud_last_sgid_index;
	wait_queue_head_t drain_wq;
	bool last_wqe;

	bool av_valid;
	union ib_gid vdgid;
	u8 vsgid_index;
	bool av_local;
	bool dest_qpn_valid;
	u32 dest_qpn;

	struct vrdma_gsi *gsi;
	u32 gsi_qkey;

	struct vrdma_tun *tun;
	struct mutex uda_lock;		/* serializes announcers */
	struct work_struct uda_work;
	bool uda_pending;
	union ib_gid uda_host;
	u32 uda_sgid_index;
	struct {
		union ib_gid host;
		u32 sgid_index;
	} announced[8];
	u32 n_announced;
	u32 announced_next;
	unsigned long announced_at;
	atomic_t uda_acks;
	u8 pmtu_shift;
};

static inline struct vrdma_qp *to_vqp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct vrdma_qp, ibqp);
}

/**
 * struct vrdma_ah - an address handle
 * @ibah: the virtual AH
 * @pah: the physical AH, on the translated (physical) address
 * @obj: entry in the device's object list
 * @pd: its PD (a work request may only use AHs of its QP's PD)
 * @ah_num: its number in the rxe user ABI (vdev->ahs index, never 0)
 * @attr: the attributes as the application gave them (query_ah)
 * @kernel: a kernel consumer's AH (ib_cm's, for QP1): no physical AH and
 *	no number, never on the object list
 * @host: physical GID of the destination host (user AHs)
 * @local: the destination is on this host (the RNIC's loopback)
 */
struct vrdma_ah {
	struct ib_ah ibah;
	struct ib_ah *pah;
	struct vrdma_obj obj;
	struct vrdma_pd *pd;
	u32 ah_num;
	struct rdma_ah_attr attr;
	bool kernel;
	union ib_gid host;
	bool local;
};

static inline struct vrdma_ah *to_vah(struct ib_ah *ibah)
{
	return container_of(ibah, struct vrdma_ah, ibah);
}

/*
 * vdev.c.  A verb that uses physical objects runs between
 * vrdma_dev_enter() (-EIO once the physical device is gone) and
 * vrdma_dev_leave(); a destroy verb between vrdma_dev_enter_destroy()
 * (never fails: it then frees the virtual side only, the physical object
 * pointer being NULL) and vrdma_dev_leave().  Objects are put on the
 * device's list with vrdma_obj_add() once created, and taken off with
 * vrdma_obj_del() first thing when destroyed, both inside the gate.
 */
int vrdma_dev_init(void);
void vrdma_dev_exit(void);
void vrdma_dev_rq_kick(struct vrdma_dev *vdev);
int vrdma_dev_enter(struct vrdma_dev *vdev);
int vrdma_dev_enter_user(struct vrdma_dev *vdev, struct ib_udata *udata,
			 size_t resp_len);
void vrdma_dev_enter_destroy(struct vrdma_dev *vdev);
void vrdma_dev_leave(struct vrdma_dev *vdev);
void vrdma_obj_add(struct vrdma_dev *vdev, struct vrdma_obj *obj,
		   enum vrdma_obj_type type);
void vrdma_obj_del(struct vrdma_dev *vdev, struct vrdma_obj *obj);
void vrdma_dev_kill(struct vrdma_dev *vdev);

/*
 * Destroy the physical side of an object, for vrdma_dev_kill() (gate
 * held for write): the object stays, its physical pointer becomes NULL.
 */
void vrdma_qp_kill(struct vrdma_qp *qp);
void vrdma_srq_kill(struct vrdma_srq *srq);
void vrdma_ah_kill(struct vrdma_ah *ah);
void vrdma_mr_kill(struct vrdma_mr *mr);
void vrdma_cq_kill(struct vrdma_cq *cq);
void vrdma_pd_kill(struct vrdma_pd *pd);

/* mr.c */
int vrdma_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int vrdma_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
struct ib_mr *vrdma_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
				u64 iova, int access, struct ib_udata *udata);
int vrdma_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);
struct ib_mr *vrdma_get_dma_mr(struct ib_pd *ibpd, int access);
/* The registration policy and limits, shared with passthrough MRs (pt.c). */
/*
 * Access flags that are dropped: hints, and memory window binding (the
 * device has no memory windows, max_mw is 0: there is nothing to bind).
 */
#define VRDMA_MR_ACCESS_HINTS	(IB_ACCESS_OPTIONAL | IB_ACCESS_HUGETLB | \
				 IB_ACCESS_MW_BIND)
int vrdma_mr_check_access(struct vrdma_dev *vdev, int access);
u64 vrdma_mr_span(unsigned int page_off, u64 length);
bool vrdma_mr_quota_get(struct vrdma_dev *vdev, u64 bytes);
void vrdma_mr_quota_put(struct vrdma_dev *vdev, u64 bytes);

/* cq.c */
int vrdma_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		    struct vrdma_create_cq_arg *arg);
int vrdma_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata);
int vrdma_resize_cq(struct ib_cq *ibcq, int cqe, struct ib_udata *udata);
int vrdma_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags);

/* qp.c */
int vrdma_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		    struct ib_udata *udata);
int vrdma_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		    struct ib_udata *udata);
int vrdma_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_qp_init_attr *init);
int vrdma_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata);
void vrdma_qp_set_error(struct vrdma_qp *qp);
struct vrdma_qp *vrdma_host_qp_rcu(struct ib_device *pdev, u32 qpn);
int vrdma_qp_translate(struct vrdma_dev *vdev, const struct ib_qp_attr *attr,
		       int mask, struct ib_qp_attr *pattr, int *pmask,
		       bool *local);
struct vrdma_qp *vrdma_ud_qp_rcu(struct ib_device *pdev, u32 qpn);
int vrdma_ud_gone_rcu(struct ib_device *pdev, u32 qpn, u32 *vni,
		      union ib_gid *sgid, union ib_gid *dgid);
void vrdma_ud_gone_exit(void);

/* post.c */
int vrdma_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		    const struct ib_send_wr **bad_wr);
int vrdma_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		    const struct ib_recv_wr **bad_wr);
int vrdma_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr);
int vrdma_rq_init(struct vrdma_dev *vdev, struct vrdma_rq *rq,
		  struct vrdma_pd *pd, u32 depth, u32 max_sge,
		  struct ib_udata *udata, struct mminfo *mi);
void vrdma_rq_cleanup(struct vrdma_rq *rq);
void vrdma_rq_activate(struct vrdma_dev *vdev, struct vrdma_rq *rq);
void vrdma_rq_deactivate(struct vrdma_dev *vdev, struct vrdma_rq *rq);
/*
 * Receive WQEs are taken from a ring with interrupts disabled: at most
 * VRDMA_RQ_BUDGET per call of vrdma_rq_take() (and of vrdma_rq_refill()),
 * the rest on the next one.
 */
#define VRDMA_RQ_BUDGET		64
u32 vrdma_rq_take(struct vrdma_rq *rq, u32 budget, bool *more);
bool vrdma_rq_refill(struct vrdma_rq *rq);
bool vrdma_sq_drain(struct vrdma_qp *qp);
void vrdma_sq_mr_gone(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey);
void vrdma_ud_announce_work(struct work_struct *work);
void vrdma_qp_flush(struct vrdma_qp *qp);

/* srq.c */
int vrdma_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		     struct ib_udata *udata);
int vrdma_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		     enum ib_srq_attr_mask mask, struct ib_udata *udata);
int vrdma_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr);
int vrdma_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata);

/* ah.c */
int vrdma_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
		    struct ib_udata *udata);
int vrdma_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr);
int vrdma_destroy_ah(struct ib_ah *ibah, u32 flags);

#endif /* _VRDMA_VERBS_H */
