/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wire formats of the replication engine (Documentation/replication.rst).
 *
 * Two kinds of messages, all fields little-endian:
 *
 *  - control messages, bodies of ctrl.c datagrams (types
 *    VRDMA_REPL_C_*): heartbeats and configurations between members,
 *    client agents and the authority, and the exchange of QP numbers when
 *    two members (or a client agent and the head) connect;
 *  - data messages, SENDs on the RC QPs between consecutive members and
 *    between a client agent and the head (struct vrdma_repl_msg followed
 *    by entries).
 *
 * Every field of both is validated by the receiver.  Every control
 * message carries the hash of its sender's configuration of the group
 * (struct vrdma_repl_c_hdr): hosts that disagree on the group refuse
 * each other's messages.
 */
#ifndef _VRDMA_REPL_WIRE_H
#define _VRDMA_REPL_WIRE_H

#include <linux/build_bug.h>
#include <linux/types.h>
#include <uapi/linux/vrdma.h>

#include "ctrl.h"

/* Control message types (ctrl.h range VRDMA_CTRL_REPL_*). */
enum {
	VRDMA_REPL_C_HB = VRDMA_CTRL_REPL_FIRST, /* member, agent -> authority */
	VRDMA_REPL_C_CONFIG,		/* authority -> member, agent */
	VRDMA_REPL_C_SUSPECT,		/* member -> authority */
	VRDMA_REPL_C_LINK_REQ,		/* predecessor -> successor */
	VRDMA_REPL_C_LINK_REP,		/* successor -> predecessor */
	VRDMA_REPL_C_CLIENT_REQ,	/* client agent -> head */
	VRDMA_REPL_C_CLIENT_REP,	/* head -> client agent */
	VRDMA_REPL_C_LAST = VRDMA_REPL_C_CLIENT_REP,
};

static_assert((int)VRDMA_REPL_C_LAST <= (int)VRDMA_CTRL_REPL_LAST);

/* Roles of control message ends. */
enum {
	VRDMA_REPL_R_MEMBER = 1,
	VRDMA_REPL_R_AGENT,
	VRDMA_REPL_R_AUTHORITY,
};

#define VRDMA_REPL_NO_IDX	0xff

/* Bytes of the configuration hash (a truncated SHA-256). */
#define VRDMA_REPL_CFG_HASH_LEN	16

/**
 * struct vrdma_repl_c_hdr - common head of every control message body
 * @group: group name, NUL-terminated and NUL-padded
 * @size: the group's region size (a configuration check)
 * @epoch: the sender's epoch
 * @src_role: VRDMA_REPL_R_*
 * @src_idx: the sender's member index (VRDMA_REPL_NO_IDX if not a member)
 * @dst_role: VRDMA_REPL_R_*
 * @dst_idx: the receiver's member index, or VRDMA_REPL_NO_IDX
 * @cfg_hash: the hash of the sender's configuration of the group
 *	(vrdma_repl_cfg_hash()): the receiver's must be the same
 */
struct vrdma_repl_c_hdr {
	char group[VRDMA_REPL_NAME_LEN];
	__le64 size;
	__le32 epoch;
	__u8 src_role;
	__u8 src_idx;
	__u8 dst_role;
	__u8 dst_idx;
	__u8 cfg_hash[VRDMA_REPL_CFG_HASH_LEN];
};

static_assert(sizeof(struct vrdma_repl_c_hdr) == VRDMA_REPL_NAME_LEN + 32);

/* HB flags */
#define VRDMA_REPL_HB_NODEV	0x01	/* no RDMA device: remove me */
#define VRDMA_REPL_HB_IN_SYNC	0x02	/* my replica is up to date */
#define VRDMA_REPL_HB_FENCED	0x04	/* my lease expired */

