// SPDX-License-Identifier: GPL-2.0
/*
 * vrdma-agent: command line, start-up and the event loop.
 *
 *   vrdma-agent [-c CONFIG] [-j] [-v] [-t]
 *
 * The loop waits on the etcd watch stream, the control socket and a
 * signalfd, with a time limit set by the next timed task: lease
 * keep-alive (every third of the TTL), retries of pending publications
 * and withdrawals, the check of the pods' devices, the periodic resync.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "agent.h"
#include "parse.h"

double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char usage[] =
	"Usage: vrdma-agent [ -c CONFIG ] [ -j ] [ -v ] [ -t ]\n"
	"  -c, --config FILE   configuration (default " AGENT_CONF ")\n"
	"  -j, --json-log      log JSON lines (log-format = json)\n"
	"  -v, --verbose       log debug records too\n"
	"  -t, --test          check the configuration and exit\n"
	"  -V, --version       print the version and exit\n"
	"See Documentation/control-plane.rst.\n";

static void lease_path(const struct agent *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s/lease", a->cfg.state_dir);
}

/* The lease's id and the TTL it was granted with: "ID TTL". */
static void lease_save(struct agent *a)
{
	char path[300];
	FILE *f;

	lease_path(a, path, sizeof(path));
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%lld %d\n", (long long)a->lease, a->cfg.ttl);
		fclose(f);
	}
}

int host_register(struct agent *a)
{
	struct json_object *o = json_object_new_object(), *arr;
	char key[256], sa[ADDR_STRLEN];
	int i, ret;

	arr = json_object_new_array();
	for (i = 0; i < a->cfg.nr_addrs; i++)
		json_object_array_add(arr, json_object_new_string(
				      format_addr(&a->cfg.addrs[i], sa)));
	jadd_str(o, "host", a->cfg.host);
	json_object_object_add(o, "addrs", arr);
	if (a->cfg.phys[0])
		jadd_str(o, "phys", a->cfg.phys);
	json_object_object_add(o, "phys_devices", kernel_phys_list(a));
	jadd_str(o, "version", AGENT_VERSION);
	jadd_int(o, "ttl", a->cfg.ttl);
	json_object_object_add(o, "started", json_object_new_double(a->started));
	snprintf(key, sizeof(key), "%s/hosts/%s", a->cfg.prefix, a->cfg.host);
	ret = etcd_put(&a->etcd, key, json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		       a->lease);
	json_object_put(o);
	return ret;
}

/*
 * A lease: the one of a previous run if it still lives and was granted
 * with the configured TTL, else a new one.  (A lease of another TTL would
 * be kept alive at the wrong pace: expire between two keep-alives, or
 * outlive a dead host longer than configured.)  An old lease left behind
 * expires by itself, once the host's keys are published again under the
 * new one.
 */
static int lease_acquire(struct agent *a)
{
	char path[300];
	long long id = 0;
	int64_t ttl = 0;
	int old_ttl = 0;
	FILE *f;
	int ret;

	lease_path(a, path, sizeof(path));
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld %d", &id, &old_ttl) != 2)
			id = 0;
		fclose(f);
	}
	if (id > 0 && old_ttl != a->cfg.ttl) {
		log_msg(LOG_INFO, "lease",
			"lease %llx of the previous run has a TTL of %ds, the configuration %ds: taking a new one",
			id, old_ttl, a->cfg.ttl);
		id = 0;
	}
	if (id > 0) {
		ret = etcd_lease_keepalive(&a->etcd, id, &ttl);
		if (ret)
			return ret;
		if (ttl > 0) {
			a->lease = id;
			a->lease_ttl = ttl;
			log_msg(LOG_INFO, "lease",
				"kept lease %llx of the previous run (TTL %llds)",
				id, (long long)ttl);
			return 0;
		}
	}
	ret = etcd_lease_grant(&a->etcd, a->cfg.ttl, &a->lease);
	if (ret)
		return ret;
	a->lease_ttl = a->cfg.ttl;
	lease_save(a);
	log_msg(LOG_INFO, "lease", "granted lease %llx, TTL %ds",
		(long long)a->lease, a->cfg.ttl);
	return 0;
}

