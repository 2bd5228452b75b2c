/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The channel between hosts' modules (ctrl.c), part of the core: the MAD
 * tunnel, UD sender announcements and replication's control messages;
 * typed, length-checked, versioned datagrams between the vrdma modules of
 * several hosts, over kernel UDP sockets in init_net.
 *
 * An endpoint is one local address (IPv4 or IPv6, held as a 16-byte
 * IPv4-mapped or IPv6 address, the GID format): a UDP socket bound to that
 * address, to the netdev that holds it (so that policy routing sends the
 * datagrams over that netdev, as from a separate machine) and to port
 * ctrl_port (module parameter, default 4793).  Endpoints are shared and
 * reference counted: every user of one address holds a reference.
 *
 * Messages are a header (struct vrdma_ctrl_hdr) and a body of at most
 * VRDMA_CTRL_BODY_MAX bytes.  With a cluster key (module parameter
 * ctrl_key) every message carries an HMAC-SHA256 of the sender's and the
 * receiver's addresses, header and body, and a message without a valid
 * one is dropped; without a key a message that carries one is dropped too
 * (a misconfigured cluster fails loudly).
 * Every message carries a sequence number, from a counter that starts at
 * the module's load time in nanoseconds of the real-time clock: with a
 * key, a receiver accepts each number of a sender at most once, within a
 * window of the newest 64 (replay protection).
 *
 * Message types are allocated per feature (enum vrdma_ctrl_type); a
 * feature registers one handler for its range of types before it creates
 * endpoints, and unregisters it after its last endpoint is gone.  Handlers
 * run in process context (the endpoint's receive work, one message at a
 * time per endpoint) and get the sender's address and the body, whose
 * length is only checked against VRDMA_CTRL_BODY_MAX: every field is wire
 * input and must be validated by the handler.  A handler must not drop
 * the last reference to its own endpoint.
 */
#ifndef _VRDMA_CTRL_H
#define _VRDMA_CTRL_H

#include <linux/in6.h>
#include <linux/types.h>

#define VRDMA_CTRL_MAGIC	0x56524354	/* "VRCT" */
#define VRDMA_CTRL_VERSION	2
#define VRDMA_CTRL_MAC_LEN	32		/* HMAC-SHA256 */
#define VRDMA_CTRL_MSG_MAX	16384		/* datagram, header and MAC included */

/**
 * struct vrdma_ctrl_hdr - header of a control message (network byte order)
 * @magic: VRDMA_CTRL_MAGIC
 * @version: VRDMA_CTRL_VERSION
 * @type: enum vrdma_ctrl_type
 * @flags: VRDMA_CTRL_F_*
 * @len: length of the body
 * @reserved: zero
 * @seq: the sender's sequence number (replay protection)
 *
 * The body follows, then the MAC if VRDMA_CTRL_F_MAC is set.
 */
struct vrdma_ctrl_hdr {
	__be32 magic;
	__u8 version;
	__u8 type;
	__be16 flags;
	__be32 len;
	__be32 reserved;
	__be64 seq;
};

#define VRDMA_CTRL_F_MAC	0x0001

#define VRDMA_CTRL_BODY_MAX \
	(VRDMA_CTRL_MSG_MAX - sizeof(struct vrdma_ctrl_hdr) - VRDMA_CTRL_MAC_LEN)

/* Message types; each feature owns a range. */
enum vrdma_ctrl_type {
	VRDMA_CTRL_REPL_FIRST = 1,	/* replication: repl_wire.h */
	VRDMA_CTRL_REPL_LAST = 31,
	VRDMA_CTRL_GSI_FIRST = 32,	/* the MAD tunnel: gsi.c */
	VRDMA_CTRL_GSI_MAD = 32,
	VRDMA_CTRL_GSI_UDA = 33,
	VRDMA_CTRL_GSI_UDA_ACK = 34,
	VRDMA_CTRL_GSI_LAST = 39,
	VRDMA_CTRL_TYPE_MAX = 255,
};

struct vrdma_ctrl_ep;

/**
 * typedef vrdma_ctrl_handler_t - receives the messages of a type range
 * @ep: the endpoint that received it
 * @src: address of the sender (16 bytes, IPv4-mapped for IPv4)
 * @type: the message type
 * @body: the body
 * @len: its length (<= VRDMA_CTRL_BODY_MAX)
 */
typedef void (*vrdma_ctrl_handler_t)(struct vrdma_ctrl_ep *ep,
				     const struct in6_addr *src, u8 type,
				     const void *body, size_t len);

int vrdma_ctrl_init(void);
void vrdma_ctrl_exit(void);

int vrdma_ctrl_register(u8 first, u8 last, vrdma_ctrl_handler_t handler);
void vrdma_ctrl_unregister(u8 first, u8 last);

struct vrdma_ctrl_ep *vrdma_ctrl_ep_get(const struct in6_addr *addr);
void vrdma_ctrl_ep_put(struct vrdma_ctrl_ep *ep);
const struct in6_addr *vrdma_ctrl_ep_addr(const struct vrdma_ctrl_ep *ep);
int vrdma_ctrl_send(struct vrdma_ctrl_ep *ep, const struct in6_addr *dst,
		    u8 type, const void *body, size_t len);

/*
 * The channel's counters, host-wide (INFO_GET from init_net, `vrdmactl
 * info -s`): what was sent and accepted, and every datagram dropped, by
 * reason.  Append only: the names are the user ABI
 * (Documentation/observability.rst).
 */
enum vrdma_ctrl_stat {
	VRDMA_CTRL_STAT_TX,		/* messages sent */
	VRDMA_CTRL_STAT_TX_ERR,		/* sends that failed */
	VRDMA_CTRL_STAT_RX,		/* accepted, handed to a handler */
	VRDMA_CTRL_STAT_DROP_MALFORMED,	/* header, length, type, truncation */
	VRDMA_CTRL_STAT_DROP_AUTH,	/* no MAC, or a wrong one */
	VRDMA_CTRL_STAT_DROP_STALE,	/* sent too long ago, or ahead */
	VRDMA_CTRL_STAT_DROP_REPLAY,	/* a sequence number seen or too old */
	VRDMA_CTRL_STAT_DROP_SENDER,	/* its sender may not say that */
	VRDMA_CTRL_STAT_DROP_OTHER,	/* no memory, receive errors */
	VRDMA_CTRL_STAT_MAX,
};

u16 vrdma_ctrl_port(void);
bool vrdma_ctrl_authenticated(void);
void vrdma_ctrl_dropped(enum vrdma_ctrl_stat why);
const char *vrdma_ctrl_stat_name(unsigned int i);
u64 vrdma_ctrl_stat_read(unsigned int i);

bool vrdma_addr_is_v4(const struct in6_addr *addr);
int vrdma_addr_local(const struct in6_addr *addr);

#endif /* _VRDMA_CTRL_H */
