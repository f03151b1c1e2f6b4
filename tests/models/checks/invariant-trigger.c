// mkverify: expect = "violations"
// mkverify: checks = ["invariant"]
// mkverify: trace = 20
/*
 * Bookkeeping that goes stale. The spec's invariant says an image marked
 * running is executed by some CPU. mk_halt() gives CPU 2 back to the host
 * kernel (add_cpu() stops the spawned kernel) but leaves image->running
 * set, so the image now claims a CPU that no longer runs it, and
 * mk_unload() refuses to free it forever.
 */
#include <linux/cpu.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#define MK_CPU 2

struct kimage {
	int mk_id;
	bool running;
};

static DEFINE_MUTEX(kexec_mutex);
static struct kimage *mk_image;

int mk_load(int id)
{
	struct kimage *image = kzalloc(sizeof(*image), GFP_KERNEL);

	if (!image)
		return -ENOMEM;
	image->mk_id = id;
	mutex_lock(&kexec_mutex);
	if (mk_image) {
		mutex_unlock(&kexec_mutex);
		kfree(image);
		return -EBUSY;
	}
	mk_image = image;
	mutex_unlock(&kexec_mutex);
	return 0;
}

int mk_exec(void)
{
	struct kimage *image;
	int ret;

	mutex_lock(&kexec_mutex);
	image = mk_image;
	if (!image || image->running) {
		mutex_unlock(&kexec_mutex);
		return -EINVAL;
	}
	ret = remove_cpu(MK_CPU);
	if (!ret)
		ret = multikernel_kick_ap(MK_CPU, image);
	if (!ret)
		image->running = true;
	mutex_unlock(&kexec_mutex);
	return ret;
}

int mk_halt(void)
{
	struct kimage *image;
	int ret;

	mutex_lock(&kexec_mutex);
	image = mk_image;
	if (!image || !image->running) {
		mutex_unlock(&kexec_mutex);
		return -EINVAL;
	}
	ret = add_cpu(MK_CPU);
	/* BUG: image->running is left set */
	mutex_unlock(&kexec_mutex);
	return ret;
}

int mk_unload(void)
{
	struct kimage *image;

	mutex_lock(&kexec_mutex);
	image = mk_image;
	if (image && image->running) {
		mutex_unlock(&kexec_mutex);
		return -EBUSY;
	}
	mk_image = NULL;
	mutex_unlock(&kexec_mutex);
	kfree(image);
	return 0;
}
