// SPDX-License-Identifier: GPL-2.0
/*
 * ib_core's netlink: netns mode and device moves (rdma_nldev.h).
 */

#include <errno.h>

#include <rdma/rdma_netlink.h>

#include "rdma_nldev.h"

static int netns_mode_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct nl_policy pol[RDMA_NLDEV_ATTR_MAX] = {
		[RDMA_NLDEV_SYS_ATTR_NETNS_MODE] = { MNL_TYPE_U8 },
	};
	const struct nlattr *tb[RDMA_NLDEV_ATTR_MAX];
	int *exclusive = data;

	if (nl_parse_at(nlh, 0, pol, RDMA_NLDEV_ATTR_MAX - 1, tb))
		return MNL_CB_ERROR;
	if (tb[RDMA_NLDEV_SYS_ATTR_NETNS_MODE])	/* 1: shared, 0: exclusive */
		*exclusive = !mnl_attr_get_u8(tb[RDMA_NLDEV_SYS_ATTR_NETNS_MODE]);
	return MNL_CB_OK;
}

int rdma_netns_exclusive(struct nl *rdma, bool *exclusive)
{
	struct nlmsghdr *nlh;
	int mode = -1;
	int ret;

	nlh = nl_msg_raw(rdma, RDMA_NL_GET_TYPE(RDMA_NL_NLDEV,
						RDMA_NLDEV_CMD_SYS_GET), 0);
	ret = nl_request(rdma, nlh, netns_mode_cb, &mode);
	if (ret)
		return ret;
	if (mode < 0)
		return -EPROTO;
	*exclusive = mode;
	return 0;
}

int rdma_dev_set_netns(struct nl *rdma, uint32_t index, int netns_fd)
{
	struct nlmsghdr *nlh;

	nlh = nl_msg_raw(rdma, RDMA_NL_GET_TYPE(RDMA_NL_NLDEV,
						RDMA_NLDEV_CMD_SET), 0);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, index);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_NET_NS_FD, netns_fd);
	return nl_request(rdma, nlh, NULL, NULL);
}
