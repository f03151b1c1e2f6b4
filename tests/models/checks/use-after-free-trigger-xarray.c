// mkverify: expect = "violations"
// mkverify: checks = ["use-after-free"]
/*
 * An XArray of sessions keyed by an id that xa_alloc hands out. A lookup
 * (sess_use) loads the entry and reads it with no lock and no reference,
 * while sess_close erases it and drops the table's reference, which frees
 * it: the read is a use after free.
 */
#include <linux/xarray.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct sess {
	struct kref ref;
	u32 id;
	int data;
};

static DEFINE_XARRAY_ALLOC(sessions);
static DEFINE_MUTEX(sessions_lock);

static void sess_release(struct kref *ref)
{
	kfree(container_of(ref, struct sess, ref));
}

int sess_new(void)
{
	struct sess *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int err;

	if (!s)
		return -ENOMEM;
	kref_init(&s->ref);
	mutex_lock(&sessions_lock);
	err = xa_alloc(&sessions, &s->id, s, XA_LIMIT(1, 1), GFP_KERNEL);
	mutex_unlock(&sessions_lock);
	if (err)
		kfree(s);
	return err;
}

int sess_use(int id)
{
	struct sess *s = xa_load(&sessions, id);

	if (!s)
		return -ENOENT;
	return s->data;
}

int sess_close(int id)
{
	struct sess *s;

	mutex_lock(&sessions_lock);
	s = xa_erase(&sessions, id);
	mutex_unlock(&sessions_lock);
	if (s)
		kref_put(&s->ref, sess_release);
	return 0;
}
