// mkverify: expect = "violations"
// mkverify: checks = ["lock-imbalance"]
// mkverify: trace = 3
/*
 * An early return that keeps the lock. The sysfs handlers of this driver
 * take hotplug_lock with a trylock and ask for a restart when it is busy
 * (the lock_device_hotplug_sysfs() pattern). instance_id_show() returns
 * -ENOENT with the lock still held when no instance exists.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

struct mk_instance {
	int id;
};

static DEFINE_MUTEX(hotplug_lock);
static struct mk_instance *instance;

static int lock_hotplug_sysfs(void)
{
	if (mutex_trylock(&hotplug_lock))
		return 0;
	return -EAGAIN;	/* restart_syscall() */
}

int instance_create_store(int id)
{
	struct mk_instance *inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	int ret;

	if (!inst)
		return -ENOMEM;
	inst->id = id;
	ret = lock_hotplug_sysfs();
	if (ret) {
		kfree(inst);
		return ret;
	}
	if (instance) {
		mutex_unlock(&hotplug_lock);
		kfree(inst);
		return -EEXIST;
	}
	instance = inst;
	mutex_unlock(&hotplug_lock);
	return 0;
}

int instance_id_show(void)
{
	int ret;

	ret = lock_hotplug_sysfs();
	if (ret)
		return ret;
	if (!instance)
		return -ENOENT;	/* BUG: returns with hotplug_lock held */
	ret = instance->id;
	mutex_unlock(&hotplug_lock);
	return ret;
}

int instance_destroy_store(void)
{
	struct mk_instance *inst;
	int ret;

	ret = lock_hotplug_sysfs();
	if (ret)
		return ret;
	inst = instance;
	instance = NULL;
	mutex_unlock(&hotplug_lock);
	kfree(inst);
	return 0;
}
