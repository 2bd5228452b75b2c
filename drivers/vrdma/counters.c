// SPDX-License-Identifier: GPL-2.0
/*
 * Per-device counters, shown through the interfaces every RDMA tool reads.
 *
 *  - hw counters (ops.alloc_hw_port_stats, ops.get_hw_stats): every
 *    counter and gauge, in sysfs (ports/1/hw_counters/NAME) and through
 *    RDMA netlink (`rdma statistic show link DEV/1`);
 *  - PMA counters (ops.process_mad answering ib_core's own Performance
 *    Management queries): the traffic counters as the port's extended
 *    PortCounters, in sysfs ports/1/counters/, which is what node_exporter
 *    and other collectors read.  The IBTA link error counters
 *    (PortCounters: symbol errors, link downed, ...) have no meaning for a
 *    virtual port: that query is refused, and reading those files fails
 *    with EINVAL instead of showing a made-up zero;
 *  - board_id, the one device attribute node_exporter requires (it skips
 *    the whole class without it).
 *
 * The counters themselves live in per-CPU memory (counters.h); the
 * gauges (objects in use, their limits) are read from the device when
 * asked.  Documentation/observability.rst describes every one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/percpu.h>
#include <linux/sysfs.h>
#include <rdma/ib_mad.h>
#include <rdma/ib_pma.h>
#include <rdma/ib_verbs.h>

#include "audit.h"
#include "counters.h"
#include "verbs.h"

static const struct rdma_stat_desc vrdma_stat_descs[] = {
	[VRDMA_STAT_TX_PKTS].name = "tx_pkts",
	[VRDMA_STAT_TX_BYTES].name = "tx_bytes",
	[VRDMA_STAT_RX_PKTS].name = "rx_pkts",
	[VRDMA_STAT_RX_BYTES].name = "rx_bytes",
	[VRDMA_STAT_SEND_WRS].name = "send_wrs",
	[VRDMA_STAT_RECV_WRS].name = "recv_wrs",
	[VRDMA_STAT_RDMA_WRITE_WRS].name = "rdma_write_wrs",
	[VRDMA_STAT_RDMA_READ_WRS].name = "rdma_read_wrs",
	[VRDMA_STAT_ATOMIC_WRS].name = "atomic_wrs",
	[VRDMA_STAT_CQE_ERR_LOCAL].name = "cqe_err_local",
	[VRDMA_STAT_CQE_ERR_REMOTE].name = "cqe_err_remote",
	[VRDMA_STAT_CQE_ERR_RETRY].name = "cqe_err_retry_exceeded",
	[VRDMA_STAT_CQE_ERR_RNR_RETRY].name = "cqe_err_rnr_retry_exceeded",
	[VRDMA_STAT_CQE_ERR_FLUSH].name = "cqe_err_flush",
	[VRDMA_STAT_CQE_ERR_OTHER].name = "cqe_err_other",
	[VRDMA_STAT_CQE_DROPPED].name = "cqe_dropped",
	[VRDMA_STAT_XLATE_NOMAP].name = "xlate_refused_nomap",
	[VRDMA_STAT_XLATE_OTHER_VNI].name = "xlate_refused_other_vni",
	[VRDMA_STAT_MAD_TX].name = "mad_tx",
	[VRDMA_STAT_MAD_TX_ERR].name = "mad_tx_err",
	[VRDMA_STAT_MAD_RX].name = "mad_rx",
	[VRDMA_STAT_MAD_RX_DROP].name = "mad_rx_dropped",
	[VRDMA_STAT_LIMIT_EXCEEDED].name = "limit_exceeded",
	[VRDMA_STAT_ACTIVE_PDS].name = "active_pds",
	[VRDMA_STAT_MAX_PDS].name = "max_pds",
	[VRDMA_STAT_ACTIVE_CQS].name = "active_cqs",
	[VRDMA_STAT_MAX_CQS].name = "max_cqs",
	[VRDMA_STAT_ACTIVE_QPS].name = "active_qps",
	[VRDMA_STAT_MAX_QPS].name = "max_qps",
	[VRDMA_STAT_ACTIVE_SRQS].name = "active_srqs",
	[VRDMA_STAT_MAX_SRQS].name = "max_srqs",
	[VRDMA_STAT_ACTIVE_MRS].name = "active_mrs",
	[VRDMA_STAT_MAX_MRS].name = "max_mrs",
	[VRDMA_STAT_ACTIVE_AHS].name = "active_ahs",
	[VRDMA_STAT_MAX_AHS].name = "max_ahs",
	[VRDMA_STAT_PINNED_BYTES].name = "pinned_bytes",
	[VRDMA_STAT_MAX_PINNED_BYTES].name = "max_pinned_bytes",
};

static_assert(ARRAY_SIZE(vrdma_stat_descs) == VRDMA_STAT_NR);

/**
 * vrdma_stat_name() - the name of a counter (as in hw_counters)
 * @stat: an enum vrdma_stat
 *
 * Return: the name, or NULL for an unknown counter.
 */
