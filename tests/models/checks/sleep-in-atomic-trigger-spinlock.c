// mkverify: expect = "violations"
// mkverify: checks = ["sleep-in-atomic"]
/*
 * synchronize_rcu() with a spinlock held. Routes sit on an RCU list whose
 * updaters take route_lock, a spinlock; readers walk it under
 * rcu_read_lock(). route_del() unlinks a route and waits for a grace
 * period before freeing it, but it waits with route_lock still held:
 * synchronize_rcu() sleeps, and a spinlock holder must not ("BUG:
 * sleeping function called from invalid context").
 */
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct route {
	int dst;
	int dev;
	struct list_head node;
};

static LIST_HEAD(routes);
static DEFINE_SPINLOCK(route_lock);	/* serializes the updaters of routes */

int route_add(int dst)
{
	struct route *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return -ENOMEM;
	r->dst = dst;
	r->dev = 1;
	spin_lock(&route_lock);
	list_add_rcu(&r->node, &routes);
	spin_unlock(&route_lock);
	return 0;
}

int route_lookup(int dst)
{
	struct route *r;
	int dev = -ENOENT;

	rcu_read_lock();
	list_for_each_entry_rcu(r, &routes, node) {
		if (r->dst == dst) {
			dev = r->dev;
			break;
		}
	}
	rcu_read_unlock();
	return dev;
}

int route_del(int dst)
{
	struct route *r, *found = NULL;

	spin_lock(&route_lock);
	list_for_each_entry(r, &routes, node) {
		if (r->dst == dst) {
			list_del_rcu(&r->node);
			found = r;
			break;
		}
	}
	if (found)
		synchronize_rcu();	/* BUG: sleeps with route_lock held */
	spin_unlock(&route_lock);
	if (!found)
		return -ENOENT;
	kfree(found);
	return 0;
}
