// SPDX-License-Identifier: GPL-2.0
/*
 * The vrdma generic netlink family, specified by
 * Documentation/netlink/specs/vrdma.yaml (ABI: include/uapi/linux/vrdma.h).
 *
 * This file holds the family, its operations table and policies, and the
 * handlers of INFO_GET, PHYS_*, and MAP_* (on top of map.c).  DEV_* are
 * handled by vdev.c (vrdma_nl_dev_*() in netlink.h), after the checks
 * below; netlink.h also exports the message header helpers they use.
 *
 * Validation
 * ----------
 * Every operation has its own policy, written from the spec (string
 * max-len, exact-len binary, u32 ranges), and .resv_start_op is the first
 * command, so the core validates every request strictly: unknown
 * attributes (including attributes of the set that the operation does not
 * take), trailing data and a non-zero reserved header field are rejected.
 * Operations without request attributes use a reject-all policy (explicit,
 * with maxattr 1: a policy with maxattr 0 would not be parsed at all).
 * The VNI range does not fit NLA_POLICY_MAX (an s16): it is a
 * NLA_POLICY_FULL_RANGE.  What a policy cannot say is checked by the
 * handlers: required attributes, exactly one of netns-pid and netns-fd,
 * non-empty names, and addresses (an overlay address must be a unicast
 * address, a host address also routable, see vrdma_map_addr_check()).
 *
 * Permissions and network namespaces
 * ----------------------------------
 * The family is netnsok: it answers in every network namespace.
 *
 *  INFO_GET (do, anyone, any netns): host-wide information: module
 *   version, default physical device, number of virtual devices and of
 *   explicit address map entries on the host.
 *  PHYS_GET (dump, anyone, any netns): every physical RoCE device of the
 *   host.  ib_core's default (shared) netns mode shows every RDMA device to
 *   every namespace too.
 *  PHYS_SET, DEV_NEW, DEV_DEL, MAP_NEW, MAP_DEL (do): GENL_ADMIN_PERM
 *   (CAP_NET_ADMIN in the initial user namespace), and refused with -EPERM
 *   outside init_net: the default physical device, the virtual devices
 *   and the address map are host-wide state, not a container's.
 *  DEV_GET (do and dump, anyone, any netns): a dump from a namespace other
 *   than init_net lists only that namespace's devices (vdev.c).
 *  MAP_GET (dump, anyone, any netns): explicit entries, then the local
 *   entries derived from this host's virtual devices (flag local).  From a
 *   namespace other than init_net, only the entries of the vnis of the
 *   virtual devices in that namespace: a tenant does not see where other
 *   tenants' containers run.
 *
 * Every error a handler returns comes with an extack message (or the
 * missing-attribute report of GENL_REQ_ATTR_CHECK).
 *
 * Locking
 * -------
 * .parallel_ops is set: handlers run without genl_mutex and take the locks
 * of what they touch (phys.c's vrdma_phys_lock, map.c's vrdma_map_lock,
 * vdev.c's vrdma_devs_lock; never held across netlink calls).  This keeps
 * genl_mutex out of the ib_core -> vrdma lock order.  Module unload is
 * safe against running handlers (genl_unregister_family() waits for them)
 * and dumps (a dump holds a module reference).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if.h>
#include <linux/module.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <uapi/linux/vrdma.h>

#include "compat.h"
#include "map.h"
#include "netlink.h"
#include "phys.h"
#include "repl.h"
#include "sleep.h"
#include "vdev.h"
#include "version.h"

static_assert(VRDMA_NAME_LEN == IB_DEVICE_NAME_MAX);

static struct genl_family vrdma_nl_family;

/**
 * vrdma_nl_family_get() - the vrdma generic netlink family
 *
 * Return: the family, for genlmsg_*() calls of handlers in other files.
 */
const struct genl_family *vrdma_nl_family_get(void)
{
	return &vrdma_nl_family;
}

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

/* For operations without request attributes. */
static const struct nla_policy vrdma_nl_reject_all_policy[] = {
	[1] = { .type = NLA_REJECT },
};

static const struct nla_policy vrdma_nl_phys_set_policy[VRDMA_A_PHYS_NAME + 1] = {
	[VRDMA_A_PHYS_NAME] = { .type = NLA_NUL_STRING,
				.len = VRDMA_NAME_LEN - 1 },
};

