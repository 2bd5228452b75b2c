// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster's endpoints in this host's kernel map: a full reconcile
 * (list at one revision, compare with the kernel, fix the difference),
 * then the watch from the next revision, event by event.
 *
 * An endpoint is the key PREFIX/endpoints/VNI/ADDR (VNI in decimal, ADDR
 * in its canonical text form) with a JSON value {"host": NAME, "via":
 * HOSTADDR, ...}.  Keys and values are checked; a bad one is logged and
 * treated as absent: it never reaches the kernel and it removes what the
 * key stood for before.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "parse.h"

void ep_key(const struct agent *a, char *buf, size_t len, uint32_t vni,
	    const struct in6_addr *addr)
{
	char sa[ADDR_STRLEN];

	snprintf(buf, len, "%s/endpoints/%u/%s", a->cfg.prefix, vni,
		 format_addr(addr, sa));
}

int ep_parse_key(const struct agent *a, const char *key, uint32_t *vni,
		 struct in6_addr *addr, const char **why)
{
	size_t plen = strlen(a->cfg.prefix);
	char num[16], sa[ADDR_STRLEN];
	const char *p, *slash;

	if (strncmp(key, a->cfg.prefix, plen) ||
	    strncmp(key + plen, "/endpoints/", 11)) {
		*why = "not under the endpoints prefix";
		return -EINVAL;
	}
	p = key + plen + 11;
	slash = strchr(p, '/');
	if (!slash || slash == p || (size_t)(slash - p) >= sizeof(num)) {
		*why = "expected endpoints/VNI/ADDRESS";
		return -EINVAL;
	}
	memcpy(num, p, slash - p);
	num[slash - p] = '\0';
	if (parse_u32(num, VNI_MAX, vni) || (num[0] == '0' && num[1])) {
		*why = "the VNI is not a number from 0 to 16777215";
		return -EINVAL;
	}
	if (parse_addr(slash + 1, addr)) {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	if (strcmp(format_addr(addr, sa), slash + 1)) {
		*why = "the address is not in its canonical form";
		return -EINVAL;
	}
	if ((*why = addr_refused(addr, false)))
		return -EINVAL;
	return 0;
}

/* An endpoint's value; *why when invalid. */
struct ep_val {
	char host[HOST_NAME_MAX_LEN + 1];
	char pod[CID_MAX_LEN + 1];
	struct in6_addr via;
	double t;
};

static int ep_parse_value(const char *value, size_t len, struct ep_val *v,
			  const char **why)
{
	struct json_object *o, *f;
	int ret = -EINVAL;

	memset(v, 0, sizeof(*v));
	if (strlen(value) != len) {
		*why = "the value holds a NUL byte";
		return -EINVAL;
	}
	o = json_tokener_parse(value);
	if (!o || !json_object_is_type(o, json_type_object)) {
		*why = "the value is not a JSON object";
		goto out;
	}
	if (!json_object_object_get_ex(o, "host", &f) ||
	    !json_object_is_type(f, json_type_string) ||
	    !name_ok(json_object_get_string(f), HOST_NAME_MAX_LEN)) {
		*why = "\"host\" is missing or not a host name";
		goto out;
	}
	strcpy(v->host, json_object_get_string(f));
	if (!json_object_object_get_ex(o, "via", &f) ||
	    !json_object_is_type(f, json_type_string) ||
	    parse_addr(json_object_get_string(f), &v->via)) {
		*why = "\"via\" is missing or not an address";
		goto out;
	}
	if (addr_refused(&v->via, true)) {
		*why = "\"via\" is not a routable unicast address";
		goto out;
	}
	if (json_object_object_get_ex(o, "pod", &f)) {
		if (!json_object_is_type(f, json_type_string) ||
		    strlen(json_object_get_string(f)) > CID_MAX_LEN) {
			*why = "\"pod\" is not a container id";
			goto out;
		}
		strcpy(v->pod, json_object_get_string(f));
	}
	if (json_object_object_get_ex(o, "t", &f)) {
		if (!json_object_is_type(f, json_type_double) &&
		    !json_object_is_type(f, json_type_int)) {
			*why = "\"t\" is not a number";
			goto out;
		}
		v->t = json_object_get_double(f);
		if (!isfinite(v->t) || v->t < 0)
			v->t = 0;
	}
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

static void log_bad(struct agent *a, const char *key, const char *why)
{
	struct json_object *r = log_start(LOG_ERR, "bad-endpoint");

	a->bad_values++;
	jadd_str(r, "msg", "ignored a malformed endpoint in etcd");
	jadd_str(r, "key", key);
	jadd_str(r, "error", why);
	log_end(r);
}

/* Bring the kernel in line with one entry; may free it. */
void sync_apply_want(struct agent *a, struct ent *e)
{
	if (e->want) {
		if (!e->have || memcmp(&e->via_have, &e->via_want, 16))
			kmap_set(a, e);
		else if (!e->owned) {
			/* The same entry was there: ours from now on. */
			journal_add(a, e);
			e->owned = true;
		}
	} else if (e->have && e->owned) {
		kmap_clear(a, e);
	}
	if (!e->want && !e->have && !e->owned)
		table_del(&a->t, e);
}

/* One key-value pair as it is now (@kv->value NULL: deleted). */
static void apply_kv(struct agent *a, const struct etcd_kv *kv, bool deleted,
		     bool reconcile)
{
	struct in6_addr addr;
	struct ep_val v;
	const char *why;
	struct ent *e;
	uint32_t vni;

	if (ep_parse_key(a, kv->key, &vni, &addr, &why)) {
		log_bad(a, kv->key, why);
		return;
	}
	e = table_get(&a->t, vni, &addr, false);
	if (e && e->want && !reconcile)
		a->nr_want--;	/* counted again below if still wanted */
	if (!deleted && ep_parse_value(kv->value, kv->value_len, &v, &why)) {
		log_bad(a, kv->key, why);
		/* Ours?  Then put it right. */
		pods_own_event(a, vni, &addr, true, NULL, NULL, kv->mod_rev);
		deleted = true;
	} else if (!deleted && !strcmp(v.host, a->cfg.host)) {
		pods_own_event(a, vni, &addr, false, v.host, v.pod, kv->mod_rev);
		deleted = true;		/* never in our own map */
	} else if (deleted) {
		pods_own_event(a, vni, &addr, true, NULL, NULL, kv->mod_rev);
	}

	if (deleted) {
		if (e) {
			e->want = false;
			if (!reconcile)
				sync_apply_want(a, e);
		}
		return;
	}
	if (!e)
		e = table_get(&a->t, vni, &addr, true);
	if (!e) {
		log_msg(LOG_ERR, "oom", "out of memory for an endpoint");
		return;
	}
	e->want = true;
	e->via_want = v.via;
	e->mod_rev = kv->mod_rev;
	e->t_pub = v.t;
	strcpy(e->host, v.host);
	if (!reconcile) {
		a->nr_want++;
		sync_apply_want(a, e);
	}
}

static int reconcile_kv(const struct etcd_kv *kv, void *data)
{
	apply_kv(data, kv, false, true);
	return 0;
}

int full_reconcile(struct agent *a)
{
	double t0 = now_mono();
	struct ent *e, *n;
	struct json_object *r;
	char prefix[160];
	unsigned int i;
	uint64_t adds = a->map_adds, dels = a->map_dels;
	int64_t rev;
	int ret;

	table_for_each(&a->t, i, e, n) {
		e->want = false;
		if (!a->cfg.dry_run) {
			if (e->have)
				a->nr_have--;
			e->have = false;
		}
	}
	ret = kmap_load(a);
	if (ret) {
		log_msg(LOG_ERR, "reconcile", "reading the kernel's map: %s",
			strerror(-ret));
		return ret;
	}
	snprintf(prefix, sizeof(prefix), "%s/endpoints/", a->cfg.prefix);
	ret = etcd_range_prefix(&a->etcd, prefix, 2000, reconcile_kv, a, &rev);
	if (ret) {
		log_msg(LOG_WARN, "reconcile", "listing the endpoints: %s",
			a->etcd.err);
		return ret;
	}
	a->foreign = 0;
	a->nr_want = 0;
	table_for_each(&a->t, i, e, n) {
		if (e->want)
			a->nr_want++;
		else if (e->have && !e->owned)
			a->foreign++;
		sync_apply_want(a, e);
	}
	journal_compact(a);
	a->watch_rev = rev;
	a->reconciles++;
	a->last_reconcile = now_real();
	a->last_reconcile_ms = (now_mono() - t0) * 1000;
	r = log_start(LOG_INFO, "reconciled");
	jadd_int(r, "revision", rev);
	jadd_int(r, "endpoints", a->nr_want);
	jadd_int(r, "added", a->map_adds - adds);
	jadd_int(r, "removed", a->map_dels - dels);
	jadd_int(r, "foreign", a->foreign);
	jadd_fmt(r, "ms", "%.1f", a->last_reconcile_ms);
	log_end(r);
	return 0;
}

static void watch_event(struct agent *a, struct json_object *ev)
{
	struct json_object *jkv, *type;
	struct etcd_kv kv;
	bool deleted;

	deleted = json_object_object_get_ex(ev, "type", &type) &&
		  !strcmp(json_object_get_string(type), "DELETE");
	if (!json_object_object_get_ex(ev, "kv", &jkv) ||
	    etcd_kv_parse(jkv, &kv)) {
		log_msg(LOG_ERR, "watch", "an event without a readable key");
		return;
	}
	a->events++;
	apply_kv(a, &kv, deleted, false);
	if (kv.mod_rev > a->watch_rev)
		a->watch_rev = kv.mod_rev;
	etcd_kv_free(&kv);
}

void watch_cb(struct etcd *etcd, struct json_object *msg, void *data)
{
	struct json_object *res, *evs, *h, *f;
	struct agent *a = data;
	size_t i, n;

	if (json_object_object_get_ex(msg, "error", &f)) {
		struct json_object *m;

		snprintf(etcd->watch_err, sizeof(etcd->watch_err),
			 "%s: watch refused: %s", etcd_endpoint(etcd),
			 json_object_object_get_ex(f, "message", &m) ?
			 json_object_get_string(m) :
			 json_object_get_string(f));
		etcd->watch_ended = true;
		return;
	}
	if (!json_object_object_get_ex(msg, "result", &res))
		return;
	if (json_object_object_get_ex(res, "created", &f) &&
	    json_object_get_boolean(f))
		a->watch_backoff = 0.5;		/* a working stream */
	if (json_object_object_get_ex(res, "canceled", &f) &&
	    json_object_get_boolean(f)) {
		int64_t compact = etcd_int(res, "compact_revision");

		if (compact) {
			a->compactions++;
			a->resync_needed = true;
			snprintf(etcd->watch_err, sizeof(etcd->watch_err),
				 "watch from revision %lld: compacted up to %lld",
				 (long long)a->watch_rev + 1, (long long)compact);
		} else {
			snprintf(etcd->watch_err, sizeof(etcd->watch_err),
				 "watch canceled by %s: %s",
				 etcd_endpoint(etcd),
				 json_object_object_get_ex(res, "cancel_reason", &f) ?
				 json_object_get_string(f) : "no reason given");
		}
		etcd->watch_ended = true;
		return;
	}
	if (json_object_object_get_ex(res, "events", &evs) &&
	    json_object_is_type(evs, json_type_array)) {
		n = json_object_array_length(evs);
		for (i = 0; i < n; i++)
			watch_event(a, json_object_array_get_idx(evs, i));
	}
	if (json_object_object_get_ex(res, "header", &h)) {
		int64_t rev = etcd_int(h, "revision");

		/* A progress notification or the creation: all seen. */
		if (!json_object_object_get_ex(res, "events", &evs) &&
		    rev > a->watch_rev &&
		    !(json_object_object_get_ex(res, "created", &f) &&
		      json_object_get_boolean(f)))
			a->watch_rev = rev;
	}
}
