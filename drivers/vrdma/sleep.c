// SPDX-License-Identifier: GPL-2.0
/*
 * Sleep management, kernel side: the domains (one per network namespace
 * where a sleep daemon runs), their peer tables, the wait of a connection
 * set-up for a sleeping host (the core's wake hooks, hooks.h).
 * sleep_nl.c holds the netlink operations and events, sleep_hook.c the
 * interception of managed sleepers.  Design: Documentation/sleep.rst;
 * structures and locking: sleep.h.
 *
 * Waiting for a sleeper
 * ---------------------
 * vrdma_map_resolve() calls the wake hook's wait, vrdma_sleep_wait(), with
 * the destination's host address (hooks.h).  When the domain that decides for the virtual device's
 * physical device says that host sleeps (or is waking), the caller emits
 * a WAKE_NEEDED event to the domain's daemon (again every
 * event_interval_ms, at least every second, in case one is lost) and
 * waits until the daemon reports the host awake (or forgets it), at most
 * wake_timeout_ms; then it fails with -EHOSTDOWN.  It fails at once with
 * -EHOSTDOWN when no daemon listens to the domain's events (nobody would
 * wake the host), and with -EINTR on a signal.  The wait holds the
 * virtual device's gate for read, as every verb does: a physical device
 * removal waits for it, at most VRDMA_SLEEP_WAKE_TIMEOUT_MAX_MS.
 *
 * The connection manager's MADs cannot wait (the MAD tunnel's sender
 * serves every connection of the device): the wake hook's poke,
 * vrdma_sleep_poke(), emits the
 * same event and the tunnel drops the MAD, as the sleeping host's wire
 * would; ib_cm resends it after its timeout, to a host awake by then.
 *
 * The fast path, when no peer of any domain sleeps, is one atomic read.
 *
 * A daemon that dies
 * ------------------
 * When the daemon's netlink socket closes, its domain is *orphaned*: every
 * peer is forgotten but the sleepers it managed and whose MAC address it
 * gave (lladdr).  Those stay intercepted for VRDMA_SLEEP_ORPHAN_MS, seen
 * awake by connection set-ups (nobody here would wake them for a set-up),
 * and the module sends a magic packet itself for a valid request (rate
 * limited as the events): the other hosts take them over only after they
 * find this daemon silent, and requests meanwhile would be lost.  A
 * sleeper stops being intercepted when its owner speaks, when another host
 * announces it (its new manager), when the time is up, or when a daemon
 * owns the domain again (its start flushes it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "audit.h"
#include "hooks.h"
#include "sleep.h"

static unsigned int sleep_wake_timeout_ms = 30000;
module_param(sleep_wake_timeout_ms, uint, 0644);
MODULE_PARM_DESC(sleep_wake_timeout_ms,
		 "Default time an RDMA connection set-up waits for a sleeping host (ms, at most 60000; a sleep daemon may configure its own)");

static unsigned int sleep_peers_max = 1024;
module_param(sleep_peers_max, uint, 0644);
MODULE_PARM_DESC(sleep_peers_max,
		 "Most hosts one sleep daemon may describe to the module");

#define VRDMA_SLEEP_EVENT_INTERVAL_MS	1000
#define VRDMA_SLEEP_RESEND_MIN_MS	1000
#define VRDMA_SLEEP_ORPHAN_MS		120000

/* Serialises every writer of the sleep state (sleep.h). */
DEFINE_MUTEX(vrdma_sleep_lock);

/* Domains, for the connection set-up path (RCU) and the notifiers. */
static LIST_HEAD(vrdma_sleep_domains);

/* Peers not awake, in every domain: the fast path of vrdma_sleep_wait(). */
static atomic_t vrdma_sleep_not_awake = ATOMIC_INIT(0);

/* Woken whenever a peer's state may have changed. */
static DECLARE_WAIT_QUEUE_HEAD(vrdma_sleep_wq);

static unsigned int vrdma_sleep_net_id __read_mostly;

struct vrdma_sleep_net {
	struct vrdma_sleep_domain __rcu *dom;
};

static u32 vrdma_sleep_hash(const struct in6_addr *addr)
{
	return jhash2((const u32 *)addr->s6_addr32, 4, 0);
}

static u32 vrdma_sleep_default_timeout(void)
{
	return min_t(u32, READ_ONCE(sleep_wake_timeout_ms),
		     VRDMA_SLEEP_WAKE_TIMEOUT_MAX_MS);
}

