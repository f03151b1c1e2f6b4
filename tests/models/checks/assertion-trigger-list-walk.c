// mkverify: expect = "violations"
// mkverify: checks = ["assertion"]
/*
 * list_del() inside list_for_each_entry(). A port queues itself on the
 * pending list when it has work; port_flush() walks the list, does each
 * port's work and takes the port off the list in the loop body. The walk
 * then steps from the deleted node, whose links list_del() poisoned: the
 * kernel follows LIST_POISON1 and oopses. (The port stays allocated: it
 * belongs to the_port, not to the list.)
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
	struct port *p;

	mutex_lock(&pending_lock);
	list_for_each_entry(p, &pending, node) {
		p->flushed = true;
		p->queued = false;
		list_del(&p->node);	/* BUG: the walk goes on from this node */
	}
	mutex_unlock(&pending_lock);
}
