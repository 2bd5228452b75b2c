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

/* Attributes of the replication operations (repl*.c). */
enum {
	VRDMA_A_REPL_UNSPEC,

	__VRDMA_A_REPL_MAX,
	VRDMA_A_REPL_MAX = (__VRDMA_A_REPL_MAX - 1)
};

/* Attributes of the sleep management operations (sleep*.c). */
enum {
	VRDMA_A_SLEEP_UNSPEC,

	__VRDMA_A_SLEEP_MAX,
	VRDMA_A_SLEEP_MAX = (__VRDMA_A_SLEEP_MAX - 1)
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
