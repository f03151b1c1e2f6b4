// mkverify: expect = "ok"
/*
 * The repaired out-of-bounds-trigger: session_open() rejects every slot
 * number that is not below ARRAY_SIZE(sessions), like session_close().
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

	if (slot < 0 || slot >= ARRAY_SIZE(sessions))
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
