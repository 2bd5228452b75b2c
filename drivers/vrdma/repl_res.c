// SPDX-License-Identifier: GPL-2.0
/*
 * Replication engine resources: memory registered with an RDMA device,
 * the backing file of a replica, the RDMA resources of a member or an
 * agent on its device, and RC connections.
 *
 * Registered memory
 * -----------------
 * A struct repl_mem is an array of pages with one contiguous kernel
 * mapping (vmap), registered with the device in chunks of at most
 * max_fast_reg_page_list_len pages (capped at REPL_CHUNK_PAGES_MAX): one
 * fast-registration MR per chunk, registered with an IB_WR_REG_MR on a
 * QP connected to itself (struct repl_devres.lqp), since only a QP in RTS
 * executes work requests.  A work request's buffer never crosses a chunk.
 *
 * The region of a member is the backing file's page cache: its pages are
 * pinned (a folio reference each), mapped and registered, so that the
 * data path copies into them directly (softirq context) and RDMA writes
 * into them (state transfer).  Pages are not marked dirty there; the
 * member keeps its own dirty bitmap, and vrdma_repl_file_writeback() hands the
 * dirty pages to the file system by writing each onto itself through the
 * VFS (kernel_write() of the page's own mapping: write_begin/write_end do
 * the block allocation and dirty accounting), then vfs_fsync_range()s.
 * Pinned page-cache pages are not reclaimed nor dropped by drop_caches;
 * the region is written back when the member goes away.  Nobody else may
 * truncate or write the file while the group exists (documented).
 *
 * RDMA devices
 * ------------
 * An ib_client tracks the RDMA devices of the host (repl_devs, under
 * vrdma_repl_lock).  A member or agent uses the device that has a RoCE v2
 * GID equal to its address.  ib_core calls remove() before it frees a
 * device; remove() makes every user of the device release its resources
 * (vrdma_repl_dev_removed(), repl_group.c) before it returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <net/ip6_route.h>
#include <net/neighbour.h>
#include <net/route.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_cache.h>

#include "audit.h"
#include "repl.h"

/* Registered memory */

static void repl_mem_release_pages(struct repl_mem *m, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (m->owned)
			__free_page(m->pages[i]);
		else
			put_page(m->pages[i]);
	}
	kvfree(m->pages);
	m->pages = NULL;
	m->npages = 0;
}

static int repl_mem_map(struct repl_mem *m, u32 n)
{
	m->va = vmap(m->pages, n, VM_MAP, PAGE_KERNEL);
	if (!m->va) {
		repl_mem_release_pages(m, n);
		return -ENOMEM;
	}
	m->npages = n;
	return 0;
}

/**
 * vrdma_repl_mem_alloc() - allocate zeroed, mapped pages
 * @m: the memory (zeroed by the caller)
 * @size: bytes (rounded up to pages)
 *
 * Return: 0 or -ENOMEM.
 */
int vrdma_repl_mem_alloc(struct repl_mem *m, size_t size)
{
	u32 n = DIV_ROUND_UP(size, PAGE_SIZE), i;

	m->pages = kvcalloc(n, sizeof(*m->pages), GFP_KERNEL);
	if (!m->pages)
		return -ENOMEM;
	m->owned = true;
	for (i = 0; i < n; i++) {
		m->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!m->pages[i]) {
			repl_mem_release_pages(m, i);
			return -ENOMEM;
		}
	}
	m->size = (size_t)n << PAGE_SHIFT;
	return repl_mem_map(m, n);
}

/**
 * vrdma_repl_mem_pin_file() - pin and map the page cache of a file
 * @m: the memory (zeroed by the caller)
 * @file: the file, at least @size bytes long
 * @size: bytes, a multiple of the page size
 *
 * Reads every page in (holes read as zeroes) and keeps a reference to it.
 * May take long for a large region; a fatal signal interrupts it.
 *
 * Return: 0, -EINTR, -ENOMEM or the error of reading a page.
 */
int vrdma_repl_mem_pin_file(struct repl_mem *m, struct file *file, u64 size)
{
	struct address_space *mapping = file->f_mapping;
	u32 n = size >> PAGE_SHIFT, i;
	struct page *page;

	m->pages = kvcalloc(n, sizeof(*m->pages), GFP_KERNEL);
	if (!m->pages)
		return -ENOMEM;
	m->owned = false;
	for (i = 0; i < n; i++) {
		if (shmem_mapping(mapping))
			page = shmem_read_mapping_page_gfp(mapping, i,
							   mapping_gfp_mask(mapping));
		else
			page = read_mapping_page(mapping, i, file);
		if (IS_ERR(page)) {
			repl_mem_release_pages(m, i);
			return PTR_ERR(page);
		}
		m->pages[i] = page;
		if (!(i % 256)) {
			cond_resched();
			if (fatal_signal_pending(current)) {
				repl_mem_release_pages(m, i + 1);
				return -EINTR;
			}
		}
	}
	m->size = size;
	return repl_mem_map(m, n);
}

