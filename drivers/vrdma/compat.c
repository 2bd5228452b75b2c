// SPDX-License-Identifier: GPL-2.0
/*
 * Differences between the kernels vrdma builds against that need code, not
 * just a type or a macro (compat.h): the registration of a generic netlink
 * family from a split ops table.
 */
#include <linux/slab.h>
#include <net/genetlink.h>

#include "compat.h"

#ifdef VRDMA_HAVE_GENL_SPLIT_OPS

/**
 * vrdma_genl_register_family() - register a family with a split ops table
 * @family: the family, without ops
 * @ops: its operations (one entry per do and per dump)
 * @n_ops: their number
 *
 * Return: 0 or a negative errno (genl_register_family()).
 */
int vrdma_genl_register_family(struct genl_family *family,
			       const struct genl_split_ops *ops,
			       unsigned int n_ops)
{
	family->split_ops = ops;
	family->n_split_ops = n_ops;
	return genl_register_family(family);
}

/**
 * vrdma_genl_unregister_family() - unregister a family registered by
 *	vrdma_genl_register_family()
 * @family: the family
 */
void vrdma_genl_unregister_family(struct genl_family *family)
{
	genl_unregister_family(family);
}

#else /* !VRDMA_HAVE_GENL_SPLIT_OPS */

/* The entry of @cmd in @ops, or a new one. */
static struct genl_ops *vrdma_genl_op(struct genl_ops *ops, unsigned int *n,
				      u8 cmd)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (ops[i].cmd == cmd)
			return &ops[i];
	ops[*n].cmd = cmd;
	return &ops[(*n)++];
}

int vrdma_genl_register_family(struct genl_family *family,
			       const struct genl_split_ops *ops,
			       unsigned int n_ops)
{
	const u8 caps = GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP;
	struct genl_ops *full, *op;
	unsigned int i, n = 0;
	int ret;

	full = kcalloc(n_ops, sizeof(*full), GFP_KERNEL);
	if (!full)
		return -ENOMEM;
	for (i = 0; i < n_ops; i++) {
		op = vrdma_genl_op(full, &n, ops[i].cmd);
		op->flags |= ops[i].flags & ~caps;
		if (ops[i].doit) {
			op->doit = ops[i].doit;
			op->policy = ops[i].policy;
			op->maxattr = ops[i].maxattr;
		} else {
			op->start = ops[i].start;
			op->dumpit = ops[i].dumpit;
			op->done = ops[i].done;
			if (!op->policy) {
				op->policy = ops[i].policy;
				op->maxattr = ops[i].maxattr;
			}
		}
	}
	family->ops = full;
	family->n_ops = n;
	ret = genl_register_family(family);
	if (ret) {
		family->ops = NULL;
		family->n_ops = 0;
		kfree(full);
	}
	return ret;
}

/* The family may be __ro_after_init: its ops pointer stays. */
void vrdma_genl_unregister_family(struct genl_family *family)
{
	genl_unregister_family(family);
	kfree(family->ops);
}

#endif /* VRDMA_HAVE_GENL_SPLIT_OPS */
