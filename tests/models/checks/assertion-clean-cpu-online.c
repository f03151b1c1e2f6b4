// mkverify: expect = "ok"
/*
 * The repaired assertion-trigger-cpu-online: mk_exec() first takes CPU 2
 * away from the host kernel with remove_cpu(), and starts the image only
 * if that worked.
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
