// SPDX-License-Identifier: GPL-2.0
/*
 * Module-to-module control channel: see ctrl.h for the model.
 *
 * Endpoints
 * ---------
 * vrdma_ctrl_ep_get() finds or creates the endpoint of a local address: a
 * UDP socket in init_net, bound to the address, to port ctrl_port and to
 * the netdev that holds the address (SO_BINDTODEVICE semantics through
 * udp_port_cfg.bind_ifindex).  The socket's data_ready callback queues the
 * endpoint's receive work, which reads datagrams without blocking and
 * hands each valid message to the handler of its type.
 *
 * Validation of every datagram, before any handler sees it: length at
 * least a header, magic, version, a known type range, no unknown flag,
 * zero reserved field, body length consistent with the datagram and at
 * most VRDMA_CTRL_BODY_MAX, not truncated, the MAC (see ctrl.h) and,
 * with a key, the sequence number (vrdma_ctrl_replay_check()).  Dropped
 * datagrams are counted by reason (enum vrdma_ctrl_stat; handlers count
 * what they refuse with vrdma_ctrl_dropped()) and logged (rate
 * limited, debug).
 *
 * Locking
 * -------
 * vrdma_ctrl_lock (mutex) protects the list of endpoints and their
 * creation; endpoint references are krefs released under it.  The handler
 * table is written only by vrdma_ctrl_register()/unregister(), which
 * features call before creating and after releasing their endpoints (no
 * receive work runs then), so receive works read it without a lock.
 * sk_callback_lock (the socket's) protects sk_user_data against the
 * release of the endpoint.  vrdma_ctrl_peers_lock (mutex) protects the
 * replay state of the senders.  The order: Documentation/architecture.rst,
 * "Locking".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/hashtable.h>
#include <linux/inetdevice.h>
#include <linux/jhash.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/workqueue.h>
#include <net/addrconf.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp_tunnel.h>

#include "audit.h"
#include "ctrl.h"

static ushort ctrl_port = 4793;
module_param(ctrl_port, ushort, 0444);
MODULE_PARM_DESC(ctrl_port,
		 "UDP port of the module-to-module control channel (default 4793)");

static char *ctrl_key;
module_param(ctrl_key, charp, 0);
MODULE_PARM_DESC(ctrl_key,
		 "Cluster key authenticating control messages (HMAC-SHA256), 32 to 128 hex digits; the same on every host");

static unsigned int ctrl_max_skew_s = 300;
module_param(ctrl_max_skew_s, uint, 0644);
MODULE_PARM_DESC(ctrl_max_skew_s,
		 "With ctrl_key: drop messages sent more than this many seconds before or after the local clock says (0: no limit)");

/**
 * struct vrdma_ctrl_ep - a control endpoint (one local address)
 * @node: entry in vrdma_ctrl_eps (vrdma_ctrl_lock)
 * @ref: references; released under vrdma_ctrl_lock
 * @addr: the local address
 * @ifindex: index of the netdev that holds it (init_net)
 * @sock: the UDP socket
 * @saved_data_ready: the socket's data_ready before ours
 * @rx_work: reads and dispatches datagrams
 * @buf: receive buffer (rx_work only)
 * @lo_lock: protects @lo
 * @lo: messages sent to the endpoint's own address (struct vrdma_ctrl_lo)
 */
struct vrdma_ctrl_ep {
	struct list_head node;
	struct kref ref;
	struct in6_addr addr;
	int ifindex;
	struct socket *sock;
	void (*saved_data_ready)(struct sock *sk);
	struct work_struct rx_work;
	void *buf;
	spinlock_t lo_lock;		/* protects lo */
	struct list_head lo;
};

/* A message to the sender's own address: the same host, no network. */
struct vrdma_ctrl_lo {
	struct list_head node;
	size_t len;
	u8 data[];
};

#define VRDMA_CTRL_LO_MAX	1024

static DEFINE_MUTEX(vrdma_ctrl_lock);
static LIST_HEAD(vrdma_ctrl_eps);
static struct workqueue_struct *vrdma_ctrl_wq;
static struct crypto_shash *vrdma_ctrl_tfm;
static vrdma_ctrl_handler_t vrdma_ctrl_handlers[VRDMA_CTRL_TYPE_MAX + 1];

/*
 * Sequence numbers: the last one sent.  Each message takes the larger of
 * the last one plus 1 and the real-time clock in nanoseconds, so that a
 * host's numbers grow across reloads and tell when a message was sent.
 */
static atomic64_t vrdma_ctrl_seq;

static atomic64_t vrdma_ctrl_stats[VRDMA_CTRL_STAT_MAX];

