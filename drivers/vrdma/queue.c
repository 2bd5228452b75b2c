// SPDX-License-Identifier: GPL-2.0
/*
 * Rings shared with userspace in the layout of the rxe user ABI
 * (struct rxe_queue_buf in include/uapi/rdma/rdma_user_rxe.h), and their
 * mmap.
 *
 * A ring is a header (the element size and index mask for userspace, the
 * producer and consumer indices on separate cache lines) followed by a
 * power-of-two number of power-of-two sized slots.  One slot always stays
 * empty, so a ring of N slots holds N - 1 elements.
 *
 * A ring of a user object is made of pages charged to the memory cgroup
 * of the process that creates it (vrdma_ring_alloc(): vmalloc_user() has
 * no way to charge them), mapped contiguously in the kernel with
 * vmap(VM_USERMAP), and published through an rdma_user_mmap_entry: the
 * application maps it with the offset returned in struct mminfo.  ib_core
 * attaches no entry reference to a mapping made with remap_vmalloc_range()
 * (only rdma_user_mmap_io() does, through a private structure), so the
 * lifetime is split in two:
 *
 *  - the pages: remap_vmalloc_range() takes a reference on every page it
 *    maps, so a mapped page outlives vfree() and is released (and
 *    uncharged) by the last munmap();
 *  - the vmalloc area and the entry: freed by vrdma_mmap_free() once the
 *    entry's last reference is gone, which is vrdma_queue_cleanup() (or a
 *    concurrent vrdma_mmap() that still holds it).
 *
 * The kernel never touches a ring after vrdma_queue_cleanup(), and a
 * removed entry can no longer be mapped.  The VMA keeps ib_core's
 * vm_ops (set by ib_uverbs_mmap()): no callback of this module is left
 * in a mapping that may outlive the module.
 */
#include <linux/bits.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <rdma/uverbs_ioctl.h>

#include "audit.h"
#include "verbs.h"

/* Bounds of a ring; callers enforce the (much smaller) device limits. */
#define VRDMA_QUEUE_MAX_ELEM		BIT(24)
#define VRDMA_QUEUE_MAX_ELEM_SIZE	BIT(16)
#define VRDMA_QUEUE_MAX_SIZE		SZ_1G

/**
 * struct vrdma_mmap_entry - a ring published to userspace
 * @rdma: the entry in the ucontext's mmap table
 * @buf: the ring (vrdma_ring_alloc())
 * @size: its size in bytes (page aligned)
 */
struct vrdma_mmap_entry {
	struct rdma_user_mmap_entry rdma;
	void *buf;
	size_t size;
};

static inline struct vrdma_mmap_entry *
to_vrdma_mmap_entry(struct rdma_user_mmap_entry *entry)
{
	return container_of(entry, struct vrdma_mmap_entry, rdma);
}

/*
 * The memory of a user ring: zeroed pages charged to the caller's memory
 * cgroup, vmap()ed so that remap_vmalloc_range() maps them (VM_USERMAP)
 * and vfree() frees them and the page array (VM_MAP_PUT_PAGES).
 * VRDMA_GFP_TENANT: beyond the cgroup's limit the allocation fails
 * (ENOMEM for the verb) instead of calling the OOM killer.
 */
static void *vrdma_ring_alloc(size_t size)
{
	const gfp_t gfp = VRDMA_GFP_TENANT;
	unsigned int i, n = size >> PAGE_SHIFT;
	struct page **pages;
	void *buf;

	pages = kvmalloc_array(n, sizeof(*pages), gfp);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++) {
		pages[i] = alloc_page(gfp | __GFP_ZERO);
		if (!pages[i])
			goto err;
		cond_resched();
	}
	buf = vmap(pages, n, VM_MAP | VM_USERMAP | VM_MAP_PUT_PAGES,
		   PAGE_KERNEL);
	if (buf)
		return buf;
err:
	while (i--)
		__free_page(pages[i]);
	kvfree(pages);
	return NULL;
}

/**
 * vrdma_queue_init() - allocate a ring
 * @vdev: the device
 * @q: the ring to initialize
 * @nelem: elements the ring must hold (0 .. 2^24: a queue of depth 0 is
 *	one slot that is always full)
 * @elem_size: bytes per element; rounded up to a power of two, at least
 *	VRDMA_MIN_ELEM_SIZE
 * @udata: driver data of a user verb, or NULL for a kernel object
 * @mi: where the mmap offset and size are returned (user objects only)
 *
 * Allocates a zeroed ring of roundup_pow_of_two(@nelem + 1) slots.  For a
 * user object the ring is charged to the caller's memory cgroup, inserted
 * in the caller's mmap table and described in @mi; the caller copies @mi
 * to userspace.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL for bad sizes, -ENOMEM.
 */
