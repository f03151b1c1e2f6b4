// mkverify: expect = "violations"
// mkverify: checks = ["assertion", "dangling-reference", "flag-alias", "flag-overlap", "flag-range", "flag-rejected", "invariant", "leak", "use-after-free"]
/*
 * Model of kernel/multikernel/core.c of the multikernel RFC v2 (patch 08):
 * instance create (a DTB written to /sys/fs/multikernel/device_tree),
 * destroy (rmdir instances/NAME), lookup and reference counting, and the
 * kernfs attribute read of an instance's status. Behaviour as described in
 * shared/design/MULTIKERNEL.md; the code is ours.
 */
#include <linux/mutex.h>
#include <linux/idr.h>
#include <linux/slab.h>
#include "multikernel.h"

static DEFINE_MUTEX(mk_instance_mutex);	/* protects the list and the IDR, nothing else */
static DEFINE_IDR(mk_instance_idr);
static LIST_HEAD(mk_instance_list);

/*
 * kernfs, reduced to what the lifecycle needs: the directory instances/<id>,
 * whose node's priv is the instance (no reference of its own), and the
 * node's active count. Attribute reads hold an active reference
 * (atomic_inc_unless_negative); removal adds a negative bias so no new one
 * is granted, then waits for the old ones to drain (fs/kernfs/dir.c).
 */
#define KN_DEACTIVATED_BIAS (-1000)
struct mk_kernfs_node {
	struct mk_instance *priv;
	atomic_t active;
};
static struct mk_kernfs_node mk_kn[MK_MODEL_IDS] = { { NULL, ATOMIC_INIT(KN_DEACTIVATED_BIAS) },
						     { NULL, ATOMIC_INIT(KN_DEACTIVATED_BIAS) },
						     { NULL, ATOMIC_INIT(KN_DEACTIVATED_BIAS) } };
/* the VFS holds the parent directory's inode lock across rmdir */
static DEFINE_MUTEX(instances_dir_lock);

/* kernfs_create_dir(): called under mk_instance_mutex; the name stays taken
 * until the old directory is unlinked, at the end of its removal */
static int mk_kernfs_create(int id, struct mk_instance *instance)
{
	if (mk_kn[id].priv)
		return -EEXIST;
	mk_kn[id].priv = instance;
	atomic_set(&mk_kn[id].active, 0);
	return 0;
}

static bool kernfs_get_active(int id)
{
	return atomic_inc_unless_negative(&mk_kn[id].active);
}

static void kernfs_put_active(int id)
{
	atomic_dec(&mk_kn[id].active);
}

/* kernfs_remove_self(kn): deactivate, drain the active readers, unlink */
static void kernfs_remove_self(int id)
{
	atomic_add(KN_DEACTIVATED_BIAS, &mk_kn[id].active);
	while (atomic_read(&mk_kn[id].active) != KN_DEACTIVATED_BIAS)
		cpu_relax();
	mk_kn[id].priv = NULL;
}

/* patch 08: NULL-safe get/put */
void mk_instance_get(struct mk_instance *instance)
{
	if (instance)
		kref_get(&instance->refcount);
}

/* patch 08: frees pool, regions, cpumask, DTB, name and the instance; does not
 * touch the IDR or the list, does not online CPUs, does not look at kimage */
static void mk_instance_release(struct kref *kref)
{
	struct mk_instance *instance = container_of(kref, struct mk_instance, refcount);

	kfree(instance->pool);
	free_cpumask_var(instance->cpus);
	kfree(instance);
}

void mk_instance_put(struct mk_instance *instance)
{
	if (instance)
		kref_put(&instance->refcount, mk_instance_release);
}

/* patch 08: a plain store, no lock, no transition check */
void mk_instance_set_state(struct mk_instance *instance, enum mk_instance_state state)
{
	instance->state = state;
}

/* patch 08: a counted reference the caller must put */
struct mk_instance *mk_instance_find(int id)
{
	struct mk_instance *instance;

	mutex_lock(&mk_instance_mutex);
	instance = idr_find(&mk_instance_idr, id);
	if (instance)
		kref_get(&instance->refcount);
	mutex_unlock(&mk_instance_mutex);
	return instance;
}

static struct mk_mem_pool *mk_reserve_pool(void)
{
	struct mk_mem_pool *pool = kzalloc(sizeof(*pool), GFP_KERNEL);

