/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel client API of the vrdma replication engine
 * (Documentation/replication.rst, "In-kernel clients").
 *
 * A kernel module that depends on vrdma opens a group by name, submits
 * operations asynchronously and gets each completion through a callback:
 *
 *	static void done(void *ctx, const struct vrdma_repl_completion *c)
 *	{
 *		// softirq context: do not sleep
 *	}
 *
 *	struct vrdma_repl *r = vrdma_repl_open("g1", &init_net);
 *	struct vrdma_repl_op op = {
 *		.opcode = VRDMA_REPL_OP_WRITE, .offset = 0,
 *		.data = buf, .len = 4096,
 *	};
 *	if (!IS_ERR(r))
 *		err = vrdma_repl_submit(r, &op, done, ctx, 0);
 *	...
 *	vrdma_repl_close(r);
 *
 * Operations of one host are applied by every member in the order they
 * were submitted (one client agent per group and host); a completion is
 * reported once every member of the chain has applied the operation.
 */
#ifndef _VRDMA_REPL_API_H
#define _VRDMA_REPL_API_H

#include <linux/in6.h>
#include <linux/types.h>
#include <uapi/linux/vrdma.h>

struct net;
struct vrdma_repl;

/**
 * struct vrdma_repl_op - an operation
 * @opcode: enum vrdma_repl_opcode
 * @offset: WRITE, CAS, FLUSH: offset in the region; MEMCPY: destination
 * @src: MEMCPY: source offset
 * @len: WRITE: bytes of @data (1 to VRDMA_REPL_WRITE_MAX); MEMCPY: bytes
 *	to copy; FLUSH: bytes to make durable (0: the whole region, from
 *	@offset 0)
 * @data: WRITE: the data (copied by vrdma_repl_submit())
 * @expected: CAS: the value the 64-bit word must have
 * @newval: CAS: the value it gets if it has it
 *
 * CAS needs an 8-byte aligned @offset; the word is little-endian.
 */
struct vrdma_repl_op {
	u8 opcode;
	u64 offset;
	u64 src;
	u32 len;
	const void *data;
	u64 expected;
	u64 newval;
};

/**
 * struct vrdma_repl_result - one replica's gCAS result
 * @member: the member's index in the group's configuration
 * @addr: its address
 * @old: the word before the operation
 * @swapped: the word was @expected and is now the new value
 */
struct vrdma_repl_result {
	u32 member;
	struct in6_addr addr;
	u64 old;
	bool swapped;
};

/**
 * struct vrdma_repl_completion - the outcome of an operation
 * @status: 0, or a negative errno (-ESHUTDOWN: the group was deleted;
 *	-EIO: a member could not flush; -EINVAL, -ERANGE: refused by the
 *	head)
 * @no_result: a retried gCAS was found applied but its results were lost
 *	(Documentation/replication.rst, "Guarantees")
 * @nres: results (gCAS): one per member that applied it
 * @res: the results, in chain order
 */
struct vrdma_repl_completion {
	int status;
	bool no_result;
	unsigned int nres;
	struct vrdma_repl_result res[VRDMA_REPL_MAX_MEMBERS];
};

/**
 * typedef vrdma_repl_done_t - completion callback
 * @ctx: the submitter's context
 * @c: the completion (valid during the call only)
 *
 * Called once per submitted operation, in softirq context or when the
 * group is deleted (operations in flight complete with -ESHUTDOWN); must
 * not sleep, and must not call vrdma_repl_submit() (the agent's lock is
 * held): hand the next submission to a work item.
 */
typedef void (*vrdma_repl_done_t)(void *ctx,
				  const struct vrdma_repl_completion *c);

#define VRDMA_REPL_NOWAIT	0x1	/* fail with -EAGAIN, never sleep */

struct vrdma_repl *vrdma_repl_open(const char *name, struct net *net);
void vrdma_repl_close(struct vrdma_repl *r);
u64 vrdma_repl_size(const struct vrdma_repl *r);
int vrdma_repl_submit(struct vrdma_repl *r, const struct vrdma_repl_op *op,
		      vrdma_repl_done_t done, void *ctx, unsigned int flags);

#endif /* _VRDMA_REPL_API_H */
