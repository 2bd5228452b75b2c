/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual device lifecycle (vdev.c).  The device structure itself is in
 * verbs.h, with the objects it owns.
 */
#ifndef _VRDMA_VDEV_H
#define _VRDMA_VDEV_H

#include <linux/netdevice.h>

#include "verbs.h"

struct vrdma_phys;

/**
 * struct vrdma_dev_params - what a new virtual device is made of
 * @name: ib_device name (may contain one %d)
 * @ndev: the container's netdev (the caller holds a reference)
 * @phys: the physical device (the caller holds a reference)
 * @vni: virtual network of the device's addresses
 * @limits: resource limits
 * @net: in exclusive netns mode, the namespace the device is born in
 *	(NULL: init_net); the caller holds a reference and @ndev is in it
 * @mode: enum vrdma_dev_mode (uapi): shadow or passthrough
 */
struct vrdma_dev_params {
	const char *name;
	struct net_device *ndev;
	struct vrdma_phys *phys;
	u32 vni;
	struct vrdma_limits limits;
	struct net *net;
	u32 mode;
};

int vrdma_dev_create(const struct vrdma_dev_params *params,
		     struct vrdma_dev **out);
int vrdma_devs_for_each(int (*fn)(struct vrdma_dev *vdev, void *arg),
			void *arg);
void vrdma_devs_phys_removed(struct vrdma_phys *phys);
unsigned int vrdma_devs_count(void);

struct vrdma_dev *vrdma_dev_get_by_name(const char *name);
struct vrdma_dev *vrdma_dev_get_next(u32 index);
struct net_device *vrdma_dev_netdev(struct vrdma_dev *vdev);
bool vrdma_dev_visible(struct vrdma_dev *vdev, struct net *net);

#endif /* _VRDMA_VDEV_H */
