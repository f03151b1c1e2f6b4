// mkverify: expect = "ok"
/*
 * The repaired use-after-free-trigger: session_query() takes a reference
 * under session_lock, so the session outlives a concurrent session_close()
 * until session_query() puts it.
 */
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct session {
	int id;
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
	flags = s->flags;
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
	if (s)
		kref_put(&s->ref, session_release);
}
