/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A client of etcd's v3 API through its JSON gateway (grpc-gateway, part
 * of every etcd server since 3.3; the /v3/ prefix from 3.4 on): libcurl
 * for HTTP(S) and json-c for the bodies.  Keys and values travel base64
 * encoded (libsodium's codec), 64-bit integers as JSON strings.
 *
 * Unary calls (range, txn, lease grant and keep-alive) are blocking, with
 * a time limit per endpoint, and fail over to the next endpoint of the
 * list when one cannot be reached or answers "unavailable".  The watch is
 * a long-lived streaming request (one JSON object per line) driven by the
 * caller's event loop through etcd_poll().
 */

#ifndef VRDMA_AGENT_ETCD_H
#define VRDMA_AGENT_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <json-c/json.h>

#define ETCD_MAX_ENDPOINTS	16

struct etcd_cfg {
	char *endpoints[ETCD_MAX_ENDPOINTS];	/* http[s]://host:port */
	int nr_endpoints;
	char *cacert;		/* CA bundle that signed the servers */
	char *cert, *key;	/* client certificate and its key */
	bool plaintext;		/* http:// endpoints allowed */
	int timeout_ms;		/* one unary call on one endpoint */
	int connect_timeout_ms;
};

/* One key-value pair of a range answer or a watch event. */
struct etcd_kv {
	char *key;		/* decoded, NUL-terminated */
	char *value;		/* decoded, NUL-terminated (may hold NULs) */
	size_t value_len;
	int64_t create_rev, mod_rev, version, lease;
};

struct etcd;
/* A complete line of the watch stream, parsed; called from etcd_poll(). */
typedef void (*etcd_watch_cb)(struct etcd *e, struct json_object *msg,
			      void *data);

struct etcd {
	struct etcd_cfg cfg;
	int cur;			/* endpoint in use */
	CURL *easy;			/* unary calls */
	CURLM *multi;			/* the watch */
	CURL *watch;
	int watch_cur;			/* the watch's endpoint */
	struct curl_slist *hdrs, *watch_hdrs;
	char *wbuf;			/* watch bytes not yet a line */
	size_t wlen, wcap;
	bool watch_ended;		/* the stream ended (see watch_err) */
	char watch_err[256];
	etcd_watch_cb watch_cb;
	void *watch_data;
	/* What the last failed call said (for logs and status). */
	char err[512];
	int grpc_code;			/* of a refused call, else 0 */
#define GRPC_NOT_FOUND		5	/* e.g. "requested lease not found" */
	/* Counters. */
	uint64_t calls, failed_calls, failovers;
	uint64_t tx_bytes, rx_bytes;
	int64_t revision;		/* highest header revision seen */
	bool reachable;			/* the last unary call got an answer */
};

/*
 * Check @cfg (schemes, files) and set up.  Returns 0, or -EINVAL with
 * the reason in @err.
 */
int etcd_init(struct etcd *e, const struct etcd_cfg *cfg, char *err,
	      size_t errlen);
void etcd_free(struct etcd *e);
const char *etcd_endpoint(const struct etcd *e);

/*
 * POST @req (not consumed) to @path on the current endpoint, failing
 * over to the others.  Returns 0 and the answer in *@resp, or
 * -EHOSTUNREACH (no endpoint answered), -EREMOTEIO (the server refused:
 * e->grpc_code and e->err), -EBADMSG (not JSON).
 */
int etcd_call(struct etcd *e, const char *path, struct json_object *req,
	      struct json_object **resp);

/* base64 of @len bytes (a new json string). */
struct json_object *etcd_b64(const void *data, size_t len);
struct json_object *etcd_b64s(const char *s);
/* The key just after every key with prefix @prefix (range_end). */
struct json_object *etcd_prefix_end(const char *prefix);

/* Decode a mvccpb.KeyValue of a JSON answer.  Returns 0 or -EBADMSG. */
int etcd_kv_parse(struct json_object *jkv, struct etcd_kv *kv);
void etcd_kv_free(struct etcd_kv *kv);
/* An int64 field (a JSON string or number); 0 when absent. */
int64_t etcd_int(struct json_object *o, const char *key);

/*
 * Every key under @prefix, in pages of @page, at one revision: @cb is
 * called for each pair.  *@rev is the revision read.  Returns 0, or an
 * etcd_call() error, or the first non-zero return of @cb.
 */
int etcd_range_prefix(struct etcd *e, const char *prefix, int page,
		      int (*cb)(const struct etcd_kv *kv, void *data),
		      void *data, int64_t *rev);

int etcd_put(struct etcd *e, const char *key, const char *value,
	     int64_t lease);
int etcd_delete(struct etcd *e, const char *key);
int etcd_lease_grant(struct etcd *e, int ttl, int64_t *id);
/* *@ttl: remaining seconds, 0 if the lease does not exist any more. */
int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl);
int etcd_lease_revoke(struct etcd *e, int64_t id);

/* Transactions: build compares and operations, then etcd_txn(). */
struct json_object *etcd_cmp_absent(const char *key);
struct json_object *etcd_cmp_mod_rev(const char *key, int64_t rev);
struct json_object *etcd_op_put(const char *key, const char *value,
				int64_t lease);
struct json_object *etcd_op_del(const char *key);
struct json_object *etcd_op_get(const char *key);
/*
 * Run a transaction (arrays consumed).  Returns 0 with *@ok, and the
 * answer in *@resp if @resp is not NULL.
 */
int etcd_txn(struct etcd *e, struct json_object *cmps,
	     struct json_object *success, struct json_object *failure,
	     bool *ok, struct json_object **resp);

/*
 * Start watching every key under @prefix from revision @from (events
 * carry the new value only).  Messages go to @cb from etcd_poll() and
 * from unary calls (which read the stream while they wait).  A running
 * watch is stopped first.  @next: move to the next endpoint first.
 */
int etcd_watch_start(struct etcd *e, const char *prefix, int64_t from,
		     bool next, etcd_watch_cb cb, void *data);
void etcd_watch_stop(struct etcd *e);
bool etcd_watch_running(const struct etcd *e);

/*
 * Wait at most @timeout_ms for the watch or one of @fds (curl_waitfd:
 * .fd, .events = CURL_WAIT_POLLIN; .revents set on return), then move
 * the watch along.  Returns 0 or -errno.
 */
int etcd_poll(struct etcd *e, struct curl_waitfd *fds, unsigned int nfds,
	      int timeout_ms);

#endif /* VRDMA_AGENT_ETCD_H */
