/*
 * Model of kernel/kexec_core.c after the seed, patch 09/16 of the multikernel
 * RFC v2: do_kimage_alloc_init() initialising mk_id/mk_instance, the
 * kimage_free() hunk, kimage_find_by_id() and multikernel_kexec_by_id().
 */
#include <linux/atomic.h>
#include <linux/slab.h>
#include "multikernel.h"

/* kexec_lock: an atomic compare-and-exchange trylock that never blocks */
static atomic_t __kexec_lock = ATOMIC_INIT(0);

int kexec_trylock(void)
{
	return atomic_cmpxchg_acquire(&__kexec_lock, 0, 1) == 0;
}

void kexec_unlock(void)
{
	atomic_set_release(&__kexec_lock, 0);
}

/* the single slot every non-crash image goes to (patch 07, 15) */
struct kimage *kexec_image;

/* seed hunk in do_kimage_alloc_init(): mk_id = 0, mk_instance = NULL */
struct kimage *do_kimage_alloc_init(void)
{
	struct kimage *image = kzalloc(sizeof(*image), GFP_KERNEL);

	if (!image)
		return NULL;
	image->type = KEXEC_TYPE_DEFAULT;
	image->mk_id = 0;
	image->mk_instance = NULL;
	return image;
}

/* kimage_free() with the seed's hunk; segments and control pages are part of the image object here */
void kimage_free(struct kimage *image)
{
	if (!image)
		return;
	/* seed: "Remove from IDR if it's a multikernel image" */
	if (image->type == KEXEC_TYPE_MULTIKERNEL && image->mk_instance) {
		image->mk_instance->kimage = NULL;
		mk_instance_set_state(image->mk_instance, MK_STATE_READY);
		mk_instance_put(image->mk_instance);
		image->mk_instance = NULL;
	}
	kfree(image);
}

/* seed: returns the instance's image with no reference held on the image */
struct kimage *kimage_find_by_id(int mk_id)
{
	struct mk_instance *instance;
	struct kimage *image = NULL;

	if (mk_id <= 0)
		return NULL;
	instance = mk_instance_find(mk_id);
	if (instance) {
		image = instance->kimage;
		mk_instance_put(instance);
	}
	return image;
}

/* seed: LINUX_REBOOT_CMD_MULTIKERNEL starts the image of instance mk_id on the
 * first CPU of the instance's mask. No state check, no state change. */
int multikernel_kexec_by_id(int mk_id)
{
	struct kimage *mk_image;
	struct mk_instance *instance;
	int cpu = -1;
	int rc;

	if (!kexec_trylock())
		return -EBUSY;

	mk_image = kimage_find_by_id(mk_id);
	if (!mk_image) {
		rc = -EINVAL;
		goto unlock;
	}

	instance = mk_image->mk_instance;
	if (instance->cpus_valid && !cpumask_empty(instance->cpus)) {
		cpu = cpumask_first(instance->cpus);
	} else {
		rc = -EINVAL;
		goto unlock;
	}

	if (cpu_online(cpu)) {		/* checked before cpus_read_lock() */
		rc = -EBUSY;
		goto unlock;
	}

	cpus_read_lock();
	/* multikernel_kick_ap(cpu, mk_image->start): the entry point lies in the
	 * image's memory, so from here on `cpu` executes the image object */
	rc = multikernel_kick_ap(cpu, mk_image);
	cpus_read_unlock();

unlock:
	kexec_unlock();
	return rc;
}
