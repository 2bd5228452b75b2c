// SPDX-License-Identifier: GPL-2.0
/*
 * ufwd: a replication chain forwarded by processes, over native RC verbs
 * (libibverbs), the baseline of repl_bench.sh.
 *
 *   ufwd replica DEV GIDX PORT [NEXT_ADDR NEXT_PORT]
 *	A chain member on device DEV (RoCE v2 GID index GIDX).  It listens
 *	on TCP PORT for its predecessor (the client or the previous member)
 *	and, unless it is the tail, connects to its successor at
 *	NEXT_ADDR:NEXT_PORT; the TCP connections only carry the QP numbers
 *	and GIDs.  For each operation received (an RC SEND: a header and the
 *	data) it copies the data into its 1 MiB region and forwards the
 *	message to its successor from the same buffer; the tail acknowledges
 *	(a SEND with immediate data, the operation's number), and every
 *	member passes the acknowledgement on to its predecessor: the same
 *	six messages per operation as the in-kernel chain (client, head,
 *	middle, tail, middle, head, client).  Exits when its predecessor
 *	closes the TCP connection.
 *   ufwd client DEV GIDX HEAD_ADDR HEAD_PORT SIZE N [WINDOW]
 *	N writes of SIZE bytes at offset 0, at most WINDOW (default 1) in
 *	flight; prints the latency percentiles and the rate, in the format
 *	of "repl_tool lat":
 *	size S n N p50_us P p99_us P p999_us P ops_s R
 *
 * Every process waits for completions on a completion channel (it sleeps
 * in the kernel between operations, like a process that does not own a
 * CPU); UFWD_BUSY_POLL=1 in the environment makes it spin on the CQ
 * instead.  Exit status 0 on success, 1 on any error.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <infiniband/verbs.h>

#define REGION_SIZE	(1 << 20)
#define MAX_DATA	65536
#define NBUF		128		/* operation buffers (and receives) */
#define NACKRX		128		/* acknowledgement receives */
#define QP_DEPTH	512
#define CQ_DEPTH	2048
#define WINDOW_MAX	64

/* The header of an operation message; the data follows. */
struct op_hdr {
	uint64_t seq;
	uint32_t off;
	uint32_t len;
};

/* What the two ends of a connection exchange over TCP. */
struct qp_info {
	uint32_t qpn;
	uint32_t psn;
	uint32_t mtu;
	uint8_t gid[16];
};

/* wr_id: kind in the top byte, index below. */
enum { WR_OP_RX = 1, WR_OP_TX, WR_ACK_RX, WR_ACK_TX };
#define WR(kind, i)	(((uint64_t)(kind) << 56) | (i))
#define WR_KIND(id)	((int)((id) >> 56))
#define WR_IDX(id)	((uint32_t)((id) & 0xffffffffu))

struct ctx {
	struct ibv_context *dev;
	struct ibv_pd *pd;
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	char *mem;		/* NBUF operation buffers, then ack buffers */
	size_t bufsz;
	uint8_t port;
	int gidx;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	int busy;
	int armed;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ufwd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void ctx_open(struct ctx *c, const char *name, int gidx)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_port_attr pa;
	size_t len;
	int i;

	if (!list)
		die("no RDMA devices");
	for (i = 0; list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			break;
	if (!list[i])
		die("no device %s", name);
	c->dev = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!c->dev)
		die("open %s: %s", name, strerror(errno));
	c->port = 1;
	c->gidx = gidx;
	if (ibv_query_port(c->dev, c->port, &pa))
		die("query port: %s", strerror(errno));
	c->mtu = pa.active_mtu;
	if (ibv_query_gid(c->dev, c->port, gidx, &c->gid))
		die("query gid %d: %s", gidx, strerror(errno));
	c->pd = ibv_alloc_pd(c->dev);
	c->ch = ibv_create_comp_channel(c->dev);
	if (!c->pd || !c->ch)
		die("pd/channel: %s", strerror(errno));
	c->cq = ibv_create_cq(c->dev, CQ_DEPTH, NULL, c->ch, 0);
	if (!c->cq)
		die("create cq: %s", strerror(errno));
	c->bufsz = sizeof(struct op_hdr) + MAX_DATA;
	len = (NBUF * c->bufsz + NACKRX * 64 + 4095) & ~(size_t)4095;
	c->mem = aligned_alloc(4096, len);
	if (!c->mem)
		die("out of memory");
	memset(c->mem, 0xa5, len);
	c->mr = ibv_reg_mr(c->pd, c->mem, len, IBV_ACCESS_LOCAL_WRITE);
	if (!c->mr)
		die("reg mr: %s", strerror(errno));
	c->busy = getenv("UFWD_BUSY_POLL") && atoi(getenv("UFWD_BUSY_POLL"));
}

