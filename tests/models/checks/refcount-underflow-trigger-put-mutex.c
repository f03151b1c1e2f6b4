// mkverify: expect = "violations"
// mkverify: checks = ["refcount-underflow"]
/*
 * kref_put_mutex() twice for one reference. The firmware image is a static
 * singleton whose kref counts its users: the first user loads it, and the
 * last put unloads it with fw_lock held (kref_put_mutex() takes the lock
 * only for the last put, and the release drops it). fw_write() puts its
 * reference when the offset is out of range, then puts it again at the
 * common exit label.
 */
#include <linux/kref.h>
#include <linux/mutex.h>

#define FW_SIZE 4

struct firmware {
	struct kref ref;
	bool loaded;
	int last_write;
};

static struct firmware fw;
static DEFINE_MUTEX(fw_lock);	/* protects fw.loaded and fw.last_write */

static void fw_release(struct kref *ref)	/* called with fw_lock held */
{
	struct firmware *f = container_of(ref, struct firmware, ref);

	f->loaded = false;
	mutex_unlock(&fw_lock);
}

static void fw_get(void)
{
	mutex_lock(&fw_lock);
	if (fw.loaded) {
		kref_get(&fw.ref);
	} else {
		kref_init(&fw.ref);
		fw.loaded = true;
	}
	mutex_unlock(&fw_lock);
}

int fw_write(int offset)
{
	int ret = 0;

	fw_get();
	if (offset >= FW_SIZE) {
		ret = -EINVAL;
		kref_put_mutex(&fw.ref, fw_release, &fw_lock);	/* BUG: the out label puts it too */
		goto out;
	}
	mutex_lock(&fw_lock);
	fw.last_write = offset;
	mutex_unlock(&fw_lock);
out:
	kref_put_mutex(&fw.ref, fw_release, &fw_lock);
	return ret;
}
