// SPDX-License-Identifier: GPL-2.0
/*
 * Replication groups on this host: lookup, creation (the members, the
 * client agent and the authority this host runs for a group), deletion,
 * and the network namespaces allowed to use a group.  repl_nl.c turns
 * the REPL_GROUP_* requests into these calls; repl_loop.c runs what a
 * group holds.
 *
 * Namespaces
 * ----------
 * Groups are host-wide: created, changed and deleted from init_net by an
 * administrator.  A group lists the network namespaces (by cookie) that
 * may see it and submit operations to it; init_net always may.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include "audit.h"
#include "ctrl.h"
#include "repl.h"

/* The control plane of every group (repl.h, "Locking"). */
DEFINE_MUTEX(vrdma_repl_lock);

LIST_HEAD(vrdma_repl_groups);		/* RCU; writers: vrdma_repl_lock */

static void repl_group_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct repl_group, rcu));
}

static void repl_group_release(struct kref *ref)
{
	struct repl_group *g = container_of(ref, struct repl_group, ref);

	vrdma_repl_client_destroy(g->client);
	call_rcu(&g->rcu, repl_group_free_rcu);
	vrdma_audit_destroyed(VRDMA_AUDIT_REPL_GROUP);
}

/**
 * vrdma_repl_group_put() - drop a reference to a group
 * @g: the group (may be NULL)
 */
void vrdma_repl_group_put(struct repl_group *g)
{
	if (g)
		kref_put(&g->ref, repl_group_release);
}

/**
 * vrdma_repl_group_get() - find a live group by name
 * @name: its name
 *
 * Return: the group with a reference (vrdma_repl_group_put() it), or NULL.
 */
struct repl_group *vrdma_repl_group_get(const char *name)
{
	struct repl_group *g;

	rcu_read_lock();
	list_for_each_entry_rcu(g, &vrdma_repl_groups, node) {
		if (!strcmp(g->name, name) && !READ_ONCE(g->dead) &&
		    kref_get_unless_zero(&g->ref)) {
			rcu_read_unlock();
			return g;
		}
	}
	rcu_read_unlock();
	return NULL;
}

/**
 * vrdma_repl_group_find_locked() - find a group by name
 * @name: its name
 *
 * Context: vrdma_repl_lock held.
 * Return: the group (live or not), or NULL.
 */
struct repl_group *vrdma_repl_group_find_locked(const char *name)
{
	struct repl_group *g;

