// SPDX-License-Identifier: GPL-2.0
/*
 * Resource tracking: which physical object carries which virtual one.
 *
 * ib_core tracks every object of every device (restrack) and shows them
 * with `rdma resource show`.  Both sides of a virtual object are named:
 *
 *  - on the virtual device, the fill_res_*_entry operations add driver
 *    attributes to the QP, CQ, MR (and, where ib_core has the operation,
 *    SRQ) entries, shown with -dd: phys_dev, the physical device, and the
 *    number ib_core gives the physical object there (phys_qpn, phys_cqn,
 *    phys_mrn, phys_srqn), and phys_pdn for objects of a PD.  ib_core has
 *    no such operation for PDs: a virtual PD's physical PD is the phys_pdn
 *    of the QPs, MRs and SRQs of that PD;
 *  - on the physical device, the physical objects are kernel objects
 *    whose owner name ("comm" in `rdma resource show`) is
 *    "vrdma:<virtual device>": the PD and the CQ carry it from their
 *    creation (__ib_alloc_pd(), __ib_create_cq() and
 *    ib_create_qp_kernel() take the owner's name), MRs and SRQs inherit
 *    their PD's (ib_reg_user_mr(), ib_create_srq()).  The name is the
 *    device's name when its first physical object was created: ib_core
 *    keeps a pointer to it, so it never changes (a rename of the virtual
 *    device is not reflected there).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <net/netlink.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_netlink.h>
#include <rdma/restrack.h>

#include "res.h"
#include "verbs.h"

static DEFINE_MUTEX(vrdma_owner_lock);

/**
 * vrdma_dev_owner() - the owner name of a device's physical objects
 * @vdev: the device, registered or being registered (its name is set)
 *
 * Process context.
 *
 * Return: "vrdma:<name>", valid as long as the device.
 */
const char *vrdma_dev_owner(struct vrdma_dev *vdev)
{
	/* Pairs with the release below: the name is written first. */
	if (smp_load_acquire(&vdev->owner_set))
		return vdev->owner;
	mutex_lock(&vrdma_owner_lock);
	if (!vdev->owner_set) {
		snprintf(vdev->owner, sizeof(vdev->owner), "vrdma:%s",
			 dev_name(&vdev->ibdev.dev));
		/* The name before the flag: pairs with the acquire above. */
		smp_store_release(&vdev->owner_set, true);
	}
	mutex_unlock(&vrdma_owner_lock);
	return vdev->owner;
}

/*
 * The physical side of a virtual object, in the entry's driver table
 * (RDMA_NLDEV_ATTR_DRIVER, what `rdma resource -dd` prints): the physical
 * device, the number of the physical object there (@pres, named @what),
 * and that of its physical PD.  Called inside the gate, which keeps the
 * physical objects (NULL once the physical device is gone: then nothing
 * is shown).
 */
static int vrdma_res_put_phys(struct sk_buff *msg, struct vrdma_dev *vdev,
			      const char *what,
			      const struct rdma_restrack_entry *pres,
			      const struct ib_pd *ppd)
{
	struct nlattr *table;

	if (!pres)
		return 0;
	table = nla_nest_start_noflag(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_put_driver_string(msg, "phys_dev",
				      dev_name(&vdev->pdev->dev)) ||
	    rdma_nl_put_driver_u32(msg, what, pres->id) ||
	    (ppd && rdma_nl_put_driver_u32(msg, "phys_pdn", ppd->res.id))) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

/* An object of a kernel consumer that vrdma emulates itself. */
static int vrdma_res_put_emulated(struct sk_buff *msg)
{
	struct nlattr *table;

	table = nla_nest_start_noflag(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_put_driver_string(msg, "phys", "emulated")) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

/* Also for the kernel QPs of passthrough devices (pt.c). */
int vrdma_res_fill_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp)
{
	struct vrdma_dev *vdev = to_vdev(ibqp->device);
	struct vrdma_qp *qp = to_vqp(ibqp);
	int ret;

	/* ib_mad's QP1 (gsi.c) */
	if (qp->gsi)
		return vrdma_res_put_emulated(msg);
	if (vrdma_dev_enter(vdev))
		return 0;
	ret = vrdma_res_put_phys(msg, vdev, "phys_qpn",
				 qp->pqp ? &qp->pqp->res : NULL,
				 qp->pd->ppd);
	vrdma_dev_leave(vdev);
	return ret;
}

/* Also for the kernel CQs of passthrough devices (pt.c). */
int vrdma_res_fill_cq_entry(struct sk_buff *msg, struct ib_cq *ibcq)
{
	struct vrdma_dev *vdev = to_vdev(ibcq->device);
	struct vrdma_cq *cq = to_vcq(ibcq);
	int ret;

	/* A kernel consumer's CQ (ib_mad's) */
	if (cq->kernel)
		return vrdma_res_put_emulated(msg);
	if (vrdma_dev_enter(vdev))
		return 0;
	ret = vrdma_res_put_phys(msg, vdev, "phys_cqn",
				 cq->pcq ? &cq->pcq->res : NULL, NULL);
	vrdma_dev_leave(vdev);
	return ret;
}

static int vrdma_fill_res_mr_entry(struct sk_buff *msg, struct ib_mr *ibmr)
{
	struct vrdma_dev *vdev = to_vdev(ibmr->device);
	struct vrdma_mr *mr = to_vmr(ibmr);
	int ret;

	if (vrdma_dev_enter(vdev))
		return 0;
	ret = vrdma_res_put_phys(msg, vdev, "phys_mrn",
				 mr->pmr ? &mr->pmr->res : NULL, mr->pd->ppd);
	vrdma_dev_leave(vdev);
	return ret;
}

#ifdef VRDMA_HAVE_FILL_RES_SRQ_ENTRY
static int vrdma_fill_res_srq_entry(struct sk_buff *msg, struct ib_srq *ibsrq)
{
	struct vrdma_dev *vdev = to_vdev(ibsrq->device);
	struct vrdma_srq *srq = to_vsrq(ibsrq);
	int ret;

	if (vrdma_dev_enter(vdev))
		return 0;
	ret = vrdma_res_put_phys(msg, vdev, "phys_srqn",
				 srq->psrq ? &srq->psrq->res : NULL,
				 srq->psrq ? srq->psrq->pd : NULL);
	vrdma_dev_leave(vdev);
	return ret;
}
#endif

static const struct ib_device_ops vrdma_res_ops = {
	.fill_res_cq_entry = vrdma_res_fill_cq_entry,
	.fill_res_mr_entry = vrdma_fill_res_mr_entry,
	.fill_res_qp_entry = vrdma_res_fill_qp_entry,
#ifdef VRDMA_HAVE_FILL_RES_SRQ_ENTRY
	.fill_res_srq_entry = vrdma_fill_res_srq_entry,
#endif
};

/**
 * vrdma_res_init() - set a new device's resource tracking operations
 * @vdev: the device, not registered yet
 */
void vrdma_res_init(struct vrdma_dev *vdev)
{
	ib_set_device_ops(&vdev->ibdev, &vrdma_res_ops);
}
