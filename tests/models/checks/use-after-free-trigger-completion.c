// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
// mkverify: trace = 20
/*
 * A teardown that frees the object a waiter sleeps on. xfer_wait() finds
 * the current transfer under xfer_lock and, after the unlock, sleeps in
 * wait_for_completion_killable() until xfer_cancel() wakes every waiter
 * with complete_all() and drops the last reference. The waiter holds no
 * reference: the transfer can be freed while it still sleeps on
 * xfer->done, or just before it reads xfer->result after waking.
 */
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct xfer {
	int result;
	struct completion done;
	struct kref ref;	/* xfer_cur holds one reference */
};

static DEFINE_MUTEX(xfer_lock);	/* protects xfer_cur */
static struct xfer *xfer_cur;

static void xfer_release(struct kref *ref)
{
	kfree(container_of(ref, struct xfer, ref));
}

int xfer_start(void)
{
	struct xfer *x = kzalloc(sizeof(*x), GFP_KERNEL);

	if (!x)
		return -ENOMEM;
	init_completion(&x->done);
	kref_init(&x->ref);
	mutex_lock(&xfer_lock);
	if (xfer_cur) {
		mutex_unlock(&xfer_lock);
		kfree(x);
		return -EBUSY;
	}
	xfer_cur = x;
	mutex_unlock(&xfer_lock);
	return 0;
}

int xfer_wait(void)
{
	struct xfer *x;
	int ret;

	mutex_lock(&xfer_lock);
	x = xfer_cur;
	mutex_unlock(&xfer_lock);	/* BUG: no reference keeps x alive past here */
	if (!x)
		return -ENOENT;
	if (wait_for_completion_killable(&x->done))
		ret = -ERESTARTSYS;
	else
		ret = x->result;
	return ret;
}

void xfer_cancel(void)
{
	struct xfer *x;

	mutex_lock(&xfer_lock);
	x = xfer_cur;
	xfer_cur = NULL;
	mutex_unlock(&xfer_lock);
	if (!x)
		return;
	x->result = -EIO;
	complete_all(&x->done);
	kref_put(&x->ref, xfer_release);
}
