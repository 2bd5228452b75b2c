// SPDX-License-Identifier: GPL-2.0
/*
 * Protection domains and memory regions.
 *
 * A virtual PD is a kernel PD of the physical device.  A virtual MR is a
 * physical MR registered with ib_reg_user_mr() in the caller's context:
 * the physical RNIC reads and writes the application's memory directly
 * (zero copy) and checks the keys, which are the physical ones.
 *
 * The module checks the scatter/gather elements of work requests itself
 * (vrdma_mr_check()): vdev->mrs maps an lkey to its MR, and an element is
 * only valid with an MR of the work request's own PD.  Lookups run under
 * RCU; MRs are freed with kfree_rcu().
 *
 * The pages of a region with local write access are also pinned by the
 * module, so that the data path can read and write them from any context
 * (vrdma_mr_read() and vrdma_mr_write(), the GRH of UD receives).  Such an
 * access holds a reference on the MR (@users): deregistration waits for
 * them before the pages are unpinned.
 *
 * When the physical device goes away, vrdma_dev_kill() deregisters the
 * physical MRs and deallocates the physical PDs (vrdma_mr_kill(),
 * vrdma_pd_kill()); the virtual objects, and the module's own pins, stay
 * until their owner destroys them.
 */
#include <linux/completion.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "audit.h"
#include "counters.h"
#include "res.h"
#include "verbs.h"

/* Access flags a virtual MR supports. */
#define VRDMA_MR_ACCESS		(IB_ACCESS_LOCAL_WRITE |		\
				 IB_ACCESS_REMOTE_WRITE |		\
				 IB_ACCESS_REMOTE_READ |		\
				 IB_ACCESS_REMOTE_ATOMIC)

/* Pages pinned per pin_user_pages_fast() call. */
#define VRDMA_MR_PIN_CHUNK	4096UL

/**
 * vrdma_alloc_pd() - ib_device_ops.alloc_pd
 * @ibpd: the virtual PD, allocated by ib_core
 * @udata: driver data (none in the rxe ABI), or NULL
 *
 * Allocates the matching kernel PD on the physical device.
 *
 * Context: process context.
 * Return: 0, -EIO if the physical device is gone, or the error of
 * ib_alloc_pd().
 */
int vrdma_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibpd->device);
	struct vrdma_pd *pd = to_vpd(ibpd);
	struct ib_pd *ppd;
	int err;

	err = vrdma_dev_enter(vdev);
	if (err)
		return err;
	ppd = __ib_alloc_pd(vdev->pdev, 0, vrdma_dev_owner(vdev));
	if (IS_ERR(ppd)) {
		vrdma_dev_leave(vdev);
		return PTR_ERR(ppd);
	}
	pd->ppd = ppd;
	vrdma_obj_add(vdev, &pd->obj, VRDMA_OBJ_PD);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_PD);
	return 0;
}

/**
 * vrdma_pd_kill() - deallocate a PD's physical PD (device kill)
 * @pd: the PD; every physical object of it is gone already
 *
 * Context: vrdma_dev_kill(), the gate held for write.
 */
void vrdma_pd_kill(struct vrdma_pd *pd)
{
	if (!pd->ppd)
		return;
	ib_dealloc_pd(pd->ppd);
	pd->ppd = NULL;
}

/**
 * vrdma_dealloc_pd() - ib_device_ops.dealloc_pd
 * @ibpd: the virtual PD; ib_core guarantees no object uses it any more
 * @udata: driver data, or NULL
 *
 * Context: process context.
 * Return: 0.
 */
int vrdma_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibpd->device);
	struct vrdma_pd *pd = to_vpd(ibpd);

	vrdma_dev_enter_destroy(vdev);
	vrdma_obj_del(vdev, &pd->obj);
	vrdma_pd_kill(pd);	/* nothing left to do after a kill */
	vrdma_dev_leave(vdev);
	vrdma_audit_destroyed(VRDMA_AUDIT_PD);
	return 0;
}

/* Bytes of memory a region pins: its page-rounded size. */
u64 vrdma_mr_span(unsigned int page_off, u64 length)
{
	return PAGE_ALIGN(page_off + length);
}

/* Count an MR of @bytes against the limits (0: no limit). */
bool vrdma_mr_quota_get(struct vrdma_dev *vdev, u64 bytes)
{
	u32 max_mr = READ_ONCE(vdev->limits.max_mr);
	u64 max_pinned = READ_ONCE(vdev->limits.max_pinned);

	if (atomic_inc_return(&vdev->n_mr) > max_mr && max_mr)
		goto err_mr;
	if (atomic64_add_return(bytes, &vdev->pinned) > max_pinned &&
	    max_pinned)
		goto err_pinned;
	return true;

err_pinned:
	atomic64_sub(bytes, &vdev->pinned);
err_mr:
	atomic_dec(&vdev->n_mr);
	vrdma_stat_inc(vdev, VRDMA_STAT_LIMIT_EXCEEDED);
	return false;
}

