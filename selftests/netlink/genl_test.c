// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the vrdma generic netlink family (Documentation/netlink/specs/
 * vrdma.yaml), talking to the kernel directly with libmnl: the family as
 * the genetlink controller sees it (ops, flags, per-op policies), the
 * operations the module implements, how malformed or unauthorised requests
 * are refused and what the extended ACK says about them.
 *
 * Run as root; vrdma.ko is loaded (modprobe) if it is not, and without it
 * the whole program is skipped.  Every operation of the spec must be
 * registered (NEED_OP still skips a test on an older module).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vrdma.h>

#include "kselftest_harness.h"

#define RX_SIZE		32768
#define TX_SIZE		8192

/* A physical device name that does not exist. */
#define NO_SUCH_PHYS	"vrdma-st-nodev"

/* The answer to one request: error, extended ACK, number of replies. */
struct answer {
	int err;		/* 0, or the kernel's negative errno */
	char msg[256];		/* NLMSGERR_ATTR_MSG */
	bool has_offs;
	uint32_t offs;		/* NLMSGERR_ATTR_OFFS */
	bool has_miss_type;
	uint32_t miss_type;	/* NLMSGERR_ATTR_MISS_TYPE */
	int replies;
};

struct genl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char tx[TX_SIZE];
	char rx[RX_SIZE];
};

/* The family as CTRL_CMD_GETFAMILY describes it. */
struct family {
	uint16_t id;
	uint32_t version;
	uint32_t hdrsize;
	char name[GENL_NAMSIZ];
	bool has_op[VRDMA_CMD_MAX + 1];
	uint32_t op_flags[VRDMA_CMD_MAX + 1];
	int nr_unknown_ops;	/* ops outside 1..VRDMA_CMD_MAX */
	uint32_t unknown_op;
	uint32_t mcgrp_sleep;	/* id of the "sleep" group, 0 if none */
};

/* Netlink plumbing. */

struct run {
	struct answer *ans;
	mnl_cb_t cb;
	void *data;
	int cb_err;
};

static int ext_ack_cb(const struct nlattr *attr, void *data)
{
	struct answer *ans = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (!mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
			snprintf(ans->msg, sizeof(ans->msg), "%s",
				 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (!mnl_attr_validate(attr, MNL_TYPE_U32)) {
			ans->has_offs = true;
			ans->offs = mnl_attr_get_u32(attr);
		}
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (!mnl_attr_validate(attr, MNL_TYPE_U32)) {
			ans->has_miss_type = true;
			ans->miss_type = mnl_attr_get_u32(attr);
		}
		break;
	}
	return MNL_CB_OK;
}

static void parse_ext_ack(const struct nlmsghdr *nlh, size_t offset,
			  struct answer *ans)
{
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    offset <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, offset, ext_ack_cb, ans);
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct run *run = data;
	size_t offset = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		run->cb_err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	run->ans->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - sizeof(e->msg);
	parse_ext_ack(nlh, offset, run->ans);
	return MNL_CB_ERROR;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct run *run = data;
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (!err)
		return MNL_CB_STOP;
	run->ans->err = err;
	parse_ext_ack(nlh, sizeof(err), run->ans);
	return MNL_CB_ERROR;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct run *run = data;

	run->ans->replies++;
	if (!run->cb || run->cb_err)
		return MNL_CB_OK;
	errno = 0;
	if (run->cb(nlh, run->data) < 0)
		run->cb_err = errno ? -errno : -EBADMSG;
	return MNL_CB_OK;
}

static int genl_open(struct genl *g)
{
	int one = 1;

	memset(g, 0, sizeof(*g));
	g->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!g->sock)
		return -errno;
	if (mnl_socket_setsockopt(g->sock, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(g->sock, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_bind(g->sock, 0, MNL_SOCKET_AUTOPID)) {
		int err = -errno;

		mnl_socket_close(g->sock);
		g->sock = NULL;
		return err;
	}
	g->portid = mnl_socket_get_portid(g->sock);
	g->seq = getpid();
	return 0;
}

static void genl_close(struct genl *g)
{
	if (g->sock)
		mnl_socket_close(g->sock);
	g->sock = NULL;
}

static struct nlmsghdr *genl_msg(struct genl *g, uint16_t type, uint8_t cmd,
				 uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;

	memset(g->tx, 0, sizeof(g->tx));
	nlh = mnl_nlmsg_put_header(g->tx);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = type == GENL_ID_CTRL ? 2 : VRDMA_FAMILY_VERSION;
	return nlh;
}

/*
 * Send @nlh and read the whole answer into @ans, calling @cb for each reply.
 * Returns 0 when the kernel answered (whether it accepted the request or
 * not: see ans->err), or a negative errno if we could not talk to it or a
 * reply did not parse.
 */
static int genl_run(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data, struct answer *ans)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	struct run run = { .ans = ans, .cb = cb, .data = data };
	ssize_t len;
	int ret;

	memset(ans, 0, sizeof(*ans));
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++g->seq;
	if (mnl_socket_sendto(g->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(g->sock, g->rx, sizeof(g->rx));
		if (len < 0)
			return -errno;
		ret = mnl_cb_run2(g->rx, len, nlh->nlmsg_seq, g->portid,
				  data_cb, &run, ctl, MNL_ARRAY_SIZE(ctl));
	} while (ret > MNL_CB_STOP);

	if (run.cb_err)
		return run.cb_err;
	if (ret < 0 && !ans->err)
		return errno ? -errno : -EPROTO;
	return 0;
}

static bool get_u32(const struct nlattr *attr, uint32_t *val)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32))
		return false;
	*val = mnl_attr_get_u32(attr);
	return true;
}

/* The family: CTRL_CMD_GETFAMILY. */

static int family_op_cb(const struct nlattr *op, struct family *fam)
{
	const struct nlattr *attr;
	uint32_t id = 0, flags = 0;

	mnl_attr_for_each_nested(attr, op) {
		if (mnl_attr_get_type(attr) == CTRL_ATTR_OP_ID &&
		    !get_u32(attr, &id))
			return -1;
		if (mnl_attr_get_type(attr) == CTRL_ATTR_OP_FLAGS &&
		    !get_u32(attr, &flags))
			return -1;
	}
	if (id >= 1 && id <= VRDMA_CMD_MAX) {
		fam->has_op[id] = true;
		fam->op_flags[id] = flags;
	} else {
		fam->nr_unknown_ops++;
		fam->unknown_op = id;
	}
	return 0;
}

