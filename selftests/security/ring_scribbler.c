// SPDX-License-Identifier: GPL-2.0
/*
 * ring_scribbler: a process that makes the worst of the rings a vrdma
 * device shares with it, for a bounded time, repeatably (a seed).
 *
 *   ring_scribbler DEV GIDX SECONDS MIN_WQES SEED
 *
 * Objects: 8 connected RC QP pairs (loopback through GID index GIDX), two
 * RC QPs receiving through an SRQ, two UD QPs, their CQs.  Threads, for
 * SECONDS:
 *   - two scribblers write corrupted WQEs (random bytes, bad keys, huge
 *     scatter counts and lengths, random opcodes) into the send, receive
 *     and SRQ rings and move the producer indices (sometimes to garbage);
 *     the CQ rings' consumer indices too;
 *   - a doorbell thread rings the send doorbells, sends valid UD
 *     datagrams, arms the CQs (which rescans the receive rings) and
 *     consumes the CQs;
 *   - a state thread moves QPs to the error state and back through
 *     RESET, INIT, RTR and RTS (both QPs of a pair in the error state
 *     first: see states());
 *   - a lifecycle thread destroys and recreates QP pairs, resizes the CQs
 *     and the SRQ (which replaces their rings).
 * The process never goes through librxe's data path on a ring it
 * corrupts: librxe trusts the shared indices (its producer_addr() and
 * consumer_addr() do not mask them), so ibv_poll_cq() on a CQ whose
 * consumer index was scribbled, or ibv_post_send() on a QP whose producer
 * index was, reads or writes far outside the ring (the first version of
 * this program segfaulted that way).  Doorbells are rung with the uverbs
 * write path librxe itself uses (IB_USER_VERBS_CMD_POST_SEND with no work
 * requests), the CQs are consumed by reading their rings with masked
 * indices, and the valid datagrams go through ibv_post_send() on a UD QP
 * whose rings are never written by hand.  librxe is called only for what
 * does not read the rings: creating, modifying, resizing and destroying
 * objects, arming CQs, async events.
 *
 * It stops early on IBV_EVENT_DEVICE_FATAL (the physical device went
 * away: every later call fails, none may hang), and prints
 *   seed S / corrupted N / doorbells N / sent N / polled N / recreated N /
 *   resized N / fatal yes|no / done
 * Exit status 0 when it stopped in time, and wrote at least MIN_WQES
 * corrupted WQEs (unless the device went away first).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/ib_user_verbs.h>

#include "../lib/rxe_ring.h"

#define NPAIR		8
#define BUF		(1u << 20)
#define QKEY		0x11111111u

struct pair {
	pthread_rwlock_t lock;		/* write: destroyed/recreated */
	struct ibv_qp *qp[2];
	struct ring sq[2], rq[2];
	bool ok;
	bool err[2];			/* moved to ERR by states() */
};

struct cqs {
	pthread_rwlock_t lock;		/* write: resized */
	struct ibv_cq *cq[2];
	struct ring ring[2];
};

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static struct ibv_mr *mr;
static uint8_t *buf;
static union ibv_gid gid;
static int gidx;
static struct cqs cqs;
static struct pair pairs[NPAIR];
static struct {
	pthread_rwlock_t lock;
	struct ibv_srq *srq;
	struct ring ring;
	struct ibv_qp *qp[2];
} srq;
static struct {			/* qp[0] sends valid datagrams, qp[1] is scribbled */
	struct ibv_qp *qp[2];
	struct ring sq;			/* qp[1]'s */
	struct ibv_ah *ah;
} ud;
static atomic_bool stop, fatal;
static atomic_ulong corrupted, doorbells, sent, polled, recreated, resized;
static unsigned int seed;

/* A thread's own random numbers (rand_r), seeded from the run's seed. */
static unsigned int rnd(unsigned int *s, unsigned int n)
{
	return n ? (unsigned int)rand_r(s) % n : 0;
}

