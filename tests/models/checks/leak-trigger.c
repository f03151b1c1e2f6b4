// mkverify: expect = "violations"
// mkverify: checks = ["leak"]
// mkverify: trace = 11
/*
 * An error path that forgets the object it allocated. session_open()
 * allocates a session before it knows whether one is already open; when
 * one is, it returns -EBUSY and the new session is lost.
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

	kfree(s);
}

int session_open(int id)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->id = id;
	kref_init(&s->ref);
	mutex_lock(&session_lock);
	if (current_session) {
		mutex_unlock(&session_lock);
		return -EBUSY;	/* BUG: s is never freed */
	}
	current_session = s;
	mutex_unlock(&session_lock);
	return 0;
}

void session_close(void)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = current_session;
	current_session = NULL;
	mutex_unlock(&session_lock);
	if (s)
		kref_put(&s->ref, session_release);
}