static char *opbuf(struct ctx *c, uint32_t i)
{
	return c->mem + (size_t)i * c->bufsz;
}

static char *ackbuf(struct ctx *c, uint32_t i)
{
	return c->mem + NBUF * c->bufsz + (size_t)i * 64;
}

static struct ibv_qp *qp_create(struct ctx *c)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = c->cq,
		.recv_cq = c->cq,
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = QP_DEPTH,
			.max_recv_wr = QP_DEPTH,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = c->port,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE,
	};
	struct ibv_qp *qp = ibv_create_qp(c->pd, &ia);

	if (!qp)
		die("create qp: %s", strerror(errno));
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		die("qp to INIT: %s", strerror(errno));
	return qp;
}

static void qp_connect(struct ctx *c, struct ibv_qp *qp,
		       const struct qp_info *me, const struct qp_info *peer)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = me->mtu < peer->mtu ? me->mtu : peer->mtu,
		.dest_qp_num = peer->qpn,
		.rq_psn = peer->psn,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 1,
		.ah_attr = {
			.is_global = 1,
			.port_num = c->port,
			.grh = {
				.sgid_index = c->gidx,
				.hop_limit = 64,
			},
		},
	};

	memcpy(a.ah_attr.grh.dgid.raw, peer->gid, 16);
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		die("qp to RTR: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = me->psn;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		die("qp to RTS: %s", strerror(errno));
}

static void info_of(struct ctx *c, struct ibv_qp *qp, struct qp_info *i)
{
	memset(i, 0, sizeof(*i));
	i->qpn = qp->qp_num;
	i->psn = lrand48() & 0xffffff;
	i->mtu = c->mtu;
	memcpy(i->gid, c->gid.raw, 16);
}

static void xfer(int fd, struct qp_info *mine, struct qp_info *peer)
{
	size_t got = 0;
	ssize_t n;

	if (write(fd, mine, sizeof(*mine)) != sizeof(*mine))
		die("tcp write: %s", strerror(errno));
	while (got < sizeof(*peer)) {
		n = read(fd, (char *)peer + got, sizeof(*peer) - got);
		if (n <= 0)
			die("tcp read: %s", n ? strerror(errno) : "closed");
		got += n;
	}
}

static int tcp_connect(const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int fd, one = 1, tries;

	if (getaddrinfo(addr, port, &hints, &ai))
		die("bad address %s:%s", addr, port);
	for (tries = 0; tries < 300; tries++) {
		fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket: %s", strerror(errno));
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			freeaddrinfo(ai);
			return fd;
		}
		close(fd);
		usleep(100000);
	}
	die("connect %s:%s: %s", addr, port, strerror(errno));
}

static int tcp_accept(const char *port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(atoi(port)),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int l = socket(AF_INET, SOCK_STREAM, 0), fd, one = 1;

	if (l < 0)
		die("socket: %s", strerror(errno));
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1))
		die("listen on %s: %s", port, strerror(errno));
	fd = accept(l, NULL, NULL);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	close(l);
	return fd;
}

static void post_recv(struct ibv_qp *qp, uint64_t id, void *addr,
		      uint32_t len, uint32_t lkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = id, .sg_list = &sge, .num_sge = 1 }, *bad;

	if (ibv_post_recv(qp, &wr, &bad))
		die("post recv: %s", strerror(errno));
}

static void post_send(struct ibv_qp *qp, uint64_t id, void *addr,
		      uint32_t len, uint32_t lkey, int imm, uint32_t immv)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = len ? 1 : 0,
		.opcode = imm ? IBV_WR_SEND_WITH_IMM : IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (imm)
		wr.imm_data = htonl(immv);
	if (ibv_post_send(qp, &wr, &bad))
		die("post send: %s", strerror(errno));
}

