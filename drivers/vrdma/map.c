// SPDX-License-Identifier: GPL-2.0
/*
 * The address map: overlay address -> routable address of a physical RNIC.
 *
 * A virtual device's GIDs are its container's overlay addresses.  A
 * connection to an overlay address goes, on the wire, to the physical RNIC
 * of the host that runs the destination container: the map says which.
 *
 * Entries
 * -------
 * An explicit entry maps (vni, overlay address) to a host address ("via"),
 * all addresses 16 bytes (IPv6, or IPv4-mapped ::ffff:a.b.c.d, the GID
 * format).  The control plane adds them with MAP_NEW: adding an address
 * that is mapped already is not an error, it updates the host address (a
 * container moved); MAP_DEL removes one.  At most map_max (a module
 * parameter) entries exist; MAP_NEW fails with -ENOSPC beyond.
 *
 * A local entry is derived, never stored: an address is local to a virtual
 * device when a virtual device of the same physical device and the same
 * vni holds it in its GID table.  Hosts simulated in one kernel (the
 * selftests) each have their own physical device, so "the same physical
 * device" is what "this host" means: a container behind another physical
 * device is another host, reached through explicit entries only, exactly
 * as between separate machines.
 *
 * The map is authoritative: a container cannot take over an address of
 * its vni by adding it to its interface.  An address is local only when
 * exactly one virtual device of the physical device and vni holds it, and
 * no explicit entry of the vni places it on another host; otherwise the
 * explicit entry decides (no entry and several holders: unreachable).  A
 * control plane that moves a container updates its entry.  The same rule
 * decides which device a tunnelled MAD is delivered to (gsi.c) and which
 * overlay source addresses a UD receiver believes (post.c, gsi.c).
 *
 * Resolution
 * ----------
 * vrdma_map_resolve() turns a virtual destination GID into an address
 * vector on the physical device: the destination host's physical GID, the
 * physical device's own source GID of the same address family, and the
 * next hop's MAC address, resolved with rdma_resolve_ip() on the physical
 * netdev (kernel users of ib_modify_qp() and rdma_create_ah() must pass a
 * resolved dmac).  A destination on this host (local entry, or an explicit
 * entry whose host address is one of the physical device's own) is reached
 * through the RNIC's loopback: dgid is the device's own GID and dmac its
 * own MAC address.
 *
 * Locking
 * -------
 * vrdma_map_lock (a mutex) serialises writers of the hash table, the entry
 * count and the generation; lookups and dumps walk it under RCU.  Entries
 * are never modified in place: an update replaces the entry.  Local
 * entries are found under vrdma_devs_lock (vrdma_devs_for_each()), taken
 * with the caller's vdev->gate held for read (the order of both:
 * Documentation/architecture.rst, "Locking").
 * Under vrdma_devs_lock, another device's GID table is read only while
 * ib_device_try_get() holds its registration.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bsearch.h>
#include <linux/completion.h>
#include <linux/etherdevice.h>
#include <linux/hashtable.h>
#include <linux/in.h>
#include <linux/jhash.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_cache.h>
#include <uapi/linux/vrdma.h>

#include "counters.h"
#include "hooks.h"
#include "map.h"
#include "vdev.h"
#include "verbs.h"

/* The port of a virtual device. */
#define VRDMA_MAP_VPORT			1

#define VRDMA_MAP_HASH_BITS		12
#define VRDMA_MAP_HOP_LIMIT		64
#define VRDMA_MAP_L2_TIMEOUT_MS		2000

static unsigned int map_max = 65536;
module_param(map_max, uint, 0644);
MODULE_PARM_DESC(map_max,
		 "Maximum number of explicit address map entries (default 65536)");

/**
 * struct vrdma_map_entry - an explicit map entry
 * @node: entry in its bucket of vrdma_map_table, by (@vni, @addr) (RCU)
 * @rcu: for freeing
 * @vni: virtual network
 * @addr: overlay address
 * @via: host address
 */
struct vrdma_map_entry {
	struct hlist_node node;
	struct rcu_head rcu;
	u32 vni;
	union ib_gid addr;
	union ib_gid via;
};

static DEFINE_HASHTABLE(vrdma_map_table, VRDMA_MAP_HASH_BITS);
static DEFINE_MUTEX(vrdma_map_lock);
static unsigned int vrdma_map_nr;		/* vrdma_map_lock; read once */
static unsigned int vrdma_map_generation = 1;	/* ditto; never 0 */

static u32 vrdma_map_hash(u32 vni, const union ib_gid *addr)
{
	return jhash2((const u32 *)addr->raw, sizeof(addr->raw) / sizeof(u32),
		      vni);
}

