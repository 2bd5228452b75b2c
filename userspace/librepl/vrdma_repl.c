// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/*
 * libvrdmarepl: client library of the vrdma replication engine.
 *
 * Each handle is a generic netlink socket of the vrdma family.  An
 * operation is a REPL_OP request sent without NLM_F_ACK: the kernel queues
 * it and answers later with a REPL_OP_DONE message (the cookie, the status,
 * gCAS results).  A request it refuses comes back at once as an
 * NLMSG_ERROR carrying the request's sequence number, which the library
 * maps back to the cookie (the last SUB_RING submissions are remembered;
 * the kernel answers refusals while the request is being sent).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "vrdma_repl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

#define SBUF_SIZE	(VRDMA_REPL_WRITE_MAX + 4096)
#define RBUF_SIZE	(128 * 1024)
#define SUB_RING	4096
#define RCVBUF_BYTES	(8 << 20)
/* Largest payload of one attribute (nla_len is 16 bits). */
#define ATTR_MAX	32768

struct vrdma_repl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;
	char name[VRDMA_REPL_NAME_LEN];
	uint64_t size;
	unsigned int inflight;
	char *sbuf;
	char *rbuf;
	struct {
		uint32_t seq;
		uint64_t cookie;
	} sub[SUB_RING];
	struct vrdma_repl_completion *q;	/* completions not taken yet */
	unsigned int qhead, qlen, qcap;
	int err;			/* sticky error of the socket */
};

static struct nlmsghdr *msg_start(struct vrdma_repl *r, uint16_t type,
				  uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->sbuf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++r->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = type == GENL_ID_CTRL ? 1 : VRDMA_FAMILY_VERSION;
	return nlh;
}

/* A synchronous request (open only): @cb gets each reply. */
static int request(struct vrdma_repl *r, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	int ret, len;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(r->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		len = mnl_socket_recvfrom(r->sock, r->rbuf, RBUF_SIZE);
		if (len < 0)
			return -errno;
		ret = mnl_cb_run(r->rbuf, len, seq, r->portid, cb, data);
		if (ret < 0)
			return errno ? -errno : -EPROTO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vrdma_repl *r = data;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
		    !mnl_attr_validate(attr, MNL_TYPE_U16))
			r->family = mnl_attr_get_u16(attr);
	}
	return MNL_CB_OK;
}

static int group_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vrdma_repl *r = data;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(attr) == VRDMA_A_REPL_SIZE &&
		    !mnl_attr_validate(attr, MNL_TYPE_U64))
			r->size = mnl_attr_get_u64(attr);
	}
	return MNL_CB_OK;
}

int vrdma_repl_open(const char *name, struct vrdma_repl **rp)
{
	struct nlmsghdr *nlh;
	struct vrdma_repl *r;
	int one = 1, sz = RCVBUF_BYTES, ret;

	*rp = NULL;
	if (!name || !*name || strlen(name) >= VRDMA_REPL_NAME_LEN)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	strcpy(r->name, name);
	r->sbuf = malloc(SBUF_SIZE);
	r->rbuf = malloc(RBUF_SIZE);
	if (!r->sbuf || !r->rbuf) {
		ret = -ENOMEM;
		goto err;
	}
	r->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!r->sock) {
		ret = -errno;
		goto err;
	}
	mnl_socket_setsockopt(r->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Room for a window of completions; the forced size needs privilege. */
	if (setsockopt(mnl_socket_get_fd(r->sock), SOL_SOCKET, SO_RCVBUFFORCE,
		       &sz, sizeof(sz)))
		setsockopt(mnl_socket_get_fd(r->sock), SOL_SOCKET, SO_RCVBUF,
			   &sz, sizeof(sz));
	if (mnl_socket_bind(r->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err;
	}
	r->portid = mnl_socket_get_portid(r->sock);
	r->seq = time(NULL);

	nlh = msg_start(r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VRDMA_FAMILY_NAME);
	ret = request(r, nlh, family_cb, r);
	if (ret || !r->family) {
		ret = ret ?: -ENOENT;
		goto err;
	}
	nlh = msg_start(r, r->family, VRDMA_CMD_REPL_GROUP_GET, 0);
	mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, name);
	ret = request(r, nlh, group_cb, r);
	if (ret)
		goto err;
	if (!r->size) {
		ret = -EPROTO;
		goto err;
	}
	*rp = r;
	return 0;

err:
	vrdma_repl_close(r);
	return ret;
}

