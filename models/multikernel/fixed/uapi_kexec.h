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
/*
 * FIX(7): the encoding. KEXEC_MULTIKERNEL moves to 0x40, a bit free in both
 * namespaces (0x10 is KEXEC_FILE_NO_CMA); the id field moves to bits 8..15,
 * clear of every kexec_file_load() flag (bit 5 was KEXEC_FILE_FORCE_DTB), and
 * holds 1..255: the IPI layer (patch 13) handles at most 256 instances, and
 * instance creation rejects ids the field cannot carry. Both validation
 * masks accept the flag and the field.
 */
#define KEXEC_MULTIKERNEL		0x00000040
#define KEXEC_MK_ID_MASK		0x0000ff00
#define KEXEC_MK_ID_SHIFT		8
#define KEXEC_MK_ID_MAX			255
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
				 KEXEC_MULTIKERNEL | KEXEC_MK_ID_MASK)		/* FIX(7): the id field */
/* CONFIG_KEXEC_JUMP variant; patch 01 adds KEXEC_MULTIKERNEL to it */
#define KEXEC_FLAGS		(KEXEC_ON_CRASH | KEXEC_UPDATE_ELFCOREHDR | KEXEC_CRASH_HOTPLUG_SUPPORT | \
				 KEXEC_PRESERVE_CONTEXT | KEXEC_MULTIKERNEL | KEXEC_MK_ID_MASK)	/* FIX(7) */

#endif
