// SPDX-License-Identifier: GPL-2.0
/*
 * The core's netlink operations (netlink.h): INFO_GET, PHYS_GET and
 * PHYS_SET (phys.c), DEV_NEW, DEV_DEL and DEV_GET (vdev.c), MAP_NEW,
 * MAP_DEL and MAP_GET (map.c).
 *
 *  INFO_GET (do, anyone, any netns): host-wide information: module
 *   version, default physical device, number of virtual devices and of
 *   explicit address map entries on the host; from init_net also the
 *   counters of the control channel between hosts (ctrl.h): a tenant does
 *   not see what other hosts send this one.
 *  PHYS_GET (dump, anyone, any netns): every physical RoCE device of the
 *   host.  ib_core's default (shared) netns mode shows every RDMA device to
 *   every namespace too.
 *  PHYS_SET, DEV_NEW, DEV_DEL, MAP_NEW, MAP_DEL (do, admin): refused with
 *   -EPERM outside init_net: the default physical device, the virtual
 *   devices and the address map are host-wide state, not a container's.
 *  DEV_GET (do and dump, anyone, any netns): from a namespace other than
 *   init_net, only that namespace's devices.
 *  MAP_GET (dump, anyone, any netns): explicit entries, then the local
 *   entries derived from this host's virtual devices (flag local).  From a
 *   namespace other than init_net, only the entries of the vnis of the
 *   virtual devices in that namespace: a tenant does not see where other
 *   tenants' containers run.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <uapi/linux/vrdma.h>

#include "counters.h"
#include "ctrl.h"
#include "map.h"
#include "netlink.h"
#include "phys.h"
#include "vdev.h"
#include "version.h"

static_assert(VRDMA_NAME_LEN == IB_DEVICE_NAME_MAX);
static_assert(sizeof(union ib_gid) == 16);

/* ------------------------------------------------------------------ */
/* INFO_GET                                                             */

/* One nested STAT of a channel counter: its name (< 32 bytes), its value. */
#define VRDMA_NL_CTRL_STAT_SIZE					\
	nla_total_size(nla_total_size(32) +			\
		       nla_total_size_64bit(sizeof(u64)))

#define VRDMA_NL_INFO_SIZE					\
	(nla_total_size(sizeof(VRDMA_VERSION)) +		\
	 nla_total_size(VRDMA_NAME_LEN) +			\
	 nla_total_size(sizeof(u32)) +				\
	 nla_total_size(sizeof(u32)) +				\
	 VRDMA_CTRL_STAT_MAX * VRDMA_NL_CTRL_STAT_SIZE)

/* The control channel's counters (ctrl.h), one nested STAT each. */
static int vrdma_nl_info_put_ctrl_stats(struct sk_buff *skb)
{
	struct nlattr *nest;
	unsigned int i;

	for (i = 0; i < VRDMA_CTRL_STAT_MAX; i++) {
		nest = nla_nest_start(skb, VRDMA_A_INFO_STAT);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_string(skb, VRDMA_A_STAT_NAME,
				   vrdma_ctrl_stat_name(i)) ||
		    nla_put_u64_64bit(skb, VRDMA_A_STAT_VALUE,
				      vrdma_ctrl_stat_read(i),
				      VRDMA_A_STAT_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

int vrdma_nl_info_get_doit(struct sk_buff *skb, struct genl_info *info)
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

	hdr = vrdma_nl_put_reply_hdr(msg, info, VRDMA_CMD_INFO_GET);
	if (!hdr ||
	    nla_put_string(msg, VRDMA_A_INFO_VERSION, VRDMA_VERSION) ||
	    (has_default &&
	     nla_put_string(msg, VRDMA_A_INFO_PHYS_DEFAULT, phys)) ||
	    nla_put_u32(msg, VRDMA_A_INFO_DEV_COUNT, vrdma_devs_count()) ||
	    nla_put_u32(msg, VRDMA_A_INFO_MAP_COUNT, vrdma_map_count()) ||
	    (net_eq(genl_info_net(info), &init_net) &&
	     vrdma_nl_info_put_ctrl_stats(msg))) {
		nlmsg_free(msg);
		NL_SET_ERR_MSG(info->extack, "reply message too small");
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);

	ret = genlmsg_reply(msg, info);
	if (ret)
		NL_SET_ERR_MSG(info->extack, "cannot send the reply");
	return ret;
}

/* ------------------------------------------------------------------ */
/* PHYS_GET, PHYS_SET                                                   */

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
int vrdma_nl_phys_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
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

int vrdma_nl_phys_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	char name[VRDMA_NAME_LEN];
	int ret;

	ret = vrdma_nl_init_net_only(info,
				     "the default physical device can only be set from the initial network namespace");
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_PHYS_NAME))
		return -EINVAL;
	nla_strscpy(name, info->attrs[VRDMA_A_PHYS_NAME], sizeof(name));

	ret = vrdma_phys_set_default(name);
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_PHYS_NAME],
				    "no physical RoCE device of that name");
	return ret;
}

