// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl dev: virtual devices (DEV_NEW, DEV_DEL, DEV_GET).
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vrdmactl.h"

const char dev_usage[] =
	"Usage: " PROG " dev [ show [ NAME ] ]\n"
	"       " PROG " dev add NAME netns NETNS netdev IFNAME [ phys PHYSDEV ] [ vni VNI ]\n"
	"       " PROG " dev del NAME\n"
	"where  NETNS := { PID | NAME | PATH }   (NAME as under " NETNS_RUN_DIR ")\n"
	"       VNI := 0-" STRINGIFY(VRDMA_VNI_MAX) "\n";

/* Request attributes, named by the words that set them. */
static const char *const dev_attr_names[VRDMA_A_DEV_MAX + 1] = {
	[VRDMA_A_DEV_NAME]		= "name",
	[VRDMA_A_DEV_INDEX]		= "index",
	[VRDMA_A_DEV_NETNS_PID]		= "netns",
	[VRDMA_A_DEV_NETNS_FD]		= "netns",
	[VRDMA_A_DEV_NETDEV]		= "netdev",
	[VRDMA_A_DEV_IFINDEX]		= "ifindex",
	[VRDMA_A_DEV_PHYS]		= "phys",
	[VRDMA_A_DEV_VNI]		= "vni",
	[VRDMA_A_DEV_NETNS_ID]		= "netns_id",
};

static const struct nl_policy dev_policy[VRDMA_A_DEV_MAX + 1] = {
	[VRDMA_A_DEV_NAME]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_INDEX]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_NETDEV]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_IFINDEX]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_PHYS]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_VNI]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_NETNS_ID]		= { MNL_TYPE_U32 },	/* s32 */
};

static int dev_show_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_DEV_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;
	int32_t nsid;
	uint32_t vni;

	if (nl_parse(nlh, dev_policy, VRDMA_A_DEV_MAX, tb))
		return MNL_CB_ERROR;
	if (!tb[VRDMA_A_DEV_NAME]) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}

	out_obj_start(o);
	if (tb[VRDMA_A_DEV_INDEX])
		out_u32(o, "index", "%u:",
			mnl_attr_get_u32(tb[VRDMA_A_DEV_INDEX]));
	out_str(o, "name", "%s:", mnl_attr_get_str(tb[VRDMA_A_DEV_NAME]));
	if (tb[VRDMA_A_DEV_NETDEV])
		out_str(o, "netdev", NULL,
			mnl_attr_get_str(tb[VRDMA_A_DEV_NETDEV]));
	if (tb[VRDMA_A_DEV_IFINDEX])
		out_u32(o, "ifindex", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_DEV_IFINDEX]));
	if (tb[VRDMA_A_DEV_PHYS])
		out_str(o, "phys", NULL,
			mnl_attr_get_str(tb[VRDMA_A_DEV_PHYS]));
	if (tb[VRDMA_A_DEV_VNI]) {
		vni = mnl_attr_get_u32(tb[VRDMA_A_DEV_VNI]);
		/* VNI 0 (no tenant) is noise, except in JSON and details. */
		if (vni || o->json || vrd->details)
			out_u32(o, "vni", NULL, vni);
	}
	if (tb[VRDMA_A_DEV_NETNS_ID]) {
		nsid = (int32_t)mnl_attr_get_u32(tb[VRDMA_A_DEV_NETNS_ID]);
		/* -1: the namespace has no id as seen from ours. */
		if (nsid >= 0 || o->json || vrd->details)
			out_s32(o, "netns_id", NULL, nsid);
	}
	out_obj_end(o);
	return MNL_CB_OK;
}

/* dev show [ NAME ] */
static int dev_show(struct vrd *vrd)
{
	const char *name = vrd_shift(vrd);
	struct nlmsghdr *nlh;
	int ret;

	ret = vrd_no_more_args(vrd);
	if (ret)
		return ret;
	ret = vrd_nl(vrd);
	if (ret)
		return ret;

	out_begin(&vrd->out);
	if (name) {
		nlh = nl_msg(&vrd->nl, VRDMA_CMD_DEV_GET, 0);
		if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE,
					     VRDMA_A_DEV_NAME, name))
			return vrd_usage(vrd, "dev show: NAME too long");
	} else {
		nlh = nl_msg(&vrd->nl, VRDMA_CMD_DEV_GET, NLM_F_DUMP);
	}
	ret = nl_request(&vrd->nl, nlh, dev_show_cb, vrd);
	if (ret)
		return vrd_nl_fail(vrd, ret, dev_attr_names);
	return VRD_OK;
}