void vrdma_mr_quota_put(struct vrdma_dev *vdev, u64 bytes)
{
	atomic64_sub(bytes, &vdev->pinned);
	atomic_dec(&vdev->n_mr);
}

/* Access flags a virtual MR may have: 0, -EINVAL or -EOPNOTSUPP. */
int vrdma_mr_check_access(struct vrdma_dev *vdev, int access)
{
	/* Unknown flags are invalid; known ones (ODP, MW, ...) unsupported. */
	if (access & ~IB_ACCESS_SUPPORTED)
		return -EINVAL;
	if (access & ~VRDMA_MR_ACCESS)
		return -EOPNOTSUPP;
	/* Remote write and atomics need local write (IBA o10-37). */
	if ((access & (IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_ATOMIC)) &&
	    !(access & IB_ACCESS_LOCAL_WRITE))
		return -EINVAL;
	if ((access & IB_ACCESS_REMOTE_ATOMIC) &&
	    vdev->ibdev.attrs.atomic_cap == IB_ATOMIC_NONE)
		return -EOPNOTSUPP;
	return 0;
}

static void vrdma_mr_unpin(struct vrdma_mr *mr)
{
	if (!mr->pages)
		return;
	/* The kernel may have written to them: mark them dirty. */
	unpin_user_pages_dirty_lock(mr->pages, mr->npages, true);
	kvfree(mr->pages);
	mr->pages = NULL;
	mr->npages = 0;
}

/* Pin the pages of [start, start + length) for vrdma_mr_write(). */
static int vrdma_mr_pin(struct vrdma_mr *mr, u64 start, u64 length)
{
	unsigned long first = start >> PAGE_SHIFT;
	unsigned long last = (start + length - 1) >> PAGE_SHIFT;
	unsigned long npages = last - first + 1;
	unsigned long done = 0;
	long ret;

	mr->pages = kvmalloc_array(npages, sizeof(*mr->pages),
				   GFP_KERNEL_ACCOUNT);
	if (!mr->pages)
		return -ENOMEM;

	while (done < npages) {
		ret = pin_user_pages_fast((first + done) << PAGE_SHIFT,
					  min(npages - done,
					      VRDMA_MR_PIN_CHUNK),
					  FOLL_WRITE | FOLL_LONGTERM,
					  mr->pages + done);
		if (ret <= 0) {
			if (done)
				unpin_user_pages(mr->pages, done);
			kvfree(mr->pages);
			mr->pages = NULL;
			return ret ? ret : -EFAULT;
		}
		done += ret;
		cond_resched();
	}

	mr->npages = npages;
	return 0;
}

/**
 * vrdma_reg_user_mr() - ib_device_ops.reg_user_mr
 * @ibpd: the virtual PD
 * @start: first user virtual address of the region
 * @length: its length in bytes
 * @iova: the address work requests use for @start
 * @access: IB_ACCESS_* flags
 * @udata: driver data (none in the rxe ABI), or NULL
 *
 * Registers the caller's memory with the physical device (zero copy).
 * The virtual MR takes the physical MR's keys.  The region counts against
 * the device's max_mr and max_pinned limits (its page-rounded size).
 *
 * Context: process context of the memory's owner.
 * Return: the MR, or ERR_PTR(-EINVAL) for bad arguments,
 * ERR_PTR(-EOPNOTSUPP) for unsupported access flags, ERR_PTR(-ENOSPC)
 * when a limit is reached, ERR_PTR(-ENOMEM), ERR_PTR(-EIO) if the
 * physical device is gone, or the physical device's error.
 */
