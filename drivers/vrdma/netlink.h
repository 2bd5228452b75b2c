/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vrdma generic netlink family.  Documentation/netlink/specs/vrdma.yaml
 * specifies it; the YNL generator writes from it the user ABI
 * (include/uapi/linux/vrdma.h), the policies and the ops table
 * (vrdma-nl.c) and the handler prototypes (vrdma-nl.h); netlink.c
 * registers the family.  Each subsystem handles its own operations in one
 * file: vdev_nl.c (INFO, PHYS, DEV, MAP), repl_nl.c (REPL), sleep_nl.c
 * (SLEEP).  Include this header, not vrdma-nl.h: it adds the kernel
 * compatibility that the generated code needs and what every handler
 * file shares.
 *
 * Handlers are named by the generator: vrdma_nl_<op>_doit() and
 * vrdma_nl_<op>_dumpit().  Each parses the request's attributes into a
 * struct (vrdma_nl_<op>_parse(): presence, lengths, what the policy cannot
 * say), then calls a plain function of its subsystem that validates the
 * request against the state and builds the result; it then replies.
 */
#ifndef _VRDMA_NETLINK_H
#define _VRDMA_NETLINK_H

#include <linux/types.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "vrdma-nl.h"

extern struct genl_family vrdma_nl_family;

int vrdma_netlink_init(void);
void vrdma_netlink_exit(void);

void *vrdma_nl_put_hdr(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		       u8 cmd);
void *vrdma_nl_put_reply_hdr(struct sk_buff *skb, struct genl_info *info,
			     u8 cmd);
void *vrdma_nl_dump_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			u8 cmd);

/**
 * vrdma_nl_init_net_only() - refuse a change of host-wide state from a
 *	container
 * @info: the request
 * @msg: the extack message when it comes from another network namespace
 *	(a string literal)
 *
 * Return: 0 if the request comes from init_net, else -EPERM.
 */
#define vrdma_nl_init_net_only(info, msg) ({				\
	struct genl_info *__info = (info);				\
	int __ret = 0;							\
									\
	if (!net_eq(genl_info_net(__info), &init_net)) {		\
		NL_SET_ERR_MSG(__info->extack, msg);			\
		__ret = -EPERM;						\
	}								\
	__ret;								\
})

int vrdma_nl_strscpy(struct genl_info *info, int type, char *buf,
		     size_t size);
struct net *vrdma_nl_netns_get(const struct nlattr *pid,
			       const struct nlattr *fd,
			       struct netlink_ext_ack *extack);

#endif /* _VRDMA_NETLINK_H */