static const char *const vrdma_ctrl_stat_names[VRDMA_CTRL_STAT_MAX] = {
	[VRDMA_CTRL_STAT_TX]		 = "ctrl_tx",
	[VRDMA_CTRL_STAT_TX_ERR]	 = "ctrl_tx_err",
	[VRDMA_CTRL_STAT_RX]		 = "ctrl_rx",
	[VRDMA_CTRL_STAT_DROP_MALFORMED] = "ctrl_drop_malformed",
	[VRDMA_CTRL_STAT_DROP_AUTH]	 = "ctrl_drop_auth",
	[VRDMA_CTRL_STAT_DROP_STALE]	 = "ctrl_drop_stale",
	[VRDMA_CTRL_STAT_DROP_REPLAY]	 = "ctrl_drop_replay",
	[VRDMA_CTRL_STAT_DROP_SENDER]	 = "ctrl_drop_sender",
	[VRDMA_CTRL_STAT_DROP_OTHER]	 = "ctrl_drop_other",
};

static void vrdma_ctrl_count(enum vrdma_ctrl_stat i)
{
	atomic64_inc(&vrdma_ctrl_stats[i]);
}

/* The counter of a datagram vrdma_ctrl_check() refused with @err. */
static void vrdma_ctrl_count_drop(int err)
{
	switch (err) {
	case -EKEYREJECTED:
		vrdma_ctrl_count(VRDMA_CTRL_STAT_DROP_AUTH);
		break;
	case -ESTALE:
		vrdma_ctrl_count(VRDMA_CTRL_STAT_DROP_STALE);
		break;
	case -EALREADY:
		vrdma_ctrl_count(VRDMA_CTRL_STAT_DROP_REPLAY);
		break;
	case -EBADMSG:
	case -EPROTO:
	case -EOPNOTSUPP:
		vrdma_ctrl_count(VRDMA_CTRL_STAT_DROP_MALFORMED);
		break;
	default:
		vrdma_ctrl_count(VRDMA_CTRL_STAT_DROP_OTHER);
		break;
	}
}

/**
 * vrdma_ctrl_dropped() - count a message its handler refused
 * @why: VRDMA_CTRL_STAT_DROP_SENDER (authentic, but its sender may not
 *	say what it said: an address the map does not place on the sending
 *	host) or VRDMA_CTRL_STAT_DROP_MALFORMED (a body the handler cannot
 *	take)
 */
void vrdma_ctrl_dropped(enum vrdma_ctrl_stat why)
{
	if (why >= VRDMA_CTRL_STAT_DROP_MALFORMED && why < VRDMA_CTRL_STAT_MAX)
		vrdma_ctrl_count(why);
}

/**
 * vrdma_ctrl_stat_name() - the name of a channel counter
 * @i: its index, below VRDMA_CTRL_STAT_MAX
 *
 * Return: the name (as INFO_GET's stat attributes give it).
 */
const char *vrdma_ctrl_stat_name(unsigned int i)
{
	return i < VRDMA_CTRL_STAT_MAX ? vrdma_ctrl_stat_names[i] : NULL;
}

/**
 * vrdma_ctrl_stat_read() - the value of a channel counter
 * @i: its index, below VRDMA_CTRL_STAT_MAX
 *
 * Return: its value since the module was loaded.
 */
u64 vrdma_ctrl_stat_read(unsigned int i)
{
	return i < VRDMA_CTRL_STAT_MAX ?
	       atomic64_read(&vrdma_ctrl_stats[i]) : 0;
}

/* Sequence numbers a sender's replay state holds: the newest it accepted. */
#define VRDMA_CTRL_WINDOW	64

/**
 * struct vrdma_ctrl_peer - the replay state of a sender (with a key)
 * @node: entry in vrdma_ctrl_peers, by @addr
 * @lru: entry in vrdma_ctrl_peers_lru, least recently heard from first
 * @addr: the sender's address
 * @floor: numbers below it are refused: the first one accepted, then one
 *	more than the last one that left @win
 * @n: entries of @win in use
 * @win: the newest sequence numbers accepted (at most VRDMA_CTRL_WINDOW,
 *	in no order)
 *
 * The window counts messages, not nanoseconds: sequence numbers are
 * clock readings, so two messages sent on two CPUs a microsecond apart
 * are a microsecond apart in number, and may arrive in either order.
 */
struct vrdma_ctrl_peer {
	struct hlist_node node;
	struct list_head lru;
	struct in6_addr addr;
	u64 floor;
	unsigned int n;
	u64 win[VRDMA_CTRL_WINDOW];
};

