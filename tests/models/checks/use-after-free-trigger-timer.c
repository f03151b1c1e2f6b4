// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
// mkverify: trace = 12
/*
 * A command freed after a del_timer() that does not wait for its timer's
 * callback. dev_reset() resets the device and waits until the device
 * answers (dev_irq()) or a watchdog timer fires: reset_watchdog() finds
 * the command with from_timer() and marks it timed out. Then dev_reset()
 * disarms the watchdog with del_timer() and frees the command. del_timer()
 * takes a pending timer off, but a reset_watchdog() that already runs goes
 * on and writes to the freed command.
 */
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/wait.h>

#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif

struct reset_cmd {
	bool timed_out;
	struct timer_list watchdog;	/* gives up on a device that hangs */
};

static bool dev_ready;			/* set by the device when it is back */
static DECLARE_WAIT_QUEUE_HEAD(reset_wq);

static void reset_watchdog(struct timer_list *t)
{
	struct reset_cmd *cmd = from_timer(cmd, t, watchdog);

	WRITE_ONCE(cmd->timed_out, true);
	wake_up(&reset_wq);
}

int dev_reset(void)
{
	struct reset_cmd *cmd = kzalloc(sizeof(*cmd), GFP_KERNEL);
	int ret = 0;

	if (!cmd)
		return -ENOMEM;
	timer_setup(&cmd->watchdog, reset_watchdog, 0);
	WRITE_ONCE(dev_ready, false);	/* stands for writing the reset register */
	mod_timer(&cmd->watchdog, jiffies + HZ);
	wait_event(reset_wq, READ_ONCE(dev_ready) || READ_ONCE(cmd->timed_out));
	if (!READ_ONCE(dev_ready))
		ret = -ETIMEDOUT;
	del_timer(&cmd->watchdog);	/* BUG: a running reset_watchdog() goes on */
	kfree(cmd);
	return ret;
}

void dev_irq(void)
{
	WRITE_ONCE(dev_ready, true);
	wake_up(&reset_wq);
}
