// SPDX-License-Identifier: GPL-2.0
/*
 * verbs_test: the ibverbs behaviour of one RoCE device that speaks the rxe
 * user ABI (native soft-RoCE, or a vrdma virtual device), exercised through
 * the stock rdma-core provider.  Every test uses one device only: two QPs
 * of the device are connected to each other through the device's own GID
 * (loopback), or a QP talks to itself.
 *
 * Environment:
 *   VERBS_DEV=name          device (default: the first one listed)
 *   VERBS_PORT=n            port (default 1)
 *   VERBS_GID_INDEX=n       GID index (default: the first RoCE v2 GID of an
 *                           IPv4 address, else the first RoCE v2 GID)
 *   VERBS_EXPECT_GID=addr   the GID that index must hold (IPv6 notation,
 *                           e.g. ::ffff:10.244.1.1)
 *   VERBS_EXPECT_NETDEV=if  the netdev that GID must belong to
 *   VERBS_VRDMA=1           the device is a vrdma device: run the checks
 *                           that only vrdma promises (hostile ring
 *                           contents); without it they are skipped,
 *                           because native rxe reads work requests in
 *                           place from the shared rings and trusts them
 *
 * The "ring" tests locate the rings the rxe ABI shares with the process
 * (struct rxe_queue_buf, mmapped from the uverbs file), write work requests
 * into them by hand, and check what the kernel makes of them.
 *
 * Build: see the Makefile (kselftest_harness.h comes from the kernel
 * source, -libverbs).  Run: ./verbs_test [-t TEST] [-f FIXTURE] [-l].
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_user_rxe.h>

#include "kselftest_harness.h"
#include "../lib/rxe_ring.h"

#define BUF_SIZE	(1u << 20)
#define TMO_MS		15000		/* a completion that must come */
#define QUIET_MS	400		/* a completion that must not come */
#define MAX_RES		256
#define QKEY		0x11111111u
#define ACCESS_ALL	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)
#define GRH_LEN		40
#define RECV_SETTLE_US	100000	/* a posted receive has surely reached the device */

/* ------------------------------------------------------------------------ */
/* device and environment */

struct dev {
	struct ibv_context *ctx;
	struct ibv_device_attr attr;
	struct ibv_port_attr pattr;
	union ibv_gid gid;
	int gid_index;
	uint8_t port;
	bool vrdma;
	bool atomics;
	char name[64];
};

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : def;
}

static bool gid_v4mapped(const union ibv_gid *g)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(g->raw, pfx, sizeof(pfx));
}

static const char *gid_str(const union ibv_gid *g, char *buf)
{
	return inet_ntop(AF_INET6, g->raw, buf, INET6_ADDRSTRLEN);
}

static int pick_gid_index(struct ibv_context *ctx, uint8_t port, int len)
{
	struct ibv_gid_entry ent;
	int i, any = -1;

	for (i = 0; i < len; i++) {
		if (ibv_query_gid_ex(ctx, port, i, &ent, 0))
			continue;
		if (ent.gid_type != IBV_GID_TYPE_ROCE_V2)
			continue;
		if (gid_v4mapped(&ent.gid))
			return i;
		if (any < 0)
			any = i;
	}
	return any;
}

/* Open the device of the environment; 0, or -1 with a reason in @why. */
static int dev_open(struct dev *d, char *why, size_t whylen)
{
	const char *want = getenv("VERBS_DEV");
	struct ibv_device **list;
	int i, n;

	memset(d, 0, sizeof(*d));
	d->port = env_int("VERBS_PORT", 1);
	d->vrdma = env_int("VERBS_VRDMA", 0) == 1;
	list = ibv_get_device_list(&n);
	if (!list || !n) {
		snprintf(why, whylen, "no RDMA device");
		if (list)
			ibv_free_device_list(list);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!want || !*want || !strcmp(ibv_get_device_name(list[i]), want))
			break;
	if (i == n) {
		snprintf(why, whylen, "device %s not found", want);
		ibv_free_device_list(list);
		return -1;
	}
	snprintf(d->name, sizeof(d->name), "%s", ibv_get_device_name(list[i]));
	d->ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!d->ctx) {
		snprintf(why, whylen, "ibv_open_device(%s): %s", d->name, strerror(errno));
		return -1;
	}
	if (ibv_query_device(d->ctx, &d->attr) ||
	    ibv_query_port(d->ctx, d->port, &d->pattr)) {
		snprintf(why, whylen, "query device/port of %s failed", d->name);
		goto err;
	}
	d->gid_index = env_int("VERBS_GID_INDEX", -1);
	if (d->gid_index < 0)
		d->gid_index = pick_gid_index(d->ctx, d->port, d->pattr.gid_tbl_len);
	if (d->gid_index < 0 || ibv_query_gid(d->ctx, d->port, d->gid_index, &d->gid)) {
		snprintf(why, whylen, "%s has no usable RoCE v2 GID", d->name);
		goto err;
	}
	d->atomics = d->attr.atomic_cap != IBV_ATOMIC_NONE;
	return 0;
err:
	ibv_close_device(d->ctx);
	d->ctx = NULL;
	return -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* resources, destroyed in reverse order by the fixture's teardown */

enum res_kind { RES_NONE, RES_PD, RES_MR, RES_CQ, RES_QP, RES_SRQ, RES_AH,
		RES_CHAN, RES_MAP };

struct res {
	enum res_kind kind;
	void *p;
	size_t len;
};

struct env {
	struct dev d;
	struct ibv_pd *pd;
	/* the default connected RC pair (fixture rc) */
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	uint8_t *buf[2];
	struct ibv_mr *mr[2];
	int nres;
	struct res res[MAX_RES];
};

static void track(struct env *e, enum res_kind kind, void *p, size_t len)
{
	if (e->nres >= MAX_RES)
		abort();
	e->res[e->nres++] = (struct res){ kind, p, len };
}

static void untrack(struct env *e, void *p)
{
	int i;

	for (i = e->nres - 1; i >= 0; i--)
		if (e->res[i].p == p && e->res[i].kind != RES_NONE) {
			e->res[i].kind = RES_NONE;
			return;
		}
}

static int res_destroy(struct res *r)
{
	switch (r->kind) {
	case RES_PD: return ibv_dealloc_pd(r->p);
	case RES_MR: return ibv_dereg_mr(r->p);
	case RES_CQ: return ibv_destroy_cq(r->p);
	case RES_QP: return ibv_destroy_qp(r->p);
	case RES_SRQ: return ibv_destroy_srq(r->p);
	case RES_AH: return ibv_destroy_ah(r->p);
	case RES_CHAN: return ibv_destroy_comp_channel(r->p);
	case RES_MAP: return munmap(r->p, r->len);
	case RES_NONE: break;
	}
	return 0;
}

static const char *const res_names[] = {
	"none", "pd", "mr", "cq", "qp", "srq", "ah", "channel", "memory"
};

static void *t_mem(struct __test_metadata *_metadata, struct env *e, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	track(e, RES_MAP, p, len);
	return p;
}

static struct ibv_pd *t_pd(struct __test_metadata *_metadata, struct env *e)
{
	struct ibv_pd *pd = ibv_alloc_pd(e->d.ctx);

	ASSERT_NE(NULL, pd) TH_LOG("ibv_alloc_pd: %s", strerror(errno));
	track(e, RES_PD, pd, 0);
	return pd;
}

static struct ibv_mr *t_mr(struct __test_metadata *_metadata, struct env *e,
			   struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, addr, len, access);

	ASSERT_NE(NULL, mr) TH_LOG("ibv_reg_mr(%zu bytes): %s", len, strerror(errno));
	track(e, RES_MR, mr, 0);
	return mr;
}

static struct ibv_cq *t_cq(struct __test_metadata *_metadata, struct env *e,
			   int cqe, struct ibv_comp_channel *ch)
{
	struct ibv_cq *cq = ibv_create_cq(e->d.ctx, cqe, NULL, ch, 0);

	ASSERT_NE(NULL, cq) TH_LOG("ibv_create_cq(%d): %s", cqe, strerror(errno));
	track(e, RES_CQ, cq, 0);
	return cq;
}

struct qp_cfg {
	enum ibv_qp_type type;
	uint32_t send_wr, recv_wr, send_sge, recv_sge, max_inline;
	struct ibv_srq *srq;
	int sq_sig_all;
	uint64_t send_ops;	/* != 0: ibv_create_qp_ex with these ops */
};

static const struct qp_cfg rc_cfg = {
	.type = IBV_QPT_RC, .send_wr = 128, .recv_wr = 128,
	.send_sge = 4, .recv_sge = 4,
};

static struct ibv_qp *t_qp_try(struct env *e, struct ibv_pd *pd,
			       struct ibv_cq *scq, struct ibv_cq *rcq,
			       const struct qp_cfg *c, struct ibv_qp_cap *cap)
{
	struct ibv_qp_init_attr_ex ia = {
		.send_cq = scq, .recv_cq = rcq, .srq = c->srq,
		.qp_type = c->type, .sq_sig_all = c->sq_sig_all,
		.cap = {
			.max_send_wr = c->send_wr, .max_recv_wr = c->srq ? 0 : c->recv_wr,
			.max_send_sge = c->send_sge, .max_recv_sge = c->srq ? 0 : c->recv_sge,
			.max_inline_data = c->max_inline,
		},
		.comp_mask = IBV_QP_INIT_ATTR_PD, .pd = pd,
	};
	struct ibv_qp *qp;

	if (c->send_ops) {
		ia.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		ia.send_ops_flags = c->send_ops;
		qp = ibv_create_qp_ex(e->d.ctx, &ia);
	} else {
		struct ibv_qp_init_attr a = {
			.send_cq = ia.send_cq, .recv_cq = ia.recv_cq, .srq = ia.srq,
			.cap = ia.cap, .qp_type = ia.qp_type,
			.sq_sig_all = ia.sq_sig_all,
		};

		qp = ibv_create_qp(pd, &a);
		ia.cap = a.cap;
	}
	if (qp) {
		track(e, RES_QP, qp, 0);
		if (cap)
			*cap = ia.cap;
	}
	return qp;
}

static struct ibv_qp *t_qp(struct __test_metadata *_metadata, struct env *e,
			   struct ibv_pd *pd, struct ibv_cq *scq,
			   struct ibv_cq *rcq, const struct qp_cfg *c,
			   struct ibv_qp_cap *cap)
{
	struct ibv_qp *qp = t_qp_try(e, pd, scq, rcq, c, cap);

	ASSERT_NE(NULL, qp) TH_LOG("create QP (type %d): %s", c->type, strerror(errno));
	return qp;
}

static void t_destroy(struct __test_metadata *_metadata, struct env *e,
		      enum res_kind kind, void *p)
{
	struct res r = { kind, p, 0 };

	untrack(e, p);
	ASSERT_EQ(0, res_destroy(&r)) TH_LOG("destroying %s: %s", res_names[kind],
					     strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* QP state transitions */

struct conn {
	uint8_t timeout, retry_cnt, rnr_retry;
};

static const struct conn conn_default = { .timeout = 14, .retry_cnt = 7, .rnr_retry = 7 };
/* For tests where the peer may never answer: give up quickly. */
static const struct conn conn_impatient = { .timeout = 12, .retry_cnt = 2, .rnr_retry = 2 };

static int qp_init(struct env *e, struct ibv_qp *qp, int access)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .pkey_index = 0, .port_num = e->d.port,
	};
	int mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT;

	if (qp->qp_type == IBV_QPT_UD) {
		a.qkey = QKEY;
		mask |= IBV_QP_QKEY;
	} else {
		a.qp_access_flags = access;
		mask |= IBV_QP_ACCESS_FLAGS;
	}
	return ibv_modify_qp(qp, &a, mask) ? errno ? errno : -1 : 0;
}

static uint8_t rd_atom(uint32_t dev_max)
{
	return dev_max < 4 ? dev_max : 4;
}

static int qp_rtr(struct env *e, struct ibv_qp *qp, uint32_t dqpn,
		  const union ibv_gid *dgid, uint32_t rq_psn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR, .path_mtu = e->d.pattr.active_mtu,
		.dest_qp_num = dqpn, .rq_psn = rq_psn,
		.max_dest_rd_atomic = rd_atom(e->d.attr.max_qp_rd_atom),
		.min_rnr_timer = 1,
		.ah_attr = {
			.is_global = 1, .port_num = e->d.port,
			.grh = { .dgid = *dgid, .sgid_index = e->d.gid_index,
				 .hop_limit = 64 },
		},
	};
	int mask = IBV_QP_STATE;

	if (qp->qp_type != IBV_QPT_UD)
		mask |= IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN;
	if (qp->qp_type == IBV_QPT_RC)
		mask |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
	return ibv_modify_qp(qp, &a, mask) ? errno ? errno : -1 : 0;
}

static int qp_rts(struct env *e, struct ibv_qp *qp, uint32_t sq_psn,
		  const struct conn *c)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTS, .sq_psn = sq_psn, .timeout = c->timeout,
		.retry_cnt = c->retry_cnt, .rnr_retry = c->rnr_retry,
		.max_rd_atomic = rd_atom(e->d.attr.max_qp_init_rd_atom),
	};
	int mask = IBV_QP_STATE | IBV_QP_SQ_PSN;

	if (qp->qp_type == IBV_QPT_RC)
		mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			IBV_QP_MAX_QP_RD_ATOMIC;
	return ibv_modify_qp(qp, &a, mask) ? errno ? errno : -1 : 0;
}

static int qp_access(struct env *e)
{
	return ACCESS_ALL | (e->d.atomics ? IBV_ACCESS_REMOTE_ATOMIC : 0);
}

#define PSN_A 0x1234
#define PSN_B 0xabcde

/* Connect a and b (RC or UC) through the device's own GID. */
static void connect_pair(struct __test_metadata *_metadata, struct env *e,
			 struct ibv_qp *a, struct ibv_qp *b, const struct conn *c)
{
	ASSERT_EQ(0, qp_init(e, a, qp_access(e)));
	ASSERT_EQ(0, qp_init(e, b, qp_access(e)));
	ASSERT_EQ(0, qp_rtr(e, a, b->qp_num, &e->d.gid, PSN_B))
		TH_LOG("RTR through own GID index %d failed", e->d.gid_index);
	ASSERT_EQ(0, qp_rtr(e, b, a->qp_num, &e->d.gid, PSN_A));
	ASSERT_EQ(0, qp_rts(e, a, PSN_A, c));
	ASSERT_EQ(0, qp_rts(e, b, PSN_B, c));
}

/* A UD QP ready to send and receive. */
static void ud_ready(struct __test_metadata *_metadata, struct env *e, struct ibv_qp *qp)
{
	ASSERT_EQ(0, qp_init(e, qp, 0));
	ASSERT_EQ(0, qp_rtr(e, qp, 0, &e->d.gid, 0));
	ASSERT_EQ(0, qp_rts(e, qp, PSN_A, &conn_default));
}

static struct ibv_ah *t_ah(struct __test_metadata *_metadata, struct env *e,
			   struct ibv_pd *pd, const union ibv_gid *dgid)
{
	struct ibv_ah_attr a = {
		.is_global = 1, .port_num = e->d.port,
		.grh = { .dgid = *dgid, .sgid_index = e->d.gid_index, .hop_limit = 64 },
	};
	struct ibv_ah *ah = ibv_create_ah(pd, &a);

	ASSERT_NE(NULL, ah) TH_LOG("ibv_create_ah: %s", strerror(errno));
	track(e, RES_AH, ah, 0);
	return ah;
}

static enum ibv_qp_state qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;

	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &ia))
		return (enum ibv_qp_state)-1;
	return a.qp_state;
}

/* The state a QP reaches within ms (an error completion may be delivered
 * a moment before the QP's state says so). */
static enum ibv_qp_state wait_state(struct ibv_qp *qp, enum ibv_qp_state want, int ms)
{
	uint64_t end = now_ms() + ms;
	enum ibv_qp_state st;

	while ((st = qp_state(qp)) != want && now_ms() < end)
		usleep(1000);
	return st;
}

/* ------------------------------------------------------------------------ */
/* posting and polling */

static int post_send(struct ibv_qp *qp, uint64_t wr_id, enum ibv_wr_opcode op,
		     unsigned int flags, void *addr, uint32_t len, uint32_t lkey,
		     uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = { (uintptr_t)addr, len, lkey };
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = len ? 1 : 0,
		.opcode = op, .send_flags = flags,
	}, *bad;

	if (op == IBV_WR_RDMA_WRITE || op == IBV_WR_RDMA_WRITE_WITH_IMM ||
	    op == IBV_WR_RDMA_READ) {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	return ibv_post_send(qp, &wr, &bad);
}

static int post_recv(struct ibv_qp *qp, uint64_t wr_id, void *addr,
		     uint32_t len, uint32_t lkey)
{
	struct ibv_sge sge = { (uintptr_t)addr, len, lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = len ? 1 : 0 }, *bad;

	return ibv_post_recv(qp, &wr, &bad);
}

static int post_srq_recv(struct ibv_srq *srq, uint64_t wr_id, void *addr,
			 uint32_t len, uint32_t lkey)
{
	struct ibv_sge sge = { (uintptr_t)addr, len, lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_srq_recv(srq, &wr, &bad);
}

/* Poll until n completions or tmo_ms; returns how many (or -1). */
static int poll_n(struct ibv_cq *cq, struct ibv_wc *wc, int n, int tmo_ms)
{
	uint64_t end = now_ms() + tmo_ms;
	int got = 0, r;

	while (got < n) {
		r = ibv_poll_cq(cq, n - got, wc + got);
		if (r < 0)
			return -1;
		got += r;
		if (got == n)
			break;
		if (now_ms() > end)
			break;
		if (!r)
			usleep(100);
	}
	return got;
}

/* Wait for one completion; fails the test when none comes. */
#define WAIT_WC(cq, wc) \
	ASSERT_EQ(1, poll_n((cq), (wc), 1, TMO_MS)) \
		TH_LOG("no completion within %d ms", TMO_MS)

#define CHECK_WC(wc, id, st, op) do { \
	ASSERT_EQ((st), (wc)->status) \
		TH_LOG("wr_id %#" PRIx64 ": status %s, expected %s", (wc)->wr_id, \
		       ibv_wc_status_str((wc)->status), ibv_wc_status_str(st)); \
	ASSERT_EQ((uint64_t)(id), (wc)->wr_id); \
	if ((st) == IBV_WC_SUCCESS) \
		ASSERT_EQ((op), (wc)->opcode); \
} while (0)

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* Index of the first difference, or -1. */
static long diff_at(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

#define ASSERT_SAME(a, b, len) do { \
	long __d = diff_at((const uint8_t *)(a), (const uint8_t *)(b), (len)); \
	ASSERT_EQ(-1, __d) TH_LOG("data differ at byte %ld of %zu", __d, (size_t)(len)); \
} while (0)

/* An async event of @type on @elem within tmo_ms: 0, else -1.  Other
 * events are logged and acknowledged. */
static int wait_async(struct __test_metadata *_metadata, struct ibv_context *ctx,
		      enum ibv_event_type type, void *elem, int tmo_ms)
{
	uint64_t end = now_ms() + tmo_ms;
	struct ibv_async_event ev;
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	int fl = fcntl(ctx->async_fd, F_GETFL);

	fcntl(ctx->async_fd, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		int left = (int)(end - now_ms());

		if ((int64_t)(end - now_ms()) <= 0)
			return -1;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (ibv_get_async_event(ctx, &ev))
			continue;
		ibv_ack_async_event(&ev);
		if (ev.event_type == type &&
		    (!elem || ev.element.qp == elem || ev.element.cq == elem ||
		     ev.element.srq == elem))
			return 0;
		TH_LOG("async event %s (waiting for %s)", ibv_event_type_str(ev.event_type),
		       ibv_event_type_str(type));
	}
}

/* ------------------------------------------------------------------------ */
/* fixtures */

