// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration file (INI, read with inih).  Every value is checked;
 * an unknown section or key, a malformed or out-of-range value fails the
 * load with its line number.  Times are in seconds (decimals allowed)
 * unless the key ends in -ms.  Documentation/sleep.rst lists every key.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "sleepd.h"

struct load {
	struct config *cfg;
	char err[256];
};

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") ||
	    !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
		 !strcmp(v, "0") || !strcmp(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_int(const char *v, long min, long max, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Seconds (decimals allowed) into milliseconds in [min_ms, max_ms]. */
static int parse_secs(const char *v, long min_ms, long max_ms, int *out)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(s) ||
	    s * 1000 < min_ms || s * 1000 > max_ms)
		return -1;
	*out = (int)(s * 1000 + 0.5);
	return 0;
}

static int parse_str(const char *v, char *out, size_t len)
{
	if (strlen(v) >= len)
		return -1;
	strcpy(out, v);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_key(const char *v, uint8_t *key)
{
	size_t i;

	if (strlen(v) != 2 * SLEEPD_KEY_LEN)
		return -1;
	for (i = 0; i < SLEEPD_KEY_LEN; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = hi << 4 | lo;
	}
	return 0;
}

static int parse_key_file(const char *path, uint8_t *key)
{
	char buf[2 * SLEEPD_KEY_LEN + 2];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 2 * SLEEPD_KEY_LEN)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return parse_key(buf, key);
}

/* An address, IPv4 stored IPv4-mapped. */
static int parse_addr6(const char *s, struct in6_addr *a)
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = 0xff;
		a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, a) == 1 ? 0 : -1;
}

/* A comma or space separated list of addresses. */
static int parse_addr_list(const char *v, struct in6_addr *out, int max,
			   int *n)
{
	char buf[2048], *tok, *save = NULL;

	if (parse_str(v, buf, sizeof(buf)))
		return -1;
	*n = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (*n == max || parse_addr6(tok, &out[*n]))
			return -1;
		(*n)++;
	}
	return 0;
}

static int parse_port_list(const char *v, uint16_t *out, int max, int *n)
{
	char buf[2048], *tok, *save = NULL;
	int port;

	if (!strcmp(v, "auto")) {
		*n = -1;
		return 0;
	}
	if (parse_str(v, buf, sizeof(buf)))
		return -1;
	*n = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (*n == max || parse_int(tok, 1, 65535, &port))
			return -1;
		out[(*n)++] = port;
	}
	return 0;
}

/* Names: printable ASCII, no spaces. */
static int parse_name(const char *v, char *out)
{
	const char *c;

	if (!*v || strlen(v) >= SLEEPD_NAME_LEN)
		return -1;
	for (c = v; *c; c++)
		if (!isgraph((unsigned char)*c))
			return -1;
	strcpy(out, v);
	return 0;
}

/* A MAC address (the SecureOn password has that form): xx:xx:xx:xx:xx:xx. */
static int parse_mac(const char *v, uint8_t *out)
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 || strlen(v) != 17)
		return -1;
	for (i = 0; i < 6; i++)
		out[i] = b[i];
	return 0;
}

/* Arguments of another host's fallback command: printable ASCII. */
static int parse_args(const char *v, char *out)
{
	const char *c;

	if (strlen(v) >= SLEEPD_ARGS_LEN)
		return -1;
	for (c = v; *c; c++)
		if (!isprint((unsigned char)*c))
			return -1;
	strcpy(out, v);
	return 0;
}

#define KEY(s, k)	(!strcmp(section, s) && !strcmp(name, k))

