// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl sleep: decentralized sleep management (Documentation/sleep.rst).
 *
 *   sleep [ show ] [ socket PATH ]   the group as the local vrdma-sleepd
 *                                    sees it: who is asleep, who manages
 *                                    whom (its control socket)
 *   sleep status [ socket PATH ]     the daemon's whole status (JSON)
 *   sleep request COMMAND... [ socket PATH ]
 *                                    send the daemon a command: "sleep",
 *                                    "wake NAME"
 *   sleep peer [ show [ ADDR ] ]     the module's table of this network
 *                                    namespace (SLEEP_PEER_GET)
 *   sleep peer set ADDR state STATE [ name NAME ] [ manager ADDR ]
 *        [ dev IFNAME [ ports P,... ] [ announce ] ] [ addrs ADDR,... ]
 *   sleep peer del ADDR
 *   sleep config [ wake-timeout MS ] [ event-interval MS ] [ phys NAME ]
 *        [ flush ]
 *   sleep activity [ window MS ] [ phys NAME ]
 *   sleep monitor [ count N ] [ timeout SECONDS ]
 *                                    print SLEEP_EVENT notifications
 */

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "nl_mcast.h"
#include "vrdmactl.h"

#define SLEEPD_SOCKET	"/run/vrdma-sleepd.sock"

const char sleep_usage[] =
	"Usage: " PROG " sleep [ show ] [ socket PATH ]\n"
	"       " PROG " sleep status [ socket PATH ]\n"
	"       " PROG " sleep request { sleep | wake NAME } [ socket PATH ]\n"
	"       " PROG " sleep peer [ show [ ADDR ] ]\n"
	"       " PROG " sleep peer set ADDR state { awake | asleep | waking } [ name NAME ]\n"
	"                 [ manager ADDR ] [ addrs ADDR[,ADDR...] ]\n"
	"                 [ dev IFNAME [ ports PORT[,PORT...] ] [ announce ] ]\n"
	"       " PROG " sleep peer del ADDR\n"
	"       " PROG " sleep config [ wake-timeout MS ] [ event-interval MS ] [ phys NAME ] [ flush ]\n"
	"       " PROG " sleep activity [ window MS ] [ phys NAME ]\n"
	"       " PROG " sleep monitor [ count N ] [ timeout SECONDS ]\n"
	"where  PATH is vrdma-sleepd's control socket (default " SLEEPD_SOCKET ")\n";

static const char *const state_names[] = {
	[VRDMA_SLEEP_STATE_AWAKE]	= "awake",
	[VRDMA_SLEEP_STATE_ASLEEP]	= "asleep",
	[VRDMA_SLEEP_STATE_WAKING]	= "waking",
};

static const char *state_name(uint32_t s)
{
	return s < ARRAY_SIZE(state_names) && state_names[s] ? state_names[s] :
	       "unknown";
}

/* ------------------------------------------------------------------ */
/* The daemon's control socket                                          */

/* Send @cmd, return the parsed JSON answer (NULL: reported). */
static struct json_object *sleepd_call(const char *path, const char *cmd)
{
	struct json_object *j;
	enum ctl_stage stage;
	int ret;

	ret = ctl_call(path, cmd, 0, &j, &stage);
	if (!ret)
		return j;
	if (ret == -ENAMETOOLONG && stage == CTL_CONNECT)
		vrd_fail("%s: socket path too long", path);
	else if (stage == CTL_CONNECT)
		vrd_fail("%s: cannot reach vrdma-sleepd: %s", path,
			 strerror(-ret));
	else if (stage == CTL_PARSE)
		vrd_fail("%s: vrdma-sleepd sent no JSON answer", path);
	else
		vrd_fail("%s: %s", path, strerror(-ret));
	return NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* The words of a JSON array of strings, comma separated. */
static void jlist(struct json_object *o, const char *key, char *buf,
		  size_t len)
{
	struct json_object *arr;
	size_t i, n, off = 0;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? "," : "",
				json_object_get_string(json_object_array_get_idx(arr, i)));
}

static void show_host(struct vrd *vrd, struct json_object *h, bool self)
{
	struct out *o = &vrd->out;
	static const char *const lists[] = {
		"addrs", "ports", "manages", "overlay", "rdma",
	};
	char buf[2048];
	const char *v;
	size_t i;

	out_obj_start(o);
	out_str(o, "name", "%s", jstr(h, "name") ?: "?");
	if (self)
		out_bool(o, "self", true);
	if ((v = jstr(h, "state")))
		out_str(o, "state", NULL, v);
	if ((v = jstr(h, "manager")))
		out_str(o, "manager", NULL, v);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		struct json_object *arr;

		if (!json_object_object_get_ex(h, lists[i], &arr))
			continue;
		if (o->json) {
			json_object_object_add(o->obj, lists[i],
					       json_object_get(arr));
			continue;
		}
		if (i > 2 && !vrd->details)
			continue;
		jlist(h, lists[i], buf, sizeof(buf));
		if (buf[0])
			out_str(o, lists[i], NULL, buf);
	}
	if ((v = jstr(h, "mac")) && (vrd->details || o->json))
		out_str(o, "mac", NULL, v);
	out_obj_end(o);
}