/**
 * vrdma_repl_mem_free() - unmap and release the pages (after vrdma_repl_mem_unreg())
 * @m: the memory; zeroed afterwards
 */
void vrdma_repl_mem_free(struct repl_mem *m)
{
	u32 n = m->npages;

	WARN_ON_ONCE(m->dev);
	if (m->va)
		vunmap(m->va);
	if (m->pages)
		repl_mem_release_pages(m, n);
	memset(m, 0, sizeof(*m));
}

struct repl_wait {
	struct ib_cqe cqe;
	struct completion done;
	enum ib_wc_status status;
};

static void repl_wait_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct repl_wait *w = container_of(wc->wr_cqe, struct repl_wait, cqe);

	w->status = wc->status;
	complete(&w->done);
}

/* Register one chunk's MR with a REG_MR on the loopback QP. */
static int repl_mem_reg_mr(struct repl_devres *dr, struct ib_mr *mr,
			   int access)
{
	struct repl_wait w = { .cqe.done = repl_wait_done };
	struct ib_reg_wr wr = {};
	int ret;

	init_completion(&w.done);
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	wr.wr.opcode = IB_WR_REG_MR;
	wr.wr.wr_cqe = &w.cqe;
	wr.wr.send_flags = IB_SEND_SIGNALED;
	wr.mr = mr;
	wr.key = mr->rkey;
	wr.access = access;
	ret = ib_post_send(dr->lqp, &wr.wr, NULL);
	if (ret)
		return ret;
	/* The loopback QP always completes its work (or flushes it). */
	wait_for_completion(&w.done);
	return w.status == IB_WC_SUCCESS ? 0 : -EIO;
}

/**
 * vrdma_repl_mem_reg() - register memory with a device
 * @m: the memory (pages allocated or pinned)
 * @dr: the device resources (PD, loopback QP, chunk size)
 * @access: IB_ACCESS_* of the MRs
 *
 * Return: 0, -ENOMEM, -EIO.
 */
int vrdma_repl_mem_reg(struct repl_mem *m, struct repl_devres *dr, int access)
{
	struct ib_device *dev = dr->dev;
	u32 c, n, first;
	int ret, nents;

	m->chunk_pages = dr->chunk_pages;
	n = DIV_ROUND_UP(m->npages, m->chunk_pages);
	m->mrs = kcalloc(n, sizeof(*m->mrs), GFP_KERNEL);
	m->sgts = kcalloc(n, sizeof(*m->sgts), GFP_KERNEL);
	if (!m->mrs || !m->sgts) {
		ret = -ENOMEM;
		goto err;
	}
	m->dev = dev;
	for (c = 0; c < n; c++) {
		struct sg_table *sgt = &m->sgts[c];
		struct ib_mr *mr;
		u32 np;

		first = c * m->chunk_pages;
		np = min(m->chunk_pages, m->npages - first);
		ret = sg_alloc_table_from_pages(sgt, m->pages + first, np, 0,
						(size_t)np << PAGE_SHIFT,
						GFP_KERNEL);
		if (ret)
			goto err;
		nents = ib_dma_map_sg(dev, sgt->sgl, sgt->orig_nents,
				      DMA_BIDIRECTIONAL);
		if (!nents) {
			sg_free_table(sgt);
			ret = -ENOMEM;
			goto err;
		}
		sgt->nents = nents;
		m->nchunks = c + 1;

		mr = ib_alloc_mr(dr->pd, IB_MR_TYPE_MEM_REG, np);
		if (IS_ERR(mr)) {
			ret = PTR_ERR(mr);
			goto err;
		}
		m->mrs[c] = mr;
		ret = ib_map_mr_sg(mr, sgt->sgl, nents, NULL, PAGE_SIZE);
		if (ret != nents) {
			ret = ret < 0 ? ret : -EINVAL;
			goto err;
		}
		ret = repl_mem_reg_mr(dr, mr, access);
		if (ret)
			goto err;
		if (!(c % 16))
			cond_resched();
	}
	return 0;

err:
	vrdma_repl_mem_unreg(m);
	return ret;
}

/**
 * vrdma_repl_mem_unreg() - deregister memory
 * @m: the memory (registered or partly registered, or not at all)
 */