static void env_setup(struct __test_metadata *_metadata, struct env *e, bool pair)
{
	char why[256];

	memset(e, 0, sizeof(*e));
	if (dev_open(&e->d, why, sizeof(why)))
		SKIP(return, "%s", why);
	e->pd = t_pd(_metadata, e);
	if (!pair)
		return;
	for (int i = 0; i < 2; i++) {
		e->cq[i] = t_cq(_metadata, e, 512, NULL);
		e->buf[i] = t_mem(_metadata, e, BUF_SIZE);
		e->mr[i] = t_mr(_metadata, e, e->pd, e->buf[i], BUF_SIZE,
				qp_access(e));
		e->qp[i] = t_qp(_metadata, e, e->pd, e->cq[i], e->cq[i], &rc_cfg, NULL);
	}
	connect_pair(_metadata, e, e->qp[0], e->qp[1], &conn_default);
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	int i;

	for (i = e->nres - 1; i >= 0; i--) {
		struct res *r = &e->res[i];

		if (r->kind == RES_NONE)
			continue;
		EXPECT_EQ(0, res_destroy(r))
			TH_LOG("teardown: destroying %s: %s", res_names[r->kind],
			       strerror(errno));
	}
	e->nres = 0;
	if (e->d.ctx) {
		EXPECT_EQ(0, ibv_close_device(e->d.ctx));
	}
}

FIXTURE(dev) {
	struct env e;
};
FIXTURE_SETUP(dev) { env_setup(_metadata, &self->e, false); }
FIXTURE_TEARDOWN(dev) { env_teardown(_metadata, &self->e); }

FIXTURE(rc) {
	struct env e;
};
FIXTURE_SETUP(rc) { env_setup(_metadata, &self->e, true); }
FIXTURE_TEARDOWN(rc) { env_teardown(_metadata, &self->e); }

/* Tests that manage their own device context. */
FIXTURE(proc) {
	int unused;
};
FIXTURE_SETUP(proc) { }
FIXTURE_TEARDOWN(proc) { }

/* Emulated machines are slow: 90 s per test unless said otherwise. */
#define TEST_V(fixture, name) TEST_F_TIMEOUT(fixture, name, 90)

/* A second connected RC pair with its own CQs (and buffers of the
 * fixture's), for tests that need special QPs or break them. */
struct pair {
	struct ibv_qp *qp[2];
	struct ibv_cq *cq[2];
	struct ibv_qp_cap cap;
};

static void new_pair(struct __test_metadata *_metadata, struct env *e,
		     struct pair *p, const struct qp_cfg *cfg, const struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		p->cq[i] = t_cq(_metadata, e, 512, NULL);
		p->qp[i] = t_qp(_metadata, e, e->pd, p->cq[i], p->cq[i], cfg, &p->cap);
	}
	connect_pair(_metadata, e, p->qp[0], p->qp[1], c);
}

/* ======================================================================== */
/* device, port, GID, P_Key */

TEST_V(dev, query_device)
{
	struct env *e = &self->e;
	const struct ibv_device_attr *a = &e->d.attr;
	struct ibv_device_attr_ex ax;

	EXPECT_LE(1, a->phys_port_cnt);
	EXPECT_LE(1, a->max_qp);
	EXPECT_LE(1, a->max_cq);
	EXPECT_LE(1, a->max_mr);
	EXPECT_LE(1, a->max_pd);
	EXPECT_LE(64, a->max_cqe);
	EXPECT_LE(64, a->max_qp_wr);
	EXPECT_LE(1, a->max_sge);
	EXPECT_LE(64ull << 20, a->max_mr_size);
	EXPECT_NE(0, a->page_size_cap & 4096);
	EXPECT_LE(e->d.port, a->phys_port_cnt);
	memset(&ax, 0, sizeof(ax));
	ASSERT_EQ(0, ibv_query_device_ex(e->d.ctx, NULL, &ax));
	EXPECT_EQ(a->max_qp, ax.orig_attr.max_qp);
	EXPECT_EQ(a->max_cqe, ax.orig_attr.max_cqe);
	EXPECT_EQ(a->max_mr_size, ax.orig_attr.max_mr_size);
	EXPECT_EQ(a->node_guid, ax.orig_attr.node_guid);
	EXPECT_STREQ(a->fw_ver, ax.orig_attr.fw_ver);
	TH_LOG("%s: max_qp %d max_cqe %d max_qp_wr %d max_sge %d max_srq %d atomic_cap %d",
	       e->d.name, a->max_qp, a->max_cqe, a->max_qp_wr, a->max_sge,
	       a->max_srq, a->atomic_cap);
}

TEST_V(dev, query_port)
{
	struct env *e = &self->e;
	const struct ibv_port_attr *p = &e->d.pattr;
	struct ibv_port_attr bad;

	EXPECT_EQ(IBV_PORT_ACTIVE, p->state);
	EXPECT_EQ(IBV_LINK_LAYER_ETHERNET, p->link_layer);
	EXPECT_LE(IBV_MTU_256, p->active_mtu);
	EXPECT_GE(p->max_mtu, p->active_mtu);
	EXPECT_LE(1, p->gid_tbl_len);
	EXPECT_LE(1, p->pkey_tbl_len);
	EXPECT_LE(1u << 20, p->max_msg_sz);
	EXPECT_NE(0, ibv_query_port(e->d.ctx, e->d.attr.phys_port_cnt + 1, &bad));
}

TEST_V(dev, query_gid)
{
	struct env *e = &self->e;
	const char *want = getenv("VERBS_EXPECT_GID");
	const char *want_if = getenv("VERBS_EXPECT_NETDEV");
	char s[INET6_ADDRSTRLEN], s2[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE];
	struct ibv_gid_entry ent;
	union ibv_gid g, exp;

	ASSERT_EQ(0, ibv_query_gid(e->d.ctx, e->d.port, e->d.gid_index, &g));
	EXPECT_EQ(0, memcmp(&g, &e->d.gid, sizeof(g)));
	memset(&exp, 0, sizeof(exp));
	EXPECT_NE(0, memcmp(&g, &exp, sizeof(g))) TH_LOG("GID %d is zero", e->d.gid_index);
	ASSERT_EQ(0, ibv_query_gid_ex(e->d.ctx, e->d.port, e->d.gid_index, &ent, 0));
	EXPECT_EQ(IBV_GID_TYPE_ROCE_V2, ent.gid_type);
	EXPECT_EQ(0, memcmp(&ent.gid, &g, sizeof(g)));
	TH_LOG("GID %d: %s (netdev ifindex %u)", e->d.gid_index, gid_str(&g, s),
	       ent.ndev_ifindex);
	if (want && *want) {
		ASSERT_EQ(1, inet_pton(AF_INET6, want, exp.raw));
		EXPECT_EQ(0, memcmp(&exp, &g, sizeof(g)))
			TH_LOG("GID %d is %s, expected %s", e->d.gid_index,
			       gid_str(&g, s), gid_str(&exp, s2));
	}
	/* The GID's netdev is one of this network namespace. */
	ASSERT_NE(NULL, if_indextoname(ent.ndev_ifindex, ifname))
		TH_LOG("GID netdev ifindex %u is not in this namespace", ent.ndev_ifindex);
	if (want_if && *want_if) {
		EXPECT_STREQ(want_if, ifname);
	}
	/* Past the table: an error, not garbage. */
	EXPECT_NE(0, ibv_query_gid(e->d.ctx, e->d.port, e->d.pattr.gid_tbl_len, &g));
}

TEST_V(dev, query_pkey)
{
	struct env *e = &self->e;
	uint16_t pkey = 0;

	ASSERT_EQ(0, ibv_query_pkey(e->d.ctx, e->d.port, 0, &pkey));
	EXPECT_EQ(0xffff, ntohs(pkey));
	EXPECT_EQ(0, ibv_get_pkey_index(e->d.ctx, e->d.port, htons(0xffff)));
	EXPECT_NE(0, ibv_query_pkey(e->d.ctx, e->d.port, e->d.pattr.pkey_tbl_len, &pkey));
}

TEST_V(dev, pd_many)
{
	struct env *e = &self->e;
	struct ibv_pd *pd[64];
	int i, j;

	for (i = 0; i < 64; i++) {
		pd[i] = ibv_alloc_pd(e->d.ctx);
		ASSERT_NE(NULL, pd[i]) TH_LOG("PD %d: %s", i, strerror(errno));
		for (j = 0; j < i; j++) {
			ASSERT_NE(pd[j]->handle, pd[i]->handle);
		}
	}
	for (i = 63; i >= 0; i--) {
		ASSERT_EQ(0, ibv_dealloc_pd(pd[i]));
	}
}

TEST_V(dev, mr_reg_dereg)
{
	struct env *e = &self->e;
	uint8_t *m = t_mem(_metadata, e, 4 << 20);
	static const struct { size_t off, len; int access; } c[] = {
		{ 0, 1, IBV_ACCESS_LOCAL_WRITE },
		{ 100, 4096, 0 },
		{ 4096, 1 << 20, ACCESS_ALL },
		{ 12345, 3 << 20, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ },
	};
	struct ibv_mr *mr[4];
	int i, j;

	for (i = 0; i < 4; i++) {
		mr[i] = ibv_reg_mr(e->pd, m + c[i].off, c[i].len, c[i].access);
		ASSERT_NE(NULL, mr[i]) TH_LOG("MR %d: %s", i, strerror(errno));
		EXPECT_EQ(m + c[i].off, mr[i]->addr);
		EXPECT_EQ(c[i].len, mr[i]->length);
		EXPECT_EQ(e->pd, mr[i]->pd);
		for (j = 0; j < i; j++) {
			EXPECT_NE(mr[j]->lkey, mr[i]->lkey);
		}
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, ibv_dereg_mr(mr[i]));
	}
}

TEST_V(dev, mr_reg_errors)
{
	struct env *e = &self->e;
	uint8_t *m = t_mem(_metadata, e, 1 << 20);
	void *hole;
	struct ibv_mr *mr;

	/* Remote write without local write is invalid (IB spec 10.6.3.1). */
	mr = ibv_reg_mr(e->pd, m, 4096, IBV_ACCESS_REMOTE_WRITE);
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	/* Memory that is not mapped. */
	hole = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, 1 << 20));
	mr = ibv_reg_mr(e->pd, hole, 1 << 20, IBV_ACCESS_LOCAL_WRITE);
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	/* And a valid one still works afterwards. */
	t_mr(_metadata, e, e->pd, m, 1 << 20, ACCESS_ALL);
}

TEST_V(dev, cq_sizes)
{
	struct env *e = &self->e;
	int sizes[] = { 1, 15, 256, 4096 };
	struct ibv_cq *cq;

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] > e->d.attr.max_cqe)
			continue;
		cq = ibv_create_cq(e->d.ctx, sizes[i], NULL, NULL, 0);
		ASSERT_NE(NULL, cq) TH_LOG("CQ of %d: %s", sizes[i], strerror(errno));
		EXPECT_LE(sizes[i], cq->cqe);
		ASSERT_EQ(0, ibv_destroy_cq(cq));
	}
	cq = ibv_create_cq(e->d.ctx, e->d.attr.max_cqe + 1, NULL, NULL, 0);
	EXPECT_EQ(NULL, cq) TH_LOG("a CQ larger than max_cqe %d was created", e->d.attr.max_cqe);
	if (cq)
		ibv_destroy_cq(cq);
}

TEST_V(dev, ah_own_gid)
{
	struct env *e = &self->e;
	struct ibv_ah *ah[8];

	for (int i = 0; i < 8; i++)
		ah[i] = t_ah(_metadata, e, e->pd, &e->d.gid);
	for (int i = 0; i < 8; i++)
		t_destroy(_metadata, e, RES_AH, ah[i]);
}

/* ======================================================================== */
/* memory regions in use */

TEST_F_TIMEOUT(rc, mr_huge_64m, 120)
{
	struct env *e = &self->e;
	size_t len = 64u << 20;
	uint8_t *big = t_mem(_metadata, e, len);
	struct ibv_mr *mr = t_mr(_metadata, e, e->pd, big, len, ACCESS_ALL);
	size_t offs[] = { 0, len / 2 + 12345, len - 4096 };
	struct ibv_wc wc;

	for (int i = 0; i < 3; i++) {
		fill(e->buf[0], 4096, 10 + i);
		ASSERT_EQ(0, post_send(e->qp[0], i, IBV_WR_RDMA_WRITE, IBV_SEND_SIGNALED,
				       e->buf[0], 4096, e->mr[0]->lkey,
				       (uintptr_t)big + offs[i], mr->rkey));
		WAIT_WC(e->cq[0], &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
		ASSERT_SAME(big + offs[i], e->buf[0], 4096);
	}
	/* Read the end of the huge MR back into it, locally. */
	memset(e->buf[1], 0, 8192);
	ASSERT_EQ(0, post_send(e->qp[1], 7, IBV_WR_RDMA_READ, IBV_SEND_SIGNALED,
			       big + len - 8192, 8192, mr->lkey,
			       (uintptr_t)e->buf[0], e->mr[0]->rkey));
	WAIT_WC(e->cq[1], &wc);
	CHECK_WC(&wc, 7, IBV_WC_SUCCESS, IBV_WC_RDMA_READ);
	ASSERT_SAME(big + len - 8192, e->buf[0], 8192);
	t_destroy(_metadata, e, RES_MR, mr);
}

TEST_F_TIMEOUT(rc, mr_many, 120)
{
	struct env *e = &self->e;
	int n = e->d.attr.max_mr < 600 ? e->d.attr.max_mr - 10 : 512;
	uint8_t *m = t_mem(_metadata, e, (size_t)n * 4096);
	struct ibv_mr **mr = calloc(n, sizeof(*mr));
	struct ibv_wc wc;
	int i, j;

	ASSERT_NE(NULL, mr);
	for (i = 0; i < n; i++) {
		mr[i] = ibv_reg_mr(e->pd, m + (size_t)i * 4096, 4096, ACCESS_ALL);
		ASSERT_NE(NULL, mr[i]) TH_LOG("MR %d of %d: %s", i, n, strerror(errno));
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			ASSERT_NE(mr[i]->lkey, mr[j]->lkey);
		}
	/* The last one is a valid target, the 300th a valid source. */
	fill(m + 300 * 4096, 4096, 3);
	ASSERT_EQ(0, post_send(e->qp[0], 1, IBV_WR_RDMA_WRITE, IBV_SEND_SIGNALED,
			       m + 300 * 4096, 4096, mr[300]->lkey,
			       (uintptr_t)m + (size_t)(n - 1) * 4096, mr[n - 1]->rkey));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	ASSERT_SAME(m + (size_t)(n - 1) * 4096, m + 300 * 4096, 4096);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, ibv_dereg_mr(mr[i]));
	}
	free(mr);
}

/* ======================================================================== */
/* RC data path */

TEST_V(rc, send_recv)
{
	struct env *e = &self->e;
	uint32_t sizes[] = { 0, 1, 4096, 65536, 1000000 };
	struct ibv_wc wc;

	for (int i = 0; i < 5; i++) {
		fill(e->buf[0], sizes[i], i);
		memset(e->buf[1], 0xee, BUF_SIZE);
		ASSERT_EQ(0, post_recv(e->qp[1], 100 + i, e->buf[1], BUF_SIZE, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(e->qp[0], i, IBV_WR_SEND, IBV_SEND_SIGNALED,
				       e->buf[0], sizes[i], e->mr[0]->lkey, 0, 0));
		WAIT_WC(e->cq[0], &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_SEND);
		EXPECT_EQ(e->qp[0]->qp_num, wc.qp_num);
		WAIT_WC(e->cq[1], &wc);
		CHECK_WC(&wc, 100 + i, IBV_WC_SUCCESS, IBV_WC_RECV);
		EXPECT_EQ(sizes[i], wc.byte_len);
		EXPECT_EQ(e->qp[1]->qp_num, wc.qp_num);
		EXPECT_EQ(0, wc.wc_flags & IBV_WC_WITH_IMM);
		ASSERT_SAME(e->buf[1], e->buf[0], sizes[i]);
		/* Nothing written past the message. */
		ASSERT_EQ(0xee, e->buf[1][sizes[i]]);
	}
}

TEST_V(rc, send_with_imm)
{
	struct env *e = &self->e;
	struct ibv_sge sge = { (uintptr_t)e->buf[0], 300, e->mr[0]->lkey };
	struct ibv_send_wr wr = {
		.wr_id = 5, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND_WITH_IMM, .send_flags = IBV_SEND_SIGNALED,
		.imm_data = htonl(0x12345678),
	}, *bad;
	struct ibv_wc wc;

	fill(e->buf[0], 300, 9);
	ASSERT_EQ(0, post_recv(e->qp[1], 6, e->buf[1], 4096, e->mr[1]->lkey));
	ASSERT_EQ(0, ibv_post_send(e->qp[0], &wr, &bad));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 5, IBV_WC_SUCCESS, IBV_WC_SEND);
	WAIT_WC(e->cq[1], &wc);
	CHECK_WC(&wc, 6, IBV_WC_SUCCESS, IBV_WC_RECV);
	ASSERT_NE(0, wc.wc_flags & IBV_WC_WITH_IMM);
	EXPECT_EQ(htonl(0x12345678), wc.imm_data);
	EXPECT_EQ(300, wc.byte_len);
	ASSERT_SAME(e->buf[1], e->buf[0], 300);
}

TEST_V(rc, rdma_write)
{
	struct env *e = &self->e;
	uint32_t sizes[] = { 1, 1500, 65536, 500000 };
	uint32_t off = 777;
	struct ibv_wc wc;

	/* A receive is posted: an RDMA WRITE must not consume it. */
	ASSERT_EQ(0, post_recv(e->qp[1], 50, e->buf[1] + BUF_SIZE - 4096, 4096, e->mr[1]->lkey));
	for (int i = 0; i < 4; i++) {
		fill(e->buf[0], sizes[i], 20 + i);
		memset(e->buf[1], 0, off + sizes[i] + 1);
		ASSERT_EQ(0, post_send(e->qp[0], i, IBV_WR_RDMA_WRITE, IBV_SEND_SIGNALED,
				       e->buf[0], sizes[i], e->mr[0]->lkey,
				       (uintptr_t)e->buf[1] + off, e->mr[1]->rkey));
		WAIT_WC(e->cq[0], &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
		ASSERT_SAME(e->buf[1] + off, e->buf[0], sizes[i]);
		ASSERT_EQ(0, e->buf[1][off - 1]);
		ASSERT_EQ(0, e->buf[1][off + sizes[i]]);
	}
	EXPECT_EQ(0, poll_n(e->cq[1], &wc, 1, QUIET_MS))
		TH_LOG("RDMA WRITE produced a receive completion");
}

TEST_V(rc, rdma_write_with_imm)
{
	struct env *e = &self->e;
	struct ibv_sge sge = { (uintptr_t)e->buf[0], 5000, e->mr[0]->lkey };
	struct ibv_send_wr wr = {
		.wr_id = 1, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE_WITH_IMM, .send_flags = IBV_SEND_SIGNALED,
		.imm_data = htonl(0xcafef00d),
		.wr.rdma = { (uintptr_t)e->buf[1] + 64, e->mr[1]->rkey },
	}, *bad;
	struct ibv_recv_wr rwr = { .wr_id = 2 }, *rbad;
	struct ibv_wc wc;

	fill(e->buf[0], 5000, 33);
	/* A receive without scatter elements: the data goes to the rkey. */
	ASSERT_EQ(0, ibv_post_recv(e->qp[1], &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(e->qp[0], &wr, &bad));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	WAIT_WC(e->cq[1], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_RECV_RDMA_WITH_IMM);
	ASSERT_NE(0, wc.wc_flags & IBV_WC_WITH_IMM);
	EXPECT_EQ(htonl(0xcafef00d), wc.imm_data);
	EXPECT_EQ(5000, wc.byte_len);
	EXPECT_EQ(e->qp[1]->qp_num, wc.qp_num);
	ASSERT_SAME(e->buf[1] + 64, e->buf[0], 5000);
}

TEST_V(rc, rdma_read)
{
	struct env *e = &self->e;
	uint32_t sizes[] = { 1, 4097, 65536, 300000 };
	struct ibv_wc wc;

	if (!e->d.attr.max_qp_rd_atom || !e->d.attr.max_qp_init_rd_atom)
		SKIP(return, "device allows no RDMA READ (max_qp_rd_atom 0)");
	for (int i = 0; i < 4; i++) {
		fill(e->buf[1] + 3, sizes[i], 40 + i);
		memset(e->buf[0], 0, sizes[i] + 1);
		ASSERT_EQ(0, post_send(e->qp[0], i, IBV_WR_RDMA_READ, IBV_SEND_SIGNALED,
				       e->buf[0], sizes[i], e->mr[0]->lkey,
				       (uintptr_t)e->buf[1] + 3, e->mr[1]->rkey));
		WAIT_WC(e->cq[0], &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_RDMA_READ);
		ASSERT_SAME(e->buf[0], e->buf[1] + 3, sizes[i]);
		ASSERT_EQ(0, e->buf[0][sizes[i]]);
	}
}

static void post_atomic(struct __test_metadata *_metadata, struct env *e,
			uint64_t id, enum ibv_wr_opcode op, void *local,
			uint64_t *remote, uint64_t cmp_add, uint64_t swap)
{
	struct ibv_sge sge = { (uintptr_t)local, 8, e->mr[0]->lkey };
	struct ibv_send_wr wr = {
		.wr_id = id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.atomic = { (uintptr_t)remote, cmp_add, swap, e->mr[1]->rkey },
	}, *bad;

	ASSERT_EQ(0, ibv_post_send(e->qp[0], &wr, &bad));
}

TEST_V(rc, atomic_cmp_and_swp)
{
	struct env *e = &self->e;
	uint64_t *remote = (uint64_t *)(e->buf[1] + 4096);
	uint8_t *local = e->buf[0] + 64;
	uint64_t before = 0x1122334455667788ull, swap = 0xa5a5a5a55a5a5a5aull, now;
	struct ibv_wc wc;

	if (!e->d.atomics)
		SKIP(return, "device has no atomics (atomic_cap NONE)");
	*remote = before;
	memset(local, 0xcc, 16);
	/* Compare matches: swapped, old value returned. */
	post_atomic(_metadata, e, 1, IBV_WR_ATOMIC_CMP_AND_SWP, local, remote, before, swap);
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_COMP_SWAP);
	EXPECT_EQ(8, wc.byte_len);
	ASSERT_EQ(0, memcmp(local, &before, 8));
	ASSERT_EQ(0xcc, local[8]);
	now = *(volatile uint64_t *)remote;
	ASSERT_EQ(swap, now);
	/* Compare fails: unchanged, current value returned. */
	post_atomic(_metadata, e, 2, IBV_WR_ATOMIC_CMP_AND_SWP, local, remote, before, 42);
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_COMP_SWAP);
	ASSERT_EQ(0, memcmp(local, &swap, 8));
	now = *(volatile uint64_t *)remote;
	ASSERT_EQ(swap, now);
}

