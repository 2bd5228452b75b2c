// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's configuration file (INI, read with inih).  Every value is
 * checked; an unknown section or key, or a bad value, fails the load with
 * its line number.  Documentation/control-plane.rst lists every key.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "agent.h"
#include "parse.h"

struct load {
	struct agent_cfg *cfg;
	char err[256];
};

static int copy(const char *v, char *out, size_t len)
{
	if (!*v || strlen(v) >= len)
		return -1;
	strcpy(out, v);
	return 0;
}

/* A comma-separated list, blanks around items ignored. */
static int split_list(const char *v, char **items, int max, int *nr)
{
	char *dup = strdup(v), *save = NULL, *tok;
	int n = 0;

	if (!dup)
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*tok || n == max) {
			free(dup);
			while (n)
				free(items[--n]);
			return -1;
		}
		items[n++] = strdup(tok);
	}
	free(dup);
	*nr = n;
	return n ? 0 : -1;
}

static int set_addrs(struct agent_cfg *cfg, const char *v)
{
	char *items[HOST_ADDRS_MAX];
	int i, n, ret = 0;

	if (split_list(v, items, HOST_ADDRS_MAX, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (parse_addr(items[i], &cfg->addrs[i]) ||
		    addr_refused(&cfg->addrs[i], true))
			ret = -1;
		free(items[i]);
	}
	cfg->nr_addrs = ret ? 0 : n;
	return ret;
}

static int set_path(char **dst, const char *v)
{
	if (!*v || *v != '/')
		return -1;
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

static int handler(void *user, const char *section, const char *name,
		   const char *v)
{
	struct load *l = user;
	struct agent_cfg *c = l->cfg;
	struct etcd_cfg *ec = &c->etcd;
	const char *want = NULL;
	bool b;
	int ret = 0, ms;

	if (!strcmp(section, "agent")) {
		if (!strcmp(name, "host")) {
			want = "a host name: 1-63 of letters, digits, '.', '-', '_'";
			ret = copy(v, c->host, sizeof(c->host)) ||
			      !name_ok(v, HOST_NAME_MAX_LEN);
		} else if (!strcmp(name, "address")) {
			want = "1 to 4 routable IPv4 or IPv6 addresses, comma separated";
			ret = set_addrs(c, v);
		} else if (!strcmp(name, "phys")) {
			want = "an RDMA device name";
			ret = copy(v, c->phys, sizeof(c->phys));
		} else if (!strcmp(name, "device-prefix")) {
			want = "1-8 lowercase letters";
			ret = copy(v, c->dev_prefix, sizeof(c->dev_prefix)) ||
			      strlen(v) > 8 || strspn(v, "abcdefghijklmnopqrstuvwxyz") != strlen(v);
		} else if (!strcmp(name, "lease-ttl")) {
			want = "seconds, 2 to 3600";
			ret = parse_secs_ms(v, 2000, 3600000, &ms);
			c->ttl = ms / 1000;
		} else if (!strcmp(name, "resync-interval")) {
			want = "seconds, 0 (never) or 10 to 86400";
			ret = parse_secs_ms(v, 0, 86400000, &ms) ||
			      (ms && ms < 10000);
			c->resync = ms / 1000;
		} else if (!strcmp(name, "socket")) {
			want = "an absolute path of at most 107 bytes";
			ret = *v != '/' || copy(v, c->socket, sizeof(c->socket));
		} else if (!strcmp(name, "state-dir")) {
			want = "an absolute path";
			ret = *v != '/' || copy(v, c->state_dir, sizeof(c->state_dir));
		} else if (!strcmp(name, "log-format")) {
			want = "text or json";
			if (!strcmp(v, "json"))
				log_cfg.json = true;
			else if (!strcmp(v, "text"))
				log_cfg.json = false;
			else
				ret = -1;
		} else if (!strcmp(name, "log-level")) {
			want = "error, warning, info or debug";
			ret = log_level_parse(v, &log_cfg.level);
		} else if (!strcmp(name, "dry-run")) {
			want = "yes or no";
			ret = parse_bool(v, &c->dry_run);
		} else if (!strcmp(name, "sink")) {
			want = "an absolute path";
			ret = *v != '/' || copy(v, c->sink, sizeof(c->sink));
		} else {
			goto unknown;
		}
	} else if (!strcmp(section, "etcd")) {
		if (!strcmp(name, "endpoints")) {
			want = "1 to 16 URLs, comma separated";
			while (ec->nr_endpoints)
				free(ec->endpoints[--ec->nr_endpoints]);
			ret = split_list(v, ec->endpoints, ETCD_MAX_ENDPOINTS,
					 &ec->nr_endpoints);
		} else if (!strcmp(name, "prefix")) {
			want = "a key prefix starting with '/', without a trailing '/', printable, no blanks";
			ret = copy(v, c->prefix, sizeof(c->prefix)) ||
			      *v != '/' || (strlen(v) > 1 && v[strlen(v) - 1] == '/');
			for (const char *p = v; !ret && *p; p++)
				ret = !isgraph((unsigned char)*p);
			if (!ret && !strcmp(v, "/"))
				c->prefix[0] = '\0';
		} else if (!strcmp(name, "cacert")) {
			want = "an absolute path";
			ret = set_path(&ec->cacert, v);
		} else if (!strcmp(name, "cert")) {
			want = "an absolute path";
			ret = set_path(&ec->cert, v);
		} else if (!strcmp(name, "key")) {
			want = "an absolute path";
			ret = set_path(&ec->key, v);
		} else if (!strcmp(name, "plaintext")) {
			want = "yes or no";
			ret = parse_bool(v, &b);
			ec->plaintext = b;
		} else if (!strcmp(name, "timeout")) {
			want = "seconds, 0.1 to 60";
			ret = parse_secs_ms(v, 100, 60000, &ec->timeout_ms);
		} else if (!strcmp(name, "connect-timeout")) {
			want = "seconds, 0.1 to 60";
			ret = parse_secs_ms(v, 100, 60000, &ec->connect_timeout_ms);
		} else if (!strcmp(name, "retry-deadline")) {
			want = "seconds, 0 (no retries) to 300";
			ret = parse_secs_ms(v, 0, 300000, &ec->retry_ms);
		} else {
			goto unknown;
		}
	} else {
		snprintf(l->err, sizeof(l->err), "unknown section [%s]",
			 section);
		return 0;
	}
	if (ret) {
		snprintf(l->err, sizeof(l->err), "[%s] %s = %s: expected %s",
			 section, name, v, want);
		return 0;
	}
	return 1;
unknown:
	snprintf(l->err, sizeof(l->err), "unknown key '%s' in [%s]", name,
		 section);
	return 0;
}

void config_defaults(struct agent_cfg *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->prefix, "/vrdma");
	strcpy(c->dev_prefix, "vrp");
	strcpy(c->socket, AGENT_SOCKET);
	strcpy(c->state_dir, AGENT_STATE_DIR);
	c->ttl = 10;
	c->etcd.timeout_ms = 2000;
	c->etcd.connect_timeout_ms = 1000;
	c->etcd.retry_ms = 10000;
}

int config_load(struct agent_cfg *cfg, const char *path, char *err,
		size_t errlen)
{
	struct load l = { .cfg = cfg };
	int ret = ini_parse(path, handler, &l);

	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ?: ENOENT));
		return -ENOENT;
	}
	if (ret > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, ret,
			 l.err[0] ? l.err : "syntax error");
		return -EINVAL;
	}
	return 0;
}