static int qp_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_INIT, .port_num = 1,
				 .qkey = QKEY,
				 .qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
						    IBV_ACCESS_REMOTE_READ };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			     IBV_QP_PORT | (qp->qp_type == IBV_QPT_UD ?
			     IBV_QP_QKEY : IBV_QP_ACCESS_FLAGS));
}

/* RESET -> RTS towards @dqpn (RC), or RTS (UD). */
static int qp_connect(struct ibv_qp *qp, uint32_t dqpn)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	ibv_modify_qp(qp, &a, IBV_QP_STATE);
	if (qp_init(qp))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	if (qp->qp_type == IBV_QPT_UD) {
		if (ibv_modify_qp(qp, &a, IBV_QP_STATE))
			return -1;
	} else {
		a.path_mtu = IBV_MTU_1024;
		a.dest_qp_num = dqpn;
		a.rq_psn = 1;
		a.max_dest_rd_atomic = 1;
		a.min_rnr_timer = 1;
		a.ah_attr = (struct ibv_ah_attr){
			.is_global = 1, .port_num = 1,
			.grh = { .dgid = gid, .sgid_index = gidx, .hop_limit = 64 } };
		if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV |
				  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				  IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				  IBV_QP_MIN_RNR_TIMER))
			return -1;
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 1;
	a.timeout = 8;
	a.retry_cnt = 1;
	a.rnr_retry = 1;
	a.max_rd_atomic = 1;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     (qp->qp_type == IBV_QPT_UD ? 0 :
			      IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			      IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC));
}

/* Create a QP and locate its rings (the new uverbs mappings). */
static struct ibv_qp *qp_new(enum ibv_qp_type type, struct ibv_srq *s,
			     struct ring *sq, struct ring *rq)
{
	struct ibv_qp_init_attr_ex a = {
		.send_cq = cqs.cq[0], .recv_cq = cqs.cq[1], .srq = s,
		.qp_type = type,
		.cap = { .max_send_wr = 32, .max_recv_wr = s ? 0 : 32,
			 .max_send_sge = 2, .max_recv_sge = s ? 0 : 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = pd,
	};
	struct snap before, after;
	struct ring r[4];
	struct ibv_qp *qp;
	int n;

	snap_take(&before);
	qp = ibv_create_qp_ex(ctx, &a);
	if (!qp)
		return NULL;
	snap_take(&after);
	n = snap_new(&before, &after, r, 4);
	memset(sq, 0, sizeof(*sq));
	memset(rq, 0, sizeof(*rq));
	if (n == 1) {
		*sq = r[0];
	} else if (n == 2) {
		*sq = r[0].log2 > r[1].log2 ? r[0] : r[1];
		*rq = r[0].log2 > r[1].log2 ? r[1] : r[0];
	}
	return qp;
}

static bool pair_new(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		p->qp[i] = qp_new(IBV_QPT_RC, NULL, &p->sq[i], &p->rq[i]);
		if (!p->qp[i])
			return false;
	}
	return !qp_connect(p->qp[0], p->qp[1]->qp_num) &&
	       !qp_connect(p->qp[1], p->qp[0]->qp_num);
}

static void pair_destroy(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (p->qp[i])
			ibv_destroy_qp(p->qp[i]);
		p->qp[i] = NULL;
	}
}

static struct ibv_cq *cq_new(struct ring *ring, int cqe)
{
	struct snap before, after;
	struct ibv_cq *cq;

	snap_take(&before);
	cq = ibv_create_cq(ctx, cqe, NULL, NULL, 0);
	snap_take(&after);
	if (cq && snap_new(&before, &after, ring, 1) != 1)
		memset(ring, 0, sizeof(*ring));
	return cq;
}

/*
 * Where a CQ's or an SRQ's ring is after a successful resize: librxe
 * unmapped the old one and mapped the new one, often at the same address.
 */
