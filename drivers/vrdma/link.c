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

#include <linux/if_arp.h>
#include <linux/init.h>
#include <linux/netdevice.h>
#include <linux/printk.h>
#include <rdma/rdma_netlink.h>

#include "link.h"
#include "phys.h"
#include "vdev.h"

/*
 * The device is backed by the default physical device and belongs to
 * virtual network 0; vrdmactl dev add chooses both.  Like every device on
 * these kernels it is created in init_net: in exclusive netns mode it
 * must then be moved into the namespace (rdma dev set NAME netns NS).
 */
static int vrdma_newlink(const char *ibdev_name, struct net_device *ndev)
{
	struct vrdma_dev_params params = {
		.name = ibdev_name,
		.ndev = ndev,
	};
	struct vrdma_dev *vdev;
	int ret;

	if (ndev->type != ARPHRD_ETHER)
		return -EINVAL;
	params.phys = vrdma_phys_get_default();
	if (!params.phys) {
		pr_info_ratelimited("rdma link add %s: no default physical device (vrdmactl phys default NAME)\n",
				    ibdev_name);
		return -ENODEV;
	}
	ret = vrdma_dev_create(&params, &vdev);
	vrdma_phys_put(params.phys);
	return ret;
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