static int family_mcgrp_cb(const struct nlattr *grp, struct family *fam)
{
	const struct nlattr *attr;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(attr, grp) {
		if (mnl_attr_get_type(attr) == CTRL_ATTR_MCAST_GRP_NAME &&
		    !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
			name = mnl_attr_get_str(attr);
		if (mnl_attr_get_type(attr) == CTRL_ATTR_MCAST_GRP_ID &&
		    !get_u32(attr, &id))
			return -1;
	}
	if (name && !strcmp(name, VRDMA_MCGRP_SLEEP))
		fam->mcgrp_sleep = id;
	return 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct family *fam = data;
	const struct nlattr *attr, *op;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U16))
				goto bad;
			fam->id = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_FAMILY_NAME:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
				goto bad;
			snprintf(fam->name, sizeof(fam->name), "%s",
				 mnl_attr_get_str(attr));
			break;
		case CTRL_ATTR_VERSION:
			if (!get_u32(attr, &fam->version))
				goto bad;
			break;
		case CTRL_ATTR_HDRSIZE:
			if (!get_u32(attr, &fam->hdrsize))
				goto bad;
			break;
		case CTRL_ATTR_OPS:
			mnl_attr_for_each_nested(op, attr)
				if (family_op_cb(op, fam))
					goto bad;
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(op, attr)
				if (family_mcgrp_cb(op, fam))
					goto bad;
			break;
		}
	}
	return MNL_CB_OK;
bad:
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

/* Resolve the vrdma family; returns 0, the kernel's error or -EBADMSG. */
static int family_get(struct genl *g, struct family *fam)
{
	struct nlmsghdr *nlh;
	struct answer ans;
	int ret;

	memset(fam, 0, sizeof(*fam));
	nlh = genl_msg(g, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VRDMA_FAMILY_NAME);
	ret = genl_run(g, nlh, family_cb, fam, &ans);
	if (ret)
		return ret;
	if (ans.err)
		return ans.err;
	return fam->id ? 0 : -EBADMSG;
}

/* Policies: CTRL_CMD_GETPOLICY. */

#define MAX_POLICIES	8
#define MAX_ATTRS	16

struct attr_policy {
	bool present;
	uint32_t type;		/* NL_ATTR_TYPE_* */
	uint32_t min_len, max_len;	/* 0: none */
	bool has_max_u;
	uint64_t max_u;
};

struct op_policy {
	bool has_do;
	uint32_t do_idx;
	struct attr_policy attr[MAX_POLICIES][MAX_ATTRS];
};

static int policy_attr_parse(const struct nlattr *nest, struct attr_policy *a)
{
	const struct nlattr *attr;

	a->present = true;
	mnl_attr_for_each_nested(attr, nest) {
		switch (mnl_attr_get_type(attr)) {
		case NL_POLICY_TYPE_ATTR_TYPE:
			if (!get_u32(attr, &a->type))
				return -1;
			break;
		case NL_POLICY_TYPE_ATTR_MIN_LENGTH:
			if (!get_u32(attr, &a->min_len))
				return -1;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_LENGTH:
			if (!get_u32(attr, &a->max_len))
				return -1;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
			if (mnl_attr_validate(attr, MNL_TYPE_U64))
				return -1;
			a->has_max_u = true;
			a->max_u = mnl_attr_get_u64(attr);
			break;
		}
	}
	return 0;
}

static int policy_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *outer, *inner, *field;
	struct op_policy *pol = data;
	unsigned int idx, type;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_OP_POLICY:
			/* { cmd: { DO: policy index, DUMP: policy index } } */
			mnl_attr_for_each_nested(outer, attr)
				mnl_attr_for_each_nested(field, outer)
					if (mnl_attr_get_type(field) ==
					    CTRL_ATTR_POLICY_DO) {
						if (!get_u32(field, &pol->do_idx))
							goto bad;
						pol->has_do = true;
					}
			break;
		case CTRL_ATTR_POLICY:
			/* { policy index: { attribute type: { ... } } } */
			mnl_attr_for_each_nested(outer, attr) {
				idx = mnl_attr_get_type(outer);
				mnl_attr_for_each_nested(inner, outer) {
					type = mnl_attr_get_type(inner);
					if (idx >= MAX_POLICIES ||
					    type >= MAX_ATTRS)
						continue;
					if (policy_attr_parse(inner,
							&pol->attr[idx][type]))
						goto bad;
				}
			}
			break;
		}
	}
	return MNL_CB_OK;
bad:
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

static int policy_get(struct genl *g, const struct family *fam, uint8_t cmd,
		      struct op_policy *pol, struct answer *ans)
{
	struct nlmsghdr *nlh;

	memset(pol, 0, sizeof(*pol));
	nlh = genl_msg(g, GENL_ID_CTRL, CTRL_CMD_GETPOLICY, NLM_F_DUMP);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, fam->id);
	mnl_attr_put_u32(nlh, CTRL_ATTR_OP, cmd);
	return genl_run(g, nlh, policy_cb, pol, ans);
}

/* Environment. */

static bool module_loaded(void)
{
	return access("/sys/module/vrdma", F_OK) == 0;
}

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma, mi;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

static int drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(cap);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[i].effective &= ~CAP_TO_MASK(cap);
	data[i].permitted &= ~CAP_TO_MASK(cap);
	data[i].inheritable &= ~CAP_TO_MASK(cap);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

static int become_nobody(void)
{
	const uid_t nobody = 65534;

	if (setgroups(0, NULL) || setresgid(nobody, nobody, nobody) ||
	    setresuid(nobody, nobody, nobody))
		return -errno;
	return 0;
}

/* Requests. */

static struct nlattr *put_strz(struct nlmsghdr *nlh, uint16_t type,
			       const char *s)
{
	struct nlattr *attr = mnl_nlmsg_get_payload_tail(nlh);

	mnl_attr_put_strz(nlh, type, s);
	return attr;
}

static uint32_t attr_offs(const struct nlmsghdr *nlh, const struct nlattr *a)
{
	return (const char *)a - (const char *)nlh;
}

/* The arguments of a request built in a child process. */
struct req {
	uint8_t cmd;
	uint16_t flags;
	const char *phys_name;		/* VRDMA_A_PHYS_NAME, if set */
	bool map;			/* ::ffff:10.0.0.1 via ::ffff:10.0.0.2 */
	bool map_addr;			/* ::ffff:10.0.0.1 alone (MAP_DEL) */
	bool join_sleep;		/* join the "sleep" group, no request */
};

static void req_build(struct nlmsghdr *nlh, const struct req *req)
{
	struct in6_addr addr = { .s6_addr = { [10] = 0xff, [11] = 0xff,
					      10, 0, 0, 1 } };

	if (req->phys_name)
		mnl_attr_put_strz(nlh, VRDMA_A_PHYS_NAME, req->phys_name);
	if (req->map || req->map_addr)
		mnl_attr_put(nlh, VRDMA_A_MAP_ADDR, sizeof(addr), &addr);
	if (req->map) {
		addr.s6_addr[15] = 2;
		mnl_attr_put(nlh, VRDMA_A_MAP_VIA, sizeof(addr), &addr);
	}
}

/* Join a multicast group: 0 or -errno. */
static int join_group(struct genl *g, uint32_t grp)
{
	if (mnl_socket_setsockopt(g->sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)))
		return -errno;
	return 0;
}

enum identity {
	NO_CAP_NET_ADMIN,	/* root without CAP_NET_ADMIN */
	NOBODY,			/* uid/gid 65534, no capabilities */
	NEW_NETNS,		/* root, in a new network namespace */
};

