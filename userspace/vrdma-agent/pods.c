// SPDX-License-Identifier: GPL-2.0
/*
 * The host's own virtual devices, one per pod interface, created and
 * deleted for the CNI plugin, and their endpoints in etcd.
 *
 * A pod's record (PREFIX/pods/HOST/CONTAINER/IFNAME, no lease) says which
 * device belongs to it; its endpoints (one per overlay address, under the
 * host's lease) tell the other hosts where it is.  ADD creates the device
 * only once etcd has answered, and deletes it again if the endpoints
 * cannot be published: a failed ADD leaves nothing behind.  On start the
 * records are compared with the kernel's devices: a pod whose device is
 * gone is withdrawn, a device of ours without a record is deleted.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "agent.h"
#include "parse.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC	0x6e736673
#endif

static void pod_key(const struct agent *a, const struct pod *p, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%s/pods/%s/%s/%s", a->cfg.prefix, a->cfg.host,
		 p->cid, p->ifname);
}

bool name_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	return len && len <= max && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* A netdev name as the kernel accepts it (dev_valid_name()). */
static bool ifname_ok(const char *s)
{
	size_t len = strlen(s);

	return len && len < IFNAME_LEN && strcmp(s, ".") && strcmp(s, "..") &&
	       !strpbrk(s, "/: \t\n\r\f\v");
}

unsigned int pods_count(const struct agent *a)
{
	const struct pod *p;
	unsigned int n = 0;

	for (p = a->pods; p; p = p->next)
		n += !p->withdraw;
	return n;
}

static struct pod *pod_find(struct agent *a, const char *cid,
			    const char *ifname)
{
	struct pod *p;

	for (p = a->pods; p; p = p->next)
		if (!strcmp(p->cid, cid) && !strcmp(p->ifname, ifname))
			return p;
	return NULL;
}

static struct pod *pod_with_addr(struct agent *a, uint32_t vni,
				 const struct in6_addr *addr)
{
	struct pod *p;
	int i;

	for (p = a->pods; p; p = p->next)
		if (!p->withdraw && p->vni == vni)
			for (i = 0; i < p->nr_addrs; i++)
				if (!memcmp(&p->addrs[i], addr, 16))
					return p;
	return NULL;
}

static void pod_unlink(struct agent *a, struct pod *p)
{
	struct pod **pp;

	for (pp = &a->pods; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			free(p);
			return;
		}
}

static struct json_object *addrs_json(const struct pod *p)
{
	struct json_object *arr = json_object_new_array();
	char sa[ADDR_STRLEN];
	int i;

	for (i = 0; i < p->nr_addrs; i++)
		json_object_array_add(arr, json_object_new_string(
				      format_addr(&p->addrs[i], sa)));
	return arr;
}

