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
#include <linux/nsproxy.h>
#include <linux/printk.h>
#include <rdma/rdma_netlink.h>

#include "link.h"
#include "phys.h"
#include "vdev.h"

/*
 * The device is backed by the default physical device and belongs to
 * virtual network 0; vrdmactl dev add chooses both.  In exclusive netns
 * mode it is created in the netdev's namespace when that is the caller's
 * (nldev looks the netdev up in the namespace of the caller's socket; the
 * caller's own namespace cannot go away during the call), in init_net
 * otherwise, as in shared mode.
 */
static int vrdma_newlink(const char *ibdev_name, struct net_device *ndev)
{
	struct vrdma_dev_params params = {
		.name = ibdev_name,
		.ndev = ndev,
	};
	struct net *net = current->nsproxy->net_ns;
	struct vrdma_dev *vdev;
	int ret;

	if (ndev->type != ARPHRD_ETHER)
		return -EINVAL;
	if (net_eq(dev_net(ndev), net))
		params.net = net;
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
