// mkverify: expect = "violations"
// mkverify: checks = ["deadlock"]
// mkverify: trace = 17
/*
 * A completion that an error path never completes. req_submit() queues a
 * request for the device and sleeps in wait_for_completion() until the
 * interrupt handler, req_irq(), takes the request off the queue and
 * completes it. When the device reports an error, req_irq() returns
 * early without complete(): the submitter sleeps forever. Once the queue
 * is empty again the other CPU submits too and sleeps as well, so every
 * CPU waits and none can go on.
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
	if (status < 0)
		return;	/* BUG: the submitter is never woken */
	r->status = status;
	complete(&r->done);
}
