// SPDX-License-Identifier: GPL-2.0
/*
 * Physical RDMA devices.
 *
 * An ib_client sees every ib_device registered on the host; vrdma keeps the
 * ones that can back virtual devices: RoCE devices (at least one port
 * speaks RoCE) that are not vrdma's own virtual devices (ops.owner is this
 * module).  ib_core only offers kernel-verbs providers to a client that
 * does not set no_kverbs_req, which is what vrdma needs: it creates kernel
 * objects on the physical device.  The list is sorted by ib_device index so
 * that a netlink dump can resume where it stopped.
 *
 * The default physical device backs new virtual devices when none is
 * named.  It is set by PHYS_SET, or by the phys_default module parameter:
 * that name is remembered until a device of that name appears (it may be
 * created after the module loads) or PHYS_SET chooses another.  A default
 * device that goes away clears the default; nothing restores it.
 *
 * Locking
 * -------
 * vrdma_phys_lock (a mutex) protects vrdma_phys_list, the fields of every
 * entry documented as such in phys.h, vrdma_phys_default,
 * vrdma_phys_pending and vrdma_phys_gen.
 *
 * ib_core calls the client's add(), remove() and rename() with its own
 * locks held (devices_rwsem, clients_rwsem, the device's client_data_rwsem
 * and unregistration lock), so vrdma_phys_lock comes after them
 * (Documentation/architecture.rst, "Locking"), and nothing may call into
 * ib_core (device lookup, registration, unregistration, client
 * registration) while holding vrdma_phys_lock.
 * The netlink handlers run without genl_mutex (parallel_ops) and take
 * vrdma_phys_lock alone.  When virtual devices arrive, remove() must make
 * them release their objects on the physical device before it returns
 * (ib_core frees the device after the last client's remove()), without
 * unregistering an ib_device synchronously under the locks above.
 *
 * References
 * ----------
 * An entry is created by add() with one reference, owned by the list and
 * dropped by remove().  vrdma_phys_get_by_name() hands out more.  The entry
 * pins the ib_device's struct device (get_device()) until it is freed, so
 * entry->ibdev can always be dereferenced; whether the device is still
 * registered (entry->removed) is only meaningful under vrdma_phys_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/init.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "audit.h"
#include "phys.h"
#include "vdev.h"

static DEFINE_MUTEX(vrdma_phys_lock);
static LIST_HEAD(vrdma_phys_list);
static struct vrdma_phys *vrdma_phys_default;
static char vrdma_phys_pending[IB_DEVICE_NAME_MAX];
static unsigned int vrdma_phys_gen = 1;	/* never 0: see nl_dump_check_consistent() */

static struct ib_client vrdma_phys_client;

static void vrdma_phys_release(struct kref *ref)
{
	struct vrdma_phys *phys = container_of(ref, struct vrdma_phys, ref);

	put_device(&phys->ibdev->dev);
	kfree(phys);
	vrdma_audit_destroyed(VRDMA_AUDIT_PHYS);
}

/**
 * vrdma_phys_put() - drop a reference to a physical device entry
 * @phys: the entry (may be NULL)
 */
void vrdma_phys_put(struct vrdma_phys *phys)
{
	if (phys)
		kref_put(&phys->ref, vrdma_phys_release);
}

/**
 * vrdma_phys_hold() - take another reference to a physical device entry
 * @phys: the entry
 */
void vrdma_phys_hold(struct vrdma_phys *phys)
{
	kref_get(&phys->ref);
}

/**
 * vrdma_phys_attach() - count a virtual device backed by @phys
 * @phys: the entry
 *
 * Return: 0, or -ENODEV if the physical device has been removed.
 */
int vrdma_phys_attach(struct vrdma_phys *phys)
{
	int ret = 0;

	mutex_lock(&vrdma_phys_lock);
	if (phys->removed)
		ret = -ENODEV;
	else
		phys->dev_count++;
	mutex_unlock(&vrdma_phys_lock);
	return ret;
}

/**
 * vrdma_phys_detach() - a virtual device backed by @phys is gone
 * @phys: the entry
 */
void vrdma_phys_detach(struct vrdma_phys *phys)
{
	mutex_lock(&vrdma_phys_lock);
	if (!WARN_ON_ONCE(!phys->dev_count))
		phys->dev_count--;
	mutex_unlock(&vrdma_phys_lock);
}

static struct vrdma_phys *vrdma_phys_find_locked(const char *name)
{
	struct vrdma_phys *phys;

	lockdep_assert_held(&vrdma_phys_lock);

	list_for_each_entry(phys, &vrdma_phys_list, node)
		if (!strcmp(phys->name, name))
			return phys;
	return NULL;
}

