// mkverify: error = "type error: kref_read() expects struct kref *, got struct obj *"
// mkverify: where = "invariant-query-type.toml:10:19"
// mkverify: hint = "pass the address of the member, e.g. &obj->ref"
#include <linux/kref.h>
#include <linux/slab.h>

struct obj { struct kref ref; int id; };
static struct obj *instance;

void make(u8 id)
{
	struct obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return;
	kref_init(&o->ref);
	o->id = id;
	instance = o;
}
