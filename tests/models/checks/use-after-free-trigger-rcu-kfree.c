// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
/*
 * An RCU list entry freed without waiting for a grace period. Peers sit on
 * an RCU list; peer_mtu() walks it under rcu_read_lock() and reads the
 * peer it finds. peer_del() unlinks the peer with list_del_rcu() under
 * peers_lock, which is right, but then frees it at once with kfree(): a
 * reader that found the peer before the unlink is still in its read-side
 * section and reads freed memory.
 */
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct peer {
	int id;
	int mtu;
	struct list_head node;
	struct rcu_head rcu;
};

static LIST_HEAD(peers);
static DEFINE_MUTEX(peers_lock);	/* serializes the updaters of peers */

int peer_add(int id)
{
	struct peer *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	p->id = id;
	p->mtu = 1500;
	mutex_lock(&peers_lock);
	list_add_rcu(&p->node, &peers);
	mutex_unlock(&peers_lock);
	return 0;
}

int peer_mtu(int id)
{
	struct peer *p;
	int mtu = -ENOENT;

	rcu_read_lock();
	list_for_each_entry_rcu(p, &peers, node) {
		if (p->id == id) {
			mtu = p->mtu;
			break;
		}
	}
	rcu_read_unlock();
	return mtu;
}

int peer_del(int id)
{
	struct peer *p, *found = NULL;

	mutex_lock(&peers_lock);
	list_for_each_entry(p, &peers, node) {
		if (p->id == id) {
			list_del_rcu(&p->node);
			found = p;
			break;
		}
	}
	mutex_unlock(&peers_lock);
	if (!found)
		return -ENOENT;
	kfree(found);	/* BUG: readers may still hold it; no grace period */
	return 0;
}
