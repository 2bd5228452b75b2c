/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The address map: where an overlay address (a container's GID) lives, as
 * the routable address of the physical RNIC of the host that runs it, and
 * the translation of a virtual destination into a physical address vector.
 * See map.c for the semantics and the locking.
 */
#ifndef _VRDMA_MAP_H
#define _VRDMA_MAP_H

#include <linux/types.h>
#include <rdma/ib_verbs.h>

struct net;
struct vrdma_dev;

int vrdma_map_init(void);
void vrdma_map_exit(void);

/* For the verbs (qp.c, ah.c). */
int vrdma_map_resolve(struct vrdma_dev *vdev, const union ib_gid *dgid,
		      struct rdma_ah_attr *pattr, bool *local);
int vrdma_phys_host_gid(struct ib_device *pdev, u32 port, union ib_gid *gid,
			u32 *index);
int vrdma_map_host(struct vrdma_dev *vdev, const union ib_gid *dgid,
		   union ib_gid *host, bool *local);

/*
 * Why an address cannot be an overlay address or a host address (see
 * vrdma_map_addr_check()).
 */
enum vrdma_map_addr_err {
	VRDMA_MAP_ADDR_OK,
	VRDMA_MAP_ADDR_UNSPECIFIED,	/* ::, 0.0.0.0 */
	VRDMA_MAP_ADDR_LOOPBACK,	/* ::1, 127.0.0.0/8 */
	VRDMA_MAP_ADDR_MULTICAST,	/* ff00::/8, 224.0.0.0/4 */
	VRDMA_MAP_ADDR_BROADCAST,	/* 255.255.255.255 */
	VRDMA_MAP_ADDR_V4COMPAT,	/* ::a.b.c.d (deprecated) */
	VRDMA_MAP_ADDR_LINKLOCAL,	/* fe80::/10, host addresses only */
};

enum vrdma_map_addr_err vrdma_map_addr_check(const union ib_gid *gid,
					     bool host);
bool vrdma_map_elsewhere(struct ib_device *pdev, u32 port, u32 vni,
			 const union ib_gid *addr);
bool vrdma_map_places_on(u32 vni, const union ib_gid *addr,
			 const union ib_gid *host);

/* For the netlink operations (vdev_nl.c). */
int vrdma_map_add(u32 vni, const union ib_gid *addr, const union ib_gid *via);
int vrdma_map_del(u32 vni, const union ib_gid *addr);
unsigned int vrdma_map_count(void);
bool vrdma_map_is_local(u32 vni, const union ib_gid *addr);

/**
 * struct vrdma_map_info - one entry of the map, for a dump
 * @addr: overlay address
 * @via: host address, if @has_via
 * @vni: virtual network of @addr
 * @has_via: @via is known (not for a local entry whose physical device has
 *	no routable address, or is gone)
 * @local: the entry is derived from a virtual device of this host
 */
struct vrdma_map_info {
	union ib_gid addr;
	union ib_gid via;
	u32 vni;
	bool has_via;
	bool local;
};

/*
 * A dump: explicit entries first (@bucket, @skip: the @skip-th entry of
 * hash bucket @bucket), then the derived local entries (@dev: ib_device
 * index of the virtual device, @gid: GID table index).
 */
struct vrdma_map_pos {
	u32 phase;
	u32 bucket;
	u32 skip;
	u32 dev;
	u32 gid;
};

/* VNIs a dump may show; a NULL filter shows everything. */
struct vrdma_map_filter {
	unsigned int nr;
	u32 vnis[];
};

int vrdma_map_filter_get(struct net *net, struct vrdma_map_filter **filter);
void vrdma_map_filter_put(struct vrdma_map_filter *filter);
int vrdma_map_dump_next(struct vrdma_map_pos *pos,
			const struct vrdma_map_filter *filter,
			struct vrdma_map_info *info);
void vrdma_map_dump_advance(struct vrdma_map_pos *pos);
unsigned int vrdma_map_gen(void);

#endif /* _VRDMA_MAP_H */
