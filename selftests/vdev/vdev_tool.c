// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of the vdev selftests: exercises one RDMA device from the
 * command line and prints what happened, one fact per line.
 *
 *   vdev_tool objects DEV KIND N    create up to N objects of KIND (pd, cq,
 *                                   qp, mr, mr-bytes=SIZE), print
 *                                   "created K errno E" (first failure)
 *   vdev_tool events DEV SECONDS    open DEV with a PD, CQ and RC QP, then
 *                                   print every async event ("event NAME")
 *                                   for SECONDS; "gone" if the device went
 *                                   away; then clean up and "done"
 *   vdev_tool udrecv DEV SECONDS [COUNT]
 *                                   a UD QP (Q_Key 0x11111111) with posted
 *                                   receives: print "qpn N", a line
 *                                   "recv from qpn Q gid G status S" per
 *                                   datagram (G: the source address of
 *                                   its GRH, "-" without one), then
 *                                   "received K" after
 *                                   SECONDS, or as soon as COUNT arrived
 *   vdev_tool udsend DEV GIDX DGID QPN COUNT [GO]
 *                                   send COUNT datagrams from GID index GIDX
 *                                   to GID DGID (an IPv4 address or IPv6),
 *                                   QP QPN: print "qpn N" (the sender's),
 *                                   then "sent K" (successful completions)
 *                                   and "status S" of the first failed one;
 *                                   with GO, a file, wait until it exists
 *                                   before sending (at most a minute)
 *   vdev_tool udburst DEV GIDX DGID1 QPN1 N1 DGID2 QPN2 N2
 *                                   one ibv_post_send() (one doorbell) of
 *                                   N1 datagrams to DGID1/QPN1 followed by
 *                                   N2 to DGID2/QPN2 (QPN "self": the
 *                                   sender's own); print like udsend
 *   vdev_tool rcconnect DEV GIDX DGID QPN
 *                                   an RC QP moved to RTR towards DGID and
 *                                   QPN: print "rtr errno E" (0: accepted)
 *   vdev_tool hold DEV TYPE SECONDS a QP of TYPE (rc or ud) in INIT: print
 *                                   "qpn N", hold it until stdin closes or
 *                                   SECONDS pass
 *   vdev_tool srqcq DEV SRQ_WR SECONDS
 *                                   a CQ of 16 entries, an SRQ of SRQ_WR
 *                                   receives and an RC QP receiving through
 *                                   both: print "ready", hold them like hold
 *   vdev_tool storm DEV GIDX NQP    NQP RC QPs, each connected to itself;
 *                                   print "ready", then one thread posts a
 *                                   send with a bad lkey on every other QP,
 *                                   last first, while another destroys the
 *                                   others, first first (both paced); print
 *                                   "done posted P destroyed D"
 *
 * "objects DEV bigqp N" creates QPs of the largest size the device allows
 * (work requests, scatter elements and inline data).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#define UD_QKEY 0x11111111
#define UD_BUF 4096
#define BAD_LKEY 0xbad0bad0u

static struct ibv_context *open_dev(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (!ctx)
		fprintf(stderr, "vdev_tool: cannot open %s\n", name);
	return ctx;
}

/* An IPv4 address (as IPv4-mapped) or an IPv6 address into a GID. */
static int parse_gid(const char *s, union ibv_gid *gid)
{
	struct in_addr v4;

	memset(gid, 0, sizeof(*gid));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		gid->raw[10] = 0xff;
		gid->raw[11] = 0xff;
		memcpy(&gid->raw[12], &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, gid->raw) == 1 ? 0 : -1;
}

/*
 * The largest QP the device allows, with CQs of its own (one physical CQ
 * cannot hold both of its queues' completions).
 */
static struct ibv_qp *big_qp(struct ibv_context *ctx, struct ibv_pd *pd)
{
	struct ibv_device_attr da;
	struct ibv_qp_init_attr a = { .qp_type = IBV_QPT_RC };

	if (ibv_query_device(ctx, &da))
		return NULL;
	a.send_cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	a.recv_cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!a.send_cq || !a.recv_cq)
		return NULL;
	a.cap.max_send_wr = da.max_qp_wr;
	a.cap.max_recv_wr = da.max_qp_wr;
	a.cap.max_send_sge = da.max_sge;
	a.cap.max_recv_sge = da.max_sge;
	a.cap.max_inline_data = 512;
	return ibv_create_qp(pd, &a);
}

static int objects(struct ibv_context *ctx, const char *kind, long n)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = NULL;
	long created = 0, i;
	size_t bytes = 4096;
	int err = 0;

	if (!pd) {
		printf("created 0 errno %d\n", errno);
		return 0;
	}
	if (!strcmp(kind, "qp")) {
		cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
		if (!cq) {
			printf("created 0 errno %d\n", errno);
			return 0;
		}
	}
	if (!strncmp(kind, "mr-bytes=", 9))
		bytes = strtoull(kind + 9, NULL, 0);

	for (i = 0; i < n && !err; i++) {
		void *obj = NULL;

		if (!strcmp(kind, "pd")) {
			obj = ibv_alloc_pd(ctx);
		} else if (!strcmp(kind, "cq")) {
			obj = ibv_create_cq(ctx, 16, NULL, NULL, 0);
		} else if (!strcmp(kind, "qp")) {
			struct ibv_qp_init_attr a = {
				.send_cq = cq, .recv_cq = cq,
				.cap = { .max_send_wr = 4, .max_recv_wr = 4,
					 .max_send_sge = 1, .max_recv_sge = 1 },
				.qp_type = IBV_QPT_RC,
			};

			obj = ibv_create_qp(pd, &a);
		} else if (!strcmp(kind, "bigqp")) {
			obj = big_qp(ctx, pd);
		} else if (!strcmp(kind, "mr") || !strncmp(kind, "mr-bytes=", 9)) {
			void *buf = calloc(1, bytes);

			obj = buf ? ibv_reg_mr(pd, buf, bytes,
					       IBV_ACCESS_LOCAL_WRITE) : NULL;
		} else {
			fprintf(stderr, "vdev_tool: unknown kind %s\n", kind);
			return 2;
		}
		if (obj)
			created++;
		else
			err = errno;
	}
	/* Everything is released by the process exit. */
	printf("created %ld errno %d\n", created, err);
	return 0;
}

