// mkverify: expect = "ok"
/*
 * The repaired use-after-free-trigger-completion: xfer_wait() takes a
 * reference to the transfer under xfer_lock and drops it after its last
 * use, so the transfer outlives every waiter.
 */
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct xfer {
	int result;
	struct completion done;
	struct kref ref;	/* xfer_cur holds one reference, each waiter one */
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
	if (x)
		kref_get(&x->ref);
	mutex_unlock(&xfer_lock);
	if (!x)
		return -ENOENT;
	if (wait_for_completion_killable(&x->done))
		ret = -ERESTARTSYS;
	else
		ret = x->result;
	kref_put(&x->ref, xfer_release);
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