TEST_V(rc, atomic_fetch_and_add)
{
	struct env *e = &self->e;
	uint64_t *remote = (uint64_t *)(e->buf[1] + 8192 + 8);
	uint8_t *local = e->buf[0] + 128;
	uint64_t v0 = 0xfffffffffffffffeull, v1 = 1, v2 = 0x100000001ull, now;
	struct ibv_wc wc;

	if (!e->d.atomics)
		SKIP(return, "device has no atomics (atomic_cap NONE)");
	*remote = v0;
	post_atomic(_metadata, e, 1, IBV_WR_ATOMIC_FETCH_AND_ADD, local, remote, 3, 0);
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_FETCH_ADD);
	ASSERT_EQ(0, memcmp(local, &v0, 8));
	now = *(volatile uint64_t *)remote;
	ASSERT_EQ(v1, now);	/* wrapped */
	post_atomic(_metadata, e, 2, IBV_WR_ATOMIC_FETCH_AND_ADD, local, remote, 0x100000000ull, 0);
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_FETCH_ADD);
	ASSERT_EQ(0, memcmp(local, &v1, 8));
	now = *(volatile uint64_t *)remote;
	ASSERT_EQ(v2, now);
}

TEST_V(rc, inline_send)
{
	struct env *e = &self->e;
	struct qp_cfg cfg = rc_cfg;
	struct pair p;
	uint32_t max = 0, lens[6];
	uint8_t *data;
	struct ibv_wc wc;
	int i;

	/* The largest inline size the device accepts. */
	for (uint32_t want = 1024; want >= 16; want /= 2) {
		struct ibv_qp *q;

		cfg.max_inline = want;
		q = t_qp_try(e, e->pd, e->cq[0], e->cq[0], &cfg, &p.cap);
		if (!q)
			continue;
		t_destroy(_metadata, e, RES_QP, q);
		max = p.cap.max_inline_data;
		ASSERT_LE(want, max);
		break;
	}
	if (!max)
		SKIP(return, "device supports no inline data");
	cfg.max_inline = max;
	new_pair(_metadata, e, &p, &cfg, &conn_default);
	TH_LOG("max_inline_data %u", max);
	lens[0] = 1; lens[1] = 7; lens[2] = 64; lens[3] = max / 2; lens[4] = max - 1; lens[5] = max;
	/* Inline data comes from unregistered memory, with no valid lkey. */
	data = malloc(max + 1);
	ASSERT_NE(NULL, data);
	for (i = 0; i < 6; i++) {
		fill(data, lens[i], 60 + i);
		ASSERT_EQ(0, post_recv(p.qp[1], i, e->buf[1], 4096, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(p.qp[0], i, IBV_WR_SEND,
				       IBV_SEND_SIGNALED | IBV_SEND_INLINE,
				       data, lens[i], 0, 0, 0));
		/* The buffer may be reused as soon as the post returns. */
		memset(data, 0, lens[i]);
		WAIT_WC(p.cq[0], &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_SEND);
		WAIT_WC(p.cq[1], &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_RECV);
		ASSERT_EQ(lens[i], wc.byte_len);
		fill(data, lens[i], 60 + i);
		ASSERT_SAME(e->buf[1], data, lens[i]);
	}
	/* Inline RDMA WRITE. */
	fill(data, max, 77);
	ASSERT_EQ(0, post_send(p.qp[0], 10, IBV_WR_RDMA_WRITE,
			       IBV_SEND_SIGNALED | IBV_SEND_INLINE, data, max, 0,
			       (uintptr_t)e->buf[1] + 9000, e->mr[1]->rkey));
	WAIT_WC(p.cq[0], &wc);
	CHECK_WC(&wc, 10, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	ASSERT_SAME(e->buf[1] + 9000, data, max);
	/* One byte too many is refused at post time. */
	EXPECT_NE(0, post_send(p.qp[0], 11, IBV_WR_SEND, IBV_SEND_SIGNALED | IBV_SEND_INLINE,
			       data, max + 1, 0, 0, 0));
	free(data);
}

TEST_V(rc, unsignaled_sends)
{
	struct env *e = &self->e;
	struct qp_cfg cfg = rc_cfg;
	struct ibv_wc wc[64];
	struct pair p;
	int i;

	cfg.sq_sig_all = 0;
	new_pair(_metadata, e, &p, &cfg, &conn_default);
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0, post_recv(p.qp[1], i, e->buf[1] + i * 64, 64, e->mr[1]->lkey));
	}
	for (i = 0; i < 64; i++) {
		uint32_t *m = (uint32_t *)(e->buf[0] + i * 64);

		m[0] = 0x5e000000 + i;
		ASSERT_EQ(0, post_send(p.qp[0], i, IBV_WR_SEND,
				       i % 16 == 15 ? IBV_SEND_SIGNALED : 0,
				       m, 32, e->mr[0]->lkey, 0, 0));
	}
	ASSERT_EQ(64, poll_n(p.cq[1], wc, 64, TMO_MS));
	for (i = 0; i < 64; i++) {
		CHECK_WC(&wc[i], i, IBV_WC_SUCCESS, IBV_WC_RECV);
		ASSERT_EQ(0x5e000000u + i, *(uint32_t *)(e->buf[1] + i * 64));
	}
	ASSERT_EQ(4, poll_n(p.cq[0], wc, 4, TMO_MS));
	for (i = 0; i < 4; i++)
		CHECK_WC(&wc[i], i * 16 + 15, IBV_WC_SUCCESS, IBV_WC_SEND);
	EXPECT_EQ(0, poll_n(p.cq[0], wc, 1, QUIET_MS))
		TH_LOG("unsignaled send %#" PRIx64 " completed", wc[0].wr_id);
	/* The send queue is not leaked: many more rounds fit. */
	for (int round = 0; round < 4; round++) {
		for (i = 0; i < 64; i++) {
			ASSERT_EQ(0, post_recv(p.qp[1], i, e->buf[1], 64, e->mr[1]->lkey));
		}
		for (i = 0; i < 64; i++) {
			ASSERT_EQ(0, post_send(p.qp[0], i, IBV_WR_SEND,
					       i == 63 ? IBV_SEND_SIGNALED : 0,
					       e->buf[0], 8, e->mr[0]->lkey, 0, 0))
				TH_LOG("round %d send %d", round, i);
		}
		ASSERT_EQ(64, poll_n(p.cq[1], wc, 64, TMO_MS));
		ASSERT_EQ(1, poll_n(p.cq[0], wc, 1, TMO_MS));
		CHECK_WC(&wc[0], 63, IBV_WC_SUCCESS, IBV_WC_SEND);
	}
}

TEST_V(rc, multi_sge)
{
	struct env *e = &self->e;
	uint8_t *src = e->buf[0], *dst = e->buf[1];
	uint8_t *extra = t_mem(_metadata, e, 8192), expect[1024];
	struct ibv_mr *xmr = t_mr(_metadata, e, e->pd, extra, 8192, ACCESS_ALL);
	struct ibv_sge s[4] = {
		{ (uintptr_t)src, 100, e->mr[0]->lkey },
		{ (uintptr_t)src + 1000, 200, e->mr[0]->lkey },
		{ (uintptr_t)extra + 10, 300, xmr->lkey },
		{ (uintptr_t)src + 5000, 424, e->mr[0]->lkey },
	};
	struct ibv_sge r[3] = {
		{ (uintptr_t)dst, 500, e->mr[1]->lkey },
		{ (uintptr_t)dst + 10000, 24, e->mr[1]->lkey },
		{ (uintptr_t)dst + 20000, 2048, e->mr[1]->lkey },
	};
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = s, .num_sge = 4,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_recv_wr rwr = { .wr_id = 2, .sg_list = r, .num_sge = 3 }, *rbad;
	struct ibv_wc wc;
	size_t o = 0;
	int i;

	if (e->d.attr.max_sge < 4)
		SKIP(return, "max_sge %d < 4", e->d.attr.max_sge);
	for (i = 0; i < 4; i++) {
		fill((uint8_t *)(uintptr_t)s[i].addr, s[i].length, 80 + i);
		memcpy(expect + o, (void *)(uintptr_t)s[i].addr, s[i].length);
		o += s[i].length;
	}
	memset(dst, 0, 30000);
	ASSERT_EQ(0, ibv_post_recv(e->qp[1], &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(e->qp[0], &wr, &bad));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_SEND);
	WAIT_WC(e->cq[1], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_RECV);
	ASSERT_EQ(1024, wc.byte_len);
	ASSERT_SAME(dst, expect, 500);
	ASSERT_SAME(dst + 10000, expect + 500, 24);
	ASSERT_SAME(dst + 20000, expect + 524, 500);
	ASSERT_EQ(0, dst[20000 + 500]);

	/* Gathering RDMA WRITE (3 elements) to one place. */
	wr.wr_id = 3;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.num_sge = 3;
	wr.wr.rdma.remote_addr = (uintptr_t)dst + 40000;
	wr.wr.rdma.rkey = e->mr[1]->rkey;
	ASSERT_EQ(0, ibv_post_send(e->qp[0], &wr, &bad));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 3, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	ASSERT_SAME(dst + 40000, expect, 600);

	/* Scattering RDMA READ (2 elements). */
	if (!e->d.attr.max_qp_rd_atom)
		return;
	fill(dst + 50000, 700, 90);
	r[0] = (struct ibv_sge){ (uintptr_t)src + 60000, 250, e->mr[0]->lkey };
	r[1] = (struct ibv_sge){ (uintptr_t)extra + 4000, 450, xmr->lkey };
	wr = (struct ibv_send_wr){ .wr_id = 4, .sg_list = r, .num_sge = 2,
				   .opcode = IBV_WR_RDMA_READ, .send_flags = IBV_SEND_SIGNALED,
				   .wr.rdma = { (uintptr_t)dst + 50000, e->mr[1]->rkey } };
	ASSERT_EQ(0, ibv_post_send(e->qp[0], &wr, &bad));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 4, IBV_WC_SUCCESS, IBV_WC_RDMA_READ);
	ASSERT_SAME(src + 60000, dst + 50000, 250);
	ASSERT_SAME(extra + 4000, dst + 50250, 450);
}

TEST_F_TIMEOUT(rc, pipelined_send_1000, 180)
{
	struct env *e = &self->e;
	const int total = 1000, window = 64, rdepth = 120;
	int posted = 0, sent = 0, recvd = 0, rposted = 0, n, i;
	uint64_t end = now_ms() + 120000;
	struct ibv_wc wc[64];	/* >= window */

	/* Receives are reposted as they complete (slot = wr_id % rdepth). */
	for (; rposted < rdepth; rposted++) {
		ASSERT_EQ(0, post_recv(e->qp[1], rposted, e->buf[1] + (rposted % rdepth) * 256,
				       256, e->mr[1]->lkey));
	}
	while (recvd < total) {
		ASSERT_GT(end, now_ms()) TH_LOG("stuck: %d posted, %d sent, %d received",
						 posted, sent, recvd);
		while (posted < total && posted - sent < window) {
			uint32_t *m = (uint32_t *)(e->buf[0] + (posted % 256) * 256);

			m[0] = posted;
			m[1] = ~posted;
			ASSERT_EQ(0, post_send(e->qp[0], posted, IBV_WR_SEND, IBV_SEND_SIGNALED,
					       m, 8 + posted % 200, e->mr[0]->lkey, 0, 0));
			posted++;
		}
		n = ibv_poll_cq(e->cq[0], 32, wc);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++, sent++)
			CHECK_WC(&wc[i], sent, IBV_WC_SUCCESS, IBV_WC_SEND);
		n = ibv_poll_cq(e->cq[1], 32, wc);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++, recvd++) {
			uint32_t *m = (uint32_t *)(e->buf[1] + (wc[i].wr_id % rdepth) * 256);

			CHECK_WC(&wc[i], recvd, IBV_WC_SUCCESS, IBV_WC_RECV);
			ASSERT_EQ(8 + recvd % 200, (int)wc[i].byte_len);
			ASSERT_EQ((uint32_t)recvd, m[0]);
			ASSERT_EQ(~(uint32_t)recvd, m[1]);
			if (rposted < total) {
				ASSERT_EQ(0, post_recv(e->qp[1], rposted,
						       e->buf[1] + (rposted % rdepth) * 256,
						       256, e->mr[1]->lkey));
				rposted++;
			}
		}
	}
	ASSERT_EQ(total - sent, poll_n(e->cq[0], wc, total - sent, TMO_MS));
}

TEST_F_TIMEOUT(rc, pipelined_write_1000, 180)
{
	struct env *e = &self->e;
	const int total = 1000, window = 100;
	int posted = 0, done = 0, n, i;
	uint64_t end = now_ms() + 120000;
	struct ibv_wc wc[32];

	fill(e->buf[0], 64 * total, 5);
	memset(e->buf[1], 0, 64 * total);
	while (done < total) {
		ASSERT_GT(end, now_ms()) TH_LOG("stuck: %d posted, %d done", posted, done);
		while (posted < total && posted - done < window) {
			ASSERT_EQ(0, post_send(e->qp[0], posted, IBV_WR_RDMA_WRITE,
					       IBV_SEND_SIGNALED, e->buf[0] + posted * 64, 64,
					       e->mr[0]->lkey,
					       (uintptr_t)e->buf[1] + posted * 64, e->mr[1]->rkey));
			posted++;
		}
		n = ibv_poll_cq(e->cq[0], 32, wc);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++, done++)
			CHECK_WC(&wc[i], done, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	}
	ASSERT_SAME(e->buf[1], e->buf[0], 64 * total);
}

/* The ibv_wr_* API (ibv_create_qp_ex with send_ops_flags). */
TEST_V(rc, wr_api)
{
	struct env *e = &self->e;
	struct qp_cfg cfg = rc_cfg;
	struct ibv_qp *qp, *peer;
	struct ibv_qp_ex *qpx;
	struct ibv_cq *cq = t_cq(_metadata, e, 64, NULL), *pcq = t_cq(_metadata, e, 64, NULL);
	uint8_t inl[100];
	struct ibv_sge sl[2];
	struct ibv_wc wc[8];
	uint64_t *remote = (uint64_t *)(e->buf[1] + 65536), v = 1000;
	int n;

	cfg.max_inline = 128;
	cfg.send_ops = IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM |
		       IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM |
		       IBV_QP_EX_WITH_RDMA_READ;
	if (e->d.atomics)
		cfg.send_ops |= IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD |
				IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP;
	qp = t_qp(_metadata, e, e->pd, cq, cq, &cfg, NULL);
	qpx = ibv_qp_to_qp_ex(qp);
	ASSERT_NE(NULL, qpx);
	peer = t_qp(_metadata, e, e->pd, pcq, pcq, &rc_cfg, NULL);
	connect_pair(_metadata, e, qp, peer, &conn_default);

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, post_recv(peer, 100 + i, e->buf[1] + i * 4096, 4096, e->mr[1]->lkey));
	}
	fill(e->buf[0], 8192, 1);
	fill(inl, sizeof(inl), 2);
	fill(e->buf[1] + 200000, 3000, 3);
	*remote = v;

	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, e->mr[1]->rkey, (uintptr_t)e->buf[1] + 100000);
	ibv_wr_set_sge(qpx, e->mr[0]->lkey, (uintptr_t)e->buf[0], 2048);
	/* The rxe ABI marks inline data with IBV_SEND_INLINE only. */
	qpx->wr_id = 2;
	qpx->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ibv_wr_send(qpx);
	ibv_wr_set_inline_data(qpx, inl, sizeof(inl));
	/* Equal lengths: librxe v44 sums the first element num_sge times. */
	qpx->wr_id = 3;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send_imm(qpx, htonl(0xabcd));
	sl[0] = (struct ibv_sge){ (uintptr_t)e->buf[0] + 4096, 512, e->mr[0]->lkey };
	sl[1] = (struct ibv_sge){ (uintptr_t)e->buf[0] + 6000, 512, e->mr[0]->lkey };
	ibv_wr_set_sge_list(qpx, 2, sl);
	qpx->wr_id = 4;
	ibv_wr_rdma_read(qpx, e->mr[1]->rkey, (uintptr_t)e->buf[1] + 200000);
	ibv_wr_set_sge(qpx, e->mr[0]->lkey, (uintptr_t)e->buf[0] + 300000, 3000);
	qpx->wr_id = 5;
	ibv_wr_rdma_write_imm(qpx, e->mr[1]->rkey, (uintptr_t)e->buf[1] + 400000, htonl(77));
	ibv_wr_set_sge(qpx, e->mr[0]->lkey, (uintptr_t)e->buf[0], 100);
	n = 5;
	if (e->d.atomics) {
		qpx->wr_id = 6;
		ibv_wr_atomic_fetch_add(qpx, e->mr[1]->rkey, (uintptr_t)remote, 11);
		ibv_wr_set_sge(qpx, e->mr[0]->lkey, (uintptr_t)e->buf[0] + 500000, 8);
		n = 6;
	}
	ASSERT_EQ(0, ibv_wr_complete(qpx));

	ASSERT_EQ(n, poll_n(cq, wc, n, TMO_MS));
	CHECK_WC(&wc[0], 1, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	CHECK_WC(&wc[1], 2, IBV_WC_SUCCESS, IBV_WC_SEND);
	CHECK_WC(&wc[2], 3, IBV_WC_SUCCESS, IBV_WC_SEND);
	CHECK_WC(&wc[3], 4, IBV_WC_SUCCESS, IBV_WC_RDMA_READ);
	CHECK_WC(&wc[4], 5, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	if (n == 6)
		CHECK_WC(&wc[5], 6, IBV_WC_SUCCESS, IBV_WC_FETCH_ADD);
	ASSERT_EQ(3, poll_n(pcq, wc, 3, TMO_MS));
	CHECK_WC(&wc[0], 100, IBV_WC_SUCCESS, IBV_WC_RECV);
	ASSERT_EQ(sizeof(inl), wc[0].byte_len);
	CHECK_WC(&wc[1], 101, IBV_WC_SUCCESS, IBV_WC_RECV);
	ASSERT_EQ(1024, wc[1].byte_len);
	ASSERT_NE(0, wc[1].wc_flags & IBV_WC_WITH_IMM);
	ASSERT_EQ(htonl(0xabcd), wc[1].imm_data);
	CHECK_WC(&wc[2], 102, IBV_WC_SUCCESS, IBV_WC_RECV_RDMA_WITH_IMM);
	ASSERT_EQ(htonl(77), wc[2].imm_data);

	ASSERT_SAME(e->buf[1] + 100000, e->buf[0], 2048);
	ASSERT_SAME(e->buf[1], inl, sizeof(inl));
	ASSERT_SAME(e->buf[1] + 4096, e->buf[0] + 4096, 512);
	ASSERT_SAME(e->buf[1] + 4096 + 512, e->buf[0] + 6000, 512);
	ASSERT_SAME(e->buf[0] + 300000, e->buf[1] + 200000, 3000);
	ASSERT_SAME(e->buf[1] + 400000, e->buf[0], 100);
	if (n == 6) {
		ASSERT_EQ(0, memcmp(e->buf[0] + 500000, &v, 8));
		ASSERT_EQ(v + 11, *(volatile uint64_t *)remote);
	}

	/* ibv_wr_abort: nothing is sent. */
	ASSERT_EQ(0, post_recv(peer, 200, e->buf[1], 4096, e->mr[1]->lkey));
	ibv_wr_start(qpx);
	qpx->wr_id = 7;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, e->mr[0]->lkey, (uintptr_t)e->buf[0], 10);
	ibv_wr_abort(qpx);
	EXPECT_EQ(0, poll_n(pcq, wc, 1, QUIET_MS)) TH_LOG("an aborted WR was sent");
	EXPECT_EQ(0, poll_n(cq, wc, 1, 1)) TH_LOG("an aborted WR completed");
	ibv_wr_start(qpx);
	qpx->wr_id = 8;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, e->mr[0]->lkey, (uintptr_t)e->buf[0], 20);
	ASSERT_EQ(0, ibv_wr_complete(qpx));
	WAIT_WC(cq, wc);
	CHECK_WC(&wc[0], 8, IBV_WC_SUCCESS, IBV_WC_SEND);
	WAIT_WC(pcq, wc);
	CHECK_WC(&wc[0], 200, IBV_WC_SUCCESS, IBV_WC_RECV);
	ASSERT_EQ(20, wc[0].byte_len);
}