static const char *sleep_socket_arg(struct vrd *vrd, int *ret)
{
	static const struct vrd_word words[] = { { "socket" } };
	const char *vals[1];

	*ret = vrd_parse_keywords(vrd, "sleep", words, vals);
	return vals[0] ?: SLEEPD_SOCKET;
}

/* sleep show [ socket PATH ] */
static int sleep_show(struct vrd *vrd)
{
	struct json_object *j, *self, *peers;
	const char *path;
	size_t i;
	int ret;

	path = sleep_socket_arg(vrd, &ret);
	if (ret)
		return ret;
	j = sleepd_call(path, "status");
	if (!j)
		return VRD_FAIL;
	out_begin(&vrd->out);
	if (json_object_object_get_ex(j, "self", &self))
		show_host(vrd, self, true);
	if (json_object_object_get_ex(j, "peers", &peers) &&
	    json_object_is_type(peers, json_type_array))
		for (i = 0; i < json_object_array_length(peers); i++)
			show_host(vrd, json_object_array_get_idx(peers, i),
				  false);
	json_object_put(j);
	return VRD_OK;
}

static int print_json(struct vrd *vrd, struct json_object *j)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |= vrd->out.pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN;
	puts(json_object_to_json_string_ext(j, flags));
	json_object_put(j);
	return VRD_OK;
}

/* sleep status [ socket PATH ] */
static int sleep_status(struct vrd *vrd)
{
	struct json_object *j;
	const char *path;
	int ret;

	path = sleep_socket_arg(vrd, &ret);
	if (ret)
		return ret;
	j = sleepd_call(path, "status");
	return j ? print_json(vrd, j) : VRD_FAIL;
}

/* sleep request WORD... [ socket PATH ] */
static int sleep_request(struct vrd *vrd)
{
	const char *path = SLEEPD_SOCKET, *arg, *err;
	struct json_object *j;
	char cmd[256] = "";
	size_t off = 0;

	while ((arg = vrd_shift(vrd))) {
		if (!strcmp(arg, "socket")) {
			path = vrd_shift(vrd);
			if (!path)
				return vrd_usage(vrd, "sleep request: missing PATH");
			continue;
		}
		if (strchr(arg, '\n') || off + strlen(arg) + 2 > sizeof(cmd))
			return vrd_usage(vrd, "sleep request: invalid command");
		off += snprintf(cmd + off, sizeof(cmd) - off, "%s%s",
				off ? " " : "", arg);
	}
	if (!cmd[0])
		return vrd_usage(vrd, "sleep request: missing COMMAND");
	j = sleepd_call(path, cmd);
	if (!j)
		return VRD_FAIL;
	err = jstr(j, "error");
	if (err) {
		vrd_fail("vrdma-sleepd: %s", err);
		json_object_put(j);
		return VRD_FAIL;
	}
	return print_json(vrd, j);
}

/* ------------------------------------------------------------------ */
/* The module's table                                                   */

static const char *const peer_attr_names[VRDMA_A_SLEEP_MAX + 1] = {
	[VRDMA_A_SLEEP_ADDR]		= "addr",
	[VRDMA_A_SLEEP_NAME]		= "name",
	[VRDMA_A_SLEEP_STATE]		= "state",
	[VRDMA_A_SLEEP_MANAGER]		= "manager",
	[VRDMA_A_SLEEP_MANAGED]		= "managed",
	[VRDMA_A_SLEEP_IFINDEX]		= "ifindex",
	[VRDMA_A_SLEEP_ADDRS]		= "addrs",
	[VRDMA_A_SLEEP_PORTS]		= "ports",
	[VRDMA_A_SLEEP_ANNOUNCE]	= "announce",
	[VRDMA_A_SLEEP_STATS]		= "stats",
};

