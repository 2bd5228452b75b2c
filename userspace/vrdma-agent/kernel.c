// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side: the address map and virtual devices through the vrdma
 * generic netlink family (Documentation/netlink.rst), ib_core's netlink
 * for device moves, or, in a dry run, a sink file that records what
 * would have been done (one line per map change, with times).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vrdma.h>

#include "agent.h"
#include "parse.h"
#include "rdma_nldev.h"

/* Describe a failed request with the kernel's extended ACK. */
static void nl_err(const struct nl *nl, int ret, char *err, size_t errlen,
		   const char *what)
{
	if (nl->ext.msg[0])
		snprintf(err, errlen, "%s: %s: %s", what, strerror(-ret),
			 nl->ext.msg);
	else
		snprintf(err, errlen, "%s: %s", what, strerror(-ret));
}

int kernel_open(struct agent *a, char *err, size_t errlen)
{
	int ret;

	if (a->cfg.dry_run) {
		a->sink = fopen(a->cfg.sink, "a");
		if (!a->sink) {
			snprintf(err, errlen, "sink %s: %s", a->cfg.sink,
				 strerror(errno));
			return -errno;
		}
		return 0;
	}
	ret = nl_open(&a->nl, VRDMA_FAMILY_NAME, VRDMA_FAMILY_VERSION);
	if (ret) {
		snprintf(err, errlen, "%s: generic netlink family %s (is the vrdma module loaded?)",
			 VRDMA_FAMILY_NAME, ret == -ENOENT ? "not found" :
			 strerror(-ret));
		return ret;
	}
	ret = nl_open_rdma(&a->rdma);
	if (ret) {
		snprintf(err, errlen, "RDMA netlink socket: %s",
			 strerror(-ret));
		nl_close(&a->nl);
		return ret;
	}
	return 0;
}

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct nl_policy pol[VRDMA_A_INFO_MAX + 1] = {
		[VRDMA_A_INFO_PHYS_DEFAULT]	= { MNL_TYPE_NUL_STRING },
	};
	const struct nlattr *tb[VRDMA_A_INFO_MAX + 1];
	char *buf = data;

	if (nl_parse(nlh, pol, VRDMA_A_INFO_MAX, tb))
		return MNL_CB_ERROR;
	if (tb[VRDMA_A_INFO_PHYS_DEFAULT])
		snprintf(buf, DEV_NAME_LEN, "%s",
			 mnl_attr_get_str(tb[VRDMA_A_INFO_PHYS_DEFAULT]));
	return MNL_CB_OK;
}

void kernel_default_phys(struct agent *a, char *buf, size_t len)
{
	char name[DEV_NAME_LEN] = "";

	if (!nl_request(&a->nl, nl_msg(&a->nl, VRDMA_CMD_INFO_GET, 0),
			info_cb, name))
		snprintf(buf, len, "%s", name);
}

static int phys_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct nl_policy pol[VRDMA_A_PHYS_MAX + 1] = {
		[VRDMA_A_PHYS_NAME]	= { MNL_TYPE_NUL_STRING },
	};
	const struct nlattr *tb[VRDMA_A_PHYS_MAX + 1];

	if (nl_parse(nlh, pol, VRDMA_A_PHYS_MAX, tb))
		return MNL_CB_ERROR;
	if (tb[VRDMA_A_PHYS_NAME])
		json_object_array_add(data, json_object_new_string(
				      mnl_attr_get_str(tb[VRDMA_A_PHYS_NAME])));
	return MNL_CB_OK;
}

struct json_object *kernel_phys_list(struct agent *a)
{
	struct json_object *arr = json_object_new_array();

	if (!a->sink)
		nl_request(&a->nl, nl_msg(&a->nl, VRDMA_CMD_PHYS_GET, NLM_F_DUMP),
			   phys_cb, arr);
	return arr;
}

void kernel_close(struct agent *a)
{
	if (a->sink)
		fclose(a->sink);
	a->sink = NULL;
	if (a->nl.sock)
		nl_close(&a->nl);
	if (a->rdma.sock)
		nl_close(&a->rdma);
}

