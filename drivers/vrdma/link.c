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
#include <net/net_namespace.h>
#include <rdma/rdma_netlink.h>

#include "link.h"
#include "phys.h"
#include "pt.h"
#include "vdev.h"

/*
 * The device is backed by the default physical device, belongs to virtual
 * network 0, has the default limits and the mode of the default_mode
 * module parameter (pt.c); vrdmactl dev add chooses all four.  ib_core
 * asks of the caller only CAP_NET_ADMIN over the initial user namespace,
 * which a container may have (a Kubernetes pod with NET_ADMIN): a device
 * is only added from the initial network namespace, whose netdevs ib_core
 * looks @ndev up in.  A container cannot add itself a device, nor delete
 * one (the devices do not set IBK_ALLOW_USER_UNREG: "rdma link del" is
 * refused, vrdmactl dev del deletes them).
 */
static int vrdma_newlink(const char *ibdev_name, struct net_device *ndev)
{
	struct vrdma_dev_params params = {
		.name = ibdev_name,
		.ndev = ndev,
		.mode = vrdma_pt_default_mode(),
	};
	struct vrdma_dev *vdev;
	int ret;

	if (!net_eq(dev_net(ndev), &init_net)) {
		pr_info_ratelimited("rdma link add %s: refused from a network namespace other than the initial one\n",
				    ibdev_name);
		return -EPERM;
	}
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
