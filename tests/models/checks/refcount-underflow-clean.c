// mkverify: expect = "ok"
/*
 * The repaired refcount-underflow-trigger: the error path of
 * wdt_set_timeout() only jumps to the out label, which drops the one
 * reference wdt_get() took.
 */
#include <linux/kref.h>
#include <linux/mutex.h>

#define WDT_MAX_TIMEOUT 60

struct watchdog {
	struct kref ref;
	bool armed;
	int timeout;
};

static struct watchdog wdt;
static DEFINE_MUTEX(wdt_lock);

static void wdt_release(struct kref *ref)
{
	struct watchdog *w = container_of(ref, struct watchdog, ref);

	w->armed = false;
}

static void wdt_get(void)
{
	mutex_lock(&wdt_lock);
	if (wdt.armed) {
		kref_get(&wdt.ref);
	} else {
		kref_init(&wdt.ref);
		wdt.armed = true;
	}
	mutex_unlock(&wdt_lock);
}

static void wdt_put(void)
{
	mutex_lock(&wdt_lock);
	kref_put(&wdt.ref, wdt_release);
	mutex_unlock(&wdt_lock);
}

int wdt_set_timeout(int timeout)
{
	int ret = 0;

	wdt_get();
	if (timeout > WDT_MAX_TIMEOUT) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&wdt_lock);
	wdt.timeout = timeout;
	mutex_unlock(&wdt_lock);
out:
	wdt_put();
	return ret;
}
