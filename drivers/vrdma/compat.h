/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels vrdma builds against (Debian's 6.1 and
 * 6.12).  compat-autoconf.h is generated at build time by
 * scripts/compat-probe.sh, which compiles small probes against the headers
 * of the target kernel; this file turns its VRDMA_HAVE_* results into
 * helpers so that the rest of the module has no #ifdef.  Never test
 * LINUX_VERSION_CODE: distribution kernels backport changes.
 */
#ifndef _VRDMA_COMPAT_H
#define _VRDMA_COMPAT_H

#include "compat-autoconf.h"

#include <net/genetlink.h>
#include <net/netlink.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>

/*
 * The last argument of ib_device_ops.create_cq: a struct uverbs_attr_bundle
 * (6.12) or a struct ib_udata (6.1).  A driver declares its callback as
 *
 *	int x_create_cq(struct ib_cq *cq, const struct ib_cq_init_attr *attr,
 *			struct vrdma_create_cq_arg *arg);
 *
 * and gets the driver udata (NULL for a kernel CQ) with
 * vrdma_create_cq_udata(arg).  Same for reg_user_mr_dmabuf.
 */
#ifdef VRDMA_HAVE_CREATE_CQ_ATTR_BUNDLE
#define vrdma_create_cq_arg uverbs_attr_bundle
static inline struct ib_udata *
vrdma_create_cq_udata(struct uverbs_attr_bundle *attrs)
{
	return attrs ? &attrs->driver_udata : NULL;
}

/* The argument for another driver's create_cq, from a bundle of ours. */
static inline struct uverbs_attr_bundle *
vrdma_create_cq_arg_of(struct uverbs_attr_bundle *attrs)
{
	return attrs;
}
#else
#define vrdma_create_cq_arg ib_udata
static inline struct ib_udata *vrdma_create_cq_udata(struct ib_udata *udata)
{
	return udata;
}

static inline struct ib_udata *
vrdma_create_cq_arg_of(struct uverbs_attr_bundle *attrs)
{
	return &attrs->driver_udata;
}
#endif

#ifdef VRDMA_HAVE_REG_USER_MR_DMABUF_ATTR_BUNDLE
#define vrdma_reg_user_mr_dmabuf_arg uverbs_attr_bundle
static inline struct ib_udata *
vrdma_reg_user_mr_dmabuf_udata(struct uverbs_attr_bundle *attrs)
{
	return attrs ? &attrs->driver_udata : NULL;
}
#else
#define vrdma_reg_user_mr_dmabuf_arg ib_udata
static inline struct ib_udata *
vrdma_reg_user_mr_dmabuf_udata(struct ib_udata *udata)
{
	return udata;
}
#endif

/*
 * The generated netlink code (vrdma-nl.c, from the YNL generator) points
 * its range policies at const struct netlink_range_validation; 6.1's
 * nla_policy.range is a pointer to non-const (the core never writes
 * through it).
 */
#ifndef VRDMA_HAVE_NLA_POLICY_CONST_RANGE
#undef NLA_POLICY_FULL_RANGE
#define NLA_POLICY_FULL_RANGE(tp, _range) {				\
	.type = NLA_ENSURE_UINT_OR_BINARY_TYPE(tp),			\
	.validation_type = NLA_VALIDATE_RANGE_PTR,			\
	.range = (struct netlink_range_validation *)(_range),		\
}
#endif

/*
 * The generated ops table is an array of struct genl_split_ops: one entry
 * per do and one per dump, each with its own policy (none: no attribute).
 * 6.1 knows only struct genl_ops (a do and a dump of one command share an
 * entry and its policy): there the type is declared here with the members
 * the generator fills, and vrdma_genl_register_family() (compat.c) merges
 * the table into genl_ops.  The dump of a command with a do then accepts
 * the do's attributes, and ignores them.
 */
#ifndef VRDMA_HAVE_GENL_SPLIT_OPS
struct genl_split_ops {
	int (*doit)(struct sk_buff *skb, struct genl_info *info);
	int (*start)(struct netlink_callback *cb);
	int (*dumpit)(struct sk_buff *skb, struct netlink_callback *cb);
	int (*done)(struct netlink_callback *cb);
	const struct nla_policy *policy;
	unsigned int maxattr;
	u8 cmd;
	u8 flags;
};
#endif

int vrdma_genl_register_family(struct genl_family *family,
			       const struct genl_split_ops *ops,
			       unsigned int n_ops);
void vrdma_genl_unregister_family(struct genl_family *family);

/*
 * rdma_user_mmap_disassociate() (6.12, not 6.1) zaps every mapping that
 * rdma_user_mmap_io() made on the device's uverbs files.  Returns whether
 * the kernel has it.
 */
#ifdef VRDMA_HAVE_RDMA_USER_MMAP_DISASSOCIATE
static inline bool vrdma_user_mmap_disassociate(struct ib_device *ibdev)
{
	rdma_user_mmap_disassociate(ibdev);
	return true;
}
#else
static inline bool vrdma_user_mmap_disassociate(struct ib_device *ibdev)
{
	return false;
}
#endif

#endif /* _VRDMA_COMPAT_H */