/* ------------------------------------------------------------------ */
/* DEV_NEW, DEV_DEL, DEV_GET                                            */

/*
 * The device's counters and gauges (counters.h), one nested STAT each, in
 * the order of its hw counters.  Process context.
 */
static int vrdma_nl_dev_put_stats(struct sk_buff *skb, struct vrdma_dev *vdev)
{
	u64 vals[VRDMA_STAT_NR];
	struct nlattr *nest;
	unsigned int i;

	vrdma_stats_read(vdev, vals);
	for (i = 0; i < VRDMA_STAT_NR; i++) {
		nest = nla_nest_start(skb, VRDMA_A_DEV_STAT);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_string(skb, VRDMA_A_STAT_NAME, vrdma_stat_name(i)) ||
		    nla_put_u64_64bit(skb, VRDMA_A_STAT_VALUE, vals[i],
				      VRDMA_A_STAT_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

/*
 * The device's description, as DEV_GET (with @stats, its counters) and
 * DEV_NEW reply.  netns-id is the netdev's namespace as @req_net sees it.
 */
static int vrdma_nl_dev_fill(struct sk_buff *skb, struct vrdma_dev *vdev,
			     struct net *req_net, bool stats)
{
	struct net_device *ndev;
	int ret = 0;

	if (nla_put_string(skb, VRDMA_A_DEV_NAME, dev_name(&vdev->ibdev.dev)) ||
	    nla_put_u32(skb, VRDMA_A_DEV_INDEX, vdev->ibdev.index) ||
	    nla_put_string(skb, VRDMA_A_DEV_PHYS, dev_name(&vdev->pdev->dev)) ||
	    nla_put_u32(skb, VRDMA_A_DEV_VNI, vdev->vni) ||
	    nla_put_u32(skb, VRDMA_A_DEV_MAX_QP, vdev->limits.max_qp) ||
	    nla_put_u32(skb, VRDMA_A_DEV_MAX_CQ, vdev->limits.max_cq) ||
	    nla_put_u32(skb, VRDMA_A_DEV_MAX_MR, vdev->limits.max_mr) ||
	    nla_put_u64_64bit(skb, VRDMA_A_DEV_MAX_PINNED,
			      vdev->limits.max_pinned, VRDMA_A_DEV_PAD) ||
	    nla_put_u32(skb, VRDMA_A_DEV_MODE, vdev->mode))
		return -EMSGSIZE;

	ndev = vrdma_dev_netdev(vdev);
	if (ndev) {
		if (nla_put_string(skb, VRDMA_A_DEV_NETDEV, ndev->name) ||
		    nla_put_u32(skb, VRDMA_A_DEV_IFINDEX, ndev->ifindex) ||
		    nla_put_s32(skb, VRDMA_A_DEV_NETNS_ID,
				peernet2id(req_net, dev_net(ndev))))
			ret = -EMSGSIZE;
		dev_put(ndev);
	}
	if (!ret && stats)
		ret = vrdma_nl_dev_put_stats(skb, vdev);
	return ret;
}

/* Reply to a do request with @vdev (a reference held by the caller). */
static int vrdma_nl_dev_reply(struct genl_info *info, struct vrdma_dev *vdev,
			      u8 cmd)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = vrdma_nl_put_reply_hdr(msg, info, cmd);
	if (!hdr || vrdma_nl_dev_fill(msg, vdev, genl_info_net(info),
				      cmd == VRDMA_CMD_DEV_GET)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* The physical device a DEV_NEW names, or the default one. */
static struct vrdma_phys *vrdma_nl_dev_phys(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VRDMA_A_DEV_PHYS];
	char name[IB_DEVICE_NAME_MAX];
	struct vrdma_phys *phys;

	if (!attr) {
		phys = vrdma_phys_get_default();
		if (!phys)
			NL_SET_ERR_MSG(info->extack,
				       "no physical device given and no default set");
		return phys;
	}
	if (vrdma_nl_strscpy(info, VRDMA_A_DEV_PHYS, name, sizeof(name)))
		return ERR_PTR(-EINVAL);
	phys = vrdma_phys_get_by_name(name);
	if (!phys)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no such physical RoCE device");
	return phys;
}

/* The container's netdev a DEV_NEW names, in its namespace. */
static struct net_device *vrdma_nl_dev_netdev(struct genl_info *info)
{
	struct nlattr *pid = info->attrs[VRDMA_A_DEV_NETNS_PID];
	struct nlattr *fd = info->attrs[VRDMA_A_DEV_NETNS_FD];
	struct nlattr *attr = info->attrs[VRDMA_A_DEV_NETDEV];
	char ifname[IFNAMSIZ];
	struct net_device *ndev;
	struct net *net;

	if (vrdma_nl_strscpy(info, VRDMA_A_DEV_NETDEV, ifname, sizeof(ifname)))
		return ERR_PTR(-EINVAL);
	if (!pid && !fd) {
		NL_SET_ERR_MSG(info->extack,
			       "missing network namespace: give netns-pid or netns-fd");
		return ERR_PTR(-EINVAL);
	}
	if (pid && fd) {
		NL_SET_ERR_MSG_ATTR(info->extack, fd,
				    "give netns-pid or netns-fd, not both");
		return ERR_PTR(-EINVAL);
	}
	net = vrdma_nl_netns_get(pid, fd, info->extack);
	if (IS_ERR(net))
		return ERR_CAST(net);

	ndev = dev_get_by_name(net, ifname);
	put_net(net);
	if (!ndev) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no such netdev in that network namespace");
		return ERR_PTR(-ENODEV);
	}
	if (ndev->type != ARPHRD_ETHER) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "not an Ethernet netdev");
		dev_put(ndev);
		return ERR_PTR(-EINVAL);
	}
	return ndev;
}

