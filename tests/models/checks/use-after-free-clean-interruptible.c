// mkverify: expect = "ok"
/*
 * The repaired use-after-free-trigger-interruptible: buf_write() returns
 * -EINTR, touching nothing, when a signal interrupts its wait for
 * buf_lock.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

struct buf {
	int data;
};

static DEFINE_MUTEX(buf_lock);	/* protects the_buf and its contents */
static struct buf *the_buf;

int buf_alloc(void)
{
	struct buf *b = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!b)
		return -ENOMEM;
	mutex_lock(&buf_lock);
	if (the_buf) {
		mutex_unlock(&buf_lock);
		kfree(b);
		return -EBUSY;
	}
	the_buf = b;
	mutex_unlock(&buf_lock);
	return 0;
}

int buf_write(int v)
{
	struct buf *b;
	int ret = -ENODEV;

	if (mutex_lock_interruptible(&buf_lock))
		return -EINTR;
	b = the_buf;
	if (b) {
		b->data = v;
		ret = b->data == v ? 0 : -EIO;
	}
	mutex_unlock(&buf_lock);
	return ret;
}

int buf_release(void)
{
	struct buf *b;

	mutex_lock(&buf_lock);
	b = the_buf;
	the_buf = NULL;
	kfree(b);
	mutex_unlock(&buf_lock);
	return 0;
}
