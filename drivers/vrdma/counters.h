/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-device counters (counters.c): what a virtual device, that is one
 * container, did with the physical RNIC.  ib_core shows them as the
 * device's hw counters (`rdma statistic show link DEV/1`, sysfs
 * ports/1/hw_counters), the traffic ones also as the port's PMA counters
 * (sysfs ports/1/counters, what node_exporter reads), and DEV_GET shows
 * them all (`vrdmactl dev show -s`).  Documentation/observability.rst
 * says what each counts and where.
 *
 * The data path only adds to per-CPU counters (this_cpu_add(): one
 * instruction on x86-64, safe in any context); readers sum the CPUs.
 * Values of one read are not a snapshot: counters read apart may differ
 * by what happened in between.
 */
#ifndef _VRDMA_COUNTERS_H
#define _VRDMA_COUNTERS_H

#include <linux/percpu.h>
#include <rdma/ib_verbs.h>

#include "verbs.h"

/*
 * Counters (per CPU) first, then the gauges, computed when read.  The
 * order is the order of hw_counters and of the DEV_GET statistics: append
 * only (the netlink attributes follow it).
 */
enum vrdma_stat {
	VRDMA_STAT_TX_PKTS,
	VRDMA_STAT_TX_BYTES,
	VRDMA_STAT_RX_PKTS,
	VRDMA_STAT_RX_BYTES,
	VRDMA_STAT_SEND_WRS,
	VRDMA_STAT_RECV_WRS,
	VRDMA_STAT_RDMA_WRITE_WRS,
	VRDMA_STAT_RDMA_READ_WRS,
	VRDMA_STAT_ATOMIC_WRS,
	VRDMA_STAT_CQE_ERR_LOCAL,
	VRDMA_STAT_CQE_ERR_REMOTE,
	VRDMA_STAT_CQE_ERR_RETRY,
	VRDMA_STAT_CQE_ERR_RNR_RETRY,
	VRDMA_STAT_CQE_ERR_FLUSH,
	VRDMA_STAT_CQE_ERR_OTHER,
	VRDMA_STAT_CQE_DROPPED,
	VRDMA_STAT_XLATE_NOMAP,
	VRDMA_STAT_XLATE_OTHER_VNI,
	VRDMA_STAT_MAD_TX,
	VRDMA_STAT_MAD_TX_ERR,
	VRDMA_STAT_MAD_RX,
	VRDMA_STAT_MAD_RX_DROP,
	VRDMA_STAT_LIMIT_EXCEEDED,
	VRDMA_STAT_NR_COUNTERS,

	VRDMA_STAT_ACTIVE_PDS = VRDMA_STAT_NR_COUNTERS,
	VRDMA_STAT_MAX_PDS,
	VRDMA_STAT_ACTIVE_CQS,
	VRDMA_STAT_MAX_CQS,
	VRDMA_STAT_ACTIVE_QPS,
	VRDMA_STAT_MAX_QPS,
	VRDMA_STAT_ACTIVE_SRQS,
	VRDMA_STAT_MAX_SRQS,
	VRDMA_STAT_ACTIVE_MRS,
	VRDMA_STAT_MAX_MRS,
	VRDMA_STAT_ACTIVE_AHS,
	VRDMA_STAT_MAX_AHS,
	VRDMA_STAT_PINNED_BYTES,
	VRDMA_STAT_MAX_PINNED_BYTES,
	VRDMA_STAT_NR
};

/**
 * struct vrdma_stats - one CPU's share of a device's counters
 * @v: indexed by enum vrdma_stat, below VRDMA_STAT_NR_COUNTERS
 */
struct vrdma_stats {
	u64 v[VRDMA_STAT_NR_COUNTERS];
};

int vrdma_counters_init(struct vrdma_dev *vdev);
void vrdma_counters_cleanup(struct vrdma_dev *vdev);
const char *vrdma_stat_name(unsigned int stat);
void vrdma_stats_read(struct vrdma_dev *vdev, u64 *vals);
void vrdma_stats_cqe_err(struct vrdma_dev *vdev, u32 status);

