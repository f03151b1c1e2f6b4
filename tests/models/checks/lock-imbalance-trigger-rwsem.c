// mkverify: expect = "violations"
// mkverify: checks = ["lock-imbalance"]
// mkverify: trace = 3
/*
 * An error path that keeps a reader-writer semaphore held for reading.
 * The attached port is published under port_rwsem; port_speed_show()
 * reads it with the semaphore held for reading and returns -ENODEV when
 * no port is attached, without up_read(). The task returns to user space
 * holding the read lock, and every later writer waits for it until it is
 * killed (the writers sleep in down_write_killable()).
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
	int ret;

	down_read(&port_rwsem);
	if (!port)
		return -ENODEV;	/* BUG: returns with port_rwsem held for reading */
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
