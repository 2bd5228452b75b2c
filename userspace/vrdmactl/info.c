// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl info: module information (INFO_GET).
 */

#include "vrdmactl.h"

const char info_usage[] =
	"Usage: " PROG " [ -s ] info\n"
	"  -s: the control channel's counters (from the initial namespace)\n";

static const char *const info_attr_names[VRDMA_A_INFO_MAX + 1] = {
	[VRDMA_A_INFO_VERSION]		= "version",
	[VRDMA_A_INFO_PHYS_DEFAULT]	= "phys_default",
	[VRDMA_A_INFO_DEV_COUNT]	= "dev_count",
	[VRDMA_A_INFO_MAP_COUNT]	= "map_count",
	[VRDMA_A_INFO_STAT]		= "stat",
};

static const struct nl_policy info_policy[VRDMA_A_INFO_MAX + 1] = {
	[VRDMA_A_INFO_VERSION]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_INFO_PHYS_DEFAULT]	= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_INFO_DEV_COUNT]	= { MNL_TYPE_U32 },
	[VRDMA_A_INFO_MAP_COUNT]	= { MNL_TYPE_U32 },
	[VRDMA_A_INFO_STAT]		= { MNL_TYPE_NESTED },
};

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_INFO_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;

	if (nl_parse(nlh, info_policy, VRDMA_A_INFO_MAX, tb))
		return MNL_CB_ERROR;

	out_obj_start(o);
	if (tb[VRDMA_A_INFO_VERSION])
		out_str(o, "version", NULL,
			mnl_attr_get_str(tb[VRDMA_A_INFO_VERSION]));
	if (tb[VRDMA_A_INFO_PHYS_DEFAULT])
		out_str(o, "phys_default", NULL,
			mnl_attr_get_str(tb[VRDMA_A_INFO_PHYS_DEFAULT]));
	if (tb[VRDMA_A_INFO_DEV_COUNT])
		out_u32(o, "dev_count", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_INFO_DEV_COUNT]));
	if (tb[VRDMA_A_INFO_MAP_COUNT])
		out_u32(o, "map_count", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_INFO_MAP_COUNT]));
	if (vrd->details) {
		out_u32(o, "family_id", NULL, vrd->nl.family_id);
		out_u32(o, "family_version", NULL, vrd->nl.kernel_version);
	}
	if (vrd->stats && tb[VRDMA_A_INFO_STAT] &&
	    vrd_show_stats(nlh, o, VRDMA_A_INFO_STAT)) {
		fprintf(stderr, PROG ": info: malformed counters\n");
		return MNL_CB_ERROR;
	}
	out_obj_end(o);
	return MNL_CB_OK;
}

static int info_show(struct vrd *vrd)
{
	struct nlmsghdr *nlh;

	return vrd_nl_begin_show(vrd, VRDMA_CMD_INFO_GET, 0, &nlh) ?:
	       vrd_nl_run(vrd, nlh, info_cb, vrd, info_attr_names);
}

/* info [ show ] */
int cmd_info(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	info_show },
		{ "help",	vrd_object_help },
	};

	return vrd_exec(vrd, cmds, info_show);
}