	lockdep_assert_held(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

/**
 * vrdma_repl_group_allowed() - may a namespace use a group?
 * @g: the group
 * @net: the namespace
 *
 * Return: true for init_net and the namespaces the group allows.
 */
bool vrdma_repl_group_allowed(const struct repl_group *g, const struct net *net)
{
	unsigned int i;

	if (net_eq(net, &init_net))
		return true;
	for (i = 0; i < READ_ONCE(g->nnetns); i++)
		if (READ_ONCE(g->netns[i]) == net->net_cookie)
			return true;
	return false;
}

/* Destroy the authority, the members and the client agent of a group. */
static void repl_group_destroy_parts(struct repl_group *g)
{
	unsigned int i;

	vrdma_repl_auth_destroy(g->auth);
	g->auth = NULL;
	for (i = 0; i < g->nmembers; i++) {
		vrdma_repl_member_destroy(g->local[i]);
		g->local[i] = NULL;
	}
	if (g->client)
		vrdma_repl_client_shutdown(g->client);
}

/* Tear down everything a group runs here (lock held, group unlisted). */
static void repl_group_shutdown(struct repl_group *g)
{
	lockdep_assert_held(&vrdma_repl_lock);
	if (g->client) {
		spin_lock_bh(&g->client->lock);
		WRITE_ONCE(g->dead, true);
		spin_unlock_bh(&g->client->lock);
	}
	WRITE_ONCE(g->dead, true);
	if (g->auth)
		vrdma_repl_auth_stop(g->auth);
	repl_group_destroy_parts(g);
}

/* Every instance using @dev releases it (ib_client remove()). */
void vrdma_repl_dev_removed(struct ib_device *dev)
{
	struct repl_group *g;
	unsigned int i;

	lockdep_assert_held(&vrdma_repl_lock);
	list_for_each_entry(g, &vrdma_repl_groups, node) {
		for (i = 0; i < g->nmembers; i++)
			if (g->local[i] && g->local[i]->have_dev &&
			    g->local[i]->dr.dev == dev)
				vrdma_repl_member_detach(g->local[i]);
		if (g->client && g->client->have_dev &&
		    g->client->dr.dev == dev)
			vrdma_repl_client_detach(g->client);
	}
	vrdma_repl_kick();
}

/* Creation, deletion, namespaces */

/**
 * vrdma_repl_path_expand() - the backing file of a member
 * @tmpl: the group's file name template (%a: the address, %i: the
 *	index, %%: '%')
 * @addr: the member's address
 * @idx: its index
 * @out: the file name
 * @size: size of @out
 *
 * Return: 0, -EINVAL (an unknown %-sequence) or -ENAMETOOLONG.
 */
int vrdma_repl_path_expand(const char *tmpl, const struct in6_addr *addr,
			   unsigned int idx, char *out, size_t size)
{
	size_t n = 0;
	const char *p;
	int w;

	for (p = tmpl; *p; p++) {
		if (*p != '%') {
			if (n + 1 >= size)
				return -ENAMETOOLONG;
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == '%')
			w = snprintf(out + n, size - n, "%%");
		else if (*p == 'i')
			w = snprintf(out + n, size - n, "%u", idx);
		else if (*p == 'a' && vrdma_addr_is_v4(addr))
			w = snprintf(out + n, size - n, "%pI4",
				     &addr->s6_addr32[3]);
		else if (*p == 'a')
			w = snprintf(out + n, size - n, "%pI6c", addr);
		else
			return -EINVAL;
		if (w < 0 || n + w >= size)
			return -ENAMETOOLONG;
		n += w;
	}
	out[n] = '\0';
	return 0;
}

/* The prefix of the hashed configuration: its format's name and version. */
static const char repl_cfg_magic[16] = "vrdma-repl-cfg-1";

/**
 * vrdma_repl_cfg_hash() - hash the configuration every host must share
 * @g: the group, its configuration set
 *
 * The first VRDMA_REPL_CFG_HASH_LEN bytes of the SHA-256 of
 * repl_cfg_magic, the name (NUL-padded to VRDMA_REPL_NAME_LEN), the region
 * size (le64), repl_hb_ms and repl_lease_ms (le32 each), the authority's
 * address, the number of members (le32) and their addresses in order
 * (addresses: 16 bytes, IPv4-mapped for IPv4).  Left out: what is
 * specific to a host (the file name template, the client address, the
 * namespaces).  Documentation/replication.rst, "Configuration hash".
 *
 * Return: 0 or a negative errno (no SHA-256 in the crypto API).
 */
static int vrdma_repl_cfg_hash(struct repl_group *g)
{
	u8 digest[SHA256_DIGEST_SIZE];
	struct crypto_shash *tfm;
	struct {
		char magic[sizeof(repl_cfg_magic)];
		char name[VRDMA_REPL_NAME_LEN];
		__le64 size;
		__le32 hb_ms;
		__le32 lease_ms;
		struct in6_addr authority;
		__le32 nmembers;
		struct in6_addr members[VRDMA_REPL_MAX_MEMBERS];
	} __packed c;
	int ret;

	memset(&c, 0, sizeof(c));
	memcpy(c.magic, repl_cfg_magic, sizeof(c.magic));
	strscpy(c.name, g->name, sizeof(c.name));
	c.size = cpu_to_le64(g->size);
	c.hb_ms = cpu_to_le32(vrdma_repl_hb_ms);
	c.lease_ms = cpu_to_le32(vrdma_repl_lease_ms);
	c.authority = g->authority;
	c.nmembers = cpu_to_le32(g->nmembers);
	memcpy(c.members, g->members, g->nmembers * sizeof(c.members[0]));

	tfm = crypto_alloc_shash("sha256", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	ret = crypto_shash_tfm_digest(tfm, (const u8 *)&c,
				      offsetof(typeof(c), members) +
				      g->nmembers * sizeof(c.members[0]),
				      digest);
	crypto_free_shash(tfm);
	if (!ret)
		memcpy(g->cfg_hash, digest, sizeof(g->cfg_hash));
	return ret;
}

/* Undo a creation that failed before the group was listed. */
static void repl_group_destroy_unlisted(struct repl_group *g)
{
	repl_group_destroy_parts(g);
	vrdma_repl_group_put(g);
}

/**
 * vrdma_repl_group_new() - create a group on this host
 * @cfg: its configuration (parsed and checked by repl_nl.c)
 * @extack: for errors
 *
 * Refused without a cluster key (ctrl_key): replication's control
 * messages are always authenticated.  Validates what needs this host's
 * state (several local members need their own files, the name is free),
 * computes the configuration hash, then builds: each local member
 * with its backing file, the client agent (on the client address, or the
 * first local member's), the authority if its address is local.
 *
 * Context: process context; takes vrdma_repl_lock.
 * Return: 0 or a negative errno (-EEXIST: a group of that name exists;
 * -ENOKEY: no cluster key; others with an extack message).
 */
int vrdma_repl_group_new(const struct repl_group_cfg *cfg,
			 struct netlink_ext_ack *extack)
{
	char path[VRDMA_REPL_PATH_MAX];
	unsigned int i, nlocal = 0;
	struct repl_group *g;
	int ret;

	if (!vrdma_ctrl_authenticated()) {
		NL_SET_ERR_MSG(extack,
			       "replication needs a cluster key: load vrdma with ctrl_key on every host");
		return -ENOKEY;
	}
	for (i = 0; i < cfg->nmembers; i++)
		if (vrdma_addr_local(&cfg->members[i]) >= 0)
			nlocal++;
	if (nlocal > 1 && !strstr(cfg->file, "%a") &&
	    !strstr(cfg->file, "%i")) {
		NL_SET_ERR_MSG(extack,
			       "several members are on this host: name their files apart with %a (address) or %i (index)");
		return -EINVAL;
	}
	mutex_lock(&vrdma_repl_lock);
	ret = vrdma_repl_group_find_locked(cfg->name) ? -EEXIST : 0;
	mutex_unlock(&vrdma_repl_lock);
	if (ret)
		return ret;

	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g) {
		NL_SET_ERR_MSG(extack, "out of memory");
		return -ENOMEM;
	}
	kref_init(&g->ref);
	INIT_LIST_HEAD(&g->node);
	vrdma_audit_created(VRDMA_AUDIT_REPL_GROUP);
	strscpy(g->name, cfg->name, sizeof(g->name));
	strscpy(g->file, cfg->file, sizeof(g->file));
	g->size = cfg->size;
	g->nmembers = cfg->nmembers;
	memcpy(g->members, cfg->members, sizeof(g->members));
	g->authority = cfg->authority;
	g->client_addr = cfg->client_addr;
	g->has_client_addr = cfg->has_client_addr;
	memcpy(g->netns, cfg->netns, sizeof(g->netns));
	g->nnetns = cfg->nnetns;
	atomic64_set(&g->cfg_mismatches, 0);
	ret = vrdma_repl_cfg_hash(g);
	if (ret) {
		NL_SET_ERR_MSG(extack, "no SHA-256 in the kernel's crypto API");
		goto err;
	}

	for (i = 0; i < g->nmembers; i++) {
		struct repl_member *m;

		if (vrdma_addr_local(&g->members[i]) < 0)
			continue;
		vrdma_repl_path_expand(g->file, &g->members[i], i, path, sizeof(path));
		m = vrdma_repl_member_create(g, i, path);
		if (IS_ERR(m)) {
			ret = PTR_ERR(m);
			pr_warn("repl %s: member %u: cannot set up %s: %d\n",
				g->name, i, path, ret);
			if (ret == -EADDRINUSE)
				NL_SET_ERR_MSG(extack,
					       "the control port is in use on a member's address");
			else if (ret == -EFBIG)
				NL_SET_ERR_MSG(extack,
					       "a backing file is larger than the region");
			else if (ret == -ELOOP || ret == -EMLINK || ret == -EPERM)
				NL_SET_ERR_MSG(extack,
					       "a backing file is behind a symbolic link, has other hard links or belongs to another user");
			else
				NL_SET_ERR_MSG(extack,
					       "cannot open, size or map a backing file (see the kernel log)");
			goto err;
		}
		g->local[i] = m;
	}
	if (!g->has_client_addr) {
		for (i = 0; i < g->nmembers; i++) {
			if (g->local[i]) {
				g->client_addr = g->members[i];
				g->has_client_addr = true;
				break;
			}
		}
	}
	if (g->has_client_addr) {
		g->client = vrdma_repl_client_create(g, &g->client_addr);
		if (IS_ERR(g->client)) {
			ret = PTR_ERR(g->client);
			g->client = NULL;
			NL_SET_ERR_MSG(extack,
				       "cannot open the control port on the client address");
			goto err;
		}
	}
	if (vrdma_addr_local(&g->authority) >= 0) {
		g->auth = vrdma_repl_auth_create(g);
		if (IS_ERR(g->auth)) {
			ret = PTR_ERR(g->auth);
			g->auth = NULL;
			NL_SET_ERR_MSG(extack,
				       "cannot open the control port on the authority address");
			goto err;
		}
	}

	mutex_lock(&vrdma_repl_lock);
	if (vrdma_repl_group_find_locked(g->name)) {
		mutex_unlock(&vrdma_repl_lock);
		ret = -EEXIST;
		goto err;
	}
	list_add_tail_rcu(&g->node, &vrdma_repl_groups);
	if (g->auth)
		vrdma_repl_auth_start(g->auth);
	for (i = 0; i < g->nmembers; i++)
		if (g->local[i])
			vrdma_repl_member_attach(g->local[i]);
	if (g->client)
		vrdma_repl_client_attach(g->client);
	mutex_unlock(&vrdma_repl_lock);
	pr_info("repl %s: group created: %u members (%u here), %llu bytes%s\n",
		g->name, g->nmembers, nlocal, g->size,
		g->auth ? ", authority here" : "");
	vrdma_repl_kick();
	return 0;

err:
	repl_group_destroy_unlisted(g);
	return ret;
}

/**
 * vrdma_repl_group_del() - delete a group on this host
 * @name: its name
 *
 * Pending operations complete with -ESHUTDOWN; local replicas are written
 * back to their files.
 *
 * Context: process context; takes vrdma_repl_lock.
 * Return: 0, or -ENOENT.
 */
int vrdma_repl_group_del(const char *name)
{
	struct repl_group *g;

	mutex_lock(&vrdma_repl_lock);
	g = vrdma_repl_group_find_locked(name);
	if (!g) {
		mutex_unlock(&vrdma_repl_lock);
		return -ENOENT;
	}
	list_del_rcu(&g->node);
	repl_group_shutdown(g);
	mutex_unlock(&vrdma_repl_lock);
	pr_info("repl %s: group deleted\n", g->name);
	vrdma_repl_group_put(g);
	return 0;
}

/**
 * vrdma_repl_group_set_netns() - replace the namespaces allowed to use a group
 * @name: the group
 * @netns: the namespaces' cookies
 * @n: their number (at most VRDMA_REPL_MAX_NETNS; 0: init_net only)
 *
 * Context: process context; takes vrdma_repl_lock.
 * Return: 0, or -ENOENT.
 */
int vrdma_repl_group_set_netns(const char *name, const u64 *netns, unsigned int n)
{
	struct repl_group *g;
	unsigned int i;

	mutex_lock(&vrdma_repl_lock);
	g = vrdma_repl_group_find_locked(name);
	if (g) {
		WRITE_ONCE(g->nnetns, 0);
		for (i = 0; i < n; i++)
			WRITE_ONCE(g->netns[i], netns[i]);
		WRITE_ONCE(g->nnetns, n);
	}
	mutex_unlock(&vrdma_repl_lock);
	return g ? 0 : -ENOENT;
}

/**
 * vrdma_repl_groups_exit() - delete every group (module unload)
 *
 * The netlink family is gone already (no new request).
 */
void vrdma_repl_groups_exit(void)
{
	struct repl_group *g;

	mutex_lock(&vrdma_repl_lock);
	while ((g = list_first_entry_or_null(&vrdma_repl_groups,
					     struct repl_group, node))) {
		list_del_rcu(&g->node);
		repl_group_shutdown(g);
		pr_info("repl %s: group deleted (module unload)\n", g->name);
		vrdma_repl_group_put(g);
	}
	mutex_unlock(&vrdma_repl_lock);
}