static const struct nl_policy peer_policy[VRDMA_A_SLEEP_MAX + 1] = {
	[VRDMA_A_SLEEP_ADDR]	= { MNL_TYPE_BINARY, sizeof(struct in6_addr) },
	[VRDMA_A_SLEEP_NAME]	= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_SLEEP_STATE]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_MANAGER]	= { MNL_TYPE_BINARY, sizeof(struct in6_addr) },
	[VRDMA_A_SLEEP_MANAGED]	= { MNL_TYPE_FLAG },
	[VRDMA_A_SLEEP_IFINDEX]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_ADDRS]	= { MNL_TYPE_NESTED },
	[VRDMA_A_SLEEP_PORTS]	= { MNL_TYPE_NESTED },
	[VRDMA_A_SLEEP_STATS]	= { MNL_TYPE_NESTED },
};

static const char *const stats_names[VRDMA_A_SLEEP_STATS_MAX + 1] = {
	[VRDMA_A_SLEEP_STATS_VALID]		= "valid",
	[VRDMA_A_SLEEP_STATS_IGNORED]		= "ignored",
	[VRDMA_A_SLEEP_STATS_EVENTS]		= "events",
	[VRDMA_A_SLEEP_STATS_ARP_REPLIES]	= "arp_replies",
	[VRDMA_A_SLEEP_STATS_WAITS]		= "waits",
	[VRDMA_A_SLEEP_STATS_WAIT_TIMEOUTS]	= "wait_timeouts",
};

static void out_addr_attr(struct out *o, const char *key, const char *fmt,
			  const struct nlattr *attr)
{
	char buf[ADDR_STRLEN];

	out_str(o, key, fmt, format_addr(mnl_attr_get_payload(attr), buf));
}

/* A list nest: addresses or ports, comma separated. */
static void out_list_attr(struct out *o, const char *key,
			  const struct nlattr *nest)
{
	char buf[8192], abuf[ADDR_STRLEN];
	const struct nlattr *a;
	size_t off = 0;

	buf[0] = '\0';
	mnl_attr_for_each_nested(a, nest) {
		if (off >= sizeof(buf) - ADDR_STRLEN - 2)
			break;
		if (mnl_attr_get_type(a) == VRDMA_A_SLEEP_LIST_ADDR &&
		    mnl_attr_validate2(a, MNL_TYPE_BINARY,
				       sizeof(struct in6_addr)) == 0)
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
					off ? "," : "",
					format_addr(mnl_attr_get_payload(a),
						    abuf));
		else if (mnl_attr_get_type(a) == VRDMA_A_SLEEP_LIST_PORT &&
			 mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			off += snprintf(buf + off, sizeof(buf) - off, "%s%u",
					off ? "," : "", mnl_attr_get_u16(a));
	}
	if (buf[0])
		out_str(o, key, NULL, buf);
}

static int peer_show_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_SLEEP_MAX + 1], *a;
	struct vrd *vrd = data;
	struct out *o = &vrd->out;
	char ifname[IF_NAMESIZE];

	if (nl_parse_obj(nlh, peer_policy, VRDMA_A_SLEEP_MAX, tb,
			 VRDMA_A_SLEEP_ADDR))
		return MNL_CB_ERROR;
	out_obj_start(o);
	out_addr_attr(o, "addr", "%s", tb[VRDMA_A_SLEEP_ADDR]);
	if (tb[VRDMA_A_SLEEP_NAME])
		out_str(o, "name", NULL, mnl_attr_get_str(tb[VRDMA_A_SLEEP_NAME]));
	if (tb[VRDMA_A_SLEEP_STATE])
		out_str(o, "state", NULL,
			state_name(mnl_attr_get_u32(tb[VRDMA_A_SLEEP_STATE])));
	if (tb[VRDMA_A_SLEEP_MANAGER])
		out_addr_attr(o, "manager", NULL, tb[VRDMA_A_SLEEP_MANAGER]);
	out_bool(o, "managed", !!tb[VRDMA_A_SLEEP_MANAGED]);
	if (tb[VRDMA_A_SLEEP_IFINDEX]) {
		uint32_t idx = mnl_attr_get_u32(tb[VRDMA_A_SLEEP_IFINDEX]);

		if (if_indextoname(idx, ifname))
			out_str(o, "dev", NULL, ifname);
		else
			out_u32(o, "ifindex", NULL, idx);
	}
	if (tb[VRDMA_A_SLEEP_ADDRS])
		out_list_attr(o, "addrs", tb[VRDMA_A_SLEEP_ADDRS]);
	if (tb[VRDMA_A_SLEEP_PORTS])
		out_list_attr(o, "ports", tb[VRDMA_A_SLEEP_PORTS]);
	if (tb[VRDMA_A_SLEEP_STATS] && (vrd->details || o->json)) {
		mnl_attr_for_each_nested(a, tb[VRDMA_A_SLEEP_STATS]) {
			uint16_t t = mnl_attr_get_type(a);

			if (t <= VRDMA_A_SLEEP_STATS_MAX && stats_names[t] &&
			    mnl_attr_validate(a, MNL_TYPE_U64) == 0)
				out_u64(o, stats_names[t], NULL,
					mnl_attr_get_u64(a));
		}
	}
	out_obj_end(o);
	return MNL_CB_OK;
}