/* Senders remembered at most (the cluster's hosts, which hold the key). */
#define VRDMA_CTRL_PEERS_MAX	4096

static DEFINE_MUTEX(vrdma_ctrl_peers_lock);
static DEFINE_HASHTABLE(vrdma_ctrl_peers, 8);
static LIST_HEAD(vrdma_ctrl_peers_lru);
static unsigned int vrdma_ctrl_npeers;

/**
 * vrdma_addr_is_v4() - is a 16-byte address an IPv4-mapped address
 * @addr: the address
 *
 * Return: true for ::ffff:a.b.c.d.
 */
bool vrdma_addr_is_v4(const struct in6_addr *addr)
{
	return ipv6_addr_v4mapped(addr);
}

/**
 * vrdma_addr_local() - the netdev of init_net that holds an address
 * @addr: the address (16 bytes, IPv4-mapped for IPv4)
 *
 * Return: its ifindex, or -EADDRNOTAVAIL if no netdev of init_net holds
 * @addr.
 */
int vrdma_addr_local(const struct in6_addr *addr)
{
	struct net_device *dev;
	int ifindex = -EADDRNOTAVAIL;

	if (vrdma_addr_is_v4(addr)) {
		dev = ip_dev_find(&init_net, addr->s6_addr32[3]);
		if (dev) {
			ifindex = dev->ifindex;
			dev_put(dev);
		}
		return ifindex;
	}
	if (!IS_ENABLED(CONFIG_IPV6))
		return -EADDRNOTAVAIL;
	rcu_read_lock();
	dev = ipv6_dev_find(&init_net, addr, NULL);
	if (dev)
		ifindex = dev->ifindex;
	rcu_read_unlock();
	return ifindex;
}

/* Fill a socket address of @addr's family. */
static int vrdma_ctrl_sockaddr(const struct in6_addr *addr, u16 port,
			       struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (vrdma_addr_is_v4(addr)) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = addr->s6_addr32[3];
		return sizeof(*in);
	}
	{
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = *addr;
		return sizeof(*in6);
	}
}

/*
 * The MAC of a message from @src to @dst: HMAC-SHA256 over both addresses
 * (16 bytes each, IPv4-mapped for IPv4), the header and the body.  The
 * addresses are not on the wire, the receiver takes them from the
 * datagram: a message replayed from another source address or to another
 * host (whose replay state for that source knows nothing of it) fails.
 */
static int vrdma_ctrl_mac(const struct in6_addr *src,
			  const struct in6_addr *dst, const void *data,
			  size_t len, u8 *mac)
{
	SHASH_DESC_ON_STACK(desc, vrdma_ctrl_tfm);
	int ret;

	desc->tfm = vrdma_ctrl_tfm;
	ret = crypto_shash_init(desc);
	if (!ret)
		ret = crypto_shash_update(desc, src->s6_addr, sizeof(*src));
	if (!ret)
		ret = crypto_shash_update(desc, dst->s6_addr, sizeof(*dst));
	if (!ret)
		ret = crypto_shash_finup(desc, data, len, mac);
	shash_desc_zero(desc);
	return ret;
}

static u64 vrdma_ctrl_next_seq(void)
{
	s64 old = atomic64_read(&vrdma_ctrl_seq), new;

	do {
		new = max_t(s64, old + 1, ktime_get_real_ns());
	} while (!atomic64_try_cmpxchg(&vrdma_ctrl_seq, &old, new));
	return new;
}

/*
 * Accept @seq into @p's window unless it was accepted before or is older
 * than every number the window holds.  Returns 0 or -EALREADY.
 */
static int vrdma_ctrl_window_add(struct vrdma_ctrl_peer *p, u64 seq)
{
	unsigned int i, oldest = 0;

	lockdep_assert_held(&vrdma_ctrl_peers_lock);
	if (seq < p->floor)
		return -EALREADY;
	for (i = 0; i < p->n; i++) {
		if (p->win[i] == seq)
			return -EALREADY;
		if (p->win[i] < p->win[oldest])
			oldest = i;
	}
	if (p->n < VRDMA_CTRL_WINDOW) {
		p->win[p->n++] = seq;
		return 0;
	}
	if (seq < p->win[oldest])
		return -EALREADY;
	p->floor = p->win[oldest] + 1;
	p->win[oldest] = seq;
	return 0;
}