static void sink_line(struct agent *a, const char *op, const struct ent *e,
		      const struct in6_addr *via)
{
	char sa[ADDR_STRLEN], sv[ADDR_STRLEN];

	fprintf(a->sink, "%.6f %s %u %s %s %.6f\n", now_real(), op, e->vni,
		format_addr(&e->addr, sa), via ? format_addr(via, sv) : "-",
		e->t_pub);
	fflush(a->sink);
}

static int map_request(struct agent *a, uint8_t cmd, const struct ent *e,
		       const struct in6_addr *via)
{
	struct nlmsghdr *nlh = nl_msg(&a->nl, cmd, 0);

	mnl_attr_put(nlh, VRDMA_A_MAP_ADDR, sizeof(e->addr), &e->addr);
	if (via)
		mnl_attr_put(nlh, VRDMA_A_MAP_VIA, sizeof(*via), via);
	mnl_attr_put_u32(nlh, VRDMA_A_MAP_VNI, e->vni);
	return nl_request(&a->nl, nlh, NULL, NULL);
}

static void log_map(struct agent *a, const char *event, const struct ent *e,
		    const struct in6_addr *via, int ret)
{
	struct json_object *r = log_start(ret ? LOG_ERR : LOG_INFO, event);
	char sa[ADDR_STRLEN], sv[ADDR_STRLEN];

	if (!r)
		return;
	jadd_int(r, "vni", e->vni);
	jadd_str(r, "addr", format_addr(&e->addr, sa));
	if (via)
		jadd_str(r, "via", format_addr(via, sv));
	if (e->host[0])
		jadd_str(r, "host", e->host);
	if (e->t_pub > 0 && via) {
		json_object_object_add(r, "published",
				       json_object_new_double(e->t_pub));
		jadd_int(r, "lag_us", (int64_t)((now_real() - e->t_pub) * 1e6));
	}
	if (ret) {
		jadd_str(r, "msg", "the kernel refused");
		jadd_str(r, "error", strerror(-ret));
		if (a->nl.ext.msg[0])
			jadd_str(r, "detail", a->nl.ext.msg);
	}
	log_end(r);
}

int kmap_set(struct agent *a, struct ent *e)
{
	int ret = 0;

	/* Write ahead: a crash after this still knows the entry is ours. */
	if (!e->owned) {
		journal_add(a, e);
		e->owned = true;
	}
	if (a->sink)
		sink_line(a, "add", e, &e->via_want);
	else
		ret = map_request(a, VRDMA_CMD_MAP_NEW, e, &e->via_want);
	log_map(a, "map-add", e, &e->via_want, ret);
	if (ret) {
		a->map_errors++;
		return ret;
	}
	if (!e->have)
		a->nr_have++;
	e->have = true;
	e->via_have = e->via_want;
	a->map_adds++;
	return 0;
}

int kmap_clear(struct agent *a, struct ent *e)
{
	int ret = 0;

	if (a->sink)
		sink_line(a, "del", e, NULL);
	else
		ret = map_request(a, VRDMA_CMD_MAP_DEL, e, NULL);
	if (ret == -ENOENT)	/* gone already (module reloaded, by hand) */
		ret = 0;
	log_map(a, "map-del", e, NULL, ret);
	if (ret) {
		a->map_errors++;
		return ret;
	}
	if (e->have)
		a->nr_have--;
	e->have = false;
	if (e->owned)
		journal_del(a, e);
	e->owned = false;
	a->map_dels++;
	return 0;
}

