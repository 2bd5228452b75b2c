// SPDX-License-Identifier: GPL-2.0
/*
 * The GSI QP (QP1) of a virtual device, and the tunnel that carries its
 * MADs between hosts.
 *
 * rdma_cm connects through ib_cm, whose REQ/REP/RTU MADs go through each
 * device's QP1.  The physical RNIC's QP1 belongs to the physical device's
 * own MAD stack, so a virtual device cannot use it: its QP1 is emulated
 * here.  A MAD sent on it goes to the host that runs the destination
 * overlay address (the address map), as a message of the control channel
 * between hosts' modules (ctrl.c: authenticated with a cluster key) from
 * this host's physical RNIC address to that host's, over the physical
 * network.  The receiving module delivers it to the QP1 of the one
 * virtual device that owns the destination address, in the sender's
 * virtual network, on the physical device the datagram arrived on, with a
 * GRH of overlay addresses.
 *
 * Tenants stay apart: the source address and virtual network of a MAD are
 * those of the sending device (never taken from the MAD or from userspace),
 * and a MAD is delivered only to a device of the same virtual network
 * that owns the destination address.  A destination not in the map fails
 * the send at once (ib_cm then reports the connection as unreachable
 * instead of timing out).
 *
 * The QP1 is a kernel QP of ib_mad: its work requests carry kernel
 * virtual addresses (the virtual device uses ib_core's virtual DMA), and
 * its completions go to a kernel CQ (cq.c).  Sends are handed to a work
 * item (the map lookup and the socket may sleep); received messages are
 * delivered from the control channel's receive work.
 *
 * Locking: vdev->gsi_lock (a spinlock) protects vdev->gsi and the receive
 * ring of the GSI QP; the tunnel list is under vrdma_tun_lock (a mutex).
 * Delivery looks devices up under vrdma_devs_lock, then takes gsi_lock.
 * vrdma_tun_lock is held alone, and never while an endpoint of the control
 * channel is released (that waits for the endpoint's receive work).  The
 * module's lock order: Documentation/architecture.rst, "Locking".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jhash.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <linux/workqueue.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_mad.h>
#include <rdma/ib_cm.h>
#include <rdma/ibta_vol1_c12.h>
#include <uapi/linux/vrdma.h>

#include "audit.h"
#include "counters.h"
#include "ctrl.h"
#include "gsi.h"
#include "hooks.h"
#include "map.h"
#include "phys.h"
#include "vdev.h"
#include "verbs.h"

#define VRDMA_GSI_MAX_PAYLOAD	2048
#define VRDMA_GSI_MAX_SGE	4
#define VRDMA_GSI_MAX_WR	1024

/**
 * struct vrdma_gsi_hdr - a tunnelled MAD, on the wire (big endian)
 * @magic: VRDMA_GSI_MAGIC
 * @len: payload bytes following the header
 * @vni: virtual network of both ends
 * @src_qpn: sending QP (1)
 * @dst_qpn: destination QP (1)
 * @qkey: Q_Key the sender used
 * @pkey: P_Key
 * @rsvd: zero
 * @sgid: overlay source address (the sending device's GID)
 * @dgid: overlay destination address
 */
struct vrdma_gsi_hdr {
	__be32 magic;
	__be32 len;
	__be32 vni;
	__be32 src_qpn;
	__be32 dst_qpn;
	__be32 qkey;
	__be16 pkey;
	__be16 rsvd;
	u8 sgid[16];
	u8 dgid[16];
} __packed;

/**
 * struct vrdma_gsi_pkt - a MAD on its way, with its header
 * @node: entry in a queue
 * @wr_id: the send's wr_id (or wr_cqe)
 * @signaled: the send wants a completion
 * @len: bytes in @data
 * @data: header and payload
 */
struct vrdma_gsi_pkt {
	struct list_head node;
	u64 wr_id;
	bool signaled;
	u32 len;
	u8 data[];
};

struct vrdma_gsi_recv {
	u64 wr_id;
	u32 num_sge;
	struct ib_sge sge[VRDMA_GSI_MAX_SGE];
};

/**
 * struct vrdma_gsi - the emulated QP1 of a device
 * @qp: the QP
 * @tun: the tunnel of the device's physical device
 * @rq: posted receives (a ring), under vdev->gsi_lock
 * @rq_size: ring slots (power of two)
 * @rq_head: oldest posted receive
 * @rq_tail: next free slot
 * @tx_lock: protects @txq; taken with IRQs off (post_send runs in any
 *	context: ib_mad calls it under a spin_lock_irqsave())
 * @txq: MADs to send
 * @tx_work: sends them
 */
struct vrdma_gsi {
	struct vrdma_qp *qp;
	struct vrdma_tun *tun;
	struct vrdma_gsi_recv *rq;
	u32 rq_size;
	u32 rq_head;
	u32 rq_tail;
	spinlock_t tx_lock;	/* protects txq */
	struct list_head txq;
	struct work_struct tx_work;
};

/**
 * struct vrdma_tun - the MAD tunnel endpoint of a physical device
 * @node: entry in vrdma_tuns (vrdma_tun_lock)
 * @users: GSI and UD QPs using it (vrdma_tun_lock)
 * @phys: the physical device (a reference)
 * @ep: the control channel's endpoint of @addr (ctrl.c)
 * @addr: the device's routable address, as a GID
 */
struct vrdma_tun {
	struct list_head node;
	unsigned int users;
	struct vrdma_phys *phys;
	struct vrdma_ctrl_ep *ep;
	union ib_gid addr;
};

static DEFINE_MUTEX(vrdma_tun_lock);
static LIST_HEAD(vrdma_tuns);

/* ------------------------------------------------------------------ */
/* Delivery                                                             */

static void vrdma_gsi_free_queue(struct list_head *q)
{
	struct vrdma_gsi_pkt *pkt, *tmp;

	list_for_each_entry_safe(pkt, tmp, q, node) {
		list_del(&pkt->node);
		kfree(pkt);
	}
}

