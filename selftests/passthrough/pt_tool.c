// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of the passthrough selftests: one RDMA device, from the command
 * line, through the stock provider.  Peers find each other through small
 * files in $PT_DIR (default /tmp/vrdma-pt): every network namespace of the
 * test VM sees the same /tmp.
 *
 *   pt_tool refuse DEV GIDX
 *	try what a passthrough device refuses; one line per attempt:
 *	"NAME errno E" (0: it was created); the AH is one to our own GID
 *   pt_tool node DEV GIDX NAME
 *	a passive RC node: an MR (4 KiB of 0x5a, remote read/write/atomic),
 *	8 receives posted on another 4 KiB of 0x5a.  Writes NAME.info
 *	("GID QPN PSN RKEY ADDR"), connects to the peer written in
 *	NAME.connect, stops when NAME.stop appears; then prints "intact" and
 *	exits 0 when no byte changed and no receive completed, else prints
 *	what happened and exits 1
 *   pt_tool attack DEV GIDX KIND PEER [TARGET]
 *	connect an RC QP to node PEER (which connects back), then:
 *	  write-ok      RDMA WRITE into PEER's MR (control: must work), and
 *	                ibv_query_qp must show PEER's GID as destination
 *	  bogus-lkey    RDMA WRITE into PEER's MR from a bogus lkey
 *	  foreign-rkey  RDMA WRITE to TARGET's address with TARGET's rkey
 *	  foreign-qpn   (connected to PEER's address, TARGET's QPN) SEND;
 *			refused at modify_qp, or completed in error
 *	  other-vni     connect to TARGET's address (another VNI)
 *	prints "status NAME" (the completion's, or "modify errno E") and
 *	exits 0 when the outcome is the one expected (success for write-ok,
 *	an error otherwise)
 *   pt_tool stream DEV GIDX
 *	a QP connected to itself doing 64 KiB RDMA WRITEs until killed;
 *	prints "running" after the first completion
 *   pt_tool hold DEV GIDX FILE
 *	open the device with a PD, CQ, QP (rings mapped), print "ready",
 *	wait until FILE exists, then try a verb and print "verb errno E"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#define BUF_SIZE	4096
#define N_RECV		8
#define PATTERN		0x5a

static const char *pt_dir(void)
{
	const char *d = getenv("PT_DIR");

	return d && *d ? d : "/tmp/vrdma-pt";
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "pt_tool: %s: %s\n", what, strerror(errno));
	exit(2);
}

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
	if (!ctx) {
		fprintf(stderr, "pt_tool: cannot open %s\n", name);
		exit(2);
	}
	return ctx;
}

static void path_of(char *buf, size_t len, const char *name, const char *ext)
{
	snprintf(buf, len, "%s/%s.%s", pt_dir(), name, ext);
}

static int exists(const char *name, const char *ext)
{
	char p[256];

	path_of(p, sizeof(p), name, ext);
	return access(p, F_OK) == 0;
}

/* Wait (up to 60 s) for a file, then read its first line. */
static int read_file(const char *name, const char *ext, char *line, size_t len)
{
	double end = now() + 60;
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), name, ext);
	while (!(f = fopen(p, "r"))) {
		if (now() > end) {
			fprintf(stderr, "pt_tool: no %s\n", p);
			return -1;
		}
		usleep(20000);
	}
	if (!fgets(line, len, f))
		line[0] = 0;
	fclose(f);
	if (!line[0])
		fprintf(stderr, "pt_tool: %s is empty\n", p);
	return line[0] ? 0 : -1;
}

/* Written atomically: a temporary file, then a rename. */
static void write_file(const char *name, const char *ext, const char *line)
{
	char p[256], tmp[300];
	FILE *f;

	path_of(p, sizeof(p), name, ext);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", p, getpid());
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) || rename(tmp, p))
		die(p);
}

struct info {
	union ibv_gid gid;
	uint32_t qpn, psn, rkey;
	uint64_t addr;
};

static void info_fmt(const struct info *in, char *buf, size_t len)
{
	char g[33];
	int i;

	for (i = 0; i < 16; i++)
		sprintf(g + 2 * i, "%02x", in->gid.raw[i]);
	snprintf(buf, len, "%s %u %u %u %llu", g, in->qpn, in->psn, in->rkey,
		 (unsigned long long)in->addr);
}