static const struct in6_addr *vrdma_gid_in6(const union ib_gid *gid)
{
	return (const struct in6_addr *)gid->raw;
}

/**
 * vrdma_map_addr_check() - can an address be in the map?
 * @gid: the address
 * @host: it is a host (physical RNIC) address, which must be routable:
 *	link-local addresses are refused too
 *
 * Return: VRDMA_MAP_ADDR_OK, or why the address is refused.
 */
enum vrdma_map_addr_err vrdma_map_addr_check(const union ib_gid *gid,
					     bool host)
{
	const struct in6_addr *a = vrdma_gid_in6(gid);

	if (ipv6_addr_v4mapped(a)) {
		__be32 v4 = a->s6_addr32[3];

		/* 0.0.0.0/8 is unicast for Linux (ipv4_is_zeronet()). */
		if (ipv4_is_zeronet(v4))
			return VRDMA_MAP_ADDR_UNSPECIFIED;
		if (ipv4_is_loopback(v4))
			return VRDMA_MAP_ADDR_LOOPBACK;
		if (ipv4_is_multicast(v4))
			return VRDMA_MAP_ADDR_MULTICAST;
		if (ipv4_is_lbcast(v4))
			return VRDMA_MAP_ADDR_BROADCAST;
		return VRDMA_MAP_ADDR_OK;
	}
	if (ipv6_addr_any(a))
		return VRDMA_MAP_ADDR_UNSPECIFIED;
	if (ipv6_addr_loopback(a))
		return VRDMA_MAP_ADDR_LOOPBACK;
	if (ipv6_addr_is_multicast(a))
		return VRDMA_MAP_ADDR_MULTICAST;
	if (!(a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2]))
		return VRDMA_MAP_ADDR_V4COMPAT;
	if (host && (a->s6_addr32[0] & htonl(0xffc00000)) == htonl(0xfe800000))
		return VRDMA_MAP_ADDR_LINKLOCAL;
	return VRDMA_MAP_ADDR_OK;
}

/* AF_INET or AF_INET6 for a routable host address, 0 otherwise. */
static int vrdma_gid_family(const union ib_gid *gid)
{
	if (vrdma_map_addr_check(gid, true) != VRDMA_MAP_ADDR_OK)
		return 0;
	return ipv6_addr_v4mapped(vrdma_gid_in6(gid)) ? AF_INET : AF_INET6;
}

/*
 * The first routable RoCE v2 GID of a physical port, of address family
 * @family (AF_INET, AF_INET6, or AF_UNSPEC: IPv4 first, else IPv6), with
 * a reference (rdma_put_gid_attr()).  GIDs beyond index 255 cannot be
 * named by an address vector's sgid_index and are not considered.
 * Returns ERR_PTR(-ENETDOWN) when there is none.
 */
static const struct ib_gid_attr *vrdma_phys_gid_attr(struct ib_device *pdev,
						     u32 port, int family)
{
	const struct ib_gid_attr *attr, *v6 = NULL;
	unsigned int i, len;
	int f;

	if (!rdma_is_port_valid(pdev, port))
		return ERR_PTR(-EINVAL);

	len = min_t(unsigned int, ib_port_immutable_read(pdev, port)->gid_tbl_len,
		    U8_MAX + 1);
	for (i = 0; i < len; i++) {
		attr = rdma_get_gid_attr(pdev, port, i);
		if (IS_ERR(attr))
			continue;	/* empty entry */
		f = attr->gid_type == IB_GID_TYPE_ROCE_UDP_ENCAP ?
			vrdma_gid_family(&attr->gid) : 0;
		if (f == AF_INET && family != AF_INET6) {
			if (v6)
				rdma_put_gid_attr(v6);
			return attr;
		}
		if (f == AF_INET6 && family == AF_INET6)
			return attr;
		if (f == AF_INET6 && family == AF_UNSPEC && !v6) {
			v6 = attr;
			continue;
		}
		rdma_put_gid_attr(attr);
	}
	return v6 ?: ERR_PTR(-ENETDOWN);
}

/**
 * vrdma_phys_host_gid() - the routable address of a physical port
 * @pdev: the physical device (registered)
 * @port: its port
 * @gid: set to the address
 * @index: set to its GID table index (at most 255)
 *
 * The first RoCE v2 GID that is IPv4-mapped, else the first one that is a
 * routable IPv6 address (not link-local).  May sleep.
 *
 * Return: 0, or -ENETDOWN if the port has no such GID (-EINVAL for a bad
 * port).
 */
