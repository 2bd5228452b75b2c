// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl repl: replication groups (REPL_GROUP_*) and operations on them
 * (REPL_OP, through libvrdmarepl).
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/genetlink.h>

#include "vrdmactl.h"
#include "../librepl/vrdma_repl.h"

const char repl_usage[] =
	"Usage: " PROG " repl group add NAME members ADDR[,ADDR...] size BYTES file PATH\n"
	"                    [ authority ADDR ] [ client ADDR ] [ allow NETNS[,NETNS...] ]\n"
	"       " PROG " repl group [ show [ NAME ] ]\n"
	"       " PROG " repl group del NAME\n"
	"       " PROG " repl group set NAME allow { NETNS[,NETNS...] | none }\n"
	"       " PROG " repl write NAME OFFSET { @FILE | HEX }\n"
	"       " PROG " repl memcpy NAME SRC DST LEN\n"
	"       " PROG " repl cas NAME OFFSET EXPECTED NEW\n"
	"       " PROG " repl flush NAME [ OFFSET LEN ]\n"
	"where  ADDR := the RNIC address of a member (IPv4 or IPv6)\n"
	"       PATH := absolute backing file name; %a is the member's address,\n"
	"               %i its index (needed when several members are local)\n"
	"       NETNS := { PID | NAME | PATH }, a namespace that may use the group\n"
	"       BYTES, OFFSET, LEN := number with an optional K, M or G suffix\n"
	"       HEX := bytes as hex digits (\"0x\" optional)\n";

static const char *const repl_attr_names[VRDMA_A_REPL_MAX + 1] = {
	[VRDMA_A_REPL_NAME]		= "name",
	[VRDMA_A_REPL_SIZE]		= "size",
	[VRDMA_A_REPL_FILE]		= "file",
	[VRDMA_A_REPL_MEMBER]		= "members",
	[VRDMA_A_REPL_AUTHORITY]	= "authority",
	[VRDMA_A_REPL_CLIENT]		= "client",
	[VRDMA_A_REPL_NETNS_FD]		= "allow",
	[VRDMA_A_REPL_NETNS_PID]	= "allow",
};

static const char *const role_names[] = {
	[VRDMA_REPL_ROLE_OUT]		= "out",
	[VRDMA_REPL_ROLE_HEAD]		= "head",
	[VRDMA_REPL_ROLE_MIDDLE]	= "middle",
	[VRDMA_REPL_ROLE_TAIL]		= "tail",
	[VRDMA_REPL_ROLE_SOLE]		= "sole",
};

static const char *const state_names[] = {
	[VRDMA_REPL_STATE_DOWN]		= "down",
	[VRDMA_REPL_STATE_WAITING]	= "waiting",
	[VRDMA_REPL_STATE_OUT]		= "out",
	[VRDMA_REPL_STATE_SYNCING]	= "syncing",
	[VRDMA_REPL_STATE_ACTIVE]	= "active",
	[VRDMA_REPL_STATE_FENCED]	= "fenced",
};

static const char *enum_name(const char *const *names, size_t n, uint32_t v)
{
	return v < n && names[v] ? names[v] : "unknown";
}

/* Parse an unsigned 64-bit number: decimal, 0x hex, or a size. */
static int parse_num(const char *s, uint64_t *val)
{
	char *end;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		errno = 0;
		*val = strtoull(s, &end, 16);
		return errno || *end ? -EINVAL : 0;
	}
	return parse_size(s, val);
}

/* Split "a,b,c" in place; returns the number of words (at most @max). */
static int split_list(char *s, char **words, int max)
{
	int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			return -E2BIG;
		words[n++] = tok;
	}
	return n;
}

