/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vrdma.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_VRDMA_GEN_H
#define _LINUX_VRDMA_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/vrdma.h>

/* Common nested types */
extern const struct nla_policy vrdma_repl_member_nl_policy[VRDMA_A_REPL_MEMBER_PAD + 1];
extern const struct nla_policy vrdma_sleep_list_nl_policy[VRDMA_A_SLEEP_LIST_PORT + 1];

/* Ops table for vrdma */
extern const struct genl_split_ops vrdma_nl_ops[22];

int vrdma_nl_map_get_start(struct netlink_callback *cb);
int vrdma_nl_map_get_done(struct netlink_callback *cb);

int vrdma_nl_info_get_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_phys_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vrdma_nl_phys_set_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_dev_new_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vrdma_nl_map_new_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_map_del_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_map_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vrdma_nl_repl_group_new_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_repl_group_del_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_repl_group_get_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_repl_group_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb);
int vrdma_nl_repl_group_set_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_repl_op_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_sleep_activity_get_doit(struct sk_buff *skb,
				     struct genl_info *info);
int vrdma_nl_sleep_peer_set_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_sleep_peer_del_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_sleep_peer_get_doit(struct sk_buff *skb, struct genl_info *info);
int vrdma_nl_sleep_peer_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb);
int vrdma_nl_sleep_config_set_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	VRDMA_NLGRP_SLEEP,
};

#endif /* _LINUX_VRDMA_GEN_H */