static int parse_addr_arg(struct vrd *vrd, const char *cmd, const char *arg,
			  struct in6_addr *addr)
{
	if (!arg)
		return vrd_usage(vrd, "%s: missing ADDR", cmd);
	if (parse_addr(arg, addr))
		return vrd_usage(vrd, "%s: invalid address '%s'", cmd, arg);
	return VRD_OK;
}

/* sleep peer show [ ADDR ] */
static int peer_show(struct vrd *vrd)
{
	const char *arg = vrd_shift(vrd);
	struct in6_addr addr;
	struct nlmsghdr *nlh;
	int ret;

	if (arg) {
		ret = parse_addr_arg(vrd, "sleep peer show", arg, &addr);
		if (ret)
			return ret;
	}
	ret = vrd_no_more_args(vrd);
	if (!ret)
		ret = vrd_nl(vrd);
	if (ret)
		return ret;
	out_begin(&vrd->out);
	nlh = nl_msg(&vrd->nl, VRDMA_CMD_SLEEP_PEER_GET, arg ? 0 : NLM_F_DUMP);
	if (arg)
		mnl_attr_put(nlh, VRDMA_A_SLEEP_ADDR, sizeof(addr), &addr);
	return vrd_nl_run(vrd, nlh, peer_show_cb, vrd, peer_attr_names);
}

/* Put a comma separated list of addresses or ports as a list nest. */
static int put_list(struct vrd *vrd, struct nlmsghdr *nlh, uint16_t type,
		    const char *arg, bool ports)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	struct nlattr *nest;
	struct in6_addr addr;
	uint32_t port;
	int ret = VRD_OK;

	if (!copy)
		return vrd_fail("out of memory");
	nest = mnl_attr_nest_start(nlh, type);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (ports) {
			if (parse_u32(tok, 65535, &port) || !port) {
				ret = vrd_usage(vrd, "sleep peer set: invalid port '%s'", tok);
				break;
			}
			if (!mnl_attr_put_u16_check(nlh, NL_MSG_SIZE,
						    VRDMA_A_SLEEP_LIST_PORT,
						    port)) {
				ret = vrd_usage(vrd, "sleep peer set: too many ports");
				break;
			}
		} else {
			if (parse_addr(tok, &addr)) {
				ret = vrd_usage(vrd, "sleep peer set: invalid address '%s'", tok);
				break;
			}
			if (!mnl_attr_put_check(nlh, NL_MSG_SIZE,
						VRDMA_A_SLEEP_LIST_ADDR,
						sizeof(addr), &addr)) {
				ret = vrd_usage(vrd, "sleep peer set: too many addresses");
				break;
			}
		}
	}
	mnl_attr_nest_end(nlh, nest);
	free(copy);
	return ret;
}

enum {
	PS_STATE, PS_NAME, PS_MANAGER, PS_ADDRS, PS_DEV, PS_PORTS, PS_NR
};