int vrdma_phys_host_gid(struct ib_device *pdev, u32 port, union ib_gid *gid,
			u32 *index)
{
	const struct ib_gid_attr *attr;

	attr = vrdma_phys_gid_attr(pdev, port, AF_UNSPEC);
	if (IS_ERR(attr))
		return PTR_ERR(attr);
	*gid = attr->gid;
	*index = attr->index;
	rdma_put_gid_attr(attr);
	return 0;
}

/* Is @gid a RoCE v2 GID of the physical port (the destination is here)? */
static bool vrdma_phys_owns_gid(struct ib_device *pdev, u32 port,
				const union ib_gid *gid)
{
	const struct ib_gid_attr *attr;

	attr = rdma_find_gid_by_port(pdev, gid, IB_GID_TYPE_ROCE_UDP_ENCAP,
				     port, NULL);
	if (IS_ERR(attr))
		return false;
	rdma_put_gid_attr(attr);
	return true;
}

/* Does the (registered) virtual device hold @gid in its GID table? */
static bool vrdma_vdev_has_gid(struct vrdma_dev *vdev, const union ib_gid *gid)
{
	const struct ib_gid_attr *attr;
	bool ret = false;

	if (!ib_device_try_get(&vdev->ibdev))
		return false;	/* not registered (yet, or any more) */
	attr = rdma_find_gid_by_port(&vdev->ibdev, gid,
				     IB_GID_TYPE_ROCE_UDP_ENCAP,
				     VRDMA_MAP_VPORT, NULL);
	if (!IS_ERR(attr)) {
		rdma_put_gid_attr(attr);
		ret = true;
	}
	ib_device_put(&vdev->ibdev);
	return ret;
}

/* Local lookups, under vrdma_devs_lock: up to @max holders. */
struct vrdma_map_local_find {
	struct vrdma_phys *phys;	/* only devices on it; NULL: any */
	u32 vni;
	const union ib_gid *gid;
	unsigned int max;
	unsigned int n;
};

static int vrdma_map_local_find_fn(struct vrdma_dev *vdev, void *arg)
{
	struct vrdma_map_local_find *find = arg;

	if (vdev->vni != find->vni ||
	    (find->phys && vdev->phys != find->phys) ||
	    !vrdma_vdev_has_gid(vdev, find->gid))
		return 0;
	return ++find->n >= find->max;
}

/**
 * vrdma_map_is_local() - is an address the address of a virtual device?
 * @vni: virtual network
 * @addr: overlay address
 *
 * Any virtual device of the host, whatever its physical device.  May sleep
 * (takes vrdma_devs_lock).
 *
 * Return: true if a virtual device of @vni holds @addr.
 */
bool vrdma_map_is_local(u32 vni, const union ib_gid *addr)
{
	struct vrdma_map_local_find find = { .vni = vni, .gid = addr, .max = 1 };

	return vrdma_devs_for_each(vrdma_map_local_find_fn, &find) > 0;
}

static struct vrdma_map_entry *vrdma_map_find_rcu(u32 vni,
						  const union ib_gid *addr)
{
	struct vrdma_map_entry *e;

	hash_for_each_possible_rcu(vrdma_map_table, e, node,
				   vrdma_map_hash(vni, addr))
		if (e->vni == vni && !memcmp(&e->addr, addr, sizeof(*addr)))
			return e;
	return NULL;
}

static struct vrdma_map_entry *vrdma_map_find_locked(u32 vni,
						     const union ib_gid *addr)
{
	struct vrdma_map_entry *e;

	lockdep_assert_held(&vrdma_map_lock);

	hash_for_each_possible(vrdma_map_table, e, node,
			       vrdma_map_hash(vni, addr))
		if (e->vni == vni && !memcmp(&e->addr, addr, sizeof(*addr)))
			return e;
	return NULL;
}

/* The host address of an explicit entry; false if there is none. */
static bool vrdma_map_lookup(u32 vni, const union ib_gid *addr,
			     union ib_gid *via)
{
	struct vrdma_map_entry *e;
	bool found = false;

	rcu_read_lock();
	e = vrdma_map_find_rcu(vni, addr);
	if (e) {
		*via = e->via;
		found = true;
	}
	rcu_read_unlock();
	return found;
}

/**
 * vrdma_map_elsewhere() - does the map place an address on another host?
 * @pdev: this host's physical device
 * @port: its port
 * @vni: virtual network
 * @addr: overlay address
 *
 * Any context (RCU, and the physical device's GID table).
 *
 * Return: true when an explicit entry of @vni maps @addr to a host address
 * that is not one of @pdev's: a device of this host that holds @addr
 * holds it against the map.
 */