/*
 * Replay protection, for authenticated messages (the MAC covers the
 * sequence number): a message sent too long ago, or too far in the
 * future, by the local clock is dropped, and so is a sequence number of a
 * sender already accepted or older than the VRDMA_CTRL_WINDOW newest
 * accepted (struct vrdma_ctrl_peer).  A sender's state starts with its
 * first message, whose number is the oldest accepted from then on (after
 * a reload, or once forgotten among more than VRDMA_CTRL_PEERS_MAX
 * senders: the clock check still holds).  Returns 0, -ESTALE, -EALREADY
 * or -ENOMEM.
 */
static int vrdma_ctrl_replay_check(const struct in6_addr *src, u64 seq)
{
	u64 skew = (u64)READ_ONCE(ctrl_max_skew_s) * NSEC_PER_SEC;
	u64 now = ktime_get_real_ns();
	struct vrdma_ctrl_peer *p;
	u32 key = jhash(src, sizeof(*src), 0);
	int ret = 0;

	if (skew && (seq > now + skew || seq + skew < now))
		return -ESTALE;
	mutex_lock(&vrdma_ctrl_peers_lock);
	hash_for_each_possible(vrdma_ctrl_peers, p, node, key)
		if (ipv6_addr_equal(&p->addr, src))
			break;
	if (!p) {
		if (vrdma_ctrl_npeers >= VRDMA_CTRL_PEERS_MAX) {
			p = list_first_entry(&vrdma_ctrl_peers_lru,
					     struct vrdma_ctrl_peer, lru);
			hash_del(&p->node);
			list_del(&p->lru);
		} else {
			p = kmalloc(sizeof(*p), GFP_KERNEL);
			if (!p) {
				ret = -ENOMEM;
				goto out;
			}
			vrdma_ctrl_npeers++;
		}
		p->addr = *src;
		p->floor = seq;
		p->n = 0;
		hash_add(vrdma_ctrl_peers, &p->node, key);
		list_add_tail(&p->lru, &vrdma_ctrl_peers_lru);
	}
	ret = vrdma_ctrl_window_add(p, seq);
	list_move_tail(&p->lru, &vrdma_ctrl_peers_lru);
out:
	mutex_unlock(&vrdma_ctrl_peers_lock);
	return ret;
}

static void vrdma_ctrl_peers_free(void)
{
	struct vrdma_ctrl_peer *p, *tmp;

	mutex_lock(&vrdma_ctrl_peers_lock);
	list_for_each_entry_safe(p, tmp, &vrdma_ctrl_peers_lru, lru) {
		hash_del(&p->node);
		list_del(&p->lru);
		kfree(p);
	}
	vrdma_ctrl_npeers = 0;
	mutex_unlock(&vrdma_ctrl_peers_lock);
}

/*
 * Check a datagram received from @src by @dst; returns the body length or a
 * negative errno.
 */
static int vrdma_ctrl_check(const void *buf, size_t len,
			    const struct in6_addr *src,
			    const struct in6_addr *dst, u8 *type)
{
	const struct vrdma_ctrl_hdr *hdr = buf;
	size_t mac_len = 0, body_len;
	u8 mac[VRDMA_CTRL_MAC_LEN];
	u16 flags;
	int ret;

	if (len < sizeof(*hdr))
		return -EBADMSG;
	if (hdr->magic != cpu_to_be32(VRDMA_CTRL_MAGIC) ||
	    hdr->version != VRDMA_CTRL_VERSION || hdr->reserved)
		return -EPROTO;
	flags = be16_to_cpu(hdr->flags);
	if (flags & ~VRDMA_CTRL_F_MAC)
		return -EPROTO;
	if (flags & VRDMA_CTRL_F_MAC)
		mac_len = VRDMA_CTRL_MAC_LEN;
	body_len = be32_to_cpu(hdr->len);
	if (body_len > VRDMA_CTRL_BODY_MAX ||
	    len != sizeof(*hdr) + body_len + mac_len)
		return -EBADMSG;
	if (!!vrdma_ctrl_tfm != !!mac_len)
		return -EKEYREJECTED;
	if (mac_len) {
		if (vrdma_ctrl_mac(src, dst, buf, sizeof(*hdr) + body_len, mac))
			return -EKEYREJECTED;
		if (crypto_memneq(mac, (const u8 *)buf + sizeof(*hdr) + body_len,
				  VRDMA_CTRL_MAC_LEN))
			return -EKEYREJECTED;
		ret = vrdma_ctrl_replay_check(src, be64_to_cpu(hdr->seq));
		if (ret)
			return ret;
	}
	*type = hdr->type;
	if (!*type || !vrdma_ctrl_handlers[*type])
		return -EOPNOTSUPP;
	return body_len;
}