/* Add NETNS_FD/NETNS_PID attributes for "a,b,c"; fds are left open. */
static int put_netns_list(struct vrd *vrd, struct nlmsghdr *nlh,
			  const char *cmd, const char *arg)
{
	char buf[1024], *words[VRDMA_REPL_MAX_NETNS];
	uint32_t pid;
	int n, i, fd, ret;

	if (!strcmp(arg, "none"))
		return VRD_OK;
	if (strlen(arg) >= sizeof(buf))
		return vrd_usage(vrd, "%s: allow list too long", cmd);
	strcpy(buf, arg);
	n = split_list(buf, words, VRDMA_REPL_MAX_NETNS);
	if (n <= 0)
		return vrd_usage(vrd, "%s: allow: 1 to %d namespaces", cmd,
				 VRDMA_REPL_MAX_NETNS);
	for (i = 0; i < n; i++) {
		ret = resolve_netns(words[i], &fd, &pid);
		if (ret)
			return vrd_fail("%s: network namespace '%s': %s", cmd,
					words[i], strerror(-ret));
		if (fd >= 0)
			mnl_attr_put_u32(nlh, VRDMA_A_REPL_NETNS_FD, fd);
		else
			mnl_attr_put_u32(nlh, VRDMA_A_REPL_NETNS_PID, pid);
	}
	return VRD_OK;
}

enum {
	GA_MEMBERS,
	GA_SIZE,
	GA_FILE,
	GA_AUTHORITY,
	GA_CLIENT,
	GA_ALLOW,
};

static const struct vrd_word group_add_words[] = {
	[GA_MEMBERS]	= { "members" },
	[GA_SIZE]	= { "size" },
	[GA_FILE]	= { "file" },
	[GA_AUTHORITY]	= { "authority" },
	[GA_CLIENT]	= { "client" },
	[GA_ALLOW]	= { "allow" },
};

/* repl group add NAME members A,B size S file PATH [...] */
static int group_add(struct vrd *vrd)
{
	const char *vals[ARRAY_SIZE(group_add_words)];
	const char *name = vrd_shift(vrd);
	char buf[1024], *words[VRDMA_REPL_MAX_MEMBERS + 1];
	struct in6_addr addr;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	uint64_t size;
	int ret, n, i;

	if (!name)
		return vrd_usage(vrd, "repl group add: missing NAME");
	ret = vrd_parse_keywords(vrd, "repl group add", group_add_words, vals);
	if (ret)
		return ret;
	if (!vals[GA_MEMBERS] || !vals[GA_SIZE] || !vals[GA_FILE])
		return vrd_usage(vrd, "repl group add: members, size and file are required");
	if (parse_size(vals[GA_SIZE], &size))
		return vrd_usage(vrd, "repl group add: invalid size '%s'",
				 vals[GA_SIZE]);
	if (strlen(vals[GA_MEMBERS]) >= sizeof(buf))
		return vrd_usage(vrd, "repl group add: member list too long");
	ret = vrd_nl(vrd);
	if (ret)
		return ret;

	nlh = nl_msg(&vrd->nl, VRDMA_CMD_REPL_GROUP_NEW, 0);
	mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, name);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_SIZE, size);
	mnl_attr_put_strz(nlh, VRDMA_A_REPL_FILE, vals[GA_FILE]);
	strcpy(buf, vals[GA_MEMBERS]);
	n = split_list(buf, words, VRDMA_REPL_MAX_MEMBERS + 1);
	if (n <= 0)
		return vrd_usage(vrd, "repl group add: give 1 to %d members",
				 VRDMA_REPL_MAX_MEMBERS);
	for (i = 0; i < n; i++) {
		if (parse_addr(words[i], &addr))
			return vrd_usage(vrd, "repl group add: invalid address '%s'",
					 words[i]);
		nest = mnl_attr_nest_start(nlh, VRDMA_A_REPL_MEMBER);
		mnl_attr_put(nlh, VRDMA_A_REPL_MEMBER_ADDR, sizeof(addr), &addr);
		mnl_attr_nest_end(nlh, nest);
	}
	if (vals[GA_AUTHORITY]) {
		if (parse_addr(vals[GA_AUTHORITY], &addr))
			return vrd_usage(vrd, "repl group add: invalid address '%s'",
					 vals[GA_AUTHORITY]);
		mnl_attr_put(nlh, VRDMA_A_REPL_AUTHORITY, sizeof(addr), &addr);
	}
	if (vals[GA_CLIENT]) {
		if (parse_addr(vals[GA_CLIENT], &addr))
			return vrd_usage(vrd, "repl group add: invalid address '%s'",
					 vals[GA_CLIENT]);
		mnl_attr_put(nlh, VRDMA_A_REPL_CLIENT, sizeof(addr), &addr);
	}
	if (vals[GA_ALLOW]) {
		ret = put_netns_list(vrd, nlh, "repl group add", vals[GA_ALLOW]);
		if (ret)
			return ret;
	}
	return vrd_nl_run(vrd, nlh, NULL, NULL, repl_attr_names);
}

