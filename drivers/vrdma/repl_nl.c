// SPDX-License-Identifier: GPL-2.0
/*
 * Replication: the REPL_* netlink operations (netlink.h) and the
 * REPL_OP_DONE messages that report completions.
 *
 *  REPL_GROUP_NEW, _DEL, _SET (do, admin): groups are host-wide state,
 *   changed from init_net only.  REPL_GROUP_NEW parses the request into a
 *   struct repl_group_cfg that vrdma_repl_group_new() validates and builds.
 *  REPL_GROUP_GET (do and dump, anyone): from init_net or from a
 *   namespace the group allows (others do not see the group); file names
 *   and namespaces only for init_net's administrators.
 *  REPL_OP (do, anyone with CAP_NET_ADMIN in the namespace's user
 *   namespace, from init_net or an allowed namespace): goes through the
 *   in-kernel client API (vrdma_repl.h) like any other client; its
 *   completion is sent later, as a REPL_OP_DONE message to the requesting
 *   socket.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include "ctrl.h"
#include "map.h"
#include "netlink.h"
#include "repl.h"

/* ------------------------------------------------------------------ */
/* Attributes                                                           */

/* A routable unicast address (a member, the authority, the client). */
static int vrdma_nl_repl_addr(struct genl_info *info,
			      const struct nlattr *attr, struct in6_addr *addr)
{
	union ib_gid gid;

	memcpy(gid.raw, nla_data(attr), sizeof(gid.raw));
	if (vrdma_map_addr_check(&gid, true) != VRDMA_MAP_ADDR_OK) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "not a routable unicast address");
		return -EINVAL;
	}
	memcpy(addr->s6_addr, gid.raw, sizeof(gid.raw));
	return 0;
}

/* The group name (required): letters, digits, '-', '_' and '.'. */
static int vrdma_nl_repl_name(struct genl_info *info, char *name)
{
	struct nlattr *attr = info->attrs[VRDMA_A_REPL_NAME];
	size_t i, len;

	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_NAME))
		return -EINVAL;
	nla_strscpy(name, attr, VRDMA_REPL_NAME_LEN);
	len = strlen(name);
	if (!len) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "empty group name");
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (!isalnum(name[i]) && !strchr("-_.", name[i])) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "group names use letters, digits, '-', '_' and '.'");
			return -EINVAL;
		}
	}
	return 0;
}

/* Allowed namespaces: every NETNS_FD and NETNS_PID attribute. */
static int vrdma_nl_repl_netns(struct genl_info *info, u64 *cookies,
			       unsigned int *n)
{
	const struct nlattr *attr;
	struct net *net;
	int rem;

	*n = 0;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		int type = nla_type(attr);

		if (type != VRDMA_A_REPL_NETNS_FD &&
		    type != VRDMA_A_REPL_NETNS_PID)
			continue;
		if (*n >= VRDMA_REPL_MAX_NETNS) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "too many namespaces (at most 16)");
			return -E2BIG;
		}
		net = vrdma_nl_netns_get(type == VRDMA_A_REPL_NETNS_PID ?
					 attr : NULL,
					 type == VRDMA_A_REPL_NETNS_FD ?
					 attr : NULL, info->extack);
		if (IS_ERR(net))
			return PTR_ERR(net);
		cookies[(*n)++] = net->net_cookie;
		put_net(net);
	}
	return 0;
}

/* One MEMBER nest: its address, nothing else in a request. */
static int vrdma_nl_repl_member(struct genl_info *info,
				const struct nlattr *nest,
				struct in6_addr *addr)
{
	struct nlattr *tb[VRDMA_A_REPL_MEMBER_MAX + 1];
	unsigned int type;
	int ret;

	ret = nla_parse_nested(tb, VRDMA_A_REPL_MEMBER_MAX, nest,
			       vrdma_repl_member_nl_policy, info->extack);
	if (ret)
		return ret;
	for (type = 0; type <= VRDMA_A_REPL_MEMBER_MAX; type++) {
		if (tb[type] && type != VRDMA_A_REPL_MEMBER_ADDR) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[type],
					    "a member of a request has an address only");
			return -EINVAL;
		}
	}
	if (!tb[VRDMA_A_REPL_MEMBER_ADDR]) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest,
				    "a member needs an address");
		return -EINVAL;
	}
	return vrdma_nl_repl_addr(info, tb[VRDMA_A_REPL_MEMBER_ADDR], addr);
}

