// mkverify: expect = "violations"
// mkverify: checks = ["get-after-release"]
// mkverify: trace = 11
/*
 * A lookup that races with the final put. The published pointer holds no
 * reference: session_release() unpublishes the session under session_lock
 * once the last reference is gone. Between that kref_put() and the release
 * taking the lock, session_peek() can still find the session and
 * kref_get() a count that is already zero.
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct session {
	int id;
	struct kref ref;
};

static DEFINE_MUTEX(session_lock);
static struct session *current_session;

static void session_release(struct kref *ref)
{
	struct session *s = container_of(ref, struct session, ref);

	mutex_lock(&session_lock);
	if (current_session == s)
		current_session = NULL;
	mutex_unlock(&session_lock);
	kfree(s);
}

int session_run(int id)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	kref_init(&s->ref);
	s->id = id;
	mutex_lock(&session_lock);
	if (current_session) {
		mutex_unlock(&session_lock);
		kfree(s);
		return -EBUSY;
	}
	current_session = s;
	mutex_unlock(&session_lock);
	/* ... the session does its work here ... */
	kref_put(&s->ref, session_release);
	return 0;
}

int session_peek(void)
{
	struct session *s;
	int id;

	mutex_lock(&session_lock);
	s = current_session;
	if (s)
		kref_get(&s->ref);	/* BUG: the count may already be zero */
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	id = s->id;
	kref_put(&s->ref, session_release);
	return id;
}
