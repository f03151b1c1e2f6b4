// mkverify: error = "session[0].hits (of type int) is used as a lock: a pointer converted from another type points at it"
// mkverify: where = "runtime-wrong-struct-from-idr.c:38:2"
// mkverify: hint = "check the conversions on the way here"
// mkverify: commands = ["check"]
/*
 * Type confusion through an IDR: add() stores the address of an int, use()
 * reads the entry back as a struct mutex * and locks it,
 * so a lock op lands on an int. Both engines stop there with a model error
 * (a lock op on an int would otherwise keep a CPU number where no lock is).
 */
#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct session {
	int hits;
	struct mutex lock;
};

static DEFINE_IDR(sessions);

void add(void)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return;
	if (idr_alloc(&sessions, &s->hits, 1, 2, GFP_KERNEL) < 0)
		kfree(s);
}

void use(void)
{
	struct mutex *lock = idr_find(&sessions, 1);

	if (!lock)
		return;
	mutex_lock(lock);
	mutex_unlock(lock);
}
