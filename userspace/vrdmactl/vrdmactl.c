// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl - control the vrdma module (virtual RoCE devices for network
 * namespaces) through its generic netlink family, in the style of
 * iproute2's rdma tool.
 *
 * Usage: vrdmactl [ OPTIONS ] OBJECT { COMMAND | help }
 *        vrdmactl [ OPTIONS ] help [ OBJECT ]
 *
 *   vrdmactl info                       module version, default physical
 *                                       device, device and map counts
 *   vrdmactl phys [ show [ NAME ] ]     physical RDMA devices
 *   vrdmactl phys default NAME          make NAME the default physical device
 *   vrdmactl dev [ show [ NAME ] ]      virtual devices
 *   vrdmactl dev add NAME netns NETNS netdev IFNAME [ phys PHYSDEV ] [ vni VNI ]
 *                                       create a virtual device in NETNS whose
 *                                       GIDs are the addresses of IFNAME
 *   vrdmactl dev del NAME
 *   vrdmactl map [ show ]               the overlay address map
 *   vrdmactl map add ADDR via HOSTADDR [ vni VNI ]
 *                                       overlay address ADDR is reached
 *                                       through the RNIC at HOSTADDR
 *   vrdmactl map del ADDR [ vni VNI ]
 *   vrdmactl sleep [ show ]             the sleep group, as vrdma-sleepd
 *                                       sees it (more: vrdmactl sleep help)
 *   vrdmactl agent [ status ]           the control-plane agent's state
 *
 *   NETNS is a process id, a path (with a '/') or a name under /run/netns.
 *   ADDR and HOSTADDR are IPv4 or IPv6 addresses; VNI is 0-16777215.
 *
 * Options (anywhere on the command line, "--" ends them):
 *   -j, --json     print a JSON array of objects
 *   -p, --pretty   print pretty JSON (implies -j)
 *   -d, --details  print more details
 *   -s, --stats    print counters (dev show; info: the control channel's)
 *   -V, --version  print the version and exit
 *   -h, --help     print the help text and exit
 *
 * Objects and commands may be abbreviated to unique prefixes (vrdmactl d s).
 * Plain output prints one object per line, as "KEY VALUE" pairs; JSON uses
 * the same keys.
 *
 * Exit status: 0 on success, 1 when the request failed (the kernel's error
 * and extended ACK message are printed as "vrdmactl: ERROR: MESSAGE"),
 * 2 on a usage error.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>

#include "vrdmactl.h"

#ifndef VRDMACTL_VERSION
#define VRDMACTL_VERSION	"unknown"
#endif

static const struct vrd_object {
	const char *name;
	int (*run)(struct vrd *vrd);
	const char *usage;
} objects[] = {
	{ "info",	cmd_info,	info_usage },
	{ "phys",	cmd_phys,	phys_usage },
	{ "dev",	cmd_dev,	dev_usage },
	{ "map",	cmd_map,	map_usage },
	{ "sleep",	cmd_sleep,	sleep_usage },
	{ "repl",	cmd_repl,	repl_usage },
	{ "agent",	cmd_agent,	agent_usage },
};

static void help(void)
{
	size_t i;

	printf("Usage: " PROG " [ OPTIONS ] OBJECT { COMMAND | help }\n"
	       "       " PROG " [ OPTIONS ] help [ OBJECT ]\n"
	       "where  OBJECT := { info | phys | dev | map | sleep | repl | agent }\n"
	       "       " PROG " [ OPTIONS ] -b[atch] FILE\n"
	       "       OPTIONS := { -j[son] | -p[retty] | -d[etails] | -s[tats] | -V[ersion] | -h[elp] }\n"
	       "\n"
	       "Control vrdma, the virtual RoCE devices of network namespaces.\n"
	       "\n");
	for (i = 0; i < ARRAY_SIZE(objects); i++)
		printf("%s\n", objects[i].usage);
	printf("Options:\n"
	       "  -j, --json     print a JSON array of objects\n"
	       "  -p, --pretty   print pretty JSON (implies -j)\n"
	       "  -d, --details  print more details\n"
	       "  -s, --stats    print counters (dev show; info: the control channel's)\n"
	       "  -V, --version  print the version and exit\n"
	       "  -h, --help     print this help and exit\n"
	       "\n"
	       "Objects and commands may be abbreviated to unique prefixes.\n"
	       "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int vrd_usage(const struct vrd *vrd, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (vrd->object)
		fprintf(stderr, " (try '" PROG " %s help')\n", vrd->object);
	else
		fputs(" (try '" PROG " help')\n", stderr);
	return VRD_USAGE;
}

int vrd_no_more_args(const struct vrd *vrd)
{
	if (vrd_arg(vrd))
		return vrd_usage(vrd, "unexpected argument '%s'", vrd_arg(vrd));
	return VRD_OK;
}

int vrd_fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return VRD_FAIL;
}

static void attr_name(char *buf, size_t len, const char *what,
		      const char *const *names, size_t nr_names,
		      unsigned int type)
{
	if (type < nr_names && names[type])
		snprintf(buf, len, "%s '%s'", what, names[type]);
	else
		snprintf(buf, len, "%s %u", what, type);
}

int vrd_nl_fail_n(const struct vrd *vrd, int err, const char *const *names,
		  size_t nr_names)
{
	const struct nl_ext_ack *ext = &vrd->nl.ext;
	char attr[64] = "";

	if (ext->bad_attr >= 0)
		attr_name(attr, sizeof(attr), "attribute", names, nr_names,
			  ext->bad_attr);
	else if (ext->has_miss_type)
		attr_name(attr, sizeof(attr), "missing attribute", names,
			  nr_names, ext->miss_type);

	fprintf(stderr, PROG ": %s", strerror(-err));
	if (ext->msg[0])
		fprintf(stderr, ": %s", ext->msg);
	else if (err == -EOPNOTSUPP)
		fputs(": the loaded vrdma module does not implement this command",
		      stderr);
	if (attr[0])
		fprintf(stderr, " (%s)", attr);
	fputc('\n', stderr);
	return VRD_FAIL;
}

int vrd_nl(struct vrd *vrd)
{
	int err;

	if (vrd->nl_ready)
		return VRD_OK;
	err = nl_open(&vrd->nl, VRDMA_FAMILY_NAME, VRDMA_FAMILY_VERSION);
	if (err == -ENOENT)
		return vrd_fail("%s: generic netlink family not found (is the vrdma module loaded?)",
				VRDMA_FAMILY_NAME);
	if (err)
		return vrd_fail("%s: cannot resolve generic netlink family: %s",
				VRDMA_FAMILY_NAME, strerror(-err));
	vrd->nl_ready = true;
	return VRD_OK;
}

int vrd_nl_begin(struct vrd *vrd)
{
	return vrd_no_more_args(vrd) ?: vrd_nl(vrd);
}

int vrd_nl_begin_show(struct vrd *vrd, uint8_t cmd, uint16_t flags,
		      struct nlmsghdr **nlh)
{
	int ret = vrd_nl_begin(vrd);

	if (ret)
		return ret;
	out_begin(&vrd->out);
	*nlh = nl_msg(&vrd->nl, cmd, flags);
	return VRD_OK;
}

int vrd_nl_begin_arg(struct vrd *vrd, const char *cmd, const char *what,
		     const char **arg)
{
	*arg = vrd_shift(vrd);
	if (!*arg)
		return vrd_usage(vrd, "%s: missing %s", cmd, what);
	return vrd_nl_begin(vrd);
}

int vrd_nl_run_n(struct vrd *vrd, struct nlmsghdr *nlh, mnl_cb_t cb,
		 void *data, const char *const *names, size_t nr_names)
{
	int err = nl_request(&vrd->nl, nlh, cb, data);

	return err ? vrd_nl_fail_n(vrd, err, names, nr_names) : VRD_OK;
}

/*
 * Counters (-s): every nested STAT (attribute @type) of the message, in
 * its order, as "NAME VALUE" (JSON: an object "stats").
 */
int vrd_show_stats(const struct nlmsghdr *nlh, struct out *o, uint16_t type)
{
	const struct nlattr *attr, *a;
	const char *name;
	uint64_t val = 0;
	bool have;

	out_nest_start(o, "stats");
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != type)
			continue;
		name = NULL;
		have = false;
		mnl_attr_for_each_nested(a, attr) {
			switch (mnl_attr_get_type(a)) {
			case VRDMA_A_STAT_NAME:
				if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
					return -1;
				name = mnl_attr_get_str(a);
				break;
			case VRDMA_A_STAT_VALUE:
				if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
					return -1;
				val = mnl_attr_get_u64(a);
				have = true;
				break;
			}
		}
		if (!name || !have)
			return -1;
		out_u64(o, name, NULL, val);
	}
	out_nest_end(o);
	return 0;
}