/* The members, in configuration order, each once. */
static int vrdma_nl_repl_members(struct genl_info *info,
				 struct repl_group_cfg *cfg)
{
	const struct nlattr *attr;
	unsigned int j;
	int rem, ret;

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != VRDMA_A_REPL_MEMBER)
			continue;
		if (cfg->nmembers >= VRDMA_REPL_MAX_MEMBERS) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "too many members (at most 8)");
			return -E2BIG;
		}
		ret = vrdma_nl_repl_member(info, attr,
					   &cfg->members[cfg->nmembers]);
		if (ret)
			return ret;
		for (j = 0; j < cfg->nmembers; j++) {
			if (ipv6_addr_equal(&cfg->members[j],
					    &cfg->members[cfg->nmembers])) {
				NL_SET_ERR_MSG_ATTR(info->extack, attr,
						    "a member is listed twice");
				return -EINVAL;
			}
		}
		cfg->nmembers++;
	}
	return 0;
}

/* The backing file template expands for every member. */
static int vrdma_nl_repl_file(struct genl_info *info,
			      struct repl_group_cfg *cfg)
{
	struct nlattr *attr = info->attrs[VRDMA_A_REPL_FILE];
	char path[VRDMA_REPL_PATH_MAX];
	unsigned int i;
	int ret;

	nla_strscpy(cfg->file, attr, sizeof(cfg->file));
	if (cfg->file[0] != '/') {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "the backing file must be an absolute path");
		return -EINVAL;
	}
	for (i = 0; i < cfg->nmembers; i++) {
		ret = vrdma_repl_path_expand(cfg->file, &cfg->members[i], i, path,
					     sizeof(path));
		if (ret == -EINVAL)
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "unknown %-sequence in the file name (%a, %i, %%)");
		else if (ret)
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "file name too long");
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* REPL_GROUP_NEW, _DEL, _SET                                           */

/* REPL_GROUP_NEW's attributes: the group's configuration. */
static int vrdma_nl_repl_group_new_parse(struct genl_info *info,
					 struct repl_group_cfg *cfg)
{
	struct nlattr **tb = info->attrs;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_SIZE) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_FILE) ||
	    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_MEMBER))
		return -EINVAL;
	ret = vrdma_nl_repl_name(info, cfg->name);
	if (ret)
		return ret;
	cfg->size = nla_get_u64(tb[VRDMA_A_REPL_SIZE]);
	if (!cfg->size || cfg->size % PAGE_SIZE || cfg->size > REPL_SIZE_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[VRDMA_A_REPL_SIZE],
				    "the size must be a multiple of 4096, at most 1 GiB");
		return -EINVAL;
	}
	ret = vrdma_nl_repl_members(info, cfg);
	if (ret)
		return ret;
	ret = vrdma_nl_repl_file(info, cfg);
	if (ret)
		return ret;

	cfg->authority = cfg->members[0];
	if (tb[VRDMA_A_REPL_AUTHORITY] &&
	    vrdma_nl_repl_addr(info, tb[VRDMA_A_REPL_AUTHORITY],
			       &cfg->authority))
		return -EINVAL;
	if (tb[VRDMA_A_REPL_CLIENT]) {
		if (vrdma_nl_repl_addr(info, tb[VRDMA_A_REPL_CLIENT],
				       &cfg->client_addr))
			return -EINVAL;
		if (vrdma_addr_local(&cfg->client_addr) < 0) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[VRDMA_A_REPL_CLIENT],
					    "the client address is not an address of this host");
			return -EADDRNOTAVAIL;
		}
		cfg->has_client_addr = true;
	}
	return vrdma_nl_repl_netns(info, cfg->netns, &cfg->nnetns);
}

#define VRDMA_NL_REPL_INIT_NET_MSG \
	"replication groups can only be changed from the initial network namespace"

int vrdma_nl_repl_group_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct repl_group_cfg *cfg;
	int ret;

	ret = vrdma_nl_init_net_only(info, VRDMA_NL_REPL_INIT_NET_MSG);
	if (ret)
		return ret;
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return -ENOMEM;
	}
	ret = vrdma_nl_repl_group_new_parse(info, cfg);
	if (!ret)
		ret = vrdma_repl_group_new(cfg, info->extack);
	if (ret == -EEXIST)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_NAME],
				    "a group of that name exists");
	kfree(cfg);
	return ret;
}