void vrdma_repl_close(struct vrdma_repl *r)
{
	if (!r)
		return;
	if (r->sock)
		mnl_socket_close(r->sock);
	free(r->sbuf);
	free(r->rbuf);
	free(r->q);
	free(r);
}

uint64_t vrdma_repl_size(const struct vrdma_repl *r)
{
	return r->size;
}

int vrdma_repl_fd(const struct vrdma_repl *r)
{
	return mnl_socket_get_fd(r->sock);
}

unsigned int vrdma_repl_inflight(const struct vrdma_repl *r)
{
	return r->inflight;
}

static struct nlmsghdr *op_start(struct vrdma_repl *r, uint32_t opcode,
				 uint64_t cookie)
{
	struct nlmsghdr *nlh = msg_start(r, r->family, VRDMA_CMD_REPL_OP, 0);

	mnl_attr_put_strz(nlh, VRDMA_A_REPL_NAME, r->name);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_OPCODE, opcode);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_COOKIE, cookie);
	return nlh;
}

static int op_send(struct vrdma_repl *r, struct nlmsghdr *nlh,
		   uint64_t cookie)
{
	unsigned int slot = nlh->nlmsg_seq % SUB_RING;

	r->sub[slot].seq = nlh->nlmsg_seq;
	r->sub[slot].cookie = cookie;
	while (mnl_socket_sendto(r->sock, nlh, nlh->nlmsg_len) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	r->inflight++;
	return 0;
}

int vrdma_repl_write(struct vrdma_repl *r, uint64_t offset, const void *data,
		     uint32_t len, uint64_t cookie)
{
	struct nlmsghdr *nlh;
	uint32_t done, n;

	if (!len || len > VRDMA_REPL_WRITE_MAX)
		return -EINVAL;
	nlh = op_start(r, VRDMA_REPL_OP_WRITE, cookie);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, offset);
	/* Pieces of at most ATTR_MAX bytes, concatenated by the kernel. */
	for (done = 0; done < len; done += n) {
		n = len - done < ATTR_MAX ? len - done : ATTR_MAX;
		mnl_attr_put(nlh, VRDMA_A_REPL_DATA, n,
			     (const char *)data + done);
	}
	return op_send(r, nlh, cookie);
}

int vrdma_repl_memcpy(struct vrdma_repl *r, uint64_t src, uint64_t dst,
		      uint32_t len, uint64_t cookie)
{
	struct nlmsghdr *nlh = op_start(r, VRDMA_REPL_OP_MEMCPY, cookie);

	mnl_attr_put_u64(nlh, VRDMA_A_REPL_SRC, src);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, dst);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_LEN, len);
	return op_send(r, nlh, cookie);
}

int vrdma_repl_cas(struct vrdma_repl *r, uint64_t offset, uint64_t expected,
		   uint64_t newval, uint64_t cookie)
{
	struct nlmsghdr *nlh = op_start(r, VRDMA_REPL_OP_CAS, cookie);

	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, offset);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_EXPECTED, expected);
	mnl_attr_put_u64(nlh, VRDMA_A_REPL_NEW, newval);
	return op_send(r, nlh, cookie);
}

int vrdma_repl_flush(struct vrdma_repl *r, uint64_t offset, uint32_t len,
		     uint64_t cookie)
{
	struct nlmsghdr *nlh = op_start(r, VRDMA_REPL_OP_FLUSH, cookie);

	mnl_attr_put_u64(nlh, VRDMA_A_REPL_OFFSET, offset);
	mnl_attr_put_u32(nlh, VRDMA_A_REPL_LEN, len);
	return op_send(r, nlh, cookie);
}

static struct vrdma_repl_completion *q_push(struct vrdma_repl *r)
{
	struct vrdma_repl_completion *c;

	if (r->qlen == r->qcap) {
		unsigned int cap = r->qcap ? 2 * r->qcap : 64, i;

		c = malloc(cap * sizeof(*c));
		if (!c)
			return NULL;
		for (i = 0; i < r->qlen; i++)
			c[i] = r->q[(r->qhead + i) % r->qcap];
		free(r->q);
		r->q = c;
		r->qcap = cap;
		r->qhead = 0;
	}
	c = &r->q[(r->qhead + r->qlen++) % r->qcap];
	memset(c, 0, sizeof(*c));
	return c;
}

