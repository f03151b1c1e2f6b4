// mkverify: expect = "violations"
// mkverify: checks = ["assertion"]
// mkverify: trace = 11
/*
 * Publishing an object before it is fully initialised. session_create()
 * makes the session visible in session_idr and only then, after the
 * unlock, records its id in it (it holds its own reference, so the session
 * cannot go away meanwhile); session_check() can find the session in
 * between and its WARN_ON() sees id 0.
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
	mutex_unlock(&session_lock);
	if (id < 0) {
		kfree(s);
		return id;
	}
	s->id = id;	/* BUG: s is already visible to session_check() */
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
