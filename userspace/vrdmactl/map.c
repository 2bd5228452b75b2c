// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl map: the overlay address map (MAP_NEW, MAP_DEL, MAP_GET).
 */

#include <errno.h>

#include "vrdmactl.h"

const char map_usage[] =
	"Usage: " PROG " map [ show ]\n"
	"       " PROG " map add ADDR via HOSTADDR [ vni VNI ]\n"
	"       " PROG " map del ADDR [ vni VNI ]\n"
	"where  ADDR, HOSTADDR := { IPv4 address | IPv6 address }\n"
	"       VNI := 0-" STRINGIFY(VRDMA_VNI_MAX) "\n";

static const char *const map_attr_names[VRDMA_A_MAP_MAX + 1] = {
	[VRDMA_A_MAP_ADDR]	= "addr",
	[VRDMA_A_MAP_VIA]	= "via",
	[VRDMA_A_MAP_VNI]	= "vni",
	[VRDMA_A_MAP_FLAGS]	= "flags",
};

static const struct nl_policy map_policy[VRDMA_A_MAP_MAX + 1] = {
	[VRDMA_A_MAP_ADDR]	= { MNL_TYPE_BINARY, sizeof(struct in6_addr) },
	[VRDMA_A_MAP_VIA]	= { MNL_TYPE_BINARY, sizeof(struct in6_addr) },
	[VRDMA_A_MAP_VNI]	= { MNL_TYPE_U32 },
	[VRDMA_A_MAP_FLAGS]	= { MNL_TYPE_U32 },
};

/* Names of the bits of enum vrdma_map_flags. */
static const char *const map_flag_names[] = {
	"local",		/* VRDMA_MAP_FLAGS_LOCAL */
};

static void out_addr(struct out *o, const char *key, const char *fmt,
		     const struct nlattr *attr)
{
	char buf[ADDR_STRLEN];

	out_str(o, key, fmt, format_addr(mnl_attr_get_payload(attr), buf));
}

static int map_show_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_MAP_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;
	uint32_t vni;

	if (nl_parse_obj(nlh, map_policy, VRDMA_A_MAP_MAX, tb,
			 VRDMA_A_MAP_ADDR))
		return MNL_CB_ERROR;

	out_obj_start(o);
	out_addr(o, "addr", "%s", tb[VRDMA_A_MAP_ADDR]);
	if (tb[VRDMA_A_MAP_VIA])
		out_addr(o, "via", NULL, tb[VRDMA_A_MAP_VIA]);
	if (tb[VRDMA_A_MAP_VNI]) {
		vni = mnl_attr_get_u32(tb[VRDMA_A_MAP_VNI]);
		if (vni || o->json || vrd->details)
			out_u32(o, "vni", NULL, vni);
	}
	if (tb[VRDMA_A_MAP_FLAGS])
		out_flags(o, "flags", mnl_attr_get_u32(tb[VRDMA_A_MAP_FLAGS]),
			  map_flag_names, ARRAY_SIZE(map_flag_names));
	out_obj_end(o);
	return MNL_CB_OK;
}

/* map show */
static int map_show(struct vrd *vrd)
{
	struct nlmsghdr *nlh;

	return vrd_nl_begin_show(vrd, VRDMA_CMD_MAP_GET, NLM_F_DUMP, &nlh) ?:
	       vrd_nl_run(vrd, nlh, map_show_cb, vrd, map_attr_names);
}

enum {
	MAP_KW_VIA,
	MAP_KW_VNI,
};

static const struct vrd_word map_add_words[] = {
	[MAP_KW_VIA]	= { "via" },
	[MAP_KW_VNI]	= { "vni" },
};

/* Same indices as map_add_words, without "via". */
static const struct vrd_word map_del_words[] = {
	[MAP_KW_VNI]	= { "vni" },
};

/*
 * Parse "ADDR KEYWORD VALUE..." of map add/del: the address into @addr, the
 * keyword values into @vals and the VNI, if given, into @vni.
 */
static int map_parse(struct vrd *vrd, const char *cmd,
		     const struct vrd_word *words, size_t nr_words,
		     struct in6_addr *addr, const char **vals, uint32_t *vni)
{
	const char *arg = vrd_shift(vrd);
	int ret;

	if (!arg)
		return vrd_usage(vrd, "%s: missing ADDR", cmd);
	if (parse_addr(arg, addr))
		return vrd_usage(vrd, "%s: invalid address '%s'", cmd, arg);
	ret = vrd_parse_keywords_n(vrd, cmd, words, nr_words, vals);
	if (ret)
		return ret;
	if (vals[MAP_KW_VNI] && parse_u32(vals[MAP_KW_VNI], VRDMA_VNI_MAX, vni))
		return vrd_usage(vrd, "%s: invalid VNI '%s' (0-%u)", cmd,
				 vals[MAP_KW_VNI], VRDMA_VNI_MAX);
	return VRD_OK;
}

/* Send MAP_NEW or MAP_DEL. */
static int map_request(struct vrd *vrd, uint8_t cmd,
		       const struct in6_addr *addr, const struct in6_addr *via,
		       const char *vni_arg, uint32_t vni)
{
	struct nlmsghdr *nlh;
	int ret;

	ret = vrd_nl(vrd);
	if (ret)
		return ret;

	nlh = nl_msg(&vrd->nl, cmd, 0);
	mnl_attr_put(nlh, VRDMA_A_MAP_ADDR, sizeof(*addr), addr);
	if (via)
		mnl_attr_put(nlh, VRDMA_A_MAP_VIA, sizeof(*via), via);
	if (vni_arg)
		mnl_attr_put_u32(nlh, VRDMA_A_MAP_VNI, vni);
	return vrd_nl_run(vrd, nlh, NULL, NULL, map_attr_names);
}

/* map add ADDR via HOSTADDR [ vni VNI ] | map del ADDR [ vni VNI ] */
static int map_change(struct vrd *vrd, bool add)
{
	const char *cmd = add ? "map add" : "map del";
	const char *vals[ARRAY_SIZE(map_add_words)];
	struct in6_addr addr, via;
	uint32_t vni = 0;
	int ret;

	_Static_assert(ARRAY_SIZE(map_del_words) == ARRAY_SIZE(map_add_words),
		       "map_parse() fills vals for both");
	ret = map_parse(vrd, cmd, add ? map_add_words : map_del_words,
			ARRAY_SIZE(map_add_words), &addr, vals, &vni);
	if (ret)
		return ret;
	if (!add)
		return map_request(vrd, VRDMA_CMD_MAP_DEL, &addr, NULL,
				   vals[MAP_KW_VNI], vni);
	if (!vals[MAP_KW_VIA])
		return vrd_usage(vrd, "map add: missing 'via HOSTADDR'");
	if (parse_addr(vals[MAP_KW_VIA], &via))
		return vrd_usage(vrd, "map add: invalid address '%s'",
				 vals[MAP_KW_VIA]);
	return map_request(vrd, VRDMA_CMD_MAP_NEW, &addr, &via,
			   vals[MAP_KW_VNI], vni);
}

static int map_add(struct vrd *vrd)
{
	return map_change(vrd, true);
}

static int map_del(struct vrd *vrd)
{
	return map_change(vrd, false);
}

int cmd_map(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	map_show },
		{ "list",	map_show },
		{ "add",	map_add },
		{ "del",	map_del },
		{ "help",	vrd_object_help },
	};

	return vrd_exec(vrd, cmds, map_show);
}
