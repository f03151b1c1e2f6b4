// mkverify: expect = "violations"
// mkverify: checks = ["deadlock"]
// mkverify: trace = 4
/*
 * ABBA through the CPU hotplug lock. The driver's CPU-offline callback,
 * drv_cpu_offline(), runs with the hotplug lock held for writing (the
 * hotplug core, cpu_down() here, takes cpus_write_lock() around the
 * callbacks) and takes drv_lock. drv_set_threshold() takes drv_lock and
 * then cpus_read_lock() inside it to keep the CPUs online while it
 * programs them: CPU0 holds drv_lock and waits for the hotplug lock,
 * CPU1 holds the hotplug lock and waits for drv_lock.
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
	mutex_lock(&drv_lock);
	cpus_read_lock();	/* BUG: the hotplug lock nests outside drv_lock */
	threshold = cpu_active ? val : 0;
	cpus_read_unlock();
	mutex_unlock(&drv_lock);
}