/* Each wait between retries of an etcd call (etcd_call()). */
static void retry_log(struct etcd *e, const char *path, int err, int attempt,
		      int delay_ms, int left_ms)
{
	log_msg(LOG_INFO, "etcd-retry",
		"%s%s%s%s: etcd %s: %s; attempt %d in %d ms (%.1f s left)",
		e->request ? "request " : "", e->request ? e->request : "",
		e->request ? ": " : "", path, etcd_what(err), e->err,
		attempt + 1, delay_ms, left_ms / 1000.0);
}

static void keepalive(struct agent *a)
{
	int64_t ttl;
	int ret;

	ret = etcd_lease_keepalive(&a->etcd, a->lease, &ttl);
	if (ret) {
		log_msg(LOG_WARN, "keepalive", "etcd %s: %s", etcd_what(ret),
			a->etcd.err);
		a->next_keepalive = now_mono() + 1;
		return;
	}
	a->lease_ttl = ttl;
	a->next_keepalive = now_mono() + a->cfg.ttl / 3.0;
	if (ttl > 0)
		return;
	lease_replace(a);
}

int lease_replace(struct agent *a)
{
	int ret;

	/* Expired (etcd unreachable too long): everything again. */
	a->lease_losses++;
	log_msg(LOG_WARN, "lease",
		"lease %llx expired: this host's endpoints were withdrawn; publishing again",
		(long long)a->lease);
	a->lease = 0;
	a->lease_lost = false;
	ret = etcd_lease_grant(&a->etcd, a->cfg.ttl, &a->lease);
	if (ret) {
		log_msg(LOG_WARN, "lease", "%s", a->etcd.err);
		a->next_keepalive = now_mono() + 1;
		return ret;
	}
	a->lease_ttl = a->cfg.ttl;
	a->next_keepalive = now_mono() + a->cfg.ttl / 3.0;
	lease_save(a);
	if (host_register(a))
		log_msg(LOG_WARN, "register", "%s", a->etcd.err);
	pods_publish_all(a);
	return 0;
}

static void start_watch(struct agent *a, bool next)
{
	char prefix[160];

	snprintf(prefix, sizeof(prefix), "%s/endpoints/", a->cfg.prefix);
	if (etcd_watch_start(&a->etcd, prefix, a->watch_rev + 1, next,
			     watch_cb, a))
		log_msg(LOG_ERR, "watch", "cannot start the watch");
	else
		log_msg(LOG_DEBUG, "watch", "watching %s from revision %lld on %s",
			prefix, (long long)a->watch_rev + 1,
			etcd_endpoint(&a->etcd));
}

/* Advance the state machine; returns seconds until it wants to run. */
static double step(struct agent *a)
{
	double now = now_mono();

	switch (a->state) {
	case ST_CONNECTING:
		if (now < a->next_retry)
			break;
		if (lease_acquire(a) || host_register(a)) {
			log_msg(LOG_WARN, "etcd", "cannot register: etcd %s: %s",
				etcd_what(a->etcd.last_fail), a->etcd.err);
			a->next_retry = now + 2;
			break;
		}
		a->state = ST_SYNCING;
		a->next_keepalive = now + a->cfg.ttl / 3.0;
		a->next_retry = 0;
		/* fall through */
	case ST_SYNCING:
		if (a->lease && now >= a->next_keepalive)
			keepalive(a);
		if (now < a->next_retry)
			break;
		etcd_watch_stop(&a->etcd);
		if (pods_reconcile(a) || full_reconcile(a)) {
			a->next_retry = now + 2;
			break;
		}
		a->resync_needed = false;
		a->state = ST_READY;
		a->watch_backoff = 0.5;
		a->next_retry = now + 2;
		a->next_devcheck = now + 5;
		a->next_resync = a->cfg.resync ? now + a->cfg.resync : 0;
		start_watch(a, false);
		log_msg(LOG_INFO, "ready", "%u local pods, %u remote endpoints",
			pods_count(a), a->nr_want);
		break;
	case ST_READY:
		if (a->lease_lost)
			lease_replace(a);
		else if (now >= a->next_keepalive)
			keepalive(a);
		if (a->etcd.watch_ended) {
			log_msg(LOG_WARN, "watch", "%s", a->etcd.watch_err);
			a->watch_restarts++;
			etcd_watch_stop(&a->etcd);
			a->etcd.watch_ended = false;
			if (a->resync_needed) {
				a->state = ST_SYNCING;
				a->next_retry = 0;
				return 0;
			}
			/* Again from the next revision, on the next member. */
			a->watch_at = now + a->watch_backoff;
			a->watch_backoff = a->watch_backoff < 2.5 ?
					   a->watch_backoff * 2 : 5;
		}
		if (!a->etcd.watch && now >= a->watch_at)
			start_watch(a, true);
		if (now >= a->next_retry) {
			pods_retry(a);
			a->next_retry = now + 2;
		}
		if (now >= a->next_devcheck) {
			pods_devcheck(a);
			a->next_devcheck = now + 5;
		}
		if (a->next_resync > 0 && now >= a->next_resync) {
			a->state = ST_SYNCING;
			a->next_retry = 0;
			return 0;
		}
		break;
	}
	return 0.5;
}

