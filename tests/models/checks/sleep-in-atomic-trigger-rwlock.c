// mkverify: expect = "violations"
// mkverify: checks = ["sleep-in-atomic"]
// mkverify: trace = 10
/*
 * A mutex taken under a reader-writer spinlock. The open channel is
 * published under chan_lock, an rwlock_t; chan_poke() finds it with
 * read_lock() held and, still inside, takes the channel's own lock to
 * update its state. That lock is a mutex: mutex_lock() may sleep, and a
 * CPU holding an rwlock_t (even for reading) must not ("BUG: sleeping
 * function called from invalid context").
 */
#include <linux/mutex.h>
#include <linux/rwlock.h>
#include <linux/slab.h>

struct chan {
	int state;
	struct mutex lock;	/* protects state */
};

static DEFINE_RWLOCK(chan_lock);	/* protects chan */
static struct chan *chan;

int chan_open(void)
{
	struct chan *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	mutex_init(&c->lock);
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
		mutex_lock(&c->lock);	/* BUG: sleeps under read_lock(&chan_lock) */
		c->state = state;
		mutex_unlock(&c->lock);
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
