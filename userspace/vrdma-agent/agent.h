/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrdma-agent: the node agent of vrdma's control plane
 * (Documentation/control-plane.rst).
 *
 * One agent runs on each host.  It registers the host in etcd under a
 * lease it keeps alive, publishes the endpoints (VNI, overlay address ->
 * this host's RNIC address) of the virtual devices it creates for the CNI
 * plugin, and programs every other host's endpoints into the kernel's
 * address map (or a dry-run sink), from a list and then a watch.
 *
 * etcd layout, under a prefix (default /vrdma):
 *   hosts/HOST                    host record, under the host's lease
 *   endpoints/VNI/ADDR            endpoint, under its host's lease
 *   pods/HOST/CONTAINER/IFNAME    a pod's device on HOST, no lease
 */

#ifndef VRDMA_AGENT_H
#define VRDMA_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

#include "etcd.h"
#include "log.h"
#include "nl.h"

#define AGENT_VERSION		VRDMACTL_VERSION
#define AGENT_CONF		"/etc/vrdma/agent.conf"
#define AGENT_SOCKET		"/run/vrdma/agent.sock"
#define AGENT_STATE_DIR		"/run/vrdma-agent"

#define HOST_NAME_MAX_LEN	63
#define CID_MAX_LEN		128
#define IFNAME_LEN		16
#define DEV_NAME_LEN		64
#define POD_ADDRS_MAX		8
#define HOST_ADDRS_MAX		4
#define VNI_MAX			16777215u

struct agent_cfg {
	char host[HOST_NAME_MAX_LEN + 1];
	char prefix[128];		/* etcd key prefix, no trailing '/' */
	struct in6_addr addrs[HOST_ADDRS_MAX];	/* RNIC addresses; [0]: via */
	int nr_addrs;
	char phys[DEV_NAME_LEN];	/* "" : the module's default */
	char dev_prefix[16];		/* our devices: PREFIX%d */
	int ttl;			/* lease, seconds */
	int resync;			/* full reconcile period, s; 0: never */
	char socket[108];
	char state_dir[256];
	bool dry_run;			/* no kernel: a sink file */
	char sink[256];
	struct etcd_cfg etcd;
};

/* config.c */
int config_load(struct agent_cfg *cfg, const char *path, char *err,
		size_t errlen);
void config_defaults(struct agent_cfg *cfg);
/* Finish (host name, addresses from the physical device); 0 or -errno. */
int config_finish(struct agent_cfg *cfg, char *err, size_t errlen);

/* One (vni, overlay address) of the cluster, as known here. */
struct ent {
	struct ent *next;		/* hash chain */
	uint32_t vni;
	struct in6_addr addr;
	/* What etcd says (want) and what the kernel has (have). */
	bool want, have;
	bool owned;			/* put into the kernel by this agent */
	struct in6_addr via_want, via_have;
	char host[HOST_NAME_MAX_LEN + 1];
	int64_t mod_rev;
	double t_pub;			/* publisher's timestamp, 0 if none */
	bool seen;			/* reconcile mark */
};

struct table {
	struct ent **b;
	unsigned int nb, n;
};

struct ent *table_get(struct table *t, uint32_t vni,
		      const struct in6_addr *addr, bool create);
void table_del(struct table *t, struct ent *e);
#define table_for_each(t, i, e, tmp)					\
	for ((i) = 0; (i) < (t)->nb; (i)++)				\
		for ((e) = (t)->b[i]; (e) && ((tmp) = (e)->next, 1);	\
		     (e) = (tmp))

/* A device this agent created for a pod. */
struct pod {
	struct pod *next;
	char cid[CID_MAX_LEN + 1];
	char ifname[IFNAME_LEN];
	char netns[256];
	char dev[DEV_NAME_LEN];
	uint32_t index;
	uint32_t vni;
	bool exclusive;
	struct in6_addr addrs[POD_ADDRS_MAX];
	int nr_addrs;
	char k8s_ns[64], k8s_name[254];
	double created;
	bool published;			/* endpoints in etcd under our lease */
	bool withdraw;			/* deleted; etcd keys still to remove */
	int64_t mod_rev;		/* revision of the last publish */
};

enum agent_state {
	ST_CONNECTING,		/* no lease yet */
	ST_SYNCING,		/* lease; local and remote state to reconcile */
	ST_READY,		/* watching */
};

struct agent {
	struct agent_cfg cfg;
	struct etcd etcd;
	struct nl nl;			/* the vrdma family (not in dry run) */
	struct nl rdma;			/* ib_core's netlink */
	FILE *sink;
	FILE *journal;
	enum agent_state state;
	int64_t lease;
	int64_t lease_ttl;		/* as last reported */
	double next_keepalive;
	double next_retry;
	double next_devcheck;
	double next_resync;
	double watch_backoff;		/* next wait before a restart */
	double watch_at;		/* restart the watch then */
	int64_t watch_rev;		/* events up to here are applied */
	bool resync_needed;
	bool lease_lost;		/* etcd said "lease not found" */
	struct table t;
	struct pod *pods;
	int ctl_fd;
	int sig_fd;
#define STALE_MAX	256
	struct {
		char *key;		/* an endpoint key to delete... */
		int64_t mod_rev;	/* ...if still at this revision */
	} stale[STALE_MAX];
	int nr_stale;
	bool stop;
	/* Statistics. */
	double started;
	uint64_t map_adds, map_dels, map_errors, bad_values, events;
	uint64_t reconciles, foreign;
	double last_reconcile, last_reconcile_ms;
	uint64_t lease_losses, watch_restarts, compactions;
	unsigned int nr_want, nr_have;
};

double now_real(void);
double now_mono(void);

/* kernel.c: the vrdma family (or the dry-run sink). */
int kernel_open(struct agent *a, char *err, size_t errlen);
/* The host's physical RoCE devices (names; empty in a dry run). */
struct json_object *kernel_phys_list(struct agent *a);
/* The module's default physical device into @buf ("" if none). */
void kernel_default_phys(struct agent *a, char *buf, size_t len);
void kernel_close(struct agent *a);
int kmap_set(struct agent *a, struct ent *e);
int kmap_clear(struct agent *a, struct ent *e);
/* Every explicit entry of the kernel map; marks them have. */
int kmap_load(struct agent *a);

struct dev_req {
	const char *name;		/* template, "%d" allowed */
	int netns_fd;
	const char *netdev;
	const char *phys;		/* NULL: default */
	uint32_t vni;
	bool exclusive;			/* move it into the namespace */
};
struct kdev {
	char name[DEV_NAME_LEN];
	uint32_t index;
	char netdev[IFNAME_LEN];
	uint32_t vni;
	bool has_netdev;
};
int kdev_create(struct agent *a, const struct dev_req *req, struct kdev *out,
		char *err, size_t errlen);
int kdev_delete(struct agent *a, const char *name, char *err, size_t errlen);
/* All virtual devices; *@devs malloc'd. */
int kdev_list(struct agent *a, struct kdev **devs, int *nr);
int rdma_exclusive(struct agent *a, bool *exclusive, char *err,
		   size_t errlen);

/* journal.c: the map entries this agent put into the kernel. */
int journal_open(struct agent *a);
void journal_add(struct agent *a, const struct ent *e);
void journal_del(struct agent *a, const struct ent *e);
/* Rewrite it from the table (entries with have). */
int journal_compact(struct agent *a);

/* sync.c: endpoints (remote) and their reconciliation. */
void ep_key(const struct agent *a, char *buf, size_t len, uint32_t vni,
	    const struct in6_addr *addr);
/* Parse an endpoint key; 0 or -EINVAL with @why. */
int ep_parse_key(const struct agent *a, const char *key, uint32_t *vni,
		 struct in6_addr *addr, const char **why);
int full_reconcile(struct agent *a);
void watch_cb(struct etcd *e, struct json_object *msg, void *data);
void sync_apply_want(struct agent *a, struct ent *e);

/* pods.c: local devices. */
struct json_object *pod_add(struct agent *a, struct json_object *req);
struct json_object *pod_del(struct agent *a, struct json_object *req);
struct json_object *pod_check(struct agent *a, struct json_object *req);
int pods_reconcile(struct agent *a);
void pods_retry(struct agent *a);
void pods_devcheck(struct agent *a);
int pods_publish_all(struct agent *a);
/* An endpoint of ours changed in etcd (deleted, overwritten). */
void pods_own_event(struct agent *a, uint32_t vni,
		    const struct in6_addr *addr, bool deleted,
		    const char *host, const char *cid, int64_t mod_rev);
struct json_object *pods_status(struct agent *a);
unsigned int pods_count(const struct agent *a);

/* ctl.c: the control socket. */
int ctl_open(struct agent *a, char *err, size_t errlen);
void ctl_accept(struct agent *a);
void ctl_close(struct agent *a);

/* main.c */
int host_register(struct agent *a);
/* The lease expired: a new one, the host and its pods again; 0 or -errno. */
int lease_replace(struct agent *a);
struct json_object *agent_status(struct agent *a);
/* A CNI-style error answer. */
struct json_object *answer_err(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Error codes of control answers (CNI error codes for the plugin). */
enum {
	ERR_INTERNAL = 999,
	ERR_INVALID = 7,		/* CNI: invalid network config */
	ERR_TRY_LATER = 11,		/* CNI: try again later */
	ERR_IO = 5,			/* CNI: I/O failure */
	ERR_UNKNOWN_CONTAINER = 3,
	ERR_CONFLICT = 100,		/* plugin-specific from 100 on */
	ERR_DEVICE = 101,
	ERR_NETNS = 102,
	ERR_EXISTS = 103,
	ERR_NOT_READY = 104,
};

/* Address checks like the kernel's (vrdma_map_addr_check()). */
bool addr_is_unicast(const struct in6_addr *a);
bool addr_is_routable(const struct in6_addr *a);
/* A host name: 1-63 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool name_ok(const char *s, size_t max);

#endif /* VRDMA_AGENT_H */