/* ======================================================================== */
/* UD */

/* The receive buffer's first 40 bytes hold the GRH; for RoCE v2 over IPv4
 * it is 20 bytes of zeros and the IPv4 header. */
static void check_grh(struct __test_metadata *_metadata, const uint8_t *grh,
		      const union ibv_gid *src, const union ibv_gid *dst)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	union ibv_gid s, d;

	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	if (gid_v4mapped(src)) {
		const uint8_t *ip = grh + 20;

		/* Not the header checksum: rxe never computes it for the
		 * packets it loops back (they skip ip_local_out()). */
		ASSERT_EQ(0x45, ip[0]) TH_LOG("no IPv4 header in the GRH area");
		EXPECT_EQ(17, ip[9]);
		s.raw[10] = s.raw[11] = d.raw[10] = d.raw[11] = 0xff;
		memcpy(s.raw + 12, ip + 12, 4);
		memcpy(d.raw + 12, ip + 16, 4);
	} else {
		ASSERT_EQ(6, grh[0] >> 4) TH_LOG("no IPv6 GRH");
		EXPECT_EQ(17, grh[6]);
		memcpy(s.raw, grh + 8, 16);
		memcpy(d.raw, grh + 24, 16);
	}
	EXPECT_EQ(0, memcmp(&s, src, 16))
		TH_LOG("GRH source %s, expected %s", gid_str(&s, a), gid_str(src, b));
	EXPECT_EQ(0, memcmp(&d, dst, 16))
		TH_LOG("GRH destination %s, expected %s", gid_str(&d, a), gid_str(dst, b));
}

static struct ibv_qp *ud_qp(struct __test_metadata *_metadata, struct env *e,
			    struct ibv_cq *cq)
{
	struct qp_cfg cfg = { .type = IBV_QPT_UD, .send_wr = 64, .recv_wr = 64,
			      .send_sge = 1, .recv_sge = 2 };
	struct ibv_qp *qp = t_qp(_metadata, e, e->pd, cq, cq, &cfg, NULL);

	ud_ready(_metadata, e, qp);
	return qp;
}

static int ud_send(struct ibv_qp *qp, uint64_t id, struct ibv_ah *ah, uint32_t qpn,
		   uint32_t qkey, void *addr, uint32_t len, uint32_t lkey)
{
	struct ibv_sge sge = { (uintptr_t)addr, len, lkey };
	struct ibv_send_wr wr = {
		.wr_id = id, .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.ud = { .ah = ah, .remote_qpn = qpn, .remote_qkey = qkey },
	}, *bad;

	return ibv_post_send(qp, &wr, &bad);
}

TEST_V(rc, ud_send_recv_grh)
{
	struct env *e = &self->e;
	struct ibv_cq *ca = t_cq(_metadata, e, 64, NULL), *cb = t_cq(_metadata, e, 64, NULL);
	struct ibv_qp *a = ud_qp(_metadata, e, ca), *b = ud_qp(_metadata, e, cb);
	struct ibv_ah *ah = t_ah(_metadata, e, e->pd, &e->d.gid), *reply;
	uint32_t mtu = 128u << e->d.pattr.active_mtu;
	uint32_t lens[3] = { 1, 100, mtu };
	struct ibv_ah_attr aa;
	struct ibv_wc wc;
	int i;

	/* Receives first, given time to reach the device (the rxe ABI has
	 * no receive doorbell; see ud_recv_posted_just_before_send), so that
	 * this test is about addresses only. */
	for (i = 0; i < 3; i++) {
		uint8_t *r = e->buf[1] + i * 8192;

		memset(r, 0, GRH_LEN + lens[i] + 1);
		fill(e->buf[0] + i * 8192, lens[i], 100 + i);
		ASSERT_EQ(0, post_recv(b, i, r, GRH_LEN + mtu, e->mr[1]->lkey));
	}
	ASSERT_EQ(0, post_recv(a, 9, e->buf[0] + 100000, GRH_LEN + 64, e->mr[0]->lkey));
	usleep(RECV_SETTLE_US);
	for (i = 0; i < 3; i++) {
		uint8_t *r = e->buf[1] + i * 8192;

		ASSERT_EQ(0, ud_send(a, i, ah, b->qp_num, QKEY, e->buf[0] + i * 8192,
				     lens[i], e->mr[0]->lkey));
		WAIT_WC(ca, &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_SEND);
		WAIT_WC(cb, &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_RECV);
		ASSERT_EQ(GRH_LEN + lens[i], wc.byte_len);
		EXPECT_EQ(a->qp_num, wc.src_qp);
		EXPECT_EQ(b->qp_num, wc.qp_num);
		ASSERT_NE(0, wc.wc_flags & IBV_WC_GRH);
		ASSERT_SAME(r + GRH_LEN, e->buf[0] + i * 8192, lens[i]);
		ASSERT_EQ(0, r[GRH_LEN + lens[i]]);
		/* The GRH carries the device's own GID both ways. */
		check_grh(_metadata, r, &e->d.gid, &e->d.gid);
	}
	/* libibverbs derives the reply address from the GRH; reply with it. */
	ASSERT_EQ(0, ibv_init_ah_from_wc(e->d.ctx, e->d.port, &wc,
					 (struct ibv_grh *)(e->buf[1] + 2 * 8192), &aa));
	EXPECT_EQ(0, memcmp(&aa.grh.dgid, &e->d.gid, 16));
	EXPECT_EQ(e->d.gid_index, aa.grh.sgid_index);
	reply = ibv_create_ah_from_wc(e->pd, &wc, (struct ibv_grh *)(e->buf[1] + 2 * 8192),
				      e->d.port);
	ASSERT_NE(NULL, reply) TH_LOG("ibv_create_ah_from_wc: %s", strerror(errno));
	track(e, RES_AH, reply, 0);
	ASSERT_EQ(0, ud_send(b, 8, reply, wc.src_qp, QKEY, e->buf[1] + 200000, 64,
			     e->mr[1]->lkey));
	WAIT_WC(cb, &wc);
	CHECK_WC(&wc, 8, IBV_WC_SUCCESS, IBV_WC_SEND);
	WAIT_WC(ca, &wc);
	CHECK_WC(&wc, 9, IBV_WC_SUCCESS, IBV_WC_RECV);
	EXPECT_EQ(b->qp_num, wc.src_qp);
	check_grh(_metadata, e->buf[0] + 100000, &e->d.gid, &e->d.gid);
}

/*
 * A receive posted before a datagram is sent gets it: the verbs promise
 * this (a WR is posted when ibv_post_recv() returns), UD's unreliability
 * is about the network, and loopback loses nothing.  The rxe ABI has no
 * receive doorbell: a device that learns of receives by polling its rings
 * must not let a datagram find the queue empty meanwhile.  Each round
 * starts from an idle device.
 */
TEST_V(rc, ud_recv_posted_just_before_send)
{
	struct env *e = &self->e;
	struct ibv_cq *ca = t_cq(_metadata, e, 64, NULL), *cb = t_cq(_metadata, e, 64, NULL);
	struct ibv_qp *a = ud_qp(_metadata, e, ca), *b = ud_qp(_metadata, e, cb);
	struct ibv_ah *ah = t_ah(_metadata, e, e->pd, &e->d.gid);
	struct ibv_wc wc;
	int i, lost = 0;

	for (i = 0; i < 10; i++) {
		usleep(20000);
		ASSERT_EQ(0, post_recv(b, i, e->buf[1], GRH_LEN + 64, e->mr[1]->lkey));
		ASSERT_EQ(0, ud_send(a, i, ah, b->qp_num, QKEY, e->buf[0], 64, e->mr[0]->lkey));
		WAIT_WC(ca, &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_SEND);
		if (poll_n(cb, &wc, 1, 2000) != 1) {
			lost++;
			/* Let the receive be used up by a datagram that is
			 * sure to find it, so the next round starts clean. */
			usleep(RECV_SETTLE_US);
			ASSERT_EQ(0, ud_send(a, 100 + i, ah, b->qp_num, QKEY, e->buf[0], 64,
					     e->mr[0]->lkey));
			WAIT_WC(ca, &wc);
			WAIT_WC(cb, &wc);
			continue;
		}
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_RECV);
	}
	EXPECT_EQ(0, lost) TH_LOG("%d of 10 datagrams lost although a receive was posted", lost);
}

/*
 * A datagram whose send has completed reaches its receiver even when the
 * sender's QP is destroyed right after the completion: the packet is on
 * the wire by then (udaddy's server sends its replies, polls their
 * completions and exits).  The receiver's CQ has a completion channel and
 * is not armed, so its completions are not announced at once.  Each round
 * has a new sender.
 */
TEST_V(rc, ud_sender_destroyed_after_send)
{
	struct env *e = &self->e;
	struct ibv_comp_channel *ch = ibv_create_comp_channel(e->d.ctx);
	struct ibv_cq *ca, *cb;
	struct ibv_qp *a, *b;
	struct ibv_ah *ah = t_ah(_metadata, e, e->pd, &e->d.gid);
	uint8_t *r = e->buf[1];
	struct ibv_wc wc;
	uint32_t src_qp;
	int i, lost = 0;

	ASSERT_NE(NULL, ch);
	track(e, RES_CHAN, ch, 0);
	cb = t_cq(_metadata, e, 64, ch);
	b = ud_qp(_metadata, e, cb);
	for (i = 0; i < 20; i++) {
		ca = t_cq(_metadata, e, 8, NULL);
		a = ud_qp(_metadata, e, ca);
		src_qp = a->qp_num;
		memset(r, 0, GRH_LEN + 64);
		ASSERT_EQ(0, post_recv(b, i, r, GRH_LEN + 64, e->mr[1]->lkey));
		usleep(i ? 2000 : RECV_SETTLE_US);
		ASSERT_EQ(0, ud_send(a, i, ah, b->qp_num, QKEY, e->buf[0], 64,
				     e->mr[0]->lkey));
		WAIT_WC(ca, &wc);
		CHECK_WC(&wc, i, IBV_WC_SUCCESS, IBV_WC_SEND);
		t_destroy(_metadata, e, RES_QP, a);
		t_destroy(_metadata, e, RES_CQ, ca);
		if (poll_n(cb, &wc, 1, 2000) != 1) {
			TH_LOG("round %d: the datagram of QPN %u was lost", i, src_qp);
			lost++;
			continue;	/* the next datagram takes this receive */
		}
		/* Once one is lost, the receives may not complete in order. */
		CHECK_WC(&wc, lost ? wc.wr_id : (uint64_t)i, IBV_WC_SUCCESS, IBV_WC_RECV);
		EXPECT_EQ(src_qp, wc.src_qp);
		ASSERT_NE(0, wc.wc_flags & IBV_WC_GRH);
		check_grh(_metadata, r, &e->d.gid, &e->d.gid);
	}
	EXPECT_EQ(0, lost) TH_LOG("%d of 20 datagrams lost after their send completed", lost);
}

TEST_V(rc, ud_wrong_qkey_dropped)
{
	struct env *e = &self->e;
	struct ibv_cq *ca = t_cq(_metadata, e, 64, NULL), *cb = t_cq(_metadata, e, 64, NULL);
	struct ibv_qp *a = ud_qp(_metadata, e, ca), *b = ud_qp(_metadata, e, cb);
	struct ibv_ah *ah = t_ah(_metadata, e, e->pd, &e->d.gid);
	struct ibv_wc wc;

	ASSERT_EQ(0, post_recv(b, 1, e->buf[1], GRH_LEN + 64, e->mr[1]->lkey));
	ASSERT_EQ(0, ud_send(a, 1, ah, b->qp_num, QKEY + 1, e->buf[0], 64, e->mr[0]->lkey));
	WAIT_WC(ca, &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_SEND);
	EXPECT_EQ(0, poll_n(cb, &wc, 1, QUIET_MS)) TH_LOG("a wrong Q_Key was accepted");
	/*
	 * A datagram to a QPN nobody has is dropped too, silently by rxe; vrdma
	 * refuses a destination that is no QP of the sender's virtual network
	 * on its own host (Documentation/security.rst), which fails the send
	 * and, like any failed UD send, the QP: from a QP of its own.
	 */
	if (e->d.vrdma) {
		struct ibv_qp *c = ud_qp(_metadata, e, ca);

		ASSERT_EQ(0, ud_send(c, 2, ah, b->qp_num ^ 0x5a5a, QKEY, e->buf[0], 64,
				     e->mr[0]->lkey));
		WAIT_WC(ca, &wc);
		CHECK_WC(&wc, 2, IBV_WC_LOC_QP_OP_ERR, IBV_WC_SEND);
	} else {
		ASSERT_EQ(0, ud_send(a, 2, ah, b->qp_num ^ 0x5a5a, QKEY, e->buf[0], 64,
				     e->mr[0]->lkey));
		WAIT_WC(ca, &wc);
		CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_SEND);
	}
	/* The right one still arrives. */
	ASSERT_EQ(0, ud_send(a, 3, ah, b->qp_num, QKEY, e->buf[0], 64, e->mr[0]->lkey));
	WAIT_WC(cb, &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_RECV);
	EXPECT_EQ(a->qp_num, wc.src_qp);
}

/* ======================================================================== */
/* SRQ */

TEST_F_TIMEOUT(rc, srq_many_qps, 60)
{
	struct env *e = &self->e;
	enum { NQP = 4, PER = 8 };
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 64, .max_sge = 1 } };
	struct ibv_srq_attr q;
	struct ibv_srq *srq;
	struct ibv_cq *rcq = t_cq(_metadata, e, 256, NULL), *scq = t_cq(_metadata, e, 256, NULL);
	struct qp_cfg cfg = rc_cfg;
	struct ibv_qp *s[NQP], *r[NQP];
	int seen[NQP] = { 0 }, i, j;
	struct ibv_wc wc[NQP * PER];

	if (!e->d.attr.max_srq)
		SKIP(return, "device has no SRQ");
	srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	track(e, RES_SRQ, srq, 0);
	ASSERT_EQ(0, ibv_query_srq(srq, &q));
	EXPECT_LE(64, q.max_wr);
	for (i = 0; i < NQP * PER; i++) {
		ASSERT_EQ(0, post_srq_recv(srq, i, e->buf[1] + i * 256, 256, e->mr[1]->lkey));
	}
	for (i = 0; i < NQP; i++) {
		s[i] = t_qp(_metadata, e, e->pd, scq, scq, &rc_cfg, NULL);
		cfg.srq = srq;
		r[i] = t_qp(_metadata, e, e->pd, scq, rcq, &cfg, NULL);
		connect_pair(_metadata, e, s[i], r[i], &conn_default);
	}
	for (j = 0; j < PER; j++)
		for (i = 0; i < NQP; i++) {
			uint32_t *m = (uint32_t *)(e->buf[0] + (i * PER + j) * 64);

			m[0] = i;
			m[1] = j;
			ASSERT_EQ(0, post_send(s[i], i * PER + j, IBV_WR_SEND, IBV_SEND_SIGNALED,
					       m, 8, e->mr[0]->lkey, 0, 0));
		}
	ASSERT_EQ(NQP * PER, poll_n(rcq, wc, NQP * PER, TMO_MS));
	for (int k = 0; k < NQP * PER; k++) {
		uint32_t *m = (uint32_t *)(e->buf[1] + wc[k].wr_id * 256);

		CHECK_WC(&wc[k], wc[k].wr_id, IBV_WC_SUCCESS, IBV_WC_RECV);
		for (i = 0; i < NQP && r[i]->qp_num != wc[k].qp_num; i++)
			;
		ASSERT_LT(i, NQP) TH_LOG("completion for unknown QP %#x", wc[k].qp_num);
		/* The message came from the sender connected to that QP, in order. */
		ASSERT_EQ((uint32_t)i, m[0]);
		ASSERT_EQ((uint32_t)seen[i], m[1]);
		seen[i]++;
	}
	ASSERT_EQ(NQP * PER, poll_n(scq, wc, NQP * PER, TMO_MS));
	EXPECT_EQ(0, poll_n(rcq, wc, 1, 1));
}

/*
 * Destroying QPs attached to an SRQ is prompt, whether or not the device
 * reports IBV_EVENT_QP_LAST_WQE_REACHED (rxe on Linux 6.1 never does; a
 * vrdma device waited 5 s a QP for it), and the SRQ loses no receive: a
 * new QP gets every one the SRQ still holds, and those posted after.
 */