bool vrdma_map_elsewhere(struct ib_device *pdev, u32 port, u32 vni,
			 const union ib_gid *addr)
{
	union ib_gid via;

	return vrdma_map_lookup(vni, addr, &via) &&
	       !vrdma_phys_owns_gid(pdev, port, &via);
}

/*
 * Is @gid the address of exactly one virtual device of @vdev's physical
 * device and vni, which the map does not place elsewhere?
 */
static bool vrdma_map_local_to(struct vrdma_dev *vdev,
			       const union ib_gid *gid)
{
	struct vrdma_map_local_find find = {
		.phys = vdev->phys, .vni = vdev->vni, .gid = gid, .max = 2,
	};

	if (vrdma_map_elsewhere(vdev->pdev, vdev->pport, vdev->vni, gid))
		return false;
	vrdma_devs_for_each(vrdma_map_local_find_fn, &find);
	return find.n == 1;
}

/**
 * vrdma_map_places_on() - does the map place an address on a host?
 * @vni: virtual network
 * @addr: overlay address
 * @host: a host's physical address
 *
 * Any context (RCU).
 *
 * Return: true when an explicit entry of @vni maps @addr to @host.
 */
bool vrdma_map_places_on(u32 vni, const union ib_gid *addr,
			 const union ib_gid *host)
{
	union ib_gid via;

	return vrdma_map_lookup(vni, addr, &via) &&
	       !memcmp(&via, host, sizeof(via));
}

static void vrdma_map_changed_locked(void)
{
	lockdep_assert_held(&vrdma_map_lock);

	/* Never 0: see nl_dump_check_consistent(). */
	WRITE_ONCE(vrdma_map_generation, vrdma_map_generation + 1 ?: 1);
}

/**
 * vrdma_map_add() - add or update an explicit entry
 * @vni: virtual network (at most VRDMA_VNI_MAX)
 * @addr: overlay address (vrdma_map_addr_check(@addr, false) passes)
 * @via: host address (vrdma_map_addr_check(@via, true) passes)
 *
 * Adding an entry that exists is not an error: its host address is set to
 * @via.  May sleep.
 *
 * Return: 0, -EINVAL for invalid arguments, -ENOSPC if the map holds
 * map_max entries already, or -ENOMEM.
 */
int vrdma_map_add(u32 vni, const union ib_gid *addr, const union ib_gid *via)
{
	struct vrdma_map_entry *new, *old;
	int ret = 0;

	if (vni > VRDMA_VNI_MAX ||
	    vrdma_map_addr_check(addr, false) != VRDMA_MAP_ADDR_OK ||
	    vrdma_map_addr_check(via, true) != VRDMA_MAP_ADDR_OK)
		return -EINVAL;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->vni = vni;
	new->addr = *addr;
	new->via = *via;

	mutex_lock(&vrdma_map_lock);
	old = vrdma_map_find_locked(vni, addr);
	if (old) {
		if (memcmp(&old->via, via, sizeof(*via))) {
			hlist_replace_rcu(&old->node, &new->node);
			kfree_rcu(old, rcu);
			vrdma_map_changed_locked();
			new = NULL;
		}
	} else if (vrdma_map_nr >= READ_ONCE(map_max)) {
		ret = -ENOSPC;
	} else {
		hash_add_rcu(vrdma_map_table, &new->node,
			     vrdma_map_hash(vni, addr));
		WRITE_ONCE(vrdma_map_nr, vrdma_map_nr + 1);
		vrdma_map_changed_locked();
		new = NULL;
	}
	mutex_unlock(&vrdma_map_lock);

	kfree(new);
	return ret;
}

/**
 * vrdma_map_del() - remove an explicit entry
 * @vni: virtual network
 * @addr: overlay address
 *
 * Return: 0, or -ENOENT if there is no such explicit entry.
 */
int vrdma_map_del(u32 vni, const union ib_gid *addr)
{
	struct vrdma_map_entry *e;
	int ret = -ENOENT;

	mutex_lock(&vrdma_map_lock);
	e = vrdma_map_find_locked(vni, addr);
	if (e) {
		hash_del_rcu(&e->node);
		kfree_rcu(e, rcu);
		WRITE_ONCE(vrdma_map_nr, vrdma_map_nr - 1);
		vrdma_map_changed_locked();
		ret = 0;
	}
	mutex_unlock(&vrdma_map_lock);
	return ret;
}

/**
 * vrdma_map_count() - number of explicit entries
 *
 * Return: the number of entries MAP_NEW added (local entries are not
 * counted: they are not stored).
 */
unsigned int vrdma_map_count(void)
{
	return READ_ONCE(vrdma_map_nr);
}

