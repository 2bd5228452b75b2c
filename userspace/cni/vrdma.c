// SPDX-License-Identifier: GPL-2.0
/*
 * The "vrdma" CNI plugin (CNI specification 1.0.0): gives a pod a vrdma
 * virtual RDMA device bound to its interface, through the host's
 * vrdma-agent (Documentation/control-plane.rst).
 *
 * A chained plugin: it runs after the pod's main network plugin (bridge
 * with host-local, for example), takes the interface and addresses from
 * that plugin's result (prevResult), asks the agent over its control
 * socket for a device in the pod's namespace bound to CNI_IFNAME, and
 * returns the result unchanged plus the device as an interface entry.
 *
 * Network configuration keys of its own (all optional):
 *   "vni"     integer 0-16777215, the virtual network (default 0)
 *   "mode"    "auto" (default), "exclusive" or "shared": ib_core's netns
 *             mode the device is meant for
 *   "socket"  the agent's control socket (default /run/vrdma/agent.sock)
 *   "timeout" seconds to wait for the agent, 1-300 (default 30)
 *
 * Every error is a CNI error object on stdout with a non-zero exit.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"
#include "parse.h"

#define AGENT_SOCKET	"/run/vrdma/agent.sock"
#define STDIN_MAX	(1 << 20)
#define VNI_MAX		16777215

/* CNI's well-known error codes. */
enum {
	CNI_ERR_VERSION = 1,		/* incompatible CNI version */
	CNI_ERR_FIELD = 2,		/* unsupported field */
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_ENV = 4,		/* invalid environment variables */
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_CONFIG = 7,		/* invalid network config */
	CNI_ERR_TRY_LATER = 11,
};

static const char *const supported[] = { "0.4.0", "1.0.0" };
static const char *cni_version = "1.0.0";

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(int code, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "cniVersion",
			       json_object_new_string(cni_version));
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "msg", json_object_new_string(buf));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	fprintf(stderr, "vrdma: %s\n", buf);
	exit(1);
}

static bool version_supported(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
		if (!strcmp(v, supported[i]))
			return true;
	return false;
}

static char *read_stdin(size_t *len)
{
	size_t cap = 65536, n;
	char *buf = malloc(cap + 1), *nb;

	*len = 0;
	while (buf) {
		n = fread(buf + *len, 1, cap - *len, stdin);
		*len += n;
		if (*len < cap)
			break;
		if (cap >= STDIN_MAX) {
			free(buf);
			fail(CNI_ERR_DECODE, "network configuration larger than %d bytes",
			     STDIN_MAX);
		}
		cap *= 2;
		nb = realloc(buf, cap + 1);
		if (!nb)
			free(buf);
		buf = nb;
	}
	if (!buf)
		fail(CNI_ERR_IO, "out of memory");
	buf[*len] = '\0';
	return buf;
}

/* A container id: letters, digits, '_', '.', '-', starting alphanumeric. */
static bool cid_ok(const char *s)
{
	size_t len = strlen(s);

	return len && len <= 128 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") == len;
}

static bool ifname_ok(const char *s)
{
	size_t len = strlen(s);

	return len && len < 16 && strcmp(s, ".") && strcmp(s, "..") &&
	       !strpbrk(s, "/: \t\n\r\f\v");
}

struct conf {
	struct json_object *root;
	const char *name;
	int64_t vni;
	const char *mode;
	const char *socket;
	int timeout;
	struct json_object *prev;
};

static const char *get_str(struct json_object *o, const char *key,
			   bool required)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			fail(CNI_ERR_CONFIG,
			     "network configuration: \"%s\" is required", key);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string))
		fail(CNI_ERR_CONFIG,
		     "network configuration: \"%s\" must be a string", key);
	return json_object_get_string(v);
}