/* Not const: 6.1's nla_policy.range is a pointer to non-const. */
static struct netlink_range_validation vrdma_nl_vni_range __ro_after_init = {
	.max = VRDMA_VNI_MAX,
};

#define VRDMA_NL_POLICY_NAME { .type = NLA_NUL_STRING, .len = VRDMA_NAME_LEN - 1 }
#define VRDMA_NL_POLICY_VNI NLA_POLICY_FULL_RANGE(NLA_U32, &vrdma_nl_vni_range)
#define VRDMA_NL_POLICY_ADDR NLA_POLICY_EXACT_LEN(sizeof(union ib_gid))

static const struct nla_policy vrdma_nl_dev_new_policy[VRDMA_A_DEV_MAX_PINNED + 1] = {
	[VRDMA_A_DEV_NAME]	= VRDMA_NL_POLICY_NAME,
	[VRDMA_A_DEV_NETNS_PID]	= { .type = NLA_U32 },
	[VRDMA_A_DEV_NETNS_FD]	= { .type = NLA_S32 },
	[VRDMA_A_DEV_NETDEV]	= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[VRDMA_A_DEV_PHYS]	= VRDMA_NL_POLICY_NAME,
	[VRDMA_A_DEV_VNI]	= VRDMA_NL_POLICY_VNI,
	[VRDMA_A_DEV_MAX_QP]	= { .type = NLA_U32 },
	[VRDMA_A_DEV_MAX_CQ]	= { .type = NLA_U32 },
	[VRDMA_A_DEV_MAX_MR]	= { .type = NLA_U32 },
	[VRDMA_A_DEV_MAX_PINNED] = { .type = NLA_U64 },
};

/* DEV_DEL and DEV_GET (whose dump takes no attribute, but shares it). */
static const struct nla_policy vrdma_nl_dev_name_policy[VRDMA_A_DEV_NAME + 1] = {
	[VRDMA_A_DEV_NAME]	= VRDMA_NL_POLICY_NAME,
};

static const struct nla_policy vrdma_nl_map_new_policy[VRDMA_A_MAP_VNI + 1] = {
	[VRDMA_A_MAP_ADDR]	= VRDMA_NL_POLICY_ADDR,
	[VRDMA_A_MAP_VIA]	= VRDMA_NL_POLICY_ADDR,
	[VRDMA_A_MAP_VNI]	= VRDMA_NL_POLICY_VNI,
};

static const struct nla_policy vrdma_nl_map_del_policy[VRDMA_A_MAP_VNI + 1] = {
	[VRDMA_A_MAP_ADDR]	= VRDMA_NL_POLICY_ADDR,
	[VRDMA_A_MAP_VNI]	= VRDMA_NL_POLICY_VNI,
};

/* REPL_* (handlers in repl_group.c) */

#define VRDMA_NL_POLICY_REPL_NAME \
	{ .type = NLA_NUL_STRING, .len = VRDMA_REPL_NAME_LEN - 1 }

static const struct nla_policy vrdma_nl_repl_member_policy[VRDMA_A_REPL_MEMBER_ADDR + 1] = {
	[VRDMA_A_REPL_MEMBER_ADDR] = VRDMA_NL_POLICY_ADDR,
};

static const struct nla_policy vrdma_nl_repl_group_new_policy[VRDMA_A_REPL_NETNS_PID + 1] = {
	[VRDMA_A_REPL_NAME]	= VRDMA_NL_POLICY_REPL_NAME,
	[VRDMA_A_REPL_SIZE]	= { .type = NLA_U64 },
	[VRDMA_A_REPL_FILE]	= { .type = NLA_NUL_STRING,
				    .len = VRDMA_REPL_PATH_MAX - 1 },
	[VRDMA_A_REPL_MEMBER]	= NLA_POLICY_NESTED(vrdma_nl_repl_member_policy),
	[VRDMA_A_REPL_AUTHORITY] = VRDMA_NL_POLICY_ADDR,
	[VRDMA_A_REPL_CLIENT]	= VRDMA_NL_POLICY_ADDR,
	[VRDMA_A_REPL_NETNS_FD]	= { .type = NLA_S32 },
	[VRDMA_A_REPL_NETNS_PID] = { .type = NLA_U32 },
};