/**
 * vrdma_map_gen() - generation of the explicit entries
 *
 * Return: a number, never 0, that changes whenever an entry is added,
 * updated or removed (for dump consistency checks).
 */
unsigned int vrdma_map_gen(void)
{
	return READ_ONCE(vrdma_map_generation);
}

struct vrdma_map_l2 {
	struct completion done;
	int status;
};

static void vrdma_map_l2_done(int status, struct sockaddr *src_addr,
			      struct rdma_dev_addr *addr, void *context)
{
	struct vrdma_map_l2 *l2 = context;

	l2->status = status;
	complete(&l2->done);
}

/*
 * The MAC address of the next hop from the physical GID @sattr to the
 * remote host address @dgid, and the route's hop limit, as ib_core's
 * (unexported) ib_resolve_eth_dmac() finds them: route and neighbour
 * lookup in the namespace of the GID's netdev, bound to it.  Sleeps until
 * the neighbour is resolved, VRDMA_MAP_L2_TIMEOUT_MS pass or the task is
 * killed.
 */
static int vrdma_map_resolve_l2(const struct ib_gid_attr *sattr,
				const union ib_gid *dgid, u8 *dmac,
				int *hop_limit)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} src, dst;
	struct rdma_dev_addr dev_addr = {};
	struct vrdma_map_l2 l2;
	int ret;

	rdma_gid2ip((struct sockaddr *)&src, &sattr->gid);
	rdma_gid2ip((struct sockaddr *)&dst, dgid);
	if (src.in.sin_family != dst.in.sin_family)
		return -EAFNOSUPPORT;

	dev_addr.net = &init_net;	/* replaced by the GID's netdev's */
	dev_addr.sgid_attr = sattr;
	init_completion(&l2.done);
	ret = rdma_resolve_ip((struct sockaddr *)&src, (struct sockaddr *)&dst,
			      &dev_addr, VRDMA_MAP_L2_TIMEOUT_MS,
			      vrdma_map_l2_done, true, &l2);
	if (ret)
		return ret;
	if (wait_for_completion_killable(&l2.done)) {
		/* Synchronous: the callback is not running afterwards. */
		rdma_addr_cancel(&dev_addr);
		return -EINTR;
	}
	if (l2.status)
		return l2.status;

	ether_addr_copy(dmac, dev_addr.dst_dev_addr);
	if (dev_addr.hoplimit > 0 && dev_addr.hoplimit <= U8_MAX)
		*hop_limit = dev_addr.hoplimit;
	return 0;
}

/* A destination of @vdev that its vni does not map: refused, and counted. */
static int vrdma_map_refused(struct vrdma_dev *vdev)
{
	vrdma_stat_inc(vdev, VRDMA_STAT_XLATE_NOMAP);
	return -EHOSTUNREACH;
}

/**
 * vrdma_map_resolve() - translate a virtual destination
 * @vdev: the virtual device (not dead; the caller holds vdev->gate for
 *	read)
 * @dgid: destination GID as the application gave it (an overlay address)
 * @pattr: set to the address vector on the physical device
 * @local: set when the destination is on this host (the RNIC's loopback:
 *	a virtual device of the same physical device), where the module
 *	knows the QPs (may be NULL)
 *
 * Fills *@pattr entirely: type RDMA_AH_ATTR_TYPE_ROCE, port vdev->pport,
 * a GRH with the destination host's physical GID, the index of the
 * physical device's own source GID of the same address family (the
 * routable GID of vrdma_phys_host_gid() for a destination on this host),
 * the route's hop limit (64 for loopback), flow label and traffic class 0,
 * no sgid_attr, and the resolved next hop MAC address in roce.dmac.  The
 * caller then sets what it carries over from the application (sl,
 * traffic class, flow label, static rate).  Leaving sgid_attr NULL lets
 * ib_core look the source GID up by index when the vector is used; should
 * the GID table change in between, that use fails.
 *
 * May sleep (address resolution: up to VRDMA_MAP_L2_TIMEOUT_MS).
 *
 * Return: 0; -EHOSTUNREACH when @dgid is not mapped in the device's vni
 * (nor local); -EOPNOTSUPP for a multicast destination; -ENETDOWN when
 * the physical port has no routable GID, -ENETUNREACH when it has none of
 * the destination host's address family; -EINTR if killed; -EIO if the
 * device is dead (as vrdma_dev_enter()); or the error of the neighbour
 * resolution (for example -ETIMEDOUT, -ENETUNREACH).
 */