int vrdma_nl_repl_group_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	char name[VRDMA_REPL_NAME_LEN];
	int ret;

	ret = vrdma_nl_init_net_only(info, VRDMA_NL_REPL_INIT_NET_MSG) ?:
	      vrdma_nl_repl_name(info, name);
	if (ret)
		return ret;
	ret = vrdma_repl_group_del(name);
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_NAME],
				    "no such group");
	return ret;
}

int vrdma_nl_repl_group_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	char name[VRDMA_REPL_NAME_LEN];
	u64 netns[VRDMA_REPL_MAX_NETNS];
	unsigned int n;
	int ret;

	ret = vrdma_nl_init_net_only(info, VRDMA_NL_REPL_INIT_NET_MSG) ?:
	      vrdma_nl_repl_name(info, name) ?:
	      vrdma_nl_repl_netns(info, netns, &n);
	if (ret)
		return ret;
	ret = vrdma_repl_group_set_netns(name, netns, n);
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_NAME],
				    "no such group");
	return ret;
}

/* ------------------------------------------------------------------ */
/* REPL_GROUP_GET                                                       */

/* The newest chain known here (authority, members, agent) into @cfg. */
static const struct repl_config *vrdma_nl_repl_view(struct repl_group *g,
						    struct repl_config *cfg)
{
	const struct repl_config *best = NULL;
	unsigned int i;

	lockdep_assert_held(&vrdma_repl_lock);
	if (g->auth) {
		mutex_lock(&vrdma_repl_auth_lock);
		*cfg = g->auth->cfg;
		mutex_unlock(&vrdma_repl_auth_lock);
		return cfg;
	}
	for (i = 0; i < g->nmembers; i++)
		if (g->local[i] && (!best || g->local[i]->cfg.epoch > best->epoch))
			best = &g->local[i]->cfg;
	if (g->client && (!best || g->client->cfg.epoch > best->epoch))
		best = &g->client->cfg;
	if (!best)
		return NULL;
	*cfg = *best;
	return cfg;
}

static enum vrdma_repl_role vrdma_nl_repl_role(const struct repl_config *cfg,
					       u8 idx)
{
	unsigned int i;

	if (!cfg)
		return VRDMA_REPL_ROLE_OUT;
	for (i = 0; i < cfg->nchain; i++) {
		if (cfg->idx[i] != idx)
			continue;
		if (cfg->nchain == 1)
			return VRDMA_REPL_ROLE_SOLE;
		if (!i)
			return VRDMA_REPL_ROLE_HEAD;
		return i == cfg->nchain - 1 ? VRDMA_REPL_ROLE_TAIL :
		       VRDMA_REPL_ROLE_MIDDLE;
	}
	return VRDMA_REPL_ROLE_OUT;
}

static int vrdma_nl_repl_put_member(struct sk_buff *skb, struct repl_group *g,
				    const struct repl_config *cfg, u8 idx,
				    bool admin)
{
	struct repl_member *m = g->local[idx];
	enum vrdma_repl_state state;
	struct nlattr *nest;
	u64 applied;
	u32 epoch;

	nest = nla_nest_start(skb, VRDMA_A_REPL_MEMBER);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put(skb, VRDMA_A_REPL_MEMBER_ADDR, sizeof(g->members[idx]),
		    &g->members[idx]) ||
	    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_INDEX, idx) ||
	    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_ROLE,
			vrdma_nl_repl_role(cfg, idx)))
		goto cancel;
	if (m) {
		vrdma_repl_member_info(m, &applied, &epoch, &state);
		if (nla_put_flag(skb, VRDMA_A_REPL_MEMBER_LOCAL) ||
		    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_STATE, state) ||
		    nla_put_u64_64bit(skb, VRDMA_A_REPL_MEMBER_APPLIED, applied,
				      VRDMA_A_REPL_MEMBER_PAD) ||
		    nla_put_u32(skb, VRDMA_A_REPL_MEMBER_EPOCH, epoch) ||
		    (admin && nla_put_string(skb, VRDMA_A_REPL_MEMBER_FILE,
					     m->path)))
			goto cancel;
	}
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static u32 vrdma_nl_repl_client_state(const struct repl_client *c)
{
	if (!c->have_dev)
		return VRDMA_REPL_STATE_DOWN;
	return c->ch && c->ch->up ? VRDMA_REPL_STATE_ACTIVE :
	       VRDMA_REPL_STATE_WAITING;
}