static const char *const identity_name[] = {
	[NO_CAP_NET_ADMIN]	= "without CAP_NET_ADMIN",
	[NOBODY]		= "as nobody",
	[NEW_NETNS]		= "in a new network namespace",
};

/* What a child reports back through shared memory. */
struct child_report {
	char step[64];		/* the step that failed, if any */
	int step_err;
	struct answer ans;
};

static void child(enum identity who, const struct req *req,
		  struct child_report *rep)
{
	struct family fam;
	struct nlmsghdr *nlh;
	struct genl *g;
	int ret;

#define STEP(what, expr) do {						\
		snprintf(rep->step, sizeof(rep->step), "%s", what);	\
		ret = (expr);						\
		if (ret) {						\
			rep->step_err = ret;				\
			return;						\
		}							\
	} while (0)

	switch (who) {
	case NO_CAP_NET_ADMIN:
		STEP("capset", drop_cap(CAP_NET_ADMIN));
		break;
	case NOBODY:
		STEP("setuid", become_nobody());
		break;
	case NEW_NETNS:
		STEP("unshare", unshare(CLONE_NEWNET) ? -errno : 0);
		break;
	}
	g = malloc(sizeof(*g));
	STEP("malloc", g ? 0 : -ENOMEM);
	STEP("socket", genl_open(g));
	STEP("resolve family", family_get(g, &fam));
	if (req->join_sleep) {
		rep->ans.err = join_group(g, fam.mcgrp_sleep);
	} else {
		nlh = genl_msg(g, fam.id, req->cmd, req->flags);
		req_build(nlh, req);
		STEP("request", genl_run(g, nlh, NULL, NULL, &rep->ans));
	}
	rep->step[0] = '\0';
	genl_close(g);
	free(g);
#undef STEP
}

/* Run @req in a child process as @who; the kernel's answer in @ans. */
static void run_as(struct __test_metadata *_metadata, enum identity who,
		   const struct req *req, struct answer *ans)
{
	struct child_report *rep;
	int status;
	pid_t pid;

	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rep);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child(who, req, rep);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (rep->step_err)
		TH_LOG("child %s: %s failed: %s", identity_name[who],
		       rep->step, strerror(-rep->step_err));
	ASSERT_EQ(0, rep->step_err);
	*ans = rep->ans;
	munmap(rep, sizeof(*rep));
}

/* Log the kernel's answer, for the reader of a failed test. */
#define LOG_ANSWER(ans)							\
	TH_LOG("answer: %d (%s), extack msg \"%s\" offs %s%u miss_type %s%u", \
	       (ans)->err, strerror(-(ans)->err), (ans)->msg,		\
	       (ans)->has_offs ? "" : "none/", (ans)->offs,		\
	       (ans)->has_miss_type ? "" : "none/", (ans)->miss_type)

/*
 * Expect a request refused by policy: -EINVAL or -ERANGE, an extack
 * message, and the offset of the offending attribute.
 */
static void expect_policy_error(struct __test_metadata *_metadata,
				const struct answer *ans, uint32_t offs)
{
	if (ans->err != -EINVAL && ans->err != -ERANGE)
		LOG_ANSWER(ans);
	ASSERT_TRUE(ans->err == -EINVAL || ans->err == -ERANGE);
	ASSERT_NE('\0', ans->msg[0]);
	ASSERT_TRUE(ans->has_offs);
	ASSERT_EQ(offs, ans->offs);
}

/* The fixture: a socket and the resolved family. */

FIXTURE(vrdma) {
	struct genl g;
	struct family fam;
	struct answer ans;
};

FIXTURE_SETUP(vrdma)
{
	int ret;

	ASSERT_EQ(0, genl_open(&self->g));
	ret = family_get(&self->g, &self->fam);
	if (ret == -ENOENT && !module_loaded())
		SKIP(return, "vrdma module not loaded");
	if (ret)
		TH_LOG("resolving family %s: %s", VRDMA_FAMILY_NAME,
		       strerror(-ret));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(vrdma)
{
	genl_close(&self->g);
}

#define NEED_ROOT() do {						\
		if (geteuid() != 0)					\
			SKIP(return, "needs root");			\
	} while (0)

#define NEED_OP(cmd) do {						\
		if (!self->fam.has_op[cmd])				\
			SKIP(return, #cmd " not implemented by the module yet"); \
	} while (0)

/* The family, as the genetlink controller reports it. */
TEST_F(vrdma, family)
{
	ASSERT_STREQ(VRDMA_FAMILY_NAME, self->fam.name);
	ASSERT_LE(GENL_MIN_ID, self->fam.id);
	ASSERT_EQ((uint32_t)VRDMA_FAMILY_VERSION, self->fam.version);
	ASSERT_EQ(0U, self->fam.hdrsize);
}

/* Expected op flags, from the spec. */
static const struct {
	uint32_t caps;		/* GENL_CMD_CAP_DO / _DUMP */
	bool admin;		/* admin-perm */
	bool policy;		/* has request attributes */
	bool implemented;	/* the module must register it already */
} spec_ops[VRDMA_CMD_MAX + 1] = {
	[VRDMA_CMD_INFO_GET] = { GENL_CMD_CAP_DO, false, false, true },
	[VRDMA_CMD_PHYS_GET] = { GENL_CMD_CAP_DUMP, false, false, true },
	[VRDMA_CMD_PHYS_SET] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_DEV_NEW] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_DEV_DEL] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_DEV_GET] = { GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP, false,
				true, true },
	[VRDMA_CMD_MAP_NEW] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_MAP_DEL] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_MAP_GET] = { GENL_CMD_CAP_DUMP, false, false, true },
	[VRDMA_CMD_REPL_GROUP_NEW] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_REPL_GROUP_DEL] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_REPL_GROUP_GET] = { GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP,
				       false, true, true },
	[VRDMA_CMD_REPL_GROUP_SET] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_REPL_OP] = { GENL_CMD_CAP_DO, false, true, true },
	[VRDMA_CMD_SLEEP_ACTIVITY_GET] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_SLEEP_PEER_SET] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_SLEEP_PEER_DEL] = { GENL_CMD_CAP_DO, true, true, true },
	[VRDMA_CMD_SLEEP_PEER_GET] = { GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP,
				       true, true, true },
	[VRDMA_CMD_SLEEP_CONFIG_SET] = { GENL_CMD_CAP_DO, true, true, true },
};

/* The registered ops and their flags match the spec. */
TEST_F(vrdma, ops)
{
	const uint32_t caps = GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP;
	const uint32_t admin = GENL_ADMIN_PERM | GENL_UNS_ADMIN_PERM;
	unsigned int cmd;
	uint32_t flags;

	if (self->fam.nr_unknown_ops)
		TH_LOG("unknown op %u", self->fam.unknown_op);
	ASSERT_EQ(0, self->fam.nr_unknown_ops);

	for (cmd = 1; cmd <= VRDMA_CMD_MAX; cmd++) {
		if (!self->fam.has_op[cmd]) {
			if (spec_ops[cmd].implemented)
				TH_LOG("op %u not registered", cmd);
			ASSERT_FALSE(spec_ops[cmd].implemented);
			continue;
		}
		flags = self->fam.op_flags[cmd];
		TH_LOG("op %u flags %#x", cmd, flags);
		EXPECT_EQ(spec_ops[cmd].caps, flags & caps);
		EXPECT_EQ(spec_ops[cmd].admin ? GENL_ADMIN_PERM : 0U,
			  flags & admin);
		if (spec_ops[cmd].policy)
			EXPECT_TRUE(!!(flags & GENL_CMD_CAP_HASPOL));
	}
}

