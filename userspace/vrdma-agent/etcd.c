// SPDX-License-Identifier: GPL-2.0
/*
 * etcd v3 client over the JSON gateway (etcd.h).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>

#include "etcd.h"

/* Largest answer of a unary call, and largest watch message. */
#define ETCD_ANSWER_MAX		(256u << 20)

/* gRPC status codes that mean "not now": try another member, later. */
#define GRPC_CANCELED		1
#define GRPC_DEADLINE_EXCEEDED	4
#define GRPC_RESOURCE_EXHAUSTED	8	/* "too many requests" */
#define GRPC_UNAVAILABLE	14	/* "no leader", ... */

struct buf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static int buf_add(struct buf *b, const char *data, size_t n)
{
	char *np;
	size_t cap;

	if (b->len + n + 1 > b->cap) {
		if (b->len + n + 1 > ETCD_ANSWER_MAX) {
			b->overflow = true;
			return -1;
		}
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	return buf_add(arg, data, size * n) ? 0 : size * n;
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->cfg.endpoints[e->cur];
}

const char *etcd_what(int err)
{
	switch (-err) {
	case 0:
		return "failed";
	case ETCD_UNREACHABLE:
		return "is unreachable";
	case ETCD_UNAVAILABLE:
		return "is unavailable (no leader or overloaded)";
	case ETCD_REFUSED:
		return "refused the request";
	case ETCD_MALFORMED:
		return "sent a malformed answer";
	}
	return strerror(-err);
}

const char *etcd_kind(int err)
{
	switch (-err) {
	case 0:
		return "none";
	case ETCD_UNREACHABLE:
		return "unreachable";
	case ETCD_UNAVAILABLE:
		return "unavailable";
	case ETCD_REFUSED:
		return "refused";
	case ETCD_MALFORMED:
		return "malformed";
	}
	return "other";
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_file(const char *what, const char *path, char *err,
		      size_t errlen)
{
	if (path && access(path, R_OK)) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

int etcd_init(struct etcd *e, const struct etcd_cfg *cfg, char *err,
	      size_t errlen)
{
	int i, ret;

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	if (!cfg->nr_endpoints) {
		snprintf(err, errlen, "no etcd endpoint configured");
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_endpoints; i++) {
		const char *ep = cfg->endpoints[i];

		if (!strncmp(ep, "https://", 8) && ep[8])
			continue;
		if (!strncmp(ep, "http://", 7) && ep[7]) {
			if (cfg->plaintext)
				continue;
			snprintf(err, errlen,
				 "etcd endpoint %s is plain HTTP: use https:// or allow it with 'plaintext = yes'",
				 ep);
			return -EINVAL;
		}
		snprintf(err, errlen,
			 "etcd endpoint '%s': not an http:// or https:// URL",
			 ep);
		return -EINVAL;
	}
	if ((cfg->cert && !cfg->key) || (!cfg->cert && cfg->key)) {
		snprintf(err, errlen,
			 "etcd client certificate: give both cert and key");
		return -EINVAL;
	}
	ret = check_file("etcd CA", cfg->cacert, err, errlen) ?:
	      check_file("etcd client certificate", cfg->cert, err, errlen) ?:
	      check_file("etcd client key", cfg->key, err, errlen);
	if (ret)
		return ret;

	e->easy = curl_easy_init();
	e->multi = curl_multi_init();
	/*
	 * Calls and watches fail at once, rather than stall until etcd's
	 * request timeout, on a member without a leader: HTTP 503 "etcdserver:
	 * no leader", and the call goes to another member.
	 */
	e->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	e->hdrs = curl_slist_append(e->hdrs, "Grpc-Metadata-hasleader: true");
	e->watch_hdrs = curl_slist_append(NULL,
					  "Content-Type: application/json");
	e->watch_hdrs = curl_slist_append(e->watch_hdrs,
					  "Grpc-Metadata-hasleader: true");
	if (!e->easy || !e->multi || !e->hdrs || !e->watch_hdrs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void etcd_free(struct etcd *e)
{
	etcd_watch_stop(e);
	if (e->easy)
		curl_easy_cleanup(e->easy);
	if (e->multi)
		curl_multi_cleanup(e->multi);
	curl_slist_free_all(e->hdrs);
	curl_slist_free_all(e->watch_hdrs);
	free(e->wbuf);
	memset(e, 0, sizeof(*e));
}

/*
 * A member that dies without closing its connections (a host that
 * crashes) is noticed within seconds: keep-alive probes after 2 s idle,
 * 1 s apart, 3 of them; unacknowledged data gives up after 5 s.
 */
static int sockopt_cb(void *data, curl_socket_t fd, curlsocktype purpose)
{
	int idle = 2, intvl = 1, cnt = 3, one = 1;
	unsigned int tmo = 5000;

	(void)data;
	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof(tmo));
	return CURL_SOCKOPT_OK;
}

/* Options common to unary calls and the watch. */
static void setup_handle(struct etcd *e, CURL *h, const char *url,
			 struct curl_slist *hdrs)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)e->cfg.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
			 e->cfg.plaintext ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (e->cfg.cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->cfg.cacert);
	if (e->cfg.cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, e->cfg.cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, e->cfg.key);
	}
}

/*
 * The gateway's error object, {"error":..,"message":..,"code":N}, or a
 * streaming call's (lease keep-alive), {"error":{"grpc_code":N,
 * "message":..}}: its gRPC code (-1 if 0), and etcd's message in @msg.
 */
static int gateway_error(struct json_object *o, char *msg, size_t len)
{
	struct json_object *m, *c, *inner;
	const char *code_key = "code";

	if (!json_object_is_type(o, json_type_object))
		return 0;
	if (json_object_object_get_ex(o, "error", &inner) &&
	    json_object_is_type(inner, json_type_object)) {
		o = inner;
		code_key = "grpc_code";
	}
	if (!json_object_object_get_ex(o, code_key, &c))
		return 0;
	if (!json_object_object_get_ex(o, "message", &m) &&
	    !json_object_object_get_ex(o, "error", &m))
		m = NULL;
	snprintf(msg, len, "%s", m ? json_object_get_string(m) : "error");
	return json_object_get_int(c) ?: -1;
}

static void watch_lines(struct etcd *e);
static void watch_done(struct etcd *e, CURLcode result);

/*
 * Run the unary handle through the multi handle, so that the watch
 * stream is read, and its events applied, while a call waits.
 */
static CURLcode perform(struct etcd *e)
{
	CURLcode rc = CURLE_OK;
	bool done = false;
	int running, left;
	CURLMsg *m;

	if (curl_multi_add_handle(e->multi, e->easy) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	while (!done) {
		curl_multi_perform(e->multi, &running);
		while ((m = curl_multi_info_read(e->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			if (m->easy_handle == e->easy) {
				rc = m->data.result;
				done = true;
			} else if (e->watch && m->easy_handle == e->watch) {
				watch_done(e, m->data.result);
			}
		}
		if (e->watch && !e->watch_ended)
			watch_lines(e);
		if (!done)
			curl_multi_poll(e->multi, NULL, 0, 100, NULL);
	}
	curl_multi_remove_handle(e->multi, e->easy);
	return rc;
}

/* The start of an answer that is not JSON, for a message: one line. */
static const char *printable(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f && in[i] != '"' ?
			 in[i] : ' ';
	while (i && out[i - 1] == ' ')
		i--;
	out[i] = '\0';
	return out;
}

/* A failed answer: etcd says "not now" (retry), or refuses (do not). */
static bool transient(long status, int code)
{
	if (code)
		return code == GRPC_UNAVAILABLE || code == GRPC_DEADLINE_EXCEEDED ||
		       code == GRPC_RESOURCE_EXHAUSTED || code == GRPC_CANCELED;
	return status >= 500 || status == 429 || status == 408;
}

/*
 * One attempt on the current endpoint, of at most @timeout_ms.  Returns
 * 0, or -ETCD_* with e->err saying what happened there.
 */
static int call_once(struct etcd *e, const char *path, const char *body,
		     struct json_object **resp, long timeout_ms)
{
	char url[512], msg[256], ebuf[CURL_ERROR_SIZE] = "", body_start[120];
	struct buf b = { 0 };
	long status = 0;
	CURLcode rc;
	int code;

	snprintf(url, sizeof(url), "%s%s", etcd_endpoint(e), path);
	curl_easy_reset(e->easy);
	setup_handle(e, e->easy, url, e->hdrs);
	curl_easy_setopt(e->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e->easy, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e->easy, CURLOPT_ERRORBUFFER, ebuf);
	e->calls++;
	e->tx_bytes += strlen(body);
	rc = perform(e);
	e->rx_bytes += b.len;
	e->grpc_code = 0;
	e->http_status = 0;
	e->no_json = false;
	if (rc != CURLE_OK) {
		/* No connection, or no (complete) answer in time. */
		snprintf(e->err, sizeof(e->err), "%s: %s", etcd_endpoint(e),
			 b.overflow ? "answer too large" :
			 ebuf[0] ? ebuf : curl_easy_strerror(rc));
		free(b.p);
		return b.overflow ? -ETCD_MALFORMED : -ETCD_UNREACHABLE;
	}
	curl_easy_getinfo(e->easy, CURLINFO_RESPONSE_CODE, &status);
	e->http_status = (int)status;
	*resp = b.p ? json_tokener_parse(b.p) : NULL;
	snprintf(body_start, sizeof(body_start), "%s", b.p ? b.p : "");
	free(b.p);
	if (!*resp) {
		/*
		 * Not etcd's gateway speaking (a proxy, another service at
		 * that address), or a broken answer, or one of the gateway's
		 * few plain-text errors (HTTP 400 about a client certificate's
		 * CommonName).  A proxy's "not now" is still one.
		 */
		snprintf(e->err, sizeof(e->err),
			 "%s: HTTP %ld without a JSON answer: \"%s\"",
			 etcd_endpoint(e), status, printable(body_start, msg,
							     sizeof(msg)));
		e->no_json = true;
		if (status == 200)
			return -ETCD_MALFORMED;
		return transient(status, 0) ? -ETCD_UNAVAILABLE : -ETCD_REFUSED;
	}
	code = gateway_error(*resp, msg, sizeof(msg));
	if (code || status != 200) {
		snprintf(e->err, sizeof(e->err), "%s: %s (HTTP %ld, gRPC code %d)",
			 etcd_endpoint(e), code ? msg : "error", status,
			 code > 0 ? code : 0);
		json_object_put(*resp);
		*resp = NULL;
		e->grpc_code = code > 0 ? code : 0;
		return transient(status, e->grpc_code) ? -ETCD_UNAVAILABLE :
							 -ETCD_REFUSED;
	}
	if (!json_object_is_type(*resp, json_type_object)) {
		snprintf(e->err, sizeof(e->err),
			 "%s: HTTP 200 with an answer that is not a JSON object",
			 etcd_endpoint(e));
		json_object_put(*resp);
		*resp = NULL;
		return -ETCD_MALFORMED;
	}
	return 0;
}

static void note_revision(struct etcd *e, struct json_object *resp)
{
	struct json_object *h;
	int64_t rev;

	if (json_object_object_get_ex(resp, "header", &h)) {
		rev = etcd_int(h, "revision");
		if (rev > e->revision)
			e->revision = rev;
	}
}

/* Wait @ms, reading the watch meanwhile. */
static void backoff_wait(struct etcd *e, int ms)
{
	int64_t end = mono_ms() + ms, left;

	while ((left = end - mono_ms()) > 0)
		if (etcd_poll(e, NULL, 0, (int)left))
			break;
}

/* Which endpoint's failure a failed call reports (the highest). */
static int fail_rank(int ret)
{
	switch (-ret) {
	case ETCD_UNAVAILABLE:
		return 3;
	case ETCD_REFUSED:
		return 2;
	case ETCD_MALFORMED:
		return 1;
	}
	return 0;
}

int etcd_call(struct etcd *e, const char *path, struct json_object *req,
	      struct json_object **resp)
{
	const char *body = json_object_to_json_string_ext(req,
						JSON_C_TO_STRING_PLAIN);
	int64_t t0 = mono_ms(), left, deadline;
	int i, ret, worst = 0, attempt = 0, delay = ETCD_BACKOFF_MIN_MS, wait;
	int transients;
	/* Each endpoint's last failure (0: not tried in this call). */
	struct {
		int ret;
		char err[200];
	} seen[ETCD_MAX_ENDPOINTS] = { 0 };
	long tmo = e->cfg.timeout_ms;
	char errs[sizeof(e->err)];
	size_t off;

	deadline = t0 + (e->request ? e->cfg.retry_ms : 0);
	*resp = NULL;
	for (;;) {
		/* A round: every endpoint once, from the current one. */
		transients = 0;
		for (i = 0; i < e->cfg.nr_endpoints; i++) {
			attempt++;
			ret = call_once(e, path, body, resp, tmo);
			if (ret == 0) {
				e->reachable = true;
				note_revision(e, *resp);
				return 0;
			}
			if (ret == -ETCD_REFUSED && !e->no_json) {
				/* etcd refused: every member would. */
				e->reachable = true;
				e->last_fail = ret;
				e->failed_calls++;
				return ret;
			}
			/*
			 * A member that answered "not now" in this call and
			 * then times out (an attempt cut short by the
			 * deadline) is still up: keep what it said.
			 */
			/*
			 * An answer that is not etcd's JSON: maybe this
			 * endpoint's fault (not etcd there), not the request's.
			 * Tried on the others, never retried.
			 */
			if (ret != -ETCD_MALFORMED && ret != -ETCD_REFUSED)
				transients++;
			/* What e->err now says, even if another endpoint serves. */
			e->last_fail = ret;
			if (ret == -ETCD_UNAVAILABLE ||
			    seen[e->cur].ret != -ETCD_UNAVAILABLE) {
				seen[e->cur].ret = ret;
				snprintf(seen[e->cur].err,
					 sizeof(seen[e->cur].err), "%.199s",
					 e->err);
			}
			if (e->cfg.nr_endpoints > 1) {
				e->cur = (e->cur + 1) % e->cfg.nr_endpoints;
				e->failovers++;
			}
			/* After the first round, only within the deadline. */
			if (attempt >= e->cfg.nr_endpoints &&
			    mono_ms() >= deadline)
				break;
		}
		/*
		 * What each endpoint said last; one "not now" says most, then
		 * a refusal, then an answer that was not understood.
		 */
		off = 0;
		worst = -ETCD_UNREACHABLE;
		for (i = 0; i < e->cfg.nr_endpoints; i++) {
			if (!seen[i].ret)
				continue;
			if (fail_rank(seen[i].ret) > fail_rank(worst))
				worst = seen[i].ret;
			off += snprintf(errs + off, sizeof(errs) - off, "%s%s",
					off ? "; " : "", seen[i].err);
			if (off >= sizeof(errs))
				off = sizeof(errs) - 1;
		}
		left = deadline - mono_ms();
		/* Every endpoint answered, unusably: waiting cannot help. */
		if (left <= 0 || !transients)
			break;
		/* Full jitter over the upper half: [delay/2, delay]. */
		wait = delay / 2 + (int)randombytes_uniform(delay / 2 + 1);
		if (wait > left)
			wait = (int)left;
		snprintf(e->err, sizeof(e->err), "%s", errs);
		e->retries++;
		if (e->retry_cb)
			e->retry_cb(e, path, worst, attempt, wait, (int)left);
		backoff_wait(e, wait);
		delay = delay * 2 < ETCD_BACKOFF_MAX_MS ? delay * 2 :
			ETCD_BACKOFF_MAX_MS;
		/* No attempt runs past the deadline (but gets 100 ms). */
		left = deadline - mono_ms();
		tmo = left < e->cfg.timeout_ms ? (left > 100 ? left : 100) :
		      e->cfg.timeout_ms;
	}
	snprintf(e->err, sizeof(e->err), "%.440s (%d attempt%s in %.1f s)",
		 errs, attempt, attempt > 1 ? "s" : "",
		 (mono_ms() - t0) / 1000.0);
	e->failed_calls++;
	e->reachable = worst != -ETCD_UNREACHABLE;
	e->last_fail = worst;
	return worst;
}

struct json_object *etcd_b64(const void *data, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
					     sodium_base64_VARIANT_ORIGINAL);
	struct json_object *s;
	char *out = malloc(n);

	if (!out)
		return NULL;
	sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
	s = json_object_new_string(out);
	free(out);
	return s;
}

struct json_object *etcd_b64s(const char *s)
{
	return etcd_b64(s, strlen(s));
}

struct json_object *etcd_prefix_end(const char *prefix)
{
	size_t len = strlen(prefix);
	struct json_object *r;
	char *end = strdup(prefix);

	if (!end || !len)
		return end ? (free(end), etcd_b64("\0", 1)) : NULL;
	/* Prefixes here are printable ASCII: the last byte never overflows. */
	end[len - 1]++;
	r = etcd_b64(end, len);
	free(end);
	return r;
}

/* Decode base64 field @key of @o into a NUL-terminated buffer. */
static int b64_field(struct json_object *o, const char *key, char **out,
		     size_t *outlen)
{
	struct json_object *v;
	const char *s = "";
	size_t slen, len = 0;
	char *buf;

	if (json_object_object_get_ex(o, key, &v)) {
		if (!json_object_is_type(v, json_type_string))
			return -EBADMSG;
		s = json_object_get_string(v);
	}
	slen = strlen(s);
	buf = malloc(slen / 4 * 3 + 4);
	if (!buf)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)buf, slen / 4 * 3 + 3, s, slen,
			      NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		free(buf);
		return -EBADMSG;
	}
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	return 0;
}

int64_t etcd_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

int etcd_kv_parse(struct json_object *jkv, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	if (!json_object_is_type(jkv, json_type_object) ||
	    b64_field(jkv, "key", &kv->key, NULL) ||
	    b64_field(jkv, "value", &kv->value, &kv->value_len)) {
		etcd_kv_free(kv);
		return -EBADMSG;
	}
	kv->create_rev = etcd_int(jkv, "create_revision");
	kv->mod_rev = etcd_int(jkv, "mod_revision");
	kv->version = etcd_int(jkv, "version");
	kv->lease = etcd_int(jkv, "lease");
	return 0;
}

void etcd_kv_free(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	kv->key = kv->value = NULL;
}

static void add_int(struct json_object *o, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_object_object_add(o, key, json_object_new_string(buf));
}

int etcd_range_prefix(struct etcd *e, const char *prefix, int page,
		      int (*cb)(const struct etcd_kv *kv, void *data),
		      void *data, int64_t *rev)
{
	struct json_object *start = etcd_b64s(prefix), *req, *resp, *kvs, *h;
	bool more = true;
	size_t i, n;
	int ret = 0;

	*rev = 0;
	while (more && !ret) {
		struct etcd_kv kv;

		req = json_object_new_object();
		json_object_object_add(req, "key", json_object_get(start));
		json_object_object_add(req, "range_end",
				       etcd_prefix_end(prefix));
		add_int(req, "limit", page);
		if (*rev)	/* every page at the first page's revision */
			add_int(req, "revision", *rev);
		ret = etcd_call(e, "/v3/kv/range", req, &resp);
		json_object_put(req);
		if (ret)
			break;
		if (!*rev && json_object_object_get_ex(resp, "header", &h))
			*rev = etcd_int(h, "revision");
		more = json_object_object_get_ex(resp, "more", &h) &&
		       json_object_get_boolean(h);
		if (!json_object_object_get_ex(resp, "kvs", &kvs) ||
		    !json_object_is_type(kvs, json_type_array))
			kvs = NULL;
		n = kvs ? json_object_array_length(kvs) : 0;
		if (!n)
			more = false;
		for (i = 0; i < n && !ret; i++) {
			if (etcd_kv_parse(json_object_array_get_idx(kvs, i),
					  &kv)) {
				snprintf(e->err, sizeof(e->err),
					 "%s: malformed key-value in a range answer",
					 etcd_endpoint(e));
				ret = e->last_fail = -ETCD_MALFORMED;
				break;
			}
			ret = cb(&kv, data);
			if (i == n - 1 && more) {
				/* The next page starts at this key + "\0". */
				json_object_put(start);
				start = etcd_b64(kv.key, strlen(kv.key) + 1);
			}
			etcd_kv_free(&kv);
		}
		json_object_put(resp);
	}
	json_object_put(start);
	return ret;
}

int etcd_put(struct etcd *e, const char *key, const char *value,
	     int64_t lease)
{
	struct json_object *req = json_object_new_object(), *resp;
	int ret;

	json_object_object_add(req, "key", etcd_b64s(key));
	json_object_object_add(req, "value", etcd_b64s(value));
	if (lease)
		add_int(req, "lease", lease);
	ret = etcd_call(e, "/v3/kv/put", req, &resp);
	json_object_put(req);
	json_object_put(resp);
	return ret;
}

int etcd_delete(struct etcd *e, const char *key)
{
	struct json_object *req = json_object_new_object(), *resp;
	int ret;

	json_object_object_add(req, "key", etcd_b64s(key));
	ret = etcd_call(e, "/v3/kv/deleterange", req, &resp);
	json_object_put(req);
	json_object_put(resp);
	return ret;
}

int etcd_lease_grant(struct etcd *e, int ttl, int64_t *id)
{
	struct json_object *req = json_object_new_object(), *resp;
	int ret;

	add_int(req, "TTL", ttl);
	ret = etcd_call(e, "/v3/lease/grant", req, &resp);
	json_object_put(req);
	if (ret)
		return ret;
	*id = etcd_int(resp, "ID");
	if (!*id) {
		snprintf(e->err, sizeof(e->err), "%s: lease grant: no lease ID",
			 etcd_endpoint(e));
		ret = e->last_fail = -ETCD_MALFORMED;
	}
	json_object_put(resp);
	return ret;
}

int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl)
{
	struct json_object *req = json_object_new_object(), *resp, *r;
	int ret;

	/* A stream through the gateway: one request, one "result". */
	add_int(req, "ID", id);
	ret = etcd_call(e, "/v3/lease/keepalive", req, &resp);
	json_object_put(req);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(resp, "result", &r)) {
		snprintf(e->err, sizeof(e->err),
			 "%s: lease keep-alive: no result", etcd_endpoint(e));
		json_object_put(resp);
		e->last_fail = -ETCD_MALFORMED;
		return -EBADMSG;
	}
	*ttl = etcd_int(r, "TTL");
	json_object_put(resp);
	return 0;
}

