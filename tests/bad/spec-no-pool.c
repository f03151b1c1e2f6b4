// mkverify: error = "the model allocates struct obj"
// mkverify: where = "spec-no-pool.toml:2:1"
// mkverify: hint = "add `obj = 2` under [bounds.pools]"
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