/* REPL_GROUP_DEL and REPL_GROUP_GET (whose dump takes no attribute). */
static const struct nla_policy vrdma_nl_repl_name_policy[VRDMA_A_REPL_NAME + 1] = {
	[VRDMA_A_REPL_NAME]	= VRDMA_NL_POLICY_REPL_NAME,
};

static const struct nla_policy vrdma_nl_repl_group_set_policy[VRDMA_A_REPL_NETNS_PID + 1] = {
	[VRDMA_A_REPL_NAME]	= VRDMA_NL_POLICY_REPL_NAME,
	[VRDMA_A_REPL_NETNS_FD]	= { .type = NLA_S32 },
	[VRDMA_A_REPL_NETNS_PID] = { .type = NLA_U32 },
};

static const struct nla_policy vrdma_nl_repl_op_policy[VRDMA_A_REPL_COOKIE + 1] = {
	[VRDMA_A_REPL_NAME]	= VRDMA_NL_POLICY_REPL_NAME,
	[VRDMA_A_REPL_OPCODE]	= NLA_POLICY_RANGE(NLA_U32, VRDMA_REPL_OP_WRITE,
						   VRDMA_REPL_OP_FLUSH),
	[VRDMA_A_REPL_OFFSET]	= { .type = NLA_U64 },
	[VRDMA_A_REPL_SRC]	= { .type = NLA_U64 },
	[VRDMA_A_REPL_LEN]	= { .type = NLA_U32 },
	[VRDMA_A_REPL_DATA]	= { .type = NLA_BINARY,
				    .len = U16_MAX - NLA_HDRLEN },
	[VRDMA_A_REPL_EXPECTED]	= { .type = NLA_U64 },
	[VRDMA_A_REPL_NEW]	= { .type = NLA_U64 },
	[VRDMA_A_REPL_COOKIE]	= { .type = NLA_U64 },
};

static_assert(sizeof(union ib_gid) == 16);

/* Host-wide state is changed from the initial network namespace only. */
static bool vrdma_nl_in_init_net(struct genl_info *info)
{
	return net_eq(genl_info_net(info), &init_net);
}

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

	if (nla_put_string(msg, VRDMA_A_INFO_VERSION, VRDMA_VERSION) ||
	    (has_default &&
	     nla_put_string(msg, VRDMA_A_INFO_PHYS_DEFAULT, phys)) ||
	    nla_put_u32(msg, VRDMA_A_INFO_DEV_COUNT, vrdma_devs_count()) ||
	    nla_put_u32(msg, VRDMA_A_INFO_MAP_COUNT, vrdma_map_count()))
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

	hdr = vrdma_nl_dump_hdr(skb, cb, VRDMA_CMD_PHYS_GET);
	if (!hdr)
		return -EMSGSIZE;

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

	if (!vrdma_nl_in_init_net(info)) {
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

/* DEV_* */

/* A string attribute the policy accepts but that must not be empty. */
static bool vrdma_nl_empty(struct genl_info *info, int type)
{
	struct nlattr *attr = info->attrs[type];

	if (nla_len(attr) > 1 && *(char *)nla_data(attr))
		return false;
	NL_SET_ERR_MSG_ATTR(info->extack, attr, "empty name");
	return true;
}

static int vrdma_nl_dev_new_check_doit(struct sk_buff *skb,
				       struct genl_info *info)
{
	struct nlattr *pid = info->attrs[VRDMA_A_DEV_NETNS_PID];
	struct nlattr *fd = info->attrs[VRDMA_A_DEV_NETNS_FD];

	if (!vrdma_nl_in_init_net(info)) {
		NL_SET_ERR_MSG(info->extack,
			       "virtual devices can only be created from the initial network namespace");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_DEV_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_DEV_NETDEV))
		return -EINVAL;
	if (vrdma_nl_empty(info, VRDMA_A_DEV_NAME) ||
	    vrdma_nl_empty(info, VRDMA_A_DEV_NETDEV) ||
	    (info->attrs[VRDMA_A_DEV_PHYS] &&
	     vrdma_nl_empty(info, VRDMA_A_DEV_PHYS)))
		return -EINVAL;
	if (!pid && !fd) {
		NL_SET_ERR_MSG(info->extack,
			       "missing network namespace: give netns-pid or netns-fd");
		return -EINVAL;
	}
	if (pid && fd) {
		NL_SET_ERR_MSG_ATTR(info->extack, fd,
				    "give netns-pid or netns-fd, not both");
		return -EINVAL;
	}
	return vrdma_nl_dev_new_doit(skb, info);
}