int etcd_lease_revoke(struct etcd *e, int64_t id)
{
	struct json_object *req = json_object_new_object(), *resp;
	int ret;

	add_int(req, "ID", id);
	ret = etcd_call(e, "/v3/lease/revoke", req, &resp);
	json_object_put(req);
	json_object_put(resp);
	return ret;
}

struct json_object *etcd_cmp_absent(const char *key)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "key", etcd_b64s(key));
	json_object_object_add(c, "target", json_object_new_string("CREATE"));
	json_object_object_add(c, "result", json_object_new_string("EQUAL"));
	add_int(c, "create_revision", 0);
	return c;
}

struct json_object *etcd_cmp_mod_rev(const char *key, int64_t rev)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "key", etcd_b64s(key));
	json_object_object_add(c, "target", json_object_new_string("MOD"));
	json_object_object_add(c, "result", json_object_new_string("EQUAL"));
	add_int(c, "mod_revision", rev);
	return c;
}

struct json_object *etcd_op_put(const char *key, const char *value,
				int64_t lease)
{
	struct json_object *op = json_object_new_object();
	struct json_object *put = json_object_new_object();

	json_object_object_add(put, "key", etcd_b64s(key));
	json_object_object_add(put, "value", etcd_b64s(value));
	if (lease)
		add_int(put, "lease", lease);
	json_object_object_add(op, "request_put", put);
	return op;
}

