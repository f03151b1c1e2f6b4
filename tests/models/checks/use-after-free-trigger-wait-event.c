// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
/*
 * A consumer takes a published buffer and waits with
 * wait_event_interruptible() until the producer has filled it, then frees
 * it. On a signal the wait returns -ERESTARTSYS, and this consumer frees the
 * buffer anyway, while the producer may still be filling it: the producer's
 * write is a use after free.
 */
#include <linux/wait.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct buf {
	int data;
	int filled;
};

static struct buf *pending;
static DEFINE_MUTEX(pending_lock);
static DECLARE_WAIT_QUEUE_HEAD(filled_wq);

int buf_produce(void)
{
	struct buf *b = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!b)
		return -ENOMEM;
	mutex_lock(&pending_lock);
	if (pending) {
		mutex_unlock(&pending_lock);
		kfree(b);
		return -EBUSY;
	}
	pending = b;
	mutex_unlock(&pending_lock);
	b->data = 42;
	WRITE_ONCE(b->filled, 1);
	wake_up(&filled_wq);
	return 0;
}

int buf_consume(void)
{
	struct buf *b;
	int ret;

	mutex_lock(&pending_lock);
	b = pending;
	pending = NULL;
	mutex_unlock(&pending_lock);
	if (!b)
		return -ENOENT;
	ret = wait_event_interruptible(filled_wq, READ_ONCE(b->filled));
	kfree(b);	/* BUG: on -ERESTARTSYS the producer may still write to b */
	return ret;
}