static int map_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	static const struct nl_policy pol[VRDMA_A_MAP_MAX + 1] = {
		[VRDMA_A_MAP_ADDR]	= { MNL_TYPE_BINARY, 16 },
		[VRDMA_A_MAP_VIA]	= { MNL_TYPE_BINARY, 16 },
		[VRDMA_A_MAP_VNI]	= { MNL_TYPE_U32 },
		[VRDMA_A_MAP_FLAGS]	= { MNL_TYPE_U32 },
	};
	const struct nlattr *tb[VRDMA_A_MAP_MAX + 1];
	struct agent *a = data;
	struct in6_addr addr;
	struct ent *e;
	uint32_t vni;

	if (nl_parse(nlh, pol, VRDMA_A_MAP_MAX, tb))
		return MNL_CB_ERROR;
	if (!tb[VRDMA_A_MAP_ADDR] || !tb[VRDMA_A_MAP_VIA])
		return MNL_CB_OK;
	if (tb[VRDMA_A_MAP_FLAGS] &&
	    (mnl_attr_get_u32(tb[VRDMA_A_MAP_FLAGS]) & VRDMA_MAP_FLAGS_LOCAL))
		return MNL_CB_OK;	/* derived, not ours to manage */
	vni = tb[VRDMA_A_MAP_VNI] ? mnl_attr_get_u32(tb[VRDMA_A_MAP_VNI]) : 0;
	memcpy(&addr, mnl_attr_get_payload(tb[VRDMA_A_MAP_ADDR]), 16);
	e = table_get(&a->t, vni, &addr, true);
	if (!e) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (!e->have)
		a->nr_have++;
	e->have = true;
	memcpy(&e->via_have, mnl_attr_get_payload(tb[VRDMA_A_MAP_VIA]), 16);
	e->seen = true;		/* in the kernel */
	return MNL_CB_OK;
}

int kmap_load(struct agent *a)
{
	struct nlmsghdr *nlh;
	int ret, tries;

	if (a->sink)
		return 0;	/* a dry run knows its sink from the table */
	for (tries = 0; tries < 5; tries++) {
		nlh = nl_msg(&a->nl, VRDMA_CMD_MAP_GET, NLM_F_DUMP);
		ret = nl_request(&a->nl, nlh, map_dump_cb, a);
		if (ret != -EINTR)	/* the map changed during the dump */
			break;
	}
	return ret;
}

int rdma_exclusive(struct agent *a, bool *exclusive, char *err,
		   size_t errlen)
{
	int ret = rdma_netns_exclusive(&a->rdma, exclusive);

	if (ret == -EPROTO)
		snprintf(err, errlen, "RDMA netns mode: not reported by the kernel");
	else if (ret)
		nl_err(&a->rdma, ret, err, errlen, "RDMA netns mode");
	return ret;
}

static const struct nl_policy dev_pol[VRDMA_A_DEV_MAX + 1] = {
	[VRDMA_A_DEV_NAME]	= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_INDEX]	= { MNL_TYPE_U32 },
	[VRDMA_A_DEV_NETDEV]	= { MNL_TYPE_NUL_STRING },
	[VRDMA_A_DEV_VNI]	= { MNL_TYPE_U32 },
};

static void dev_parse(const struct nlattr **tb, struct kdev *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s",
		 mnl_attr_get_str(tb[VRDMA_A_DEV_NAME]));
	if (tb[VRDMA_A_DEV_INDEX])
		d->index = mnl_attr_get_u32(tb[VRDMA_A_DEV_INDEX]);
	if (tb[VRDMA_A_DEV_NETDEV]) {
		snprintf(d->netdev, sizeof(d->netdev), "%s",
			 mnl_attr_get_str(tb[VRDMA_A_DEV_NETDEV]));
		d->has_netdev = true;
	}
	if (tb[VRDMA_A_DEV_VNI])
		d->vni = mnl_attr_get_u32(tb[VRDMA_A_DEV_VNI]);
}

static int dev_new_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_DEV_MAX + 1];

	if (nl_parse(nlh, dev_pol, VRDMA_A_DEV_MAX, tb))
		return MNL_CB_ERROR;
	if (!tb[VRDMA_A_DEV_NAME] || !tb[VRDMA_A_DEV_INDEX]) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	dev_parse(tb, data);
	return MNL_CB_OK;
}