/**
 * vrdma_sleep_domain_get() - the domain of a network namespace
 * @net: the namespace
 * @create: create it if it does not exist
 *
 * Context: vrdma_sleep_lock held.
 * Return: the domain, NULL if there is none (and @create is false), or an
 * ERR_PTR(-ENOMEM).
 */
struct vrdma_sleep_domain *vrdma_sleep_domain_get(struct net *net, bool create)
{
	struct vrdma_sleep_net *sn = net_generic(net, vrdma_sleep_net_id);
	struct vrdma_sleep_domain *dom;

	lockdep_assert_held(&vrdma_sleep_lock);

	dom = rcu_dereference_protected(sn->dom,
					lockdep_is_held(&vrdma_sleep_lock));
	if (dom || !create)
		return dom;

	dom = kzalloc(sizeof(*dom), GFP_KERNEL);
	if (!dom)
		return ERR_PTR(-ENOMEM);
	dom->net = net;
	hash_init(dom->peers);
	hash_init(dom->addrs);
	dom->wake_timeout_ms = vrdma_sleep_default_timeout();
	dom->event_interval_ms = VRDMA_SLEEP_EVENT_INTERVAL_MS;
	list_add_tail_rcu(&dom->node, &vrdma_sleep_domains);
	rcu_assign_pointer(sn->dom, dom);
	vrdma_audit_created(VRDMA_AUDIT_SLEEP_DOMAIN);
	return dom;
}

/**
 * vrdma_sleep_domain_find() - the domain of a namespace, from the list
 * @net: the namespace
 *
 * For notifiers, which may run after the pernet operations are gone (the
 * replay of unregister_netdevice_notifier()).
 *
 * Context: vrdma_sleep_lock held.
 * Return: the domain or NULL.
 */
struct vrdma_sleep_domain *vrdma_sleep_domain_find(struct net *net)
{
	struct vrdma_sleep_domain *dom;

	lockdep_assert_held(&vrdma_sleep_lock);

	list_for_each_entry(dom, &vrdma_sleep_domains, node)
		if (net_eq(dom->net, net))
			return dom;
	return NULL;
}

/**
 * vrdma_sleep_peer_find() - a peer by its key address
 * @dom: the domain
 * @addr: the key address
 *
 * Context: vrdma_sleep_lock held.
 * Return: the peer or NULL.
 */
struct vrdma_sleep_peer *vrdma_sleep_peer_find(struct vrdma_sleep_domain *dom,
					       const struct in6_addr *addr)
{
	struct vrdma_sleep_peer *peer;

	lockdep_assert_held(&vrdma_sleep_lock);

	hash_for_each_possible(dom->peers, peer, node, vrdma_sleep_hash(addr))
		if (ipv6_addr_equal(&peer->addr, addr))
			return peer;
	return NULL;
}

/**
 * vrdma_sleep_addr_find_rcu() - the peer that has an address
 * @dom: the domain
 * @addr: any address of the peer
 *
 * Context: rcu_read_lock() (or vrdma_sleep_lock) held.
 * Return: the peer or NULL.
 */
struct vrdma_sleep_peer *
vrdma_sleep_addr_find_rcu(struct vrdma_sleep_domain *dom,
			  const struct in6_addr *addr)
{
	struct vrdma_sleep_addr *a;

	hash_for_each_possible_rcu(dom->addrs, a, node, vrdma_sleep_hash(addr),
				   lockdep_is_held(&vrdma_sleep_lock))
		if (ipv6_addr_equal(&a->addr, addr))
			return a->peer;
	return NULL;
}

static void vrdma_sleep_count_state(u32 state, int delta)
{
	if (state != VRDMA_SLEEP_STATE_AWAKE)
		atomic_add(delta, &vrdma_sleep_not_awake);
}

/* Wake every waiter: a state changed, a peer or a domain went away. */
void vrdma_sleep_state_changed(void)
{
	wake_up_all(&vrdma_sleep_wq);
}

/**
 * vrdma_sleep_peer_set_state() - change a peer's state in place
 * @peer: the peer (linked)
 * @state: enum vrdma_sleep_state
 *
 * Context: vrdma_sleep_lock held.
 */
