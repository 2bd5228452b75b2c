/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sleep management, kernel side (sleep.c, sleep_nl.c, sleep_hook.c).
 * Documentation/sleep.rst describes the whole design; this header is the
 * interface to the rest of the module and between the three files.
 *
 * Domains
 * -------
 * Each network namespace in which a sleep daemon runs has a domain: the
 * daemon's view of the hosts of its group (peers: their addresses and
 * whether they sleep), the interception of the sleepers this host manages,
 * and a configuration.  One real host runs one daemon, in init_net; the
 * selftests simulate several hosts in one kernel, one namespace (domain)
 * each.  A domain that claims a physical RDMA device (config "phys")
 * decides for the virtual devices on it; init_net's domain, if it claims
 * none, for all the others.
 *
 * Locking
 * -------
 * vrdma_sleep_lock (a mutex) serialises every writer: the domain list,
 * each domain's tables and configuration, netfilter hook registration and
 * the netdev multicast addresses of the interception.  It is never held
 * while calling into other parts of the module (its place in the module's
 * lock order: Documentation/architecture.rst, "Locking").
 * Readers (netfilter hooks in softirq, the connection set-up path) use
 * RCU: domains and peers are freed after a grace period, a peer's
 * interception data is immutable (a change replaces the peer).
 */
#ifndef _VRDMA_SLEEP_H
#define _VRDMA_SLEEP_H

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <net/genetlink.h>
#include <rdma/ib_verbs.h>
#include <uapi/linux/vrdma.h>

#include "hooks.h"

/* --- for the rest of the module: hooks.h (vrdma_sleep_init(), _exit()) */

/* --- between sleep*.c ---------------------------------------------------- */

/**
 * struct vrdma_sleep_stats - counters of a peer (atomic: hooks run on
 *	several CPUs)
 * @valid: valid requests seen for it (while managed)
 * @ignored: other packets to its addresses, dropped
 * @events: events sent about it
 * @arp_replies: ARP and neighbour advertisements sent for it
 * @waits: connection set-ups that waited for it to wake
 * @wait_timeouts: those that gave up
 */
struct vrdma_sleep_stats {
	atomic64_t valid;
	atomic64_t ignored;
	atomic64_t events;
	atomic64_t arp_replies;
	atomic64_t waits;
	atomic64_t wait_timeouts;
};

struct vrdma_sleep_peer;

/* One address of a peer, in its domain's address table. */
struct vrdma_sleep_addr {
	struct hlist_node node;
	struct in6_addr addr;
	struct vrdma_sleep_peer *peer;
};

/**
 * struct vrdma_sleep_peer - a host of the group, as the daemon sees it
 * @node: in the domain's peer table (by @addr)
 * @rcu: deferred free
 * @addr: its key address (also @addrs[0].addr)
 * @name: its name, for humans
 * @state: enum vrdma_sleep_state (READ_ONCE: changed in place)
 * @manager: its manager's address, if @has_manager
 * @has_manager: see @manager
 * @managed: this host manages it: its addresses are intercepted on
 *	@ifindex
 * @mc_added: the solicited-node multicast addresses of its IPv6
 *	addresses were added to that netdev
 * @lladdr: its own MAC address, if @has_lladdr
 * @has_lladdr: see @lladdr; without it the owner is never detected
 * @handed_over: another host announced it while this domain's daemon is
 *	dead (WRITE_ONCE from the hooks): not intercepted any more
 * @owner_alive: its owner spoke on the interception's interface since the
 *	interception started (WRITE_ONCE from the hooks): it is not asleep,
 *	and is not answered for any more
 * @ifindex: interface of the interception
 * @n_addrs: number of @addrs
 * @addrs: its addresses (IPv6 or IPv4-mapped), each in the domain's
 *	address table
 * @last_event: jiffies of the last event about it (rate limit)
 * @stats: counters, carried over when the peer is replaced
 * @n_ports: number of @ports
 * @ports: its listening TCP ports, sorted, without duplicates
 */
struct vrdma_sleep_peer {
	struct hlist_node node;
	struct rcu_head rcu;
	struct in6_addr addr;
	char name[VRDMA_NAME_LEN];
	u32 state;
	struct in6_addr manager;
	bool has_manager;
	bool managed;
	bool mc_added;
	u8 lladdr[ETH_ALEN];
	bool has_lladdr;
	bool owner_alive;
	bool handed_over;
	int ifindex;
	unsigned int n_addrs;
	struct vrdma_sleep_addr addrs[VRDMA_SLEEP_ADDRS_MAX];
	unsigned long last_event;
	struct vrdma_sleep_stats stats;
	unsigned int n_ports;
	u16 ports[] __counted_by(n_ports);
};

#define VRDMA_SLEEP_PEER_BITS	6
#define VRDMA_SLEEP_ADDR_BITS	8
#define VRDMA_SLEEP_NR_HOOKS	5

/**
 * struct vrdma_sleep_domain - the sleep state of one network namespace
 * @net: the namespace (not counted: the domain dies in its exit)
 * @node: in vrdma_sleep_domains
 * @rcu: deferred free
 * @peers: peers by key address
 * @addrs: every address of every peer
 * @n_peers: number of peers
 * @n_managed: number of managed peers
 * @wake_timeout_ms: how long a connection set-up waits for a sleeper
 * @event_interval_ms: least interval between two events about one peer
 * @phys: physical RDMA device this domain decides for ("" for none)
 * @owner: netlink port of the daemon that owns the domain (0 for none):
 *	when its socket closes, the domain is orphaned
 * @orphan_until: its daemon died (jiffies, 0 otherwise): until then the
 *	sleepers it managed stay intercepted and the module wakes them itself
 *	(sleep.c)
 * @hooks_on: @hooks are registered in @net
 * @hooks: the interception's netfilter hooks
 *
 * Written under vrdma_sleep_lock; @wake_timeout_ms, @event_interval_ms
 * and @phys are read locklessly (READ_ONCE, or under RCU for @phys, which
 * is updated with strscpy() of a short name: a reader may see a torn name
 * only while the configuration changes, and then just does not match).
 */