int vrd_object_help(struct vrd *vrd)
{
	fputs(vrd->usage, stdout);
	return vrd_no_more_args(vrd);
}

int vrd_exec_n(struct vrd *vrd, const struct vrd_cmd *cmds, size_t n,
	       int (*dflt)(struct vrd *vrd))
{
	const char *arg = vrd_shift(vrd);
	int i;

	if (!arg)
		return dflt(vrd);
	i = lookup_word_n(arg, &cmds[0].name, n, sizeof(cmds[0]));
	if (i == -2)
		return vrd_usage(vrd, "ambiguous %s command '%s'", vrd->object,
				 arg);
	if (i < 0)
		return vrd_usage(vrd, "unknown %s command '%s'", vrd->object,
				 arg);
	return cmds[i].run(vrd);
}

int vrd_parse_keywords_n(struct vrd *vrd, const char *cmd,
			 const struct vrd_word *words, size_t n,
			 const char **vals)
{
	const char *arg, *val;
	int i;

	memset(vals, 0, n * sizeof(*vals));
	while ((arg = vrd_shift(vrd))) {
		i = lookup_word_n(arg, &words[0].name, n, sizeof(words[0]));
		if (i < 0)
			return vrd_usage(vrd, "%s: %s keyword '%s'", cmd,
					 i == -2 ? "ambiguous" : "unknown", arg);
		val = vrd_shift(vrd);
		if (!val)
			return vrd_usage(vrd, "%s: missing value after '%s'",
					 cmd, words[i].name);
		if (vals[i])
			return vrd_usage(vrd, "%s: '%s' given twice", cmd,
					 words[i].name);
		vals[i] = val;
	}
	return VRD_OK;
}

