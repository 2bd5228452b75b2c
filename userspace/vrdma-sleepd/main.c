// SPDX-License-Identifier: GPL-2.0
/*
 * vrdma-sleepd - decentralized sleep management for a group of hosts.
 *
 * Usage: vrdma-sleepd -c CONFIG [-V]
 *
 * Runs in the foreground.  Logs are JSON lines (one object per event:
 * ts, host, level, event and the event's fields) on stderr or in the
 * configured file.  The control socket (a unix stream socket) takes one
 * command per connection and answers with one JSON object:
 *
 *   status        the daemon's view: itself, its peers, counters
 *   sleep         try to sleep now (guardians and activity permitting)
 *   wake NAME     send a magic packet to peer NAME (rate limited)
 *
 * SIGTERM and SIGINT stop the daemon: it hands its sleepers over (RELEASE),
 * leaves the group and flushes its domain in the module.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <json-c/json.h>

#include "sleepd.h"

/*
 * The periodic work (group_tick) runs every tick_ms, not after every
 * packet: each run walks the peer list several times, and 100 peers'
 * hellos and probes would run it about 50 times a second.  The tick
 * follows the shortest timer that needs it: a quarter of the probe
 * timeout (layer-2 probes while a peer is confirmed silent), a quarter
 * of intent-wait (INTENT retransmissions) and the wake interval; half of
 * the shortest, within [TICK_MIN_MS, TICK_MAX_MS].  The tests' timers
 * (probe timeout 0.4 s) give 50 ms, the defaults 125 ms.
 */
#define TICK_MIN_MS	10
#define TICK_MAX_MS	125

static volatile sig_atomic_t stop_signal;

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t now_us_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------------ */
/* Logs                                                                 */

void jadd_addr(struct json_object *o, const char *key,
	       const struct in6_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	jadd_str(o, key, addr_str(a, buf, sizeof(buf)));
}

/* Run a shell command; its output goes to the log when it fails. */
int run_cmd(const char *cmd)
{
	char full[SLEEPD_CMD_LEN + 16], out[512];
	size_t n = 0;
	FILE *f;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "re");
	if (!f)
		return -1;
	while (n < sizeof(out) - 1 && fgets(out + n, sizeof(out) - n, f))
		n = strlen(out);
	while (fgets(full, sizeof(full), f))
		;
	out[n] = '\0';
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		struct json_object *r = log_start(LOG_WARN, "command-failed");

		if (r) {
			jadd_str(r, "cmd", cmd);
			jadd_str(r, "output", out);
			log_end(r);
		}
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Control socket                                                       */

static int ctl_open(struct sleepd *sd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (!sd->cfg.control[0])
		return 0;
	strcpy(sun.sun_path, sd->cfg.control);
	sd->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, 0);
	unlink(sd->cfg.control);
	if (sd->ctl_fd < 0 ||
	    bind(sd->ctl_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(sd->ctl_fd, 16) < 0) {
		log_msg(LOG_ERR, "control", "%s: %s", sd->cfg.control,
			strerror(errno));
		return -1;
	}
	chmod(sd->cfg.control, 0600);
	return 0;
}

static struct json_object *ctl_cmd(struct sleepd *sd, char *line, int64_t now)
{
	struct json_object *o;
	struct peer *p;
	char *arg;

	line[strcspn(line, "\r\n")] = '\0';
	arg = strchr(line, ' ');
	if (arg)
		*arg++ = '\0';
	if (!strcmp(line, "status") && !arg)
		return group_status(sd, now);
	o = json_object_new_object();
	if (!strcmp(line, "sleep") && !arg) {
		if (sd->state != SELF_AWAKE) {
			jadd_str(o, "error", "not awake");
		} else {
			sd->sleep_requested = true;
			sd->sleep_retry_at = 0;
			sd->refusal = NULL;
			jadd_str(o, "result", "sleep requested");
		}
	} else if (!strcmp(line, "wake") && arg) {
		p = group_find_name(sd, arg);
		if (!p) {
			jadd_str(o, "error", "no such peer");
		} else {
			group_wake(sd, p, "request", now);
			jadd_str(o, "result", peer_state_name(p->state));
		}
	} else {
		jadd_str(o, "error", "unknown command (status, sleep, wake NAME)");
	}
	return o;
}

static void ctl_accept(struct sleepd *sd, int64_t now)
{
	struct timeval tv = { .tv_sec = 1 };
	struct json_object *o;
	char line[256];
	size_t len;
	const char *s;
	ssize_t n;
	int fd;

	fd = accept4(sd->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Read the whole line: closing on unread bytes resets the peer. */
	len = 0;
	while (len < sizeof(line) - 1 &&
	       (n = recv(fd, line + len, sizeof(line) - 1 - len, 0)) > 0) {
		len += n;
		if (memchr(line, '\n', len))
			break;
	}
	if (len > 0) {
		line[len] = '\0';
		o = ctl_cmd(sd, line, now);
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0)
			log_msg(LOG_DEBUG, "control", "%s", strerror(errno));
		json_object_put(o);
	}
	close(fd);
}

