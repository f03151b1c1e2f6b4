// mkverify: expect = "violations"
// mkverify: checks = ["get-after-release", "use-after-free"]
// mkverify: trace = 18
/*
 * A port registry whose objects are kobjects: port_ktype's release frees
 * the port when the last reference goes. port_get() looks the current port
 * up under port_lock but takes its reference only after dropping the lock,
 * so port_remove() can drop the registry's reference (and the release free
 * the port) in between: kobject_get then finds a count of zero (the
 * release has started) or touches freed memory.
 */
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct port {
	int users;
	struct kobject kobj;	/* the_port holds one reference */
};

static void port_release(struct kobject *kobj);

static struct kobj_type port_ktype = {
	.release = port_release,
};

static DEFINE_MUTEX(port_lock);	/* protects the_port */
static struct port *the_port;

static void port_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct port, kobj));
}

int port_add(void)
{
	struct port *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	if (kobject_init_and_add(&p->kobj, &port_ktype, NULL, "port%d", 0)) {
		kobject_put(&p->kobj);
		return -EINVAL;
	}
	mutex_lock(&port_lock);
	if (the_port) {
		mutex_unlock(&port_lock);
		kobject_put(&p->kobj);
		return -EBUSY;
	}
	the_port = p;
	mutex_unlock(&port_lock);
	return 0;
}

int port_get(void)
{
	struct port *p;

	mutex_lock(&port_lock);
	p = the_port;
	mutex_unlock(&port_lock);
	if (!p)
		return -ENOENT;
	kobject_get(&p->kobj);	/* BUG: after the unlock, p may already be released */
	p->users = 1;
	kobject_put(&p->kobj);
	return 0;
}

int port_remove(void)
{
	struct port *p;

	mutex_lock(&port_lock);
	p = the_port;
	the_port = NULL;
	mutex_unlock(&port_lock);
	kobject_put(p ? &p->kobj : NULL);
	return 0;
}