/* help [ OBJECT ] */
static int run_help(struct vrd *vrd)
{
	const char *arg = vrd_shift(vrd);
	int i;

	if (!arg) {
		help();
		return vrd_no_more_args(vrd);
	}
	i = lookup_word(arg, objects);
	if (i < 0)
		return vrd_usage(vrd, "%s object '%s'",
				 i == -2 ? "ambiguous" : "unknown", arg);
	fputs(objects[i].usage, stdout);
	return vrd_no_more_args(vrd);
}

static int run_object(struct vrd *vrd)
{
	const char *arg = vrd_shift(vrd);
	int i;

	if (!arg)
		return vrd_usage(vrd, "missing OBJECT");
	if (!strcmp(arg, "help"))
		return run_help(vrd);
	i = lookup_word(arg, objects);
	if (i < 0)
		return vrd_usage(vrd, "%s object '%s'",
				 i == -2 ? "ambiguous" : "unknown", arg);
	vrd->object = objects[i].name;
	vrd->usage = objects[i].usage;
	return objects[i].run(vrd);
}

/* Run one command line; its output is complete when it returns. */
static int run_line(struct vrd *vrd, int argc, char **argv, bool json,
		    bool pretty)
{
	int ret;

	vrd->argc = argc;
	vrd->argv = argv;
	out_init(&vrd->out, json, pretty);
	ret = run_object(vrd);
	if (ret == VRD_OK)
		out_end(&vrd->out);
	else
		out_discard(&vrd->out);
	return ret;
}

/*
 * -b FILE: one command per line ("OBJECT COMMAND ARGS", words separated
 * by blanks, no quoting; empty lines and lines starting with '#' are
 * skipped), through one netlink socket.  Stops at the first failure.
 */
static int run_batch(struct vrd *vrd, const char *path, bool json,
		     bool pretty)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, *argv[64], *word, *save;
	size_t cap = 0;
	unsigned int lineno = 0;
	int ret = VRD_OK, argc;

	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return VRD_FAIL;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		argc = 0;
		for (word = strtok_r(line, " \t\r\n", &save); word;
		     word = strtok_r(NULL, " \t\r\n", &save)) {
			if (argc == (int)ARRAY_SIZE(argv) - 1) {
				argc = -1;
				break;
			}
			argv[argc++] = word;
		}
		if (argc < 0) {
			fprintf(stderr, PROG ": %s:%u: too many words\n", path,
				lineno);
			ret = VRD_USAGE;
			break;
		}
		if (!argc || argv[0][0] == '#')
			continue;
		argv[argc] = NULL;
		ret = run_line(vrd, argc, argv, json, pretty);
		if (ret != VRD_OK) {
			fprintf(stderr, PROG ": %s:%u: failed\n", path, lineno);
			break;
		}
	}
	if (ret == VRD_OK && ferror(f)) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		ret = VRD_FAIL;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "batch",	required_argument, NULL, 'b' },
		{ "json",	no_argument,	NULL, 'j' },
		{ "pretty",	no_argument,	NULL, 'p' },
		{ "details",	no_argument,	NULL, 'd' },
		{ "stats",	no_argument,	NULL, 's' },
		{ "version",	no_argument,	NULL, 'V' },
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL,		0,		NULL, 0 }
	};
	bool json = false, pretty = false;
	const char *batch = NULL;
	struct vrd vrd = { 0 };
	int opt, ret;

	opterr = 0;	/* we report bad options ourselves, on one line */
	while ((opt = getopt_long(argc, argv, "b:jpdsVh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			batch = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			json = true;
			pretty = true;
			break;
		case 'd':
			vrd.details = true;
			break;
		case 's':
			vrd.stats = true;
			break;
		case 'V':
			printf(PROG " %s (vrdma generic netlink family version %d)\n",
			       VRDMACTL_VERSION, VRDMA_FAMILY_VERSION);
			return VRD_OK;
		case 'h':
			help();
			return VRD_OK;
		default:
			if (optopt)
				return vrd_usage(&vrd, "unknown option '-%c'",
						 optopt);
			return vrd_usage(&vrd, "unknown option '%s'",
					 argv[optind - 1]);
		}
	}

	if (batch && optind < argc)
		return vrd_usage(&vrd, "-b FILE takes no command");
	if (batch)
		ret = run_batch(&vrd, batch, json, pretty);
	else
		ret = run_line(&vrd, argc - optind, argv + optind, json,
			       pretty);
	if (vrd.nl_ready)
		nl_close(&vrd.nl);

	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
		return VRD_FAIL;
	}
	return ret;
}
