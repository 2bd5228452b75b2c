/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated QP1 of a virtual device and its MAD tunnel (gsi.c).
 */
#ifndef _VRDMA_GSI_H
#define _VRDMA_GSI_H

#include <rdma/ib_verbs.h>

struct vrdma_qp;

/* The first word of every tunnelled MAD (struct vrdma_gsi_hdr in gsi.c). */
#define VRDMA_GSI_MAGIC		0x76524d31	/* "vRM1" */

int vrdma_gsi_init(void);
void vrdma_gsi_exit(void);
int vrdma_gsi_create(struct vrdma_qp *qp, struct ib_qp_init_attr *init);
int vrdma_gsi_modify(struct vrdma_qp *qp, struct ib_qp_attr *attr, int mask);
void vrdma_gsi_query(struct vrdma_qp *qp, struct ib_qp_attr *attr,
		     struct ib_qp_init_attr *init);
void vrdma_gsi_destroy(struct vrdma_qp *qp);
int vrdma_gsi_post_send(struct vrdma_qp *qp, const struct ib_send_wr *wr,
			const struct ib_send_wr **bad_wr);
int vrdma_gsi_post_recv(struct vrdma_qp *qp, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr);

/*
 * The tunnel of a physical device, shared with the UD sender directory:
 * a UD QP announces its overlay address to the hosts it sends to, so that
 * their receivers can show it in the GRH and drop datagrams from another
 * virtual network.
 */
struct vrdma_dev;
struct vrdma_tun;

/* A UD QP announces itself again to a host after this long (jiffies). */
#define VRDMA_UDA_REFRESH	(10 * HZ)
/*
 * A receiver forgets a sender this long after its last announcement
 * (jiffies): a sender that still sends has announced itself again by then.
 */
#define VRDMA_UDA_EXPIRE	(3 * VRDMA_UDA_REFRESH)

struct vrdma_tun *vrdma_tun_get(struct vrdma_dev *vdev);
void vrdma_tun_put(struct vrdma_tun *tun);
int vrdma_tun_announce(struct vrdma_tun *tun, u32 vni, u32 qpn,
		       const union ib_gid *overlay, const union ib_gid *host);
int vrdma_tun_announce_wait(struct vrdma_qp *qp, int acks);
int vrdma_ud_sender_rcu(const union ib_gid *host, u32 qpn, u32 *vni,
			union ib_gid *overlay);
void vrdma_ud_senders_exit(void);

#endif /* _VRDMA_GSI_H */
