/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * User ABI of the vrdma generic netlink family.
 *
 * Documentation/netlink/specs/vrdma.yaml is the specification; keep this
 * header in sync with it (the selftests drive the family through the spec).
 */

#ifndef _UAPI_LINUX_VRDMA_H
#define _UAPI_LINUX_VRDMA_H

#define VRDMA_FAMILY_NAME	"vrdma"
#define VRDMA_FAMILY_VERSION	1

#define VRDMA_VNI_MAX		16777215
#define VRDMA_NAME_LEN		64

enum vrdma_map_flags {
	VRDMA_MAP_FLAGS_LOCAL = 1,
};

enum {
	VRDMA_A_INFO_VERSION = 1,
	VRDMA_A_INFO_PHYS_DEFAULT,
	VRDMA_A_INFO_DEV_COUNT,
	VRDMA_A_INFO_MAP_COUNT,

	__VRDMA_A_INFO_MAX,
	VRDMA_A_INFO_MAX = (__VRDMA_A_INFO_MAX - 1)
};

enum {
	VRDMA_A_PHYS_NAME = 1,
	VRDMA_A_PHYS_INDEX,
	VRDMA_A_PHYS_DEFAULT,
	VRDMA_A_PHYS_DEV_COUNT,

	__VRDMA_A_PHYS_MAX,
	VRDMA_A_PHYS_MAX = (__VRDMA_A_PHYS_MAX - 1)
};

enum {
	VRDMA_A_DEV_NAME = 1,
	VRDMA_A_DEV_INDEX,
	VRDMA_A_DEV_NETNS_PID,
	VRDMA_A_DEV_NETNS_FD,
	VRDMA_A_DEV_NETDEV,
	VRDMA_A_DEV_IFINDEX,
	VRDMA_A_DEV_PHYS,
	VRDMA_A_DEV_VNI,
	VRDMA_A_DEV_NETNS_ID,
	VRDMA_A_DEV_MAX_QP,
	VRDMA_A_DEV_MAX_CQ,
	VRDMA_A_DEV_MAX_MR,
	VRDMA_A_DEV_MAX_PINNED,
	VRDMA_A_DEV_PAD,

	__VRDMA_A_DEV_MAX,
	VRDMA_A_DEV_MAX = (__VRDMA_A_DEV_MAX - 1)
};

enum {
	VRDMA_A_MAP_ADDR = 1,
	VRDMA_A_MAP_VIA,
	VRDMA_A_MAP_VNI,
	VRDMA_A_MAP_FLAGS,

	__VRDMA_A_MAP_MAX,
	VRDMA_A_MAP_MAX = (__VRDMA_A_MAP_MAX - 1)
};

/*
 * Replication chains (repl*.c, Documentation/replication.rst).  A group is
 * an ordered chain of member hosts, each named by the address of its
 * physical RNIC, holding a replica of a region backed by a file.
 */
#define VRDMA_REPL_NAME_LEN	32	/* group name buffer, NUL included */
#define VRDMA_REPL_MAX_MEMBERS	8
#define VRDMA_REPL_WRITE_MAX	65536	/* bytes of one gWRITE */
#define VRDMA_REPL_PATH_MAX	256	/* backing file template, NUL included */
#define VRDMA_REPL_MAX_NETNS	16	/* namespaces allowed to open a group */

enum vrdma_repl_opcode {
	VRDMA_REPL_OP_WRITE = 1,	/* offset, data */
	VRDMA_REPL_OP_MEMCPY,		/* src, offset (destination), len */
	VRDMA_REPL_OP_CAS,		/* offset, expected, new: 64-bit word */
	VRDMA_REPL_OP_FLUSH,		/* offset, len */
};

/* Role of a member in the chain of the current epoch. */
enum vrdma_repl_role {
	VRDMA_REPL_ROLE_OUT,		/* not in the chain */
	VRDMA_REPL_ROLE_HEAD,
	VRDMA_REPL_ROLE_MIDDLE,
	VRDMA_REPL_ROLE_TAIL,
	VRDMA_REPL_ROLE_SOLE,		/* head and tail */
};