/* Get the do policy of @cmd; false if the test is skipped. */
static bool get_do_policy(struct __test_metadata *_metadata,
			  FIXTURE_DATA(vrdma) *self, uint8_t cmd,
			  struct op_policy *pol)
{
	ASSERT_EQ(0, policy_get(&self->g, &self->fam, cmd, pol, &self->ans));
	if (self->ans.err == -EOPNOTSUPP)
		SKIP(return false, "kernel has no CTRL_CMD_GETPOLICY");
	ASSERT_EQ(0, self->ans.err);
	ASSERT_TRUE(pol->has_do);
	ASSERT_GT((uint32_t)MAX_POLICIES, pol->do_idx);
	return true;
}

static void expect_string_attr(struct __test_metadata *_metadata,
			       const struct attr_policy *a, uint32_t max_len)
{
	ASSERT_TRUE(a->present);
	ASSERT_TRUE(a->type == NL_ATTR_TYPE_NUL_STRING ||
		    a->type == NL_ATTR_TYPE_STRING);
	ASSERT_EQ(max_len, a->max_len);
}

static void expect_u32_attr(struct __test_metadata *_metadata,
			    const struct attr_policy *a, uint64_t max)
{
	ASSERT_TRUE(a->present);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_U32, a->type);
	ASSERT_TRUE(a->has_max_u);
	ASSERT_EQ(max, a->max_u);
}

static void expect_binary_attr(struct __test_metadata *_metadata,
			       const struct attr_policy *a, uint32_t len)
{
	ASSERT_TRUE(a->present);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_BINARY, a->type);
	ASSERT_EQ(len, a->min_len);
	ASSERT_EQ(len, a->max_len);
}

/* Every attribute of @pol's do policy is one of @types. */
static void expect_only_attrs(struct __test_metadata *_metadata,
			      const struct op_policy *pol,
			      const uint16_t *types, size_t n)
{
	unsigned int type;
	size_t i;

	for (type = 0; type < MAX_ATTRS; type++) {
		bool expected = false;

		for (i = 0; i < n; i++)
			expected |= types[i] == type;
		if (!expected && pol->attr[pol->do_idx][type].present)
			TH_LOG("attribute %u is not a request attribute", type);
		ASSERT_TRUE(expected || !pol->attr[pol->do_idx][type].present);
	}
}

TEST_F(vrdma, policy_phys_set)
{
	static const uint16_t types[] = { VRDMA_A_PHYS_NAME };
	struct op_policy pol;

	if (!get_do_policy(_metadata, self, VRDMA_CMD_PHYS_SET, &pol))
		return;
	expect_string_attr(_metadata, &pol.attr[pol.do_idx][VRDMA_A_PHYS_NAME],
			   VRDMA_NAME_LEN - 1);
	expect_only_attrs(_metadata, &pol, types, ARRAY_SIZE(types));
}

TEST_F(vrdma, policy_dev_new)
{
	static const uint16_t types[] = {
		VRDMA_A_DEV_NAME, VRDMA_A_DEV_NETNS_PID, VRDMA_A_DEV_NETNS_FD,
		VRDMA_A_DEV_NETDEV, VRDMA_A_DEV_PHYS, VRDMA_A_DEV_VNI,
		VRDMA_A_DEV_MAX_QP, VRDMA_A_DEV_MAX_CQ, VRDMA_A_DEV_MAX_MR,
		VRDMA_A_DEV_MAX_PINNED,
	};
	struct attr_policy *a;
	struct op_policy pol;

	NEED_OP(VRDMA_CMD_DEV_NEW);
	if (!get_do_policy(_metadata, self, VRDMA_CMD_DEV_NEW, &pol))
		return;
	a = pol.attr[pol.do_idx];
	expect_string_attr(_metadata, &a[VRDMA_A_DEV_NAME], VRDMA_NAME_LEN - 1);
	expect_string_attr(_metadata, &a[VRDMA_A_DEV_NETDEV], 15);
	expect_string_attr(_metadata, &a[VRDMA_A_DEV_PHYS], VRDMA_NAME_LEN - 1);
	expect_u32_attr(_metadata, &a[VRDMA_A_DEV_VNI], VRDMA_VNI_MAX);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_U32, a[VRDMA_A_DEV_NETNS_PID].type);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_S32, a[VRDMA_A_DEV_NETNS_FD].type);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_U32, a[VRDMA_A_DEV_MAX_QP].type);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_U32, a[VRDMA_A_DEV_MAX_CQ].type);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_U32, a[VRDMA_A_DEV_MAX_MR].type);
	ASSERT_EQ((uint32_t)NL_ATTR_TYPE_U64, a[VRDMA_A_DEV_MAX_PINNED].type);
	expect_only_attrs(_metadata, &pol, types, ARRAY_SIZE(types));
}

TEST_F(vrdma, policy_map_del)
{
	static const uint16_t types[] = { VRDMA_A_MAP_ADDR, VRDMA_A_MAP_VNI };
	struct attr_policy *a;
	struct op_policy pol;

	NEED_OP(VRDMA_CMD_MAP_DEL);
	if (!get_do_policy(_metadata, self, VRDMA_CMD_MAP_DEL, &pol))
		return;
	a = pol.attr[pol.do_idx];
	expect_binary_attr(_metadata, &a[VRDMA_A_MAP_ADDR], 16);
	expect_u32_attr(_metadata, &a[VRDMA_A_MAP_VNI], VRDMA_VNI_MAX);
	expect_only_attrs(_metadata, &pol, types, ARRAY_SIZE(types));
}

TEST_F(vrdma, policy_dev_del)
{
	static const uint16_t types[] = { VRDMA_A_DEV_NAME };
	struct op_policy pol;

	NEED_OP(VRDMA_CMD_DEV_DEL);
	if (!get_do_policy(_metadata, self, VRDMA_CMD_DEV_DEL, &pol))
		return;
	expect_string_attr(_metadata, &pol.attr[pol.do_idx][VRDMA_A_DEV_NAME],
			   VRDMA_NAME_LEN - 1);
	expect_only_attrs(_metadata, &pol, types, ARRAY_SIZE(types));
}

TEST_F(vrdma, policy_map_new)
{
	static const uint16_t types[] = {
		VRDMA_A_MAP_ADDR, VRDMA_A_MAP_VIA, VRDMA_A_MAP_VNI,
	};
	struct attr_policy *a;
	struct op_policy pol;

	NEED_OP(VRDMA_CMD_MAP_NEW);
	if (!get_do_policy(_metadata, self, VRDMA_CMD_MAP_NEW, &pol))
		return;
	a = pol.attr[pol.do_idx];
	expect_binary_attr(_metadata, &a[VRDMA_A_MAP_ADDR], 16);
	expect_binary_attr(_metadata, &a[VRDMA_A_MAP_VIA], 16);
	expect_u32_attr(_metadata, &a[VRDMA_A_MAP_VNI], VRDMA_VNI_MAX);
	expect_only_attrs(_metadata, &pol, types, ARRAY_SIZE(types));
}

