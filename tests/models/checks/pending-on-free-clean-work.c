// mkverify: expect = "ok"
/*
 * The twin of pending-on-free-trigger-work.c, repaired: port_remove()
 * calls cancel_work_sync() after the unpublish and before the free. It
 * takes a queued event work off the queue and waits for a running one to
 * finish; port_irq() no longer finds the port, so nothing queues the work
 * again.
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
	cancel_work_sync(&p->event_work);
	kfree(p);
}