struct json_object *etcd_op_del(const char *key)
{
	struct json_object *op = json_object_new_object();
	struct json_object *del = json_object_new_object();

	json_object_object_add(del, "key", etcd_b64s(key));
	json_object_object_add(op, "request_delete_range", del);
	return op;
}

struct json_object *etcd_op_get(const char *key)
{
	struct json_object *op = json_object_new_object();
	struct json_object *get = json_object_new_object();

	json_object_object_add(get, "key", etcd_b64s(key));
	json_object_object_add(op, "request_range", get);
	return op;
}

int etcd_txn(struct etcd *e, struct json_object *cmps,
	     struct json_object *success, struct json_object *failure,
	     bool *ok, struct json_object **resp)
{
	struct json_object *req = json_object_new_object(), *r, *v;
	int ret;

	if (cmps)
		json_object_object_add(req, "compare", cmps);
	if (success)
		json_object_object_add(req, "success", success);
	if (failure)
		json_object_object_add(req, "failure", failure);
	ret = etcd_call(e, "/v3/kv/txn", req, &r);
	json_object_put(req);
	if (ret)
		return ret;
	*ok = json_object_object_get_ex(r, "succeeded", &v) &&
	      json_object_get_boolean(v);
	if (resp)
		*resp = r;
	else
		json_object_put(r);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The watch stream                                                     */

static size_t watch_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct etcd *e = arg;
	size_t len = size * n;
	struct buf b = { e->wbuf, e->wlen, e->wcap, false };

	if (buf_add(&b, data, len)) {
		snprintf(e->watch_err, sizeof(e->watch_err),
			 "watch message too large");
		return 0;	/* ends the transfer */
	}
	e->wbuf = b.p;
	e->wlen = b.len;
	e->wcap = b.cap;
	e->rx_bytes += len;
	return len;
}