/*
 * Completions: up to @max in @wc; waits (on the channel or spinning) until
 * there is one.  @tcp: a descriptor whose end (EOF) stops the process with
 * status 0; -1 for none.
 */
static int get_wc(struct ctx *c, struct ibv_wc *wc, int max, int tcp)
{
	struct pollfd p[2];
	struct ibv_cq *cq;
	void *cqctx;
	char b;
	int n;

	for (;;) {
		n = ibv_poll_cq(c->cq, max, wc);
		if (n < 0)
			die("poll cq");
		if (n)
			return n;
		if (c->busy) {
			if (tcp >= 0 && recv(tcp, &b, 1, MSG_DONTWAIT) == 0)
				exit(0);
			continue;
		}
		if (!c->armed) {
			if (ibv_req_notify_cq(c->cq, 0))
				die("req notify");
			c->armed = 1;
			continue;	/* poll once more: no lost wake-up */
		}
		p[0].fd = c->ch->fd;
		p[0].events = POLLIN;
		p[1].fd = tcp;
		p[1].events = POLLIN;
		if (poll(p, tcp >= 0 ? 2 : 1, 30000) <= 0)
			die("no completion for 30 s");
		if (tcp >= 0 && (p[1].revents & (POLLIN | POLLHUP)) &&
		    recv(tcp, &b, 1, MSG_DONTWAIT) == 0)
			exit(0);
		if (!(p[0].revents & POLLIN))
			continue;
		if (ibv_get_cq_event(c->ch, &cq, &cqctx))
			die("get cq event");
		ibv_ack_cq_events(cq, 1);
		c->armed = 0;
	}
}

static void check_wc(const struct ibv_wc *w)
{
	if (w->status != IBV_WC_SUCCESS)
		die("completion of kind %d index %u: %s", WR_KIND(w->wr_id),
		    WR_IDX(w->wr_id), ibv_wc_status_str(w->status));
}

