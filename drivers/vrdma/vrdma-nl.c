// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vrdma.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "vrdma-nl.h"

#include <uapi/linux/vrdma.h>

/* Integer value ranges */
static const struct netlink_range_validation vrdma_a_dev_vni_range = {
	.max	= VRDMA_VNI_MAX,
};

static const struct netlink_range_validation vrdma_a_map_vni_range = {
	.max	= VRDMA_VNI_MAX,
};

static const struct netlink_range_validation vrdma_a_sleep_activity_window_ms_range = {
	.min	= 1ULL,
	.max	= 86400000ULL,
};

static const struct netlink_range_validation vrdma_a_sleep_config_wake_timeout_ms_range = {
	.max	= VRDMA_SLEEP_WAKE_TIMEOUT_MAX_MS,
};

static const struct netlink_range_validation vrdma_a_sleep_config_event_interval_ms_range = {
	.min	= 10ULL,
	.max	= 60000ULL,
};

/* Common nested types */
const struct nla_policy vrdma_repl_member_nl_policy[VRDMA_A_REPL_MEMBER_PAD + 1] = {
	[VRDMA_A_REPL_MEMBER_ADDR] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_REPL_MEMBER_INDEX] = { .type = NLA_U32, },
	[VRDMA_A_REPL_MEMBER_ROLE] = NLA_POLICY_MAX(NLA_U32, 4),
	[VRDMA_A_REPL_MEMBER_LOCAL] = { .type = NLA_FLAG, },
	[VRDMA_A_REPL_MEMBER_STATE] = NLA_POLICY_MAX(NLA_U32, 5),
	[VRDMA_A_REPL_MEMBER_APPLIED] = { .type = NLA_U64, },
	[VRDMA_A_REPL_MEMBER_EPOCH] = { .type = NLA_U32, },
	[VRDMA_A_REPL_MEMBER_FILE] = { .type = NLA_NUL_STRING, },
};

const struct nla_policy vrdma_sleep_list_nl_policy[VRDMA_A_SLEEP_LIST_PORT + 1] = {
	[VRDMA_A_SLEEP_LIST_ADDR] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_SLEEP_LIST_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* VRDMA_CMD_PHYS_SET - do */
static const struct nla_policy vrdma_phys_set_nl_policy[VRDMA_A_PHYS_NAME + 1] = {
	[VRDMA_A_PHYS_NAME] = { .type = NLA_NUL_STRING, .len = 63, },
};

/* VRDMA_CMD_DEV_NEW - do */
static const struct nla_policy vrdma_dev_new_nl_policy[VRDMA_A_DEV_MODE + 1] = {
	[VRDMA_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = 63, },
	[VRDMA_A_DEV_NETNS_PID] = { .type = NLA_U32, },
	[VRDMA_A_DEV_NETNS_FD] = { .type = NLA_S32, },
	[VRDMA_A_DEV_NETDEV] = { .type = NLA_NUL_STRING, .len = 15, },
	[VRDMA_A_DEV_PHYS] = { .type = NLA_NUL_STRING, .len = 63, },
	[VRDMA_A_DEV_VNI] = NLA_POLICY_FULL_RANGE(NLA_U32, &vrdma_a_dev_vni_range),
	[VRDMA_A_DEV_MAX_QP] = { .type = NLA_U32, },
	[VRDMA_A_DEV_MAX_CQ] = { .type = NLA_U32, },
	[VRDMA_A_DEV_MAX_MR] = { .type = NLA_U32, },
	[VRDMA_A_DEV_MAX_PINNED] = { .type = NLA_U64, },
	[VRDMA_A_DEV_MODE] = NLA_POLICY_MAX(NLA_U32, 1),
};

/* VRDMA_CMD_DEV_DEL - do */
static const struct nla_policy vrdma_dev_del_nl_policy[VRDMA_A_DEV_NAME + 1] = {
	[VRDMA_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = 63, },
};

/* VRDMA_CMD_DEV_GET - do */
static const struct nla_policy vrdma_dev_get_nl_policy[VRDMA_A_DEV_NAME + 1] = {
	[VRDMA_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = 63, },
};

/* VRDMA_CMD_MAP_NEW - do */
static const struct nla_policy vrdma_map_new_nl_policy[VRDMA_A_MAP_VNI + 1] = {
	[VRDMA_A_MAP_ADDR] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_MAP_VIA] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_MAP_VNI] = NLA_POLICY_FULL_RANGE(NLA_U32, &vrdma_a_map_vni_range),
};

/* VRDMA_CMD_MAP_DEL - do */
static const struct nla_policy vrdma_map_del_nl_policy[VRDMA_A_MAP_VNI + 1] = {
	[VRDMA_A_MAP_ADDR] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_MAP_VNI] = NLA_POLICY_FULL_RANGE(NLA_U32, &vrdma_a_map_vni_range),
};

