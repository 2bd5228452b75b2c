// SPDX-License-Identifier: GPL-2.0
/*
 * "rdma link add NAME type vrdma netdev DEV": the rdma_link_ops of vrdma.
 *
 * ib_core calls .newlink from the RDMA netlink (nldev) handler, with the
 * netdev looked up in the caller's network namespace, under its
 * link_ops_rwsem; rdma_link_unregister() waits for running calls.  When the
 * type is not registered, ib_core loads the module by its
 * "rdma-link-vrdma" alias.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/netdevice.h>
#include <linux/printk.h>
#include <rdma/rdma_netlink.h>

#include "link.h"

static int vrdma_newlink(const char *ibdev_name, struct net_device *ndev)
{
	pr_info_ratelimited("rdma link add %s netdev %s: device creation arrives with the virtual device\n",
			    ibdev_name, netdev_name(ndev));
	return -EOPNOTSUPP;
}

static struct rdma_link_ops vrdma_link_ops = {
	.type		= VRDMA_LINK_TYPE,
	.newlink	= vrdma_newlink,
};

void __init vrdma_link_init(void)
{
	rdma_link_register(&vrdma_link_ops);
}

void vrdma_link_exit(void)
{
	rdma_link_unregister(&vrdma_link_ops);
}
