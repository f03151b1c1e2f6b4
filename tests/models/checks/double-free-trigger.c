// mkverify: expect = "violations"
// mkverify: checks = ["double-free"]
// mkverify: trace = 22
/*
 * Check-then-act across two critical sections. session_close() reads the
 * current session under session_lock, drops the lock, and only retakes it
 * to unpublish: two concurrent closes both see the same session and both
 * free it.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

struct session {
	int id;
	int flags;
};

static DEFINE_MUTEX(session_lock);
static struct session *current_session;

int session_open(int id)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->id = id;
	mutex_lock(&session_lock);
	if (current_session) {
		mutex_unlock(&session_lock);
		kfree(s);
		return -EBUSY;
	}
	current_session = s;
	mutex_unlock(&session_lock);
	return 0;
}

int session_close(void)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = current_session;
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	/* BUG: another close can take the same s before this unpublishes it */
	mutex_lock(&session_lock);
	current_session = NULL;
	mutex_unlock(&session_lock);
	kfree(s);
	return 0;
}