int vrdma_map_resolve(struct vrdma_dev *vdev, const union ib_gid *dgid,
		      struct rdma_ah_attr *pattr, bool *local)
{
	int hop_limit = VRDMA_MAP_HOP_LIMIT;
	const struct ib_gid_attr *sattr;
	u8 dmac[ETH_ALEN];
	union ib_gid host;
	bool loopback;
	int family;
	int ret;

	might_sleep();
	lockdep_assert_held(&vdev->gate);

	if (vdev->dead)
		return -EIO;
	switch (vrdma_map_addr_check(dgid, false)) {
	case VRDMA_MAP_ADDR_OK:
		break;
	case VRDMA_MAP_ADDR_MULTICAST:
		return -EOPNOTSUPP;
	default:
		return vrdma_map_refused(vdev);
	}

	if (vrdma_map_local_to(vdev, dgid)) {
		sattr = vrdma_phys_gid_attr(vdev->pdev, vdev->pport,
					    AF_UNSPEC);
		if (IS_ERR(sattr))
			return PTR_ERR(sattr);
		host = sattr->gid;
		loopback = true;
	} else {
		if (!vrdma_map_lookup(vdev->vni, dgid, &host))
			return vrdma_map_refused(vdev);
		ret = vrdma_wake_wait(vdev, dgid, &host);
		if (ret)
			return ret;
		family = vrdma_gid_family(&host);
		sattr = vrdma_phys_gid_attr(vdev->pdev, vdev->pport, family);
		if (IS_ERR(sattr)) {
			if (PTR_ERR(sattr) != -ENETDOWN)
				return PTR_ERR(sattr);
			/* Is there a routable GID of the other family? */
			sattr = vrdma_phys_gid_attr(vdev->pdev, vdev->pport,
						    AF_UNSPEC);
			if (IS_ERR(sattr))
				return PTR_ERR(sattr);
			rdma_put_gid_attr(sattr);
			return -ENETUNREACH;
		}
		loopback = vrdma_phys_owns_gid(vdev->pdev, vdev->pport,
					       &host);
	}

	if (loopback)
		ret = rdma_read_gid_l2_fields(sattr, NULL, dmac);
	else
		ret = vrdma_map_resolve_l2(sattr, &host, dmac, &hop_limit);
	if (!ret) {
		memset(pattr, 0, sizeof(*pattr));
		pattr->type = RDMA_AH_ATTR_TYPE_ROCE;
		rdma_ah_set_port_num(pattr, vdev->pport);
		rdma_ah_set_grh(pattr, &host, 0, sattr->index, hop_limit, 0);
		ether_addr_copy(pattr->roce.dmac, dmac);
		if (local)
			*local = loopback;
	}
	rdma_put_gid_attr(sattr);
	return ret;
}

/**
 * vrdma_map_host() - which host an overlay destination lives on
 * @vdev: the virtual device the traffic leaves from
 * @dgid: the destination overlay address
 * @host: set to the physical GID of the destination host's RNIC (this
 *	host's own for a local destination)
 * @local: set when the destination is a virtual device on @vdev's
 *	physical device (this host)
 *
 * Like vrdma_map_resolve() without the address vector: for traffic that
 * vrdma carries itself (the GSI tunnel).  May sleep.
 *
 * Return: 0, -EHOSTUNREACH when @dgid is not mapped in the device's vni,
 * or -ENETDOWN when the physical device has no routable address.
 */
int vrdma_map_host(struct vrdma_dev *vdev, const union ib_gid *dgid,
		   union ib_gid *host, bool *local)
{
	u32 index;

	might_sleep();

	if (vrdma_map_addr_check(dgid, false) != VRDMA_MAP_ADDR_OK)
		return vrdma_map_refused(vdev);
	*local = vrdma_map_local_to(vdev, dgid);
	if (*local)
		return vrdma_phys_host_gid(vdev->pdev, vdev->pport, host,
					   &index) ? -ENETDOWN : 0;
	if (!vrdma_map_lookup(vdev->vni, dgid, host))
		return vrdma_map_refused(vdev);
	/* An explicit entry of this host's own (the delivery decides). */
	*local = vrdma_phys_owns_gid(vdev->pdev, vdev->pport, host);
	return 0;
}

/* Dumps */

static int vrdma_map_vni_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static bool vrdma_map_filter_match(const struct vrdma_map_filter *filter,
				   u32 vni)
{
	return !filter || bsearch(&vni, filter->vnis, filter->nr,
				  sizeof(vni), vrdma_map_vni_cmp);
}

struct vrdma_map_filter_ctx {
	struct net *net;
	struct vrdma_map_filter *filter;
	unsigned int size;
};