static int events(struct ibv_context *ctx, int seconds)
{
	struct ibv_qp_init_attr a = {
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;
	time_t end = time(NULL) + seconds;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;

	pd = ibv_alloc_pd(ctx);
	cq = pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	a.send_cq = cq;
	a.recv_cq = cq;
	qp = cq ? ibv_create_qp(pd, &a) : NULL;
	if (!qp) {
		fprintf(stderr, "vdev_tool: cannot create objects: %s\n",
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	while (time(NULL) < end) {
		int n = poll(&pfd, 1, 200);

		if (n <= 0)
			continue;
		if (pfd.revents & (POLLHUP | POLLERR)) {
			printf("gone\n");
			break;
		}
		if (ibv_get_async_event(ctx, &ev)) {
			printf("gone\n");
			break;
		}
		printf("event %s\n", ibv_event_type_str(ev.event_type));
		fflush(stdout);
		ibv_ack_async_event(&ev);
		if (ev.event_type == IBV_EVENT_DEVICE_FATAL)
			break;
	}
	/* After a fatal event the calls may fail: they must not hang. */
	ibv_destroy_qp(qp);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("done\n");
	return 0;
}

/* Move a QP to INIT (and a UD QP on to RTS). */
static int qp_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr m = { .qp_state = IBV_QPS_INIT, .port_num = 1 };
	int mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT;

	if (qp->qp_type == IBV_QPT_UD) {
		m.qkey = UD_QKEY;
		mask |= IBV_QP_QKEY;
	} else {
		m.qp_access_flags = IBV_ACCESS_REMOTE_WRITE;
		mask |= IBV_QP_ACCESS_FLAGS;
	}
	if (ibv_modify_qp(qp, &m, mask))
		return -1;
	if (qp->qp_type != IBV_QPT_UD)
		return 0;
	m.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &m, IBV_QP_STATE))
		return -1;
	m.qp_state = IBV_QPS_RTS;
	m.sq_psn = 1;
	return ibv_modify_qp(qp, &m, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

/* An RC QP in INIT to RTR towards @dgid / @dqpn: 0 or an errno. */
static int rc_rtr(struct ibv_qp *qp, int gidx, const union ibv_gid *dgid,
		  uint32_t dqpn)
{
	struct ibv_qp_attr m = {
		.qp_state = IBV_QPS_RTR, .path_mtu = IBV_MTU_1024,
		.dest_qp_num = dqpn, .rq_psn = 1, .max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = { .is_global = 1, .port_num = 1,
			     .grh = { .dgid = *dgid, .sgid_index = gidx,
				      .hop_limit = 64 } },
	};

	return ibv_modify_qp(qp, &m, IBV_QP_STATE | IBV_QP_AV |
			     IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			     IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER) ?
	       errno : 0;
}

static int rc_rts(struct ibv_qp *qp)
{
	struct ibv_qp_attr m = {
		.qp_state = IBV_QPS_RTS, .sq_psn = 1, .timeout = 12,
		.retry_cnt = 1, .rnr_retry = 1, .max_rd_atomic = 1,
	};

	return ibv_modify_qp(qp, &m, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC) ?
	       errno : 0;
}

static struct ibv_qp *ud_qp(struct ibv_pd *pd, struct ibv_cq *cq, int wr)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq, .recv_cq = cq,
		.cap = { .max_send_wr = wr, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_UD,
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &a);

	if (!qp || qp_init(qp))
		return NULL;
	return qp;
}

/*
 * The source address of a received datagram's GRH (the first 40 bytes of
 * the buffer): an IPv4 header in its last 20 bytes (RoCEv2 over IPv4, as
 * rdma-core tells them apart), or an IPv6 GRH.
 */
static const char *grh_source(const struct ibv_wc *wc, const char *grh,
			      char *s, size_t len)
{
	const unsigned char *ip4 = (const unsigned char *)grh + 20;

	if (wc->status != IBV_WC_SUCCESS || !(wc->wc_flags & IBV_WC_GRH))
		return "-";
	if (ip4[0] == 0x45)
		return inet_ntop(AF_INET, ip4 + 12, s, len) ? s : "?";
	return inet_ntop(AF_INET6, grh + 8, s, len) ? s : "?";
}

static int udrecv(struct ibv_context *ctx, int seconds, int count)
{
	char src[INET6_ADDRSTRLEN];
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 64, NULL, NULL, 0) : NULL;
	struct ibv_qp *qp = cq ? ud_qp(pd, cq, 16) : NULL;
	static char buf[16][UD_BUF];
	struct ibv_mr *mr = qp ? ibv_reg_mr(pd, buf, sizeof(buf),
					    IBV_ACCESS_LOCAL_WRITE) : NULL;
	time_t end = time(NULL) + seconds;
	int i, received = 0;

	if (!mr) {
		fprintf(stderr, "vdev_tool: udrecv setup: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < 16; i++) {
		struct ibv_sge sge = { (uintptr_t)buf[i], UD_BUF, mr->lkey };
		struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge,
					  .num_sge = 1 }, *bad;

		if (ibv_post_recv(qp, &wr, &bad))
			return 1;
	}
	printf("qpn %u\n", qp->qp_num);
	while (time(NULL) < end && (!count || received < count)) {
		struct ibv_wc wc;

		if (ibv_poll_cq(cq, 1, &wc) == 1) {
			struct ibv_sge sge = { (uintptr_t)buf[wc.wr_id % 16],
					       UD_BUF, mr->lkey };
			struct ibv_recv_wr wr = { .wr_id = wc.wr_id,
						  .sg_list = &sge,
						  .num_sge = 1 }, *bad;

			printf("recv from qpn %u gid %s status %d\n",
			       wc.src_qp, grh_source(&wc, buf[wc.wr_id % 16],
						     src, sizeof(src)),
			       wc.status);
			received++;
			if (ibv_post_recv(qp, &wr, &bad))
				break;
		} else {
			usleep(1000);
		}
	}
	printf("received %d\n", received);
	return 0;
}

