// mkverify: expect = "ok"
/*
 * The repaired deadlock-trigger-hotplug: drv_set_threshold() takes the
 * hotplug lock for reading before drv_lock, the order the hotplug
 * callbacks imply.
 */
#include <linux/cpu.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(drv_lock);	/* protects threshold and cpu_active */
static int threshold;
static bool cpu_active = true;

/* a CPU hotplug "offline" callback: called with the hotplug lock held for writing */
static void drv_cpu_offline(void)
{
	mutex_lock(&drv_lock);
	cpu_active = false;
	mutex_unlock(&drv_lock);
}

/* a CPU hotplug "online" callback: called with the hotplug lock held for writing */
static void drv_cpu_online(void)
{
	mutex_lock(&drv_lock);
	cpu_active = true;
	mutex_unlock(&drv_lock);
}

/* the hotplug core taking a CPU down */
void cpu_down(void)
{
	cpus_write_lock();
	drv_cpu_offline();
	cpus_write_unlock();
}

/* the hotplug core bringing it back */
void cpu_up(void)
{
	cpus_write_lock();
	drv_cpu_online();
	cpus_write_unlock();
}

/* a sysfs store that programs the online CPUs */
void drv_set_threshold(int val)
{
	cpus_read_lock();
	mutex_lock(&drv_lock);
	threshold = cpu_active ? val : 0;
	mutex_unlock(&drv_lock);
	cpus_read_unlock();
}
