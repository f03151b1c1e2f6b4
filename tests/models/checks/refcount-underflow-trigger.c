// mkverify: expect = "violations"
// mkverify: checks = ["refcount-underflow"]
// mkverify: trace = 12
/*
 * A double put on an error path. The watchdog is a statically allocated
 * singleton whose kref counts its users: the first user arms it, the last
 * put disarms it (static storage is never freed). wdt_set_timeout() drops
 * its reference when the timeout is out of range, then drops it again at
 * the common exit label.
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
		wdt_put();	/* BUG: the out label puts this reference too */
		goto out;
	}
	mutex_lock(&wdt_lock);
	wdt.timeout = timeout;
	mutex_unlock(&wdt_lock);
out:
	wdt_put();
	return ret;
}