void vrdma_repl_mem_unreg(struct repl_mem *m)
{
	u32 c;

	for (c = 0; c < m->nchunks; c++) {
		if (m->mrs[c])
			ib_dereg_mr(m->mrs[c]);
		ib_dma_unmap_sg(m->dev, m->sgts[c].sgl, m->sgts[c].orig_nents,
				DMA_BIDIRECTIONAL);
		sg_free_table(&m->sgts[c]);
	}
	kfree(m->mrs);
	kfree(m->sgts);
	m->mrs = NULL;
	m->sgts = NULL;
	m->nchunks = 0;
	m->dev = NULL;
}

/* The backing file */

/**
 * vrdma_repl_file_open() - open (create) a backing file and size it
 * @g: the group
 * @path: absolute path
 * @size: the region size
 *
 * Called in the context of the group's creator (vrdma_repl_group_new()),
 * whose root resolves the path.  A missing file is created (mode 0600), a
 * shorter one extended (holes).  The file is the
 * one the path names: no symbolic link may be on the path or be the file
 * (the creator, privileged, would otherwise grow and overwrite whatever a
 * link planted in a shared directory points to), the file has no other
 * hard link, and it belongs to the creator.
 *
 * Return: the file, or an ERR_PTR: the error of opening (-ELOOP for a
 * symbolic link), -EINVAL if it is not a regular file, -EMLINK if it has
 * other hard links, -EPERM if it belongs to another user, -EFBIG if it is
 * longer than @size.
 */
struct file *vrdma_repl_file_open(struct repl_group *g, const char *path, u64 size)
{
	const char *name = strrchr(path, '/');
	struct path dir;
	struct file *file;
	struct inode *inode;
	loff_t isize;
	char *dname;
	int ret;

	if (!name || !name[1] || !strcmp(name, "/.") || !strcmp(name, "/.."))
		return ERR_PTR(-EINVAL);
	/* The directory, found from the creator's root without a link. */
	dname = kstrndup(path, max_t(size_t, name - path, 1), GFP_KERNEL);
	if (!dname)
		return ERR_PTR(-ENOMEM);
	ret = kern_path(dname, LOOKUP_FOLLOW | LOOKUP_DIRECTORY |
			LOOKUP_NO_SYMLINKS, &dir);
	kfree(dname);
	if (ret)
		return ERR_PTR(ret);
	/* The file, a name in that directory and not a link. */
	file = file_open_root(&dir, name + 1,
			      O_RDWR | O_CREAT | O_NOFOLLOW | O_LARGEFILE |
			      O_CLOEXEC, 0600);
	path_put(&dir);
	if (IS_ERR(file))
		return file;
	inode = file_inode(file);
	if (!S_ISREG(inode->i_mode)) {
		ret = -EINVAL;
		goto err;
	}
	if (inode->i_nlink > 1) {
		ret = -EMLINK;
		goto err;
	}
	if (!uid_eq(inode->i_uid, current_fsuid())) {
		ret = -EPERM;
		goto err;
	}
	isize = i_size_read(file_inode(file));
	if (isize > size) {
		ret = -EFBIG;
		goto err;
	}
	if (isize < size) {
		ret = vfs_truncate(&file->f_path, size);
		if (ret)
			goto err;
	}
	return file;

err:
	fput(file);
	return ERR_PTR(ret);
}

/**
 * vrdma_repl_file_writeback() - hand dirty region pages to the file system
 * @file: the backing file
 * @region: the region (its page cache)
 * @dirty: the dirty bitmap; the bits written are cleared
 * @off: first byte of the range
 * @len: bytes (the range must lie in the region)
 * @sync: then make the range durable (vfs_fsync_range(), data only)
 *
 * Nothing may write the region meanwhile (the member's engine is paused).
 * Process context.
 *
 * Return: 0 or the first error (the pages stay dirty).
 */
int vrdma_repl_file_writeback(struct file *file, struct repl_mem *region,
			      unsigned long *dirty, u64 off, u64 len, bool sync)
{
	unsigned long first, last, p, end;
	loff_t pos;
	ssize_t n;
	int ret = 0;

	if (!len)
		return 0;
	first = off >> PAGE_SHIFT;
	last = (off + len - 1) >> PAGE_SHIFT;
	for (p = find_next_bit(dirty, last + 1, first); p <= last;
	     p = find_next_bit(dirty, last + 1, end)) {
		end = find_next_zero_bit(dirty, last + 1, p);
		/* At most 1 MiB per call: reschedule between them. */
		end = min(end, p + 256);
		bitmap_clear(dirty, p, end - p);
		pos = (loff_t)p << PAGE_SHIFT;
		n = kernel_write(file, region->va + pos,
				 (end - p) << PAGE_SHIFT, &pos);
		if (n != (ssize_t)((end - p) << PAGE_SHIFT)) {
			bitmap_set(dirty, p, end - p);
			ret = n < 0 ? n : -EIO;
			break;
		}
		cond_resched();
	}
	if (!ret && sync)
		ret = vfs_fsync_range(file, off, off + len - 1, 1);
	return ret;
}