/* INFO_GET */

struct info {
	bool has_version, has_default, has_dev_count, has_map_count;
	char version[64];
	char phys_default[VRDMA_NAME_LEN];
	uint32_t dev_count, map_count;
};

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr;
	struct info *info = data;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(attr)) {
		case VRDMA_A_INFO_VERSION:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
				goto bad;
			info->has_version = true;
			snprintf(info->version, sizeof(info->version), "%s",
				 mnl_attr_get_str(attr));
			break;
		case VRDMA_A_INFO_PHYS_DEFAULT:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) ||
			    mnl_attr_get_payload_len(attr) > VRDMA_NAME_LEN)
				goto bad;
			info->has_default = true;
			strcpy(info->phys_default, mnl_attr_get_str(attr));
			break;
		case VRDMA_A_INFO_DEV_COUNT:
			if (!get_u32(attr, &info->dev_count))
				goto bad;
			info->has_dev_count = true;
			break;
		case VRDMA_A_INFO_MAP_COUNT:
			if (!get_u32(attr, &info->map_count))
				goto bad;
			info->has_map_count = true;
			break;
		}
	}
	return MNL_CB_OK;
bad:
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

static void info_get(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vrdma) *self, struct info *info)
{
	struct nlmsghdr *nlh;

	memset(info, 0, sizeof(*info));
	nlh = genl_msg(&self->g, self->fam.id, VRDMA_CMD_INFO_GET, 0);
	ASSERT_EQ(0, genl_run(&self->g, nlh, info_cb, info, &self->ans));
	ASSERT_EQ(0, self->ans.err);
	ASSERT_EQ(1, self->ans.replies);
}

TEST_F(vrdma, info_get)
{
	struct info info;

	info_get(_metadata, self, &info);
	ASSERT_TRUE(info.has_version);
	ASSERT_NE('\0', info.version[0]);
	TH_LOG("version %s", info.version);
	ASSERT_TRUE(info.has_dev_count);
	ASSERT_TRUE(info.has_map_count);
}

/* Reading needs no privilege, in any namespace. */
TEST_F(vrdma, info_get_unprivileged)
{
	struct req req = { .cmd = VRDMA_CMD_INFO_GET };

	NEED_ROOT();
	run_as(_metadata, NOBODY, &req, &self->ans);
	ASSERT_EQ(0, self->ans.err);
	ASSERT_EQ(1, self->ans.replies);

	req = (struct req){ .cmd = VRDMA_CMD_PHYS_GET, .flags = NLM_F_DUMP };
	run_as(_metadata, NOBODY, &req, &self->ans);
	ASSERT_EQ(0, self->ans.err);
}

TEST_F(vrdma, info_get_in_netns)
{
	struct req req = { .cmd = VRDMA_CMD_INFO_GET };

	NEED_ROOT();
	run_as(_metadata, NEW_NETNS, &req, &self->ans);
	ASSERT_EQ(0, self->ans.err);
	ASSERT_EQ(1, self->ans.replies);
}

/* PHYS_GET */

struct phys_dump {
	int count;
	int defaults;
	char default_name[VRDMA_NAME_LEN];
	char first_name[VRDMA_NAME_LEN];
};

static int phys_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *name = NULL, *index = NULL, *dflt = NULL;
	struct phys_dump *dump = data;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(attr)) {
		case VRDMA_A_PHYS_NAME:
			name = attr;
			break;
		case VRDMA_A_PHYS_INDEX:
			index = attr;
			break;
		case VRDMA_A_PHYS_DEFAULT:
			dflt = attr;
			break;
		}
	}
	if (!name || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) ||
	    mnl_attr_get_payload_len(name) > VRDMA_NAME_LEN ||
	    !index || mnl_attr_validate(index, MNL_TYPE_U32) ||
	    (dflt && mnl_attr_validate(dflt, MNL_TYPE_FLAG))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!dump->count++)
		strcpy(dump->first_name, mnl_attr_get_str(name));
	if (dflt) {
		dump->defaults++;
		strcpy(dump->default_name, mnl_attr_get_str(name));
	}
	return MNL_CB_OK;
}

static void phys_dump(struct __test_metadata *_metadata,
		      FIXTURE_DATA(vrdma) *self, struct phys_dump *dump)
{
	struct nlmsghdr *nlh;

	memset(dump, 0, sizeof(*dump));
	nlh = genl_msg(&self->g, self->fam.id, VRDMA_CMD_PHYS_GET, NLM_F_DUMP);
	ASSERT_EQ(0, genl_run(&self->g, nlh, phys_cb, dump, &self->ans));
	ASSERT_EQ(0, self->ans.err);
}

/* The dump is well formed and agrees with INFO_GET about the default. */
TEST_F(vrdma, phys_get_dump)
{
	struct phys_dump dump;
	struct info info;

	phys_dump(_metadata, self, &dump);
	TH_LOG("%d physical devices, default '%s'", dump.count,
	       dump.default_name);
	ASSERT_GE(1, dump.defaults);

	info_get(_metadata, self, &info);
	ASSERT_EQ(info.has_default, dump.defaults == 1);
	if (info.has_default)
		ASSERT_STREQ(info.phys_default, dump.default_name);
}

/* PHYS_SET */

static struct nlmsghdr *phys_set_msg(FIXTURE_DATA(vrdma) *self)
{
	return genl_msg(&self->g, self->fam.id, VRDMA_CMD_PHYS_SET, 0);
}

/* Setting the current default again succeeds and changes nothing. */
TEST_F(vrdma, phys_set_default)
{
	struct phys_dump dump;
	struct nlmsghdr *nlh;
	struct info info;

	NEED_ROOT();
	phys_dump(_metadata, self, &dump);
	if (!dump.defaults)
		SKIP(return, "no default physical device");

	nlh = phys_set_msg(self);
	put_strz(nlh, VRDMA_A_PHYS_NAME, dump.default_name);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	if (self->ans.err)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(0, self->ans.err);

	info_get(_metadata, self, &info);
	ASSERT_TRUE(info.has_default);
	ASSERT_STREQ(dump.default_name, info.phys_default);
}

TEST_F(vrdma, phys_set_name_too_long)
{
	struct nlmsghdr *nlh;
	struct nlattr *name;
	char buf[201];

	NEED_ROOT();
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	nlh = phys_set_msg(self);
	name = put_strz(nlh, VRDMA_A_PHYS_NAME, buf);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	expect_policy_error(_metadata, &self->ans, attr_offs(nlh, name));
}