void vrdma_sleep_peer_set_state(struct vrdma_sleep_peer *peer, u32 state)
{
	lockdep_assert_held(&vrdma_sleep_lock);

	vrdma_sleep_count_state(peer->state, -1);
	WRITE_ONCE(peer->state, state);
	vrdma_sleep_count_state(state, 1);
	vrdma_sleep_state_changed();
}

static void vrdma_sleep_peer_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct vrdma_sleep_peer, rcu));
	vrdma_audit_destroyed(VRDMA_AUDIT_SLEEP_PEER);
}

/* Take @peer out of the tables (readers may still see it until a grace
 * period passes).
 */
static void vrdma_sleep_peer_unlink(struct vrdma_sleep_domain *dom,
				    struct vrdma_sleep_peer *peer)
{
	unsigned int i;

	lockdep_assert_held(&vrdma_sleep_lock);

	for (i = 0; i < peer->n_addrs; i++)
		hash_del_rcu(&peer->addrs[i].node);
	hash_del_rcu(&peer->node);
	dom->n_peers--;
	if (peer->managed)
		dom->n_managed--;
	vrdma_sleep_count_state(peer->state, -1);
}

static void vrdma_sleep_peer_link(struct vrdma_sleep_domain *dom,
				  struct vrdma_sleep_peer *peer)
{
	unsigned int i;

	lockdep_assert_held(&vrdma_sleep_lock);

	for (i = 0; i < peer->n_addrs; i++) {
		peer->addrs[i].peer = peer;
		hash_add_rcu(dom->addrs, &peer->addrs[i].node,
			     vrdma_sleep_hash(&peer->addrs[i].addr));
	}
	hash_add_rcu(dom->peers, &peer->node, vrdma_sleep_hash(&peer->addr));
	dom->n_peers++;
	if (peer->managed)
		dom->n_managed++;
	vrdma_sleep_count_state(peer->state, 1);
}

/**
 * vrdma_sleep_peer_replace() - add a peer, or replace one
 * @dom: the domain
 * @old: the peer it replaces (same key address), or NULL
 * @peer: the new peer (allocated by the caller, counted by the audit;
 *	freed here on failure)
 * @extack: for errors
 *
 * Each address belongs to one peer of the domain.  The counters of @old
 * carry over (increments between the copy and the switch are lost).  The
 * interception of @old stops and that of @peer, if managed, starts;
 * hooks are registered or unregistered as needed.
 *
 * Context: vrdma_sleep_lock held.
 * Return: 0, -EEXIST when an address belongs to another peer, -ENOSPC
 * beyond sleep_peers_max peers, or the error of hook registration.
 */
int vrdma_sleep_peer_replace(struct vrdma_sleep_domain *dom,
			     struct vrdma_sleep_peer *old,
			     struct vrdma_sleep_peer *peer,
			     struct netlink_ext_ack *extack)
{
	struct vrdma_sleep_peer *other;
	unsigned int i;
	int ret;

	lockdep_assert_held(&vrdma_sleep_lock);

	for (i = 0; i < peer->n_addrs; i++) {
		other = vrdma_sleep_addr_find_rcu(dom, &peer->addrs[i].addr);
		if (other && other != old) {
			NL_SET_ERR_MSG(extack,
				       "an address of the peer belongs to another peer");
			ret = -EEXIST;
			goto err_free;
		}
	}
	if (!old && dom->n_peers >= READ_ONCE(sleep_peers_max)) {
		NL_SET_ERR_MSG(extack,
			       "too many peers (module parameter sleep_peers_max)");
		ret = -ENOSPC;
		goto err_free;
	}

	if (old) {
		struct vrdma_sleep_stats *s = &old->stats, *d = &peer->stats;

		atomic64_set(&d->valid, atomic64_read(&s->valid));
		atomic64_set(&d->ignored, atomic64_read(&s->ignored));
		atomic64_set(&d->events, atomic64_read(&s->events));
		atomic64_set(&d->arp_replies, atomic64_read(&s->arp_replies));
		atomic64_set(&d->waits, atomic64_read(&s->waits));
		atomic64_set(&d->wait_timeouts,
			     atomic64_read(&s->wait_timeouts));
		peer->last_event = READ_ONCE(old->last_event);
		vrdma_sleep_icpt_stop(dom, old);
		vrdma_sleep_peer_unlink(dom, old);
		call_rcu(&old->rcu, vrdma_sleep_peer_free_rcu);
	}
	vrdma_sleep_peer_link(dom, peer);
	vrdma_sleep_icpt_start(dom, peer);
	ret = vrdma_sleep_hooks_update(dom);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot register the netfilter hooks");
		vrdma_sleep_peer_remove(dom, peer);
		return ret;
	}
	vrdma_sleep_state_changed();
	return 0;

