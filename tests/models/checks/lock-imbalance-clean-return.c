// mkverify: expect = "ok"
/*
 * The repaired lock-imbalance-trigger-return: instance_id_show() leaves
 * through the unlock on every path once it holds hotplug_lock.
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
	if (instance)
		ret = instance->id;
	else
		ret = -ENOENT;
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