static int vrdma_nl_repl_fill(struct sk_buff *skb, struct repl_group *g,
			      bool admin)
{
	struct repl_config view;
	const struct repl_config *cfg = vrdma_nl_repl_view(g, &view);
	unsigned long done = 0;
	unsigned int i;

	lockdep_assert_held(&vrdma_repl_lock);
	if (nla_put_string(skb, VRDMA_A_REPL_NAME, g->name) ||
	    nla_put_u64_64bit(skb, VRDMA_A_REPL_SIZE, g->size,
			      VRDMA_A_REPL_PAD) ||
	    nla_put(skb, VRDMA_A_REPL_AUTHORITY, sizeof(g->authority),
		    &g->authority) ||
	    (g->auth && nla_put_flag(skb, VRDMA_A_REPL_AUTHORITY_LOCAL)) ||
	    nla_put_u32(skb, VRDMA_A_REPL_EPOCH, cfg ? cfg->epoch : 0) ||
	    nla_put(skb, VRDMA_A_REPL_CONFIG_HASH, sizeof(g->cfg_hash),
		    g->cfg_hash) ||
	    nla_put_u64_64bit(skb, VRDMA_A_REPL_CONFIG_MISMATCHES,
			      atomic64_read(&g->cfg_mismatches),
			      VRDMA_A_REPL_PAD))
		return -EMSGSIZE;
	if (admin && nla_put_string(skb, VRDMA_A_REPL_FILE, g->file))
		return -EMSGSIZE;
	if (g->client &&
	    (nla_put(skb, VRDMA_A_REPL_CLIENT, sizeof(g->client->addr),
		     &g->client->addr) ||
	     nla_put_u32(skb, VRDMA_A_REPL_CLIENT_STATE,
			 vrdma_nl_repl_client_state(g->client))))
		return -EMSGSIZE;
	for (i = 0; admin && i < g->nnetns; i++)
		if (nla_put_u64_64bit(skb, VRDMA_A_REPL_NETNS_COOKIE,
				      g->netns[i], VRDMA_A_REPL_PAD))
			return -EMSGSIZE;
	/* The chain first, in order, then the others. */
	for (i = 0; cfg && i < cfg->nchain; i++) {
		if (vrdma_nl_repl_put_member(skb, g, cfg, cfg->idx[i], admin))
			return -EMSGSIZE;
		done |= BIT(cfg->idx[i]);
	}
	for (i = 0; i < g->nmembers; i++)
		if (!(done & BIT(i)) &&
		    vrdma_nl_repl_put_member(skb, g, cfg, i, admin))
			return -EMSGSIZE;
	return 0;
}

/* File names and namespaces: for init_net's administrators only. */
static bool vrdma_nl_repl_admin(struct sk_buff *skb, struct net *net)
{
	return net_eq(net, &init_net) && netlink_capable(skb, CAP_NET_ADMIN);
}

