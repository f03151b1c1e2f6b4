/*
 * Sessions on an RCU list, looked up without a lock: readers walk the list
 * under rcu_read_lock() and take a reference with kref_get_unless_zero();
 * updaters serialize on sessions_lock, unlink with list_del_rcu() and put
 * the list's reference. The last put frees the session with kfree_rcu(),
 * once every reader that may still see it has left its read-side section.
 * Clean: the reference a reader takes keeps the session alive after
 * rcu_read_unlock(), and a session whose count reached zero is skipped.
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct sess {
	int id;
	bool used;
	struct kref ref;	/* the list holds one reference, each user one */
	struct list_head node;	/* on sessions */
	struct rcu_head rcu;	/* for kfree_rcu() */
};

static LIST_HEAD(sessions);		/* readers walk it under rcu_read_lock() */
static DEFINE_MUTEX(sessions_lock);	/* serializes the updaters of sessions */

/* the last reference is gone: free the session after a grace period */
static void sess_release(struct kref *ref)
{
	struct sess *s = container_of(ref, struct sess, ref);

	kfree_rcu(s, rcu);
}

/* open: create a session and publish it on the list */
int sess_add(int id)
{
	struct sess *s, *old;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->id = id;
	kref_init(&s->ref);	/* the list's reference */
	mutex_lock(&sessions_lock);
	list_for_each_entry(old, &sessions, node) {
		if (old->id == id) {
			mutex_unlock(&sessions_lock);
			kfree(s);	/* never published: no reader can see it */
			return -EEXIST;
		}
	}
	list_add_rcu(&s->node, &sessions);
	mutex_unlock(&sessions_lock);
	return 0;
}

/* the lookup: returns a counted reference to the session, or NULL */
static struct sess *sess_find(int id)
{
	struct sess *s, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(s, &sessions, node) {
		/* a session being released (count zero) is as good as gone */
		if (s->id == id && kref_get_unless_zero(&s->ref)) {
			found = s;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* an ioctl on the session: look it up, use it, drop the reference */
int sess_use(int id)
{
	struct sess *s = sess_find(id);

	if (!s)
		return -ENOENT;
	s->used = true;	/* stands for any use of the session */
	kref_put(&s->ref, sess_release);
	return 0;
}

/* close: unlink the session and put the list's reference */
int sess_del(int id)
{
	struct sess *s, *found = NULL;

	mutex_lock(&sessions_lock);
	list_for_each_entry(s, &sessions, node) {
		if (s->id == id) {
			list_del_rcu(&s->node);	/* readers already on it may go on */
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