static char *pod_record(const struct pod *p)
{
	struct json_object *o = json_object_new_object();
	char *s;

	jadd_str(o, "container_id", p->cid);
	jadd_str(o, "ifname", p->ifname);
	jadd_str(o, "netns", p->netns);
	jadd_str(o, "dev", p->dev);
	jadd_int(o, "index", p->index);
	jadd_int(o, "vni", p->vni);
	jadd_bool(o, "exclusive", p->exclusive);
	json_object_object_add(o, "addrs", addrs_json(p));
	if (p->k8s_ns[0])
		jadd_str(o, "k8s_namespace", p->k8s_ns);
	if (p->k8s_name[0])
		jadd_str(o, "k8s_name", p->k8s_name);
	json_object_object_add(o, "created", json_object_new_double(p->created));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static char *ep_value(const struct agent *a, const struct pod *p)
{
	struct json_object *o = json_object_new_object();
	char sv[ADDR_STRLEN];
	char *s;

	jadd_str(o, "host", a->cfg.host);
	jadd_str(o, "via", format_addr(&a->cfg.addrs[0], sv));
	jadd_str(o, "pod", p->cid);
	jadd_str(o, "ifname", p->ifname);
	jadd_str(o, "dev", p->dev);
	json_object_object_add(o, "t", json_object_new_double(now_real()));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/*
 * Who holds the endpoint keys of @p now: for each address, its
 * mod_revision (0: free) in @revs, and whether it is ours (or corrupted,
 * which we may overwrite) in @ours.  Returns 0, -EEXIST with @err naming
 * the first other holder, or an etcd error.
 */
static int ep_holders(struct agent *a, struct pod *p, int64_t *revs,
		      bool *ours, char *err, size_t errlen)
{
	struct json_object *ops = json_object_new_array(), *resp, *rs;
	char key[512];
	bool ok;
	int i, ret;

	for (i = 0; i < p->nr_addrs; i++) {
		ep_key(a, key, sizeof(key), p->vni, &p->addrs[i]);
		json_object_array_add(ops, etcd_op_get(key));
	}
	ret = etcd_txn(&a->etcd, NULL, ops, NULL, &ok, &resp);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(resp, "responses", &rs) ||
	    !json_object_is_type(rs, json_type_array) ||
	    (int)json_object_array_length(rs) != p->nr_addrs) {
		json_object_put(resp);
		snprintf(err, errlen, "etcd: unexpected transaction answer");
		return -EBADMSG;
	}
	for (i = 0; i < p->nr_addrs; i++) {
		struct json_object *r = json_object_array_get_idx(rs, i), *rr,
				   *kvs, *o, *f;
		struct etcd_kv kv;
		char sa[ADDR_STRLEN];
		const char *host = "", *pod = "";

		revs[i] = 0;
		ours[i] = true;
		if (!json_object_object_get_ex(r, "response_range", &rr) ||
		    !json_object_object_get_ex(rr, "kvs", &kvs) ||
		    !json_object_array_length(kvs))
			continue;
		if (etcd_kv_parse(json_object_array_get_idx(kvs, 0), &kv))
			continue;
		revs[i] = kv.mod_rev;
		o = json_tokener_parse(kv.value);
		if (o && json_object_object_get_ex(o, "host", &f))
			host = json_object_get_string(f);
		if (o && json_object_object_get_ex(o, "pod", &f))
			pod = json_object_get_string(f);
		if (o && (strcmp(host, a->cfg.host) || strcmp(pod, p->cid))) {
			ours[i] = false;
			if (!ret)
				snprintf(err, errlen,
				 "address %s in VNI %u is already published by host %s (container %s)",
					 format_addr(&p->addrs[i], sa), p->vni,
					 host, pod);
			ret = -EEXIST;
		}
		/* A value that is not JSON is corrupted: overwrite it. */
		json_object_put(o);
		etcd_kv_free(&kv);
	}
	json_object_put(resp);
	return ret;
}

/*
 * Publish @p's endpoints under our lease, and its record: one
 * transaction that succeeds only if every key is free or already ours.
 */
static int pod_publish(struct agent *a, struct pod *p, char *err,
		       size_t errlen)
{
	int64_t revs[POD_ADDRS_MAX];
	bool ours[POD_ADDRS_MAX];
	struct json_object *cmps, *ops, *resp, *h;
	char key[512], *val, *rec;
	int i, tries, ret;
	bool ok = false;

	if (!a->lease) {
		snprintf(err, errlen, "no etcd lease yet");
		return -EAGAIN;
	}
	for (tries = 0; tries < 3; tries++) {
		ret = ep_holders(a, p, revs, ours, err, errlen);
		if (ret) {
			if (ret != -EEXIST && ret != -EBADMSG)
				snprintf(err, errlen, "etcd %s: %.400s",
					 etcd_what(ret), a->etcd.err);
			return ret;
		}
		val = ep_value(a, p);
		rec = pod_record(p);
		cmps = json_object_new_array();
		ops = json_object_new_array();
		for (i = 0; i < p->nr_addrs; i++) {
			ep_key(a, key, sizeof(key), p->vni, &p->addrs[i]);
			json_object_array_add(cmps, revs[i] ?
					      etcd_cmp_mod_rev(key, revs[i]) :
					      etcd_cmp_absent(key));
			json_object_array_add(ops, etcd_op_put(key, val,
							       a->lease));
		}
		pod_key(a, p, key, sizeof(key));
		json_object_array_add(ops, etcd_op_put(key, rec, 0));
		free(val);
		free(rec);
		ret = etcd_txn(&a->etcd, cmps, ops, NULL, &ok, &resp);
		if (ret) {
			snprintf(err, errlen, "etcd %s: %.400s", etcd_what(ret),
				 a->etcd.err);
			if (a->etcd.grpc_code == GRPC_NOT_FOUND) {
				/* Our lease expired: no use going on with it. */
				a->lease_lost = true;
				return -ENOKEY;
			}
			return ret;
		}
		if (ok && json_object_object_get_ex(resp, "header", &h))
			p->mod_rev = etcd_int(h, "revision");
		json_object_put(resp);
		if (ok) {
			p->published = true;
			return 0;
		}
		/* Someone changed a key between the read and the write. */
	}
	snprintf(err, errlen, "the endpoint keys kept changing; giving up");
	return -EAGAIN;
}

/* Remove @p's endpoints (those still ours) and its record. */
static int pod_withdraw(struct agent *a, struct pod *p, char *err,
			size_t errlen)
{
	int64_t revs[POD_ADDRS_MAX];
	bool ours[POD_ADDRS_MAX];
	struct json_object *cmps, *ops;
	char key[512];
	int i, tries, ret;
	bool ok;

	for (tries = 0; tries < 3; tries++) {
		ret = ep_holders(a, p, revs, ours, err, errlen);
		if (ret && ret != -EEXIST) {
			if (ret != -EBADMSG)
				snprintf(err, errlen, "etcd %s: %.400s",
					 etcd_what(ret), a->etcd.err);
			return ret;
		}
		cmps = json_object_new_array();
		ops = json_object_new_array();
		for (i = 0; i < p->nr_addrs; i++) {
			if (!revs[i] || !ours[i])	/* free, or another's */
				continue;
			ep_key(a, key, sizeof(key), p->vni, &p->addrs[i]);
			json_object_array_add(cmps, etcd_cmp_mod_rev(key, revs[i]));
			json_object_array_add(ops, etcd_op_del(key));
		}
		pod_key(a, p, key, sizeof(key));
		json_object_array_add(ops, etcd_op_del(key));
		ret = etcd_txn(&a->etcd, cmps, ops, NULL, &ok, NULL);
		if (ret) {
			snprintf(err, errlen, "etcd %s: %.400s", etcd_what(ret),
				 a->etcd.err);
			return ret;
		}
		if (ok) {
			p->published = false;
			return 0;
		}
	}
	snprintf(err, errlen, "the endpoint keys kept changing; giving up");
	return -EAGAIN;
}

static void log_pod(enum log_level level, const char *event,
		    const struct pod *p, const char *msg, const char *err)
{
	struct json_object *r = log_start(level, event);

	if (!r)
		return;
	if (msg)
		jadd_str(r, "msg", msg);
	jadd_str(r, "container", p->cid);
	jadd_str(r, "ifname", p->ifname);
	if (p->dev[0])
		jadd_str(r, "dev", p->dev);
	jadd_int(r, "vni", p->vni);
	json_object_object_add(r, "addrs", addrs_json(p));
	if (err)
		jadd_str(r, "error", err);
	log_end(r);
}

/* ------------------------------------------------------------------ */
/* Requests of the CNI plugin                                           */

static const char *jget_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Container id and interface name of a request, checked. */
static struct json_object *req_ids(struct json_object *req, const char **cid,
				   const char **ifname)
{
	*cid = jget_str(req, "container_id");
	*ifname = jget_str(req, "ifname");
	if (!*cid || !name_ok(*cid, CID_MAX_LEN))
		return answer_err(ERR_INVALID,
				  "container_id must be 1-128 letters, digits, '_', '.' or '-' (got '%s')",
				  *cid ? *cid : "");
	if (!*ifname || !ifname_ok(*ifname))
		return answer_err(ERR_INVALID,
				  "ifname must be a network interface name (1-15 bytes, no '/', ':' or blanks; got '%s')",
				  *ifname ? *ifname : "");
	return NULL;
}

/* Parse an ADD request into @p; returns an error answer or NULL. */
static struct json_object *parse_add(struct agent *a, struct json_object *req,
				     struct pod *p, const char **mode)
{
	struct json_object *v, *err;
	const char *cid, *ifname, *s;
	int64_t vni = 0;
	size_t i, n;

	err = req_ids(req, &cid, &ifname);
	if (err)
		return err;
	strcpy(p->cid, cid);
	strcpy(p->ifname, ifname);
	s = jget_str(req, "netns");
	if (!s || s[0] != '/' || strlen(s) >= sizeof(p->netns))
		return answer_err(ERR_INVALID,
				  "netns must be the absolute path of a network namespace (got '%s')",
				  s ? s : "");
	strcpy(p->netns, s);
	if (json_object_object_get_ex(req, "vni", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (vni = json_object_get_int64(v)) < 0 || vni > VNI_MAX)
			return answer_err(ERR_INVALID,
					  "vni must be an integer from 0 to %u (got %s)",
					  VNI_MAX, json_object_to_json_string(v));
	}
	p->vni = vni;
	*mode = jget_str(req, "mode") ?: "auto";
	if (strcmp(*mode, "auto") && strcmp(*mode, "exclusive") &&
	    strcmp(*mode, "shared"))
		return answer_err(ERR_INVALID,
				  "mode must be \"auto\", \"exclusive\" or \"shared\" (got \"%s\")",
				  *mode);
	if (!json_object_object_get_ex(req, "addrs", &v) ||
	    !json_object_is_type(v, json_type_array) ||
	    !(n = json_object_array_length(v)))
		return answer_err(ERR_INVALID,
				  "addrs: the pod interface's addresses are required (the main plugin's result has none for %s?)",
				  ifname);
	if (n > POD_ADDRS_MAX)
		return answer_err(ERR_INVALID,
				  "addrs: at most %d addresses per interface",
				  POD_ADDRS_MAX);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *why;
		size_t j;

		s = json_object_is_type(e, json_type_string) ?
		    json_object_get_string(e) : "";
		if (parse_addr(s, &p->addrs[i]))
			return answer_err(ERR_INVALID,
					  "addrs: '%s' is not an IPv4 or IPv6 address",
					  s);
		why = addr_refused(&p->addrs[i], false);
		if (!why && IN6_IS_ADDR_LINKLOCAL(&p->addrs[i]))
			why = "link-local (not reachable from other hosts)";
		if (why)
			return answer_err(ERR_INVALID,
					  "addrs: %s is %s", s, why);
		for (j = 0; j < i; j++)
			if (!memcmp(&p->addrs[j], &p->addrs[i], 16))
				return answer_err(ERR_INVALID,
						  "addrs: %s given twice", s);
	}
	p->nr_addrs = n;
	if ((s = jget_str(req, "k8s_namespace")))
		snprintf(p->k8s_ns, sizeof(p->k8s_ns), "%s", s);
	if ((s = jget_str(req, "k8s_name")))
		snprintf(p->k8s_name, sizeof(p->k8s_name), "%s", s);
	(void)a;
	return NULL;
}

