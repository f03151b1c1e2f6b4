/*
 * Model of kernel/kexec_file.c with the multikernel RFC v2's changes
 * (patches 07 and 15): kimage_file_alloc_init() associating an image with
 * its instance, and the kexec_file_load() syscall. Which step of a load
 * fails is the environment's choice, given as the entry's `fail` argument.
 */
#include <linux/slab.h>
#include "multikernel.h"

/*
 * patch 15. The model returns the image (NULL on any error) instead of
 * filling *rimage. Runs under kexec_lock, not under mk_instance_mutex.
 * Failures inside this function free the image with plain kfree(), not
 * kimage_free(), so the instance's back pointer, LOADING and the reference
 * the image kept all stay behind.
 */
static struct kimage *kimage_file_alloc_init(unsigned long flags, int fail)
{
	struct kimage *image;
	struct mk_instance *instance;
	int id;

	image = do_kimage_alloc_init();
	if (!image)
		return NULL;

	if (flags & KEXEC_MULTIKERNEL) {
		image->type = KEXEC_TYPE_MULTIKERNEL;
		id = KEXEC_GET_MK_ID(flags);
		if (id <= 0)
			goto out_free_image;
		instance = mk_instance_find(id);
		if (!instance)
			goto out_free_image;
		if (instance->kimage) {
			mk_instance_put(instance);
			goto out_free_image;
		}
		image->mk_instance = instance;	/* the find reference is kept by the image */
		image->mk_id = id;
		instance->kimage = image;
		mk_instance_set_state(instance, MK_STATE_LOADING);
	}

	/* kexec_file_prepare_segments(), kimage_alloc_control_pages(), ... */
	if (fail == LOAD_FAILS_IN_ALLOC_INIT)
		goto out_free_image;
	return image;

out_free_image:
	/* FIX(2): kimage_free(), not kfree(): it clears the instance's back
	 * pointer, restores READY and puts the reference the image kept */
	kimage_free(image);
	return NULL;
}

/*
 * Entry point: kexec_file_load(..., flags). Crash images are not modelled
 * (KEXEC_FILE_ON_CRASH is not in the domain); every other image, multikernel
 * ones included, goes to the single kexec_image slot, and the image it
 * replaces is freed under the lock. KEXEC_FILE_UNLOAD frees whatever is in
 * kexec_image. A new image that failed after kimage_file_alloc_init() is
 * freed after kexec_unlock().
 */
static long kexec_file_load(unsigned long flags, int fail)
{
	struct kimage *image = NULL;
	struct kimage *old;
	long ret;

	if (flags != (flags & KEXEC_FILE_FLAGS))
		return -EINVAL;
	if (!kexec_trylock())
		return -EBUSY;

	if (flags & KEXEC_FILE_UNLOAD)
		goto exchange;

	image = kimage_file_alloc_init(flags, fail);
	if (!image) {
		ret = -ENOMEM;
		goto out;
	}
	/* machine_kexec_prepare(), kimage_load_segment(), kimage_file_post_load_cleanup() */
	if (fail == LOAD_FAILS_AFTER_ALLOC_INIT) {
		ret = -EIO;
		goto out;
	}

exchange:
	old = kexec_image;
	/* FIX(1): the image of a running spawned kernel is its memory: it can
	 * be neither unloaded nor replaced */
	if (old && old->type == KEXEC_TYPE_MULTIKERNEL && old->mk_instance->state == MK_STATE_ACTIVE) {
		ret = -EBUSY;
		goto out;
	}
	kexec_image = image;		/* image = xchg(&kexec_image, image) */
	kimage_free(old);
	image = NULL;
	ret = 0;
out:
	/* FIX(3): free a failed image before kexec_unlock(), so no one can find
	 * it through its instance in between */
	kimage_free(image);
	kexec_unlock();
	return ret;
}

/* Entry points: what user space does with kexec_file_load(). A multikernel
 * load for instance 1 (which may fail at either step), a plain kexec load
 * (it shares the kexec_image slot), and an unload. */
long user_kexec_load_multikernel(int fail)
{
	return kexec_file_load(KEXEC_MULTIKERNEL | KEXEC_MK_ID(1), fail);
}

long user_kexec_load_plain(void)
{
	return kexec_file_load(0, LOAD_SUCCEEDS);
}

long user_kexec_unload(void)
{
	return kexec_file_load(KEXEC_FILE_UNLOAD, LOAD_SUCCEEDS);
}
