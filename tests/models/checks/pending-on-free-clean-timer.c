// mkverify: expect = "ok"
/*
 * The twin of pending-on-free-trigger-timer.c, repaired: session_close()
 * calls timer_delete_sync() after the unpublish and before the free. It
 * deactivates a pending timer and waits for a running callback to finish;
 * session_request() no longer finds the session, so nothing arms the
 * timer again.
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
	timer_delete_sync(&s->idle_timer);
	kfree(s);
}
