/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink plumbing of vrdma's tools, on top of libmnl.
 *
 * One struct nl is one NETLINK_GENERIC socket bound to one family (nl_open()),
 * or one NETLINK_RDMA socket (nl_open_rdma(), for ib_core's nldev commands).
 * Requests are built in the socket's send buffer with nl_msg() (generic
 * netlink) or nl_msg_raw() and the libmnl attribute API, then run with
 * nl_request(), which asks for an ACK and for extended ACKs and waits for
 * the whole answer (reply, dump, ACK or error).  When the kernel refuses a
 * request, nl->ext describes why.
 */

#ifndef VRDMA_LIB_NL_H
#define VRDMA_LIB_NL_H

#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/*
 * Size of the request buffer.  Put attributes with libmnl's *_check()
 * functions and this size: they refuse what would not fit.
 */
#define NL_MSG_SIZE	8192

/* What the kernel said about a failed request (NETLINK_EXT_ACK). */
struct nl_ext_ack {
	char msg[256];		/* NLMSGERR_ATTR_MSG, "" if none */
	bool has_offs;		/* NLMSGERR_ATTR_OFFS was given... */
	uint32_t offs;		/* ...this byte offset into the request */
	int bad_attr;		/* type of the request attribute at offs, or -1 */
	bool has_miss_type;	/* NLMSGERR_ATTR_MISS_TYPE was given... */
	uint32_t miss_type;	/* ...the type of the missing attribute */
};

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	uint16_t family_id;
	uint8_t family_version;	/* genlmsghdr.version of our requests */
	uint32_t kernel_version; /* CTRL_ATTR_VERSION of the family */
	uint16_t hdrlen;	/* bytes before the attributes (genlmsghdr) */
	char *sbuf;		/* request being built */
	char *rbuf;		/* receive buffer */
	struct nl_ext_ack ext;
};

/* Attribute parsing: expected type (and exact length, for binary). */
struct nl_policy {
	enum mnl_attr_data_type type;
	uint16_t len;
};

/*
 * Open a socket and resolve generic netlink family @family (version
 * @version is put in our requests).  Returns 0, -ENOENT if the family is not
 * registered, or another negative errno.
 */
int nl_open(struct nl *nl, const char *family, uint8_t version);
/* Open a NETLINK_RDMA socket.  Returns 0 or a negative errno. */
int nl_open_rdma(struct nl *nl);
void nl_close(struct nl *nl);

/*
 * Start a request for @cmd of the family in the send buffer.  @flags are
 * added to NLM_F_REQUEST (pass NLM_F_DUMP for a dump).
 */
struct nlmsghdr *nl_msg(struct nl *nl, uint8_t cmd, uint16_t flags);

/* Start a request of netlink message type @type, without extra header. */
struct nlmsghdr *nl_msg_raw(struct nl *nl, uint16_t type, uint16_t flags);

/*
 * Send @nlh and process the answer: @cb (may be NULL) is called for each
 * reply message, with @data.  Returns 0 on success or a negative errno; a
 * callback fails the request by returning MNL_CB_ERROR with errno set.
 * On failure nl->ext holds the kernel's extended ACK, if any.
 */
int nl_request(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * Parse the attributes of a reply into @tb[0..@max], checking each known
 * attribute against @pol[type] (unknown attributes are ignored, for forward
 * compatibility).  Returns 0, or -EBADMSG with errno set, so that a reply
 * callback can just return MNL_CB_ERROR.
 */
int nl_parse(const struct nlmsghdr *nlh, const struct nl_policy *pol,
	     unsigned int max, const struct nlattr **tb);
/* The same, for an object that must carry attribute @key. */
int nl_parse_obj(const struct nlmsghdr *nlh, const struct nl_policy *pol,
		 unsigned int max, const struct nlattr **tb, unsigned int key);
/* The same as nl_parse() for a message whose attributes start @offset
 * bytes in.
 */
int nl_parse_at(const struct nlmsghdr *nlh, unsigned int offset,
		const struct nl_policy *pol, unsigned int max,
		const struct nlattr **tb);

/* The genetlink command of a message. */
uint8_t nl_cmd(const struct nlmsghdr *nlh);

#endif /* VRDMA_LIB_NL_H */
