// mkverify: expect = "violations"
// mkverify: checks = ["get-after-release"]
/*
 * kref_get() in an RCU lookup. Clients sit on an RCU list that holds one
 * reference to each; client_remove() unlinks a client and puts that
 * reference, and the last put frees it with kfree_rcu(). client_ping()
 * finds the client under rcu_read_lock() and takes its own reference with
 * kref_get(). RCU keeps the memory valid for the reader, not the count
 * above zero: a reader that found the client before the unlink can come
 * after the final put, and kref_get() revives an object being released.
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct client {
	int id;
	bool pinged;
	struct kref ref;	/* the list holds one reference */
	struct list_head node;
	struct rcu_head rcu;
};

static LIST_HEAD(clients);
static DEFINE_MUTEX(clients_lock);	/* serializes the updaters of clients */

static void client_release(struct kref *ref)
{
	struct client *c = container_of(ref, struct client, ref);

	kfree_rcu(c, rcu);
}

int client_add(int id)
{
	struct client *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->id = id;
	kref_init(&c->ref);
	mutex_lock(&clients_lock);
	list_add_rcu(&c->node, &clients);
	mutex_unlock(&clients_lock);
	return 0;
}

int client_ping(int id)
{
	struct client *c, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(c, &clients, node) {
		if (c->id == id) {
			kref_get(&c->ref);	/* BUG: the count may already be zero */
			found = c;
			break;
		}
	}
	rcu_read_unlock();
	if (!found)
		return -ENOENT;
	found->pinged = true;
	kref_put(&found->ref, client_release);
	return 0;
}

int client_remove(int id)
{
	struct client *c, *found = NULL;

	mutex_lock(&clients_lock);
	list_for_each_entry(c, &clients, node) {
		if (c->id == id) {
			list_del_rcu(&c->node);
			found = c;
			break;
		}
	}
	mutex_unlock(&clients_lock);
	if (!found)
		return -ENOENT;
	kref_put(&found->ref, client_release);
	return 0;
}
