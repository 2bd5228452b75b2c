/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vrdma generic netlink family (netlink.c) and the interface between
 * it and the handlers of other files.
 */
#ifndef _VRDMA_NETLINK_H
#define _VRDMA_NETLINK_H

#include <linux/types.h>
#include <net/genetlink.h>

int vrdma_netlink_init(void);
void vrdma_netlink_exit(void);

/*
 * DEV_* handlers (vdev.c).  netlink.c registers them with strict per-op
 * policies (the spec's: name <= 63 bytes, netdev <= 15, phys <= 63, vni
 * <= VRDMA_VNI_MAX, netns-pid u32, netns-fd s32, no other attribute) and
 * calls them only after these checks, each failure reported with extack:
 *
 *  dev_new: GENL_ADMIN_PERM; the request comes from init_net (else
 *	-EPERM); name and netdev are present and not empty, phys (if
 *	present) not empty; exactly one of netns-pid and netns-fd.
 *  dev_del: GENL_ADMIN_PERM; init_net; name present, not empty.
 *  dev_get (do): anyone, any netns; name present, not empty.
 *  dev_get (dump): anyone, any netns; no check (a dump from a netns other
 *	than init_net must list only that netns's devices).
 */
int vrdma_nl_dev_new_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

/*
 * For those handlers: the family (genlmsg_*() calls), and message headers
 * of the family.  vrdma_nl_put_reply_hdr() starts the reply to a do
 * request; vrdma_nl_dump_hdr() starts one object of a dump (the
 * requester's port and sequence number, NLM_F_MULTI, and the
 * NLM_F_DUMP_INTR consistency check against cb->seq).  They return the
 * user header for genlmsg_end()/genlmsg_cancel(), or NULL when the buffer
 * is too small.
 */
const struct genl_family *vrdma_nl_family_get(void);
void *vrdma_nl_put_hdr(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		       u8 cmd);
void *vrdma_nl_put_reply_hdr(struct sk_buff *skb, struct genl_info *info,
			     u8 cmd);
void *vrdma_nl_dump_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			u8 cmd);

/* The family's multicast groups (group ids for genlmsg_multicast*()). */
enum vrdma_nl_mcgrp {
	VRDMA_NL_MCGRP_SLEEP,	/* VRDMA_MCGRP_SLEEP: sleep_nl.c's events */
};

#endif /* _VRDMA_NETLINK_H */