/* State of a member instance of this host (or of the client agent). */
enum vrdma_repl_state {
	VRDMA_REPL_STATE_DOWN,		/* no RDMA device for its address */
	VRDMA_REPL_STATE_WAITING,	/* no configuration from the authority yet */
	VRDMA_REPL_STATE_OUT,		/* alive, not in the chain */
	VRDMA_REPL_STATE_SYNCING,	/* in the chain, waiting for its state */
	VRDMA_REPL_STATE_ACTIVE,	/* in the chain, up to date */
	VRDMA_REPL_STATE_FENCED,	/* lease from the authority expired */
};

enum {
	VRDMA_A_REPL_NAME = 1,		/* string, group name */
	VRDMA_A_REPL_SIZE,		/* u64, region size in bytes */
	VRDMA_A_REPL_FILE,		/* string, backing file (template) */
	VRDMA_A_REPL_MEMBER,		/* nest (repl-member), multi-attr */
	VRDMA_A_REPL_AUTHORITY,		/* binary 16, address of the authority */
	VRDMA_A_REPL_CLIENT,		/* binary 16, address of this host's client */
	VRDMA_A_REPL_NETNS_FD,		/* s32, multi-attr: allowed namespace */
	VRDMA_A_REPL_NETNS_PID,		/* u32, multi-attr: allowed namespace */
	VRDMA_A_REPL_NETNS_COOKIE,	/* u64, multi-attr: allowed namespace */
	VRDMA_A_REPL_EPOCH,		/* u32, newest epoch known here */
	VRDMA_A_REPL_CLIENT_STATE,	/* u32, enum vrdma_repl_state */
	VRDMA_A_REPL_OPCODE,		/* u32, enum vrdma_repl_opcode */
	VRDMA_A_REPL_OFFSET,		/* u64 */
	VRDMA_A_REPL_SRC,		/* u64 */
	VRDMA_A_REPL_LEN,		/* u32 */
	VRDMA_A_REPL_DATA,		/* binary, multi-attr: pieces concatenated */
	VRDMA_A_REPL_EXPECTED,		/* u64 */
	VRDMA_A_REPL_NEW,		/* u64 */
	VRDMA_A_REPL_COOKIE,		/* u64, the client's, echoed in OP_DONE */
	VRDMA_A_REPL_STATUS,		/* s32, 0 or a negative errno */
	VRDMA_A_REPL_RESULT,		/* nest (repl-result), multi-attr */
	VRDMA_A_REPL_AUTHORITY_LOCAL,	/* flag: the authority runs here */
	VRDMA_A_REPL_PAD,

	__VRDMA_A_REPL_MAX,
	VRDMA_A_REPL_MAX = (__VRDMA_A_REPL_MAX - 1)
};

/* A member, in configuration order (requests) or chain order (replies). */
enum {
	VRDMA_A_REPL_MEMBER_ADDR = 1,	/* binary 16, RNIC address */
	VRDMA_A_REPL_MEMBER_INDEX,	/* u32, position in the configuration */
	VRDMA_A_REPL_MEMBER_ROLE,	/* u32, enum vrdma_repl_role */
	VRDMA_A_REPL_MEMBER_LOCAL,	/* flag: the member is on this host */
	VRDMA_A_REPL_MEMBER_STATE,	/* u32, enum vrdma_repl_state (local) */
	VRDMA_A_REPL_MEMBER_APPLIED,	/* u64, last applied sequence number */
	VRDMA_A_REPL_MEMBER_EPOCH,	/* u32, epoch the local member is in */
	VRDMA_A_REPL_MEMBER_FILE,	/* string, its backing file (local) */
	VRDMA_A_REPL_MEMBER_PAD,

	__VRDMA_A_REPL_MEMBER_MAX,
	VRDMA_A_REPL_MEMBER_MAX = (__VRDMA_A_REPL_MEMBER_MAX - 1)
};

/* One replica's result of a gCAS. */
enum {
	VRDMA_A_REPL_RESULT_MEMBER = 1,	/* u32, configuration index */
	VRDMA_A_REPL_RESULT_ADDR,	/* binary 16 */
	VRDMA_A_REPL_RESULT_OLD,	/* u64, the word before */
	VRDMA_A_REPL_RESULT_SWAPPED,	/* u8, 1 if it swapped */
	VRDMA_A_REPL_RESULT_PAD,

