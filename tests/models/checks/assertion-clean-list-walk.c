// mkverify: expect = "ok"
/*
 * The twin of assertion-trigger-list-walk.c, repaired: port_flush() walks
 * the pending list with list_for_each_entry_safe(), which reads the next
 * node before the body runs, so the body may take the current one off the
 * list.
 */
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct port {
	bool queued;	/* on pending; under pending_lock */
	bool flushed;
	struct list_head node;
};

static struct port *the_port;
static LIST_HEAD(pending);
static DEFINE_MUTEX(pending_lock);	/* protects pending and the_port */

int port_open(void)
{
	struct port *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	mutex_lock(&pending_lock);
	if (the_port) {
		mutex_unlock(&pending_lock);
		kfree(p);
		return -EBUSY;
	}
	the_port = p;
	mutex_unlock(&pending_lock);
	return 0;
}

int port_kick(void)
{
	struct port *p;

	mutex_lock(&pending_lock);
	p = the_port;
	if (p && !p->queued) {
		p->queued = true;
		list_add_tail(&p->node, &pending);
	}
	mutex_unlock(&pending_lock);
	return p ? 0 : -ENODEV;
}

void port_flush(void)
{
	struct port *p, *n;

	mutex_lock(&pending_lock);
	list_for_each_entry_safe(p, n, &pending, node) {
		p->flushed = true;
		p->queued = false;
		list_del(&p->node);
	}
	mutex_unlock(&pending_lock);
}
