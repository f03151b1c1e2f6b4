// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
/*
 * A pointer found under rcu_read_lock() used after rcu_read_unlock().
 * Connections sit on an RCU list that holds one reference to each; the
 * last kref_put() frees the connection with kfree_rcu(). conn_send() looks
 * a connection up inside a read-side section but uses it after leaving the
 * section, holding no reference: the grace period of a concurrent
 * conn_close() can end in between, and the connection is freed under it.
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
		if (c->id == id) {
			found = c;
			break;
		}
	}
	rcu_read_unlock();
	if (!found)
		return -ENOENT;
	found->sent = true;	/* BUG: past the read-side section, with no reference */
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
