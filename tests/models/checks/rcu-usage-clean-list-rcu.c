// mkverify: expect = "ok"
/*
 * The twin of rcu-usage-trigger-list-rcu.c, repaired: sess_rename(), which
 * holds the updaters' lock, walks the list with list_for_each_entry(), as
 * sess_del() does.
 */
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/slab.h>

struct sess {
	int id;
	int name;
	struct list_head node;
	struct rcu_head rcu;
};

static LIST_HEAD(sessions);
static DEFINE_MUTEX(sessions_lock);	/* serializes the updaters of sessions */

int sess_add(int id)
{
	struct sess *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->id = id;
	mutex_lock(&sessions_lock);
	list_add_rcu(&s->node, &sessions);
	mutex_unlock(&sessions_lock);
	return 0;
}

int sess_name(int id)
{
	struct sess *s;
	int name = -ENOENT;

	rcu_read_lock();
	list_for_each_entry_rcu(s, &sessions, node) {
		if (s->id == id) {
			name = s->name;
			break;
		}
	}
	rcu_read_unlock();
	return name;
}

int sess_rename(int id, int name)
{
	struct sess *s;
	int ret = -ENOENT;

	mutex_lock(&sessions_lock);
	list_for_each_entry(s, &sessions, node) {
		if (s->id == id) {
			s->name = name;
			ret = 0;
			break;
		}
	}
	mutex_unlock(&sessions_lock);
	return ret;
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
	kfree_rcu(found, rcu);
	return 0;
}
