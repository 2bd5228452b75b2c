// SPDX-License-Identifier: GPL-2.0
/*
 * Test mode: simulated sleep.  The host's services freeze (SIGSTOP of
 * every process of the daemon's network namespace but the daemon, and/or
 * of the pids listed in a file), all its traffic is dropped except magic
 * packets (tc: a clsact qdisc on the interface that passes Ethernet type
 * 0x0842 and UDP port 9 in, drops everything else in and everything out
 * but UDP to the group port),
 * except the daemon's own announcements (UDP to the group port, sent
 * only while it goes to sleep), and an optional hook runs (for example to drop the traffic of devices
 * outside the namespace).  The daemon then only waits for a magic packet
 * for its MAC; after the configured resume delay, everything is undone in
 * reverse order and the host announces itself.
 */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sleepd.h"

static void freeze_add(struct sleepd *sd, int pid)
{
	int *f, i;

	if (pid <= 1 || pid == getpid() || pid == getppid())
		return;
	for (i = 0; i < sd->n_frozen; i++)
		if (sd->frozen[i] == pid)
			return;
	f = realloc(sd->frozen, (sd->n_frozen + 1) * sizeof(*f));
	if (!f)
		return;
	sd->frozen = f;
	sd->frozen[sd->n_frozen++] = pid;
}

/* Every process whose network namespace is ours. */
static void freeze_collect_netns(struct sleepd *sd)
{
	struct stat self, st;
	char path[64];
	struct dirent *de;
	DIR *d;

	if (stat("/proc/self/ns/net", &self) < 0)
		return;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &st) == 0 && st.st_ino == self.st_ino &&
		    st.st_dev == self.st_dev)
			freeze_add(sd, pid);
	}
	closedir(d);
}

static void freeze_collect_file(struct sleepd *sd, const char *path)
{
	FILE *f = fopen(path, "re");
	int pid;

	if (!f)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		freeze_add(sd, pid);
	fclose(f);
}

/* Run tc commands (one per line) in one process: tc -batch. */
static int tc_batch(const char *cmds)
{
	char path[] = "/tmp/vrdma-sleepd-tc.XXXXXX", cmd[128];
	size_t len = strlen(cmds);
	int fd, ret;

	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ret = write(fd, cmds, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "tc -batch %s", path);
	if (!ret)
		ret = run_cmd(cmd);
	unlink(path);
	return ret;
}

static int drop_on(struct sleepd *sd)
{
	const char *dev = sd->cfg.ifname;
	char c[1024];

	/* Our own SLEEP announcement still leaves, after the drop is in. */
	snprintf(c, sizeof(c),
		 "qdisc replace dev %1$s clsact\n"
		 "filter add dev %1$s ingress pref 1 protocol 0x0842 matchall action ok\n"
		 "filter add dev %1$s ingress pref 2 protocol ip flower ip_proto udp dst_port 9 action ok\n"
		 "filter add dev %1$s ingress pref 3 protocol all matchall action drop\n"
		 "filter add dev %1$s egress pref 1 protocol ip flower ip_proto udp dst_port %2$u action ok\n"
		 "filter add dev %1$s egress pref 2 protocol all matchall action drop\n",
		 dev, sd->cfg.port);
	return tc_batch(c);
}

static void drop_off(struct sleepd *sd)
{
	char c[128];

	snprintf(c, sizeof(c), "qdisc del dev %s clsact\n", sd->cfg.ifname);
	tc_batch(c);
}

static void thaw(struct sleepd *sd)
{
	int i;

	for (i = 0; i < sd->n_frozen; i++)
		kill(sd->frozen[i], SIGCONT);
	free(sd->frozen);
	sd->frozen = NULL;
	sd->n_frozen = 0;
}

/*
 * Load what tc needs now (the first use of a classifier loads its module,
 * which can take seconds): sleep must start at once.
 */
void sim_warmup(struct sleepd *sd)
{
	if (!sd->cfg.drop)
		return;
	drop_on(sd);
	drop_off(sd);
}

/* Simulate sleep.  Returns 0, or -1 with everything undone. */
int sim_enter(struct sleepd *sd)
{
	int i;

	if (sd->cfg.freeze_netns)
		freeze_collect_netns(sd);
	if (sd->cfg.freeze_pidfile[0])
		freeze_collect_file(sd, sd->cfg.freeze_pidfile);
	for (i = 0; i < sd->n_frozen; i++)
		kill(sd->frozen[i], SIGSTOP);
	if (sd->cfg.drop && drop_on(sd)) {
		drop_off(sd);
		thaw(sd);
		return -1;
	}
	if (sd->cfg.sleep_hook[0] && run_cmd(sd->cfg.sleep_hook))
		log_msg(LOG_WARN, "hook-failed", "sleep-hook");
	log_msg(LOG_INFO, "sim-sleep", "%d processes frozen", sd->n_frozen);
	return 0;
}

void sim_leave(struct sleepd *sd)
{
	if (sd->cfg.wake_hook[0] && run_cmd(sd->cfg.wake_hook))
		log_msg(LOG_WARN, "hook-failed", "wake-hook");
	if (sd->cfg.drop)
		drop_off(sd);
	thaw(sd);
}
