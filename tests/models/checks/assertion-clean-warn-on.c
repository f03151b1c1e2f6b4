// mkverify: expect = "ok"
/*
 * The repaired assertion-trigger-warn-on: session_create() records the id
 * in the session before dropping session_lock, so every lookup sees a
 * fully initialised session.
 */
#include <linux/bug.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct session {
	int id;
	struct kref ref;
};

static DEFINE_MUTEX(session_lock);
static DEFINE_IDR(session_idr);

static void session_release(struct kref *ref)
{
	struct session *s = container_of(ref, struct session, ref);

	kfree(s);
}

int session_create(void)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int id;

	if (!s)
		return -ENOMEM;
	kref_init(&s->ref);	/* the IDR's reference */
	kref_get(&s->ref);	/* ours, until we are done with s */
	mutex_lock(&session_lock);
	id = idr_alloc(&session_idr, s, 1, 0, GFP_KERNEL);
	if (id >= 0)
		s->id = id;
	mutex_unlock(&session_lock);
	if (id < 0) {
		kfree(s);
		return id;
	}
	kref_put(&s->ref, session_release);
	return id;
}

int session_check(int id)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = idr_find(&session_idr, id);
	if (s)
		kref_get(&s->ref);
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	WARN_ON(s->id != id);
	kref_put(&s->ref, session_release);
	return 0;
}

int session_destroy(int id)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = idr_remove(&session_idr, id);
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	kref_put(&s->ref, session_release);
	return 0;
}
