/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * libvrdmarepl: client library of the vrdma replication engine
 * (Documentation/replication.rst).
 *
 * A process opens a replication group by name and submits operations
 * asynchronously; every member of the group's chain applies them, in the
 * order this host submitted them, and the library reports each completion
 * (tagged with the caller's cookie) once every member has applied it:
 *
 *	struct vrdma_repl *r;
 *	struct vrdma_repl_completion c;
 *
 *	if (vrdma_repl_open("g1", &r))
 *		...;
 *	vrdma_repl_write(r, 0, "hello", 5, 1);		// cookie 1
 *	vrdma_repl_cas(r, 64, 0, 42, 2);		// cookie 2
 *	while (vrdma_repl_inflight(r))
 *		vrdma_repl_poll(r, &c, 1, -1);
 *	vrdma_repl_close(r);
 *
 * One handle is one netlink socket; it is not thread-safe (use one handle
 * per thread).  vrdma_repl_fd() gives the descriptor to poll(2) for
 * completions.  Every function returns 0 (or a count) on success and a
 * negative errno on failure.
 */
#ifndef VRDMA_REPL_LIB_H
#define VRDMA_REPL_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <linux/vrdma.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vrdma_repl;

/* One replica's result of a gCAS. */
struct vrdma_repl_result {
	uint32_t member;		/* index in the group's configuration */
	struct in6_addr addr;		/* its RNIC address (IPv4-mapped) */
	uint64_t old;			/* the word before */
	bool swapped;
};

/* The completion of an operation. */
struct vrdma_repl_completion {
	uint64_t cookie;		/* as submitted */
	int status;			/* 0 or a negative errno */
	unsigned int nres;		/* gCAS: results, in chain order */
	struct vrdma_repl_result res[VRDMA_REPL_MAX_MEMBERS];
};

/*
 * Open group @name (of this host, visible to the caller's network
 * namespace).  Returns 0, -ENOENT (no such group, or the vrdma module is
 * not loaded), -EPERM, or another negative errno.
 */
int vrdma_repl_open(const char *name, struct vrdma_repl **r);
void vrdma_repl_close(struct vrdma_repl *r);

/* Size of the group's region in bytes. */
uint64_t vrdma_repl_size(const struct vrdma_repl *r);
/* The descriptor that becomes readable when completions arrive. */
int vrdma_repl_fd(const struct vrdma_repl *r);
/* Operations submitted and not reported yet. */
unsigned int vrdma_repl_inflight(const struct vrdma_repl *r);

/*
 * Submit an operation; @cookie tags its completion.  A request the kernel
 * refuses (range beyond the region, ...) is reported as a completion with
 * a negative status, like any other.  A submission may wait while
 * VRDMA_REPL_WINDOW operations of this host are in flight.
 *
 * write: 1 to VRDMA_REPL_WRITE_MAX bytes at @offset.
 * memcpy: @len bytes from @src to @dst, within each replica.
 * cas: if the 64-bit little-endian word at @offset (8-byte aligned) is
 *	@expected, make it @newval; the completion has every replica's
 *	result.
 * flush: @len bytes at @offset durable on every replica (0, 0: the whole
 *	region).
 */
int vrdma_repl_write(struct vrdma_repl *r, uint64_t offset, const void *data,
		     uint32_t len, uint64_t cookie);
int vrdma_repl_memcpy(struct vrdma_repl *r, uint64_t src, uint64_t dst,
		      uint32_t len, uint64_t cookie);
int vrdma_repl_cas(struct vrdma_repl *r, uint64_t offset, uint64_t expected,
		   uint64_t newval, uint64_t cookie);
int vrdma_repl_flush(struct vrdma_repl *r, uint64_t offset, uint32_t len,
		     uint64_t cookie);

/*
 * Get up to @max completions, waiting up to @timeout_ms for the first (0:
 * do not wait, -1: no limit).  Returns how many were stored in @c (0 on
 * timeout) or a negative errno (-ENOBUFS: the socket overflowed and
 * completions were lost).
 */
int vrdma_repl_poll(struct vrdma_repl *r, struct vrdma_repl_completion *c,
		    int max, int timeout_ms);

/* Operations in flight per host before a submission waits. */
#define VRDMA_REPL_WINDOW	512

#ifdef __cplusplus
}
#endif

#endif /* VRDMA_REPL_LIB_H */
