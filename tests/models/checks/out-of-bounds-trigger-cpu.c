// mkverify: expect = "violations"
// mkverify: checks = ["out-of-bounds"]
// mkverify: trace = 11
/*
 * A user-supplied CPU number that is not checked against nr_cpu_ids.
 * mk_instance_add_cpu() assigns a CPU to the multikernel instance from a
 * sysfs write and only rejects negative numbers; cpumask_set_cpu() on a
 * CPU beyond nr_cpu_ids writes past the end of the mask.
 */
#include <linux/cpumask.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#define nr_cpu_ids 3	/* bounds.cpus in the spec: the prelude has no nr_cpu_ids */

struct mk_instance {
	int id;
	struct cpumask cpus;
};

static DEFINE_MUTEX(mk_lock);
static struct mk_instance *the_instance;

int mk_instance_create(int id)
{
	struct mk_instance *inst = kzalloc(sizeof(*inst), GFP_KERNEL);

	if (!inst)
		return -ENOMEM;
	inst->id = id;
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

int mk_instance_add_cpu(int cpu)
{
	int ret = 0;

	if (cpu < 0)	/* BUG: cpu >= nr_cpu_ids is not rejected */
		return -EINVAL;
	mutex_lock(&mk_lock);
	if (the_instance)
		cpumask_set_cpu(cpu, &the_instance->cpus);
	else
		ret = -ENODEV;
	mutex_unlock(&mk_lock);
	return ret;
}

void mk_instance_destroy(void)
{
	struct mk_instance *inst;

	mutex_lock(&mk_lock);
	inst = the_instance;
	the_instance = NULL;
	mutex_unlock(&mk_lock);
	kfree(inst);
}
