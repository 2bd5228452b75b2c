// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/*
 * repl_example: a replicated append-only log with libvrdmarepl.
 *
 *   repl_example GROUP [ COUNT ]
 *
 * The region of GROUP holds a log: a 64-bit tail counter at offset 0,
 * records of 64 bytes from offset 4096.  The program appends COUNT
 * records (default 100): for each, it claims the next slot with a gCAS on
 * the counter (which every replica applies, in order), writes the record
 * with a gWRITE, and keeps up to 64 operations in flight.  It ends with a
 * gFLUSH, so that every replica's backing file holds the log durably, and
 * prints what it did.
 *
 * Build: cc -o repl_example repl_example.c -lvrdmarepl -lmnl
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vrdma_repl.h"

#define LOG_START	4096
#define RECORD		64
#define DEPTH		64

/* Cookies: the operation kind in the top byte, the record number below. */
#define KIND_CAS	(1ULL << 56)
#define KIND_WRITE	(2ULL << 56)
#define KIND_FLUSH	(3ULL << 56)

static int check(const char *what, int ret)
{
	if (ret < 0) {
		fprintf(stderr, "repl_example: %s: %s\n", what, strerror(-ret));
		exit(1);
	}
	return ret;
}

/* Wait for completions until at most @keep operations are in flight. */
static void drain(struct vrdma_repl *r, unsigned int keep, uint64_t *claimed)
{
	struct vrdma_repl_completion c[16];
	int n, i;

	while (vrdma_repl_inflight(r) > keep) {
		n = check("poll", vrdma_repl_poll(r, c, 16, -1));
		for (i = 0; i < n; i++) {
			if (c[i].status) {
				fprintf(stderr, "repl_example: operation %#" PRIx64 " failed: %s\n",
					c[i].cookie, strerror(-c[i].status));
				exit(1);
			}
			/* Every replica must have swapped the counter. */
			if ((c[i].cookie >> 56) == 1) {
				unsigned int k;

				for (k = 0; k < c[i].nres; k++)
					if (!c[i].res[k].swapped) {
						fprintf(stderr, "repl_example: replica %u did not swap\n",
							c[i].res[k].member);
						exit(1);
					}
				(*claimed)++;
			}
		}
	}
}

int main(int argc, char **argv)
{
	unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 0) : 100;
	struct vrdma_repl *r;
	uint64_t i, claimed = 0;
	char rec[RECORD];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: repl_example GROUP [ COUNT ]\n");
		return 2;
	}
	check("open", vrdma_repl_open(argv[1], &r));
	if (LOG_START + count * RECORD > vrdma_repl_size(r)) {
		fprintf(stderr, "repl_example: the region is too small\n");
		return 1;
	}
	/* A fresh log: the counter must be 0 (a log already there fails). */
	for (i = 0; i < count; i++) {
		/* Claim slot i: counter i -> i + 1, ordered before the write. */
		check("cas", vrdma_repl_cas(r, 0, i, i + 1, KIND_CAS | i));
		memset(rec, 0, sizeof(rec));
		snprintf(rec, sizeof(rec), "record %" PRIu64 " of %lu", i, count);
		check("write", vrdma_repl_write(r, LOG_START + i * RECORD, rec,
						sizeof(rec), KIND_WRITE | i));
		drain(r, DEPTH, &claimed);
	}
	check("flush", vrdma_repl_flush(r, 0, 0, KIND_FLUSH));
	drain(r, 0, &claimed);
	printf("appended %" PRIu64 " records to %s, durable on every replica\n",
	       claimed, argv[1]);
	vrdma_repl_close(r);
	return 0;
}
