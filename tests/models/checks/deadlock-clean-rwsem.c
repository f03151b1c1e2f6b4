// mkverify: expect = "ok"
/*
 * The repaired deadlock-trigger-rwsem: stats_show() takes dev_rwsem for
 * reading before stats_lock, in the order dev_register() takes them.
 */
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/slab.h>

struct mk_dev {
	int id;
};

static DECLARE_RWSEM(dev_rwsem);	/* protects dev */
static DEFINE_MUTEX(stats_lock);	/* protects last_id */
static struct mk_dev *dev;
static int last_id;

int dev_register(int id)
{
	struct mk_dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return -ENOMEM;
	d->id = id;
	down_write(&dev_rwsem);
	if (dev) {
		up_write(&dev_rwsem);
		kfree(d);
		return -EBUSY;
	}
	dev = d;
	mutex_lock(&stats_lock);
	last_id = id;
	mutex_unlock(&stats_lock);
	up_write(&dev_rwsem);
	return 0;
}

int stats_show(void)
{
	int ret = -ENODEV;

	down_read(&dev_rwsem);
	mutex_lock(&stats_lock);
	if (dev)
		ret = dev->id == last_id;
	mutex_unlock(&stats_lock);
	up_read(&dev_rwsem);
	return ret;
}

void dev_unregister(void)
{
	struct mk_dev *d;

	down_write(&dev_rwsem);
	d = dev;
	dev = NULL;
	up_write(&dev_rwsem);
	kfree(d);
}
