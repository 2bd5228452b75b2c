// SPDX-License-Identifier: GPL-2.0
/*
 * The core's hooks for the optional parts of the module (hooks.h): device
 * activity and the wait for a sleeping host.
 */
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/rwsem.h>

#include "hooks.h"
#include "vdev.h"
#include "verbs.h"

/* ------------------------------------------------------------------ */
/* Device activity                                                      */

static atomic_t vrdma_activity_holds = ATOMIC_INIT(0);

/**
 * vrdma_activity_hold() - count a reason for this host to stay awake
 * @delta: +1 when one begins, -1 when it ends
 *
 * Context: any.
 */
void vrdma_activity_hold(int delta)
{
	atomic_add(delta, &vrdma_activity_holds);
}

struct vrdma_activity_arg {
	const char *phys;
	unsigned long window;
	unsigned long now;
	struct vrdma_activity *act;
};

static int vrdma_activity_one(struct vrdma_dev *vdev, void *data)
{
	struct vrdma_activity_arg *arg = data;
	struct vrdma_activity *act = arg->act;
	unsigned long last, idle;
	struct vrdma_qp *qp;
	int bkt;

	if (arg->phys[0] &&
	    strncmp(dev_name(&vdev->pdev->dev), arg->phys, IB_DEVICE_NAME_MAX))
		return 0;
	act->devs++;
	last = READ_ONCE(vdev->last_activity);
	if (!last)
		return 0;
	idle = arg->now - last;
	if (!act->has_idle || idle < act->idle) {
		act->idle = idle;
		act->has_idle = true;
	}
	if (idle > arg->window)
		return 0;
	act->active_devs++;
	/* The QPs that sent or completed something within the window. */
	rcu_read_lock();
	hash_for_each_rcu(vdev->qp_hash, bkt, qp, hnode) {
		last = READ_ONCE(qp->last_activity);
		if (last && arg->now - last <= arg->window)
			act->active_qps++;
	}
	rcu_read_unlock();
	return 0;
}

/**
 * vrdma_activity_get() - the activity that keeps this host awake
 * @phys: only the virtual devices on this physical device ("" for all)
 * @window_ms: a device is active if its data path ran in this window
 * @act: the result
 *
 * Context: process context (takes vrdma_devs_lock).
 */
void vrdma_activity_get(const char *phys, u32 window_ms,
			struct vrdma_activity *act)
{
	struct vrdma_activity_arg arg = {
		.phys = phys,
		.window = msecs_to_jiffies(window_ms),
		.now = jiffies,
		.act = act,
	};

	memset(act, 0, sizeof(*act));
	vrdma_devs_for_each(vrdma_activity_one, &arg);
	act->idle = jiffies_to_msecs(act->idle);
	act->holds = max(atomic_read(&vrdma_activity_holds), 0);
}

/* ------------------------------------------------------------------ */
/* Wait for wake                                                        */

static DECLARE_RWSEM(vrdma_wake_ops_lock);
static const struct vrdma_wake_ops *vrdma_wake_ops;	/* vrdma_wake_ops_lock */

/**
 * vrdma_wake_ops_set() - register the hooks that know which hosts sleep
 * @ops: the hooks, or NULL to remove them (waits for the calls in
 *	progress)
 *
 * Context: process context.
 */
void vrdma_wake_ops_set(const struct vrdma_wake_ops *ops)
{
	down_write(&vrdma_wake_ops_lock);
	vrdma_wake_ops = ops;
	up_write(&vrdma_wake_ops_lock);
}

static struct vrdma_wake_dest vrdma_wake_dest(struct vrdma_dev *vdev,
					      const union ib_gid *dgid,
					      const union ib_gid *host)
{
	return (struct vrdma_wake_dest) {
		.phys = dev_name(&vdev->pdev->dev),
		.vni = vdev->vni,
		.dgid = dgid,
		.host = host,
	};
}

/**
 * vrdma_wake_wait() - wait until a connection's destination host is awake
 * @vdev: the virtual device setting up the connection (the caller holds
 *	its gate for read)
 * @dgid: the destination as the application gave it (overlay address)
 * @host: the physical address of the host that runs it
 *
 * Context: process context; may sleep.
 * Return: 0 when @host is awake (always without wake hooks), or the
 * hook's error.
 */
int vrdma_wake_wait(struct vrdma_dev *vdev, const union ib_gid *dgid,
		    const union ib_gid *host)
{
	struct vrdma_wake_dest dest = vrdma_wake_dest(vdev, dgid, host);
	int ret = 0;

	lockdep_assert_held(&vdev->gate);
	down_read(&vrdma_wake_ops_lock);
	if (vrdma_wake_ops)
		ret = vrdma_wake_ops->wait(&dest);
	up_read(&vrdma_wake_ops_lock);
	return ret;
}

/**
 * vrdma_wake_poke() - is a datagram's destination host asleep?
 * @vdev: the virtual device sending it
 * @dgid: the destination as the application gave it (overlay address)
 * @host: the physical address of the host that runs it
 *
 * Context: process context.
 * Return: true when @host is known not to be awake: drop the datagram.
 */
bool vrdma_wake_poke(struct vrdma_dev *vdev, const union ib_gid *dgid,
		     const union ib_gid *host)
{
	struct vrdma_wake_dest dest = vrdma_wake_dest(vdev, dgid, host);
	bool asleep = false;

	down_read(&vrdma_wake_ops_lock);
	if (vrdma_wake_ops)
		asleep = vrdma_wake_ops->poke(&dest);
	up_read(&vrdma_wake_ops_lock);
	return asleep;
}
