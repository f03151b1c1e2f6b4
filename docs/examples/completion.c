/*
 * A completion handshake between a submitter and a handler, with a
 * reference count so that whichever side finishes last frees the request.
 *
 * req_submit() stands for a syscall that queues a request for the device
 * and sleeps until the device is done with it, at most a timeout long;
 * req_handle() stands for the device's interrupt handler (or the worker
 * it kicks), which takes the request off the queue, records its status
 * and completes it. The submitter may time out before the handler runs:
 * it then takes the request back off the queue itself, or, if the handler
 * already has it, leaves it to the handler. Each side holds a reference,
 * so the request lives until both are done with it.
 *
 * Clean on every engine: no use after free, no leak, no wait that nothing
 * completes.
 */
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif

struct request {
	int id;
	int status;			/* set by the handler before it completes */
	struct completion done;		/* completed once, by the handler */
	struct kref ref;		/* the submitter's, and the queue's or the handler's */
};

static DEFINE_SPINLOCK(queue_lock);	/* protects queued */
static struct request *queued;		/* the request the device has yet to take; holds a reference */

/* the last reference is gone: free the request */
static void req_release(struct kref *ref)
{
	struct request *r = container_of(ref, struct request, ref);

	kfree(r);
}

/* the syscall: queue a request, wait for the device, return its status */
int req_submit(int id)
{
	struct request *r;
	bool dequeued = false;
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->id = id;
	init_completion(&r->done);
	kref_init(&r->ref);		/* the submitter's reference */

	spin_lock(&queue_lock);
	if (queued) {			/* the device takes one request at a time */
		spin_unlock(&queue_lock);
		kfree(r);		/* never queued: nobody else can see it */
		return -EBUSY;
	}
	kref_get(&r->ref);		/* the queue's reference, passed on to the handler */
	queued = r;
	spin_unlock(&queue_lock);

	if (wait_for_completion_timeout(&r->done, msecs_to_jiffies(100))) {
		ret = r->status;
	} else {
		/* timed out: take the request back unless the handler has it already */
		spin_lock(&queue_lock);
		if (queued == r) {
			queued = NULL;
			dequeued = true;
		}
		spin_unlock(&queue_lock);
		if (dequeued)
			kref_put(&r->ref, req_release);	/* the queue's reference: not the last */
		ret = -ETIMEDOUT;
	}
	kref_put(&r->ref, req_release);	/* the submitter's: the last if the handler is done */
	return ret;
}

/* the interrupt handler: take the queued request, complete it, drop the queue's reference */
void req_handle(int status)
{
	struct request *r;

	spin_lock(&queue_lock);
	r = queued;
	queued = NULL;
	spin_unlock(&queue_lock);
	if (!r)
		return;
	r->status = status;
	complete(&r->done);
	kref_put(&r->ref, req_release);	/* the last if the submitter timed out */
}
