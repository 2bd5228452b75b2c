// SPDX-License-Identifier: GPL-2.0
/*
 * A test client of vrdma's in-kernel replication API (vrdma_repl.h,
 * Documentation/replication.rst "In-kernel clients").  Loaded with
 *
 *	insmod vrdma_repl_kclient.ko group=NAME offset=OFF pattern=BYTE
 *
 * it opens the group for init_net and, one operation at a time, waiting
 * for each completion:
 *
 *  1. gWRITEs 4096 bytes of BYTE at OFF;
 *  2. gCASes the 64-bit word at OFF from BYTE repeated eight times to
 *     OFF + 1 (every replica must swap and report the old word);
 *  3. gFLUSHes those 4096 bytes;
 *  4. submits a gWRITE beyond the region (-ERANGE, no callback) and an
 *     unaligned gCAS (-EINVAL);
 *
 * and loading fails (with the reason in the kernel log) if anything is
 * not so.  group=NAME of no group fails with -ENOENT.  The test
 * (selftests/repl/kclient_test.sh) then reads every replica's backing
 * file.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "vrdma_repl.h"

static char *group;
module_param(group, charp, 0444);
MODULE_PARM_DESC(group, "Replication group to write to");

static ulong offset;
module_param(offset, ulong, 0444);
MODULE_PARM_DESC(offset, "Offset of the 4096 bytes written (4096-aligned)");

static uint pattern = 0xa5;
module_param(pattern, uint, 0444);
MODULE_PARM_DESC(pattern, "Byte written");

#define KCLIENT_LEN		4096
#define KCLIENT_TIMEOUT		(30 * HZ)

/* One operation in flight and its outcome (copied in softirq context). */
struct kclient_op {
	struct completion done;
	struct vrdma_repl_completion c;
};

static void kclient_done(void *ctx, const struct vrdma_repl_completion *c)
{
	struct kclient_op *op = ctx;

	op->c = *c;
	complete(&op->done);
}

/* Submit @rop and wait for its completion; its status, or an errno. */
static int kclient_run(struct vrdma_repl *r, const struct vrdma_repl_op *rop,
		       struct kclient_op *op)
{
	int ret;

	init_completion(&op->done);
	ret = vrdma_repl_submit(r, rop, kclient_done, op, 0);
	if (ret)
		return ret;
	if (!wait_for_completion_timeout(&op->done, KCLIENT_TIMEOUT)) {
		/* The callback must still come: @op must outlive it. */
		pr_err("no completion after %d s, still waiting\n",
		       KCLIENT_TIMEOUT / HZ);
		wait_for_completion(&op->done);
		return -ETIMEDOUT;
	}
	return op->c.status;
}

/* Every replica swapped, each reporting @old. */
static int kclient_check_cas(const struct vrdma_repl_completion *c, u64 old)
{
	unsigned int i;

	if (!c->nres || c->no_result) {
		pr_err("gCAS: %u results%s\n", c->nres,
		       c->no_result ? " (lost)" : "");
		return -EIO;
	}
	for (i = 0; i < c->nres; i++) {
		if (!c->res[i].swapped || c->res[i].old != old) {
			pr_err("gCAS: member %u: swapped %d, old %#llx\n",
			       c->res[i].member, c->res[i].swapped,
			       c->res[i].old);
			return -EIO;
		}
	}
	return 0;
}

static int kclient_ops(struct vrdma_repl *r, u8 *buf, struct kclient_op *op)
{
	struct vrdma_repl_op rop = {
		.opcode = VRDMA_REPL_OP_WRITE, .offset = offset,
		.data = buf, .len = KCLIENT_LEN,
	};
	int ret;

	memset(buf, pattern, KCLIENT_LEN);
	ret = kclient_run(r, &rop, op);
	if (ret) {
		pr_err("gWRITE: %d\n", ret);
		return ret;
	}

	rop = (struct vrdma_repl_op) {
		.opcode = VRDMA_REPL_OP_CAS, .offset = offset,
		.expected = 0x0101010101010101ULL * (pattern & 0xff),
		.newval = offset + 1,
	};
	ret = kclient_run(r, &rop, op);
	if (ret) {
		pr_err("gCAS: %d\n", ret);
		return ret;
	}
	ret = kclient_check_cas(&op->c, rop.expected);
	if (ret)
		return ret;

	rop = (struct vrdma_repl_op) {
		.opcode = VRDMA_REPL_OP_FLUSH, .offset = offset,
		.len = KCLIENT_LEN,
	};
	ret = kclient_run(r, &rop, op);
	if (ret) {
		pr_err("gFLUSH: %d\n", ret);
		return ret;
	}

	/* Refused at submission: no callback. */
	rop = (struct vrdma_repl_op) {
		.opcode = VRDMA_REPL_OP_WRITE, .offset = vrdma_repl_size(r),
		.data = buf, .len = KCLIENT_LEN,
	};
	ret = vrdma_repl_submit(r, &rop, kclient_done, op, 0);
	if (ret != -ERANGE) {
		pr_err("gWRITE beyond the region: %d, not -ERANGE\n", ret);
		return -EIO;
	}
	rop = (struct vrdma_repl_op) {
		.opcode = VRDMA_REPL_OP_CAS, .offset = offset + 4,
	};
	ret = vrdma_repl_submit(r, &rop, kclient_done, op, 0);
	if (ret != -EINVAL) {
		pr_err("unaligned gCAS: %d, not -EINVAL\n", ret);
		return -EIO;
	}
	return 0;
}

static int __init kclient_init(void)
{
	struct kclient_op *op;
	struct vrdma_repl *r;
	u8 *buf;
	int ret;

	if (!group || offset % KCLIENT_LEN)
		return -EINVAL;
	r = vrdma_repl_open(group, &init_net);
	if (IS_ERR(r)) {
		pr_info("open %s: %ld\n", group, PTR_ERR(r));
		return PTR_ERR(r);
	}
	ret = -ENOMEM;
	buf = kmalloc(KCLIENT_LEN, GFP_KERNEL);
	op = kzalloc(sizeof(*op), GFP_KERNEL);
	if (buf && op) {
		if (offset + KCLIENT_LEN > vrdma_repl_size(r))
			ret = -ERANGE;
		else
			ret = kclient_ops(r, buf, op);
	}
	kfree(op);
	kfree(buf);
	vrdma_repl_close(r);
	if (!ret)
		pr_info("%s: 4096 bytes of %#x at %lu, gCAS, gFLUSH: done\n",
			group, pattern & 0xff, offset);
	return ret;
}

static void __exit kclient_exit(void)
{
}

module_init(kclient_init);
module_exit(kclient_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test client of vrdma's in-kernel replication API");