static void parse_conf(struct conf *c, const char *text)
{
	static const char *const known[] = {
		"cniVersion", "name", "type", "args", "ipMasq", "ipam", "dns",
		"capabilities", "runtimeConfig", "prevResult", "disableCheck",
		"vni", "mode", "socket", "timeout",
	};
	struct json_tokener *tok = json_tokener_new();
	struct json_object *v;
	const char *s;
	size_t i;

	c->root = json_tokener_parse_ex(tok, text, strlen(text));
	if (!c->root || tok->char_offset != (int)strlen(text)) {
		/* Trailing blanks are fine, anything else is not. */
		bool blank = c->root &&
			     strspn(text + tok->char_offset, " \t\r\n") ==
			     strlen(text + tok->char_offset);

		if (!blank)
			fail(CNI_ERR_DECODE,
			     "network configuration on stdin is not one JSON object: %s",
			     c->root ? "trailing data" :
			     json_tokener_get_error(tok) == json_tokener_continue ?
			     "unexpected end of input" :
			     json_tokener_error_desc(json_tokener_get_error(tok)));
	}
	json_tokener_free(tok);
	if (!json_object_is_type(c->root, json_type_object))
		fail(CNI_ERR_DECODE,
		     "network configuration on stdin is not a JSON object");

	s = get_str(c->root, "cniVersion", true);
	if (!version_supported(s))
		fail(CNI_ERR_VERSION,
		     "CNI version \"%s\" is not supported (supported: 0.4.0, 1.0.0)",
		     s);
	cni_version = s;
	json_object_object_foreach(c->root, key, val) {
		(void)val;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(key, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			fail(CNI_ERR_FIELD,
			     "network configuration: unknown field \"%s\" (vrdma takes vni, mode, socket, timeout)",
			     key);
	}
	c->name = get_str(c->root, "name", true);
	if (!*c->name || !isalnum((unsigned char)c->name[0]) ||
	    strspn(c->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(c->name))
		fail(CNI_ERR_CONFIG, "network configuration: invalid \"name\" \"%s\"",
		     c->name);
	s = get_str(c->root, "type", true);
	if (strcmp(s, "vrdma"))
		fail(CNI_ERR_CONFIG, "network configuration: \"type\" is \"%s\", not \"vrdma\"",
		     s);
	c->vni = 0;
	if (json_object_object_get_ex(c->root, "vni", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (c->vni = json_object_get_int64(v)) < 0 || c->vni > VNI_MAX)
			fail(CNI_ERR_CONFIG,
			     "network configuration: \"vni\" must be an integer from 0 to %d (got %s)",
			     VNI_MAX, json_object_to_json_string(v));
	}
	c->mode = get_str(c->root, "mode", false) ?: "auto";
	if (strcmp(c->mode, "auto") && strcmp(c->mode, "exclusive") &&
	    strcmp(c->mode, "shared"))
		fail(CNI_ERR_CONFIG,
		     "network configuration: \"mode\" must be \"auto\", \"exclusive\" or \"shared\" (got \"%s\")",
		     c->mode);
	c->socket = get_str(c->root, "socket", false) ?: AGENT_SOCKET;
	if (c->socket[0] != '/' || strlen(c->socket) >= 108)
		fail(CNI_ERR_CONFIG,
		     "network configuration: \"socket\" must be an absolute path under 108 bytes");
	c->timeout = 30;
	if (json_object_object_get_ex(c->root, "timeout", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 1 || json_object_get_int64(v) > 300)
			fail(CNI_ERR_CONFIG,
			     "network configuration: \"timeout\" must be 1 to 300 seconds");
		c->timeout = json_object_get_int(v);
	}
	c->prev = NULL;
	if (json_object_object_get_ex(c->root, "prevResult", &v)) {
		if (!json_object_is_type(v, json_type_object))
			fail(CNI_ERR_CONFIG,
			     "network configuration: \"prevResult\" must be an object");
		c->prev = v;
	}
}

static const char *env(const char *name, bool required)
{
	const char *v = getenv(name);

	if (v && !*v)
		v = NULL;
	if (!v && required)
		fail(CNI_ERR_ENV, "%s is not set", name);
	return v;
}

struct args {
	const char *k8s_ns, *k8s_name;
	char buf[4096];
};

/* CNI_ARGS: "KEY=VALUE;..."; unknown keys need IgnoreUnknown=1. */
static void parse_args(struct args *a)
{
	static const char *const known[] = {
		"K8S_POD_NAMESPACE", "K8S_POD_NAME",
		"K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID", "IgnoreUnknown",
	};
	const char *s = env("CNI_ARGS", false);
	char *save = NULL, *kv, *eq, *unknown = NULL;
	bool ignore = false;
	size_t i;

	a->k8s_ns = a->k8s_name = NULL;
	if (!s)
		return;
	if (strlen(s) >= sizeof(a->buf))
		fail(CNI_ERR_ENV, "CNI_ARGS is longer than %zu bytes",
		     sizeof(a->buf) - 1);
	strcpy(a->buf, s);
	for (kv = strtok_r(a->buf, ";", &save); kv;
	     kv = strtok_r(NULL, ";", &save)) {
		eq = strchr(kv, '=');
		if (!eq || eq == kv)
			fail(CNI_ERR_ENV,
			     "CNI_ARGS: \"%s\" is not KEY=VALUE", kv);
		*eq = '\0';
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(kv, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			if (!unknown)
				unknown = kv;
			continue;
		}
		if (!strcmp(kv, "IgnoreUnknown"))
			ignore = !strcasecmp(eq + 1, "1") ||
				 !strcasecmp(eq + 1, "true");
		else if (!strcmp(kv, "K8S_POD_NAMESPACE"))
			a->k8s_ns = eq + 1;
		else if (!strcmp(kv, "K8S_POD_NAME"))
			a->k8s_name = eq + 1;
	}
	if (unknown && !ignore)
		fail(CNI_ERR_FIELD,
		     "CNI_ARGS: unknown argument \"%s\" (add IgnoreUnknown=1 to allow it)",
		     unknown);
}

/*
 * The index of the interface @ifname in @netns in prevResult's
 * interfaces, and the addresses of that interface into @addrs.
 */
static int prev_addrs(struct json_object *prev, const char *ifname,
		      const char *netns, struct json_object *addrs)
{
	struct json_object *ifs, *ips, *v;
	int idx = -1, n, i;

	if (!json_object_object_get_ex(prev, "interfaces", &ifs) ||
	    !json_object_is_type(ifs, json_type_array))
		fail(CNI_ERR_CONFIG,
		     "prevResult has no \"interfaces\": vrdma needs the main plugin's result");
	n = json_object_array_length(ifs);
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(ifs, i), *sb;

		if (!json_object_is_type(it, json_type_object) ||
		    !json_object_object_get_ex(it, "name", &v) ||
		    !json_object_is_type(v, json_type_string))
			fail(CNI_ERR_CONFIG,
			     "prevResult: interface %d has no \"name\"", i);
		if (strcmp(json_object_get_string(v), ifname))
			continue;
		if (!json_object_object_get_ex(it, "sandbox", &sb) ||
		    !json_object_is_type(sb, json_type_string))
			continue;	/* the host side of a veth */
		if (netns && strcmp(json_object_get_string(sb), netns))
			continue;
		idx = i;
		break;
	}
	if (idx < 0)
		fail(CNI_ERR_CONFIG,
		     "prevResult has no interface %s in the pod's namespace %s",
		     ifname, netns ? netns : "");
	if (!json_object_object_get_ex(prev, "ips", &ips) ||
	    !json_object_is_type(ips, json_type_array))
		ips = NULL;
	n = ips ? json_object_array_length(ips) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *ip = json_object_array_get_idx(ips, i), *in;
		char buf[64], *slash;
		struct in6_addr a;

		if (!json_object_is_type(ip, json_type_object) ||
		    !json_object_object_get_ex(ip, "address", &v) ||
		    !json_object_is_type(v, json_type_string))
			fail(CNI_ERR_CONFIG,
			     "prevResult: ips[%d] has no \"address\"", i);
		/* Only the addresses of this interface. */
		if (!json_object_object_get_ex(ip, "interface", &in) ||
		    !json_object_is_type(in, json_type_int) ||
		    json_object_get_int(in) != idx)
			continue;
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
		slash = strchr(buf, '/');
		if (!slash)
			fail(CNI_ERR_CONFIG,
			     "prevResult: ips[%d] address \"%s\" is not in CIDR notation",
			     i, buf);
		*slash = '\0';
		if (parse_addr(buf, &a))
			fail(CNI_ERR_CONFIG,
			     "prevResult: ips[%d] address \"%s\" is not an IP address",
			     i, buf);
		json_object_array_add(addrs, json_object_new_string(buf));
	}
	if (!json_object_array_length(addrs))
		fail(CNI_ERR_CONFIG,
		     "prevResult has no address for interface %s: vrdma publishes the pod's addresses (is IPAM configured?)",
		     ifname);
	return idx;
}