err_free:
	kfree(peer);
	vrdma_audit_destroyed(VRDMA_AUDIT_SLEEP_PEER);
	return ret;
}

/**
 * vrdma_sleep_peer_remove() - forget a peer
 * @dom: the domain
 * @peer: the peer
 *
 * Stops its interception and wakes the connection set-ups waiting for it
 * (they proceed).  Hooks are unregistered when no peer is managed any
 * more.
 *
 * Context: vrdma_sleep_lock held.
 */
void vrdma_sleep_peer_remove(struct vrdma_sleep_domain *dom,
			     struct vrdma_sleep_peer *peer)
{
	lockdep_assert_held(&vrdma_sleep_lock);

	vrdma_sleep_icpt_stop(dom, peer);
	vrdma_sleep_peer_unlink(dom, peer);
	call_rcu(&peer->rcu, vrdma_sleep_peer_free_rcu);
	vrdma_sleep_hooks_update(dom);
	vrdma_sleep_state_changed();
}

/**
 * vrdma_sleep_domain_flush() - forget every peer of a domain
 * @dom: the domain
 *
 * Context: vrdma_sleep_lock held.
 */
void vrdma_sleep_domain_flush(struct vrdma_sleep_domain *dom)
{
	struct vrdma_sleep_peer *peer;
	struct hlist_node *tmp;
	int bkt;

	lockdep_assert_held(&vrdma_sleep_lock);

	hash_for_each_safe(dom->peers, bkt, tmp, peer, node) {
		vrdma_sleep_icpt_stop(dom, peer);
		vrdma_sleep_peer_unlink(dom, peer);
		call_rcu(&peer->rcu, vrdma_sleep_peer_free_rcu);
	}
	WRITE_ONCE(dom->orphan_until, 0);
	vrdma_sleep_hooks_off(dom);
	vrdma_sleep_state_changed();
}

/* Does @peer intercept exactly as @old does? */
static bool vrdma_sleep_same_icpt(const struct vrdma_sleep_peer *old,
				  const struct vrdma_sleep_peer *peer)
{
	unsigned int i;

	if (old->managed != peer->managed || old->n_addrs != peer->n_addrs ||
	    old->n_ports != peer->n_ports ||
	    old->has_lladdr != peer->has_lladdr ||
	    (peer->has_lladdr && !ether_addr_equal(old->lladdr, peer->lladdr)) ||
	    (peer->managed && old->ifindex != peer->ifindex))
		return false;
	for (i = 0; i < peer->n_addrs; i++)
		if (!ipv6_addr_equal(&old->addrs[i].addr, &peer->addrs[i].addr))
			return false;
	return !memcmp(old->ports, peer->ports,
		       peer->n_ports * sizeof(peer->ports[0]));
}

/**
 * vrdma_sleep_peer_set() - add a peer to a namespace's domain, or change it
 * @net: the namespace
 * @peer: the peer as it should be (allocated by the caller, counted by the
 *	audit; owned by this function)
 * @announce: send gratuitous ARP and neighbour advertisements for it now
 * @extack: for errors
 *
 * A peer with the same key address and the same interception is changed in
 * place (name, manager, state); otherwise @peer replaces it
 * (vrdma_sleep_peer_replace()).
 *
 * Context: process context; takes vrdma_sleep_lock.
 * Return: 0 or a negative errno (with an extack message).
 */
