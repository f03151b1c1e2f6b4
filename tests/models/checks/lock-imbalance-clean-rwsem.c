// mkverify: expect = "ok"
/*
 * The repaired lock-imbalance-trigger-rwsem: port_speed_show() drops the
 * read lock on its error path too.
 */
#include <linux/rwsem.h>
#include <linux/slab.h>

struct port {
	int speed;
};

static DECLARE_RWSEM(port_rwsem);	/* protects port */
static struct port *port;

int port_attach(int speed)
{
	struct port *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	p->speed = speed;
	if (down_write_killable(&port_rwsem)) {
		kfree(p);
		return -EINTR;
	}
	if (port) {
		up_write(&port_rwsem);
		kfree(p);
		return -EBUSY;
	}
	port = p;
	up_write(&port_rwsem);
	return 0;
}

int port_speed_show(void)
{
	int ret = -ENODEV;

	down_read(&port_rwsem);
	if (port)
		ret = port->speed;
	up_read(&port_rwsem);
	return ret;
}

int port_detach(void)
{
	struct port *p;

	if (down_write_killable(&port_rwsem))
		return -EINTR;
	p = port;
	port = NULL;
	up_write(&port_rwsem);
	kfree(p);
	return 0;
}
