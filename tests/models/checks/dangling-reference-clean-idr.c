// mkverify: expect = "ok"
/*
 * The repaired dangling-reference-trigger-idr: mk_unload() removes the
 * image's id from mk_idr in the critical section that clears mk_image,
 * before the image is freed.
 */
#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct kimage {
	int mk_id;
};

static DEFINE_MUTEX(kexec_mutex);
static DEFINE_IDR(mk_idr);
static struct kimage *mk_image;

int mk_load(void)
{
	struct kimage *image = kzalloc(sizeof(*image), GFP_KERNEL);
	int id;

	if (!image)
		return -ENOMEM;
	mutex_lock(&kexec_mutex);
	if (mk_image) {
		mutex_unlock(&kexec_mutex);
		kfree(image);
		return -EBUSY;
	}
	id = idr_alloc(&mk_idr, image, 1, 0, GFP_KERNEL);
	if (id < 0) {
		mutex_unlock(&kexec_mutex);
		kfree(image);
		return id;
	}
	image->mk_id = id;
	mk_image = image;
	mutex_unlock(&kexec_mutex);
	return id;
}

bool mk_id_in_use(int id)
{
	bool used;

	mutex_lock(&kexec_mutex);
	used = idr_find(&mk_idr, id) != NULL;
	mutex_unlock(&kexec_mutex);
	return used;
}

int mk_unload(void)
{
	struct kimage *image;

	mutex_lock(&kexec_mutex);
	image = mk_image;
	mk_image = NULL;
	if (image)
		idr_remove(&mk_idr, image->mk_id);
	mutex_unlock(&kexec_mutex);
	kfree(image);
	return 0;
}