struct json_object *pod_add(struct agent *a, struct json_object *req)
{
	struct pod *p = calloc(1, sizeof(*p)), *q;
	struct json_object *ans;
	struct dev_req dr = { 0 };
	struct statfs sfs;
	struct kdev kd;
	char err[512], derr[256], name[32], sa[ADDR_STRLEN];
	const char *mode;
	bool exclusive = false;
	int64_t ttl;
	int fd = -1, i, ret;

	if (!p)
		return answer_err(ERR_INTERNAL, "out of memory");
	ans = parse_add(a, req, p, &mode);
	if (ans)
		goto fail;
	q = pod_find(a, p->cid, p->ifname);
	if (q && !q->withdraw) {
		ans = answer_err(ERR_EXISTS,
				 "container %s interface %s already has device %s (ADD twice without DEL)",
				 p->cid, p->ifname, q->dev);
		goto fail;
	}
	if (q) {
		/* An earlier attempt's keys first: they would look like ours. */
		if (pod_withdraw(a, q, err, sizeof(err))) {
			ans = answer_err(ERR_TRY_LATER,
					 "container %s: the endpoints of an earlier attempt are still being withdrawn: %s",
					 p->cid, err);
			goto fail;
		}
		pod_unlink(a, q);
	}
	for (i = 0; i < p->nr_addrs; i++) {
		q = pod_with_addr(a, p->vni, &p->addrs[i]);
		if (q) {
			ans = answer_err(ERR_CONFLICT,
					 "address %s in VNI %u belongs to container %s on this host",
					 format_addr(&p->addrs[i], sa), p->vni,
					 q->cid);
			goto fail;
		}
	}
	fd = open(p->netns, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ans = answer_err(ERR_NETNS, "network namespace %s: %s",
				 p->netns, strerror(errno));
		goto fail;
	}
	if (fstatfs(fd, &sfs) || sfs.f_type != NSFS_MAGIC) {
		ans = answer_err(ERR_NETNS,
				 "%s is not a network namespace file", p->netns);
		goto fail;
	}
	if (a->state != ST_READY) {
		ans = answer_err(ERR_TRY_LATER,
				 "vrdma-agent is not connected to etcd yet: %s",
				 a->etcd.err[0] ? a->etcd.err : "starting");
		goto fail;
	}
	if (!a->cfg.dry_run) {
		if (rdma_exclusive(a, &exclusive, err, sizeof(err))) {
			ans = answer_err(ERR_DEVICE, "%s", err);
			goto fail;
		}
		if (!strcmp(mode, "exclusive") && !exclusive) {
			ans = answer_err(ERR_INVALID,
					 "mode \"exclusive\": ib_core is in shared netns mode (run 'rdma system set netns exclusive' before any container exists)");
			goto fail;
		}
		if (!strcmp(mode, "shared") && exclusive) {
			ans = answer_err(ERR_INVALID,
					 "mode \"shared\": ib_core is in exclusive netns mode, the pod would not see its device");
			goto fail;
		}
	}
	p->exclusive = exclusive;

