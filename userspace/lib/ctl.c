// SPDX-License-Identifier: GPL-2.0
/*
 * Control socket client (ctl.h).
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"

#define CTL_REQ_MAX	65536
#define CTL_ANSWER_MAX	(1 << 20)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read until EOF into a growing buffer; returns its length or -errno. */
static ssize_t read_all(int fd, char **bufp, int timeout_ms)
{
	long long deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1), *nbuf;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (deadline) {
			long long left = deadline - now_ms();

			if (left <= 0 || poll(&pfd, 1, left) == 0) {
				free(buf);
				return -ETIMEDOUT;
			}
		}
		if (len == cap) {
			if (cap >= CTL_ANSWER_MAX) {
				free(buf);
				return -EMSGSIZE;
			}
			cap *= 2;
			nbuf = realloc(buf, cap + 1);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*bufp = buf;
	return len;
}

int ctl_call(const char *path, const char *req, int timeout_ms,
	     struct json_object **answer, enum ctl_stage *stage)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t reqlen = strlen(req);
	char *buf = NULL;
	ssize_t n;
	int fd, ret;

	*answer = NULL;
	*stage = CTL_CONNECT;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		goto out;
	}

	/*
	 * One write for the request and its newline: a daemon that answers
	 * after its first read and closes, with a byte left unread, would
	 * reset the connection (ECONNRESET here).
	 */
	*stage = CTL_SEND;
	if (reqlen > CTL_REQ_MAX) {
		ret = -EMSGSIZE;
		goto out;
	}
	buf = malloc(reqlen + 2);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(buf, req, reqlen);
	buf[reqlen] = '\n';
	n = write(fd, buf, reqlen + 1);
	free(buf);
	buf = NULL;
	if (n != (ssize_t)reqlen + 1) {
		ret = n < 0 ? -errno : -EIO;
		goto out;
	}

	*stage = CTL_RECV;
	n = read_all(fd, &buf, timeout_ms);
	if (n < 0) {
		ret = n;
		goto out;
	}
	*stage = CTL_PARSE;
	*answer = json_tokener_parse(buf);
	ret = *answer ? 0 : -EBADMSG;
out:
	free(buf);
	close(fd);
	return ret;
}
