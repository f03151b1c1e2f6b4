// mkverify: expect = "violations"
// mkverify: checks = ["pending-on-free"]
/*
 * A remove path that frees a device whose work item may still be queued.
 * The interrupt handler, port_irq(), defers the event handling to process
 * context with schedule_work(); the work function finds the port with
 * container_of() and counts the event. port_remove() unpublishes the port
 * under port_lock, so no new interrupt can queue the work, but it frees
 * the port without cancel_work_sync(): a work item queued before the
 * unpublish is still pending, and the worker would run it on freed memory
 * (debugobjects: "ODEBUG: free active object").
 */
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

struct port {
	int events;
	struct work_struct event_work;	/* handles the events port_irq() saw */
};

static DEFINE_SPINLOCK(port_lock);	/* protects the_port */
static struct port *the_port;

static void port_event_work(struct work_struct *work)
{
	struct port *p = container_of(work, struct port, event_work);

	p->events++;
}

int port_probe(void)
{
	struct port *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	INIT_WORK(&p->event_work, port_event_work);
	spin_lock(&port_lock);
	if (the_port) {
		spin_unlock(&port_lock);
		kfree(p);
		return -EBUSY;
	}
	the_port = p;
	spin_unlock(&port_lock);
	return 0;
}

void port_irq(void)
{
	spin_lock(&port_lock);
	if (the_port)
		schedule_work(&the_port->event_work);
	spin_unlock(&port_lock);
}

void port_remove(void)
{
	struct port *p;

	spin_lock(&port_lock);
	p = the_port;
	the_port = NULL;
	spin_unlock(&port_lock);
	if (!p)
		return;
	kfree(p);	/* BUG: event_work may still be queued */
}
