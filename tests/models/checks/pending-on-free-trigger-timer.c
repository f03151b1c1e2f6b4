// mkverify: expect = "violations"
// mkverify: checks = ["pending-on-free", "use-after-free"]
// mkverify: trace = { pending-on-free = 13, use-after-free = 15 }
/*
 * A session freed with its idle timer still armed. session_open() arms
 * the idle timer with mod_timer(), and every request pushes it back with
 * another mod_timer(); when it fires, session_idle() finds the session
 * with from_timer() and marks it expired. session_close() unpublishes the
 * session but forgets del_timer(): it frees the session while the timer
 * is still pending (debugobjects: "free active object"), or while its
 * callback already runs and writes to the freed session.
 */
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>

struct session {
	bool expired;
	struct timer_list idle_timer;	/* expires an idle session */
};

static DEFINE_SPINLOCK(session_lock);	/* protects cur_session */
static struct session *cur_session;

static void session_idle(struct timer_list *t)
{
	struct session *s = from_timer(s, t, idle_timer);

	s->expired = true;
}

int session_open(void)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	timer_setup(&s->idle_timer, session_idle, 0);
	spin_lock(&session_lock);
	if (cur_session) {
		spin_unlock(&session_lock);
		kfree(s);
		return -EBUSY;
	}
	cur_session = s;
	mod_timer(&s->idle_timer, jiffies + 10 * HZ);
	spin_unlock(&session_lock);
	return 0;
}

void session_request(void)
{
	struct session *s;

	spin_lock(&session_lock);
	s = cur_session;
	if (s)
		mod_timer(&s->idle_timer, jiffies + 10 * HZ);
	spin_unlock(&session_lock);
}

void session_close(void)
{
	struct session *s;

	spin_lock(&session_lock);
	s = cur_session;
	cur_session = NULL;
	spin_unlock(&session_lock);
	if (!s)
		return;
	kfree(s);	/* BUG: idle_timer may still be armed or running */
}
