/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VRDMA_NETLINK_H
#define _VRDMA_NETLINK_H

int vrdma_netlink_init(void);
void vrdma_netlink_exit(void);

#endif /* _VRDMA_NETLINK_H */