int vrdma_sleep_peer_set(struct net *net, struct vrdma_sleep_peer *peer,
			 bool announce, struct netlink_ext_ack *extack)
{
	struct vrdma_sleep_domain *dom;
	struct vrdma_sleep_peer *old;
	int ret = 0;

	mutex_lock(&vrdma_sleep_lock);
	dom = vrdma_sleep_domain_get(net, true);
	if (IS_ERR(dom)) {
		mutex_unlock(&vrdma_sleep_lock);
		kfree(peer);
		vrdma_audit_destroyed(VRDMA_AUDIT_SLEEP_PEER);
		NL_SET_ERR_MSG(extack, "out of memory");
		return PTR_ERR(dom);
	}
	old = vrdma_sleep_peer_find(dom, &peer->addr);
	if (old && vrdma_sleep_same_icpt(old, peer)) {
		/* Same interception: change the rest in place. */
		strscpy(old->name, peer->name, sizeof(old->name));
		old->manager = peer->manager;
		old->has_manager = peer->has_manager;
		if (old->state != peer->state)
			vrdma_sleep_peer_set_state(old, peer->state);
		kfree(peer);
		vrdma_audit_destroyed(VRDMA_AUDIT_SLEEP_PEER);
		peer = old;
	} else {
		ret = vrdma_sleep_peer_replace(dom, old, peer, extack);
	}
	if (!ret && announce)
		vrdma_sleep_announce(dom, peer);
	mutex_unlock(&vrdma_sleep_lock);
	return ret;
}

/**
 * vrdma_sleep_peer_del() - forget a peer of a namespace's domain
 * @net: the namespace
 * @addr: its key address
 *
 * Context: process context; takes vrdma_sleep_lock.
 * Return: 0, or -ENOENT.
 */
int vrdma_sleep_peer_del(struct net *net, const struct in6_addr *addr)
{
	struct vrdma_sleep_peer *peer = NULL;
	struct vrdma_sleep_domain *dom;

	mutex_lock(&vrdma_sleep_lock);
	dom = vrdma_sleep_domain_get(net, false);
	if (dom)
		peer = vrdma_sleep_peer_find(dom, addr);
	if (peer)
		vrdma_sleep_peer_remove(dom, peer);
	mutex_unlock(&vrdma_sleep_lock);
	return peer ? 0 : -ENOENT;
}

/**
 * vrdma_sleep_domain_phys() - the physical device a domain decides for
 * @net: the domain's namespace
 * @phys: VRDMA_NAME_LEN bytes: its name, "" for none or no domain
 *
 * Context: process context; takes vrdma_sleep_lock.
 */
void vrdma_sleep_domain_phys(struct net *net, char *phys)
{
	struct vrdma_sleep_domain *dom;

	phys[0] = '\0';
	mutex_lock(&vrdma_sleep_lock);
	dom = vrdma_sleep_domain_get(net, false);
	if (dom)
		strscpy(phys, dom->phys, VRDMA_NAME_LEN);
	mutex_unlock(&vrdma_sleep_lock);
}

/**
 * vrdma_sleep_config_set() - change a namespace's domain's configuration
 * @net: the namespace (its domain is created if needed)
 * @cfg: what to change; on return, the whole configuration
 *
 * Context: process context; takes vrdma_sleep_lock.
 * Return: 0, -EBUSY (another domain claims @cfg->phys: nothing changed),
 * or -ENOMEM.
 */
int vrdma_sleep_config_set(struct net *net, struct vrdma_sleep_config *cfg)
{
	struct vrdma_sleep_domain *dom;
	int ret = 0;

	mutex_lock(&vrdma_sleep_lock);
	dom = vrdma_sleep_domain_get(net, true);
	if (IS_ERR(dom)) {
		ret = PTR_ERR(dom);
		goto out;
	}
	if (cfg->has_phys && cfg->phys[0] &&
	    vrdma_sleep_phys_claimed(dom, cfg->phys)) {
		ret = -EBUSY;
		goto out;
	}

	if (cfg->flush)
		vrdma_sleep_domain_flush(dom);
	if (cfg->has_wake_timeout)
		WRITE_ONCE(dom->wake_timeout_ms, cfg->wake_timeout_ms);
	if (cfg->has_event_interval)
		WRITE_ONCE(dom->event_interval_ms, cfg->event_interval_ms);
	if (cfg->has_phys)
		strscpy(dom->phys, cfg->phys, sizeof(dom->phys));
	if (cfg->owner) {
		dom->owner = cfg->owner;
		WRITE_ONCE(dom->orphan_until, 0);
	}
	vrdma_sleep_state_changed();

	cfg->wake_timeout_ms = dom->wake_timeout_ms;
	cfg->event_interval_ms = dom->event_interval_ms;
	strscpy(cfg->phys, dom->phys, sizeof(cfg->phys));
	cfg->owner = dom->owner;
	cfg->peers = dom->n_peers;
	cfg->managed = dom->n_managed;
out:
	mutex_unlock(&vrdma_sleep_lock);
	return ret;
}

