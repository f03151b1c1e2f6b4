/*
 * Teardown with cancel_work_sync(): objects looked up by id, with a
 * reference count and a work item that writes them back in the background.
 *
 * buf_idr holds one reference on each buffer; a user looks a buffer up by
 * id under buf_lock and takes a reference of its own (buf_get()).
 * buf_write() stands for a write(2) to the buffer: it copies the data in
 * and queues the buffer's flush work, which a worker runs later
 * (buf_flush_work()). The work holds no reference, so buf_destroy() must
 * not drop the table's reference while the work is queued or running: it
 * takes the buffer out of buf_idr, cancels the work with
 * cancel_work_sync(), which also waits for a buf_flush_work() already
 * running, and only then puts the table's reference. No one queues the
 * work again after the cancel: buf_write() queues it under buf_lock, and
 * only while the buffer is still in buf_idr.
 *
 * Clean on every engine: no use after free, no work pending on a freed
 * buffer, no refcount error, no leak, no deadlock.
 */
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#define MAX_BUFS 2

struct buf {
	int data;
	bool dirty;
	struct kref ref;		/* buf_idr holds one reference, each user one */
	struct work_struct flush_work;	/* writes a dirty buffer back */
};

static DEFINE_MUTEX(buf_lock);	/* protects buf_idr */
static DEFINE_IDR(buf_idr);

/* the last reference is gone: free the buffer */
static void buf_release(struct kref *ref)
{
	kfree(container_of(ref, struct buf, ref));
}

/* on a worker: write the buffer back (it takes no reference) */
static void buf_flush_work(struct work_struct *work)
{
	struct buf *b = container_of(work, struct buf, flush_work);

	if (b->dirty)
		b->dirty = false;	/* stands for writing b->data to the device */
}

/* create a buffer and publish it in buf_idr: returns its id */
int buf_create(void)
{
	struct buf *b = kzalloc(sizeof(*b), GFP_KERNEL);
	int id;

	if (!b)
		return -ENOMEM;
	kref_init(&b->ref);	/* buf_idr's reference */
	INIT_WORK(&b->flush_work, buf_flush_work);
	mutex_lock(&buf_lock);
	id = idr_alloc(&buf_idr, b, 1, MAX_BUFS + 1, GFP_KERNEL);
	mutex_unlock(&buf_lock);
	if (id < 0)
		kfree(b);	/* never published */
	return id;
}

/* the lookup: returns a counted reference to the buffer, or NULL */
static struct buf *buf_get(int id)
{
	struct buf *b;

	mutex_lock(&buf_lock);
	b = idr_find(&buf_idr, id);
	if (b)
		kref_get(&b->ref);
	mutex_unlock(&buf_lock);
	return b;
}

/* a write to the buffer: copy the data in, then flush it in the background */
int buf_write(int id, int data)
{
	struct buf *b = buf_get(id);

	if (!b)
		return -ENOENT;
	b->data = data;	/* stands for copy_from_user(), which may sleep */
	b->dirty = true;
	mutex_lock(&buf_lock);
	/*
	 * Queue the work only while the buffer is still in the table, that
	 * is before buf_destroy() cancels it. Queued unconditionally, the work
	 * could be queued again after the cancel: a pending-on-free at the
	 * last put.
	 */
	if (idr_find(&buf_idr, id) == b)
		schedule_work(&b->flush_work);
	mutex_unlock(&buf_lock);
	kref_put(&b->ref, buf_release);
	return 0;
}

/* teardown: unpublish the buffer, cancel its work, drop the table's reference */
int buf_destroy(int id)
{
	struct buf *b;

	mutex_lock(&buf_lock);
	b = idr_remove(&buf_idr, id);
	mutex_unlock(&buf_lock);
	if (!b)
		return -ENOENT;
	/*
	 * Without this cancel_work_sync(), mkverify finds a pending-on-free
	 * (the put below, or a user's, frees the buffer with its flush work
	 * still queued) and a use-after-free (buf_flush_work() already runs
	 * when the buffer is freed). The non-waiting cancel_work() leaves the
	 * use-after-free.
	 */
	cancel_work_sync(&b->flush_work);
	kref_put(&b->ref, buf_release);
	return 0;
}
