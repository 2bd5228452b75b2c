/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Leak audit: every object type the module allocates counts its creations
 * and destructions.  At module exit vrdma_audit_check() reports every
 * unbalanced type with pr_err("vrdma: leak: ...") and a WARN (the selftest
 * harness fails on any WARNING in the kernel log).
 *
 * Count an object when it becomes an object (fully constructed) and when it
 * is finally freed, not on every reference.
 */
#ifndef _VRDMA_AUDIT_H
#define _VRDMA_AUDIT_H

#include <linux/types.h>

enum vrdma_audit_obj {
	VRDMA_AUDIT_PHYS,	/* struct vrdma_phys, phys.c */
	VRDMA_AUDIT_DEV,	/* struct vrdma_dev, vdev.c */
	VRDMA_AUDIT_QUEUE,	/* a ring (struct vrdma_queue), queue.c */
	VRDMA_AUDIT_PD,		/* struct vrdma_pd, mr.c */
	VRDMA_AUDIT_MR,		/* struct vrdma_mr, mr.c */
	VRDMA_AUDIT_CQ,		/* struct vrdma_cq, cq.c */
	VRDMA_AUDIT_QP,		/* struct vrdma_qp, qp.c */
	VRDMA_AUDIT_SRQ,	/* struct vrdma_srq, srq.c */
	VRDMA_AUDIT_AH,		/* struct vrdma_ah, ah.c */
	VRDMA_AUDIT_CTRL_EP,	/* struct vrdma_ctrl_ep, ctrl.c */
	VRDMA_AUDIT_REPL_GROUP,	/* struct repl_group, repl_group.c */
	VRDMA_AUDIT_REPL_MEMBER, /* struct repl_member, repl_member.c */
	VRDMA_AUDIT_REPL_CLIENT, /* struct repl_client, repl_client.c */
	VRDMA_AUDIT_REPL_AUTH,	/* struct repl_authority, repl_authority.c */
	VRDMA_AUDIT_REPL_CHAN,	/* struct repl_chan, repl_res.c */
	VRDMA_AUDIT_TUN,	/* struct vrdma_tun, gsi.c */
	VRDMA_AUDIT_SLEEP_DOMAIN, /* struct vrdma_sleep_domain, sleep.c */
	VRDMA_AUDIT_SLEEP_PEER,	/* struct vrdma_sleep_peer, sleep*.c */
	VRDMA_AUDIT_STATS,	/* a device's counters, counters.c */
	VRDMA_AUDIT_PT_CTX,	/* struct vrdma_pt_ctx, pt.c */

	VRDMA_AUDIT_NR
};

void vrdma_audit_created(enum vrdma_audit_obj obj);
void vrdma_audit_destroyed(enum vrdma_audit_obj obj);
bool vrdma_audit_check(void);

#endif /* _VRDMA_AUDIT_H */
