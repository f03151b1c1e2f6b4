// mkverify: expect = "violations"
// mkverify: checks = ["deadlock"]
/*
 * synchronize_rcu() inside an RCU read-side section. Leases sit on an RCU
 * list. lease_expire() finds a lease under rcu_read_lock(), unlinks it
 * under leases_lock and waits for a grace period before freeing it, but
 * it waits before its own rcu_read_unlock(): the grace period cannot end
 * while this CPU's reader is in progress, so synchronize_rcu() never
 * returns.
 */
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct lease {
	int id;
	bool expired;	/* unlinked from leases; under leases_lock */
	struct list_head node;
};

static LIST_HEAD(leases);
static DEFINE_SPINLOCK(leases_lock);	/* serializes the updaters of leases */

int lease_add(int id)
{
	struct lease *l = kzalloc(sizeof(*l), GFP_KERNEL);

	if (!l)
		return -ENOMEM;
	l->id = id;
	spin_lock(&leases_lock);
	list_add_rcu(&l->node, &leases);
	spin_unlock(&leases_lock);
	return 0;
}

int lease_expire(int id)
{
	struct lease *l, *victim = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(l, &leases, node) {
		if (l->id == id) {
			spin_lock(&leases_lock);
			if (!l->expired) {	/* another lease_expire() may have unlinked it */
				l->expired = true;
				list_del_rcu(&l->node);
				victim = l;
			}
			spin_unlock(&leases_lock);
			break;
		}
	}
	if (victim) {
		synchronize_rcu();	/* BUG: waits for this CPU's own read-side section */
		kfree(victim);
	}
	rcu_read_unlock();
	return victim ? 0 : -ENOENT;
}
