// SPDX-License-Identifier: GPL-2.0
/*
 * repl_tool: drives the replication engine for the selftests, through
 * libvrdmarepl.
 *
 *   repl_tool cas-chain GROUP N [OFFSET]
 *	N pipelined gCAS on one word: expected i, new i + 1 for i = 0..N-1.
 *	Each succeeds only if every replica applied every earlier one, in
 *	order: every completion must be status 0 and swapped on every
 *	replica, and completions must come in submission order.
 *   repl_tool contend GROUP N [OFFSET]
 *	Increment the word N times with gCAS, retrying with the old value the
 *	replicas report when another client got there first.  Prints
 *	"increments N retries R".
 *   repl_tool shift GROUP N
 *	N pairs (gMEMCPY shifting the first N * 8 bytes by 8, gWRITE of i at
 *	offset 0), pipelined, retried by the engine across failures.  The
 *	region then starts with N, N-1, ..., 1: a lost operation or one
 *	applied twice breaks the sequence (check with "verify-shift").
 *   repl_tool verify-shift FILE N
 *	Check a backing file against what "shift N" leaves.
 *   repl_tool stamp GROUP N OFFSET BASE SECONDS [FOR]
 *	N pipelined gWRITEs: the 64-bit word BASE + i at OFFSET + 8 * i.
 *	Waits at most SECONDS for their completions, then prints
 *	"stamp: K of N completed" and the index of each one completed with
 *	status 0 ("done I"); exit status 0 when all N completed.  With FOR,
 *	a stream: it stops submitting after FOR seconds (N is then at most
 *	the number submitted, which the first line reports).
 *   repl_tool verify-stamp FILE OFFSET BASE < LIST
 *	Check that FILE holds the word of every "done I" line of LIST (the
 *	output of "stamp"); prints "verify-stamp: M of K missing".
 *   repl_tool lat GROUP SIZE N [OFFSET]
 *	N gWRITEs of SIZE bytes, one at a time; prints latency percentiles
 *	(p50 p99 p99.9 in microseconds) and operations/s.
 *   repl_tool bad GROUP
 *	Malformed requests: each must be refused with the expected error.
 *   repl_tool raw-write GROUP OFFSET
 *	One write request straight on netlink; prints the kernel's answer.
 *
 * With REPL_AT=K and REPL_CMD=COMMAND in the environment, cas-chain and
 * shift run COMMAND (sh -c, not waited for) once K operations completed:
 * a failure injected exactly in the middle of the stream.
 *
 * Exit status 0 when every check passed, 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "../../userspace/librepl/vrdma_repl.h"

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("repl_tool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static struct vrdma_repl *open_group(const char *name)
{
	struct vrdma_repl *r;
	int ret = vrdma_repl_open(name, &r);

	if (ret) {
		fail("open %s: %s", name, strerror(-ret));
		exit(1);
	}
	return r;
}

/* Run $REPL_CMD once @done reaches $REPL_AT. */
static void trigger(uint64_t done)
{
	static bool fired;
	const char *at = getenv("REPL_AT"), *cmd = getenv("REPL_CMD");

	if (fired || !at || !cmd || done < strtoull(at, NULL, 0))
		return;
	fired = true;
	printf("%" PRIu64 " operations completed: running '%s'\n", done, cmd);
	fflush(stdout);
	if (fork() == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* cas-chain: N pipelined, dependent compare-and-swaps. */
static int cas_chain(const char *name, uint64_t n, uint64_t off)
{
	struct vrdma_repl *r = open_group(name);
	struct vrdma_repl_completion c[64];
	uint64_t sent = 0, done = 0, nores = 0, t0 = now_ns();
	unsigned int k;
	int got, i, bad = 0;

	while (done < n) {
		while (sent < n && vrdma_repl_inflight(r) < VRDMA_REPL_WINDOW) {
			int ret = vrdma_repl_cas(r, off, sent, sent + 1, sent);

			if (ret)
				return fail("cas: %s", strerror(-ret));
			sent++;
		}
		got = vrdma_repl_poll(r, c, 64, 10000);
		if (got < 0)
			return fail("poll: %s", strerror(-got));
		if (!got)
			return fail("no completion for 10 s (%" PRIu64 " of %" PRIu64 " done)",
				    done, n);
		trigger(done);
		for (i = 0; i < got; i++, done++) {
			if (c[i].cookie != done && bad++ < 5)
				fail("completion %" PRIu64 " came as number %" PRIu64,
				     c[i].cookie, done);
			if (c[i].status && bad++ < 5)
				fail("op %" PRIu64 ": %s", c[i].cookie,
				     strerror(-c[i].status));
			/* Results lost in a failover: rare, reported. */
			if (!c[i].status && !c[i].nres)
				nores++;
			for (k = 0; k < c[i].nres; k++)
				if ((!c[i].res[k].swapped ||
				     c[i].res[k].old != c[i].cookie) && bad++ < 5)
					fail("op %" PRIu64 ": member %u old %" PRIu64 " swapped %d",
					     c[i].cookie, c[i].res[k].member,
					     c[i].res[k].old, c[i].res[k].swapped);
		}
	}
	while (wait(NULL) > 0)
		;
	printf("cas-chain %" PRIu64 " ops in %.2f s, %" PRIu64 " without results\n",
	       n, (now_ns() - t0) / 1e9, nores);
	vrdma_repl_close(r);
	return bad ? 1 : 0;
}

/* contend: increment a shared word N times. */
static int contend(const char *name, uint64_t n, uint64_t off)
{
	struct vrdma_repl *r = open_group(name);
	struct vrdma_repl_completion c;
	uint64_t guess = 0, inc = 0, retries = 0;
	unsigned int k;
	int ret;

	while (inc < n) {
		ret = vrdma_repl_cas(r, off, guess, guess + 1, 0);
		if (ret)
			return fail("cas: %s", strerror(-ret));
		do {
			ret = vrdma_repl_poll(r, &c, 1, 10000);
		} while (ret == 0 && vrdma_repl_inflight(r));
		if (ret <= 0)
			return fail("poll: %s", ret ? strerror(-ret) : "timeout");
		if (c.status)
			return fail("cas: %s", strerror(-c.status));
		if (!c.nres)
			return fail("cas: no result");
		/* Every replica must agree: one order everywhere. */
		for (k = 1; k < c.nres; k++)
			if (c.res[k].old != c.res[0].old ||
			    c.res[k].swapped != c.res[0].swapped)
				return fail("replicas disagree: member %u old %" PRIu64 " vs %" PRIu64,
					    c.res[k].member, c.res[k].old,
					    c.res[0].old);
		if (c.res[0].swapped) {
			inc++;
			guess++;
		} else {
			retries++;
			guess = c.res[0].old;
		}
	}
	printf("increments %" PRIu64 " retries %" PRIu64 "\n", inc, retries);
	vrdma_repl_close(r);
	return 0;
}

/* shift: a replicated shift register; see the top comment. */
static int shift(const char *name, uint64_t n)
{
	struct vrdma_repl *r = open_group(name);
	struct vrdma_repl_completion c[64];
	uint64_t i = 0, done = 0, val;
	int got, k, ret;

	if (n * 8 + 8 > vrdma_repl_size(r))
		return fail("region too small");
	while (done < 2 * n) {
		while (i < n && vrdma_repl_inflight(r) + 2 <= VRDMA_REPL_WINDOW) {
			i++;
			ret = vrdma_repl_memcpy(r, 0, 8, n * 8 - 8, 2 * i);
			if (ret)
				return fail("memcpy: %s", strerror(-ret));
			val = i;	/* little-endian hosts */
			ret = vrdma_repl_write(r, 0, &val, 8, 2 * i + 1);
			if (ret)
				return fail("write: %s", strerror(-ret));
		}
		got = vrdma_repl_poll(r, c, 64, 60000);
		if (got <= 0)
			return fail("poll: %s (%" PRIu64 " of %" PRIu64 " done)",
				    got ? strerror(-got) : "no completion for 60 s",
				    done, 2 * n);
		for (k = 0; k < got; k++, done++)
			if (c[k].status)
				return fail("op %" PRIu64 ": %s", c[k].cookie,
					    strerror(-c[k].status));
		trigger(done);
	}
	while (wait(NULL) > 0)
		;
	printf("shift %" PRIu64 " pairs done\n", n);
	vrdma_repl_close(r);
	return 0;
}

static int verify_shift(const char *path, uint64_t n)
{
	FILE *f = fopen(path, "rb");
	uint64_t i, v;

	if (!f)
		return fail("%s: %s", path, strerror(errno));
	for (i = 0; i < n; i++) {
		if (fread(&v, 8, 1, f) != 1)
			return fail("%s: short file", path);
		if (v != n - i)
			return fail("%s: word %" PRIu64 " is %" PRIu64 ", expected %" PRIu64,
				    path, i, v, n - i);
	}
	fclose(f);
	return 0;
}

/* stamp: distinct words, each completion recorded (see the top comment). */
static int stamp(const char *name, uint64_t n, uint64_t off, uint64_t base,
		 uint64_t seconds, uint64_t submit_for)
{
	struct vrdma_repl *r = open_group(name);
	struct vrdma_repl_completion c[64];
	uint64_t i = 0, done = 0, ok = 0, t0 = now_ns();
	uint64_t end = t0 + seconds * 1000000000ULL;
	uint64_t submit_end = t0 + submit_for * 1000000000ULL;
	uint8_t *good = calloc(n ? n : 1, 1);
	int got, k, ret;

	if (!good)
		return fail("out of memory");
	if (off > vrdma_repl_size(r) || n > (vrdma_repl_size(r) - off) / 8)
		return fail("region too small");
	while (done < n && now_ns() < end) {
		if (submit_for && i < n && now_ns() >= submit_end)
			n = i;		/* the stream ends */
		while (i < n && vrdma_repl_inflight(r) < VRDMA_REPL_WINDOW) {
			uint64_t val = base + i;	/* little-endian hosts */

			ret = vrdma_repl_write(r, off + 8 * i, &val, 8, i);
			if (ret)
				return fail("write: %s", strerror(-ret));
			i++;
		}
		got = vrdma_repl_poll(r, c, 64, 1000);
		if (got < 0)
			return fail("poll: %s", strerror(-got));
		for (k = 0; k < got; k++, done++) {
			if (c[k].cookie < n && !c[k].status && !good[c[k].cookie]) {
				good[c[k].cookie] = 1;
				ok++;
			}
		}
	}
	printf("stamp: %" PRIu64 " of %" PRIu64 " completed\n", ok, n);
	for (i = 0; i < n; i++)
		if (good[i])
			printf("done %" PRIu64 "\n", i);
	free(good);
	/* Whatever is still in flight is abandoned with the process. */
	return ok == n ? 0 : 1;
}

static int verify_stamp(const char *path, uint64_t off, uint64_t base)
{
	FILE *f = fopen(path, "rb");
	uint64_t i, v, k = 0, missing = 0;
	char line[128];

	if (!f)
		return fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "done %" SCNu64, &i) != 1)
			continue;
		k++;
		if (fseek(f, off + 8 * i, SEEK_SET) || fread(&v, 8, 1, f) != 1)
			v = 0;
		if (v != base + i && missing++ < 5)
			fail("%s: operation %" PRIu64 " completed, but the word at %" PRIu64 " is %" PRIu64 ", not %" PRIu64,
			     path, i, off + 8 * i, v, base + i);
	}
	fclose(f);
	printf("verify-stamp: %" PRIu64 " of %" PRIu64 " missing\n", missing, k);
	return missing ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* lat: one gWRITE at a time; latency percentiles. */