/* repl group del NAME */
static int group_del(struct vrd *vrd)
{
	const char *name;
	struct nlmsghdr *nlh;
	int ret;

	ret = vrd_nl_begin_arg(vrd, "repl group del", "NAME", &name);
	if (ret)
		return ret;
	nlh = nl_msg(&vrd->nl, VRDMA_CMD_REPL_GROUP_DEL, 0);
	mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, name);
	return vrd_nl_run(vrd, nlh, NULL, NULL, repl_attr_names);
}

/* repl group set NAME allow LIST */
static int group_set(struct vrd *vrd)
{
	static const struct vrd_word words[] = { { "allow" } };
	const char *vals[ARRAY_SIZE(words)];
	const char *name = vrd_shift(vrd);
	struct nlmsghdr *nlh;
	int ret;

	if (!name)
		return vrd_usage(vrd, "repl group set: missing NAME");
	ret = vrd_parse_keywords(vrd, "repl group set", words, vals);
	if (ret)
		return ret;
	if (!vals[0])
		return vrd_usage(vrd, "repl group set: nothing to set (allow)");
	ret = vrd_nl(vrd);
	if (ret)
		return ret;
	nlh = nl_msg(&vrd->nl, VRDMA_CMD_REPL_GROUP_SET, 0);
	mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, name);
	ret = put_netns_list(vrd, nlh, "repl group set", vals[0]);
	if (ret)
		return ret;
	return vrd_nl_run(vrd, nlh, NULL, NULL, repl_attr_names);
}

static const struct nl_policy group_policy[VRDMA_A_REPL_MAX + 1] = {
	[VRDMA_A_REPL_NAME]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_REPL_SIZE]		= { MNL_TYPE_U64 },
	[VRDMA_A_REPL_FILE]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_REPL_AUTHORITY]	= { MNL_TYPE_BINARY, 16 },
	[VRDMA_A_REPL_AUTHORITY_LOCAL]	= { MNL_TYPE_FLAG },
	[VRDMA_A_REPL_CLIENT]		= { MNL_TYPE_BINARY, 16 },
	[VRDMA_A_REPL_CLIENT_STATE]	= { MNL_TYPE_U32 },
	[VRDMA_A_REPL_EPOCH]		= { MNL_TYPE_U32 },
	[VRDMA_A_REPL_CONFIG_HASH]	= { MNL_TYPE_BINARY, 16 },
	[VRDMA_A_REPL_CONFIG_MISMATCHES] = { MNL_TYPE_U64 },
};

static const struct nl_policy member_policy[VRDMA_A_REPL_MEMBER_MAX + 1] = {
	[VRDMA_A_REPL_MEMBER_ADDR]	= { MNL_TYPE_BINARY, 16 },
	[VRDMA_A_REPL_MEMBER_INDEX]	= { MNL_TYPE_U32 },
	[VRDMA_A_REPL_MEMBER_ROLE]	= { MNL_TYPE_U32 },
	[VRDMA_A_REPL_MEMBER_LOCAL]	= { MNL_TYPE_FLAG },
	[VRDMA_A_REPL_MEMBER_STATE]	= { MNL_TYPE_U32 },
	[VRDMA_A_REPL_MEMBER_APPLIED]	= { MNL_TYPE_U64 },
	[VRDMA_A_REPL_MEMBER_EPOCH]	= { MNL_TYPE_U32 },
	[VRDMA_A_REPL_MEMBER_FILE]	= { MNL_TYPE_NUL_STRING },
};

static struct json_object *jnew(struct json_object *j)
{
	if (!j) {
		fputs(PROG ": out of memory\n", stderr);
		exit(EXIT_FAILURE);
	}
	return j;
}

static void jset(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, jnew(v));
}

/* One member: a JSON object, or a plain line. */
static int show_member(struct vrd *vrd, const struct nlattr *nest,
		       struct json_object *arr)
{
	const struct nlattr *tb[VRDMA_A_REPL_MEMBER_MAX + 1] = {};
	const struct nlattr *attr;
	char addr[ADDR_STRLEN] = "?";
	struct json_object *o = NULL;
	uint32_t idx = 0, role = 0;
	int type;

