/*
 * Model of the CPU hotplug interface the series relies on (kernel/cpu.c):
 * add_cpu() takes cpu_hotplug_lock for writing, multikernel_kexec_by_id()
 * takes it for reading. One holder at a time is exact here: the only reader
 * runs under kexec_lock, so two readers never overlap.
 */
#include <linux/mutex.h>
#include <linux/cpu.h>
#include "multikernel.h"

static DEFINE_MUTEX(cpu_hotplug_lock);

void cpus_read_lock(void)
{
	mutex_lock(&cpu_hotplug_lock);
}

void cpus_read_unlock(void)
{
	mutex_unlock(&cpu_hotplug_lock);
}

/* Entry point: echo 1 > /sys/devices/system/cpu/cpu<N>/online. Nothing stops
 * the host from taking back a CPU that runs a spawned kernel. */
int cpu_online_store(unsigned int cpu)
{
	int ret;

	mutex_lock(&cpu_hotplug_lock);
	ret = add_cpu(cpu);
	mutex_unlock(&cpu_hotplug_lock);
	return ret;
}
