/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ib_core's own netlink (NETLINK_RDMA, RDMA_NL_NLDEV): what vrdma's tools
 * need of it to put a virtual device into a container's namespace.
 *
 * ib_core registers every RDMA device in the initial network namespace.
 * In its shared netns mode (the default) every namespace sees every
 * device; in exclusive mode a device is visible only in its own namespace,
 * and a new virtual device must be moved into the container's, as "rdma
 * dev set NAME netns NS" does (RDMA_NLDEV_CMD_SET, RDMA_NLDEV_NET_NS_FD).
 */

#ifndef VRDMA_LIB_RDMA_NLDEV_H
#define VRDMA_LIB_RDMA_NLDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "nl.h"

/*
 * Ask ib_core for its netns mode (RDMA_NLDEV_CMD_SYS_GET) on the
 * NETLINK_RDMA socket @rdma (nl_open_rdma()).  Returns 0 and *@exclusive,
 * -EPROTO if the kernel did not report the mode, or the request's error
 * (then @rdma->ext holds the extended ACK).
 */
int rdma_netns_exclusive(struct nl *rdma, bool *exclusive);

/* Move RDMA device @index into the network namespace @netns_fd. */
int rdma_dev_set_netns(struct nl *rdma, uint32_t index, int netns_fd);

#endif /* VRDMA_LIB_RDMA_NLDEV_H */