const char *vrdma_stat_name(unsigned int stat)
{
	return stat < VRDMA_STAT_NR ? vrdma_stat_descs[stat].name : NULL;
}

/**
 * vrdma_stats_cqe_err() - count a completion in error, by status class
 * @vdev: the device
 * @status: its status (enum ib_wc_status, the user ABI's values too)
 *
 * Any context.
 */
void vrdma_stats_cqe_err(struct vrdma_dev *vdev, u32 status)
{
	enum vrdma_stat s;

	switch (status) {
	case IB_WC_LOC_LEN_ERR:
	case IB_WC_LOC_QP_OP_ERR:
	case IB_WC_LOC_EEC_OP_ERR:
	case IB_WC_LOC_PROT_ERR:
	case IB_WC_LOC_ACCESS_ERR:
	case IB_WC_LOC_RDD_VIOL_ERR:
	case IB_WC_MW_BIND_ERR:
		s = VRDMA_STAT_CQE_ERR_LOCAL;
		break;
	case IB_WC_BAD_RESP_ERR:
	case IB_WC_REM_INV_REQ_ERR:
	case IB_WC_REM_ACCESS_ERR:
	case IB_WC_REM_OP_ERR:
	case IB_WC_REM_INV_RD_REQ_ERR:
	case IB_WC_REM_ABORT_ERR:
	case IB_WC_INV_EECN_ERR:
	case IB_WC_INV_EEC_STATE_ERR:
		s = VRDMA_STAT_CQE_ERR_REMOTE;
		break;
	case IB_WC_RETRY_EXC_ERR:
		s = VRDMA_STAT_CQE_ERR_RETRY;
		break;
	case IB_WC_RNR_RETRY_EXC_ERR:
		s = VRDMA_STAT_CQE_ERR_RNR_RETRY;
		break;
	case IB_WC_WR_FLUSH_ERR:
		s = VRDMA_STAT_CQE_ERR_FLUSH;
		break;
	default:
		s = VRDMA_STAT_CQE_ERR_OTHER;
		break;
	}
	vrdma_stat_inc(vdev, s);
}

/* Objects of each type on the device's list (user PDs, SRQs and AHs). */
static void vrdma_stats_count_objs(struct vrdma_dev *vdev,
				   u32 count[VRDMA_OBJ_NR])
{
	struct vrdma_obj *obj;

	memset(count, 0, VRDMA_OBJ_NR * sizeof(*count));
	mutex_lock(&vdev->obj_lock);
	list_for_each_entry(obj, &vdev->objs, node)
		if (obj->type < VRDMA_OBJ_NR)
			count[obj->type]++;
	mutex_unlock(&vdev->obj_lock);
}

/**
 * vrdma_stats_read() - every counter and gauge of a device
 * @vdev: the device
 * @vals: VRDMA_STAT_NR values, indexed by enum vrdma_stat
 *
 * Process context (takes the device's object lock).
 */
