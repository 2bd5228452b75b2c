// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel client API of the replication engine (vrdma_repl.h,
 * Documentation/replication.rst "In-kernel clients"): open a group by
 * name, submit operations to it through this host's client agent, close
 * it.  REPL_OP (repl_nl.c) uses it too; selftests/repl/kclient/ is an
 * external module that uses it.
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "repl.h"

struct vrdma_repl {
	struct repl_group *g;
};

/**
 * vrdma_repl_open() - open a replication group for in-kernel submission
 * @name: the group's name
 * @net: the network namespace the caller acts for (&init_net may use
 *	every group; another one only the groups that allow it)
 *
 * Context: process context.
 * Return: a handle for vrdma_repl_submit(), or an ERR_PTR: -ENOENT (no
 * such group), -EPERM (@net may not use it), -ENOMEM.
 */
struct vrdma_repl *vrdma_repl_open(const char *name, struct net *net)
{
	struct vrdma_repl *r;
	struct repl_group *g;

	g = vrdma_repl_group_get(name);
	if (!g)
		return ERR_PTR(-ENOENT);
	if (!vrdma_repl_group_allowed(g, net)) {
		vrdma_repl_group_put(g);
		return ERR_PTR(-EPERM);
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r) {
		vrdma_repl_group_put(g);
		return ERR_PTR(-ENOMEM);
	}
	r->g = g;
	return r;
}
EXPORT_SYMBOL_GPL(vrdma_repl_open);

/**
 * vrdma_repl_close() - close a handle
 * @r: the handle (may be an ERR_PTR or NULL)
 *
 * Operations in flight still complete (their callbacks run later).
 */
void vrdma_repl_close(struct vrdma_repl *r)
{
	if (IS_ERR_OR_NULL(r))
		return;
	vrdma_repl_group_put(r->g);
	kfree(r);
}
EXPORT_SYMBOL_GPL(vrdma_repl_close);

/**
 * vrdma_repl_size() - the size of a group's region
 * @r: the handle
 *
 * Return: bytes.
 */
u64 vrdma_repl_size(const struct vrdma_repl *r)
{
	return r->g->size;
}
EXPORT_SYMBOL_GPL(vrdma_repl_size);

/**
 * vrdma_repl_submit() - submit an operation to every member of the group
 * @r: the handle
 * @op: the operation (its data is copied)
 * @done: called once when every member of the chain has applied it (or
 *	it failed), in softirq context
 * @ctx: argument of @done
 * @flags: VRDMA_REPL_NOWAIT: fail with -EAGAIN rather than sleep when
 *	REPL_WINDOW operations of this host are in flight
 *
 * Operations submitted on one host are applied by every member in the
 * order of submission.
 *
 * Context: process context; with VRDMA_REPL_NOWAIT also softirq (never hard
 * interrupts, nor a completion callback of this group: its lock is held).
 * Return: 0 (then @done is called exactly once), or -EINVAL, -ERANGE (an
 * invalid operation), -ENOTCONN (no client agent on this host),
 * -ENETDOWN (its RDMA device is missing), -ESHUTDOWN (the group was
 * deleted), -EAGAIN, -EINTR, -ENOMEM; @done is then not called.
 */
int vrdma_repl_submit(struct vrdma_repl *r, const struct vrdma_repl_op *op,
		      vrdma_repl_done_t done, void *ctx, unsigned int flags)
{
	struct repl_group *g = r->g;
	int ret;

	if (flags & ~VRDMA_REPL_NOWAIT)
		return -EINVAL;
	ret = vrdma_repl_op_check(g->size, op->opcode, op->offset, op->src, op->len);
	if (ret)
		return ret;
	if (op->opcode == VRDMA_REPL_OP_WRITE && !op->data)
		return -EINVAL;
	if (!g->client)
		return -ENOTCONN;
	return vrdma_repl_client_submit(g->client, op, done, ctx,
				  flags & VRDMA_REPL_NOWAIT);
}
EXPORT_SYMBOL_GPL(vrdma_repl_submit);