struct json_object *agent_status(struct agent *a)
{
	static const char *const states[] = {
		"connecting", "syncing", "ready",
	};
	struct json_object *o = json_object_new_object(), *e, *arr, *m;
	char sa[ADDR_STRLEN];
	int i;

	jadd_bool(o, "ok", true);
	jadd_str(o, "host", a->cfg.host);
	jadd_str(o, "version", AGENT_VERSION);
	jadd_str(o, "state", states[a->state]);
	arr = json_object_new_array();
	for (i = 0; i < a->cfg.nr_addrs; i++)
		json_object_array_add(arr, json_object_new_string(
				      format_addr(&a->cfg.addrs[i], sa)));
	json_object_object_add(o, "addrs", arr);
	jadd_int(o, "uptime_s", (int64_t)(now_real() - a->started));

	e = json_object_new_object();
	jadd_str(e, "endpoint", etcd_endpoint(&a->etcd));
	arr = json_object_new_array();
	for (i = 0; i < a->etcd.cfg.nr_endpoints; i++)
		json_object_array_add(arr, json_object_new_string(
				      a->etcd.cfg.endpoints[i]));
	json_object_object_add(e, "endpoints", arr);
	jadd_bool(e, "reachable", a->etcd.reachable);
	jadd_bool(e, "watching", etcd_watch_running(&a->etcd));
	if (etcd_watch_running(&a->etcd))
		jadd_str(e, "watch_endpoint",
			 a->etcd.cfg.endpoints[a->etcd.watch_cur]);
	jadd_fmt(e, "lease", "%llx", (long long)a->lease);
	jadd_int(e, "lease_ttl", a->lease_ttl);
	jadd_int(e, "revision", a->watch_rev);
	jadd_str(e, "prefix", a->cfg.prefix);
	jadd_int(e, "calls", a->etcd.calls);
	jadd_int(e, "failed_calls", a->etcd.failed_calls);
	jadd_int(e, "failovers", a->etcd.failovers);
	jadd_int(e, "retries", a->etcd.retries);
	jadd_int(e, "watch_restarts", a->watch_restarts);
	jadd_int(e, "compactions", a->compactions);
	jadd_int(e, "lease_losses", a->lease_losses);
	jadd_int(e, "rx_bytes", a->etcd.rx_bytes);
	jadd_int(e, "tx_bytes", a->etcd.tx_bytes);
	if (a->etcd.err[0]) {
		jadd_str(e, "last_error", a->etcd.err);
		jadd_str(e, "last_error_kind", etcd_kind(a->etcd.last_fail));
	}
	json_object_object_add(o, "etcd", e);

	m = json_object_new_object();
	jadd_str(m, "sink", a->cfg.dry_run ? a->cfg.sink : "kernel");
	jadd_int(m, "endpoints", a->nr_want);
	jadd_int(m, "entries", a->nr_have);
	jadd_int(m, "foreign", a->foreign);
	jadd_int(m, "adds", a->map_adds);
	jadd_int(m, "dels", a->map_dels);
	jadd_int(m, "errors", a->map_errors);
	jadd_int(m, "events", a->events);
	jadd_int(m, "bad_values", a->bad_values);
	jadd_int(m, "reconciles", a->reconciles);
	{
		char buf[32];

		snprintf(buf, sizeof(buf), "%.1f", a->last_reconcile_ms);
		json_object_object_add(m, "last_reconcile_ms",
				       json_object_new_double_s(a->last_reconcile_ms, buf));
	}
	json_object_object_add(o, "map", m);
	json_object_object_add(o, "pods", pods_status(a));
	return o;
}

