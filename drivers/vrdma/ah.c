// SPDX-License-Identifier: GPL-2.0
/*
 * Address handles.
 *
 * The application's address vector names an overlay destination (a
 * container's GID).  map.c translates it into an address vector on the
 * physical device (the destination host's RNIC GID, the physical source
 * GID, the next hop's MAC), from which the physical AH is created.  The
 * application's own attributes are kept for query_ah.
 *
 * Each AH has a number (ah_num) in vdev->ahs, which librxe (rdma-core v39
 * and later) puts in UD send WQEs.  The data path looks it up, and posts
 * with the AH's physical AH, holding the xarray's lock: an AH leaves the
 * xarray, and its physical AH is detached, under that lock before the
 * physical AH is destroyed.  The data path may take the lock in softirq
 * context, so it is taken here with interrupts disabled.
 */
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "audit.h"
#include "map.h"
#include "verbs.h"

/* Detach the physical AH from the lookups of the data path and return it. */
static struct ib_ah *vrdma_ah_detach(struct vrdma_dev *vdev,
				     struct vrdma_ah *ah, bool erase)
{
	unsigned long flags;
	struct ib_ah *pah;

	xa_lock_irqsave(&vdev->ahs, flags);
	if (erase)
		__xa_erase(&vdev->ahs, ah->ah_num);
	pah = ah->pah;
	ah->pah = NULL;
	xa_unlock_irqrestore(&vdev->ahs, flags);
	return pah;
}

/**
 * vrdma_create_ah() - ib_device_ops.create_ah and create_user_ah
 * @ibah: the virtual AH, allocated by ib_core
 * @init: the address vector (a RoCE one, with a GRH whose dgid is an
 *	overlay address) and RDMA_CREATE_AH_* flags
 * @udata: driver data (struct rxe_create_ah_resp is returned in it when
 *	its buffer is large enough)
 *
 * Resolves the destination through the address map (which may sleep) and
 * creates the physical AH.  Flow label, traffic class, hop limit (when
 * given), service level and static rate are the application's.
 *
 * A kernel consumer's AH only records the address (see below).
 *
 * Context: process context for a user AH, any for a kernel one.
 * Return: 0, -EOPNOTSUPP for a non-sleepable user caller, -EINVAL
 * for an address vector that is not RoCE with a GRH, -EHOSTUNREACH for a
 * destination outside the device's virtual network, another error of the
 * address map (see vrdma_map_resolve()), -ENOMEM, -EIO if the physical
 * device is gone, -EFAULT, or the physical device's error.
 */
int vrdma_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
		    struct ib_udata *udata)
{
	struct vrdma_dev *vdev = to_vdev(ibah->device);
	struct vrdma_pd *pd = to_vpd(ibah->pd);
	struct vrdma_ah *ah = to_vah(ibah);
	struct rdma_ah_attr *attr = init->ah_attr;
	struct rxe_create_ah_resp resp = {};
	const struct ib_global_route *grh;
	struct rdma_ah_attr pattr;
	unsigned long flags;
	struct ib_ah *pah;
	int err;

	if (attr->type != RDMA_AH_ATTR_TYPE_ROCE ||
	    !(rdma_ah_get_ah_flags(attr) & IB_AH_GRH))
		return -EINVAL;
	/*
	 * A kernel consumer's AH (ib_cm's MADs, sent through the emulated
	 * QP1, which finds the destination host itself): only the address,
	 * no physical AH.  Any context.
	 */
	if (!udata) {
		ah->kernel = true;
		ah->pd = pd;
		ah->attr = *attr;
		ah->attr.grh.sgid_attr = NULL;
		vrdma_audit_created(VRDMA_AUDIT_AH);
		return 0;
	}
	/* Address resolution sleeps. */
	if (!(init->flags & RDMA_CREATE_AH_SLEEPABLE))
		return -EOPNOTSUPP;
	grh = rdma_ah_read_grh(attr);

	err = vrdma_dev_enter(vdev);
	if (err)
		return err;
	if (!pd->ppd) {
		err = -EIO;
		goto err_leave;
	}