/* One byte over the limit: the boundary of max-len. */
TEST_F(vrdma, phys_set_name_len_boundary)
{
	char buf[VRDMA_NAME_LEN + 1];
	struct nlmsghdr *nlh;
	struct nlattr *name;

	NEED_ROOT();
	/* 63 characters: valid length, so the device lookup fails. */
	memset(buf, 'x', VRDMA_NAME_LEN - 1);
	buf[VRDMA_NAME_LEN - 1] = '\0';
	nlh = phys_set_msg(self);
	put_strz(nlh, VRDMA_A_PHYS_NAME, buf);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	if (self->ans.err != -ENODEV)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(-ENODEV, self->ans.err);

	/* 64 characters: refused by the policy. */
	memset(buf, 'x', VRDMA_NAME_LEN);
	buf[VRDMA_NAME_LEN] = '\0';
	nlh = phys_set_msg(self);
	name = put_strz(nlh, VRDMA_A_PHYS_NAME, buf);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	expect_policy_error(_metadata, &self->ans, attr_offs(nlh, name));
}

TEST_F(vrdma, phys_set_no_name)
{
	NEED_ROOT();
	ASSERT_EQ(0, genl_run(&self->g, phys_set_msg(self), NULL, NULL,
			      &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	/* Since 6.0 the kernel can name the missing attribute. */
	if (kernel_at_least(6, 0)) {
		ASSERT_TRUE(self->ans.has_miss_type);
		ASSERT_EQ((uint32_t)VRDMA_A_PHYS_NAME, self->ans.miss_type);
	} else {
		ASSERT_TRUE(self->ans.has_miss_type || self->ans.msg[0]);
	}
}

TEST_F(vrdma, phys_set_unknown_attr)
{
	struct nlmsghdr *nlh;
	struct nlattr *bad;

	NEED_ROOT();
	nlh = phys_set_msg(self);
	put_strz(nlh, VRDMA_A_PHYS_NAME, NO_SUCH_PHYS);
	bad = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, VRDMA_A_DEV_MAX + 100, 0);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	if (self->ans.err != -EINVAL)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
	ASSERT_TRUE(self->ans.has_offs);
	ASSERT_EQ(attr_offs(nlh, bad), self->ans.offs);
}

/* An attribute of the set that is not a PHYS_SET request attribute. */
TEST_F(vrdma, phys_set_reply_attr)
{
	struct nlmsghdr *nlh;
	struct nlattr *bad;

	NEED_ROOT();
	nlh = phys_set_msg(self);
	put_strz(nlh, VRDMA_A_PHYS_NAME, NO_SUCH_PHYS);
	bad = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, VRDMA_A_PHYS_INDEX, 1);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	if (self->ans.err != -EINVAL)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
	ASSERT_TRUE(self->ans.has_offs);
	ASSERT_EQ(attr_offs(nlh, bad), self->ans.offs);
}

/* Bytes after the last attribute that do not make an attribute. */
TEST_F(vrdma, phys_set_trailing_data)
{
	struct nlmsghdr *nlh;

	NEED_ROOT();
	nlh = phys_set_msg(self);
	put_strz(nlh, VRDMA_A_PHYS_NAME, NO_SUCH_PHYS);
	nlh->nlmsg_len += 2;	/* the buffer is zeroed */
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	if (self->ans.err != -EINVAL)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

TEST_F(vrdma, phys_set_no_such_dev)
{
	struct nlmsghdr *nlh;

	NEED_ROOT();
	nlh = phys_set_msg(self);
	put_strz(nlh, VRDMA_A_PHYS_NAME, NO_SUCH_PHYS);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-ENODEV, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

TEST_F(vrdma, unsupported_cmd)
{
	static const uint8_t cmds[] = { 0, VRDMA_CMD_MAX + 1, 255 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		struct nlmsghdr *nlh = genl_msg(&self->g, self->fam.id,
						cmds[i], 0);

		ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
		if (self->ans.err != -EOPNOTSUPP)
			TH_LOG("command %u", cmds[i]);
		ASSERT_EQ(-EOPNOTSUPP, self->ans.err);
	}
}

/* Privileges */

/* A request that an admin op would accept, save for the permission. */
static struct req admin_req(uint8_t cmd)
{
	struct req req = { .cmd = cmd };

	if (cmd == VRDMA_CMD_PHYS_SET)
		req.phys_name = NO_SUCH_PHYS;
	else if (cmd == VRDMA_CMD_MAP_NEW)
		req.map = true;
	else if (cmd == VRDMA_CMD_MAP_DEL)
		req.map_addr = true;
	return req;
}

TEST_F(vrdma, admin_ops_need_cap_net_admin)
{
	unsigned int cmd;
	struct req req;

	NEED_ROOT();
	for (cmd = 1; cmd <= VRDMA_CMD_MAX; cmd++) {
		if (!spec_ops[cmd].admin || !self->fam.has_op[cmd])
			continue;
		req = admin_req(cmd);
		run_as(_metadata, NO_CAP_NET_ADMIN, &req, &self->ans);
		if (self->ans.err != -EPERM) {
			TH_LOG("command %u", cmd);
			LOG_ANSWER(&self->ans);
		}
		ASSERT_EQ(-EPERM, self->ans.err);
	}
}

/* The "sleep" group (admin-perm in the spec) is the administrator's. */
TEST_F(vrdma, sleep_mcgrp_needs_cap_net_admin)
{
	struct req req = { .join_sleep = true };

	NEED_ROOT();
	ASSERT_NE(0U, self->fam.mcgrp_sleep);
	run_as(_metadata, NO_CAP_NET_ADMIN, &req, &self->ans);
	ASSERT_EQ(-EPERM, self->ans.err);
	ASSERT_EQ(0, join_group(&self->g, self->fam.mcgrp_sleep));
}

TEST_F(vrdma, phys_set_as_nobody)
{
	struct req req = admin_req(VRDMA_CMD_PHYS_SET);

	NEED_ROOT();
	run_as(_metadata, NOBODY, &req, &self->ans);
	if (self->ans.err != -EPERM)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EPERM, self->ans.err);
}

/* Host-wide state cannot be changed from a container's namespace. */
TEST_F(vrdma, phys_set_in_netns)
{
	struct req req = admin_req(VRDMA_CMD_PHYS_SET);
	struct phys_dump dump;

	NEED_ROOT();
	/* Name the current default, so that no answer but -EPERM fits. */
	phys_dump(_metadata, self, &dump);
	if (dump.defaults)
		req.phys_name = dump.default_name;
	run_as(_metadata, NEW_NETNS, &req, &self->ans);
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EPERM, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

TEST_F(vrdma, map_new_in_netns)
{
	struct req req = admin_req(VRDMA_CMD_MAP_NEW);

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_NEW);
	run_as(_metadata, NEW_NETNS, &req, &self->ans);
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EPERM, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

/* Policies of the ops to come, checked on the wire. */

static struct nlmsghdr *map_new_msg(FIXTURE_DATA(vrdma) *self)
{
	return genl_msg(&self->g, self->fam.id, VRDMA_CMD_MAP_NEW, 0);
}

TEST_F(vrdma, map_new_vni_out_of_range)
{
	struct req req = admin_req(VRDMA_CMD_MAP_NEW);
	struct nlmsghdr *nlh;
	struct nlattr *vni;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_NEW);
	nlh = map_new_msg(self);
	req_build(nlh, &req);
	vni = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, VRDMA_A_MAP_VNI, VRDMA_VNI_MAX + 1);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	expect_policy_error(_metadata, &self->ans, attr_offs(nlh, vni));
}

