// mkverify: expect = "ok"
/*
 * The repaired deadlock-trigger-rwsem-self: cfg_get() drops the read lock
 * before it takes cfg_rwsem for writing (and checks again under the write
 * lock whether another CPU created the configuration meanwhile), then
 * downgrades to go on reading.
 */
#include <linux/rwsem.h>
#include <linux/slab.h>

struct cfg {
	int val;
};

static DECLARE_RWSEM(cfg_rwsem);	/* protects cfg */
static struct cfg *cfg;

int cfg_get(int val)
{
	struct cfg *c;
	int ret;

	down_read(&cfg_rwsem);
	if (!cfg) {
		up_read(&cfg_rwsem);
		c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (!c)
			return -ENOMEM;
		c->val = val;
		down_write(&cfg_rwsem);
		if (cfg)
			kfree(c);	/* another CPU created it first */
		else
			cfg = c;
		downgrade_write(&cfg_rwsem);
	}
	ret = cfg->val;
	up_read(&cfg_rwsem);
	return ret;
}

void cfg_reset(void)
{
	struct cfg *c;

	down_write(&cfg_rwsem);
	c = cfg;
	cfg = NULL;
	up_write(&cfg_rwsem);
	kfree(c);
}
