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

	VRDMA_AUDIT_NR
};

void vrdma_audit_created(enum vrdma_audit_obj obj);
void vrdma_audit_destroyed(enum vrdma_audit_obj obj);
bool vrdma_audit_check(void);

#endif /* _VRDMA_AUDIT_H */
