/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink multicast groups (nl_mcast.c), on top of nl.h.
 */

#ifndef VRDMA_LIB_NL_MCAST_H
#define VRDMA_LIB_NL_MCAST_H

#include <stdint.h>

#include "nl.h"

/*
 * Resolve multicast group @group of generic netlink family @family.
 * Returns 0 (and the group id in *@id), -ENOENT if the family has no such
 * group, or another negative errno.  @nl may be bound to any family.
 */
int nl_mcast_resolve(struct nl *nl, const char *family, const char *group,
		     uint32_t *id);

/* Resolve @group and join it on @nl's socket.  Returns 0 or -errno. */
int nl_mcast_join(struct nl *nl, const char *family, const char *group);

#endif /* VRDMA_LIB_NL_MCAST_H */