static int lat(const char *name, uint32_t size, uint64_t n, uint64_t off)
{
	struct vrdma_repl *r = open_group(name);
	struct vrdma_repl_completion c;
	uint64_t *t = calloc(n, sizeof(*t)), i, t0, total;
	char *buf = malloc(size);
	int ret;

	if (!t || !buf)
		return fail("out of memory");
	memset(buf, 0xa5, size);
	total = now_ns();
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		ret = vrdma_repl_write(r, off, buf, size, i);
		if (ret)
			return fail("write: %s", strerror(-ret));
		do {
			ret = vrdma_repl_poll(r, &c, 1, 10000);
		} while (!ret && vrdma_repl_inflight(r));
		if (ret <= 0 || c.status)
			return fail("write %" PRIu64 ": %s", i,
				    ret < 0 ? strerror(-ret) :
				    !ret ? "timeout" : strerror(-c.status));
		t[i] = now_ns() - t0;
	}
	total = now_ns() - total;
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("size %u n %" PRIu64 " p50_us %.1f p99_us %.1f p999_us %.1f ops_s %.0f\n",
	       size, n, t[n / 2] / 1e3, t[n * 99 / 100] / 1e3,
	       t[n * 999 / 1000] / 1e3, n / (total / 1e9));
	free(t);
	free(buf);
	vrdma_repl_close(r);
	return 0;
}

