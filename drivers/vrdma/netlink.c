// SPDX-License-Identifier: GPL-2.0
/*
 * The vrdma generic netlink family (Documentation/netlink.rst), and what the
 * handlers of every subsystem share: message headers, the initial-namespace
 * check, names, network namespaces given as a pid or a file descriptor.
 *
 * Validation
 * ----------
 * The policies and the ops table are generated from the spec (vrdma-nl.c,
 * netlink.h): every do and dump has its own policy, and an operation
 * without request attributes gets the core's reject-all policy, so the
 * core validates every request strictly: unknown attributes (including
 * attributes of the set that the operation does not take), trailing data
 * and a non-zero reserved header field are rejected.  What a policy cannot
 * say (required attributes, exclusive ones, non-empty names, addresses,
 * list items) is checked by the handlers, each error with an extack
 * message.
 *
 * Permissions and network namespaces
 * ----------------------------------
 * The family is netnsok: it answers in every network namespace.  Operations
 * marked admin-perm in the spec need CAP_NET_ADMIN in the initial user
 * namespace (GENL_ADMIN_PERM), and so does joining the "sleep" multicast
 * group.  The handlers refuse, outside init_net, the operations that change
 * host-wide state (the default physical device, virtual devices, the
 * address map, replication groups); a dump from another namespace shows
 * only what belongs to it.
 *
 * Locking
 * -------
 * .parallel_ops is set: handlers run without genl_mutex and take the locks
 * of what they touch (never held across netlink calls).  This keeps
 * genl_mutex out of the ib_core -> vrdma lock order.  Module unload is
 * safe against running handlers (genl_unregister_family() waits for them)
 * and dumps (a dump holds a module reference).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <uapi/linux/vrdma.h>

#include "netlink.h"

/*
 * Indexed like the generated enum (VRDMA_NLGRP_*).  The generator of 6.12
 * writes its own table without the groups' flags: every group of the
 * family is admin-perm in the spec.
 */
static const struct genl_multicast_group vrdma_nl_mcgrps[] = {
	[VRDMA_NLGRP_SLEEP] = {
		.name	= VRDMA_MCGRP_SLEEP,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

/* The ops are vrdma-nl.c's, set by vrdma_genl_register_family(). */
struct genl_family vrdma_nl_family __ro_after_init = {
	.name		= VRDMA_FAMILY_NAME,
	.version	= VRDMA_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.mcgrps		= vrdma_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vrdma_nl_mcgrps),
	.module		= THIS_MODULE,
};

/**
 * vrdma_nl_put_hdr() - start a vrdma message
 * @skb: the message buffer
 * @portid: netlink port of the receiver
 * @seq: sequence number
 * @flags: netlink message flags (NLM_F_MULTI in dumps)
 * @cmd: VRDMA_CMD_*
 *
 * Return: the user header (for genlmsg_end()/genlmsg_cancel()), or NULL if
 * @skb is too small.
 */
void *vrdma_nl_put_hdr(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		       u8 cmd)
{
	return genlmsg_put(skb, portid, seq, &vrdma_nl_family, flags, cmd);
}

/**
 * vrdma_nl_put_reply_hdr() - start the reply to a do request
 * @skb: the reply (genlmsg_new())
 * @info: the request
 * @cmd: VRDMA_CMD_*
 *
 * Return: the user header, or NULL if @skb is too small.
 */
void *vrdma_nl_put_reply_hdr(struct sk_buff *skb, struct genl_info *info,
			     u8 cmd)
{
	return genlmsg_put_reply(skb, info, &vrdma_nl_family, 0, cmd);
}

/**
 * vrdma_nl_dump_hdr() - start one object of a dump
 * @skb: the dump buffer
 * @cb: the dump
 * @cmd: VRDMA_CMD_*
 *
 * Uses the requester's port and sequence number and NLM_F_MULTI, and
 * flags the message NLM_F_DUMP_INTR if cb->seq (the generation of what is
 * dumped, set by the caller; 0 for none) changed since the previous part.
 *
 * Return: the user header, or NULL if @skb is too small.
 */
void *vrdma_nl_dump_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &vrdma_nl_family, NLM_F_MULTI, cmd);
	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

/**
 * vrdma_nl_strscpy() - copy a required, non-empty string attribute
 * @info: the request (the policy checked the attribute's length)
 * @type: the attribute
 * @buf: where to copy it
 * @size: size of @buf
 *
 * Return: 0, or -EINVAL (missing or empty, with an extack message).
 */
int vrdma_nl_strscpy(struct genl_info *info, int type, char *buf,
		     size_t size)
{
	if (GENL_REQ_ATTR_CHECK(info, type))
		return -EINVAL;
	nla_strscpy(buf, info->attrs[type], size);
	if (buf[0])
		return 0;
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[type], "empty name");
	return -EINVAL;
}

/**
 * vrdma_nl_netns_get() - the network namespace a request names
 * @pid: a u32 attribute: the pid of a process in it, or NULL
 * @fd: an s32 attribute: a file descriptor of it, or NULL (exactly one of
 *	@pid and @fd is given)
 * @extack: for the error message
 *
 * Return: the namespace (the caller puts it), or an ERR_PTR.
 */
struct net *vrdma_nl_netns_get(const struct nlattr *pid,
			       const struct nlattr *fd,
			       struct netlink_ext_ack *extack)
{
	struct net *net;

	if (pid) {
		net = get_net_ns_by_pid(nla_get_u32(pid));
		if (IS_ERR(net))
			NL_SET_ERR_MSG_ATTR(extack, pid, "no process with that pid");
	} else {
		net = get_net_ns_by_fd(nla_get_s32(fd));
		if (IS_ERR(net))
			NL_SET_ERR_MSG_ATTR(extack, fd,
					    "not a network namespace file descriptor");
	}
	return net;
}

/**
 * vrdma_netlink_init() - register the family
 *
 * Return: 0 or a negative errno.
 */
int __init vrdma_netlink_init(void)
{
	int ret;

	ret = vrdma_genl_register_family(&vrdma_nl_family, vrdma_nl_ops,
					 ARRAY_SIZE(vrdma_nl_ops));
	if (ret)
		pr_err("genl_register_family: %d\n", ret);
	return ret;
}

/**
 * vrdma_netlink_exit() - unregister the family (waits for its handlers)
 */
void vrdma_netlink_exit(void)
{
	vrdma_genl_unregister_family(&vrdma_nl_family);
}