void vrdma_stats_read(struct vrdma_dev *vdev, u64 *vals)
{
	const struct ib_device_attr *a = &vdev->ibdev.attrs;
	u32 objs[VRDMA_OBJ_NR];
	unsigned int i, cpu;

	memset(vals, 0, VRDMA_STAT_NR * sizeof(*vals));
	for_each_possible_cpu(cpu) {
		const struct vrdma_stats *s = per_cpu_ptr(vdev->stats, cpu);

		for (i = 0; i < VRDMA_STAT_NR_COUNTERS; i++)
			vals[i] += READ_ONCE(s->v[i]);
	}

	vrdma_stats_count_objs(vdev, objs);
	vals[VRDMA_STAT_ACTIVE_PDS] = objs[VRDMA_OBJ_PD];
	vals[VRDMA_STAT_MAX_PDS] = a->max_pd;
	vals[VRDMA_STAT_ACTIVE_CQS] = atomic_read(&vdev->n_cq);
	vals[VRDMA_STAT_MAX_CQS] = a->max_cq;
	vals[VRDMA_STAT_ACTIVE_QPS] = atomic_read(&vdev->n_qp);
	vals[VRDMA_STAT_MAX_QPS] = a->max_qp;
	vals[VRDMA_STAT_ACTIVE_SRQS] = objs[VRDMA_OBJ_SRQ];
	vals[VRDMA_STAT_MAX_SRQS] = a->max_srq;
	vals[VRDMA_STAT_ACTIVE_MRS] = atomic_read(&vdev->n_mr);
	vals[VRDMA_STAT_MAX_MRS] = a->max_mr;
	vals[VRDMA_STAT_ACTIVE_AHS] = objs[VRDMA_OBJ_AH];
	vals[VRDMA_STAT_MAX_AHS] = a->max_ah;
	vals[VRDMA_STAT_PINNED_BYTES] = atomic64_read(&vdev->pinned);
	vals[VRDMA_STAT_MAX_PINNED_BYTES] = vdev->limits.max_pinned;
}

/* ------------------------------------------------------------------ */
/* hw counters                                                          */

