/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replication chain engine: internal interfaces (Documentation/
 * replication.rst describes the protocol and the guarantees).
 *
 *   repl_group.c      groups: lookup, creation, deletion, namespaces
 *   repl_loop.c       the control loop that runs every member, agent and
 *                     authority of this host: message dispatch, ticks
 *   repl_member.c     a member of this host: lifecycle, configuration,
 *                     links, state transfer
 *   repl_data.c       a member's data path: apply, forward log,
 *                     acknowledgments
 *   repl_client.c     the client agent of this host (talks to the head)
 *   repl_authority.c  the membership authority (epochs, leases)
 *   repl_res.c        registered memory, the backing file, device
 *                     resources and RC QP helpers
 *   repl_api.c        the exported in-kernel client API (vrdma_repl.h)
 *   repl_nl.c         the REPL_* netlink operations
 *
 * Objects
 * -------
 * A group exists on every host that runs `vrdmactl repl group add` for
 * it, with the same configuration.  On one host it holds a member for
 * each configured member address that is local (held by a netdev of
 * init_net), a client agent (the host's entry point for operations) and,
 * on the host that holds the authority address, the authority.  Each of
 * them uses only its own control endpoint (ctrl.c, its own address), its
 * own RDMA device (the one whose RoCE GID is its address) and messages:
 * several members in one kernel behave exactly as on separate machines.
 *
 * Locking
 * -------
 *   vrdma_repl_lock (mutex)     the control plane: groups, their members
 *                               and agents, devices, every
 *                               configuration change, link set-up and
 *                               teardown.  Control messages, timers and
 *                               device events run under it, one at a time.
 *   vrdma_repl_auth_lock        (mutex) the authorities (repl_loop.c)
 *   member->lock, client->lock  (spinlocks, taken with _bh) the data path
 *                               of one member or agent: its queues, logs,
 *                               sequence numbers; completion handlers run
 *                               in softirq context (IB_POLL_SOFTIRQ CQs)
 *
 * The list of groups is RCU for lookups from the data path.  Their order
 * among the module's locks: Documentation/architecture.rst, "Locking";
 * nothing registers or unregisters an ib_client or an ib_device under
 * vrdma_repl_lock, and the control channel's handler only queues messages
 * and never takes it.
 */
#ifndef _VRDMA_REPL_H
#define _VRDMA_REPL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/hashtable.h>
#include <linux/in6.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/path.h>
#include <linux/rculist.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <rdma/ib_verbs.h>
#include <uapi/linux/vrdma.h>

#include "hooks.h"
#include "repl_wire.h"
#include "vrdma_repl.h"

struct net;
struct netlink_ext_ack;
struct vrdma_ctrl_ep;

/* Sizes of the data path. */
#define REPL_MSG_MAX		(128 * 1024)	/* OPS message, receive buffer */
#define REPL_SMALL_MAX		(16 * 1024)	/* ACK, DONE, STATE message */
#define REPL_CHUNK_PAGES_MAX	512		/* pages per registration */
#define REPL_SIZE_MAX		BIT_ULL(30)	/* largest region: 1 GiB */
#define REPL_WINDOW		512	/* operation ids in flight per agent */
#define REPL_SEND_CREDITS	4	/* signaled sends in flight per QP */
#define REPL_MAX_CLIENTS	16	/* client agents connected to a head */
#define REPL_LOG_BYTES		(8U << 20)	/* forward log of a member */
#define REPL_LOG_ENTRIES	1024
#define REPL_NSLOTS		64	/* small send buffers of a member */
#define REPL_AGENT_SLOTS	16	/* OPS send buffers of an agent */
#define REPL_PRED_NRX		16	/* receive buffers from the predecessor */
#define REPL_SUCC_NRX		32	/* ... from the successor */
#define REPL_CLIENT_NRX		16	/* ... from a client agent */
#define REPL_CHAN_NSEND		64	/* send queue of a member's channel */
#define REPL_MEMBER_CQE		4096	/* CQ of a member */
#define REPL_XFER_CHUNK		(256 * 1024)	/* one write of a state transfer */
#define REPL_XFER_DEPTH		4	/* its writes in flight */
#define REPL_CAS_KEEP		REPL_WINDOW	/* gCAS results kept per client */

extern struct mutex vrdma_repl_lock;
extern struct mutex vrdma_repl_auth_lock;
extern unsigned int vrdma_repl_hb_ms;
extern unsigned int vrdma_repl_lease_ms;
extern unsigned int vrdma_repl_stall_ms;

/**
 * struct repl_mem - pages registered with an RDMA device, in chunks
 * @pages: the pages
 * @npages: their number
 * @owned: allocated here (else pinned page-cache pages of a file)
 * @va: contiguous kernel mapping (vmap)
 * @size: bytes
 * @dev: device of the registration, or NULL when not registered
 * @chunk_pages: pages per chunk (one fast-registration MR each)
 * @nchunks: chunks registered
 * @mrs: the chunks' MRs
 * @sgts: the chunks' DMA-mapped scatterlists
 */
struct repl_mem {
	struct page **pages;
	u32 npages;
	bool owned;
	void *va;
	size_t size;
	struct ib_device *dev;
	u32 chunk_pages;
	u32 nchunks;
	struct ib_mr **mrs;
	struct sg_table *sgts;
};

static inline size_t repl_mem_chunk_bytes(const struct repl_mem *m)
{
	return (size_t)m->chunk_pages << PAGE_SHIFT;
}

/* DMA address (for the chunk's MR) and lkey of byte @off. */
static inline u64 repl_mem_addr(const struct repl_mem *m, size_t off)
{
	size_t cb = repl_mem_chunk_bytes(m);

	return m->mrs[off / cb]->iova + off % cb;
}

static inline u32 repl_mem_lkey(const struct repl_mem *m, size_t off)
{
	return m->mrs[off / repl_mem_chunk_bytes(m)]->lkey;
}

/**
 * struct repl_devres - RDMA resources of a member or agent on its device
 * @dev: the physical device whose RoCE GID is the address
 * @port: its port
 * @gid_index: index of that GID
 * @gid: the GID
 * @mac: the port's MAC address (loopback)
 * @mtu: active path MTU
 * @chunk_pages: pages per fast registration
 * @pd: protection domain
 * @cq: completion queue of every QP (IB_POLL_SOFTIRQ)
 * @lqp: a QP connected to itself, for memory registrations
 */
struct repl_devres {
	struct ib_device *dev;
	u32 port;
	u32 gid_index;
	union ib_gid gid;
	u8 mac[6];
	enum ib_mtu mtu;
	u32 chunk_pages;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *lqp;
};

/* A send buffer of fixed size (ACK, DONE, STATE; an agent's OPS). */
struct repl_slot {
	struct list_head node;
	struct ib_cqe cqe;
	struct repl_chan *ch;
	u32 off;		/* in the owner's slot memory */
	u32 len;		/* bytes written so far */
	u16 count;		/* entries */
	u8 type;		/* VRDMA_REPL_M_* */
};

/* A receive buffer of a channel. */
struct repl_rxbuf {
	struct list_head node;	/* member->rxq while waiting */
	struct ib_cqe cqe;
	struct repl_chan *ch;
	u32 off;		/* in ch->rx */
	u32 len;		/* received bytes */
};

enum repl_chan_kind {
	REPL_CH_PRED,		/* member: from the predecessor */
	REPL_CH_SUCC,		/* member: to the successor */
	REPL_CH_CLIENT,		/* head: from a client agent */
	REPL_CH_HEAD,		/* agent: to the head */
};

/* A state transfer to a joining successor. */
struct repl_xfer {
	u64 at;			/* sequence number of the state */
	u64 next;		/* next byte to write */
	u64 size;
	u32 inflight;		/* writes in flight */
	u32 chunk_bytes;	/* of the successor's region */
	u32 nchunks;
	struct ib_cqe cqe;
	struct vrdma_repl_c_chunk chunks[];
};

/**
 * struct repl_chan - an RC connection
 * @node: entry in the owner's list of channels
 * @kind: what it is for
 * @m: the member that owns it (or NULL)
 * @c: the agent that owns it (or NULL)
 * @qp: the QP
 * @psn: our first PSN
 * @peer_qpn: the peer's QP, 0 until connected
 * @peer_idx: the peer member's index (PRED, SUCC, HEAD)
 * @client: the peer agent's id (CLIENT)
 * @peer_addr: the peer's address
 * @epoch: epoch of the set-up
 * @up: connected, may send
 * @dead: broken or being torn down: send and receive nothing more
 * @reported: the breakage was reported to the control loop
 * @qp_failed: its QP reported a fatal event (set without the owner's lock,
 *	from any context; the control loop fails the channel, see
 *	vrdma_repl_chan_event())
 * @outstanding: signaled sends in flight
 * @rx: receive buffers' memory
 * @rxb: receive buffers
 * @nrx: their number
 * @rxsize: their size
 * @open: slot being filled (slot-based kinds)
 * @sendq: closed slots waiting for a send credit
 * @cursor: SUCC: next log entry to send (index)
 * @xfer: SUCC: state transfer in progress
 * @retry_at: next connection attempt (jiffies)
 * @nonce: PRED: the predecessor instance's nonce
 */
struct repl_chan {
	struct list_head node;
	enum repl_chan_kind kind;
	struct repl_member *m;
	struct repl_client *c;
	struct ib_qp *qp;
	u32 psn;
	u32 peer_qpn;
	u8 peer_idx;
	u64 client;
	struct in6_addr peer_addr;
	u32 epoch;
	bool up;
	bool dead;
	bool reported;
	bool qp_failed;
	unsigned int outstanding;
	struct repl_mem rx;
	struct repl_rxbuf *rxb;
	u32 nrx;
	u32 rxsize;
	struct repl_slot *open;
	struct list_head sendq;
	u32 cursor;
	u64 sent_seq;		/* successor: the most it may acknowledge */
	struct repl_xfer *xfer;
	unsigned long retry_at;
	u64 nonce;
};

/* A forward log entry: one OPS message to the successor. */
struct repl_logent {
	struct ib_cqe cqe;
	u32 off;		/* in the log memory */
	u32 pad;		/* bytes skipped before it (chunk end) */
	u32 cap;		/* reserved */
	u32 len;		/* written */
	u16 count;
	bool open;		/* still being filled */
	bool posted;		/* sent on the current successor link */
	u64 first;		/* sequence numbers in it */
	u64 last;
};

/* The configuration of an epoch, as the authority publishes it. */
struct repl_config {
	u32 epoch;
	u8 nchain;
	u8 idx[VRDMA_REPL_MAX_MEMBERS];
	u8 flags[VRDMA_REPL_MAX_MEMBERS];
};

/* A gCAS result a member keeps for a client's retransmission. */
struct repl_cas_res {
	struct list_head node;
	u64 op_id;
	u8 nres;
	struct vrdma_repl_wres res[VRDMA_REPL_MAX_MEMBERS];
};

/* What a member keeps per client agent (struct repl_member.cstates). */
struct repl_cs {
	struct hlist_node node;
	u64 client;
	u64 last_id;
	u64 acked_id;
	struct list_head cas;		/* struct repl_cas_res, oldest first */
	unsigned int ncas;
};

/**
 * struct repl_member - a member of this host
 *
 * Control state (vrdma_repl_lock): @state, @cfg, @pos, @nonce, @lease_end,
 * @synced_epoch, the channels' creation and teardown, @dr.
 * Data state (@lock): everything the completion handlers touch.
 */
struct repl_member {
	struct repl_group *g;
	u8 idx;
	struct in6_addr addr;
	struct vrdma_ctrl_ep *ep;
	char path[VRDMA_REPL_PATH_MAX];
	struct file *file;
	struct repl_mem region;
	unsigned long *dirty;		/* region pages to write back (@lock) */

	/* control */
	enum vrdma_repl_state state;
	struct repl_config cfg;
	int pos;			/* in cfg, -1 if out */
	u64 nonce;
	unsigned long lease_end;	/* jiffies */
	bool leased;
	u32 synced_epoch;
	bool have_dev;
	struct repl_devres dr;
	struct work_struct flush_work;

	/* data (lock) */
	spinlock_t lock;		/* the member's data state */
	bool in_sync;			/* replica is a prefix of the history */
	bool head, tail;
	bool fenced;
	bool syncing;			/* waiting for a state transfer */
	bool xfer_pause;		/* sending a state transfer */
	bool flush_pending;		/* flush work running */
	bool flush_done;		/* for flush_seq */
	u64 flush_seq;
	int flush_status;
	u64 flush_off, flush_len;
	bool log_full;
	bool ack_need;			/* the predecessor must hear @acked */
	u64 applied;			/* last applied sequence number */
	u64 acked;			/* applied by the whole chain */
	u64 walked;			/* acks processed up to */
	struct list_head rxq;		/* received OPS, STATE, in order */
	struct list_head ackq;		/* received ACKs */
	u32 rx_pos;			/* offset in the first of rxq */
	u16 rx_done;			/* entries of it processed */
	struct repl_chan *pred;
	struct repl_chan *succ;
	struct list_head clients;	/* REPL_CH_CLIENT */
	unsigned int nclients;

	struct repl_mem log;
	struct repl_logent *logent;
	u32 log_first, log_n;		/* ring of entries */
	u32 log_tail;			/* next free byte */
	u32 log_used;			/* bytes in use, padding included */

	struct repl_mem slots;
	struct repl_slot *slot;
	struct list_head free_slots;

	DECLARE_HASHTABLE(cstates, 4);	/* per-client state (struct repl_cs) */
	unsigned int ncstates;

	/* statistics (lock) */
	u64 stat_ops;
	u64 stat_dups;
};

/**
 * struct repl_pending - an operation of this host's agent in flight
 */
struct repl_pending {
	struct list_head node;
	u64 op_id;
	struct vrdma_repl_op op;
	void *data;
	vrdma_repl_done_t done;
	void *ctx;
};

/**
 * struct repl_client - the client agent of a group on this host
 *
 * Control state (vrdma_repl_lock): @state, @cfg, @dr, @ch creation.
 * Data state (@lock): pending operations, the channel's traffic.
 */
struct repl_client {
	struct repl_group *g;
	struct in6_addr addr;
	struct vrdma_ctrl_ep *ep;
	u64 id;

	enum vrdma_repl_state state;
	struct repl_config cfg;
	int head_idx;			/* member index of the head, -1 */
	bool have_dev;
	struct repl_devres dr;
	unsigned long retry_at;

	spinlock_t lock;		/* the agent's data state */
	bool can_submit;		/* has a device, group alive */
	struct repl_chan *ch;
	u64 next_id;
	struct list_head pending;	/* op id order */
	struct repl_pending *send_next;	/* first not sent on ch */
	struct repl_pending **pend;	/* by op id % REPL_WINDOW */
	unsigned int npending;
	wait_queue_head_t wait;
	struct repl_mem slots;
	struct repl_slot *slot;
	struct list_head free_slots;
	u64 stat_ops;
};

/*
 * The authority's view of one configured member.  Progress (the stall
 * rule of repl_authority.c): @prog_applied is @applied as it was when the
 * member was last seen making progress, or not behind its predecessor,
 * at @prog_at.
 */
struct repl_auth_member {
	unsigned long last_hb;		/* jiffies of the last heartbeat */
	u64 nonce;
	u64 applied;			/* of the last heartbeat */
	u64 prog_applied;
	unsigned long prog_at;		/* jiffies */
	unsigned long rejoin_at;	/* removed for a stall: joins from then */
	unsigned int stalls;		/* such removals since last up to date */
	u32 synced_epoch;
	u32 join_epoch;			/* the epoch that appended it, SYNC */
	u32 flags;			/* VRDMA_REPL_HB_* of the last one */
	bool seen;
	bool in_chain;
	bool sync;			/* joining */
	bool held;			/* @rejoin_at applies */
};

#define REPL_AUTH_AGENTS	32

/**
 * struct repl_authority - membership decisions for one group
 *
 * All under vrdma_repl_auth_lock (repl_group.c), never vrdma_repl_lock.
 */
struct repl_authority {
	struct list_head node;		/* repl_auths (vrdma_repl_auth_lock) */
	struct repl_group *g;
	struct vrdma_ctrl_ep *ep;
	struct repl_config cfg;
	struct repl_auth_member m[VRDMA_REPL_MAX_MEMBERS];
	unsigned long started;
	bool lost;			/* no up-to-date member left */
	struct {
		struct in6_addr addr;
		unsigned long last;
	} agents[REPL_AUTH_AGENTS];
};

/**
 * struct repl_group - a group, on this host
 */
struct repl_group {
	struct list_head node;		/* vrdma_repl_groups (RCU) */
	struct kref ref;
	struct rcu_head rcu;
	char name[VRDMA_REPL_NAME_LEN];
	u64 size;
	u8 nmembers;
	struct in6_addr members[VRDMA_REPL_MAX_MEMBERS];
	struct in6_addr authority;
	struct in6_addr client_addr;
	bool has_client_addr;
	char file[VRDMA_REPL_PATH_MAX];
	u64 netns[VRDMA_REPL_MAX_NETNS];	/* allowed network namespaces */
	unsigned int nnetns;
	bool dead;
	u8 cfg_hash[VRDMA_REPL_CFG_HASH_LEN];	/* vrdma_repl_cfg_hash() */
	atomic64_t cfg_mismatches;	/* messages under another configuration */

	struct repl_member *local[VRDMA_REPL_MAX_MEMBERS];
	struct repl_client *client;
	struct repl_authority *auth;
};

/**
 * struct repl_group_cfg - the configuration of a new group
 * @name: its name
 * @size: region size in bytes
 * @file: backing file name template (see vrdma_repl_path_expand())
 * @nmembers: number of @members
 * @members: member addresses, in configuration order
 * @authority: address of the authority
 * @client_addr: address of this host's client agent, if @has_client_addr
 * @has_client_addr: else the first local member's address
 * @netns: cookies of the namespaces allowed to use the group
 * @nnetns: their number
 */
struct repl_group_cfg {
	char name[VRDMA_REPL_NAME_LEN];
	u64 size;
	char file[VRDMA_REPL_PATH_MAX];
	u8 nmembers;
	struct in6_addr members[VRDMA_REPL_MAX_MEMBERS];
	struct in6_addr authority;
	struct in6_addr client_addr;
	bool has_client_addr;
	u64 netns[VRDMA_REPL_MAX_NETNS];
	unsigned int nnetns;
};

/* repl_loop.c */
void vrdma_repl_kick(void);
void vrdma_repl_auth_start(struct repl_authority *a);
void vrdma_repl_auth_stop(struct repl_authority *a);

/* repl_group.c */
extern struct list_head vrdma_repl_groups;
struct repl_group *vrdma_repl_group_get(const char *name);
struct repl_group *vrdma_repl_group_find_locked(const char *name);
bool vrdma_repl_group_allowed(const struct repl_group *g, const struct net *net);
void vrdma_repl_group_put(struct repl_group *g);
void vrdma_repl_dev_removed(struct ib_device *dev);
int vrdma_repl_path_expand(const char *tmpl, const struct in6_addr *addr,
			   unsigned int idx, char *out, size_t size);
int vrdma_repl_group_new(const struct repl_group_cfg *cfg,
			 struct netlink_ext_ack *extack);
int vrdma_repl_group_del(const char *name);
int vrdma_repl_group_set_netns(const char *name, const u64 *netns, unsigned int n);
void vrdma_repl_groups_exit(void);

/* repl_res.c */
int vrdma_repl_devs_init(void);
void vrdma_repl_devs_exit(void);
void vrdma_repl_chan_event(struct ib_event *ev, void *ctx);
void vrdma_repl_chan_rx_done(struct ib_cq *cq, struct ib_wc *wc);
int vrdma_repl_mem_alloc(struct repl_mem *m, size_t size);
int vrdma_repl_mem_pin_file(struct repl_mem *m, struct file *file, u64 size);
void vrdma_repl_mem_free(struct repl_mem *m);
int vrdma_repl_mem_reg(struct repl_mem *m, struct repl_devres *dr, int access);
void vrdma_repl_mem_unreg(struct repl_mem *m);
struct file *vrdma_repl_file_open(struct repl_group *g, const char *path, u64 size);
int vrdma_repl_file_writeback(struct file *file, struct repl_mem *region,
			      unsigned long *dirty, u64 off, u64 len, bool sync);
int vrdma_repl_devres_open(struct repl_devres *dr, const struct in6_addr *addr,
			   int ncqe, void *owner);
void vrdma_repl_devres_close(struct repl_devres *dr);
struct repl_chan *vrdma_repl_chan_create(struct repl_devres *dr,
					 enum repl_chan_kind kind, u32 nrx,
				   u32 rxsize, u32 nsend);
int vrdma_repl_chan_connect(struct repl_chan *ch, struct repl_devres *dr,
			    u32 peer_qpn, u32 peer_psn);
int vrdma_repl_peer_l2(struct repl_devres *dr, const struct in6_addr *peer);
int vrdma_repl_chan_post_recv(struct repl_chan *ch, struct repl_rxbuf *rxb);
void vrdma_repl_chan_destroy(struct repl_chan *ch);
bool vrdma_repl_devres_matches(struct ib_device *dev, const struct in6_addr *addr);
int vrdma_repl_slots_init(struct repl_mem *mem, struct repl_slot **slots,
			  struct list_head *free, u32 n, u32 size,
		    struct repl_devres *dr);
void vrdma_repl_slots_fini(struct repl_mem *mem, struct repl_slot **slots);
int vrdma_repl_msg_post(struct repl_chan *ch, struct repl_mem *mem, u32 off,
			u32 len, struct ib_cqe *cqe, u8 type, u16 count, u64 arg,
		  u32 epoch);
int vrdma_repl_slot_post(struct repl_chan *ch, struct repl_mem *mem,
			 struct repl_slot *s, u64 arg, u32 epoch);
void *vrdma_repl_slot_va(struct repl_mem *mem, struct repl_slot *s);

/* repl_data.c: a member's data path, for its control (repl_member.c) */
size_t vrdma_repl_wop_size(const struct vrdma_repl_wop *w, bool data);
struct repl_cs *vrdma_repl_cs_get(struct repl_member *m, u64 client,
				  gfp_t gfp);
void vrdma_repl_cs_free_all(struct repl_member *m);
void vrdma_repl_chan_fail(struct repl_chan *ch, int err);
bool vrdma_repl_chan_failed(struct repl_chan *ch);
void vrdma_repl_member_unlink_chan(struct repl_member *m,
				   struct repl_chan *ch);
struct repl_logent *vrdma_repl_log_ent(struct repl_member *m, u32 i);
void vrdma_repl_log_release_first(struct repl_member *m);
bool vrdma_repl_op_acked(struct repl_member *m, const struct vrdma_repl_wop *w,
			 u64 seq, const struct vrdma_repl_wres *res, u8 nres);
void vrdma_repl_member_flush_work(struct work_struct *work);
void vrdma_repl_member_slot_done(struct ib_cq *cq, struct ib_wc *wc);
void vrdma_repl_member_run(struct repl_member *m);

/* repl_member.c */
struct repl_member *vrdma_repl_member_create(struct repl_group *g, u8 idx,
					     const char *path);
void vrdma_repl_member_destroy(struct repl_member *m);
void vrdma_repl_member_attach(struct repl_member *m);
void vrdma_repl_member_detach(struct repl_member *m);
void vrdma_repl_member_tick(struct repl_member *m);
void vrdma_repl_member_config(struct repl_member *m, const struct repl_config *cfg,
			      u64 echo, u32 lease_ms);
void vrdma_repl_member_link_req(struct repl_member *m, const struct in6_addr *src,
				const struct vrdma_repl_c_link_req *req);
void vrdma_repl_member_link_rep(struct repl_member *m,
				const struct vrdma_repl_c_link_rep *rep, size_t len);
void vrdma_repl_member_client_req(struct repl_member *m, const struct in6_addr *src,
				  const struct vrdma_repl_c_client_req *req);
void vrdma_repl_member_info(struct repl_member *m, u64 *applied, u32 *epoch,
			    enum vrdma_repl_state *state);
void vrdma_repl_hdr_fill(struct vrdma_repl_c_hdr *h, const struct repl_group *g,
			 u32 epoch, u8 src_role, u8 src_idx, u8 dst_role,
		   u8 dst_idx);
int vrdma_repl_op_check(u64 size, u8 opcode, u64 offset, u64 src, u32 len);

/* repl_client.c */
struct repl_client *vrdma_repl_client_create(struct repl_group *g,
					     const struct in6_addr *addr);
void vrdma_repl_client_shutdown(struct repl_client *c);
void vrdma_repl_client_destroy(struct repl_client *c);
void vrdma_repl_client_rx(struct repl_chan *ch, struct repl_rxbuf *rxb,
			  struct ib_wc *wc);
void vrdma_repl_client_attach(struct repl_client *c);
void vrdma_repl_client_detach(struct repl_client *c);
void vrdma_repl_client_tick(struct repl_client *c);
void vrdma_repl_client_config(struct repl_client *c, const struct repl_config *cfg);
void vrdma_repl_client_rep(struct repl_client *c,
			   const struct vrdma_repl_c_client_rep *rep);
int vrdma_repl_client_submit(struct repl_client *c, const struct vrdma_repl_op *op,
			     vrdma_repl_done_t done, void *ctx, bool nowait);

/* repl_authority.c */
struct repl_authority *vrdma_repl_auth_create(struct repl_group *g);
void vrdma_repl_auth_destroy(struct repl_authority *a);
void vrdma_repl_auth_tick(struct repl_authority *a);
void vrdma_repl_auth_hb(struct repl_authority *a, const struct in6_addr *src,
			const struct vrdma_repl_c_hb *hb);
void vrdma_repl_auth_suspect(struct repl_authority *a,
			     const struct vrdma_repl_c_suspect *s);

/* repl_nl.c */
void vrdma_nl_repl_exit(void);

#endif /* _VRDMA_REPL_H */