/* One list of @n1 + @n2 sends: a single doorbell.  Prints the outcome. */
static int udpost(struct ibv_context *ctx, int gidx, const char *dst1,
		  const char *qpn1, int n1, const char *dst2,
		  const char *qpn2, int n2)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 512, NULL, NULL, 0) : NULL;
	struct ibv_qp *qp = cq ? ud_qp(pd, cq, n1 + n2) : NULL;
	struct ibv_ah_attr aa = { .is_global = 1, .port_num = 1,
				  .grh = { .sgid_index = gidx, .hop_limit = 64 } };
	static char buf[64];
	struct ibv_mr *mr = qp ? ibv_reg_mr(pd, buf, sizeof(buf), 0) : NULL;
	struct ibv_send_wr *wrs, *bad;
	struct ibv_sge sge;
	struct ibv_ah *ah[2];
	int i, sent = 0, done = 0, status = -1;
	time_t end;

	if (!mr || n1 < 0 || n2 < 0 || n1 + n2 < 1 || n1 + n2 > 256)
		return 1;
	printf("qpn %u\n", qp->qp_num);
	for (i = 0; i < 2; i++) {
		if (parse_gid(i ? dst2 : dst1, &aa.grh.dgid))
			return 2;
		ah[i] = ibv_create_ah(pd, &aa);
		if (!ah[i]) {
			printf("sent 0 (no address handle: %s)\n", strerror(errno));
			return 0;
		}
	}
	wrs = calloc(n1 + n2, sizeof(*wrs));
	if (!wrs)
		return 1;
	sge = (struct ibv_sge){ (uintptr_t)buf, sizeof(buf), mr->lkey };
	for (i = 0; i < n1 + n2; i++) {
		const char *q = i < n1 ? qpn1 : qpn2;

		wrs[i] = (struct ibv_send_wr){
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
			.next = i + 1 < n1 + n2 ? &wrs[i + 1] : NULL,
			.wr.ud = { .ah = ah[i >= n1],
				   .remote_qpn = strcmp(q, "self") ?
					strtoul(q, NULL, 0) : qp->qp_num,
				   .remote_qkey = UD_QKEY },
		};
	}
	if (ibv_post_send(qp, wrs, &bad)) {
		printf("sent 0 (post: %s)\n", strerror(errno));
		return 0;
	}
	end = time(NULL) + 30;
	while (done < n1 + n2 && time(NULL) < end) {
		struct ibv_wc wc;

		if (ibv_poll_cq(cq, 1, &wc) != 1) {
			usleep(100);
			continue;
		}
		done++;
		if (wc.status == IBV_WC_SUCCESS)
			sent++;
		else if (status < 0)
			status = wc.status;
	}
	printf("sent %d\n", sent);
	if (status >= 0)
		printf("status %d\n", status);
	return 0;
}