TEST_F(vrdma, map_new_bad_addr_len)
{
	static const uint8_t v4[4] = { 10, 0, 0, 1 };
	struct nlmsghdr *nlh;
	struct nlattr *addr;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_NEW);
	nlh = map_new_msg(self);
	addr = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put(nlh, VRDMA_A_MAP_ADDR, sizeof(v4), v4);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	expect_policy_error(_metadata, &self->ans, attr_offs(nlh, addr));
}

/* MAP_* on the wire */

static struct in6_addr v4mapped(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct in6_addr addr = { .s6_addr = { [10] = 0xff, [11] = 0xff,
					      a, b, c, d } };

	return addr;
}

/* Documentation addresses: no test topology uses them. */
#define TEST_ADDR	v4mapped(198, 51, 100, 201)
#define TEST_VIA	v4mapped(203, 0, 113, 201)
#define TEST_VNI	4299

static struct nlmsghdr *map_msg(FIXTURE_DATA(vrdma) *self, uint8_t cmd,
				const struct in6_addr *addr,
				const struct in6_addr *via, const uint32_t *vni)
{
	struct nlmsghdr *nlh = genl_msg(&self->g, self->fam.id, cmd, 0);

	if (addr)
		mnl_attr_put(nlh, VRDMA_A_MAP_ADDR, sizeof(*addr), addr);
	if (via)
		mnl_attr_put(nlh, VRDMA_A_MAP_VIA, sizeof(*via), via);
	if (vni)
		mnl_attr_put_u32(nlh, VRDMA_A_MAP_VNI, *vni);
	return nlh;
}

/* What a MAP_GET dump holds about one address. */
struct map_dump {
	struct in6_addr addr;	/* the address looked for */
	uint32_t vni;
	int entries;		/* messages in the dump */
	int found;		/* entries of addr in vni */
	struct in6_addr via;	/* the last one's */
	uint32_t flags;
};

static int map_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *addr = NULL, *via = NULL, *vni = NULL,
			    *flags = NULL;
	struct map_dump *dump = data;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(attr)) {
		case VRDMA_A_MAP_ADDR:
			addr = attr;
			break;
		case VRDMA_A_MAP_VIA:
			via = attr;
			break;
		case VRDMA_A_MAP_VNI:
			vni = attr;
			break;
		case VRDMA_A_MAP_FLAGS:
			flags = attr;
			break;
		}
	}
	if (!addr || mnl_attr_validate2(addr, MNL_TYPE_BINARY, 16) ||
	    (via && mnl_attr_validate2(via, MNL_TYPE_BINARY, 16)) ||
	    !vni || mnl_attr_validate(vni, MNL_TYPE_U32) ||
	    !flags || mnl_attr_validate(flags, MNL_TYPE_U32)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	dump->entries++;
	if (memcmp(mnl_attr_get_payload(addr), &dump->addr, 16) ||
	    mnl_attr_get_u32(vni) != dump->vni)
		return MNL_CB_OK;
	dump->found++;
	if (via)
		memcpy(&dump->via, mnl_attr_get_payload(via), 16);
	dump->flags = mnl_attr_get_u32(flags);
	return MNL_CB_OK;
}

static void map_dump(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vrdma) *self, struct map_dump *dump)
{
	struct nlmsghdr *nlh;

	nlh = genl_msg(&self->g, self->fam.id, VRDMA_CMD_MAP_GET, NLM_F_DUMP);
	ASSERT_EQ(0, genl_run(&self->g, nlh, map_cb, dump, &self->ans));
	if (self->ans.err)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(0, self->ans.err);
}

/* Add, find in the dump, update, delete; the count of INFO_GET follows. */
TEST_F(vrdma, map_roundtrip)
{
	struct in6_addr addr = TEST_ADDR, via = TEST_VIA;
	struct map_dump dump = { .addr = TEST_ADDR, .vni = TEST_VNI };
	uint32_t vni = TEST_VNI;
	struct info before, info;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_NEW);
	info_get(_metadata, self, &before);

	ASSERT_EQ(0, genl_run(&self->g, map_msg(self, VRDMA_CMD_MAP_NEW, &addr,
						&via, &vni),
			      NULL, NULL, &self->ans));
	if (self->ans.err)
		LOG_ANSWER(&self->ans);
	ASSERT_EQ(0, self->ans.err);
	info_get(_metadata, self, &info);
	ASSERT_EQ(before.map_count + 1, info.map_count);

	map_dump(_metadata, self, &dump);
	ASSERT_EQ(1, dump.found);
	ASSERT_EQ(0, memcmp(&dump.via, &via, sizeof(via)));
	ASSERT_EQ(0U, dump.flags);

	/* Again, with another host: an update, not a second entry. */
	via = v4mapped(203, 0, 113, 202);
	ASSERT_EQ(0, genl_run(&self->g, map_msg(self, VRDMA_CMD_MAP_NEW, &addr,
						&via, &vni),
			      NULL, NULL, &self->ans));
	ASSERT_EQ(0, self->ans.err);
	info_get(_metadata, self, &info);
	ASSERT_EQ(before.map_count + 1, info.map_count);
	dump.found = 0;
	map_dump(_metadata, self, &dump);
	ASSERT_EQ(1, dump.found);
	ASSERT_EQ(0, memcmp(&dump.via, &via, sizeof(via)));

	ASSERT_EQ(0, genl_run(&self->g, map_msg(self, VRDMA_CMD_MAP_DEL, &addr,
						NULL, &vni),
			      NULL, NULL, &self->ans));
	ASSERT_EQ(0, self->ans.err);
	info_get(_metadata, self, &info);
	ASSERT_EQ(before.map_count, info.map_count);
	dump.found = 0;
	map_dump(_metadata, self, &dump);
	ASSERT_EQ(0, dump.found);
}

