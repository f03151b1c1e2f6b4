// mkverify: expect = "ok"
/*
 * The twin of use-after-free-trigger-rcu-unlock.c, repaired: conn_send()
 * takes a reference with kref_get_unless_zero() inside the read-side
 * section (skipping a connection whose last reference is gone) and puts it
 * after its use, so the connection outlives rcu_read_unlock().
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct conn {
	int id;
	bool sent;
	struct kref ref;	/* the list holds one reference */
	struct list_head node;
	struct rcu_head rcu;
};

static LIST_HEAD(conns);
static DEFINE_MUTEX(conns_lock);	/* serializes the updaters of conns */

static void conn_release(struct kref *ref)
{
	struct conn *c = container_of(ref, struct conn, ref);

	kfree_rcu(c, rcu);
}

int conn_open(int id)
{
	struct conn *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->id = id;
	kref_init(&c->ref);
	mutex_lock(&conns_lock);
	list_add_rcu(&c->node, &conns);
	mutex_unlock(&conns_lock);
	return 0;
}

int conn_send(int id)
{
	struct conn *c, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(c, &conns, node) {
		if (c->id == id && kref_get_unless_zero(&c->ref)) {
			found = c;
			break;
		}
	}
	rcu_read_unlock();
	if (!found)
		return -ENOENT;
	found->sent = true;
	kref_put(&found->ref, conn_release);
	return 0;
}

int conn_close(int id)
{
	struct conn *c, *found = NULL;

	mutex_lock(&conns_lock);
	list_for_each_entry(c, &conns, node) {
		if (c->id == id) {
			list_del_rcu(&c->node);
			found = c;
			break;
		}
	}
	mutex_unlock(&conns_lock);
	if (!found)
		return -ENOENT;
	kref_put(&found->ref, conn_release);
	return 0;
}
