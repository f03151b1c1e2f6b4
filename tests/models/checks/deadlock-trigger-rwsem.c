// mkverify: expect = "violations"
// mkverify: checks = ["deadlock"]
// mkverify: trace = 7
/*
 * ABBA through a reader-writer semaphore. The registered device is
 * published under dev_rwsem held for writing, and dev_register() then
 * records its id under stats_lock, a mutex. stats_show() takes stats_lock
 * first and dev_rwsem for reading inside it. A reader waits behind a
 * writer like any locker, so CPU0 holding dev_rwsem for writing and
 * waiting for stats_lock, and CPU1 holding stats_lock and waiting in
 * down_read(), wait for each other forever.
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

	mutex_lock(&stats_lock);
	/* BUG: dev_rwsem nests outside stats_lock in dev_register() */
	down_read(&dev_rwsem);
	if (dev)
		ret = dev->id == last_id;
	up_read(&dev_rwsem);
	mutex_unlock(&stats_lock);
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