	/* etcd answers, and our lease lives: only then create anything. */
	ret = etcd_lease_keepalive(&a->etcd, a->lease, &ttl);
	if (!ret && ttl <= 0 && !lease_replace(a))
		ttl = a->lease_ttl;	/* expired, and replaced */
	if (ret || ttl <= 0) {
		ans = answer_err(ERR_TRY_LATER,
				 "etcd %s, nothing was created: %s",
				 ret ? etcd_what(ret) : "lost this host's lease",
				 ret ? a->etcd.err : "it expired");
		goto fail;
	}

	snprintf(name, sizeof(name), "%s%%d", a->cfg.dev_prefix);
	dr.name = name;
	dr.netns_fd = fd;
	dr.netdev = p->ifname;
	dr.phys = a->cfg.phys[0] ? a->cfg.phys : NULL;
	dr.vni = p->vni;
	dr.exclusive = exclusive;
	ret = kdev_create(a, &dr, &kd, err, sizeof(err));
	if (ret) {
		ans = answer_err(ERR_DEVICE, "%s", err);
		goto fail;
	}
	snprintf(p->dev, sizeof(p->dev), "%s", kd.name);
	p->index = kd.index;
	p->created = now_real();

	/* Ours from now on: the watch may show its endpoints at once. */
	p->next = a->pods;
	a->pods = p;
	ret = pod_publish(a, p, err, sizeof(err));
	if (ret) {
		ans = answer_err(ret == -EEXIST ? ERR_CONFLICT : ERR_TRY_LATER,
				 "publishing the endpoints: %s (device %s deleted again)",
				 err, p->dev);
		if (kdev_delete(a, p->dev, derr, sizeof(derr)))
			log_msg(LOG_ERR, "dev-del", "%s: %s", p->dev, derr);
		if (ret != -EEXIST && ret != -EBADMSG) {
			/* The transaction may have happened: clean up later. */
			p->withdraw = true;
			log_pod(LOG_WARN, "pod-add-failed", p, NULL, err);
			p = NULL;
		} else {
			a->pods = p->next;	/* still first: nothing ran since */
		}
		goto fail;
	}
	log_pod(LOG_INFO, "pod-add", p, NULL, NULL);
	close(fd);
	ans = json_object_new_object();
	jadd_bool(ans, "ok", true);
	jadd_str(ans, "dev", p->dev);
	jadd_int(ans, "index", p->index);
	jadd_bool(ans, "exclusive", p->exclusive);
	return ans;

fail:
	if (fd >= 0)
		close(fd);
	if (p) {
		struct json_object *m;

		if (p->cid[0] && json_object_object_get_ex(ans, "msg", &m))
			log_pod(LOG_WARN, "pod-add-failed", p, NULL,
				json_object_get_string(m));
		free(p);
	}
	return ans;
}