static void ring_moved(struct ring *r, const struct snap *before,
		       const struct snap *after)
{
	int i;

	if (snap_new(before, after, r, 1) == 1)
		return;
	for (i = 0; r->q && i < after->n; i++)
		if (after->m[i].start == (unsigned long)r->q) {
			r->maplen = after->m[i].end - after->m[i].start;
			r->mask = r->q->index_mask;
			r->log2 = r->q->log2_elem_size;
			return;
		}
	memset(r, 0, sizeof(*r));
}

/*
 * A send doorbell as librxe rings it (post_send_db()): a POST_SEND command
 * with no work requests, on the uverbs command fd.  It reads nothing of
 * the ring; the kernel must cope with whatever the ring holds.
 */
static void ring_doorbell(struct ibv_qp *qp)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_post_send cmd;
	} c = {
		.hdr = { .command = IB_USER_VERBS_CMD_POST_SEND,
			 .in_words = sizeof(c) / 4,
			 .out_words = sizeof(struct ib_uverbs_post_send_resp) / 4 },
	};
	struct ib_uverbs_post_send_resp resp;

	c.cmd.response = (uintptr_t)&resp;
	c.cmd.qp_handle = qp->handle;
	c.cmd.wqe_size = sizeof(struct ib_uverbs_send_wr);
	if (write(qp->context->cmd_fd, &c, sizeof(c)) == sizeof(c))
		atomic_fetch_add(&doorbells, 1);
}

/*
 * Consume a CQ the way a careful reader of a corrupted ring would: the
 * indices masked with the mask seen when the ring was mapped, the CQEs
 * copied out, the consumer index set to where the reading stopped.
 */
static void cq_drain(struct ring *r)
{
	struct ib_uverbs_wc wc;
	uint32_t p, c, n;

	if (!r->q || !ring_sane(r) || (1u << r->log2) < sizeof(wc))
		return;
	p = ring_get(&r->q->producer_index) & r->mask;
	c = ring_get(&r->q->consumer_index) & r->mask;
	for (n = 0; c != p && n < 64; n++) {
		memcpy(&wc, ring_slot(r, c), sizeof(wc));
		c = (c + 1) & r->mask;
	}
	ring_set(&r->q->consumer_index, c);
	atomic_fetch_add(&polled, n);
}

/* Corrupt @n WQEs of @r at its producer index, then move it. */
static void scribble(struct ring *r, unsigned int *s, unsigned int n)
{
	uint32_t p, i, slot;

	if (!r->q || !ring_sane(r))
		return;
	slot = 1u << r->log2;
	p = ring_get(&r->q->producer_index);
	for (i = 0; i < n; i++) {
		uint8_t *w = ring_slot(r, p + i);
		uint32_t b;

		switch (rnd(s, 4)) {
		case 0:		/* random bytes */
			for (b = 0; b < slot; b += 4)
				*(uint32_t *)(w + b) = (uint32_t)rand_r(s);
			break;
		case 1: {	/* a send WQE with garbage where it hurts */
			struct rxe_send_wqe *q = (void *)w;

			if (slot < sizeof(*q) + sizeof(struct rxe_sge))
				break;
			memset(q, 0, sizeof(*q));
			q->wr.opcode = rnd(s, 16);
			q->wr.send_flags = rnd(s, 64);
			q->wr.wr.ud.ah_num = rnd(s, 8);
			q->wr.wr.ud.remote_qpn = rand_r(s);
			q->dma.num_sge = rnd(s, 2) ? 1 : (uint32_t)rand_r(s);
			q->dma.length = rnd(s, 2) ? 64 : (uint32_t)rand_r(s);
			q->dma.sge[0] = (struct rxe_sge){
				(uintptr_t)buf + rnd(s, BUF), rnd(s, 2) ? 64 : 0xffffffffu,
				rnd(s, 3) ? mr->lkey : (uint32_t)rand_r(s) };
			break;
		}
		default: {	/* a receive WQE likewise */
			struct rxe_recv_wqe *q = (void *)w;

			if (slot < sizeof(*q) + sizeof(struct rxe_sge))
				break;
			memset(q, 0, sizeof(*q));
			q->wr_id = rand_r(s);
			q->dma.num_sge = rnd(s, 3) ? 1 : (uint32_t)rand_r(s);
			q->dma.sge[0] = (struct rxe_sge){
				(uintptr_t)buf + rnd(s, BUF), rnd(s, 2) ? 256 : 0xffffffffu,
				rnd(s, 3) ? mr->lkey : (uint32_t)rand_r(s) };
			break;
		}
		}
	}
	atomic_fetch_add(&corrupted, n);
	ring_set(&r->q->producer_index,
		 rnd(s, 8) ? (p + n) & r->mask : (uint32_t)rand_r(s));
}