/* Write the overlay GRH of a MAD (IPv4 header in the last 20 bytes). */
static void vrdma_gsi_grh(struct ib_grh *grh, const union ib_gid *sgid,
			  const union ib_gid *dgid, u32 payload)
{
	struct iphdr *ip4 = (struct iphdr *)((u8 *)grh + 20);

	memset(grh, 0, sizeof(*grh));
	if (ipv6_addr_v4mapped((const struct in6_addr *)sgid)) {
		ip4->version = 4;
		ip4->ihl = 5;
		ip4->tot_len = htons(payload + sizeof(*ip4) + 8);
		ip4->frag_off = htons(IP_DF);
		ip4->ttl = 64;
		ip4->protocol = IPPROTO_UDP;
		memcpy(&ip4->saddr, &sgid->raw[12], 4);
		memcpy(&ip4->daddr, &dgid->raw[12], 4);
		ip4->check = ip_fast_csum(ip4, ip4->ihl);
	} else {
		grh->version_tclass_flow = cpu_to_be32(6U << 28);
		grh->paylen = cpu_to_be16(payload + 8);
		grh->next_hdr = IPPROTO_UDP;
		grh->hop_limit = 64;
		grh->sgid = *sgid;
		grh->dgid = *dgid;
	}
}

/* Copy @len bytes to the scatter list of a receive, from @off on. */
static bool vrdma_gsi_scatter(const struct vrdma_gsi_recv *r, u32 off,
			      const void *src, u32 len)
{
	u32 i;

	for (i = 0; i < r->num_sge && len; i++) {
		u32 n;

		if (off >= r->sge[i].length) {
			off -= r->sge[i].length;
			continue;
		}
		n = min(len, r->sge[i].length - off);
		memcpy((void *)(uintptr_t)(r->sge[i].addr + off), src, n);
		src += n;
		len -= n;
		off = 0;
	}
	return !len;
}

/*
 * Give a MAD to the QP1 of @vdev.  Returns false when the device has no
 * QP1 ready or no receive posted (the MAD is dropped, as on the wire).
 */
static bool vrdma_gsi_deliver_to(struct vrdma_dev *vdev,
				 const struct vrdma_gsi_hdr *hdr,
				 const u8 *payload, u32 len)
{
	union ib_gid sgid, dgid;
	struct vrdma_gsi_recv r;
	struct ib_wc wc = {};
	struct vrdma_gsi *gsi;
	struct ib_grh grh;
	unsigned long flags;
	struct vrdma_qp *qp;

	memcpy(sgid.raw, hdr->sgid, sizeof(sgid.raw));
	memcpy(dgid.raw, hdr->dgid, sizeof(dgid.raw));

	spin_lock_irqsave(&vdev->gsi_lock, flags);
	gsi = vdev->gsi;
	if (!gsi || gsi->qp->state < IB_QPS_RTR ||
	    gsi->qp->state == IB_QPS_ERR ||
	    be32_to_cpu(hdr->qkey) != gsi->qp->gsi_qkey ||
	    gsi->rq_head == gsi->rq_tail) {
		spin_unlock_irqrestore(&vdev->gsi_lock, flags);
		vrdma_stat_inc(vdev, VRDMA_STAT_MAD_RX_DROP);
		pr_debug("%s: MAD dropped (QP1 %s, Q_Key %#x)\n",
			 dev_name(&vdev->ibdev.dev),
			 gsi ? "not ready, full or another Q_Key" : "absent",
			 be32_to_cpu(hdr->qkey));
		return false;
	}
	qp = gsi->qp;
	r = gsi->rq[gsi->rq_head & (gsi->rq_size - 1)];
	gsi->rq_head++;

	vrdma_gsi_grh(&grh, &sgid, &dgid, len);
	wc.wr_id = r.wr_id;
	wc.qp = &qp->ibqp;
	wc.opcode = IB_WC_RECV;
	wc.src_qp = be32_to_cpu(hdr->src_qpn);
	wc.wc_flags = IB_WC_GRH | IB_WC_WITH_NETWORK_HDR_TYPE;
	wc.network_hdr_type = ipv6_addr_v4mapped((struct in6_addr *)&sgid) ?
			      RDMA_NETWORK_IPV4 : RDMA_NETWORK_IPV6;
	wc.pkey_index = 0;
	wc.port_num = 1;
	if (vrdma_gsi_scatter(&r, 0, &grh, sizeof(grh)) &&
	    vrdma_gsi_scatter(&r, sizeof(grh), payload, len)) {
		wc.status = IB_WC_SUCCESS;
		wc.byte_len = sizeof(grh) + len;
	} else {
		wc.status = IB_WC_LOC_LEN_ERR;
	}
	/* Under gsi_lock: the QP and its CQ cannot go away meanwhile. */
	vrdma_cq_push_kernel(qp->rcq, &wc);
	spin_unlock_irqrestore(&vdev->gsi_lock, flags);
	vrdma_stat_inc(vdev, VRDMA_STAT_MAD_RX);
	return true;
}

/* The devices of a MAD's vni on @phys that hold its destination. */
struct vrdma_gsi_find {
	struct vrdma_phys *phys;
	u32 vni;
	union ib_gid dgid;
	struct vrdma_dev *vdev;
	unsigned int n;
};

static int vrdma_gsi_find_fn(struct vrdma_dev *vdev, void *arg)
{
	struct vrdma_gsi_find *f = arg;
	const struct ib_gid_attr *attr;

	/* Only devices of the physical device the MAD arrived on. */
	if (vdev->phys != f->phys || vdev->vni != f->vni)
		return 0;
	/*
	 * A device is on the list before it is registered (and while it is
	 * unregistered): its GID table exists only while it is registered.
	 * The reference keeps it registered until the delivery is done.
	 */
	if (!ib_device_try_get(&vdev->ibdev))
		return 0;
	attr = rdma_find_gid_by_port(&vdev->ibdev, &f->dgid,
				     IB_GID_TYPE_ROCE_UDP_ENCAP, 1, NULL);
	if (IS_ERR(attr)) {
		ib_device_put(&vdev->ibdev);
		return 0;
	}
	rdma_put_gid_attr(attr);
	if (!f->n++) {
		f->vdev = vdev;
		return 0;
	}
	/* Two devices hold the address: neither gets the MAD. */
	ib_device_put(&vdev->ibdev);
	return 1;
}

