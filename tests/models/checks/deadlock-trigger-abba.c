// mkverify: expect = "violations"
// mkverify: checks = ["deadlock"]
// mkverify: trace = 7
/*
 * Two locks taken in opposite orders (ABBA). Opening a session takes
 * session_lock and then config_lock to copy the current timeout;
 * changing the configuration takes config_lock and then session_lock to
 * push the new timeout into the open session. Two CPUs doing one each
 * wait for each other forever.
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
	mutex_lock(&config_lock);
	config_timeout = timeout;
	/* BUG: session_lock nests outside config_lock everywhere else */
	mutex_lock(&session_lock);
	if (current_session)
		current_session->timeout = timeout;
	mutex_unlock(&session_lock);
	mutex_unlock(&config_lock);
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