struct json_object *pod_del(struct agent *a, struct json_object *req)
{
	struct json_object *ans;
	const char *cid, *ifname;
	char err[512];
	struct pod *p;
	int ret;

	ans = req_ids(req, &cid, &ifname);
	if (ans)
		return ans;
	p = pod_find(a, cid, ifname);
	ans = json_object_new_object();
	jadd_bool(ans, "ok", true);
	if (!p || p->withdraw) {
		jadd_bool(ans, "found", false);
		return ans;
	}
	jadd_bool(ans, "found", true);
	jadd_str(ans, "dev", p->dev);
	ret = kdev_delete(a, p->dev, err, sizeof(err));
	if (ret && ret != -ENODEV) {
		json_object_put(ans);
		log_pod(LOG_ERR, "pod-del-failed", p, NULL, err);
		return answer_err(ERR_DEVICE, "%s: %s", p->dev, err);
	}
	p->withdraw = true;
	ret = pod_withdraw(a, p, err, sizeof(err));
	if (ret) {
		log_pod(LOG_WARN, "pod-del", p,
			"device deleted; its endpoints will be withdrawn once etcd answers",
			err);
		jadd_str(ans, "warning", err);
		return ans;
	}
	log_pod(LOG_INFO, "pod-del", p, NULL, NULL);
	pod_unlink(a, p);
	return ans;
}

