/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VRDMA_VERSION_H
#define _VRDMA_VERSION_H

#define VRDMA_VERSION "0.1.0"

#endif /* _VRDMA_VERSION_H */
