// mkverify: expect = "ok"
/*
 * The repaired get-after-release-trigger: session_peek() uses
 * kref_get_unless_zero() and treats a session whose count already reached
 * zero (its release is about to unpublish it) as not found.
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
	if (s && !kref_get_unless_zero(&s->ref))
		s = NULL;
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	id = s->id;
	kref_put(&s->ref, session_release);
	return id;
}
