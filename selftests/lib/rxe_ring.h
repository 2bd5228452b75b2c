/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rings of the rxe user ABI (struct rxe_queue_buf), located in the
 * calling process: the uverbs mappings an object's creation added.  For
 * tests that write work requests into the rings by hand (verbs_test,
 * security/ring_scribbler).
 */
#ifndef _VRDMA_SELFTESTS_RXE_RING_H
#define _VRDMA_SELFTESTS_RXE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <rdma/rdma_user_rxe.h>

struct umap {
	unsigned long start, end;
};

static inline int uverbs_maps(struct umap *m, int max)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], path[256];
	unsigned long s, en, off, ino;
	char perms[8], devno[16];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %255s", &s, &en, perms, &off,
			   devno, &ino, path) < 6)
			continue;
		if (!strstr(path, "uverbs"))
			continue;
		m[n++] = (struct umap){ s, en };
	}
	fclose(f);
	return n;
}

struct ring {
	struct rxe_queue_buf *q;
	size_t maplen;
	uint32_t mask;		/* saved at discovery: userspace may change them */
	uint32_t log2;
};

struct snap {
	struct umap m[256];
	int n;
};

static inline void snap_take(struct snap *s)
{
	s->n = uverbs_maps(s->m, 256);
}

/* Mappings of @after that are not in @before. */
static inline int snap_new(const struct snap *before, const struct snap *after,
		    struct ring *out, int max)
{
	int i, j, n = 0;

	for (i = 0; i < after->n; i++) {
		for (j = 0; j < before->n; j++)
			if (before->m[j].start == after->m[i].start)
				break;
		if (j < before->n || n == max)
			continue;
		out[n].q = (struct rxe_queue_buf *)after->m[i].start;
		out[n].maplen = after->m[i].end - after->m[i].start;
		out[n].mask = out[n].q->index_mask;
		out[n].log2 = out[n].q->log2_elem_size;
		n++;
	}
	return n;
}

static inline bool ring_sane(const struct ring *r)
{
	return r->log2 >= 5 && r->log2 <= 20 && r->mask &&
	       !((r->mask + 1) & r->mask) &&
	       offsetof(struct rxe_queue_buf, data) +
	       ((size_t)(r->mask + 1) << r->log2) <= r->maplen;
}

static inline uint32_t ring_get(const uint32_t *idx)
{
	return __atomic_load_n(idx, __ATOMIC_ACQUIRE);
}

static inline void ring_set(uint32_t *idx, uint32_t v)
{
	__atomic_store_n(idx, v, __ATOMIC_RELEASE);
}

static inline void *ring_slot(const struct ring *r, uint32_t idx)
{
	return r->q->data + ((size_t)(idx & r->mask) << r->log2);
}

static inline uint32_t ring_pending(const struct ring *r)
{
	return (ring_get(&r->q->producer_index) - ring_get(&r->q->consumer_index)) & r->mask;
}

#endif /* _VRDMA_SELFTESTS_RXE_RING_H */