static u32 vrdma_nl_u32(struct genl_info *info, int type)
{
	return info->attrs[type] ? nla_get_u32(info->attrs[type]) : 0;
}

/* Release what vrdma_nl_dev_new_parse() took. */
static void vrdma_nl_dev_new_put(struct vrdma_dev_params *params)
{
	if (params->phys)
		vrdma_phys_put(params->phys);
	if (params->ndev)
		dev_put(params->ndev);
}

/* DEV_NEW's attributes: the device's parameters, with references. */
static int vrdma_nl_dev_new_parse(struct genl_info *info, char *name,
				  struct vrdma_dev_params *params)
{
	struct nlattr **tb = info->attrs;
	struct vrdma_phys *phys;
	struct net_device *ndev;
	int ret;

	ret = vrdma_nl_strscpy(info, VRDMA_A_DEV_NAME, name,
			       IB_DEVICE_NAME_MAX);
	if (ret)
		return ret;
	ndev = vrdma_nl_dev_netdev(info);
	if (IS_ERR(ndev))
		return PTR_ERR(ndev);
	phys = vrdma_nl_dev_phys(info);
	if (IS_ERR_OR_NULL(phys)) {
		dev_put(ndev);
		return phys ? PTR_ERR(phys) : -ENODEV;
	}

