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

#include <rdma/ib_verbs.h>

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
#include <rdma/uverbs_ioctl.h>
#define vrdma_create_cq_arg uverbs_attr_bundle
static inline struct ib_udata *
vrdma_create_cq_udata(struct uverbs_attr_bundle *attrs)
{
	return attrs ? &attrs->driver_udata : NULL;
}
#else
#define vrdma_create_cq_arg ib_udata
static inline struct ib_udata *vrdma_create_cq_udata(struct ib_udata *udata)
{
	return udata;
}
#endif

#ifdef VRDMA_HAVE_REG_USER_MR_DMABUF_ATTR_BUNDLE
#include <rdma/uverbs_ioctl.h>
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

#endif /* _VRDMA_COMPAT_H */
