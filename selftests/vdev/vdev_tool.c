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
 *   vdev_tool udrecv DEV SECONDS    a UD QP (Q_Key 0x11111111) with posted
 *                                   receives: print "qpn N", then
 *                                   "received K" after SECONDS
 *   vdev_tool udsend DEV GIDX DGID QPN COUNT
 *                                   send COUNT datagrams from GID index GIDX
 *                                   to GID DGID (an IPv4 address or IPv6),
 *                                   QP QPN: print "sent K"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

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

#define UD_QKEY 0x11111111
#define UD_BUF 4096

static struct ibv_qp *ud_qp(struct ibv_pd *pd, struct ibv_cq *cq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq, .recv_cq = cq,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_UD,
	};
	struct ibv_qp_attr m = { .qp_state = IBV_QPS_INIT, .port_num = 1,
				 .qkey = UD_QKEY };
	struct ibv_qp *qp = ibv_create_qp(pd, &a);

	if (!qp || ibv_modify_qp(qp, &m, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				 IBV_QP_PORT | IBV_QP_QKEY))
		return NULL;
	m.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &m, IBV_QP_STATE))
		return NULL;
	m.qp_state = IBV_QPS_RTS;
	m.sq_psn = 1;
	if (ibv_modify_qp(qp, &m, IBV_QP_STATE | IBV_QP_SQ_PSN))
		return NULL;
	return qp;
}

static int udrecv(struct ibv_context *ctx, int seconds)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 64, NULL, NULL, 0) : NULL;
	struct ibv_qp *qp = cq ? ud_qp(pd, cq) : NULL;
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
	while (time(NULL) < end) {
		struct ibv_wc wc;

		if (ibv_poll_cq(cq, 1, &wc) == 1) {
			printf("recv from qpn %u status %d\n", wc.src_qp,
			       wc.status);
			received++;
		} else {
			usleep(1000);
		}
	}
	printf("received %d\n", received);
	return 0;
}

static int udsend(struct ibv_context *ctx, int gidx, const char *dst,
		  unsigned int qpn, int count)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(ctx, 64, NULL, NULL, 0) : NULL;
	struct ibv_qp *qp = cq ? ud_qp(pd, cq) : NULL;
	struct ibv_ah_attr aa = { .is_global = 1, .port_num = 1,
				  .grh = { .sgid_index = gidx, .hop_limit = 64 } };
	static char buf[64];
	struct ibv_mr *mr = qp ? ibv_reg_mr(pd, buf, sizeof(buf), 0) : NULL;
	struct in_addr v4;
	struct ibv_ah *ah;
	int i, sent = 0;

	if (!mr)
		return 1;
	if (inet_pton(AF_INET, dst, &v4) == 1) {
		aa.grh.dgid.raw[10] = 0xff;
		aa.grh.dgid.raw[11] = 0xff;
		memcpy(&aa.grh.dgid.raw[12], &v4, 4);
	} else if (inet_pton(AF_INET6, dst, aa.grh.dgid.raw) != 1) {
		return 2;
	}
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
			.wr.ud = { .ah = ah, .remote_qpn = qpn,
				   .remote_qkey = UD_QKEY },
		}, *bad;
		struct ibv_wc wc;

		if (ibv_post_send(qp, &wr, &bad))
			break;
		while (ibv_poll_cq(cq, 1, &wc) != 1)
			usleep(100);
		if (wc.status == IBV_WC_SUCCESS)
			sent++;
		usleep(20000);
	}
	printf("sent %d\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx;

	if (argc < 4) {
		fprintf(stderr, "usage: vdev_tool objects DEV KIND N | events DEV SECONDS | udrecv DEV SECONDS | udsend DEV GIDX DGID QPN COUNT\n");
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
		return udrecv(ctx, atoi(argv[3]));
	if (!strcmp(argv[1], "udsend") && argc == 7)
		return udsend(ctx, atoi(argv[3]), argv[4],
			      strtoul(argv[5], NULL, 0), atoi(argv[6]));
	fprintf(stderr, "vdev_tool: bad command\n");
	return 2;
}