	if (pool)
		pool->nr_regions = 1;
	return pool;
}

/*
 * Entry point: write a DTB with `id` as its id property and `cpu` as its CPU
 * to /sys/fs/multikernel/device_tree (patch 08). Under mk_instance_mutex:
 * allocate, kref_init (the IDR/list's reference), EMPTY, reserve memory, take
 * the instance's CPU offline, idr_alloc, list add, READY. The kernfs
 * directory is created last (inferred: the series creates it on this path).
 */
int mk_dtb_write(int id, int cpu)
{
	struct mk_instance *instance;
	int ret;

	if (id < 0 || id >= MK_MODEL_IDS)	/* the model's kernfs array only */
		return -EINVAL;
	mutex_lock(&mk_instance_mutex);
	instance = kzalloc(sizeof(*instance), GFP_KERNEL);
	if (!instance) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	kref_init(&instance->refcount);
	instance->id = id;
	mk_instance_set_state(instance, MK_STATE_EMPTY);
	instance->pool = mk_reserve_pool();
	if (!instance->pool) {
		kfree(instance);
		ret = -ENOMEM;
		goto out_unlock;
	}
	instance->cpus_valid = alloc_cpumask_var(&instance->cpus, GFP_KERNEL);
	cpumask_set_cpu(cpu, instance->cpus);
	remove_cpu(cpu);
	ret = idr_alloc(&mk_instance_idr, instance, id, id + 1, GFP_KERNEL);
	if (ret < 0) {
		/* patch 08's error path after the reservation: the instance is
		 * freed, its pool is not, and its CPU stays offline */
		kfree(instance);
		goto out_unlock;
	}
	list_add(&instance->list, &mk_instance_list);
	mk_instance_set_state(instance, MK_STATE_READY);
	ret = mk_kernfs_create(id, instance);
	if (ret < 0) {
		/* inferred: a directory of the same name is still being removed;
		 * unwind what this call published (not described by the series) */
		list_del(&instance->list);
		idr_remove(&mk_instance_idr, id);
		mk_instance_put(instance);
	}
out_unlock:
	mutex_unlock(&mk_instance_mutex);
	return ret;
}

/*
 * Entry point: rmdir /sys/fs/multikernel/instances/<id> (patch 08). Under
 * mk_instance_mutex: -EBUSY while LOADING or ACTIVE; else list del,
 * idr_remove; then, after the unlock, the IDR's reference is put and only
 * then is the directory removed (kernfs_remove_self on the rmdir's own node).
 */
int mk_rmdir(int id)
{
	struct mk_instance *instance;

	if (id < 0 || id >= MK_MODEL_IDS)
		return -ENOENT;
	mutex_lock(&instances_dir_lock);
	if (!kernfs_get_active(id)) {		/* the VFS lookup of instances/<id> */
		mutex_unlock(&instances_dir_lock);
		return -ENOENT;
	}
	kernfs_put_active(id);			/* kernfs_remove_self() breaks the op's own active reference */
	mutex_lock(&mk_instance_mutex);
	instance = idr_find(&mk_instance_idr, id);
	if (!instance) {
		mutex_unlock(&mk_instance_mutex);
		mutex_unlock(&instances_dir_lock);
		return -ENOENT;
	}
	if (instance->state == MK_STATE_LOADING || instance->state == MK_STATE_ACTIVE) {
		mutex_unlock(&mk_instance_mutex);
		mutex_unlock(&instances_dir_lock);
		return -EBUSY;
	}
	list_del(&instance->list);
	idr_remove(&mk_instance_idr, instance->id);
	mutex_unlock(&mk_instance_mutex);
	mk_instance_put(instance);
	kernfs_remove_self(id);
	mutex_unlock(&instances_dir_lock);
	return 0;
}

/* Entry point: cat /sys/fs/multikernel/instances/<id>/status (patch 08): uses
 * the instance through the kernfs node, with no reference of its own. */
int mk_status_show(int id)
{
	struct mk_instance *instance;
	int state;

	if (id < 0 || id >= MK_MODEL_IDS)
		return -ENOENT;
	if (!kernfs_get_active(id))
		return -ENODEV;
	instance = READ_ONCE(mk_kn[id].priv);
	state = instance->state;
	kernfs_put_active(id);
	return state;
}