/* RDMA devices */

struct repl_dev {
	struct list_head node;
	struct ib_device *dev;
};

static LIST_HEAD(repl_devs);		/* vrdma_repl_lock */
static struct ib_client repl_ib_client;

static int repl_dev_add(struct ib_device *dev)
{
	struct repl_dev *d;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->dev = dev;
	mutex_lock(&vrdma_repl_lock);
	list_add_tail(&d->node, &repl_devs);
	mutex_unlock(&vrdma_repl_lock);
	ib_set_client_data(dev, &repl_ib_client, d);
	/* Members and agents waiting for their device may find it now. */
	vrdma_repl_kick();
	return 0;
}

static void repl_dev_remove(struct ib_device *dev, void *client_data)
{
	struct repl_dev *d = client_data;

	mutex_lock(&vrdma_repl_lock);
	list_del(&d->node);
	vrdma_repl_dev_removed(dev);
	mutex_unlock(&vrdma_repl_lock);
	kfree(d);
}

static struct ib_client repl_ib_client = {
	.name	= "vrdma_repl",
	.add	= repl_dev_add,
	.remove	= repl_dev_remove,
};

int vrdma_repl_devs_init(void)
{
	return ib_register_client(&repl_ib_client);
}

void vrdma_repl_devs_exit(void)
{
	ib_unregister_client(&repl_ib_client);
}

/* Find the RoCE v2 GID @gid on @dev: port, index, MAC.  Lock held. */
static int repl_dev_gid(struct ib_device *dev, const union ib_gid *gid,
			struct repl_devres *dr)
{
	const struct ib_gid_attr *attr;
	u32 port;
	int ret;

	rdma_for_each_port(dev, port) {
		if (!rdma_protocol_roce(dev, port))
			continue;
		attr = rdma_find_gid_by_port(dev, gid,
					     IB_GID_TYPE_ROCE_UDP_ENCAP, port,
					     NULL);
		if (IS_ERR(attr))
			continue;
		dr->dev = dev;
		dr->port = port;
		dr->gid_index = attr->index;
		dr->gid = *gid;
		ret = rdma_read_gid_l2_fields(attr, NULL, dr->mac);
		rdma_put_gid_attr(attr);
		return ret;
	}
	return -ENODEV;
}

/**
 * vrdma_repl_devres_matches() - does a device hold an address as a RoCE GID
 * @dev: the device
 * @addr: the address
 *
 * Return: true if it does.
 */
bool vrdma_repl_devres_matches(struct ib_device *dev, const struct in6_addr *addr)
{
	struct repl_devres dr = {};
	union ib_gid gid;

	memcpy(gid.raw, addr->s6_addr, sizeof(gid.raw));
	return !repl_dev_gid(dev, &gid, &dr);
}

static void repl_lqp_event(struct ib_event *ev, void *ctx)
{
	pr_debug("repl: loopback QP event %d\n", ev->event);
}

/* Connect a QP: INIT is done; RTR then RTS towards @dgid/@dmac/@dqpn. */
static int repl_qp_rtr_rts(struct ib_qp *qp, struct repl_devres *dr,
			   const union ib_gid *dgid, const u8 *dmac,
			   int hop_limit, u32 dqpn, u32 rpsn, u32 spsn)
{
	struct ib_qp_attr attr = {};
	union ib_gid gid = *dgid;
	int ret;

	attr.qp_state = IB_QPS_RTR;
	attr.ah_attr.type = rdma_ah_find_type(dr->dev, dr->port);
	rdma_ah_set_port_num(&attr.ah_attr, dr->port);
	rdma_ah_set_grh(&attr.ah_attr, &gid, 0, dr->gid_index, hop_limit, 0);
	memcpy(attr.ah_attr.roce.dmac, dmac, ETH_ALEN);
	attr.path_mtu = dr->mtu;
	attr.dest_qp_num = dqpn;
	attr.rq_psn = rpsn;
	attr.max_dest_rd_atomic = 1;
	attr.min_rnr_timer = 12;	/* 0.64 ms */
	ret = ib_modify_qp(qp, &attr, IB_QP_STATE | IB_QP_AV | IB_QP_PATH_MTU |
			   IB_QP_DEST_QPN | IB_QP_RQ_PSN |
			   IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_MIN_RNR_TIMER);
	if (ret)
		return ret;

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IB_QPS_RTS;
	attr.timeout = 14;		/* 67 ms */
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;		/* infinite: receivers pace senders */
	attr.sq_psn = spsn;
	attr.max_rd_atomic = 1;
	return ib_modify_qp(qp, &attr, IB_QP_STATE | IB_QP_TIMEOUT |
			    IB_QP_RETRY_CNT | IB_QP_RNR_RETRY | IB_QP_SQ_PSN |
			    IB_QP_MAX_QP_RD_ATOMIC);
}