static void *scribbler(void *arg)
{
	unsigned int s = seed + (unsigned int)(uintptr_t)arg;

	while (!atomic_load(&stop)) {
		unsigned int k = rnd(&s, NPAIR + 3), n = 1 + rnd(&s, 32);

		if (k < NPAIR) {
			struct pair *p = &pairs[k];
			int i = rnd(&s, 2);

			pthread_rwlock_rdlock(&p->lock);
			if (p->ok)
				scribble(rnd(&s, 2) ? &p->sq[i] : &p->rq[i], &s, n);
			pthread_rwlock_unlock(&p->lock);
		} else if (k == NPAIR) {
			pthread_rwlock_rdlock(&srq.lock);
			scribble(&srq.ring, &s, n);
			pthread_rwlock_unlock(&srq.lock);
		} else if (k == NPAIR + 1) {
			scribble(&ud.sq, &s, n);
		} else {
			struct ring *r;

			pthread_rwlock_rdlock(&cqs.lock);
			r = &cqs.ring[rnd(&s, 2)];
			if (r->q && ring_sane(r))
				ring_set(&r->q->consumer_index, rand_r(&s));
			pthread_rwlock_unlock(&cqs.lock);
		}
		if (!rnd(&s, 64))
			usleep(100);
	}
	return NULL;
}

static void *doorbell(void *arg)
{
	unsigned int s = seed + 100 + (unsigned int)(uintptr_t)arg;

	while (!atomic_load(&stop)) {
		struct pair *p = &pairs[rnd(&s, NPAIR)];
		int i = rnd(&s, 2);

		pthread_rwlock_rdlock(&p->lock);
		if (p->ok)
			ring_doorbell(p->qp[i]);
		pthread_rwlock_unlock(&p->lock);
		if (!rnd(&s, 4)) {
			struct ibv_sge sge = { (uintptr_t)buf, 64, mr->lkey };
			struct ibv_send_wr wr = {
				.sg_list = &sge, .num_sge = 1,
				.opcode = IBV_WR_SEND,
				/* Signaled: unsignaled sends keep their slots. */
				.send_flags = IBV_SEND_SIGNALED,
				.wr.ud = { .ah = ud.ah,
					   .remote_qpn = ud.qp[1]->qp_num,
					   .remote_qkey = QKEY } }, *bad;

			/* qp[0]'s rings are never scribbled: librxe may. */
			if (!ibv_post_send(ud.qp[0], &wr, &bad))
				atomic_fetch_add(&sent, 1);
			ring_doorbell(ud.qp[1]);
		}
		pthread_rwlock_rdlock(&cqs.lock);
		ibv_req_notify_cq(cqs.cq[rnd(&s, 2)], rnd(&s, 2));
		cq_drain(&cqs.ring[0]);
		cq_drain(&cqs.ring[1]);
		pthread_rwlock_unlock(&cqs.lock);
	}
	return NULL;
}

/*
 * A QP is reset only when both QPs of its pair have been in the error
 * state since an earlier round (at least a millisecond): no packet of the
 * pair is then on its way to it.  rdma_rxe before its task rework (6.1)
 * runs a responder that a packet started directly, beside the one
 * rxe_qp_reset() runs itself; cleanup() then drops a reference to the QP
 * (and to the device) for a packet the other one took, and the QP's and
 * the physical device's reference counts underflow.  A native rxe QP reset
 * while packets arrive does the same; vrdma passes the reset through.
 */