static int info_parse(const char *line, struct info *in)
{
	unsigned long long addr;
	char g[33];
	int i;

	if (sscanf(line, "%32s %u %u %u %llu", g, &in->qpn, &in->psn,
		   &in->rkey, &addr) != 5 || strlen(g) != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		unsigned int b;

		if (sscanf(g + 2 * i, "%2x", &b) != 1)
			return -1;
		in->gid.raw[i] = b;
	}
	in->addr = addr;
	return 0;
}

struct node {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr, *rmr;
	uint8_t *buf, *rbuf;
	int gidx;
	struct info self;
};

static void node_init(struct node *n, const char *dev, int gidx)
{
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = N_RECV,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;

	n->ctx = open_dev(dev);
	n->gidx = gidx;
	n->pd = ibv_alloc_pd(n->ctx);
	if (!n->pd)
		die("ibv_alloc_pd");
	n->cq = ibv_create_cq(n->ctx, 64, NULL, NULL, 0);
	if (!n->cq)
		die("ibv_create_cq");
	qa.send_cq = n->cq;
	qa.recv_cq = n->cq;
	n->qp = ibv_create_qp(n->pd, &qa);
	if (!n->qp)
		die("ibv_create_qp");
	if (posix_memalign((void **)&n->buf, 4096, BUF_SIZE) ||
	    posix_memalign((void **)&n->rbuf, 4096, BUF_SIZE))
		die("posix_memalign");
	memset(n->buf, PATTERN, BUF_SIZE);
	memset(n->rbuf, PATTERN, BUF_SIZE);
	n->mr = ibv_reg_mr(n->pd, n->buf, BUF_SIZE, access);
	n->rmr = ibv_reg_mr(n->pd, n->rbuf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE);
	if (!n->mr || !n->rmr)
		die("ibv_reg_mr");
	if (ibv_modify_qp(n->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		die("modify INIT");
	if (ibv_query_gid(n->ctx, 1, gidx, &n->self.gid))
		die("ibv_query_gid");
	srand(getpid() ^ (unsigned int)time(NULL));
	n->self.qpn = n->qp->qp_num;
	n->self.psn = rand() & 0xffffff;
	n->self.rkey = n->mr->rkey;
	n->self.addr = (uintptr_t)n->buf;
}

/* RTR and RTS towards @dgid, QP @dqpn; returns 0 or an errno. */
static int node_connect(struct node *n, const union ibv_gid *dgid,
			uint32_t dqpn, uint32_t dpsn, int timeout, int retry)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024,
		.dest_qp_num = dqpn,
		.rq_psn = dpsn,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.port_num = 1,
			.grh = { .dgid = *dgid, .sgid_index = n->gidx,
				 .hop_limit = 64 },
		},
	};

	if (ibv_modify_qp(n->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return errno;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = timeout;
	a.retry_cnt = retry;
	a.rnr_retry = retry;
	a.sq_psn = n->self.psn;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(n->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		return errno;
	return 0;
}

/* Poll one completion for up to @secs; returns 1, 0 (none) or -1. */
static int poll_one(struct ibv_cq *cq, struct ibv_wc *wc, double secs)
{
	double end = now() + secs;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n;
		usleep(1000);
	} while (now() < end);
	return 0;
}

/* ---- refuse ---------------------------------------------------------------- */

static void report(const char *what, void *obj)
{
	printf("%s errno %d\n", what, obj ? 0 : errno);
}

static int cmd_refuse(const char *dev, int gidx)
{
	struct ibv_context *ctx = open_dev(dev);
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	struct ibv_qp_init_attr qa = {
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_init_attr_ex qx = {
		.qp_type = IBV_QPT_RC,
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_CREATE_FLAGS,
		.create_flags = IBV_QP_CREATE_BLOCK_SELF_MCAST_LB,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_ah_attr ah = {
		.is_global = 1, .port_num = 1,
		.grh = { .sgid_index = gidx, .hop_limit = 64 },
	};
	struct ibv_xrcd_init_attr xa = {
		.comp_mask = IBV_XRCD_INIT_ATTR_FD | IBV_XRCD_INIT_ATTR_OFLAGS,
		.fd = -1, .oflags = O_CREAT,
	};
	struct ibv_qp *qp;
	union ibv_gid mgid = { .raw = { 0xff, 0x0e } };

	if (!pd || !cq)
		die("pd/cq");
	if (ibv_query_gid(ctx, 1, gidx, &ah.grh.dgid))
		die("ibv_query_gid");
	qa.send_cq = cq;
	qa.recv_cq = cq;
	qx.send_cq = cq;
	qx.recv_cq = cq;
	qx.pd = pd;

	qa.qp_type = IBV_QPT_UD;
	report("ud_qp", ibv_create_qp(pd, &qa));
	qa.qp_type = IBV_QPT_RAW_PACKET;
	report("raw_packet_qp", ibv_create_qp(pd, &qa));
	report("ah", ibv_create_ah(pd, &ah));
	report("xrcd", ibv_open_xrcd(ctx, &xa));
	report("mw", ibv_alloc_mw(pd, IBV_MW_TYPE_1));

	qa.qp_type = IBV_QPT_RC;
	qp = ibv_create_qp(pd, &qa);
	report("rc_qp", qp);
	if (qp) {
		errno = ibv_attach_mcast(qp, &mgid, 0);
		printf("attach_mcast errno %d\n", errno);
	}
	qa.qp_type = IBV_QPT_UC;
	report("uc_qp", ibv_create_qp(pd, &qa));
	report("qp_create_flags", ibv_create_qp_ex(ctx, &qx));
	return 0;
}

/* ---- node ------------------------------------------------------------------ */

static int cmd_node(const char *dev, int gidx, const char *name)
{
	struct ibv_recv_wr rwr = { 0 }, *bad;
	struct ibv_sge sge;
	struct info peer;
	struct node n;
	char line[256];
	int i, recvs = 0, changed = 0;
	struct ibv_wc wc;

	node_init(&n, dev, gidx);
	for (i = 0; i < N_RECV; i++) {
		sge.addr = (uintptr_t)n.rbuf;
		sge.length = BUF_SIZE;
		sge.lkey = n.rmr->lkey;
		rwr.wr_id = i;
		rwr.sg_list = &sge;
		rwr.num_sge = 1;
		if (ibv_post_recv(n.qp, &rwr, &bad))
			die("ibv_post_recv");
	}
	info_fmt(&n.self, line, sizeof(line));
	write_file(name, "info", line);

	if (read_file(name, "connect", line, sizeof(line)) ||
	    info_parse(line, &peer))
		return 2;
	errno = node_connect(&n, &peer.gid, peer.qpn, peer.psn, 14, 7);
	if (errno)
		die("connect");
	write_file(name, "connected", "1");

	while (!exists(name, "stop"))
		usleep(20000);

	while (ibv_poll_cq(n.cq, 1, &wc) == 1) {
		printf("completion %s opcode %d\n",
		       ibv_wc_status_str(wc.status), wc.opcode);
		if (wc.opcode & IBV_WC_RECV)
			recvs++;
	}
	for (i = 0; i < BUF_SIZE; i++)
		changed += n.buf[i] != PATTERN || n.rbuf[i] != PATTERN;
	if (!changed && !recvs) {
		printf("intact\n");
		return 0;
	}
	printf("changed %d bytes, %d receives\n", changed, recvs);
	return 1;
}

/* ---- attack ---------------------------------------------------------------- */

static int cmd_attack(const char *dev, int gidx, const char *kind,
		      const char *peer_name, const char *target_name)
{
	struct ibv_send_wr wr = { 0 }, *bad;
	struct info peer, target = { 0 }, self;
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr qattr;
	int ok_expected = !strcmp(kind, "write-ok");
	int timeout = 14, retry = 7;
	uint32_t dqpn;
	struct ibv_sge sge;
	struct ibv_wc wc;
	struct node n;
	char line[256];
	int err;

	node_init(&n, dev, gidx);
	self = n.self;
	if (read_file(peer_name, "info", line, sizeof(line)) ||
	    info_parse(line, &peer))
		return 2;
	if (target_name &&
	    (read_file(target_name, "info", line, sizeof(line)) ||
	     info_parse(line, &target)))
		return 2;

	/* The peer connects to us (its QP must be in RTR to answer). */
	info_fmt(&self, line, sizeof(line));
	write_file(peer_name, "connect", line);
	if (read_file(peer_name, "connected", line, sizeof(line)))
		return 2;

	dqpn = peer.qpn;
	if (!strcmp(kind, "foreign-qpn")) {
		dqpn = target.qpn;
		timeout = 12;	/* nobody answers: fail fast */
		retry = 1;
	}
	if (!strcmp(kind, "other-vni")) {
		err = node_connect(&n, &target.gid, target.qpn, target.psn,
				   timeout, retry);
		printf("status modify errno %d\n", err);
		return err ? 0 : 1;
	}
	err = node_connect(&n, &peer.gid, dqpn, peer.psn, timeout, retry);
	if (err) {
		printf("status modify errno %d\n", err);
		/* A foreign QPN may be refused at modify_qp already. */
		return strcmp(kind, "foreign-qpn") ? 1 : 0;
	}

	if (ok_expected) {
		/* The application sees the overlay address it gave. */
		if (ibv_query_qp(n.qp, &qattr, IBV_QP_AV, &init) ||
		    memcmp(&qattr.ah_attr.grh.dgid, &peer.gid,
			   sizeof(peer.gid))) {
			char g[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, qattr.ah_attr.grh.dgid.raw, g,
				  sizeof(g));
			printf("query_qp dgid %s is not the peer's\n", g);
			return 1;
		}
		printf("query_qp shows the peer's overlay GID\n");
	}

	memset(n.buf, 0xa5, BUF_SIZE);
	sge.addr = (uintptr_t)n.buf;
	sge.length = 64;
	sge.lkey = n.mr->lkey;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.wr.rdma.remote_addr = peer.addr;
	wr.wr.rdma.rkey = peer.rkey;
	if (!strcmp(kind, "bogus-lkey")) {
		sge.lkey = n.mr->lkey ^ 0x5a5a00;
	} else if (!strcmp(kind, "foreign-rkey")) {
		wr.wr.rdma.remote_addr = target.addr;
		wr.wr.rdma.rkey = target.rkey;
	} else if (!strcmp(kind, "foreign-qpn")) {
		wr.opcode = IBV_WR_SEND;
	} else if (!ok_expected) {
		fprintf(stderr, "pt_tool: unknown attack %s\n", kind);
		return 2;
	}
	if (ibv_post_send(n.qp, &wr, &bad)) {
		printf("status post errno %d\n", errno);
		return ok_expected;
	}
	if (poll_one(n.cq, &wc, 60) != 1) {
		printf("status none\n");
		return 1;
	}
	printf("status %s\n", ibv_wc_status_str(wc.status));
	return (wc.status == IBV_WC_SUCCESS) != ok_expected;
}

/* ---- stream, hold ------------------------------------------------------------ */

static int cmd_stream(const char *dev, int gidx)
{
	struct ibv_send_wr wr = { 0 }, *bad;
	struct ibv_mr *big;
	struct ibv_sge sge;
	struct ibv_wc wc;
	struct node n;
	uint8_t *mem;
	long done = 0;
	int inflight = 0;

	node_init(&n, dev, gidx);
	if (node_connect(&n, &n.self.gid, n.self.qpn, n.self.psn, 14, 7))
		die("connect to self");
	mem = malloc(2 << 16);
	if (!mem)
		die("malloc");
	big = ibv_reg_mr(n.pd, mem, 2 << 16, IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_WRITE);
	if (!big)
		die("ibv_reg_mr");
	sge.addr = (uintptr_t)mem;
	sge.length = 1 << 16;
	sge.lkey = big->lkey;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)mem + (1 << 16);
	wr.wr.rdma.rkey = big->rkey;
	for (;;) {
		while (inflight < 8) {
			if (ibv_post_send(n.qp, &wr, &bad))
				die("ibv_post_send");
			inflight++;
		}
		if (poll_one(n.cq, &wc, 30) != 1)
			die("no completion");
		if (wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "pt_tool: completion %s\n",
				ibv_wc_status_str(wc.status));
			return 1;
		}
		inflight--;
		if (!done++) {
			printf("running\n");
			fflush(stdout);
		}
	}
}

static int cmd_hold(const char *dev, int gidx, const char *file)
{
	struct ibv_pd *pd;
	struct node n;

	node_init(&n, dev, gidx);
	printf("ready\n");
	fflush(stdout);
	while (access(file, F_OK))
		usleep(20000);
	pd = ibv_alloc_pd(n.ctx);
	printf("verb errno %d\n", pd ? 0 : errno);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "refuse"))
		return cmd_refuse(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "node"))
		return cmd_node(argv[2], atoi(argv[3]), argv[4]);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "attack"))
		return cmd_attack(argv[2], atoi(argv[3]), argv[4], argv[5],
				  argc == 7 ? argv[6] : NULL);
	if (argc == 4 && !strcmp(argv[1], "stream"))
		return cmd_stream(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv[2], atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: see the head of pt_tool.c\n");
	return 2;
}
