// mkverify: expect = "ok"
/*
 * The twin of lock-imbalance-trigger-rcu.c, repaired: dev_mtu() leaves its
 * read-side section on the path that refuses a dead device too.
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
			if (d->dead) {
				rcu_read_unlock();
				return -ENODEV;
			}
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