static int vrdma_nl_dev_del_check_doit(struct sk_buff *skb,
				       struct genl_info *info)
{
	if (!vrdma_nl_in_init_net(info)) {
		NL_SET_ERR_MSG(info->extack,
			       "virtual devices can only be deleted from the initial network namespace");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_DEV_NAME) ||
	    vrdma_nl_empty(info, VRDMA_A_DEV_NAME))
		return -EINVAL;
	return vrdma_nl_dev_del_doit(skb, info);
}

static int vrdma_nl_dev_get_check_doit(struct sk_buff *skb,
				       struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_DEV_NAME) ||
	    vrdma_nl_empty(info, VRDMA_A_DEV_NAME))
		return -EINVAL;
	return vrdma_nl_dev_get_doit(skb, info);
}

/* REPL_*: groups are host-wide state, changed from init_net only. */

static int vrdma_nl_repl_admin_check(struct genl_info *info)
{
	if (!vrdma_nl_in_init_net(info)) {
		NL_SET_ERR_MSG(info->extack,
			       "replication groups can only be changed from the initial network namespace");
		return -EPERM;
	}
	return 0;
}

static int vrdma_nl_repl_group_new_check_doit(struct sk_buff *skb,
					      struct genl_info *info)
{
	return vrdma_nl_repl_admin_check(info) ?:
	       vrdma_nl_repl_group_new_doit(skb, info);
}

static int vrdma_nl_repl_group_del_check_doit(struct sk_buff *skb,
					      struct genl_info *info)
{
	return vrdma_nl_repl_admin_check(info) ?:
	       vrdma_nl_repl_group_del_doit(skb, info);
}

static int vrdma_nl_repl_group_set_check_doit(struct sk_buff *skb,
					      struct genl_info *info)
{
	return vrdma_nl_repl_admin_check(info) ?:
	       vrdma_nl_repl_group_set_doit(skb, info);
}

/* MAP_* */

/* Copy and check an address attribute (the policy checked its length). */
static int vrdma_nl_map_addr(struct genl_info *info, int type, bool host,
			     union ib_gid *gid)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *attr = info->attrs[type];

	nla_memcpy(gid, attr, sizeof(*gid));
	switch (vrdma_map_addr_check(gid, host)) {
	case VRDMA_MAP_ADDR_OK:
		return 0;
	case VRDMA_MAP_ADDR_UNSPECIFIED:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the unspecified address is not a unicast address");
		break;
	case VRDMA_MAP_ADDR_LOOPBACK:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a loopback address cannot be mapped");
		break;
	case VRDMA_MAP_ADDR_MULTICAST:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a multicast address is not a unicast address");
		break;
	case VRDMA_MAP_ADDR_BROADCAST:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the broadcast address is not a unicast address");
		break;
	case VRDMA_MAP_ADDR_V4COMPAT:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "IPv4-compatible IPv6 address: give IPv4 as ::ffff:a.b.c.d");
		break;
	case VRDMA_MAP_ADDR_LINKLOCAL:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a link-local address is not routable: give the RNIC's routable address");
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, attr, "invalid address");
		break;
	}
	return -EINVAL;
}

static u32 vrdma_nl_map_vni(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VRDMA_A_MAP_VNI];

	return attr ? nla_get_u32(attr) : 0;
}

static int vrdma_nl_map_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	union ib_gid addr, via;
	int ret;

	if (!vrdma_nl_in_init_net(info)) {
		NL_SET_ERR_MSG(info->extack,
			       "the address map is host-wide: it can only be changed from the initial network namespace");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_MAP_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_MAP_VIA))
		return -EINVAL;
	ret = vrdma_nl_map_addr(info, VRDMA_A_MAP_ADDR, false, &addr);
	if (ret)
		return ret;
	ret = vrdma_nl_map_addr(info, VRDMA_A_MAP_VIA, true, &via);
	if (ret)
		return ret;

	ret = vrdma_map_add(vrdma_nl_map_vni(info), &addr, &via);
	switch (ret) {
	case 0:
		break;
	case -ENOSPC:
		NL_SET_ERR_MSG(info->extack,
			       "the address map is full (module parameter map_max)");
		break;
	case -ENOMEM:
		NL_SET_ERR_MSG(info->extack, "out of memory");
		break;
	default:
		NL_SET_ERR_MSG(info->extack, "cannot add the entry");
		break;
	}
	return ret;
}

