/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A client of etcd's v3 API through its JSON gateway (grpc-gateway, part
 * of every etcd server since 3.3; the /v3/ prefix from 3.4 on): libcurl
 * for HTTP(S) and json-c for the bodies.  Keys and values travel base64
 * encoded (libsodium's codec), 64-bit integers as JSON strings.
 *
 * Unary calls (range, txn, lease grant and keep-alive) are blocking, with
 * a time limit per endpoint, and fail over to the next endpoint of the
 * list when one cannot be reached or answers "unavailable"; transient
 * failures are retried, with backoff, until the call's deadline.  The
 * watch is a long-lived streaming request (one JSON object per line)
 * driven by the caller's event loop through etcd_poll().
 */

#ifndef VRDMA_AGENT_ETCD_H
#define VRDMA_AGENT_ETCD_H

#include <errno.h>
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
	int retry_ms;		/* a unary call's deadline for retries */
};

/*
 * How a unary call failed: etcd_call() returns one of these (negative),
 * etcd_what() says it in words.
 *
 * ETCD_UNREACHABLE  no endpoint could be connected to or answered in time
 *                   (transient: retried)
 * ETCD_UNAVAILABLE  etcd answered that it cannot serve now: HTTP 5xx
 *                   ("no leader", "request timed out"), 429 ("too many
 *                   requests"), 408, or their gRPC codes (transient:
 *                   retried)
 * ETCD_REFUSED      etcd rejected the request: any other 4xx (a bug,
 *                   authentication, permission, a lease not found);
 *                   never retried
 * ETCD_MALFORMED    an answer that is not the JSON expected (HTTP 200
 *                   with anything else); not retried
 *
 * An answer without JSON (HTTP 200: malformed, 4xx: refused) may be
 * another service's at that address (a web server, a proxy's 404 page):
 * the other endpoints are tried once each.  A refusal in etcd's JSON ends
 * the call at once.
 */
#define ETCD_UNREACHABLE	EHOSTUNREACH
#define ETCD_UNAVAILABLE	EAGAIN
#define ETCD_REFUSED		EREMOTEIO
#define ETCD_MALFORMED		EBADMSG

/* Backoff between rounds of retries: doubles, with jitter, up to a cap. */
#define ETCD_BACKOFF_MIN_MS	100
#define ETCD_BACKOFF_MAX_MS	2000

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
	/*
	 * The request (of a client: CNI) the calls are made for now, or NULL:
	 * only such calls retry until cfg.retry_ms; the caller's own
	 * (background) calls make one round and are repeated by its loop.
	 */
	const char *request;
	/* Told before each wait between retries (e->err: what failed). */
	void (*retry_cb)(struct etcd *e, const char *path, int err,
			 int attempt, int delay_ms, int left_ms);
	/* What the last failed call said (for logs and status). */
	char err[512];
	int grpc_code;			/* of a failed answer, else 0 */
	int http_status;		/* of a failed answer, else 0 */
	int last_fail;			/* kind of the last failure (-ETCD_*) */
	bool no_json;			/* the last answer was not JSON */
#define GRPC_NOT_FOUND		5	/* e.g. "requested lease not found" */
	/* Counters. */
	uint64_t calls, failed_calls, failovers, retries;
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
 * @err (an etcd_call() error) in words, after "etcd ": "is unreachable",
 * "is unavailable (no leader or overloaded)", "refused the request",
 * "sent a malformed answer"; strerror() for anything else.
 */
const char *etcd_what(int err);
/* The class of @err in one word ("unavailable", ...), for status. */
const char *etcd_kind(int err);

/*
 * POST @req (not consumed) to @path on the current endpoint, failing
 * over to the others in turn.  Transient failures (ETCD_UNREACHABLE,
 * ETCD_UNAVAILABLE) are retried round after round, every endpoint once
 * a round, with exponential backoff and jitter between rounds, until
 * cfg.retry_ms after the call began if e->request is set (the first
 * round always tries every endpoint; later attempts are cut to the time
 * left); else after the first round.  While it waits, the watch is read.
 * An endpoint that answers without JSON, or malformed, is failed over
 * like one that cannot be reached, but a round in which no endpoint
 * failed transiently ends the call.  The error names each endpoint's last
 * failure; it is ETCD_UNAVAILABLE if any endpoint's was, else
 * ETCD_REFUSED, else ETCD_MALFORMED, else ETCD_UNREACHABLE.  Returns 0 and the answer in *@resp, or
 * -ETCD_UNREACHABLE, -ETCD_UNAVAILABLE, -ETCD_REFUSED, -ETCD_MALFORMED,
 * with e->err naming each endpoint and what it said (etcd's own message,
 * HTTP status and gRPC code), e->grpc_code and e->http_status.
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