/*
 * The domain's daemon died (see the top of this file): keep intercepting
 * the sleepers it managed, with their MAC, and forget the rest.
 */
static void vrdma_sleep_domain_orphan(struct vrdma_sleep_domain *dom)
{
	struct vrdma_sleep_peer *peer;
	struct hlist_node *tmp;
	unsigned int kept = 0;
	int bkt;

	lockdep_assert_held(&vrdma_sleep_lock);

	hash_for_each_safe(dom->peers, bkt, tmp, peer, node) {
		if (peer->managed && peer->has_lladdr &&
		    !READ_ONCE(peer->owner_alive) &&
		    !READ_ONCE(peer->handed_over)) {
			if (peer->state != VRDMA_SLEEP_STATE_AWAKE)
				vrdma_sleep_peer_set_state(peer,
							   VRDMA_SLEEP_STATE_AWAKE);
			kept++;
			continue;
		}
		vrdma_sleep_icpt_stop(dom, peer);
		vrdma_sleep_peer_unlink(dom, peer);
		call_rcu(&peer->rcu, vrdma_sleep_peer_free_rcu);
	}
	WRITE_ONCE(dom->orphan_until, kept ?
		   (jiffies + msecs_to_jiffies(VRDMA_SLEEP_ORPHAN_MS)) | 1 : 0);
	vrdma_sleep_hooks_update(dom);
	vrdma_sleep_state_changed();
}

/**
 * vrdma_sleep_orphaned() - is the domain's daemon dead, its sleepers kept?
 * @dom: the domain
 *
 * Context: any.
 * Return: true while the sleepers of a dead daemon are still intercepted.
 */
bool vrdma_sleep_orphaned(const struct vrdma_sleep_domain *dom)
{
	unsigned long until = READ_ONCE(dom->orphan_until);

	return until && time_before(jiffies, until);
}

/*
 * The domain's namespace goes away, or the module: flush it, unlink it
 * and free it after a grace period.
 */
static void vrdma_sleep_domain_destroy(struct net *net)
{
	struct vrdma_sleep_net *sn = net_generic(net, vrdma_sleep_net_id);
	struct vrdma_sleep_domain *dom;

	mutex_lock(&vrdma_sleep_lock);
	dom = rcu_dereference_protected(sn->dom,
					lockdep_is_held(&vrdma_sleep_lock));
	if (dom) {
		vrdma_sleep_domain_flush(dom);
		RCU_INIT_POINTER(sn->dom, NULL);
		list_del_rcu(&dom->node);
		kfree_rcu(dom, rcu);
		vrdma_audit_destroyed(VRDMA_AUDIT_SLEEP_DOMAIN);
	}
	mutex_unlock(&vrdma_sleep_lock);
}

/**
 * vrdma_sleep_phys_claimed() - does another domain decide for a device?
 * @self: the asking domain
 * @phys: physical device name
 *
 * Context: vrdma_sleep_lock held.
 * Return: true if a domain other than @self claims @phys.
 */
bool vrdma_sleep_phys_claimed(const struct vrdma_sleep_domain *self,
			      const char *phys)
{
	struct vrdma_sleep_domain *dom;

	lockdep_assert_held(&vrdma_sleep_lock);

	list_for_each_entry(dom, &vrdma_sleep_domains, node)
		if (dom != self && !strncmp(dom->phys, phys, sizeof(dom->phys)))
			return true;
	return false;
}

/**
 * vrdma_sleep_event_due() - rate limit of the events about a peer
 * @dom: its domain
 * @peer: the peer
 *
 * Context: any (RCU or vrdma_sleep_lock held).
 * Return: true if an event about @peer may be sent now (and then records
 * the time), false if the last one is more recent than the domain's
 * event interval.
 */
bool vrdma_sleep_event_due(struct vrdma_sleep_domain *dom,
			   struct vrdma_sleep_peer *peer)
{
	unsigned long last = READ_ONCE(peer->last_event), now = jiffies;
	unsigned long gap = msecs_to_jiffies(READ_ONCE(dom->event_interval_ms));

	if (last && time_before(now, last + gap))
		return false;
	/* Two CPUs may both see it due: one wins. */
	return cmpxchg(&peer->last_event, last, now ? now : 1) == last;
}

/* ------------------------------------------------------------------ */
/* Waiting for a sleeper                                                */