	__VRDMA_A_REPL_RESULT_MAX,
	VRDMA_A_REPL_RESULT_MAX = (__VRDMA_A_REPL_RESULT_MAX - 1)
};

/*
 * Sleep management (sleep*.c, Documentation/sleep.rst).  The sleep daemon
 * of a network namespace tells the module which hosts of its group sleep
 * and which of them this host manages (SLEEP_PEER_*), configures its
 * namespace (SLEEP_CONFIG_SET), reads the activity that keeps this host
 * awake (SLEEP_ACTIVITY_GET) and listens to the "sleep" multicast group
 * (SLEEP_EVENT).
 */
#define VRDMA_SLEEP_ADDRS_MAX		8	/* addresses of one host */
#define VRDMA_SLEEP_PORTS_MAX		1024	/* listening ports of one host */
#define VRDMA_SLEEP_WAKE_TIMEOUT_MAX_MS	60000
#define VRDMA_SLEEP_ROCE_PORT		4791

enum vrdma_sleep_state {
	VRDMA_SLEEP_STATE_AWAKE = 1,
	VRDMA_SLEEP_STATE_ASLEEP,
	VRDMA_SLEEP_STATE_WAKING,
};

enum vrdma_sleep_event_type {
	/* A local RDMA connection set-up waits for a sleeping host. */
	VRDMA_SLEEP_EVENT_WAKE_NEEDED = 1,
	/* A valid request for a sleeper this host manages. */
	VRDMA_SLEEP_EVENT_REQUEST,
};

enum vrdma_sleep_request {
	VRDMA_SLEEP_REQUEST_TCP_SYN = 1,	/* SYN to a listening port */
	VRDMA_SLEEP_REQUEST_RDMA_CM,		/* RoCE v2 CM MAD (QP1) */
};

/* Attributes of a peer (SLEEP_PEER_SET, _DEL, _GET). */
enum {
	VRDMA_A_SLEEP_UNSPEC,
	VRDMA_A_SLEEP_ADDR,
	VRDMA_A_SLEEP_NAME,
	VRDMA_A_SLEEP_STATE,
	VRDMA_A_SLEEP_MANAGER,
	VRDMA_A_SLEEP_MANAGED,
	VRDMA_A_SLEEP_IFINDEX,
	VRDMA_A_SLEEP_ADDRS,
	VRDMA_A_SLEEP_PORTS,
	VRDMA_A_SLEEP_ANNOUNCE,
	VRDMA_A_SLEEP_STATS,
	VRDMA_A_SLEEP_PAD,

	__VRDMA_A_SLEEP_MAX,
	VRDMA_A_SLEEP_MAX = (__VRDMA_A_SLEEP_MAX - 1)
};

/* Items of the lists VRDMA_A_SLEEP_ADDRS and VRDMA_A_SLEEP_PORTS. */
enum {
	VRDMA_A_SLEEP_LIST_UNSPEC,
	VRDMA_A_SLEEP_LIST_ADDR,
	VRDMA_A_SLEEP_LIST_PORT,

	__VRDMA_A_SLEEP_LIST_MAX,
	VRDMA_A_SLEEP_LIST_MAX = (__VRDMA_A_SLEEP_LIST_MAX - 1)
};

/* Counters of a peer (VRDMA_A_SLEEP_STATS, read-only). */
enum {
	VRDMA_A_SLEEP_STATS_UNSPEC,
	VRDMA_A_SLEEP_STATS_VALID,
	VRDMA_A_SLEEP_STATS_IGNORED,
	VRDMA_A_SLEEP_STATS_EVENTS,
	VRDMA_A_SLEEP_STATS_ARP_REPLIES,
	VRDMA_A_SLEEP_STATS_WAITS,
	VRDMA_A_SLEEP_STATS_WAIT_TIMEOUTS,
	VRDMA_A_SLEEP_STATS_PAD,

	__VRDMA_A_SLEEP_STATS_MAX,
	VRDMA_A_SLEEP_STATS_MAX = (__VRDMA_A_SLEEP_STATS_MAX - 1)
};

