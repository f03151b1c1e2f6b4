// mkverify: expect = "ok"
/*
 * The twin of use-after-free-trigger-call-rcu.c, repaired: link_down()
 * hands the old statistics to call_rcu(), and link_stats_free() frees
 * them after a grace period, once every reader that may have found them
 * has left its read-side section.
 */
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

struct link_stats {
	int rx_errors;
	struct rcu_head rcu;	/* for call_rcu() */
};

static struct link_stats __rcu *cur_stats;	/* NULL while the link is down */
static DEFINE_MUTEX(stats_lock);		/* serializes the updaters of cur_stats */

static void link_stats_free(struct rcu_head *head)
{
	kfree(container_of(head, struct link_stats, rcu));
}

int link_rx_errors(void)
{
	struct link_stats *s;
	int n = -ENODEV;

	rcu_read_lock();
	s = rcu_dereference(cur_stats);
	if (s)
		n = s->rx_errors;
	rcu_read_unlock();
	return n;
}

int link_up(void)
{
	struct link_stats *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	mutex_lock(&stats_lock);
	if (rcu_access_pointer(cur_stats)) {
		mutex_unlock(&stats_lock);
		kfree(s);	/* never published: no reader can see it */
		return -EBUSY;
	}
	rcu_assign_pointer(cur_stats, s);
	mutex_unlock(&stats_lock);
	return 0;
}

void link_down(void)
{
	struct link_stats *old;

	mutex_lock(&stats_lock);
	old = rcu_dereference_protected(cur_stats, lockdep_is_held(&stats_lock));
	RCU_INIT_POINTER(cur_stats, NULL);
	if (old)
		call_rcu(&old->rcu, link_stats_free);
	mutex_unlock(&stats_lock);
}
