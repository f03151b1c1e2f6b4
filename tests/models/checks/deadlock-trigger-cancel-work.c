// mkverify: expect = "violations"
// mkverify: checks = ["deadlock"]
// mkverify: trace = 13
/*
 * cancel_work_sync() under a lock the work function takes. The chip sits
 * on a slow bus, so its events are handled by a work item: chip_probe()
 * schedules it to read the chip's initial state, and the threaded
 * interrupt handler, chip_irq_thread(), schedules it for every event.
 * chip_event_work() talks to the chip under chip_lock. chip_remove()
 * unpublishes the chip and cancels the work, but with chip_lock still
 * held: when chip_event_work() already runs and waits for chip_lock,
 * cancel_work_sync() waits for chip_event_work() to return, and neither
 * goes on (lockdep: "possible circular locking dependency" through the
 * work item).
 */
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

struct chip {
	int status;
	struct work_struct event_work;	/* talks to the chip for each event */
};

static DEFINE_MUTEX(chip_lock);	/* protects the_chip and the chip's registers */
static struct chip *the_chip;

static void chip_event_work(struct work_struct *work)
{
	struct chip *c = container_of(work, struct chip, event_work);

	mutex_lock(&chip_lock);
	c->status = 1;	/* stands for reading the status over the bus */
	mutex_unlock(&chip_lock);
}

int chip_probe(void)
{
	struct chip *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	INIT_WORK(&c->event_work, chip_event_work);
	mutex_lock(&chip_lock);
	if (the_chip) {
		mutex_unlock(&chip_lock);
		kfree(c);
		return -EBUSY;
	}
	the_chip = c;
	schedule_work(&c->event_work);	/* read the initial state */
	mutex_unlock(&chip_lock);
	return 0;
}

void chip_irq_thread(void)
{
	mutex_lock(&chip_lock);
	if (the_chip)
		schedule_work(&the_chip->event_work);
	mutex_unlock(&chip_lock);
}

void chip_remove(void)
{
	struct chip *c;

	mutex_lock(&chip_lock);
	c = the_chip;
	if (!c) {
		mutex_unlock(&chip_lock);
		return;
	}
	the_chip = NULL;
	cancel_work_sync(&c->event_work);	/* BUG: chip_event_work() takes chip_lock */
	mutex_unlock(&chip_lock);
	kfree(c);
}
