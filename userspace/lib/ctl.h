/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Clients of the daemons' control sockets (vrdma-sleepd, vrdma-agent):
 * one request line over a unix stream socket, one JSON answer, then the
 * daemon closes.
 */

#ifndef VRDMA_LIB_CTL_H
#define VRDMA_LIB_CTL_H

#include <json-c/json.h>

/* Where a call failed. */
enum ctl_stage {
	CTL_CONNECT,	/* the path, the socket or connect() */
	CTL_SEND,	/* writing the request */
	CTL_RECV,	/* reading the answer (or its timeout) */
	CTL_PARSE,	/* the answer is not one JSON value */
};

/*
 * Send @req (one line, without its newline) to the socket at @path and
 * parse the answer, waiting at most @timeout_ms for it (0: no limit).
 * Returns 0 and the answer in *@answer (json_object_put() it), or a
 * negative errno with the stage that failed in *@stage: -ENAMETOOLONG
 * (path), connect()'s, write()'s or read()'s error, -ETIMEDOUT, -EMSGSIZE
 * (answer over 1 MiB or request over 64 KiB), -EBADMSG (not JSON).
 */
int ctl_call(const char *path, const char *req, int timeout_ms,
	     struct json_object **answer, enum ctl_stage *stage);

#endif /* VRDMA_LIB_CTL_H */
