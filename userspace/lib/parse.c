// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing shared by vrdma's tools (parse.h).
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int parse_u32(const char *s, uint32_t max, uint32_t *val)
{
	unsigned long long v;
	char *end;

	/* strtoull() would accept leading blanks, signs and "-1". */
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*val = v;
	return 0;
}

int parse_bool(const char *s, bool *val)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1") ||
	    !strcmp(s, "on"))
		*val = true;
	else if (!strcmp(s, "no") || !strcmp(s, "false") ||
		 !strcmp(s, "0") || !strcmp(s, "off"))
		*val = false;
	else
		return -EINVAL;
	return 0;
}

int parse_secs_ms(const char *s, long min_ms, long max_ms, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -EINVAL;
	if (v * 1000 < min_ms || v * 1000 > max_ms)
		return -ERANGE;
	*ms = (int)(v * 1000 + 0.5);
	return 0;
}

int parse_size(const char *s, uint64_t *val)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*val = (uint64_t)v << shift;
	return 0;
}

int parse_addr(const char *s, struct in6_addr *addr)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		memset(addr, 0, sizeof(*addr));
		addr->s6_addr[10] = 0xff;
		addr->s6_addr[11] = 0xff;
		memcpy(&addr->s6_addr[12], &v4, sizeof(v4));
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1)
		return 0;
	return -EINVAL;
}

const char *format_addr(const struct in6_addr *addr, char buf[ADDR_STRLEN])
{
	if (IN6_IS_ADDR_V4MAPPED(addr))
		return inet_ntop(AF_INET, &addr->s6_addr[12], buf, ADDR_STRLEN);
	return inet_ntop(AF_INET6, addr, buf, ADDR_STRLEN);
}

int resolve_netns(const char *arg, int *fd, uint32_t *pid)
{
	char path[PATH_MAX];
	int ret;

	*fd = -1;
	*pid = 0;
	ret = parse_u32(arg, INT_MAX, pid);
	if (ret != -EINVAL)	/* digits only: a process id */
		return ret == 0 && *pid ? 0 : -ESRCH;

	if (strchr(arg, '/'))
		*fd = open(arg, O_RDONLY | O_CLOEXEC);
	else if ((size_t)snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s",
				  arg) >= sizeof(path))
		return -ENAMETOOLONG;
	else
		*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

const char *addr_refused(const struct in6_addr *a, bool host)
{
	const uint8_t *b = a->s6_addr;
	uint32_t v4;

	if (IN6_IS_ADDR_V4MAPPED(a)) {
		v4 = (uint32_t)b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15];
		if (b[12] == 0)
			return "unspecified";
		if (b[12] == 127)
			return "loopback";
		if ((v4 & 0xf0000000u) == 0xe0000000u)
			return "multicast";
		if (v4 == 0xffffffffu)
			return "broadcast";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "unspecified";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return "loopback";
	if (IN6_IS_ADDR_MULTICAST(a))
		return "multicast";
	if (!memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12))
		return "IPv4-compatible";
	if (host && IN6_IS_ADDR_LINKLOCAL(a))
		return "link-local";
	return NULL;
}
