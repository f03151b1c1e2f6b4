// mkverify: error = "type error: release callback obj_release must take one struct kref * argument, not (struct obj *)"
// mkverify: where = "type-kref-put-callback.c:23:4"
// mkverify: hint = "void obj_release(struct kref *ref)"
#include <linux/kref.h>
#include <linux/slab.h>

struct obj { int state; struct kref ref; };
static struct obj *instance;

static void obj_release(struct obj *o)
{
	kfree(o);
}

void drop(void)
{
	struct obj *o = instance;

	instance = NULL;
	if (!o)
		return;
	kref_put(&o->ref,
		 obj_release);
}
