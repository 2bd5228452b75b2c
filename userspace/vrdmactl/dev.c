// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl dev: virtual devices (DEV_NEW, DEV_DEL, DEV_GET).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/genetlink.h>

#include "rdma_nldev.h"
#include "vrdmactl.h"

const char dev_usage[] =
	"Usage: " PROG " [ -s ] dev [ show [ NAME ] ]      (-s: with its counters)\n"
	"       " PROG " dev add NAME netns NETNS netdev IFNAME [ phys PHYSDEV ] [ vni VNI ]\n"
	"                    [ max-qp N ] [ max-cq N ] [ max-mr N ] [ max-pinned BYTES[K|M|G|T] ]\n"
	"                    [ mode { shadow | passthrough } ]\n"
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
	[VRDMA_A_DEV_MAX_QP]		= "max-qp",
	[VRDMA_A_DEV_MAX_CQ]		= "max-cq",
	[VRDMA_A_DEV_MAX_MR]		= "max-mr",
	[VRDMA_A_DEV_MAX_PINNED]	= "max-pinned",
	[VRDMA_A_DEV_MODE]		= "mode",
};

static const struct nl_policy dev_policy[VRDMA_A_DEV_MAX + 1] = {
	[VRDMA_A_DEV_NAME]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_INDEX]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_NETDEV]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_IFINDEX]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_PHYS]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_VNI]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_NETNS_ID]		= { MNL_TYPE_U32 },	/* s32 */
	[VRDMA_A_DEV_MAX_QP]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_MAX_CQ]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_MAX_MR]		= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_MAX_PINNED]	= { MNL_TYPE_U64 },
	[VRDMA_A_DEV_STAT]		= { MNL_TYPE_NESTED },
	[VRDMA_A_DEV_MODE]		= { MNL_TYPE_U32 },
};

/* enum vrdma_dev_mode, as the words of "mode". */
static const char *const dev_modes[] = {
	[VRDMA_DEV_MODE_SHADOW]		= "shadow",
	[VRDMA_DEV_MODE_PASSTHROUGH]	= "passthrough",
};

/* JSON keys of the u32 limits, VRDMA_A_DEV_MAX_QP..VRDMA_A_DEV_MAX_MR. */
static const char *const dev_limit_keys[] = { "max_qp", "max_cq", "max_mr" };

static int dev_show_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_DEV_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;
	int32_t nsid;
	uint32_t vni;
	int i;

	if (nl_parse_obj(nlh, dev_policy, VRDMA_A_DEV_MAX, tb,
			 VRDMA_A_DEV_NAME))
		return MNL_CB_ERROR;

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
	if (tb[VRDMA_A_DEV_MODE]) {
		uint32_t mode = mnl_attr_get_u32(tb[VRDMA_A_DEV_MODE]);

		if (mode < ARRAY_SIZE(dev_modes))
			out_str(o, "mode", NULL, dev_modes[mode]);
		else
			out_u32(o, "mode", NULL, mode);
	}
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
	/* Limits: 0 is "none of its own", shown in JSON and details only. */
	for (i = VRDMA_A_DEV_MAX_QP; i <= VRDMA_A_DEV_MAX_MR; i++) {
		uint32_t v;

		if (!tb[i])
			continue;
		v = mnl_attr_get_u32(tb[i]);
		if (v || o->json || vrd->details)
			out_u32(o, dev_limit_keys[i - VRDMA_A_DEV_MAX_QP], NULL, v);
	}
	if (tb[VRDMA_A_DEV_MAX_PINNED]) {
		uint64_t v = mnl_attr_get_u64(tb[VRDMA_A_DEV_MAX_PINNED]);

		if (v || o->json || vrd->details)
			out_u64(o, "max_pinned", NULL, v);
	}
	if (vrd->stats && vrd_show_stats(nlh, o, VRDMA_A_DEV_STAT)) {
		fprintf(stderr, PROG ": dev show: malformed counters\n");
		return MNL_CB_ERROR;
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

	ret = vrd_nl_begin(vrd);
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
	return vrd_nl_run(vrd, nlh, dev_show_cb, vrd, dev_attr_names);
}