static int udsend(struct ibv_context *ctx, int gidx, const char *dst,
		  const char *qpn, int count, const char *go)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 64, NULL, NULL, 0) : NULL;
	struct ibv_qp *qp = cq ? ud_qp(pd, cq, 16) : NULL;
	struct ibv_ah_attr aa = { .is_global = 1, .port_num = 1,
				  .grh = { .sgid_index = gidx, .hop_limit = 64 } };
	static char buf[64];
	struct ibv_mr *mr = qp ? ibv_reg_mr(pd, buf, sizeof(buf), 0) : NULL;
	int i, sent = 0, status = -1;
	struct ibv_ah *ah;

	if (!mr)
		return 1;
	if (parse_gid(dst, &aa.grh.dgid))
		return 2;
	printf("qpn %u\n", qp->qp_num);
	for (i = 0; go && access(go, F_OK) && i < 60000; i++)
		usleep(1000);
	ah = ibv_create_ah(pd, &aa);
	if (!ah) {
		printf("sent 0 (no address handle: %s)\n", strerror(errno));
		return 0;
	}
	for (i = 0; i < count; i++) {
		struct ibv_sge sge = { (uintptr_t)buf, sizeof(buf), mr->lkey };
		struct ibv_send_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
			.wr.ud = { .ah = ah,
				   .remote_qpn = strtoul(qpn, NULL, 0),
				   .remote_qkey = UD_QKEY },
		}, *bad;
		struct ibv_wc wc;

		if (ibv_post_send(qp, &wr, &bad))
			break;
		while (ibv_poll_cq(cq, 1, &wc) != 1)
			usleep(100);
		if (wc.status == IBV_WC_SUCCESS) {
			sent++;
		} else {
			if (status < 0)
				status = wc.status;
			/* The QP is in error: a new one for the next. */
			break;
		}
		usleep(20000);
	}
	printf("sent %d\n", sent);
	if (status >= 0)
		printf("status %d\n", status);
	return 0;
}

static struct ibv_qp *rc_qp(struct ibv_pd *pd, struct ibv_cq *scq,
			    struct ibv_cq *rcq, struct ibv_srq *srq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = scq, .recv_cq = rcq, .srq = srq,
		.cap = { .max_send_wr = 4, .max_recv_wr = srq ? 0 : 4,
			 .max_send_sge = 1, .max_recv_sge = srq ? 0 : 1 },
		.qp_type = IBV_QPT_RC,
	};

	return ibv_create_qp(pd, &a);
}

static int rcconnect(struct ibv_context *ctx, int gidx, const char *dst,
		     const char *qpn)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	struct ibv_qp *qp = cq ? rc_qp(pd, cq, cq, NULL) : NULL;
	union ibv_gid dgid;

	if (!qp || qp_init(qp))
		return 1;
	if (parse_gid(dst, &dgid))
		return 2;
	printf("rtr errno %d\n", rc_rtr(qp, gidx, &dgid, strtoul(qpn, NULL, 0)));
	return 0;
}

/* Until stdin reaches its end or @seconds pass. */
static void hold(int seconds)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	time_t end = time(NULL) + seconds;
	char c;

	fflush(stdout);
	while (time(NULL) < end) {
		if (poll(&pfd, 1, 200) > 0 && read(0, &c, 1) <= 0)
			break;
	}
}