static int repl_qp_init(struct ib_qp *qp, struct repl_devres *dr)
{
	struct ib_qp_attr attr = {
		.qp_state = IB_QPS_INIT,
		.port_num = dr->port,
		.qp_access_flags = IB_ACCESS_REMOTE_WRITE |
				   IB_ACCESS_LOCAL_WRITE,
	};

	return ib_modify_qp(qp, &attr, IB_QP_STATE | IB_QP_PKEY_INDEX |
			    IB_QP_PORT | IB_QP_ACCESS_FLAGS);
}

static struct ib_qp *repl_qp_create(struct repl_devres *dr, u32 nsend,
				    u32 nrecv, void *ctx,
				    void (*event)(struct ib_event *, void *))
{
	struct ib_qp_init_attr init = {
		.event_handler = event,
		.qp_context = ctx,
		.send_cq = dr->cq,
		.recv_cq = dr->cq,
		.cap = {
			.max_send_wr = nsend + 1,	/* + ib_drain_qp() */
			.max_recv_wr = nrecv + 1,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.qp_type = IB_QPT_RC,
	};
	struct ib_qp *qp;
	int ret;

	qp = ib_create_qp(dr->pd, &init);
	if (IS_ERR(qp))
		return qp;
	ret = repl_qp_init(qp, dr);
	if (ret) {
		ib_destroy_qp(qp);
		return ERR_PTR(ret);
	}
	return qp;
}

/**
 * vrdma_repl_devres_open() - set up the RDMA resources of an address
 * @dr: the resources (zeroed by the caller)
 * @addr: the address: the device is the one with this RoCE v2 GID
 * @ncqe: CQ entries (every QP's queues)
 * @owner: the CQ's context
 *
 * vrdma_repl_lock held (the device list).
 *
 * Return: 0, -ENODEV if no device has the address (or it lacks fast
 * registration), or the error of a verb.
 */
int vrdma_repl_devres_open(struct repl_devres *dr, const struct in6_addr *addr,
			   int ncqe, void *owner)
{
	struct ib_port_attr pattr;
	union ib_gid gid;
	struct repl_dev *d;
	int ret = -ENODEV;

	lockdep_assert_held(&vrdma_repl_lock);
	memcpy(gid.raw, addr->s6_addr, sizeof(gid.raw));
	list_for_each_entry(d, &repl_devs, node) {
		ret = repl_dev_gid(d->dev, &gid, dr);
		if (!ret)
			break;
	}
	if (ret)
		return -ENODEV;
	if (!(dr->dev->attrs.device_cap_flags & IB_DEVICE_MEM_MGT_EXTENSIONS))
		return -ENODEV;
	dr->chunk_pages = min_t(u32, dr->dev->attrs.max_fast_reg_page_list_len,
				REPL_CHUNK_PAGES_MAX);
	dr->chunk_pages = rounddown(dr->chunk_pages,
				    REPL_MSG_MAX >> PAGE_SHIFT);
	if (!dr->chunk_pages)
		return -ENODEV;
	ret = ib_query_port(dr->dev, dr->port, &pattr);
	if (ret)
		return ret;
	dr->mtu = pattr.active_mtu;

	dr->pd = ib_alloc_pd(dr->dev, 0);
	if (IS_ERR(dr->pd)) {
		ret = PTR_ERR(dr->pd);
		dr->pd = NULL;
		return ret;
	}
	ncqe = min(ncqe, dr->dev->attrs.max_cqe);
	dr->cq = ib_alloc_cq(dr->dev, owner, ncqe, 0, IB_POLL_SOFTIRQ);
	if (IS_ERR(dr->cq)) {
		ret = PTR_ERR(dr->cq);
		dr->cq = NULL;
		goto err;
	}
	dr->lqp = repl_qp_create(dr, 16, 0, dr, repl_lqp_event);
	if (IS_ERR(dr->lqp)) {
		ret = PTR_ERR(dr->lqp);
		dr->lqp = NULL;
		goto err;
	}
	ret = repl_qp_rtr_rts(dr->lqp, dr, &dr->gid, dr->mac, 64,
			      dr->lqp->qp_num, 0, 0);
	if (ret)
		goto err;
	return 0;

err:
	vrdma_repl_devres_close(dr);
	return ret;
}

/**
 * vrdma_repl_devres_close() - release the RDMA resources (channels and memory
 * registered with them are gone)
 * @dr: the resources; zeroed afterwards
 */
void vrdma_repl_devres_close(struct repl_devres *dr)
{
	if (dr->lqp) {
		ib_drain_qp(dr->lqp);
		ib_destroy_qp(dr->lqp);
	}
	if (dr->cq)
		ib_free_cq(dr->cq);
	if (dr->pd)
		ib_dealloc_pd(dr->pd);
	memset(dr, 0, sizeof(*dr));
}

/* Channels */

/*
 * The next hop's MAC address from our GID to @dgid, and the route's hop
 * limit, without waiting: route lookup bound to the GID's netdev (as
 * ib_core's ib_resolve_eth_dmac() and map.c do), then the neighbour
 * table.  An unresolved neighbour is asked for (ARP, ND) and -EAGAIN
 * returned: the caller retries later (connection requests are
 * retransmitted), so that the control loop never waits for the network.
 */
static int repl_resolve_l2(struct repl_devres *dr, const union ib_gid *dgid,
			   u8 *dmac, int *hop_limit)
{
	const struct ib_gid_attr *sattr;
	struct net_device *ndev;
	struct dst_entry *dst;
	struct neighbour *n;
	int ifindex = 0, ret;
	const void *daddr;
	struct flowi4 fl4;
	struct flowi6 fl6;

	if (!memcmp(dgid->raw, dr->gid.raw, sizeof(dgid->raw))) {
		memcpy(dmac, dr->mac, ETH_ALEN);
		*hop_limit = 64;
		return 0;
	}
	if (ipv6_addr_v4mapped((const struct in6_addr *)dgid->raw) !=
	    ipv6_addr_v4mapped((const struct in6_addr *)dr->gid.raw))
		return -EAFNOSUPPORT;
	sattr = rdma_get_gid_attr(dr->dev, dr->port, dr->gid_index);
	if (IS_ERR(sattr))
		return PTR_ERR(sattr);
	rcu_read_lock();
	ndev = rdma_read_gid_attr_ndev_rcu(sattr);
	if (!IS_ERR(ndev))
		ifindex = ndev->ifindex;
	rcu_read_unlock();
	ret = -ENETDOWN;
	if (!ifindex)
		goto out;

	if (ipv6_addr_v4mapped((const struct in6_addr *)dgid->raw)) {
		struct rtable *rt;

		memset(&fl4, 0, sizeof(fl4));
		fl4.daddr = ((const struct in6_addr *)dgid->raw)->s6_addr32[3];
		fl4.saddr = ((const struct in6_addr *)dr->gid.raw)->s6_addr32[3];
		fl4.flowi4_oif = ifindex;
		rt = ip_route_output_key(&init_net, &fl4);
		if (IS_ERR(rt)) {
			ret = PTR_ERR(rt);
			goto out;
		}
		dst = &rt->dst;
		daddr = &fl4.daddr;
		*hop_limit = ip4_dst_hoplimit(dst);
	} else if (IS_ENABLED(CONFIG_IPV6)) {
		memset(&fl6, 0, sizeof(fl6));
		memcpy(&fl6.daddr, dgid->raw, sizeof(fl6.daddr));
		memcpy(&fl6.saddr, dr->gid.raw, sizeof(fl6.saddr));
		fl6.flowi6_oif = ifindex;
		dst = ip6_route_output(&init_net, NULL, &fl6);
		if (dst->error) {
			ret = dst->error;
			dst_release(dst);
			goto out;
		}
		daddr = &fl6.daddr;
		*hop_limit = ip6_dst_hoplimit(dst);
	} else {
		ret = -EAFNOSUPPORT;
		goto out;
	}

	if (dst->dev->ifindex != ifindex) {
		ret = -ENETUNREACH;	/* not through our RNIC's netdev */
	} else {
		n = dst_neigh_lookup(dst, daddr);
		if (!n) {
			ret = -ENOMEM;
		} else if (n->nud_state & NUD_VALID) {
			neigh_ha_snapshot(dmac, n, dst->dev);
			neigh_release(n);
			ret = 0;
		} else {
			neigh_event_send(n, NULL);
			neigh_release(n);
			ret = -EAGAIN;
		}
	}
	dst_release(dst);
out:
	rdma_put_gid_attr(sattr);
	return ret;
}

/**
 * vrdma_repl_peer_l2() - is a peer's next hop resolved
 * @dr: our device resources
 * @peer: the peer's address
 *
 * Starts the resolution if needed.
 *
 * Return: 0, -EAGAIN (resolving: try again later) or another negative
 * errno.
 */
int vrdma_repl_peer_l2(struct repl_devres *dr, const struct in6_addr *peer)
{
	union ib_gid dgid;
	u8 dmac[ETH_ALEN];
	int hop_limit;

	memcpy(dgid.raw, peer->s6_addr, sizeof(dgid.raw));
	return repl_resolve_l2(dr, &dgid, dmac, &hop_limit);
}

/**
 * vrdma_repl_chan_create() - a channel: an RC QP in INIT and its receive buffers
 * @dr: the device resources
 * @kind: what the channel is for
 * @nrx: receive buffers
 * @rxsize: their size (a divisor of the chunk size)
 * @nsend: send queue depth
 *
 * Process context.
 *
 * Return: the channel or an ERR_PTR.
 */
struct repl_chan *vrdma_repl_chan_create(struct repl_devres *dr,
					 enum repl_chan_kind kind, u32 nrx,
				   u32 rxsize, u32 nsend)
{
	struct repl_chan *ch;
	u32 i;
	int ret;

	ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	if (!ch)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&ch->node);
	INIT_LIST_HEAD(&ch->sendq);
	ch->kind = kind;
	ch->nrx = nrx;
	ch->rxsize = rxsize;
	ch->psn = get_random_u32() & 0xffffff;
	ch->peer_idx = VRDMA_REPL_NO_IDX;

	ch->rxb = kcalloc(nrx, sizeof(*ch->rxb), GFP_KERNEL);
	if (!ch->rxb) {
		ret = -ENOMEM;
		goto err;
	}
	ret = vrdma_repl_mem_alloc(&ch->rx, (size_t)nrx * rxsize);
	if (ret)
		goto err;
	ret = vrdma_repl_mem_reg(&ch->rx, dr, IB_ACCESS_LOCAL_WRITE);
	if (ret)
		goto err;
	for (i = 0; i < nrx; i++) {
		ch->rxb[i].cqe.done = vrdma_repl_chan_rx_done;
		ch->rxb[i].ch = ch;
		ch->rxb[i].off = i * rxsize;
		INIT_LIST_HEAD(&ch->rxb[i].node);
	}
	ch->qp = repl_qp_create(dr, nsend, nrx, ch, vrdma_repl_chan_event);
	if (IS_ERR(ch->qp)) {
		ret = PTR_ERR(ch->qp);
		ch->qp = NULL;
		goto err;
	}
	vrdma_audit_created(VRDMA_AUDIT_REPL_CHAN);
	return ch;

err:
	vrdma_repl_mem_unreg(&ch->rx);
	vrdma_repl_mem_free(&ch->rx);
	kfree(ch->rxb);
	kfree(ch);
	return ERR_PTR(ret);
}

