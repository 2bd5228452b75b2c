// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets and packets: the group socket (UDP, multicast or broadcast on
 * the configured interface), Wake-on-LAN (raw Ethernet type 0x0842 and
 * UDP port 9, both broadcast), this host's own announcement when it wakes
 * (gratuitous ARP, unsolicited neighbour advertisements), the facts a host
 * shares (addresses, MAC, listening TCP ports), and, in test mode, the
 * reception of magic packets.
 *
 * Layer-2 liveness: a packet socket reads every ARP packet on the
 * interface; one whose sender address is a peer's and whose sender MAC is
 * that peer's shows the host alive, whatever its daemon does.  ARP probes
 * (requests unicast to the peer's MAC) ask for that evidence.  When a
 * live owner is found managed, its neighbours are told its own MAC again
 * (gratuitous ARP with its MAC, unsolicited NA with its MAC).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sleepd.h"

#define ETH_P_WOL	0x0842
#define WOL_PORT	9
#define MAGIC_LEN	(6 + 16 * 6)
#define SECUREON_LEN	6

bool ipv4_of(const struct in6_addr *a, struct in_addr *out)
{
	if (!IN6_IS_ADDR_V4MAPPED(a))
		return false;
	memcpy(out, &a->s6_addr[12], 4);
	return true;
}

const char *addr_str(const struct in6_addr *a, char *buf, size_t len)
{
	struct in_addr a4;

	if (ipv4_of(a, &a4))
		return inet_ntop(AF_INET, &a4, buf, len);
	return inet_ntop(AF_INET6, a, buf, len);
}

static void v4mapped(struct in_addr a4, struct in6_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = 0xff;
	a->s6_addr[11] = 0xff;
	memcpy(&a->s6_addr[12], &a4, 4);
}

/*
 * The interface's index, MAC, addresses (IPv4 first, then global IPv6)
 * and IPv4 broadcast address.  Returns 0 or -1 (logged).
 */
int net_iface(struct sleepd *sd)
{
	struct host_info *h = &sd->self;
	struct ifaddrs *ifa, *i;
	struct ifreq ifr = { 0 };
	int fd, pass;

	sd->ifindex = if_nametoindex(sd->cfg.ifname);
	if (!sd->ifindex) {
		log_msg(LOG_ERR, "config", "interface %s: %s",
			sd->cfg.ifname, strerror(errno));
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(ifr.ifr_name, sd->cfg.ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ||
	    ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		log_msg(LOG_ERR, "config", "interface %s: not Ethernet",
			sd->cfg.ifname);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	memcpy(h->mac, ifr.ifr_hwaddr.sa_data, 6);

	if (getifaddrs(&ifa) < 0)
		return -1;
	h->n_addrs = 0;
	sd->ip4.s_addr = 0;
	for (pass = 0; pass < 2; pass++) {
		for (i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || strcmp(i->ifa_name, sd->cfg.ifname) ||
			    h->n_addrs == SLEEPD_MAX_ADDRS)
				continue;
			if (pass == 0 && i->ifa_addr->sa_family == AF_INET) {
				struct sockaddr_in *sin = (void *)i->ifa_addr;
				struct sockaddr_in *bc = (void *)i->ifa_broadaddr;

				if (!sd->ip4.s_addr) {
					sd->ip4 = sin->sin_addr;
					if (bc)
						sd->bcast4 = bc->sin_addr;
				}
				v4mapped(sin->sin_addr, &h->addrs[h->n_addrs++]);
			} else if (pass == 1 &&
				   i->ifa_addr->sa_family == AF_INET6) {
				struct sockaddr_in6 *sin6 = (void *)i->ifa_addr;

				if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
					continue;
				h->addrs[h->n_addrs++] = sin6->sin6_addr;
			}
		}
	}
	freeifaddrs(ifa);
	if (!sd->ip4.s_addr) {
		log_msg(LOG_ERR, "config", "interface %s has no IPv4 address",
			sd->cfg.ifname);
		return -1;
	}
	if (!sd->bcast4.s_addr)
		sd->bcast4.s_addr = INADDR_BROADCAST;
	return 0;
}

/* Listening TCP ports of this namespace (not bound to loopback). */
static int ports_from(const char *path, uint16_t *ports, int n, int max)
{
	char line[512], local[128];
	unsigned int port, state;
	FILE *f;
	int i;

	f = fopen(path, "re");
	if (!f)
		return n;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return n;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %127[0-9A-Fa-f]:%x %*s %x", local,
			   &port, &state) != 3 || state != 0x0A || !port)
			continue;
		/* 127.x (0100007F) and ::1 are not reachable from peers. */
		if (!strcmp(local + strlen(local) - 2, "7F") ||
		    !strcmp(local, "00000000000000000000000001000000"))
			continue;
		for (i = 0; i < n && ports[i] != port; i++)
			;
		if (i == n)
			ports[n++] = port;
	}
	fclose(f);
	return n;
}