int vrdma_queue_init(struct vrdma_dev *vdev, struct vrdma_queue *q,
		     u32 nelem, u32 elem_size, struct ib_udata *udata,
		     struct mminfo *mi)
{
	struct vrdma_ucontext *uctx;
	struct vrdma_mmap_entry *entry;
	struct rxe_queue_buf *buf;
	u32 log2_elem_size;
	u32 slots;
	size_t size;
	int err;

	memset(q, 0, sizeof(*q));

	if (nelem > VRDMA_QUEUE_MAX_ELEM ||
	    !elem_size || elem_size > VRDMA_QUEUE_MAX_ELEM_SIZE)
		return -EINVAL;
	if (udata && !mi)
		return -EINVAL;

	log2_elem_size = order_base_2(max_t(u32, elem_size,
					    VRDMA_MIN_ELEM_SIZE));
	slots = roundup_pow_of_two(nelem + 1);
	size = sizeof(*buf) + ((size_t)slots << log2_elem_size);
	if (size > VRDMA_QUEUE_MAX_SIZE)
		return -EINVAL;
	size = PAGE_ALIGN(size);

	buf = udata ? vrdma_ring_alloc(size) : vzalloc(size);
	if (!buf)
		return -ENOMEM;
	buf->log2_elem_size = log2_elem_size;
	buf->index_mask = slots - 1;

	if (udata) {
		uctx = rdma_udata_to_drv_context(udata, struct vrdma_ucontext,
						 ibuc);
		entry = kzalloc(sizeof(*entry), GFP_KERNEL_ACCOUNT);
		if (!entry) {
			err = -ENOMEM;
			goto err_free_buf;
		}
		entry->buf = buf;
		entry->size = size;
		err = rdma_user_mmap_entry_insert(&uctx->ibuc, &entry->rdma,
						  size);
		if (err) {
			kfree(entry);
			goto err_free_buf;
		}
		/* From here on the entry owns @buf (vrdma_mmap_free()). */
		q->mmap = &entry->rdma;
		mi->offset = rdma_user_mmap_get_offset(&entry->rdma);
		mi->size = size;
		mi->pad = 0;
	}

	q->buf = buf;
	q->buf_size = size;
	q->log2_elem_size = log2_elem_size;
	q->index_mask = slots - 1;
	vrdma_audit_created(VRDMA_AUDIT_QUEUE);
	return 0;

err_free_buf:
	vfree(buf);
	return err;
}

/**
 * vrdma_queue_cleanup() - release a ring
 * @q: a ring set up by vrdma_queue_init(), or zeroed
 *
 * A kernel ring is freed at once.  A user ring can no longer be mapped;
 * its memory is freed by vrdma_mmap_free() and the pages that are still
 * mapped by the last munmap().  The kernel must not touch @q afterwards.
 *
 * Context: process context, may sleep.
 */
void vrdma_queue_cleanup(struct vrdma_queue *q)
{
	if (!q->buf)
		return;

	if (q->mmap) {
		rdma_user_mmap_entry_remove(q->mmap);
	} else {
		vfree(q->buf);
		vrdma_audit_destroyed(VRDMA_AUDIT_QUEUE);
	}
	memset(q, 0, sizeof(*q));
}

/**
 * vrdma_mmap() - ib_device_ops.mmap: map a ring into the calling process
 * @uctx: the caller's user context
 * @vma: the mapping; its offset names the ring, its size must be the
 *	ring's size
 *
 * Context: process context (ib_uverbs_mmap()).
 * Return: 0, -EINVAL for an unknown offset, a wrong size or a private
 * mapping, or an error of remap_vmalloc_range().
 */
int vrdma_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *rdma_entry;
	struct vrdma_mmap_entry *entry;
	int err;

	/* Checks VM_SHARED and that the size is the entry's size. */
	rdma_entry = rdma_user_mmap_entry_get(uctx, vma);
	if (!rdma_entry)
		return -EINVAL;
	entry = to_vrdma_mmap_entry(rdma_entry);

	if (vma->vm_end - vma->vm_start != entry->size) {
		err = -EINVAL;
		goto out;
	}

	err = remap_vmalloc_range(vma, entry->buf, 0);
out:
	rdma_user_mmap_entry_put(rdma_entry);
	return err;
}

/**
 * vrdma_mmap_free() - ib_device_ops.mmap_free: free a published ring
 * @rdma_entry: the entry whose last reference is gone
 *
 * Pages still mapped by a process stay allocated until it unmaps them.
 *
 * Context: process context.
 */
void vrdma_mmap_free(struct rdma_user_mmap_entry *rdma_entry)
{
	struct vrdma_mmap_entry *entry = to_vrdma_mmap_entry(rdma_entry);

	vfree(entry->buf);
	kfree(entry);
	vrdma_audit_destroyed(VRDMA_AUDIT_QUEUE);
}
