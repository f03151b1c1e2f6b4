// mkverify: expect = "ok"
/*
 * The repaired deadlock-trigger-completion: req_irq() completes the
 * request on its error path too, with the error as its status.
 */
#include <linux/completion.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct req {
	int status;
	struct completion done;
};

static DEFINE_SPINLOCK(queue_lock);	/* protects queued */
static struct req *queued;		/* the request the device works on */

int req_submit(void)
{
	struct req *r = kzalloc(sizeof(*r), GFP_KERNEL);
	int ret;

	if (!r)
		return -ENOMEM;
	init_completion(&r->done);
	spin_lock(&queue_lock);
	if (queued) {
		spin_unlock(&queue_lock);
		kfree(r);
		return -EBUSY;
	}
	queued = r;
	spin_unlock(&queue_lock);
	wait_for_completion(&r->done);
	ret = r->status;
	kfree(r);
	return ret;
}

void req_irq(int status)
{
	struct req *r;

	spin_lock(&queue_lock);
	r = queued;
	queued = NULL;
	spin_unlock(&queue_lock);
	if (!r)
		return;
	r->status = status;
	complete(&r->done);
}