static inline void vrdma_stat_add(struct vrdma_dev *vdev, enum vrdma_stat s,
				  u64 n)
{
	this_cpu_add(vdev->stats->v[s], n);
}

static inline void vrdma_stat_inc(struct vrdma_dev *vdev, enum vrdma_stat s)
{
	this_cpu_inc(vdev->stats->v[s]);
}

/*
 * Packets of a message of @len bytes on @qp: one per path MTU or part of
 * it, at least one; UD messages fit one (pmtu_shift 0).
 */
static inline u32 vrdma_stat_pkts(const struct vrdma_qp *qp, u32 len)
{
	u8 shift = READ_ONCE(qp->pmtu_shift);

	return shift && len ? ((len - 1) >> shift) + 1 : 1;
}

/**
 * vrdma_stats_send() - count a send work request that completed
 *	successfully (posted, then retired)
 * @qp: its QP
 * @rec: its record
 *
 * Any context.
 */
static inline void vrdma_stats_send(struct vrdma_qp *qp,
				    const struct vrdma_swqe *rec)
{
	struct vrdma_dev *vdev = qp->vdev;

	switch (rec->opcode) {
	case VRDMA_UWC_SEND:
	case VRDMA_UWC_RDMA_WRITE:
		vrdma_stat_inc(vdev, rec->opcode == VRDMA_UWC_SEND ?
			       VRDMA_STAT_SEND_WRS :
			       VRDMA_STAT_RDMA_WRITE_WRS);
		vrdma_stat_add(vdev, VRDMA_STAT_TX_PKTS,
			       vrdma_stat_pkts(qp, rec->len));
		vrdma_stat_add(vdev, VRDMA_STAT_TX_BYTES, rec->len);
		break;
	case VRDMA_UWC_RDMA_READ:
	case VRDMA_UWC_COMP_SWAP:
	case VRDMA_UWC_FETCH_ADD:
		/* One request out, the data comes back in the response(s). */
		vrdma_stat_inc(vdev, rec->opcode == VRDMA_UWC_RDMA_READ ?
			       VRDMA_STAT_RDMA_READ_WRS :
			       VRDMA_STAT_ATOMIC_WRS);
		vrdma_stat_inc(vdev, VRDMA_STAT_TX_PKTS);
		vrdma_stat_add(vdev, VRDMA_STAT_RX_PKTS,
			       vrdma_stat_pkts(qp, rec->len));
		vrdma_stat_add(vdev, VRDMA_STAT_RX_BYTES, rec->len);
		break;
	}
}

/**
 * vrdma_stats_cqe() - count a completion given to the application
 * @qp: its QP
 * @uwc: the completion (user ABI)
 *
 * Errors by class, successful receives with their bytes and packets
 * (successful sends are counted by vrdma_stats_send(), signaled or not).
 * Any context.
 */
static inline void vrdma_stats_cqe(struct vrdma_qp *qp,
				   const struct ib_uverbs_wc *uwc)
{
	struct vrdma_dev *vdev = qp->vdev;
	u32 len = uwc->byte_len;

	if (unlikely(uwc->status != IB_WC_SUCCESS)) {
		vrdma_stats_cqe_err(vdev, uwc->status);
		return;
	}
	if (!(uwc->opcode & VRDMA_UWC_RECV))
		return;
	/*
	 * A UD receive starts with the 40 bytes of the GRH (the flag alone
	 * says nothing: RoCE devices set it on every receive).
	 */
	if (qp->ibqp.qp_type == IB_QPT_UD && len >= sizeof(struct ib_grh))
		len -= sizeof(struct ib_grh);
	vrdma_stat_inc(vdev, VRDMA_STAT_RECV_WRS);
	vrdma_stat_add(vdev, VRDMA_STAT_RX_PKTS, vrdma_stat_pkts(qp, len));
	vrdma_stat_add(vdev, VRDMA_STAT_RX_BYTES, len);
}

#endif /* _VRDMA_COUNTERS_H */