static struct rdma_hw_stats *vrdma_alloc_hw_port_stats(struct ib_device *ibdev,
						       u32 port)
{
	return rdma_alloc_hw_stats_struct(vrdma_stat_descs, VRDMA_STAT_NR,
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

static int vrdma_get_hw_stats(struct ib_device *ibdev,
			      struct rdma_hw_stats *stats, u32 port, int index)
{
	u64 vals[VRDMA_STAT_NR];
	int i;

	if (port != 1 || stats->num_counters != VRDMA_STAT_NR)
		return -EINVAL;
	vrdma_stats_read(to_vdev(ibdev), vals);
	for (i = 0; i < VRDMA_STAT_NR; i++)
		stats->value[i] = vals[i];
	return VRDMA_STAT_NR;
}

/* ------------------------------------------------------------------ */
/* PMA counters                                                         */

/*
 * ib_core's sysfs asks the port's Performance Management Agent, through
 * ops.process_mad with no work completion, for its ClassPortInfo (once,
 * at registration: extended counters supported) and for the extended
 * PortCounters whenever a file of ports/1/counters is read.  Only those
 * local queries are answered; a MAD that arrived on the device's QP1
 * (with a work completion) is left to ib_mad's agents as before.
 */
static int vrdma_process_mad(struct ib_device *ibdev, int mad_flags, u32 port,
			     const struct ib_wc *in_wc,
			     const struct ib_grh *in_grh,
			     const struct ib_mad *in, struct ib_mad *out,
			     size_t *out_size, u16 *out_pkey_index)
{
	struct ib_pma_mad *pma = (struct ib_pma_mad *)out;
	const struct ib_pma_mad *req = (const struct ib_pma_mad *)in;
	struct ib_pma_portcounters_ext *pc;
	struct ib_class_port_info *cpi;
	u64 vals[VRDMA_STAT_NR];

	if (in_wc || port != 1 || *out_size < sizeof(*pma) ||
	    in->mad_hdr.mgmt_class != IB_MGMT_CLASS_PERF_MGMT ||
	    in->mad_hdr.method != IB_MGMT_METHOD_GET)
		return IB_MAD_RESULT_FAILURE;

	memset(out, 0, sizeof(*pma));
	if (in->mad_hdr.attr_id == IB_PMA_CLASS_PORT_INFO) {
		cpi = (struct ib_class_port_info *)pma->data;
		cpi->base_version = IB_MGMT_BASE_VERSION;
		cpi->class_version = 1;
		cpi->capability_mask = IB_PMA_CLASS_CAP_EXT_WIDTH;
	} else if (in->mad_hdr.attr_id == IB_PMA_PORT_COUNTERS_EXT) {
		/* PortSelect: this port (1) or all ports (0xff). */
		if (req->data[1] != port && req->data[1] != 0xff)
			return IB_MAD_RESULT_FAILURE;
		vrdma_stats_read(to_vdev(ibdev), vals);
		pc = (struct ib_pma_portcounters_ext *)pma->data;
		pc->port_select = req->data[1];
		/* Data counters count 32-bit words. */
		pc->port_xmit_data = cpu_to_be64(vals[VRDMA_STAT_TX_BYTES] >> 2);
		pc->port_rcv_data = cpu_to_be64(vals[VRDMA_STAT_RX_BYTES] >> 2);
		pc->port_xmit_packets = cpu_to_be64(vals[VRDMA_STAT_TX_PKTS]);
		pc->port_rcv_packets = cpu_to_be64(vals[VRDMA_STAT_RX_PKTS]);
		/* A virtual device has no multicast: every packet is unicast. */
		pc->port_unicast_xmit_packets = pc->port_xmit_packets;
		pc->port_unicast_rcv_packets = pc->port_rcv_packets;
	} else {
		/* PortCounters (link errors) and the rest: not ours. */
		return IB_MAD_RESULT_FAILURE;
	}
	pma->mad_hdr = in->mad_hdr;
	pma->mad_hdr.method = IB_MGMT_METHOD_GET_RESP;
	pma->mad_hdr.status = 0;
	*out_size = sizeof(*pma);
	return IB_MAD_RESULT_SUCCESS | IB_MAD_RESULT_REPLY;
}

/* ------------------------------------------------------------------ */
/* Device attributes                                                    */

/*
 * board_id: "vrdma", for every virtual device (a selector for them:
 * node_infiniband_info{board_id="vrdma"}).  node_exporter's infiniband
 * collector requires the file: without it, it reports no device at all.
 */
static ssize_t board_id_show(struct device *device,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "vrdma\n");
}
static DEVICE_ATTR_RO(board_id);

static struct attribute *vrdma_dev_attrs[] = {
	&dev_attr_board_id.attr,
	NULL
};

static const struct attribute_group vrdma_dev_attr_group = {
	.attrs = vrdma_dev_attrs,
};

static const struct ib_device_ops vrdma_counters_ops = {
	.alloc_hw_port_stats = vrdma_alloc_hw_port_stats,
	.device_group = &vrdma_dev_attr_group,
	.get_hw_stats = vrdma_get_hw_stats,
	.process_mad = vrdma_process_mad,
};

/**
 * vrdma_counters_init() - the counters of a new device
 * @vdev: the device, not registered yet
 *
 * Allocates the counters and sets the device's statistics operations.
 *
 * Return: 0 or -ENOMEM.
 */
int vrdma_counters_init(struct vrdma_dev *vdev)
{
	vdev->stats = alloc_percpu(struct vrdma_stats);
	if (!vdev->stats)
		return -ENOMEM;
	vrdma_audit_created(VRDMA_AUDIT_STATS);
	ib_set_device_ops(&vdev->ibdev, &vrdma_counters_ops);
	return 0;
}

/**
 * vrdma_counters_cleanup() - free a device's counters
 * @vdev: the device, unregistered (ops.dealloc_driver) or never registered
 */
void vrdma_counters_cleanup(struct vrdma_dev *vdev)
{
	if (!vdev->stats)
		return;
	free_percpu(vdev->stats);
	vdev->stats = NULL;
	vrdma_audit_destroyed(VRDMA_AUDIT_STATS);
}
