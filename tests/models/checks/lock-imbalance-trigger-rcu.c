// mkverify: expect = "violations"
// mkverify: checks = ["lock-imbalance"]
/*
 * An error path that leaves the RCU read-side section open. Devices sit on
 * an RCU list; dev_unregister() unlinks a device and marks it dead, and
 * dev_mtu(), a lookup under rcu_read_lock(), refuses a dead device it
 * found with -ENODEV, but forgets rcu_read_unlock() on that path: the CPU
 * goes back to user space inside a read-side section, and no grace period
 * can end any more (the dead device is never freed).
 */
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct netdev {
	int ifindex;
	int mtu;
	bool dead;	/* unlinked by dev_unregister(); written under netdevs_lock */
	struct list_head node;
	struct rcu_head rcu;
};

static LIST_HEAD(netdevs);
static DEFINE_SPINLOCK(netdevs_lock);	/* serializes the updaters of netdevs */

int dev_register(int ifindex)
{
	struct netdev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return -ENOMEM;
	d->ifindex = ifindex;
	d->mtu = 1500;
	spin_lock(&netdevs_lock);
	list_add_rcu(&d->node, &netdevs);
	spin_unlock(&netdevs_lock);
	return 0;
}

int dev_mtu(int ifindex)
{
	struct netdev *d;
	int mtu;

	rcu_read_lock();
	list_for_each_entry_rcu(d, &netdevs, node) {
		if (d->ifindex == ifindex) {
			if (d->dead)
				return -ENODEV;	/* BUG: still inside the read-side section */
			mtu = d->mtu;
			rcu_read_unlock();
			return mtu;
		}
	}
	rcu_read_unlock();
	return -ENODEV;
}

int dev_unregister(int ifindex)
{
	struct netdev *d, *found = NULL;

	spin_lock(&netdevs_lock);
	list_for_each_entry(d, &netdevs, node) {
		if (d->ifindex == ifindex) {
			list_del_rcu(&d->node);
			d->dead = true;	/* as it unlinks it; readers may still see it */
			found = d;
			break;
		}
	}
	spin_unlock(&netdevs_lock);
	if (!found)
		return -ENODEV;
	kfree_rcu(found, rcu);
	return 0;
}