TEST_F(vrdma, map_new_missing_via)
{
	struct in6_addr addr = TEST_ADDR;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_NEW);
	ASSERT_EQ(0, genl_run(&self->g, map_msg(self, VRDMA_CMD_MAP_NEW, &addr,
						NULL, NULL),
			      NULL, NULL, &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	if (kernel_at_least(6, 0)) {
		ASSERT_TRUE(self->ans.has_miss_type);
		ASSERT_EQ((uint32_t)VRDMA_A_MAP_VIA, self->ans.miss_type);
	}
}

/* refused(addr, via): -EINVAL, a message, pointing at the bad one. */
static void map_new_refused(struct __test_metadata *_metadata,
			    FIXTURE_DATA(vrdma) *self,
			    const struct in6_addr *addr,
			    const struct in6_addr *via, bool bad_via)
{
	struct nlmsghdr *nlh;
	uint32_t offs;

	nlh = map_msg(self, VRDMA_CMD_MAP_NEW, addr, NULL, NULL);
	offs = attr_offs(nlh, mnl_nlmsg_get_payload_tail(nlh));
	mnl_attr_put(nlh, VRDMA_A_MAP_VIA, sizeof(*via), via);
	if (!bad_via)
		offs = GENL_HDRLEN + NLMSG_HDRLEN;	/* addr comes first */
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
	ASSERT_TRUE(self->ans.has_offs);
	ASSERT_EQ(offs, self->ans.offs);
}

TEST_F(vrdma, map_new_bad_addresses)
{
	struct in6_addr good = TEST_ADDR, via = TEST_VIA, bad;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_NEW);
	bad = in6addr_any;
	map_new_refused(_metadata, self, &bad, &via, false);
	bad = v4mapped(0, 0, 0, 0);
	map_new_refused(_metadata, self, &bad, &via, false);
	bad = v4mapped(224, 0, 0, 5);
	map_new_refused(_metadata, self, &bad, &via, false);
	bad = in6addr_loopback;
	map_new_refused(_metadata, self, &bad, &via, false);
	bad = v4mapped(0, 0, 0, 0);
	map_new_refused(_metadata, self, &good, &bad, true);
	bad = (struct in6_addr){ .s6_addr = { 0xfe, 0x80, [15] = 1 } };
	map_new_refused(_metadata, self, &good, &bad, true);
	bad = (struct in6_addr){ .s6_addr = { 0xff, 0x02, [15] = 1 } };
	map_new_refused(_metadata, self, &good, &bad, true);
	bad = v4mapped(255, 255, 255, 255);
	map_new_refused(_metadata, self, &good, &bad, true);
}

TEST_F(vrdma, map_del_no_such_entry)
{
	struct in6_addr addr = TEST_ADDR;
	uint32_t vni = TEST_VNI + 1;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_DEL);
	ASSERT_EQ(0, genl_run(&self->g, map_msg(self, VRDMA_CMD_MAP_DEL, &addr,
						NULL, &vni),
			      NULL, NULL, &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-ENOENT, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

/* MAP_DEL takes no host address. */
TEST_F(vrdma, map_del_with_via)
{
	struct in6_addr addr = TEST_ADDR, via = TEST_VIA;
	struct nlmsghdr *nlh;
	struct nlattr *bad;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_DEL);
	nlh = map_msg(self, VRDMA_CMD_MAP_DEL, &addr, NULL, NULL);
	bad = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put(nlh, VRDMA_A_MAP_VIA, sizeof(via), &via);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	expect_policy_error(_metadata, &self->ans, attr_offs(nlh, bad));
}

/* Anyone may read the map, from any namespace (a new one sees nothing). */
TEST_F(vrdma, map_get_unprivileged)
{
	struct req req = { .cmd = VRDMA_CMD_MAP_GET, .flags = NLM_F_DUMP };

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_GET);
	run_as(_metadata, NOBODY, &req, &self->ans);
	ASSERT_EQ(0, self->ans.err);
	run_as(_metadata, NEW_NETNS, &req, &self->ans);
	ASSERT_EQ(0, self->ans.err);
	ASSERT_EQ(0, self->ans.replies);
}

TEST_F(vrdma, map_del_in_netns)
{
	struct req req = admin_req(VRDMA_CMD_MAP_DEL);

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_MAP_DEL);
	run_as(_metadata, NEW_NETNS, &req, &self->ans);
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EPERM, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

/* DEV_NEW: what the policy cannot say. */

static struct nlmsghdr *dev_new_msg(FIXTURE_DATA(vrdma) *self)
{
	struct nlmsghdr *nlh;

	nlh = genl_msg(&self->g, self->fam.id, VRDMA_CMD_DEV_NEW, 0);
	mnl_attr_put_strz(nlh, VRDMA_A_DEV_NAME, "vrdma_st_x");
	mnl_attr_put_strz(nlh, VRDMA_A_DEV_NETDEV, "lo");
	return nlh;
}

TEST_F(vrdma, dev_new_no_netns)
{
	NEED_ROOT();
	NEED_OP(VRDMA_CMD_DEV_NEW);
	ASSERT_EQ(0, genl_run(&self->g, dev_new_msg(self), NULL, NULL,
			      &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

TEST_F(vrdma, dev_new_both_netns)
{
	struct nlmsghdr *nlh;
	struct nlattr *fd;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_DEV_NEW);
	nlh = dev_new_msg(self);
	mnl_attr_put_u32(nlh, VRDMA_A_DEV_NETNS_PID, getpid());
	fd = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, VRDMA_A_DEV_NETNS_FD, 0);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
	ASSERT_TRUE(self->ans.has_offs);
	ASSERT_EQ(attr_offs(nlh, fd), self->ans.offs);
}

TEST_F(vrdma, dev_new_empty_name)
{
	struct nlmsghdr *nlh;
	struct nlattr *name;

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_DEV_NEW);
	nlh = genl_msg(&self->g, self->fam.id, VRDMA_CMD_DEV_NEW, 0);
	name = put_strz(nlh, VRDMA_A_DEV_NAME, "");
	mnl_attr_put_strz(nlh, VRDMA_A_DEV_NETDEV, "lo");
	mnl_attr_put_u32(nlh, VRDMA_A_DEV_NETNS_PID, getpid());
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EINVAL, self->ans.err);
	ASSERT_TRUE(self->ans.has_offs);
	ASSERT_EQ(attr_offs(nlh, name), self->ans.offs);
}

TEST_F(vrdma, dev_new_in_netns)
{
	struct req req = { .cmd = VRDMA_CMD_DEV_NEW };

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_DEV_NEW);
	run_as(_metadata, NEW_NETNS, &req, &self->ans);
	LOG_ANSWER(&self->ans);
	ASSERT_EQ(-EPERM, self->ans.err);
	ASSERT_NE('\0', self->ans.msg[0]);
}

TEST_F(vrdma, dev_new_name_too_long)
{
	struct nlmsghdr *nlh;
	struct nlattr *name;
	char buf[201];

	NEED_ROOT();
	NEED_OP(VRDMA_CMD_DEV_NEW);
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	nlh = genl_msg(&self->g, self->fam.id, VRDMA_CMD_DEV_NEW, 0);
	name = put_strz(nlh, VRDMA_A_DEV_NAME, buf);
	ASSERT_EQ(0, genl_run(&self->g, nlh, NULL, NULL, &self->ans));
	expect_policy_error(_metadata, &self->ans, attr_offs(nlh, name));
}

/* Load vrdma if it is not (the VM harness leaves that to the tests). */
static void load_module(void)
{
	if (module_loaded() || geteuid() != 0)
		return;
	if (system("modprobe -q vrdma > /dev/null 2>&1"))
		return;	/* main() reports the module missing */
}

int main(int argc, char **argv)
{
	load_module();
	/* A plain run without the module is one skip, not one per test. */
	if (argc == 1 && !module_loaded()) {
		ksft_print_header();
		ksft_exit_skip("vrdma module not loaded\n");
	}
	return test_harness_run(argc, argv);
}
