// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl phys: physical RDMA devices (PHYS_GET, PHYS_SET).
 */

#include <errno.h>
#include <string.h>

#include "vrdmactl.h"

const char phys_usage[] =
	"Usage: " PROG " phys [ show [ NAME ] ]\n"
	"       " PROG " phys default NAME\n";

static const char *const phys_attr_names[VRDMA_A_PHYS_MAX + 1] = {
	[VRDMA_A_PHYS_NAME]		= "name",
	[VRDMA_A_PHYS_INDEX]		= "index",
	[VRDMA_A_PHYS_DEFAULT]		= "default",
	[VRDMA_A_PHYS_DEV_COUNT]	= "dev_count",
};

static const struct nl_policy phys_policy[VRDMA_A_PHYS_MAX + 1] = {
	[VRDMA_A_PHYS_NAME]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_PHYS_INDEX]		= { MNL_TYPE_U32 },
	[VRDMA_A_PHYS_DEFAULT]		= { MNL_TYPE_FLAG },
	[VRDMA_A_PHYS_DEV_COUNT]	= { MNL_TYPE_U32 },
};

struct phys_show {
	struct vrd *vrd;
	const char *name;	/* only this device, if set */
	bool found;
};

static int phys_show_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_PHYS_MAX + 1];
	struct phys_show *show = data;
	struct out *o = &show->vrd->out;
	const char *name;

	if (nl_parse_obj(nlh, phys_policy, VRDMA_A_PHYS_MAX, tb,
			 VRDMA_A_PHYS_NAME))
		return MNL_CB_ERROR;
	name = mnl_attr_get_str(tb[VRDMA_A_PHYS_NAME]);
	if (show->name && strcmp(name, show->name))
		return MNL_CB_OK;
	show->found = true;

	out_obj_start(o);
	if (tb[VRDMA_A_PHYS_INDEX])
		out_u32(o, "index", "%u:",
			mnl_attr_get_u32(tb[VRDMA_A_PHYS_INDEX]));
	out_str(o, "name", "%s:", name);
	if (tb[VRDMA_A_PHYS_DEV_COUNT])
		out_u32(o, "dev_count", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_PHYS_DEV_COUNT]));
	out_bool(o, "default", tb[VRDMA_A_PHYS_DEFAULT]);
	out_obj_end(o);
	return MNL_CB_OK;
}

/* phys show [ NAME ] */
static int phys_show(struct vrd *vrd)
{
	struct phys_show show = { .vrd = vrd, .name = vrd_shift(vrd) };
	struct nlmsghdr *nlh;
	int ret;

	ret = vrd_nl_begin_show(vrd, VRDMA_CMD_PHYS_GET, NLM_F_DUMP, &nlh);
	if (ret)
		return ret;
	ret = nl_request(&vrd->nl, nlh, phys_show_cb, &show);
	if (ret)
		return vrd_nl_fail(vrd, ret, phys_attr_names);
	if (show.name && !show.found)
		return vrd_fail("phys: no physical device '%s'",
				show.name);
	return VRD_OK;
}

/* phys default NAME */
static int phys_default(struct vrd *vrd)
{
	const char *name;
	struct nlmsghdr *nlh;
	int ret;

	ret = vrd_nl_begin_arg(vrd, "phys default", "NAME", &name);
	if (ret)
		return ret;

	nlh = nl_msg(&vrd->nl, VRDMA_CMD_PHYS_SET, 0);
	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_PHYS_NAME, name))
		return vrd_usage(vrd, "phys default: NAME too long");
	return vrd_nl_run(vrd, nlh, NULL, NULL, phys_attr_names);
}

int cmd_phys(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	phys_show },
		{ "list",	phys_show },
		{ "default",	phys_default },
		{ "help",	vrd_object_help },
	};

	return vrd_exec(vrd, cmds, phys_show);
}
