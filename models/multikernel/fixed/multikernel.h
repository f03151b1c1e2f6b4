/*
 * Model of the objects of the multikernel RFC v2: struct mk_instance
 * (include/linux/multikernel.h, patch 08, plus the seed's `kimage` member)
 * and the parts of struct kimage (include/linux/kexec.h) the seed touches.
 * Only the members the lifecycle depends on are kept.
 */
#ifndef MK_MODEL_MULTIKERNEL_H
#define MK_MODEL_MULTIKERNEL_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/cpumask.h>
#include "uapi_kexec.h"

/* patch 08: the instance states */
enum mk_instance_state {
	MK_STATE_EMPTY,		/* directory exists, no DTB */
	MK_STATE_READY,		/* DTB loaded, resources reserved */
	MK_STATE_LOADING,	/* kernel being loaded */
	MK_STATE_ACTIVE,	/* kernel running */
	MK_STATE_FAILED,	/* error */
};

/* patch 08: the memory reserved for an instance ("memory pool and regions") */
struct mk_mem_pool {
	int nr_regions;
};

struct kimage;

/* patch 08, plus `kimage` from the seed (patch 09) */
struct mk_instance {
	int id;				/* from the DTB's id property, not allocated */
	enum mk_instance_state state;
	cpumask_var_t cpus;
	bool cpus_valid;		/* the mask was allocated; not a promise CPUs were assigned */
	struct mk_mem_pool *pool;
	struct list_head list;		/* on mk_instance_list */
	struct kref refcount;
	struct kimage *kimage;		/* seed: plain pointer, no reference of its own */
};

#define KEXEC_TYPE_DEFAULT	0
#define KEXEC_TYPE_CRASH	1
#define KEXEC_TYPE_MULTIKERNEL	2

/* struct kimage, reduced; the seed adds mk_id and mk_instance */
struct kimage {
	int type;
	int mk_id;				/* seed: 0 = current kernel, > 0 multikernel */
	struct mk_instance *mk_instance;	/* seed: holds one reference on the instance */
};

/* The model's kernfs directory instances/<id> is an array indexed by id. */
#define MK_MODEL_IDS 3

/* Which step of a kexec_file_load() fails, if any (the environment's choice, not a syscall argument). */
#define LOAD_SUCCEEDS			0
#define LOAD_FAILS_IN_ALLOC_INIT	1	/* kimage_file_prepare_segments() and friends */
#define LOAD_FAILS_AFTER_ALLOC_INIT	2	/* machine_kexec_prepare(), kimage_load_segment() */

/* multikernel.c (patch 08) */
struct mk_instance *mk_instance_find(int id);
void mk_instance_get(struct mk_instance *instance);
void mk_instance_put(struct mk_instance *instance);
void mk_instance_set_state(struct mk_instance *instance, enum mk_instance_state state);

/* kexec_core.c (seed) */
struct kimage *do_kimage_alloc_init(void);
void kimage_free(struct kimage *image);
struct kimage *kimage_find_by_id(int mk_id);
int multikernel_kexec_by_id(int mk_id);
int kexec_trylock(void);
void kexec_unlock(void);
extern struct kimage *kexec_image;
extern struct cpumask mk_cpus_running;		/* FIX(4) */

/* cpu.c */
void cpus_read_lock(void);
void cpus_read_unlock(void);

#endif
