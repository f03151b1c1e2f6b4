// mkverify: expect = "ok"
/*
 * The twin of refcount-underflow-trigger-put-mutex.c, repaired: the error
 * path of fw_write() leaves the put to the common exit label, so its one
 * reference is put once.
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
		goto out;
	}
	mutex_lock(&fw_lock);
	fw.last_write = offset;
	mutex_unlock(&fw_lock);
out:
	kref_put_mutex(&fw.ref, fw_release, &fw_lock);
	return ret;
}
