// mkverify: expect = "violations"
// mkverify: checks = ["pending-on-free", "use-after-free"]
// mkverify: trace = { pending-on-free = 13, use-after-free = 15 }
/*
 * A remove path that frees a device whose work item may still be queued.
 * port_probe() publishes the port and schedules its event work to bring
 * the link up; the interrupt handler, port_irq(), schedules it again for
 * every event. The work function finds the port with container_of().
 * port_remove() unpublishes the port under port_lock, so no new event can
 * queue the work, but it frees the port without cancel_work_sync(): a work
 * item queued before the unpublish is still pending (debugobjects: "free
 * active object"), or the worker already runs it and writes to the freed
 * port.
 */
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

struct port {
	bool serviced;
	struct work_struct event_work;	/* services the device's events */
};

static DEFINE_SPINLOCK(port_lock);	/* protects the_port */
static struct port *the_port;

static void port_event_work(struct work_struct *work)
{
	struct port *p = container_of(work, struct port, event_work);

	p->serviced = true;	/* stands for reading the event registers */
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
	schedule_work(&p->event_work);	/* bring the link up */
	spin_unlock(&port_lock);
	return 0;
}

void port_irq(void)
{
	struct port *p;

	spin_lock(&port_lock);
	p = the_port;
	if (p)
		schedule_work(&p->event_work);
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
	kfree(p);	/* BUG: event_work may still be queued or running */
}
