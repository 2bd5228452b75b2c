// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl agent: the state of the host's vrdma-agent, read from its
 * control socket (Documentation/control-plane.rst).
 *
 *   agent [ status ] [ socket PATH ]
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"
#include "vrdmactl.h"

#define AGENT_SOCKET	"/run/vrdma/agent.sock"

const char agent_usage[] =
	"Usage: " PROG " agent [ status ] [ socket PATH ]\n"
	"where  PATH is vrdma-agent's control socket (default " AGENT_SOCKET ")\n";

static struct json_object *jobj(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jtext(struct json_object *o, const char *key)
{
	struct json_object *v = jobj(o, key);

	return v ? json_object_get_string(v) : "?";
}

/* Print @keys of @o as "KEY VALUE" (arrays comma-separated). */
static void line(const char *first, struct json_object *o,
		 const char *const *keys)
{
	struct json_object *v;
	size_t i;

	fputs(first, stdout);
	for (; *keys; keys++) {
		v = jobj(o, *keys);
		if (!v)
			continue;
		printf(" %s ", *keys);
		if (json_object_is_type(v, json_type_array)) {
			for (i = 0; i < json_object_array_length(v); i++)
				printf("%s%s", i ? "," : "", json_object_get_string(
				       json_object_array_get_idx(v, i)));
		} else {
			fputs(json_object_get_string(v), stdout);
		}
	}
	putchar('\n');
}

static int agent_status(struct vrd *vrd)
{
	static const struct vrd_word words[] = { { "socket" } };
	static const char *const host_keys[] = {
		"state", "addrs", "version", "uptime_s", NULL,
	};
	static const char *const etcd_keys[] = {
		"reachable", "watching", "lease", "lease_ttl", "revision",
		"failovers", "retries", "watch_restarts", "last_error_kind",
		"last_error", NULL,
	};
	static const char *const map_keys[] = {
		"sink", "endpoints", "entries", "foreign", "adds", "dels",
		"errors", "bad_values", "reconciles", "last_reconcile_ms", NULL,
	};
	static const char *const pod_keys[] = {
		"ifname", "dev", "vni", "addrs", "state", "pod", NULL,
	};
	struct json_object *j, *pods, *v;
	const char *vals[1], *path;
	enum ctl_stage stage;
	char first[256];
	size_t i;
	int ret;

	ret = vrd_parse_keywords(vrd, "agent status", words, vals);
	if (ret)
		return ret;
	path = vals[0] ?: AGENT_SOCKET;
	ret = ctl_call(path, "{\"cmd\":\"status\"}", 10000, &j, &stage);
	if (ret) {
		if (stage == CTL_CONNECT)
			return vrd_fail("%s: cannot reach vrdma-agent: %s", path,
					strerror(-ret));
		if (stage == CTL_PARSE)
			return vrd_fail("%s: vrdma-agent sent no JSON answer",
					path);
		return vrd_fail("%s: %s", path, strerror(-ret));
	}
	if (!(v = jobj(j, "ok")) || !json_object_get_boolean(v)) {
		ret = vrd_fail("agent status: %s", jtext(j, "msg"));
		json_object_put(j);
		return ret;
	}
	if (vrd->out.json) {
		int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

		json_object_object_del(j, "ok");
		flags |= vrd->out.pretty ? JSON_C_TO_STRING_PRETTY :
			 JSON_C_TO_STRING_PLAIN;
		puts(json_object_to_json_string_ext(j, flags));
		json_object_put(j);
		return VRD_OK;
	}
	snprintf(first, sizeof(first), "host %s", jtext(j, "host"));
	line(first, j, host_keys);
	if ((v = jobj(j, "etcd"))) {
		snprintf(first, sizeof(first), "etcd %s", jtext(v, "endpoint"));
		line(first, v, etcd_keys);
	}
	if ((v = jobj(j, "map")))
		line("map", v, map_keys);
	pods = jobj(j, "pods");
	for (i = 0; pods && i < json_object_array_length(pods); i++) {
		v = json_object_array_get_idx(pods, i);
		snprintf(first, sizeof(first), "pod %s", jtext(v, "container"));
		line(first, v, pod_keys);
	}
	json_object_put(j);
	return VRD_OK;
}

static int agent_help(struct vrd *vrd)
{
	fputs(agent_usage, stdout);
	return vrd_no_more_args(vrd);
}

int cmd_agent(struct vrd *vrd)
{
	static const struct vrd_cmd cmds[] = {
		{ "status",	agent_status },
		{ "show",	agent_status },
		{ "help",	agent_help },
	};

	/* "agent socket PATH" is "agent status socket PATH". */
	if (vrd_arg(vrd) && !strcmp(vrd_arg(vrd), "socket"))
		return agent_status(vrd);
	return vrd_exec(vrd, cmds, agent_status);
}