static int holdqp(struct ibv_context *ctx, const char *type, int seconds)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	struct ibv_qp *qp;

	if (!cq)
		return 1;
	qp = strcmp(type, "ud") ? rc_qp(pd, cq, cq, NULL) : ud_qp(pd, cq, 4);
	if (!qp || qp_init(qp))
		return 1;
	printf("qpn %u\n", qp->qp_num);
	hold(seconds);
	return 0;
}

static int srqcq(struct ibv_context *ctx, int srq_wr, int seconds)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = srq_wr, .max_sge = 1 } };
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *scq = pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	struct ibv_cq *rcq = scq ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	struct ibv_srq *srq = rcq ? ibv_create_srq(pd, &sa) : NULL;
	struct ibv_qp *qp = srq ? rc_qp(pd, scq, rcq, srq) : NULL;

	if (!qp) {
		printf("errno %d\n", errno);
		return 0;
	}
	printf("ready\n");
	hold(seconds);
	return 0;
}

/* storm: see the header. */
struct storm {
	struct ibv_qp **qp;
	struct ibv_mr *mr;
	char *buf;
	int n, posted, destroyed;
};

static void *storm_post(void *arg)
{
	struct storm *s = arg;
	int i;

	for (i = s->n - 1; i >= 0; i -= 2) {
		struct ibv_sge sge = { (uintptr_t)s->buf, 8, BAD_LKEY };
		struct ibv_send_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
		}, *bad;

		if (!ibv_post_send(s->qp[i], &wr, &bad))
			s->posted++;
		usleep(3000);
	}
	return NULL;
}

static void *storm_destroy(void *arg)
{
	struct storm *s = arg;
	int i;

	for (i = 0; i < s->n; i += 2) {
		if (!ibv_destroy_qp(s->qp[i]))
			s->destroyed++;
		usleep(3000);
	}
	return NULL;
}

static int storm(struct ibv_context *ctx, int gidx, int n)
{
	struct storm s = { .n = n };
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 2 * n + 16, NULL, NULL, 0) : NULL;
	pthread_t t1, t2;
	union ibv_gid gid;
	int i;

	s.qp = calloc(n, sizeof(*s.qp));
	s.buf = calloc(1, 4096);
	if (!cq || !s.qp || !s.buf || ibv_query_gid(ctx, 1, gidx, &gid))
		return 1;
	s.mr = ibv_reg_mr(pd, s.buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	for (i = 0; i < n; i++) {
		s.qp[i] = rc_qp(pd, cq, cq, NULL);
		if (!s.qp[i] || qp_init(s.qp[i]) ||
		    rc_rtr(s.qp[i], gidx, &gid, s.qp[i]->qp_num) ||
		    rc_rts(s.qp[i])) {
			fprintf(stderr, "vdev_tool: storm QP %d: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	if (pthread_create(&t1, NULL, storm_post, &s) ||
	    pthread_create(&t2, NULL, storm_destroy, &s))
		return 1;
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("done posted %d destroyed %d\n", s.posted, s.destroyed);
	return 0;
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx;

	if (argc < 4) {
		fprintf(stderr, "usage: see the comment at the top of vdev_tool.c\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctx = open_dev(argv[2]);
	if (!ctx)
		return 1;
	if (!strcmp(argv[1], "objects") && argc == 5)
		return objects(ctx, argv[3], strtol(argv[4], NULL, 0));
	if (!strcmp(argv[1], "events"))
		return events(ctx, atoi(argv[3]));
	if (!strcmp(argv[1], "udrecv"))
		return udrecv(ctx, atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0);
	if (!strcmp(argv[1], "udsend") && (argc == 7 || argc == 8))
		return udsend(ctx, atoi(argv[3]), argv[4], argv[5],
			      atoi(argv[6]), argc == 8 ? argv[7] : NULL);
	if (!strcmp(argv[1], "udburst") && argc == 10)
		return udpost(ctx, atoi(argv[3]), argv[4], argv[5],
			      atoi(argv[6]), argv[7], argv[8], atoi(argv[9]));
	if (!strcmp(argv[1], "rcconnect") && argc == 6)
		return rcconnect(ctx, atoi(argv[3]), argv[4], argv[5]);
	if (!strcmp(argv[1], "hold") && argc == 5)
		return holdqp(ctx, argv[3], atoi(argv[4]));
	if (!strcmp(argv[1], "srqcq") && argc == 5)
		return srqcq(ctx, atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[1], "storm") && argc == 5)
		return storm(ctx, atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "vdev_tool: bad command\n");
	return 2;
}