	err = vrdma_map_resolve(vdev, &grh->dgid, &pattr, &ah->local);
	if (err)
		goto err_leave;
	ah->host = pattr.grh.dgid;
	pattr.grh.flow_label = grh->flow_label;
	pattr.grh.traffic_class = grh->traffic_class;
	/* The hop limit is the physical route's (map.c). */
	pattr.sl = attr->sl;
	pattr.static_rate = attr->static_rate;

	pah = rdma_create_ah(pd->ppd, &pattr, RDMA_CREATE_AH_SLEEPABLE);
	if (IS_ERR(pah)) {
		err = PTR_ERR(pah);
		goto err_leave;
	}
	ah->pah = pah;
	ah->pd = pd;
	ah->attr = *attr;
	ah->attr.grh.sgid_attr = NULL;	/* ib_core holds the reference */

	/*
	 * GFP_ATOMIC: the lock is held with interrupts disabled, whatever
	 * the xarray's flags; the data path may see the AH from here on.
	 */
	xa_lock_irqsave(&vdev->ahs, flags);
	err = __xa_alloc(&vdev->ahs, &ah->ah_num, ah, XA_LIMIT(1, U32_MAX),
			 GFP_ATOMIC);
	xa_unlock_irqrestore(&vdev->ahs, flags);
	if (err)
		goto err_pah;

	/* rdma-core before v39 passes no response buffer. */
	if (udata->outlen >= sizeof(resp)) {
		resp.ah_num = ah->ah_num;
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_erase;
	}

	vrdma_obj_add(vdev, &ah->obj, VRDMA_OBJ_AH);
	vrdma_dev_leave(vdev);
	vrdma_audit_created(VRDMA_AUDIT_AH);
	return 0;

err_erase:
	pah = vrdma_ah_detach(vdev, ah, true);
err_pah:
	ah->pah = NULL;
	rdma_destroy_ah(pah, RDMA_DESTROY_AH_SLEEPABLE);
err_leave:
	vrdma_dev_leave(vdev);
	return err;
}

/**
 * vrdma_query_ah() - ib_device_ops.query_ah
 * @ibah: the virtual AH
 * @attr: set to the attributes the application gave
 *
 * Context: any.
 * Return: 0.
 */
int vrdma_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	*attr = to_vah(ibah)->attr;
	return 0;
}

/**
 * vrdma_ah_kill() - destroy an AH's physical AH (device kill)
 * @ah: the AH; it keeps its number until vrdma_destroy_ah()
 *
 * Context: vrdma_dev_kill(), the gate held for write.
 */
void vrdma_ah_kill(struct vrdma_ah *ah)
{
	struct vrdma_dev *vdev = to_vdev(ah->ibah.device);
	struct ib_ah *pah = vrdma_ah_detach(vdev, ah, false);

	if (pah)
		rdma_destroy_ah(pah, RDMA_DESTROY_AH_SLEEPABLE);
}

/**
 * vrdma_destroy_ah() - ib_device_ops.destroy_ah
 * @ibah: the virtual AH
 * @flags: RDMA_DESTROY_AH_* flags; user AHs, the only ones, are destroyed
 *	sleepable
 *
 * Context: process context.
 * Return: 0.
 */
int vrdma_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	struct vrdma_dev *vdev = to_vdev(ibah->device);
	struct vrdma_ah *ah = to_vah(ibah);
	struct ib_ah *pah;

	/* Maybe not sleepable: nothing to undo but the count. */
	if (ah->kernel) {
		vrdma_audit_destroyed(VRDMA_AUDIT_AH);
		return 0;
	}
	vrdma_dev_enter_destroy(vdev);
	vrdma_obj_del(vdev, &ah->obj);
	/* From here on no sender finds the AH or its physical AH. */
	pah = vrdma_ah_detach(vdev, ah, true);
	if (pah)
		rdma_destroy_ah(pah, flags & RDMA_DESTROY_AH_SLEEPABLE);
	vrdma_dev_leave(vdev);
	vrdma_audit_destroyed(VRDMA_AUDIT_AH);
	return 0;
}
