// mkverify: expect = "ok"
/*
 * The repaired illegal-transition-trigger: mk_start() starts only a
 * freshly loaded instance; a stopped one must be unloaded and loaded
 * again.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

enum mk_state {
	MK_LOADED,
	MK_RUNNING,
	MK_STOPPED,
};

struct mk_instance {
	int id;
	enum mk_state state;
};

static DEFINE_MUTEX(mk_lock);
static struct mk_instance *the_instance;

int mk_load(int id)
{
	struct mk_instance *inst = kzalloc(sizeof(*inst), GFP_KERNEL);

	if (!inst)
		return -ENOMEM;
	inst->id = id;
	inst->state = MK_LOADED;
	mutex_lock(&mk_lock);
	if (the_instance) {
		mutex_unlock(&mk_lock);
		kfree(inst);
		return -EEXIST;
	}
	the_instance = inst;
	mutex_unlock(&mk_lock);
	return 0;
}

int mk_start(void)
{
	struct mk_instance *inst;
	int ret = 0;

	mutex_lock(&mk_lock);
	inst = the_instance;
	if (!inst)
		ret = -ENODEV;
	else if (inst->state != MK_LOADED)
		ret = -EBUSY;
	else
		inst->state = MK_RUNNING;
	mutex_unlock(&mk_lock);
	return ret;
}

int mk_stop(void)
{
	struct mk_instance *inst;
	int ret = 0;

	mutex_lock(&mk_lock);
	inst = the_instance;
	if (!inst || inst->state != MK_RUNNING)
		ret = -EINVAL;
	else
		inst->state = MK_STOPPED;
	mutex_unlock(&mk_lock);
	return ret;
}

int mk_unload(void)
{
	struct mk_instance *inst;

	mutex_lock(&mk_lock);
	inst = the_instance;
	if (inst && inst->state == MK_RUNNING) {
		mutex_unlock(&mk_lock);
		return -EBUSY;
	}
	the_instance = NULL;
	mutex_unlock(&mk_lock);
	kfree(inst);
	return 0;
}