static void vrdma_ctrl_src(const struct sockaddr_storage *ss,
			   struct in6_addr *src)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		ipv6_addr_set_v4mapped(in->sin_addr.s_addr, src);
	} else {
		*src = ((const struct sockaddr_in6 *)ss)->sin6_addr;
	}
}

#define VRDMA_CTRL_RX_BATCH	64

static void vrdma_ctrl_rx_work(struct work_struct *work)
{
	struct vrdma_ctrl_ep *ep = container_of(work, struct vrdma_ctrl_ep,
						rx_work);
	struct sockaddr_storage ss;
	struct in6_addr src;
	unsigned int n;
	u8 type;
	int ret;

	for (n = 0; n < VRDMA_CTRL_RX_BATCH; n++) {
		struct vrdma_ctrl_lo *lo;

		spin_lock_bh(&ep->lo_lock);
		lo = list_first_entry_or_null(&ep->lo, struct vrdma_ctrl_lo,
					      node);
		if (lo)
			list_del(&lo->node);
		spin_unlock_bh(&ep->lo_lock);
		if (!lo)
			break;
		ret = vrdma_ctrl_check(lo->data, lo->len, &ep->addr, &ep->addr,
				       &type);
		if (ret >= 0) {
			vrdma_ctrl_count(VRDMA_CTRL_STAT_RX);
			vrdma_ctrl_handlers[type](ep, &ep->addr, type,
						  lo->data +
						  sizeof(struct vrdma_ctrl_hdr),
						  ret);
		} else {
			vrdma_ctrl_count_drop(ret);
		}
		kfree(lo);
	}

	for (n = 0; n < VRDMA_CTRL_RX_BATCH; n++) {
		struct kvec iov = { ep->buf, VRDMA_CTRL_MSG_MAX };
		struct msghdr msg = {
			.msg_name = &ss,
			.msg_namelen = sizeof(ss),
		};

		ret = kernel_recvmsg(ep->sock, &msg, &iov, 1,
				     VRDMA_CTRL_MSG_MAX,
				     MSG_DONTWAIT | MSG_TRUNC);
		if (ret == -EAGAIN)
			return;
		if (ret < 0) {
			vrdma_ctrl_count(VRDMA_CTRL_STAT_DROP_OTHER);
			pr_debug("ctrl %pI6c: receive error %d\n", &ep->addr,
				 ret);
			continue;
		}
		if (ret > VRDMA_CTRL_MSG_MAX || (msg.msg_flags & MSG_TRUNC)) {
			vrdma_ctrl_count(VRDMA_CTRL_STAT_DROP_MALFORMED);
			pr_debug_ratelimited("ctrl %pI6c: datagram too long (%d bytes)\n",
					     &ep->addr, ret);
			continue;
		}
		vrdma_ctrl_src(&ss, &src);
		ret = vrdma_ctrl_check(ep->buf, ret, &src, &ep->addr, &type);
		if (ret < 0) {
			vrdma_ctrl_count_drop(ret);
			pr_debug_ratelimited("ctrl %pI6c: dropped a datagram from %pI6c: %d\n",
					     &ep->addr, &src, ret);
			continue;
		}
		vrdma_ctrl_count(VRDMA_CTRL_STAT_RX);
		vrdma_ctrl_handlers[type](ep, &src, type,
					  (const u8 *)ep->buf +
					  sizeof(struct vrdma_ctrl_hdr), ret);
	}
	/* More may be waiting: let other endpoints' works run first. */
	queue_work(vrdma_ctrl_wq, &ep->rx_work);
}

