// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: the CNI plugin's requests (add, del, check) and
 * `vrdmactl agent status`.  A client sends one JSON object on one line
 * and reads one JSON object back; then the agent closes.  Only root may
 * connect: the socket is mode 0600 and the peer's credentials are checked.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "agent.h"

#define CTL_REQ_MAX	65536

static int mkdir_p(const char *dir, mode_t mode)
{
	char buf[256], *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int ctl_open(struct agent *a, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	int fd, ret;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a->cfg.socket);
	snprintf(dir, sizeof(dir), "%s", a->cfg.socket);
	ret = mkdir_p(dirname(dir), 0755);
	if (ret) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	/* Another agent answering there? */
	if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		snprintf(err, errlen,
			 "%s: another vrdma-agent is running (its socket answers)",
			 a->cfg.socket);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(a->cfg.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(a->cfg.socket, 0600) || listen(fd, 64))
		goto fail;
	a->ctl_fd = fd;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "control socket %s: %s", a->cfg.socket,
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

void ctl_close(struct agent *a)
{
	if (a->ctl_fd >= 0) {
		close(a->ctl_fd);
		unlink(a->cfg.socket);
	}
	a->ctl_fd = -1;
}

struct json_object *answer_err(int code, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jadd_bool(o, "ok", false);
	jadd_int(o, "code", code);
	jadd_str(o, "msg", buf);
	return o;
}

static struct json_object *dispatch(struct agent *a, const char *line)
{
	struct json_object *req, *ans, *v;
	char request[160];
	const char *cmd;

	req = json_tokener_parse(line);
	if (!req || !json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return answer_err(ERR_INVALID, "the request is not a JSON object");
	}
	cmd = json_object_object_get_ex(req, "cmd", &v) ?
	      json_object_get_string(v) : "";
	/* Whose request an etcd call retries for (the etcd-retry log). */
	snprintf(request, sizeof(request), "%.8s %.140s", cmd,
		 json_object_object_get_ex(req, "container_id", &v) ?
		 json_object_get_string(v) : "");
	a->etcd.request = request;
	if (!strcmp(cmd, "add"))
		ans = pod_add(a, req);
	else if (!strcmp(cmd, "del"))
		ans = pod_del(a, req);
	else if (!strcmp(cmd, "check"))
		ans = pod_check(a, req);
	else if (!strcmp(cmd, "status"))
		ans = agent_status(a);
	else
		ans = answer_err(ERR_INVALID,
				 "unknown command '%s' (add, del, check, status)",
				 cmd);
	a->etcd.request = NULL;
	json_object_put(req);
	return ans;
}

void ctl_accept(struct agent *a)
{
	struct timeval tv = { .tv_sec = 2 };
	struct json_object *ans;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char *buf, *nl;
	const char *out;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = accept4(a->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	buf = malloc(CTL_REQ_MAX + 1);
	if (!buf) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    cred.uid != 0) {
		ans = answer_err(ERR_INVALID, "permission denied: root only");
		goto answer;
	}
	while (got < CTL_REQ_MAX) {
		n = read(fd, buf + got, CTL_REQ_MAX - got);
		if (n <= 0)
			break;
		got += n;
		if (memchr(buf + got - n, '\n', n))
			break;
	}
	buf[got] = '\0';
	nl = strchr(buf, '\n');
	if (!nl) {
		ans = answer_err(ERR_INVALID, got >= CTL_REQ_MAX ?
				 "request too long" :
				 "incomplete request (one JSON object, then a newline)");
		goto answer;
	}
	*nl = '\0';
	ans = dispatch(a, buf);
answer:
	out = json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE);
	n = write(fd, out, strlen(out));
	n = write(fd, "\n", 1);
	(void)n;
	json_object_put(ans);
	free(buf);
	close(fd);
}