/* VRDMA_CMD_REPL_GROUP_NEW - do */
static const struct nla_policy vrdma_repl_group_new_nl_policy[VRDMA_A_REPL_NETNS_PID + 1] = {
	[VRDMA_A_REPL_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
	[VRDMA_A_REPL_SIZE] = { .type = NLA_U64, },
	[VRDMA_A_REPL_FILE] = { .type = NLA_NUL_STRING, .len = 255, },
	[VRDMA_A_REPL_MEMBER] = NLA_POLICY_NESTED(vrdma_repl_member_nl_policy),
	[VRDMA_A_REPL_AUTHORITY] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_REPL_CLIENT] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_REPL_NETNS_FD] = { .type = NLA_S32, },
	[VRDMA_A_REPL_NETNS_PID] = { .type = NLA_U32, },
};

/* VRDMA_CMD_REPL_GROUP_DEL - do */
static const struct nla_policy vrdma_repl_group_del_nl_policy[VRDMA_A_REPL_NAME + 1] = {
	[VRDMA_A_REPL_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
};

/* VRDMA_CMD_REPL_GROUP_GET - do */
static const struct nla_policy vrdma_repl_group_get_nl_policy[VRDMA_A_REPL_NAME + 1] = {
	[VRDMA_A_REPL_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
};

/* VRDMA_CMD_REPL_GROUP_SET - do */
static const struct nla_policy vrdma_repl_group_set_nl_policy[VRDMA_A_REPL_NETNS_PID + 1] = {
	[VRDMA_A_REPL_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
	[VRDMA_A_REPL_NETNS_FD] = { .type = NLA_S32, },
	[VRDMA_A_REPL_NETNS_PID] = { .type = NLA_U32, },
};

/* VRDMA_CMD_REPL_OP - do */
static const struct nla_policy vrdma_repl_op_nl_policy[VRDMA_A_REPL_COOKIE + 1] = {
	[VRDMA_A_REPL_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
	[VRDMA_A_REPL_OPCODE] = NLA_POLICY_RANGE(NLA_U32, 1, 4),
	[VRDMA_A_REPL_OFFSET] = { .type = NLA_U64, },
	[VRDMA_A_REPL_SRC] = { .type = NLA_U64, },
	[VRDMA_A_REPL_LEN] = { .type = NLA_U32, },
	[VRDMA_A_REPL_DATA] = { .type = NLA_BINARY, },
	[VRDMA_A_REPL_EXPECTED] = { .type = NLA_U64, },
	[VRDMA_A_REPL_NEW] = { .type = NLA_U64, },
	[VRDMA_A_REPL_COOKIE] = { .type = NLA_U64, },
};

/* VRDMA_CMD_SLEEP_ACTIVITY_GET - do */
static const struct nla_policy vrdma_sleep_activity_get_nl_policy[VRDMA_A_SLEEP_ACTIVITY_PHYS + 1] = {
	[VRDMA_A_SLEEP_ACTIVITY_WINDOW_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &vrdma_a_sleep_activity_window_ms_range),
	[VRDMA_A_SLEEP_ACTIVITY_PHYS] = { .type = NLA_NUL_STRING, .len = 63, },
};

/* VRDMA_CMD_SLEEP_PEER_SET - do */
static const struct nla_policy vrdma_sleep_peer_set_nl_policy[VRDMA_A_SLEEP_LLADDR + 1] = {
	[VRDMA_A_SLEEP_ADDR] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_SLEEP_NAME] = { .type = NLA_NUL_STRING, .len = 63, },
	[VRDMA_A_SLEEP_STATE] = NLA_POLICY_RANGE(NLA_U32, 1, 3),
	[VRDMA_A_SLEEP_MANAGER] = NLA_POLICY_EXACT_LEN(16),
	[VRDMA_A_SLEEP_MANAGED] = { .type = NLA_FLAG, },
	[VRDMA_A_SLEEP_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[VRDMA_A_SLEEP_ADDRS] = NLA_POLICY_NESTED(vrdma_sleep_list_nl_policy),
	[VRDMA_A_SLEEP_PORTS] = NLA_POLICY_NESTED(vrdma_sleep_list_nl_policy),
	[VRDMA_A_SLEEP_ANNOUNCE] = { .type = NLA_FLAG, },
	[VRDMA_A_SLEEP_LLADDR] = NLA_POLICY_EXACT_LEN(6),
};

/* VRDMA_CMD_SLEEP_PEER_DEL - do */
static const struct nla_policy vrdma_sleep_peer_del_nl_policy[VRDMA_A_SLEEP_ADDR + 1] = {
	[VRDMA_A_SLEEP_ADDR] = NLA_POLICY_EXACT_LEN(16),
};

/* VRDMA_CMD_SLEEP_PEER_GET - do */
static const struct nla_policy vrdma_sleep_peer_get_nl_policy[VRDMA_A_SLEEP_ADDR + 1] = {
	[VRDMA_A_SLEEP_ADDR] = NLA_POLICY_EXACT_LEN(16),
};

/* VRDMA_CMD_SLEEP_CONFIG_SET - do */
static const struct nla_policy vrdma_sleep_config_set_nl_policy[VRDMA_A_SLEEP_CONFIG_FLUSH + 1] = {
	[VRDMA_A_SLEEP_CONFIG_WAKE_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &vrdma_a_sleep_config_wake_timeout_ms_range),
	[VRDMA_A_SLEEP_CONFIG_EVENT_INTERVAL_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &vrdma_a_sleep_config_event_interval_ms_range),
	[VRDMA_A_SLEEP_CONFIG_PHYS] = { .type = NLA_NUL_STRING, .len = 63, },
	[VRDMA_A_SLEEP_CONFIG_OWNER] = { .type = NLA_FLAG, },
	[VRDMA_A_SLEEP_CONFIG_FLUSH] = { .type = NLA_FLAG, },
};

/* Ops table for vrdma */
const struct genl_split_ops vrdma_nl_ops[22] = {
	{
		.cmd	= VRDMA_CMD_INFO_GET,
		.doit	= vrdma_nl_info_get_doit,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VRDMA_CMD_PHYS_GET,
		.dumpit	= vrdma_nl_phys_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VRDMA_CMD_PHYS_SET,
		.doit		= vrdma_nl_phys_set_doit,
		.policy		= vrdma_phys_set_nl_policy,
		.maxattr	= VRDMA_A_PHYS_NAME,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_DEV_NEW,
		.doit		= vrdma_nl_dev_new_doit,
		.policy		= vrdma_dev_new_nl_policy,
		.maxattr	= VRDMA_A_DEV_MODE,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_DEV_DEL,
		.doit		= vrdma_nl_dev_del_doit,
		.policy		= vrdma_dev_del_nl_policy,
		.maxattr	= VRDMA_A_DEV_NAME,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_DEV_GET,
		.doit		= vrdma_nl_dev_get_doit,
		.policy		= vrdma_dev_get_nl_policy,
		.maxattr	= VRDMA_A_DEV_NAME,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VRDMA_CMD_DEV_GET,
		.dumpit	= vrdma_nl_dev_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VRDMA_CMD_MAP_NEW,
		.doit		= vrdma_nl_map_new_doit,
		.policy		= vrdma_map_new_nl_policy,
		.maxattr	= VRDMA_A_MAP_VNI,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_MAP_DEL,
		.doit		= vrdma_nl_map_del_doit,
		.policy		= vrdma_map_del_nl_policy,
		.maxattr	= VRDMA_A_MAP_VNI,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VRDMA_CMD_MAP_GET,
		.start	= vrdma_nl_map_get_start,
		.dumpit	= vrdma_nl_map_get_dumpit,
		.done	= vrdma_nl_map_get_done,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_NEW,
		.doit		= vrdma_nl_repl_group_new_doit,
		.policy		= vrdma_repl_group_new_nl_policy,
		.maxattr	= VRDMA_A_REPL_NETNS_PID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_DEL,
		.doit		= vrdma_nl_repl_group_del_doit,
		.policy		= vrdma_repl_group_del_nl_policy,
		.maxattr	= VRDMA_A_REPL_NAME,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_GET,
		.doit		= vrdma_nl_repl_group_get_doit,
		.policy		= vrdma_repl_group_get_nl_policy,
		.maxattr	= VRDMA_A_REPL_NAME,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VRDMA_CMD_REPL_GROUP_GET,
		.dumpit	= vrdma_nl_repl_group_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VRDMA_CMD_REPL_GROUP_SET,
		.doit		= vrdma_nl_repl_group_set_doit,
		.policy		= vrdma_repl_group_set_nl_policy,
		.maxattr	= VRDMA_A_REPL_NETNS_PID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_REPL_OP,
		.doit		= vrdma_nl_repl_op_doit,
		.policy		= vrdma_repl_op_nl_policy,
		.maxattr	= VRDMA_A_REPL_COOKIE,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_ACTIVITY_GET,
		.doit		= vrdma_nl_sleep_activity_get_doit,
		.policy		= vrdma_sleep_activity_get_nl_policy,
		.maxattr	= VRDMA_A_SLEEP_ACTIVITY_PHYS,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_PEER_SET,
		.doit		= vrdma_nl_sleep_peer_set_doit,
		.policy		= vrdma_sleep_peer_set_nl_policy,
		.maxattr	= VRDMA_A_SLEEP_LLADDR,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_PEER_DEL,
		.doit		= vrdma_nl_sleep_peer_del_doit,
		.policy		= vrdma_sleep_peer_del_nl_policy,
		.maxattr	= VRDMA_A_SLEEP_ADDR,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_PEER_GET,
		.doit		= vrdma_nl_sleep_peer_get_doit,
		.policy		= vrdma_sleep_peer_get_nl_policy,
		.maxattr	= VRDMA_A_SLEEP_ADDR,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VRDMA_CMD_SLEEP_PEER_GET,
		.dumpit	= vrdma_nl_sleep_peer_get_dumpit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VRDMA_CMD_SLEEP_CONFIG_SET,
		.doit		= vrdma_nl_sleep_config_set_doit,
		.policy		= vrdma_sleep_config_set_nl_policy,
		.maxattr	= VRDMA_A_SLEEP_CONFIG_FLUSH,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group vrdma_nl_mcgrps[] = {
	[VRDMA_NLGRP_SLEEP] = { "sleep", },
};