struct json_object *pod_check(struct agent *a, struct json_object *req)
{
	struct json_object *ans, *v;
	const char *cid, *ifname;
	struct kdev *devs;
	struct pod *p;
	int64_t revs[POD_ADDRS_MAX];
	bool ours[POD_ADDRS_MAX];
	char err[512];
	int nr, i, found = -1, ret;
	size_t j;

	ans = req_ids(req, &cid, &ifname);
	if (ans)
		return ans;
	p = pod_find(a, cid, ifname);
	if (!p || p->withdraw)
		return answer_err(ERR_UNKNOWN_CONTAINER,
				  "container %s interface %s has no vrdma device",
				  cid, ifname);
	if (!a->cfg.dry_run) {
		if (kdev_list(a, &devs, &nr))
			return answer_err(ERR_IO, "listing the devices failed");
		for (i = 0; i < nr; i++)
			if (!strcmp(devs[i].name, p->dev))
				found = i;
		if (found < 0 || strcmp(devs[found].netdev, p->ifname)) {
			free(devs);
			return answer_err(ERR_DEVICE,
					  "device %s of container %s is gone or not bound to %s",
					  p->dev, cid, ifname);
		}
		free(devs);
	}
	if (json_object_object_get_ex(req, "addrs", &v) &&
	    json_object_is_type(v, json_type_array)) {
		for (j = 0; j < json_object_array_length(v); j++) {
			struct in6_addr ad;
			const char *s = json_object_get_string(
					json_object_array_get_idx(v, j));

			if (!s || parse_addr(s, &ad) || IN6_IS_ADDR_LINKLOCAL(&ad))
				continue;
			for (i = 0; i < p->nr_addrs; i++)
				if (!memcmp(&p->addrs[i], &ad, 16))
					break;
			if (i == p->nr_addrs)
				return answer_err(ERR_INVALID,
						  "address %s of the interface is not published for device %s",
						  s, p->dev);
		}
	}
	ret = ep_holders(a, p, revs, ours, err, sizeof(err));
	if (ret == -EEXIST)
		return answer_err(ERR_CONFLICT, "%s", err);
	if (ret)
		return answer_err(ERR_TRY_LATER, "etcd %s: %.400s",
				  etcd_what(ret), a->etcd.err);
	for (i = 0; i < p->nr_addrs; i++)
		if (!revs[i])
			return answer_err(ERR_IO,
					  "the endpoints of device %s are not in etcd (yet)",
					  p->dev);
	ans = json_object_new_object();
	jadd_bool(ans, "ok", true);
	jadd_str(ans, "dev", p->dev);
	return ans;
}

/* ------------------------------------------------------------------ */
/* Background work                                                      */

