/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated QP1 of a virtual device and its MAD tunnel (gsi.c).
 */
#ifndef _VRDMA_GSI_H
#define _VRDMA_GSI_H

#include <rdma/ib_verbs.h>

struct vrdma_qp;

int vrdma_gsi_create(struct vrdma_qp *qp, struct ib_qp_init_attr *init);
int vrdma_gsi_modify(struct vrdma_qp *qp, struct ib_qp_attr *attr, int mask);
void vrdma_gsi_query(struct vrdma_qp *qp, struct ib_qp_attr *attr,
		     struct ib_qp_init_attr *init);
void vrdma_gsi_destroy(struct vrdma_qp *qp);
int vrdma_gsi_post_send(struct vrdma_qp *qp, const struct ib_send_wr *wr,
			const struct ib_send_wr **bad_wr);
int vrdma_gsi_post_recv(struct vrdma_qp *qp, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr);

#endif /* _VRDMA_GSI_H */