	*params = (struct vrdma_dev_params) {
		.name = name,
		.ndev = ndev,
		.phys = phys,
		.vni = vrdma_nl_u32(info, VRDMA_A_DEV_VNI),
		.limits = {
			.max_qp = vrdma_nl_u32(info, VRDMA_A_DEV_MAX_QP),
			.max_cq = vrdma_nl_u32(info, VRDMA_A_DEV_MAX_CQ),
			.max_mr = vrdma_nl_u32(info, VRDMA_A_DEV_MAX_MR),
			.max_pinned = tb[VRDMA_A_DEV_MAX_PINNED] ?
				nla_get_u64(tb[VRDMA_A_DEV_MAX_PINNED]) : 0,
		},
		.mode = vrdma_nl_u32(info, VRDMA_A_DEV_MODE),
	};
	return 0;
}

int vrdma_nl_dev_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vrdma_dev_params params = {};
	char name[IB_DEVICE_NAME_MAX];
	struct vrdma_dev *vdev;
	int ret;

	ret = vrdma_nl_init_net_only(info,
				     "virtual devices can only be created from the initial network namespace");
	if (!ret)
		ret = vrdma_nl_dev_new_parse(info, name, &params);
	if (ret)
		return ret;

	ret = vrdma_dev_create(&params, &vdev);
	if (ret == -EEXIST || ret == -ENFILE)
		NL_SET_ERR_MSG(info->extack, "device name in use");
	else if (ret == -EOPNOTSUPP)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_DEV_MODE],
				    "the physical device cannot serve passthrough devices (no user verbs)");
	else if (ret)
		NL_SET_ERR_MSG(info->extack, "cannot create the device");
	if (ret)
		goto out;

	/* Reply with the device, as DEV_GET would. */
	if (!ib_device_try_get(&vdev->ibdev)) {
		ret = -ENODEV;
		goto out;
	}
	ret = vrdma_nl_dev_reply(info, vdev, VRDMA_CMD_DEV_NEW);
	ib_device_put(&vdev->ibdev);
out:
	vrdma_nl_dev_new_put(&params);
	return ret;
}

/* The device a request names (and @net may see), with a reference. */
static struct vrdma_dev *vrdma_nl_dev_get(struct genl_info *info,
					  struct net *net)
{
	char name[IB_DEVICE_NAME_MAX];
	struct vrdma_dev *vdev;

	if (vrdma_nl_strscpy(info, VRDMA_A_DEV_NAME, name, sizeof(name)))
		return ERR_PTR(-EINVAL);
	vdev = vrdma_dev_get_by_name(name);
	if (vdev && net && !vrdma_dev_visible(vdev, net)) {
		ib_device_put(&vdev->ibdev);
		vdev = NULL;
	}
	if (!vdev) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_DEV_NAME],
				    "no such vrdma device");
		return ERR_PTR(-ENODEV);
	}
	return vdev;
}

int vrdma_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vrdma_dev *vdev;
	int ret;

	ret = vrdma_nl_init_net_only(info,
				     "virtual devices can only be deleted from the initial network namespace");
	if (ret)
		return ret;
	vdev = vrdma_nl_dev_get(info, NULL);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	ib_unregister_device_and_put(&vdev->ibdev);
	return 0;
}

