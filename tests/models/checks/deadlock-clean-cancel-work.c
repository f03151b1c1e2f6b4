// mkverify: expect = "ok"
/*
 * The twin of deadlock-trigger-cancel-work.c, repaired: chip_remove()
 * drops chip_lock before cancel_work_sync(). The chip is unpublished by
 * then, so chip_irq_thread() cannot queue the work again, and a running
 * chip_event_work() gets chip_lock and returns.
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
	mutex_unlock(&chip_lock);
	cancel_work_sync(&c->event_work);
	kfree(c);
}