static int handler(void *user, const char *section, const char *name,
		   const char *v)
{
	struct load *l = user;
	struct config *c = l->cfg;
	int ret = -2, n;

	if (KEY("daemon", "name"))
		ret = parse_name(v, c->name);
	else if (KEY("daemon", "id"))
		ret = parse_int(v, 1, 0x7fffffff, &n) ?: (c->id = n, 0);
	else if (KEY("daemon", "interface"))
		ret = parse_str(v, c->ifname, sizeof(c->ifname));
	else if (KEY("daemon", "control-socket"))
		ret = parse_str(v, c->control, sizeof(c->control));
	else if (KEY("daemon", "log"))
		ret = parse_str(v, c->log_path, sizeof(c->log_path));
	else if (KEY("daemon", "log-level")) {
		static const char *const levels[] = {
			"error", "warning", "info", "debug",
		};
		ret = -1;
		for (n = 0; n < (int)ARRAY_SIZE(levels); n++)
			if (!strcmp(v, levels[n])) {
				c->log_level = n;
				ret = 0;
			}
	} else if (KEY("group", "address"))
		ret = inet_pton(AF_INET, v, &c->group) == 1 ? 0 : -1;
	else if (KEY("group", "port"))
		ret = parse_int(v, 1, 65535, &n) ?: (c->port = n, 0);
	else if (KEY("group", "key"))
		ret = parse_key(v, c->key) ?: (c->has_key = true, 0);
	else if (KEY("group", "key-file"))
		ret = parse_key_file(v, c->key) ?: (c->has_key = true, 0);
	else if (KEY("timers", "hello-interval"))
		ret = parse_secs(v, 50, 3600000, &c->hello_ms);
	else if (KEY("timers", "probe-interval"))
		ret = parse_secs(v, 50, 3600000, &c->probe_ms);
	else if (KEY("timers", "probes-per-period"))
		ret = parse_int(v, 0, 1000, &c->probes);
	else if (KEY("timers", "probe-timeout"))
		ret = parse_secs(v, 10, 600000, &c->probe_timeout_ms);
	else if (KEY("timers", "dead-after"))
		ret = parse_secs(v, 100, 3600000, &c->dead_ms);
	else if (KEY("timers", "intent-wait"))
		ret = parse_secs(v, 10, 600000, &c->intent_ms);
	else if (KEY("manage", "can-manage"))
		ret = parse_bool(v, &c->can_manage);
	else if (KEY("manage", "guardians"))
		ret = parse_int(v, 0, SLEEPD_MAX_PEERS, &c->guardians);
	else if (KEY("manage", "wake-interval"))
		ret = parse_secs(v, 0, 3600000, &c->wake_interval_ms);
	else if (KEY("manage", "wakes-per-minute"))
		ret = parse_int(v, 1, 600, &c->wakes_per_min);
	else if (KEY("manage", "wake-timeout"))
		ret = parse_secs(v, 100, 3600000, &c->wake_timeout_ms);
	else if (KEY("wake", "secureon"))
		ret = parse_mac(v, c->secureon) ?: (c->has_secureon = true, 0);
	else if (KEY("wake", "fallback-args"))
		ret = parse_args(v, c->fallback_args);
	else if (KEY("wake", "fallback-command"))
		ret = parse_str(v, c->fallback_cmd, sizeof(c->fallback_cmd));
	else if (KEY("wake", "fallback-after"))
		ret = parse_secs(v, 0, 3600000, &c->fallback_after_ms);
	else if (KEY("wake", "fallback-interval"))
		ret = parse_secs(v, 1000, 86400000, &c->fallback_interval_ms);
	else if (KEY("sleep", "idle-sleep"))
		ret = parse_secs(v, 0, 86400000, &c->idle_sleep_ms);
	else if (KEY("sleep", "activity-window"))
		ret = parse_secs(v, 1, 86400000, &c->activity_window_ms);
	else if (KEY("sleep", "sleep-command"))
		ret = parse_str(v, c->sleep_cmd, sizeof(c->sleep_cmd));
	else if (KEY("sleep", "rdma-addresses"))
		ret = parse_addr_list(v, c->rdma, SLEEPD_MAX_RDMA, &c->n_rdma);
	else if (KEY("sleep", "overlay-addresses"))
		ret = parse_addr_list(v, c->overlay, SLEEPD_MAX_OVERLAY,
				      &c->n_overlay);
	else if (KEY("sleep", "ports"))
		ret = parse_port_list(v, c->ports, SLEEPD_MAX_PORTS,
				      &c->n_ports);
	else if (KEY("kernel", "phys"))
		ret = parse_str(v, c->phys, sizeof(c->phys));
	else if (KEY("kernel", "wake-timeout"))
		ret = parse_secs(v, 0, 60000, &c->kernel_wake_timeout_ms);
	else if (KEY("kernel", "event-interval"))
		ret = parse_secs(v, 10, 60000, &c->event_interval_ms);
	else if (KEY("test", "enabled"))
		ret = parse_bool(v, &c->test);
	else if (KEY("test", "resume-delay"))
		ret = parse_secs(v, 0, 600000, &c->resume_delay_ms);
	else if (KEY("test", "freeze")) {
		ret = 0;
		if (!strcmp(v, "netns"))
			c->freeze_netns = true;
		else if (!strcmp(v, "none"))
			c->freeze_netns = false;
		else
			ret = -1;
	} else if (KEY("test", "freeze-pidfile"))
		ret = parse_str(v, c->freeze_pidfile, sizeof(c->freeze_pidfile));
	else if (KEY("test", "drop"))
		ret = parse_bool(v, &c->drop);
	else if (KEY("test", "wake-on-lan"))
		ret = parse_bool(v, &c->wol);
	else if (KEY("test", "sleep-hook"))
		ret = parse_str(v, c->sleep_hook, sizeof(c->sleep_hook));
	else if (KEY("test", "wake-hook"))
		ret = parse_str(v, c->wake_hook, sizeof(c->wake_hook));

	if (ret == -2)
		snprintf(l->err, sizeof(l->err), "unknown key '%s' in [%s]",
			 name, section);
	else if (ret)
		snprintf(l->err, sizeof(l->err), "invalid value '%s' for %s",
			 v, name);
	return ret == 0;
}