int kdev_delete(struct agent *a, const char *name, char *err, size_t errlen)
{
	struct nlmsghdr *nlh;
	int ret;

	if (a->sink) {
		fprintf(a->sink, "%.6f dev-del %s\n", now_real(), name);
		fflush(a->sink);
		return 0;
	}
	nlh = nl_msg(&a->nl, VRDMA_CMD_DEV_DEL, 0);
	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_NAME, name))
		return -ENAMETOOLONG;
	ret = nl_request(&a->nl, nlh, NULL, NULL);
	if (ret)
		nl_err(&a->nl, ret, err, errlen, "deleting the device");
	return ret;
}

int kdev_create(struct agent *a, const struct dev_req *req, struct kdev *out,
		char *err, size_t errlen)
{
	struct nlmsghdr *nlh;
	char derr[256];
	int ret;

	if (a->sink) {
		static unsigned int dry_index;

		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%sdry%u",
			 a->cfg.dev_prefix, ++dry_index);
		out->index = dry_index;
		fprintf(a->sink, "%.6f dev-add %s\n", now_real(), out->name);
		fflush(a->sink);
		return 0;
	}
	nlh = nl_msg(&a->nl, VRDMA_CMD_DEV_NEW, 0);
	if (!mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_NAME,
				     req->name) ||
	    !mnl_attr_put_strz_check(nlh, NL_MSG_SIZE, VRDMA_A_DEV_NETDEV,
				     req->netdev) ||
	    (req->phys && !mnl_attr_put_strz_check(nlh, NL_MSG_SIZE,
						   VRDMA_A_DEV_PHYS,
						   req->phys))) {
		snprintf(err, errlen, "device request too long");
		return -ENAMETOOLONG;
	}
	mnl_attr_put_u32(nlh, VRDMA_A_DEV_NETNS_FD, req->netns_fd);
	mnl_attr_put_u32(nlh, VRDMA_A_DEV_VNI, req->vni);
	ret = nl_request(&a->nl, nlh, dev_new_cb, out);
	if (ret) {
		nl_err(&a->nl, ret, err, errlen, "creating the device");
		return ret;
	}
	if (!req->exclusive)
		return 0;
	ret = rdma_dev_set_netns(&a->rdma, out->index, req->netns_fd);
	if (!ret)
		return 0;
	nl_err(&a->rdma, ret, err, errlen,
	       "moving the device into the pod's namespace");
	if (kdev_delete(a, out->name, derr, sizeof(derr)))
		log_msg(LOG_ERR, "dev-del", "%s left behind after a failed move: %s",
			out->name, derr);
	return ret;
}

struct dev_list {
	struct kdev *devs;
	int nr, cap;
};

static int dev_list_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VRDMA_A_DEV_MAX + 1];
	struct dev_list *l = data;
	struct kdev *n;

	if (nl_parse(nlh, dev_pol, VRDMA_A_DEV_MAX, tb))
		return MNL_CB_ERROR;
	if (!tb[VRDMA_A_DEV_NAME])
		return MNL_CB_OK;
	if (l->nr == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		n = realloc(l->devs, l->cap * sizeof(*n));
		if (!n) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		l->devs = n;
	}
	dev_parse(tb, &l->devs[l->nr++]);
	return MNL_CB_OK;
}

int kdev_list(struct agent *a, struct kdev **devs, int *nr)
{
	struct dev_list l = { 0 };
	struct nlmsghdr *nlh;
	int ret = 0, tries;

	*devs = NULL;
	*nr = 0;
	if (a->sink)
		return 0;
	for (tries = 0; tries < 5; tries++) {
		l.nr = 0;
		nlh = nl_msg(&a->nl, VRDMA_CMD_DEV_GET, NLM_F_DUMP);
		ret = nl_request(&a->nl, nlh, dev_list_cb, &l);
		if (ret != -EINTR)
			break;
	}
	if (ret) {
		free(l.devs);
		return ret;
	}
	*devs = l.devs;
	*nr = l.nr;
	return 0;
}