void pods_own_event(struct agent *a, uint32_t vni,
		    const struct in6_addr *addr, bool deleted,
		    const char *host, const char *cid, int64_t mod_rev)
{
	struct pod *p = pod_with_addr(a, vni, addr);
	char key[512], sa[ADDR_STRLEN];

	if (a->state == ST_CONNECTING)
		return;
	if (p) {
		if (deleted || strcmp(cid, p->cid)) {
			/* Ours, and gone or wrong: publish it again. */
			if (p->published)
				log_pod(LOG_WARN, "endpoint-lost", p,
					"an endpoint of this host changed in etcd: publishing again",
					NULL);
			p->published = false;
			a->next_retry = 0;
		}
		return;
	}
	if (deleted || !host)
		return;
	/*
	 * Claims this host, but no pod of ours has it: stale, removed from
	 * the main loop (this runs from the watch, maybe inside a call).
	 */
	ep_key(a, key, sizeof(key), vni, addr);
	log_msg(LOG_WARN, "endpoint-stale",
		"%s (VNI %u) names this host but no pod here has it: removing %s",
		format_addr(addr, sa), vni, key);
	if (a->nr_stale < STALE_MAX) {
		a->stale[a->nr_stale].key = strdup(key);
		a->stale[a->nr_stale++].mod_rev = mod_rev;
	}
	a->next_retry = 0;
}

/* Remove the stale endpoints found by pods_own_event(). */
static void stale_retry(struct agent *a)
{
	struct json_object *cmps, *ops;
	int i, n = 0;
	bool ok;

	for (i = 0; i < a->nr_stale; i++) {
		if (!a->stale[i].key)
			continue;
		/* Only the version seen: a newer one is someone's news. */
		cmps = json_object_new_array();
		ops = json_object_new_array();
		json_object_array_add(cmps, etcd_cmp_mod_rev(a->stale[i].key,
							     a->stale[i].mod_rev));
		json_object_array_add(ops, etcd_op_del(a->stale[i].key));
		if (etcd_txn(&a->etcd, cmps, ops, NULL, &ok, NULL)) {
			log_msg(LOG_WARN, "endpoint-stale", "%s", a->etcd.err);
			a->stale[n++] = a->stale[i];
			continue;
		}
		free(a->stale[i].key);
	}
	a->nr_stale = n;
}

void pods_retry(struct agent *a)
{
	struct pod *p, *next;
	char err[512];

	stale_retry(a);
	for (p = a->pods; p; p = next) {
		next = p->next;
		if (p->withdraw) {
			if (pod_withdraw(a, p, err, sizeof(err))) {
				log_pod(LOG_WARN, "withdraw", p, "will retry", err);
				continue;
			}
			log_pod(LOG_INFO, "withdrawn", p, NULL, NULL);
			pod_unlink(a, p);
		} else if (!p->published && !a->lease_lost) {
			if (pod_publish(a, p, err, sizeof(err))) {
				log_pod(LOG_WARN, "publish", p, a->lease_lost ?
					"the lease expired: publishing again under a new one" :
					"will retry", err);
				continue;
			}
			log_pod(LOG_INFO, "published", p, NULL, NULL);
		}
	}
}

int pods_publish_all(struct agent *a)
{
	struct pod *p;

	for (p = a->pods; p; p = p->next)
		p->published = false;
	pods_retry(a);
	return 0;
}

/* Devices that vanished (namespace deleted without a CNI DEL). */
void pods_devcheck(struct agent *a)
{
	struct kdev *devs;
	struct pod *p;
	int nr, i;

	if (a->cfg.dry_run || kdev_list(a, &devs, &nr))
		return;
	for (p = a->pods; p; p = p->next) {
		if (p->withdraw)
			continue;
		for (i = 0; i < nr; i++)
			if (!strcmp(devs[i].name, p->dev) && devs[i].has_netdev)
				break;
		if (i == nr) {
			log_pod(LOG_WARN, "pod-gone", p,
				"the device went away (namespace deleted without CNI DEL?): withdrawing",
				NULL);
			p->withdraw = true;
			a->next_retry = 0;
		}
	}
	free(devs);
}