/* sleep peer set ADDR state STATE [...] [ announce ] */
static int peer_set(struct vrd *vrd)
{
	static const struct vrd_word words[PS_NR] = {
		[PS_STATE]	= { "state" },
		[PS_NAME]	= { "name" },
		[PS_MANAGER]	= { "manager" },
		[PS_ADDRS]	= { "addrs" },
		[PS_DEV]	= { "dev" },
		[PS_PORTS]	= { "ports" },
	};
	const char *vals[PS_NR] = { 0 }, *arg;
	struct in6_addr addr, manager;
	bool announce = false;
	struct nlmsghdr *nlh;
	unsigned int ifindex = 0;
	uint32_t state;
	int ret, i;

	ret = parse_addr_arg(vrd, "sleep peer set", vrd_shift(vrd), &addr);
	if (ret)
		return ret;
	while ((arg = vrd_shift(vrd))) {
		if (!strcmp(arg, "announce")) {
			announce = true;
			continue;
		}
		i = lookup_word(arg, words);
		if (i < 0)
			return vrd_usage(vrd, "sleep peer set: unknown keyword '%s'", arg);
		if (vals[i])
			return vrd_usage(vrd, "sleep peer set: '%s' given twice", words[i].name);
		vals[i] = vrd_shift(vrd);
		if (!vals[i])
			return vrd_usage(vrd, "sleep peer set: missing value after '%s'",
					 words[i].name);
	}
	if (!vals[PS_STATE])
		return vrd_usage(vrd, "sleep peer set: missing 'state STATE'");
	for (state = 1; state < ARRAY_SIZE(state_names); state++)
		if (!strcmp(vals[PS_STATE], state_names[state]))
			break;
	if (state == ARRAY_SIZE(state_names))
		return vrd_usage(vrd, "sleep peer set: invalid state '%s'", vals[PS_STATE]);
	if (vals[PS_MANAGER] && parse_addr(vals[PS_MANAGER], &manager))
		return vrd_usage(vrd, "sleep peer set: invalid address '%s'",
				 vals[PS_MANAGER]);
	if ((vals[PS_PORTS] || announce) && !vals[PS_DEV])
		return vrd_usage(vrd, "sleep peer set: ports and announce need 'dev IFNAME'");
	if (vals[PS_DEV]) {
		ifindex = if_nametoindex(vals[PS_DEV]);
		if (!ifindex)
			return vrd_fail("%s: no such interface", vals[PS_DEV]);
	}
	ret = vrd_nl(vrd);
	if (ret)
		return ret;

	nlh = nl_msg(&vrd->nl, VRDMA_CMD_SLEEP_PEER_SET, 0);
	mnl_attr_put(nlh, VRDMA_A_SLEEP_ADDR, sizeof(addr), &addr);
	mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_STATE, state);
	if (vals[PS_NAME] &&
	    !mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_SLEEP_NAME,
				     vals[PS_NAME]))
		return vrd_usage(vrd, "sleep peer set: name too long");
	if (vals[PS_MANAGER])
		mnl_attr_put(nlh, VRDMA_A_SLEEP_MANAGER, sizeof(manager),
			     &manager);
	if (ifindex) {
		mnl_attr_put(nlh, VRDMA_A_SLEEP_MANAGED, 0, NULL);
		mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_IFINDEX, ifindex);
	}
	if (vals[PS_ADDRS]) {
		ret = put_list(vrd, nlh, VRDMA_A_SLEEP_ADDRS, vals[PS_ADDRS], false);
		if (ret)
			return ret;
	}
	if (vals[PS_PORTS]) {
		ret = put_list(vrd, nlh, VRDMA_A_SLEEP_PORTS, vals[PS_PORTS], true);
		if (ret)
			return ret;
	}
	if (announce)
		mnl_attr_put(nlh, VRDMA_A_SLEEP_ANNOUNCE, 0, NULL);
	return vrd_nl_run(vrd, nlh, NULL, NULL, peer_attr_names);
}

/* sleep peer del ADDR */
static int peer_del(struct vrd *vrd)
{
	struct in6_addr addr;
	struct nlmsghdr *nlh;
	int ret;

	ret = parse_addr_arg(vrd, "sleep peer del", vrd_shift(vrd), &addr);
	if (!ret)
		ret = vrd_no_more_args(vrd);
	if (!ret)
		ret = vrd_nl(vrd);
	if (ret)
		return ret;
	nlh = nl_msg(&vrd->nl, VRDMA_CMD_SLEEP_PEER_DEL, 0);
	mnl_attr_put(nlh, VRDMA_A_SLEEP_ADDR, sizeof(addr), &addr);
	return vrd_nl_run(vrd, nlh, NULL, NULL, peer_attr_names);
}

static int sleep_peer(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	peer_show },
		{ "list",	peer_show },
		{ "set",	peer_set },
		{ "del",	peer_del },
		{ "help",	vrd_object_help },
	};

	return vrd_exec(vrd, cmds, peer_show);
}

/* ------------------------------------------------------------------ */
/* Configuration and activity                                           */

static const char *const config_attr_names[VRDMA_A_SLEEP_CONFIG_MAX + 1] = {
	[VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS]	= "wake-timeout",
	[VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS] = "event-interval",
	[VRDMA_A_SLEEP_CONFIG_PHYS]		= "phys",
	[VRDMA_A_SLEEP_CONFIG_OWNER]		= "owner",
	[VRDMA_A_SLEEP_CONFIG_FLUSH]		= "flush",
};

static const struct nl_policy config_policy[VRDMA_A_SLEEP_CONFIG_MAX + 1] = {
	[VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS] = { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_CONFIG_PHYS]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_SLEEP_CONFIG_OWNER]		= { MNL_TYPE_FLAG },
	[VRDMA_A_SLEEP_CONFIG_PEERS]		= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_CONFIG_MANAGED]		= { MNL_TYPE_U32 },
};