struct vrdma_sleep_domain {
	struct net *net;
	struct list_head node;
	struct rcu_head rcu;
	DECLARE_HASHTABLE(peers, VRDMA_SLEEP_PEER_BITS);
	DECLARE_HASHTABLE(addrs, VRDMA_SLEEP_ADDR_BITS);
	unsigned int n_peers;
	unsigned int n_managed;
	u32 wake_timeout_ms;
	u32 event_interval_ms;
	char phys[VRDMA_NAME_LEN];
	u32 owner;
	unsigned long orphan_until;
	bool hooks_on;
	struct nf_hook_ops hooks[VRDMA_SLEEP_NR_HOOKS];
};

extern struct mutex vrdma_sleep_lock;

struct vrdma_sleep_domain *vrdma_sleep_domain_get(struct net *net,
						  bool create);
struct vrdma_sleep_domain *vrdma_sleep_domain_find(struct net *net);
struct vrdma_sleep_peer *vrdma_sleep_peer_find(struct vrdma_sleep_domain *dom,
					       const struct in6_addr *addr);
struct vrdma_sleep_peer *
vrdma_sleep_addr_find_rcu(struct vrdma_sleep_domain *dom,
			  const struct in6_addr *addr);
int vrdma_sleep_peer_replace(struct vrdma_sleep_domain *dom,
			     struct vrdma_sleep_peer *old,
			     struct vrdma_sleep_peer *peer,
			     struct netlink_ext_ack *extack);
void vrdma_sleep_peer_remove(struct vrdma_sleep_domain *dom,
			     struct vrdma_sleep_peer *peer);
void vrdma_sleep_peer_set_state(struct vrdma_sleep_peer *peer, u32 state);
void vrdma_sleep_domain_flush(struct vrdma_sleep_domain *dom);
void vrdma_sleep_state_changed(void);
bool vrdma_sleep_phys_claimed(const struct vrdma_sleep_domain *self,
			      const char *phys);
bool vrdma_sleep_event_due(struct vrdma_sleep_domain *dom,
			   struct vrdma_sleep_peer *peer);

/**
 * struct vrdma_sleep_config - a change of a domain's configuration, and
 *	the configuration after it
 * @wake_timeout_ms: see struct vrdma_sleep_domain (if @has_wake_timeout)
 * @event_interval_ms: likewise (if @has_event_interval)
 * @phys: likewise (if @has_phys)
 * @owner: netlink port of the daemon that owns the domain (0: no change)
 * @flush: forget every peer first
 * @has_wake_timeout: set @wake_timeout_ms
 * @has_event_interval: set @event_interval_ms
 * @has_phys: set @phys
 * @peers: after the change: number of peers
 * @managed: after the change: number of managed peers
 */
struct vrdma_sleep_config {
	u32 wake_timeout_ms;
	u32 event_interval_ms;
	char phys[VRDMA_NAME_LEN];
	u32 owner;
	bool flush;
	bool has_wake_timeout;
	bool has_event_interval;
	bool has_phys;
	u32 peers;
	u32 managed;
};

void vrdma_sleep_domain_phys(struct net *net, char *phys);
int vrdma_sleep_peer_set(struct net *net, struct vrdma_sleep_peer *peer,
			 bool announce, struct netlink_ext_ack *extack);
int vrdma_sleep_peer_del(struct net *net, const struct in6_addr *addr);
int vrdma_sleep_config_set(struct net *net, struct vrdma_sleep_config *cfg);

/* sleep_hook.c */
int vrdma_sleep_hooks_update(struct vrdma_sleep_domain *dom);
void vrdma_sleep_hooks_off(struct vrdma_sleep_domain *dom);
void vrdma_sleep_icpt_start(struct vrdma_sleep_domain *dom,
			    struct vrdma_sleep_peer *peer);
void vrdma_sleep_icpt_stop(struct vrdma_sleep_domain *dom,
			   struct vrdma_sleep_peer *peer);
void vrdma_sleep_announce(struct vrdma_sleep_domain *dom,
			  const struct vrdma_sleep_peer *peer);
bool vrdma_sleep_orphaned(const struct vrdma_sleep_domain *dom);
int vrdma_sleep_hook_init(void);
void vrdma_sleep_hook_exit(void);

/* sleep_nl.c */
void vrdma_sleep_event_request(struct vrdma_sleep_domain *dom,
			       struct vrdma_sleep_peer *peer,
			       const struct in6_addr *daddr,
			       const struct in6_addr *saddr, u16 sport,
			       u16 dport, u32 kind, int ifindex);
void vrdma_sleep_event_owner(struct vrdma_sleep_domain *dom,
			     struct vrdma_sleep_peer *peer,
			     const struct in6_addr *saddr, int ifindex);
int vrdma_sleep_event_wake_needed(struct net *net,
				  const struct in6_addr *host,
				  const union ib_gid *dgid, u32 vni,
				  const char *phys);
bool vrdma_sleep_has_listeners(struct net *net);

#endif /* _VRDMA_SLEEP_H */