TEST_V(rc, srq_destroy_qps_prompt)
{
	struct env *e = &self->e;
	enum { NQP = 4, DEPTH = 16, LIMIT_MS = 4000 };
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = DEPTH, .max_sge = 1 } };
	struct ibv_cq *rcq = t_cq(_metadata, e, 64, NULL), *scq = t_cq(_metadata, e, 64, NULL);
	struct qp_cfg cfg = rc_cfg;
	struct ibv_qp *s[NQP + 1], *r[NQP + 1];
	struct ibv_wc wc[DEPTH];
	struct ibv_srq *srq;
	uint64_t t0, ms;
	int i;

	if (!e->d.attr.max_srq)
		SKIP(return, "device has no SRQ");
	srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, srq) TH_LOG("ibv_create_srq: %s", strerror(errno));
	track(e, RES_SRQ, srq, 0);
	for (i = 0; i < DEPTH; i++)
		ASSERT_EQ(0, post_srq_recv(srq, i, e->buf[1] + i * 64, 64, e->mr[1]->lkey));
	cfg.srq = srq;
	for (i = 0; i <= NQP; i++) {
		s[i] = t_qp(_metadata, e, e->pd, scq, scq, &rc_cfg, NULL);
		r[i] = t_qp(_metadata, e, e->pd, scq, rcq, &cfg, NULL);
		connect_pair(_metadata, e, s[i], r[i], &conn_default);
	}
	/* One message each: every QP took a receive of the SRQ. */
	for (i = 0; i < NQP; i++)
		ASSERT_EQ(0, post_send(s[i], i, IBV_WR_SEND, IBV_SEND_SIGNALED,
				       e->buf[0], 8, e->mr[0]->lkey, 0, 0));
	ASSERT_EQ(NQP, poll_n(rcq, wc, NQP, TMO_MS));
	for (i = 0; i < NQP; i++)
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
	ASSERT_EQ(NQP, poll_n(scq, wc, NQP, TMO_MS));

	t0 = now_ms();
	for (i = 0; i < NQP; i++)
		t_destroy(_metadata, e, RES_QP, r[i]);
	ms = now_ms() - t0;
	TH_LOG("destroying %d QPs of an SRQ took %" PRIu64 " ms", NQP, ms);
	EXPECT_LT(ms, LIMIT_MS);

	/* The receives left, and as many new ones, all serve the last QP. */
	for (i = 0; i < NQP; i++)
		ASSERT_EQ(0, post_srq_recv(srq, DEPTH + i, e->buf[1] + i * 64, 64,
					   e->mr[1]->lkey));
	for (i = 0; i < DEPTH; i++)
		ASSERT_EQ(0, post_send(s[NQP], i, IBV_WR_SEND, IBV_SEND_SIGNALED,
				       e->buf[0], 8, e->mr[0]->lkey, 0, 0));
	ASSERT_EQ(DEPTH, poll_n(rcq, wc, DEPTH, TMO_MS));
	for (i = 0; i < DEPTH; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(r[NQP]->qp_num, wc[i].qp_num);
	}
	ASSERT_EQ(DEPTH, poll_n(scq, wc, DEPTH, TMO_MS));
}

TEST_V(rc, srq_limit_event)
{
	struct env *e = &self->e;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct ibv_srq_attr q = { .srq_limit = 8 };
	struct ibv_srq *srq;
	struct ibv_cq *rcq = t_cq(_metadata, e, 64, NULL), *scq = t_cq(_metadata, e, 64, NULL);
	struct qp_cfg cfg = rc_cfg;
	struct ibv_qp *s, *r;
	struct ibv_wc wc[16];
	int i;

	if (!e->d.attr.max_srq)
		SKIP(return, "device has no SRQ");
	srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, srq);
	track(e, RES_SRQ, srq, 0);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, post_srq_recv(srq, i, e->buf[1] + i * 256, 256, e->mr[1]->lkey));
	}
	ASSERT_EQ(0, ibv_modify_srq(srq, &q, IBV_SRQ_LIMIT));
	s = t_qp(_metadata, e, e->pd, scq, scq, &rc_cfg, NULL);
	cfg.srq = srq;
	r = t_qp(_metadata, e, e->pd, scq, rcq, &cfg, NULL);
	connect_pair(_metadata, e, s, r, &conn_default);
	/* 7 messages leave 9 receives: above the limit, no event. */
	for (i = 0; i < 7; i++) {
		ASSERT_EQ(0, post_send(s, i, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				       e->mr[0]->lkey, 0, 0));
	}
	ASSERT_EQ(7, poll_n(rcq, wc, 7, TMO_MS));
	EXPECT_NE(0, wait_async(_metadata, e->d.ctx, IBV_EVENT_SRQ_LIMIT_REACHED, srq, QUIET_MS))
		TH_LOG("SRQ limit event with 9 receives left (limit 8)");
	/* Two more leave 7: below the limit. */
	for (i = 7; i < 9; i++) {
		ASSERT_EQ(0, post_send(s, i, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				       e->mr[0]->lkey, 0, 0));
	}
	ASSERT_EQ(2, poll_n(rcq, wc, 2, TMO_MS));
	ASSERT_EQ(0, wait_async(_metadata, e->d.ctx, IBV_EVENT_SRQ_LIMIT_REACHED, srq, TMO_MS))
		TH_LOG("no IBV_EVENT_SRQ_LIMIT_REACHED with 7 receives left (limit 8)");
	/* The limit disarms itself. */
	ASSERT_EQ(0, ibv_query_srq(srq, &q));
	EXPECT_EQ(0, q.srq_limit);
	ASSERT_EQ(9, poll_n(scq, wc, 9, TMO_MS));
}

/* ======================================================================== */
/* CQ */

