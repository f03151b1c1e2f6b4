// mkverify: expect = "ok"
/*
 * The repaired invalid-free-trigger-global: cfg_reset(), like
 * cfg_install(), frees the old configuration only when it is not the
 * statically allocated default.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

struct cfg {
	int timeout;
	int retries;
};

static struct cfg default_cfg = { 30, 3 };
static DEFINE_MUTEX(cfg_lock);
static struct cfg *active_cfg;	/* NULL: nothing configured yet */

int cfg_install(int timeout)
{
	struct cfg *c = kzalloc(sizeof(*c), GFP_KERNEL);
	struct cfg *old;

	if (!c)
		return -ENOMEM;
	c->timeout = timeout;
	c->retries = 3;
	mutex_lock(&cfg_lock);
	old = active_cfg;
	active_cfg = c;
	mutex_unlock(&cfg_lock);
	if (old != &default_cfg)
		kfree(old);	/* kfree(NULL) is a no-op */
	return 0;
}

void cfg_reset(void)
{
	struct cfg *old;

	mutex_lock(&cfg_lock);
	old = active_cfg;
	active_cfg = &default_cfg;
	mutex_unlock(&cfg_lock);
	if (old != &default_cfg)
		kfree(old);
}