/* The domain that decides for physical device @phys. */
static struct vrdma_sleep_domain *vrdma_sleep_domain_for_rcu(const char *phys)
{
	struct vrdma_sleep_domain *dom, *fallback = NULL;

	list_for_each_entry_rcu(dom, &vrdma_sleep_domains, node) {
		if (dom->phys[0]) {
			if (!strncmp(dom->phys, phys, sizeof(dom->phys)))
				return dom;
		} else if (net_eq(dom->net, &init_net)) {
			fallback = dom;
		}
	}
	return fallback;
}

struct vrdma_sleep_waiter {
	const char *phys;
	const struct in6_addr *host;
	const union ib_gid *dgid;
	u32 vni;
	struct net *net;		/* counted */
	u32 timeout_ms;
	u32 interval_ms;
};

/*
 * Does @w's host still block it?  On the first call (@w->net NULL) also
 * takes a reference on the domain's namespace and reads the domain's
 * timeouts; counts a wait or a timeout when asked to.
 */
static bool vrdma_sleep_blocked(struct vrdma_sleep_waiter *w, bool count_wait,
				bool count_timeout, bool emit)
{
	struct vrdma_sleep_domain *dom;
	struct vrdma_sleep_peer *peer;
	bool blocked = false, send = false;

	rcu_read_lock();
	dom = vrdma_sleep_domain_for_rcu(w->phys);
	peer = dom ? vrdma_sleep_addr_find_rcu(dom, w->host) : NULL;
	if (peer && READ_ONCE(peer->state) != VRDMA_SLEEP_STATE_AWAKE &&
	    (!w->net || net_eq(w->net, dom->net))) {
		blocked = true;
		if (!w->net) {
			w->net = maybe_get_net(dom->net);
			blocked = !!w->net;
			w->timeout_ms = READ_ONCE(dom->wake_timeout_ms);
			w->interval_ms = READ_ONCE(dom->event_interval_ms);
		}
		if (blocked && count_wait)
			atomic64_inc(&peer->stats.waits);
		if (blocked && count_timeout)
			atomic64_inc(&peer->stats.wait_timeouts);
		if (blocked && emit && vrdma_sleep_event_due(dom, peer)) {
			atomic64_inc(&peer->stats.events);
			send = true;
		}
	}
	rcu_read_unlock();

	if (send)
		vrdma_sleep_event_wake_needed(w->net, w->host, w->dgid, w->vni,
					      w->phys);
	return blocked;
}

static bool vrdma_sleep_unblocked(struct vrdma_sleep_waiter *w)
{
	return !vrdma_sleep_blocked(w, false, false, false);
}

/*
 * The wake hook's wait (struct vrdma_wake_ops): wait until a connection's
 * destination host is awake.
 * See the top of this file.
 *
 * Context: process context; sleeps.
 * Return: 0 when @host is not known to sleep (or woke up); -EHOSTDOWN when
 * it did not wake in time or no sleep daemon can wake it; -EINTR on a
 * signal.
 */
static int vrdma_sleep_wait(const struct vrdma_wake_dest *dest)
{
	struct vrdma_sleep_waiter w = {
		.phys = dest->phys,
		.host = (const struct in6_addr *)dest->host->raw,
		.dgid = dest->dgid,
		.vni = dest->vni,
	};
	unsigned long deadline, now, left;
	long ret;

	if (!atomic_read(&vrdma_sleep_not_awake))
		return 0;
	might_sleep();

	if (!vrdma_sleep_blocked(&w, true, false, false))
		return 0;

	deadline = jiffies + msecs_to_jiffies(min_t(u32, w.timeout_ms,
				VRDMA_SLEEP_WAKE_TIMEOUT_MAX_MS));
	for (;;) {
		if (!vrdma_sleep_has_listeners(w.net)) {
			ret = -EHOSTDOWN;
			break;
		}
		if (!vrdma_sleep_blocked(&w, false, false, true)) {
			ret = 0;
			break;
		}
		now = jiffies;
		if (!time_before(now, deadline)) {
			vrdma_sleep_blocked(&w, false, true, false);
			ret = -EHOSTDOWN;
			break;
		}
		left = min(deadline - now,
			   msecs_to_jiffies(max_t(u32, w.interval_ms,
						  VRDMA_SLEEP_RESEND_MIN_MS)));
		ret = wait_event_interruptible_timeout(vrdma_sleep_wq,
						       vrdma_sleep_unblocked(&w),
						       left);
		if (ret < 0) {
			ret = -EINTR;
			break;
		}
		if (ret > 0) {
			ret = 0;
			break;
		}
	}
	put_net(w.net);
	return ret;
}

