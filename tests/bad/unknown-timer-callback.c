// mkverify: error = "timer_setup's callback must name a function defined in the model, of type void f(struct timer_list *)"
// mkverify: where = "unknown-timer-callback.c:25:25"
// mkverify: hint = "did you mean 'sess_timeout'?"
/*
 * A misspelt timer callback.
 */
#include <linux/timer.h>
#include <linux/slab.h>

struct sess { int expired; struct timer_list timer; };

static void sess_timeout(struct timer_list *t)
{
	struct sess *s = from_timer(s, t, timer);

	s->expired = 1;
}

int sess_open(void)
{
	struct sess *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	timer_setup(&s->timer, sess_timeuot, 0);
	kfree(s);
	return 0;
}
