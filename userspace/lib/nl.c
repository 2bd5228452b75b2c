// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing of vrdma's tools: socket, family resolution through
 * the genetlink controller, request/answer loop with extended ACKs.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"

/* Large enough for any dump message the kernel builds (32 KiB at most). */
#define NL_RECV_SIZE	32768

/* State of one nl_request() while its answer is processed. */
struct nl_run {
	struct nl *nl;
	const struct nlmsghdr *req;
	mnl_cb_t cb;
	void *data;
	int err;	/* error reported by the kernel (negative errno) */
	int cb_err;	/* error returned by a reply callback */
};

static int ext_ack_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_ext_ack *ext = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(ext->msg, sizeof(ext->msg), "%s",
				 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			ext->has_offs = true;
			ext->offs = mnl_attr_get_u32(attr);
		}
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			ext->has_miss_type = true;
			ext->miss_type = mnl_attr_get_u32(attr);
		}
		break;
	}
	return MNL_CB_OK;
}

/* Type of the top-level request attribute that covers byte @offs, or -1. */
static int request_attr_at(const struct nlmsghdr *req, size_t hdrlen,
			   uint32_t offs)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, req, hdrlen) {
		uint32_t start = (const char *)attr - (const char *)req;

		if (offs >= start && offs < start + attr->nla_len)
			return mnl_attr_get_type(attr);
	}
	return -1;
}

/* Parse the extended ACK TLVs that start @offset bytes into the payload. */
static void parse_ext_ack(struct nl_run *run, const struct nlmsghdr *nlh,
			  size_t offset)
{
	struct nl_ext_ack *ext = &run->nl->ext;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, offset, ext_ack_attr_cb, ext);
	if (ext->has_offs)
		ext->bad_attr = request_attr_at(run->req, run->nl->hdrlen,
						ext->offs);
}

static int nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct nl_run *run = data;
	size_t offset;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		run->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;	/* the ACK */

	run->err = e->error < 0 ? e->error : -e->error;
	/* Unless capped, the whole request is echoed before the TLVs. */
	offset = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= sizeof(e->msg))
		offset += e->msg.nlmsg_len - sizeof(e->msg);
	parse_ext_ack(run, nlh, offset);
	return MNL_CB_ERROR;
}

/* End of a dump; it carries the dump's error, if any, and its extack. */
static int nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(err))
		return MNL_CB_STOP;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err == 0)
		return MNL_CB_STOP;

	run->err = err < 0 ? err : -err;
	parse_ext_ack(run, nlh, sizeof(err));
	return MNL_CB_ERROR;
}

static int nl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_run *run = data;
	int ret;

	/* After a callback failed, drain the rest of the answer. */
	if (run->cb_err)
		return MNL_CB_OK;

	if (nlh->nlmsg_type != run->req->nlmsg_type ||
	    mnl_nlmsg_get_payload_len(nlh) < run->nl->hdrlen) {
		run->cb_err = -EBADMSG;
		return MNL_CB_OK;
	}
	if (!run->cb)
		return MNL_CB_OK;

	errno = 0;
	ret = run->cb(nlh, run->data);
	if (ret == MNL_CB_ERROR) {
		run->cb_err = errno ? -errno : -EPROTO;
		return MNL_CB_OK;
	}
	return ret;
}

int nl_request(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = nl_error_cb,
		[NLMSG_DONE] = nl_done_cb,
	};
	struct nl_run run = {
		.nl = nl, .req = nlh, .cb = cb, .data = data,
	};
	ssize_t len;
	int ret;

	memset(&nl->ext, 0, sizeof(nl->ext));
	nl->ext.bad_attr = -1;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;

	do {
		len = mnl_socket_recvfrom(nl->sock, nl->rbuf, NL_RECV_SIZE);
		if (len < 0)
			return -errno;
		ret = mnl_cb_run2(nl->rbuf, len, nlh->nlmsg_seq, nl->portid,
				  nl_data_cb, &run, ctl_cb,
				  MNL_ARRAY_SIZE(ctl_cb));
	} while (ret > MNL_CB_STOP);

	if (run.err)
		return run.err;
	if (run.cb_err)
		return run.cb_err;
	/* libmnl's own errors: EPROTO, ESRCH, EINTR (dump interrupted)... */
	if (ret < 0)
		return errno ? -errno : -EPROTO;
	return 0;
}

struct nlmsghdr *nl_msg(struct nl *nl, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->sbuf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = nl->family_id;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = nl->family_version;
	return nlh;
}