enum {
	DEV_ADD_NETNS,
	DEV_ADD_NETDEV,
	DEV_ADD_PHYS,
	DEV_ADD_VNI,
};

static const struct vrd_word dev_add_words[] = {
	[DEV_ADD_NETNS]		= { "netns" },
	[DEV_ADD_NETDEV]	= { "netdev" },
	[DEV_ADD_PHYS]		= { "phys" },
	[DEV_ADD_VNI]		= { "vni" },
};

/* Build and send DEV_NEW; the netns descriptor is open until it returns. */
static int dev_new(struct vrd *vrd, const char *name, const char **vals,
		   uint32_t vni, int netns_fd, uint32_t netns_pid)
{
	struct nlmsghdr *nlh = nl_msg(&vrd->nl, VRDMA_CMD_DEV_NEW, 0);
	int ret;

	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_NAME,
				     name) ||
	    !mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_NETDEV,
				     vals[DEV_ADD_NETDEV]) ||
	    (vals[DEV_ADD_PHYS] &&
	     !mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_PHYS,
				      vals[DEV_ADD_PHYS])))
		return vrd_usage(vrd, "dev add: argument too long");
	if (netns_fd >= 0)
		mnl_attr_put_u32(nlh, VRDMA_A_DEV_NETNS_FD, netns_fd);
	else
		mnl_attr_put_u32(nlh, VRDMA_A_DEV_NETNS_PID, netns_pid);
	if (vals[DEV_ADD_VNI])
		mnl_attr_put_u32(nlh, VRDMA_A_DEV_VNI, vni);

	ret = nl_request(&vrd->nl, nlh, NULL, NULL);
	if (ret)
		return vrd_nl_fail(vrd, ret, dev_attr_names);
	return VRD_OK;
}

/* dev add NAME netns NETNS netdev IFNAME [ phys PHYSDEV ] [ vni VNI ] */
static int dev_add(struct vrd *vrd)
{
	const char *vals[ARRAY_SIZE(dev_add_words)];
	const char *name = vrd_shift(vrd);
	uint32_t netns_pid, vni = 0;
	int netns_fd, ret;

	if (!name)
		return vrd_usage(vrd, "dev add: missing NAME");
	ret = vrd_parse_keywords(vrd, "dev add", dev_add_words, vals);
	if (ret)
		return ret;
	if (!vals[DEV_ADD_NETNS])
		return vrd_usage(vrd, "dev add: missing 'netns NETNS'");
	if (!vals[DEV_ADD_NETDEV])
		return vrd_usage(vrd, "dev add: missing 'netdev IFNAME'");
	if (vals[DEV_ADD_VNI] &&
	    parse_u32(vals[DEV_ADD_VNI], VRDMA_VNI_MAX, &vni))
		return vrd_usage(vrd, "dev add: invalid VNI '%s' (0-%u)",
				 vals[DEV_ADD_VNI], VRDMA_VNI_MAX);

	ret = vrd_nl(vrd);
	if (ret)
		return ret;
	ret = resolve_netns(vals[DEV_ADD_NETNS], &netns_fd, &netns_pid);
	if (ret)
		return vrd_fail("dev add: network namespace '%s': %s",
				vals[DEV_ADD_NETNS], strerror(-ret));

	ret = dev_new(vrd, name, vals, vni, netns_fd, netns_pid);
	if (netns_fd >= 0)
		close(netns_fd);
	return ret;
}

/* dev del NAME */
static int dev_del(struct vrd *vrd)
{
	const char *name = vrd_shift(vrd);
	struct nlmsghdr *nlh;
	int ret;

	if (!name)
		return vrd_usage(vrd, "dev del: missing NAME");
	ret = vrd_no_more_args(vrd);
	if (ret)
		return ret;
	ret = vrd_nl(vrd);
	if (ret)
		return ret;

	nlh = nl_msg(&vrd->nl, VRDMA_CMD_DEV_DEL, 0);
	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_NAME, name))
		return vrd_usage(vrd, "dev del: NAME too long");
	ret = nl_request(&vrd->nl, nlh, NULL, NULL);
	if (ret)
		return vrd_nl_fail(vrd, ret, dev_attr_names);
	return VRD_OK;
}

static int dev_help(struct vrd *vrd)
{
	fputs(dev_usage, stdout);
	return vrd_no_more_args(vrd);
}

int cmd_dev(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	dev_show },
		{ "list",	dev_show },
		{ "add",	dev_add },
		{ "del",	dev_del },
		{ "help",	dev_help },
	};

	return vrd_exec(vrd, cmds, dev_show);
}