int net_ports(uint16_t *ports, int max)
{
	int n = ports_from("/proc/net/tcp", ports, 0, max);

	return ports_from("/proc/net/tcp6", ports, n, max);
}

static int open_group(struct sleepd *sd)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(sd->cfg.port),
	};
	int one = 1, zero = 0, ttl = 1, fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, sd->cfg.ifname,
		       strlen(sd->cfg.ifname)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto err;
	if (IN_MULTICAST(ntohl(sd->cfg.group.s_addr))) {
		struct ip_mreqn mreq = {
			.imr_multiaddr = sd->cfg.group,
			.imr_ifindex = sd->ifindex,
		};

		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
			       sizeof(mreq)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq,
			       sizeof(mreq)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero,
			       sizeof(zero)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
			       sizeof(ttl)) < 0)
			goto err;
	} else if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one,
			      sizeof(one)) < 0) {
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/* Test mode: where magic packets come in while "asleep". */
static int open_wol_rx(struct sleepd *sd)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_WOL),
		.sll_ifindex = sd->ifindex,
	};
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(WOL_PORT),
	};
	int one = 1;

	sd->wol_raw_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC |
				SOCK_NONBLOCK, htons(ETH_P_WOL));
	if (sd->wol_raw_fd < 0 ||
	    bind(sd->wol_raw_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	sd->wol_udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC |
				SOCK_NONBLOCK, 0);
	if (sd->wol_udp_fd < 0)
		return -1;
	setsockopt(sd->wol_udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(sd->wol_udp_fd, SOL_SOCKET, SO_BINDTODEVICE,
		       sd->cfg.ifname, strlen(sd->cfg.ifname)) < 0 ||
	    bind(sd->wol_udp_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	return 0;
}

/* Every ARP packet but those this host sends (PACKET_OUTGOING). */
static struct sock_filter arp_filter[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
};

static const struct sock_fprog arp_prog = {
	.len = ARRAY_SIZE(arp_filter),
	.filter = arp_filter,
};

int net_open(struct sleepd *sd)
{
	sd->wol_raw_fd = -1;
	sd->wol_udp_fd = -1;
	sd->udp_fd = open_group(sd);
	if (sd->udp_fd < 0) {
		log_msg(LOG_ERR, "socket", "group socket on %s port %u: %s",
			sd->cfg.ifname, sd->cfg.port, strerror(errno));
		return -1;
	}
	sd->arp_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    htons(ETH_P_ARP));
	/*
	 * Not what this host sends (the kernel's ARP and our probes): the
	 * filter drops those before they are queued and wake us.
	 */
	if (sd->arp_fd >= 0 &&
	    setsockopt(sd->arp_fd, SOL_SOCKET, SO_ATTACH_FILTER, &arp_prog,
		       sizeof(arp_prog)) < 0)
		log_msg(LOG_WARN, "socket", "ARP socket filter: %s",
			strerror(errno));
	if (sd->arp_fd < 0 ||
	    bind(sd->arp_fd, (struct sockaddr *)&(struct sockaddr_ll){
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_ARP),
			.sll_ifindex = sd->ifindex,
		 }, sizeof(struct sockaddr_ll)) < 0) {
		log_msg(LOG_ERR, "socket", "ARP socket on %s: %s",
			sd->cfg.ifname, strerror(errno));
		return -1;
	}
	if (sd->cfg.test && open_wol_rx(sd) < 0) {
		log_msg(LOG_ERR, "socket", "magic packet sockets: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

static int send_msg(struct sleepd *sd, struct msg_out *m,
		    const struct sockaddr_in *to)
{
	if (sendto(sd->udp_fd, m->buf, m->len, 0, (const struct sockaddr *)to,
		   sizeof(*to)) < 0) {
		log_msg(LOG_DEBUG, "send-failed", "%s", strerror(errno));
		return -1;
	}
	sd->st.tx++;
	sd->st.tx_bytes += m->len;
	return 0;
}

int net_send_group(struct sleepd *sd, struct msg_out *m)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(sd->cfg.port),
		.sin_addr = sd->cfg.group,
	};

	return send_msg(sd, m, &to);
}

int net_send_to(struct sleepd *sd, struct msg_out *m,
		const struct sockaddr_in *to)
{
	return send_msg(sd, m, to);
}

/*
 * A magic packet for @mac, by raw Ethernet and by UDP, both broadcast;
 * with the SecureOn password @secureon after it, if not NULL.
 */
void net_wol(struct sleepd *sd, const uint8_t *mac, const uint8_t *secureon)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_WOL),
		.sll_ifindex = sd->ifindex,
		.sll_halen = 6,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(WOL_PORT),
		.sin_addr = sd->bcast4,
	};
	uint8_t pkt[MAGIC_LEN + SECUREON_LEN];
	size_t len = MAGIC_LEN;
	int fd, i, one = 1;

	memset(pkt, 0xff, 6);
	for (i = 0; i < 16; i++)
		memcpy(pkt + 6 + 6 * i, mac, 6);
	if (secureon) {
		memcpy(pkt + MAGIC_LEN, secureon, SECUREON_LEN);
		len += SECUREON_LEN;
	}

	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_WOL));
	if (fd < 0 || sendto(fd, pkt, len, 0,
			     (struct sockaddr *)&sll, sizeof(sll)) < 0)
		log_msg(LOG_WARN, "wol-failed", "raw: %s", strerror(errno));
	if (fd >= 0)
		close(fd);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, sd->cfg.ifname,
		       strlen(sd->cfg.ifname)) < 0 ||
	    sendto(fd, pkt, len, 0, (struct sockaddr *)&sin,
		   sizeof(sin)) < 0)
		log_msg(LOG_WARN, "wol-failed", "udp: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * An ARP request for @tip from @sip/@sha (this host's, or for a gratuitous
 * one, an owner's address and MAC), to @dst (broadcast when NULL).
 */
static void send_arp(struct sleepd *sd, struct in_addr sip, const uint8_t *sha,
		     struct in_addr tip, const uint8_t *dst)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = sd->ifindex,
		.sll_halen = 6,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	struct {
		struct arphdr h;
		uint8_t sha[6], spa[4], tha[6], tpa[4];
	} __attribute__((packed)) arp = {
		.h = {
			.ar_hrd = htons(ARPHRD_ETHER),
			.ar_pro = htons(ETH_P_IP),
			.ar_hln = 6,
			.ar_pln = 4,
			.ar_op = htons(ARPOP_REQUEST),
		},
	};
	int fd;

	if (dst)
		memcpy(sll.sll_addr, dst, 6);
	memcpy(arp.sha, sha, 6);
	memcpy(arp.spa, &sip, 4);
	memcpy(arp.tpa, &tip, 4);
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0 || sendto(fd, &arp, sizeof(arp), 0, (struct sockaddr *)&sll,
			     sizeof(sll)) < 0)
		log_msg(LOG_WARN, "garp-failed", "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * Unsolicited neighbour advertisement for @a to all nodes, with @mac (this
 * host's, or an owner's); from @a when it is ours, else from our
 * link-local address.
 */