TEST_V(rc, cq_channel_events)
{
	struct env *e = &self->e;
	struct ibv_comp_channel *ch = ibv_create_comp_channel(e->d.ctx);
	struct ibv_cq *cq, *ev_cq;
	struct ibv_qp *a, *b;
	struct ibv_cq *bcq = t_cq(_metadata, e, 64, NULL);
	struct pollfd pfd;
	struct ibv_wc wc;
	void *ev_ctx;
	int ctx_cookie;

	ASSERT_NE(NULL, ch);
	track(e, RES_CHAN, ch, 0);
	cq = ibv_create_cq(e->d.ctx, 64, &ctx_cookie, ch, 0);
	ASSERT_NE(NULL, cq);
	track(e, RES_CQ, cq, 0);
	a = t_qp(_metadata, e, e->pd, cq, cq, &rc_cfg, NULL);
	b = t_qp(_metadata, e, e->pd, bcq, bcq, &rc_cfg, NULL);
	connect_pair(_metadata, e, a, b, &conn_default);
	pfd = (struct pollfd){ .fd = ch->fd, .events = POLLIN };

	/* Not armed: no event. */
	ASSERT_EQ(0, post_recv(b, 1, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(a, 1, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(cq, &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_SEND);
	EXPECT_EQ(0, poll(&pfd, 1, QUIET_MS)) TH_LOG("event on an unarmed CQ");

	/* Armed: one event, then none until re-armed. */
	for (int round = 0; round < 3; round++) {
		ASSERT_EQ(0, ibv_req_notify_cq(cq, 0));
		ASSERT_EQ(0, post_recv(b, 2, e->buf[1], 64, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(a, 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				       e->mr[0]->lkey, 0, 0));
		ASSERT_EQ(1, poll(&pfd, 1, TMO_MS)) TH_LOG("no completion event (round %d)", round);
		ASSERT_EQ(0, ibv_get_cq_event(ch, &ev_cq, &ev_ctx));
		ASSERT_EQ(cq, ev_cq);
		ASSERT_EQ(&ctx_cookie, ev_ctx);
		ibv_ack_cq_events(cq, 1);
		WAIT_WC(cq, &wc);
		CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_SEND);
		/* A completion while disarmed does not signal. */
		ASSERT_EQ(0, post_recv(b, 3, e->buf[1], 64, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(a, 3, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				       e->mr[0]->lkey, 0, 0));
		WAIT_WC(cq, &wc);
		CHECK_WC(&wc, 3, IBV_WC_SUCCESS, IBV_WC_SEND);
		EXPECT_EQ(0, poll(&pfd, 1, QUIET_MS)) TH_LOG("event without re-arming");
	}
	{
		struct ibv_wc bw[8];

		/* The receiver got all seven. */
		ASSERT_EQ(7, poll_n(bcq, bw, 7, TMO_MS));
	}
}

TEST_V(rc, cq_solicited_events)
{
	struct env *e = &self->e;
	struct ibv_comp_channel *ch;
	struct ibv_cq *rcq, *ev_cq, *scq;
	struct ibv_qp *a, *b;
	struct pollfd pfd;
	struct ibv_wc wc;
	void *ev_ctx;

	ch = ibv_create_comp_channel(e->d.ctx);
	scq = t_cq(_metadata, e, 64, NULL);

	ASSERT_NE(NULL, ch);
	track(e, RES_CHAN, ch, 0);
	rcq = ibv_create_cq(e->d.ctx, 64, NULL, ch, 0);
	ASSERT_NE(NULL, rcq);
	track(e, RES_CQ, rcq, 0);
	a = t_qp(_metadata, e, e->pd, scq, scq, &rc_cfg, NULL);
	b = t_qp(_metadata, e, e->pd, scq, rcq, &rc_cfg, NULL);
	connect_pair(_metadata, e, a, b, &conn_default);
	pfd = (struct pollfd){ .fd = ch->fd, .events = POLLIN };

	ASSERT_EQ(0, ibv_req_notify_cq(rcq, 1));
	ASSERT_EQ(0, post_recv(b, 1, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_recv(b, 2, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(a, 1, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(rcq, &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_RECV);
	EXPECT_EQ(0, poll(&pfd, 1, QUIET_MS))
		TH_LOG("solicited-only CQ signalled an unsolicited receive");
	ASSERT_EQ(0, post_send(a, 2, IBV_WR_SEND, IBV_SEND_SIGNALED | IBV_SEND_SOLICITED,
			       e->buf[0], 8, e->mr[0]->lkey, 0, 0));
	ASSERT_EQ(1, poll(&pfd, 1, TMO_MS)) TH_LOG("no event for a solicited receive");
	ASSERT_EQ(0, ibv_get_cq_event(ch, &ev_cq, &ev_ctx));
	ASSERT_EQ(rcq, ev_cq);
	ibv_ack_cq_events(rcq, 1);
	WAIT_WC(rcq, &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_RECV);
	{
		struct ibv_wc sw[2];

		ASSERT_EQ(2, poll_n(scq, sw, 2, TMO_MS));
	}
}

/* ---- locating the rings the rxe ABI shares with the process: ../lib/rxe_ring.h ---- */

/*
 * Create a QP and find its rings among the new uverbs mappings: with one
 * receive SGE a receive slot is 64 bytes (40-byte header + one SGE) and a
 * send slot at least 256 (208-byte header), so the larger slots are the SQ.
 */
static void find_qp_rings(struct __test_metadata *_metadata, struct env *e,
			  struct ibv_qp **qp, struct ibv_cq *cq,
			  const struct qp_cfg *cfg, struct ring *sq, struct ring *rq)
{
	struct snap before, after;
	struct ring r[4];
	int n;

	ASSERT_EQ(1, cfg->srq ? 1 : cfg->recv_sge);
	snap_take(&before);
	*qp = t_qp(_metadata, e, e->pd, cq, cq, cfg, NULL);
	snap_take(&after);
	n = snap_new(&before, &after, r, 4);
	if (cfg->srq) {
		ASSERT_EQ(1, n) TH_LOG("%d new uverbs mappings after creating a QP on an SRQ", n);
		ASSERT_TRUE(ring_sane(&r[0]));
		*sq = r[0];
		return;
	}
	ASSERT_EQ(2, n) TH_LOG("%d new uverbs mappings after creating a QP (rxe ABI: 2)", n);
	ASSERT_TRUE(ring_sane(&r[0]) && ring_sane(&r[1]))
		TH_LOG("the mappings are not rxe_queue_buf rings");
	ASSERT_NE(r[0].log2, r[1].log2) TH_LOG("cannot tell the SQ from the RQ");
	*sq = r[0].log2 > r[1].log2 ? r[0] : r[1];
	*rq = r[0].log2 > r[1].log2 ? r[1] : r[0];
	ASSERT_LE(sizeof(struct rxe_send_wqe), 1u << sq->log2);
	ASSERT_LE(sizeof(struct rxe_recv_wqe) + sizeof(struct rxe_sge), 1u << rq->log2);
	/* Nothing posted yet. */
	ASSERT_EQ(ring_get(&sq->q->producer_index), ring_get(&sq->q->consumer_index));
	ASSERT_EQ(ring_get(&rq->q->producer_index), ring_get(&rq->q->consumer_index));
}

static void find_cq_ring(struct __test_metadata *_metadata, struct env *e,
			 struct ibv_cq **cq, int cqe, struct ring *ring)
{
	struct snap before, after;
	int n;

	snap_take(&before);
	*cq = t_cq(_metadata, e, cqe, NULL);
	snap_take(&after);
	n = snap_new(&before, &after, ring, 1);
	ASSERT_EQ(1, n) TH_LOG("no new uverbs mapping after creating a CQ");
	ASSERT_TRUE(ring_sane(ring));
	ASSERT_LE(sizeof(struct ibv_wc), 1u << ring->log2);
}

/* A connected pair with located rings: a's SQ, CQ and RQ, b's RQ.  a is
 * created with ibv_create_qp_ex, so that an empty ibv_wr_start() /
 * ibv_wr_complete() rings its doorbell without writing to the ring. */
struct ring_pair {
	struct ibv_qp *a, *b;
	struct ibv_qp_ex *ax;
	struct ibv_cq *ca, *cb;
	struct ring asq, arq, bsq, brq, cqa;
};

static void ring_pair_setup(struct __test_metadata *_metadata, struct env *e,
			    struct ring_pair *rp, const struct conn *c)
{
	struct qp_cfg cfg = rc_cfg;

	cfg.send_wr = 60;
	cfg.recv_wr = 30;
	cfg.recv_sge = 1;
	cfg.send_ops = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_RDMA_WRITE;
	find_cq_ring(_metadata, e, &rp->ca, 256, &rp->cqa);
	rp->cb = t_cq(_metadata, e, 256, NULL);
	find_qp_rings(_metadata, e, &rp->a, rp->ca, &cfg, &rp->asq, &rp->arq);
	cfg.send_ops = 0;
	find_qp_rings(_metadata, e, &rp->b, rp->cb, &cfg, &rp->bsq, &rp->brq);
	rp->ax = ibv_qp_to_qp_ex(rp->a);
	ASSERT_NE(NULL, rp->ax);
	connect_pair(_metadata, e, rp->a, rp->b, c);
}

/* The doorbell without a new WQE. */
static int ring_doorbell(struct ibv_qp_ex *qpx)
{
	ibv_wr_start(qpx);
	return ibv_wr_complete(qpx);
}

/* A valid signaled RDMA WRITE, written by hand as librxe would. */
static void wqe_rdma_write(struct rxe_send_wqe *w, uint64_t id, const void *src,
			   uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey)
{
	memset(w, 0, sizeof(*w) + sizeof(struct rxe_sge));
	w->wr.wr_id = id;
	w->wr.reserved = 1;	/* num_sge in librxe's copy of the header */
	w->wr.opcode = IBV_WR_RDMA_WRITE;
	w->wr.send_flags = IBV_SEND_SIGNALED;
	w->wr.wr.rdma.remote_addr = raddr;
	w->wr.wr.rdma.rkey = rkey;
	w->iova = raddr;
	w->dma.length = len;
	w->dma.resid = len;
	w->dma.num_sge = 1;
	w->dma.sge[0] = (struct rxe_sge){ (uintptr_t)src, len, lkey };
}

static void wqe_send(struct rxe_send_wqe *w, uint64_t id, const void *src,
		     uint32_t len, uint32_t lkey)
{
	wqe_rdma_write(w, id, src, len, lkey, 0, 0);
	w->wr.opcode = IBV_WR_SEND;
	w->iova = 0;
}

/* Append WQEs at the producer index (returns the first slot's index). */
static uint32_t sq_prod(const struct ring *r)
{
	return ring_get(&r->q->producer_index) & r->mask;
}

static void ring_advance(const struct ring *r, uint32_t n)
{
	ring_set(&r->q->producer_index, (ring_get(&r->q->producer_index) + n) & r->mask);
}

#define GARBAGE_ID	0xbad00000ull
#define DOORBELL_ID	0xd00b

#define REQUIRE_VRDMA() do { \
	if (!e->d.vrdma) \
		SKIP(return, "native rxe reads WQEs in place from the ring and " \
		     "trusts them (opcode table index, num_sge, cur_sge, inline " \
		     "length): hostile ring contents are judged on vrdma only " \
		     "(VERBS_VRDMA=1)"); \
} while (0)

/* What became of hostile WQEs (wr_id GARBAGE_ID + i) and the doorbell WR
 * that followed them. */
struct garbage_outcome {
	int total;		/* completions */
	int errors;		/* of which with an error status */
	int garbage_ok;		/* hostile WQEs that completed successfully */
	bool doorbell;		/* the doorbell WR completed */
	enum ibv_qp_state state;
};

/* Collect completions until the QP is done with them (a quiet period
 * after an error, the error state or the doorbell WR) or TMO_MS. */
static struct garbage_outcome collect_garbage(struct __test_metadata *_metadata,
					      struct ibv_qp *qp, struct ibv_cq *cq,
					      int doorbell)
{
	struct garbage_outcome o = { .state = qp_state(qp) };
	uint64_t end = now_ms() + TMO_MS, quiet_since = now_ms();
	struct ibv_wc wc[16];
	int n, i;

	while (now_ms() < end) {
		n = ibv_poll_cq(cq, 16, wc);
		if (n < 0)
			break;
		for (i = 0; i < n; i++, o.total++) {
			bool garbage = (wc[i].wr_id & ~0xffffull) == GARBAGE_ID;

			if (wc[i].status != IBV_WC_SUCCESS)
				o.errors++;
			else if (garbage)
				o.garbage_ok++;
			if (wc[i].wr_id == DOORBELL_ID)
				o.doorbell = true;
			if (o.total < 8)
				TH_LOG("completion %#" PRIx64 ": %s", wc[i].wr_id,
				       ibv_wc_status_str(wc[i].status));
		}
		if (n) {
			quiet_since = now_ms();
			continue;
		}
		o.state = qp_state(qp);
		if ((o.errors || o.doorbell || o.state == IBV_QPS_ERR) &&
		    now_ms() - quiet_since > QUIET_MS)
			break;
		usleep(1000);
	}
	TH_LOG("doorbell returned %d; %d completions, %d errors; QP state %d",
	       doorbell, o.total, o.errors, o.state);
	return o;
}

/*
 * Hostile WQEs must be rejected: an error completion or the QP in error,
 * and no hostile WQE completing successfully.  Whether the kernel survived
 * is judged by the VM harness (kernel log).
 */
static void expect_rejected(struct __test_metadata *_metadata,
			    const struct garbage_outcome *o)
{
	EXPECT_EQ(0, o->garbage_ok) TH_LOG("a hostile WQE completed successfully");
	EXPECT_TRUE(o->errors > 0 || o->state == IBV_QPS_ERR)
		TH_LOG("hostile WQEs gave neither an error completion nor a QP in error");
}

/* WQEs that may be executed or rejected must not stall the queue: the
 * doorbell WR behind them completes, or the QP is in error. */
static void expect_no_stall(struct __test_metadata *_metadata,
			    const struct garbage_outcome *o)
{
	EXPECT_TRUE(o->doorbell || o->state == IBV_QPS_ERR)
		TH_LOG("the send queue stalled behind hostile WQEs");
}

/* Valid WQEs written by hand are executed: the ring location and layout
 * the hostile tests rely on are right. */
TEST_V(rc, ring_sq_manual_wqe)
{
	struct env *e = &self->e;
	struct ring_pair rp;
	struct ibv_wc wc[4];
	uint32_t p;

	ring_pair_setup(_metadata, e, &rp, &conn_default);
	fill(e->buf[0], 8192, 5);
	memset(e->buf[1], 0, 65536);
	p = sq_prod(&rp.asq);
	wqe_rdma_write(ring_slot(&rp.asq, p), 0x4a11, e->buf[0], 1000, e->mr[0]->lkey,
		       (uintptr_t)e->buf[1], e->mr[1]->rkey);
	ring_advance(&rp.asq, 1);
	/* librxe appends its WQE after ours and rings the doorbell. */
	ASSERT_EQ(0, post_send(rp.a, DOORBELL_ID, IBV_WR_RDMA_WRITE, IBV_SEND_SIGNALED,
			       e->buf[0] + 2000, 500, e->mr[0]->lkey,
			       (uintptr_t)e->buf[1] + 5000, e->mr[1]->rkey));
	ASSERT_EQ(2, poll_n(rp.ca, wc, 2, TMO_MS));
	CHECK_WC(&wc[0], 0x4a11, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	CHECK_WC(&wc[1], DOORBELL_ID, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	ASSERT_SAME(e->buf[1], e->buf[0], 1000);
	ASSERT_SAME(e->buf[1] + 5000, e->buf[0] + 2000, 500);
	/* Two more, rung by an empty ibv_wr_start()/ibv_wr_complete(). */
	p = sq_prod(&rp.asq);
	wqe_send(ring_slot(&rp.asq, p), 0x4a12, e->buf[0] + 3000, 300, e->mr[0]->lkey);
	wqe_rdma_write(ring_slot(&rp.asq, p + 1), 0x4a13, e->buf[0] + 4000, 3000,
		       e->mr[0]->lkey, (uintptr_t)e->buf[1] + 20000, e->mr[1]->rkey);
	ASSERT_EQ(0, post_recv(rp.b, 0x4b, e->buf[1] + 40000, 1024, e->mr[1]->lkey));
	ring_advance(&rp.asq, 2);
	ASSERT_EQ(0, ring_doorbell(rp.ax));
	ASSERT_EQ(2, poll_n(rp.ca, wc, 2, TMO_MS));
	CHECK_WC(&wc[0], 0x4a12, IBV_WC_SUCCESS, IBV_WC_SEND);
	CHECK_WC(&wc[1], 0x4a13, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	WAIT_WC(rp.cb, wc);
	CHECK_WC(&wc[0], 0x4b, IBV_WC_SUCCESS, IBV_WC_RECV);
	ASSERT_EQ(300, wc[0].byte_len);
	ASSERT_SAME(e->buf[1] + 40000, e->buf[0] + 3000, 300);
	ASSERT_SAME(e->buf[1] + 20000, e->buf[0] + 4000, 3000);
	/* The kernel consumed everything. */
	ASSERT_EQ(0, ring_pending(&rp.asq));
}

/* Sizes in the ring headers are garbage: the kernel must use its own. */
TEST_V(rc, ring_header_garbage)
{
	struct env *e = &self->e;
	struct ring_pair rp;
	struct rxe_queue_buf sq_save, cq_save, rq_save;
	struct ibv_wc wc;

	ring_pair_setup(_metadata, e, &rp, &conn_default);
	memcpy(&sq_save, rp.asq.q, sizeof(sq_save));
	memcpy(&cq_save, rp.cqa.q, sizeof(cq_save));
	memcpy(&rq_save, rp.brq.q, sizeof(rq_save));
	rp.asq.q->log2_elem_size = 31;
	rp.asq.q->index_mask = 0xffffffff;
	ASSERT_EQ(0, ring_doorbell(rp.ax));
	usleep(100000);
	rp.asq.q->log2_elem_size = sq_save.log2_elem_size;
	rp.asq.q->index_mask = sq_save.index_mask;
	/* CQ and RQ headers garbage while the kernel uses them. */
	ASSERT_EQ(0, post_recv(rp.b, 1, e->buf[1], 256, e->mr[1]->lkey));
	rp.cqa.q->log2_elem_size = 0x1f;
	rp.cqa.q->index_mask = 0x7fffffff;
	rp.brq.q->log2_elem_size = 0;
	rp.brq.q->index_mask = 0xfffff;
	fill(e->buf[0], 256, 9);
	ASSERT_EQ(0, post_send(rp.a, 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 256,
			       e->mr[0]->lkey, 0, 0));
	/* Wait for the receive, then for the send completion in the ring. */
	rp.brq.q->log2_elem_size = rq_save.log2_elem_size;
	rp.brq.q->index_mask = rq_save.index_mask;
	WAIT_WC(rp.cb, &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_RECV);
	ASSERT_SAME(e->buf[1], e->buf[0], 256);
	for (uint64_t end = now_ms() + TMO_MS; !ring_pending(&rp.cqa) && now_ms() < end;)
		usleep(1000);
	rp.cqa.q->log2_elem_size = cq_save.log2_elem_size;
	rp.cqa.q->index_mask = cq_save.index_mask;
	WAIT_WC(rp.ca, &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_SEND);
	EXPECT_EQ(0, poll_n(rp.ca, &wc, 1, QUIET_MS));
}

/* The CQ's producer index belongs to the kernel: garbage written there
 * is never read back. */
TEST_V(rc, ring_cq_producer_garbage)
{
	struct env *e = &self->e;
	struct ring_pair rp;
	struct ibv_wc wc;
	uint32_t p;

	ring_pair_setup(_metadata, e, &rp, &conn_default);
	ASSERT_EQ(0, post_recv(rp.b, 1, e->buf[1], 256, e->mr[1]->lkey));
	p = ring_get(&rp.cqa.q->producer_index);
	ring_set(&rp.cqa.q->producer_index, 0xdeadbeef);
	ASSERT_EQ(0, post_send(rp.a, 7, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 16,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(rp.cb, &wc);
	for (uint64_t end = now_ms() + TMO_MS;
	     ring_get(&rp.cqa.q->producer_index) == 0xdeadbeef && now_ms() < end;)
		usleep(1000);
	ASSERT_EQ((p + 1) & rp.cqa.mask, ring_get(&rp.cqa.q->producer_index))
		TH_LOG("the kernel did not publish its own producer index");
	WAIT_WC(rp.ca, &wc);
	CHECK_WC(&wc, 7, IBV_WC_SUCCESS, IBV_WC_SEND);
	EXPECT_EQ(0, poll_n(rp.ca, &wc, 1, QUIET_MS));
}

/* Garbage in the CQ's consumer index (which userspace owns). */
TEST_V(rc, ring_cq_consumer_garbage)
{
	struct env *e = &self->e;
	struct ring_pair rp;
	struct ibv_wc wc[32];
	uint32_t garbage[] = { 0xdeadbeef, 0xffffffff, 0x7fffffff, 1 };
	int i, k;

	ring_pair_setup(_metadata, e, &rp, &conn_default);
	for (k = 0; k < 4; k++) {
		ring_set(&rp.cqa.q->consumer_index, garbage[k]);
		for (i = 0; i < 20; i++) {
			ASSERT_EQ(0, post_recv(rp.b, i, e->buf[1], 64, e->mr[1]->lkey));
		}
		for (i = 0; i < 20; i++)
			post_send(rp.a, i, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				  e->mr[0]->lkey, 0, 0);
		/* Whatever happened, the receiver side is unaffected. */
		ASSERT_EQ(20, poll_n(rp.cb, wc, 20, TMO_MS));
		usleep(200000);
		/* Resynchronize (consume everything) before librxe polls. */
		ring_set(&rp.cqa.q->consumer_index,
			 ring_get(&rp.cqa.q->producer_index) & rp.cqa.mask);
		if (qp_state(rp.a) != IBV_QPS_RTS)
			break;
	}
	TH_LOG("sender QP state after consumer garbage: %d", qp_state(rp.a));
	/* A fresh pair on the same device works. */
	{
		struct pair p;

		new_pair(_metadata, e, &p, &rc_cfg, &conn_default);
		ASSERT_EQ(0, post_recv(p.qp[1], 1, e->buf[1], 64, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(p.qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED,
				       e->buf[0], 8, e->mr[0]->lkey, 0, 0));
		WAIT_WC(p.cq[0], wc);
		CHECK_WC(&wc[0], 2, IBV_WC_SUCCESS, IBV_WC_SEND);
	}
}

/* Hostile send WQEs: each variant writes n of them and rings the doorbell
 * with a valid post. */
enum sq_garbage { SQG_BAD_LKEY, SQG_BAD_OPCODE, SQG_HUGE_NUM_SGE, SQG_HUGE_LENGTH,
		  SQG_INLINE_OVERSIZED, SQG_CUR_SGE, SQG_RANDOM };

static void sq_garbage(struct __test_metadata *_metadata, struct env *e,
		       enum sq_garbage kind)
{
	struct garbage_outcome o;
	struct ibv_wc wc;
	struct ring_pair rp;
	uint32_t p, slot, n = 4, i;
	int db;

	ring_pair_setup(_metadata, e, &rp, &conn_impatient);
	slot = 1u << rp.asq.log2;
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, post_recv(rp.b, i, e->buf[1] + i * 1024, 1024, e->mr[1]->lkey));
	}
	srandom(1234 + kind);
	p = sq_prod(&rp.asq);
	for (i = 0; i < n; i++) {
		struct rxe_send_wqe *w = ring_slot(&rp.asq, p + i);

		wqe_send(w, GARBAGE_ID + i, e->buf[0], 64, e->mr[0]->lkey);
		switch (kind) {
		case SQG_BAD_LKEY:
			w->dma.sge[0].lkey = (uint32_t)random() | 0x80000000u;
			break;
		case SQG_BAD_OPCODE:
			w->wr.opcode = i & 1 ? 0xffffffffu : 0x7f + i;
			break;
		case SQG_HUGE_NUM_SGE:
			w->dma.num_sge = i & 1 ? 0xffffffffu : 0x10000;
			w->wr.reserved = w->dma.num_sge;
			break;
		case SQG_HUGE_LENGTH:
			w->wr.opcode = IBV_WR_RDMA_WRITE;
			w->wr.wr.rdma.remote_addr = (uintptr_t)e->buf[1];
			w->wr.wr.rdma.rkey = e->mr[1]->rkey;
			w->dma.sge[0].length = 0xffffffffu - i;
			w->dma.length = w->dma.resid = 0xffffffffu - i;
			break;
		case SQG_INLINE_OVERSIZED:
			w->wr.send_flags |= IBV_SEND_INLINE;
			w->dma.length = w->dma.resid = i & 1 ? 0xfffffff0u : slot * 4;
			break;
		case SQG_CUR_SGE:
			w->dma.cur_sge = 0x7fffffff - i;
			w->dma.sge_offset = 0xfffff000u;
			break;
		case SQG_RANDOM:
			for (uint32_t b = 0; b < slot; b += 4)
				*(uint32_t *)((uint8_t *)w + b) = (uint32_t)random();
			w->wr.wr_id = GARBAGE_ID + i;
			break;
		}
	}
	ring_advance(&rp.asq, n);
	db = post_send(rp.a, DOORBELL_ID, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
		       e->mr[0]->lkey, 0, 0);
	o = collect_garbage(_metadata, rp.a, rp.ca, db);
	switch (kind) {
	case SQG_CUR_SGE:
		/* Ignoring the garbage is fine: then the sends are right. */
		expect_no_stall(_metadata, &o);
		for (i = 0; i < (uint32_t)o.garbage_ok; i++) {
			WAIT_WC(rp.cb, &wc);
			ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
			ASSERT_EQ(64, wc.byte_len);
			ASSERT_SAME(e->buf[1] + wc.wr_id * 1024, e->buf[0], 64);
		}
		break;
	case SQG_RANDOM:
		expect_no_stall(_metadata, &o);
		break;
	default:
		expect_rejected(_metadata, &o);
	}
}

/* A bad lkey with sane SGE bounds: native rxe handles it too. */
TEST_V(rc, ring_sq_bad_lkey)
{
	sq_garbage(_metadata, &self->e, SQG_BAD_LKEY);
}

TEST_V(rc, ring_sq_bad_opcode)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	sq_garbage(_metadata, e, SQG_BAD_OPCODE);
}

TEST_V(rc, ring_sq_huge_num_sge)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	sq_garbage(_metadata, e, SQG_HUGE_NUM_SGE);
}

TEST_V(rc, ring_sq_huge_length)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	sq_garbage(_metadata, e, SQG_HUGE_LENGTH);
}

TEST_V(rc, ring_sq_inline_oversized)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	sq_garbage(_metadata, e, SQG_INLINE_OVERSIZED);
}

/* cur_sge/sge_offset are librxe's zeros; garbage there must be ignored
 * or rejected, never used as an index. */
TEST_V(rc, ring_sq_cur_sge_garbage)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	sq_garbage(_metadata, e, SQG_CUR_SGE);
}

TEST_V(rc, ring_sq_random)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	sq_garbage(_metadata, e, SQG_RANDOM);
}

/* Garbage producer index (unmasked): whatever stale slots it exposes are
 * processed or rejected; the process survives and so does the kernel. */
TEST_V(rc, ring_sq_producer_garbage)
{
	struct env *e = &self->e;
	struct ring_pair rp;
	struct ibv_wc wc[64];
	int n, total = 0;

	REQUIRE_VRDMA();
	ring_pair_setup(_metadata, e, &rp, &conn_impatient);
	ring_set(&rp.asq.q->producer_index, 0xfffffff0);
	TH_LOG("doorbell: %d", ring_doorbell(rp.ax));
	for (uint64_t end = now_ms() + 3000; now_ms() < end;) {
		n = ibv_poll_cq(rp.ca, 64, wc);
		ASSERT_LE(0, n);
		total += n;
		usleep(1000);
	}
	TH_LOG("%d completions, QP state %d", total, qp_state(rp.a));
	/* Stop it, then the device still works. */
	{
		struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };
		struct pair p;

		ibv_modify_qp(rp.a, &a, IBV_QP_STATE);
		new_pair(_metadata, e, &p, &rc_cfg, &conn_default);
		ASSERT_EQ(0, post_recv(p.qp[1], 1, e->buf[1], 64, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(p.qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED,
				       e->buf[0], 8, e->mr[0]->lkey, 0, 0));
		WAIT_WC(p.cq[0], wc);
		CHECK_WC(&wc[0], 2, IBV_WC_SUCCESS, IBV_WC_SEND);
	}
}

/* Hostile receive WQEs, then the peer sends. */
enum rq_garbage { RQG_BAD_LKEY, RQG_HUGE_NUM_SGE, RQG_HUGE_LENGTH, RQG_RANDOM };

static void rq_garbage_ring(struct env *e, const struct ring *rq,
			    enum rq_garbage kind, uint32_t n)
{
	uint32_t p = sq_prod(rq), i, slot = 1u << rq->log2;

	srandom(99 + kind);
	for (i = 0; i < n; i++) {
		struct rxe_recv_wqe *w = ring_slot(rq, p + i);

		memset(w, 0, slot);
		w->wr_id = GARBAGE_ID + i;
		w->dma.num_sge = 1;
		w->dma.length = w->dma.resid = 1024;
		w->dma.sge[0] = (struct rxe_sge){ (uintptr_t)e->buf[1] + i * 1024, 1024,
						  e->mr[1]->lkey };
		switch (kind) {
		case RQG_BAD_LKEY:
			w->dma.sge[0].lkey = (uint32_t)random() | 0x80000000u;
			break;
		case RQG_HUGE_NUM_SGE:
			w->dma.num_sge = i & 1 ? 0xffffffffu : 0x10000;
			w->dma.sge[0].length = 8;
			w->dma.length = w->dma.resid = 0x80000000u;
			break;
		case RQG_HUGE_LENGTH:
			w->dma.sge[0].length = 0xffffffffu;
			w->dma.length = w->dma.resid = 0xffffffffu;
			break;
		case RQG_RANDOM:
			for (uint32_t b = 0; b < slot; b += 4)
				*(uint32_t *)((uint8_t *)w + b) = (uint32_t)random();
			w->wr_id = GARBAGE_ID + i;
			break;
		}
	}
	ring_advance(rq, n);
}

static void rq_garbage(struct __test_metadata *_metadata, struct env *e,
		       enum rq_garbage kind, bool strict)
{
	struct garbage_outcome o;
	struct ring_pair rp;
	struct ibv_wc wc;

	ring_pair_setup(_metadata, e, &rp, &conn_impatient);
	rq_garbage_ring(e, &rp.brq, kind, 4);
	/* vrdma learns of receives by polling the ring: give it time. */
	usleep(200000);
	ASSERT_EQ(0, post_send(rp.a, DOORBELL_ID, IBV_WR_SEND, IBV_SEND_SIGNALED,
			       e->buf[0], 64, e->mr[0]->lkey, 0, 0));
	o = collect_garbage(_metadata, rp.b, rp.cb, 0);
	if (strict)
		expect_rejected(_metadata, &o);
	/* The sender learns of it, one way or another, and does not hang. */
	WAIT_WC(rp.ca, &wc);
	TH_LOG("sender: %s", ibv_wc_status_str(wc.status));
	if (strict) {
		EXPECT_NE(IBV_WC_SUCCESS, wc.status);
	}
}

TEST_V(rc, ring_rq_bad_lkey)
{
	rq_garbage(_metadata, &self->e, RQG_BAD_LKEY, true);
}

TEST_V(rc, ring_rq_huge_num_sge)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	rq_garbage(_metadata, e, RQG_HUGE_NUM_SGE, true);
}

/* A receive SGE longer than its MR: implementations may reject it or
 * accept the bytes that fit; only survival is judged. */
TEST_V(rc, ring_rq_huge_length)
{
	struct env *e = &self->e;
	struct ring_pair rp;
	struct ibv_wc wc;

	REQUIRE_VRDMA();
	ring_pair_setup(_metadata, e, &rp, &conn_impatient);
	rq_garbage_ring(e, &rp.brq, RQG_HUGE_LENGTH, 4);
	usleep(200000);
	ASSERT_EQ(0, post_send(rp.a, DOORBELL_ID, IBV_WR_SEND, IBV_SEND_SIGNALED,
			       e->buf[0], 64, e->mr[0]->lkey, 0, 0));
	WAIT_WC(rp.ca, &wc);
	TH_LOG("sender: %s; receiver QP state %d", ibv_wc_status_str(wc.status),
	       qp_state(rp.b));
}

TEST_V(rc, ring_rq_random)
{
	struct env *e = &self->e;

	REQUIRE_VRDMA();
	rq_garbage(_metadata, e, RQG_RANDOM, false);
}

/* Hostile WQEs in an SRQ's ring. */
TEST_V(rc, ring_srq_garbage)
{
	struct env *e = &self->e;
	struct garbage_outcome o;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 32, .max_sge = 1 } };
	struct snap before, after;
	struct ring srq_ring;
	struct ibv_srq *srq;
	struct ibv_cq *scq = t_cq(_metadata, e, 64, NULL), *rcq = t_cq(_metadata, e, 64, NULL);
	struct qp_cfg cfg = rc_cfg;
	struct ibv_qp *s, *r;
	struct ibv_wc wc;

	REQUIRE_VRDMA();
	if (!e->d.attr.max_srq)
		SKIP(return, "device has no SRQ");
	snap_take(&before);
	srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, srq);
	track(e, RES_SRQ, srq, 0);
	snap_take(&after);
	ASSERT_EQ(1, snap_new(&before, &after, &srq_ring, 1));
	ASSERT_TRUE(ring_sane(&srq_ring));
	s = t_qp(_metadata, e, e->pd, scq, scq, &rc_cfg, NULL);
	cfg.srq = srq;
	r = t_qp(_metadata, e, e->pd, scq, rcq, &cfg, NULL);
	connect_pair(_metadata, e, s, r, &conn_impatient);
	rq_garbage_ring(e, &srq_ring, RQG_HUGE_NUM_SGE, 2);
	rq_garbage_ring(e, &srq_ring, RQG_BAD_LKEY, 2);
	usleep(200000);
	ASSERT_EQ(0, post_send(s, DOORBELL_ID, IBV_WR_SEND, IBV_SEND_SIGNALED,
			       e->buf[0], 64, e->mr[0]->lkey, 0, 0));
	o = collect_garbage(_metadata, r, rcq, 0);
	EXPECT_EQ(0, o.garbage_ok) TH_LOG("a hostile WQE completed successfully");
	/* An SRQ's WQE belongs to no QP until one takes it: an error
	 * completion, the QP in error or the SRQ in error (async event)
	 * are all fair ways to tell; silence is not. */
	if (!o.errors && o.state != IBV_QPS_ERR) {
		int ev = wait_async(_metadata, e->d.ctx, IBV_EVENT_SRQ_ERR, srq, QUIET_MS);

		if (!ev)
			TH_LOG("the SRQ reported IBV_EVENT_SRQ_ERR");
		EXPECT_EQ(0, ev)
			TH_LOG("hostile SRQ WQEs vanished: no error completion, QP in error or SRQ error event");
	}
	WAIT_WC(scq, &wc);
	TH_LOG("sender: %s", ibv_wc_status_str(wc.status));
	EXPECT_NE(IBV_WC_SUCCESS, wc.status);
}

/* An SRQ with its ring located. */
static struct ibv_srq *srq_with_ring(struct env *e, uint32_t max_wr,
				     struct ring *ring)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = max_wr, .max_sge = 1 } };
	struct snap before, after;
	struct ibv_srq *srq;

	snap_take(&before);
	srq = ibv_create_srq(e->pd, &sa);
	if (!srq)
		return NULL;
	track(e, RES_SRQ, srq, 0);
	snap_take(&after);
	if (snap_new(&before, &after, ring, 1) != 1 || !ring_sane(ring))
		return NULL;
	return srq;
}