/**
 * struct vrdma_repl_c_hb - heartbeat (member or client agent)
 * @h: common head
 * @nonce: instance of the member (changes when it restarts or loses its
 *	device), or the client agent's id
 * @echo: echoed in the CONFIG reply (the sender's clock)
 * @applied: last applied sequence number (members)
 * @synced_epoch: epoch in which the member was last brought up to date
 * @flags: VRDMA_REPL_HB_*
 */
struct vrdma_repl_c_hb {
	struct vrdma_repl_c_hdr h;
	__le64 nonce;
	__le64 echo;
	__le64 applied;
	__le32 synced_epoch;
	__le32 flags;
};

/* Chain entry flags */
#define VRDMA_REPL_CE_SYNC	0x01	/* joining: needs a state transfer */

/**
 * struct vrdma_repl_c_config - the chain of an epoch (authority)
 * @h: common head (@h.epoch is the configuration's epoch)
 * @echo: the heartbeat's echo, 0 when pushed
 * @lease_ms: lease granted from the echoed time
 * @nchain: members in the chain
 * @pad: zero
 * @idx: member indices, head first
 * @flags: VRDMA_REPL_CE_* of each
 */
struct vrdma_repl_c_config {
	struct vrdma_repl_c_hdr h;
	__le64 echo;
	__le32 lease_ms;
	__u8 nchain;
	__u8 pad[3];
	__u8 idx[VRDMA_REPL_MAX_MEMBERS];
	__u8 flags[VRDMA_REPL_MAX_MEMBERS];
};

/**
 * struct vrdma_repl_c_suspect - a member reports a broken neighbour
 * @h: common head
 * @idx: the suspected member
 * @pad: zero
 */
struct vrdma_repl_c_suspect {
	struct vrdma_repl_c_hdr h;
	__u8 idx;
	__u8 pad[7];
};

/**
 * struct vrdma_repl_c_link_req - a predecessor connects to its successor
 * @h: common head
 * @qpn: the predecessor's QP
 * @psn: its first packet sequence number
 * @nonce: the predecessor's instance
 */
struct vrdma_repl_c_link_req {
	struct vrdma_repl_c_hdr h;
	__le32 qpn;
	__le32 psn;
	__le64 nonce;
};

/* LINK_REP flags */
#define VRDMA_REPL_LINK_NEED_SYNC	0x01

/**
 * struct vrdma_repl_c_chunk - one registered chunk of a region
 * @iova: its address for RDMA
 * @rkey: its remote key
 * @pad: zero
 */
struct vrdma_repl_c_chunk {
	__le64 iova;
	__le32 rkey;
	__le32 pad;
};

/**
 * struct vrdma_repl_c_link_rep - the successor's answer
 * @h: common head
 * @req_qpn: the predecessor's QP it answers
 * @qpn: the successor's QP
 * @psn: its first packet sequence number
 * @flags: VRDMA_REPL_LINK_*
 * @applied: the successor's last applied sequence number
 * @chunk_bytes: size of a region chunk (NEED_SYNC)
 * @nchunks: number of chunks that follow (NEED_SYNC, else 0)
 * @chunks: the region's chunks, for the state transfer
 */
struct vrdma_repl_c_link_rep {
	struct vrdma_repl_c_hdr h;
	__le32 req_qpn;
	__le32 qpn;
	__le32 psn;
	__le32 flags;
	__le64 applied;
	__le32 chunk_bytes;
	__le32 nchunks;
	struct vrdma_repl_c_chunk chunks[];
};

/**
 * struct vrdma_repl_c_client_req - a client agent connects to the head
 * @h: common head
 * @client: the agent's id
 * @qpn: its QP
 * @psn: its first packet sequence number
 */
struct vrdma_repl_c_client_req {
	struct vrdma_repl_c_hdr h;
	__le64 client;
	__le32 qpn;
	__le32 psn;
};

