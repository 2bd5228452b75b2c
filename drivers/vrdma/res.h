/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resource tracking (res.c): the owner name of a device's physical
 * objects, and the physical side of its objects in `rdma resource`.
 */
#ifndef _VRDMA_RES_H
#define _VRDMA_RES_H

struct ib_cq;
struct ib_qp;
struct sk_buff;
struct vrdma_dev;

const char *vrdma_dev_owner(struct vrdma_dev *vdev);
void vrdma_res_init(struct vrdma_dev *vdev);
int vrdma_res_fill_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp);
int vrdma_res_fill_cq_entry(struct sk_buff *msg, struct ib_cq *ibcq);

#endif /* _VRDMA_RES_H */