/* Wait until the kernel took every WQE of @ring: 0, else -1. */
static int ring_wait_empty(const struct ring *ring, int tmo_ms)
{
	uint64_t end = now_ms() + tmo_ms;

	while (ring_pending(ring)) {
		if (now_ms() > end)
			return -1;
		usleep(1000);
	}
	return 0;
}

/* Read and acknowledge every pending async event (waiting @quiet_ms for
 * stragglers): the number of @type on @elem.  Unacknowledged events would
 * make the teardown's ibv_destroy_srq() wait forever. */
static int drain_async(struct ibv_context *ctx, enum ibv_event_type type,
		       void *elem, int quiet_ms)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	int fl = fcntl(ctx->async_fd, F_GETFL), n = 0;
	struct ibv_async_event ev;

	fcntl(ctx->async_fd, F_SETFL, fl | O_NONBLOCK);
	while (poll(&pfd, 1, quiet_ms) > 0) {
		if (ibv_get_async_event(ctx, &ev))
			continue;
		if (ev.event_type == type && ev.element.srq == elem)
			n++;
		ibv_ack_async_event(&ev);
	}
	return n;
}

/*
 * Invalid SRQ WQEs belong to no QP: the SRQ reports them with
 * IBV_EVENT_SRQ_ERR, once.  An event per WQE would let a process that
 * never reads its events make the kernel queue without bound (ib_uverbs
 * allocates each).  ibv_modify_srq() re-arms the report.
 */
TEST_V(rc, ring_srq_err_once)
{
	struct env *e = &self->e;
	struct ibv_srq_attr attr = { .srq_limit = 0 };
	struct ring ring;
	struct ibv_srq *srq;
	int round, n;

	REQUIRE_VRDMA();
	if (!e->d.attr.max_srq)
		SKIP(return, "device has no SRQ");
	srq = srq_with_ring(e, 256, &ring);
	ASSERT_NE(NULL, srq);
	for (round = 0; round < 20; round++) {
		rq_garbage_ring(e, &ring, RQG_BAD_LKEY, 200);
		/* Arming a CQ is a sign of life: the rings are scanned. */
		ASSERT_EQ(0, ibv_req_notify_cq(e->cq[0], 0));
		ASSERT_EQ(0, ring_wait_empty(&ring, TMO_MS))
			TH_LOG("round %d: %u invalid WQEs left in the ring", round,
			       ring_pending(&ring));
	}
	n = drain_async(e->d.ctx, IBV_EVENT_SRQ_ERR, srq, QUIET_MS);
	EXPECT_EQ(1, n) TH_LOG("4000 invalid SRQ WQEs: %d IBV_EVENT_SRQ_ERR", n);

	ASSERT_EQ(0, ibv_modify_srq(srq, &attr, IBV_SRQ_LIMIT));
	rq_garbage_ring(e, &ring, RQG_BAD_LKEY, 10);
	ASSERT_EQ(0, ibv_req_notify_cq(e->cq[0], 0));
	ASSERT_EQ(0, ring_wait_empty(&ring, TMO_MS));
	n = drain_async(e->d.ctx, IBV_EVENT_SRQ_ERR, srq, QUIET_MS);
	EXPECT_EQ(1, n) TH_LOG("after ibv_modify_srq(): %d IBV_EVENT_SRQ_ERR", n);
}

/*
 * The kernel takes receive WQEs from the rings with interrupts off: one
 * scan takes a bounded number of them.  A ring made of invalid WQEs
 * (which cost nothing to post) is drained over many scans, and drained
 * completely.
 */
TEST_V(rc, ring_refill_budget)
{
	struct env *e = &self->e;
	uint32_t max_wr, n, taken;
	struct ring ring;
	struct ibv_srq *srq;

	REQUIRE_VRDMA();
	if (!e->d.attr.max_srq)
		SKIP(return, "device has no SRQ");
	max_wr = e->d.attr.max_srq_wr < 16384 ? e->d.attr.max_srq_wr : 16384;
	srq = srq_with_ring(e, max_wr, &ring);
	ASSERT_NE(NULL, srq);
	n = ring.mask;		/* the ring's capacity */
	rq_garbage_ring(e, &ring, RQG_BAD_LKEY, n);
	ASSERT_EQ(0, ibv_req_notify_cq(e->cq[0], 0));
	taken = n - ring_pending(&ring);
	TH_LOG("%u of %u invalid WQEs taken when the kick returned", taken, n);
	EXPECT_LT(taken, n / 2) TH_LOG("one scan took %u WQEs", taken);
	EXPECT_EQ(0, ring_wait_empty(&ring, TMO_MS))
		TH_LOG("%u invalid WQEs left in the ring", ring_pending(&ring));
	drain_async(e->d.ctx, IBV_EVENT_SRQ_ERR, srq, QUIET_MS);
}

/* ======================================================================== */
/* QP attributes, loopback to itself */

TEST_V(rc, query_qp)
{
	struct env *e = &self->e;
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;
	struct ibv_cq *cq = t_cq(_metadata, e, 16, NULL);
	struct ibv_qp *q, *ud;
	int mask = IBV_QP_STATE | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
		   IBV_QP_SQ_PSN | IBV_QP_AV | IBV_QP_CAP | IBV_QP_ACCESS_FLAGS |
		   IBV_QP_MAX_QP_RD_ATOMIC | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_TIMEOUT |
		   IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_MIN_RNR_TIMER |
		   IBV_QP_PORT | IBV_QP_PKEY_INDEX;
	char s1[INET6_ADDRSTRLEN], s2[INET6_ADDRSTRLEN];

	memset(&a, 0, sizeof(a));
	ASSERT_EQ(0, ibv_query_qp(e->qp[0], &a, mask, &ia));
	EXPECT_EQ(IBV_QPS_RTS, a.qp_state);
	EXPECT_EQ(e->qp[1]->qp_num, a.dest_qp_num);
	EXPECT_EQ(PSN_B, a.rq_psn);
	EXPECT_EQ(PSN_A, a.sq_psn);
	EXPECT_EQ(e->d.pattr.active_mtu, a.path_mtu);
	EXPECT_EQ(1, a.ah_attr.is_global);
	EXPECT_EQ(0, memcmp(&a.ah_attr.grh.dgid, &e->d.gid, 16))
		TH_LOG("dgid %s, set %s", gid_str(&a.ah_attr.grh.dgid, s1),
		       gid_str(&e->d.gid, s2));
	EXPECT_EQ(e->d.gid_index, a.ah_attr.grh.sgid_index);
	EXPECT_EQ(e->d.port, a.ah_attr.port_num);
	EXPECT_EQ(e->d.port, a.port_num);
	EXPECT_EQ(0, a.pkey_index);
	EXPECT_EQ(14, a.timeout);
	EXPECT_EQ(7, a.retry_cnt);
	EXPECT_EQ(7, a.rnr_retry);
	EXPECT_EQ(1, a.min_rnr_timer);
	EXPECT_EQ(qp_access(e), (int)a.qp_access_flags);
	EXPECT_EQ(rd_atom(e->d.attr.max_qp_init_rd_atom), a.max_rd_atomic);
	EXPECT_EQ(rd_atom(e->d.attr.max_qp_rd_atom), a.max_dest_rd_atomic);
	EXPECT_LE(128, a.cap.max_send_wr);
	EXPECT_LE(128, a.cap.max_recv_wr);
	EXPECT_LE(4, a.cap.max_send_sge);
	EXPECT_LE(4, a.cap.max_recv_sge);
	EXPECT_LE(128, ia.cap.max_send_wr);

	/* Through the states of a fresh QP. */
	q = t_qp(_metadata, e, e->pd, cq, cq, &rc_cfg, NULL);
	EXPECT_EQ(IBV_QPS_RESET, qp_state(q));
	/* RESET -> RTS is not a valid transition. */
	EXPECT_NE(0, qp_rts(e, q, 0, &conn_default));
	EXPECT_EQ(IBV_QPS_RESET, qp_state(q));
	ASSERT_EQ(0, qp_init(e, q, IBV_ACCESS_REMOTE_READ | IBV_ACCESS_LOCAL_WRITE));
	EXPECT_EQ(IBV_QPS_INIT, qp_state(q));
	/*
	 * On its own host, vrdma refuses a destination that is no QP of the
	 * QP's virtual network (Documentation/security.rst); rxe takes any.
	 */
	if (e->d.vrdma) {
		EXPECT_EQ(EPERM, qp_rtr(e, q, 0xabcd, &e->d.gid, 77));
		EXPECT_EQ(IBV_QPS_INIT, qp_state(q));
	}
	ASSERT_EQ(0, qp_rtr(e, q, e->qp[1]->qp_num, &e->d.gid, 77));
	memset(&a, 0, sizeof(a));
	ASSERT_EQ(0, ibv_query_qp(q, &a, mask, &ia));
	EXPECT_EQ(IBV_QPS_RTR, a.qp_state);
	EXPECT_EQ(e->qp[1]->qp_num, a.dest_qp_num);
	EXPECT_EQ(77, a.rq_psn);
	EXPECT_EQ(IBV_ACCESS_REMOTE_READ | IBV_ACCESS_LOCAL_WRITE, (int)a.qp_access_flags);
	{
		struct ibv_qp_attr m = { .qp_state = IBV_QPS_ERR };

		ASSERT_EQ(0, ibv_modify_qp(q, &m, IBV_QP_STATE));
		EXPECT_EQ(IBV_QPS_ERR, qp_state(q));
		m.qp_state = IBV_QPS_RESET;
		ASSERT_EQ(0, ibv_modify_qp(q, &m, IBV_QP_STATE));
		EXPECT_EQ(IBV_QPS_RESET, qp_state(q));
	}
	/* UD: the Q_Key. */
	ud = ud_qp(_metadata, e, cq);
	memset(&a, 0, sizeof(a));
	ASSERT_EQ(0, ibv_query_qp(ud, &a, IBV_QP_STATE | IBV_QP_QKEY, &ia));
	EXPECT_EQ(IBV_QPS_RTS, a.qp_state);
	EXPECT_EQ(QKEY, a.qkey);
}

TEST_V(rc, qp_connected_to_itself)
{
	struct env *e = &self->e;
	struct ibv_cq *cq = t_cq(_metadata, e, 64, NULL);
	struct ibv_qp *q = t_qp(_metadata, e, e->pd, cq, cq, &rc_cfg, NULL);
	struct ibv_wc wc[2];
	int i;

	ASSERT_EQ(0, qp_init(e, q, qp_access(e)));
	ASSERT_EQ(0, qp_rtr(e, q, q->qp_num, &e->d.gid, PSN_A));
	ASSERT_EQ(0, qp_rts(e, q, PSN_A, &conn_default));
	fill(e->buf[0], 3000, 4);
	ASSERT_EQ(0, post_recv(q, 1, e->buf[0] + 10000, 4096, e->mr[0]->lkey));
	ASSERT_EQ(0, post_send(q, 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 3000,
			       e->mr[0]->lkey, 0, 0));
	ASSERT_EQ(2, poll_n(cq, wc, 2, TMO_MS));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(IBV_WC_SUCCESS, wc[i].status);
		if (wc[i].opcode == IBV_WC_RECV) {
			ASSERT_EQ(1, wc[i].wr_id);
			ASSERT_EQ(3000, wc[i].byte_len);
		} else {
			ASSERT_EQ(IBV_WC_SEND, wc[i].opcode);
			ASSERT_EQ(2, wc[i].wr_id);
		}
	}
	ASSERT_SAME(e->buf[0] + 10000, e->buf[0], 3000);
	ASSERT_EQ(0, post_send(q, 3, IBV_WR_RDMA_WRITE, IBV_SEND_SIGNALED, e->buf[0], 2000,
			       e->mr[0]->lkey, (uintptr_t)e->buf[0] + 20000, e->mr[0]->rkey));
	WAIT_WC(cq, wc);
	CHECK_WC(&wc[0], 3, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE);
	ASSERT_SAME(e->buf[0] + 20000, e->buf[0], 2000);
}

/* ======================================================================== */
/* CQ resize and overflow */

TEST_V(rc, cq_resize_keeps_pending)
{
	struct env *e = &self->e;
	struct ibv_cq *cq, *bcq = t_cq(_metadata, e, 512, NULL);
	struct ibv_qp *a, *b;
	struct ring ring;
	struct ibv_wc wc[128];
	uint64_t end;
	int i;

	find_cq_ring(_metadata, e, &cq, 16, &ring);
	a = t_qp(_metadata, e, e->pd, cq, cq, &rc_cfg, NULL);
	b = t_qp(_metadata, e, e->pd, bcq, bcq, &rc_cfg, NULL);
	connect_pair(_metadata, e, a, b, &conn_default);
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, post_recv(b, i, e->buf[1], 64, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(a, i, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				       e->mr[0]->lkey, 0, 0));
	}
	/* All ten are in the ring, unpolled. */
	end = now_ms() + TMO_MS;
	while (ring_pending(&ring) < 10 && now_ms() < end)
		usleep(1000);
	ASSERT_EQ(10, ring_pending(&ring));
	ASSERT_EQ(0, ibv_resize_cq(cq, 256)) TH_LOG("ibv_resize_cq: %s", strerror(errno));
	EXPECT_LE(256, cq->cqe);
	ASSERT_EQ(10, poll_n(cq, wc, 10, TMO_MS));
	for (i = 0; i < 10; i++)
		CHECK_WC(&wc[i], i, IBV_WC_SUCCESS, IBV_WC_SEND);
	/* The new size is usable: 100 completions pending at once. */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, post_recv(b, i, e->buf[1], 64, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(a, 100 + i, IBV_WR_SEND, IBV_SEND_SIGNALED,
				       e->buf[0], 8, e->mr[0]->lkey, 0, 0));
	}
	/* 10 receives of the first round were never polled. */
	ASSERT_EQ(110, poll_n(bcq, wc, 110, TMO_MS));
	ASSERT_EQ(100, poll_n(cq, wc, 100, TMO_MS));
	for (i = 0; i < 100; i++)
		CHECK_WC(&wc[i], 100 + i, IBV_WC_SUCCESS, IBV_WC_SEND);
}

TEST_V(rc, cq_resize_below_pending_fails)
{
	struct env *e = &self->e;
	struct ibv_cq *cq, *bcq = t_cq(_metadata, e, 512, NULL);
	struct ibv_qp *a, *b;
	struct ring ring;
	struct ibv_wc wc[32];
	uint64_t end;
	int i;

	find_cq_ring(_metadata, e, &cq, 64, &ring);
	a = t_qp(_metadata, e, e->pd, cq, cq, &rc_cfg, NULL);
	b = t_qp(_metadata, e, e->pd, bcq, bcq, &rc_cfg, NULL);
	connect_pair(_metadata, e, a, b, &conn_default);
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, post_recv(b, i, e->buf[1], 64, e->mr[1]->lkey));
		ASSERT_EQ(0, post_send(a, i, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				       e->mr[0]->lkey, 0, 0));
	}
	end = now_ms() + TMO_MS;
	while (ring_pending(&ring) < 20 && now_ms() < end)
		usleep(1000);
	ASSERT_EQ(20, ring_pending(&ring));
	EXPECT_NE(0, ibv_resize_cq(cq, 4)) TH_LOG("shrinking below 20 pending CQEs succeeded");
	ASSERT_EQ(20, poll_n(cq, wc, 20, TMO_MS));
	for (i = 0; i < 20; i++)
		CHECK_WC(&wc[i], i, IBV_WC_SUCCESS, IBV_WC_SEND);
	/* Empty, it may shrink. */
	EXPECT_EQ(0, ibv_resize_cq(cq, 8));
	ASSERT_EQ(0, post_recv(b, 99, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(a, 99, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(cq, wc);
	CHECK_WC(&wc[0], 99, IBV_WC_SUCCESS, IBV_WC_SEND);
}

TEST_V(rc, cq_overflow_event)
{
	struct env *e = &self->e;
	struct ibv_cq *cq, *bcq = t_cq(_metadata, e, 512, NULL);
	struct ibv_qp *a, *b;
	struct ring ring;
	struct ibv_wc wc;
	int i, n;

	/* More completions than the ring really holds (a device may round
	 * a CQ up beyond the cqe it reports). */
	find_cq_ring(_metadata, e, &cq, 4, &ring);
	n = (cq->cqe > (int)ring.mask ? cq->cqe : (int)ring.mask) + 16;
	ASSERT_GE(100, n) TH_LOG("a CQ of 4 holds %u", ring.mask);
	a = t_qp(_metadata, e, e->pd, cq, cq, &rc_cfg, NULL);
	b = t_qp(_metadata, e, e->pd, bcq, bcq, &rc_cfg, NULL);
	connect_pair(_metadata, e, a, b, &conn_default);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, post_recv(b, i, e->buf[1], 64, e->mr[1]->lkey));
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, post_send(a, i, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
				       e->mr[0]->lkey, 0, 0));
	}
	EXPECT_EQ(0, wait_async(_metadata, e->d.ctx, IBV_EVENT_CQ_ERR, cq, TMO_MS))
		TH_LOG("no IBV_EVENT_CQ_ERR after %d completions on a CQ of %d", n, cq->cqe);
	/* The rest of the device is unaffected. */
	ASSERT_EQ(0, post_recv(e->qp[1], 1, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(e->qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_SEND);
}

/* ======================================================================== */
/* error paths */

static uint32_t dead_key(struct __test_metadata *_metadata, struct env *e, bool rkey)
{
	struct ibv_mr *mr = t_mr(_metadata, e, e->pd, e->buf[0], 4096, ACCESS_ALL);
	uint32_t k = rkey ? mr->rkey : mr->lkey;

	t_destroy(_metadata, e, RES_MR, mr);
	return k;
}

/*
 * The status of a send that failed locally (bad lkey, MR of another PD):
 * LOC_PROT_ERR or LOC_QP_OP_ERR.  Native rxe (6.1, 6.12) sets it, moves the
 * QP to error, and then its flush overwrites it with WR_FLUSH_ERR; that is
 * tolerated there only.  vrdma validates work requests itself and must
 * report the real cause.
 */
static bool local_err(struct __test_metadata *_metadata, const struct env *e,
		      enum ibv_wc_status s)
{
	if (s == IBV_WC_LOC_PROT_ERR || s == IBV_WC_LOC_QP_OP_ERR)
		return true;
	if (!e->d.vrdma && s == IBV_WC_WR_FLUSH_ERR) {
		TH_LOG("tolerated on native rxe only: the failed WR itself reports %s",
		       ibv_wc_status_str(s));
		return true;
	}
	return false;
}

TEST_V(rc, err_send_bad_lkey)
{
	struct env *e = &self->e;
	uint32_t bad = dead_key(_metadata, e, false);
	struct ibv_wc wc[4];
	int i, r;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, post_recv(e->qp[1], i, e->buf[1], 4096, e->mr[1]->lkey));
	}
	ASSERT_EQ(0, post_send(e->qp[0], 1, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 100,
			       bad, 0, 0));
	ASSERT_EQ(0, post_send(e->qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 100,
			       e->mr[0]->lkey, 0, 0));
	ASSERT_EQ(0, post_send(e->qp[0], 3, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 100,
			       e->mr[0]->lkey, 0, 0));
	ASSERT_EQ(3, poll_n(e->cq[0], wc, 3, TMO_MS));
	ASSERT_EQ(1, wc[0].wr_id);
	ASSERT_TRUE(local_err(_metadata, e, wc[0].status))
		TH_LOG("bad lkey: %s", ibv_wc_status_str(wc[0].status));
	CHECK_WC(&wc[1], 2, IBV_WC_WR_FLUSH_ERR, 0);
	CHECK_WC(&wc[2], 3, IBV_WC_WR_FLUSH_ERR, 0);
	EXPECT_EQ(IBV_QPS_ERR, wait_state(e->qp[0], IBV_QPS_ERR, 2000));
	/* Nothing reached the peer. */
	EXPECT_EQ(0, poll_n(e->cq[1], wc, 1, QUIET_MS));
	/* A later post on the QP in error is refused or flushed. */
	r = post_send(e->qp[0], 4, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 100,
		      e->mr[0]->lkey, 0, 0);
	if (!r) {
		WAIT_WC(e->cq[0], wc);
		CHECK_WC(&wc[0], 4, IBV_WC_WR_FLUSH_ERR, 0);
	}
}

