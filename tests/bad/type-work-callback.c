// mkverify: error = "type error: INIT_WORK's callback dev_work must return void and take one struct work_struct * argument, not (struct dev *)"
// mkverify: where = "type-work-callback.c:25:22"
// mkverify: hint = "define it (at type-work-callback.c:14:13) as void dev_work(struct work_struct *p)"
/*
 * A work function written against the object instead of the work item: the
 * kernel calls it with the work_struct, so the model must find the object
 * with container_of.
 */
#include <linux/workqueue.h>
#include <linux/slab.h>

struct dev { int n; struct work_struct work; };

static void dev_work(struct dev *d)
{
	d->n = 1;
}

int dev_init(void)
{
	struct dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return -ENOMEM;
	INIT_WORK(&d->work, dev_work);
	kfree(d);
	return 0;
}
