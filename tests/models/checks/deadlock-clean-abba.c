// mkverify: expect = "ok"
/*
 * The repaired deadlock-trigger-abba: config_set_timeout() takes the locks
 * in the documented order, session_lock before config_lock, like
 * session_open().
 */
#include <linux/mutex.h>
#include <linux/slab.h>

struct session {
	int timeout;
};

static DEFINE_MUTEX(session_lock);
static DEFINE_MUTEX(config_lock);
static struct session *current_session;
static int config_timeout;

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
	mutex_lock(&config_lock);
	s->timeout = config_timeout;
	mutex_unlock(&config_lock);
	current_session = s;
	mutex_unlock(&session_lock);
	return 0;
}

void config_set_timeout(int timeout)
{
	mutex_lock(&session_lock);
	mutex_lock(&config_lock);
	config_timeout = timeout;
	if (current_session)
		current_session->timeout = timeout;
	mutex_unlock(&config_lock);
	mutex_unlock(&session_lock);
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
