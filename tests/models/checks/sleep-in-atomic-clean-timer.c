// mkverify: expect = "ok"
/*
 * The twin of sleep-in-atomic-trigger-timer.c, repaired: fan_lock is a
 * spinlock, which fan_poll() may take in softirq context. The process
 * context paths take it with spin_lock_bh(), so that the timer cannot
 * interrupt them on their own CPU while they hold it.
 */
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>

struct fan {
	int rpm;
	struct timer_list poll_timer;	/* samples the speed every second */
};

static DEFINE_SPINLOCK(fan_lock);	/* protects the_fan and the fan's rpm */
static struct fan *the_fan;

static void fan_poll(struct timer_list *t)
{
	struct fan *f = from_timer(f, t, poll_timer);

	spin_lock(&fan_lock);
	f->rpm = 1200;	/* stands for reading the tachometer */
	spin_unlock(&fan_lock);
	mod_timer(&f->poll_timer, jiffies + HZ);
}

int fan_probe(void)
{
	struct fan *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	timer_setup(&f->poll_timer, fan_poll, 0);
	spin_lock_bh(&fan_lock);
	if (the_fan) {
		spin_unlock_bh(&fan_lock);
		kfree(f);
		return -EBUSY;
	}
	the_fan = f;
	mod_timer(&f->poll_timer, jiffies + HZ);
	spin_unlock_bh(&fan_lock);
	return 0;
}

int fan_rpm(void)
{
	int rpm = -ENODEV;

	spin_lock_bh(&fan_lock);
	if (the_fan)
		rpm = the_fan->rpm;
	spin_unlock_bh(&fan_lock);
	return rpm;
}

void fan_remove(void)
{
	struct fan *f;

	spin_lock_bh(&fan_lock);
	f = the_fan;
	the_fan = NULL;
	spin_unlock_bh(&fan_lock);
	if (!f)
		return;
	timer_delete_sync(&f->poll_timer);
	kfree(f);
}
