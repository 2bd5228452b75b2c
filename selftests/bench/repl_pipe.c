// SPDX-License-Identifier: GPL-2.0
/*
 * repl_pipe: pipelined gWRITEs on a vrdma replication group (through
 * libvrdmarepl), for repl_bench.sh; "repl_tool lat" measures one at a
 * time.
 *
 *   repl_pipe GROUP SIZE N WINDOW
 *	N gWRITEs of SIZE bytes at offset 0, at most WINDOW in flight;
 *	prints, in the format of "repl_tool lat" and "ufwd client",
 *	size S n N p50_us P p99_us P p999_us P ops_s R
 *	(latency: from submission to completion of each operation).
 *
 * Exit status 0 when every write completed without error, 1 otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../userspace/librepl/vrdma_repl.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct vrdma_repl_completion c[64];
	struct vrdma_repl *r;
	uint64_t n, sent = 0, done = 0, *t, *start, total, now;
	uint32_t size, window;
	char *buf;
	int ret, got, i;

	if (argc != 5) {
		fprintf(stderr, "usage: repl_pipe GROUP SIZE N WINDOW\n");
		return 2;
	}
	size = strtoul(argv[2], NULL, 0);
	n = strtoull(argv[3], NULL, 0);
	window = strtoul(argv[4], NULL, 0);
	if (!size || size > VRDMA_REPL_WRITE_MAX || !n || !window ||
	    window > VRDMA_REPL_WINDOW) {
		fprintf(stderr, "repl_pipe: bad arguments\n");
		return 2;
	}
	ret = vrdma_repl_open(argv[1], &r);
	if (ret) {
		fprintf(stderr, "repl_pipe: open %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	t = calloc(n, sizeof(*t));
	start = calloc(window, sizeof(*start));
	buf = malloc(size);
	if (!t || !start || !buf) {
		fprintf(stderr, "repl_pipe: out of memory\n");
		return 1;
	}
	memset(buf, 0xa5, size);
	total = now_ns();
	while (done < n) {
		while (sent < n && sent - done < window) {
			start[sent % window] = now_ns();
			ret = vrdma_repl_write(r, 0, buf, size, sent);
			if (ret) {
				fprintf(stderr, "repl_pipe: write: %s\n", strerror(-ret));
				return 1;
			}
			sent++;
		}
		got = vrdma_repl_poll(r, c, 64, 10000);
		if (got <= 0) {
			fprintf(stderr, "repl_pipe: poll: %s (%" PRIu64 " of %" PRIu64 " done)\n",
				got ? strerror(-got) : "no completion for 10 s", done, n);
			return 1;
		}
		now = now_ns();
		for (i = 0; i < got; i++, done++) {
			if (c[i].status || c[i].cookie != done) {
				fprintf(stderr, "repl_pipe: write %" PRIu64 ": %s (completion %" PRIu64 ")\n",
					done, strerror(-c[i].status), c[i].cookie);
				return 1;
			}
			t[done] = now - start[done % window];
		}
	}
	total = now_ns() - total;
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("size %u n %" PRIu64 " p50_us %.1f p99_us %.1f p999_us %.1f ops_s %.0f\n",
	       size, n, t[n / 2] / 1e3, t[n * 99 / 100] / 1e3,
	       t[n * 999 / 1000] / 1e3, n / (total / 1e9));
	vrdma_repl_close(r);
	free(t);
	free(start);
	free(buf);
	return 0;
}
