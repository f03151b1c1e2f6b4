// mkverify: expect = "ok"
/*
 * The twin of use-after-free-trigger-rcu-kfree.c, repaired: peer_del()
 * frees the unlinked peer with kfree_rcu(), which frees it only after a
 * grace period, once every reader that may have found it has left its
 * read-side section.
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
	kfree_rcu(found, rcu);
	return 0;
}