static int config_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_SLEEP_CONFIG_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;

	if (nl_parse(nlh, config_policy, VRDMA_A_SLEEP_CONFIG_MAX, tb))
		return MNL_CB_ERROR;
	out_obj_start(o);
	if (tb[VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS])
		out_u32(o, "wake_timeout_ms", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS]));
	if (tb[VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS])
		out_u32(o, "event_interval_ms", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS]));
	if (tb[VRDMA_A_SLEEP_CONFIG_PHYS])
		out_str(o, "phys", NULL,
			mnl_attr_get_str(tb[VRDMA_A_SLEEP_CONFIG_PHYS]));
	out_bool(o, "owned", !!tb[VRDMA_A_SLEEP_CONFIG_OWNER]);
	if (tb[VRDMA_A_SLEEP_CONFIG_PEERS])
		out_u32(o, "peers", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_SLEEP_CONFIG_PEERS]));
	if (tb[VRDMA_A_SLEEP_CONFIG_MANAGED])
		out_u32(o, "managed", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_SLEEP_CONFIG_MANAGED]));
	out_obj_end(o);
	return MNL_CB_OK;
}

/* sleep config [ wake-timeout MS ] [ event-interval MS ] [ phys NAME ] [ flush ] */
static int sleep_config(struct vrd *vrd)
{
	static const struct vrd_word words[] = {
		{ "wake-timeout" }, { "event-interval" }, { "phys" },
	};
	const char *vals[ARRAY_SIZE(words)] = { 0 }, *arg;
	struct nlmsghdr *nlh;
	uint32_t tmo = 0, ival = 0;
	bool flush = false;
	int ret, i;

	while ((arg = vrd_shift(vrd))) {
		if (!strcmp(arg, "flush")) {
			flush = true;
			continue;
		}
		i = lookup_word(arg, words);
		if (i < 0 || vals[i])
			return vrd_usage(vrd, "sleep config: unexpected '%s'", arg);
		vals[i] = vrd_shift(vrd);
		if (!vals[i])
			return vrd_usage(vrd, "sleep config: missing value after '%s'", arg);
	}
	if (vals[0] && parse_u32(vals[0], VRDMA_SLEEP_WAKE_TIMEOUT_MAX_MS, &tmo))
		return vrd_usage(vrd, "sleep config: invalid wake-timeout '%s' (0-%u ms)",
				 vals[0], VRDMA_SLEEP_WAKE_TIMEOUT_MAX_MS);
	if (vals[1] && parse_u32(vals[1], 60000, &ival))
		return vrd_usage(vrd, "sleep config: invalid event-interval '%s'", vals[1]);
	ret = vrd_nl(vrd);
	if (ret)
		return ret;
	out_begin(&vrd->out);
	nlh = nl_msg(&vrd->nl, VRDMA_CMD_SLEEP_CONFIG_SET, 0);
	if (vals[0])
		mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS, tmo);
	if (vals[1])
		mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS, ival);
	if (vals[2] && !mnl_attr_put_strz_check(nlh, NL_MSG_SIZE,
						VRDMA_A_SLEEP_CONFIG_PHYS,
						vals[2]))
		return vrd_usage(vrd, "sleep config: name too long");
	if (flush)
		mnl_attr_put(nlh, VRDMA_A_SLEEP_CONFIG_FLUSH, 0, NULL);
	return vrd_nl_run(vrd, nlh, config_cb, vrd, config_attr_names);
}

static const char *const activity_attr_names[VRDMA_A_SLEEP_ACTIVITY_MAX + 1] = {
	[VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS]	= "window",
	[VRDMA_A_SLEEP_ACTIVITY_PHYS]		= "phys",
};

static const struct nl_policy activity_policy[VRDMA_A_SLEEP_ACTIVITY_MAX + 1] = {
	[VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_ACTIVITY_PHYS]		= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_SLEEP_ACTIVITY_DEVS]		= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_DEVS]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_ACTIVITY_ACTIVE_QPS]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_ACTIVITY_IDLE_MS]	= { MNL_TYPE_U64 },
	[VRDMA_A_SLEEP_ACTIVITY_REPL_GROUPS]	= { MNL_TYPE_U32 },
};

