// SPDX-License-Identifier: GPL-2.0
/*
 * Leak audit: per object type counters of created and destroyed objects.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/printk.h>

#include "audit.h"

static const char *const vrdma_audit_names[] = {
	[VRDMA_AUDIT_PHYS] = "phys",
	[VRDMA_AUDIT_DEV] = "dev",
	[VRDMA_AUDIT_QUEUE] = "queue",
	[VRDMA_AUDIT_PD] = "pd",
	[VRDMA_AUDIT_MR] = "mr",
	[VRDMA_AUDIT_CQ] = "cq",
	[VRDMA_AUDIT_QP] = "qp",
	[VRDMA_AUDIT_SRQ] = "srq",
	[VRDMA_AUDIT_AH] = "ah",
	[VRDMA_AUDIT_CTRL_EP] = "ctrl_ep",
	[VRDMA_AUDIT_REPL_GROUP] = "repl_group",
	[VRDMA_AUDIT_REPL_MEMBER] = "repl_member",
	[VRDMA_AUDIT_REPL_CLIENT] = "repl_client",
	[VRDMA_AUDIT_REPL_AUTH] = "repl_authority",
	[VRDMA_AUDIT_REPL_CHAN] = "repl_chan",
	[VRDMA_AUDIT_TUN] = "tun",
	[VRDMA_AUDIT_SLEEP_DOMAIN] = "sleep-domain",
	[VRDMA_AUDIT_SLEEP_PEER] = "sleep-peer",
	[VRDMA_AUDIT_STATS] = "stats",
	[VRDMA_AUDIT_PT_CTX] = "pt-ctx",
};

static_assert(ARRAY_SIZE(vrdma_audit_names) == VRDMA_AUDIT_NR);

static atomic64_t vrdma_audit_created_cnt[VRDMA_AUDIT_NR];
static atomic64_t vrdma_audit_destroyed_cnt[VRDMA_AUDIT_NR];

void vrdma_audit_created(enum vrdma_audit_obj obj)
{
	if (WARN_ON_ONCE(obj >= VRDMA_AUDIT_NR))
		return;
	atomic64_inc(&vrdma_audit_created_cnt[obj]);
}

void vrdma_audit_destroyed(enum vrdma_audit_obj obj)
{
	if (WARN_ON_ONCE(obj >= VRDMA_AUDIT_NR))
		return;
	atomic64_inc(&vrdma_audit_destroyed_cnt[obj]);
}

/**
 * vrdma_audit_check() - report unbalanced object counts
 *
 * Called at module exit, once every object should be gone.  Logs one
 * "leak:" line per unbalanced type, then warns once.
 *
 * Return: true if every type is balanced.
 */
bool vrdma_audit_check(void)
{
	bool balanced = true;
	unsigned int i;

	for (i = 0; i < VRDMA_AUDIT_NR; i++) {
		s64 created = atomic64_read(&vrdma_audit_created_cnt[i]);
		s64 destroyed = atomic64_read(&vrdma_audit_destroyed_cnt[i]);

		if (created == destroyed)
			continue;
		pr_err("leak: %s: %lld created, %lld destroyed\n",
		       vrdma_audit_names[i], created, destroyed);
		balanced = false;
	}
	WARN_ONCE(!balanced, "vrdma: unbalanced object counts at unload\n");
	return balanced;
}