/* A MAD arrived for a device of @phys (process context). */
static void vrdma_gsi_deliver(struct vrdma_phys *phys, const u8 *data,
			      u32 len)
{
	const struct vrdma_gsi_hdr *hdr = (const void *)data;
	struct vrdma_gsi_find f = { .phys = phys };
	bool delivered = false;

	if (len < sizeof(*hdr) || be32_to_cpu(hdr->magic) != VRDMA_GSI_MAGIC ||
	    be32_to_cpu(hdr->len) != len - sizeof(*hdr) ||
	    be32_to_cpu(hdr->len) > VRDMA_GSI_MAX_PAYLOAD ||
	    be32_to_cpu(hdr->vni) > VRDMA_VNI_MAX ||
	    be32_to_cpu(hdr->dst_qpn) != 1 || hdr->rsvd)
		return;
	f.vni = be32_to_cpu(hdr->vni);
	memcpy(f.dgid.raw, hdr->dgid, sizeof(f.dgid.raw));
	/*
	 * To the one device of the vni on @phys that holds the address,
	 * unless the map places the address on another host (map.c).
	 */
	if (!vrdma_map_elsewhere(phys->ibdev, 1, f.vni, &f.dgid))
		vrdma_devs_for_each(vrdma_gsi_find_fn, &f);
	if (f.vdev) {
		if (f.n == 1)
			delivered = vrdma_gsi_deliver_to(f.vdev, hdr,
							 data + sizeof(*hdr),
							 len - sizeof(*hdr));
		ib_device_put(&f.vdev->ibdev);
	}
	pr_debug("MAD for %pI6 (vni %u) on %s: %s\n", hdr->dgid, f.vni,
		 dev_name(&phys->ibdev->dev), delivered ? "delivered" : "dropped");
}

/* ------------------------------------------------------------------ */
/* The UD sender directory                                              */

/*
 * A UD datagram's GRH, written by the physical RNIC, names the sending
 * host, not the sending container.  Before a UD QP first sends to a host
 * (and again every VRDMA_UDA_REFRESH), its module tells that host's module
 * which overlay address and virtual network the QP belongs to; receivers
 * keep this in a bounded directory (oldest entries go first).  An
 * announcement is accepted only from the host it describes (its source
 * address) and for an overlay address the map places on that host, so a
 * host cannot speak for another; with a cluster key it is authenticated
 * (ctrl.c).
 */
#define VRDMA_UDA_MAGIC		0x76524431	/* "vRD1" */
#define VRDMA_UDA_ACK_MAGIC	0x76524432	/* "vRD2": learned, from the receiver */

/* Announcers wait here for the receiver's acknowledgment. */
static DECLARE_WAIT_QUEUE_HEAD(vrdma_uda_wq);
static unsigned int uda_ack_ms = 200;
module_param(uda_ack_ms, uint, 0644);
MODULE_PARM_DESC(uda_ack_ms,
		 "How long a UD QP's first send to a host waits for that host to learn who it is (ms)");

static unsigned int ud_senders_max = 16384;
module_param(ud_senders_max, uint, 0644);
MODULE_PARM_DESC(ud_senders_max,
		 "UD senders of other hosts remembered for GRH rewriting");

/**
 * struct vrdma_uda_msg - a UD QP announces itself (big endian)
 * @magic: VRDMA_UDA_MAGIC
 * @vni: its virtual network
 * @qpn: its (physical) QP number
 * @rsvd: zero
 * @host: its host's physical address (the datagram's source)
 * @overlay: its overlay address
 */
struct vrdma_uda_msg {
	__be32 magic;
	__be32 vni;
	__be32 qpn;
	__be32 rsvd;
	u8 host[16];
	u8 overlay[16];
} __packed;

struct vrdma_ud_sender {
	struct hlist_node hnode;
	struct list_head lru;
	union ib_gid host;
	u32 qpn;
	u32 vni;
	union ib_gid overlay;
	unsigned long learned_at;
	struct rcu_head rcu;
};

static DEFINE_SPINLOCK(vrdma_uds_lock);	/* writers of the directory */
static DEFINE_HASHTABLE(vrdma_uds, 10);
static LIST_HEAD(vrdma_uds_lru);
static unsigned int vrdma_uds_nr;

static u32 vrdma_uds_key(const union ib_gid *host, u32 qpn)
{
	return jhash(host->raw, sizeof(host->raw), qpn);
}

static struct vrdma_ud_sender *vrdma_uds_find(const union ib_gid *host,
					      u32 qpn)
{
	struct vrdma_ud_sender *e;

	hash_for_each_possible_rcu(vrdma_uds, e, hnode,
				   vrdma_uds_key(host, qpn))
		if (e->qpn == qpn && !memcmp(&e->host, host, sizeof(*host)))
			return e;
	return NULL;
}

/*
 * An announcement arrived from @src (the datagram's source); process
 * context.
 * Return: true when it was learned.
 */
