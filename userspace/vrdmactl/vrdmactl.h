/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrdmactl: shared state of one invocation and the helpers that the object
 * modules (info.c, phys.c, dev.c, map.c) use to parse their arguments,
 * talk to the kernel and report errors.
 */

#ifndef VRDMACTL_H
#define VRDMACTL_H

#include <stdbool.h>

#include <linux/vrdma.h>

#include "nl.h"
#include "utils.h"

#define PROG	"vrdmactl"

#define STRINGIFY_(x)	#x
#define STRINGIFY(x)	STRINGIFY_(x)

/* Exit status: success, failure (kernel or system error), bad usage. */
enum {
	VRD_OK = 0,
	VRD_FAIL = 1,
	VRD_USAGE = 2,
};

struct vrd {
	int argc;		/* arguments not consumed yet */
	char **argv;
	const char *object;	/* object being run, for messages */
	const char *usage;	/* its usage text */
	bool details;		/* -d */
	bool stats;		/* -s */
	struct out out;
	struct nl nl;
	bool nl_ready;
};

/* One command (or object) and the function that runs it. */
struct vrd_cmd {
	const char *name;
	int (*run)(struct vrd *vrd);
};

/* A keyword of a command's "KEYWORD VALUE" arguments. */
struct vrd_word {
	const char *name;
};

/* The current argument, NULL at the end. */
static inline const char *vrd_arg(const struct vrd *vrd)
{
	return vrd->argc > 0 ? vrd->argv[0] : NULL;
}

/* Consume and return the current argument, NULL at the end. */
static inline const char *vrd_shift(struct vrd *vrd)
{
	if (vrd->argc <= 0)
		return NULL;
	vrd->argc--;
	return *vrd->argv++;
}

/*
 * Run the command of @cmds that the current argument names (exact or
 * unique prefix), or @dflt when there are no arguments left.
 */
int vrd_exec_n(struct vrd *vrd, const struct vrd_cmd *cmds, size_t n,
	       int (*dflt)(struct vrd *vrd));
#define vrd_exec(vrd, cmds, dflt) \
	vrd_exec_n((vrd), (cmds), ARRAY_SIZE(cmds), (dflt))

/*
 * Parse the remaining arguments as "KEYWORD VALUE" pairs, keywords from
 * @words (exact or unique prefix), each at most once: @vals[i] is set to the
 * value of @words[i], or NULL.  @cmd names the command in usage errors.
 * Returns VRD_OK or VRD_USAGE (reported).
 */
int vrd_parse_keywords_n(struct vrd *vrd, const char *cmd,
			 const struct vrd_word *words, size_t n,
			 const char **vals);
#define vrd_parse_keywords(vrd, cmd, words, vals)			\
	vrd_parse_keywords_n((vrd), (cmd), (words), ARRAY_SIZE(words), (vals))

/* Report a usage error as one line with a hint; returns VRD_USAGE. */
__attribute__((format(printf, 2, 3)))
int vrd_usage(const struct vrd *vrd, const char *fmt, ...);

/* Fail with a usage error if arguments are left over. */
int vrd_no_more_args(const struct vrd *vrd);

/* Report a failure; returns VRD_FAIL. */
__attribute__((format(printf, 1, 2)))
int vrd_fail(const char *fmt, ...);

/*
 * Report a failed request, error @err (negative errno) with the kernel's
 * extended ACK, naming the offending or missing attribute from @names
 * (indexed by attribute type).  Returns VRD_FAIL.
 */
int vrd_nl_fail_n(const struct vrd *vrd, int err, const char *const *names,
		  size_t nr_names);
#define vrd_nl_fail(vrd, err, names) \
	vrd_nl_fail_n((vrd), (err), (names), ARRAY_SIZE(names))

/* Connect to the vrdma family; returns VRD_OK or VRD_FAIL (reported). */
int vrd_nl(struct vrd *vrd);

/*
 * The command has taken its arguments: fail if any are left over, else
 * connect to the family (vrd_nl()).
 */
int vrd_nl_begin(struct vrd *vrd);

/*
 * The same for a command that shows objects: then start the output and
 * the request @cmd (with @flags, NLM_F_DUMP for a dump) in *@nlh.
 */
int vrd_nl_begin_show(struct vrd *vrd, uint8_t cmd, uint16_t flags,
		      struct nlmsghdr **nlh);

/*
 * The same for a command that takes one argument, @what (for the usage
 * error of command @cmd when it is missing), into *@arg.
 */
int vrd_nl_begin_arg(struct vrd *vrd, const char *cmd, const char *what,
		     const char **arg);

/*
 * Send @nlh and pass each reply to @cb (may be NULL); a failure is
 * reported as vrd_nl_fail() does.  Returns VRD_OK or VRD_FAIL.
 */
int vrd_nl_run_n(struct vrd *vrd, struct nlmsghdr *nlh, mnl_cb_t cb,
		 void *data, const char *const *names, size_t nr_names);
#define vrd_nl_run(vrd, nlh, cb, data, names) \
	vrd_nl_run_n((vrd), (nlh), (cb), (data), (names), ARRAY_SIZE(names))

/* The nested STAT attributes (@type) of a message, as "stats" (-s). */
int vrd_show_stats(const struct nlmsghdr *nlh, struct out *o, uint16_t type);

/* The help command of every object: print its usage text. */
int vrd_object_help(struct vrd *vrd);

/* Object entry points and their usage texts. */
extern const char info_usage[], phys_usage[], dev_usage[], map_usage[];
extern const char sleep_usage[];
extern const char repl_usage[];
extern const char agent_usage[];

int cmd_info(struct vrd *vrd);
int cmd_phys(struct vrd *vrd);
int cmd_dev(struct vrd *vrd);
int cmd_map(struct vrd *vrd);
int cmd_sleep(struct vrd *vrd);
int cmd_repl(struct vrd *vrd);
int cmd_agent(struct vrd *vrd);

#endif /* VRDMACTL_H */
