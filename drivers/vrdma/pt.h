/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Passthrough devices (pt.c): the application's user objects live on the
 * physical device and its provider library drives the physical queues
 * directly; vrdma keeps the control path.  See pt.c and
 * Documentation/architecture.rst.
 */
#ifndef _VRDMA_PT_H
#define _VRDMA_PT_H

#include <linux/types.h>
#include <rdma/ib_verbs.h>

struct vrdma_dev;
struct vrdma_pt_dev;

/* The mode of a virtual device (enum vrdma_dev_mode of the uapi). */
bool vrdma_pt_mode_valid(u32 mode);
const char *vrdma_pt_mode_name(u32 mode);
u32 vrdma_pt_default_mode(void);

int vrdma_pt_init(void);
void vrdma_pt_exit(void);

/*
 * vdev.c: a passthrough device sets vrdma_pt_ops before the shadow
 * device's ops (ib_set_device_ops() keeps the first op it is given), so
 * that the device keeps the shadow query verbs, GID management and the
 * emulated QP1 of kernel consumers.  vrdma_pt_dev_init() allocates the
 * passthrough state and takes the provider personality of the physical
 * device; vrdma_pt_dev_free() frees it (ops.dealloc_driver).
 */
extern const struct ib_device_ops vrdma_pt_ops;
int vrdma_pt_dev_init(struct vrdma_dev *vdev);
void vrdma_pt_dev_free(struct vrdma_dev *vdev);

/*
 * vrdma_dev_kill() of a passthrough device: vrdma_pt_revoke() first,
 * without the gate (it takes the mmap locks of the processes that map the
 * device, and ib_uverbs' mmap path holds them around ops.mmap, which
 * takes the gate), then vrdma_pt_kill() with the gate held for write.
 */
void vrdma_pt_revoke(struct vrdma_dev *vdev);
void vrdma_pt_kill(struct vrdma_dev *vdev);

#endif /* _VRDMA_PT_H */