static int activity_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct {
		int type;
		const char *key;
	} u32s[] = {
		{ VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS, "window_ms" },
		{ VRDMA_A_SLEEP_ACTIVITY_DEVS, "devs" },
		{ VRDMA_A_SLEEP_ACTIVITY_ACTIVE_DEVS, "active_devs" },
		{ VRDMA_A_SLEEP_ACTIVITY_ACTIVE_QPS, "active_qps" },
		{ VRDMA_A_SLEEP_ACTIVITY_REPL_GROUPS, "repl_groups" },
	};
	const struct nlattr *tb[VRDMA_A_SLEEP_ACTIVITY_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;
	size_t i;

	if (nl_parse(nlh, activity_policy, VRDMA_A_SLEEP_ACTIVITY_MAX, tb))
		return MNL_CB_ERROR;
	out_obj_start(o);
	if (tb[VRDMA_A_SLEEP_ACTIVITY_PHYS])
		out_str(o, "phys", NULL,
			mnl_attr_get_str(tb[VRDMA_A_SLEEP_ACTIVITY_PHYS]));
	for (i = 0; i < ARRAY_SIZE(u32s); i++)
		if (tb[u32s[i].type])
			out_u32(o, u32s[i].key, NULL,
				mnl_attr_get_u32(tb[u32s[i].type]));
	if (tb[VRDMA_A_SLEEP_ACTIVITY_IDLE_MS])
		out_u64(o, "idle_ms", NULL,
			mnl_attr_get_u64(tb[VRDMA_A_SLEEP_ACTIVITY_IDLE_MS]));
	out_obj_end(o);
	return MNL_CB_OK;
}

/* sleep activity [ window MS ] [ phys NAME ] */
static int sleep_activity(struct vrd *vrd)
{
	static const struct vrd_word words[] = { { "window" }, { "phys" } };
	const char *vals[ARRAY_SIZE(words)];
	struct nlmsghdr *nlh;
	uint32_t window = 0;
	int ret;

	ret = vrd_parse_keywords(vrd, "sleep activity", words, vals);
	if (ret)
		return ret;
	if (vals[0] && (parse_u32(vals[0], 86400000, &window) || !window))
		return vrd_usage(vrd, "sleep activity: invalid window '%s' (1-86400000 ms)",
				 vals[0]);
	ret = vrd_nl(vrd);
	if (ret)
		return ret;
	out_begin(&vrd->out);
	nlh = nl_msg(&vrd->nl, VRDMA_CMD_SLEEP_ACTIVITY_GET, 0);
	if (vals[0])
		mnl_attr_put_u32(nlh, VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS, window);
	if (vals[1] && !mnl_attr_put_strz_check(nlh, NL_MSG_SIZE,
						VRDMA_A_SLEEP_ACTIVITY_PHYS,
						vals[1]))
		return vrd_usage(vrd, "sleep activity: name too long");
	return vrd_nl_run(vrd, nlh, activity_cb, vrd, activity_attr_names);
}

/* ------------------------------------------------------------------ */
/* Events                                                               */

