// mkverify: expect = "violations"
// mkverify: checks = ["dangling-reference"]
// mkverify: trace = 14
/*
 * An object freed while an IDR still maps its id to it (the kimage_free()
 * hunk of the multikernel series). mk_load() registers the image in
 * mk_idr under its mk_id; mk_unload() clears mk_image and frees the image
 * but never idr_remove()s it, so mk_idr keeps a pointer to freed memory
 * for the next kimage_find_by_id() to return.
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
	/* BUG: mk_idr still maps image->mk_id to image */
	mutex_unlock(&kexec_mutex);
	kfree(image);
	return 0;
}