struct ib_mr *vrdma_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
				u64 iova, int access, struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibpd->device);
	struct vrdma_pd *pd = to_vpd(ibpd);
	struct vrdma_mr *mr;
	struct ib_mr *pmr;
	u64 end, last, span;
	int err;

	access &= ~VRDMA_MR_ACCESS_HINTS;
	err = vrdma_mr_check_access(vdev, access);
	if (err)
		return ERR_PTR(err);
	if (!length || check_add_overflow(start, length, &end) ||
	    check_add_overflow(iova, length - 1, &last) || end > TASK_SIZE)
		return ERR_PTR(-EINVAL);
	span = vrdma_mr_span(start & ~PAGE_MASK, length);

	if (!vrdma_mr_quota_get(vdev, span))
		return ERR_PTR(-ENOSPC);

	mr = kzalloc(sizeof(*mr), GFP_KERNEL_ACCOUNT);
	if (!mr) {
		err = -ENOMEM;
		goto err_quota;
	}
	mr->pd = pd;
	mr->iova = iova;
	mr->length = length;
	mr->access = access;
	mr->page_off = start & ~PAGE_MASK;
	refcount_set(&mr->users, 1);
	init_completion(&mr->released);

	err = vrdma_dev_enter(vdev);
	if (err)
		goto err_free;
	if (!pd->ppd) {
		err = -EIO;
		goto err_leave;
	}

	pmr = ib_reg_user_mr(pd->ppd, start, length, iova, access);
	if (IS_ERR(pmr)) {
		err = PTR_ERR(pmr);
		goto err_leave;
	}
	mr->pmr = pmr;
	mr->ibmr.lkey = pmr->lkey;
	mr->ibmr.rkey = pmr->rkey;

	if (access & IB_ACCESS_LOCAL_WRITE) {
		err = vrdma_mr_pin(mr, start, length);
		if (err)
			goto err_dereg;
	}

	/* Keys of one physical device are unique: a collision is a bug. */
	err = xa_insert(&vdev->mrs, mr->ibmr.lkey, mr, GFP_KERNEL_ACCOUNT);
	if (err)
		goto err_unpin;

	vrdma_obj_add(vdev, &mr->obj, VRDMA_OBJ_MR);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_MR);
	return &mr->ibmr;

err_unpin:
	vrdma_mr_unpin(mr);
err_dereg:
	ib_dereg_mr(pmr);
err_leave:
	vrdma_dev_leave(vdev);
err_free:
	kfree(mr);
err_quota:
	vrdma_mr_quota_put(vdev, span);
	return ERR_PTR(err);
}

/**
 * vrdma_mr_kill() - deregister an MR's physical MR (device kill)
 * @mr: the MR; it stays registered with the module (lookups and the
 *	module's pins remain until vrdma_dereg_mr())
 *
 * Context: vrdma_dev_kill(), the gate held for write.
 */
void vrdma_mr_kill(struct vrdma_mr *mr)
{
	int err;

	if (!mr->pmr)
		return;
	err = ib_dereg_mr(mr->pmr);
	if (err)
		ibdev_warn(mr->ibmr.device,
			   "physical MR 0x%x not deregistered: %d\n",
			   mr->ibmr.lkey, err);
	mr->pmr = NULL;
}

/**
 * vrdma_dereg_mr() - ib_device_ops.dereg_mr
 * @ibmr: the virtual MR
 * @udata: driver data, or NULL
 *
 * Deregisters the physical MR, moves the QPs whose outstanding sends use
 * it to the error state (vrdma_sq_mr_gone()), waits for writers of the
 * region and unpins its pages.  If the physical device refuses to
 * deregister, the MR stays intact and the error is returned.
 *
 * Context: process context.
 * Return: 0 or the physical device's error.
 */
int vrdma_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct vrdma_mr *mr = to_vmr(ibmr);
	struct vrdma_dev *vdev = to_vdev(ibmr->device);
	int err;

	vrdma_dev_enter_destroy(vdev);
	/*
	 * No new lookup finds it from here on.  The physical MR owns the key
	 * until it is deregistered (the physical device may reuse it right
	 * after), so the entry goes first and comes back if that fails.
	 */
	xa_erase(&vdev->mrs, ibmr->lkey);
	if (mr->pmr) {
		err = ib_dereg_mr(mr->pmr);
		if (err) {
			if (xa_insert(&vdev->mrs, ibmr->lkey, mr, GFP_KERNEL))
				ibdev_warn(ibmr->device,
					   "MR 0x%x lost its lookup entry\n",
					   ibmr->lkey);
			vrdma_dev_leave(vdev);
			return err;
		}
		mr->pmr = NULL;
		/* Sends still using it fail now (see there). */
		vrdma_sq_mr_gone(vdev, mr->pd, ibmr->lkey);
	}
	vrdma_obj_del(vdev, &mr->obj);
	vrdma_dev_leave(vdev);

	/* Wait for the reads and writes that found the MR before. */
	if (!refcount_dec_and_test(&mr->users))
		wait_for_completion(&mr->released);

	vrdma_mr_unpin(mr);
	vrdma_mr_quota_put(vdev, vrdma_mr_span(mr->page_off, mr->length));
	vrdma_audit_destroyed(VRDMA_AUDIT_MR);
	kfree_rcu(mr, rcu);
	return 0;
}

/* [addr, addr + len) inside the MR, without overflow. */
static bool vrdma_mr_in_range(const struct vrdma_mr *mr, u64 addr, u32 len)
{
	u64 off;

	if (addr < mr->iova)
		return false;
	off = addr - mr->iova;
	return off <= mr->length && len <= mr->length - off;
}

