// mkverify: expect = "violations"
// mkverify: checks = ["assertion"]
// mkverify: trace = 11
/*
 * Starting a kernel image on a CPU the host kernel still runs on.
 * mk_exec() sends INIT/SIPI to CPU 2 without first taking it offline with
 * remove_cpu(): the host loses a CPU in the middle of whatever it was
 * doing.
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
	/* BUG: CPU 2 is still online in the host kernel */
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
