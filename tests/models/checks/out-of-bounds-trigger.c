// mkverify: expect = "violations"
// mkverify: checks = ["out-of-bounds"]
// mkverify: trace = 4
/*
 * A user-supplied index checked against the wrong bound. Sessions live in
 * a fixed table of MAX_SESSIONS slots; session_open() checks the slot
 * number with > instead of >=, so slot MAX_SESSIONS indexes one past the
 * end of the table.
 */
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#define MAX_SESSIONS 2

struct session {
	int slot;
};

static DEFINE_MUTEX(session_lock);
static struct session *sessions[MAX_SESSIONS];

int session_open(int slot)
{
	struct session *s;

	if (slot < 0 || slot > ARRAY_SIZE(sessions))	/* BUG: off by one */
		return -EINVAL;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->slot = slot;
	mutex_lock(&session_lock);
	if (sessions[slot]) {
		mutex_unlock(&session_lock);
		kfree(s);
		return -EBUSY;
	}
	sessions[slot] = s;
	mutex_unlock(&session_lock);
	return 0;
}

int session_close(int slot)
{
	struct session *s;

	if (slot < 0 || slot >= ARRAY_SIZE(sessions))
		return -EINVAL;
	mutex_lock(&session_lock);
	s = sessions[slot];
	sessions[slot] = NULL;
	mutex_unlock(&session_lock);
	if (!s)
		return -ENOENT;
	kfree(s);
	return 0;
}
