// mkverify: expect = "ok"
/*
 * The repaired assertion-trigger-bug-on: a session closed after the lookup
 * is an expected race, not a kernel bug, so session_query() handles it
 * with -ENODEV instead of asserting.
 */
#include <linux/bug.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

enum session_state {
	SESSION_LIVE,
	SESSION_CLOSED,
};

struct session {
	enum session_state state;
	int flags;
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

int session_query(void)
{
	struct session *s;
	int flags;

	mutex_lock(&session_lock);
	s = current_session;
	if (s)
		kref_get(&s->ref);
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	if (s->state == SESSION_LIVE)
		flags = s->flags;
	else
		flags = -ENODEV;
	kref_put(&s->ref, session_release);
	return flags;
}

void session_close(void)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = current_session;
	current_session = NULL;
	mutex_unlock(&session_lock);
	if (!s)
		return;
	s->state = SESSION_CLOSED;
	kref_put(&s->ref, session_release);
}
