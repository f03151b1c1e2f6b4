/*
 * Model of kernel/reboot.c after the seed: LINUX_REBOOT_CMD_MULTIKERNEL
 * passes the user's struct multikernel_boot_args.mk_id (any int) to
 * multikernel_kexec_by_id(). The copy_from_user() is left out: the entry
 * takes mk_id directly.
 */
#include "multikernel.h"

long sys_reboot_multikernel(int mk_id)
{
	return multikernel_kexec_by_id(mk_id);
}
