// mkverify: expect = "violations"
// mkverify: checks = ["dangling-reference"]
// mkverify: trace = 20
/*
 * A kernel image freed while an application CPU still executes it (the
 * multikernel pattern). mk_exec() takes CPU 2 away from the host kernel and
 * starts the loaded image on it; mk_unload() frees the image without
 * asking whether a CPU is running it.
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
	/* BUG: CPU 2 may still be executing the image */
	mk_image = NULL;
	mutex_unlock(&kexec_mutex);
	kfree(image);
	return 0;
}
