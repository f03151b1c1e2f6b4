// mkverify: expect = "violations"
// mkverify: checks = ["lock-imbalance"]
// mkverify: trace = 2
/*
 * An error path that jumps to the unlock label before the lock is taken.
 * session_set_flags() validates its argument first but bails out through
 * out_unlock, releasing session_lock, which it does not hold.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

#define SESSION_VALID_FLAGS 0x3

struct session {
	int flags;
};

static DEFINE_MUTEX(session_lock);
static struct session *current_session;

int session_open(void)
{
	struct session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
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

int session_set_flags(int flags)
{
	int ret = 0;

	if (flags & ~SESSION_VALID_FLAGS) {
		ret = -EINVAL;
		goto out_unlock;	/* BUG: session_lock is not held yet */
	}
	mutex_lock(&session_lock);
	if (!current_session) {
		ret = -ENOENT;
		goto out_unlock;
	}
	current_session->flags = flags;
out_unlock:
	mutex_unlock(&session_lock);
	return ret;
}

void session_close(void)
{
	struct session *s;

	mutex_lock(&session_lock);
	s = current_session;
	current_session = NULL;
	mutex_unlock(&session_lock);
	kfree(s);
}
