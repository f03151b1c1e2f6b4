// mkverify: expect = "violations"
// mkverify: checks = ["lock-imbalance", "use-after-free"]
// mkverify: trace = { lock-imbalance = 6, use-after-free = 15 }
/*
 * The error of mutex_lock_interruptible() ignored. buf_write() writes to
 * the device's buffer under buf_lock, but when a signal interrupts its
 * wait for the lock it goes on as if it held it: buf_release(), the
 * holder, can free the buffer under its feet (use-after-free), and the
 * final mutex_unlock() releases a lock this task does not hold
 * (lock-imbalance: the same bug, on the paths that do not touch the
 * freed buffer).
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

	mutex_lock_interruptible(&buf_lock);	/* BUG: -EINTR ignored */
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
