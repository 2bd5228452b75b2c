// SPDX-License-Identifier: GPL-2.0
/*
 * Interception of the sleepers this host manages (Documentation/sleep.rst).
 *
 * While a domain manages at least one sleeper, five netfilter hooks are
 * registered in its network namespace:
 *
 *  ARP input:        an ARP request for a managed sleeper's IPv4 address,
 *                    on the interception's interface, is answered with
 *                    this host's MAC address (and dropped).  An ARP
 *                    packet (request, reply, gratuitous) whose sender is
 *                    a managed sleeper's address and the sleeper's own
 *                    MAC (lladdr) is its owner speaking: alive, the
 *                    peer is answered for no more (owner_alive) and an
 *                    OWNER_ALIVE event tells the daemon.  Requests from
 *                    ourselves or from 0.0.0.0 (address probes) are left
 *                    alone.
 *  IPv6 pre-routing: a neighbour solicitation for a sleeper's IPv6
 *                    address is answered the same way (duplicate address
 *                    detection from another host included); a
 *                    solicitation or advertisement from the sleeper's own
 *                    MAC whose source or target is a sleeper's address
 *                    is its owner speaking, and never answered: its own
 *                    duplicate address detection as it comes back would
 *                    fail.
 *  IPv4/IPv6 pre-routing: a packet to a sleeper's address that reached
 *                    this host (it answered for it) is classified, counted
 *                    and dropped: a TCP SYN (no ACK, RST or FIN) to one of
 *                    the sleeper's listening ports, or a RoCE v2 CM MAD
 *                    (UDP 4791, BTH opcode UD SEND only, destination QP 1)
 *                    or a MAD of vrdma's tunnel (UDP ctrl_port, a
 *                    control message of type VRDMA_CTRL_GSI_MAD, gsi.c)
 *                    is a valid request and raises a REQUEST event (rate
 *                    limited per sleeper); anything else is ignored.
 *  IPv4/IPv6 local-out: this host's own connection attempts to a sleeper
 *                    are valid requests too (reported, never dropped).
 *
 * Non-first fragments are never valid.  Headers are read with
 * skb_header_pointer(): nothing is assumed of the packet's layout beyond
 * what the IP layer validated before the hook.
 *
 * Taking a sleeper over (PEER_SET with "announce") sends a gratuitous ARP
 * request for each IPv4 address and an unsolicited neighbour
 * advertisement for each IPv6 address, with this host's MAC address, so
 * that neighbours that cached the sleeper's MAC address send to us.  The
 * solicited-node multicast address of each IPv6 address is added to the
 * interface while the sleeper is managed (a NIC filters multicast).
 *
 * Netfilter enables its hook points with static keys (nf_hooks_needed, one
 * per family and hook point, counted): the first hook registered at a point
 * in any namespace patches kernel text at every call site (text_poke_bp(),
 * IPIs to every CPU), and so does the last one's removal.  Sleep management
 * holds a count on the keys of its five hook points for as long as it is
 * loaded, so that taking a sleeper over or releasing it never patches text;
 * while no domain has hooks, each of those points costs one test of an empty
 * hook list per packet, as on any host with a netfilter rule.  (Under
 * emulation, patching a hook point while another CPU sent through it
 * crashed the test VM twice: "Oops: int3" at ip_rcv() and __ip_local_out().)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_arp.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/arp.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/ndisc.h>
#include <rdma/ib_pack.h>

#include "ctrl.h"
#include "gsi.h"
#include "sleep.h"

/* After defragmentation, before connection tracking and raw tables. */
#define VRDMA_SLEEP_HOOK_PRIO	(NF_IP_PRI_CONNTRACK_DEFRAG + 1)

/* Wake-on-LAN's Ethernet type (magic packets). */
#define VRDMA_SLEEP_ETH_P_WOL	0x0842

/* The BTH of a RoCE v2 packet, after its UDP header. */
struct vrdma_sleep_udp_bth {
	struct udphdr uh;
	u8 opcode;
	u8 flags;
	__be16 pkey;
	u8 resv;
	u8 dqpn[3];
	__be32 psn;
};

/* An ARP request or reply over Ethernet for IPv4. */
struct vrdma_sleep_arp {
	struct arphdr h;
	u8 sha[ETH_ALEN];
	__be32 sip;
	u8 tha[ETH_ALEN];
	__be32 tip;
} __packed;

