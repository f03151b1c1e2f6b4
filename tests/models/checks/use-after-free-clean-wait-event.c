// mkverify: expect = "ok"
/*
 * The repaired twin of use-after-free-trigger-wait-event.c: the consumer
 * waits with wait_event(), which does not give up, so the producer has
 * finished with the buffer when it is freed.
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

	mutex_lock(&pending_lock);
	b = pending;
	pending = NULL;
	mutex_unlock(&pending_lock);
	if (!b)
		return -ENOENT;
	wait_event(filled_wq, READ_ONCE(b->filled));
	kfree(b);
	return 0;
}