/**
 * vrdma_repl_chan_post_recv() - post one receive buffer
 * @ch: the channel
 * @rxb: one of its buffers
 *
 * Return: 0 or the error of ib_post_recv().
 */
int vrdma_repl_chan_post_recv(struct repl_chan *ch, struct repl_rxbuf *rxb)
{
	struct ib_sge sge = {
		.addr = repl_mem_addr(&ch->rx, rxb->off),
		.length = ch->rxsize,
		.lkey = repl_mem_lkey(&ch->rx, rxb->off),
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &rxb->cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};

	return ib_post_recv(ch->qp, &wr, NULL);
}

/**
 * vrdma_repl_chan_connect() - connect a channel to its peer and post receives
 * @ch: the channel (ch->peer_addr set)
 * @dr: the device resources
 * @peer_qpn: the peer's QP
 * @peer_psn: the peer's first PSN
 *
 * Process context.  Does not wait for the network: if the peer's next
 * hop is not resolved yet, nothing changes and -EAGAIN is returned (try
 * again later).
 *
 * Return: 0, -EAGAIN or another negative errno.
 */
int vrdma_repl_chan_connect(struct repl_chan *ch, struct repl_devres *dr,
			    u32 peer_qpn, u32 peer_psn)
{
	int hop_limit = 64;
	union ib_gid dgid;
	u8 dmac[ETH_ALEN];
	u32 i;
	int ret;

	memcpy(dgid.raw, ch->peer_addr.s6_addr, sizeof(dgid.raw));
	ret = repl_resolve_l2(dr, &dgid, dmac, &hop_limit);
	if (ret)
		return ret;
	ret = repl_qp_rtr_rts(ch->qp, dr, &dgid, dmac, hop_limit, peer_qpn,
			      peer_psn & 0xffffff, ch->psn);
	if (ret)
		return ret;
	for (i = 0; i < ch->nrx; i++) {
		ret = vrdma_repl_chan_post_recv(ch, &ch->rxb[i]);
		if (ret)
			return ret;
	}
	ch->peer_qpn = peer_qpn;
	return 0;
}