/* bad: malformed REPL_OP requests, straight on a netlink socket. */
struct raw {
	struct mnl_socket *sock;
	uint16_t family;
	uint32_t seq;
	char buf[200000];
};

static int raw_ack_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	(void)g;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

/* Send @nlh with NLM_F_ACK; returns the kernel's answer (0 or -errno). */
static int raw_request(struct raw *r, struct nlmsghdr *nlh, mnl_cb_t cb,
		       void *data)
{
	int len, ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		len = mnl_socket_recvfrom(r->sock, r->buf, sizeof(r->buf));
		if (len < 0)
			return -errno;
		ret = mnl_cb_run(r->buf, len, r->seq, 0, cb, data);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -errno : 0;
	}
}

static struct nlmsghdr *raw_msg(struct raw *r, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static int expect(const char *what, int got, int want)
{
	if (got == want) {
		printf("ok: %s: %s\n", what, want ? strerror(-want) : "accepted");
		return 0;
	}
	printf("FAIL: %s: got %s, want %s\n", what,
	       got ? strerror(-got) : "success", want ? strerror(-want) : "success");
	return 1;
}

static int bad(const char *name)
{
	static struct raw r;
	struct vrdma_repl *h = open_group(name);
	uint64_t size = vrdma_repl_size(h);
	struct nlmsghdr *nlh;
	int one = 1, errs = 0;
	char big[40000];

	vrdma_repl_close(h);
	r.sock = mnl_socket_open(NETLINK_GENERIC);
	if (!r.sock || mnl_socket_bind(r.sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return fail("netlink: %s", strerror(errno));
	mnl_socket_setsockopt(r.sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r.sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nlh = raw_msg(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VRDMA_FAMILY_NAME);
	if (raw_request(&r, nlh, raw_ack_cb, &r.family) || !r.family)
		return fail("no vrdma family");

#define OP(opc) ({ nlh = raw_msg(&r, r.family, VRDMA_CMD_REPL_OP);	\
		   mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, name);	\
		   mnl_attr_put_u32(nlh, VRDMA_A_REPL_OPCODE, opc); nlh; })

	/* The reference: a valid write is accepted. */
	OP(VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 0);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, 4, "abcd");
	errs += expect("valid write", raw_request(&r, nlh, NULL, NULL), 0);

	OP(VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, size - 2);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, 4, "abcd");
	errs += expect("write across the end of the region",
		       raw_request(&r, nlh, NULL, NULL), -ERANGE);

	OP(VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, UINT64_MAX - 1);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, 4, "abcd");
	errs += expect("write at an offset that overflows",
		       raw_request(&r, nlh, NULL, NULL), -ERANGE);

	OP(VRDMA_REPL_OP_MEMCPY);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_SRC, size - 8);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 0);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_LEN, 16);
	errs += expect("memcpy from beyond the region",
		       raw_request(&r, nlh, NULL, NULL), -ERANGE);

	OP(VRDMA_REPL_OP_CAS);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 4);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_EXPECTED, 0);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_NEW, 1);
	errs += expect("unaligned cas", raw_request(&r, nlh, NULL, NULL),
		       -EINVAL);

	OP(VRDMA_REPL_OP_CAS);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, size);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_EXPECTED, 0);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_NEW, 1);
	errs += expect("cas beyond the region",
		       raw_request(&r, nlh, NULL, NULL), -ERANGE);

	OP(VRDMA_REPL_OP_CAS);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 0);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_EXPECTED, 0);
	errs += expect("cas without new", raw_request(&r, nlh, NULL, NULL),
		       -EINVAL);

	OP(VRDMA_REPL_OP_FLUSH);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, size);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_LEN, 4096);
	errs += expect("flush beyond the region",
		       raw_request(&r, nlh, NULL, NULL), -ERANGE);

	OP(9);
	errs += expect("unknown opcode (policy range)",
		       raw_request(&r, nlh, NULL, NULL), -ERANGE);

	OP(VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 0);
	errs += expect("write without data", raw_request(&r, nlh, NULL, NULL),
		       -EINVAL);

	memset(big, 'x', sizeof(big));
	OP(VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 0);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, sizeof(big), big);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, sizeof(big), big);
	errs += expect("write of more than 64 KiB",
		       raw_request(&r, nlh, NULL, NULL), -EINVAL);

	OP(VRDMA_REPL_OP_MEMCPY);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_SRC, 0);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 8);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_LEN, 8);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, 4, "abcd");
	errs += expect("memcpy carrying data",
		       raw_request(&r, nlh, NULL, NULL), -EINVAL);

	OP(VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_OFFSET, 0);	/* u32, not u64 */
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, 4, "abcd");
	errs += expect("offset of the wrong size",
		       raw_request(&r, nlh, NULL, NULL), -EINVAL);

	OP(VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, 0);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, 4, "abcd");
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_EPOCH, 1);	/* not for this op */
	errs += expect("attribute the operation does not take",
		       raw_request(&r, nlh, NULL, NULL), -EINVAL);

	nlh = raw_msg(&r, r.family, VRDMA_CMD_REPL_OP);
	mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, "no-such-group");
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_OPCODE, VRDMA_REPL_OP_FLUSH);
	errs += expect("unknown group", raw_request(&r, nlh, NULL, NULL),
		       -ENOENT);

	nlh = raw_msg(&r, r.family, VRDMA_CMD_REPL_OP);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_OPCODE, VRDMA_REPL_OP_FLUSH);
	errs += expect("no group name", raw_request(&r, nlh, NULL, NULL),
		       -EINVAL);

	nlh = raw_msg(&r, r.family, VRDMA_CMD_REPL_OP);
	mnl_attr_put(nlh, VRDMA_A_REPL_NAME, 4, "g1g1");	/* no NUL */
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_OPCODE, VRDMA_REPL_OP_FLUSH);
	errs += expect("group name without NUL",
		       raw_request(&r, nlh, NULL, NULL), -EINVAL);

	/* A valid one still works afterwards. */
	OP(VRDMA_REPL_OP_FLUSH);
	errs += expect("valid flush", raw_request(&r, nlh, NULL, NULL), 0);
