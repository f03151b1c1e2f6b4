// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
// mkverify: trace = 16
/*
 * An RCU-protected pointer replaced and the old object freed at once. A
 * link's statistics live in an object that link_up() publishes in
 * cur_stats, zeroed, and link_down() replaces with NULL, both under
 * stats_lock; link_rx_errors() reads them without a lock, with
 * rcu_dereference() inside rcu_read_lock(). link_down() frees the old
 * statistics with kfree() at once: a reader that found them before the
 * replacement is still in its read-side section and reads freed memory.
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
		kfree(old);	/* BUG: readers may still use it; no grace period */
	mutex_unlock(&stats_lock);
}