static const struct nl_policy event_policy[VRDMA_A_SLEEP_EVENT_MAX + 1] = {
	[VRDMA_A_SLEEP_EVENT_TYPE]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_EVENT_ADDR]	= { MNL_TYPE_BINARY, sizeof(struct in6_addr) },
	[VRDMA_A_SLEEP_EVENT_REQUEST]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_EVENT_SRC]	= { MNL_TYPE_BINARY, sizeof(struct in6_addr) },
	[VRDMA_A_SLEEP_EVENT_SPORT]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_EVENT_DPORT]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_EVENT_IFINDEX]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_EVENT_OVERLAY]	= { MNL_TYPE_BINARY, sizeof(struct in6_addr) },
	[VRDMA_A_SLEEP_EVENT_VNI]	= { MNL_TYPE_U32 },
	[VRDMA_A_SLEEP_EVENT_PHYS]	= { MNL_TYPE_NUL_STRING },
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	static const char *const types[] = {
		[VRDMA_SLEEP_EVENT_WAKE_NEEDED] = "wake-needed",
		[VRDMA_SLEEP_EVENT_REQUEST] = "request",
		[VRDMA_SLEEP_EVENT_OWNER_ALIVE] = "owner-alive",
	};
	static const char *const kinds[] = {
		[VRDMA_SLEEP_REQUEST_TCP_SYN] = "tcp-syn",
		[VRDMA_SLEEP_REQUEST_RDMA_CM] = "rdma-cm",
	};
	const struct nlattr *tb[VRDMA_A_SLEEP_EVENT_MAX + 1];
	struct vrd *vrd = data;
	struct out *o = &vrd->out;
	uint32_t v;

	if (nl_cmd(nlh) != VRDMA_CMD_SLEEP_EVENT ||
	    nl_parse(nlh, event_policy, VRDMA_A_SLEEP_EVENT_MAX, tb))
		return MNL_CB_OK;
	out_obj_start(o);
	if (tb[VRDMA_A_SLEEP_EVENT_TYPE]) {
		v = mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_TYPE]);
		out_str(o, "event", "%s", v < ARRAY_SIZE(types) && types[v] ?
			types[v] : "unknown");
	}
	if (tb[VRDMA_A_SLEEP_EVENT_ADDR])
		out_addr_attr(o, "addr", NULL, tb[VRDMA_A_SLEEP_EVENT_ADDR]);
	if (tb[VRDMA_A_SLEEP_EVENT_REQUEST]) {
		v = mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_REQUEST]);
		out_str(o, "request", NULL, v < ARRAY_SIZE(kinds) && kinds[v] ?
			kinds[v] : "unknown");
	}
	if (tb[VRDMA_A_SLEEP_EVENT_SRC])
		out_addr_attr(o, "src", NULL, tb[VRDMA_A_SLEEP_EVENT_SRC]);
	if (tb[VRDMA_A_SLEEP_EVENT_SPORT])
		out_u32(o, "sport", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_SPORT]));
	if (tb[VRDMA_A_SLEEP_EVENT_DPORT])
		out_u32(o, "dport", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_DPORT]));
	if (tb[VRDMA_A_SLEEP_EVENT_OVERLAY])
		out_addr_attr(o, "overlay", NULL, tb[VRDMA_A_SLEEP_EVENT_OVERLAY]);
	if (tb[VRDMA_A_SLEEP_EVENT_VNI])
		out_u32(o, "vni", NULL, mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_VNI]));
	if (tb[VRDMA_A_SLEEP_EVENT_PHYS])
		out_str(o, "phys", NULL,
			mnl_attr_get_str(tb[VRDMA_A_SLEEP_EVENT_PHYS]));
	if (tb[VRDMA_A_SLEEP_EVENT_IFINDEX])
		out_u32(o, "ifindex", NULL,
			mnl_attr_get_u32(tb[VRDMA_A_SLEEP_EVENT_IFINDEX]));
	out_obj_end(o);
	/* One line per event, as it comes (JSON: one array at the end). */
	fflush(stdout);
	return MNL_CB_OK;
}

/* sleep monitor [ count N ] [ timeout SECONDS ] */
static int sleep_monitor(struct vrd *vrd)
{
	static const struct vrd_word words[] = { { "count" }, { "timeout" } };
	const char *vals[ARRAY_SIZE(words)];
	uint32_t count = 0, tmo = 0, seen = 0;
	struct timespec end, now;
	struct pollfd pfd;
	ssize_t len;
	int ret, ms;

	ret = vrd_parse_keywords(vrd, "sleep monitor", words, vals);
	if (ret)
		return ret;
	if ((vals[0] && parse_u32(vals[0], UINT32_MAX, &count)) ||
	    (vals[1] && parse_u32(vals[1], 86400, &tmo)))
		return vrd_usage(vrd, "sleep monitor: invalid number");
	ret = vrd_nl(vrd);
	if (ret)
		return ret;
	ret = nl_mcast_join(&vrd->nl, VRDMA_FAMILY_NAME, VRDMA_MCGRP_SLEEP);
	if (ret)
		return vrd_fail("cannot join the %s multicast group: %s",
				VRDMA_MCGRP_SLEEP, strerror(-ret));
	out_begin(&vrd->out);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += tmo;
	pfd.fd = mnl_socket_get_fd(vrd->nl.sock);
	pfd.events = POLLIN;
	while (!count || seen < count) {
		ms = -1;
		if (tmo) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			ms = (end.tv_sec - now.tv_sec) * 1000 +
			     (end.tv_nsec - now.tv_nsec) / 1000000;
			if (ms <= 0)
				break;
		}
		ret = poll(&pfd, 1, ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			break;
		len = mnl_socket_recvfrom(vrd->nl.sock, vrd->nl.rbuf, 32768);
		if (len < 0)
			return vrd_fail("recv: %s", strerror(errno));
		if (mnl_cb_run(vrd->nl.rbuf, len, 0, 0, event_cb, vrd) >= 0)
			seen++;
	}
	return VRD_OK;
}

int cmd_sleep(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "show",	sleep_show },
		{ "status",	sleep_status },
		{ "request",	sleep_request },
		{ "peer",	sleep_peer },
		{ "config",	sleep_config },
		{ "activity",	sleep_activity },
		{ "monitor",	sleep_monitor },
		{ "help",	vrd_object_help },
	};

	/* "sleep socket PATH" is "sleep show socket PATH". */
	if (vrd_arg(vrd) && !strcmp(vrd_arg(vrd), "socket"))
		return sleep_show(vrd);
	return vrd_exec(vrd, cmds, sleep_show);
}