static int setup_signals(struct agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return a->sig_fd < 0 ? -errno : 0;
}

static void handle_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_msg(LOG_INFO, "signal", "SIGHUP: full reconcile");
			if (a->state == ST_READY) {
				a->state = ST_SYNCING;
				a->next_retry = 0;
			}
		} else {
			log_msg(LOG_INFO, "signal",
				"%s: stopping (the lease stays: endpoints live until it expires)",
				strsignal(si.ssi_signo));
			a->stop = true;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json-log", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = AGENT_CONF;
	bool json = false, verbose = false, test = false;
	static struct agent agent;
	struct agent *a = &agent;
	char err[512];
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:jvtVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'j': json = true; break;
		case 'v': verbose = true; break;
		case 't': test = true; break;
		case 'V':
			printf("vrdma-agent %s\n", AGENT_VERSION);
			return 0;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vrdma-agent: unexpected argument '%s'\n%s",
			argv[optind], usage);
		return 2;
	}

	config_defaults(&a->cfg);
	a->ctl_fd = -1;
	a->sig_fd = -1;
	ret = config_load(&a->cfg, conf, err, sizeof(err));
	if (json)
		log_cfg.json = true;
	if (verbose)
		log_cfg.level = LOG_DEBUG;
	if (ret) {
		log_msg(LOG_ERR, "config", "%s", err);
		return 1;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_msg(LOG_ERR, "init", "libsodium or libcurl failed to start");
		return 1;
	}
	ret = kernel_open(a, err, sizeof(err));
	if (ret && !test) {
		log_msg(LOG_ERR, "kernel", "%s", err);
		return 1;
	}
	if (!a->cfg.phys[0] && !a->cfg.dry_run && a->nl.sock)
		kernel_default_phys(a, a->cfg.phys, sizeof(a->cfg.phys));
	ret = config_finish(&a->cfg, err, sizeof(err)) ?:
	      etcd_init(&a->etcd, &a->cfg.etcd, err, sizeof(err));
	if (ret) {
		log_msg(LOG_ERR, "config", "%s: %s", conf, err);
		return 1;
	}
	if (test) {
		printf("%s: ok\n", conf);
		return 0;
	}
	a->etcd.retry_cb = retry_log;
	if (mkdir(a->cfg.state_dir, 0700) && errno != EEXIST) {
		log_msg(LOG_ERR, "state", "%s: %s", a->cfg.state_dir,
			strerror(errno));
		return 1;
	}
	ret = journal_open(a);
	if (ret) {
		log_msg(LOG_ERR, "state", "%s/map.journal: %s",
			a->cfg.state_dir, strerror(-ret));
		return 1;
	}
	if (setup_signals(a) || ctl_open(a, err, sizeof(err))) {
		log_msg(LOG_ERR, "control", "%s", err);
		return 1;
	}
	a->started = now_real();
	{
		char sa[ADDR_STRLEN];
		struct json_object *r = log_start(LOG_INFO, "start");

		jadd_str(r, "version", AGENT_VERSION);
		jadd_str(r, "host", a->cfg.host);
		jadd_str(r, "via", format_addr(&a->cfg.addrs[0], sa));
		jadd_str(r, "etcd", etcd_endpoint(&a->etcd));
		jadd_int(r, "endpoints", a->cfg.etcd.nr_endpoints);
		jadd_str(r, "map", a->cfg.dry_run ? a->cfg.sink : "kernel");
		log_end(r);
	}

	while (!a->stop) {
		struct curl_waitfd fds[2] = {
			{ .fd = a->ctl_fd, .events = CURL_WAIT_POLLIN },
			{ .fd = a->sig_fd, .events = CURL_WAIT_POLLIN },
		};
		double wait = step(a);

		if (a->state == ST_SYNCING && a->next_retry == 0)
			continue;
		etcd_poll(&a->etcd, fds, 2, (int)(wait * 1000));
		if (fds[1].revents)
			handle_signal(a);
		if (fds[0].revents)
			ctl_accept(a);
	}
	ctl_close(a);
	etcd_free(&a->etcd);
	kernel_close(a);
	if (a->journal)
		fclose(a->journal);
	curl_global_cleanup();
	return 0;
}