enum {
	DEV_ADD_NETNS,
	DEV_ADD_NETDEV,
	DEV_ADD_PHYS,
	DEV_ADD_VNI,
	DEV_ADD_MAX_QP,
	DEV_ADD_MAX_CQ,
	DEV_ADD_MAX_MR,
	DEV_ADD_MAX_PINNED,
	DEV_ADD_MODE,
};

static const struct vrd_word dev_add_words[] = {
	[DEV_ADD_NETNS]		= { "netns" },
	[DEV_ADD_NETDEV]	= { "netdev" },
	[DEV_ADD_PHYS]		= { "phys" },
	[DEV_ADD_VNI]		= { "vni" },
	[DEV_ADD_MAX_QP]	= { "max-qp" },
	[DEV_ADD_MAX_CQ]	= { "max-cq" },
	[DEV_ADD_MAX_MR]	= { "max-mr" },
	[DEV_ADD_MAX_PINNED]	= { "max-pinned" },
	[DEV_ADD_MODE]		= { "mode" },
};

/* The limit keywords, in the order of their attributes. */
static const struct {
	unsigned int word;
	uint16_t attr;
} dev_limits[] = {
	{ DEV_ADD_MAX_QP, VRDMA_A_DEV_MAX_QP },
	{ DEV_ADD_MAX_CQ, VRDMA_A_DEV_MAX_CQ },
	{ DEV_ADD_MAX_MR, VRDMA_A_DEV_MAX_MR },
};

/* Report a failed RDMA netlink request; returns VRD_FAIL. */
static int rdma_fail(const struct nl *rdma, const char *what, int err)
{
	if (rdma->ext.msg[0])
		return vrd_fail("%s: %s: %s", what, strerror(-err),
				rdma->ext.msg);
	return vrd_fail("%s: %s", what, strerror(-err));
}

/* What DEV_NEW answered. */
struct dev_new_reply {
	bool has_index;
	uint32_t index;
};

static int dev_new_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_DEV_MAX + 1];
	struct dev_new_reply *reply = data;

	if (nl_parse(nlh, dev_policy, VRDMA_A_DEV_MAX, tb))
		return MNL_CB_ERROR;
	if (tb[VRDMA_A_DEV_INDEX]) {
		reply->has_index = true;
		reply->index = mnl_attr_get_u32(tb[VRDMA_A_DEV_INDEX]);
	}
	return MNL_CB_OK;
}

/* Build and send DEV_NEW; the netns descriptor is open until it returns. */
static int dev_new(struct vrd *vrd, const char *name, const char **vals,
		   uint32_t vni, int netns_fd, uint32_t netns_pid,
		   struct dev_new_reply *reply)
{
	struct nlmsghdr *nlh = nl_msg(&vrd->nl, VRDMA_CMD_DEV_NEW, 0);
	unsigned int i;

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
	for (i = 0; i < ARRAY_SIZE(dev_limits); i++) {
		const char *v = vals[dev_limits[i].word];
		uint32_t n;

		if (!v)
			continue;
		if (parse_u32(v, UINT32_MAX, &n))
			return vrd_usage(vrd, "dev add: invalid %s '%s'",
					 dev_add_words[dev_limits[i].word].name,
					 v);
		mnl_attr_put_u32(nlh, dev_limits[i].attr, n);
	}
	if (vals[DEV_ADD_MAX_PINNED]) {
		uint64_t bytes;

		if (parse_size(vals[DEV_ADD_MAX_PINNED], &bytes))
			return vrd_usage(vrd, "dev add: invalid max-pinned '%s' (bytes, with an optional K, M, G or T)",
					 vals[DEV_ADD_MAX_PINNED]);
		mnl_attr_put_u64(nlh, VRDMA_A_DEV_MAX_PINNED, bytes);
	}
	if (vals[DEV_ADD_MODE]) {
		for (i = 0; i < ARRAY_SIZE(dev_modes); i++)
			if (!strcmp(vals[DEV_ADD_MODE], dev_modes[i]))
				break;
		if (i == ARRAY_SIZE(dev_modes))
			return vrd_usage(vrd, "dev add: invalid mode '%s' (shadow or passthrough)",
					 vals[DEV_ADD_MODE]);
		mnl_attr_put_u32(nlh, VRDMA_A_DEV_MODE, i);
	}