static void vrdma_phys_insert_locked(struct vrdma_phys *phys)
{
	struct vrdma_phys *pos;

	lockdep_assert_held(&vrdma_phys_lock);

	list_for_each_entry(pos, &vrdma_phys_list, node)
		if (pos->index > phys->index)
			break;
	list_add_tail(&phys->node, &pos->node);
	vrdma_phys_gen++;
}

static void vrdma_phys_set_default_locked(struct vrdma_phys *phys)
{
	lockdep_assert_held(&vrdma_phys_lock);

	if (vrdma_phys_default == phys)
		return;
	vrdma_phys_default = phys;
	vrdma_phys_gen++;
	if (phys)
		pr_info("default physical device: %s\n", phys->name);
}

/* Make @phys the default if the module parameter named it. */
static void vrdma_phys_match_pending_locked(struct vrdma_phys *phys)
{
	lockdep_assert_held(&vrdma_phys_lock);

	if (!vrdma_phys_pending[0] || strcmp(vrdma_phys_pending, phys->name))
		return;
	vrdma_phys_pending[0] = '\0';
	vrdma_phys_set_default_locked(phys);
}

static bool vrdma_phys_is_candidate(struct ib_device *ibdev)
{
	u32 port;

	if (ibdev->ops.owner == THIS_MODULE)
		return false;

	rdma_for_each_port(ibdev, port)
		if (rdma_protocol_roce(ibdev, port))
			return true;
	return false;
}

static int vrdma_phys_add(struct ib_device *ibdev)
{
	struct vrdma_phys *phys;

	/* Not interested: ib_core will not call remove() for this device. */
	if (!vrdma_phys_is_candidate(ibdev))
		return -EOPNOTSUPP;

	phys = kzalloc(sizeof(*phys), GFP_KERNEL);
	if (!phys)
		return -ENOMEM;
	kref_init(&phys->ref);
	get_device(&ibdev->dev);
	phys->ibdev = ibdev;
	phys->index = ibdev->index;
	strscpy(phys->name, dev_name(&ibdev->dev), sizeof(phys->name));
	vrdma_audit_created(VRDMA_AUDIT_PHYS);

	ib_set_client_data(ibdev, &vrdma_phys_client, phys);

	mutex_lock(&vrdma_phys_lock);
	vrdma_phys_insert_locked(phys);
	vrdma_phys_match_pending_locked(phys);
	mutex_unlock(&vrdma_phys_lock);

	pr_debug("physical device %s (index %u) added\n", phys->name,
		 phys->index);
	return 0;
}

static void vrdma_phys_remove(struct ib_device *ibdev, void *client_data)
{
	struct vrdma_phys *phys = client_data;

	mutex_lock(&vrdma_phys_lock);
	if (vrdma_phys_default == phys) {
		pr_info("default physical device %s removed, no default now\n",
			phys->name);
		vrdma_phys_set_default_locked(NULL);
	}
	list_del_init(&phys->node);
	phys->removed = true;
	vrdma_phys_gen++;
	mutex_unlock(&vrdma_phys_lock);

	/*
	 * Virtual devices on it stop using it before ib_core frees it; they
	 * cannot be unregistered synchronously here (this runs under the
	 * physical device's unregistration).
	 */
	vrdma_devs_phys_removed(phys);

	pr_debug("physical device %s (index %u) removed\n", phys->name,
		 phys->index);
	vrdma_phys_put(phys);
}

static void vrdma_phys_rename(struct ib_device *ibdev, void *client_data)
{
	struct vrdma_phys *phys = client_data;

	mutex_lock(&vrdma_phys_lock);
	strscpy(phys->name, dev_name(&ibdev->dev), sizeof(phys->name));
	vrdma_phys_gen++;
	vrdma_phys_match_pending_locked(phys);
	mutex_unlock(&vrdma_phys_lock);
}

static struct ib_client vrdma_phys_client = {
	.name	= "vrdma",
	.add	= vrdma_phys_add,
	.remove	= vrdma_phys_remove,
	.rename	= vrdma_phys_rename,
};

/**
 * vrdma_phys_get_by_name() - look up a physical device by name
 * @name: device name
 *
 * Return: a new reference to the entry (drop it with vrdma_phys_put()), or
 * NULL if no registered physical device has that name.
 */
struct vrdma_phys *vrdma_phys_get_by_name(const char *name)
{
	struct vrdma_phys *phys;

	mutex_lock(&vrdma_phys_lock);
	phys = vrdma_phys_find_locked(name);
	if (phys)
		kref_get(&phys->ref);
	mutex_unlock(&vrdma_phys_lock);
	return phys;
}

/**
 * vrdma_phys_get_default() - the default physical device
 *
 * Return: a new reference to the default device (drop it with
 * vrdma_phys_put()), or NULL if there is none.
 */