/*
 * The routable RoCE v2 GIDs of port 1 of @phys, from sysfs (IPv4 first):
 * the addresses other hosts reach this RNIC at.
 */
static int phys_addrs(struct agent_cfg *c, char *err, size_t errlen)
{
	struct in6_addr v6[HOST_ADDRS_MAX];
	int n4 = 0, n6 = 0, i;
	char path[256], buf[64];

	for (i = 0; i < 256; i++) {
		struct in6_addr a;
		FILE *f;

		snprintf(path, sizeof(path),
			 "/sys/class/infiniband/%s/ports/1/gid_attrs/types/%d",
			 c->phys, i);
		f = fopen(path, "r");
		if (!f)
			continue;	/* empty slots read as EINVAL */
		if (!fgets(buf, sizeof(buf), f) || strncmp(buf, "RoCE v2", 7)) {
			fclose(f);
			continue;
		}
		fclose(f);
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband/%s/ports/1/gids/%d", c->phys, i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = '\0';
			if (!inet_pton(AF_INET6, buf, &a) ||
			    addr_refused(&a, true)) {
				fclose(f);
				continue;
			}
			if (IN6_IS_ADDR_V4MAPPED(&a) && n4 < HOST_ADDRS_MAX)
				c->addrs[n4++] = a;
			else if (!IN6_IS_ADDR_V4MAPPED(&a) && n6 < HOST_ADDRS_MAX)
				v6[n6++] = a;
		}
		fclose(f);
	}
	for (i = 0; i < n6 && n4 < HOST_ADDRS_MAX; i++)
		c->addrs[n4++] = v6[i];
	c->nr_addrs = n4;
	if (!n4) {
		snprintf(err, errlen,
			 "physical device %s has no routable RoCE v2 address: configure 'address' in [agent]",
			 c->phys);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

int config_finish(struct agent_cfg *c, char *err, size_t errlen)
{
	if (!c->host[0]) {
		if (gethostname(c->host, sizeof(c->host)) ||
		    !name_ok(c->host, HOST_NAME_MAX_LEN)) {
			snprintf(err, errlen,
				 "the host name '%s' cannot be an etcd key part: set 'host' in [agent]",
				 c->host);
			return -EINVAL;
		}
	}
	if (!c->etcd.nr_endpoints) {
		snprintf(err, errlen, "[etcd] endpoints is required");
		return -EINVAL;
	}
	if (c->dry_run) {
		if (!c->sink[0]) {
			snprintf(err, errlen, "dry-run needs 'sink' in [agent]");
			return -EINVAL;
		}
		if (!c->nr_addrs) {
			snprintf(err, errlen, "dry-run needs 'address' in [agent]");
			return -EINVAL;
		}
		return 0;
	}
	if (!c->nr_addrs) {
		if (!c->phys[0]) {
			snprintf(err, errlen,
				 "no physical device to take the host address from: set 'address' or 'phys' in [agent], or the module's default physical device");
			return -EINVAL;
		}
		return phys_addrs(c, err, errlen);
	}
	return 0;
}