static void *states(void *arg)
{
	unsigned int s = seed + 200 + (unsigned int)(uintptr_t)arg;

	while (!atomic_load(&stop)) {
		struct pair *p = &pairs[rnd(&s, NPAIR)];
		struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };
		int i = rnd(&s, 2), j;

		pthread_rwlock_rdlock(&p->lock);
		if (p->ok) {
			if (rnd(&s, 2)) {
				if (!ibv_modify_qp(p->qp[i], &a, IBV_QP_STATE))
					p->err[i] = true;
			} else if (!p->err[0] || !p->err[1]) {
				/* Reconnected in a later round. */
				for (j = 0; j < 2; j++)
					if (!p->err[j] &&
					    !ibv_modify_qp(p->qp[j], &a,
							   IBV_QP_STATE))
						p->err[j] = true;
			} else {
				p->err[0] = p->err[1] = false;
				qp_connect(p->qp[i], p->qp[!i]->qp_num);
				qp_connect(p->qp[!i], p->qp[i]->qp_num);
			}
		}
		pthread_rwlock_unlock(&p->lock);
		usleep(1000 + rnd(&s, 5000));
	}
	return NULL;
}

static void *lifecycle(void *arg)
{
	unsigned int s = seed + 300 + (unsigned int)(uintptr_t)arg;

	while (!atomic_load(&stop)) {
		unsigned int k = rnd(&s, 4);

		if (k < 2) {
			struct pair *p = &pairs[rnd(&s, NPAIR)];

			pthread_rwlock_wrlock(&p->lock);
			pair_destroy(p);
			p->ok = pair_new(p);
			p->err[0] = p->err[1] = false;
			pthread_rwlock_unlock(&p->lock);
			atomic_fetch_add(&recreated, 1);
		} else if (k == 2) {
			struct snap before, after;
			int i = rnd(&s, 2);

			pthread_rwlock_wrlock(&cqs.lock);
			snap_take(&before);
			if (!ibv_resize_cq(cqs.cq[i], 64 + rnd(&s, 512))) {
				snap_take(&after);
				ring_moved(&cqs.ring[i], &before, &after);
				atomic_fetch_add(&resized, 1);
			}
			pthread_rwlock_unlock(&cqs.lock);
		} else {
			struct ibv_srq_attr a = { .max_wr = 16 + rnd(&s, 240) };
			struct snap before, after;

			pthread_rwlock_wrlock(&srq.lock);
			snap_take(&before);
			if (!ibv_modify_srq(srq.srq, &a, IBV_SRQ_MAX_WR)) {
				snap_take(&after);
				ring_moved(&srq.ring, &before, &after);
				atomic_fetch_add(&resized, 1);
			}
			pthread_rwlock_unlock(&srq.lock);
		}
		usleep(20000 + rnd(&s, 80000));
	}
	return NULL;
}

/* The async events: IBV_EVENT_DEVICE_FATAL ends the run. */
static void *events(void *arg)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;

	(void)arg;
	while (!atomic_load(&stop)) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & (POLLERR | POLLHUP) ||
		    ibv_get_async_event(ctx, &ev)) {
			atomic_store(&fatal, true);
			break;
		}
		if (ev.event_type == IBV_EVENT_DEVICE_FATAL)
			atomic_store(&fatal, true);
		ibv_ack_async_event(&ev);
		if (atomic_load(&fatal))
			break;
	}
	atomic_store(&stop, true);
	return NULL;
}