int vrdma_nl_repl_group_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	bool admin = vrdma_nl_repl_admin(skb, genl_info_net(info));
	char name[VRDMA_REPL_NAME_LEN];
	struct repl_group *g;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = vrdma_nl_repl_name(info, name);
	if (ret)
		return ret;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return -ENOMEM;
	}
	mutex_lock(&vrdma_repl_lock);
	g = vrdma_repl_group_find_locked(name);
	if (!g || !vrdma_repl_group_allowed(g, genl_info_net(info))) {
		mutex_unlock(&vrdma_repl_lock);
		nlmsg_free(msg);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_NAME],
				    "no such group");
		return -ENOENT;
	}
	hdr = vrdma_nl_put_reply_hdr(msg, info, VRDMA_CMD_REPL_GROUP_GET);
	ret = hdr ? vrdma_nl_repl_fill(msg, g, admin) : -EMSGSIZE;
	mutex_unlock(&vrdma_repl_lock);
	if (ret) {
		nlmsg_free(msg);
		NL_SET_ERR_MSG(info->extack, "reply message too small");
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: groups already dumped (of those the requester sees). */
int vrdma_nl_repl_group_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct net *net = sock_net(cb->skb->sk);
	bool admin = vrdma_nl_repl_admin(cb->skb, net);
	long skip = cb->args[0], i = 0;
	struct repl_group *g;
	void *hdr;

	mutex_lock(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node) {
		if (!vrdma_repl_group_allowed(g, net))
			continue;
		if (i++ < skip)
			continue;
		hdr = vrdma_nl_dump_hdr(skb, cb, VRDMA_CMD_REPL_GROUP_GET);
		if (!hdr || vrdma_nl_repl_fill(skb, g, admin)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			i--;
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&vrdma_repl_lock);
	cb->args[0] = i;
	return skb->len;
}

/* ------------------------------------------------------------------ */
/* REPL_OP and REPL_OP_DONE                                             */

/* A completion to report to a netlink socket. */
struct vrdma_nl_repl_done {
	struct list_head node;
	struct net *net;
	u32 portid;
	u64 cookie;
	char group[VRDMA_REPL_NAME_LEN];
	struct vrdma_repl_completion c;
};

static void vrdma_nl_repl_work_fn(struct work_struct *work);

static DEFINE_SPINLOCK(vrdma_nl_repl_lock);
static LIST_HEAD(vrdma_nl_repl_list);
static DECLARE_WORK(vrdma_nl_repl_work, vrdma_nl_repl_work_fn);

/* The client API's callback (softirq): queue the completion. */
static void vrdma_nl_repl_done_cb(void *ctx,
				  const struct vrdma_repl_completion *c)
{
	struct vrdma_nl_repl_done *d = ctx;
	unsigned long flags;

	d->c = *c;
	spin_lock_irqsave(&vrdma_nl_repl_lock, flags);
	list_add_tail(&d->node, &vrdma_nl_repl_list);
	spin_unlock_irqrestore(&vrdma_nl_repl_lock, flags);
	queue_work(system_highpri_wq, &vrdma_nl_repl_work);
}

static int vrdma_nl_repl_put_done(struct sk_buff *skb,
				  struct vrdma_nl_repl_done *d)
{
	struct nlattr *nest;
	unsigned int i;
	void *hdr;

	hdr = vrdma_nl_put_hdr(skb, 0, 0, 0, VRDMA_CMD_REPL_OP_DONE);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(skb, VRDMA_A_REPL_NAME, d->group) ||
	    nla_put_u64_64bit(skb, VRDMA_A_REPL_COOKIE, d->cookie,
			      VRDMA_A_REPL_PAD) ||
	    nla_put_s32(skb, VRDMA_A_REPL_STATUS, d->c.status))
		goto cancel;
	for (i = 0; i < d->c.nres; i++) {
		const struct vrdma_repl_result *r = &d->c.res[i];

		nest = nla_nest_start(skb, VRDMA_A_REPL_RESULT);
		if (!nest ||
		    nla_put_u32(skb, VRDMA_A_REPL_RESULT_MEMBER, r->member) ||
		    nla_put(skb, VRDMA_A_REPL_RESULT_ADDR, sizeof(r->addr),
			    &r->addr) ||
		    nla_put_u64_64bit(skb, VRDMA_A_REPL_RESULT_OLD, r->old,
				      VRDMA_A_REPL_RESULT_PAD) ||
		    nla_put_u8(skb, VRDMA_A_REPL_RESULT_SWAPPED, r->swapped))
			goto cancel;
		nla_nest_end(skb, nest);
	}
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Send a batch of completions and drop its namespace reference. */
static void vrdma_nl_repl_send(struct sk_buff **skb, struct net **net,
			       u32 portid)
{
	if (*skb)
		genlmsg_unicast(*net, *skb, portid);	/* consumes it */
	if (*net)
		put_net(*net);
	*skb = NULL;
	*net = NULL;
}

/*
 * Deliver completions in order, several per datagram to the same socket.
 * A socket that is gone or full loses them (the library sizes its receive
 * buffer for REPL_WINDOW completions).
 */
static void vrdma_nl_repl_work_fn(struct work_struct *work)
{
	struct vrdma_nl_repl_done *d, *tmp;
	struct sk_buff *skb = NULL;
	struct net *net = NULL;
	u32 portid = 0;
	LIST_HEAD(list);

	spin_lock_irq(&vrdma_nl_repl_lock);
	list_splice_init(&vrdma_nl_repl_list, &list);
	spin_unlock_irq(&vrdma_nl_repl_lock);

	list_for_each_entry_safe(d, tmp, &list, node) {
		list_del(&d->node);
		if (skb && (d->net != net || d->portid != portid))
			vrdma_nl_repl_send(&skb, &net, portid);
		if (skb && !vrdma_nl_repl_put_done(skb, d)) {
			put_net(d->net);	/* the batch holds one */
			kfree(d);
			continue;
		}
		vrdma_nl_repl_send(&skb, &net, portid);
		/* A new batch, which takes over this completion's reference. */
		net = d->net;
		portid = d->portid;
		skb = genlmsg_new(16384, GFP_KERNEL);
		if (!skb || vrdma_nl_repl_put_done(skb, d)) {
			pr_warn_ratelimited("repl: a completion was lost (out of memory)\n");
			nlmsg_free(skb);
			skb = NULL;
			put_net(net);
			net = NULL;
		}
		kfree(d);
	}
	vrdma_nl_repl_send(&skb, &net, portid);
}

/**
 * vrdma_nl_repl_exit() - deliver the completions still queued
 *
 * Module unload, once no operation is in flight any more.
 */
void vrdma_nl_repl_exit(void)
{
	flush_work(&vrdma_nl_repl_work);
}

/**
 * struct vrdma_nl_repl_op - a REPL_OP request
 * @name: the group
 * @op: the operation (@op.data points to @data)
 * @data: a write's data, the DATA attributes concatenated (kmalloc'ed)
 * @cookie: the client's tag, echoed in REPL_OP_DONE
 */
struct vrdma_nl_repl_op {
	char name[VRDMA_REPL_NAME_LEN];
	struct vrdma_repl_op op;
	u8 *data;
	u64 cookie;
};

static int vrdma_nl_repl_u64(struct genl_info *info, int type, u64 *val)
{
	if (GENL_REQ_ATTR_CHECK(info, type))
		return -EINVAL;
	*val = nla_get_u64(info->attrs[type]);
	return 0;
}

/* A write's data: every DATA attribute, in order, 1 to 65536 bytes. */
static int vrdma_nl_repl_data(struct genl_info *info,
			      struct vrdma_nl_repl_op *req)
{
	struct nlattr *len_attr = info->attrs[VRDMA_A_REPL_LEN];
	const struct nlattr *attr;
	u64 len = 0;
	u32 pos = 0;
	int rem;

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem)
		if (nla_type(attr) == VRDMA_A_REPL_DATA)
			len += nla_len(attr);
	if (!len || len > VRDMA_REPL_WRITE_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_DATA],
				    "a write carries 1 to 65536 bytes");
		return -EINVAL;
	}
	if (len_attr && nla_get_u32(len_attr) != len) {
		NL_SET_ERR_MSG_ATTR(info->extack, len_attr,
				    "len differs from the data's length");
		return -EINVAL;
	}
	req->data = kmalloc(len, GFP_KERNEL);
	if (!req->data) {
		NL_SET_ERR_MSG(info->extack, "out of memory");
		return -ENOMEM;
	}
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != VRDMA_A_REPL_DATA)
			continue;
		memcpy(req->data + pos, nla_data(attr), nla_len(attr));
		pos += nla_len(attr);
	}
	req->op.data = req->data;
	req->op.len = len;
	return 0;
}

