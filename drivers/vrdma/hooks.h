/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the core (virtual devices, verbs, the address map, the MAD tunnel)
 * offers the optional parts of the module, sleep management (sleep*.c,
 * Kbuild VRDMA_SLEEP) and replication (repl*.c, VRDMA_REPL).  The
 * dependencies go one way: those parts include core headers and register
 * here; the core includes nothing of theirs.
 *
 *  - Device activity: vrdma_activity_get() reports how busy the virtual
 *    devices are; vrdma_activity_hold() counts other reasons for this host
 *    to stay awake (replication holds one per local member).  Sleep
 *    management reads both.
 *  - Wait for wake: before a connection set-up (modify_qp to RTR,
 *    create_ah: vrdma_map_resolve()) or a MAD (the GSI tunnel) goes to the
 *    host that runs an overlay address, the core asks the registered
 *    struct vrdma_wake_ops whether that host sleeps.  Sleep management
 *    registers them; without it every host is awake.
 *
 * And, for main.c, the entry points of the optional parts, with stubs when
 * they are left out of the build.
 *
 * Locking: vrdma_wake_ops_lock (a rw_semaphore, hooks.c) is held for read
 * around a hook call, which may sleep, and for write while the hooks are
 * set (its place in the module's lock order: Documentation/
 * architecture.rst, "Locking").
 */
#ifndef _VRDMA_HOOKS_H
#define _VRDMA_HOOKS_H

#include <linux/types.h>
#include <rdma/ib_verbs.h>

struct vrdma_dev;

/* --- device activity --------------------------------------------------- */

/**
 * struct vrdma_activity - what keeps this host awake
 * @devs: virtual devices considered
 * @active_devs: those whose data path ran within the window
 * @active_qps: QPs of those devices that sent or completed a work request
 *	within the window
 * @idle: milliseconds since the data path of any of them last ran (if
 *	@has_idle)
 * @has_idle: some device ever ran its data path
 * @holds: other reasons to stay awake (vrdma_activity_hold())
 */
struct vrdma_activity {
	u32 devs;
	u32 active_devs;
	u32 active_qps;
	u64 idle;
	bool has_idle;
	u32 holds;
};

void vrdma_activity_get(const char *phys, u32 window_ms,
			struct vrdma_activity *act);
void vrdma_activity_hold(int delta);

/* --- wait for wake ----------------------------------------------------- */

/**
 * struct vrdma_wake_dest - where a connection set-up or a datagram goes
 * @phys: name of the physical device of the virtual device it leaves from
 * @vni: that virtual device's virtual network
 * @dgid: the destination, as the application gave it (overlay address)
 * @host: the physical address of the host that runs it (the map's via)
 */
struct vrdma_wake_dest {
	const char *phys;
	u32 vni;
	const union ib_gid *dgid;
	const union ib_gid *host;
};

/**
 * struct vrdma_wake_ops - hooks of the part that knows which hosts sleep
 * @wait: a connection set-up waits until @dest's host is awake; 0 when
 *	it is (or woke up), else a negative errno that fails the set-up.
 *	Process context, may sleep; the caller holds the device's gate.
 * @poke: a datagram that cannot wait goes to @dest's host: true when
 *	that host is not awake (the caller drops the datagram; the hook
 *	asks for the host to be woken).  Process context.
 */
struct vrdma_wake_ops {
	int (*wait)(const struct vrdma_wake_dest *dest);
	bool (*poke)(const struct vrdma_wake_dest *dest);
};

void vrdma_wake_ops_set(const struct vrdma_wake_ops *ops);
int vrdma_wake_wait(struct vrdma_dev *vdev, const union ib_gid *dgid,
		    const union ib_gid *host);
bool vrdma_wake_poke(struct vrdma_dev *vdev, const union ib_gid *dgid,
		     const union ib_gid *host);

/* --- the optional parts, for main.c ------------------------------------ */

#ifdef VRDMA_WITH_SLEEP
int vrdma_sleep_init(void);
void vrdma_sleep_exit(void);
#else
static inline int vrdma_sleep_init(void)
{
	return 0;
}

static inline void vrdma_sleep_exit(void)
{
}
#endif

#ifdef VRDMA_WITH_REPL
int vrdma_repl_init(void);
void vrdma_repl_exit(void);
#else
static inline int vrdma_repl_init(void)
{
	return 0;
}

static inline void vrdma_repl_exit(void)
{
}
#endif

#endif /* _VRDMA_HOOKS_H */