/* A crash of the scribbler itself says where (it segfaulted in the VM). */
static void crashed(int sig)
{
	void *frames[64];
	int n = backtrace(frames, 64);

	dprintf(2, "ring_scribbler: signal %d, backtrace:\n", sig);
	backtrace_symbols_fd(frames, n, 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 128, .max_sge = 1 } };
	struct ibv_device **list;
	unsigned long min_wqes;
	pthread_t t[6];
	time_t end;
	int i, n;

	if (argc != 6) {
		fprintf(stderr, "usage: ring_scribbler DEV GIDX SECONDS MIN_WQES SEED\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGSEGV, crashed);
	signal(SIGBUS, crashed);
	gidx = atoi(argv[2]);
	min_wqes = strtoul(argv[4], NULL, 0);
	seed = strtoul(argv[5], NULL, 0);
	printf("seed %u\n", seed);

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), argv[1]))
			ctx = ibv_open_device(list[i]);
	if (!ctx || ibv_query_gid(ctx, 1, gidx, &gid)) {
		fprintf(stderr, "ring_scribbler: cannot open %s\n", argv[1]);
		return 1;
	}
	buf = calloc(1, BUF);
	pd = ibv_alloc_pd(ctx);
	mr = pd ? ibv_reg_mr(pd, buf, BUF, IBV_ACCESS_LOCAL_WRITE |
			     IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ) : NULL;
	if (!mr)
		return 1;
	pthread_rwlock_init(&cqs.lock, NULL);
	for (i = 0; i < 2; i++)
		if (!(cqs.cq[i] = cq_new(&cqs.ring[i], 256)))
			return 1;
	for (i = 0; i < NPAIR; i++) {
		pthread_rwlock_init(&pairs[i].lock, NULL);
		pairs[i].ok = pair_new(&pairs[i]);
		if (!pairs[i].ok) {
			fprintf(stderr, "ring_scribbler: QP pair %d: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	pthread_rwlock_init(&srq.lock, NULL);
	{
		struct snap before, after;

		snap_take(&before);
		srq.srq = ibv_create_srq(pd, &sa);
		snap_take(&after);
		if (!srq.srq || snap_new(&before, &after, &srq.ring, 1) != 1)
			return 1;
	}
	for (i = 0; i < 2; i++) {
		struct ring sq, unused;

		srq.qp[i] = qp_new(IBV_QPT_RC, srq.srq, &unused, &unused);
		ud.qp[i] = qp_new(IBV_QPT_UD, NULL, &sq, &unused);
		if (i)
			ud.sq = sq;
		if (!srq.qp[i] || !ud.qp[i] || qp_connect(ud.qp[i], 0))
			return 1;
	}
	qp_connect(srq.qp[0], srq.qp[1]->qp_num);
	qp_connect(srq.qp[1], srq.qp[0]->qp_num);
	{
		struct ibv_ah_attr aa = { .is_global = 1, .port_num = 1,
					  .grh = { .dgid = gid, .sgid_index = gidx,
						   .hop_limit = 64 } };

		ud.ah = ibv_create_ah(pd, &aa);
		if (!ud.ah)
			return 1;
	}
	/* SECONDS of scribbling, however long the setup took (debug kernel). */
	end = time(NULL) + atoi(argv[3]);
	printf("ready\n");

	pthread_create(&t[0], NULL, scribbler, (void *)0);
	pthread_create(&t[1], NULL, scribbler, (void *)1);
	pthread_create(&t[2], NULL, doorbell, (void *)0);
	pthread_create(&t[3], NULL, states, (void *)0);
	pthread_create(&t[4], NULL, lifecycle, (void *)0);
	pthread_create(&t[5], NULL, events, (void *)0);
	while (!atomic_load(&stop) && time(NULL) < end)
		usleep(100000);
	atomic_store(&stop, true);
	for (i = 0; i < 6; i++)
		pthread_join(t[i], NULL);

	printf("corrupted %lu\ndoorbells %lu\nsent %lu\npolled %lu\nrecreated %lu\nresized %lu\nfatal %s\n",
	       atomic_load(&corrupted), atomic_load(&doorbells),
	       atomic_load(&sent), atomic_load(&polled),
	       atomic_load(&recreated), atomic_load(&resized),
	       atomic_load(&fatal) ? "yes" : "no");
	/* Everything else goes with the process (and must). */
	printf("done\n");
	return atomic_load(&fatal) || atomic_load(&corrupted) >= min_wqes ? 0 : 1;
}