static bool vrdma_sleep_port_listed(const struct vrdma_sleep_peer *peer,
				    u16 port)
{
	unsigned int lo = 0, hi = peer->n_ports;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (peer->ports[mid] == port)
			return true;
		if (peer->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * What the transport header at @off says: a valid request
 * (enum vrdma_sleep_request) or 0.  Fills the ports when it can read them.
 */
static u32 vrdma_sleep_classify(const struct vrdma_sleep_peer *peer,
				const struct sk_buff *skb, unsigned int off,
				u8 proto, u16 *sport, u16 *dport)
{
	const struct vrdma_sleep_udp_bth *b;
	struct vrdma_sleep_udp_bth _b;
	const struct tcphdr *th;
	const struct udphdr *uh;
	struct tcphdr _th;
	struct udphdr _uh;
	struct {
		struct vrdma_ctrl_hdr ctrl;
		__be32 magic;
	} __packed _mad;
	const typeof(_mad) *mad;
	u32 dqpn;

	switch (proto) {
	case IPPROTO_TCP:
		th = skb_header_pointer(skb, off, sizeof(_th), &_th);
		if (!th)
			return 0;
		*sport = ntohs(th->source);
		*dport = ntohs(th->dest);
		if (!th->syn || th->ack || th->rst || th->fin)
			return 0;
		return vrdma_sleep_port_listed(peer, *dport) ?
			VRDMA_SLEEP_REQUEST_TCP_SYN : 0;
	case IPPROTO_UDP:
		uh = skb_header_pointer(skb, off, sizeof(_uh), &_uh);
		if (!uh)
			return 0;
		*sport = ntohs(uh->source);
		*dport = ntohs(uh->dest);
		if (*dport == vrdma_ctrl_port()) {
			mad = skb_header_pointer(skb, off + sizeof(_uh),
						 sizeof(_mad), &_mad);
			return mad &&
			       mad->ctrl.magic == cpu_to_be32(VRDMA_CTRL_MAGIC) &&
			       mad->ctrl.type == VRDMA_CTRL_GSI_MAD &&
			       mad->magic == cpu_to_be32(VRDMA_GSI_MAGIC) ?
				VRDMA_SLEEP_REQUEST_RDMA_CM : 0;
		}
		if (*dport != VRDMA_SLEEP_ROCE_PORT)
			return 0;
		b = skb_header_pointer(skb, off, sizeof(_b), &_b);
		if (!b)
			return 0;
		dqpn = (b->dqpn[0] << 16) | (b->dqpn[1] << 8) | b->dqpn[2];
		if (dqpn != 1 ||
		    (b->opcode != IB_OPCODE_UD_SEND_ONLY &&
		     b->opcode != IB_OPCODE_UD_SEND_ONLY_WITH_IMMEDIATE))
			return 0;
		return VRDMA_SLEEP_REQUEST_RDMA_CM;
	}
	return 0;
}

/*
 * A magic packet for @mac, broadcast on @dev (Ethernet type 0x0842): the
 * module wakes an orphaned domain's sleeper itself.  Any context.
 */
static void vrdma_sleep_wol(struct net_device *dev, const u8 *mac)
{
	int hlen = LL_RESERVED_SPACE(dev), tlen = dev->needed_tailroom;
	struct sk_buff *skb;
	unsigned int i;
	u8 *p;

	skb = alloc_skb(hlen + 6 + 16 * ETH_ALEN + tlen, GFP_ATOMIC);
	if (!skb)
		return;
	skb_reserve(skb, hlen);
	skb_reset_network_header(skb);
	p = skb_put(skb, 6 + 16 * ETH_ALEN);
	memset(p, 0xff, 6);
	for (i = 0; i < 16; i++)
		memcpy(p + 6 + i * ETH_ALEN, mac, ETH_ALEN);
	skb->dev = dev;
	skb->protocol = htons(VRDMA_SLEEP_ETH_P_WOL);
	skb->priority = TC_PRIO_CONTROL;
	if (dev_hard_header(skb, dev, VRDMA_SLEEP_ETH_P_WOL, dev->broadcast,
			    dev->dev_addr, skb->len) < 0) {
		kfree_skb(skb);
		return;
	}
	dev_queue_xmit(skb);
}

/*
 * Count a packet to a managed sleeper; report it if valid (or, the daemon
 * dead, wake the sleeper: @dev is the interface it came in on, NULL for
 * this host's own).
 */
static void vrdma_sleep_seen(struct vrdma_sleep_domain *dom,
			     struct vrdma_sleep_peer *peer, u32 kind,
			     const struct in6_addr *daddr,
			     const struct in6_addr *saddr, u16 sport, u16 dport,
			     struct net_device *dev)
{
	if (!kind) {
		atomic64_inc(&peer->stats.ignored);
		return;
	}
	atomic64_inc(&peer->stats.valid);
	if (!vrdma_sleep_event_due(dom, peer))
		return;
	atomic64_inc(&peer->stats.events);
	if (vrdma_sleep_orphaned(dom)) {
		if (dev && dev->type == ARPHRD_ETHER && peer->has_lladdr)
			vrdma_sleep_wol(dev, peer->lladdr);
		return;
	}
	vrdma_sleep_event_request(dom, peer, daddr, saddr, sport, dport, kind,
				  dev ? dev->ifindex : 0);
}

/* A managed peer that owns @addr and whose interception is on @in. */
static struct vrdma_sleep_peer *
vrdma_sleep_managed(struct vrdma_sleep_domain *dom, const struct in6_addr *addr,
		    const struct net_device *in)
{
	struct vrdma_sleep_peer *peer = vrdma_sleep_addr_find_rcu(dom, addr);
	unsigned long until;

	if (!peer || !peer->managed || READ_ONCE(peer->handed_over))
		return NULL;
	/* A dead daemon's sleepers, kept for a while only. */
	until = READ_ONCE(dom->orphan_until);
	if (until && !time_before(jiffies, until))
		return NULL;
	if (in && in->ifindex != peer->ifindex)
		return NULL;
	return peer;
}

/* Is @mac the owner's of @peer (as the daemon told)? */
static bool vrdma_sleep_is_owner(const struct vrdma_sleep_peer *peer,
				 const u8 *mac)
{
	return peer->has_lladdr && ether_addr_equal(peer->lladdr, mac);
}

/* Did @skb (received) come from @peer's owner's MAC (its Ethernet source)? */
static bool vrdma_sleep_from_owner(const struct vrdma_sleep_peer *peer,
				   const struct sk_buff *skb)
{
	return skb_mac_header_was_set(skb) &&
	       skb_mac_header_len(skb) >= ETH_HLEN &&
	       vrdma_sleep_is_owner(peer, eth_hdr(skb)->h_source);
}

/*
 * @saddr, an address of managed @peer, spoke on @dev from the owner's MAC
 * (not another manager's announcement): the owner is alive.  Stop answering for it; tell the daemon
 * (rate limited as the other events).
 */
static void vrdma_sleep_owner_spoke(struct vrdma_sleep_domain *dom,
				    struct vrdma_sleep_peer *peer,
				    const struct in6_addr *saddr,
				    const struct net_device *dev)
{
	if (!READ_ONCE(peer->owner_alive))
		WRITE_ONCE(peer->owner_alive, true);
	if (vrdma_sleep_event_due(dom, peer))
		vrdma_sleep_event_owner(dom, peer, saddr, dev->ifindex);
}

static unsigned int vrdma_sleep_ipv4(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct vrdma_sleep_domain *dom = priv;
	const struct iphdr *iph = ip_hdr(skb);
	struct vrdma_sleep_peer *peer;
	struct in6_addr daddr, saddr;
	bool in = state->hook == NF_INET_PRE_ROUTING;
	u16 sport = 0, dport = 0;
	u32 kind = 0;

	ipv6_addr_set_v4mapped(iph->daddr, &daddr);
	peer = vrdma_sleep_managed(dom, &daddr, in ? state->in : NULL);
	if (!peer || READ_ONCE(peer->owner_alive))
		return NF_ACCEPT;

	if (!(ntohs(iph->frag_off) & IP_OFFSET))
		kind = vrdma_sleep_classify(peer, skb, ip_hdrlen(skb),
					    iph->protocol, &sport, &dport);
	if (!in && !kind)
		return NF_ACCEPT;
	ipv6_addr_set_v4mapped(iph->saddr, &saddr);
	vrdma_sleep_seen(dom, peer, kind, &daddr, &saddr, sport, dport,
			 in ? state->in : NULL);
	return in ? NF_DROP : NF_ACCEPT;
}

/*
 * Send a neighbour advertisement for @target with @dev's MAC address to
 * @daddr (MAC @dmac).  Any context.
 */
static void vrdma_sleep_send_na(struct net_device *dev,
				const struct in6_addr *target,
				const struct in6_addr *daddr, const u8 *dmac,
				bool solicited, gfp_t gfp)
{
	int hlen = LL_RESERVED_SPACE(dev), tlen = dev->needed_tailroom;
	int len = sizeof(struct nd_msg) + 8;	/* target link-layer option */
	struct ipv6hdr *ip6h;
	struct sk_buff *skb;
	struct nd_msg *msg;

	skb = alloc_skb(hlen + sizeof(*ip6h) + len + tlen, gfp);
	if (!skb)
		return;
	skb_reserve(skb, hlen);
	skb_reset_network_header(skb);
	ip6h = skb_put(skb, sizeof(*ip6h));
	ip6_flow_hdr(ip6h, 0, 0);
	ip6h->payload_len = htons(len);
	ip6h->nexthdr = IPPROTO_ICMPV6;
	ip6h->hop_limit = 255;
	ip6h->saddr = *target;
	ip6h->daddr = *daddr;

	skb_set_transport_header(skb, sizeof(*ip6h));
	msg = skb_put_zero(skb, len);
	msg->icmph.icmp6_type = NDISC_NEIGHBOUR_ADVERTISEMENT;
	msg->icmph.icmp6_solicited = solicited;
	msg->icmph.icmp6_override = 1;
	msg->target = *target;
	msg->opt[0] = ND_OPT_TARGET_LL_ADDR;
	msg->opt[1] = 1;			/* in units of 8 bytes */
	ether_addr_copy(&msg->opt[2], dev->dev_addr);
	msg->icmph.icmp6_cksum = csum_ipv6_magic(target, daddr, len,
						 IPPROTO_ICMPV6,
						 csum_partial(msg, len, 0));

	skb->dev = dev;
	skb->protocol = htons(ETH_P_IPV6);
	skb->priority = TC_PRIO_CONTROL;
	if (dev_hard_header(skb, dev, ETH_P_IPV6, dmac, dev->dev_addr,
			    skb->len) < 0) {
		kfree_skb(skb);
		return;
	}
	dev_queue_xmit(skb);
}

static const u8 vrdma_sleep_all_nodes_mac[ETH_ALEN] = {
	0x33, 0x33, 0x00, 0x00, 0x00, 0x01
};

/* A neighbour solicitation for a managed sleeper: answer it.  */
static bool vrdma_sleep_ns(struct vrdma_sleep_domain *dom,
			   struct sk_buff *skb, unsigned int off,
			   const struct nf_hook_state *state)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	struct net_device *dev = state->in;
	struct vrdma_sleep_peer *peer;
	const struct nd_msg *ns;
	struct in6_addr daddr;
	const u8 *dmac;
	struct nd_msg _ns;
	bool dad;

	ns = skb_header_pointer(skb, off, sizeof(_ns), &_ns);
	if (!ns || ns->icmph.icmp6_code || ip6h->hop_limit != 255 ||
	    (ns->icmph.icmp6_type != NDISC_NEIGHBOUR_SOLICITATION &&
	     ns->icmph.icmp6_type != NDISC_NEIGHBOUR_ADVERTISEMENT))
		return false;
	/*
	 * From a sleeper's own MAC, with its address as the source (a
	 * solicitation of its own, an advertisement) or as the target (its
	 * duplicate address detection, from ::, as it comes back; its
	 * advertisement from another address): its owner speaks.  Never
	 * answered: an answer to its DAD would take its address away.
	 */
	peer = vrdma_sleep_managed(dom, &ip6h->saddr, dev);
	if (peer && vrdma_sleep_from_owner(peer, skb)) {
		vrdma_sleep_owner_spoke(dom, peer, &ip6h->saddr, dev);
		return false;
	}
	peer = vrdma_sleep_managed(dom, &ns->target, dev);
	if (peer && vrdma_sleep_from_owner(peer, skb)) {
		vrdma_sleep_owner_spoke(dom, peer, &ns->target, dev);
		return false;
	}
	if (ns->icmph.icmp6_type != NDISC_NEIGHBOUR_SOLICITATION)
		return false;
	if (!peer || READ_ONCE(peer->owner_alive))
		return false;
	if (dev->type != ARPHRD_ETHER || !skb_mac_header_was_set(skb) ||
	    skb_mac_header_len(skb) < ETH_HLEN)
		return true;

	/* Duplicate address detection: the address is in use. */
	dad = ipv6_addr_any(&ip6h->saddr);
	if (dad) {
		ipv6_addr_set(&daddr, htonl(0xff020000), 0, 0, htonl(1));
		dmac = vrdma_sleep_all_nodes_mac;
	} else {
		daddr = ip6h->saddr;
		dmac = eth_hdr(skb)->h_source;
	}
	vrdma_sleep_send_na(dev, &ns->target, &daddr, dmac, !dad, GFP_ATOMIC);
	atomic64_inc(&peer->stats.arp_replies);
	return true;
}

static unsigned int vrdma_sleep_ipv6(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct vrdma_sleep_domain *dom = priv;
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	bool in = state->hook == NF_INET_PRE_ROUTING;
	struct vrdma_sleep_peer *peer;
	u8 nexthdr = ip6h->nexthdr;
	u16 sport = 0, dport = 0;
	__be16 frag_off = 0;
	u32 kind = 0;
	int off;

	off = ipv6_skip_exthdr(skb, sizeof(*ip6h), &nexthdr, &frag_off);
	if (off < 0)
		return NF_ACCEPT;
	if (in && nexthdr == IPPROTO_ICMPV6 && !(frag_off & htons(~0x7)) &&
	    vrdma_sleep_ns(dom, skb, off, state))
		return NF_DROP;

	peer = vrdma_sleep_managed(dom, &ip6h->daddr, in ? state->in : NULL);
	if (!peer || READ_ONCE(peer->owner_alive))
		return NF_ACCEPT;
	if (!(frag_off & htons(~0x7)))
		kind = vrdma_sleep_classify(peer, skb, off, nexthdr, &sport,
					    &dport);
	if (!in && !kind)
		return NF_ACCEPT;
	vrdma_sleep_seen(dom, peer, kind, &ip6h->daddr, &ip6h->saddr, sport,
			 dport, in ? state->in : NULL);
	return in ? NF_DROP : NF_ACCEPT;
}

static unsigned int vrdma_sleep_arp_in(void *priv, struct sk_buff *skb,
				       const struct nf_hook_state *state)
{
	struct vrdma_sleep_domain *dom = priv;
	struct net_device *dev = state->in;
	const struct vrdma_sleep_arp *a;
	struct vrdma_sleep_peer *peer;
	struct vrdma_sleep_arp _a;
	struct in6_addr sip, tip;

	if (!dev || dev->type != ARPHRD_ETHER || dev->addr_len != ETH_ALEN)
		return NF_ACCEPT;
	a = skb_header_pointer(skb, 0, sizeof(_a), &_a);
	if (!a || a->h.ar_hrd != htons(ARPHRD_ETHER) ||
	    a->h.ar_pro != htons(ETH_P_IP) || a->h.ar_hln != ETH_ALEN ||
	    a->h.ar_pln != 4 ||
	    (a->h.ar_op != htons(ARPOP_REQUEST) &&
	     a->h.ar_op != htons(ARPOP_REPLY)))
		return NF_ACCEPT;
	/* Our own, or from nobody valid. */
	if (ether_addr_equal(a->sha, dev->dev_addr) ||
	    !is_valid_ether_addr(a->sha))
		return NF_ACCEPT;

	/*
	 * Any ARP from a managed sleeper's address, a reply to a probe, a
	 * request of its own or its gratuitous announcement: the owner is
	 * alive.
	 */
	if (a->sip) {
		ipv6_addr_set_v4mapped(a->sip, &sip);
		peer = vrdma_sleep_managed(dom, &sip, dev);
		if (peer && vrdma_sleep_is_owner(peer, a->sha)) {
			vrdma_sleep_owner_spoke(dom, peer, &sip, dev);
			return NF_ACCEPT;
		}
		/* The daemon dead: another host announcing it took it over. */
		if (peer && a->sip == a->tip && vrdma_sleep_orphaned(dom)) {
			WRITE_ONCE(peer->handed_over, true);
			return NF_ACCEPT;
		}
	}
	/* Address probes (sender 0.0.0.0) are never answered. */
	if (a->h.ar_op != htons(ARPOP_REQUEST) || !a->sip || a->sip == a->tip)
		return NF_ACCEPT;

	ipv6_addr_set_v4mapped(a->tip, &tip);
	peer = vrdma_sleep_managed(dom, &tip, dev);
	if (!peer || READ_ONCE(peer->owner_alive))
		return NF_ACCEPT;
	arp_send(ARPOP_REPLY, ETH_P_ARP, a->sip, dev, a->tip, a->sha,
		 dev->dev_addr, a->sha);
	atomic64_inc(&peer->stats.arp_replies);
	return NF_DROP;
}

static const struct nf_hook_ops vrdma_sleep_hook_tmpl[] = {
	{
		.hook		= vrdma_sleep_ipv4,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= VRDMA_SLEEP_HOOK_PRIO,
	},
	{
		.hook		= vrdma_sleep_ipv4,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= VRDMA_SLEEP_HOOK_PRIO,
	},
	{
		.hook		= vrdma_sleep_ipv6,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= VRDMA_SLEEP_HOOK_PRIO,
	},
	{
		.hook		= vrdma_sleep_ipv6,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= VRDMA_SLEEP_HOOK_PRIO,
	},
#if IS_ENABLED(CONFIG_NETFILTER_FAMILY_ARP)
	{
		.hook		= vrdma_sleep_arp_in,
		.pf		= NFPROTO_ARP,
		.hooknum	= NF_ARP_IN,
	},
#endif
};

static_assert(ARRAY_SIZE(vrdma_sleep_hook_tmpl) <= VRDMA_SLEEP_NR_HOOKS);

/**
 * vrdma_sleep_hooks_update() - register or unregister a domain's hooks
 * @dom: the domain
 *
 * The hooks are registered while the domain manages a sleeper.
 *
 * Context: vrdma_sleep_lock held.
 * Return: 0 or the error of nf_register_net_hooks().
 */
int vrdma_sleep_hooks_update(struct vrdma_sleep_domain *dom)
{
	unsigned int i;
	int ret;

	lockdep_assert_held(&vrdma_sleep_lock);

	if (!dom->n_managed) {
		vrdma_sleep_hooks_off(dom);
		return 0;
	}
	if (dom->hooks_on)
		return 0;
	for (i = 0; i < ARRAY_SIZE(vrdma_sleep_hook_tmpl); i++) {
		dom->hooks[i] = vrdma_sleep_hook_tmpl[i];
		dom->hooks[i].priv = dom;
	}
	ret = nf_register_net_hooks(dom->net, dom->hooks,
				    ARRAY_SIZE(vrdma_sleep_hook_tmpl));
	if (ret)
		return ret;
	dom->hooks_on = true;
	return 0;
}

/**
 * vrdma_sleep_hooks_off() - unregister a domain's hooks
 * @dom: the domain
 *
 * Returns once no hook runs any more (nf_unregister_net_hooks()
 * synchronises).
 *
 * Context: vrdma_sleep_lock held.
 */
void vrdma_sleep_hooks_off(struct vrdma_sleep_domain *dom)
{
	lockdep_assert_held(&vrdma_sleep_lock);

	if (!dom->hooks_on)
		return;
	nf_unregister_net_hooks(dom->net, dom->hooks,
				ARRAY_SIZE(vrdma_sleep_hook_tmpl));
	dom->hooks_on = false;
}

/* Add or remove the solicited-node multicast addresses of @peer's IPv6
 * addresses on @dev.
 */
static void vrdma_sleep_mc(struct net_device *dev,
			   const struct vrdma_sleep_peer *peer, bool add)
{
	char mac[MAX_ADDR_LEN];
	struct in6_addr maddr;
	unsigned int i;

	for (i = 0; i < peer->n_addrs; i++) {
		const struct in6_addr *addr = &peer->addrs[i].addr;

		if (ipv6_addr_v4mapped(addr))
			continue;
		addrconf_addr_solict_mult(addr, &maddr);
		if (ndisc_mc_map(&maddr, mac, dev, 0))
			continue;
		if (add)
			dev_mc_add(dev, mac);
		else
			dev_mc_del(dev, mac);
	}
}

/**
 * vrdma_sleep_icpt_start() - start intercepting a managed peer's addresses
 * @dom: the domain
 * @peer: the peer (just linked; nothing to do unless managed)
 *
 * Context: vrdma_sleep_lock held.
 */
void vrdma_sleep_icpt_start(struct vrdma_sleep_domain *dom,
			    struct vrdma_sleep_peer *peer)
{
	struct net_device *dev;

	lockdep_assert_held(&vrdma_sleep_lock);

	if (!peer->managed)
		return;
	dev = dev_get_by_index(dom->net, peer->ifindex);
	if (!dev)
		return;
	vrdma_sleep_mc(dev, peer, true);
	peer->mc_added = true;
	dev_put(dev);
}

/**
 * vrdma_sleep_icpt_stop() - stop intercepting a peer's addresses
 * @dom: the domain
 * @peer: the peer (about to be unlinked)
 *
 * Context: vrdma_sleep_lock held.
 */
void vrdma_sleep_icpt_stop(struct vrdma_sleep_domain *dom,
			   struct vrdma_sleep_peer *peer)
{
	struct net_device *dev;

	lockdep_assert_held(&vrdma_sleep_lock);

	if (!peer->managed || !peer->mc_added)
		return;
	peer->mc_added = false;
	dev = dev_get_by_index(dom->net, peer->ifindex);
	if (!dev)
		return;
	vrdma_sleep_mc(dev, peer, false);
	dev_put(dev);
}

/**
 * vrdma_sleep_announce() - tell the link that a managed peer is here
 * @dom: the domain
 * @peer: the managed peer
 *
 * Gratuitous ARP requests and unsolicited neighbour advertisements with
 * this host's MAC address for each of the peer's addresses.
 *
 * Context: vrdma_sleep_lock held, process context.
 */
void vrdma_sleep_announce(struct vrdma_sleep_domain *dom,
			  const struct vrdma_sleep_peer *peer)
{
	struct in6_addr all_nodes;
	struct net_device *dev;
	unsigned int i;

	lockdep_assert_held(&vrdma_sleep_lock);

	if (!peer->managed || READ_ONCE(peer->owner_alive))
		return;
	dev = dev_get_by_index(dom->net, peer->ifindex);
	if (!dev)
		return;
	ipv6_addr_set(&all_nodes, htonl(0xff020000), 0, 0, htonl(1));
	for (i = 0; i < peer->n_addrs; i++) {
		const struct in6_addr *addr = &peer->addrs[i].addr;
		__be32 ip = addr->s6_addr32[3];

		if (ipv6_addr_v4mapped(addr))
			arp_send(ARPOP_REQUEST, ETH_P_ARP, ip, dev, ip, NULL,
				 dev->dev_addr, NULL);
		else
			vrdma_sleep_send_na(dev, addr, &all_nodes,
					    vrdma_sleep_all_nodes_mac, false,
					    GFP_KERNEL);
	}
	dev_put(dev);
}

/*
 * An interface goes away: its multicast list goes with it, so the
 * interception of its sleepers has nothing to remove later.  (Their
 * interception stays, on an ifindex that no longer exists, until the
 * daemon changes it.)
 */
static int vrdma_sleep_netdev_event(struct notifier_block *nb,
				    unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct vrdma_sleep_domain *dom;
	struct vrdma_sleep_peer *peer;
	int bkt;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;

	mutex_lock(&vrdma_sleep_lock);
	dom = vrdma_sleep_domain_find(dev_net(dev));
	if (dom)
		hash_for_each(dom->peers, bkt, peer, node)
			if (peer->managed && peer->ifindex == dev->ifindex)
				peer->mc_added = false;
	mutex_unlock(&vrdma_sleep_lock);
	return NOTIFY_DONE;
}

static struct notifier_block vrdma_sleep_netdev_nb = {
	.notifier_call = vrdma_sleep_netdev_event,
};

/* Take or drop a count on the static keys of the hook points (above). */
static void vrdma_sleep_hook_keys(bool hold)
{
#ifdef CONFIG_JUMP_LABEL
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vrdma_sleep_hook_tmpl); i++) {
		const struct nf_hook_ops *ops = &vrdma_sleep_hook_tmpl[i];
		struct static_key *key = &nf_hooks_needed[ops->pf][ops->hooknum];

		if (hold)
			static_key_slow_inc(key);
		else
			static_key_slow_dec(key);
	}
#endif
}

int vrdma_sleep_hook_init(void)
{
	int ret;

	ret = register_netdevice_notifier(&vrdma_sleep_netdev_nb);
	if (!ret)
		vrdma_sleep_hook_keys(true);
	return ret;
}

void vrdma_sleep_hook_exit(void)
{
	vrdma_sleep_hook_keys(false);
	unregister_netdevice_notifier(&vrdma_sleep_netdev_nb);
}
