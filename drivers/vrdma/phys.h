/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Physical RDMA devices: the RoCE devices of the host that can back
 * virtual devices, tracked through an ib_client.
 */
#ifndef _VRDMA_PHYS_H
#define _VRDMA_PHYS_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/types.h>
#include <rdma/ib_verbs.h>

/**
 * struct vrdma_phys - a physical RoCE device known to vrdma
 * @node: entry in the list of physical devices (vrdma_phys_lock)
 * @ref: references; the list holds one while the device is registered
 * @ibdev: the device; its struct device is pinned by the entry, but it may
 *	only be used for verbs while @removed is false (read under
 *	vrdma_phys_lock)
 * @name: cached device name, kept up to date by rename (vrdma_phys_lock)
 * @index: ib_device index, stable for the life of the device
 * @dev_count: virtual devices backed by this device (vrdma_phys_lock)
 * @removed: ib_core removed the device (vrdma_phys_lock)
 * @last_wqe_reported: a QP of the device reported
 *	IB_EVENT_QP_LAST_WQE_REACHED (qp.c); only ever set, with
 *	WRITE_ONCE(), and read with READ_ONCE()
 */
struct vrdma_phys {
	struct list_head node;
	struct kref ref;
	struct ib_device *ibdev;
	char name[IB_DEVICE_NAME_MAX];
	u32 index;
	u32 dev_count;
	bool removed;
	bool last_wqe_reported;
};

/**
 * struct vrdma_phys_info - a snapshot of one physical device, for reports
 * @name: device name
 * @index: ib_device index
 * @dev_count: virtual devices backed by it
 * @is_default: it is the default physical device
 */
struct vrdma_phys_info {
	char name[IB_DEVICE_NAME_MAX];
	u32 index;
	u32 dev_count;
	bool is_default;
};

int vrdma_phys_init(const char *default_name);
void vrdma_phys_exit(void);

struct vrdma_phys *vrdma_phys_get_by_name(const char *name);
struct vrdma_phys *vrdma_phys_get_default(void);
void vrdma_phys_hold(struct vrdma_phys *phys);
void vrdma_phys_put(struct vrdma_phys *phys);
int vrdma_phys_attach(struct vrdma_phys *phys);
void vrdma_phys_detach(struct vrdma_phys *phys);

int vrdma_phys_set_default(const char *name);
bool vrdma_phys_default_name(char *buf, size_t size);
int vrdma_phys_info_next(u32 from, struct vrdma_phys_info *info,
			 unsigned int *gen);

#endif /* _VRDMA_PHYS_H */
