// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
// mkverify: trace = 12
/*
 * A remove path that cancels delayed work without waiting for it. The
 * sensor needs time to settle after power-up, so sensor_probe() defers
 * its first reading with schedule_delayed_work(), and sensor_refresh()
 * asks for a new one at once with mod_delayed_work(). sensor_remove()
 * cancels the work with cancel_delayed_work() and frees the sensor. That
 * takes a pending work off the queue, so nothing is pending at the free,
 * but it does not wait for a sensor_read() the worker already runs: the
 * callback then writes to the freed sensor. The driver core never runs
 * probe and remove at once: one CPU runs them.
 */
#include <linux/slab.h>
#include <linux/workqueue.h>

struct sensor {
	int temp;
	struct delayed_work read_work;	/* reads the sensor once it settled */
};

static struct sensor *the_sensor;

static void sensor_read(struct work_struct *work)
{
	struct sensor *s = container_of(to_delayed_work(work), struct sensor, read_work);

	s->temp = 25;	/* stands for reading the sensor's registers */
}

int sensor_probe(void)
{
	struct sensor *s;

	if (the_sensor)
		return -EBUSY;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	INIT_DELAYED_WORK(&s->read_work, sensor_read);
	the_sensor = s;
	schedule_delayed_work(&s->read_work, msecs_to_jiffies(100));
	return 0;
}

void sensor_refresh(void)
{
	struct sensor *s = the_sensor;

	if (s)
		mod_delayed_work(system_wq, &s->read_work, 0);
}

void sensor_remove(void)
{
	struct sensor *s = the_sensor;

	if (!s)
		return;
	the_sensor = NULL;
	cancel_delayed_work(&s->read_work);	/* BUG: a running sensor_read() goes on */
	kfree(s);
}