/**
 * vrdma_repl_chan_destroy() - drain and destroy a channel
 * @ch: the channel, off its owner's lists, marked dead, its unposted
 *	slots returned by the owner
 *
 * Every posted work request completes (flushed) before the QP goes: the
 * completion handlers release what they hold.  Process context.
 */
void vrdma_repl_chan_destroy(struct repl_chan *ch)
{
	if (!ch)
		return;
	ib_drain_qp(ch->qp);
	ib_destroy_qp(ch->qp);
	vrdma_repl_mem_unreg(&ch->rx);
	vrdma_repl_mem_free(&ch->rx);
	kfree(ch->rxb);
	kfree(ch->xfer);
	kfree(ch);
	vrdma_audit_destroyed(VRDMA_AUDIT_REPL_CHAN);
}

/* Slots */

/**
 * vrdma_repl_slots_init() - allocate and register fixed-size send buffers
 * @mem: their memory
 * @slots: set to the array of slots
 * @free: list that receives them all
 * @n: how many
 * @size: bytes each (a divisor of the chunk size)
 * @dr: the device resources
 *
 * Return: 0 or a negative errno.
 */
int vrdma_repl_slots_init(struct repl_mem *mem, struct repl_slot **slots,
			  struct list_head *free, u32 n, u32 size,
		    struct repl_devres *dr)
{
	u32 i;
	int ret;

