// mkverify: expect = "violations"
// mkverify: checks = ["deadlock"]
// mkverify: trace = 5
/*
 * An attempt to upgrade a reader-writer semaphore. cfg_get() reads the
 * configuration under cfg_rwsem held for reading and creates it on first
 * use; to publish it, it takes cfg_rwsem for writing while it still holds
 * it for reading. An rw_semaphore cannot be upgraded: the writer waits for
 * every reader to leave, itself included, forever.
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
		c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (!c) {
			up_read(&cfg_rwsem);
			return -ENOMEM;
		}
		c->val = val;
		/* BUG: this CPU still holds cfg_rwsem for reading */
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