	return vrd_nl_run(vrd, nlh, dev_new_cb, reply, dev_attr_names);
}

/* Send DEV_DEL; returns 0 or a negative errno. */
static int dev_del_request(struct vrd *vrd, const char *name)
{
	struct nlmsghdr *nlh = nl_msg(&vrd->nl, VRDMA_CMD_DEV_DEL, 0);

	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_NAME, name))
		return -ENAMETOOLONG;
	return nl_request(&vrd->nl, nlh, NULL, NULL);
}

/*
 * In exclusive mode, move the new device into the container's namespace;
 * if that fails, delete the device again.
 */
static int dev_add_move(struct vrd *vrd, struct nl *rdma, const char *name,
			const struct dev_new_reply *reply, int netns_fd)
{
	int ret, err;

	if (!reply->has_index) {
		ret = -EBADMSG;
		vrd_fail("dev add: %s: the kernel did not report the device index",
			 name);
	} else {
		ret = rdma_dev_set_netns(rdma, reply->index, netns_fd);
		if (ret)
			rdma_fail(rdma, "dev add: moving the device into the namespace (RDMA netns mode exclusive)",
				  ret);
	}
	if (!ret)
		return VRD_OK;

	err = dev_del_request(vrd, name);
	if (err)
		vrd_fail("dev add: %s left behind, deleting it failed: %s",
			 name, strerror(-err));
	else
		vrd_fail("dev add: %s deleted again", name);
	return VRD_FAIL;
}

/* dev add NAME netns NETNS netdev IFNAME [ phys PHYSDEV ] [ vni VNI ] ... */
static int dev_add(struct vrd *vrd)
{
	const char *vals[ARRAY_SIZE(dev_add_words)];
	const char *name = vrd_shift(vrd);
	struct dev_new_reply reply = { 0 };
	uint32_t netns_pid, vni = 0;
	int netns_fd, move_fd = -1;
	struct nl rdma = { 0 };
	bool exclusive = false;
	char path[64];
	int ret;

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

	/* Everything the move needs is ready before the device exists. */
	ret = nl_open_rdma(&rdma);
	if (ret) {
		ret = vrd_fail("dev add: RDMA netlink socket: %s",
			       strerror(-ret));
		goto out;
	}
	ret = rdma_netns_exclusive(&rdma, &exclusive);
	if (ret == -EPROTO) {
		ret = vrd_fail("dev add: RDMA netns mode: not reported by the kernel");
		goto out;
	} else if (ret) {
		ret = rdma_fail(&rdma, "dev add: RDMA netns mode", ret);
		goto out;
	}
	move_fd = netns_fd;
	if (exclusive && netns_fd < 0) {
		snprintf(path, sizeof(path), "/proc/%u/ns/net", netns_pid);
		move_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (move_fd < 0) {
			ret = vrd_fail("dev add: %s: %s", path,
				       strerror(errno));
			goto out;
		}
	}

	ret = dev_new(vrd, name, vals, vni, netns_fd, netns_pid, &reply);
	if (ret == VRD_OK && exclusive)
		ret = dev_add_move(vrd, &rdma, name, &reply, move_fd);

out:
	if (move_fd >= 0 && move_fd != netns_fd)
		close(move_fd);
	if (netns_fd >= 0)
		close(netns_fd);
	if (rdma.sock)
		nl_close(&rdma);
	return ret;
}

/* dev del NAME */
static int dev_del(struct vrd *vrd)
{
	const char *name;
	int ret;

	ret = vrd_nl_begin_arg(vrd, "dev del", "NAME", &name);
	if (ret)
		return ret;

	ret = dev_del_request(vrd, name);
	if (ret == -ENAMETOOLONG)
		return vrd_usage(vrd, "dev del: NAME too long");
	if (ret)
		return vrd_nl_fail(vrd, ret, dev_attr_names);
	return VRD_OK;
}

int cmd_dev(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	dev_show },
		{ "list",	dev_show },
		{ "add",	dev_add },
		{ "del",	dev_del },
		{ "help",	vrd_object_help },
	};

	return vrd_exec(vrd, cmds, dev_show);
}
