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

/* FIX(4): CPUs that run a spawned kernel; cpu_online_store() refuses them */
struct cpumask mk_cpus_running;

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

/* seed: returns the instance's image with no reference held on the image.
 * FIX(2): the caller must hold kexec_lock; with FIX(2) and FIX(3) every
 * multikernel image is freed under kexec_lock, so the pointer stays valid
 * until the caller's kexec_unlock(). */
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
	/* FIX(1): an instance whose kernel already runs is not started again */
	if (instance->state != MK_STATE_LOADING) {
		rc = -EBUSY;
		goto unlock;
	}
	if (instance->cpus_valid && !cpumask_empty(instance->cpus)) {
		cpu = cpumask_first(instance->cpus);
	} else {
		rc = -EINVAL;
		goto unlock;
	}

	/* FIX(4): check that the CPU is offline under cpus_read_lock(), so it
	 * cannot be onlined between the check and the kick */
	cpus_read_lock();
	if (cpu_online(cpu)) {
		cpus_read_unlock();
		rc = -EBUSY;
		goto unlock;
	}
	/* multikernel_kick_ap(cpu, mk_image->start): the entry point lies in the
	 * image's memory, so from here on `cpu` executes the image object */
	rc = multikernel_kick_ap(cpu, mk_image);
	if (rc == 0) {
		/* FIX(1): the documented LOADING -> ACTIVE, and the CPU is the
		 * spawned kernel's until the model ends (FIX(4)) */
		cpumask_set_cpu(cpu, &mk_cpus_running);
		mk_instance_set_state(instance, MK_STATE_ACTIVE);
	}
	cpus_read_unlock();

unlock:
	kexec_unlock();
	return rc;
}