static int vrdma_map_filter_fn(struct vrdma_dev *vdev, void *arg)
{
	struct vrdma_map_filter_ctx *ctx = arg;
	struct vrdma_map_filter *filter = ctx->filter, *bigger;
	unsigned long flags;
	bool in_net;

	spin_lock_irqsave(&vdev->ndev_lock, flags);
	in_net = vdev->ndev && net_eq(dev_net(vdev->ndev), ctx->net);
	spin_unlock_irqrestore(&vdev->ndev_lock, flags);
	if (!in_net)
		return 0;

	if (filter->nr == ctx->size) {
		ctx->size *= 2;
		bigger = krealloc(filter, struct_size(filter, vnis, ctx->size),
				  GFP_KERNEL);
		if (!bigger)
			return -ENOMEM;
		ctx->filter = bigger;
		filter = bigger;
	}
	filter->vnis[filter->nr++] = vdev->vni;
	return 0;
}

/**
 * vrdma_map_filter_get() - what a dump requested from a namespace may show
 * @net: the requester's network namespace
 * @filter: set to the filter (release it with vrdma_map_filter_put())
 *
 * From the initial namespace, everything (*@filter is NULL).  From another
 * namespace (a container), only entries of the vnis of the virtual
 * devices whose netdev is in it: a tenant does not learn where other
 * tenants' containers run.  May sleep.
 *
 * Return: 0 or -ENOMEM.
 */
int vrdma_map_filter_get(struct net *net, struct vrdma_map_filter **filter)
{
	struct vrdma_map_filter_ctx ctx = { .net = net, .size = 4 };
	struct vrdma_map_filter *f;
	unsigned int i, n;
	int ret;

	*filter = NULL;
	if (net_eq(net, &init_net))
		return 0;

	ctx.filter = kzalloc(struct_size(ctx.filter, vnis, ctx.size),
			     GFP_KERNEL);
	if (!ctx.filter)
		return -ENOMEM;
	ret = vrdma_devs_for_each(vrdma_map_filter_fn, &ctx);
	f = ctx.filter;
	if (ret) {
		kfree(f);
		return ret;
	}

	sort(f->vnis, f->nr, sizeof(f->vnis[0]), vrdma_map_vni_cmp, NULL);
	for (i = 0, n = 0; i < f->nr; i++)
		if (!n || f->vnis[n - 1] != f->vnis[i])
			f->vnis[n++] = f->vnis[i];
	f->nr = n;
	*filter = f;
	return 0;
}

/**
 * vrdma_map_filter_put() - release a dump filter
 * @filter: the filter (may be NULL)
 */
void vrdma_map_filter_put(struct vrdma_map_filter *filter)
{
	kfree(filter);
}

/* The explicit entry at or after @pos that the filter lets through. */
static int vrdma_map_dump_explicit(struct vrdma_map_pos *pos,
				   const struct vrdma_map_filter *filter,
				   struct vrdma_map_info *info)
{
	struct vrdma_map_entry *e;
	u32 i;

	rcu_read_lock();
	for (; pos->bucket < HASH_SIZE(vrdma_map_table);
	     pos->bucket++, pos->skip = 0) {
		i = 0;
		hlist_for_each_entry_rcu(e, &vrdma_map_table[pos->bucket],
					 node) {
			if (i++ < pos->skip)
				continue;
			if (!vrdma_map_filter_match(filter, e->vni)) {
				pos->skip++;
				continue;
			}
			info->addr = e->addr;
			info->via = e->via;
			info->has_via = true;
			info->vni = e->vni;
			info->local = false;
			rcu_read_unlock();
			return 0;
		}
	}
	rcu_read_unlock();
	return -ENOENT;
}

/* The lowest index >= @from of a virtual device the filter lets through. */
struct vrdma_map_dev_min {
	const struct vrdma_map_filter *filter;
	u32 from;
	bool found;
	u32 index;
};

static int vrdma_map_dev_min_fn(struct vrdma_dev *vdev, void *arg)
{
	struct vrdma_map_dev_min *min = arg;
	u32 index = vdev->ibdev.index;

	if (index < min->from || (min->found && index >= min->index) ||
	    !vrdma_map_filter_match(min->filter, vdev->vni))
		return 0;
	min->found = true;
	min->index = index;
	return 0;
}

/* The first RoCE v2 GID at or after @from of device @index. */
struct vrdma_map_dev_scan {
	u32 index;
	u32 from;
	u32 gid;
	struct vrdma_map_info *info;
};