static int replica(int argc, char **argv)
{
	struct ctx c = { 0 };
	struct ibv_qp *up, *down = NULL;
	struct qp_info mu, pu, md, pd;
	struct ibv_wc wc[32];
	char *region = calloc(1, REGION_SIZE);
	int tcp_up, tcp_down, n, i;
	uint32_t k;
	char r;

	if (!region)
		die("out of memory");
	ctx_open(&c, argv[2], atoi(argv[3]));
	srand48(getpid() ^ time(NULL));
	up = qp_create(&c);
	if (argc == 7) {
		down = qp_create(&c);
		tcp_down = tcp_connect(argv[5], argv[6]);
		info_of(&c, down, &md);
		xfer(tcp_down, &md, &pd);
		qp_connect(&c, down, &md, &pd);
		/* The successor (and everything after it) is ready. */
		if (read(tcp_down, &r, 1) != 1)
			die("the successor did not get ready");
		for (k = 0; k < NACKRX; k++)
			post_recv(down, WR(WR_ACK_RX, k), ackbuf(&c, k), 64,
				  c.mr->lkey);
	}
	for (k = 0; k < NBUF; k++)
		post_recv(up, WR(WR_OP_RX, k), opbuf(&c, k), c.bufsz, c.mr->lkey);
	tcp_up = tcp_accept(argv[4]);
	info_of(&c, up, &mu);
	xfer(tcp_up, &mu, &pu);
	qp_connect(&c, up, &mu, &pu);
	/* Tell the predecessor that this end is ready to receive. */
	if (write(tcp_up, "R", 1) != 1)
		die("tcp write: %s", strerror(errno));

	for (;;) {
		n = get_wc(&c, wc, 32, tcp_up);
		for (i = 0; i < n; i++) {
			struct ibv_wc *w = &wc[i];
			uint32_t idx = WR_IDX(w->wr_id);
			struct op_hdr *h;

			check_wc(w);
			switch (WR_KIND(w->wr_id)) {
			case WR_OP_RX:		/* an operation: apply, forward */
				h = (struct op_hdr *)opbuf(&c, idx);
				if (w->byte_len < sizeof(*h) ||
				    h->len > w->byte_len - sizeof(*h) ||
				    h->off > REGION_SIZE - h->len)
					die("bad operation message");
				memcpy(region + h->off, h + 1, h->len);
				if (down) {
					/* the buffer returns once sent */
					post_send(down, WR(WR_OP_TX, idx), h,
						  w->byte_len, c.mr->lkey, 0, 0);
				} else {
					post_send(up, WR(WR_ACK_TX, 0), NULL, 0,
						  c.mr->lkey, 1, (uint32_t)h->seq);
					post_recv(up, WR(WR_OP_RX, idx), h,
						  c.bufsz, c.mr->lkey);
				}
				break;
			case WR_OP_TX:		/* forwarded: receive again */
				post_recv(up, WR(WR_OP_RX, idx), opbuf(&c, idx),
					  c.bufsz, c.mr->lkey);
				break;
			case WR_ACK_RX:		/* pass the ack on */
				post_send(up, WR(WR_ACK_TX, 0), NULL, 0,
					  c.mr->lkey, 1, ntohl(w->imm_data));
				post_recv(down, WR(WR_ACK_RX, idx),
					  ackbuf(&c, idx), 64, c.mr->lkey);
				break;
			case WR_ACK_TX:
				break;
			default:
				die("unexpected completion");
			}
		}
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int client(int argc, char **argv)
{
	struct ctx c = { 0 };
	struct ibv_qp *qp;
	struct qp_info m, p;
	struct ibv_wc wc[32];
	uint32_t size = atoi(argv[6]), window = argc > 8 ? atoi(argv[8]) : 1;
	uint64_t nops = strtoull(argv[7], NULL, 0), sent = 0, done = 0;
	uint64_t *t = calloc(nops, sizeof(*t)), t0, total;
	uint64_t start[WINDOW_MAX];
	unsigned int sq = 0;
	int tcp, n, i;
	uint32_t k;
	char r;

	if (!t || !nops || !size || size > MAX_DATA || !window ||
	    window > WINDOW_MAX)
		die("bad arguments");
	ctx_open(&c, argv[2], atoi(argv[3]));
	srand48(getpid() ^ time(NULL));
	qp = qp_create(&c);
	for (k = 0; k < NACKRX; k++)
		post_recv(qp, WR(WR_ACK_RX, k), ackbuf(&c, k), 64, c.mr->lkey);
	tcp = tcp_connect(argv[4], argv[5]);
	info_of(&c, qp, &m);
	xfer(tcp, &m, &p);
	qp_connect(&c, qp, &m, &p);
	if (read(tcp, &r, 1) != 1)
		die("the head did not get ready");

	total = now_ns();
	while (done < nops) {
		while (sent < nops && sent - done < window && sq < QP_DEPTH) {
			struct op_hdr *h = (struct op_hdr *)opbuf(&c, sent % window);

			h->seq = sent;
			h->off = 0;
			h->len = size;
			start[sent % window] = now_ns();
			post_send(qp, WR(WR_OP_TX, sent % window), h,
				  sizeof(*h) + size, c.mr->lkey, 0, 0);
			sent++;
			sq++;
		}
		n = get_wc(&c, wc, 32, -1);
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			struct ibv_wc *w = &wc[i];
			uint32_t seq;

			check_wc(w);
			if (WR_KIND(w->wr_id) == WR_OP_TX) {
				sq--;
				continue;
			}
			seq = ntohl(w->imm_data);
			if (seq != (uint32_t)done)
				die("ack %u, expected %" PRIu64, seq, done);
			t[done] = t0 - start[done % window];
			done++;
			post_recv(qp, w->wr_id, ackbuf(&c, WR_IDX(w->wr_id)),
				  64, c.mr->lkey);
		}
	}
	total = now_ns() - total;
	qsort(t, nops, sizeof(*t), cmp_u64);
	printf("size %u n %" PRIu64 " p50_us %.1f p99_us %.1f p999_us %.1f ops_s %.0f\n",
	       size, nops, t[nops / 2] / 1e3, t[nops * 99 / 100] / 1e3,
	       t[nops * 999 / 1000] / 1e3, nops / (total / 1e9));
	close(tcp);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "replica") && (argc == 5 || argc == 7))
		return replica(argc, argv);
	if (!strcmp(cmd, "client") && (argc == 8 || argc == 9))
		return client(argc, argv);
	fprintf(stderr, "usage: ufwd replica DEV GIDX PORT [NEXT_ADDR NEXT_PORT]\n"
		"       ufwd client DEV GIDX HEAD_ADDR HEAD_PORT SIZE N [WINDOW]\n");
	return 2;
}