void etcd_watch_stop(struct etcd *e)
{
	if (e->watch) {
		curl_multi_remove_handle(e->multi, e->watch);
		curl_easy_cleanup(e->watch);
		e->watch = NULL;
	}
	e->wlen = 0;
}

bool etcd_watch_running(const struct etcd *e)
{
	return e->watch && !e->watch_ended;
}

int etcd_watch_start(struct etcd *e, const char *prefix, int64_t from,
		     bool next, etcd_watch_cb cb, void *data)
{
	struct json_object *req = json_object_new_object();
	struct json_object *cr = json_object_new_object();
	char url[512];

	etcd_watch_stop(e);
	if (next && e->cfg.nr_endpoints > 1) {
		e->cur = (e->cur + 1) % e->cfg.nr_endpoints;
		e->failovers++;
	}
	json_object_object_add(cr, "key", etcd_b64s(prefix));
	json_object_object_add(cr, "range_end", etcd_prefix_end(prefix));
	if (from)
		add_int(cr, "start_revision", from);
	json_object_object_add(req, "create_request", cr);

	e->watch = curl_easy_init();
	if (!e->watch) {
		json_object_put(req);
		return -ENOMEM;
	}
	e->watch_cur = e->cur;
	snprintf(url, sizeof(url), "%s/v3/watch", etcd_endpoint(e));
	setup_handle(e, e->watch, url, e->watch_hdrs);
	curl_easy_setopt(e->watch, CURLOPT_COPYPOSTFIELDS,
			 json_object_to_json_string_ext(req,
						JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	curl_easy_setopt(e->watch, CURLOPT_WRITEFUNCTION, watch_write_cb);
	curl_easy_setopt(e->watch, CURLOPT_WRITEDATA, e);
	e->watch_cb = cb;
	e->watch_data = data;
	e->watch_ended = false;
	e->watch_err[0] = '\0';
	e->wlen = 0;
	if (curl_multi_add_handle(e->multi, e->watch) != CURLM_OK) {
		curl_easy_cleanup(e->watch);
		e->watch = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Hand every complete line of the stream to the callback. */
static void watch_lines(struct etcd *e)
{
	size_t start = 0;
	char *nl;

	while (e->watch && (nl = memchr(e->wbuf + start, '\n',
					 e->wlen - start))) {
		struct json_object *msg;

		*nl = '\0';
		msg = json_tokener_parse(e->wbuf + start);
		start = nl + 1 - e->wbuf;
		if (!msg) {
			snprintf(e->watch_err, sizeof(e->watch_err),
				 "%s: watch stream: a line is not JSON",
				 etcd_endpoint(e));
			e->watch_ended = true;
			break;
		}
		e->watch_cb(e, msg, e->watch_data);
		json_object_put(msg);
	}
	if (start && e->wbuf) {
		memmove(e->wbuf, e->wbuf + start, e->wlen - start);
		e->wlen -= start;
	}
}

static void watch_done(struct etcd *e, CURLcode result)
{
	long status = 0;

	curl_easy_getinfo(e->watch, CURLINFO_RESPONSE_CODE, &status);
	if (!e->watch_err[0])
		snprintf(e->watch_err, sizeof(e->watch_err),
			 "%s: watch stream ended: %s (HTTP %ld)",
			 etcd_endpoint(e), result == CURLE_OK ? "closed" :
			 curl_easy_strerror(result), status);
	e->watch_ended = true;
}

int etcd_poll(struct etcd *e, struct curl_waitfd *fds, unsigned int nfds,
	      int timeout_ms)
{
	int running, left;
	CURLMcode mc;
	CURLMsg *m;

	mc = curl_multi_poll(e->multi, fds, nfds, timeout_ms, NULL);
	if (mc != CURLM_OK)
		return -EIO;
	if (!e->watch)
		return 0;
	curl_multi_perform(e->multi, &running);
	if (!e->watch_ended)
		watch_lines(e);
	while ((m = curl_multi_info_read(e->multi, &left)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == e->watch)
			watch_done(e, m->data.result);
	return 0;
}
