// SPDX-License-Identifier: GPL-2.0
/*
 * vrdma: virtual RoCE devices for network namespaces (containers), remapped
 * onto the host's physical RDMA devices.
 *
 * One file per concern (Documentation/architecture.rst lists them).  This
 * file only initialises and tears them down, in reverse order; the netlink
 * family comes last so that userspace sees the module only once everything
 * behind it is ready.  Virtual devices are deleted before the physical
 * devices are let go.  Replication and sleep management are optional parts
 * of the module (Kbuild VRDMA_REPL, VRDMA_SLEEP): hooks.h declares their
 * entry points, stubs when they are left out.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/genetlink.h>
#include <rdma/rdma_netlink.h>
#include <uapi/linux/vrdma.h>

#include "audit.h"
#include "ctrl.h"
#include "gsi.h"
#include "hooks.h"
#include "link.h"
#include "map.h"
#include "netlink.h"
#include "phys.h"
#include "pt.h"
#include "vdev.h"
#include "version.h"

static char *phys_default;
module_param(phys_default, charp, 0444);
MODULE_PARM_DESC(phys_default,
		 "Name of the default physical RDMA device (it may appear after the module loads; change it later with PHYS_SET)");

static int __init vrdma_init(void)
{
	int ret;

	ret = vrdma_phys_init(phys_default);
	if (ret)
		goto err_phys;

	ret = vrdma_map_init();
	if (ret)
		goto err_map;

	/* The channel between hosts before the devices that use it. */
	ret = vrdma_ctrl_init();
	if (ret)
		goto err_ctrl;

	ret = vrdma_gsi_init();
	if (ret)
		goto err_gsi;

	ret = vrdma_pt_init();
	if (ret)
		goto err_pt;

	ret = vrdma_dev_init();
	if (ret)
		goto err_dev;

	vrdma_link_init();

	ret = vrdma_repl_init();
	if (ret)
		goto err_repl;

	ret = vrdma_sleep_init();
	if (ret)
		goto err_sleep;

	ret = vrdma_netlink_init();
	if (ret)
		goto err_netlink;

	pr_info("loaded, version %s\n", VRDMA_VERSION);
	return 0;

err_netlink:
	vrdma_sleep_exit();
err_sleep:
	vrdma_repl_exit();
err_repl:
	vrdma_link_exit();
	vrdma_dev_exit();
err_dev:
	vrdma_pt_exit();
err_pt:
	vrdma_gsi_exit();
err_gsi:
	vrdma_ctrl_exit();
err_ctrl:
	vrdma_map_exit();
err_map:
	vrdma_phys_exit();
err_phys:
	vrdma_audit_check();
	return ret;
}

static void __exit vrdma_exit(void)
{
	vrdma_netlink_exit();
	vrdma_sleep_exit();
	vrdma_repl_exit();
	vrdma_link_exit();
	vrdma_dev_exit();
	vrdma_pt_exit();
	vrdma_gsi_exit();
	vrdma_ctrl_exit();
	vrdma_ud_senders_exit();
	vrdma_ud_gone_exit();
	vrdma_map_exit();
	vrdma_phys_exit();
	vrdma_audit_check();
	pr_info("unloaded\n");
}

module_init(vrdma_init);
module_exit(vrdma_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Virtual RoCE devices for network namespaces");
MODULE_AUTHOR("The vrdma authors");
MODULE_VERSION(VRDMA_VERSION);
MODULE_ALIAS_RDMA_LINK(VRDMA_LINK_TYPE);
MODULE_ALIAS_GENL_FAMILY(VRDMA_FAMILY_NAME);
