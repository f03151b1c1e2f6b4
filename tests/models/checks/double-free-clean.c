// mkverify: expect = "ok"
/*
 * The repaired double-free-trigger: session_close() reads and clears
 * current_session in one critical section, so exactly one close owns the
 * session and frees it.
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
	current_session = NULL;
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	kfree(s);
	return 0;
}