	mnl_attr_for_each_nested(attr, nest) {
		type = mnl_attr_get_type(attr);
		if (type > VRDMA_A_REPL_MEMBER_MAX || !member_policy[type].type)
			continue;
		if (member_policy[type].len ?
		    mnl_attr_validate2(attr, member_policy[type].type,
				       member_policy[type].len) :
		    mnl_attr_validate(attr, member_policy[type].type)) {
			errno = EBADMSG;
			return -1;
		}
		tb[type] = attr;
	}
	if (tb[VRDMA_A_REPL_MEMBER_ADDR])
		format_addr(mnl_attr_get_payload(tb[VRDMA_A_REPL_MEMBER_ADDR]),
			    addr);
	if (tb[VRDMA_A_REPL_MEMBER_INDEX])
		idx = mnl_attr_get_u32(tb[VRDMA_A_REPL_MEMBER_INDEX]);
	if (tb[VRDMA_A_REPL_MEMBER_ROLE])
		role = mnl_attr_get_u32(tb[VRDMA_A_REPL_MEMBER_ROLE]);

	if (arr) {
		o = jnew(json_object_new_object());
		jset(o, "index", json_object_new_int64(idx));
		jset(o, "addr", json_object_new_string(addr));
		jset(o, "role", json_object_new_string(
			enum_name(role_names, ARRAY_SIZE(role_names), role)));
		jset(o, "local", json_object_new_boolean(
			!!tb[VRDMA_A_REPL_MEMBER_LOCAL]));
	} else {
		printf("    member %u %s %s", idx, addr,
		       enum_name(role_names, ARRAY_SIZE(role_names), role));
	}
	if (tb[VRDMA_A_REPL_MEMBER_LOCAL]) {
		uint32_t st = tb[VRDMA_A_REPL_MEMBER_STATE] ?
			mnl_attr_get_u32(tb[VRDMA_A_REPL_MEMBER_STATE]) : 0;
		uint64_t applied = tb[VRDMA_A_REPL_MEMBER_APPLIED] ?
			mnl_attr_get_u64(tb[VRDMA_A_REPL_MEMBER_APPLIED]) : 0;
		uint32_t epoch = tb[VRDMA_A_REPL_MEMBER_EPOCH] ?
			mnl_attr_get_u32(tb[VRDMA_A_REPL_MEMBER_EPOCH]) : 0;
		const char *sn = enum_name(state_names, ARRAY_SIZE(state_names),
					   st);

		if (o) {
			jset(o, "state", json_object_new_string(sn));
			jset(o, "applied", json_object_new_uint64(applied));
			jset(o, "epoch", json_object_new_int64(epoch));
			if (tb[VRDMA_A_REPL_MEMBER_FILE])
				jset(o, "file", json_object_new_string(
					mnl_attr_get_str(tb[VRDMA_A_REPL_MEMBER_FILE])));
		} else {
			printf(" local state %s applied %" PRIu64 " epoch %u", sn,
			       applied, epoch);
			if (tb[VRDMA_A_REPL_MEMBER_FILE] && vrd->details)
				printf(" file %s",
				       mnl_attr_get_str(tb[VRDMA_A_REPL_MEMBER_FILE]));
		}
	}
	if (o)
		json_object_array_add(arr, o);
	else
		putchar('\n');
	return 0;
}