/*
 * The wake hook's poke (struct vrdma_wake_ops): is a datagram's
 * destination host asleep?
 * For datagrams that cannot wait, such as the connection manager's MADs:
 * when @host is known not to be awake, a wake-needed event goes out (rate
 * limited, as for vrdma_sleep_wait()) and the caller drops the datagram,
 * as the sleeping host's wire would; the sender's retransmission reaches
 * the host once it is awake.
 *
 * Context: process context.
 * Return: true when @host is known not to be awake.
 */
static bool vrdma_sleep_poke(const struct vrdma_wake_dest *dest)
{
	struct vrdma_sleep_waiter w = {
		.phys = dest->phys,
		.host = (const struct in6_addr *)dest->host->raw,
		.dgid = dest->dgid,
		.vni = dest->vni,
	};
	bool blocked;

	if (!atomic_read(&vrdma_sleep_not_awake))
		return false;
	might_sleep();
	blocked = vrdma_sleep_blocked(&w, false, false, true);
	if (w.net)
		put_net(w.net);
	return blocked;
}

static const struct vrdma_wake_ops vrdma_sleep_wake_ops = {
	.wait	= vrdma_sleep_wait,
	.poke	= vrdma_sleep_poke,
};

/* ------------------------------------------------------------------ */
/* Namespaces, owner sockets, module init                               */

static void __net_exit vrdma_sleep_net_exit(struct net *net)
{
	vrdma_sleep_domain_destroy(net);
}

static struct pernet_operations vrdma_sleep_net_ops = {
	.exit = vrdma_sleep_net_exit,
	.id = &vrdma_sleep_net_id,
	.size = sizeof(struct vrdma_sleep_net),
};

/*
 * The owner of a domain (its daemon) closed its netlink socket: the
 * daemon died or quit.  Its interception stops at once, and connection
 * set-ups stop waiting (nobody would wake the host any more).
 */
static int vrdma_sleep_netlink_event(struct notifier_block *nb,
				     unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct vrdma_sleep_domain *dom;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !n->portid)
		return NOTIFY_DONE;

	mutex_lock(&vrdma_sleep_lock);
	list_for_each_entry(dom, &vrdma_sleep_domains, node) {
		if (dom->owner != n->portid || !net_eq(dom->net, n->net))
			continue;
		pr_info("sleep: the daemon of a domain went away (port %u): its sleepers stay intercepted\n",
			n->portid);
		dom->owner = 0;
		vrdma_sleep_domain_orphan(dom);
	}
	mutex_unlock(&vrdma_sleep_lock);
	return NOTIFY_DONE;
}

static struct notifier_block vrdma_sleep_netlink_nb = {
	.notifier_call = vrdma_sleep_netlink_event,
};

int __init vrdma_sleep_init(void)
{
	int ret;

	ret = register_pernet_subsys(&vrdma_sleep_net_ops);
	if (ret)
		return ret;
	ret = vrdma_sleep_hook_init();
	if (ret)
		goto err_pernet;
	ret = netlink_register_notifier(&vrdma_sleep_netlink_nb);
	if (ret)
		goto err_hook;
	vrdma_wake_ops_set(&vrdma_sleep_wake_ops);
	return 0;

err_hook:
	vrdma_sleep_hook_exit();
err_pernet:
	unregister_pernet_subsys(&vrdma_sleep_net_ops);
	return ret;
}

/* After the netlink family is gone: no handler runs any more. */
void vrdma_sleep_exit(void)
{
	vrdma_wake_ops_set(NULL);
	netlink_unregister_notifier(&vrdma_sleep_netlink_nb);
	/*
	 * Flushes and frees every domain (their hooks and multicast
	 * addresses included), before the netdevice notifier goes: its
	 * removal replays NETDEV_UNREGISTER for every device.
	 */
	unregister_pernet_subsys(&vrdma_sleep_net_ops);
	vrdma_sleep_hook_exit();
	/* Peers and domains are freed by RCU callbacks. */
	rcu_barrier();
	WARN_ON_ONCE(atomic_read(&vrdma_sleep_not_awake));
}
