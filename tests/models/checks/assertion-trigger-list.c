// mkverify: expect = "violations"
// mkverify: checks = ["assertion"]
// mkverify: trace = 15
/*
 * Adding a list node that is already on a list. req_submit() queues the
 * request on the pending list without checking whether it is still queued
 * from an earlier submission; list_add() of a queued node corrupts the
 * list (CONFIG_DEBUG_LIST reports it).
 */
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct request {
	int tag;
	struct list_head node;
};

static DEFINE_MUTEX(queue_lock);
static LIST_HEAD(pending);
static struct request *the_req;

int req_alloc(int tag)
{
	struct request *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return -ENOMEM;
	r->tag = tag;
	INIT_LIST_HEAD(&r->node);
	mutex_lock(&queue_lock);
	if (the_req) {
		mutex_unlock(&queue_lock);
		kfree(r);
		return -EBUSY;
	}
	the_req = r;
	mutex_unlock(&queue_lock);
	return 0;
}

int req_submit(void)
{
	struct request *r;

	mutex_lock(&queue_lock);
	r = the_req;
	if (!r) {
		mutex_unlock(&queue_lock);
		return -ENOENT;
	}
	list_add_tail(&r->node, &pending);	/* BUG: r may still be queued */
	mutex_unlock(&queue_lock);
	return 0;
}

void req_complete(void)
{
	struct request *r;

	mutex_lock(&queue_lock);
	r = the_req;
	if (r && !list_empty(&r->node))
		list_del_init(&r->node);
	mutex_unlock(&queue_lock);
}

void req_free(void)
{
	struct request *r;

	mutex_lock(&queue_lock);
	r = the_req;
	the_req = NULL;
	if (r && !list_empty(&r->node))
		list_del(&r->node);
	mutex_unlock(&queue_lock);
	kfree(r);
}