static int group_show_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_REPL_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;
	struct json_object *members = NULL;
	const struct nlattr *attr;
	char addr[ADDR_STRLEN];

	if (nl_parse_obj(nlh, group_policy, VRDMA_A_REPL_MAX, tb,
			 VRDMA_A_REPL_NAME))
		return MNL_CB_ERROR;
	out_obj_start(o);
	out_str(o, "name", "%s:", mnl_attr_get_str(tb[VRDMA_A_REPL_NAME]));
	if (tb[VRDMA_A_REPL_SIZE])
		out_u64(o, "size", NULL, mnl_attr_get_u64(tb[VRDMA_A_REPL_SIZE]));
	if (tb[VRDMA_A_REPL_EPOCH])
		out_u32(o, "epoch", NULL, mnl_attr_get_u32(tb[VRDMA_A_REPL_EPOCH]));
	if (tb[VRDMA_A_REPL_AUTHORITY]) {
		format_addr(mnl_attr_get_payload(tb[VRDMA_A_REPL_AUTHORITY]),
			    addr);
		out_str(o, "authority", NULL, addr);
	}
	out_bool(o, "authority_local", !!tb[VRDMA_A_REPL_AUTHORITY_LOCAL]);
	if (tb[VRDMA_A_REPL_CLIENT]) {
		format_addr(mnl_attr_get_payload(tb[VRDMA_A_REPL_CLIENT]), addr);
		out_str(o, "client", NULL, addr);
	}
	if (tb[VRDMA_A_REPL_CLIENT_STATE])
		out_str(o, "client_state", NULL,
			enum_name(state_names, ARRAY_SIZE(state_names),
				  mnl_attr_get_u32(tb[VRDMA_A_REPL_CLIENT_STATE])));
	if (tb[VRDMA_A_REPL_FILE] && (vrd->details || o->json))
		out_str(o, "file", NULL, mnl_attr_get_str(tb[VRDMA_A_REPL_FILE]));
	if (tb[VRDMA_A_REPL_CONFIG_HASH] && (vrd->details || o->json)) {
		const uint8_t *h = mnl_attr_get_payload(tb[VRDMA_A_REPL_CONFIG_HASH]);
		char hex[2 * 16 + 1];
		unsigned int i;

		for (i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		out_str(o, "config_hash", NULL, hex);
	}
	if (tb[VRDMA_A_REPL_CONFIG_MISMATCHES]) {
		uint64_t n = mnl_attr_get_u64(tb[VRDMA_A_REPL_CONFIG_MISMATCHES]);

		if (n || vrd->details || o->json)
			out_u64(o, "config_mismatches", NULL, n);
	}
	if (o->json) {
		struct json_object *allow = jnew(json_object_new_array());

		mnl_attr_for_each(attr, nlh, GENL_HDRLEN)
			if (mnl_attr_get_type(attr) == VRDMA_A_REPL_NETNS_COOKIE &&
			    !mnl_attr_validate(attr, MNL_TYPE_U64))
				json_object_array_add(allow, jnew(
					json_object_new_uint64(mnl_attr_get_u64(attr))));
		jset(o->obj, "allow_netns_cookies", allow);
		members = jnew(json_object_new_array());
	} else {
		out_obj_end(o);
	}
	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(attr) != VRDMA_A_REPL_MEMBER)
			continue;
		if (show_member(vrd, attr, members))
			return MNL_CB_ERROR;
	}
	if (o->json) {
		jset(o->obj, "members", members);
		out_obj_end(o);
	}
	return MNL_CB_OK;
}

/* repl group show [NAME] */
static int group_show(struct vrd *vrd)
{
	const char *name = vrd_shift(vrd);
	struct nlmsghdr *nlh;
	int ret;

	ret = vrd_nl_begin_show(vrd, VRDMA_CMD_REPL_GROUP_GET,
				name ? 0 : NLM_F_DUMP, &nlh);
	if (ret)
		return ret;
	if (name)
		mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, name);
	return vrd_nl_run(vrd, nlh, group_show_cb, vrd, repl_attr_names);
}

static int cmd_group(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	group_show },
		{ "list",	group_show },
		{ "add",	group_add },
		{ "del",	group_del },
		{ "set",	group_set },
		{ "help",	vrd_object_help },
	};

	return vrd_exec(vrd, cmds, group_show);
}

/* Operations */

static int repl_open(struct vrd *vrd, const char *cmd, const char *name,
		     struct vrdma_repl **r)
{
	int ret = vrdma_repl_open(name, r);

	if (ret == -ENOENT)
		return vrd_fail("%s: no group '%s' (or vrdma is not loaded)",
				cmd, name);
	if (ret)
		return vrd_fail("%s: %s: %s", cmd, name, strerror(-ret));
	(void)vrd;
	return VRD_OK;
}

