// SPDX-License-Identifier: GPL-2.0
/*
 * The vrdma generic netlink family, specified by
 * Documentation/netlink/specs/vrdma.yaml (ABI: include/uapi/linux/vrdma.h).
 *
 * Operations implemented: INFO_GET, PHYS_GET and PHYS_SET.  DEV_* and MAP_*
 * are not registered yet; the core answers -EOPNOTSUPP for them.
 *
 * Validation
 * ----------
 * Every operation has its own policy, written from the spec (string
 * max-len, exact-len binary, u32 max), and .resv_start_op is the first
 * command, so the core validates every request strictly: unknown
 * attributes, trailing data, a non-zero reserved header field and unknown
 * netlink flags are rejected.  Operations without request attributes use a
 * reject-all policy (explicit, with maxattr 1: a policy with maxattr 0
 * would not be parsed at all).
 *
 * Permissions and network namespaces
 * ----------------------------------
 * The family is netnsok: it answers in every network namespace.
 *
 *  INFO_GET (do, anyone, any netns): host-wide information: module
 *   version, default physical device, number of virtual devices and of
 *   address map entries on the host.
 *  PHYS_GET (dump, anyone, any netns): every physical RoCE device of the
 *   host.  ib_core's default (shared) netns mode shows every RDMA device to
 *   every namespace too.
 *  PHYS_SET (do): GENL_ADMIN_PERM (CAP_NET_ADMIN in the initial user
 *   namespace), and refused with -EPERM outside init_net: the default
 *   physical device is host-wide state, not a container's.
 *
 * Every error a handler returns comes with an extack message (or the
 * missing-attribute report of GENL_REQ_ATTR_CHECK).
 *
 * Locking
 * -------
 * .parallel_ops is set: handlers run without genl_mutex and take the locks
 * of what they touch (phys.c's vrdma_phys_lock, never held across netlink
 * calls).  This keeps genl_mutex out of the ib_core -> vrdma lock order.
 * Module unload is safe against running handlers (genl_unregister_family()
 * waits for them) and dumps (a dump holds a module reference).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <uapi/linux/vrdma.h>

#include "compat.h"
#include "netlink.h"
#include "phys.h"
#include "version.h"

static_assert(VRDMA_NAME_LEN == IB_DEVICE_NAME_MAX);

static struct genl_family vrdma_nl_family;

/* For operations without request attributes. */
static const struct nla_policy vrdma_nl_reject_all_policy[] = {
	[1] = { .type = NLA_REJECT },
};

static const struct nla_policy vrdma_nl_phys_set_policy[VRDMA_A_PHYS_NAME + 1] = {
	[VRDMA_A_PHYS_NAME] = { .type = NLA_NUL_STRING,
				.len = VRDMA_NAME_LEN - 1 },
};

#define VRDMA_NL_INFO_SIZE					\
	(nla_total_size(sizeof(VRDMA_VERSION)) +		\
	 nla_total_size(VRDMA_NAME_LEN) +			\
	 nla_total_size(sizeof(u32)) +				\
	 nla_total_size(sizeof(u32)))

static int vrdma_nl_info_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	char phys[VRDMA_NAME_LEN];
	struct sk_buff *msg;
	bool has_default;
	void *hdr;
	int ret;

	has_default = vrdma_phys_default_name(phys, sizeof(phys));

	msg = genlmsg_new(VRDMA_NL_INFO_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return -ENOMEM;
	}

	hdr = genlmsg_put_reply(msg, info, &vrdma_nl_family, 0,
				VRDMA_CMD_INFO_GET);
	if (!hdr)
		goto nla_put_failure;

	/* Virtual devices and the address map are not implemented yet. */
	if (nla_put_string(msg, VRDMA_A_INFO_VERSION, VRDMA_VERSION) ||
	    (has_default &&
	     nla_put_string(msg, VRDMA_A_INFO_PHYS_DEFAULT, phys)) ||
	    nla_put_u32(msg, VRDMA_A_INFO_DEV_COUNT, 0) ||
	    nla_put_u32(msg, VRDMA_A_INFO_MAP_COUNT, 0))
		goto nla_put_failure;
	genlmsg_end(msg, hdr);

	ret = genlmsg_reply(msg, info);
	if (ret)
		NL_SET_ERR_MSG(info->extack, "cannot send the reply");
	return ret;