static int vrdma_nl_map_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	union ib_gid addr;
	u32 vni;
	int ret;

	if (!vrdma_nl_in_init_net(info)) {
		NL_SET_ERR_MSG(info->extack,
			       "the address map is host-wide: it can only be changed from the initial network namespace");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_MAP_ADDR))
		return -EINVAL;
	ret = vrdma_nl_map_addr(info, VRDMA_A_MAP_ADDR, false, &addr);
	if (ret)
		return ret;
	vni = vrdma_nl_map_vni(info);

	ret = vrdma_map_del(vni, &addr);
	if (ret == -ENOENT && vrdma_map_is_local(vni, &addr))
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_MAP_ADDR],
				    "a local entry (address of a virtual device here) cannot be deleted");
	else if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_MAP_ADDR],
				    "no such entry in the address map (in this vni)");
	else if (ret)
		NL_SET_ERR_MSG(info->extack, "cannot delete the entry");
	return ret;
}

/* The state of a MAP_GET dump, in cb->ctx (zeroed by netlink). */
struct vrdma_nl_map_dump {
	struct vrdma_map_pos pos;
	struct vrdma_map_filter *filter;
};

static_assert(sizeof(struct vrdma_nl_map_dump) <=
	      sizeof_field(struct netlink_callback, ctx));

static int vrdma_nl_map_get_start(struct netlink_callback *cb)
{
	struct vrdma_nl_map_dump *dump = (void *)cb->ctx;
	int ret;

	ret = vrdma_map_filter_get(sock_net(cb->skb->sk), &dump->filter);
	if (ret)
		NL_SET_ERR_MSG(cb->extack, "out of memory");
	return ret;
}

static int vrdma_nl_map_get_done(struct netlink_callback *cb)
{
	struct vrdma_nl_map_dump *dump = (void *)cb->ctx;

	vrdma_map_filter_put(dump->filter);
	dump->filter = NULL;
	return 0;
}

