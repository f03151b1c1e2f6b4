// mkverify: expect = "ok"
/*
 * The repaired lock-imbalance-trigger-freed: port_destroy() releases the
 * port's spinlock before freeing the port.
 */
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct port {
	spinlock_t lock;
	bool dead;
	int last_len;
};

static DEFINE_MUTEX(port_mutex);
static struct port *the_port;

int port_create(void)
{
	struct port *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	mutex_lock(&port_mutex);
	if (the_port) {
		mutex_unlock(&port_mutex);
		kfree(p);
		return -EBUSY;
	}
	the_port = p;
	mutex_unlock(&port_mutex);
	return 0;
}

int port_xmit(int len)
{
	struct port *p;

	mutex_lock(&port_mutex);
	p = the_port;
	if (!p) {
		mutex_unlock(&port_mutex);
		return -ENODEV;
	}
	spin_lock(&p->lock);
	p->last_len = len;
	spin_unlock(&p->lock);
	mutex_unlock(&port_mutex);
	return 0;
}

void port_destroy(void)
{
	struct port *p;

	mutex_lock(&port_mutex);
	p = the_port;
	the_port = NULL;
	mutex_unlock(&port_mutex);
	if (!p)
		return;
	spin_lock(&p->lock);
	p->dead = true;
	spin_unlock(&p->lock);
	kfree(p);
}