static void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->control, "/run/vrdma-sleepd.sock");
	c->log_level = LOG_INFO;
	inet_pton(AF_INET, "239.255.77.77", &c->group);
	c->port = 7789;
	c->hello_ms = 5000;
	c->probe_ms = 5000;
	c->probes = 3;
	c->probe_timeout_ms = 1000;
	c->dead_ms = 15000;
	c->intent_ms = 1000;
	c->can_manage = true;
	c->guardians = 1;
	c->wake_interval_ms = 1000;
	c->wakes_per_min = 10;
	c->wake_timeout_ms = 120000;
	c->fallback_after_ms = 10000;
	c->fallback_interval_ms = 60000;
	c->activity_window_ms = 60000;
	strcpy(c->sleep_cmd, "systemctl suspend");
	c->n_ports = -1;
	c->kernel_wake_timeout_ms = -1;
	c->event_interval_ms = 200;
	c->resume_delay_ms = 1000;
	c->freeze_netns = true;
	c->drop = true;
	c->wol = true;
}

/* Load and check @path.  Returns 0, or -1 after printing why. */
int config_load(struct config *cfg, const char *path)
{
	struct load l = { .cfg = cfg };
	int line;

	config_defaults(cfg);
	line = ini_parse(path, handler, &l);
	if (line < 0) {
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (line > 0) {
		fprintf(stderr, PROG ": %s:%d: %s\n", path, line,
			l.err[0] ? l.err : "syntax error");
		return -1;
	}
	if (!cfg->ifname[0]) {
		fprintf(stderr, PROG ": %s: [daemon] interface is required\n",
			path);
		return -1;
	}
	if (!cfg->has_key) {
		fprintf(stderr, PROG ": %s: [group] key or key-file is required\n",
			path);
		return -1;
	}
	if (cfg->dead_ms <= cfg->hello_ms) {
		fprintf(stderr, PROG ": %s: dead-after must exceed hello-interval\n",
			path);
		return -1;
	}
	return 0;
}