#undef OP
	mnl_socket_close(r.sock);
	return errs ? 1 : 0;
}

/* raw-write: one REPL_OP write straight on netlink; prints the answer. */
static int raw_write(const char *name, uint64_t off)
{
	static struct raw r;
	struct nlmsghdr *nlh;
	int one = 1, ret;

	r.sock = mnl_socket_open(NETLINK_GENERIC);
	if (!r.sock || mnl_socket_bind(r.sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return fail("netlink: %s", strerror(errno));
	mnl_socket_setsockopt(r.sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nlh = raw_msg(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VRDMA_FAMILY_NAME);
	if (raw_request(&r, nlh, raw_ack_cb, &r.family) || !r.family)
		return fail("no vrdma family");
	nlh = raw_msg(&r, r.family, VRDMA_CMD_REPL_OP);
	mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, name);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_OPCODE, VRDMA_REPL_OP_WRITE);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, off);
	mnl_attr_put(nlh, VRDMA_A_REPL_DATA, 4, "abcd");
	ret = raw_request(&r, nlh, NULL, NULL);
	printf("%s\n", ret ? strerror(-ret) : "accepted");
	mnl_socket_close(r.sock);
	return ret ? 1 : 0;
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (*end) {
		fail("invalid number '%s'", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "cas-chain") && (argc == 4 || argc == 5))
		return cas_chain(argv[2], num(argv[3]),
				 argc == 5 ? num(argv[4]) : 0);
	if (!strcmp(cmd, "contend") && (argc == 4 || argc == 5))
		return contend(argv[2], num(argv[3]),
			       argc == 5 ? num(argv[4]) : 0);
	if (!strcmp(cmd, "shift") && argc == 4)
		return shift(argv[2], num(argv[3]));
	if (!strcmp(cmd, "verify-shift") && argc == 4)
		return verify_shift(argv[2], num(argv[3]));
	if (!strcmp(cmd, "stamp") && (argc == 7 || argc == 8))
		return stamp(argv[2], num(argv[3]), num(argv[4]), num(argv[5]),
			     num(argv[6]), argc == 8 ? num(argv[7]) : 0);
	if (!strcmp(cmd, "verify-stamp") && argc == 5)
		return verify_stamp(argv[2], num(argv[3]), num(argv[4]));
	if (!strcmp(cmd, "lat") && (argc == 5 || argc == 6))
		return lat(argv[2], num(argv[3]), num(argv[4]),
			   argc == 6 ? num(argv[5]) : 0);
	if (!strcmp(cmd, "bad") && argc == 3)
		return bad(argv[2]);
	if (!strcmp(cmd, "raw-write") && argc == 4)
		return raw_write(argv[2], num(argv[3]));
	fprintf(stderr, "usage: repl_tool { cas-chain GROUP N [OFF] | contend GROUP N [OFF] |\n"
		"                  shift GROUP N | verify-shift FILE N |\n"
		"                  stamp GROUP N OFF BASE SECONDS [FOR] |\n"
		"                  verify-stamp FILE OFF BASE < LIST |\n"
		"                  lat GROUP SIZE N [OFF] | bad GROUP }\n");
	return 2;
}