/* Wait for every operation submitted; report the first failure. */
static int repl_wait(struct vrd *vrd, struct vrdma_repl *r, const char *cmd,
		     bool results)
{
	struct vrdma_repl_completion c;
	struct out *o = &vrd->out;
	char addr[ADDR_STRLEN];
	int ret, status = 0;
	unsigned int i;

	if (results)
		out_begin(o);
	while (vrdma_repl_inflight(r)) {
		ret = vrdma_repl_poll(r, &c, 1, -1);
		if (ret < 0)
			return vrd_fail("%s: %s", cmd, strerror(-ret));
		if (!ret)
			continue;
		if (c.status && !status)
			status = c.status;
		for (i = 0; results && i < c.nres; i++) {
			out_obj_start(o);
			out_u32(o, "member", NULL, c.res[i].member);
			out_str(o, "addr", NULL, format_addr(&c.res[i].addr, addr));
			out_u64(o, "old", NULL, c.res[i].old);
			out_bool(o, "swapped", c.res[i].swapped);
			out_obj_end(o);
		}
	}
	if (status == -ERANGE)
		return vrd_fail("%s: %s: the range lies beyond the region",
				cmd, strerror(-status));
	if (status == -EPERM)
		return vrd_fail("%s: %s: submitting needs CAP_NET_ADMIN in a network namespace the group allows",
				cmd, strerror(-status));
	if (status)
		return vrd_fail("%s: %s", cmd, strerror(-status));
	return VRD_OK;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* Read @FILE or decode HEX into a new buffer. */
static int load_data(const char *arg, uint8_t **data, size_t *len)
{
	size_t n, i;
	ssize_t got;
	struct stat st;
	int fd;

	if (arg[0] == '@') {
		fd = open(arg + 1, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st)) {
			if (fd >= 0)
				close(fd);
			return -errno;
		}
		*len = st.st_size;
		*data = malloc(*len ? *len : 1);
		if (!*data) {
			close(fd);
			return -ENOMEM;
		}
		for (n = 0; n < *len; n += got) {
			got = read(fd, *data + n, *len - n);
			if (got <= 0) {
				close(fd);
				free(*data);
				return got < 0 ? -errno : -EIO;
			}
		}
		close(fd);
		return 0;
	}
	if (!strncmp(arg, "0x", 2) || !strncmp(arg, "0X", 2))
		arg += 2;
	n = strlen(arg);
	if (!n || n % 2)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)arg[i]))
			return -EINVAL;
	*len = n / 2;
	*data = malloc(*len);
	if (!*data)
		return -ENOMEM;
	for (i = 0; i < *len; i++)
		(*data)[i] = hexval(arg[2 * i]) << 4 | hexval(arg[2 * i + 1]);
	return 0;
}

/* Take the positional arguments NAME and @n numbers. */
static int op_args(struct vrd *vrd, const char *cmd, const char **name,
		   uint64_t *nums, int n, const char *usage)
{
	const char *arg;
	int i;

	*name = vrd_shift(vrd);
	if (!*name)
		return vrd_usage(vrd, "%s: missing NAME (%s)", cmd, usage);
	for (i = 0; i < n; i++) {
		arg = vrd_shift(vrd);
		if (!arg)
			return vrd_usage(vrd, "%s: missing arguments (%s)", cmd,
					 usage);
		if (parse_num(arg, &nums[i]))
			return vrd_usage(vrd, "%s: invalid number '%s'", cmd,
					 arg);
	}
	return vrd_no_more_args(vrd);
}

