/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsing shared by vrdma's tools: numbers, addresses in the 16-byte form
 * of the vrdma netlink family, network namespace arguments.
 */

#ifndef VRDMA_LIB_PARSE_H
#define VRDMA_LIB_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* Parse a decimal number in [0, @max].  Returns 0 or -EINVAL/-ERANGE. */
int parse_u32(const char *s, uint32_t max, uint32_t *val);
/* yes/true/1/on or no/false/0/off.  Returns 0 or -EINVAL. */
int parse_bool(const char *s, bool *val);
/*
 * Seconds, decimals allowed, into milliseconds in [@min_ms, @max_ms].
 * Returns 0 or -EINVAL/-ERANGE.
 */
int parse_secs_ms(const char *s, long min_ms, long max_ms, int *ms);
/* A byte count, with an optional K, M, G or T (binary) suffix. */
int parse_size(const char *s, uint64_t *val);

/*
 * Parse an IPv4 or IPv6 address into the 16 bytes the vrdma family uses:
 * IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d).  Returns 0 or
 * -EINVAL.
 */
int parse_addr(const char *s, struct in6_addr *addr);

/* Format such an address; IPv4-mapped addresses as dotted quads. */
#define ADDR_STRLEN	INET6_ADDRSTRLEN
const char *format_addr(const struct in6_addr *addr, char buf[ADDR_STRLEN]);

/*
 * Resolve a network namespace argument: a process id, a path (anything
 * with a '/'), or a name under /run/netns as made by `ip netns add`.
 * On success either *@fd is an open descriptor of the namespace file (the
 * caller closes it) and *@pid is 0, or *@pid is the process id and *@fd -1.
 * Returns 0, -ESRCH for an impossible process id, or the error of open().
 */
/*
 * Can @a be in vrdma's address map (the kernel's vrdma_map_addr_check())?
 * An overlay address must be unicast: not unspecified (::, 0.0.0.0/8),
 * loopback, multicast, the IPv4 broadcast address or IPv4-compatible
 * (::a.b.c.d); a host address (@host) not IPv6 link-local either.
 * Returns NULL, or why not ("loopback", ...).
 */
const char *addr_refused(const struct in6_addr *a, bool host);

#define NETNS_RUN_DIR	"/run/netns"
int resolve_netns(const char *arg, int *fd, uint32_t *pid);

#endif /* VRDMA_LIB_PARSE_H */