int vrdma_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vrdma_dev *vdev;
	int ret;

	vdev = vrdma_nl_dev_get(info, genl_info_net(info));
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	ret = vrdma_nl_dev_reply(info, vdev, VRDMA_CMD_DEV_GET);
	ib_device_put(&vdev->ibdev);
	return ret;
}

/* cb->args[0] is the lowest ib_device index not dumped yet. */
int vrdma_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct vrdma_dev *vdev;
	int ret = 0;
	void *hdr;

	while ((vdev = vrdma_dev_get_next(cb->args[0]))) {
		u32 index = vdev->ibdev.index;

		if (vrdma_dev_visible(vdev, net)) {
			hdr = vrdma_nl_dump_hdr(skb, cb, VRDMA_CMD_DEV_GET);
			ret = hdr ? vrdma_nl_dev_fill(skb, vdev, net, true) :
				     -EMSGSIZE;
			if (ret && hdr)
				genlmsg_cancel(skb, hdr);
			else if (!ret)
				genlmsg_end(skb, hdr);
		}
		ib_device_put(&vdev->ibdev);
		if (ret)
			break;
		cb->args[0] = (u64)index + 1;
	}
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ?: skb->len;
}

/* ------------------------------------------------------------------ */
/* MAP_NEW, MAP_DEL, MAP_GET                                            */

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

/**
 * struct vrdma_nl_map - a MAP_NEW or MAP_DEL request
 * @addr: the overlay address
 * @via: its host's address (MAP_NEW)
 * @vni: its virtual network (0 when not given)
 */
struct vrdma_nl_map {
	union ib_gid addr;
	union ib_gid via;
	u32 vni;
};

static int vrdma_nl_map_parse(struct genl_info *info, bool with_via,
			      struct vrdma_nl_map *req)
{
	int ret;

	ret = vrdma_nl_init_net_only(info,
				     "the address map is host-wide: it can only be changed from the initial network namespace");
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_MAP_ADDR) ||
	    (with_via && GENL_REQ_ATTR_CHECK(info, VRDMA_A_MAP_VIA)))
		return -EINVAL;
	ret = vrdma_nl_map_addr(info, VRDMA_A_MAP_ADDR, false, &req->addr);
	if (!ret && with_via)
		ret = vrdma_nl_map_addr(info, VRDMA_A_MAP_VIA, true, &req->via);
	req->vni = vrdma_nl_u32(info, VRDMA_A_MAP_VNI);
	return ret;
}

int vrdma_nl_map_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vrdma_nl_map req;
	int ret;

	ret = vrdma_nl_map_parse(info, true, &req);
	if (ret)
		return ret;

	ret = vrdma_map_add(req.vni, &req.addr, &req.via);
	if (ret == -ENOSPC)
		NL_SET_ERR_MSG(info->extack,
			       "the address map is full (module parameter map_max)");
	else if (ret == -ENOMEM)
		NL_SET_ERR_MSG(info->extack, "out of memory");
	else if (ret)
		NL_SET_ERR_MSG(info->extack, "cannot add the entry");
	return ret;
}

int vrdma_nl_map_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VRDMA_A_MAP_ADDR];
	struct vrdma_nl_map req;
	int ret;

	ret = vrdma_nl_map_parse(info, false, &req);
	if (ret)
		return ret;

	ret = vrdma_map_del(req.vni, &req.addr);
	if (ret == -ENOENT && vrdma_map_is_local(req.vni, &req.addr))
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "a local entry (address of a virtual device here) cannot be deleted");
	else if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
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

int vrdma_nl_map_get_start(struct netlink_callback *cb)
{
	struct vrdma_nl_map_dump *dump = (void *)cb->ctx;
	int ret;

	ret = vrdma_map_filter_get(sock_net(cb->skb->sk), &dump->filter);
	if (ret)
		NL_SET_ERR_MSG(cb->extack, "out of memory");
	return ret;
}

int vrdma_nl_map_get_done(struct netlink_callback *cb)
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

int vrdma_nl_map_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
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
