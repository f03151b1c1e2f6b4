/*
 * Our header for the UAPI flag values of include/uapi/linux/kexec.h and the
 * validation masks of include/linux/kexec.h, as the multikernel RFC v2 leaves
 * them (constants are facts: see shared/design/MULTIKERNEL.md).
 */
#ifndef MK_MODEL_UAPI_KEXEC_H
#define MK_MODEL_UAPI_KEXEC_H

/* kexec_load() flags */
#define KEXEC_ON_CRASH			0x00000001
#define KEXEC_PRESERVE_CONTEXT		0x00000002
#define KEXEC_UPDATE_ELFCOREHDR		0x00000004
#define KEXEC_CRASH_HOTPLUG_SUPPORT	0x00000008
#define KEXEC_MULTIKERNEL		0x00000010	/* patch 01 */
/* seed, patch 09: the instance id inside the flags, "up to 2047 instances" */
#define KEXEC_MK_ID_MASK		0x0000ffe0
#define KEXEC_MK_ID_SHIFT		5
#define KEXEC_MK_ID(id)			(((id) << KEXEC_MK_ID_SHIFT) & KEXEC_MK_ID_MASK)
#define KEXEC_GET_MK_ID(flags)		(((flags) & KEXEC_MK_ID_MASK) >> KEXEC_MK_ID_SHIFT)
#define KEXEC_ARCH_MASK			0xffff0000

/* kexec_file_load() flags */
#define KEXEC_FILE_UNLOAD		0x00000001
#define KEXEC_FILE_ON_CRASH		0x00000002
#define KEXEC_FILE_NO_INITRAMFS		0x00000004
#define KEXEC_FILE_DEBUG		0x00000008
#define KEXEC_FILE_NO_CMA		0x00000010
#define KEXEC_FILE_FORCE_DTB		0x00000020

/* validation masks (include/linux/kexec.h); patch 15 adds KEXEC_MULTIKERNEL to the file mask */
#define KEXEC_FILE_FLAGS	(KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS | \
				 KEXEC_FILE_DEBUG | KEXEC_FILE_NO_CMA | KEXEC_FILE_FORCE_DTB | \
				 KEXEC_MULTIKERNEL)
/* CONFIG_KEXEC_JUMP variant; patch 01 adds KEXEC_MULTIKERNEL to it */
#define KEXEC_FLAGS		(KEXEC_ON_CRASH | KEXEC_UPDATE_ELFCOREHDR | KEXEC_CRASH_HOTPLUG_SUPPORT | \
				 KEXEC_PRESERVE_CONTEXT | KEXEC_MULTIKERNEL)

#endif
