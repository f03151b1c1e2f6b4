// mkverify: expect = "ok"
/*
 * The repaired leak-trigger-refcount: session_close() stops a running
 * poller in the same critical section that unpublishes the session, and
 * puts the poller's reference as well as the publication reference.
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct session {
	bool polling;
	struct kref ref;
};

static DEFINE_MUTEX(session_lock);
static struct session *current_session;

static void session_release(struct kref *ref)
{
	struct session *s = container_of(ref, struct session, ref);

	kfree(s);
}

int session_open(void)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	kref_init(&s->ref);
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

int session_start_poll(void)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = current_session;
	if (!s || s->polling) {
		mutex_unlock(&session_lock);
		return -EINVAL;
	}
	s->polling = true;
	kref_get(&s->ref);	/* the poller's reference */
	mutex_unlock(&session_lock);
	return 0;
}

int session_stop_poll(void)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = current_session;
	if (!s || !s->polling) {
		mutex_unlock(&session_lock);
		return -EINVAL;
	}
	s->polling = false;
	mutex_unlock(&session_lock);
	kref_put(&s->ref, session_release);
	return 0;
}

void session_close(void)
{
	struct session *s;
	bool was_polling = false;

	mutex_lock(&session_lock);
	s = current_session;
	current_session = NULL;
	if (s && s->polling) {
		s->polling = false;
		was_polling = true;
	}
	mutex_unlock(&session_lock);
	if (!s)
		return;
	if (was_polling)
		kref_put(&s->ref, session_release);
	kref_put(&s->ref, session_release);
}