static int load_pod(const struct etcd_kv *kv, void *data)
{
	struct agent *a = data;
	struct json_object *o, *ans, *v;
	struct pod *p = calloc(1, sizeof(*p));
	const char *mode, *dev;

	if (!p)
		return -ENOMEM;
	o = json_tokener_parse(kv->value);
	ans = o ? parse_add(a, o, p, &mode) :
	      answer_err(ERR_INVALID, "not JSON");
	dev = o ? jget_str(o, "dev") : NULL;
	if (ans || !dev || strlen(dev) >= sizeof(p->dev)) {
		struct json_object *m = NULL;

		if (ans)
			json_object_object_get_ex(ans, "msg", &m);
		log_msg(LOG_ERR, "bad-pod-record", "%s: %s: removing it", kv->key,
			m ? json_object_get_string(m) : "no device name");
		if (etcd_delete(&a->etcd, kv->key))
			log_msg(LOG_WARN, "bad-pod-record", "%s", a->etcd.err);
		json_object_put(ans);
		json_object_put(o);
		free(p);
		return 0;
	}
	strcpy(p->dev, dev);
	if (json_object_object_get_ex(o, "index", &v))
		p->index = json_object_get_int(v);
	if (json_object_object_get_ex(o, "exclusive", &v))
		p->exclusive = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "created", &v))
		p->created = json_object_get_double(v);
	json_object_put(o);
	p->next = a->pods;
	a->pods = p;
	return 0;
}

/* Ours: PREFIX followed by digits only. */
static bool our_dev(const struct agent *a, const char *name)
{
	size_t n = strlen(a->cfg.dev_prefix);

	return !strncmp(name, a->cfg.dev_prefix, n) && name[n] &&
	       strspn(name + n, "0123456789") == strlen(name + n);
}

int pods_reconcile(struct agent *a)
{
	struct pod *p, *next;
	struct kdev *devs = NULL;
	char prefix[256], err[256];
	int nr = 0, i, ret;
	int64_t rev;

	while (a->pods) {
		p = a->pods;
		a->pods = p->next;
		free(p);
	}
	snprintf(prefix, sizeof(prefix), "%s/pods/%s/", a->cfg.prefix,
		 a->cfg.host);
	ret = etcd_range_prefix(&a->etcd, prefix, 1000, load_pod, a, &rev);
	if (ret) {
		log_msg(LOG_WARN, "pods", "listing this host's pods: %s",
			a->etcd.err);
		return ret;
	}
	ret = kdev_list(a, &devs, &nr);
	if (ret) {
		log_msg(LOG_ERR, "pods", "listing the devices: %s",
			strerror(-ret));
		return ret;
	}
	for (p = a->pods; p; p = next) {
		next = p->next;
		for (i = 0; i < nr; i++)
			if (!strcmp(devs[i].name, p->dev))
				break;
		if (a->cfg.dry_run || (i < nr && devs[i].has_netdev &&
				       !strcmp(devs[i].netdev, p->ifname))) {
			p->published = false;	/* under the current lease */
			if (i < nr)
				devs[i].name[0] = '\0';	/* claimed */
			continue;
		}
		log_pod(LOG_WARN, "pod-gone", p,
			"the device went away while the agent was not running: withdrawing",
			NULL);
		p->withdraw = true;
	}
	for (i = 0; i < nr; i++) {
		if (!devs[i].name[0] || !our_dev(a, devs[i].name))
			continue;
		log_msg(LOG_WARN, "orphan-dev",
			"%s has no pod record: deleting it", devs[i].name);
		if (kdev_delete(a, devs[i].name, err, sizeof(err)))
			log_msg(LOG_ERR, "orphan-dev", "%s: %s", devs[i].name, err);
	}
	free(devs);
	pods_retry(a);
	return 0;
}

struct json_object *pods_status(struct agent *a)
{
	struct json_object *arr = json_object_new_array(), *o;
	struct pod *p;

	for (p = a->pods; p; p = p->next) {
		o = json_object_new_object();
		jadd_str(o, "container", p->cid);
		jadd_str(o, "ifname", p->ifname);
		jadd_str(o, "dev", p->dev);
		jadd_int(o, "vni", p->vni);
		json_object_object_add(o, "addrs", addrs_json(p));
		jadd_str(o, "state", p->withdraw ? "withdrawing" :
			 p->published ? "published" : "publishing");
		if (p->k8s_name[0])
			jadd_fmt(o, "pod", "%s/%s", p->k8s_ns, p->k8s_name);
		json_object_array_add(arr, o);
	}
	return arr;
}