TEST_V(rc, err_recv_bad_lkey)
{
	struct env *e = &self->e;
	uint32_t bad = dead_key(_metadata, e, false);
	struct ibv_wc wc;
	struct pair p;

	new_pair(_metadata, e, &p, &rc_cfg, &conn_impatient);
	ASSERT_EQ(0, post_recv(p.qp[1], 1, e->buf[1], 4096, bad));
	ASSERT_EQ(0, post_recv(p.qp[1], 2, e->buf[1], 4096, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(p.qp[0], 10, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 64,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(p.cq[1], &wc);
	ASSERT_EQ(1, wc.wr_id);
	ASSERT_NE(IBV_WC_SUCCESS, wc.status);
	TH_LOG("receiver: %s", ibv_wc_status_str(wc.status));
	WAIT_WC(p.cq[1], &wc);
	CHECK_WC(&wc, 2, IBV_WC_WR_FLUSH_ERR, 0);
	WAIT_WC(p.cq[0], &wc);
	ASSERT_EQ(10, wc.wr_id);
	ASSERT_NE(IBV_WC_SUCCESS, wc.status);
	TH_LOG("sender: %s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(IBV_QPS_ERR, wait_state(p.qp[1], IBV_QPS_ERR, 2000));
}

static void remote_access_err(struct __test_metadata *_metadata, struct env *e,
			      enum ibv_wr_opcode op, uint8_t *raddr, uint32_t rkey,
			      uint32_t len)
{
	uint8_t *guard = e->buf[1] + BUF_SIZE - 8192;
	struct ibv_wc wc;
	struct pair p;

	new_pair(_metadata, e, &p, &rc_cfg, &conn_default);
	memset(guard, 0x3c, 8192);
	fill(e->buf[0], len, 3);
	ASSERT_EQ(0, post_send(p.qp[0], 1, op, IBV_SEND_SIGNALED, e->buf[0], len,
			       e->mr[0]->lkey, (uintptr_t)raddr, rkey));
	WAIT_WC(p.cq[0], &wc);
	CHECK_WC(&wc, 1, IBV_WC_REM_ACCESS_ERR, 0);
	EXPECT_EQ(IBV_QPS_ERR, wait_state(p.qp[0], IBV_QPS_ERR, 2000));
	for (int i = 0; i < 8192; i++) {
		ASSERT_EQ(0x3c, guard[i]) TH_LOG("byte %d of the target changed", i);
	}
}

TEST_V(rc, err_write_bad_rkey)
{
	struct env *e = &self->e;

	remote_access_err(_metadata, e, IBV_WR_RDMA_WRITE, e->buf[1] + BUF_SIZE - 8192,
			  dead_key(_metadata, e, true), 4096);
}

TEST_V(rc, err_write_out_of_bounds)
{
	struct env *e = &self->e;
	uint8_t *m = e->buf[1] + BUF_SIZE - 8192;
	struct ibv_mr *mr = t_mr(_metadata, e, e->pd, m, 4096, ACCESS_ALL);

	/* 100 bytes past the end of a 4 KiB MR. */
	remote_access_err(_metadata, e, IBV_WR_RDMA_WRITE, m + 4096 - 100, mr->rkey, 200);
}

TEST_V(rc, err_write_without_remote_write)
{
	struct env *e = &self->e;
	uint8_t *m = e->buf[1] + BUF_SIZE - 8192;
	struct ibv_mr *mr = t_mr(_metadata, e, e->pd, m, 8192,
				 IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);

	remote_access_err(_metadata, e, IBV_WR_RDMA_WRITE, m, mr->rkey, 64);
}

TEST_V(rc, err_read_bad_rkey)
{
	struct env *e = &self->e;

	if (!e->d.attr.max_qp_rd_atom)
		SKIP(return, "device allows no RDMA READ");
	remote_access_err(_metadata, e, IBV_WR_RDMA_READ, e->buf[1] + BUF_SIZE - 8192,
			  dead_key(_metadata, e, true), 4096);
}

TEST_V(rc, err_mr_of_other_pd)
{
	struct env *e = &self->e;
	struct ibv_pd *pd2 = t_pd(_metadata, e);
	uint8_t *m = t_mem(_metadata, e, 65536);
	struct ibv_mr *mr2 = t_mr(_metadata, e, pd2, m, 65536, ACCESS_ALL);
	struct ibv_wc wc;
	struct pair p;

	/* As a send's source. */
	new_pair(_metadata, e, &p, &rc_cfg, &conn_impatient);
	ASSERT_EQ(0, post_recv(p.qp[1], 1, e->buf[1], 4096, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(p.qp[0], 1, IBV_WR_SEND, IBV_SEND_SIGNALED, m, 64,
			       mr2->lkey, 0, 0));
	WAIT_WC(p.cq[0], &wc);
	ASSERT_EQ(1, wc.wr_id);
	ASSERT_TRUE(local_err(_metadata, e, wc.status)) TH_LOG("send: %s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, poll_n(p.cq[1], &wc, 1, QUIET_MS));

	/* As an RDMA WRITE target (rkey of the other PD). */
	memset(m, 0x11, 4096);
	new_pair(_metadata, e, &p, &rc_cfg, &conn_impatient);
	ASSERT_EQ(0, post_send(p.qp[0], 2, IBV_WR_RDMA_WRITE, IBV_SEND_SIGNALED, e->buf[0],
			       64, e->mr[0]->lkey, (uintptr_t)m, mr2->rkey));
	WAIT_WC(p.cq[0], &wc);
	CHECK_WC(&wc, 2, IBV_WC_REM_ACCESS_ERR, 0);
	ASSERT_EQ(0x11, m[0]);

	/* As a receive buffer. */
	new_pair(_metadata, e, &p, &rc_cfg, &conn_impatient);
	ASSERT_EQ(0, post_recv(p.qp[1], 3, m, 4096, mr2->lkey));
	ASSERT_EQ(0, post_send(p.qp[0], 3, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 64,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(p.cq[1], &wc);
	ASSERT_EQ(3, wc.wr_id);
	ASSERT_NE(IBV_WC_SUCCESS, wc.status);
	WAIT_WC(p.cq[0], &wc);
	ASSERT_NE(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(0x11, m[0]);
}

/* ======================================================================== */
/* async events */

TEST_V(rc, async_last_wqe_reached)
{
	struct env *e = &self->e;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct ibv_cq *cq = t_cq(_metadata, e, 64, NULL);
	struct qp_cfg cfg = rc_cfg;
	struct ibv_qp_attr m = { .qp_state = IBV_QPS_ERR };
	struct ibv_async_event ev;
	struct pollfd pfd;
	struct ibv_srq *srq;
	struct ibv_qp *s, *r;
	bool seen = false;
	uint64_t end;

	if (!e->d.attr.max_srq)
		SKIP(return, "device has no SRQ");
	srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, srq);
	track(e, RES_SRQ, srq, 0);
	s = t_qp(_metadata, e, e->pd, cq, cq, &rc_cfg, NULL);
	cfg.srq = srq;
	r = t_qp(_metadata, e, e->pd, cq, cq, &cfg, NULL);
	connect_pair(_metadata, e, s, r, &conn_default);
	ASSERT_EQ(0, ibv_modify_qp(r, &m, IBV_QP_STATE));
	pfd = (struct pollfd){ .fd = e->d.ctx->async_fd, .events = POLLIN };
	fcntl(pfd.fd, F_SETFL, fcntl(pfd.fd, F_GETFL) | O_NONBLOCK);
	for (end = now_ms() + 3000; now_ms() < end;) {
		if (poll(&pfd, 1, 100) <= 0 || ibv_get_async_event(e->d.ctx, &ev))
			continue;
		ibv_ack_async_event(&ev);
		TH_LOG("async event %s", ibv_event_type_str(ev.event_type));
		if (ev.event_type == IBV_EVENT_QP_LAST_WQE_REACHED) {
			ASSERT_EQ(r, ev.element.qp) TH_LOG("LAST_WQE_REACHED for another QP");
			seen = true;
		}
	}
	if (!seen)
		SKIP(return, "no IBV_EVENT_QP_LAST_WQE_REACHED (optional)");
}

/* ======================================================================== */
/* destruction in odd orders */

TEST_V(rc, destroy_busy_objects)
{
	struct env *e = &self->e;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct qp_cfg cfg = rc_cfg;
	struct ibv_srq *srq;
	struct ibv_qp *q;
	struct ibv_wc wc;

	EXPECT_EQ(EBUSY, ibv_destroy_cq(e->cq[0]));
	EXPECT_EQ(EBUSY, ibv_dealloc_pd(e->pd));
	if (e->d.attr.max_srq) {
		srq = ibv_create_srq(e->pd, &sa);
		ASSERT_NE(NULL, srq);
		track(e, RES_SRQ, srq, 0);
		cfg.srq = srq;
		q = t_qp(_metadata, e, e->pd, e->cq[0], e->cq[0], &cfg, NULL);
		EXPECT_EQ(EBUSY, ibv_destroy_srq(srq));
		t_destroy(_metadata, e, RES_QP, q);
		t_destroy(_metadata, e, RES_SRQ, srq);
	}
	/* Nothing was half-destroyed. */
	ASSERT_EQ(0, post_recv(e->qp[1], 1, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(e->qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_SEND);
}

TEST_F_TIMEOUT(rc, dereg_mr_in_flight, 90)
{
	struct env *e = &self->e;
	size_t len = 4u << 20;
	uint8_t *src = t_mem(_metadata, e, len);
	struct ibv_mr *mr = ibv_reg_mr(e->pd, src, len, ACCESS_ALL);
	struct ibv_wc wc[64];
	int i, n = 32, ok = 0, failed = 0;
	struct pair p;

	ASSERT_NE(NULL, mr);
	fill(src, len, 8);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, post_send(e->qp[0], i, i & 1 ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ,
				       IBV_SEND_SIGNALED, src + (size_t)i * 65536, 65536,
				       mr->lkey, (uintptr_t)e->buf[1] + (i % 16) * 65536,
				       e->mr[1]->rkey));
	}
	ASSERT_EQ(0, ibv_dereg_mr(mr));
	ASSERT_EQ(n, poll_n(e->cq[0], wc, n, 60000));
	for (i = 0; i < n; i++) {
		ASSERT_EQ((uint64_t)i, wc[i].wr_id);
		if (wc[i].status == IBV_WC_SUCCESS) {
			ASSERT_EQ(0, failed) TH_LOG("success after an error");
			ok++;
		} else {
			failed++;
		}
	}
	TH_LOG("%d completed, %d failed after the MR was deregistered", ok, failed);
	/* The device is fine. */
	new_pair(_metadata, e, &p, &rc_cfg, &conn_default);
	ASSERT_EQ(0, post_recv(p.qp[1], 1, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(p.qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(p.cq[0], wc);
	CHECK_WC(&wc[0], 2, IBV_WC_SUCCESS, IBV_WC_SEND);
}

TEST_F_TIMEOUT(rc, destroy_qp_with_outstanding_wrs, 60)
{
	struct env *e = &self->e;
	struct pair p;
	struct ibv_wc wc;
	int i;

	new_pair(_metadata, e, &p, &rc_cfg, &conn_default);
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, post_recv(p.qp[1], i, e->buf[1] + (i % 16) * 65536, 65536,
				       e->mr[1]->lkey));
	}
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0, post_recv(p.qp[0], i, e->buf[0], 64, e->mr[0]->lkey));
	}
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, post_send(p.qp[0], i, i % 3 ? IBV_WR_SEND : IBV_WR_RDMA_WRITE,
				       IBV_SEND_SIGNALED, e->buf[0], 65536, e->mr[0]->lkey,
				       (uintptr_t)e->buf[1], e->mr[1]->rkey));
	}
	t_destroy(_metadata, e, RES_QP, p.qp[0]);
	t_destroy(_metadata, e, RES_QP, p.qp[1]);
	/* The CQs are no longer in use. */
	t_destroy(_metadata, e, RES_CQ, p.cq[0]);
	t_destroy(_metadata, e, RES_CQ, p.cq[1]);
	new_pair(_metadata, e, &p, &rc_cfg, &conn_default);
	ASSERT_EQ(0, post_recv(p.qp[1], 1, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(p.qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(p.cq[0], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_SEND);
	WAIT_WC(p.cq[1], &wc);
	CHECK_WC(&wc, 1, IBV_WC_SUCCESS, IBV_WC_RECV);
}

/* ---- process exit with everything open ---- */

struct res_counts {
	long v[6];	/* pd cq qp mr ctx srq */
};

static const char *const count_names[6] = { "pd", "cq", "qp", "mr", "ctx", "srq" };

/* Object counts of the device from "rdma resource show" (a line
 * "N: DEV: pd 1 cq 2 qp 1 cm_id 0 mr 0 ctx 0 srq 0"); 0 or -1. */
static int res_counts(const char *dev, struct res_counts *c)
{
	char line[512], want[80], *tok, *save;
	int found = 0;
	FILE *f;

	f = popen("rdma resource show 2>/dev/null", "r");
	if (!f)
		return -1;
	memset(c, 0, sizeof(*c));
	snprintf(want, sizeof(want), "%s:", dev);
	while (fgets(line, sizeof(line), f)) {
		tok = strtok_r(line, " \n", &save);
		tok = tok ? strtok_r(NULL, " \n", &save) : NULL;
		if (!tok || strcmp(tok, want))
			continue;
		while ((tok = strtok_r(NULL, " \n", &save)))
			for (int i = 0; i < 6; i++)
				if (!strcmp(tok, count_names[i])) {
					char *v = strtok_r(NULL, " \n", &save);

					if (!v)
						break;
					c->v[i] = atol(v);
					found++;
				}
	}
	if (pclose(f) || found < 4)
		return -1;
	return 0;
}

/* The child: everything open and busy, then it dies (mode 0: exit,
 * 1: SIGKILL, 2: ibv_close_device() first). */
static int child_workload(int mode)
{
	static struct env e;
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2], *ud, *sq;
	struct ibv_srq *srq;
	struct ibv_mr *mr[2];
	struct ibv_ah *ah;
	uint8_t *buf[2];
	char why[256];
	int i;

	if (dev_open(&e.d, why, sizeof(why)))
		return 10;
	e.pd = ibv_alloc_pd(e.d.ctx);
	ch = ibv_create_comp_channel(e.d.ctx);
	if (!e.pd || !ch)
		return 11;
	for (i = 0; i < 2; i++) {
		struct ibv_qp_init_attr a = {
			.cap = { 256, 256, 1, 1, 0 }, .qp_type = IBV_QPT_RC,
		};

		buf[i] = malloc(BUF_SIZE);
		mr[i] = buf[i] ? ibv_reg_mr(e.pd, buf[i], BUF_SIZE, ACCESS_ALL) : NULL;
		cq[i] = ibv_create_cq(e.d.ctx, 1024, NULL, ch, 0);
		if (!mr[i] || !cq[i])
			return 12;
		a.send_cq = a.recv_cq = cq[i];
		qp[i] = ibv_create_qp(e.pd, &a);
		if (!qp[i] || ibv_req_notify_cq(cq[i], 0))
			return 13;
	}
	if (qp_init(&e, qp[0], ACCESS_ALL) || qp_init(&e, qp[1], ACCESS_ALL) ||
	    qp_rtr(&e, qp[0], qp[1]->qp_num, &e.d.gid, PSN_B) ||
	    qp_rtr(&e, qp[1], qp[0]->qp_num, &e.d.gid, PSN_A) ||
	    qp_rts(&e, qp[0], PSN_A, &conn_default) || qp_rts(&e, qp[1], PSN_B, &conn_default))
		return 14;
	{
		struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };
		struct ibv_qp_init_attr a = {
			.send_cq = cq[0], .recv_cq = cq[0], .cap = { 16, 16, 1, 1, 0 },
			.qp_type = IBV_QPT_UD,
		};
		struct ibv_ah_attr aa = {
			.is_global = 1, .port_num = e.d.port,
			.grh = { .dgid = e.d.gid, .sgid_index = e.d.gid_index, .hop_limit = 64 },
		};

		ud = ibv_create_qp(e.pd, &a);
		ah = ibv_create_ah(e.pd, &aa);
		srq = e.d.attr.max_srq ? ibv_create_srq(e.pd, &sa) : NULL;
		a.qp_type = IBV_QPT_RC;
		a.srq = srq;
		sq = srq ? ibv_create_qp(e.pd, &a) : NULL;
		if (!ud || !ah || (e.d.attr.max_srq && (!srq || !sq)))
			return 15;
		if (srq)
			post_srq_recv(srq, 1, buf[1], 64, mr[1]->lkey);
		if (qp_init(&e, ud, 0))
			return 16;
	}
	for (i = 0; i < 200; i++)
		if (post_recv(qp[1], i, buf[1] + (i % 16) * 65536, 65536, mr[1]->lkey))
			return 17;
	for (i = 0; i < 200; i++)
		if (post_send(qp[0], i, i & 1 ? IBV_WR_RDMA_WRITE : IBV_WR_SEND,
			      IBV_SEND_SIGNALED, buf[0], 65536, mr[0]->lkey,
			      (uintptr_t)buf[1], mr[1]->rkey))
			return 18;
	/* Let some of it be in flight. */
	usleep(20000);
	switch (mode) {
	case 1:
		kill(getpid(), SIGKILL);
		break;
	case 2:
		if (ibv_close_device(e.d.ctx))
			return 19;
		usleep(100000);
		break;
	}
	return 0;
}

static void exit_cleanup(struct __test_metadata *_metadata, int mode)
{
	struct env *e = calloc(1, sizeof(*e));
	struct res_counts before, after;
	bool counts = false;
	char why[256], name[64];
	struct ibv_wc wc;
	int status, i;
	uint64_t end;
	pid_t pid;

	ASSERT_NE(NULL, e);
	if (dev_open(&e->d, why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(name, sizeof(name), "%s", e->d.name);
	ibv_close_device(e->d.ctx);
	if (!res_counts(name, &before))
		counts = true;
	else
		TH_LOG("no object counts from 'rdma resource show': not compared");
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(child_workload(mode));
	for (end = now_ms() + 60000; waitpid(pid, &status, WNOHANG) != pid;) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ASSERT_TRUE(false) TH_LOG("the child did not exit within 60 s");
		}
		usleep(10000);
	}
	if (mode == 1) {
		ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	} else {
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("child status %#x", status);
	}
	/* Everything it had is gone. */
	for (end = now_ms() + 5000; counts;) {
		ASSERT_EQ(0, res_counts(name, &after));
		if (!memcmp(&before, &after, sizeof(before)))
			break;
		if (now_ms() > end) {
			for (i = 0; i < 6; i++) {
				EXPECT_EQ(before.v[i], after.v[i])
					TH_LOG("%s objects: %ld before, %ld after", count_names[i],
					       before.v[i], after.v[i]);
			}
			break;
		}
		usleep(50000);
	}
	/* And the device works. */
	env_setup(_metadata, e, true);
	ASSERT_EQ(0, post_recv(e->qp[1], 1, e->buf[1], 64, e->mr[1]->lkey));
	ASSERT_EQ(0, post_send(e->qp[0], 2, IBV_WR_SEND, IBV_SEND_SIGNALED, e->buf[0], 8,
			       e->mr[0]->lkey, 0, 0));
	WAIT_WC(e->cq[0], &wc);
	CHECK_WC(&wc, 2, IBV_WC_SUCCESS, IBV_WC_SEND);
	env_teardown(_metadata, e);
	free(e);
}

TEST_F_TIMEOUT(proc, exit_with_everything_open, 120)
{
	exit_cleanup(_metadata, 0);
}

TEST_F_TIMEOUT(proc, killed_with_traffic_in_flight, 120)
{
	exit_cleanup(_metadata, 1);
}

TEST_F_TIMEOUT(proc, close_device_with_everything_open, 120)
{
	exit_cleanup(_metadata, 2);
}

TEST_HARNESS_MAIN