/**
 * struct vrdma_repl_c_client_rep - the head's answer
 * @h: common head
 * @client: the agent's id
 * @req_qpn: the agent's QP it answers
 * @qpn: the head's QP (0 if refused)
 * @psn: its first packet sequence number
 * @status: 0, or a negative errno (not the head, too many clients)
 */
struct vrdma_repl_c_client_rep {
	struct vrdma_repl_c_hdr h;
	__le64 client;
	__le32 req_qpn;
	__le32 qpn;
	__le32 psn;
	__le32 status;
};

/* Data messages */

#define VRDMA_REPL_MSG_MAGIC	0x4c505256	/* "VRPL" */
#define VRDMA_REPL_MSG_VERSION	1

enum {
	VRDMA_REPL_M_OPS = 1,	/* operations (agent -> head, member -> succ) */
	VRDMA_REPL_M_ACK,	/* cumulative ack and gCAS results (-> pred) */
	VRDMA_REPL_M_DONE,	/* completions (head -> agent) */
	VRDMA_REPL_M_STATE,	/* end of a state transfer (-> joining succ) */
};

/**
 * struct vrdma_repl_msg - head of a data message
 * @magic: VRDMA_REPL_MSG_MAGIC
 * @version: VRDMA_REPL_MSG_VERSION
 * @type: VRDMA_REPL_M_*
 * @count: number of entries
 * @len: bytes, this head included
 * @epoch: the sender's epoch
 * @arg: ACK: every operation up to this sequence number is applied by
 *	the tail; STATE: the sequence number the transferred state is at
 */
struct vrdma_repl_msg {
	__le32 magic;
	__u8 version;
	__u8 type;
	__le16 count;
	__le32 len;
	__le32 epoch;
	__le64 arg;
};

/**
 * struct vrdma_repl_wop - an operation entry (OPS, ACK, DONE)
 * @seq: sequence number (0 from a client agent)
 * @client: the client agent's id
 * @op_id: the agent's operation id
 * @offset: WRITE, CAS, FLUSH: offset; MEMCPY: destination
 * @src: MEMCPY: source
 * @expected: CAS
 * @newval: CAS
 * @len: WRITE: data bytes; MEMCPY, FLUSH: length
 * @opcode: enum vrdma_repl_opcode
 * @nres: results that follow (CAS), at most VRDMA_REPL_MAX_MEMBERS
 * @flags: VRDMA_REPL_WOP_*
 * @status: DONE: 0 or a negative errno; OPS: first error of a member
 * @pad: zero
 *
 * Followed by @nres struct vrdma_repl_wres, then, in OPS only, the data
 * of a WRITE padded to 8 bytes.
 */
struct vrdma_repl_wop {
	__le64 seq;
	__le64 client;
	__le64 op_id;
	__le64 offset;
	__le64 src;
	__le64 expected;
	__le64 newval;
	__le32 len;
	__u8 opcode;
	__u8 nres;
	__le16 flags;
	__le32 status;
	__le32 pad;
};

/* DONE flags */
#define VRDMA_REPL_WOP_NO_RESULT	0x0001	/* retried gCAS, result lost */

/**
 * struct vrdma_repl_wres - one replica's gCAS result
 * @old: the word before
 * @member: the replica's member index
 * @swapped: 1 if it swapped
 * @pad: zero
 */
struct vrdma_repl_wres {
	__le64 old;
	__u8 member;
	__u8 swapped;
	__u8 pad[6];
};

/**
 * struct vrdma_repl_wclient - per-client deduplication state (STATE)
 * @client: the agent's id
 * @last_id: highest operation id applied
 * @acked_id: highest operation id applied by the whole chain
 */
struct vrdma_repl_wclient {
	__le64 client;
	__le64 last_id;
	__le64 acked_id;
};

static_assert(sizeof(struct vrdma_repl_msg) == 24);
static_assert(sizeof(struct vrdma_repl_wop) == 72);
static_assert(sizeof(struct vrdma_repl_wres) == 16);

#endif /* _VRDMA_REPL_WIRE_H */
