// mkverify: error = "'make' has no parameter named 'idx'"
// mkverify: where = "spec-missing-parameter.toml:5:10"
// mkverify: hint = "did you mean 'id'?"
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