nla_put_failure:
	nlmsg_free(msg);
	NL_SET_ERR_MSG(info->extack, "reply message too small");
	return -EMSGSIZE;
}

static int vrdma_nl_phys_fill(struct sk_buff *skb, struct netlink_callback *cb,
			      const struct vrdma_phys_info *phys)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &vrdma_nl_family, NLM_F_MULTI, VRDMA_CMD_PHYS_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);

	if (nla_put_string(skb, VRDMA_A_PHYS_NAME, phys->name) ||
	    nla_put_u32(skb, VRDMA_A_PHYS_INDEX, phys->index) ||
	    (phys->is_default && nla_put_flag(skb, VRDMA_A_PHYS_DEFAULT)) ||
	    nla_put_u32(skb, VRDMA_A_PHYS_DEV_COUNT, phys->dev_count)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * cb->args[0] is the lowest ib_device index not dumped yet: the dump
 * resumes correctly even if devices come and go between its parts (the
 * consistency check then flags the dump with NLM_F_DUMP_INTR).
 */
static int vrdma_nl_phys_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct vrdma_phys_info phys;
	u64 from = cb->args[0];
	unsigned int gen;
	int ret;

	while (from <= U32_MAX &&
	       !vrdma_phys_info_next(from, &phys, &gen)) {
		cb->seq = gen;
		ret = vrdma_nl_phys_fill(skb, cb, &phys);
		if (ret) {
			if (skb->len)
				break;
			NL_SET_ERR_MSG(cb->extack, "dump message too small");
			return ret;
		}
		from = (u64)phys.index + 1;
	}
	cb->args[0] = from;
	return skb->len;
}

static int vrdma_nl_phys_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	char name[VRDMA_NAME_LEN];
	struct nlattr *attr;
	int ret;

	if (!net_eq(genl_info_net(info), &init_net)) {
		NL_SET_ERR_MSG(info->extack,
			       "the default physical device can only be set from the initial network namespace");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_PHYS_NAME))
		return -EINVAL;

	attr = info->attrs[VRDMA_A_PHYS_NAME];
	nla_strscpy(name, attr, sizeof(name));

	ret = vrdma_phys_set_default(name);
	if (ret) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no physical RoCE device of that name");
		return ret;
	}
	return 0;
}

static const struct genl_ops vrdma_nl_ops[] = {
	{
		.cmd		= VRDMA_CMD_INFO_GET,
		.doit		= vrdma_nl_info_get_doit,
		.policy		= vrdma_nl_reject_all_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_reject_all_policy) - 1,
	},
	{
		.cmd		= VRDMA_CMD_PHYS_GET,
		.dumpit		= vrdma_nl_phys_get_dumpit,
		.policy		= vrdma_nl_reject_all_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_reject_all_policy) - 1,
	},
	{
		.cmd		= VRDMA_CMD_PHYS_SET,
		.doit		= vrdma_nl_phys_set_doit,
		.policy		= vrdma_nl_phys_set_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_phys_set_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
};

static struct genl_family vrdma_nl_family __ro_after_init = {
	.name		= VRDMA_FAMILY_NAME,
	.version	= VRDMA_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.resv_start_op	= VRDMA_CMD_INFO_GET,
	.ops		= vrdma_nl_ops,
	.n_ops		= ARRAY_SIZE(vrdma_nl_ops),
	.module		= THIS_MODULE,
};

int __init vrdma_netlink_init(void)
{
	int ret;

	ret = genl_register_family(&vrdma_nl_family);
	if (ret)
		pr_err("genl_register_family: %d\n", ret);
	return ret;
}

void vrdma_netlink_exit(void)
{
	genl_unregister_family(&vrdma_nl_family);
}