static int vrdma_map_dev_scan_fn(struct vrdma_dev *vdev, void *arg)
{
	struct vrdma_map_dev_scan *scan = arg;
	struct vrdma_map_info *info = scan->info;
	const struct ib_gid_attr *attr;
	struct ib_device *pdev;
	unsigned int len;
	int ret = -ENOENT;
	u32 i, index;

	if (vdev->ibdev.index != scan->index)
		return 0;
	if (!ib_device_try_get(&vdev->ibdev))
		return -ENOENT;

	len = ib_port_immutable_read(&vdev->ibdev,
				     VRDMA_MAP_VPORT)->gid_tbl_len;
	for (i = scan->from; i < len; i++) {
		attr = rdma_get_gid_attr(&vdev->ibdev, VRDMA_MAP_VPORT, i);
		if (IS_ERR(attr))
			continue;
		if (attr->gid_type == IB_GID_TYPE_ROCE_UDP_ENCAP) {
			info->addr = attr->gid;
			ret = 1;
		}
		rdma_put_gid_attr(attr);
		if (ret > 0)
			break;
	}
	ib_device_put(&vdev->ibdev);
	if (ret < 0)
		return ret;

	scan->gid = i;
	info->vni = vdev->vni;
	info->local = true;
	info->has_via = false;
	pdev = READ_ONCE(vdev->pdev);
	if (pdev && ib_device_try_get(pdev)) {
		info->has_via = !vrdma_phys_host_gid(pdev, vdev->pport,
						     &info->via, &index);
		ib_device_put(pdev);
	}
	return ret;
}

/* The local entry at or after @pos that the filter lets through. */
static int vrdma_map_dump_local(struct vrdma_map_pos *pos,
				const struct vrdma_map_filter *filter,
				struct vrdma_map_info *info)
{
	struct vrdma_map_dev_scan scan;
	struct vrdma_map_dev_min min;

	for (;;) {
		min = (struct vrdma_map_dev_min){
			.filter = filter, .from = pos->dev,
		};
		vrdma_devs_for_each(vrdma_map_dev_min_fn, &min);
		if (!min.found)
			return -ENOENT;
		if (min.index != pos->dev) {
			pos->dev = min.index;
			pos->gid = 0;
		}

		scan = (struct vrdma_map_dev_scan){
			.index = pos->dev, .from = pos->gid, .info = info,
		};
		if (vrdma_devs_for_each(vrdma_map_dev_scan_fn, &scan) > 0) {
			pos->gid = scan.gid;
			return 0;
		}
		/* No (more) GIDs, or the device went away: the next one. */
		if (pos->dev == U32_MAX)
			return -ENOENT;
		pos->dev++;
		pos->gid = 0;
	}
}

/**
 * vrdma_map_dump_next() - the next entry of a dump
 * @pos: where the dump is (zeroed at its start); set to the position of
 *	the entry returned
 * @filter: the entries to show (vrdma_map_filter_get())
 * @info: set to the entry
 *
 * Explicit entries come first, then local entries, in ib_device index
 * order of their devices.  A dump that resumes after the map changed may
 * miss or repeat entries (vrdma_map_gen() tells).  May sleep.
 *
 * Return: 0, or -ENOENT at the end of the dump.
 */
int vrdma_map_dump_next(struct vrdma_map_pos *pos,
			const struct vrdma_map_filter *filter,
			struct vrdma_map_info *info)
{
	if (pos->phase == 0) {
		if (!vrdma_map_dump_explicit(pos, filter, info))
			return 0;
		pos->phase = 1;
		pos->dev = 0;
		pos->gid = 0;
	}
	if (pos->phase == 1) {
		if (!vrdma_map_dump_local(pos, filter, info))
			return 0;
		pos->phase = 2;
	}
	return -ENOENT;
}

/**
 * vrdma_map_dump_advance() - move a dump past the entry last returned
 * @pos: the dump's position
 */
void vrdma_map_dump_advance(struct vrdma_map_pos *pos)
{
	if (pos->phase == 0)
		pos->skip++;
	else if (pos->phase == 1)
		pos->gid++;
}

/**
 * vrdma_map_init() - set up the address map
 *
 * Return: 0.
 */
int __init vrdma_map_init(void)
{
	return 0;
}

/**
 * vrdma_map_exit() - free every explicit entry
 *
 * Called at module unload, once nothing looks the map up any more.
 */
void vrdma_map_exit(void)
{
	struct vrdma_map_entry *e;
	struct hlist_node *tmp;
	unsigned int bkt;

	mutex_lock(&vrdma_map_lock);
	hash_for_each_safe(vrdma_map_table, bkt, tmp, e, node) {
		hash_del_rcu(&e->node);
		kfree_rcu(e, rcu);
		vrdma_map_nr--;
	}
	WARN_ON_ONCE(vrdma_map_nr);
	vrdma_map_changed_locked();
	mutex_unlock(&vrdma_map_lock);
}