static void vrdma_ctrl_data_ready(struct sock *sk)
{
	struct vrdma_ctrl_ep *ep;

	read_lock_bh(&sk->sk_callback_lock);
	ep = sk->sk_user_data;
	if (ep)
		queue_work(vrdma_ctrl_wq, &ep->rx_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static int vrdma_ctrl_ep_open(struct vrdma_ctrl_ep *ep)
{
	struct udp_port_cfg cfg = {};
	struct sock *sk;
	int ret;

	if (vrdma_addr_is_v4(&ep->addr)) {
		cfg.family = AF_INET;
		cfg.local_ip.s_addr = ep->addr.s6_addr32[3];
	} else {
		cfg.family = AF_INET6;
		cfg.local_ip6 = ep->addr;
		cfg.ipv6_v6only = 1;
	}
	cfg.local_udp_port = htons(ctrl_port);
	cfg.bind_ifindex = ep->ifindex;
	ret = udp_sock_create(&init_net, &cfg, &ep->sock);
	if (ret)
		return ret;

	sk = ep->sock->sk;
	sk->sk_allocation = GFP_KERNEL;
	write_lock_bh(&sk->sk_callback_lock);
	ep->saved_data_ready = sk->sk_data_ready;
	sk->sk_user_data = ep;
	sk->sk_data_ready = vrdma_ctrl_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

static void vrdma_ctrl_ep_close(struct vrdma_ctrl_ep *ep)
{
	struct sock *sk = ep->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = ep->saved_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	cancel_work_sync(&ep->rx_work);
	while (!list_empty(&ep->lo)) {
		struct vrdma_ctrl_lo *lo = list_first_entry(&ep->lo,
							    struct vrdma_ctrl_lo,
							    node);

		list_del(&lo->node);
		kfree(lo);
	}
	kernel_sock_shutdown(ep->sock, SHUT_RDWR);
	sock_release(ep->sock);
	ep->sock = NULL;
}

/**
 * vrdma_ctrl_ep_get() - the control endpoint of a local address
 * @addr: the address (16 bytes, IPv4-mapped for IPv4)
 *
 * Creates the endpoint if this is its first user.  Process context.
 *
 * Return: a reference to the endpoint (drop it with vrdma_ctrl_ep_put()),
 * or an ERR_PTR: -EADDRNOTAVAIL if no netdev of init_net holds @addr,
 * -EADDRINUSE if another socket holds the port on it, -ENOMEM.
 */
struct vrdma_ctrl_ep *vrdma_ctrl_ep_get(const struct in6_addr *addr)
{
	struct vrdma_ctrl_ep *ep;
	int ret;

	might_sleep();
	mutex_lock(&vrdma_ctrl_lock);
	list_for_each_entry(ep, &vrdma_ctrl_eps, node) {
		if (ipv6_addr_equal(&ep->addr, addr)) {
			kref_get(&ep->ref);
			goto out;
		}
	}

	ret = vrdma_addr_local(addr);
	if (ret < 0) {
		ep = ERR_PTR(ret);
		goto out;
	}
	ep = kzalloc(sizeof(*ep), GFP_KERNEL);
	if (!ep) {
		ep = ERR_PTR(-ENOMEM);
		goto out;
	}
	ep->buf = kmalloc(VRDMA_CTRL_MSG_MAX, GFP_KERNEL);
	if (!ep->buf) {
		kfree(ep);
		ep = ERR_PTR(-ENOMEM);
		goto out;
	}
	kref_init(&ep->ref);
	ep->addr = *addr;
	ep->ifindex = ret;
	INIT_WORK(&ep->rx_work, vrdma_ctrl_rx_work);
	spin_lock_init(&ep->lo_lock);
	INIT_LIST_HEAD(&ep->lo);
	ret = vrdma_ctrl_ep_open(ep);
	if (ret) {
		pr_warn("ctrl: cannot open UDP port %u on %pI6c: %d\n",
			ctrl_port, addr, ret);
		kfree(ep->buf);
		kfree(ep);
		ep = ERR_PTR(ret);
		goto out;
	}
	list_add(&ep->node, &vrdma_ctrl_eps);
	vrdma_audit_created(VRDMA_AUDIT_CTRL_EP);
	pr_debug("ctrl: endpoint %pI6c port %u\n", addr, ctrl_port);
out:
	mutex_unlock(&vrdma_ctrl_lock);
	return ep;
}

static void vrdma_ctrl_ep_release(struct kref *ref)
{
	struct vrdma_ctrl_ep *ep = container_of(ref, struct vrdma_ctrl_ep,
						ref);

	lockdep_assert_held(&vrdma_ctrl_lock);
	list_del(&ep->node);
	vrdma_ctrl_ep_close(ep);
	kfree(ep->buf);
	kfree(ep);
	vrdma_audit_destroyed(VRDMA_AUDIT_CTRL_EP);
}

/**
 * vrdma_ctrl_ep_put() - drop a reference to an endpoint
 * @ep: the endpoint (may be NULL)
 *
 * The last reference closes the socket and waits for the receive work:
 * never call it from a handler of this endpoint.  Process context.
 */
void vrdma_ctrl_ep_put(struct vrdma_ctrl_ep *ep)
{
	if (!ep)
		return;
	might_sleep();
	if (kref_put_mutex(&ep->ref, vrdma_ctrl_ep_release, &vrdma_ctrl_lock))
		mutex_unlock(&vrdma_ctrl_lock);
}

/**
 * vrdma_ctrl_ep_addr() - the local address of an endpoint
 * @ep: the endpoint
 *
 * Return: its address.
 */
const struct in6_addr *vrdma_ctrl_ep_addr(const struct vrdma_ctrl_ep *ep)
{
	return &ep->addr;
}

/*
 * Deliver a message to the endpoint itself: the sender and the receiver
 * are the same host (one address), which the network cannot loop back
 * when the address's netdev is bound (the simulated hosts' policy
 * routing sends it out on the wire).
 */
static int vrdma_ctrl_send_lo(struct vrdma_ctrl_ep *ep, const void *buf,
			      size_t len)
{
	struct vrdma_ctrl_lo *lo, *pos;
	unsigned int n = 0;

	lo = kmalloc(struct_size(lo, data, len), GFP_KERNEL);
	if (!lo)
		return -ENOMEM;
	lo->len = len;
	memcpy(lo->data, buf, len);
	spin_lock_bh(&ep->lo_lock);
	list_for_each_entry(pos, &ep->lo, node)
		n++;
	if (n >= VRDMA_CTRL_LO_MAX) {
		spin_unlock_bh(&ep->lo_lock);
		kfree(lo);
		return -ENOBUFS;
	}
	list_add_tail(&lo->node, &ep->lo);
	spin_unlock_bh(&ep->lo_lock);
	queue_work(vrdma_ctrl_wq, &ep->rx_work);
	return 0;
}

static int __vrdma_ctrl_send(struct vrdma_ctrl_ep *ep,
			     const struct in6_addr *dst, u8 type,
			     const void *body, size_t len)
{
	size_t mac_len = vrdma_ctrl_tfm ? VRDMA_CTRL_MAC_LEN : 0;
	struct sockaddr_storage ss;
	struct vrdma_ctrl_hdr *hdr;
	struct msghdr msg = {};
	struct kvec iov;
	size_t total;
	void *buf;
	int ret;

	might_sleep();
	if (len > VRDMA_CTRL_BODY_MAX)
		return -EMSGSIZE;
	if (vrdma_addr_is_v4(dst) != vrdma_addr_is_v4(&ep->addr))
		return -EAFNOSUPPORT;

	total = sizeof(*hdr) + len + mac_len;
	buf = kmalloc(total, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	hdr = buf;
	hdr->magic = cpu_to_be32(VRDMA_CTRL_MAGIC);
	hdr->version = VRDMA_CTRL_VERSION;
	hdr->type = type;
	hdr->flags = cpu_to_be16(mac_len ? VRDMA_CTRL_F_MAC : 0);
	hdr->len = cpu_to_be32(len);
	hdr->reserved = 0;
	hdr->seq = cpu_to_be64(vrdma_ctrl_next_seq());
	memcpy(hdr + 1, body, len);
	if (mac_len) {
		ret = vrdma_ctrl_mac(&ep->addr, dst, buf, sizeof(*hdr) + len,
				     (u8 *)buf + sizeof(*hdr) + len);
		if (ret)
			goto out;
	}

	if (ipv6_addr_equal(dst, &ep->addr)) {
		ret = vrdma_ctrl_send_lo(ep, buf, total);
		goto out;
	}
	msg.msg_name = &ss;
	msg.msg_namelen = vrdma_ctrl_sockaddr(dst, ctrl_port, &ss);
	msg.msg_flags = MSG_DONTWAIT;
	iov.iov_base = buf;
	iov.iov_len = total;
	ret = kernel_sendmsg(ep->sock, &msg, &iov, 1, total);
	ret = ret < 0 ? ret : 0;
out:
	kfree(buf);
	return ret;
}

/**
 * vrdma_ctrl_send() - send a control message
 * @ep: the endpoint to send from
 * @dst: destination address (same family as @ep's)
 * @type: message type
 * @body: the body
 * @len: its length, at most VRDMA_CTRL_BODY_MAX
 *
 * Datagrams may be lost: protocols built on this retransmit.  A message
 * to @ep's own address is delivered without the network.  Process
 * context.
 *
 * Return: 0 or a negative errno (-EMSGSIZE, -EAFNOSUPPORT, -ENOMEM, or
 * the socket's error).
 */
int vrdma_ctrl_send(struct vrdma_ctrl_ep *ep, const struct in6_addr *dst,
		    u8 type, const void *body, size_t len)
{
	int ret = __vrdma_ctrl_send(ep, dst, type, body, len);

	vrdma_ctrl_count(ret ? VRDMA_CTRL_STAT_TX_ERR : VRDMA_CTRL_STAT_TX);
	return ret;
}

/**
 * vrdma_ctrl_port() - the UDP port of the control channel
 *
 * Return: ctrl_port.
 */
u16 vrdma_ctrl_port(void)
{
	return ctrl_port;
}

/**
 * vrdma_ctrl_authenticated() - are control messages authenticated?
 *
 * Return: true when a cluster key is set (ctrl_key).
 */
bool vrdma_ctrl_authenticated(void)
{
	return vrdma_ctrl_tfm;
}

/**
 * vrdma_ctrl_register() - set the handler of a range of message types
 * @first: first type
 * @last: last type
 * @handler: the handler
 *
 * Call before creating endpoints (module init).
 *
 * Return: 0, -EINVAL for an empty or invalid range, -EBUSY if a type of
 * the range has a handler.
 */
int vrdma_ctrl_register(u8 first, u8 last, vrdma_ctrl_handler_t handler)
{
	unsigned int t;
	int ret = 0;

	if (!first || first > last)
		return -EINVAL;
	mutex_lock(&vrdma_ctrl_lock);
	for (t = first; t <= last; t++) {
		if (vrdma_ctrl_handlers[t]) {
			ret = -EBUSY;
			goto out;
		}
	}
	for (t = first; t <= last; t++)
		vrdma_ctrl_handlers[t] = handler;
out:
	mutex_unlock(&vrdma_ctrl_lock);
	return ret;
}

/**
 * vrdma_ctrl_unregister() - remove the handler of a range of types
 * @first: first type
 * @last: last type
 *
 * Call once the feature's endpoints are released (module exit).
 */
void vrdma_ctrl_unregister(u8 first, u8 last)
{
	unsigned int t;

	mutex_lock(&vrdma_ctrl_lock);
	for (t = first; t <= last && t <= VRDMA_CTRL_TYPE_MAX; t++)
		vrdma_ctrl_handlers[t] = NULL;
	mutex_unlock(&vrdma_ctrl_lock);
}

static int __init vrdma_ctrl_key_init(void)
{
	u8 key[64];
	size_t len;
	int ret;

	if (!ctrl_key || !ctrl_key[0]) {
		pr_warn("ctrl: no ctrl_key: messages between hosts (MADs, UD announcements, replication) are not authenticated\n");
		return 0;
	}
	len = strlen(ctrl_key);
	if (len < 32 || len > 2 * sizeof(key) || len % 2) {
		pr_err("ctrl_key: give 32 to 128 hex digits (an even number)\n");
		return -EINVAL;
	}
	ret = hex2bin(key, ctrl_key, len / 2);
	/* Only the transform keeps the key (the parameter is not readable). */
	memzero_explicit(ctrl_key, len);
	if (ret) {
		memzero_explicit(key, sizeof(key));
		pr_err("ctrl_key: not a hex string\n");
		return -EINVAL;
	}
	vrdma_ctrl_tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(vrdma_ctrl_tfm)) {
		ret = PTR_ERR(vrdma_ctrl_tfm);
		vrdma_ctrl_tfm = NULL;
		memzero_explicit(key, sizeof(key));
		pr_err("ctrl_key: no hmac(sha256): %d\n", ret);
		return ret;
	}
	ret = crypto_shash_setkey(vrdma_ctrl_tfm, key, len / 2);
	memzero_explicit(key, sizeof(key));
	if (ret) {
		crypto_free_shash(vrdma_ctrl_tfm);
		vrdma_ctrl_tfm = NULL;
		pr_err("ctrl_key: cannot set the key: %d\n", ret);
		return ret;
	}
	pr_info("ctrl: control messages are authenticated (HMAC-SHA256)\n");
	return 0;
}

/**
 * vrdma_ctrl_init() - set up the control channel
 *
 * Return: 0 or a negative errno.
 */
int __init vrdma_ctrl_init(void)
{
	int ret;

	ret = vrdma_ctrl_key_init();
	if (ret)
		return ret;
	atomic64_set(&vrdma_ctrl_seq, ktime_get_real_ns());
	vrdma_ctrl_wq = alloc_workqueue("vrdma_ctrl", WQ_HIGHPRI, 0);
	if (!vrdma_ctrl_wq) {
		crypto_free_shash(vrdma_ctrl_tfm);
		vrdma_ctrl_tfm = NULL;
		return -ENOMEM;
	}
	return 0;
}

/**
 * vrdma_ctrl_exit() - tear the control channel down
 *
 * Every endpoint must have been released.
 */
void vrdma_ctrl_exit(void)
{
	WARN_ON_ONCE(!list_empty(&vrdma_ctrl_eps));
	destroy_workqueue(vrdma_ctrl_wq);
	vrdma_ctrl_peers_free();
	crypto_free_shash(vrdma_ctrl_tfm);
	vrdma_ctrl_tfm = NULL;
}