static void parse_result(const struct nlattr *nest,
			 struct vrdma_repl_completion *c)
{
	struct vrdma_repl_result *res;
	const struct nlattr *attr;

	if (c->nres >= VRDMA_REPL_MAX_MEMBERS)
		return;
	res = &c->res[c->nres++];
	mnl_attr_for_each_nested(attr, nest) {
		switch (mnl_attr_get_type(attr)) {
		case VRDMA_A_REPL_RESULT_MEMBER:
			if (!mnl_attr_validate(attr, MNL_TYPE_U32))
				res->member = mnl_attr_get_u32(attr);
			break;
		case VRDMA_A_REPL_RESULT_ADDR:
			if (mnl_attr_get_payload_len(attr) == sizeof(res->addr))
				memcpy(&res->addr, mnl_attr_get_payload(attr),
				       sizeof(res->addr));
			break;
		case VRDMA_A_REPL_RESULT_OLD:
			if (!mnl_attr_validate(attr, MNL_TYPE_U64))
				res->old = mnl_attr_get_u64(attr);
			break;
		case VRDMA_A_REPL_RESULT_SWAPPED:
			if (!mnl_attr_validate(attr, MNL_TYPE_U8))
				res->swapped = mnl_attr_get_u8(attr);
			break;
		}
	}
}

/* One message of a datagram. */
static int parse_msg(struct vrdma_repl *r, const struct nlmsghdr *nlh)
{
	struct vrdma_repl_completion *c;
	const struct genlmsghdr *genl;
	const struct nlattr *attr;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
		unsigned int slot = nlh->nlmsg_seq % SUB_RING;

		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) || !e->error)
			return 0;
		c = q_push(r);
		if (!c)
			return -ENOMEM;
		c->status = e->error < 0 ? e->error : -e->error;
		if (r->sub[slot].seq == nlh->nlmsg_seq)
			c->cookie = r->sub[slot].cookie;
		if (r->inflight)
			r->inflight--;
		return 0;
	}
	if (nlh->nlmsg_type != r->family ||
	    mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return 0;
	genl = mnl_nlmsg_get_payload(nlh);
	if (genl->cmd != VRDMA_CMD_REPL_OP_DONE)
		return 0;
	c = q_push(r);
	if (!c)
		return -ENOMEM;
	mnl_attr_for_each(attr, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(attr)) {
		case VRDMA_A_REPL_COOKIE:
			if (!mnl_attr_validate(attr, MNL_TYPE_U64))
				c->cookie = mnl_attr_get_u64(attr);
			break;
		case VRDMA_A_REPL_STATUS:
			if (!mnl_attr_validate(attr, MNL_TYPE_U32))
				c->status = (int32_t)mnl_attr_get_u32(attr);
			break;
		case VRDMA_A_REPL_RESULT:
			parse_result(attr, c);
			break;
		}
	}
	if (r->inflight)
		r->inflight--;
	return 0;
}

/* Read one datagram (waiting up to @timeout_ms) and queue what it says. */
static int receive(struct vrdma_repl *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = vrdma_repl_fd(r), .events = POLLIN };
	const struct nlmsghdr *nlh;
	ssize_t len;
	int ret, rem;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	if (!ret)
		return 0;
	len = recv(pfd.fd, r->rbuf, RBUF_SIZE, MSG_DONTWAIT);
	if (len < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	rem = len;
	for (nlh = (const void *)r->rbuf; mnl_nlmsg_ok(nlh, rem);
	     nlh = mnl_nlmsg_next(nlh, &rem)) {
		ret = parse_msg(r, nlh);
		if (ret)
			return ret;
	}
	return 1;
}

int vrdma_repl_poll(struct vrdma_repl *r, struct vrdma_repl_completion *c,
		    int max, int timeout_ms)
{
	int n = 0, ret;

	while (n < max) {
		if (r->qlen) {
			c[n++] = r->q[r->qhead];
			r->qhead = (r->qhead + 1) % r->qcap;
			r->qlen--;
			continue;
		}
		/* Wait for the first one only. */
		ret = receive(r, n ? 0 : timeout_ms);
		if (ret < 0)
			return n ? n : ret;
		if (!ret)
			break;
	}
	return n;
}
