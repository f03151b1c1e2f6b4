// mkverify: expect = "ok"
/*
 * The twin of sleep-in-atomic-trigger-rcu.c, repaired: sess_hit() takes a
 * reference with kref_get_unless_zero() inside the read-side section (a
 * session whose last reference is gone is skipped), leaves the section,
 * and only then takes the session's mutex; the reference keeps the session
 * alive until its kref_put().
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
		if (s->id == id && kref_get_unless_zero(&s->ref)) {
			found = s;
			break;
		}
	}
	rcu_read_unlock();
	if (found) {
		mutex_lock(&found->lock);
		found->used = true;
		mutex_unlock(&found->lock);
		kref_put(&found->ref, sess_release);
	}
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
