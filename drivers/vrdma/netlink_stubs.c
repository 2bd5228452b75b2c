// SPDX-License-Identifier: GPL-2.0
/*
 * The netlink handlers of the optional parts left out of the build
 * (Kbuild: VRDMA_REPL=n, VRDMA_SLEEP=n).  The generated ops table
 * (vrdma-nl.c) names every handler of the spec; these answer EOPNOTSUPP.
 */
#include <net/genetlink.h>

#include "netlink.h"

static int __maybe_unused vrdma_nl_left_out_doit(struct genl_info *info)
{
	NL_SET_ERR_MSG(info->extack,
		       "this vrdma module was built without that part (VRDMA_REPL, VRDMA_SLEEP)");
	return -EOPNOTSUPP;
}

static int __maybe_unused
vrdma_nl_left_out_dumpit(struct netlink_callback *cb)
{
	NL_SET_ERR_MSG(cb->extack,
		       "this vrdma module was built without that part (VRDMA_REPL, VRDMA_SLEEP)");
	return -EOPNOTSUPP;
}

#ifndef VRDMA_WITH_REPL
int vrdma_nl_repl_group_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_repl_group_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_repl_group_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_repl_group_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return vrdma_nl_left_out_dumpit(cb);
}

int vrdma_nl_repl_group_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_repl_op_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}
#endif /* !VRDMA_WITH_REPL */

#ifndef VRDMA_WITH_SLEEP
int vrdma_nl_sleep_activity_get_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_sleep_peer_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_sleep_peer_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_sleep_peer_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}

int vrdma_nl_sleep_peer_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return vrdma_nl_left_out_dumpit(cb);
}

int vrdma_nl_sleep_config_set_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	return vrdma_nl_left_out_doit(info);
}
#endif /* !VRDMA_WITH_SLEEP */
