// mkverify: expect = "ok"
/*
 * The twin of rcu-usage-trigger-dereference.c, repaired: cfg_update()
 * reads the old configuration with rcu_dereference_protected(), whose
 * condition names the lock that keeps the pointer stable there
 * (lockdep_is_held(&cfg_lock)). Readers still use rcu_dereference() inside
 * rcu_read_lock().
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
	old = rcu_dereference_protected(cur_cfg, lockdep_is_held(&cfg_lock));
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