/* SLEEP_ACTIVITY_GET. */
enum {
	VRDMA_A_SLEEP_ACTIVITY_UNSPEC,
	VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS,
	VRDMA_A_SLEEP_ACTIVITY_PHYS,
	VRDMA_A_SLEEP_ACTIVITY_DEVS,
	VRDMA_A_SLEEP_ACTIVITY_ACTIVE_DEVS,
	VRDMA_A_SLEEP_ACTIVITY_ACTIVE_QPS,
	VRDMA_A_SLEEP_ACTIVITY_IDLE_MS,
	VRDMA_A_SLEEP_ACTIVITY_REPL_GROUPS,
	VRDMA_A_SLEEP_ACTIVITY_PAD,

	__VRDMA_A_SLEEP_ACTIVITY_MAX,
	VRDMA_A_SLEEP_ACTIVITY_MAX = (__VRDMA_A_SLEEP_ACTIVITY_MAX - 1)
};

/* SLEEP_CONFIG_SET (request and reply). */
enum {
	VRDMA_A_SLEEP_CONFIG_UNSPEC,
	VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS,
	VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS,
	VRDMA_A_SLEEP_CONFIG_PHYS,
	VRDMA_A_SLEEP_CONFIG_OWNER,
	VRDMA_A_SLEEP_CONFIG_FLUSH,
	VRDMA_A_SLEEP_CONFIG_PEERS,
	VRDMA_A_SLEEP_CONFIG_MANAGED,

	__VRDMA_A_SLEEP_CONFIG_MAX,
	VRDMA_A_SLEEP_CONFIG_MAX = (__VRDMA_A_SLEEP_CONFIG_MAX - 1)
};

/* SLEEP_EVENT notifications. */
enum {
	VRDMA_A_SLEEP_EVENT_UNSPEC,
	VRDMA_A_SLEEP_EVENT_TYPE,
	VRDMA_A_SLEEP_EVENT_ADDR,
	VRDMA_A_SLEEP_EVENT_REQUEST,
	VRDMA_A_SLEEP_EVENT_SRC,
	VRDMA_A_SLEEP_EVENT_SPORT,
	VRDMA_A_SLEEP_EVENT_DPORT,
	VRDMA_A_SLEEP_EVENT_IFINDEX,
	VRDMA_A_SLEEP_EVENT_OVERLAY,
	VRDMA_A_SLEEP_EVENT_VNI,
	VRDMA_A_SLEEP_EVENT_PHYS,

	__VRDMA_A_SLEEP_EVENT_MAX,
	VRDMA_A_SLEEP_EVENT_MAX = (__VRDMA_A_SLEEP_EVENT_MAX - 1)
};

#define VRDMA_MCGRP_SLEEP	"sleep"

enum {
	VRDMA_CMD_INFO_GET = 1,
	VRDMA_CMD_PHYS_GET,
	VRDMA_CMD_PHYS_SET,
	VRDMA_CMD_DEV_NEW,
	VRDMA_CMD_DEV_DEL,
	VRDMA_CMD_DEV_GET,
	VRDMA_CMD_MAP_NEW,
	VRDMA_CMD_MAP_DEL,
	VRDMA_CMD_MAP_GET,

	/* Replication chains (repl*.c); numbers 10-15 are theirs. */
	VRDMA_CMD_REPL_GROUP_NEW,
	VRDMA_CMD_REPL_GROUP_DEL,
	VRDMA_CMD_REPL_GROUP_GET,
	VRDMA_CMD_REPL_GROUP_SET,
	VRDMA_CMD_REPL_OP,
	VRDMA_CMD_REPL_OP_DONE,

	/* Sleep management (sleep*.c); numbers 16-21 are theirs. */
	VRDMA_CMD_SLEEP_ACTIVITY_GET,
	VRDMA_CMD_SLEEP_PEER_SET,
	VRDMA_CMD_SLEEP_PEER_DEL,
	VRDMA_CMD_SLEEP_PEER_GET,
	VRDMA_CMD_SLEEP_CONFIG_SET,
	VRDMA_CMD_SLEEP_EVENT,

	__VRDMA_CMD_MAX,
	VRDMA_CMD_MAX = (__VRDMA_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_VRDMA_H */