static int vrdma_nl_map_fill(struct sk_buff *skb, struct netlink_callback *cb,
			     const struct vrdma_map_info *entry)
{
	void *hdr;

	hdr = vrdma_nl_dump_hdr(skb, cb, VRDMA_CMD_MAP_GET);
	if (!hdr)
		return -EMSGSIZE;

	if (nla_put(skb, VRDMA_A_MAP_ADDR, sizeof(entry->addr),
		    entry->addr.raw) ||
	    (entry->has_via &&
	     nla_put(skb, VRDMA_A_MAP_VIA, sizeof(entry->via),
		     entry->via.raw)) ||
	    nla_put_u32(skb, VRDMA_A_MAP_VNI, entry->vni) ||
	    nla_put_u32(skb, VRDMA_A_MAP_FLAGS,
			entry->local ? VRDMA_MAP_FLAGS_LOCAL : 0)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int vrdma_nl_map_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct vrdma_nl_map_dump *dump = (void *)cb->ctx;
	struct vrdma_map_info entry;
	int ret;

	/* Changes of the explicit entries flag the dump NLM_F_DUMP_INTR. */
	cb->seq = vrdma_map_gen();
	while (!vrdma_map_dump_next(&dump->pos, dump->filter, &entry)) {
		ret = vrdma_nl_map_fill(skb, cb, &entry);
		if (ret) {
			if (skb->len)
				break;
			NL_SET_ERR_MSG(cb->extack, "dump message too small");
			return ret;
		}
		vrdma_map_dump_advance(&dump->pos);
	}
	return skb->len;
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
	{
		.cmd		= VRDMA_CMD_DEV_NEW,
		.doit		= vrdma_nl_dev_new_check_doit,
		.policy		= vrdma_nl_dev_new_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_dev_new_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_DEV_DEL,
		.doit		= vrdma_nl_dev_del_check_doit,
		.policy		= vrdma_nl_dev_name_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_dev_name_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_DEV_GET,
		.doit		= vrdma_nl_dev_get_check_doit,
		.dumpit		= vrdma_nl_dev_get_dumpit,
		.policy		= vrdma_nl_dev_name_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_dev_name_policy) - 1,
	},
	{
		.cmd		= VRDMA_CMD_MAP_NEW,
		.doit		= vrdma_nl_map_new_doit,
		.policy		= vrdma_nl_map_new_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_map_new_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_MAP_DEL,
		.doit		= vrdma_nl_map_del_doit,
		.policy		= vrdma_nl_map_del_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_map_del_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_MAP_GET,
		.start		= vrdma_nl_map_get_start,
		.dumpit		= vrdma_nl_map_get_dumpit,
		.done		= vrdma_nl_map_get_done,
		.policy		= vrdma_nl_reject_all_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_reject_all_policy) - 1,
	},
	/*
	 * REPL_*: repl_group.c.  Group changes: admin, init_net only.
	 * REPL_GROUP_GET: anyone, from init_net or from a namespace the
	 * group allows (others do not see the group; file names and
	 * namespaces only for init_net's administrators).  REPL_OP: the
	 * same, with CAP_NET_ADMIN in the namespace's user namespace
	 * (checked by the handler).
	 */
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_NEW,
		.doit		= vrdma_nl_repl_group_new_check_doit,
		.policy		= vrdma_nl_repl_group_new_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_repl_group_new_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_DEL,
		.doit		= vrdma_nl_repl_group_del_check_doit,
		.policy		= vrdma_nl_repl_name_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_repl_name_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_GET,
		.doit		= vrdma_nl_repl_group_get_doit,
		.dumpit		= vrdma_nl_repl_group_get_dumpit,
		.policy		= vrdma_nl_repl_name_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_repl_name_policy) - 1,
	},
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_SET,
		.doit		= vrdma_nl_repl_group_set_check_doit,
		.policy		= vrdma_nl_repl_group_set_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_repl_group_set_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_REPL_OP,
		.doit		= vrdma_nl_repl_op_doit,
		.policy		= vrdma_nl_repl_op_policy,
		.maxattr	= ARRAY_SIZE(vrdma_nl_repl_op_policy) - 1,
	},
	/*
	 * SLEEP_*: sleep_nl.c.  Admin only, in any network namespace (each
	 * namespace has its own sleep domain).
	 */
	{
		.cmd		= VRDMA_CMD_SLEEP_ACTIVITY_GET,
		.doit		= vrdma_sleep_nl_activity_get_doit,
		.policy		= vrdma_sleep_activity_policy,
		.maxattr	= ARRAY_SIZE(vrdma_sleep_activity_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_PEER_SET,
		.doit		= vrdma_sleep_nl_peer_set_doit,
		.policy		= vrdma_sleep_peer_set_policy,
		.maxattr	= ARRAY_SIZE(vrdma_sleep_peer_set_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_PEER_DEL,
		.doit		= vrdma_sleep_nl_peer_del_doit,
		.policy		= vrdma_sleep_peer_addr_policy,
		.maxattr	= ARRAY_SIZE(vrdma_sleep_peer_addr_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_PEER_GET,
		.doit		= vrdma_sleep_nl_peer_get_doit,
		.dumpit		= vrdma_sleep_nl_peer_get_dumpit,
		.policy		= vrdma_sleep_peer_addr_policy,
		.maxattr	= ARRAY_SIZE(vrdma_sleep_peer_addr_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_CONFIG_SET,
		.doit		= vrdma_sleep_nl_config_set_doit,
		.policy		= vrdma_sleep_config_policy,
		.maxattr	= ARRAY_SIZE(vrdma_sleep_config_policy) - 1,
		.flags		= GENL_ADMIN_PERM,
	},
};

/* Indexed by enum vrdma_nl_mcgrp. */
static const struct genl_multicast_group vrdma_nl_mcgrps[] = {
	[VRDMA_NL_MCGRP_SLEEP] = {
		.name	= VRDMA_MCGRP_SLEEP,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
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
	.mcgrps		= vrdma_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vrdma_nl_mcgrps),
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