static void send_una(struct sleepd *sd, const struct in6_addr *a,
		     const uint8_t *mac, bool ours)
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6, .sin6_addr = *a };
	struct sockaddr_in6 dst = {
		.sin6_family = AF_INET6,
		.sin6_scope_id = sd->ifindex,
	};
	struct {
		struct nd_neighbor_advert na;
		uint8_t opt[8];
	} pkt = { 0 };
	int fd, hops = 255;

	inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
	pkt.na.nd_na_type = ND_NEIGHBOR_ADVERT;
	pkt.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	pkt.na.nd_na_target = *a;
	pkt.opt[0] = ND_OPT_TARGET_LINKADDR;
	pkt.opt[1] = 1;
	memcpy(&pkt.opt[2], mac, 6);
	fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
		       sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &sd->ifindex,
		       sizeof(sd->ifindex)) < 0 ||
	    (ours && bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) ||
	    sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&dst,
		   sizeof(dst)) < 0)
		log_msg(LOG_DEBUG, "una-failed", "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* This host is back: every neighbour must send to its own MAC again. */
void net_announce_self(struct sleepd *sd)
{
	struct in_addr a4;
	int i;

	for (i = 0; i < sd->self.n_addrs; i++) {
		if (ipv4_of(&sd->self.addrs[i], &a4))
			send_arp(sd, a4, sd->self.mac, a4, NULL);
		else
			send_una(sd, &sd->self.addrs[i], sd->self.mac, true);
	}
}

/*
 * A live owner was managed: tell its neighbours its own MAC again (our
 * interception's announcements moved them to ours), for its IPv4
 * addresses (@family AF_INET: gratuitous ARP) or its IPv6 addresses
 * (AF_INET6: unsolicited NA).  The Ethernet source stays ours: switches
 * must not learn the owner's MAC on our port.
 */
void net_restore(struct sleepd *sd, const struct host_info *h, int family)
{
	struct in_addr a4;
	int i;

	for (i = 0; i < h->n_addrs; i++) {
		if (ipv4_of(&h->addrs[i], &a4)) {
			if (family == AF_INET)
				send_arp(sd, a4, h->mac, a4, NULL);
		} else if (family == AF_INET6) {
			send_una(sd, &h->addrs[i], h->mac, false);
		}
	}
}

/* An ARP probe of a peer: a request for @ip, unicast to its @mac. */
void net_arp_probe(struct sleepd *sd, const struct in_addr *ip,
		   const uint8_t *mac)
{
	send_arp(sd, sd->ip4, sd->self.mac, *ip, mac);
	sd->st.arp_probes++;
}

/* Is @ip one of this host's own addresses? */
static bool is_own_ipv4(const struct sleepd *sd, struct in_addr ip)
{
	struct in_addr a4;
	int i;

	for (i = 0; i < sd->self.n_addrs; i++)
		if (ipv4_of(&sd->self.addrs[i], &a4) && a4.s_addr == ip.s_addr)
			return true;
	return false;
}

/*
 * Every ARP packet on the interface: who shows itself alive, and who
 * announces one of our addresses?
 */
void net_arp_rx(struct sleepd *sd, int64_t now)
{
	struct {
		struct arphdr h;
		uint8_t sha[6], spa[4], tha[6], tpa[4];
	} __attribute__((packed)) arp;
	struct in_addr sip;
	ssize_t n;

	for (;;) {
		n = recv(sd->arp_fd, &arp, sizeof(arp), 0);
		if (n < 0)
			return;
		if (n < (ssize_t)sizeof(arp) ||
		    arp.h.ar_hrd != htons(ARPHRD_ETHER) ||
		    arp.h.ar_pro != htons(ETH_P_IP) || arp.h.ar_hln != 6 ||
		    arp.h.ar_pln != 4 || !memcmp(arp.sha, sd->self.mac, 6))
			continue;
		memcpy(&sip, arp.spa, 4);
		if (!sip.s_addr)
			continue;
		if (is_own_ipv4(sd, sip))
			group_addr_claimed(sd, &sip, arp.sha, now);
		else
			group_arp_seen(sd, &sip, arp.sha, now);
	}
}

/*
 * SecureOn where the NIC has it: warn when the configured password is not
 * what the NIC would check (ethtool -s IF wol gs sopass ...).
 */
void net_secureon_check(struct sleepd *sd)
{
	struct ethtool_wolinfo wol = { .cmd = ETHTOOL_GWOL };
	struct ifreq ifr = { 0 };
	int fd;

	if (!sd->cfg.has_secureon || sd->cfg.test)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	strcpy(ifr.ifr_name, sd->cfg.ifname);
	ifr.ifr_data = (void *)&wol;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		log_msg(LOG_WARN, "secureon", "%s: Wake-on-LAN settings: %s",
			sd->cfg.ifname, strerror(errno));
	else if (!(wol.supported & WAKE_MAGICSECURE))
		log_msg(LOG_WARN, "secureon",
			"%s does not support SecureOn: the password is sent, not checked",
			sd->cfg.ifname);
	else if (!(wol.wolopts & WAKE_MAGICSECURE) ||
		 memcmp(wol.sopass, sd->cfg.secureon, SOPASS_MAX))
		log_msg(LOG_WARN, "secureon",
			"%s: SecureOn not enabled with this password (ethtool -s %s wol gs sopass ...)",
			sd->cfg.ifname, sd->cfg.ifname);
	close(fd);
}

/*
 * Read one datagram from a magic packet socket; true if it is a magic
 * packet for this host's MAC (@from: who sent it).
 */
bool net_magic_rx(struct sleepd *sd, int fd, char *from, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint8_t buf[1500];
	ssize_t n, off;
	int i;

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
	if (n < MAGIC_LEN)
		return false;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  from, len);
	else if (ss.ss_family == AF_PACKET) {
		const uint8_t *m = ((struct sockaddr_ll *)&ss)->sll_addr;

		snprintf(from, len, "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
	} else {
		snprintf(from, len, "?");
	}
	for (off = 0; off + MAGIC_LEN <= n; off++) {
		if (memcmp(buf + off, "\xff\xff\xff\xff\xff\xff", 6))
			continue;
		for (i = 0; i < 16; i++)
			if (memcmp(buf + off + 6 + 6 * i, sd->self.mac, 6))
				break;
		if (i < 16)
			continue;
		/* A NIC with a SecureOn password wants it right after. */
		if (!sd->cfg.has_secureon ||
		    (off + MAGIC_LEN + SECUREON_LEN <= n &&
		     !memcmp(buf + off + MAGIC_LEN, sd->cfg.secureon,
			     SECUREON_LEN)))
			return true;
	}
	return false;
}
