// mkverify: expect = "violations"
// mkverify: checks = ["dangling-reference"]
// mkverify: trace = 14
/*
 * A device freed on removal while the global that published it still
 * points at it. dev_remove() marks the device gone and frees it but leaves
 * the_dev set; every reader checks dev_gone first, so nothing touches the
 * stale pointer yet, but any later path that trusts the_dev will.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

struct foo_dev {
	int id;
	int irq_count;
};

static DEFINE_MUTEX(dev_lock);
static struct foo_dev *the_dev;
static bool dev_gone;

int dev_probe(int id)
{
	struct foo_dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return -ENOMEM;
	d->id = id;
	mutex_lock(&dev_lock);
	if (the_dev || dev_gone) {
		mutex_unlock(&dev_lock);
		kfree(d);
		return -EBUSY;
	}
	the_dev = d;
	mutex_unlock(&dev_lock);
	return 0;
}

int dev_read(void)
{
	int n;

	mutex_lock(&dev_lock);
	if (dev_gone || !the_dev) {
		mutex_unlock(&dev_lock);
		return -ENODEV;
	}
	n = the_dev->irq_count;
	mutex_unlock(&dev_lock);
	return n;
}

void dev_remove(void)
{
	struct foo_dev *d;

	mutex_lock(&dev_lock);
	d = the_dev;
	if (!d || dev_gone) {
		mutex_unlock(&dev_lock);
		return;
	}
	dev_gone = true;
	/* BUG: the_dev still points at d after the kfree below */
	mutex_unlock(&dev_lock);
	kfree(d);
}