/* ------------------------------------------------------------------ */

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void rx_group(struct sleepd *sd, int64_t now)
{
	struct sockaddr_in from;
	uint8_t buf[2048];
	socklen_t fl;
	ssize_t n;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(sd->udp_fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		group_rx(sd, buf, n, &from, now);
	}
}

static void rx_magic(struct sleepd *sd, int fd, int64_t now)
{
	char from[64];

	while (net_magic_rx(sd, fd, from, sizeof(from))) {
		if (sd->state != SELF_ASLEEP || sd->resume_at || !sd->cfg.wol)
			continue;
		sd->resume_at = now + sd->cfg.resume_delay_ms;
		log_msg(LOG_INFO, "magic-packet", "from %s, resuming in %d ms",
			from, sd->cfg.resume_delay_ms);
	}
}

static int tick_ms(const struct config *c)
{
	int t = c->probe_timeout_ms / 4;

	if (c->intent_ms / 4 < t)
		t = c->intent_ms / 4;
	if (c->wake_interval_ms && c->wake_interval_ms < t)
		t = c->wake_interval_ms;
	t /= 2;
	return t < TICK_MIN_MS ? TICK_MIN_MS : t > TICK_MAX_MS ? TICK_MAX_MS : t;
}

static int run(struct sleepd *sd)
{
	int64_t now, next_tick = 0, wait;
	int tick = tick_ms(&sd->cfg);
	struct pollfd pfd[6];
	int n;

	log_msg(LOG_DEBUG, "tick", "%d ms", tick);
	while (!stop_signal) {
		now = now_ms();
		wait = next_tick > now ? next_tick - now : 0;
		/* Asleep in test mode: resume on time. */
		if (sd->resume_at && sd->resume_at - now < wait)
			wait = sd->resume_at > now ? sd->resume_at - now : 0;
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = sd->udp_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){
			.fd = mnl_socket_get_fd(sd->nl_ev.sock), .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sd->ctl_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sd->wol_raw_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sd->wol_udp_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sd->arp_fd, .events = POLLIN };
		if (poll(pfd, n, (int)wait) < 0 && errno != EINTR)
			return -1;
		now = now_ms();
		if (pfd[0].revents & POLLIN)
			rx_group(sd, now);
		if (pfd[1].revents & POLLIN)
			kernel_events(sd, now);
		if (pfd[2].revents & POLLIN)
			ctl_accept(sd, now);
		if (pfd[3].revents & POLLIN)
			rx_magic(sd, sd->wol_raw_fd, now);
		if (pfd[4].revents & POLLIN)
			rx_magic(sd, sd->wol_udp_fd, now);
		if (pfd[5].revents & POLLIN)
			net_arp_rx(sd, now);
		now = now_ms();
		if (now >= next_tick ||
		    (sd->resume_at && now >= sd->resume_at)) {
			group_tick(sd, now);
			next_tick = now + tick;
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage: " PROG " -c CONFIG\n"
		"Decentralized sleep management for vrdma hosts "
		"(Documentation/sleep.rst).\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	const char *config = NULL;
	FILE *log_file;
	struct sleepd *sd;
	int opt, ret;

	while ((opt = getopt(argc, argv, "c:hV")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'V':
			printf(PROG " 0.1.0\n");
			return 0;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (!config || optind != argc) {
		usage();
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, PROG ": libsodium failed to initialise\n");
		return 1;
	}
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return 1;
	sd->ctl_fd = -1;
	sd->arp_fd = -1;
	if (config_load(&sd->cfg, config))
		return 2;

	log_file = stderr;
	if (sd->cfg.log_path[0] && strcmp(sd->cfg.log_path, "-")) {
		log_file = fopen(sd->cfg.log_path, "ae");
		if (!log_file) {
			fprintf(stderr, PROG ": %s: %s\n", sd->cfg.log_path,
				strerror(errno));
			return 1;
		}
	}
	if (sd->cfg.name[0])
		strcpy(sd->self.name, sd->cfg.name);
	else if (gethostname(sd->self.name, sizeof(sd->self.name) - 1) < 0)
		strcpy(sd->self.name, "host");
	/* JSON records, one a line, with our name and epoch times. */
	log_cfg = (struct log_cfg){
		.level = sd->cfg.log_level,
		.json = true,
		.out = log_file,
		.host = sd->self.name,
		.ts_epoch = true,
	};

	if (net_iface(sd))
		return 1;
	sd->self.id = sd->cfg.id ? sd->cfg.id : ntohl(sd->ip4.s_addr);
	if (net_open(sd) || kernel_open(sd) || ctl_open(sd))
		return 1;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (sd->cfg.test)
		sim_warmup(sd);
	net_secureon_check(sd);
	group_init(sd);
	log_msg(LOG_INFO, "start", "id %u on %s, group %s:%u, test mode %s",
		sd->self.id, sd->cfg.ifname, inet_ntoa(sd->cfg.group),
		sd->cfg.port, sd->cfg.test ? "on" : "off");
	ret = run(sd);

	if (sd->state == SELF_ASLEEP && sd->cfg.test)
		sim_leave(sd);
	group_leave(sd);
	kernel_close(sd);
	if (sd->cfg.control[0])
		unlink(sd->cfg.control);
	log_msg(LOG_INFO, "stop", "signal %d", (int)stop_signal);
	return ret ? 1 : 0;
}
