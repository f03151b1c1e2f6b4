// mkverify: error = "lifecycle names struct 'objx', which the model does not define"
// mkverify: where = "spec-missing-struct.toml:8:11"
// mkverify: hint = "did you mean 'obj'?"
#include <linux/slab.h>

enum obj_state { OBJ_NEW, OBJ_LIVE, OBJ_DEAD };
struct obj { enum obj_state state; int id; };
static struct obj *instance;

void make(u8 id)
{
	struct obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return;
	o->id = id;
	o->state = OBJ_LIVE;
	instance = o;
}