/* One request to the agent; returns its answer (ok) or fails. */
static struct json_object *agent_call(const struct conf *c,
				      struct json_object *req, bool del)
{
	const char *text = json_object_to_json_string_ext(req,
				JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct json_object *ans, *v, *m;
	enum ctl_stage stage;
	int ret, code;

	ret = ctl_call(c->socket, text, c->timeout * 1000, &ans, &stage);
	if (ret) {
		if (del && stage == CTL_CONNECT &&
		    (ret == -ENOENT || ret == -ECONNREFUSED)) {
			/* No agent: its start-up reconcile cleans up. */
			fprintf(stderr,
				"vrdma: vrdma-agent not running (%s: %s); its device, if any, goes with the namespace and the agent withdraws it when it starts\n",
				c->socket, strerror(-ret));
			return NULL;
		}
		fail(stage == CTL_CONNECT ? CNI_ERR_TRY_LATER : CNI_ERR_IO,
		     "vrdma-agent at %s: %s%s", c->socket,
		     stage == CTL_PARSE ? "sent no JSON answer" : strerror(-ret),
		     stage == CTL_CONNECT ? " (is vrdma-agent running?)" :
		     ret == -ETIMEDOUT ? " (no answer in time)" : "");
	}
	if (!json_object_object_get_ex(ans, "ok", &v) ||
	    !json_object_get_boolean(v)) {
		code = json_object_object_get_ex(ans, "code", &v) ?
		       json_object_get_int(v) : CNI_ERR_IO;
		fail(code > 0 ? code : CNI_ERR_IO, "%s",
		     json_object_object_get_ex(ans, "msg", &m) ?
		     json_object_get_string(m) : "vrdma-agent refused");
	}
	return ans;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

int main(void)
{
	const char *cmd = env("CNI_COMMAND", true), *cid, *netns, *ifname;
	struct json_object *req, *addrs, *ans, *v, *res, *ifs, *dev;
	struct conf c;
	struct args args;
	size_t len;
	char *text;

	if (!strcmp(cmd, "VERSION")) {
		struct json_object *o = json_object_new_object(), *arr;
		size_t i;

		arr = json_object_new_array();
		for (i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
			json_object_array_add(arr,
					      json_object_new_string(supported[i]));
		json_object_object_add(o, "cniVersion",
				       json_object_new_string("1.0.0"));
		json_object_object_add(o, "supportedVersions", arr);
		print_json(o);
		return 0;
	}
	if (strcmp(cmd, "ADD") && strcmp(cmd, "DEL") && strcmp(cmd, "CHECK"))
		fail(CNI_ERR_ENV,
		     "CNI_COMMAND \"%s\" is not ADD, DEL, CHECK or VERSION", cmd);

	text = read_stdin(&len);
	if (strlen(text) != len)
		fail(CNI_ERR_DECODE, "network configuration holds a NUL byte");
	parse_conf(&c, text);

	cid = env("CNI_CONTAINERID", true);
	if (!cid_ok(cid))
		fail(CNI_ERR_ENV,
		     "CNI_CONTAINERID \"%s\": letters, digits, '_', '.', '-' only, at most 128",
		     cid);
	ifname = env("CNI_IFNAME", true);
	if (!ifname_ok(ifname))
		fail(CNI_ERR_ENV, "CNI_IFNAME \"%s\" is not an interface name",
		     ifname);
	netns = env("CNI_NETNS", strcmp(cmd, "DEL") != 0);
	if (netns && netns[0] != '/')
		fail(CNI_ERR_ENV, "CNI_NETNS \"%s\" is not an absolute path",
		     netns);
	parse_args(&args);

	req = json_object_new_object();
	json_object_object_add(req, "container_id", json_object_new_string(cid));
	json_object_object_add(req, "ifname", json_object_new_string(ifname));

	if (!strcmp(cmd, "DEL")) {
		json_object_object_add(req, "cmd", json_object_new_string("del"));
		ans = agent_call(&c, req, true);
		if (ans && json_object_object_get_ex(ans, "warning", &v))
			fprintf(stderr, "vrdma: %s\n", json_object_get_string(v));
		return 0;
	}

	if (!c.prev)
		fail(CNI_ERR_CONFIG,
		     "no prevResult: vrdma is a chained plugin and must follow the pod's main network plugin (bridge, ...) in a conflist");
	addrs = json_object_new_array();
	prev_addrs(c.prev, ifname, netns, addrs);
	json_object_object_add(req, "addrs", addrs);

	if (!strcmp(cmd, "CHECK")) {
		json_object_object_add(req, "cmd", json_object_new_string("check"));
		agent_call(&c, req, false);
		return 0;
	}

	json_object_object_add(req, "cmd", json_object_new_string("add"));
	json_object_object_add(req, "netns", json_object_new_string(netns));
	json_object_object_add(req, "vni", json_object_new_int64(c.vni));
	json_object_object_add(req, "mode", json_object_new_string(c.mode));
	if (args.k8s_ns)
		json_object_object_add(req, "k8s_namespace",
				       json_object_new_string(args.k8s_ns));
	if (args.k8s_name)
		json_object_object_add(req, "k8s_name",
				       json_object_new_string(args.k8s_name));
	ans = agent_call(&c, req, false);
	if (!json_object_object_get_ex(ans, "dev", &dev) ||
	    !json_object_is_type(dev, json_type_string))
		fail(CNI_ERR_IO, "vrdma-agent did not name the device");

	/* The previous result, unchanged, plus the device. */
	res = json_object_get(c.prev);
	json_object_object_add(res, "cniVersion",
			       json_object_new_string(cni_version));
	json_object_object_get_ex(res, "interfaces", &ifs);
	v = json_object_new_object();
	json_object_object_add(v, "name", json_object_get(dev));
	json_object_object_add(v, "sandbox", json_object_new_string(netns));
	json_object_array_add(ifs, v);
	print_json(res);
	return 0;
}