/* The attributes each operation needs (the policy checked the opcode). */
static int vrdma_nl_repl_op_args(struct genl_info *info,
				 struct vrdma_nl_repl_op *req)
{
	struct vrdma_repl_op *op = &req->op;

	switch (op->opcode) {
	case VRDMA_REPL_OP_WRITE:
		if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OFFSET) ||
		    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_DATA))
			return -EINVAL;
		return vrdma_nl_repl_data(info, req);
	case VRDMA_REPL_OP_MEMCPY:
		if (vrdma_nl_repl_u64(info, VRDMA_A_REPL_SRC, &op->src) ||
		    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OFFSET) ||
		    GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_LEN))
			return -EINVAL;
		return 0;
	case VRDMA_REPL_OP_CAS:
		if (GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OFFSET) ||
		    vrdma_nl_repl_u64(info, VRDMA_A_REPL_EXPECTED,
				      &op->expected) ||
		    vrdma_nl_repl_u64(info, VRDMA_A_REPL_NEW, &op->newval))
			return -EINVAL;
		return 0;
	case VRDMA_REPL_OP_FLUSH:
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VRDMA_A_REPL_OPCODE],
			    "unknown operation");
	return -EINVAL;
}

/* REPL_OP's attributes: the group, the operation, the cookie. */
static int vrdma_nl_repl_op_parse(struct genl_info *info,
				  struct vrdma_nl_repl_op *req)
{
	struct nlattr **tb = info->attrs;
	int ret;