static bool vrdma_uds_learn(const struct vrdma_uda_msg *m,
			    const union ib_gid *src)
{
	struct vrdma_ud_sender *e, *old;
	union ib_gid host, overlay;

	memcpy(host.raw, m->host, sizeof(host.raw));
	memcpy(overlay.raw, m->overlay, sizeof(overlay.raw));
	/*
	 * From the host it describes, of an address the map places on that
	 * host (no host speaks for an address of another, and a container
	 * cannot speak with an address of its vni that lives elsewhere).
	 */
	if (m->rsvd || be32_to_cpu(m->vni) > VRDMA_VNI_MAX ||
	    be32_to_cpu(m->qpn) & ~IB_QPN_MASK) {
		vrdma_ctrl_dropped(VRDMA_CTRL_STAT_DROP_MALFORMED);
		return false;
	}
	if (memcmp(&host, src, sizeof(host)) ||
	    !vrdma_map_places_on(be32_to_cpu(m->vni), &overlay, &host)) {
		vrdma_ctrl_dropped(VRDMA_CTRL_STAT_DROP_SENDER);
		return false;
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return false;
	e->host = host;
	e->qpn = be32_to_cpu(m->qpn);
	e->vni = be32_to_cpu(m->vni);
	e->overlay = overlay;
	e->learned_at = jiffies;

	spin_lock(&vrdma_uds_lock);
	old = vrdma_uds_find(&e->host, e->qpn);
	if (old) {
		hash_del_rcu(&old->hnode);
		list_del(&old->lru);
		vrdma_uds_nr--;
		kfree_rcu(old, rcu);
	}
	while (vrdma_uds_nr && vrdma_uds_nr >= READ_ONCE(ud_senders_max)) {
		old = list_first_entry(&vrdma_uds_lru, struct vrdma_ud_sender,
				       lru);
		hash_del_rcu(&old->hnode);
		list_del(&old->lru);
		vrdma_uds_nr--;
		kfree_rcu(old, rcu);
	}
	hash_add_rcu(vrdma_uds, &e->hnode, vrdma_uds_key(&e->host, e->qpn));
	list_add_tail(&e->lru, &vrdma_uds_lru);
	vrdma_uds_nr++;
	spin_unlock(&vrdma_uds_lock);
	pr_debug("UD sender %pI6c QPN %u (vni %u, %pI6c) learned\n",
		 e->host.raw, e->qpn, e->vni, e->overlay.raw);
	return true;
}

/**
 * vrdma_ud_sender_rcu() - who sent a UD datagram from another host
 * @host: the sending host's physical address (from the GRH)
 * @qpn: the sending QP
 * @vni: set to its virtual network
 * @overlay: set to its overlay address
 *
 * Caller holds rcu_read_lock().  An entry is believed for
 * VRDMA_UDA_EXPIRE after the announcement that made it: nothing tells a
 * receiver that a QP of another host was destroyed, and the QPN comes back
 * (a QP of that RNIC that is not vrdma's would otherwise pass as the old
 * one); a QP that still sends has announced itself again by then.
 *
 * Return: 0, or -ENOENT if the sender did not announce itself (lately).
 */
int vrdma_ud_sender_rcu(const union ib_gid *host, u32 qpn, u32 *vni,
			union ib_gid *overlay)
{
	struct vrdma_ud_sender *e = vrdma_uds_find(host, qpn);

	if (!e || time_after(jiffies, e->learned_at + VRDMA_UDA_EXPIRE))
		return -ENOENT;
	*vni = e->vni;
	*overlay = e->overlay;
	return 0;
}

/**
 * vrdma_ud_senders_exit() - forget every UD sender (module unload)
 */
void vrdma_ud_senders_exit(void)
{
	struct vrdma_ud_sender *e, *tmp;

	spin_lock_bh(&vrdma_uds_lock);
	list_for_each_entry_safe(e, tmp, &vrdma_uds_lru, lru) {
		hash_del_rcu(&e->hnode);
		list_del(&e->lru);
		kfree_rcu(e, rcu);
	}
	vrdma_uds_nr = 0;
	spin_unlock_bh(&vrdma_uds_lock);
	rcu_barrier();
}

/* ------------------------------------------------------------------ */
/* The tunnel                                                           */

/*
 * The tunnel is the control channel between hosts' modules (ctrl.c), on
 * the endpoint of the physical device's routable address: MADs,
 * announcements and their acknowledgments are message types of it, and
 * with a cluster key (ctrl_key) they are authenticated and protected
 * against replay like the replication engine's.  Whatever the key, a
 * message is accepted only from the host the map places its sender on:
 * a MAD from the host of its source overlay address, an announcement
 * from the host of the address it announces.
 */

static int vrdma_tun_send(struct vrdma_tun *tun, const union ib_gid *host,
			  u8 type, const void *data, u32 len)
{
	return vrdma_ctrl_send(tun->ep, (const struct in6_addr *)host, type,
			       data, len);
}

/* A MAD from another host (process context). */
static void vrdma_tun_rcv_mad(struct vrdma_phys *phys, const union ib_gid *src,
			      const void *data, size_t len)
{
	const struct vrdma_gsi_hdr *hdr = data;
	union ib_gid sgid;

	if (len < sizeof(*hdr) || len > sizeof(*hdr) + VRDMA_GSI_MAX_PAYLOAD) {
		vrdma_ctrl_dropped(VRDMA_CTRL_STAT_DROP_MALFORMED);
		return;
	}
	memcpy(sgid.raw, hdr->sgid, sizeof(sgid.raw));
	if (!vrdma_map_places_on(be32_to_cpu(hdr->vni), &sgid, src)) {
		vrdma_ctrl_dropped(VRDMA_CTRL_STAT_DROP_SENDER);
		pr_debug("MAD from %pI6c for %pI6c: %pI6c does not live there\n",
			 src->raw, hdr->dgid, sgid.raw);
		return;
	}
	vrdma_gsi_deliver(phys, data, len);
}

/*
 * An announcement (learn it, acknowledge it) or its acknowledgment, on
 * the endpoint @ep of @phys's address @addr.
 */
static void vrdma_tun_rcv_uda(struct vrdma_ctrl_ep *ep,
			      struct vrdma_phys *phys, const union ib_gid *addr,
			      const union ib_gid *src, u8 type,
			      const void *data, size_t len)
{
	struct vrdma_uda_msg uda;
	struct vrdma_qp *qp;

	if (len != sizeof(uda)) {
		vrdma_ctrl_dropped(VRDMA_CTRL_STAT_DROP_MALFORMED);
		return;
	}
	memcpy(&uda, data, sizeof(uda));
	if (type == VRDMA_CTRL_GSI_UDA_ACK) {
		if (be32_to_cpu(uda.magic) != VRDMA_UDA_ACK_MAGIC ||
		    memcmp(uda.host, addr->raw, sizeof(uda.host)))
			return;
		rcu_read_lock();
		qp = vrdma_ud_qp_rcu(phys->ibdev, be32_to_cpu(uda.qpn));
		if (qp)
			atomic_inc(&qp->uda_acks);
		rcu_read_unlock();
		wake_up_all(&vrdma_uda_wq);
		return;
	}
	if (be32_to_cpu(uda.magic) != VRDMA_UDA_MAGIC ||
	    !vrdma_uds_learn(&uda, src))
		return;
	uda.magic = cpu_to_be32(VRDMA_UDA_ACK_MAGIC);
	vrdma_ctrl_send(ep, (const struct in6_addr *)src,
			VRDMA_CTRL_GSI_UDA_ACK, &uda, sizeof(uda));
}

/* ctrl.c's handler of the tunnel's message types (process context). */
static void vrdma_tun_rcv(struct vrdma_ctrl_ep *ep, const struct in6_addr *src,
			  u8 type, const void *body, size_t len)
{
	const union ib_gid *from = (const union ib_gid *)src;
	struct vrdma_phys *phys = NULL;
	struct vrdma_tun *tun;
	union ib_gid addr;

	/*
	 * The endpoint's tunnel, for its physical device and address.  No
	 * reference to the tunnel: a handler must never drop the last
	 * reference to its endpoint (the tunnel's).
	 */
	mutex_lock(&vrdma_tun_lock);
	list_for_each_entry(tun, &vrdma_tuns, node) {
		if (tun->ep == ep) {
			phys = tun->phys;
			vrdma_phys_hold(phys);
			addr = tun->addr;
			break;
		}
	}
	mutex_unlock(&vrdma_tun_lock);
	if (!phys)
		return;		/* an endpoint of the replication engine only */

	if (type == VRDMA_CTRL_GSI_MAD)
		vrdma_tun_rcv_mad(phys, from, body, len);
	else
		vrdma_tun_rcv_uda(ep, phys, &addr, from, type, body, len);
	vrdma_phys_put(phys);
}

/**
 * vrdma_gsi_init() - receive the tunnel's messages
 *
 * Return: 0 or a negative errno.
 */
int vrdma_gsi_init(void)
{
	return vrdma_ctrl_register(VRDMA_CTRL_GSI_FIRST, VRDMA_CTRL_GSI_LAST,
				   vrdma_tun_rcv);
}

/**
 * vrdma_gsi_exit() - stop receiving them (every tunnel is released)
 */
void vrdma_gsi_exit(void)
{
	vrdma_ctrl_unregister(VRDMA_CTRL_GSI_FIRST, VRDMA_CTRL_GSI_LAST);
}

/**
 * vrdma_tun_get() - the tunnel of a device's physical device
 * @vdev: the device
 *
 * Created on first use.  Process context.
 *
 * Return: the tunnel (release it with vrdma_tun_put()), or an ERR_PTR().
 */
struct vrdma_tun *vrdma_tun_get(struct vrdma_dev *vdev)
{
	struct vrdma_ctrl_ep *ep;
	struct vrdma_tun *tun;
	u32 index;
	int ret;

	mutex_lock(&vrdma_tun_lock);
	list_for_each_entry(tun, &vrdma_tuns, node) {
		if (tun->phys == vdev->phys) {
			tun->users++;
			goto out;
		}
	}
	tun = kzalloc(sizeof(*tun), GFP_KERNEL);
	if (!tun) {
		tun = ERR_PTR(-ENOMEM);
		goto out;
	}
	ret = vrdma_phys_host_gid(vdev->pdev, 1, &tun->addr, &index);
	ep = ret ? ERR_PTR(ret) :
	     vrdma_ctrl_ep_get((const struct in6_addr *)&tun->addr);
	if (IS_ERR(ep)) {
		pr_warn("MAD tunnel of %s: %ld\n", dev_name(&vdev->pdev->dev),
			PTR_ERR(ep));
		kfree(tun);
		tun = ERR_CAST(ep);
		goto out;
	}
	tun->ep = ep;
	vrdma_phys_hold(vdev->phys);
	tun->phys = vdev->phys;
	tun->users = 1;
	list_add(&tun->node, &vrdma_tuns);
	vrdma_audit_created(VRDMA_AUDIT_TUN);
out:
	mutex_unlock(&vrdma_tun_lock);
	return tun;
}

/**
 * vrdma_tun_put() - release a tunnel from vrdma_tun_get()
 * @tun: the tunnel
 *
 * Process context.  The last user releases the endpoint, which waits for
 * its receive work (vrdma_tun_rcv() holds no reference to the tunnel).
 */
void vrdma_tun_put(struct vrdma_tun *tun)
{
	mutex_lock(&vrdma_tun_lock);
	if (--tun->users) {
		mutex_unlock(&vrdma_tun_lock);
		return;
	}
	list_del(&tun->node);
	mutex_unlock(&vrdma_tun_lock);

	vrdma_ctrl_ep_put(tun->ep);
	vrdma_phys_put(tun->phys);
	kfree(tun);
	vrdma_audit_destroyed(VRDMA_AUDIT_TUN);
}

/**
 * vrdma_tun_announce() - tell a host who a UD QP of this host is
 * @tun: the tunnel of the QP's physical device
 * @vni: the QP's virtual network
 * @qpn: its physical QP number
 * @overlay: its overlay address
 * @host: the host to tell (its physical address)
 *
 * Process context.
 *
 * Return: 0 or a negative errno.
 */
int vrdma_tun_announce(struct vrdma_tun *tun, u32 vni, u32 qpn,
		       const union ib_gid *overlay, const union ib_gid *host)
{
	struct vrdma_uda_msg m = {
		.magic = cpu_to_be32(VRDMA_UDA_MAGIC),
		.vni = cpu_to_be32(vni),
		.qpn = cpu_to_be32(qpn),
	};
	int ret;

	memcpy(m.host, tun->addr.raw, sizeof(m.host));
	memcpy(m.overlay, overlay->raw, sizeof(m.overlay));
	ret = vrdma_tun_send(tun, host, VRDMA_CTRL_GSI_UDA, &m, sizeof(m));
	return ret < 0 ? ret : 0;
}

/**
 * vrdma_tun_announce_wait() - wait until an announcement was learned
 * @qp: the announcing UD QP
 * @acks: @qp->uda_acks before the announcement
 *
 * The announcement travels through the tunnel, the QP's datagrams through
 * the RNIC: without this wait, the first datagrams could reach the
 * receiver first and show it an unknown sender.  At most uda_ack_ms (a
 * host without vrdma never answers).  Process context.
 *
 * Return: 0 once acknowledged, -ETIMEDOUT.
 */
int vrdma_tun_announce_wait(struct vrdma_qp *qp, int acks)
{
	might_sleep();
	return wait_event_timeout(vrdma_uda_wq,
				  atomic_read(&qp->uda_acks) != acks,
				  msecs_to_jiffies(READ_ONCE(uda_ack_ms))) ?
	       0 : -ETIMEDOUT;
}

/* ------------------------------------------------------------------ */
/* Sends                                                                */

static void vrdma_gsi_send_done(struct vrdma_qp *qp,
				const struct vrdma_gsi_pkt *pkt,
				enum ib_wc_status status)
{
	struct ib_wc wc = {
		.wr_id = pkt->wr_id,
		.status = status,
		.opcode = IB_WC_SEND,
		.qp = &qp->ibqp,
		.port_num = 1,
	};

	vrdma_stat_inc(qp->vdev, status == IB_WC_SUCCESS ? VRDMA_STAT_MAD_TX :
			       VRDMA_STAT_MAD_TX_ERR);
	if (pkt->signaled || status != IB_WC_SUCCESS)
		vrdma_cq_push_kernel(qp->scq, &wc);
}

/*
 * Receives have no doorbell.  An application that posted some and then
 * accepts a connection expects them to catch the first datagrams its peer
 * sends once the REP or SIDR REP going out now arrives.  The device-wide
 * kick scans at most once per rq_poll_min_us, and within a budget: the
 * receives of the QP the reply names are moved here, whatever the kick
 * did.
 */
static void vrdma_gsi_ready_qp(struct vrdma_dev *vdev, const u8 *mad, u32 len)
{
	const struct ib_mad_hdr *mh = (const void *)mad;
	struct vrdma_qp *qp;
	u32 qpn;

	if (mh->mgmt_class != IB_MGMT_CLASS_CM)
		return;
	if (mh->attr_id == CM_REP_ATTR_ID &&
	    len >= sizeof(struct cm_rep_msg))
		qpn = IBA_GET(CM_REP_LOCAL_QPN, (const struct cm_rep_msg *)mad);
	else if (mh->attr_id == CM_SIDR_REP_ATTR_ID &&
		 len >= sizeof(struct cm_sidr_rep_msg))
		qpn = IBA_GET(CM_SIDR_REP_QPN,
			      (const struct cm_sidr_rep_msg *)mad);
	else
		return;

	rcu_read_lock();
	qp = vrdma_host_qp_rcu(vdev->pdev, qpn);
	if (qp && qp->vdev == vdev)
		vrdma_rq_refill(qp->srq ? &qp->srq->rq : &qp->rq);
	rcu_read_unlock();
}

static void vrdma_gsi_tx_work(struct work_struct *work)
{
	struct vrdma_gsi *gsi = container_of(work, struct vrdma_gsi, tx_work);
	struct vrdma_qp *qp = gsi->qp;
	struct vrdma_dev *vdev = qp->vdev;
	struct vrdma_gsi_pkt *pkt;
	union ib_gid dgid, host = {};
	unsigned long flags;
	LIST_HEAD(q);
	bool local = false;
	int ret;

	spin_lock_irqsave(&gsi->tx_lock, flags);
	list_splice_init(&gsi->txq, &q);
	spin_unlock_irqrestore(&gsi->tx_lock, flags);
	/* A sign of life (and vrdma_gsi_ready_qp() below). */
	vrdma_dev_rq_kick(vdev);

	while ((pkt = list_first_entry_or_null(&q, struct vrdma_gsi_pkt,
					       node))) {
		const struct vrdma_gsi_hdr *hdr = (const void *)pkt->data;

		list_del(&pkt->node);
		vrdma_gsi_ready_qp(vdev, pkt->data + sizeof(*hdr),
				   pkt->len - sizeof(*hdr));
		memcpy(dgid.raw, hdr->dgid, sizeof(dgid.raw));
		ret = vrdma_map_host(vdev, &dgid, &host, &local);
		if (!ret && local)
			vrdma_gsi_deliver(vdev->phys, pkt->data, pkt->len);
		else if (!ret && vrdma_wake_poke(vdev, &dgid, &host))
			/*
			 * The host sleeps: its wire would drop the MAD.  The
			 * wake-needed event is out; ib_cm resends after its
			 * timeout, to a host that is awake by then.
			 */
			pr_debug("%s: MAD to %pI6: its host sleeps\n",
				 dev_name(&vdev->ibdev.dev), dgid.raw);
		else if (!ret)
			ret = vrdma_tun_send(gsi->tun, &host,
					     VRDMA_CTRL_GSI_MAD, pkt->data,
					     pkt->len) < 0 ? -EIO : 0;
		pr_debug("%s: MAD to %pI6 via %pI6%s: %d\n",
			 dev_name(&vdev->ibdev.dev), dgid.raw, host.raw,
			 local ? " (local)" : "", ret);
		vrdma_gsi_send_done(qp, pkt, ret ? IB_WC_RETRY_EXC_ERR :
					      IB_WC_SUCCESS);
		kfree(pkt);
	}
}

static int vrdma_gsi_send_one(struct vrdma_qp *qp, const struct ib_send_wr *wr)
{
	const struct ib_ud_wr *ud = ud_wr(wr);
	struct vrdma_gsi *gsi = qp->gsi;
	struct vrdma_gsi_hdr *hdr;
	struct vrdma_gsi_pkt *pkt;
	struct vrdma_ah *ah;
	unsigned long flags;
	union ib_gid sgid;
	u32 len = 0, i;
	u8 *p;

	if (wr->opcode != IB_WR_SEND || !ud->ah ||
	    ud->ah->device != qp->ibqp.device ||
	    wr->num_sge > VRDMA_GSI_MAX_SGE)
		return -EINVAL;
	ah = to_vah(ud->ah);
	for (i = 0; i < wr->num_sge; i++) {
		if (wr->sg_list[i].length > VRDMA_GSI_MAX_PAYLOAD - len)
			return -EINVAL;
		len += wr->sg_list[i].length;
	}
	if (rdma_query_gid(qp->ibqp.device, 1, ah->attr.grh.sgid_index,
			   &sgid))
		return -EINVAL;

	pkt = kmalloc(struct_size(pkt, data, sizeof(*hdr) + len), GFP_ATOMIC);
	if (!pkt)
		return -ENOMEM;
	pkt->wr_id = wr->wr_id;
	pkt->signaled = qp->sq_sig_all || (wr->send_flags & IB_SEND_SIGNALED);
	pkt->len = sizeof(*hdr) + len;
	hdr = (struct vrdma_gsi_hdr *)pkt->data;
	*hdr = (struct vrdma_gsi_hdr) {
		.magic = cpu_to_be32(VRDMA_GSI_MAGIC),
		.len = cpu_to_be32(len),
		.vni = cpu_to_be32(qp->vdev->vni),
		.src_qpn = cpu_to_be32(1),
		.dst_qpn = cpu_to_be32(ud->remote_qpn),
		/* A Q_Key with the high bit set means the QP's own. */
		.qkey = cpu_to_be32(ud->remote_qkey & IB_QP_SET_QKEY ?
				    qp->gsi_qkey : ud->remote_qkey),
		.pkey = cpu_to_be16(IB_DEFAULT_PKEY_FULL),
	};
	memcpy(hdr->sgid, sgid.raw, sizeof(hdr->sgid));
	memcpy(hdr->dgid, ah->attr.grh.dgid.raw, sizeof(hdr->dgid));
	p = pkt->data + sizeof(*hdr);
	for (i = 0; i < wr->num_sge; i++) {
		memcpy(p, (void *)(uintptr_t)wr->sg_list[i].addr,
		       wr->sg_list[i].length);
		p += wr->sg_list[i].length;
	}

	/* ib_mad posts with its send queue's lock held, IRQs off. */
	spin_lock_irqsave(&gsi->tx_lock, flags);
	list_add_tail(&pkt->node, &gsi->txq);
	spin_unlock_irqrestore(&gsi->tx_lock, flags);
	return 0;
}

/**
 * vrdma_gsi_post_send() - post sends on a QP1
 * @qp: the QP1
 * @wr: UD send work requests (kernel virtual addresses)
 * @bad_wr: set to the first one not posted
 *
 * Any context.
 *
 * Return: 0 or a negative errno.
 */
int vrdma_gsi_post_send(struct vrdma_qp *qp, const struct ib_send_wr *wr,
			const struct ib_send_wr **bad_wr)
{
	int ret = 0;

	if (qp->state != IB_QPS_RTS) {
		*bad_wr = wr;
		return -EINVAL;
	}
	for (; wr; wr = wr->next) {
		ret = vrdma_gsi_send_one(qp, wr);
		if (ret) {
			*bad_wr = wr;
			break;
		}
	}
	queue_work(system_unbound_wq, &qp->gsi->tx_work);
	return ret;
}

/**
 * vrdma_gsi_post_recv() - post receives on a QP1
 * @qp: the QP1
 * @wr: receive work requests (kernel virtual addresses)
 * @bad_wr: set to the first one not posted
 *
 * Any context.
 *
 * Return: 0 or a negative errno.
 */
int vrdma_gsi_post_recv(struct vrdma_qp *qp, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr)
{
	struct vrdma_dev *vdev = qp->vdev;
	struct vrdma_gsi *gsi = qp->gsi;
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&vdev->gsi_lock, flags);
	for (; wr; wr = wr->next) {
		struct vrdma_gsi_recv *r;

		if (wr->num_sge > VRDMA_GSI_MAX_SGE ||
		    gsi->rq_tail - gsi->rq_head >= gsi->rq_size) {
			ret = -EINVAL;
			*bad_wr = wr;
			break;
		}
		r = &gsi->rq[gsi->rq_tail++ & (gsi->rq_size - 1)];
		r->wr_id = wr->wr_id;
		r->num_sge = wr->num_sge;
		memcpy(r->sge, wr->sg_list, wr->num_sge * sizeof(*r->sge));
	}
	spin_unlock_irqrestore(&vdev->gsi_lock, flags);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The QP1 itself                                                       */

/**
 * vrdma_gsi_create() - create the QP1 of a device (ib_mad's)
 * @qp: the QP, allocated by ib_core
 * @init: its attributes
 *
 * Return: 0 or a negative errno.
 */
int vrdma_gsi_create(struct vrdma_qp *qp, struct ib_qp_init_attr *init)
{
	struct vrdma_dev *vdev = to_vdev(qp->ibqp.device);
	struct vrdma_gsi *gsi;
	unsigned long flags;
	int ret;

	if (init->srq || init->create_flags ||
	    !init->cap.max_recv_wr || init->cap.max_recv_wr > VRDMA_GSI_MAX_WR ||
	    init->cap.max_send_sge > VRDMA_GSI_MAX_SGE ||
	    init->cap.max_recv_sge > VRDMA_GSI_MAX_SGE)
		return -EINVAL;
	if (!to_vcq(init->send_cq)->kernel || !to_vcq(init->recv_cq)->kernel)
		return -EINVAL;

	gsi = kzalloc(sizeof(*gsi), GFP_KERNEL);
	if (!gsi)
		return -ENOMEM;
	gsi->rq_size = roundup_pow_of_two(init->cap.max_recv_wr);
	gsi->rq = kvcalloc(gsi->rq_size, sizeof(*gsi->rq), GFP_KERNEL);
	if (!gsi->rq) {
		ret = -ENOMEM;
		goto err_free;
	}
	spin_lock_init(&gsi->tx_lock);
	INIT_LIST_HEAD(&gsi->txq);
	INIT_WORK(&gsi->tx_work, vrdma_gsi_tx_work);
	gsi->qp = qp;
	gsi->tun = vrdma_tun_get(vdev);
	if (IS_ERR(gsi->tun)) {
		ret = PTR_ERR(gsi->tun);
		goto err_rq;
	}

	qp->vdev = vdev;
	qp->gsi = gsi;
	qp->scq = to_vcq(init->send_cq);
	qp->rcq = to_vcq(init->recv_cq);
	qp->pd = to_vpd(qp->ibqp.pd);
	qp->sq_sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	qp->state = IB_QPS_RESET;
	qp->ibqp.qp_num = 1;
	mutex_init(&qp->state_lock);
	INIT_LIST_HEAD(&qp->obj.node);

	spin_lock_irqsave(&vdev->gsi_lock, flags);
	if (vdev->gsi) {
		spin_unlock_irqrestore(&vdev->gsi_lock, flags);
		ret = -EBUSY;
		goto err_tun;
	}
	vdev->gsi = gsi;
	spin_unlock_irqrestore(&vdev->gsi_lock, flags);
	vrdma_audit_created(VRDMA_AUDIT_QP);
	return 0;

err_tun:
	vrdma_tun_put(gsi->tun);
err_rq:
	kvfree(gsi->rq);
err_free:
	kfree(gsi);
	qp->gsi = NULL;
	return ret;
}

/**
 * vrdma_gsi_modify() - modify_qp of a QP1
 * @qp: the QP1
 * @attr: attributes
 * @mask: which ones (state, P_Key index, Q_Key, port, SQ PSN)
 *
 * Return: 0 or -EINVAL.
 */
int vrdma_gsi_modify(struct vrdma_qp *qp, struct ib_qp_attr *attr, int mask)
{
	struct vrdma_dev *vdev = qp->vdev;
	unsigned long flags;

	if (mask & ~(IB_QP_STATE | IB_QP_PKEY_INDEX | IB_QP_QKEY |
		     IB_QP_PORT | IB_QP_SQ_PSN | IB_QP_CUR_STATE))
		return -EINVAL;
	if ((mask & IB_QP_PORT) && attr->port_num != 1)
		return -EINVAL;
	if ((mask & IB_QP_PKEY_INDEX) && attr->pkey_index)
		return -EINVAL;

	spin_lock_irqsave(&vdev->gsi_lock, flags);
	if (mask & IB_QP_QKEY)
		qp->gsi_qkey = attr->qkey;
	if (mask & IB_QP_STATE) {
		qp->state = attr->qp_state;
		if (attr->qp_state == IB_QPS_RESET)
			qp->gsi->rq_head = qp->gsi->rq_tail;
	}
	spin_unlock_irqrestore(&vdev->gsi_lock, flags);
	return 0;
}

/**
 * vrdma_gsi_query() - query_qp of a QP1
 * @qp: the QP1
 * @attr: filled
 * @init: filled
 */
void vrdma_gsi_query(struct vrdma_qp *qp, struct ib_qp_attr *attr,
		     struct ib_qp_init_attr *init)
{
	memset(attr, 0, sizeof(*attr));
	attr->qp_state = qp->state;
	attr->cur_qp_state = qp->state;
	attr->qkey = qp->gsi_qkey;
	attr->port_num = 1;
	attr->cap.max_recv_wr = qp->gsi->rq_size;
	attr->cap.max_recv_sge = VRDMA_GSI_MAX_SGE;
	attr->cap.max_send_wr = VRDMA_GSI_MAX_WR;
	attr->cap.max_send_sge = VRDMA_GSI_MAX_SGE;

	memset(init, 0, sizeof(*init));
	init->send_cq = &qp->scq->ibcq;
	init->recv_cq = &qp->rcq->ibcq;
	init->cap = attr->cap;
	init->qp_type = IB_QPT_GSI;
	init->port_num = 1;
}

/**
 * vrdma_gsi_destroy() - destroy a QP1
 * @qp: the QP1
 */
void vrdma_gsi_destroy(struct vrdma_qp *qp)
{
	struct vrdma_dev *vdev = qp->vdev;
	struct vrdma_gsi *gsi = qp->gsi;
	unsigned long flags;

	spin_lock_irqsave(&vdev->gsi_lock, flags);
	vdev->gsi = NULL;
	spin_unlock_irqrestore(&vdev->gsi_lock, flags);
	/* ib_mad destroys its QP1 idle: sends still queued are dropped. */
	cancel_work_sync(&gsi->tx_work);
	vrdma_gsi_free_queue(&gsi->txq);
	vrdma_tun_put(gsi->tun);
	kvfree(gsi->rq);
	kfree(gsi);
	qp->gsi = NULL;
	vrdma_audit_destroyed(VRDMA_AUDIT_QP);
}
