// mkverify: expect = "ok"
/*
 * The repaired assertion-trigger-div-zero: sampler_set_interval() rejects
 * a zero (or negative) interval with -EINVAL, so sampler_rate() never
 * divides by zero.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

#define MSEC_PER_SEC 1000
#define SAMPLER_DEFAULT_MS 100

struct sampler {
	int interval_ms;
};

static DEFINE_MUTEX(sampler_lock);
static struct sampler *the_sampler;

int sampler_create(void)
{
	struct sampler *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->interval_ms = SAMPLER_DEFAULT_MS;
	mutex_lock(&sampler_lock);
	if (the_sampler) {
		mutex_unlock(&sampler_lock);
		kfree(s);
		return -EBUSY;
	}
	the_sampler = s;
	mutex_unlock(&sampler_lock);
	return 0;
}

int sampler_set_interval(int ms)
{
	int ret = 0;

	if (ms <= 0)
		return -EINVAL;
	mutex_lock(&sampler_lock);
	if (the_sampler)
		the_sampler->interval_ms = ms;
	else
		ret = -ENODEV;
	mutex_unlock(&sampler_lock);
	return ret;
}

int sampler_rate(void)
{
	int rate = -ENODEV;

	mutex_lock(&sampler_lock);
	if (the_sampler)
		rate = MSEC_PER_SEC / the_sampler->interval_ms;
	mutex_unlock(&sampler_lock);
	return rate;
}

void sampler_destroy(void)
{
	struct sampler *s;

	mutex_lock(&sampler_lock);
	s = the_sampler;
	the_sampler = NULL;
	mutex_unlock(&sampler_lock);
	kfree(s);
}
