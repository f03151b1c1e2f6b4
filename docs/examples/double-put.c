/*
 * An error path that drops a reference its caller drops again: dev_start()
 * puts the device when it is busy, and dev_ioctl() puts it once more, so the
 * published device is freed while the_dev still points to it.
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct dev {
	int busy;
	struct kref ref;
};

static DEFINE_MUTEX(dev_lock);
static struct dev *the_dev;	/* holds one reference */

static void dev_release(struct kref *kref)
{
	struct dev *d = container_of(kref, struct dev, ref);

	kfree(d);
}

int dev_probe(void)
{
	struct dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return -ENOMEM;
	kref_init(&d->ref);
	mutex_lock(&dev_lock);
	if (the_dev) {
		mutex_unlock(&dev_lock);
		kfree(d);
		return -EBUSY;
	}
	the_dev = d;
	mutex_unlock(&dev_lock);
	return 0;
}

static int dev_start(struct dev *d, int busy)
{
	if (busy) {
		kref_put(&d->ref, dev_release);	/* BUG: the caller puts too */
		return -EBUSY;
	}
	d->busy = 1;
	return 0;
}

int dev_ioctl(int busy)
{
	struct dev *d;
	int ret;

	mutex_lock(&dev_lock);
	d = the_dev;
	if (d)
		kref_get(&d->ref);
	mutex_unlock(&dev_lock);
	if (!d)
		return -ENODEV;
	ret = dev_start(d, busy);
	kref_put(&d->ref, dev_release);
	return ret;
}
