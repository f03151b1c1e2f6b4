// mkverify: expect = "ok"
/*
 * The twin of deadlock-trigger-rcu.c, repaired: lease_expire() leaves its
 * read-side section before it waits for the grace period. The lease is
 * off the list by then and only this CPU frees it (the expired flag), so
 * it needs no protection from RCU any more.
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
	rcu_read_unlock();
	if (victim) {
		synchronize_rcu();
		kfree(victim);
	}
	return victim ? 0 : -ENOENT;
}