struct vrdma_phys *vrdma_phys_get_default(void)
{
	struct vrdma_phys *phys;

	mutex_lock(&vrdma_phys_lock);
	phys = vrdma_phys_default;
	if (phys)
		kref_get(&phys->ref);
	mutex_unlock(&vrdma_phys_lock);
	return phys;
}

/**
 * vrdma_phys_set_default() - make a physical device the default
 * @name: device name
 *
 * Also forgets a name given by the module parameter that has not appeared.
 *
 * Return: 0, or -ENODEV if no registered physical device has that name.
 */
int vrdma_phys_set_default(const char *name)
{
	struct vrdma_phys *phys;
	int ret = -ENODEV;

	mutex_lock(&vrdma_phys_lock);
	phys = vrdma_phys_find_locked(name);
	if (phys) {
		vrdma_phys_pending[0] = '\0';
		vrdma_phys_set_default_locked(phys);
		ret = 0;
	}
	mutex_unlock(&vrdma_phys_lock);
	return ret;
}

/**
 * vrdma_phys_default_name() - copy the name of the default physical device
 * @buf: destination
 * @size: size of @buf
 *
 * Return: true if there is a default device (and @buf holds its name).
 */
bool vrdma_phys_default_name(char *buf, size_t size)
{
	bool ret = false;

	mutex_lock(&vrdma_phys_lock);
	if (vrdma_phys_default) {
		strscpy(buf, vrdma_phys_default->name, size);
		ret = true;
	}
	mutex_unlock(&vrdma_phys_lock);
	return ret;
}

/**
 * vrdma_phys_info_next() - snapshot the next physical device
 * @from: lowest ib_device index to consider
 * @info: filled with the device of lowest index >= @from
 * @gen: set to the generation of the list, which changes whenever the
 *	list, a name or the default changes (for dump consistency checks)
 *
 * Return: 0, or -ENOENT if there is no such device.
 */
int vrdma_phys_info_next(u32 from, struct vrdma_phys_info *info,
			 unsigned int *gen)
{
	struct vrdma_phys *phys;
	int ret = -ENOENT;

	mutex_lock(&vrdma_phys_lock);
	*gen = vrdma_phys_gen;
	list_for_each_entry(phys, &vrdma_phys_list, node) {
		if (phys->index < from)
			continue;
		strscpy(info->name, phys->name, sizeof(info->name));
		info->index = phys->index;
		info->dev_count = phys->dev_count;
		info->is_default = phys == vrdma_phys_default;
		ret = 0;
		break;
	}
	mutex_unlock(&vrdma_phys_lock);
	return ret;
}

/**
 * vrdma_phys_init() - start tracking physical devices
 * @default_name: name of the device to make the default when it appears,
 *	or NULL or "" for none
 *
 * Return: 0 or a negative errno.
 */
int __init vrdma_phys_init(const char *default_name)
{
	int ret;

	if (default_name && strlen(default_name) >= IB_DEVICE_NAME_MAX) {
		pr_err("phys_default: name longer than %d characters\n",
		       IB_DEVICE_NAME_MAX - 1);
		return -EINVAL;
	}

	mutex_lock(&vrdma_phys_lock);
	strscpy(vrdma_phys_pending, default_name ?: "",
		sizeof(vrdma_phys_pending));
	mutex_unlock(&vrdma_phys_lock);

	/* Calls add() for every device already registered. */
	ret = ib_register_client(&vrdma_phys_client);
	if (ret) {
		pr_err("ib_register_client: %d\n", ret);
		return ret;
	}

	mutex_lock(&vrdma_phys_lock);
	if (vrdma_phys_pending[0])
		pr_info("phys_default: no RoCE device %s yet, it becomes the default when it appears\n",
			vrdma_phys_pending);
	mutex_unlock(&vrdma_phys_lock);
	return 0;
}

/**
 * vrdma_phys_exit() - stop tracking physical devices
 *
 * Clears the default, then ib_unregister_client() calls remove() for every
 * tracked device.
 */
void vrdma_phys_exit(void)
{
	/* Devices are not going away: do not log their removal as default. */
	mutex_lock(&vrdma_phys_lock);
	vrdma_phys_default = NULL;
	vrdma_phys_gen++;
	mutex_unlock(&vrdma_phys_lock);

	ib_unregister_client(&vrdma_phys_client);

	mutex_lock(&vrdma_phys_lock);
	WARN_ON_ONCE(!list_empty(&vrdma_phys_list));
	WARN_ON_ONCE(vrdma_phys_default);
	vrdma_phys_pending[0] = '\0';
	mutex_unlock(&vrdma_phys_lock);
}