	*slots = kcalloc(n, sizeof(**slots), GFP_KERNEL);
	if (!*slots)
		return -ENOMEM;
	ret = vrdma_repl_mem_alloc(mem, (size_t)n * size);
	if (!ret)
		ret = vrdma_repl_mem_reg(mem, dr, IB_ACCESS_LOCAL_WRITE);
	if (ret) {
		vrdma_repl_mem_free(mem);
		kfree(*slots);
		*slots = NULL;
		return ret;
	}
	INIT_LIST_HEAD(free);
	for (i = 0; i < n; i++) {
		(*slots)[i].off = i * size;
		list_add_tail(&(*slots)[i].node, free);
	}
	return 0;
}

/**
 * vrdma_repl_slots_fini() - release the send buffers (none in flight)
 * @mem: their memory
 * @slots: the array
 */
void vrdma_repl_slots_fini(struct repl_mem *mem, struct repl_slot **slots)
{
	vrdma_repl_mem_unreg(mem);
	vrdma_repl_mem_free(mem);
	kfree(*slots);
	*slots = NULL;
}

/**
 * vrdma_repl_slot_va() - the kernel address of a slot
 * @mem: the slots' memory
 * @s: the slot
 *
 * Return: the address of its first byte.
 */
void *vrdma_repl_slot_va(struct repl_mem *mem, struct repl_slot *s)
{
	return (u8 *)mem->va + s->off;
}

/**
 * vrdma_repl_msg_post() - finish a message head in registered memory and send it
 * @ch: the channel
 * @mem: the memory holding the message
 * @off: its offset in @mem
 * @len: its length
 * @cqe: the completion of the send
 * @type: VRDMA_REPL_M_*
 * @count: entries in it
 * @arg: the message's arg field
 * @epoch: the sender's epoch
 *
 * The owner's lock held.  Counts the send in ch->outstanding.
 *
 * Return: 0 or the error of ib_post_send().
 */
int vrdma_repl_msg_post(struct repl_chan *ch, struct repl_mem *mem, u32 off,
			u32 len, struct ib_cqe *cqe, u8 type, u16 count, u64 arg,
		  u32 epoch)
{
	struct vrdma_repl_msg *msg = (void *)((u8 *)mem->va + off);
	struct ib_sge sge = {
		.addr = repl_mem_addr(mem, off),
		.length = len,
		.lkey = repl_mem_lkey(mem, off),
	};
	struct ib_send_wr wr = {
		.wr_cqe = cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	int ret;

	msg->magic = cpu_to_le32(VRDMA_REPL_MSG_MAGIC);
	msg->version = VRDMA_REPL_MSG_VERSION;
	msg->type = type;
	msg->count = cpu_to_le16(count);
	msg->len = cpu_to_le32(len);
	msg->epoch = cpu_to_le32(epoch);
	msg->arg = cpu_to_le64(arg);
	ret = ib_post_send(ch->qp, &wr, NULL);
	if (!ret)
		ch->outstanding++;
	return ret;
}

/**
 * vrdma_repl_slot_post() - finish a slot's message head and send it
 * @ch: the channel
 * @mem: the slots' memory
 * @s: the slot (s->cqe.done set by its owner)
 * @arg: the message's arg field
 * @epoch: the sender's epoch
 *
 * The owner's lock held.  Counts the send in ch->outstanding.
 *
 * Return: 0 or the error of ib_post_send().
 */
int vrdma_repl_slot_post(struct repl_chan *ch, struct repl_mem *mem,
			 struct repl_slot *s, u64 arg, u32 epoch)
{
	s->ch = ch;
	return vrdma_repl_msg_post(ch, mem, s->off, s->len, &s->cqe, s->type,
			     s->count, arg, epoch);
}
