// mkverify: error = "bounds.workers must be an integer in 1..8, not 9"
// mkverify: where = "spec-too-many-workers.toml:3:11"
// mkverify: hint = "the worker threads that run work items, timers and call_rcu callbacks: 1 to 8"
/* A spec that asks for more worker threads than mkverify runs. */
#include <linux/workqueue.h>

static struct work_struct w;

static void fn(struct work_struct *work)
{
}

int f(void)
{
	INIT_WORK(&w, fn);
	schedule_work(&w);
	return 0;
}
