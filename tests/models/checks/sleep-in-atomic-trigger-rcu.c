// mkverify: expect = "violations"
// mkverify: checks = ["sleep-in-atomic"]
/*
 * A mutex taken inside an RCU read-side section. Sessions sit on an RCU
 * list; sess_hit() looks one up under rcu_read_lock() and, still inside
 * the section, takes the session's mutex to mark it used. mutex_lock()
 * may sleep, and an RCU reader must not: "BUG: sleeping function called
 * from invalid context". (The session itself is safe to touch: it is
 * freed with kfree_rcu().)
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct sess {
	int id;
	bool used;
	struct mutex lock;	/* protects used */
	struct kref ref;	/* the list holds one reference */
	struct list_head node;
	struct rcu_head rcu;
};

static LIST_HEAD(sessions);
static DEFINE_MUTEX(sessions_lock);	/* serializes the updaters of the list */

static void sess_release(struct kref *ref)
{
	struct sess *s = container_of(ref, struct sess, ref);

	kfree_rcu(s, rcu);
}

int sess_add(int id)
{
	struct sess *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->id = id;
	kref_init(&s->ref);
	mutex_lock(&sessions_lock);
	list_add_rcu(&s->node, &sessions);
	mutex_unlock(&sessions_lock);
	return 0;
}

int sess_hit(int id)
{
	struct sess *s, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(s, &sessions, node) {
		if (s->id == id) {
			found = s;
			break;
		}
	}
	if (found) {
		mutex_lock(&found->lock);	/* BUG: may sleep inside the read-side section */
		found->used = true;
		mutex_unlock(&found->lock);
	}
	rcu_read_unlock();
	return found ? 0 : -ENOENT;
}

int sess_del(int id)
{
	struct sess *s, *found = NULL;

	mutex_lock(&sessions_lock);
	list_for_each_entry(s, &sessions, node) {
		if (s->id == id) {
			list_del_rcu(&s->node);
			found = s;
			break;
		}
	}
	mutex_unlock(&sessions_lock);
	if (!found)
		return -ENOENT;
	kref_put(&found->ref, sess_release);
	return 0;
}