/* repl write NAME OFFSET @FILE|HEX: pieces of VRDMA_REPL_WRITE_MAX. */
static int op_write(struct vrd *vrd)
{
	const char *name = vrd_shift(vrd), *off_arg, *src;
	struct vrdma_repl *r;
	uint64_t off;
	uint8_t *data = NULL;
	size_t len = 0, done, n;
	int ret;

	off_arg = vrd_shift(vrd);
	src = vrd_shift(vrd);
	if (!name || !off_arg || !src)
		return vrd_usage(vrd, "repl write: NAME OFFSET { @FILE | HEX }");
	if (parse_num(off_arg, &off))
		return vrd_usage(vrd, "repl write: invalid offset '%s'", off_arg);
	ret = vrd_no_more_args(vrd);
	if (ret)
		return ret;
	ret = load_data(src, &data, &len);
	if (ret == -EINVAL)
		return vrd_usage(vrd, "repl write: invalid hex data '%s'", src);
	if (ret)
		return vrd_fail("repl write: %s: %s", src + (src[0] == '@'),
				strerror(-ret));
	if (!len) {
		free(data);
		return vrd_fail("repl write: no data");
	}
	ret = repl_open(vrd, "repl write", name, &r);
	if (ret) {
		free(data);
		return ret;
	}
	if (off > vrdma_repl_size(r) || len > vrdma_repl_size(r) - off) {
		uint64_t size = vrdma_repl_size(r);

		free(data);
		vrdma_repl_close(r);
		return vrd_fail("repl write: %zu bytes at %" PRIu64 " lie beyond the region (%" PRIu64 " bytes)",
				len, off, size);
	}
	for (done = 0; done < len; done += n) {
		n = len - done > VRDMA_REPL_WRITE_MAX ? VRDMA_REPL_WRITE_MAX :
		    len - done;
		ret = vrdma_repl_write(r, off + done, data + done, n, done);
		if (ret) {
			ret = vrd_fail("repl write: %s", strerror(-ret));
			goto out;
		}
	}
	ret = repl_wait(vrd, r, "repl write", false);
out:
	free(data);
	vrdma_repl_close(r);
	return ret;
}

/* repl memcpy NAME SRC DST LEN */
static int op_memcpy(struct vrd *vrd)
{
	struct vrdma_repl *r;
	const char *name;
	uint64_t v[3];
	int ret;

	ret = op_args(vrd, "repl memcpy", &name, v, 3, "NAME SRC DST LEN");
	if (ret)
		return ret;
	if (v[2] > UINT32_MAX)
		return vrd_usage(vrd, "repl memcpy: LEN too large");
	ret = repl_open(vrd, "repl memcpy", name, &r);
	if (ret)
		return ret;
	ret = vrdma_repl_memcpy(r, v[0], v[1], v[2], 0);
	ret = ret ? vrd_fail("repl memcpy: %s", strerror(-ret)) :
		    repl_wait(vrd, r, "repl memcpy", false);
	vrdma_repl_close(r);
	return ret;
}

/* repl cas NAME OFFSET EXPECTED NEW: prints every replica's result. */
static int op_cas(struct vrd *vrd)
{
	struct vrdma_repl *r;
	const char *name;
	uint64_t v[3];
	int ret;

	ret = op_args(vrd, "repl cas", &name, v, 3, "NAME OFFSET EXPECTED NEW");
	if (ret)
		return ret;
	if (v[0] % 8)
		return vrd_usage(vrd, "repl cas: OFFSET must be 8-byte aligned (alignment of a 64-bit word)");
	ret = repl_open(vrd, "repl cas", name, &r);
	if (ret)
		return ret;
	ret = vrdma_repl_cas(r, v[0], v[1], v[2], 0);
	ret = ret ? vrd_fail("repl cas: %s", strerror(-ret)) :
		    repl_wait(vrd, r, "repl cas", true);
	vrdma_repl_close(r);
	return ret;
}

/* repl flush NAME [OFFSET LEN] */
static int op_flush(struct vrd *vrd)
{
	struct vrdma_repl *r;
	const char *name;
	uint64_t v[2] = { 0, 0 };
	int ret;

	ret = op_args(vrd, "repl flush", &name, v, vrd->argc > 1 ? 2 : 0,
		      "NAME [ OFFSET LEN ]");
	if (ret)
		return ret;
	if (v[1] > UINT32_MAX)
		return vrd_usage(vrd, "repl flush: LEN too large");
	ret = repl_open(vrd, "repl flush", name, &r);
	if (ret)
		return ret;
	ret = vrdma_repl_flush(r, v[0], v[1], 0);
	ret = ret ? vrd_fail("repl flush: %s", strerror(-ret)) :
		    repl_wait(vrd, r, "repl flush", false);
	vrdma_repl_close(r);
	return ret;
}

int cmd_repl(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "group",	cmd_group },
		{ "write",	op_write },
		{ "memcpy",	op_memcpy },
		{ "cas",	op_cas },
		{ "flush",	op_flush },
		{ "help",	vrd_object_help },
	};

	return vrd_exec(vrd, cmds, vrd_object_help);
}
