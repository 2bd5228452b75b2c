// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink multicast groups: resolve a group of a family through
 * the genetlink controller and join it (vrdmactl sleep monitor and
 * vrdma-sleepd).
 */

#include <errno.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"
#include "nl_mcast.h"

struct mcast_lookup {
	const char *group;
	uint32_t id;
	bool found;
};

static int mcast_group_cb(const struct nlattr *grp, struct mcast_lookup *l)
{
	const struct nlattr *attr, *name = NULL, *id = NULL;

	mnl_attr_for_each_nested(attr, grp) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
				name = attr;
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				id = attr;
			break;
		}
	}
	if (name && id && !strcmp(mnl_attr_get_str(name), l->group)) {
		l->id = mnl_attr_get_u32(id);
		l->found = true;
	}
	return MNL_CB_OK;
}

static int mcast_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *grp;
	struct mcast_lookup *l = data;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(attr) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			continue;
		mnl_attr_for_each_nested(grp, attr)
			if (mnl_attr_validate(grp, MNL_TYPE_NESTED) == 0)
				mcast_group_cb(grp, l);
	}
	return MNL_CB_OK;
}

int nl_mcast_resolve(struct nl *nl, const char *family, const char *group,
		     uint32_t *id)
{
	struct mcast_lookup l = { .group = group };
	uint16_t family_id = nl->family_id;
	uint8_t version = nl->family_version;
	struct nlmsghdr *nlh;
	int ret;

	nl->family_id = GENL_ID_CTRL;
	nl->family_version = 1;
	nlh = nl_msg(nl, CTRL_CMD_GETFAMILY, 0);
	nl->family_id = family_id;
	nl->family_version = version;
	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, CTRL_ATTR_FAMILY_NAME,
				     family))
		return -ENAMETOOLONG;
	ret = nl_request(nl, nlh, mcast_family_cb, &l);
	if (ret)
		return ret;
	if (!l.found)
		return -ENOENT;
	*id = l.id;
	return 0;
}

int nl_mcast_join(struct nl *nl, const char *family, const char *group)
{
	uint32_t id;
	int ret;

	ret = nl_mcast_resolve(nl, family, group, &id);
	if (ret)
		return ret;
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &id,
				  sizeof(id)) < 0)
		return -errno;
	return 0;
}
