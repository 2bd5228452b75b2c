/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VRDMA_LINK_H
#define _VRDMA_LINK_H

#define VRDMA_LINK_TYPE "vrdma"

void vrdma_link_init(void);
void vrdma_link_exit(void);

#endif /* _VRDMA_LINK_H */
