// mkverify: expect = "violations"
// mkverify: checks = ["sleep-in-atomic"]
// mkverify: trace = 9
/*
 * A mutex taken in a timer callback. The fan driver samples the fan's
 * speed every second: fan_probe() arms poll_timer, and fan_poll() stores
 * the speed and re-arms itself; fan_rpm() (a sysfs read) and fan_poll()
 * share fan_lock. fan_lock is a mutex, but a timer callback runs in
 * softirq context, which must not sleep, and mutex_lock() may ("BUG:
 * sleeping function called from invalid context").
 */
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/timer.h>

struct fan {
	int rpm;
	struct timer_list poll_timer;	/* samples the speed every second */
};

static DEFINE_MUTEX(fan_lock);	/* protects the_fan and the fan's rpm */
static struct fan *the_fan;

static void fan_poll(struct timer_list *t)
{
	struct fan *f = from_timer(f, t, poll_timer);

	mutex_lock(&fan_lock);	/* BUG: sleeps in softirq context */
	f->rpm = 1200;		/* stands for reading the tachometer */
	mutex_unlock(&fan_lock);
	mod_timer(&f->poll_timer, jiffies + HZ);
}

int fan_probe(void)
{
	struct fan *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	timer_setup(&f->poll_timer, fan_poll, 0);
	mutex_lock(&fan_lock);
	if (the_fan) {
		mutex_unlock(&fan_lock);
		kfree(f);
		return -EBUSY;
	}
	the_fan = f;
	mod_timer(&f->poll_timer, jiffies + HZ);
	mutex_unlock(&fan_lock);
	return 0;
}

int fan_rpm(void)
{
	int rpm = -ENODEV;

	mutex_lock(&fan_lock);
	if (the_fan)
		rpm = the_fan->rpm;
	mutex_unlock(&fan_lock);
	return rpm;
}

void fan_remove(void)
{
	struct fan *f;

	mutex_lock(&fan_lock);
	f = the_fan;
	the_fan = NULL;
	mutex_unlock(&fan_lock);
	if (!f)
		return;
	timer_delete_sync(&f->poll_timer);
	kfree(f);
}
