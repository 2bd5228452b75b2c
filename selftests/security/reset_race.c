// SPDX-License-Identifier: GPL-2.0
/*
 * reset_race: reset RC QPs while their peers send to them, on any device.
 *
 *   reset_race DEV0 GIDX0 DEV1 GIDX1 SECONDS
 *
 * 8 RC QP pairs, one QP of each on DEV0 (its GID index GIDX0), the other
 * on DEV1 (which may be DEV0 again: loopback).  A sender
 * thread keeps 64-byte SENDs going both ways on every pair and reposts
 * receives; a state thread moves a random QP to RESET and back to RTS
 * (or to ERR first) every millisecond or so.  Nothing else: no ring is
 * touched by hand, every call goes through the provider.  It is the
 * state churn of ring_scribbler without the scribbling, to tell a bug of
 * the physical device's driver (run it on the device itself) from one of
 * vrdma (run it on a vrdma device).  Prints the operations done; the
 * verdict is the kernel log's.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#define NPAIR	8
#define DEPTH	64

static struct side {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	union ibv_gid gid;
	int gidx;
} sides[2];
static char buf[4096];
static struct ibv_qp *qps[NPAIR][2];
static atomic_bool stop;
static atomic_ulong sends, resets, errs, polled;

static void post_recvs(struct ibv_qp *qp, int i, int n)
{
	struct ibv_sge sge = { (uintptr_t)buf, 64, sides[i].mr->lkey };
	struct ibv_recv_wr wr = { .sg_list = &sge, .num_sge = 1 }, *bad;

	while (n-- > 0 && !ibv_post_recv(qp, &wr, &bad))
		;
}

/* QP @i of a pair (on sides[i]) towards the other one, @dqpn. */
static int connect_qp(struct ibv_qp *qp, int i, uint32_t dqpn)
{
	const struct side *me = &sides[i], *peer = &sides[!i];
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	ibv_modify_qp(qp, &a, IBV_QP_STATE);
	a = (struct ibv_qp_attr){ .qp_state = IBV_QPS_INIT, .port_num = 1 };
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	post_recvs(qp, i, DEPTH);
	a = (struct ibv_qp_attr){ .qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024, .dest_qp_num = dqpn, .rq_psn = 1,
		.max_dest_rd_atomic = 1, .min_rnr_timer = 1,
		.ah_attr = { .is_global = 1, .port_num = 1,
			     .grh = { .dgid = peer->gid,
				      .sgid_index = me->gidx,
				      .hop_limit = 64 } } };
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	a = (struct ibv_qp_attr){ .qp_state = IBV_QPS_RTS, .sq_psn = 1,
		.timeout = 8, .retry_cnt = 1, .rnr_retry = 1,
		.max_rd_atomic = 1 };
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

static void *sender(void *arg)
{
	struct ibv_sge sge = { (uintptr_t)buf + 2048, 64, 0 };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_wc wc[32];
	int p, i, j, n;

	(void)arg;
	while (!atomic_load(&stop)) {
		for (p = 0; p < NPAIR; p++)
			for (i = 0; i < 2; i++) {
				sge.lkey = sides[i].mr->lkey;
				if (!ibv_post_send(qps[p][i], &wr, &bad))
					atomic_fetch_add(&sends, 1);
			}
		for (i = 0; i < 2; i++) {
			while ((n = ibv_poll_cq(sides[i].cq, 32, wc)) > 0) {
				atomic_fetch_add(&polled, n);
				for (j = 0; j < n; j++) {
					if (!(wc[j].opcode & IBV_WC_RECV) ||
					    wc[j].status != IBV_WC_SUCCESS)
						continue;
					for (p = 0; p < NPAIR; p++)
						if (qps[p][i]->qp_num == wc[j].qp_num)
							post_recvs(qps[p][i], i, 1);
				}
			}
		}
	}
	return NULL;
}

static void *states(void *arg)
{
	unsigned int s = 1;
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };

	(void)arg;
	while (!atomic_load(&stop)) {
		int p = rand_r(&s) % NPAIR, i = rand_r(&s) % 2;

		/* While the sender keeps posting on both: the race. */
		if (rand_r(&s) % 2) {
			ibv_modify_qp(qps[p][i], &a, IBV_QP_STATE);
			atomic_fetch_add(&errs, 1);
		}
		connect_qp(qps[p][i], i, qps[p][!i]->qp_num);
		connect_qp(qps[p][!i], !i, qps[p][i]->qp_num);
		atomic_fetch_add(&resets, 1);
		usleep(500 + rand_r(&s) % 1000);
	}
	return NULL;
}

static int side_open(struct side *sd, struct ibv_device **list,
		     const char *name, const char *gidx)
{
	int i;

	for (i = 0; list && list[i] && !sd->ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			sd->ctx = ibv_open_device(list[i]);
	if (!sd->ctx) {
		fprintf(stderr, "reset_race: cannot open %s\n", name);
		return -1;
	}
	sd->gidx = atoi(gidx);
	if (ibv_query_gid(sd->ctx, 1, sd->gidx, &sd->gid))
		return -1;
	sd->pd = ibv_alloc_pd(sd->ctx);
	sd->cq = sd->pd ? ibv_create_cq(sd->ctx, 4096, NULL, NULL, 0) : NULL;
	sd->mr = sd->cq ? ibv_reg_mr(sd->pd, buf, sizeof(buf),
				     IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!sd->mr) {
		perror("reset_race: setup");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	pthread_t t[2];
	time_t end;
	int i, p;

	if (argc != 6) {
		fprintf(stderr,
			"usage: reset_race DEV0 GIDX0 DEV1 GIDX1 SECONDS\n");
		return 2;
	}
	list = ibv_get_device_list(NULL);
	if (side_open(&sides[0], list, argv[1], argv[2]) ||
	    side_open(&sides[1], list, argv[3], argv[4]))
		return 1;
	end = time(NULL) + atoi(argv[5]);
	for (p = 0; p < NPAIR; p++) {
		for (i = 0; i < 2; i++) {
			struct ibv_qp_init_attr qa = {
				.send_cq = sides[i].cq, .recv_cq = sides[i].cq,
				.qp_type = IBV_QPT_RC,
				.cap = { .max_send_wr = DEPTH,
					 .max_recv_wr = DEPTH,
					 .max_send_sge = 1, .max_recv_sge = 1 } };

			qps[p][i] = ibv_create_qp(sides[i].pd, &qa);
			if (!qps[p][i]) {
				perror("reset_race: create_qp");
				return 1;
			}
		}
		if (connect_qp(qps[p][0], 0, qps[p][1]->qp_num) ||
		    connect_qp(qps[p][1], 1, qps[p][0]->qp_num)) {
			perror("reset_race: connect");
			return 1;
		}
	}
	pthread_create(&t[0], NULL, sender, NULL);
	pthread_create(&t[1], NULL, states, NULL);
	while (time(NULL) < end)
		sleep(1);
	atomic_store(&stop, true);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	for (p = 0; p < NPAIR; p++)
		for (i = 0; i < 2; i++)
			ibv_destroy_qp(qps[p][i]);
	for (i = 0; i < 2; i++) {
		ibv_dereg_mr(sides[i].mr);
		ibv_destroy_cq(sides[i].cq);
		ibv_dealloc_pd(sides[i].pd);
		ibv_close_device(sides[i].ctx);
	}
	ibv_free_device_list(list);
	printf("sends %lu resets %lu errs %lu polled %lu\ndone\n",
	       atomic_load(&sends), atomic_load(&resets), atomic_load(&errs),
	       atomic_load(&polled));
	return 0;
}
