// mkverify: expect = "ok"
/*
 * The twin of sleep-in-atomic-trigger-spinlock.c, repaired: route_del()
 * drops route_lock before it waits for the grace period. The route is off
 * the list by then, so no new reader can find it, and synchronize_rcu()
 * waits for the readers that still may.
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
	spin_unlock(&route_lock);
	if (!found)
		return -ENOENT;
	synchronize_rcu();
	kfree(found);
	return 0;
}
