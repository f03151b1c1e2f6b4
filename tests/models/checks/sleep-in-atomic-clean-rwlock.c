// mkverify: expect = "ok"
/*
 * The repaired sleep-in-atomic-trigger-rwlock: the channel's lock, taken
 * under read_lock(&chan_lock), is a spinlock, which does not sleep.
 */
#include <linux/rwlock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct chan {
	int state;
	spinlock_t lock;	/* protects state */
};

static DEFINE_RWLOCK(chan_lock);	/* protects chan */
static struct chan *chan;

int chan_open(void)
{
	struct chan *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	spin_lock_init(&c->lock);
	write_lock(&chan_lock);
	if (chan) {
		write_unlock(&chan_lock);
		kfree(c);
		return -EBUSY;
	}
	chan = c;
	write_unlock(&chan_lock);
	return 0;
}

int chan_poke(int state)
{
	struct chan *c;
	int ret = -ENODEV;

	read_lock(&chan_lock);
	c = chan;
	if (c) {
		spin_lock(&c->lock);
		c->state = state;
		spin_unlock(&c->lock);
		ret = 0;
	}
	read_unlock(&chan_lock);
	return ret;
}

void chan_close(void)
{
	struct chan *c;

	write_lock(&chan_lock);
	c = chan;
	chan = NULL;
	write_unlock(&chan_lock);
	kfree(c);
}