/**
 * vrdma_mr_check() - validate one scatter/gather element
 * @vdev: the device
 * @pd: the PD of the work request's QP or SRQ
 * @lkey: the element's key
 * @addr: its first address
 * @len: its length
 * @access: IB_ACCESS_* flags the element needs (IB_ACCESS_LOCAL_WRITE for
 *	buffers the device writes, 0 otherwise)
 *
 * An element is valid when @lkey names an MR of @pd of this device that
 * grants @access and contains [@addr, @addr + @len).
 *
 * Context: any.
 * Return: 0 or -EINVAL.
 */
int vrdma_mr_check(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey,
		   u64 addr, u32 len, int access)
{
	struct vrdma_mr *mr;
	int ret = -EINVAL;

	rcu_read_lock();
	mr = xa_load(&vdev->mrs, lkey);
	if (mr && mr->pd == pd && (mr->access & access) == access &&
	    vrdma_mr_in_range(mr, addr, len))
		ret = 0;
	rcu_read_unlock();
	return ret;
}

/*
 * Copy @len bytes from @src into a registered region, or from the region
 * to @dst (the other one is NULL), through the module's pins.  The MR's
 * reference keeps the pages pinned while they are accessed.
 */
static int vrdma_mr_copy(struct vrdma_dev *vdev, struct vrdma_pd *pd,
			 u32 lkey, u64 addr, u32 len, void *dst,
			 const void *src)
{
	struct vrdma_mr *mr;
	u64 off;

	rcu_read_lock();
	mr = xa_load(&vdev->mrs, lkey);
	if (!mr || mr->pd != pd || !mr->pages ||
	    !(mr->access & IB_ACCESS_LOCAL_WRITE) ||
	    !vrdma_mr_in_range(mr, addr, len) ||
	    !refcount_inc_not_zero(&mr->users)) {
		rcu_read_unlock();
		return -EINVAL;
	}
	rcu_read_unlock();

	off = mr->page_off + (addr - mr->iova);
	while (len) {
		unsigned long idx = off >> PAGE_SHIFT;
		u32 pofs = off & ~PAGE_MASK;
		u32 n = min_t(u32, len, PAGE_SIZE - pofs);
		struct page *page;
		void *va;

		if (WARN_ON_ONCE(idx >= mr->npages))
			break;
		page = mr->pages[idx];
		va = kmap_local_page(page);
		if (src) {
			memcpy(va + pofs, src, n);
			src += n;
		} else {
			memcpy(dst, va + pofs, n);
			dst += n;
		}
		kunmap_local(va);
		if (src)
			flush_dcache_page(page);
		off += n;
		len -= n;
	}

	if (refcount_dec_and_test(&mr->users))
		complete(&mr->released);
	return len ? -EINVAL : 0;
}

/**
 * vrdma_mr_write() - copy data into a registered region
 * @vdev: the device
 * @pd: the PD the region must belong to
 * @lkey: the region's key
 * @addr: where to write (an address of the region)
 * @src: the data
 * @len: its length
 *
 * The region must grant local write access.  The write goes through the
 * module's own pin of the pages, so it is safe even if the region is
 * being deregistered.
 *
 * Context: any.
 * Return: 0 or -EINVAL.
 */
int vrdma_mr_write(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey,
		   u64 addr, const void *src, u32 len)
{
	return vrdma_mr_copy(vdev, pd, lkey, addr, len, NULL, src);
}

/**
 * vrdma_mr_read() - copy data out of a registered region
 * @vdev: the device
 * @pd: the PD the region must belong to
 * @lkey: the region's key
 * @addr: where to read (an address of the region)
 * @dst: where the data goes
 * @len: its length
 *
 * Only regions with local write access can be read (their pages are the
 * ones the module pins); the application may change the data meanwhile.
 *
 * Context: any.
 * Return: 0 or -EINVAL.
 */
int vrdma_mr_read(struct vrdma_dev *vdev, struct vrdma_pd *pd, u32 lkey,
		  u64 addr, void *dst, u32 len)
{
	return vrdma_mr_copy(vdev, pd, lkey, addr, len, dst, NULL);
}

/**
 * vrdma_get_dma_mr() - ib_device_ops.get_dma_mr
 * @ibpd: the PD
 * @access: access flags
 *
 * Kernel consumers (ib_mad on the emulated QP1) use the device's local DMA
 * lkey: there is no DMA MR.  The operation exists because ib_core offers
 * its kernel clients (MAD, CM) only to devices that have it.
 *
 * Return: ERR_PTR(-EOPNOTSUPP).
 */
struct ib_mr *vrdma_get_dma_mr(struct ib_pd *ibpd, int access)
{
	return ERR_PTR(-EOPNOTSUPP);
}
