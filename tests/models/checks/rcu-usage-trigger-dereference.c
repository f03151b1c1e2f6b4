// mkverify: expect = "violations"
// mkverify: checks = ["rcu-usage"]
/*
 * rcu_dereference() on the update side. cfg_update() publishes a new
 * configuration under cfg_lock and reads the old one with rcu_dereference(),
 * but it is not in an RCU read-side section: lockdep-RCU reports
 * "suspicious rcu_dereference_check() usage". What keeps the pointer stable
 * there is cfg_lock, and the accessor must say so. Readers (cfg_timeout())
 * are right: they read it inside rcu_read_lock().
 */
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

struct cfg {
	int timeout;
	struct rcu_head rcu;
};

static struct cfg __rcu *cur_cfg;
static DEFINE_MUTEX(cfg_lock);	/* serializes the updaters of cur_cfg */

int cfg_update(int timeout)
{
	struct cfg *new = kzalloc(sizeof(*new), GFP_KERNEL);
	struct cfg *old;

	if (!new)
		return -ENOMEM;
	new->timeout = timeout;
	mutex_lock(&cfg_lock);
	old = rcu_dereference(cur_cfg);	/* BUG: outside rcu_read_lock(), and says nothing of cfg_lock */
	rcu_assign_pointer(cur_cfg, new);
	mutex_unlock(&cfg_lock);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

int cfg_timeout(void)
{
	struct cfg *c;
	int t = 0;

	rcu_read_lock();
	c = rcu_dereference(cur_cfg);
	if (c)
		t = c->timeout;
	rcu_read_unlock();
	return t;
}