	ret = vrdma_nl_repl_name(info, req->name);
	if (ret || GENL_REQ_ATTR_CHECK(info, VRDMA_A_REPL_OPCODE))
		return ret ?: -EINVAL;
	req->op.opcode = nla_get_u32(tb[VRDMA_A_REPL_OPCODE]);
	if (tb[VRDMA_A_REPL_LEN])
		req->op.len = nla_get_u32(tb[VRDMA_A_REPL_LEN]);
	if (tb[VRDMA_A_REPL_OFFSET])
		req->op.offset = nla_get_u64(tb[VRDMA_A_REPL_OFFSET]);
	if (tb[VRDMA_A_REPL_COOKIE])
		req->cookie = nla_get_u64(tb[VRDMA_A_REPL_COOKIE]);
	if (req->op.opcode != VRDMA_REPL_OP_WRITE && tb[VRDMA_A_REPL_DATA]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[VRDMA_A_REPL_DATA],
				    "only a write carries data");
		return -EINVAL;
	}
	return vrdma_nl_repl_op_args(info, req);
}

/* The extack message of an error of vrdma_repl_open() or _submit(). */
static void vrdma_nl_repl_op_err(struct genl_info *info, int err)
{
	struct nlattr *name = info->attrs[VRDMA_A_REPL_NAME];
	struct netlink_ext_ack *extack = info->extack;

	switch (err) {
	case -ENOENT:
		NL_SET_ERR_MSG_ATTR(extack, name, "no such group");
		break;
	case -EPERM:
		NL_SET_ERR_MSG_ATTR(extack, name,
				    "this network namespace may not use the group");
		break;
	case -ERANGE:
		NL_SET_ERR_MSG(extack, "the range lies beyond the region");
		break;
	case -EINVAL:
		NL_SET_ERR_MSG(extack,
			       "invalid operation (length, or alignment of a compare-and-swap: 8 bytes)");
		break;
	case -ENOTCONN:
		NL_SET_ERR_MSG(extack,
			       "no client address on this host: re-create the group with 'client ADDR'");
		break;
	case -ENETDOWN:
		NL_SET_ERR_MSG(extack,
			       "no RDMA device for this host's client address");
		break;
	case -ESHUTDOWN:
		NL_SET_ERR_MSG(extack, "the group is being deleted");
		break;
	case -EINTR:
		NL_SET_ERR_MSG(extack, "interrupted");
		break;
	case -ENOMEM:
		NL_SET_ERR_MSG(extack, "out of memory");
		break;
	default:
		NL_SET_ERR_MSG(extack, "cannot queue the operation");
		break;
	}
}

/* Submit @req for the requesting socket, through the client API. */
static int vrdma_nl_repl_submit(struct genl_info *info,
				struct vrdma_nl_repl_op *req)
{
	struct vrdma_nl_repl_done *d;
	struct vrdma_repl *r;
	int ret;

	r = vrdma_repl_open(req->name, genl_info_net(info));
	if (IS_ERR(r))
		return PTR_ERR(r);
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		vrdma_repl_close(r);
		return -ENOMEM;
	}
	d->net = get_net(genl_info_net(info));
	d->portid = info->snd_portid;
	d->cookie = req->cookie;
	strscpy(d->group, req->name, sizeof(d->group));

	ret = vrdma_repl_submit(r, &req->op, vrdma_nl_repl_done_cb, d, 0);
	if (ret) {
		put_net(d->net);
		kfree(d);
	}
	vrdma_repl_close(r);
	return ret;
}

int vrdma_nl_repl_op_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vrdma_nl_repl_op req = {};
	int ret;

	/* Writing replicas is a privilege of the namespace's administrator. */
	if (!netlink_ns_capable(skb, genl_info_net(info)->user_ns,
				CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(info->extack,
			       "submitting to a group needs CAP_NET_ADMIN in the network namespace");
		return -EPERM;
	}
	ret = vrdma_nl_repl_op_parse(info, &req);
	if (!ret) {
		ret = vrdma_nl_repl_submit(info, &req);
		if (ret)
			vrdma_nl_repl_op_err(info, ret);
	}
	kfree(req.data);
	return ret;
}