struct nlmsghdr *nl_msg_raw(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->sbuf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

uint8_t nl_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	return genl->cmd;
}

struct nl_parse_ctx {
	const struct nl_policy *pol;
	unsigned int max;
	const struct nlattr **tb;
};

static int nl_parse_cb(const struct nlattr *attr, void *data)
{
	const struct nl_parse_ctx *ctx = data;
	uint16_t type = mnl_attr_get_type(attr);
	const struct nl_policy *pol;
	int ret;

	if (type > ctx->max || ctx->pol[type].type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;	/* newer kernel, unknown attribute */

	pol = &ctx->pol[type];
	if (pol->len)
		ret = mnl_attr_validate2(attr, pol->type, pol->len);
	else
		ret = mnl_attr_validate(attr, pol->type);
	if (ret < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	ctx->tb[type] = attr;
	return MNL_CB_OK;
}

int nl_parse_at(const struct nlmsghdr *nlh, unsigned int offset,
		const struct nl_policy *pol, unsigned int max,
		const struct nlattr **tb)
{
	struct nl_parse_ctx ctx = { .pol = pol, .max = max, .tb = tb };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_nlmsg_get_payload_len(nlh) < offset ||
	    mnl_attr_parse(nlh, offset, nl_parse_cb, &ctx) < 0) {
		errno = EBADMSG;
		return -EBADMSG;
	}
	return 0;
}

int nl_parse(const struct nlmsghdr *nlh, const struct nl_policy *pol,
	     unsigned int max, const struct nlattr **tb)
{
	return nl_parse_at(nlh, GENL_HDRLEN, pol, max, tb);
}

int nl_parse_obj(const struct nlmsghdr *nlh, const struct nl_policy *pol,
		 unsigned int max, const struct nlattr **tb, unsigned int key)
{
	if (nl_parse(nlh, pol, max, tb))
		return -EBADMSG;
	if (!tb[key]) {
		errno = EBADMSG;
		return -EBADMSG;
	}
	return 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct nl_policy pol[CTRL_ATTR_MAX + 1] = {
		[CTRL_ATTR_FAMILY_ID]	= { MNL_TYPE_U16 },
		[CTRL_ATTR_VERSION]	= { MNL_TYPE_U32 },
	};
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nl *nl = data;

	if (nl_parse(nlh, pol, CTRL_ATTR_MAX, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[CTRL_ATTR_FAMILY_ID]) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	nl->family_id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION])
		nl->kernel_version = mnl_attr_get_u32(tb[CTRL_ATTR_VERSION]);
	return MNL_CB_OK;
}

static int resolve_family(struct nl *nl, const char *family)
{
	struct nlmsghdr *nlh;
	int ret;

	nl->family_id = GENL_ID_CTRL;
	nl->family_version = 1;
	nlh = nl_msg(nl, CTRL_CMD_GETFAMILY, 0);
	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, CTRL_ATTR_FAMILY_NAME,
				     family))
		return -ENAMETOOLONG;

	nl->family_id = 0;
	ret = nl_request(nl, nlh, family_cb, nl);
	if (ret == 0 && nl->family_id == 0)
		ret = -EBADMSG;		/* ACKed without a reply */
	return ret;
}

/* Allocate the buffers and open and bind a socket of @proto. */
static int nl_socket(struct nl *nl, int proto)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sbuf = malloc(NL_MSG_SIZE);
	nl->rbuf = malloc(NL_RECV_SIZE);
	if (!nl->sbuf || !nl->rbuf)
		return -ENOMEM;

	nl->sock = mnl_socket_open(proto);
	if (!nl->sock)
		return -errno;
	/* Best effort: kernels without these options still work. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one,
			      sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);
	return 0;
}

int nl_open(struct nl *nl, const char *family, uint8_t version)
{
	int ret;

	ret = nl_socket(nl, NETLINK_GENERIC);
	if (ret)
		goto err;
	nl->hdrlen = GENL_HDRLEN;
	ret = resolve_family(nl, family);
	if (ret)
		goto err;
	nl->family_version = version;
	return 0;

err:
	nl_close(nl);
	return ret;
}

int nl_open_rdma(struct nl *nl)
{
	int ret;

	ret = nl_socket(nl, NETLINK_RDMA);
	if (ret)
		nl_close(nl);
	return ret;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->sbuf);
	free(nl->rbuf);
	memset(nl, 0, sizeof(*nl));
}
